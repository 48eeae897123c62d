/**
 * ORC unwind tables read from the dump (arch/x86/kernel/unwind_orc.c, asm/orc_types.h).
 *
 * vmlinux: __start_orc_unwind_ip .. __stop_orc_unwind_ip (s32, each relative to its own address)
 * and __start_orc_unwind (struct orc_entry, 6 bytes), sorted at build time. Modules: struct
 * module.arch.{orc_unwind_ip, orc_unwind, num_orcs}, sorted at load time. Lookups are a binary
 * search for the rightmost entry at or below the address (like __orc_find), reading the tables
 * through a small page cache; nothing is read until the first lookup.
 *
 * Entry layouts the kernel has shipped (bits of the 16-bit word after sp_offset and bp_offset):
 *   v1 (4.14 .. 6.2)  sp_reg:4 bp_reg:4 type:2 end:1       types CALL=0 REGS=1 REGS_IRET=2
 *   v2 (6.3)          sp_reg:4 bp_reg:4 type:2 signal:1 end:1
 *   v3 (6.4 ..)       sp_reg:4 bp_reg:4 type:3 signal:1    types UNDEFINED=0 END_OF_STACK=1
 *                                                           CALL=2 REGS=3 REGS_PARTIAL=4
 * The layout is read from the kernel's own BTF (struct orc_entry's bitfields) when present;
 * otherwise it is inferred from the table (the entry at a function's first byte is a CALL with
 * sp = SP+8; bit 11 is only ever set in v2).
 * Register numbers: the classic numbering (UNDEFINED=0 PREV_SP=1 DX=2 DI=3 BP=4 SP=5 R10=6
 * R13=7 BP_INDIRECT=8 SP_INDIRECT=9, AX=10 added in 7.0) and the 7.1 renumbering (UNDEFINED=0
 * AX=1 DX=2 SP=3 BP=4 DI=5 R10=6 R13=7 PREV_SP=8 SP_INDIRECT=9 BP_INDIRECT=10) are told apart from
 * the data: the most frequent sp_reg of CALL entries is SP and the most frequent defined bp_reg
 * is PREV_SP.
 */
import { MemoryError, DumpError } from '../errors';
import { u16, u32 } from '../bytes';
import { cacheKey, type Program } from '../kernel/program';
import { listModules } from '../kernel/modules';
import { floorIndex } from '../sorted';

const ORC_INDEX_KEY = cacheKey<OrcIndex>('orc.index');

export type OrcReg =
  | 'undefined'
  | 'prev_sp'
  | 'dx'
  | 'di'
  | 'bp'
  | 'sp'
  | 'r10'
  | 'r13'
  | 'bp_indirect'
  | 'sp_indirect'
  | 'ax'
  | 'unknown';
export type OrcType = 'undefined' | 'end' | 'call' | 'regs' | 'regs_partial' | 'unknown';

export interface OrcEntry {
  spOffset: number;
  bpOffset: number;
  spReg: OrcReg;
  bpReg: OrcReg;
  type: OrcType;
  /** the next frame's ip is an interrupted ip (no -1 on lookup) */
  signal: boolean;
}

export interface OrcLayout {
  version: 1 | 2 | 3;
  /** how the version was found */
  from: 'btf' | 'data';
  numbering: 'classic' | '7.1';
}

const CLASSIC: OrcReg[] = ['undefined', 'prev_sp', 'dx', 'di', 'bp', 'sp', 'r10', 'r13', 'bp_indirect', 'sp_indirect', 'ax'];
const RENUMBERED: OrcReg[] = ['undefined', 'ax', 'dx', 'sp', 'bp', 'di', 'r10', 'r13', 'prev_sp', 'sp_indirect', 'bp_indirect'];

/** Decode the 6 bytes of a struct orc_entry under a layout. */
export function decodeOrc(b: Uint8Array, o: number, layout: OrcLayout): OrcEntry {
  const spOffset = (u16(b, o) << 16) >> 16;
  const bpOffset = (u16(b, o + 2) << 16) >> 16;
  const f = u16(b, o + 4);
  const regs = layout.numbering === 'classic' ? CLASSIC : RENUMBERED;
  const spReg = regs[f & 0xf] ?? 'unknown';
  const bpReg = regs[(f >> 4) & 0xf] ?? 'unknown';
  let type: OrcType;
  let signal: boolean;
  if (layout.version === 3) {
    type = (['undefined', 'end', 'call', 'regs', 'regs_partial'] as const)[(f >> 8) & 7] ?? 'unknown';
    signal = !!(f & 0x800);
  } else {
    const t = (f >> 8) & 3;
    const end = layout.version === 1 ? !!(f & 0x400) : !!(f & 0x800);
    type = (['call', 'regs', 'regs_partial'] as const)[t] ?? 'unknown';
    // before 6.3 the unwinder treated every regs frame as a signal frame
    signal = layout.version === 2 ? !!(f & 0x400) : t === 1 || t === 2;
    if (spReg === 'undefined') type = end ? 'end' : 'undefined';
  }
  return { spOffset, bpOffset, spReg, bpReg, type, signal };
}

