/**
 * Page codecs of kdump-compressed files, selected by page_desc.flags:
 * DUMP_DH_COMPRESSED_ZLIB 0x1, DUMP_DH_COMPRESSED_LZO 0x2, DUMP_DH_COMPRESSED_SNAPPY 0x4,
 * DUMP_DH_COMPRESSED_ZSTD 0x20 (the same bits name the codec in disk_dump_header.status).
 */
import type { Compression } from '../types';
import { CodecError } from './errors';
import { lzo1xDecompress } from './lzo';
import { snappyDecompress } from './snappy';
import { zlibDecompress, zlibDecoderKind } from './zlib';
import { zstdDecompress, zstdDecoderKind } from './zstd';
import { lzoWasm } from './lzo-wasm';

export { CodecError } from './errors';
export { lzo1xDecompress, snappyDecompress, zlibDecompress, zstdDecompress };

export const DUMP_DH_COMPRESSED_ZLIB = 0x1;
export const DUMP_DH_COMPRESSED_LZO = 0x2;
export const DUMP_DH_COMPRESSED_SNAPPY = 0x4;
export const DUMP_DH_COMPRESSED_ZSTD = 0x20;
export const COMPRESSION_FLAGS =
  DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO | DUMP_DH_COMPRESSED_SNAPPY | DUMP_DH_COMPRESSED_ZSTD;

/** The codec a set of DUMP_DH_COMPRESSED_* bits names ('mixed' for several, 'none' for none). */
export function compressionOfFlags(flags: number): Compression {
  switch (flags & COMPRESSION_FLAGS) {
    case 0:
      return 'none';
    case DUMP_DH_COMPRESSED_ZLIB:
      return 'zlib';
    case DUMP_DH_COMPRESSED_LZO:
      return 'lzo';
    case DUMP_DH_COMPRESSED_SNAPPY:
      return 'snappy';
    case DUMP_DH_COMPRESSED_ZSTD:
      return 'zstd';
    default:
      return 'mixed';
  }
}

/**
 * What decodes pages of this compression here (the dump summary says it: the JavaScript
 * decoders are several times slower than the native and wasm ones); null when pages are stored
 * as they are.
 */
export function pageDecoder(c: Compression): string | null {
  switch (c) {
    case 'zlib':
      return zlibDecoderKind() === 'native' ? 'zlib (native)' : 'fflate (JavaScript)';
    case 'lzo':
      return lzoWasm() ? 'LZO1X (wasm)' : 'LZO1X (JavaScript)';
    case 'snappy':
      return 'snappyjs (JavaScript)';
    case 'zstd': {
      const k = zstdDecoderKind();
      return k === 'wasm' ? 'libzstd (wasm)' : k === 'fzstd' ? 'fzstd (JavaScript)' : 'fzstd (JavaScript) until libzstd (wasm) loads';
    }
    case 'mixed':
      return [pageDecoder('zlib'), pageDecoder('lzo'), pageDecoder('snappy'), pageDecoder('zstd')].join(', ');
    default:
      return null;
  }
}

/**
 * Decompress one page whose page_desc.flags hold exactly one compression bit: into `dest` (of
 * pageSize bytes, returned) when given, else into a new array.
 */
export function decompressPage(flags: number, data: Uint8Array, pageSize: number, dest?: Uint8Array): Uint8Array {
  let out: Uint8Array;
  switch (flags & COMPRESSION_FLAGS) {
    case DUMP_DH_COMPRESSED_ZLIB:
      return zlibDecompress(data, pageSize, dest);
    case DUMP_DH_COMPRESSED_LZO:
      out = lzo1xDecompress(data, pageSize, dest);
      if (out.length !== pageSize) throw new CodecError(`lzo: decompressed to ${out.length} bytes, expected ${pageSize}`);
      if (dest && out.buffer === dest.buffer && out.byteOffset === dest.byteOffset) return dest;
      break;
    case DUMP_DH_COMPRESSED_SNAPPY:
      out = snappyDecompress(data, pageSize);
      break;
    case DUMP_DH_COMPRESSED_ZSTD:
      return zstdDecompress(data, pageSize, dest);
    default:
      throw new CodecError(`page descriptor flags 0x${flags.toString(16)} name no single known codec`);
  }
  if (!dest) return out;
  dest.set(out);
  return dest;
}
