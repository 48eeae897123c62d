/** zlib, zstd and snappy page codecs: round trips and corrupt inputs (LZO: lzo.test.ts). */
import { describe, expect, it } from 'vitest';
import { zlibSync } from 'fflate';
import { execFileSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import { setNativeZlib } from './zlib';
import * as snappyjs from 'snappyjs';
import { CodecError, compressionOfFlags, decompressPage, snappyDecompress, zlibDecompress, zstdDecompress } from './index';

function pageLike(seed: number): Uint8Array {
  const p = new Uint8Array(4096);
  let s = seed;
  for (let i = 0; i < 4096; i += 8) {
    s = (s * 1103515245 + 12345) >>> 0;
    if (s % 3 === 0) p.set([0x00, 0xc0, 0x12 + (s & 3), 0x80, 0x88, 0xff, 0xff, 0xff], i);
    else if (s % 3 === 1) p[i] = s & 0xff;
  }
  return p;
}

describe('zlib', () => {
  const page = pageLike(1);
  const z = zlibSync(page);
  it('round-trips a page', () => {
    expect(zlibDecompress(z, 4096)).toEqual(page);
    expect(decompressPage(1, z, 4096)).toEqual(page);
  });
  it('rejects a wrong size, truncation, and a flipped bit (Adler-32)', () => {
    expect(() => zlibDecompress(z, 8192)).toThrow(CodecError);
    for (const n of [0, 1, 5, 10, z.length >> 1, z.length - 1]) expect(() => zlibDecompress(z.subarray(0, n), 4096)).toThrow(CodecError);
    let detected = 0;
    for (let i = 2; i < z.length; i += 3) {
      const c = z.slice();
      c[i] ^= 0x10;
      try {
        zlibDecompress(c, 4096);
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
        detected++;
      }
    }
    expect(detected).toBe(Math.ceil((z.length - 2) / 3));
  });
});

describe('zlib: output larger than a page', () => {
  const big = pageLike(5);
  const twoPages = new Uint8Array(8192);
  twoPages.set(big);
  twoPages.set(big, 4096);
  const z = zlibSync(twoPages);
  it('fflate with a page-sized buffer: rejected, not cut silently', () => {
    expect(() => zlibDecompress(z, 4096)).toThrow(CodecError);
  });
  it('native zlib (as workers/node.ts installs it): same results as fflate', () => {
    setNativeZlib((src, outLen) => {
      const b = inflateSync(src, { maxOutputLength: outLen });
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    });
    try {
      const page = pageLike(1);
      const zp = zlibSync(page);
      expect(zlibDecompress(zp, 4096)).toEqual(page);
      expect(() => zlibDecompress(z, 4096)).toThrow(CodecError);
      expect(() => zlibDecompress(zp.subarray(0, zp.length - 3), 4096)).toThrow(CodecError);
      const c = zp.slice();
      c[c.length >> 1] ^= 0x10;
      expect(() => zlibDecompress(c, 4096)).toThrow(CodecError);
    } finally {
      setNativeZlib(null);
    }
  });
});

describe('snappy (raw, as snappy_compress writes it)', () => {
  const page = pageLike(2);
  const c = new Uint8Array(snappyjs.compress(page));
  it('snappyjs output is raw snappy: a varint length preamble, no stream identifier chunk', () => {
    expect(c[0]).toBe(0x80); // 4096 = 0x80 0x20
    expect(c[1]).toBe(0x20);
    expect(c[0]).not.toBe(0xff); // the framing format starts with 0xff 06 00 00 "sNaPpY"
  });
  it('round-trips pages, zeros and random data', () => {
    expect(snappyDecompress(c, 4096)).toEqual(page);
    expect(decompressPage(4, c, 4096)).toEqual(page);
    const zeros = new Uint8Array(4096);
    expect(snappyDecompress(new Uint8Array(snappyjs.compress(zeros)), 4096)).toEqual(zeros);
    const rnd = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
    expect(snappyDecompress(new Uint8Array(snappyjs.compress(rnd)), 4096)).toEqual(rnd);
  });
  it('rejects corrupt input: wrong declared size, truncation, bad offsets', () => {
    expect(() => snappyDecompress(c, 8192)).toThrow(/declares 4096/);
    for (let n = 0; n < c.length; n += Math.max(1, c.length >> 5)) expect(() => snappyDecompress(c.subarray(0, n), 4096)).toThrow(CodecError);
    // a copy with offset 0 and one reaching before the output start
    expect(() => snappyDecompress(new Uint8Array([4, 0x01, 0x00]), 4)).toThrow(/offset/);
    expect(() => snappyDecompress(new Uint8Array([8, 0x00, 0x61, 0x02, 0x05, 0x00]), 8)).toThrow(/offset/);
    // garbage never hangs and only throws CodecError
    for (let k = 0; k < 200; k++) {
      const g = c.slice();
      g[2 + ((k * 7919) % (g.length - 2))] ^= 1 + (k % 255);
      try {
        snappyDecompress(g, 4096);
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
      }
    }
  });
});

function zstdCli(data: Uint8Array): Uint8Array | null {
  try {
    return new Uint8Array(execFileSync('zstd', ['-q', '-c', '-1', '--no-check'], { input: data }));
  } catch {
    return null;
  }
}

describe('zstd', () => {
  // A tiny valid frame made by hand: single segment, FCS 1 byte = 5, one raw block "hello".
  const raw = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 5, 0x29, 0x00, 0x00, 104, 101, 108, 108, 111]);
  it('decodes a raw-block frame', () => {
    expect(new TextDecoder().decode(zstdDecompress(raw, 5))).toBe('hello');
  });
  const page = pageLike(3);
  const z = zstdCli(page);
  // --no-check: no content checksum, like makedumpfile's ZSTD_compressCCtx frames
  it.skipIf(!z)(`round-trips a page compressed by the zstd CLI${z ? '' : ' (skipped: zstd CLI not found)'}`, () => {
    expect(zstdDecompress(z!, 4096)).toEqual(page);
    expect(decompressPage(0x20, z!, 4096)).toEqual(page);
    for (const n of [0, 3, 8, z!.length >> 1, z!.length - 1]) expect(() => zstdDecompress(z!.subarray(0, n), 4096)).toThrow(CodecError);
  });
  it('rejects a bad magic, a frame declaring another size, and absurd windows before allocating', () => {
    const bad = raw.slice();
    bad[0] = 0;
    expect(() => zstdDecompress(bad, 5)).toThrow(/magic/);
    expect(() => zstdDecompress(raw, 4096)).toThrow(/declares 5/);
    // not single segment, window descriptor 0xf8: 2^41 bytes
    const huge = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00, 0x41]);
    expect(() => zstdDecompress(huge, 4096)).toThrow(/window/);
  });
});

describe('codec selection', () => {
  it('names the codec of DUMP_DH_COMPRESSED_* bits', () => {
    expect(compressionOfFlags(0)).toBe('none');
    expect(compressionOfFlags(1)).toBe('zlib');
    expect(compressionOfFlags(2)).toBe('lzo');
    expect(compressionOfFlags(4)).toBe('snappy');
    expect(compressionOfFlags(0x20)).toBe('zstd');
    expect(compressionOfFlags(0x21)).toBe('mixed');
    expect(compressionOfFlags(0x8)).toBe('none');
  });
  it('refuses flags naming several codecs', () => {
    expect(() => decompressPage(3, new Uint8Array(10), 4096)).toThrow(CodecError);
  });
});
