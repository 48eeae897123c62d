/**
 * `ps`: the task list in crash's layout (crash's ps.txt):
 *
 *       PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM
 *  >     120       1   0  ffff888006210000  RU   0.2     2260      908  insmod
 *
 * ">" marks each CPU's active task; idle tasks (swapper/N) come first, one per CPU; kernel
 * threads' names are bracketed. VSZ/RSS in KiB from mm->total_vm and the mm rss counters;
 * %MEM = RSS pages / the nodes' spanned pages.
 * Options: -p (the task and its parents), -k / -u (kernel threads / user tasks only), --json.
 */
import { registerCommand, parseFlags, checkCancel, CommandError } from './registry';
import {
  taskList,
  taskRssPages,
  taskVmPages,
  totalPages,
  findTask,
  taskWalkProblemLines,
  type TaskInfo,
} from '../analysis/tasks';
import type { Program } from '../kernel/program';
import { stateCounts, lastArrival, latestRqClock, rqClock, formatSpan } from '../analysis/sched';
import { systemInfo } from './sys';
import { btHeader } from './bt';
import { readUser } from '../analysis/mm';
import { expectedError } from '../errors';

export interface PsRow {
  pid: number;
  ppid: number;
  cpu: number;
  task: string;
  state: string;
  comm: string;
  active: boolean;
  mem_pct: string;
  vsz: number;
  rss: number;
}

function pageKiB(prog: Program): number {
  return (prog.phys.pageSize || 4096) / 1024;
}

export function psRows(prog: Program, tasks: TaskInfo[]): PsRow[] {
  const total = totalPages(prog);
  const kib = pageKiB(prog);
  const rssCache = new Map<bigint, [number, number]>();
  return tasks.map((t) => {
    let rss = 0;
    let vm = 0;
    if (t.mm && !t.idle) {
      let c = rssCache.get(t.mm);
      if (!c) rssCache.set(t.mm, (c = [taskRssPages(prog, t), taskVmPages(prog, t)]));
      [rss, vm] = c;
    }
    const pct = total ? (rss * 100) / total : 0;
    return {
      pid: t.pid,
      ppid: t.ppid,
      cpu: t.cpu,
      task: '0x' + t.task.toString(16),
      state: t.state,
      comm: t.kthread || t.idle ? `[${t.comm}]` : t.comm,
      active: t.active,
      mem_pct: pct.toFixed(1),
      vsz: vm * kib,
      rss: rss * kib,
    };
  });
}

