/**
 * Every task's stack, grouped (sdb's `stacks`, mdb's `::stacks`): tasks whose unwound frames
 * are the same (function+offset of every frame) form one group, with its count, states and
 * tasks. And `hung`: tasks in D state (TASK_UNINTERRUPTIBLE) that have not run for N seconds
 * (kernel/hung_task.c's check), with their stacks and, where the stack shows a sleeping lock,
 * the lock and its owner.
 */
import type { Program } from '../kernel/program';
import { MemoryError, DumpError, expectedError } from '../errors';
import { walkList } from '../kernel/list';
import { taskList, threadSize, type TaskInfo } from './tasks';
import { unwindTask } from './unwind';
import { lastArrival, rqClock, latestRqClock } from './sched';

export interface StackFrameKey {
  symbol: string | null;
  offset: number;
  module: string | null;
  pc: bigint;
}

export interface StackGroup {
  frames: StackFrameKey[];
  tasks: TaskInfo[];
  states: Map<string, number>;
  /** when the unwinder stopped early for these tasks */
  stopped?: string;
}

export interface StackFilter {
  /** keep groups with a frame in this function (exact name, or a /regex/) */
  func?: string;
  /** keep groups with a frame in this module */
  module?: string;
  /** keep tasks in these crash states (RU, IN, UN, ...) */
  states?: string[];
}

function frameMatches(f: StackFrameKey, func: string): boolean {
  if (!f.symbol) return false;
  const m = /^\/(.+)\/$/.exec(func);
  return m ? new RegExp(m[1]).test(f.symbol) : f.symbol === func;
}

/** Unwind every task once per dump (cached) and group identical stacks, most common first. */
export function groupStacks(prog: Program, filter: StackFilter = {}, cancel?: () => void): { groups: StackGroup[]; problems: string[] } {
  const problems: string[] = [];
  const tasks = taskList(prog);
  const byKey = new Map<string, StackGroup>();
  for (const t of tasks) {
    cancel?.();
    if (filter.states && !filter.states.includes(t.state)) continue;
    let frames: StackFrameKey[] = [];
    let stopped: string | undefined;
    try {
      const u = unwindTask(prog, t);
      frames = u.frames.filter((f) => !f.user).map((f) => ({ symbol: f.sym?.sym.name ?? null, offset: f.sym?.offset ?? 0, module: f.sym?.sym.module ?? null, pc: f.pc }));
      stopped = u.stopped;
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      problems.push(`PID ${t.pid} (${t.task.toString(16)}): ${e.message}`);
      stopped = e.message;
    }
    const key = frames.map((f) => (f.symbol ? `${f.symbol}+${f.offset}${f.module ? `[${f.module}]` : ''}` : f.pc.toString(16))).join('|') + (stopped ? `|!${stopped}` : '');
    let g = byKey.get(key);
    if (!g) {
      g = { frames, tasks: [], states: new Map(), stopped };
      byKey.set(key, g);
    }
    g.tasks.push(t);
    g.states.set(t.state, (g.states.get(t.state) ?? 0) + 1);
  }
  let groups = [...byKey.values()];
  if (filter.func) groups = groups.filter((g) => g.frames.some((f) => frameMatches(f, filter.func!)));
  if (filter.module) groups = groups.filter((g) => g.frames.some((f) => f.module === filter.module));
  groups.sort((a, b) => b.tasks.length - a.tasks.length || a.tasks[0].pid - b.tasks[0].pid);
  return { groups, problems };
}

export interface LockWait {
  /** the function the task sleeps in (mutex_lock, down_read, ...) */
  in: string;
  lock: bigint;
  type: string;
  owner?: TaskInfo;
  /** the lock's owner field as stored (task pointer | flag bits) */
  ownerRaw: bigint;
  /** the tasks on the lock's wait list, in queue order (when the waiter type is known) */
  waiters?: TaskInfo[];
  how: string;
}

export interface HungTask {
  task: TaskInfo;
  /** ns since it last ran (its CPU's rq clock - sched_info.last_arrival) */
  sinceNs: bigint;
  frames: StackFrameKey[];
  waits: LockWait[];
}

const MUTEX_FUNCS = /^(__)?mutex_lock|^mutex_lock|^__mutex_lock/;
const RWSEM_FUNCS = /^(rwsem_down_(read|write)_slowpath|down_(read|write)|__down_(read|write))/;

/**
 * Which sleeping lock a task waits on, from the words of its stack near the lock frame: a struct
 * mutex (or rw_semaphore) whose owner (low bits masked) is a task or none, and whose wait_list
 * (walked with both links checked; struct mutex_waiter / rwsem_waiter from BTF) holds this task;
 * when BTF lacks the waiter type, a non-empty wait_list has to do, and `how` says so. The lock's address is kept in a callee-saved register by the lock function, so it is
 * found where the functions it called (schedule, __schedule) saved it: the words from the
 * innermost frame's stack pointer (`from`) up to 512 bytes past the lock frame, never past the
 * end of the task's stack. A heuristic over the stack's own values: each answer says how it was
 * found.
 */
