/**
 * Stack unwinding with the kernel's own ORC data (arch/x86/kernel/unwind_orc.c and
 * dumpstack_64.c's stack ranges), from the dump alone.
 *
 * Where a walk starts:
 * - a task active on a CPU: that CPU's NT_PRSTATUS registers when their RSP lies on one of the
 *   task's stacks (kdump: the registers crash_save_cpu saved; QEMU dumps: where the CPU was when
 *   it was stopped, e.g. the panicking CPU in panic's delay loop, the others in the stop IPI);
 *   otherwise like an inactive task. When those registers are a copy of an exception frame on the
 *   CPU's stacks (a kernel-written kdump: the oops's or the crash NMI's pt_regs), the walk starts
 *   earlier, in the function the CPU stopped in (machine_kexec, crash_nmi_callback) and goes
 *   through that exception frame (kdumpWalk);
 * - an inactive task: task->thread.sp, which points at struct inactive_task_frame (its ret_addr
 *   and bp), as __unwind_start does.
 * Each step follows the ORC entry of the return address - 1 (or of the ip itself after an
 * interrupt): CALL entries give the caller's return address, REGS / REGS_PARTIAL entries a
 * pt_regs (an exception frame: its registers are shown as crash's "[exception RIP: ...]" block;
 * user-mode registers end the walk as the entry frame). Where no ORC covers an ip, the frame
 * pointer is tried (orc_fp_entry) and the frame is marked; where the entry is UNDEFINED (code
 * objtool was told to skip), the caller is the nearest direct call of the function on the stack
 * (callerByCall), also marked. The stacks are the task's stack, each
 * CPU's IRQ stack (hardirq_stack_ptr / pcpu_hot.hardirq_stack_ptr) and exception stacks
 * (cea_exception_stacks); a read outside them, an UNDEFINED entry with no call to its function
 * above, a stack going the wrong way, a repeated frame or too many frames end the walk with a
 * visible reason, never an exception.
 */
import { MemoryError, DumpError } from '../errors';
import { u64, i32 } from '../bytes';
import { noteProblem } from '../problems';
import { cacheKey, type Program } from '../kernel/program';
import { inInitText, kernelImageLayout } from '../kernel/layout';
import type { SymHit } from '../kernel/symbols';
import { orcFind, orcIndex, FP_ORC, type OrcEntry } from './orc';
import { activeTasks, threadSize, taskLayout, panicTask, type TaskInfo } from './tasks';

const UNWIND_PTREGS_KEY = cacheKey<{ offs: Record<string, number>; size: number }>('unwind.ptregs');
const UNWIND_CPUSTACKS_KEY = cacheKey<StackRange[]>('unwind.cpustacks');

export const MAX_FRAMES = 512;

export interface StackRange {
  start: bigint;
  end: bigint;
  /** crash's name: "process stack", "IRQ stack", "NMI exception stack", ... */
  name: string;
  cpu?: number;
}

/** x86_64 pt_regs register names in crash's order of display. */
export const PT_REGS = [
  'r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di',
  'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss',
] as const;
export type Regs = Record<(typeof PT_REGS)[number], bigint>;

export interface Frame {
  /** crash's frame number (exception frames carry the number of the frame before them) */
  level: number;
  pc: bigint;
  /** the stack pointer in this frame (the CFA of the frame below) */
  sp: bigint;
  /** the stack address crash shows in brackets: where the return address was read, or RSP */
  slot: bigint;
  /** the stack of `slot` (for an exception frame, the stack its pt_regs are on) */
  stack: string;
  sym: SymHit | null;
  /** registers that gave this frame's pc (an exception frame, or the first frame from PRSTATUS) */
  regs?: Regs;
  /** where those registers are (pt_regs address), absent for PRSTATUS */
  regsAddress?: bigint;
  /** the registers are a user-mode entry frame (the walk ends there) */
  user?: boolean;
  /** the pc came from the PRSTATUS note (not from the stack) */
  prstatus?: boolean;
  /** found with the frame-pointer fallback (no ORC for the callee) */
  fp?: boolean;
  /**
   * the callee has no ORC (an UNDEFINED entry): this frame is the nearest return address above the
   * callee's sp whose call instruction is a direct call of the callee (callerByCall)
   */
  byCall?: boolean;
  /**
   * (bt's layout only) the interrupted function of an exception frame shown as a frame of its own,
   * as crash does after leaving an exception stack: pc is an interrupted ip, not a return address
   */
  interrupted?: boolean;
  /** the frame is only partial registers (REGS_PARTIAL: ip, cs, flags, sp, ss valid) */
  partial?: boolean;
}

