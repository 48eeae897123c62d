/**
 * The kdump-compressed reader on the real dumps of ../shared/dumps, checked against crash's
 * `rd -64 ADDR 32` + `vtop ADDR` (oracle/rd.json) and `sys` (oracle/sys.json), plus bad input:
 * truncated copies, corrupted headers, descriptors and page data, garbage.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferSource } from '../source/blob';
import { NodeFileSource } from '../source/node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { DumpError, MemoryError } from '../errors';
import { isFlattened, isKdump, openFlattened, openKdump, type KdumpDump } from './kdump';

interface RdEntry {
  address: string;
  category: string;
  words: string[];
  error: string;
  vtop?: { physical?: string; error?: string };
}

const CASES = [
  { name: '6.1-skb-uaf-0x106', format: 'kdump', compression: 'zlib', dumpLevel: 31 },
  { name: '6.1-bh-scribble', format: 'kdump', compression: 'lzo', dumpLevel: 31 },
  { name: '6.12-skb-uaf-kaslr', format: 'kdump', compression: 'zstd', dumpLevel: 31 },
  { name: '6.1-sysrq-256M-flattened', format: 'kdump-flat', compression: 'zlib', dumpLevel: 1 },
] as const;

/** 32 little-endian u64 words as crash prints them with rd -64. */
function words(b: Uint8Array): string[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: string[] = [];
  for (let i = 0; i + 8 <= b.length; i += 8) out.push('0x' + v.getBigUint64(i, true).toString(16).padStart(16, '0'));
  return out;
}

function memErr(f: () => unknown): MemoryError {
  try {
    f();
  } catch (e) {
    if (e instanceof MemoryError) return e;
    throw e;
  }
  throw new Error('expected a MemoryError, got a result');
}

function oneLine(e: unknown): void {
  expect((e as Error).message).not.toMatch(/\n/);
  expect((e as Error).message.length).toBeGreaterThan(10);
}