export function formatPs(rows: PsRow[]): string {
  const lines = ['      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM'];
  for (const r of rows) {
    lines.push(
      `${r.active ? '>' : ' '}${String(r.pid).padStart(8)}${String(r.ppid).padStart(8)}${String(r.cpu).padStart(4)}  ` +
        `${r.task.slice(2).padStart(16, '0')}  ${r.state.padEnd(2)}  ${r.mem_pct.padStart(4)}${String(r.vsz).padStart(9)}${String(r.rss).padStart(9)}  ${r.comm}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * crash's ps -t: run time (uptime - start), start time (ns since boot), utime and stime (ns) of
 * each task, oldest first.
 */
function psTimes(prog: Program, tasks: TaskInfo[]) {
  const up = systemInfo(prog).uptime;
  const rows = tasks.map((t) => {
    const o = prog.obj('struct task_struct', t.task);
    return { t, start: o.member('start_time').value(), utime: o.member('utime').value(), stime: o.member('stime').value() };
  });
  rows.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const runTime = (start: bigint) => {
    if (!up.ok) return '(cannot calculate: unknown HZ value)';
    const hz = BigInt(up.value.hz);
    const st = (start / 1000000000n) * hz;
    const j = st > up.value.jiffies ? 0n : up.value.jiffies - st;
    let total = j / hz;
    const days = total / 86400n;
    total %= 86400n;
    const p2 = (v: bigint) => v.toString().padStart(2, '0');
    return `${days ? `${days} days, ` : ''}${p2(total / 3600n)}:${p2((total % 3600n) / 60n)}:${p2(total % 60n)}`;
  };
  const text = rows
    .map((r) => `${btHeader(r.t)}\n    RUN TIME: ${runTime(r.start)}\n  START TIME: ${r.start}\n       UTIME: ${r.utime}\n       STIME: ${r.stime}\n`)
    .join('\n');
  return { text, json: rows.map((r) => ({ pid: r.t.pid, task: '0x' + r.t.task.toString(16), comm: r.t.comm, run_time: runTime(r.start), start_time: r.start.toString(), utime: r.utime.toString(), stime: r.stime.toString() })) };
}

/**
 * crash's ps -m: time since each task last ran (its CPU's rq clock - sched_info.last_arrival),
 * most recent first; ps -l: the raw last_arrival timestamps (ns) in the same order.
 */
function psLastRun(prog: Program, tasks: TaskInfo[], raw = false) {
  const latest = latestRqClock(prog);
  const clocks = new Map<number, bigint>();
  const clock = (cpu: number) => {
    if (!clocks.has(cpu)) clocks.set(cpu, rqClock(prog, cpu) ?? latest);
    return clocks.get(cpu)!;
  };
  const rows = tasks.map((t) => ({ t, last: lastArrival(prog, t.task) ?? 0n, now: clock(t.cpu) }));
  rows.sort((a, b) => (a.last > b.last ? -1 : a.last < b.last ? 1 : 0));
  const lw = Math.max(0, ...rows.map((r) => r.last.toString().length));
  const text = rows
    .map(({ t, last, now }) => `${raw ? `[${last.toString().padStart(lw)}]` : formatSpan(now - last)} [${t.state}]  PID: ${String(t.pid).padEnd(7)}  TASK: ${t.task.toString(16)}  CPU: ${String(t.cpu).padEnd(3)}  COMMAND: "${t.comm}"`)
    .join('\n');
  return { text: text + '\n', json: rows.map(({ t, last, now }) => ({ pid: t.pid, task: '0x' + t.task.toString(16), cpu: t.cpu, state: t.state, comm: t.comm, last_arrival: last.toString(), since_ns: (now - last).toString() })) };
}

/** One task of `ps -a --json`: its argv and environment strings, or why they cannot be read. */
export interface PsArgsRow {
  pid: number;
  task: string;
  comm: string;
  /** null for a kernel thread (no mm: "no user stack") or when unreadable */
  args: string[] | null;
  env: string[] | null;
  problem?: string;
}

const MAX_ARGS_BYTES = 8 << 20;

function cstrings(b: Uint8Array): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of b) {
    if (c === 0) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += String.fromCharCode(c);
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * crash's ps -a: each task's command line (mm->arg_start..arg_end) and environment
 * (env_start..env_end) read from its user stack through its page tables. Kernel threads have
 * no user stack; user pages left out of the dump (makedumpfile -d 8/31) cannot be read, and
 * crash's message names the first user address that failed.
 */
function psArgs(prog: Program, tasks: TaskInfo[], ctx: Parameters<typeof checkCancel>[0]) {
  let text = '';
  const rows: PsArgsRow[] = [];
  const problems: string[] = [];
  for (const t of tasks) {
    checkCancel(ctx);
    text += btHeader(t) + '\n';
    const row: PsArgsRow = { pid: t.pid, task: '0x' + t.task.toString(16), comm: t.comm, args: null, env: null };
    rows.push(row);
    if (!t.mm) {
      text += 'ps: no user stack\n\n';
      row.problem = 'no user stack';
      continue;
    }
    const fail = (msg: string) => {
      text += `ps: ${msg}\n\n`;
      row.problem = msg;
      problems.push(`ps: ${msg}`);
    };
    let range: { as: bigint; ae: bigint; es: bigint; ee: bigint };
    try {
      const mm = prog.obj('struct mm_struct', t.mm);
      range = { as: mm.member('arg_start').value(), ae: mm.member('arg_end').value(), es: mm.member('env_start').value(), ee: mm.member('env_end').value() };
    } catch (e) {
      expectedError(e);
      fail(`mm_struct ${t.mm.toString(16)} unreadable: ${(e as Error).message}`);
      continue;
    }
    const read = (start: bigint, end: bigint): Uint8Array | null => {
      if (end < start || end - start > BigInt(MAX_ARGS_BYTES)) {
        fail(`invalid user stack range: ${start.toString(16)}-${end.toString(16)}`);
        return null;
      }
      const r = readUser(prog, t.mm!, start, Number(end - start));
      if ('failed' in r) {
        // crash's words; why it failed (not in the dump, not mapped) goes to the JSON
        // (the problem is crash's line itself, so the text carries it once)
        const line = `ps: cannot access user stack address: ${r.failed.at.toString(16)}`;
        text += `${line}\n\n`;
        row.problem = `cannot access user stack address: ${r.failed.at.toString(16)} (${r.failed.reason})`;
        if (!problems.includes(line)) problems.push(line);
        return null;
      }
      return r.bytes;
    };
    const a = read(range.as, range.ae);
    if (!a) continue;
    // crash's loops: a blank after each string of the arguments; each environment string on its own line
    let s = 'ARG: ';
    let c = 0;
    for (const ch of a) {
      if (ch === 0) {
        if (c) s += ' ';
        c = 0;
      } else {
        s += String.fromCharCode(ch);
        c++;
      }
    }
    row.args = cstrings(a);
    text += s;
    const e = read(range.es, range.ee);
    if (!e) continue;
    s = '\nENV: ';
    c = 0;
    let d = 0;
    e.forEach((ch, i) => {
      if (ch === 0) {
        if (c) s += '\n';
        c = 0;
      } else {
        s += (!c && i !== 0 ? '     ' : '') + String.fromCharCode(ch);
        c++;
        d++;
      }
    });
    s += '\n' + (d ? '' : '\n');
    row.env = cstrings(e);
    text += s;
  }
  return { text, json: rows, problems };
}

registerCommand({
  name: 'ps',
  summary: 'task list: pid, ppid, cpu, task address, state, memory, command (crash layout); -S states, -m/-l last run, -t times, -a arguments and environment',
  usage: 'ps [-k|-u] [-p] [-S] [-m] [-l] [-t] [-a] [pid|task ...] [--json]',
  run(args, ctx) {
    const { flags, rest } = parseFlags(args, { bool: ['--json', '-k', '-u', '-p', '-S', '-m', '-l', '-t', '-a'] });
    const prog = ctx.prog;
    let tasks = taskList(prog);
    checkCancel(ctx);
    if (flags.has('-S')) {
      const counts = stateCounts(tasks);
      return { text: counts.map((c) => `  ${c.state}: ${c.count}`).join('\n') + '\n', json: counts };
    }
    if (flags.has('-m') || flags.has('-l')) {
      let sel = tasks;
      if (rest.length) sel = rest.flatMap((a) => tasks.filter((t) => String(t.pid) === a || t.task.toString(16) === a.replace(/^0x/, '')));
      return psLastRun(prog, sel, flags.has('-l'));
    }
    if (flags.has('-a')) {
      let sel = tasks;
      if (rest.length) sel = rest.flatMap((a) => tasks.filter((t) => String(t.pid) === a || t.task.toString(16) === a.replace(/^0x/, '') || t.comm === a));
      if (rest.length && !sel.length) throw new CommandError(`ps: invalid task or pid value: ${rest[0]}`);
      return psArgs(prog, sel, ctx);
    }
    if (flags.has('-t')) {
      let sel = tasks;
      if (rest.length) sel = rest.flatMap((a) => tasks.filter((t) => String(t.pid) === a || t.task.toString(16) === a.replace(/^0x/, '')));
      if (rest.length && !sel.length) throw new CommandError(`ps: invalid task or pid value: ${rest[0]}`);
      return psTimes(prog, sel);
    }
    if (flags.has('-k')) tasks = tasks.filter((t) => t.kthread || t.idle);
    if (flags.has('-u')) tasks = tasks.filter((t) => !t.kthread && !t.idle);
    if (rest.length) {
      const sel: TaskInfo[] = [];
      for (const a of rest) {
        const spec = /^(0x)?[0-9a-f]{9,16}$/i.test(a) ? BigInt(a.startsWith('0x') ? a : '0x' + a) : /^\d+$/.test(a) ? Number(a) : null;
        if (spec === null) {
          const byName = tasks.filter((t) => t.comm === a);
          if (!byName.length) throw new CommandError(`ps: invalid task or pid value: ${a}`);
          sel.push(...byName);
          continue;
        }
        const t = typeof spec === 'number' ? tasks.filter((x) => x.pid === spec) : [findTask(prog, spec)].filter((x): x is TaskInfo => !!x);
        if (!t.length) throw new CommandError(`ps: invalid task or pid value: ${a}`);
        sel.push(...t);
      }
      if (flags.has('-p')) {
        // the task and its parents up to pid 0, crash's "ps -p" tree
        const all = taskList(prog);
        const out: string[] = [];
        for (const t of sel) {
          const chain: TaskInfo[] = [t];
          const seen = new Set<bigint>([t.task]);
          let cur = t;
          while (cur.pid !== 0 && chain.length < 1000) {
            const p = all.find((x) => x.pid === cur.ppid && !seen.has(x.task));
            if (!p) break;
            chain.unshift(p);
            seen.add(p.task);
            cur = p;
          }
          chain.forEach((c, i) =>
            out.push(`${' '.repeat(i)}PID: ${c.pid}  TASK: ${c.task.toString(16)}  CPU: ${c.cpu}  COMMAND: "${c.comm}"`),
          );
          out.push('');
        }
        return { text: out.join('\n'), json: psRows(prog, sel), problems: taskWalkProblemLines(prog) };
      }
      tasks = sel;
    }
    const rows = psRows(prog, tasks);
    return { text: formatPs(rows), json: rows, problems: taskWalkProblemLines(prog) };
  },
});
