/**
 * `bt [-a] [-f] [-t] [pid|task ...]`: backtraces from the kernel's own ORC data, in crash's layout
 * (crash's bt-a.txt):
 *
 *   PID: 120      TASK: ffff888006210000  CPU: 0    COMMAND: "insmod"
 *    #0 [ffffc90000443998] delay_tsc at ffffffff819f77a3
 *    ...
 *    #5 [ffffc90000443ae0] asm_exc_page_fault at ffffffff81c00c02
 *       [exception RIP: skb_release_data+285]
 *       RIP: ffffffff817c0c2d  RSP: ffffc90000443b90  RFLAGS: 00000206
 *       ...
 *
 * With no argument: the panic task. -a: each CPU's active task. -f: the stack words of each
 * frame. -t: every kernel text address on the stack (crash's heuristic listing, stale return
 * addresses included). The frames are the ORC unwinder's (workers/analysis/unwind.ts): unlike
 * crash's stack scan they hold no stale addresses, and they include frames crash skips
 * (delay_tsc under panic). Names follow the kernel's oops (skb_uaf_init+0x299 [skb_uaf]).
 *
 * JSON: [{task, pid, comm, cpu, frames: [{level, sp, pc, symbol, offset, module, exception}],
 * stopped}] where sp is the bracketed stack address, offset is decimal, exception is the
 * register object ({RIP, RSP, RFLAGS, RAX, ...}) for an exception frame (user: true for the
 * user-mode entry registers), and a walk that ended early has a last frame with `stopped`.
 */
import { registerCommand, parseFlags, checkCancel, CommandError } from './registry';
import { taskList, panicTask, activeTasks, type TaskInfo } from '../analysis/tasks';
import { unwindTask, stackTextAddresses, taskStacks, searchExceptionFrames, processStack, stackWordsOf, checkStackEnds, cpuStacks, type Unwind, type Frame, type Regs, type FoundExceptionFrame } from '../analysis/unwind';
import { slabObjectInfo } from '../analysis/slab';
import { listModules } from '../kernel/modules';
import { kernelImageLayout } from '../kernel/layout';
import type { Program } from '../kernel/program';
import type { SymHit } from '../kernel/symbols';
import { hasDwarf, sourceAt, crashLine, lineAt, localsAt, recoverRegisters, type SourceFrame, type ScopeVariables } from '../kernel/dwarf/index';

const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

export function btHeader(t: TaskInfo): string {
  return `PID: ${String(t.pid).padEnd(8)} TASK: ${hex16(t.task)}  CPU: ${String(t.cpu).padEnd(4)} COMMAND: "${t.comm}"`;
}

/**
 * The "[exception RIP: ...]" name as crash prints it: decimal offset, no module suffix, and for
 * module symbols the compiler's clone suffixes (.isra.N, .part.N, .llvm.N) stripped as crash
 * stores module kallsyms ("walk_ring.isra.0" -> "walk_ring+12").
 */
function symDec(h: SymHit | null, pc: bigint): string {
  if (!h) return hex16(pc);
  let name = h.sym.name;
  const off = h.offset;
  if (h.sym.module) {
    const m = /^(.+?)\.(isra|part|llvm)\.\d+$/.exec(name);
    if (m) name = m[1];
  }
  return `${name}${off ? `+${off}` : ''}`;
}

/** crash's register block (without the "[exception RIP: ...]" line). */
export function formatRegs(r: Regs, withOrigRax = true): string[] {
  const e = (n: string, v: bigint, w = 16) => `${/^R\d$/.test(n) ? ' ' + n : n}: ${v.toString(16).padStart(w, '0')}`;
  const rows = [
    [e('RIP', r.ip), e('RSP', r.sp), e('RFLAGS', r.flags, 8)],
    [e('RAX', r.ax), e('RBX', r.bx), e('RCX', r.cx)],
    [e('RDX', r.dx), e('RSI', r.si), e('RDI', r.di)],
    [e('RBP', r.bp), e('R8', r.r8), e('R9', r.r9)],
    [e('R10', r.r10), e('R11', r.r11), e('R12', r.r12)],
    [e('R13', r.r13), e('R14', r.r14), e('R15', r.r15)],
    [...(withOrigRax ? [e('ORIG_RAX', r.orig_ax)] : []), e('CS', r.cs, 4), e('SS', r.ss, 4)],
  ];
  return rows.map((row) => '    ' + row.join('  '));
}

