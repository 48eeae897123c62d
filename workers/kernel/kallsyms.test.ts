import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { NodeFileSource } from '../source/node';
import { openProgram, Program, SYMBOL_LOADERS } from '../engine';
import { zeroedPhys } from '../testing/patched';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { readKallsyms, KallsymsNameIndex } from './kallsyms';
import type { KernelMemory } from './memory';
import { VmcoreInfo } from './vmcoreinfo';

/**
 * The kallsyms address encoding is detected, never assumed: whichever the data has must give every
 * VMCOREINFO SYMBOL() that kallsyms names its address (6.1/6.12: offsets + kallsyms_relative_base;
 * 7.2: place-relative offsets, relative_base gone, the case that came out 4 GiB low).
 */
describe('kallsyms address encoding, checked against VMCOREINFO', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const prog = openDumpFile(d!.file);
      const k = readKallsyms(prog.mem, prog.info);
      // Before 6.0 VMCOREINFO names no kallsyms table at all (the finder locates them; 5.10 uses
      // offsets + relative base); from 6.0 a missing kallsyms_relative_base means place-relative.
      const fromInfo = prog.info.symbol('kallsyms_names') !== undefined;
      const want = fromInfo && prog.info.symbol('kallsyms_relative_base') === undefined ? 'place-relative' : expect.stringMatching(/^(absolute-percpu|relative)$/);
      expect(k.encoding).toEqual(want);
      let checked = 0;
      for (const key of prog.info.entries.keys()) {
        const m = /^SYMBOL\((\w+)\)$/.exec(key);
        const i = m ? k.names.indexOf(m[1]) : -1;
        if (i < 0) continue;
        // VMCOREINFO also gives values under SYMBOL() (mem_section: the array the pointer holds)
        const stext = prog.info.symbol('_stext')!;
        const v = prog.info.symbol(m![1])!;
        if (v < stext - (1n << 30n) || v > stext + (1n << 30n)) continue;
        expect(`${m![1]} 0x${k.addrs[i].toString(16)}`).toBe(`${m![1]} 0x${prog.info.symbol(m![1])!.toString(16)}`);
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(4);
      // the name index decodes the same way
      const idx = new KallsymsNameIndex(prog.mem, prog.info);
      expect(idx.address('panic')).toBe(k.addrs[k.names.indexOf('panic')]);
      expect(idx.encoding).toBe(k.encoding);
    }, 60_000);
  }
});

/**
 * Name lookups: the kernel's own sorted index (kallsyms_seqs_of_names, 6.2, and backported) where it is,
 * else the hash of every name; both give every entry of a name, in kallsyms order, and nothing for
 * a name that is not there.
 */
describe('kallsyms name lookup: kallsyms_seqs_of_names against the hash of every name', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const prog = openDumpFile(d!.file);
      const k = readKallsyms(prog.mem, prog.info);
      const idx = new KallsymsNameIndex(prog.mem, prog.info);
      const hashed = new KallsymsNameIndex(prog.mem, prog.info, { hashOnly: true });
      // Debian's 6.1.y carries the table (backported from 6.2); these 5.10, 6.12 and 7.2 builds
      // do not: their kallsyms_markers end where the token table starts
      expect(idx.lookup).toBe(name.startsWith('6.1-') ? 'seqs_of_names' : 'hash');
      expect(hashed.lookup).toBe('hash');
      // every 97th name (duplicates such as __pfx_* and static names among them), names that are
      // not there, and the ends of the sort order
      const sample = k.names.filter((_, i) => i % 97 === 0);
      sample.push('', 'no_such_symbol_at_all', '~~~', '\u0001', 'panic', '_stext', 'init_task', '__per_cpu_start');
      for (const n of sample) {
        const want = k.names.flatMap((x, i) => (x === n ? [i] : []));
        expect(`${n}: ${idx.indexes(n).join(',')}`).toBe(`${n}: ${want.join(',')}`);
        expect(hashed.indexes(n)).toEqual(want);
      }
    }, 120_000);
  }
});

describe('a damaged kallsyms_seqs_of_names is not searched', () => {
  const d = sharedDump('6.1-sysrq-kaslr');
  it.skipIf(!d)(`3 bytes zeroed in its middle: the names are hashed instead, every lookup still right${d ? '' : ` (${SKIP_REASON})`}`, () => {
    const base = openProgram(new NodeFileSource(d!.file));
    const good = new KallsymsNameIndex(base.mem, base.info);
    expect(good.lookup).toBe('seqs_of_names');
    // bulk.wat checks the table (ks_seqs) where the names lie in an arena; the JavaScript loop the same
    expect(new KallsymsNameIndex(base.mem, base.info, { js: true }).lookup).toBe('seqs_of_names');
    const num = base.mem.u32(base.info.symbol('kallsyms_num_syms')!);
    // the table ends where the token table starts (8-aligned): its middle entry
    const seqsAt = (base.info.symbol('kallsyms_token_table')! - BigInt(3 * num)) & ~7n;
    const mid = seqsAt + BigInt(3 * (num >> 1));
    const pa = base.arch.vtop(mid);
    const prog = new Program(base.src, zeroedPhys(base.phys, pa, 3), SYMBOL_LOADERS);
    expect(prog.mem.read(mid, 3)).toEqual(new Uint8Array(3));
    const idx = new KallsymsNameIndex(prog.mem, prog.info);
    expect(idx.lookup).toBe('hash');
    expect(new KallsymsNameIndex(prog.mem, prog.info, { js: true }).lookup).toBe('hash');
    const k = readKallsyms(base.mem, base.info);
    for (let i = 0; i < k.names.length; i += 211) expect(idx.indexes(k.names[i])[0], k.names[i]).toBe(k.names.indexOf(k.names[i]));
  });
});

