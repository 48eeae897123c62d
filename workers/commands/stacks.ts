/**
 * `stacks [-c function|/regex/] [-m module] [-s state[,state]] [-v]`: every task grouped by
 * identical stack, most common first, with the count, the states and the tasks (sdb's `stacks`).
 * `hung [-t seconds]`: tasks in D state that have not run for that long (default: the kernel's
 * hung_task_timeout_secs, 0 when it has none), their stacks and the lock they wait on.
 */
import { groupStacks, hungTasks, hungTaskTimeout, type StackFrameKey } from '../analysis/stacks';
import { formatSpan } from '../analysis/sched';
import { CommandError, checkCancel, parseFlags, registerCommand } from './registry';
import type { Program } from '../kernel/program';

/** A frame of `stacks`/`hung --json`. */
export interface StackFrameJson {
  symbol: string | null;
  offset: number;
  module: string | null;
  pc: string;
}

/** A task of a `stacks --json` group. */
export interface StackTaskJson {
  pid: number;
  task: string;
  comm: string;
  state: string;
  cpu: number;
}

/** `stacks --json`: the groups of identical stacks, most common first. */
export interface StacksJson {
  groups: Array<{ count: number; states: Record<string, number>; tasks: StackTaskJson[]; frames: StackFrameJson[]; stopped: string | null }>;
  problems: string[];
}

/** A task of `hung --json` with its stack and the locks it waits on. */
export interface HungTaskJson {
  pid: number;
  task: string;
  comm: string;
  cpu: number;
  since_ns: string;
  frames: StackFrameJson[];
  waits: Array<{
    in: string;
    lock: string;
    /** the lock's symbol when it is a global variable ("lab_mutex [hung_locks]") */
    symbol: string | null;
    type: string;
    owner: { pid: number; task: string; comm: string; state: string } | null;
    /** the owner field as stored: task pointer | flag bits */
    owner_raw: string;
    waiters: Array<{ pid: number; task: string; comm: string }> | null;
    how: string;
  }>;
}

/** `hung --json` */
export interface HungJson {
  seconds: number;
  tasks: HungTaskJson[];
  problems: string[];
}

const hex = (v: bigint) => '0x' + v.toString(16);
const frameText = (f: StackFrameKey) => (f.symbol ? `${f.symbol}+${f.offset}${f.module ? ` [${f.module}]` : ''}` : f.pc.toString(16));
const frameJson = (f: StackFrameKey): StackFrameJson => ({ symbol: f.symbol, offset: f.offset, module: f.module, pc: hex(f.pc) });
/** A lock that is a global variable, by its symbol ("lab_mutex [hung_locks]"); null otherwise. */
function lockName(prog: Program, addr: bigint): string | null {
  const h = prog.symbols.lookup(addr);
  if (!h || h.offset !== 0) return null;
  return `${h.sym.name}${h.sym.module ? ` [${h.sym.module}]` : ''}`;
}

registerCommand({
  name: 'stacks',
  summary: 'all tasks grouped by identical stack: counts, states, tasks; filter by function, module or state',
  usage: 'stacks [-c function|/regex/] [-m module] [-s RU,IN,UN...] [-v]',
  run(args, ctx) {
    const { flags, values, rest } = parseFlags(args, { bool: ['-v'], value: ['-c', '-m', '-s'] });
    if (rest.length) throw new CommandError(`stacks: unexpected argument ${rest[0]}`);
    const { groups, problems } = groupStacks(
      ctx.prog,
      { func: values.get('-c'), module: values.get('-m'), states: values.get('-s')?.split(',') },
      () => checkCancel(ctx),
    );
    const lines: string[] = [];
    const total = groups.reduce((n, g) => n + g.tasks.length, 0);
    lines.push(`${groups.length} distinct stack${groups.length === 1 ? '' : 's'}, ${total} task${total === 1 ? '' : 's'}`);
    for (const g of groups) {
      const states = [...g.states].map(([s, n]) => `${s}:${n}`).join(' ');
      const shown = flags.has('-v') ? g.tasks : g.tasks.slice(0, 8);
      const pids = shown.map((t) => `${t.pid}(${t.comm})`).join(' ') + (shown.length < g.tasks.length ? ` ... +${g.tasks.length - shown.length}` : '');
      lines.push('');
      lines.push(`COUNT: ${g.tasks.length}  STATES: ${states}  TASKS: ${pids}`);
      g.frames.forEach((f, i) => lines.push(`  ${('#' + i).padStart(3)} ${frameText(f)}`));
      if (g.stopped) lines.push(`      (${g.stopped})`);
    }
    for (const p of problems) lines.push(`stacks: ${p}`);
    return {
      text: lines.join('\n') + '\n',
      json: {
        groups: groups.map((g) => ({
          count: g.tasks.length,
          states: Object.fromEntries(g.states),
          tasks: g.tasks.map((t) => ({ pid: t.pid, task: hex(t.task), comm: t.comm, state: t.state, cpu: t.cpu })),
          frames: g.frames.map(frameJson),
          stopped: g.stopped ?? null,
        })),
        problems,
      } satisfies StacksJson,
    };
  },
});