/** The register object of the JSON output (crash's names, "0x..." values). */
export function regsJson(r: Regs): Record<string, string> {
  const h = (v: bigint) => '0x' + v.toString(16);
  return {
    RIP: h(r.ip), RSP: h(r.sp), RFLAGS: h(r.flags), RAX: h(r.ax), RBX: h(r.bx), RCX: h(r.cx), RDX: h(r.dx),
    RSI: h(r.si), RDI: h(r.di), RBP: h(r.bp), R8: h(r.r8), R9: h(r.r9), R10: h(r.r10), R11: h(r.r11),
    R12: h(r.r12), R13: h(r.r13), R14: h(r.r14), R15: h(r.r15), ORIG_RAX: h(r.orig_ax), CS: h(r.cs), SS: h(r.ss),
  };
}

interface Shown {
  frame: Frame;
  /** printed as a register block (exception frame, PRSTATUS start, user entry) */
  block: 'exception' | 'user' | 'prstatus' | null;
  level: number;
}

/**
 * Decide how each frame is shown and number them as crash does. An exception frame whose pt_regs
 * are on an exception stack (NMI, #DB, #MC, #DF: the CPU switched stacks to take it) is followed,
 * as in crash, by the interrupted function as a frame of its own at the interrupted RSP, after
 * the "--- <NMI exception stack> ---" marker.
 */
function layout(u: Unwind, isPanic: boolean, stackName: (a: bigint) => string | null = () => null): Shown[] {
  const out: Shown[] = [];
  let n = 0;
  u.frames.forEach((f, i) => {
    if (i === 0 && f.prstatus && f.user) out.push({ frame: f, block: 'user', level: 0 });
    else if (i === 0 && f.prstatus && !isPanic) out.push({ frame: f, block: 'prstatus', level: 0 });
    else if (i > 0 && f.regs && f.user) out.push({ frame: f, block: 'user', level: Math.max(0, n - 1) });
    else if (i > 0 && f.regs) {
      out.push({ frame: f, block: 'exception', level: Math.max(0, n - 1) });
      const at = f.regsAddress !== undefined ? stackName(f.regsAddress) : null;
      const to = stackName(f.sp);
      if (at && to && at !== to && / exception stack$/.test(at)) {
        const { regs: _r, regsAddress: _a, ...rest } = f;
        out.push({ frame: { ...rest, slot: f.sp, stack: to, interrupted: true }, block: null, level: n++ });
      }
    } else out.push({ frame: f, block: null, level: n++ });
  });
  return out;
}

function frameLine(s: Shown, symOffsets = false, hexOffsets = false): string {
  const f = s.frame;
  const mod = f.sym?.sym.module ? ` [${f.sym.sym.module}]` : '';
  // -s: symbol+decimal offset, as crash's bt -s; -sx: hexadecimal (crash's bt -sx)
  const off = f.sym?.offset ? (hexOffsets ? `+0x${f.sym.offset.toString(16)}` : `+${f.sym.offset}`) : '';
  const name = f.sym ? (symOffsets ? `${f.sym.sym.name}${off}` : f.sym.sym.name) : hex16(f.pc);
  return `${('#' + s.level).padStart(3)} [${f.slot.toString(16)}] ${name} at ${f.pc.toString(16)}${mod}`;
}

/**
 * How a stack word is shown by bt -F/-FF and bt -r (crash's layout: 16 columns, left-aligned):
 * a readable address inside the kernel image or a module is "symbol+offset" (decimal); with
 * `slab`, a readable address in a slab page is "[cache]" (-F) or "[address:cache]" (-FF), from
 * the same slab lookup as kmem/whatis ADDR (slabObjectInfo); anything else is the hex word.
 */
