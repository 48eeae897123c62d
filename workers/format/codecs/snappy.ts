/**
 * Raw Snappy (no framing format), as makedumpfile -p writes with snappy_compress(): a varint of
 * the uncompressed length, then elements whose tag's low 2 bits select literal / copy with a
 * 1-, 2- or 4-byte offset. This is a small bounds-checked decoder rather than snappyjs's
 * uncompress, which does not check every read (a copy tag cut at the end of the input, or a
 * copy running past the declared length, yields silently wrong bytes instead of an error).
 * snappyjs is used by the tests as the reference compressor.
 */
import { CodecError } from './errors';

/** Decompress raw Snappy data expected to hold exactly `outLen` bytes. */
export function snappyDecompress(src: Uint8Array, outLen: number): Uint8Array {
  let ip = 0;
  const fail = (what: string): never => {
    throw new CodecError(`snappy: ${what} (input byte ${ip} of ${src.length})`);
  };
  // preamble: little-endian base-128 varint, at most 5 bytes for a 32-bit length
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (ip >= src.length) fail('truncated length preamble');
    if (shift > 28) fail('length preamble too long');
    const b = src[ip++];
    declared += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (declared !== outLen) fail(`declares ${declared} bytes, expected ${outLen}`);
  const out = new Uint8Array(outLen);
  let op = 0;
  const need = (n: number) => {
    if (src.length - ip < n) fail('input overrun');
  };
  while (ip < src.length) {
    const tag = src[ip++];
    let len: number;
    let off: number;
    switch (tag & 3) {
      case 0: {
        len = (tag >> 2) + 1;
        if (len > 60) {
          const n = len - 60; // 1..4 length bytes follow
          need(n);
          len = 0;
          for (let i = n - 1; i >= 0; i--) len = len * 256 + src[ip + i];
          len += 1;
          ip += n;
        }
        need(len);
        if (outLen - op < len) fail('output overrun');
        out.set(src.subarray(ip, ip + len), op);
        ip += len;
        op += len;
        continue;
      }
      case 1:
        need(1);
        len = 4 + ((tag >> 2) & 7);
        off = ((tag >> 5) << 8) | src[ip++];
        break;
      case 2:
        need(2);
        len = (tag >> 2) + 1;
        off = src[ip] | (src[ip + 1] << 8);
        ip += 2;
        break;
      default:
        need(4);
        len = (tag >> 2) + 1;
        off = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0;
        ip += 4;
        break;
    }
    if (off === 0 || off > op) fail(`copy offset ${off} outside output (at ${op})`);
    if (outLen - op < len) fail('output overrun');
    for (let i = 0, m = op - off; i < len; i++) out[op++] = out[m++];
  }
  if (op !== outLen) fail(`decompressed to ${op} bytes, expected ${outLen}`);
  return out;
}
