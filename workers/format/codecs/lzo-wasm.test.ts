/**
 * lzo.wat's WebAssembly against the JavaScript decoder (its bytes: workers/wasm-bytes.test.ts): on
 * every LZO page of the real LZO dumps (6.1-bh-scribble, which the project
 * carries, and 5.10-sysrq-lzo from ../shared/dumps) and on corrupted, truncated and
 * output-limited copies of them, both give the same bytes or the same error message.
 */
import { describe, expect, it } from 'vitest';
import { NodeFileSource } from '../../source/node';
import { openKdump } from '../kdump';
import { sharedDump } from '../../testing/dumps';
import { lzo1xDecompress, lzo1xDecompressJs } from './lzo';
import { lzoWasm } from './lzo-wasm';
import { outcomeOf } from '../../testing/outcome';

const DUMP_DH_COMPRESSED_LZO = 0x2;

/** Each compressed LZO page of a kdump file, in physical address order. */
function* lzoPages(file: string): Generator<Uint8Array> {
  const src = new NodeFileSource(file);
  const d = openKdump(src);
  for (let pa = 0; pa < d.maxPhys; pa += d.pageSize) {
    const desc = d.pageDescriptor(pa);
    if (!desc || !(desc.flags & DUMP_DH_COMPRESSED_LZO)) continue;
    yield src.read(Number(desc.offset), desc.dataLen).slice();
  }
}

/** The decoder's output as hex, or its error's class and message. */
function outcome(f: typeof lzo1xDecompress, src: Uint8Array, maxOut: number): string {
  return outcomeOf(() => f(src, maxOut));
}

describe('LZO1X as WebAssembly (lzo.wat)', () => {
  it('instantiates and passes its self-test here', () => {
    expect(lzoWasm()).not.toBeNull();
  });

  for (const name of ['6.1-bh-scribble', '5.10-sysrq-lzo']) {
    const dump = sharedDump(name);
    it.skipIf(!dump)(`${name}${dump ? '' : ' (skipped: dump absent)'}: the same bytes and errors as the JavaScript decoder on every LZO page and on damaged copies`, () => {
      let seed = 20261205;
      const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      let pages = 0;
      let damaged = 0;
      let errors = 0;
      const differ: string[] = [];
      for (const page of lzoPages(dump!.file)) {
        pages++;
        const a = outcome(lzo1xDecompressJs, page, 4096);
        if (a.length !== 8192) differ.push(`page ${pages}: the JavaScript decoder failed: ${a}`);
        if (outcome(lzo1xDecompress, page, 4096) !== a) differ.push(`page ${pages}`);
        if (pages % 3) continue;
        // a damaged copy: 1-4 bytes changed, sometimes cut short, sometimes a smaller output limit
        const c = page.slice();
        for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256);
        const cut = rnd() < 0.3 ? c.subarray(0, Math.floor(rnd() * c.length)) : c;
        const max = rnd() < 0.2 ? Math.floor(rnd() * 4096) : 4096;
        damaged++;
        const x = outcome(lzo1xDecompressJs, cut, max);
        if (x.startsWith('CodecError')) errors++;
        if (outcome(lzo1xDecompress, cut, max) !== x) differ.push(`damaged copy of page ${pages}: ${x.slice(0, 100)}`);
      }
      expect(differ.slice(0, 5)).toEqual([]);
      expect(pages).toBeGreaterThan(10000);
      expect(errors).toBeGreaterThan(damaged / 2); // most damage is detected, by both alike
    });
  }

  it('decodes into the caller\'s page, and into a new array without one', () => {
    const hello = new Uint8Array([22, 104, 101, 108, 108, 111, 0x11, 0, 0]);
    const dest = new Uint8Array(8).fill(0xee);
    const out = lzo1xDecompress(hello, 8, dest);
    expect(out.buffer).toBe(dest.buffer);
    expect(new TextDecoder().decode(out)).toBe('hello');
    const fresh = lzo1xDecompress(hello, 5);
    expect(new TextDecoder().decode(fresh)).toBe('hello');
    lzo1xDecompress(new Uint8Array([22, 1, 2, 3, 4, 5, 0x11, 0, 0]), 5);
    expect(new TextDecoder().decode(fresh)).toBe('hello'); // its own bytes, not a view of the wasm memory
  });

  it('grows its memory for a stream larger than a wasm page, and gives the same errors', () => {
    const zeros = new Uint8Array(200000); // a literal run whose long-form length never ends
    expect(outcome(lzo1xDecompress, zeros, 300000)).toBe(outcome(lzo1xDecompressJs, zeros, 300000));
    expect(outcome(lzo1xDecompress, zeros, 300000)).toMatch(/^CodecError: lzo: input overrun \(input byte 200000 of 200000/);
  });
});