export interface Unwind {
  task: TaskInfo;
  frames: Frame[];
  /** set when the walk ended early: "unwind stopped: <reason>" */
  stopped?: string;
  /**
   * how the walk started: the CPU's PRSTATUS registers, the task's thread.sp, user-mode PRSTATUS,
   * or (kdump) the frame of the function the CPU stopped in, found on the stack (kdumpWalk)
   */
  start: 'prstatus' | 'thread.sp' | 'user' | 'kdump';
  notes: string[];
}

function ptRegsLayout(prog: Program): { offs: Record<string, number>; size: number } {
  const c = prog.recall(UNWIND_PTREGS_KEY);
  if (c) return c;
  const t = prog.type('struct pt_regs');
  const offs: Record<string, number> = {};
  for (const r of PT_REGS) offs[r] = prog.offsetof(t, r);
  const l = { offs, size: prog.sizeof(t) };
  prog.remember(UNWIND_PTREGS_KEY, l);
  return l;
}

/** Read a struct pt_regs. Throws MemoryError. */
export function readPtRegs(prog: Program, addr: bigint): Regs {
  const { offs, size } = ptRegsLayout(prog);
  const b = prog.mem.read(addr, size);
  const r = {} as Regs;
  for (const k of PT_REGS) r[k] = u64(b, offs[k]);
  r.cs &= 0xffffn;
  r.ss &= 0xffffn;
  return r;
}

/** NT_PRSTATUS registers as pt_regs names. */
export function prstatusRegs(v: Record<string, bigint>): Regs {
  return {
    r15: v.r15, r14: v.r14, r13: v.r13, r12: v.r12, bp: v.rbp, bx: v.rbx, r11: v.r11, r10: v.r10,
    r9: v.r9, r8: v.r8, ax: v.rax, cx: v.rcx, dx: v.rdx, si: v.rsi, di: v.rdi, orig_ax: v.orig_rax,
    ip: v.rip, cs: v.cs & 0xffffn, flags: v.eflags, sp: v.rsp, ss: v.ss & 0xffffn,
  };
}

/** Every CPU's IRQ and exception stacks. */
export function cpuStacks(prog: Program): StackRange[] {
  const c = prog.recall(UNWIND_CPUSTACKS_KEY);
  if (c) return c;
  const out: StackRange[] = [];
  const size = BigInt(threadSize(prog));
  const ncpu = prog.perCpuOffsets().length;
  const hotT = prog.findType('struct pcpu_hot');
  const hot = prog.symbolAddress('pcpu_hot');
  const hsp = prog.symbolAddress('hardirq_stack_ptr');
  const ceaSym = prog.symbolAddress('cea_exception_stacks');
  const ceaT = prog.findType('struct cea_exception_stacks');
  const names: Array<[string, string]> = [
    ['DF_stack', 'DOUBLEFAULT exception stack'],
    ['NMI_stack', 'NMI exception stack'],
    ['DB_stack', 'DEBUG exception stack'],
    ['MCE_stack', 'MCE exception stack'],
    ['VC_stack', 'VC exception stack'],
    ['VC2_stack', 'VC2 exception stack'],
  ];
  for (let cpu = 0; cpu < ncpu; cpu++) {
    try {
      let top: bigint | null = null;
      if (hot !== undefined && hotT !== null && prog.btf.memberPath(hotT, 'hardirq_stack_ptr')) {
        top = prog.mem.u64(prog.perCpu(hot, cpu) + BigInt(prog.offsetof(hotT, 'hardirq_stack_ptr')));
      } else if (hsp !== undefined) top = prog.mem.u64(prog.perCpu(hsp, cpu));
      // hardirq_stack_ptr points at the stack's end (va + IRQ_STACK_SIZE, as map_irq_stack() set
      // it up to 5.7) or at its topmost word (end - 8, later kernels); the stack itself is page
      // aligned, so its end is the pointer rounded up to a page either way
      if (top) {
        const page = BigInt(prog.info.pageSize);
        const end = top % page === 0n ? top : top - (top % page) + page;
        out.push({ start: end - size, end, name: 'IRQ stack', cpu });
      }
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
    }
    if (ceaSym !== undefined && ceaT !== null) {
      try {
        const base = prog.mem.u64(prog.perCpu(ceaSym, cpu));
        if (base) {
          for (const [m, name] of names) {
            const loc = prog.btf.memberPath(ceaT, m);
            if (!loc) continue;
            const sz = prog.btf.sizeof(loc.type);
            out.push({ start: base + BigInt(loc.offset), end: base + BigInt(loc.offset + sz), name, cpu });
          }
        }
      } catch (e) {
        if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      }
    }
  }
  prog.remember(UNWIND_CPUSTACKS_KEY, out);
  return out;
}

