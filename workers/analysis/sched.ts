/**
 * Scheduler facts (kernel/sched/core.c, kernel/sched/sched.h): per-CPU run queues and when a task
 * last ran, as crash's `ps -m`/`ps -l` and `runq` read them.
 */
import type { Program } from '../kernel/program';
import type { TaskInfo } from './tasks';
import { MemoryError } from '../errors';

/** crash's state order for `ps -S`. */
export const STATE_ORDER = ['RU', 'IN', 'UN', 'ST', 'TR', 'ZO', 'DE', 'WA', 'PA', 'ID', 'NE', 'SW'];

/** Counts per crash state name, in crash's order. */
export function stateCounts(tasks: TaskInfo[]): Array<{ state: string; count: number }> {
  const m = new Map<string, number>();
  for (const t of tasks) m.set(t.state, (m.get(t.state) ?? 0) + 1);
  const known = STATE_ORDER.filter((s) => m.has(s)).map((s) => ({ state: s, count: m.get(s)! }));
  const other = [...m.keys()].filter((s) => !STATE_ORDER.includes(s)).sort().map((s) => ({ state: s, count: m.get(s)! }));
  return [...known, ...other];
}

/** task->sched_info.last_arrival (ns of the rq clock), or null when the kernel lacks it. */
export function lastArrival(prog: Program, task: bigint): bigint | null {
  if (!prog.hasMember('struct task_struct', 'sched_info.last_arrival')) return null;
  try {
    return prog.obj('struct task_struct', task).member('sched_info.last_arrival').value();
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
}

/** rq->clock of one CPU (ns). */
export function rqClock(prog: Program, cpu: number): bigint | null {
  try {
    return prog.obj('struct rq', prog.perCpu('runqueues', cpu)).member('clock').value();
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
}

/** The latest rq clock of all CPUs: the time of the dump on the scheduler's clock. */
export function latestRqClock(prog: Program): bigint {
  let best = 0n;
  for (let c = 0; c < prog.perCpuOffsets().length; c++) {
    const v = rqClock(prog, c);
    if (v !== null && v > best) best = v;
  }
  return best;
}

/** crash's "[d hh:mm:ss.mmm]" of a nanosecond span. */
export function formatSpan(ns: bigint): string {
  if (ns < 0n) ns = 0n;
  const ms = ns / 1000000n;
  const d = ms / 86400000n;
  const h = (ms / 3600000n) % 24n;
  const m = (ms / 60000n) % 60n;
  const s = (ms / 1000n) % 60n;
  const r = ms % 1000n;
  const p = (v: bigint, n: number) => v.toString().padStart(n, '0');
  return `[${d} ${p(h, 2)}:${p(m, 2)}:${p(s, 2)}.${p(r, 3)}]`;
}
