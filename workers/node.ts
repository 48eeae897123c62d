/**
 * The engine's Node entry (CLI, tests, benchmarks): the engine plus Node's native codecs and
 * file reads. The browser worker imports workers/engine.ts instead.
 */
import { inflateSync, constants } from 'node:zlib';
import { NodeFileSource } from './source/node';
import { setNativeZlib } from './format/codecs/zlib';
import { setNativeZstd } from './format/codecs/zstd';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openProgram, type Program } from './engine';
import type { OpenOptions } from './kernel/program';

import type { NativeInflate as Inflate } from './format/codecs/zlib';

/**
 * A native codec's self-test: `good` decodes to `page`, a corrupted copy `bad` fails (throws, or
 * at least does not pass as the page), and `good` still decodes afterwards (state was reset).
 */
function passesSelfTest(inflate: Inflate, page: Uint8Array, good: Uint8Array, bad: Uint8Array): boolean {
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

const inflateEach: Inflate = (src, outLen) => {
  const b = inflateSync(src, { maxOutputLength: outLen });
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/**
 * One zlib inflate handle reset between pages. zlib.inflateSync builds a stream object per call,
 * which costs as much as inflating a 4 KiB page (a kdump-zlib file is one stream per page, and
 * opening one reads about 1500 pages). Node has no public synchronous API that reuses a handle,
 * so this drives the handle node:zlib itself uses (its writeSync/reset, the same calls
 * zlib.inflateSync makes); it must pass a self-test first, else every page goes through
 * zlib.inflateSync. Errors (bad header, Adler-32 mismatch, truncated stream) come back from
 * zlib as they do through inflateSync; a stream longer than outLen returns outLen + 1 bytes.
 */
function reusedInflate(): Inflate | null {
  try {
    if (/pending-deprecation/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) return null;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const binding = (process as any).binding('zlib');
    const handle = new binding.Zlib(constants.INFLATE);
    const state = new Uint32Array(2); // [avail_out, avail_in] after each write
    let error: string | null = null;
    handle.onerror = (message: string) => {
      error = message;
    };
    handle.init(15, 6, 8, 0, state, () => undefined, undefined);
    // one output buffer reused by calls whose caller copies the page out at once (scratch):
    // a fresh 4 KiB buffer per page is a new allocation the process must fault in
    let reused = Buffer.allocUnsafe(0);
    const inflate: Inflate = (src, outLen, scratch) => {
      error = null;
      if (scratch && reused.length < outLen + 1) reused = Buffer.allocUnsafe(outLen + 1);
      const out = scratch ? reused : Buffer.allocUnsafe(outLen + 1);
      handle.writeSync(constants.Z_FINISH, src, 0, src.length, out, 0, outLen + 1);
      const n = outLen + 1 - state[0];
      handle.reset();
      if (error !== null) throw new Error(error);
      return new Uint8Array(out.buffer, out.byteOffset, n);
    };
    // self-test: a page, a corrupt checksum, then a page again (a stored stream: deflating one
    // here, ~3 ms, cost more than the rest of the test)
    const page = codecTestPage();
    const z = Uint8Array.from(Buffer.from(ZLIB_TEST_STREAM, 'base64'));
    const bad = Uint8Array.from(z);
    bad[bad.length - 1] ^= 1;
    return passesSelfTest(inflate, page, z, bad) ? inflate : null;
  } catch {
    // a probe of node's internal zlib binding: any throw (a TypeError when the binding changed
    // shape) means it cannot be used, and zlib.inflateSync serves instead
    return null;
  }
}

const zlibHandle = reusedInflate();
setNativeZlib(zlibHandle ?? inflateEach);

/**
 * libzstd as wasm (@bokuweb/zstd-wasm 0.0.27's zstd.wasm, instantiated synchronously here: the
 * engine's reads are synchronous) for kdump-zstd pages: several times faster than fzstd, which
 * decodes a page's Huffman and FSE tables in JavaScript. The wasm's exports are Emscripten's
 * minified names of that exact version (its zstd.js maps them), so a self-test (decode a stored
 * libzstd frame, compare; a corrupt frame must fail) decides; otherwise fzstd stays.
 */
function wasmZstd(): ((src: Uint8Array, outLen: number, dest?: Uint8Array) => Uint8Array) | null {
  try {
    const req = createRequire(import.meta.url);
    const main = req.resolve('@bokuweb/zstd-wasm'); // dist/common/index.node.js
    if (JSON.parse(readFileSync(join(dirname(main), '../../package.json'), 'utf8')).version !== '0.0.27') return null;
    const bytes = readFileSync(join(dirname(main), 'zstd.wasm'));
    let memory: WebAssembly.Memory | null = null;
    const fail = () => {
      throw new Error('zstd wasm aborted');
    };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      a: {
        a: fail, // proc_exit
        b: () => undefined, // runtime_keepalive_clear
        c: fail, // abort
        d: () => 0, // setitimer
        e: (size: number) => {
          // emscripten_resize_heap
          const m = memory!;
          const need = Math.ceil((size - m.buffer.byteLength) / 65536);
          try {
            if (need > 0) m.grow(need);
            return 1;
          } catch (e) {
            if (!(e instanceof RangeError)) throw e; // Memory.grow's refusal: the heap cannot grow
            return 0;
          }
        },
      },
    });
    const x = instance.exports as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    memory = x.f as WebAssembly.Memory;
    x.g(); // constructors
    const isError = x.h as (code: number) => number;
    // ZSTD_decompress_usingDict(dctx, ...) with no dictionary: one decompression context for
    // every page (ZSTD_decompress would make and free one per page)
    const dctx = (x.n as () => number)();
    const usingDict = x.q as (dctx: number, dst: number, cap: number, src: number, len: number, dict: number, dlen: number) => number;
    const decompress = (dst: number, cap: number, src: number, len: number) => usingDict(dctx, dst, cap, src, len, 0, 0);
    const malloc = x.s as (n: number) => number;
    let srcPtr = 0;
    let srcCap = 0;
    let dstPtr = 0;
    let dstCap = 0;
    const room = (n: number, out: boolean) => {
      if (out ? n <= dstCap : n <= srcCap) return;
      const cap = Math.max(n, 65536);
      const p = malloc(cap);
      if (!p) throw new Error('zstd wasm: out of memory');
      if (out) [dstPtr, dstCap] = [p, cap];
      else [srcPtr, srcCap] = [p, cap];
    };
    const inflate = (src: Uint8Array, outLen: number, dest?: Uint8Array): Uint8Array => {
      room(src.length, false);
      room(outLen + 1, true);
      new Uint8Array(memory!.buffer, srcPtr, src.length).set(src);
      const n = decompress(dstPtr, outLen + 1, srcPtr, src.length);
      if (isError(n)) throw new Error('corrupt frame');
      const out = new Uint8Array(memory!.buffer, dstPtr, n >>> 0);
      if (dest && out.length === dest.length) {
        dest.set(out); // straight into the caller's page: no copy of our own per page
        return dest;
      }
      return out.slice();
    };
    // self-test on a frame libzstd made (level 3: Huffman literals and FSE sequences), not one
    // compressed here (a compression context and the compressor's first call: ~10 ms alone)
    const page = codecTestPage();
    const frame = Uint8Array.from(Buffer.from(ZSTD_TEST_FRAME, 'base64'));
    const bad = frame.slice();
    bad[bad.length >> 1] ^= 0xff;
    bad[(bad.length >> 1) + 1] ^= 0x55;
    return passesSelfTest((src, n) => inflate(src, n), page, frame, bad) ? inflate : null;
  } catch {
    // a probe of a wasm build's minified exports: any throw (a TypeError when a name moved) means
    // it cannot be used, and fzstd serves instead
    return null;
  }
}

let zstdWasm: ReturnType<typeof wasmZstd> | undefined;
setNativeZstd(() => (zstdWasm ??= wasmZstd()));

/** Which page decoders the Node entry installed (tests: the fast ones must be in use). */
export function nodeDecoders(): { zlib: 'reused-handle' | 'inflateSync'; zstd: 'wasm' | 'fzstd' } {
  return { zlib: zlibHandle ? 'reused-handle' : 'inflateSync', zstd: (zstdWasm ??= wasmZstd()) ? 'wasm' : 'fzstd' };
}

/** Open a dump file from disk. */
export function openDumpFile(path: string, opts?: OpenOptions): Program {
  return openProgram(new NodeFileSource(path), opts);
}

export * from './engine';