/** The stacks a task's frames may be on: its own stack, then every CPU's IRQ/exception stacks. */
export function taskStacks(prog: Program, task: TaskInfo): StackRange[] {
  const size = BigInt(threadSize(prog));
  const own: StackRange[] = task.stack ? [{ start: task.stack, end: task.stack + size, name: 'process stack' }] : [];
  const cpu = cpuStacks(prog);
  // the task's own CPU first
  return [...own, ...cpu.filter((s) => s.cpu === task.cpu), ...cpu.filter((s) => s.cpu !== task.cpu)];
}

function stackOf(stacks: StackRange[], addr: bigint, len = 8): StackRange | null {
  for (const s of stacks) if (addr >= s.start && addr + BigInt(len) <= s.end) return s;
  return null;
}

function releaseAtLeast(prog: Program, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(prog.info.osrelease ?? '');
  if (!m) return true;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}

class Stop extends Error {}

/** Whether an address is kernel or module text (a return address candidate). */
export function isKernelText(prog: Program, addr: bigint): boolean {
  const hit = prog.symbols.lookup(addr);
  if (!hit) return false;
  const t = hit.sym.type;
  if (!(t === 't' || t === 'T' || t === 'W' || t === 'w')) return false;
  const next = prog.symbols.nextAddress(hit.sym.address);
  if (hit.sym.module) return next === undefined || addr < next || hit.offset < 0x10000;
  const etext = kernelImageLayout(prog).textEnd;
  return etext === undefined || addr < etext || inInitText(prog, addr);
}

/** Find the PRSTATUS registers of a task active on a CPU, when they are on its stacks. */
function activeRegs(prog: Program, task: TaskInfo, cpu: number, stacks: StackRange[]): Regs | null {
  const notes = prog.phys.prstatus;
  const cand = [notes[cpu], ...notes.filter((n) => n.pid === task.pid && task.pid !== 0), ...notes].filter(Boolean);
  for (const n of cand) {
    const r = prstatusRegs(n.regs);
    if ((r.cs & 3n) === 3n && n === notes[cpu]) return r; // user mode on that CPU
    if (stackOf(stacks, r.sp)) return r;
  }
  return null;
}

interface State {
  ip: bigint;
  sp: bigint;
  bp: bigint;
  regs: Regs | null;
  fullRegs: boolean;
  prevRegs: Regs | null;
  signal: boolean;
  stack: StackRange | null;
}

/**
 * Unwind one task. Never throws for bad memory: the walk ends with `stopped`.
 * opts.fromThreadSp forces the inactive-task start even for an active task.
 */
export function unwindTask(prog: Program, task: TaskInfo, opts: { fromThreadSp?: boolean; maxFrames?: number } = {}): Unwind {
  const stacks = taskStacks(prog, task);
  const notes: string[] = [];
  const frames: Frame[] = [];
  const maxFrames = opts.maxFrames ?? MAX_FRAMES;
  let start: Unwind['start'] = 'thread.sp';
  const sym = (pc: bigint) => symbolize(prog, pc, false);
  const retSym = (pc: bigint) => symbolize(prog, pc, true);
  let st: State;

  let activeCpu: number | null = null;
  for (const [cpu, t] of activeTasks(prog)) if (t === task.task) activeCpu = cpu;
  let regs0: Regs | null = null;
  if (activeCpu !== null && !opts.fromThreadSp) regs0 = activeRegs(prog, task, activeCpu, stacks);

  try {
    if (regs0 && (regs0.cs & 3n) === 3n) {
      frames.push({ level: 0, pc: regs0.ip, sp: regs0.sp, slot: regs0.sp, stack: 'user', sym: null, regs: regs0, user: true, prstatus: true });
      return { task, frames, start: 'user', notes };
    }
    if (regs0) {
      start = 'prstatus';
      st = { ip: regs0.ip, sp: regs0.sp, bp: regs0.bp, regs: regs0, fullRegs: true, prevRegs: null, signal: true, stack: stackOf(stacks, regs0.sp) };
      frames.push({ level: 0, pc: regs0.ip, sp: regs0.sp, slot: regs0.sp, stack: st.stack?.name ?? 'unknown', sym: sym(regs0.ip), regs: regs0, prstatus: true });
    } else {
      const l = taskLayout(prog);
      const tsp = prog.mem.u64(task.task + BigInt(l.threadSp));
      const fT = prog.type('struct inactive_task_frame');
      const fsize = BigInt(prog.sizeof(fT));
      const retOff = BigInt(prog.offsetof(fT, 'ret_addr'));
      const bpOff = BigInt(prog.offsetof(fT, 'bp'));
      const stack = stackOf(stacks, tsp, Number(fsize));
      if (!stack) {
        return { task, frames, start, notes, stopped: `unwind stopped: thread.sp 0x${tsp.toString(16)} is not on the task's stack` };
      }
      const ip = prog.mem.u64(tsp + retOff);
      const bp = prog.mem.u64(tsp + bpOff);
      const rff = prog.symbolAddress('ret_from_fork_asm') ?? prog.symbolAddress('ret_from_fork');
      st = { ip, sp: tsp + fsize, bp, regs: null, fullRegs: false, prevRegs: null, signal: ip === rff, stack };
      frames.push({ level: 0, pc: ip, sp: tsp + fsize, slot: tsp + retOff, stack: stack.name, sym: st.signal ? sym(ip) : retSym(ip) });
    }
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
    return { task, frames, start, notes, stopped: `unwind stopped: ${e.message}` };
  }

  let stopped: string | undefined;
  const kd = regs0 && activeCpu !== null ? kdumpWalk(prog, task, activeCpu, regs0, stacks, maxFrames, notes) : null;
  if (kd) {
    start = 'kdump';
    frames.splice(0, frames.length, ...kd.frames);
    stopped = kd.stopped;
  } else stopped = walkFrom(prog, stacks, st, frames, maxFrames);
  let level = 0;
  // crash's numbering: exception frames (regs from the stack) keep the number of the frame before
  for (const f of frames) {
    if (f.regs && !f.prstatus && f !== frames[0]) f.level = level - 1;
    else f.level = level++;
  }
  const idx = orcIndex(prog);
  notes.push(...idx.notes.filter((n) => frames.some((f) => f.sym?.sym.module && n.includes(`module ${f.sym.sym.module} `))));
  return { task, frames, stopped, start, notes };
}