export function symbolicWord(prog: Program, v: bigint, slab: 0 | 1 | 2): string {
  const hex = hex16(v);
  if (v < 0xffff800000000000n || !prog.mem.tryRead(v, 1)) return hex;
  const { start: text, end } = kernelImageLayout(prog);
  const hit = prog.symbols.lookup(v);
  const inModule = (mod: string) => listModules(prog).some((m) => m.name === mod && m.regions.some((r) => v >= r.start && v < r.end));
  if (hit && (hit.sym.module ? inModule(hit.sym.module) : text !== undefined && end !== undefined && v >= text && v <= end)) {
    return (hit.offset ? `${hit.sym.name}+${hit.offset}` : hit.sym.name).padEnd(16);
  }
  if (slab) {
    const so = slabObjectInfo(prog, v);
    if (so) return (slab === 2 ? `[${v.toString(16)}:${so.cache.name}]` : `[${so.cache.name}]`).padEnd(16);
  }
  return hex;
}

/** Stack words [from, to), two a line as crash's bt -f (symbolic with -F: see symbolicWord). */
function stackWords(prog: Program, from: bigint, to: bigint, slab: 0 | 1 | 2 = 0, symbolic = false): string[] {
  const out: string[] = [];
  if (to <= from) return out;
  const n = Math.min(Number((to - from) / 8n), 1024);
  const b = prog.mem.tryRead(from, n * 8);
  if (!b) return [`    ${from.toString(16)}: (not readable)`];
  for (let i = 0; i < n; i += 2) {
    const words: string[] = [];
    for (let j = i; j < Math.min(i + 2, n); j++) {
      let v = 0n;
      for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[j * 8 + k]);
      words.push(symbolic ? symbolicWord(prog, v, slab) : hex16(v));
    }
    out.push(`    ${(from + BigInt(i * 8)).toString(16)}: ${words.join(' ')} `);
  }
  return out;
}

export interface BtOptions {
  frames?: boolean; // -f
  /** -F (1) / -FF (2): frame data symbolic, slab objects by cache name (-FF: with the address) */
  symbolic?: 0 | 1 | 2;
  hexOffsets?: boolean; // -x (with -s)
  /** -T: text symbols from the bottom of the stack instead of from the first frame (-t) */
  allText?: boolean;
  text?: boolean; // -t
  /** -l: crash's source line of each frame's pc (gdb's line table at the exact address) */
  lines?: boolean;
  /** --inline: the calls inlined at each frame's pc and the call's own line (pc - 1 for a return address) */
  inline?: boolean;
  locals?: boolean; // --locals
  symOffsets?: boolean; // -s
}

/**
 * Parameters and locals of every frame (see kernel/dwarf/locals.ts): the CFA of a frame is its
 * caller's sp; registers are recovered frame by frame from .debug_frame (recoverRegisters).
 */
function walkLocals(prog: Program, u: Unwind): Map<Frame, ScopeVariables[] | null> {
  const refs = u.frames.map((f, i) => ({ pc: f.pc, sp: f.sp, regs: f.regs, returnAddress: !(f.regs || f.prstatus), cfa: u.frames[i + 1]?.sp }));
  const regs = recoverRegisters(prog, refs);
  const out = new Map<Frame, ScopeVariables[] | null>();
  u.frames.forEach((f, i) => {
    if (f.user) return;
    out.set(f, localsAt(prog, f.pc, refs[i].returnAddress, { regs: f.regs, cfa: refs[i].cfa, dwarfRegs: regs[i] }));
  });
  return out;
}

function localLines(scopes: ScopeVariables[] | null): string[] {
  if (!scopes) return [];
  const out: string[] = [];
  for (const s of scopes) {
    if (!s.variables.length) continue;
    out.push(`      ${s.inlined ? '[inlined] ' : ''}${s.function ?? '??'}:`);
    for (const v of s.variables) {
      const val = v.unavailable
        ? `<${v.unavailable}>`
        : v.value !== undefined
          ? '0x' + v.value.toString(16)
          : v.address !== undefined
            ? `at 0x${v.address.toString(16)}`
            : '?';
      out.push(`        ${v.kind === 'parameter' ? 'param ' : ''}${v.type} ${v.name} = ${val}`);
    }
  }
  return out;
}

function localsJson(scopes: ScopeVariables[] | null) {
  if (!scopes) return null;
  const h = (v: bigint | undefined) => (v === undefined ? undefined : '0x' + v.toString(16));
  return scopes.map((s) => ({
    function: s.function,
    inlined: s.inlined,
    variables: s.variables.map((v) => ({ name: v.name, kind: v.kind, type: v.type, size: v.size, value: h(v.value), address: h(v.address), register: v.register, unavailable: v.unavailable })),
  }));
}

