/**
 * Self-tests of the page decoders that are not ours (Node's zlib handle, libzstd compiled to
 * wasm): a decoder is used only when it decodes a known stream to the known page and rejects a
 * corrupted copy. The streams were made by zlib and libzstd themselves, not here (compressing one
 * at start-up cost more than the test).
 */
/**
 * A native codec's self-test: `good` decodes to `page`, a corrupted copy `bad` fails (throws, or
 * at least does not pass as the page), and `good` still decodes afterwards (state was reset).
 */
export function passesSelfTest(inflate: (src: Uint8Array, outLen: number) => Uint8Array, page: Uint8Array, good: Uint8Array, bad: Uint8Array): boolean {
  const ok = (b: Uint8Array) => b.length === page.length && b.every((v, i) => v === page[i]);
  if (!ok(inflate(good, page.length))) return false;
  let failed = false;
  try {
    failed = !ok(inflate(bad, page.length));
  } catch {
    failed = true; // the test wants a failure; which error it is does not matter
  }
  return failed && ok(inflate(good, page.length));
}

/** The codec self-tests' page: words from a small vocabulary in an LCG's order (text-like, compressible). */
export function codecTestPage(): Uint8Array {
  const words = ['task', 'slab', 'page', 'kmem', 'cache', 'rq', 'lock', 'irq', 'vmcore', 'sk_buff', 'frag_list', '0x106'];
  const out = new Uint8Array(4096);
  let s = 1;
  let i = 0;
  while (i < out.length) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const w = words[(s >>> 16) % words.length] + ((s >>> 8) & 1 ? ' ' : '\n');
    for (let k = 0; k < w.length && i < out.length; k++) out[i++] = w.charCodeAt(k);
  }
  return out;
}

/** codecTestPage() deflated by zlib (level 6, zlib header and Adler-32; inflateSync agrees: node.test.ts). */
export const ZLIB_TEST_STREAM =
  'eJx1V0lyGzEMvPMVfIJzyXdcskpyWJLKmpGTyvNTbGwNcHLweMQFa6OBeZ4+L+3+db611+394/f12m6Py6PjMfatPef+298f' +
  'bz/bn8f5a5fD/XU/fejy9+l1s719m5f6vnXsdRXQr/vp8/0+Xt+iSjZDERbnW5ty6fT5dP510SdUxla8TTPnX6yYK/sG6zoE' +
  'dLGxJz+ntXBRLG/ZUDvb2Y6xOgUJsH/fXPlQket5OK0hmyHatxqgOBpv8KScwxoCg8BBjWQFr2Y+juEBzfDc9sIMi8+UpJHT' +
  'oznyjAYXg3BBOt4ScsSuktp4o2iIGyn0BQz0Gwbu27LOrjczxLOdsG7/j8xSizw+iiJ5Qhzh0sE7FTqcEXPxSdGh2ZmGxBUc' +
  'iKNuHH54oelV20WQoGkwfmRJjRZbsRIpEDFRbeqnnJ1gJQCpnFI57oOYLzfFxihv9oocsjLpQSMBzFJW+5awIRoYKAH6gk5Z' +
  '5LJvpfrwkAQmhXBA1vUiF+tBIjrRYqEhYsbOaVMbTUCEM+qUdKtSLOM2IjeiYGf+U4gdGkQIBlZOYU/AiTfKKsku9j69cbDP' +
  'sEuuwuBMy4Flw78cDXAObx2wv7BfJL2QCWQNTV9fq/qAxnp0hkQ+FC0XRIH2staDVgXigyWxclBXamAOabUQZS86SKf+ysCz' +
  'CLeoHudqywi1VE6hCCihjTfZFuGrG3GOOgXhgPsHLmIS8LQ0S3CzpturRIoDaWN+MVu4tIbGV2Rm8It5GfvMSbkEUjMjtY1L' +
  'yNRxg08RSe08iMizQuhJs0iUXSu1KA81zqeyWpc8eLDZOfmBklJNPrGpS1oCjjFuCDRoaOZopdRmFPfS0qN/wapAsapJvZoY' +
  'L3VIxE431lTS/EdZpTGN+pa3pOTmAlJmAc1XmraGxNBgwm0kWh3enC6UKxe7MrfWQk2kH9bobh3YYgyw7msApjGh9lENBHHl' +
  'EYX4lOX4bh7QxkEgsGSW6zaHx7jlzFq79AojHix8m75cmNd0qBDxjKNckYn5YhI7GBSDf2rca2ESDOtUy6irxb8iOWM3jTkx' +
  '4Iu7kQKu333rOj2n8eW/nx3W5/lzhmaTpR6bEWSmIKdMYmVPv42TC+Olg1TER9YShsLr8q0YzaG08Dy5SYRGRVQtQnVQiZ/G' +
  'R+IlCpgzHrMFfVPohbGMAVVv6mI0HnSf4KmPB1HS3Asj/gF4uHxb';