for (const c of CASES) {
  const d = sharedDump(c.name);
  describe.skipIf(!d)(`kdump reader: ${c.name}${d ? '' : ` (skipped: ${SKIP_REASON})`}`, () => {
    const open = (opts = {}) => openKdump(new NodeFileSource(d!.file), opts);
    const sys = d ? d.oracleJson('sys.json') : {};
    const rd: RdEntry[] = d ? d.oracleJson('rd.json') : [];

    it(`opens as ${c.format}, ${c.compression}, with the header facts`, () => {
      const k = open();
      expect(k.format).toBe(c.format);
      expect(k.compression).toBe(c.compression);
      expect(k.pageSize).toBe(4096);
      expect(k.warnings).toEqual([]);
      expect(k.header.headerVersion).toBe(6);
      expect(k.header.nrCpus).toBe(parseInt(sys.CPUS, 10));
      expect(k.header.incomplete).toBe(false);
      expect(k.header.dumpLevel).toBe(c.dumpLevel);
      expect(k.header.utsname!.machine).toBe('x86_64');
      // QEMU leaves utsname empty except machine; makedumpfile copies the kernel's
      expect(k.header.utsname!.release).toBe(c.format === 'kdump-flat' ? '' : sys.RELEASE);
      expect(k.maxPhys).toBe(k.layout.maxMapnr * 4096);
      if (c.format === 'kdump-flat') {
        // detect.ts replays first, then opens the logical file: same result
        const k2 = openKdump(openFlattened(new NodeFileSource(d!.file)));
        expect(k2.format).toBe('kdump-flat');
        expect(k2.vmcoreinfo).toBe(k.vmcoreinfo);
      }
    });

    it('has the VMCOREINFO note and one PRSTATUS per CPU', () => {
      const k = open();
      expect(k.vmcoreinfo!.startsWith(`OSRELEASE=${sys.RELEASE}\n`)).toBe(true);
      expect(k.vmcoreinfo).toMatch(/^PAGESIZE=4096$/m);
      expect(k.prstatus.length).toBe(parseInt(sys.CPUS, 10));
      expect(k.notes.some((n) => n.name === 'VMCOREINFO')).toBe(true);
    });

    it('reads the 32 words crash prints for every rd.json address (at its vtop physical address)', () => {
      const k = open();
      const withBoth = rd.filter((e) => e.words.length && e.vtop?.physical);
      expect(withBoth.length).toBeGreaterThanOrEqual(36);
      for (const e of withBoth) {
        const pa = Number(BigInt(e.vtop!.physical!));
        expect(k.hasPage(pa), e.address).toBe(true);
        expect(words(k.readPhys(pa, 256)), `${e.address} (${e.category}) at ${e.vtop!.physical}`).toEqual(e.words);
      }
      // crash printed nothing for these (page excluded from the dump): we must say not-in-dump
      for (const e of rd.filter((x) => !x.words.length && x.vtop?.physical && !x.vtop.error)) {
        const err = memErr(() => k.readPhys(Number(BigInt(e.vtop!.physical!)), 256));
        expect(err.kind, e.address).toBe('not-in-dump');
      }
    });

    it('ranges() are ascending, disjoint, page aligned and cover every rd.json physical address', () => {
      const k = open();
      const r = k.ranges();
      expect(r.length).toBeGreaterThan(0);
      for (let i = 0; i < r.length; i++) {
        expect(r[i].start % 4096).toBe(0);
        expect(r[i].end).toBeGreaterThan(r[i].start);
        if (i) expect(r[i].start).toBeGreaterThan(r[i - 1].end); // coalesced: never adjacent
      }
      expect(r[r.length - 1].end).toBeLessThanOrEqual(k.maxPhys);
      for (const e of rd.filter((x) => x.vtop?.physical)) {
        const pa = Number(BigInt(e.vtop!.physical!));
        expect(r.some((x) => x.start <= pa && pa < x.end), e.address).toBe(true);
      }
      // the legacy VGA hole at 0xa0000 is never RAM on these QEMU guests
      expect(r.some((x) => x.start <= 0xa0000 && 0xa0000 < x.end)).toBe(false);
    });

    it('says no-such-memory for holes and beyond max_mapnr, not-in-dump for excluded pages', () => {
      const k = open();
      expect(memErr(() => k.readPhys(0xa0000, 8)).kind).toBe('no-such-memory');
      expect(memErr(() => k.readPhys(k.maxPhys, 8)).kind).toBe('no-such-memory');
      expect(memErr(() => k.readPhys(k.maxPhys * 4 + 123, 8)).kind).toBe('no-such-memory');
      expect(memErr(() => k.readPhys(-1, 8)).kind).toBe('no-such-memory');
      expect(k.hasPage(0xa0000)).toBe(false);
      let excluded = -1;
      for (let pfn = 0; pfn < k.layout.maxMapnr; pfn++) {
        if (k.pageState(pfn * 4096) === 'excluded') {
          excluded = pfn;
          break;
        }
      }
      if (c.dumpLevel === 31) {
        expect(excluded).toBeGreaterThanOrEqual(0);
        const e = memErr(() => k.readPhys(excluded * 4096 + 8, 8));
        expect(e.kind).toBe('not-in-dump');
        expect(e.address).toBe(BigInt(excluded * 4096 + 8));
        expect(e.message).toMatch(/page not in dump/);
        expect(k.hasPage(excluded * 4096)).toBe(false);
      } else {
        expect(excluded).toBe(-1); // QEMU writes every RAM page (zero pages once, shared)
      }
    });

    it('decompresses every dumped page to a full page, and reads spanning pages', () => {
      const k = open({ pageCacheBytes: 1 << 20 });
      let n = 0;
      let prev: Uint8Array | null = null;
      let spanned = false;
      for (const r of k.ranges()) {
        for (let pa = r.start; pa < r.end; pa += 4096) {
          if (!k.hasPage(pa)) {
            prev = null;
            continue;
          }
          const p = k.readPhys(pa, 4096);
          if (p.length !== 4096) throw new Error(`short page at 0x${pa.toString(16)}`);
          if (prev && !spanned) {
            const both = k.readPhys(pa - 100, 200);
            expect(Array.from(both)).toEqual([...prev.subarray(3996), ...p.subarray(0, 100)]);
            spanned = true;
          }
          prev = p;
          n++;
        }
      }
      expect(n).toBe(k.dumpedPages());
      expect(spanned).toBe(true);
    });

    if (c.format === 'kdump-flat') {
      it('serves the shared zero page to every zero page', () => {
        const k = open();
        const seen = new Map<bigint, number>();
        let shared: [number, number] | null = null;
        for (let pfn = 0; pfn < k.layout.maxMapnr && !shared; pfn++) {
          const desc = k.pageDescriptor(pfn * 4096);
          if (!desc) continue;
          const o = seen.get(desc.offset);
          if (o !== undefined) shared = [o, pfn];
          else seen.set(desc.offset, pfn);
        }
        expect(shared).not.toBeNull();
        for (const pfn of shared!) expect(k.readPhys(pfn * 4096, 4096).every((b) => b === 0)).toBe(true);
      });
    }
  });
}