/**
 * Source of a frame from the vmlinux's DWARF (null without one): the pc of a frame that came from
 * registers (an exception frame, the CPU's PRSTATUS) is exact; any other pc is a return address,
 * looked up at pc - 1 (the call), as gdb and drgn do.
 */
function frameSource(prog: Program, f: Frame): SourceFrame[] | null {
  return sourceAt(prog, f.pc, !(f.regs || f.prstatus || f.interrupted));
}

/**
 * bt -l as crash prints it: the line of the frame's exact pc from the line table (gdb's
 * get_line_number: the innermost inlined line, no pc - 1 for return addresses); none for module
 * text (no module debug info) or an address without a line.
 */
function crashSourceLine(prog: Program, f: Frame): string[] {
  if (f.sym?.sym.module) return [];
  const l = lineAt(prog, f.pc);
  return l ? [`    ${crashLine(l)}`] : [];
}

/** bt --inline lines under a frame: its inlined calls (innermost first), then its own source line. */
function sourceLines(src: SourceFrame[] | null): string[] {
  if (!src) return [];
  const out: string[] = [];
  for (const s of src.slice(0, -1)) out.push(`    [inlined] ${s.function ?? '??'} at ${crashLine(s)}`);
  const own = src[src.length - 1];
  if (own.file) out.push(`    ${crashLine(own)}`);
  return out;
}

/** One task's bt text and JSON. */
export function btTask(prog: Program, t: TaskInfo, opts: BtOptions = {}): { text: string; json: unknown } {
  const panic = panicTask(prog);
  const isPanic = panic?.task === t.task;
  const u = unwindTask(prog, t);
  const lines = [btHeader(t)];
  if (opts.text || opts.allText) {
    const first = u.frames[0];
    // -t: from the first frame up (crash's START line); -T: from the bottom of the task's stack
    const own = processStack(prog, t);
    const start = opts.allText ? (own?.start ?? 0n) : first ? (first.prstatus ? first.sp : first.slot) : 0n;
    if (first && !opts.allText) lines.push(`              START: ${first.sym ? first.sym.sym.name : hex16(first.pc)} at ${first.pc.toString(16)}`);
    const addrs = stackTextAddresses(prog, t, start);
    for (const a of addrs) {
      const mod = a.sym?.sym.module ? ` [${a.sym.sym.module}]` : '';
      lines.push(`  [${a.slot.toString(16)}] ${a.sym ? a.sym.sym.name : '?'} at ${a.pc.toString(16)}${mod}`);
    }
    // -t/-T end with the user-mode registers of the syscall entry, as crash does
    const userFrame = u.frames.find((f) => f.user && f.regs && !f.prstatus);
    if (userFrame) lines.push(...formatRegs(userFrame.regs!, true));
    return { text: lines.join('\n') + '\n', json: { ...btJson(t, u, layout(u, isPanic)), text_addresses: addrs.map((a) => ({ sp: '0x' + a.slot.toString(16), pc: '0x' + a.pc.toString(16), symbol: a.sym?.sym.name ?? null, offset: a.sym?.offset ?? null, module: a.sym?.sym.module ?? null })) } };
  }
  const stacks = taskStacks(prog, t);
  const stackName = (a: bigint) => stacks.find((s) => a >= s.start && a < s.end)?.name ?? null;
  const shown = layout(u, isPanic, stackName);
  const dwarf = hasDwarf(prog);
  const sources = new Map<Frame, SourceFrame[] | null>();
  if (dwarf) for (const s of shown) if (s.block !== 'user') sources.set(s.frame, frameSource(prog, s.frame));
  const locals = dwarf && opts.locals ? walkLocals(prog, u) : new Map<Frame, ScopeVariables[] | null>();
  let prevStack: string | null = null;
  // the words of a frame followed by an exception block are shown after that block
  let pendingWords: { from: bigint; to: bigint } | null = null;
  shown.forEach((s, i) => {
    const f = s.frame;
    if (s.block === null) {
      const st = stackName(f.slot);
      const switched = !!(prevStack && st && st !== prevStack);
      if (switched) lines.push(`--- <${prevStack}> ---`);
      if (st) prevStack = st;
      // the first frame back on the interrupted stack: crash brackets the stack pointer after the
      // return (the frame's CFA), not the return address's slot
      lines.push(frameLine(switched ? { ...s, frame: { ...f, slot: f.sp } } : s, opts.symOffsets, opts.hexOffsets));
      if (opts.lines && dwarf) lines.push(...crashSourceLine(prog, f));
      if (opts.inline) lines.push(...sourceLines(sources.get(f) ?? null));
      if (opts.locals) lines.push(...localLines(locals.get(f) ?? null));
      // -f/-F: the words from above this frame's return address up to and including the next
      // frame's (an exception frame's pt_regs included), as crash shows them; none after the
      // last frame, none across a stack switch
      const next = shown.slice(i + 1).find((x) => x.block === null);
      if ((opts.frames || opts.symbolic) && !f.user && shown[i + 1]?.block !== 'user' && next && stackName(next.frame.slot) === st) {
        if (!shown.slice(i + 1, shown.indexOf(next)).length) lines.push(...stackWords(prog, f.slot + 8n, next.frame.slot + 8n, opts.symbolic ?? 0, !!opts.symbolic));
        else pendingWords = { from: f.slot + 8n, to: next.frame.slot + 8n };
      }
    } else if (s.block === 'exception' || s.block === 'prstatus') {
      lines.push(`    [exception RIP: ${symDec(f.sym, f.pc)}]`);
      if (opts.inline) lines.push(...sourceLines(sources.get(f) ?? null));
      if (opts.locals) lines.push(...localLines(locals.get(f) ?? null));
      lines.push(...formatRegs(f.regs!, s.block === 'exception'));
      // crash prints the exception RIP's line after the registers
      if (opts.lines && dwarf) lines.push(...crashSourceLine(prog, f));
      const st = stackName(f.sp);
      if (s.block === 'prstatus' && st) prevStack = st;
      if (pendingWords && shown[i + 1]?.block === null) {
        lines.push(...stackWords(prog, pendingWords.from, pendingWords.to, opts.symbolic ?? 0, !!opts.symbolic));
        pendingWords = null;
      }
    } else {
      lines.push(...formatRegs(f.regs!, true));
    }
  });
  if (u.stopped) lines.push(`    ${u.stopped}`);
  for (const n of u.notes) lines.push(`    (${n})`);
  if ((opts.lines || opts.inline || opts.locals) && !dwarf) lines.push(`    (no ${opts.locals ? 'variables' : 'source lines'}: open a vmlinux with debug info for this kernel)`);
  return { text: lines.join('\n') + '\n', json: btJson(t, u, shown, sources, opts.locals ? locals : undefined) };
}

