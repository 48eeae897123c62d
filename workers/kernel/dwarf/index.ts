/**
 * DWARF of the Program's vmlinux (a second input, see ../debuginfo.ts): source lines and inlined
 * calls of a kernel address. Dump addresses are run-time (KASLR-relocated); DWARF addresses are
 * link-time: a kernel-image address is moved back by the KASLR offset before the lookup.
 */
import { cacheKey, type Program } from '../program';
import { DumpError } from '../../errors';
import { Vmlinux } from '../debuginfo';
import { Dwarf } from './dwarf';
import { sourceFrames, type SourceFrame } from './inline';
import { variablesAt, type ScopeVariables } from './locals';
import { DebugFrame } from './cfi';
import { ModuleDebug } from './module';

const DWARF_KEY = cacheKey<Dwarf | null>('dwarf');
const CFI_KEY = cacheKey<DebugFrame | null>('dwarf.cfi');

export { Dwarf } from './dwarf';
export type { SourceFrame } from './inline';
export type { ScopeVariables, FrameVariable } from './locals';

const KERNEL_MAP = 0xffffffff80000000n;

/** The DWARF of the Program's vmlinux, or null when no vmlinux with DWARF was given. */
export function programDwarf(prog: Program): Dwarf | null {
  return prog.memo(DWARF_KEY, () => {
    for (const input of prog.debug) {
      if (input instanceof Vmlinux && Dwarf.has(input.elf)) return new Dwarf(input.elf);
    }
    return null;
  });
}

/** Whether any DWARF was given: the vmlinux's or a module's (--module-debug). */
export function hasDwarf(prog: Program): boolean {
  return programDwarf(prog) !== null || prog.debug.some((d) => d instanceof ModuleDebug && d.dwarf !== null);
}

/** The module .ko bound to the module whose text holds a run-time address, or null. */
function moduleDebugAt(prog: Program, addr: bigint): ModuleDebug | null {
  for (const d of prog.debug) if (d instanceof ModuleDebug && d.containsText(addr)) return d;
  return null;
}

/**
 * The DWARF for a run-time address and how to move between the two address spaces: a module's
 * relocated DWARF speaks run-time addresses; the vmlinux's is link-time (KASLR).
 */
function dwarfFor(prog: Program, addr: bigint): { d: Dwarf; link: (a: bigint) => bigint; run: (a: bigint) => bigint; module?: ModuleDebug } | null {
  const m = moduleDebugAt(prog, addr);
  if (m?.dwarf) return { d: m.dwarf, link: (a) => a, run: (a) => a, module: m };
  const d = programDwarf(prog);
  if (!d) return null;
  // a module's address without that module's .ko: the vmlinux's DWARF does not cover it
  if (prog.symbols.lookup(addr)?.sym.module) return null;
  const off = prog.info.kernelOffset;
  return { d, link: (a) => linkAddress(prog, a), run: (a) => (a >= KERNEL_MAP ? BigInt.asUintN(64, a + off) : a) };
}

/** A run-time kernel address as the vmlinux links it. */
export function linkAddress(prog: Program, addr: bigint): bigint {
  return addr >= KERNEL_MAP ? BigInt.asUintN(64, addr - prog.info.kernelOffset) : addr;
}

/**
 * addr2line -i -f of a run-time address: innermost inlined call first, the real function last.
 * `returnAddress`: the pc is a return address (a caller frame): look up pc - 1, the call
 * instruction, as gdb and drgn do. Null when there is no DWARF for the address.
 */
export function sourceAt(prog: Program, pc: bigint, returnAddress = false): SourceFrame[] | null {
  const w = dwarfFor(prog, pc);
  if (!w) return null;
  const d = w.d;
  const a = w.link(pc) - (returnAddress ? 1n : 0n);
  try {
    const f = sourceFrames(d, a) ?? [{ function: null, file: null, line: 0, column: 0, inlined: false }];
    // asm without a DWARF function: the symbol table's name, as addr2line falls back to it
    if (f.length === 1 && f[0].function === null) {
      const h = prog.symbols.lookup(pc - (returnAddress ? 1n : 0n));
      if (h) f[0].function = h.sym.name;
    }
    return f;
  } catch (e) {
    if (!(e instanceof DumpError)) throw e;
    return null; // a damaged unit: no source for this address, the rest keeps working
  }
}

/** The source line of an exact run-time address by gdb's rules (no inlined chain): what crash's dis -l prints. */
export function lineAt(prog: Program, pc: bigint): { file: string; line: number } | null {
  const w = dwarfFor(prog, pc);
  if (!w) return null;
  try {
    const u = w.d.unitFor(w.link(pc));
    const l = u?.lines()?.gdbLookup(w.link(pc));
    return l ? { file: l.file, line: l.line } : null;
  } catch (e) {
    if (!(e instanceof DumpError)) throw e;
    return null;
  }
}