/**
 * The functions a CPU stops in when the kernel itself takes the dump (kexec on panic,
 * kernel/kexec_core.c and arch/x86/kernel/{crash,reboot}.c): the crashing CPU goes from
 * __crash_kexec into machine_kexec, which jumps to the capture kernel through relocate_kernel and
 * never returns; every other CPU is stopped by an NMI and halts for good in crash_nmi_callback.
 */
const KDUMP_STOP_FUNCTIONS = new Set(['machine_kexec', 'crash_nmi_callback']);

function sameRegs(a: Regs, b: Regs): boolean {
  return PT_REGS.every((k) => a[k] === b[k]);
}

/**
 * A kdump's CPU, unwound from where it stopped. In a dump written by the kernel itself (kexec -p
 * and a capture kernel), crash_save_cpu stores in each CPU's NT_PRSTATUS the registers of the
 * context the crash interrupted: the oops's pt_regs on the crashing CPU, the NMI's pt_regs on the
 * others. The CPU then went on (oops_end, crash_kexec, machine_kexec; or exc_nmi, crash_nmi_callback)
 * and those frames are still on its stacks, below the exception frame. crash shows them; so do we,
 * when the dump proves them:
 * 1. a return address into a stop function (KDUMP_STOP_FUNCTIONS) lies on one of that CPU's
 *    stacks (the task's stack, the CPU's IRQ and exception stacks), and
 * 2. the ORC walk from it reaches an exception frame (a pt_regs on the stack, ORC REGS /
 *    REGS_PARTIAL) whose registers equal the PRSTATUS registers, every one of them: PRSTATUS is a
 *    copy of that pt_regs, and the walk goes on through it into the interrupted code.
 * QEMU's dump-guest-memory stores the CPU's live registers, which no pt_regs on the stack holds, so
 * such dumps start at PRSTATUS as before. A candidate that fails 2 is reported in `notes` and the
 * walk starts at PRSTATUS; so are stack pages the search could not read.
 */