export function lockWaits(prog: Program, t: TaskInfo, from: bigint, sp: bigint[], inFuncs: string[]): LockWait[] {
  const out: LockWait[] = [];
  const all = taskList(prog);
  const byAddr = new Map(all.map((x) => [x.task, x]));
  const tryLock = (type: string, v: bigint, fn: string): LockWait | null => {
    const id = prog.findType(type);
    if (id === null) return null;
    // the waiter records queued on the lock's wait_list (kernel/locking/mutex.h, rwsem.c): list + task
    const waiterType = type === 'struct mutex' ? 'struct mutex_waiter' : 'struct rwsem_waiter';
    const wid = prog.findType(waiterType);
    try {
      const o = prog.obj(id, v);
      // owner: a task pointer with flag bits below the task_struct alignment (mutex: WAITERS,
      // HANDOFF, PICKUP; rwsem: READER_OWNED, NONSPINNABLE); atomic_long_t since 4.10/5.3
      const ow = o.member('owner');
      const ownerRaw = BigInt.asUintN(64, (ow.kind === 'struct' ? ow.member('counter') : ow).value());
      const owner = ownerRaw & ~7n;
      const wl = o.member('wait_list');
      if (wl.member('next').ptr() === wl.address) return null; // nobody waits: not the lock we sleep on
      const ot = byAddr.get(owner);
      if (owner !== 0n && !ot) return null;
      let waiters: TaskInfo[] | undefined;
      let how: string;
      if (wid !== null) {
        // the lock this task sleeps on has it on its wait list: walk the list (bounded by the
        // number of tasks, each link checked both ways) and require it
        const w = walkList(prog, wl.address, { nextOffset: prog.offsetof(wid, 'list'), headIsAnchor: true, checkPrev: true, limit: all.length + 1 });
        if (w.stop.kind !== 'end') return null;
        waiters = [];
        for (const e of w.entries) {
          const wt = byAddr.get(prog.obj(wid, e).member('task').ptr());
          if (!wt) return null;
          waiters.push(wt);
        }
        if (!waiters.some((x) => x.task === t.task)) return null;
        how = `a ${type} on ${t.comm}'s stack whose wait_list holds it (${waiters.length} waiter${waiters.length === 1 ? '' : 's'})`;
      } else {
        how = `a ${type} on ${t.comm}'s stack with waiters (no ${waiterType} type to check the wait list)`;
      }
      return { in: fn, lock: v, type, owner: ot, ownerRaw, waiters, how };
    } catch (e) {
      if (e instanceof MemoryError || e instanceof DumpError) return null;
      throw e;
    }
  };
  const stackEnd = t.stack ? t.stack + BigInt(threadSize(prog)) : null;
  for (const [k, fn] of inFuncs.entries()) {
    const type = MUTEX_FUNCS.test(fn) ? 'struct mutex' : RWSEM_FUNCS.test(fn) ? 'struct rw_semaphore' : null;
    if (!type) continue;
    const seen = new Set<bigint>();
    const start = from & ~7n;
    let end = sp[k] + 512n;
    if (stackEnd !== null && start >= t.stack! && start < stackEnd && end > stackEnd) end = stackEnd;
    if (end <= start || end - start > 0x10000n) continue;
    // page by page: one unreadable page (excluded from the dump, the guard page) loses only itself
    for (let page = start; page < end; page = (page & ~0xfffn) + 0x1000n) {
      const stop = (page & ~0xfffn) + 0x1000n < end ? (page & ~0xfffn) + 0x1000n : end;
      const b = prog.mem.tryRead(page, Number(stop - page));
      if (!b) continue;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 8 <= b.length; i += 8) {
        const v = dv.getBigUint64(i, true);
        if (!prog.arch.isKernelAddress(v) || seen.has(v)) continue;
        seen.add(v);
        const w = tryLock(type, v, fn);
        if (w) {
          out.push(w);
          return out;
        }
      }
    }
  }
  return out;
}

/** kernel/hung_task.c: sysctl_hung_task_timeout_secs, or null when the kernel has none. */
export function hungTaskTimeout(prog: Program): number | null {
  const a = prog.symbolAddress('sysctl_hung_task_timeout_secs');
  if (a === undefined) return null;
  try {
    return Number(prog.mem.u64(a));
  } catch (e) {
    expectedError(e);
    return null;
  }
}

/** D-state tasks that have not run for at least `seconds`. */
export function hungTasks(prog: Program, seconds: number, cancel?: () => void): { tasks: HungTask[]; problems: string[] } {
  const problems: string[] = [];
  const latest = latestRqClock(prog);
  const out: HungTask[] = [];
  for (const t of taskList(prog)) {
    cancel?.();
    if (t.state !== 'UN') continue;
    const last = lastArrival(prog, t.task);
    const now = rqClock(prog, t.cpu) ?? latest;
    const since = last === null ? 0n : now - last;
    if (since < BigInt(Math.round(seconds * 1e9))) continue;
    let frames: StackFrameKey[] = [];
    let waits: LockWait[] = [];
    try {
      const u = unwindTask(prog, t);
      frames = u.frames.filter((f) => !f.user).map((f) => ({ symbol: f.sym?.sym.name ?? null, offset: f.sym?.offset ?? 0, module: f.sym?.sym.module ?? null, pc: f.pc }));
      const lockFrames = u.frames.filter((f) => f.sym && (MUTEX_FUNCS.test(f.sym.sym.name) || RWSEM_FUNCS.test(f.sym.sym.name)));
      if (lockFrames.length) waits = lockWaits(prog, t, u.frames[0].sp, lockFrames.map((f) => f.sp), lockFrames.map((f) => f.sym!.sym.name));
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      problems.push(`PID ${t.pid}: ${e.message}`);
    }
    out.push({ task: t, sinceNs: since, frames, waits });
  }
  out.sort((a, b) => (a.sinceNs > b.sinceNs ? -1 : 1));
  return { tasks: out, problems };
}
