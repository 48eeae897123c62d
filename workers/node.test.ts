/**
 * The Node entry's faster page decoders (workers/node.ts): zlib through one reused inflate handle
 * and zstd through libzstd as wasm. On every page of the real kdump-zlib and kdump-zstd dumps
 * they must give the bytes the reference decoders give (zlib.inflateSync, fzstd), and a corrupt
 * page must still be reported as corrupt.
 */
import { describe, it, expect } from 'vitest';
import { inflateSync } from 'node:zlib';
import { decompress as fzstd } from 'fzstd';
import { NodeFileSource } from './source/node';
import { openKdump } from './format/kdump';
import { zlibDecompress } from './format/codecs/zlib';
import { zstdDecompress } from './format/codecs/zstd';
import { CodecError } from './format/codecs/errors';
import { sharedDump } from './testing/dumps';
import { nodeDecoders, compileWasmDecodersAgain } from './node'; // installs the decoders
import { pageDecoder, lzo1xDecompress } from './format/codecs';
import { lzoWasm } from './format/codecs/lzo-wasm';
import { codecTestPage, ZLIB_TEST_STREAM, ZSTD_TEST_FRAME } from './format/codecs/selftest';

const DUMP_DH_COMPRESSED_ZLIB = 0x1;
const DUMP_DH_COMPRESSED_ZSTD = 0x20;

/** Up to n compressed pages of a kdump file: [flags, data], in physical address order. */
function rawPages(file: string, n: number): Array<[number, Uint8Array]> {
  const src = new NodeFileSource(file);
  const d = openKdump(src);
  const out: Array<[number, Uint8Array]> = [];
  for (let pa = 0; out.length < n && pa < 512 * 1024 * 1024; pa += 4096) {
    const desc = d.pageDescriptor(pa);
    if (!desc || !(desc.flags & (DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_ZSTD))) continue;
    out.push([desc.flags, src.read(Number(desc.offset), desc.dataLen).slice()]);
  }
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('Node page decoders', () => {
  it('the fast decoders are the ones in use, and the dump summary names them', () => {
    expect(nodeDecoders()).toMatchObject({ zlib: 'reused-handle', zstd: 'wasm' });
    expect(pageDecoder('zstd')).toBe('libzstd (wasm)');
    expect(pageDecoder('zlib')).toBe('zlib (native)');
    expect(pageDecoder('lzo')).toBe('LZO1X (wasm)');
    expect(pageDecoder('none')).toBeNull();
  });

  it("the self-tests' zstd frame and zlib stream are real compressed forms of their page (fzstd, inflateSync agree)", () => {
    const frame = Uint8Array.from(Buffer.from(ZSTD_TEST_FRAME, 'base64'));
    const page = codecTestPage();
    expect(frame.length).toBeLessThan(page.length / 2); // compressed blocks, not a raw copy
    expect(same(fzstd(frame), page)).toBe(true);
    expect(same(zstdDecompress(frame, 4096), page)).toBe(true);
    const z = Uint8Array.from(Buffer.from(ZLIB_TEST_STREAM, 'base64'));
    expect(z.length).toBeLessThan(page.length / 2);
    expect(same(inflateSync(z), page)).toBe(true);
  });

  const zl = sharedDump('6.1-skb-uaf-0x106');
  it.skipIf(!zl)('zlib: the reused handle gives inflateSync bytes; a corrupt page fails', () => {
    const pages = rawPages(zl!.file, 2000);
    expect(pages.length).toBeGreaterThan(1000);
    expect(pages.filter(([, data]) => !same(zlibDecompress(data, 4096), inflateSync(data))).length).toBe(0);
    const bad = Uint8Array.from(pages[0][1]);
    bad[bad.length - 1] ^= 1; // Adler-32
    expect(() => zlibDecompress(bad, 4096)).toThrow(CodecError);
    expect(() => zlibDecompress(pages[0][1].subarray(0, pages[0][1].length - 8), 4096)).toThrow(CodecError);
    expect(same(zlibDecompress(pages[1][1], 4096), inflateSync(pages[1][1]))).toBe(true);
  });

  it('compileWasmDecodersAgain: the zstd and LZO modules are compiled anew at their next page, and decode the same bytes', () => {
    // (the CLI calls it when work turns long under other V8 flags: cli/vmcore.cjs)
    const frame = Uint8Array.from(Buffer.from(ZSTD_TEST_FRAME, 'base64'));
    const page = codecTestPage();
    expect(same(zstdDecompress(frame, 4096), page)).toBe(true);
    const before = nodeDecoders().zstdCompiles;
    const lzo = lzoWasm();
    expect(lzo).not.toBeNull();
    compileWasmDecodersAgain();
    expect(same(zstdDecompress(frame, 4096), page)).toBe(true);
    expect(same(zstdDecompress(frame, 4096), page)).toBe(true);
    expect(nodeDecoders().zstdCompiles).toBe(before + 1); // once, at the next page
    const again = lzoWasm();
    expect(again).not.toBeNull();
    expect(again).not.toBe(lzo);
    const lit = new Uint8Array([17 + 5, 104, 101, 108, 108, 111, 0x11, 0, 0]); // "hello", end marker
    expect(new TextDecoder().decode(lzo1xDecompress(lit, 5))).toBe('hello');
  });

  const zs = sharedDump('6.12-skb-uaf-kaslr');
  it.skipIf(!zs)('zstd: the wasm decoder gives fzstd bytes; a corrupt page fails', () => {
    const pages = rawPages(zs!.file, 2000);
    expect(pages.length).toBeGreaterThan(1000);
    expect(pages.filter(([, data]) => !same(zstdDecompress(data, 4096), fzstd(data))).length).toBe(0);
    const bad = Uint8Array.from(pages[0][1]);
    for (let i = 8; i < bad.length; i += 3) bad[i] ^= 0xa5;
    expect(() => zstdDecompress(bad, 4096)).toThrow(CodecError);
    expect(() => zstdDecompress(pages[0][1].subarray(0, pages[0][1].length >> 1), 4096)).toThrow(CodecError);
  });
});
