/**
 * Modules and taint (kernel/module/main.c, kernel/panic.c): the loaded modules with their base
 * and size as crash's `mod` shows them, and taint flags named by the kernel's own table
 * (`taint_flags[]`: struct taint_flag {c_true, c_false, module, desc}) read from the dump, so no
 * letter is hard-coded.
 */
import type { Program } from '../kernel/program';
import { listModules, type ModuleInfo } from '../kernel/modules';
import { MemoryError, DumpError } from '../errors';

export interface TaintFlag {
  bit: number;
  letter: string;
  /** the letter when the bit is clear (crash's sys -t shows set bits only) */
  clear: string;
  module: boolean;
  desc: string;
}

/** The kernel's taint_flags[] table (kernel/panic.c), bounded by the symbol after it. */
export function taintFlags(prog: Program): TaintFlag[] {
  const cached = prog.cache.get('module.taintFlags') as TaintFlag[] | undefined;
  if (cached) return cached;
  const out: TaintFlag[] = [];
  const a = prog.symbolAddress('taint_flags');
  const t = prog.findType('struct taint_flag');
  if (a !== undefined && t !== null) {
    const size = prog.sizeof(t);
    // The table's length (TAINT_FLAGS_COUNT) is a macro, in no BTF: it ends where an entry stops
    // looking like one (an upper-case c_true, c_false a space, '-' or 'G'); the kernel has fewer
    // than 32 taint bits. (Bounding it by the next symbol would load the whole symbol table.)
    const max = 32;
    for (let i = 0; i < max; i++) {
      const o = prog.obj(t, a + BigInt(i * size));
      try {
        const c = o.member('c_true').num();
        if (c < 0x41 || c > 0x5a) break; // an upper-case letter, or past the table
        const cf = o.member('c_false').num();
        if (cf !== 0x20 && cf !== 0x2d && cf !== 0x47) break;
        let desc = '';
        if (prog.btf.memberPath(t, 'desc')) desc = o.member('desc').try((x) => x.string(64)) ?? '';
        // `module` (may a module set it) is gone in 7.x's struct taint_flag
        const module = prog.btf.memberPath(t, 'module') ? o.member('module').num() !== 0 : false;
        out.push({ bit: i, letter: String.fromCharCode(c), clear: String.fromCharCode(o.member('c_false').num()), module, desc });
      } catch (e) {
        if (e instanceof MemoryError) break;
        throw e;
      }
    }
  }
  prog.cache.set('module.taintFlags', out);
  return out;
}

/** The letters of the set bits of a taint mask, in bit order ("DOE"); unknown bits as "?". */
export function taintLetters(prog: Program, mask: bigint): string {
  const flags = taintFlags(prog);
  let s = '';
  for (let b = 0; b < 64; b++) {
    if (!((mask >> BigInt(b)) & 1n)) continue;
    s += flags[b]?.letter ?? '?';
  }
  return s;
}

/** tainted_mask (kernel/panic.c). */
export function taintedMask(prog: Program): bigint {
  const a = prog.symbolAddress('tainted_mask');
  if (a === undefined) throw new DumpError('no symbol tainted_mask');
  return prog.mem.u64(a);
}

export interface ModuleRow {
  name: string;
  address: bigint;
  /** core text base (crash's BASE / TEXT_BASE) */
  base: bigint;
  size: number;
  taints: bigint;
  taintLetters: string;
  state?: number;
}

/** Every loaded module as crash's `mod` lists it: by struct module address. */
export function moduleRows(prog: Program): { rows: ModuleRow[]; textBase: boolean; problems: string[] } {
  const problems: string[] = [];
  let mods: ModuleInfo[] = [];
  try {
    mods = listModules(prog);
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
    problems.push(`modules list: ${e.message}`);
  }
  const modT = prog.findType('struct module');
  const memLayout = modT !== null && prog.btf.memberPath(modT, 'mem') !== null;
  const rows: ModuleRow[] = [];
  for (const m of mods) {
    const core = m.regions.filter((r) => !r.kind.startsWith('init'));
    const text = m.regions.find((r) => r.kind === 'text' || r.kind === 'core');
    const size = core.reduce((n, r) => n + Number(r.end - r.start), 0);
    let taints = 0n;
    try {
      if (modT !== null && prog.btf.memberPath(modT, 'taints')) taints = prog.obj(modT, m.address).member('taints').value();
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`${m.name}: taints unreadable: ${e.message}`);
    }
    rows.push({ name: m.name, address: m.address, base: text?.start ?? 0n, size, taints, taintLetters: taintLetters(prog, taints), state: m.state });
  }
  rows.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { rows, textBase: memLayout, problems };
}
