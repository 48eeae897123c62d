import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BufferSource } from '../source/blob';
import { NodeFileSource } from '../source/node';
import { CachedSource } from '../source/cached';
import { sharedDump } from '../testing/dumps';
import { DumpError, MemoryError } from '../errors';
import { isFlattened, openFlattened } from './flattened';
import { openKdump } from './kdump';
import { PatchedSource } from '../testing/patched';

/** Build a flattened stream from records (written in order) with or without the end marker. */
function flat(records: [number, Uint8Array][], end = true, type = 1n): Uint8Array {
  const parts: Uint8Array[] = [];
  const h = new Uint8Array(4096);
  h.set(new TextEncoder().encode('makedumpfile'));
  const hv = new DataView(h.buffer);
  hv.setBigInt64(16, type, false);
  hv.setBigInt64(24, 1n, false);
  parts.push(h);
  const rec = (off: bigint, size: bigint) => {
    const r = new Uint8Array(16);
    const v = new DataView(r.buffer);
    v.setBigInt64(0, off, false);
    v.setBigInt64(8, size, false);
    return r;
  };
  for (const [off, data] of records) parts.push(rec(BigInt(off), BigInt(data.length)), data);
  if (end) parts.push(rec(-1n, -1n));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

describe('flattened format (synthetic records)', () => {
  it('detects the signature', () => {
    expect(isFlattened(flat([]))).toBe(true);
    expect(isFlattened(new TextEncoder().encode('KDUMP   \0\0\0\0\0\0\0\0'))).toBe(false);
    expect(isFlattened(new Uint8Array(4))).toBe(false);
  });

  it('replays records out of order; holes read as zeros; the latest record wins', () => {
    const f = openFlattened(
      new BufferSource(
        flat([
          [100, fill(50, 1)], // 100..150
          [0, fill(20, 2)], // 0..20
          [120, fill(10, 3)], // overwrites 120..130
          [140, fill(20, 4)], // overwrites 140..150, extends to 160
          [0, fill(4, 5)], // header rewritten at the end
        ]),
      ),
    );
    expect(f.size).toBe(160);
    expect(f.records).toBe(5);
    // which bytes records wrote (kdump asks before it shows a page: a hole is not the page)
    expect(f.cut).toBe(false);
    expect(f.written(0, 20)).toBe(true);
    expect(f.written(100, 60)).toBe(true);
    expect(f.written(15, 10)).toBe(false); // 20..100 is a hole
    expect(f.written(20, 1)).toBe(false);
    expect(f.written(0, 161)).toBe(false); // past the end
    const all = f.read(0, 1000);
    expect(all.length).toBe(160);
    const want = new Uint8Array(160);
    want.fill(2, 0, 20);
    want.fill(5, 0, 4);
    want.fill(1, 100, 150);
    want.fill(3, 120, 130);
    want.fill(4, 140, 160);
    expect(Array.from(all)).toEqual(Array.from(want));
    // reads inside one piece and across pieces
    expect(Array.from(f.read(121, 3))).toEqual([3, 3, 3]);
    expect(Array.from(f.read(18, 4))).toEqual([2, 2, 0, 0]);
    expect(f.read(160, 10).length).toBe(0);
    expect(f.warnings).toEqual([]);
  });

  it('an older record never hides a newer one, whatever the order of starts', () => {
    const f = openFlattened(new BufferSource(flat([[10, fill(10, 9)], [0, fill(30, 1)], [5, fill(10, 7)]])));
    const got = Array.from(f.read(0, 30));
    const want = Array.from(fill(30, 1)).map((v, i) => (i >= 5 && i < 15 ? 7 : v));
    expect(got).toEqual(want);
  });

  it('warns about a missing end marker or a cut record and keeps what is there', () => {
    const full = flat([[0, fill(100, 1)], [100, fill(100, 2)]], false);
    const f = openFlattened(new BufferSource(full));
    expect(f.size).toBe(200);
    expect(f.warnings[0]).toMatch(/no end marker/);
    const cutF = openFlattened(new BufferSource(full.subarray(0, full.length - 40)));
    expect(cutF.size).toBe(160);
    expect(cutF.warnings[0]).toMatch(/runs past end of file/);
    const cutHdr = openFlattened(new BufferSource(full.subarray(0, 4096 + 116 + 8)));
    expect(cutHdr.warnings[0]).toMatch(/record header at file offset \d+ cut short/);
  });

  it('rejects a bad type, a cut header and negative offsets with a one-line DumpError', () => {
    expect(() => openFlattened(new BufferSource(flat([], true, 2n)))).toThrow(/type 2/);
    expect(() => openFlattened(new BufferSource(flat([]).subarray(0, 100)))).toThrow(DumpError);
    const bad = flat([[0, fill(10, 1)]]);
    new DataView(bad.buffer).setBigInt64(4096, -5n, false);
    expect(() => openFlattened(new BufferSource(bad))).toThrow(/bad record header at file offset 4096/);
    const huge = flat([[0, fill(10, 1)]]);
    new DataView(huge.buffer).setBigInt64(4096 + 8, 1n << 40n, false);
    expect(() => openFlattened(new BufferSource(huge))).toThrow(DumpError);
  });

  it('readInto (a local file) gives what read gives, holes as zeros', () => {
    const bytes = flat([
      [100, fill(50, 1)],
      [0, fill(20, 2)],
      [120, fill(10, 3)],
      [300, fill(10, 6)],
    ]);
    const inner = new BufferSource(bytes);
    const withInto = Object.assign(Object.create(inner) as BufferSource, {
      readInto(offset: number, dest: Uint8Array) {
        const got = inner.read(offset, dest.length);
        dest.set(got);
        return got.length;
      },
    });
    const f = openFlattened(withInto);
    expect(openFlattened(inner).readInto).toBeUndefined();
    for (const [o, n] of [[0, 310], [15, 10], [125, 200], [305, 20], [310, 5], [0, 1]]) {
      const buf = new Uint8Array(n).fill(0xee);
      const got = f.readInto!(o, buf);
      const want = f.read(o, n);
      expect(got).toBe(want.length);
      expect(Array.from(buf.subarray(0, got))).toEqual(Array.from(want));
    }
  });

  it('scans many small records in few reads (read-ahead window)', () => {
    const recs: [number, Uint8Array][] = [];
    for (let i = 0; i < 20000; i++) recs.push([i * 8, fill(8, i & 0xff)]);
    const src = new BufferSource(flat(recs));
    const f = openFlattened(src);
    expect(f.size).toBe(160000);
    expect(f.segments).toBe(20000); // each record is its own piece (headers sit between them in the file)
    expect(src.stats.reads).toBeLessThan(20);
    expect(f.read(8 * 300, 8)[0]).toBe(300 & 0xff);
  });
});

describe('a whole flattened stream with a hole where a page\'s data should be (the 6.1 sample, public/samples)', () => {
  it('that page is corrupt ("written by no record"), never zeros; every other page reads as in the kdump file', () => {
    const file = new URL('../../public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib', import.meta.url);
    const bytes = new Uint8Array(readFileSync(file));
    const kd = openKdump(new BufferSource(bytes));
    // a dumped page in the middle of the dump, and where its data lies in the file
    const pages: number[] = [];
    for (const r of kd.ranges()) for (let pa = r.start; pa < r.end && pages.length < 5000; pa += kd.pageSize) if (kd.hasPage(pa)) pages.push(pa);
    const victim = pages[Math.floor(pages.length / 2)];
    const desc = kd.pageDescriptor(victim)!;
    const at = Number(desc.offset);
    // the same file as two records around that page's data, with the end marker: a whole stream
    const f = openKdump(openFlattened(new BufferSource(flat([[0, bytes.subarray(0, at)], [at + desc.dataLen, bytes.subarray(at + desc.dataLen)]]))));
    let e: unknown;
    try {
      f.readPhys(victim, kd.pageSize);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(MemoryError);
    expect((e as MemoryError).kind).toBe('corrupt');
    expect((e as MemoryError).message).toMatch(/written by no record of the flattened stream/);
    for (const pa of pages) {
      if (pa === victim) continue;
      expect(Buffer.compare(Buffer.from(f.readPhys(pa, kd.pageSize)), Buffer.from(kd.readPhys(pa, kd.pageSize))), `page 0x${pa.toString(16)}`).toBe(0);
    }
  });
});

const d = sharedDump('6.1-sysrq-256M-flattened');

describe.skipIf(!d)(`flattened format on the QEMU 7.2 dump${d ? '' : ' (skipped: ../shared/dumps/6.1-sysrq-256M-flattened absent)'}`, () => {
  it('equals a naive full replay of every record', () => {
    const bytes = new Uint8Array(readFileSync(d!.file));
    // naive replay: apply every record in order to a growing buffer
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let logical = new Uint8Array(0);
    let logicalSize = 0;
    for (let pos = 4096; ; ) {
      const off = Number(dv.getBigInt64(pos, false));
      const size = Number(dv.getBigInt64(pos + 8, false));
      if (off === -1) break;
      if (off + size > logical.length) {
        const n = new Uint8Array(Math.max(off + size, logical.length * 2));
        n.set(logical);
        logical = n;
      }
      logical.set(bytes.subarray(pos + 16, pos + 16 + size), off);
      logicalSize = Math.max(logicalSize, off + size);
      pos += 16 + size;
    }
    const src = new NodeFileSource(d!.file);
    const f = openFlattened(src);
    expect(f.warnings).toEqual([]);
    expect(f.size).toBe(logicalSize);
    expect(new TextDecoder().decode(f.read(0, 8))).toBe('KDUMP   ');
    // a local file: the scan reads QEMU's 16 KiB records through 256 KiB windows (a read call
    // costs as much as the bytes it would skip), far fewer calls than records
    expect(f.records).toBeGreaterThan(1000);
    expect(src.stats.reads).toBeLessThan(f.records / 8);
    // compare the whole logical file in uneven chunks
    for (let o = 0, k = 0; o < logicalSize; k++) {
      const n = 1 + ((k * 7919) % 200000);
      const got = f.read(o, n);
      const want = logical.subarray(o, Math.min(o + n, logicalSize));
      expect(Buffer.compare(Buffer.from(got), Buffer.from(want)), `at ${o}+${n}`).toBe(0);
      o += n;
    }
    // the same bytes through readInto (the uncached path kdump's page reads take), holes as zeros
    expect(f.readInto).toBeDefined();
    for (let o = 0, k = 0; o < logicalSize; k++) {
      const n = 1 + ((k * 104729) % 300000);
      const buf = new Uint8Array(n).fill(0xee);
      const got = f.readInto!(o, buf);
      expect(got).toBe(Math.min(n, logicalSize - o));
      const want = logical.subarray(o, o + got);
      expect(Buffer.compare(Buffer.from(buf.subarray(0, got)), Buffer.from(want)), `readInto at ${o}+${n}`).toBe(0);
      o += n;
    }
    src.close();
    // through the CLI's block cache the same few reads (not a 64 KiB block per record)
    const file = new NodeFileSource(d!.file);
    const cached = new CachedSource(file, 64 * 1024, 16 << 20);
    const fc = openFlattened(cached);
    expect(fc.size).toBe(logicalSize);
    expect(file.stats.reads).toBeLessThan(fc.records / 8);
    file.close();
    // a medium without cheap reads (no readInto) is asked for the headers of records this large,
    // not their data
    const file2 = new NodeFileSource(d!.file);
    const noInto = { name: file2.name, size: file2.size, stats: file2.stats, read: (o: number, n: number) => file2.read(o, n) };
    expect(openFlattened(noInto).size).toBe(logicalSize);
    expect(file2.stats.bytesRead).toBeLessThan(1 << 20);
    file2.close();
  });

  it('cut short: a page the stream never reached is "truncated" (never zeros, never "corrupt"); the pages it wrote read as in the whole file', () => {
    const whole = openKdump(new NodeFileSource(d!.file));
    const file = new NodeFileSource(d!.file);
    const cutAt = Math.floor(file.size * 0.6);
    const cut = openKdump(new PatchedSource(file, [], cutAt));
    expect(cut.warnings.join('\n')).toMatch(/truncated at \d+ bytes/);
    const ps = whole.pageSize;
    const kinds = new Map<string, number>();
    const messages = new Set<string>();
    let same = 0;
    for (const r of whole.ranges()) {
      for (let pa = r.start; pa < r.end; pa += ps) {
        if (!whole.hasPage(pa)) continue;
        const want = whole.readPhys(pa, ps);
        try {
          const got = cut.readPhys(pa, ps);
          expect(Buffer.compare(Buffer.from(got), Buffer.from(want)), `page 0x${pa.toString(16)}`).toBe(0);
          same++;
        } catch (e) {
          if (!(e instanceof MemoryError)) throw e;
          kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
          messages.add(e.message.replace(/0x[0-9a-f]+|\d+/g, 'N'));
        }
      }
    }
    // the stream writes descriptors and data as it goes: some pages read whole, the rest say why
    expect(same).toBeGreaterThan(1000);
    expect([...kinds.keys()], [...messages].join('\n')).toEqual(['truncated']);
    expect(kinds.get('truncated')).toBeGreaterThan(1000);
    expect([...messages].join('\n')).toMatch(/never written: the flattened stream ends before it/);
    file.close();
  });
});