/** One frame of `bt --json`; a last frame with `stopped` says why the unwind ended early. */
export interface BtFrameJson {
  level: number;
  sp: string | null;
  pc: string | null;
  symbol: string | null;
  offset: number | null;
  module: string | null;
  /** registers of an exception (pt_regs) frame, "0x..." by name */
  exception: Record<string, string> | null;
  stack?: string;
  /** the registers are user mode (the syscall entry frame) */
  user?: boolean;
  prstatus?: boolean;
  unreliable?: boolean;
  /** the callee had no ORC: this caller was found as the nearest direct call of it on the stack */
  by_call?: boolean;
  /** the interrupted function of an exception frame on an exception stack, shown again as a frame (crash's layout) */
  interrupted?: boolean;
  stopped?: string;
  /** with a vmlinux's (or the module's, --module-debug) DWARF: the frame's source line and the calls inlined at its pc (innermost first) */
  source?: { file: string | null; line: number; function: string | null } | null;
  inlined?: Array<{ function: string | null; file: string | null; line: number }>;
  /** bt --locals: parameters and locals by scope */
  locals?: unknown;
}

/** One task of `bt --json` (DESIGN.md shape). */
export interface BtTaskJson {
  task: string;
  pid: number;
  comm: string;
  cpu: number;
  frames: BtFrameJson[];
  stopped: string | null;
  /** how the walk started: prstatus, thread.sp, user, or kdump (from the frame the CPU stopped in, unwind.ts kdumpWalk) */
  start: string;
  text_addresses?: { sp: string; pc: string; symbol: string | null; offset: number | null; module: string | null }[];
}