/** "file: line" as crash prints a source line (bt -l, dis -l, sym). */
export function crashLine(f: { file: string | null; line: number }): string {
  return `${f.file ?? '??'}: ${f.line}`;
}

const PT_TO_DWARF: Record<string, number> = {
  ax: 0, dx: 1, cx: 2, bx: 3, si: 4, di: 5, bp: 6, sp: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15, ip: 16,
};

/**
 * Parameters and locals of a frame (innermost inlined function first), null without DWARF for pc.
 * `regs`: the frame's full registers when it came from pt_regs/PRSTATUS; otherwise only `sp` (the
 * frame's stack pointer) and `cfa` (its caller's stack pointer before the call) are known.
 */
export function localsAt(
  prog: Program,
  pc: bigint,
  returnAddress: boolean,
  frame: { regs?: Record<string, bigint>; sp?: bigint; cfa?: bigint; dwarfRegs?: Map<number, bigint> },
): ScopeVariables[] | null {
  const w = dwarfFor(prog, pc);
  if (!w) return null;
  const regs = new Map<number, bigint>(frame.dwarfRegs ?? []);
  if (frame.regs) for (const [k, v] of Object.entries(frame.regs)) if (PT_TO_DWARF[k] !== undefined) regs.set(PT_TO_DWARF[k], v);
  if (!frame.regs && frame.sp !== undefined) regs.set(7, frame.sp);
  try {
    return variablesAt(w.d, w.link(pc) - (returnAddress ? 1n : 0n), { regs, cfa: frame.cfa }, {
      read: (a, n) => prog.mem.tryRead(a, n),
      relocate: w.run,
    });
  } catch (e) {
    if (!(e instanceof DumpError)) throw e;
    return null;
  }
}

/** The vmlinux's .debug_frame CFI (null without one), parsed once. */
export function programCfi(prog: Program): DebugFrame | null {
  return prog.memo(CFI_KEY, () => parseCfi(programDwarf(prog)));
}

function parseCfi(d: Dwarf | null): DebugFrame | null {
  const data = d?.section('.debug_frame');
  if (!data) return null;
  try {
    return new DebugFrame(data);
  } catch (e) {
    if (!(e instanceof DumpError)) throw e;
    return null;
  }
}

/** CFI for a run-time pc and the address its rows are keyed by (a module's .debug_frame, relocated, or the vmlinux's). */
function cfiFor(prog: Program, pc: bigint): { cfi: DebugFrame | null; at: bigint } {
  const m = moduleDebugAt(prog, pc);
  if (m?.dwarf) return { cfi: prog.memo(cacheKey<DebugFrame | null>(`dwarf.cfi.${m.module}`), () => parseCfi(m.dwarf)), at: pc };
  return { cfi: programCfi(prog), at: linkAddress(prog, pc) };
}

const CALLEE_SAVED = [3, 6, 12, 13, 14, 15]; // rbx rbp r12 r13 r14 r15

/**
 * Registers of each frame of a walk (DWARF numbers), innermost first: a frame with pt_regs /
 * PRSTATUS registers has them all; each caller gets the callee-saved registers its callee left
 * unchanged or saved on the stack (.debug_frame rules at the callee's pc, read at the callee's
 * CFA + offset), plus its own stack pointer. Without CFI for a callee, its caller gets none.
 */
export function recoverRegisters(
  prog: Program,
  frames: Array<{ pc: bigint; sp: bigint; regs?: Record<string, bigint>; returnAddress: boolean; cfa?: bigint }>,
): Array<Map<number, bigint>> {
  const out: Array<Map<number, bigint>> = [];
  let next = new Map<number, bigint>();
  for (const f of frames) {
    let cur: Map<number, bigint>;
    if (f.regs) {
      cur = new Map();
      for (const [k, v] of Object.entries(f.regs)) if (PT_TO_DWARF[k] !== undefined) cur.set(PT_TO_DWARF[k], v);
    } else {
      cur = next;
      cur.set(7, f.sp);
    }
    out.push(cur);
    next = new Map();
    const { cfi, at } = cfiFor(prog, f.pc);
    const row = cfi?.rowAt(at - (f.returnAddress ? 1n : 0n));
    if (!row) continue;
    for (const r of CALLEE_SAVED) {
      if (row.undefinedRegs.has(r)) continue;
      const off = row.saved.get(r);
      if (off === undefined) {
        const v = cur.get(r);
        if (v !== undefined) next.set(r, v);
      } else if (f.cfa !== undefined) {
        const b = prog.mem.tryRead(f.cfa + BigInt(off), 8);
        if (b) {
          let v = 0n;
          for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
          next.set(r, v);
        }
      }
    }
  }
  return out;
}
