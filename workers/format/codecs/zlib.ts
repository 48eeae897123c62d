/**
 * zlib (RFC 1950) pages, as makedumpfile -c and QEMU's kdump-zlib write them with compress2().
 * fflate inflates; it does not verify the stream's Adler-32 trailer, so we do: a flipped bit in
 * page data must be reported as corrupt, never returned as wrong memory.
 */
import { unzlibSync } from 'fflate';
import { CodecError } from './errors';

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (let i = 0; i < b.length; ) {
    // reduce every 5552 bytes (zlib's NMAX), long before the sums could lose precision
    const end = Math.min(b.length, i + 5552);
    for (; i < end; i++) {
      a += b[i];
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/**
 * A native inflater (Node's zlib.inflateSync, about ten times faster than fflate on 4 KiB pages);
 * the Node entry (workers/node.ts) installs it. The browser uses fflate.
 */
/**
 * (src, outLen, scratch): the decompressed bytes (outLen + 1 of them when the stream is longer);
 * with `scratch` they may be a view of a buffer the next call reuses.
 */
export type NativeInflate = (src: Uint8Array, outLen: number, scratch?: boolean) => Uint8Array;
let nativeInflate: NativeInflate | null = null;
export function setNativeZlib(f: NativeInflate | null): NativeInflate | null {
  const was = nativeInflate;
  nativeInflate = f;
  return was;
}

/** Which inflater serves zlib pages: the native one installed, or fflate. */
export function zlibDecoderKind(): 'native' | 'fflate' {
  return nativeInflate ? 'native' : 'fflate';
}

/** Decompress a zlib stream expected to hold exactly `outLen` bytes (into `dest` when given). */
export function zlibDecompress(src: Uint8Array, outLen: number, dest?: Uint8Array): Uint8Array {
  if (src.length < 6) throw new CodecError(`zlib: stream of ${src.length} bytes is too short`);
  if (nativeInflate) {
    let out: Uint8Array;
    try {
      out = nativeInflate(src, outLen, dest !== undefined); // verifies the Adler-32 trailer itself
    } catch (e) {
      throw new CodecError(`zlib: ${(e as Error).message?.split('\n')[0] || 'invalid data'}`);
    }
    if (out.length !== outLen) throw new CodecError(`zlib: decompressed to ${out.length} bytes, expected ${outLen}`);
    if (!dest) return out;
    dest.set(out);
    return dest;
  }
  let out: Uint8Array;
  try {
    // With a fixed output buffer fflate drops bytes past its end instead of failing; the length
    // and Adler-32 checks below catch such a stream.
    out = unzlibSync(src, { out: dest ?? new Uint8Array(outLen) });
  } catch (e) {
    throw new CodecError(`zlib: ${(e as Error).message || 'invalid data'}`);
  }
  if (out.length !== outLen) throw new CodecError(`zlib: decompressed to ${out.length} bytes, expected ${outLen}`);
  const n = src.length;
  const want = ((src[n - 4] << 24) | (src[n - 3] << 16) | (src[n - 2] << 8) | src[n - 1]) >>> 0;
  if (adler32(out) !== want) throw new CodecError('zlib: Adler-32 checksum mismatch');
  return out;
}