function btJson(t: TaskInfo, u: Unwind, shown: Shown[], sources?: Map<Frame, SourceFrame[] | null>, locals?: Map<Frame, ScopeVariables[] | null>): BtTaskJson {
  const frames: BtFrameJson[] = shown.map((s) => {
    const f = s.frame;
    const o: BtFrameJson = {
      level: s.level,
      sp: '0x' + f.slot.toString(16),
      pc: '0x' + f.pc.toString(16),
      symbol: f.sym?.sym.name ?? null,
      offset: f.sym ? f.sym.offset : null,
      module: f.sym?.sym.module ?? null,
      exception: s.block && f.regs ? regsJson(f.regs) : null,
      stack: f.stack,
    };
    if (s.block === 'user') o.user = true;
    if (s.block === 'prstatus' || f.prstatus) o.prstatus = true;
    if (f.fp) o.unreliable = true;
    if (f.byCall) o.by_call = true;
    if (f.interrupted) o.interrupted = true;
    const src = sources?.get(f);
    if (src) {
      // from the vmlinux's DWARF: the frame's source line and the calls inlined at its pc
      const own = src[src.length - 1];
      o.source = own.file ? { file: own.file, line: own.line, function: own.function } : null;
      o.inlined = src.slice(0, -1).map((x) => ({ function: x.function, file: x.file, line: x.line }));
    }
    if (locals?.has(f)) o.locals = localsJson(locals.get(f) ?? null);
    return o;
  });
  if (u.stopped) {
    const last = shown[shown.length - 1];
    frames.push({
      level: last ? last.level + 1 : 0,
      sp: last ? '0x' + last.frame.sp.toString(16) : null,
      pc: null,
      symbol: null,
      offset: null,
      module: null,
      exception: null,
      stopped: u.stopped,
    });
  }
  return { task: '0x' + t.task.toString(16), pid: t.pid, comm: t.comm, cpu: t.cpu, frames, stopped: u.stopped ?? null, start: u.start };
}

/**
 * The tasks a per-task command's arguments name (pids, task addresses, comms), or the current
 * context (the panic task, as crash starts) when there are none. `cmd` prefixes the error.
 */
export function tasksOrContext(prog: Program, specs: readonly string[], cmd = ''): TaskInfo[] {
  if (specs.length) return specs.flatMap((a) => resolveTasks(prog, a));
  const t = panicTask(prog);
  if (!t) throw new CommandError(`${cmd ? `${cmd}: ` : ''}no current task (no panic task in this dump): give a pid`);
  return [t];
}

/** A per-task command's result: each task's text block (blank line between, as crash) and JSON entry. */
export function perTaskResult(tasks: readonly TaskInfo[], each: (t: TaskInfo) => { text: string; json: unknown }): { text: string; json: unknown[] } {
  const out = tasks.map(each);
  return { text: out.map((o) => o.text).join('\n'), json: out.map((o) => o.json) };
}

/** One found exception frame as crash's bt -e prints it (blank line, location, registers). */
function eframeLines(prog: Program, e: FoundExceptionFrame): string[] {
  const out = ['', `  ${e.user ? 'USER' : 'KERNEL'}-MODE EXCEPTION FRAME AT: ${e.address.toString(16)}`];
  if (!e.user) out.push(`    [exception RIP: ${symDec(prog.symbols.lookup(e.regs.ip), e.regs.ip)}]`);
  out.push(...formatRegs(e.regs, true));
  return out;
}

function eframeJson(e: FoundExceptionFrame) {
  return { address: '0x' + e.address.toString(16), mode: e.user ? 'user' : 'kernel', registers: regsJson(e.regs) };
}

/** bt -e: the task's stack searched for exception frames, bottom to top. */
export function btExceptionSearch(prog: Program, t: TaskInfo): { text: string; json: unknown } {
  const lines = [btHeader(t)];
  const st = processStack(prog, t);
  const r = st ? searchExceptionFrames(prog, st) : { frames: [], unreadable: true };
  for (const e of r.frames) lines.push(...eframeLines(prog, e));
  const problems: string[] = [];
  if (r.unreadable) {
    problems.push(st ? `stack ${st.start.toString(16)}-${st.end.toString(16)} is not in the dump` : 'task has no kernel stack');
    lines.push(`    (${problems[0]})`);
  }
  return { text: lines.join('\n') + '\n', json: { task: '0x' + t.task.toString(16), pid: t.pid, comm: t.comm, cpu: t.cpu, exception_frames: r.frames.map(eframeJson), problems } };
}

