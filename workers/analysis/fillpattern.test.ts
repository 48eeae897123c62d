import { describe, expect, it } from 'vitest';
import { FILL_PATTERNS, fillPattern } from './slabcheck';

/**
 * fillPattern (one pass over an object's words) gives what its definition gives: for each fill
 * word in turn, every 4-byte word compared with it in both byte orders, the longest run of 32
 * bytes or more kept when strictly longer than the one found so far.
 */
const WORDS = FILL_PATTERNS;
function definition(b: Uint8Array, off: number, len: number, slubPoison: boolean) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let best: { start: number; len: number; name: string } | null = null;
  for (const [word, name] of WORDS) {
    if (slubPoison && word === 0x5a5a5a5a) continue;
    let run = 0;
    let start = 0;
    for (let i = 0; i + 4 <= len; i += 4) {
      if (dv.getUint32(off + i, true) === word || dv.getUint32(off + i, false) === word) {
        if (run === 0) start = i;
        run += 4;
        if (run >= 32 && (!best || run > best.len)) best = { start, len: run, name };
      } else run = 0;
    }
  }
  return best;
}

describe('fillPattern = its definition', () => {
  // a small deterministic generator (no Math.random: a failure must replay)
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  it('on 3000 made-up objects: runs of fill words in either byte order, mixed, equal, cut, at odd offsets', () => {
    for (let t = 0; t < 3000; t++) {
      const size = 8 + rnd(600);
      const b = new Uint8Array(size + 8);
      const dv = new DataView(b.buffer);
      for (let i = 0; i + 4 <= b.length; i += 4) dv.setUint32(i, rnd(4) ? rnd(0x100000000) : 0, true);
      const off = rnd(5);
      for (let r = rnd(4); r > 0; r--) {
        const [word] = WORDS[rnd(WORDS.length)];
        const at = off + 4 * rnd(Math.max(1, size >> 2));
        const n = 4 + rnd(20);
        for (let i = 0; i < n && at + 4 * i + 4 <= b.length; i++) dv.setUint32(at + 4 * i, word, rnd(3) > 0);
      }
      const len = Math.max(0, size - rnd(8));
      for (const slub of [false, true]) expect(fillPattern(b, off, len, slub), `case ${t} slub ${slub}`).toEqual(definition(b, off, len, slub));
    }
  });
  it('two fill words with runs of the same length: the first in the list; the first run of a word', () => {
    const b = new Uint8Array(256);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < 8; i++) dv.setUint32(128 + 4 * i, 0xdeadbeef, true);
    for (let i = 0; i < 8; i++) dv.setUint32(16 + 4 * i, 0xcafebabe, false);
    for (let i = 0; i < 8; i++) dv.setUint32(64 + 4 * i, 0xdeadbeef, i % 2 === 0);
    expect(fillPattern(b, 0, 256, false)).toEqual({ start: 64, len: 32, name: 'deadbeef' });
    expect(fillPattern(b, 0, 256, false)).toEqual(definition(b, 0, 256, false));
    b.fill(0x5a);
    expect(fillPattern(b, 0, 256, false)).toEqual({ start: 0, len: 256, name: '5a5a5a5a (POISON_INUSE)' });
    expect(fillPattern(b, 0, 256, true)).toBeNull();
  });
});