/** ip==0: a call through a NULL pointer (unwind_orc.c null_orc_entry). */
export const NULL_ORC: OrcEntry = { spOffset: 8, bpOffset: 0, spReg: 'sp', bpReg: 'undefined', type: 'call', signal: false };
/** The frame-pointer guess used where no ORC covers the ip (unwind_orc.c orc_fp_entry). */
export const FP_ORC: OrcEntry = { spOffset: 16, bpOffset: -16, spReg: 'bp', bpReg: 'prev_sp', type: 'call', signal: false };

/** One sorted pair of tables (vmlinux or one module). */
export class OrcTable {
  private pages = new Map<bigint, Uint8Array | null>();
  constructor(
    readonly prog: Program,
    readonly name: string,
    /** address of the s32 ip table */
    readonly ipTable: bigint,
    /** address of the struct orc_entry table */
    readonly orcTable: bigint,
    readonly count: number,
  ) {}

  private bytes(addr: bigint, len: number): Uint8Array {
    const page = addr & ~0xfffn;
    const off = Number(addr - page);
    if (off + len > 4096) return this.prog.mem.read(addr, len);
    let p = this.pages.get(page);
    if (p === undefined) {
      p = this.prog.mem.tryRead(page, 4096);
      if (this.pages.size > 4096) this.pages.clear();
      this.pages.set(page, p);
    }
    if (!p) return this.prog.mem.read(addr, len); // throws the MemoryError
    return p.subarray(off, off + len);
  }

  /** The absolute ip of entry i. */
  ip(i: number): bigint {
    const a = this.ipTable + BigInt(i * 4);
    const rel = u32(this.bytes(a, 4), 0) | 0;
    return BigInt.asUintN(64, a + BigInt(rel));
  }

  rawEntry(i: number): Uint8Array {
    return this.bytes(this.orcTable + BigInt(i * 6), 6);
  }

  /** Index of the rightmost entry with ip <= addr, or -1 (unwind_orc.c __orc_find). */
  find(addr: bigint, lo = 0, hi = this.count - 1): number {
    return floorIndex(hi + 1, (i) => this.ip(i), addr, lo);
  }
}

export interface OrcIndex {
  layout: OrcLayout;
  vmlinux: OrcTable | null;
  modules: Array<{ name: string; start: bigint; end: bigint; table: OrcTable }>;
  /** why something is missing (no tables, a module without ORC) */
  notes: string[];
}

/** The ORC tables of the kernel and its modules, read on first use. */
export function orcIndex(prog: Program): OrcIndex {
  const cached = prog.recall(ORC_INDEX_KEY);
  if (cached) return cached;
  const notes: string[] = [];
  let vmlinux: OrcTable | null = null;
  const s = prog.symbolAddress('__start_orc_unwind_ip');
  const e = prog.symbolAddress('__stop_orc_unwind_ip');
  const u = prog.symbolAddress('__start_orc_unwind');
  if (s !== undefined && e !== undefined && u !== undefined && e > s) {
    vmlinux = new OrcTable(prog, 'vmlinux', s, u, Number((e - s) / 4n));
  } else {
    notes.push('the kernel has no ORC tables (__start_orc_unwind_ip): built without CONFIG_UNWINDER_ORC; using frame pointers');
  }
  const modules: OrcIndex['modules'] = [];
  let mods: ReturnType<typeof listModules> = [];
  try {
    mods = listModules(prog);
  } catch (err) {
    if (!(err instanceof MemoryError || err instanceof DumpError)) throw err;
    notes.push(`module list unreadable: ${err.message}`);
  }
  for (const m of mods) {
    try {
      const arch = prog.obj('struct module', m.address).member('arch');
      const ip = arch.member('orc_unwind_ip').ptr();
      const orc = arch.member('orc_unwind').ptr();
      const n = arch.member('num_orcs').num();
      if (!ip || !orc || n <= 0 || n > 10_000_000) {
        notes.push(`module ${m.name} has no ORC tables`);
        continue;
      }
      const table = new OrcTable(prog, m.name, ip, orc, n);
      for (const r of m.regions) modules.push({ name: m.name, start: r.start, end: r.end, table });
    } catch (err) {
      if (!(err instanceof MemoryError || err instanceof DumpError)) throw err;
      notes.push(`module ${m.name}: ORC unreadable (${err.message})`);
    }
  }
  const idx: OrcIndex = { layout: detectLayout(prog, vmlinux), vmlinux, modules, notes };
  prog.remember(ORC_INDEX_KEY, idx);
  return idx;
}