/**
 * bt -E: every CPU's IRQ stack, then each CPU's exception stacks, searched for exception frames
 * (crash's order and headers). Exception stacks that are not mapped in the dump (the VC stacks
 * of a guest without SEV-ES) are not listed, as crash lists only the available ones.
 */
export function btCpuStackSearch(prog: Program, cpus: number[] | null): { text: string; json: unknown } {
  const lines: string[] = [];
  const json: unknown[] = [];
  const all = cpuStacks(prog).filter((s) => cpus === null || cpus.includes(s.cpu ?? -1));
  const ordered = [...all.filter((s) => s.name === 'IRQ stack'), ...all.filter((s) => s.name !== 'IRQ stack').sort((a, b) => (a.cpu ?? 0) - (b.cpu ?? 0))];
  for (const s of ordered) {
    const r = searchExceptionFrames(prog, s);
    if (r.unreadable && s.name !== 'IRQ stack') continue;
    lines.push(`CPU ${s.cpu} ${s.name.toUpperCase()}:`);
    if (r.unreadable) lines.push('(not in the dump)', '');
    else if (!r.frames.length) lines.push('(none found)', '');
    else {
      for (const e of r.frames) lines.push(...eframeLines(prog, e));
      lines.push('');
    }
    json.push({ cpu: s.cpu, stack: s.name, start: '0x' + s.start.toString(16), end: '0x' + s.end.toString(16), readable: !r.unreadable, exception_frames: r.frames.map(eframeJson) });
  }
  return { text: lines.join('\n') + '\n', json };
}

/** bt -r: the task's whole kernel stack, two words a line, text and data symbols by name. */
export function btRawStack(prog: Program, t: TaskInfo): { text: string; json: unknown } {
  const lines = [btHeader(t)];
  const st = processStack(prog, t);
  const words = st ? stackWordsOf(prog, st) : null;
  if (!st || !words) {
    lines.push(`    (${st ? `stack ${st.start.toString(16)}-${st.end.toString(16)} is not in the dump` : 'task has no kernel stack'})`);
    return { text: lines.join('\n') + '\n', json: { task: '0x' + t.task.toString(16), pid: t.pid, start: null, words: null } };
  }
  for (let i = 0; i < words.length; i += 2) {
    const w = words.slice(i, i + 2).map((v) => symbolicWord(prog, v, 0));
    lines.push(`${(st.start + BigInt(i * 8)).toString(16)}:  ${w.join(' ')} `);
  }
  return { text: lines.join('\n') + '\n', json: { task: '0x' + t.task.toString(16), pid: t.pid, comm: t.comm, start: '0x' + st.start.toString(16), words: words.map((v) => '0x' + v.toString(16)) } };
}

/** bt -v: tasks whose stack-end magic is gone (crash's messages). */
export function btStackCheck(prog: Program): { text: string; json: unknown } {
  const r = checkStackEnds(prog, taskList(prog));
  const lines: string[] = [];
  if (!r.magicSeen) {
    lines.push(`bt: no task stack carries STACK_END_MAGIC (${r.checked} checked): the stack ends cannot be checked on this dump`);
  } else if (!r.bad.length) lines.push('No stack overflows detected');
  for (const b of r.bad) {
    lines.push(btHeader(b.task));
    lines.push(b.value === null ? `  stack end ${b.location.toString(16)} is not in the dump` : `  possible stack overflow: ${b.location.toString(16)}: ${b.value.toString(16)} != STACK_END_MAGIC`);
    lines.push('');
  }
  return {
    text: lines.join('\n') + '\n',
    json: { checked: r.checked, magic_seen: r.magicSeen, overflows: r.bad.map((b) => ({ task: '0x' + b.task.task.toString(16), pid: b.task.pid, comm: b.task.comm, location: '0x' + b.location.toString(16), value: b.value === null ? null : '0x' + b.value.toString(16) })) },
  };
}