function kdumpWalk(prog: Program, task: TaskInfo, cpu: number, regs0: Regs, stacks: StackRange[], maxFrames: number, notes: string[]): { frames: Frame[]; stopped?: string } | null {
  const mine = stacks.filter((s) => s.name === 'process stack' || s.cpu === cpu);
  const unreadable: bigint[] = [];
  const failed: string[] = [];
  for (const s of mine) {
    for (let page = s.start & ~0xfffn; page < s.end; page += 0x1000n) {
      const from = page < s.start ? s.start : page;
      const to = page + 0x1000n > s.end ? s.end : page + 0x1000n;
      const b = prog.mem.tryRead(from, Number(to - from));
      if (!b) {
        unreadable.push(from);
        continue;
      }
      for (let o = 0; o + 8 <= b.length; o += 8) {
        const w = u64(b, o);
        if (w < 0xffff800000000000n) continue;
        const hit = symbolize(prog, w, true);
        if (!hit || !KDUMP_STOP_FUNCTIONS.has(hit.sym.name) || hit.sym.module || !isKernelText(prog, w)) continue;
        const slot = from + BigInt(o);
        const first: Frame = { level: 0, pc: w, sp: slot + 8n, slot, stack: s.name, sym: hit };
        const frames: Frame[] = [first];
        const st: State = { ip: w, sp: slot + 8n, bp: 0n, regs: null, fullRegs: false, prevRegs: null, signal: false, stack: s };
        const stopped = walkFrom(prog, stacks, st, frames, maxFrames);
        const at = frames.findIndex((f, i) => i > 0 && f.regs && !f.user && sameRegs(f.regs, regs0));
        if (at > 0) return { frames, stopped };
        failed.push(`${hit.sym.name}+0x${hit.offset.toString(16)} at 0x${slot.toString(16)}${stopped ? ` (${stopped})` : ''}`);
      }
    }
  }
  const note = (m: string) => {
    notes.push(m);
    noteProblem(`unwind.kdump:${m}`, m);
  };
  for (const f of failed) note(`kdump: the return address ${f} does not unwind to the CPU ${cpu} PRSTATUS registers; the walk starts at PRSTATUS`);
  // the task's own stack should be whole in any dump; the CPU's other stacks matter once a
  // candidate failed (some exception stacks are never mapped, e.g. #VC without SEV)
  const own = unreadable.filter((a) => stackOf(mine, a)?.name === 'process stack');
  const missing = failed.length ? unreadable : own;
  if (missing.length) note(`kdump: stack pages of CPU ${cpu} not in the dump, not searched for where it stopped: ${missing.map((a) => '0x' + a.toString(16)).join(', ')}`);
  return null;
}

/** How far above a callee's sp callerByCall looks for its caller's return address. */
const CALLER_SEARCH_BYTES = 4096n;

/**
 * The caller of the function at `ip` when ORC cannot say where its frame ends: the nearest stack
 * word above `sp` (on the same stack) that is a kernel text address right after a direct call
 * (e8 rel32) whose target is the start of the function containing `ip`. Indirect calls cannot be
 * checked, so a function only reached through one is not matched (the walk stops).
 */
function callerByCall(prog: Program, stacks: StackRange[], ip: bigint, sp: bigint): { ip: bigint; slot: bigint; stack: StackRange } | null {
  const fn = prog.symbols.lookup(ip);
  if (!fn) return null;
  const target = fn.sym.address;
  const stack = stackOf(stacks, sp);
  if (!stack) return null;
  const from = (sp + 7n) & ~7n;
  const to = from + CALLER_SEARCH_BYTES < stack.end ? from + CALLER_SEARCH_BYTES : stack.end;
  for (let a = from; a + 8n <= to; a += 8n) {
    const w = prog.mem.tryRead(a, 8);
    if (!w) return null;
    const ra = u64(w, 0);
    if (ra < 0xffff800000000000n || !isKernelText(prog, ra)) continue;
    const c = prog.mem.tryRead(ra - 5n, 5);
    if (!c || c[0] !== 0xe8) continue;
    if (BigInt.asUintN(64, ra + BigInt(i32(c, 1))) === target) return { ip: ra, slot: a, stack };
  }
  return null;
}

/**
 * Follow ORC from a state, appending frames; returns why the walk ended early (undefined when it
 * reached the end of the stack or a user-mode entry frame).
 */
