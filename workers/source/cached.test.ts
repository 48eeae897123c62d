/**
 * The block cache over a local file: readInto (the uncached path the kdump reader takes for page
 * data) gives the file's bytes, from a cached block when one holds them, and a cache over a cache
 * fills its blocks through readInto, so the bytes are kept once.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { NodeFileSource } from './node';
import { CachedSource } from './cached';
import { sharedDump, SKIP_REASON } from '../testing/dumps';

const d = sharedDump('6.1-skb-uaf-0x106');

describe.skipIf(!d)(`CachedSource over a local file${d ? '' : ` (skipped: ${SKIP_REASON})`}`, () => {
  const whole = d ? readFileSync(d.file) : Buffer.alloc(0);
  const at = (o: number, n: number) => whole.subarray(o, o + n);

  it('readInto gives the file bytes, cached or not, and caches nothing itself', () => {
    const c = new CachedSource(new NodeFileSource(d!.file), 4096, 1 << 20);
    const offsets = [0, 4095, 8190, 123457, whole.length - 100];
    for (const o of offsets) {
      const buf = new Uint8Array(300);
      const n = c.readInto!(o, buf);
      expect(n).toBe(Math.min(300, whole.length - o));
      expect(Buffer.from(buf.subarray(0, n)).equals(at(o, n))).toBe(true);
    }
    expect(c.cacheStats.bytes).toBe(0);
    // a block read by read() serves readInto afterwards, without the medium
    c.read(20480, 10);
    const reads = c.stats.reads;
    const buf = new Uint8Array(100);
    expect(c.readInto!(20500, buf)).toBe(100);
    expect(c.stats.reads).toBe(reads);
    expect(Buffer.from(buf).equals(at(20500, 100))).toBe(true);
  });

  it('a cache over a cache keeps one copy (the outer one fills by readInto)', () => {
    const inner = new CachedSource(new NodeFileSource(d!.file), 4096, 1 << 20);
    const outer = new CachedSource(inner, 4096, 1 << 20);
    for (const o of [0, 5000, 70000, 1 << 20]) expect(Buffer.from(outer.read(o, 64)).equals(at(o, 64))).toBe(true);
    expect(outer.cacheStats.bytes).toBe(4 * 4096);
    expect(inner.cacheStats.bytes).toBe(0);
  });

  it('a source without readInto (a File, a URL) has none through the cache either', () => {
    const bare = { name: 'x', size: whole.length, stats: { bytesRead: 0, reads: 0 }, read: (o: number, n: number) => new Uint8Array(at(o, n)) };
    const c = new CachedSource(bare, 4096, 1 << 20);
    expect(c.readInto).toBeUndefined();
    expect(Buffer.from(c.read(100, 10)).equals(at(100, 10))).toBe(true);
  });
});
