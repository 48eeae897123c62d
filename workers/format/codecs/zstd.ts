/** zstd pages, as makedumpfile -z writes them (one frame per page, ZSTD_compressCCtx). */
import { decompress } from 'fzstd';
import { CodecError } from './errors';

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Check the frame header before handing it to fzstd, which allocates the declared content size
 * or window up front: a corrupt header must not make us allocate gigabytes.
 * Frame_Header_Descriptor: bits 7-6 FCS field size flag, bit 5 single segment, bits 1-0 dict id.
 */
function checkFrameHeader(src: Uint8Array, outLen: number): void {
  if (src.length < 6) throw new CodecError(`zstd: frame of ${src.length} bytes is too short`);
  const magic = (src[0] | (src[1] << 8) | (src[2] << 16) | (src[3] << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) throw new CodecError(`zstd: bad frame magic 0x${magic.toString(16)}`);
  const fhd = src[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  let o = 5;
  if (!single) {
    const wd = src[o++];
    const windowLog = 10 + (wd >> 3);
    const windowSize = 2 ** windowLog + (2 ** windowLog / 8) * (wd & 7);
    if (windowSize > Math.max(outLen, 1 << 20) * 8) throw new CodecError(`zstd: window size ${windowSize} too large for a page`);
  }
  o += [0, 1, 2, 4][fhd & 3];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return;
  if (o + fcsBytes > src.length) throw new CodecError('zstd: truncated frame header');
  let fcs = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + src[o + i];
  if (fcsBytes === 2) fcs += 256;
  if (fcs !== outLen) throw new CodecError(`zstd: frame declares ${fcs} bytes, expected ${outLen}`);
}

/**
 * A faster decoder than fzstd: libzstd as wasm (zstd-wasm.ts), which the Node entry
 * (workers/node.ts) and the browser's workers (workers/worker.ts) install; it must throw on a
 * corrupt frame.
 */
export type ZstdDecoder = (src: Uint8Array, outLen: number, dest?: Uint8Array) => Uint8Array;
let nativeZstd: ZstdDecoder | null | undefined = null;
let makeNative: (() => ZstdDecoder | null | undefined) | null = null;
/**
 * `make` runs at the first zstd page (dumps of other formats never pay for it): a decoder, null
 * (fzstd from then on), or undefined while the decoder is still being fetched (fzstd for this
 * page; asked again at the next). null: fzstd.
 */
export function setNativeZstd(make: (() => ZstdDecoder | null | undefined) | null): void {
  makeNative = make;
  nativeZstd = make ? undefined : null;
}

/** The decoder once known (asked of `make` until it is); undefined while it loads. */
function native(): ZstdDecoder | null | undefined {
  if (nativeZstd === undefined) nativeZstd = makeNative ? makeNative() : null;
  return nativeZstd;
}

/** Which decoder serves zstd pages: 'wasm', 'fzstd', or 'pending' (the wasm still loading). */
export function zstdDecoderKind(): 'wasm' | 'fzstd' | 'pending' {
  const n = native();
  return n === undefined ? 'pending' : n ? 'wasm' : 'fzstd';
}

/**
 * Decompress a zstd frame expected to hold exactly `outLen` bytes; with `dest` (outLen bytes),
 * into it (its contents are undefined when this throws).
 */
export function zstdDecompress(src: Uint8Array, outLen: number, dest?: Uint8Array): Uint8Array {
  checkFrameHeader(src, outLen);
  // while the faster decoder loads (undefined), fzstd serves this page
  const fast = native();
  let out: Uint8Array;
  try {
    out = fast ? fast(src, outLen, dest) : decompress(src);
  } catch (e) {
    throw new CodecError(`zstd: ${(e as Error).message || 'invalid data'}`);
  }
  if (out.length !== outLen) throw new CodecError(`zstd: decompressed to ${out.length} bytes, expected ${outLen}`);
  if (dest && out !== dest) {
    dest.set(out);
    return dest;
  }
  return out;
}