function walkFrom(prog: Program, stacks: StackRange[], st: State, frames: Frame[], maxFrames: number): string | undefined {
  const sym = (pc: bigint) => symbolize(prog, pc, false);
  const retSym = (pc: bigint) => symbolize(prog, pc, true);
  const spIndirectNew = releaseAtLeast(prog, 5, 12);
  const derefStack = (addr: bigint, len = 8): bigint => {
    const s = stackOf(stacks, addr, len);
    if (!s) throw new Stop(`0x${addr.toString(16)} is not on the task's stacks`);
    try {
      return prog.mem.u64(addr);
    } catch (e) {
      if (e instanceof MemoryError) throw new Stop(e.message);
      throw e;
    }
  };
  const getReg = (name: keyof Regs): bigint | null => {
    if (!st.regs) return null;
    if (st.fullRegs) return st.regs[name];
    if (st.prevRegs) return st.prevRegs[name];
    return null;
  };
  const seen = new Set<string>();
  let stopped: string | undefined;

  while (true) {
    if (frames.length >= maxFrames) {
      stopped = `unwind stopped: more than ${maxFrames} frames`;
      break;
    }
    if (st.regs && (st.regs.cs & 3n) === 3n) break; // user mode: the entry frame was the last
    const key = `${st.ip}:${st.sp}`;
    if (seen.has(key)) {
      stopped = 'unwind stopped: the same frame again (loop)';
      break;
    }
    seen.add(key);
    try {
      const lookupIp = st.signal ? st.ip : st.ip - 1n;
      const hit = orcFind(prog, lookupIp);
      let orc: OrcEntry;
      let fp = false;
      if (!hit) {
        orc = FP_ORC;
        fp = true;
      } else {
        orc = hit.entry;
        if (orc.type === 'end') break;
        if (orc.type === 'undefined') {
          // no ORC for this code (objtool skipped it, e.g. STACK_FRAME_NON_STANDARD(__crash_kexec)):
          // the caller is the nearest return address above whose call instruction calls this function
          const c = callerByCall(prog, stacks, st.signal ? st.ip : st.ip - 1n, st.sp);
          if (!c) throw new Stop(`no unwind information for ${describe(prog, st.ip)} (ORC entry UNDEFINED) and no call to it on the stack above`);
          const frame: Frame = { level: 0, pc: c.ip, sp: c.slot + 8n, slot: c.slot, stack: c.stack.name, sym: retSym(c.ip), byCall: true };
          st.ip = c.ip;
          st.sp = c.slot + 8n;
          st.regs = null;
          st.prevRegs = null;
          st.signal = false;
          st.stack = c.stack;
          frames.push(frame);
          continue;
        }
        if (orc.type === 'unknown') throw new Stop(`unknown ORC entry type at ${describe(prog, st.ip)}`);
      }
      const signal = orc.signal;
      let sp: bigint;
      let indirect = false;
      const regVal = (n: keyof Regs, what: string) => {
        const v = getReg(n);
        if (v === null) throw new Stop(`missing ${what} value at ${describe(prog, st.ip)}`);
        return v;
      };
      switch (orc.spReg) {
        case 'sp':
          sp = st.sp + BigInt(orc.spOffset);
          break;
        case 'bp':
          sp = st.bp + BigInt(orc.spOffset);
          break;
        case 'sp_indirect':
          sp = spIndirectNew ? st.sp : st.sp + BigInt(orc.spOffset);
          indirect = true;
          break;
        case 'bp_indirect':
          sp = st.bp + BigInt(orc.spOffset);
          indirect = true;
          break;
        case 'r10':
          sp = regVal('r10', 'R10');
          break;
        case 'r13':
          sp = regVal('r13', 'R13');
          break;
        case 'di':
          sp = regVal('di', 'RDI');
          break;
        case 'dx':
          sp = regVal('dx', 'DX');
          break;
        case 'ax':
          sp = regVal('ax', 'AX');
          break;
        default:
          throw new Stop(`unknown ORC sp register at ${describe(prog, st.ip)}`);
      }
      sp = BigInt.asUintN(64, sp);
      if (indirect) {
        sp = derefStack(sp);
        if (orc.spReg === 'sp_indirect' && spIndirectNew) sp += BigInt(orc.spOffset);
      }
      const prevSp = st.sp;
      const prevStack = st.stack;
      let frame: Frame;
      if (orc.type === 'call') {
        const ipp = sp - 8n;
        const ip = derefStack(ipp);
        st.ip = ip;
        st.sp = sp;
        st.regs = null;
        st.prevRegs = null;
        frame = { level: 0, pc: ip, sp, slot: ipp, stack: '', sym: retSym(ip), fp: fp || undefined };
      } else {
        const { offs, size } = ptRegsLayout(prog);
        const partial = orc.type === 'regs_partial';
        const regsAddr = partial ? sp - BigInt(offs.ip) : sp;
        const need = partial ? BigInt(offs.ip) : 0n;
        if (!stackOf(stacks, regsAddr + need, size - Number(need))) throw new Stop(`registers at 0x${regsAddr.toString(16)} are not on the task's stacks`);
        let r: Regs;
        try {
          r = readPtRegs(prog, regsAddr);
        } catch (e) {
          if (e instanceof MemoryError) throw new Stop(e.message);
          throw e;
        }
        if (partial) {
          if (st.fullRegs && st.regs) st.prevRegs = st.regs;
        } else st.prevRegs = null;
        st.ip = r.ip;
        st.sp = r.sp;
        st.regs = r;
        st.fullRegs = !partial;
        const user = (r.cs & 3n) === 3n;
        frame = { level: 0, pc: r.ip, sp: r.sp, slot: regsAddr, stack: '', sym: user ? null : sym(r.ip), regs: r, regsAddress: regsAddr, user: user || undefined, partial: partial || undefined };
      }
      // the caller's bp
      switch (orc.bpReg) {
        case 'undefined': {
          const v = getReg('bp');
          if (v !== null) st.bp = v;
          break;
        }
        case 'prev_sp':
          st.bp = derefStack(sp + BigInt(orc.bpOffset));
          break;
        case 'bp':
          st.bp = derefStack(st.bp + BigInt(orc.bpOffset));
          break;
        default:
          throw new Stop(`unknown ORC bp register at ${describe(prog, frame.pc)}`);
      }
      st.signal = signal;
      const newStack = frame.user ? null : stackOf(stacks, st.sp);
      if (!frame.user && prevStack && newStack === prevStack && st.sp <= prevSp) {
        throw new Stop(`stack going in the wrong direction at ${describe(prog, frame.pc)}`);
      }
      st.stack = newStack ?? st.stack;
      // an exception frame is where its pt_regs are (an NMI's are on the NMI stack)
      const at = frame.regsAddress !== undefined && !frame.user ? stackOf(stacks, frame.regsAddress) : null;
      frame.stack = frame.user ? 'user' : (at?.name ?? newStack?.name ?? 'unknown');
      if (!frame.user && frame.pc !== 0n && !isKernelText(prog, frame.pc)) {
        frames.push(frame);
        throw new Stop(`0x${frame.pc.toString(16)} is not kernel text`);
      }
      frames.push(frame);
      if (frame.user) break;
    } catch (e) {
      if (e instanceof Stop) {
        stopped = `unwind stopped: ${e.message}`;
        break;
      }
      if (e instanceof MemoryError) {
        stopped = `unwind stopped: ${e.message}`;
        break;
      }
      throw e;
    }
  }
  return stopped;
}