/** codecTestPage() compressed by libzstd 1.5 (ZSTD_compress, level 3; fzstd decodes it to the same page: node.test.ts). */
export const ZSTD_TEST_FRAME =
  'KLUv/WAAD+0eACKKGBiQpc0YAL9tKU1t4b6x2YXc7UeMxut1UQVpbeevdu6vuq66+qsreveR/u52PtrXbgujtkP/22kMjjku' +
  'CykCMXf8dtulZZbCqPUpJwFQMAQCBu3QiZEkj6NQEGmZjqI0EEMIgdKoAa8kNdozUQSEgRik3OIDEWAkiCSUrKRJ2t95CZwV' +
  'y3viDSeCAlnVwCMtHh0EVdHk127WA2iKiW+9UbGWyGt8y7P2f14/IxVarGWKY/wmxAtSssG1XkY7oozqZ/00WAOT3OoRltIl' +
  'wCCzto5N6zqU/vSbPMPRaCFIs7E+UvTYqhckkoIbXrWPNCA41KKOgpLGr8MpgW9/gsN91BY21hprEgtjbkUACuSoZuUW5Zf9' +
  'EIV5W8IsVmFBfBsv9LLgwX1rHQGKf7HIddVDLi0sYw9Xa5mFEgBKcConpoSW6OkCoZHkbzHBb1RQiNjKiLMCSgRE77eYC/RT' +
  'qKqR/CuiNgmeqcROhmWTEFd5guGJW4b0s3IyW0mABl3vObVzkVylbEM7ZevpM+/cUTZy11SnZj0yXweuz8+FVgqngomd0YCH' +
  'wz6aGj+vW9RrJTv0DKkhLGWpjXYpezKbwxuiOv+jm9mNWqZQy/ACnwVAM6qU1gcBmcsY6bG6FSBfKCcfQY5Sj6BZPx5GBMIg' +
  'Cu38b/8jRI0DBAQG3WDwWiqnG6Mxs2f2kGQqHkkoQum5An0Mg2wiQnMQn4C0cCgJW1nQFYqS17w4Zbox8pAOtlFg443bjJUF' +
  '80kwNqBI/51GxprmCGGW/BDunaBHy4ToBH9V1EBsSJZo030ejTq3Q2+UET3Uhx2lcyoeksRCtzOWB3Z7NAkcAWvbA/d/ZsAv' +
  '2ibERx/dnS1JRuQM+jJnUwXY5mE3DmGZKKh7cBqJT2kLyMY6GSsONCI0aL9arUyqYzCJ8Ye7IwqFo02hY4yO25AaPLd+lxvu' +
  'qYMrVm36882w0Cu+g2xkiL4K6EA0hQbUzQmkBBbDHBWQRRS/32zOIaj7Rfq7rUNxASNSgBUkjRGIBFrhZIhVA9L6ey/RkAfa' +
  'jTICiBtkG9ICxuuQDoA24gLSxkd4Xd5RaXx0BkzhJne7cY/gqUYkGirAzCvod7X4bUaTX6NnQZLS0GSTpejnVt4RV/PM+755' +
  '0QNW5dCoIytFBB33tRs2jTfjjPyK12+zoxIhKavQtDh9cbMLDofn8BdNkKzZ8KUY7+XvsUwINmBfLlM/izcSNXkiUS7VknF6' +
  '8fSgC9kY9mjtza4B6ZB0pUsh0vlQrSdTeRAVYMfMjR6t2cL20vJYEzA0btSJ8rR+KU5M3zDVkYJ+deSkcQlV';