registerCommand({
  name: 'hung',
  summary: "tasks in D state that have not run for N seconds (default: the kernel's hung_task_timeout_secs), stacks and the lock they wait on",
  usage: 'hung [-t seconds]',
  run(args, ctx) {
    const { values, rest } = parseFlags(args, { value: ['-t'] });
    if (rest.length) throw new CommandError(`hung: unexpected argument ${rest[0]}`);
    const kernelTimeout = hungTaskTimeout(ctx.prog);
    const secs = values.has('-t') ? Number(values.get('-t')) : kernelTimeout ?? 0;
    if (!Number.isFinite(secs) || secs < 0) throw new CommandError(`hung: invalid -t ${values.get('-t')}`);
    const { tasks, problems } = hungTasks(ctx.prog, secs, () => checkCancel(ctx));
    const lines = [`${tasks.length} task${tasks.length === 1 ? '' : 's'} in D state not run for ${secs} s or more${values.has('-t') ? '' : kernelTimeout !== null ? ' (hung_task_timeout_secs)' : ''}`];
    for (const h of tasks) {
      const t = h.task;
      lines.push('');
      lines.push(`${formatSpan(h.sinceNs)} [${t.state}]  PID: ${t.pid}  TASK: ${t.task.toString(16)}  CPU: ${t.cpu}  COMMAND: "${t.comm}"`);
      h.frames.forEach((f, i) => lines.push(`  ${('#' + i).padStart(3)} ${frameText(f)}`));
      for (const w of h.waits) {
        const name = lockName(ctx.prog, w.lock);
        lines.push(`  waits on ${w.type} ${w.lock.toString(16)}${name ? ` (${name})` : ''} in ${w.in}`);
        lines.push(`    owner: ${w.owner ? `PID ${w.owner.pid} TASK ${w.owner.task.toString(16)} "${w.owner.comm}" [${w.owner.state}]` : 'none'} (owner field ${w.ownerRaw.toString(16)})`);
        if (w.waiters) lines.push(`    waiters: ${w.waiters.map((x) => `${x.pid} "${x.comm}"`).join(', ')}`);
        lines.push(`    found as: ${w.how}`);
      }
    }
    for (const p of problems) lines.push(`hung: ${p}`);
    return {
      text: lines.join('\n') + '\n',
      json: {
        seconds: secs,
        tasks: tasks.map((h) => ({
          pid: h.task.pid, task: hex(h.task.task), comm: h.task.comm, cpu: h.task.cpu, since_ns: h.sinceNs.toString(),
          frames: h.frames.map(frameJson),
          waits: h.waits.map((w) => ({
            in: w.in, lock: hex(w.lock), symbol: lockName(ctx.prog, w.lock), type: w.type,
            owner: w.owner ? { pid: w.owner.pid, task: hex(w.owner.task), comm: w.owner.comm, state: w.owner.state } : null,
            owner_raw: hex(w.ownerRaw),
            waiters: w.waiters ? w.waiters.map((x) => ({ pid: x.pid, task: hex(x.task), comm: x.comm })) : null,
            how: w.how,
          })),
        })),
        problems,
      } satisfies HungJson,
    };
  },
});