const zd = sharedDump('6.1-skb-uaf-0x106');

describe.skipIf(!zd)(`kdump reader: reads little and bad input fails cleanly${zd ? '' : ` (skipped: ${SKIP_REASON})`}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vmcore-kdump-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const bytes = zd ? new Uint8Array(readFileSync(zd.file)) : new Uint8Array(0);
  const rd: RdEntry[] = zd ? zd.oracleJson('rd.json') : [];
  const good = rd.filter((e) => e.words.length && e.vtop?.physical);
  const pa0 = good.length ? Number(BigInt(good[0].vtop!.physical!)) : 0;

  it('opening and reading VMCOREINFO reads well under 1 MiB; one page costs a descriptor and a data read', () => {
    const src = new NodeFileSource(zd!.file);
    const k = openKdump(src);
    expect(k.vmcoreinfo).toMatch(/^OSRELEASE=/);
    expect(src.stats.bytesRead).toBeLessThan(256 * 1024);
    const before = { ...src.stats };
    // loads the 2nd bitmap (16 KiB here) and the 1st (checked against it, issue 10), then 1
    // descriptor block + 1 data block
    k.readPhys(pa0, 8);
    expect(src.stats.reads - before.reads).toBeLessThanOrEqual(4);
    expect(src.stats.bytesRead - before.bytesRead).toBeLessThan(256 * 1024);
    const mid = { ...src.stats };
    k.readPhys(pa0, 8); // cached page
    expect(src.stats.reads).toBe(mid.reads);
    src.close();
  });

  it('detects the format from the first bytes', () => {
    expect(isKdump(bytes.subarray(0, 16))).toBe(true);
    expect(isFlattened(bytes.subarray(0, 16))).toBe(false);
    expect(isKdump(new TextEncoder().encode('\x7fELF\x02\x01\x01\0'))).toBe(false);
  });

  it('a copy truncated anywhere gives a DumpError at open or MemoryError(truncated) per page, in bounded time', () => {
    const k = openKdump(new BufferSource(bytes));
    const { descOffset, bitmap1Offset, bitmap2Offset } = k.layout;
    const nDesc = k.dumpedPages();
    const cuts = [
      0,
      100, // inside disk_dump_header
      4096 + 50, // inside kdump_sub_header
      4200 + 2000, // inside the ELF notes
      bitmap1Offset + 100, // 1st bitmap
      bitmap2Offset + 100, // 2nd bitmap
      descOffset + 1000, // start of the page_desc table
      descOffset + nDesc * 24 - 100, // end of the page_desc table
      Math.floor(bytes.length / 2), // page data
      bytes.length - 100, // last page's data
    ];
    const t0 = performance.now();
    let opened = 0;
    for (const cut of cuts) {
      const path = join(tmp, `cut-${cut}`);
      writeFileSync(path, bytes.subarray(0, cut));
      const src = new NodeFileSource(path);
      let t: KdumpDump;
      try {
        t = openKdump(src);
      } catch (e) {
        expect(e, `cut at ${cut}`).toBeInstanceOf(DumpError);
        oneLine(e);
        expect(cut, `cut at ${cut}: ${(e as Error).message}`).toBeLessThan(descOffset);
        src.close();
        continue;
      }
      opened++;
      expect(cut, `cut at ${cut} opened`).toBeGreaterThanOrEqual(descOffset);
      let ok = 0;
      let truncated = 0;
      for (const e of good) {
        try {
          expect(words(t.readPhys(Number(BigInt(e.vtop!.physical!)), 256))).toEqual(e.words);
          ok++;
        } catch (err) {
          expect(err, `cut at ${cut}, ${e.address}`).toBeInstanceOf(MemoryError);
          expect((err as MemoryError).kind).toBe('truncated');
          oneLine(err);
          truncated++;
        }
      }
      // every 5th dumped page: data or 'truncated', never another failure
      let i = 0;
      for (const r of t.ranges()) {
        for (let pa = r.start; pa < r.end; pa += 4096) {
          if (!t.hasPage(pa) || i++ % 5) continue;
          try {
            expect(t.readPhys(pa, 4096).length).toBe(4096);
          } catch (err) {
            expect(err).toBeInstanceOf(MemoryError);
            expect((err as MemoryError).kind, `cut at ${cut}, page 0x${pa.toString(16)}`).toBe('truncated');
          }
        }
      }
      if (cut < descOffset + nDesc * 24) expect(ok, `cut at ${cut}`).toBe(0);
      if (cut === bytes.length - 100) expect(ok).toBeGreaterThan(0);
      expect(ok + truncated).toBe(good.length);
      src.close();
    }
    expect(opened).toBe(4);
    expect(performance.now() - t0).toBeLessThan(20000);
  });

  /** A mutated in-memory copy of the dump. */
  function mutated(f: (b: Uint8Array, v: DataView) => void): BufferSource {
    const b = bytes.slice();
    f(b, new DataView(b.buffer));
    return new BufferSource(b, 'mutated');
  }
  function openErr(src: BufferSource): DumpError {
    try {
      openKdump(src);
    } catch (e) {
      expect(e).toBeInstanceOf(DumpError);
      oneLine(e);
      return e as DumpError;
    }
    throw new Error('expected a DumpError');
  }

  it('corrupted header fields give a DumpError naming the field', () => {
    expect(openErr(mutated((_, v) => v.setInt32(428, 0, true))).message).toBe(
      'kdump header: block_size 0 is not a power of two between 512 and 65536',
    );
    expect(openErr(mutated((_, v) => v.setInt32(428, 3000, true))).message).toMatch(/block_size 3000/);
    expect(openErr(mutated((_, v) => v.setInt32(428, 1 << 20, true))).message).toMatch(/block_size 1048576/);
    expect(openErr(mutated((_, v) => v.setUint32(436, 0, true))).message).toMatch(/bitmap_blocks is 0/);
    expect(openErr(mutated((_, v) => v.setUint32(436, 2, true))).message).toMatch(/too small for max_mapnr/);
    expect(openErr(mutated((_, v) => v.setInt32(432, 100000, true))).message).toMatch(/sub_hdr_size/);
    expect(openErr(mutated((_, v) => v.setInt32(432, 5000, true))).message).toMatch(/bitmap runs past end of file \(file truncated at \d+ bytes\?\)/);
    expect(openErr(mutated((_, v) => v.setBigUint64(4096 + 96, 1n << 50n, true))).message).toMatch(/max_mapnr_64/);
    expect(openErr(mutated((_, v) => v.setBigInt64(4096 + 48, -5n, true))).message).toMatch(/offset_note -5/);
    expect(openErr(mutated((_, v) => v.setBigUint64(4096 + 56, 1n << 40n, true))).message).toMatch(/size_note/);
    expect(openErr(mutated((_, v) => v.setBigUint64(4096 + 48, BigInt(bytes.length), true))).message).toMatch(/notes .* run past end of file/);
    expect(openErr(mutated((_, v) => v.setInt32(8, -3, true))).message).toMatch(/header_version -3/);
    // max_mapnr 0 in both the header and the v6 sub header
    expect(
      openErr(
        mutated((_, v) => {
          v.setUint32(440, 0, true);
          v.setBigUint64(4096 + 96, 0n, true);
        }),
      ).message,
    ).toBe('kdump header: max_mapnr is 0');
  });

  it('garbage, an empty file and a bare signature give a DumpError', () => {
    const g = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 23);
    expect(openErr(new BufferSource(g)).message).toMatch(/not a kdump-compressed file/);
    expect(openErr(new BufferSource(new Uint8Array(0))).message).toMatch(/not a kdump-compressed file/);
    expect(openErr(new BufferSource(new TextEncoder().encode('KDUMP   '))).message).toMatch(/header cut short/);
    const flatJunk = new Uint8Array(8192);
    flatJunk.set(new TextEncoder().encode('makedumpfile'));
    expect(openErr(new BufferSource(flatJunk)).message).toMatch(/flattened header: type 0/);
  });

  it('corrupt descriptors and page data give MemoryError corrupt / truncated / not-in-dump', () => {
    const k = openKdump(new BufferSource(bytes));
    const desc = k.pageDescriptor(pa0)!;
    expect(desc.flags).toBe(1); // zlib
    expect(desc.dataLen).toBeLessThan(4096);
    const at = desc.descAt;
    const dataAt = Number(desc.offset);
    const read = (src: BufferSource, kind: string, re?: RegExp) => {
      const e = memErr(() => openKdump(src).readPhys(pa0, 256));
      expect(e.kind).toBe(kind);
      oneLine(e);
      if (re) expect(e.message).toMatch(re);
    };
    // flipped bytes in the compressed data
    read(mutated((b) => (b[dataAt + (desc.dataLen >> 1)] ^= 0x55)), 'corrupt', /page data is corrupt \(zlib/);
    // the descriptor points past the end of the file
    read(mutated((_, v) => v.setBigInt64(at, BigInt(bytes.length - 10), true)), 'truncated');
    // the descriptor points into the headers
    read(mutated((_, v) => v.setBigInt64(at, 100n, true)), 'corrupt', /points to offset 100/);
    // flags naming two codecs, a wrong raw size, a zero size
    read(mutated((_, v) => v.setUint32(at + 12, 3, true)), 'corrupt', /name no single known codec/);
    read(mutated((_, v) => v.setUint32(at + 12, 0, true)), 'corrupt', /bad size/);
    read(mutated((_, v) => v.setUint32(at + 8, 0, true)), 'corrupt', /bad size 0/);
    // a zeroed descriptor: corrupt in a complete dump, not-in-dump in an incomplete one
    read(mutated((b) => b.fill(0, at, at + 24)), 'corrupt', /empty page descriptor/);
    const inc = mutated((b, v) => {
      b.fill(0, at, at + 24);
      v.setUint32(424, v.getUint32(424, true) | 0x8, true);
    });
    const ki = openKdump(inc);
    expect(ki.header.incomplete).toBe(true);
    expect(ki.warnings.join()).toMatch(/incomplete/);
    expect(memErr(() => ki.readPhys(pa0, 8)).kind).toBe('not-in-dump');
  });

  it('random byte corruption of headers, bitmaps and descriptors only ever gives DumpError or MemoryError', () => {
    const { descOffset } = openKdump(new BufferSource(bytes)).layout;
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const t0 = performance.now();
    const kinds = new Map<string, number>();
    for (let iter = 0; iter < 100; iter++) {
      const src = mutated((b) => {
        const where = [464, 4096 + 104, 9200, descOffset, descOffset + 20000 * 24][iter % 5];
        for (let j = 0, n = 1 + rand(8); j < n; j++) b[rand(where)] = rand(256);
      });
      try {
        const k = openKdump(src);
        for (const e of good.slice(0, 10)) {
          try {
            k.readPhys(Number(BigInt(e.vtop!.physical!)), 256);
          } catch (err) {
            if (!(err instanceof MemoryError)) throw err;
            kinds.set(err.kind, (kinds.get(err.kind) ?? 0) + 1);
          }
        }
        k.ranges();
      } catch (err) {
        if (!(err instanceof DumpError)) throw err;
        oneLine(err);
        kinds.set('DumpError', (kinds.get('DumpError') ?? 0) + 1);
      }
    }
    expect(kinds.get('DumpError')).toBeGreaterThan(0);
    expect(performance.now() - t0).toBeLessThan(20000);
  });

  it('a read running past the end of physical memory fails before allocating', () => {
    const k = openKdump(new BufferSource(bytes));
    const e = memErr(() => k.readPhys(pa0, 2 ** 45));
    expect(e.kind).toBe('no-such-memory');
    expect(e.address).toBe(BigInt(k.maxPhys));
  });

  it('the decompressed page cache respects its byte budget', () => {
    const k = openKdump(new BufferSource(bytes), { pageCacheBytes: 64 * 1024 });
    for (const e of good) k.readPhys(Number(BigInt(e.vtop!.physical!)), 256);
    expect(k.cacheStats.pages.bytes).toBeLessThanOrEqual(64 * 1024);
  });
});