/** The ORC entry layout of this kernel (see the file comment). */
export function detectLayout(prog: Program, table: OrcTable | null, opts: { useBtf?: boolean } = {}): OrcLayout {
  let version: 1 | 2 | 3 | null = null;
  let from: OrcLayout['from'] = 'btf';
  const id = opts.useBtf !== false && prog.hasBtf ? prog.findType('struct orc_entry') : null;
  if (id !== null) {
    const ms = prog.btf.members(id);
    const type = ms.find((m) => m.name === 'type');
    const hasSignal = ms.some((m) => m.name === 'signal');
    const hasEnd = ms.some((m) => m.name === 'end');
    if (type?.bitSize === 3 && hasSignal && !hasEnd) version = 3;
    else if (type?.bitSize === 2 && hasSignal && hasEnd) version = 2;
    else if (type?.bitSize === 2 && hasEnd) version = 1;
  }
  // Register numbering, and the version when BTF did not say: a histogram over a sample.
  const spHist = new Array(16).fill(0);
  const bpHist = new Array(16).fill(0);
  let bit11 = 0;
  let bit10Defined = 0;
  let callAtStartV3 = 0;
  let callAtStartV1 = 0;
  if (table && table.count > 0) {
    // a sample of consecutive runs spread over the table (few pages read)
    // (without BTF the version needs the rare entry-code entries: read the whole table)
    const runs = version === null ? 1 : 16;
    const per = version === null ? Math.min(table.count, 4_000_000) : 64;
    const idxs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const base = Math.floor((table.count * r) / runs);
      for (let k = 0; k < per && base + k < table.count; k++) idxs.push(base + k);
    }
    for (const i of idxs) {
      const b = tryRaw(table, i);
      if (!b) continue;
      const f = u16(b, 4);
      if (f & 0x800) bit11++;
      // v2's signal bit (10) on an entry with a defined sp_reg; in v1 bit 10 is `end`, which
      // only ever comes with sp_reg UNDEFINED
      if (f & 0x400 && (f & 0xf) !== 0 && ((f >> 8) & 3) !== 0) bit10Defined++;
      spHist[f & 0xf]++;
      bpHist[(f >> 4) & 0xf]++;
    }
    // entries at function starts: CALL with sp_offset 8 (only needed without BTF)
    const syms = version !== null ? [] : prog.symbols.all().filter((x) => x.type === 'T' || x.type === 't');
    const sstep = Math.max(1, Math.floor(syms.length / 200));
    for (let i = 0; i < syms.length; i += sstep) {
      const k = table.find(syms[i].address);
      if (k < 0 || table.ip(k) !== syms[i].address) continue;
      const b = tryRaw(table, k);
      if (!b) continue;
      const f = u16(b, 4);
      if (((b[0] | (b[1] << 8)) << 16) >> 16 !== 8) continue;
      if (((f >> 8) & 7) === 2) callAtStartV3++;
      if (((f >> 8) & 3) === 0) callAtStartV1++;
    }
  }
  if (version === null) {
    from = 'data';
    if (callAtStartV3 > callAtStartV1) version = 3;
    else version = bit11 > 0 || bit10Defined > 0 ? 2 : 1;
  }
  // the SP register is the most frequent sp_reg; classic SP=5, renumbered SP=3
  const numbering: OrcLayout['numbering'] = spHist[3] > spHist[5] && bpHist[8] >= bpHist[1] ? '7.1' : 'classic';
  return { version, from, numbering };
}

function tryRaw(t: OrcTable, i: number): Uint8Array | null {
  try {
    return t.rawEntry(i);
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
}

export interface OrcHit {
  entry: OrcEntry;
  table: string;
  index: number;
}

/** The ORC entry covering ip (unwind_orc.c orc_find), or null when no table covers it. */
export function orcFind(prog: Program, ip: bigint): OrcHit | null {
  if (ip === 0n) return { entry: NULL_ORC, table: 'null', index: -1 };
  const idx = orcIndex(prog);
  const mod = idx.modules.find((m) => ip >= m.start && ip < m.end);
  let table: OrcTable | null = null;
  if (mod) table = mod.table;
  else if (idx.vmlinux && prog.symbols.regionOf(ip)?.module === undefined && prog.symbols.regionOf(ip)) table = idx.vmlinux;
  if (!table) return null;
  let i: number;
  try {
    i = table.find(ip);
    if (i < 0) return null;
    // past the last entry of a module: only if the address is inside the module (checked above)
    return { entry: decodeOrc(table.rawEntry(i), 0, idx.layout), table: table.name, index: i };
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
}