/** crash's CPU list syntax: "3", "1,8,9", "1-23", "1,8,9-14". */
export function parseCpuList(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new CommandError(`bt: invalid cpu specification: ${spec}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 65536) throw new CommandError(`bt: invalid cpu specification: ${spec}`);
    for (let c = a; c <= b; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

/** Resolve "120" (pid) or "ffff888006210000" / "0x..." (task address) to tasks. */
export function resolveTasks(prog: Program, spec: string): TaskInfo[] {
  const list = taskList(prog);
  const isAddr = /^0x[0-9a-f]+$/i.test(spec) || (/^[0-9a-f]+$/i.test(spec) && (spec.length > 8 || /[a-f]/i.test(spec)));
  if (isAddr) {
    const a = BigInt(spec.startsWith('0x') ? spec : '0x' + spec);
    const t = list.find((x) => x.task === a);
    if (!t) throw new CommandError(`bt: invalid task or pid value: ${spec}`);
    return [t];
  }
  if (!/^\d+$/.test(spec)) {
    const byName = list.filter((x) => x.comm === spec);
    if (byName.length) return byName;
    throw new CommandError(`bt: invalid task or pid value: ${spec}`);
  }
  const pid = Number(spec);
  const t = list.filter((x) => x.pid === pid);
  if (!t.length) throw new CommandError(`bt: invalid task or pid value: ${spec}`);
  // pid 0: crash means CPU 0's idle task
  return pid === 0 ? [t[0]] : t;
}

registerCommand({
  name: 'bt',
  summary: 'backtrace of the panic task, a task, or every CPU\'s active task (ORC from the dump)',
  usage: 'bt [-a|-c cpus] [-f|-F|-FF] [-t|-T] [-e|-E|-r|-v] [-l] [--inline] [-s [-x|-d]] [--locals] [pid|task ...] [--json]',
  run(args, ctx) {
    // -FF: -F given twice (alone or in a combined flag such as -FF)
    const fCount = args.filter((a) => /^-[A-Za-z]+$/.test(a)).reduce((n, a) => n + (a.match(/F/g)?.length ?? 0), 0);
    const { flags, values, rest } = parseFlags(args, { bool: ['--json', '-a', '-f', '-F', '-t', '-T', '-s', '-x', '-d', '-l', '--inline', '-e', '-E', '-r', '-v', '--locals'], value: ['-c'] });
    const prog = ctx.prog;
    const cpuList = values.has('-c') ? parseCpuList(values.get('-c')!) : null;
    if (flags.has('-v')) return btStackCheck(prog);
    // -E is not about one task: all other arguments but -c are ignored, as in crash
    if (flags.has('-E')) return btCpuStackSearch(prog, cpuList);
    let tasks: TaskInfo[] = [];
    if (flags.has('-a') || cpuList) {
      const list = taskList(prog);
      const active = [...activeTasks(prog)].sort((a, b) => a[0] - b[0]);
      if (cpuList) {
        const bad = cpuList.filter((c) => !active.some(([cpu]) => cpu === c));
        if (bad.length) throw new CommandError(`bt: invalid cpu number: ${bad[0]}`);
      }
      for (const [cpu, addr] of active) {
        if (cpuList && !cpuList.includes(cpu)) continue;
        const t = list.find((x) => x.task === addr);
        if (t) tasks.push(t);
      }
    } else if (rest.length) {
      for (const r of rest) tasks.push(...resolveTasks(prog, r));
    } else {
      const p = panicTask(prog);
      if (!p) throw new CommandError('bt: no panic task in this dump; give a pid or task address (or -a)');
      tasks = [p];
    }
    const texts: string[] = [];
    const json: unknown[] = [];
    for (const t of tasks) {
      checkCancel(ctx);
      const r = flags.has('-e')
        ? btExceptionSearch(prog, t)
        : flags.has('-r')
          ? btRawStack(prog, t)
          : btTask(prog, t, {
              frames: flags.has('-f'),
              symbolic: fCount >= 2 ? 2 : fCount === 1 ? 1 : 0,
              text: flags.has('-t'),
              allText: flags.has('-T'),
              lines: flags.has('-l'),
              inline: flags.has('--inline'),
              locals: flags.has('--locals'),
              symOffsets: flags.has('-s'),
              hexOffsets: flags.has('-x') && !flags.has('-d'),
            });
      texts.push(r.text);
      json.push(r.json);
    }
    return { text: texts.join('\n'), json };
  },
});