/**
 * The symbol of a pc as the kernel names it in an oops (%pB): a return address is looked up at
 * pc - 1 (a call to a noreturn function can be the last instruction of a function), and among
 * aliases at one address the first in the kernel's own table order (kallsyms, which puts a
 * function before a linker-script marker at its address: io_schedule_timeout, not
 * __sched_text_start; a module's symtab, e.g. skb_uaf_init before init_module).
 */
export function symbolize(prog: Program, pc: bigint, returnAddress: boolean): SymHit | null {
  const hit = prog.symbols.lookup(returnAddress ? pc - 1n : pc);
  if (!hit) return null;
  const table = hit.sym.module === undefined ? prog.symbols.kallsymsAt(hit.sym.address) : [];
  const first = table[0] ?? prog.symbols.at(hit.sym.address).find((s) => s.module === hit.sym.module) ?? hit.sym;
  return { sym: first, offset: Number(pc - first.address) };
}

function describe(prog: Program, pc: bigint): string {
  const h = prog.symbols.lookup(pc);
  return h ? `${h.sym.name}+0x${h.offset.toString(16)}` : `0x${pc.toString(16)}`;
}

/** The panic task's unwind (crash's default `bt`), or null when there was no panic. */
export function unwindPanicTask(prog: Program): Unwind | null {
  const t = panicTask(prog);
  return t ? unwindTask(prog, t) : null;
}

/** Every text address on the stack from `from` to the end of its stack (crash's bt -t). */
export function stackTextAddresses(prog: Program, task: TaskInfo, from: bigint): Array<{ slot: bigint; pc: bigint; sym: SymHit | null }> {
  const stacks = taskStacks(prog, task);
  const out: Array<{ slot: bigint; pc: bigint; sym: SymHit | null }> = [];
  const s = stackOf(stacks, from);
  if (!s) return out;
  const start = from & ~7n;
  const b = prog.mem.tryRead(start, Number(s.end - start));
  if (!b) return out;
  for (let o = 0; o + 8 <= b.length; o += 8) {
    const w = u64(b, o);
    if (!prog.arch.isKernelAddress(w)) continue;
    // named as the kernel's own stack dump names them (%pB: return addresses at pc - 1)
    if (isKernelText(prog, w)) out.push({ slot: start + BigInt(o), pc: w, sym: symbolize(prog, w, true) ?? symbolize(prog, w, false) });
  }
  return out;
}

// ------------------------------------------------------------------------ stack scans (bt -e/-E/-T/-r/-v)

/**
 * x86_64 segment selectors of the Linux GDT (arch/x86/include/asm/segment.h: GDT_ENTRY_KERNEL_CS
 * = 2, KERNEL_DS = 3, DEFAULT_USER_DS = 5, DEFAULT_USER_CS = 6; user selectors carry RPL 3). They
 * are part of the x86_64 kernel ABI (every kernel 5.10-7.x), not a layout to detect.
 */
