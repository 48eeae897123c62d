/**
 * Scheduler facts (kernel/sched/core.c, kernel/sched/sched.h): per-CPU run queues and when a task
 * last ran, as crash's `ps -m`/`ps -l` and `runq` read them.
 */
import type { Program } from '../kernel/program';
import type { TaskInfo } from './tasks';
import { MemoryError } from '../errors';
import { rbWalk } from './rbtree';

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

export interface RunqEntry {
  task: bigint;
  prio: number;
}

export interface RunQueue {
  cpu: number;
  rq: bigint;
  curr: bigint | null;
  rtArray: bigint;
  rt: RunqEntry[];
  cfsRoot: bigint;
  cfs: RunqEntry[];
  problems: string[];
}

/**
 * One CPU's run queue as crash's `runq` shows it (task.c dump_CFS_runqueues): RT tasks by
 * priority queue (rt_rq.active.queue[]), CFS tasks in rb-tree order, through group run queues
 * (sched_entity.my_q) into the tasks.
 */
export function runQueue(prog: Program, cpu: number): RunQueue {
  const problems: string[] = [];
  const rqT = prog.type('struct rq');
  const rq = prog.perCpu('runqueues', cpu);
  const o = prog.obj(rqT, rq);
  let curr: bigint | null = null;
  try {
    curr = o.member('curr').ptr();
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    problems.push(e.message);
  }
  const taskT = prog.type('struct task_struct');
  const prioOf = (t: bigint) => prog.obj(taskT, t).member('prio').num();
  // RT
  const active = o.member('rt').member('active');
  const queue = active.member('queue');
  const lh = prog.sizeof('struct list_head');
  const nq = Math.floor(queue.size / lh);
  const rtOff = BigInt(prog.offsetof(taskT, 'rt'));
  const runListOff = BigInt(prog.offsetof('struct sched_rt_entity', 'run_list'));
  const rtMyQ = prog.hasMember('struct sched_rt_entity', 'my_q');
  const rt: RunqEntry[] = [];
  const rtWalk = (arr: bigint, depth: number) => {
    if (depth > 8) return;
    for (let i = 0; i < nq; i++) {
      const head = arr + BigInt(prog.offsetof('struct rt_prio_array', 'queue') + i * lh);
      try {
        let n = prog.mem.u64(head);
        const seen = new Set<bigint>();
        while (n !== head && seen.size < 100000) {
          if (seen.has(n)) {
            problems.push(`rt queue[${i}] loops`);
            break;
          }
          seen.add(n);
          const ent = n - runListOff;
          const myq = rtMyQ ? prog.obj('struct sched_rt_entity', ent).member('my_q').ptr() : 0n;
          if (myq) rtWalk(myq + BigInt(prog.offsetof('struct rt_rq', 'active')), depth + 1);
          else rt.push({ task: ent - rtOff, prio: i });
          n = prog.mem.u64(n);
        }
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        problems.push(`rt queue[${i}]: ${e.message}`);
      }
    }
  };
  rtWalk(active.address, 0);
  // CFS
  const cfs = o.member('cfs');
  const cfsRoot = cfs.member('tasks_timeline').address;
  const seOff = BigInt(prog.offsetof(taskT, 'se'));
  const runNodeOff = BigInt(prog.offsetof('struct sched_entity', 'run_node'));
  const hasMyQ = prog.hasMember('struct sched_entity', 'my_q');
  const out: RunqEntry[] = [];
  const seenTask = new Set<bigint>();
  const cfsWalk = (cfsRq: bigint, depth: number) => {
    if (depth > 8) return;
    const c = prog.obj('struct cfs_rq', cfsRq);
    if (hasMyQ) {
      const cur = c.member('curr').ptr();
      if (cur) {
        const mq = prog.obj('struct sched_entity', cur).member('my_q').ptr();
        if (mq) cfsWalk(mq, depth + 1);
      }
    }
    const root = c.member('tasks_timeline').address;
    const w = rbWalk(prog, root);
    problems.push(...w.problems);
    for (const node of w.nodes) {
      const se = node - runNodeOff;
      const mq = hasMyQ ? prog.obj('struct sched_entity', se).member('my_q').ptr() : 0n;
      if (mq) {
        cfsWalk(mq, depth + 1);
        continue;
      }
      const t = se - seOff;
      if (seenTask.has(t)) {
        problems.push(`duplicate CFS runqueue node: task ${t.toString(16)}`);
        return;
      }
      seenTask.add(t);
      out.push({ task: t, prio: prioOf(t) });
    }
  };
  try {
    cfsWalk(cfs.address, 0);
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    problems.push(`cfs: ${e.message}`);
  }
  return { cpu, rq, curr, rtArray: active.address, rt, cfsRoot, cfs: out, problems };
}