/** A tiny in-memory kernel: kallsyms tables at fixed addresses, offsets in the given encoding. */
function fakeKernel(placeRelative: boolean) {
  const base = 0xffffffff81000000n;
  const mem = new Map<bigint, number>();
  const put = (a: bigint, bytes: number[]) => bytes.forEach((b, i) => mem.set(a + BigInt(i), b));
  const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  // tokens: token t is the single character String.fromCharCode(t) (0 unused)
  const tokTable = base + 0x10000n;
  const tokIndex = base + 0x11000n;
  const tbl: number[] = [];
  const idx: number[] = [];
  for (let t = 0; t < 256; t++) {
    idx.push(tbl.length & 0xff, tbl.length >> 8);
    tbl.push(t, 0);
  }
  put(tokTable, tbl);
  put(tokIndex, idx);
  const syms: Array<[string, bigint]> = [
    ['T_stext', base],
    ['Tpanic', base + 0x1234n],
    ['Dinit_uts_ns', base + 0x2000000n],
    ['Bswapper_pg_dir', base + 0x3000000n],
  ];
  const names = base + 0x20000n;
  const bytes: number[] = [];
  for (const [n] of syms) bytes.push(n.length, ...[...n].map((c) => c.charCodeAt(0)));
  put(names, bytes);
  const num = base + 0x1fff0n;
  put(num, le32(syms.length));
  const offsets = base + 0x30000n;
  syms.forEach(([, a], i) => put(offsets + BigInt(i * 4), le32(Number(BigInt.asIntN(32, placeRelative ? a - (offsets + BigInt(i * 4)) : a - base)))));
  const info = new VmcoreInfo(
    [
      `SYMBOL(kallsyms_names)=${names.toString(16)}`,
      `SYMBOL(kallsyms_num_syms)=${num.toString(16)}`,
      `SYMBOL(kallsyms_token_table)=${tokTable.toString(16)}`,
      `SYMBOL(kallsyms_token_index)=${tokIndex.toString(16)}`,
      `SYMBOL(kallsyms_offsets)=${offsets.toString(16)}`,
      `SYMBOL(_stext)=${base.toString(16)}`,
      `SYMBOL(init_uts_ns)=${(base + 0x2000000n).toString(16)}`,
      `SYMBOL(swapper_pg_dir)=${(base + 0x3000000n).toString(16)}`,
    ].join('\n'),
  );
  const read = (a: bigint, n: number) => Uint8Array.from({ length: n }, (_, i) => mem.get(a + BigInt(i)) ?? 0);
  const km = {
    read,
    u32: (a: bigint) => new DataView(read(a, 4).buffer).getUint32(0, true),
    u64: (a: bigint) => new DataView(read(a, 8).buffer).getBigUint64(0, true),
  } as unknown as KernelMemory;
  return { km, info, syms };
}

describe('kallsyms encodings on hand-built tables', () => {
  it('place-relative offsets (6.15+): every symbol at its address, not only _stext', () => {
    const { km, info, syms } = fakeKernel(true);
    const k = readKallsyms(km, info);
    expect(k.encoding).toBe('place-relative');
    expect(k.names).toEqual(syms.map(([n]) => n.slice(1)));
    expect([...k.addrs]).toEqual(syms.map(([, a]) => a));
    expect(new KallsymsNameIndex(km, info).address('swapper_pg_dir')).toBe(syms[3][1]);
  });
  it('offsets from _stext (relative_base gone, not place-relative): the _stext-implied base, confirmed by other symbols', () => {
    const { km, info, syms } = fakeKernel(false);
    const k = readKallsyms(km, info);
    expect(k.encoding).toBe('relative');
    expect([...k.addrs]).toEqual(syms.map(([, a]) => a));
  });
  it('an encoding that fits _stext only is refused', () => {
    const { km, info } = fakeKernel(true);
    // VMCOREINFO disagrees with every decoding for init_uts_ns: no encoding may be chosen
    const bad = new VmcoreInfo(info.raw.replace(/SYMBOL\(init_uts_ns\)=\w+/, 'SYMBOL(init_uts_ns)=ffffffff9999f000'));
    expect(() => readKallsyms(km, bad)).toThrow(/no known address encoding/);
  });
});