const KERNEL_CS = 0x10n;
const KERNEL_SS = 0x18n;
const USER_CS = 0x33n;
const USER_SS = 0x2bn;
/** EFLAGS bits that read as zero (reserved), and bit 1 that always reads as one (Intel SDM 3.4.3). */
const EFLAGS_RESERVED = 0xffffffffffc08028n;
const EFLAGS_FIXED1 = 0x2n;
/** The canonical halves of the x86_64 address space. */
const KERNEL_HALF = 0xffff800000000000n;
const USER_END = 0x0000800000000000n;
/** include/uapi/linux/magic.h: the word at the bottom of every task stack (end_of_stack()). */
export const STACK_END_MAGIC = 0x57ac6e9dn;

export interface FoundExceptionFrame {
  /** where the struct pt_regs starts */
  address: bigint;
  regs: Regs;
  user: boolean;
}

/**
 * Words of the stack that read as a struct pt_regs of an exception or syscall entry (crash's
 * bt -e / -E): a kernel frame has the kernel's CS/SS selectors, valid EFLAGS, an RIP in kernel or
 * module text and a kernel RSP; a user frame the user selectors, valid EFLAGS and user RIP/RSP.
 * Every 8-byte-aligned position of [from, end - sizeof(pt_regs)] is tried. Unreadable memory
 * ends nothing: the range is read once and an unreadable range has no frames (`unreadable`).
 */
export function searchExceptionFrames(prog: Program, range: { start: bigint; end: bigint }, from?: bigint): { frames: FoundExceptionFrame[]; unreadable: boolean } {
  const { offs, size } = ptRegsLayout(prog);
  const start = (from ?? range.start) & ~7n;
  if (range.end - start < BigInt(size)) return { frames: [], unreadable: false };
  const b = prog.mem.tryRead(start, Number(range.end - start));
  if (!b) return { frames: [], unreadable: true };
  const frames: FoundExceptionFrame[] = [];
  const last = b.length - size;
  for (let o = 0; o <= last; o += 8) {
    const cs = u64(b, o + offs.cs);
    const ss = u64(b, o + offs.ss);
    const user = cs === USER_CS && ss === USER_SS;
    if (!user && !(cs === KERNEL_CS && ss === KERNEL_SS)) continue;
    const flags = u64(b, o + offs.flags);
    if (flags & EFLAGS_RESERVED || !(flags & EFLAGS_FIXED1)) continue;
    const ip = u64(b, o + offs.ip);
    const sp = u64(b, o + offs.sp);
    if (user ? !(ip < USER_END && sp < USER_END) : !(sp >= KERNEL_HALF && isKernelText(prog, ip))) continue;
    const regs = {} as Regs;
    for (const k of PT_REGS) regs[k] = u64(b, o + offs[k]);
    regs.cs &= 0xffffn;
    regs.ss &= 0xffffn;
    frames.push({ address: start + BigInt(o), regs, user });
  }
  return { frames, unreadable: false };
}

/** The task's own kernel stack (process stack), or null for a task without one. */
export function processStack(prog: Program, task: TaskInfo): StackRange | null {
  return task.stack ? { start: task.stack, end: task.stack + BigInt(threadSize(prog)), name: 'process stack' } : null;
}

/**
 * Every stack word of a range with the text addresses found in it (bt -r: the raw stack; bt -T:
 * the text symbols from the bottom of the stack). Bounded by the stack size; null when unreadable.
 */
export function stackWordsOf(prog: Program, range: { start: bigint; end: bigint }): bigint[] | null {
  const n = Number((range.end - range.start) / 8n);
  const b = prog.mem.tryRead(range.start, n * 8);
  if (!b) return null;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(u64(b, i * 8));
  return out;
}

export interface StackOverflowCheck {
  task: TaskInfo;
  /** the stack's lowest word (end_of_stack) and what it holds */
  location: bigint;
  value: bigint | null;
}

/**
 * bt -v: every task whose stack-end word is not STACK_END_MAGIC (the stack overflowed into it, or
 * it was scribbled over). With the thread_info inside task_struct (every kernel we read) that is
 * the only evidence left on the stack; init_task's static stack is not checked (crash skips it
 * too). `magicSeen` says whether any stack carried the magic at all (a kernel without it cannot be
 * checked); unreadable stacks are listed with value null.
 */
export function checkStackEnds(prog: Program, tasks: TaskInfo[]): { bad: StackOverflowCheck[]; magicSeen: boolean; checked: number } {
  const init = prog.symbolAddress('init_task');
  const bad: StackOverflowCheck[] = [];
  let magicSeen = false;
  let checked = 0;
  for (const t of tasks) {
    if (!t.stack || (t.pid === 0 && t.task === init)) continue;
    const b = prog.mem.tryRead(t.stack, 8);
    checked++;
    const v = b ? u64(b, 0) : null;
    if (v === STACK_END_MAGIC) magicSeen = true;
    else bad.push({ task: t, location: t.stack, value: v });
  }
  return { bad: magicSeen ? bad : [], magicSeen, checked };
}
