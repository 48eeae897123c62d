/**
 * `foreach [pid|task|name|state|kernel|user|active ...] COMMAND [args]`: crash's foreach, running a
 * task command for every selected task (in ps order), output separated by blank lines.
 *
 *   foreach bt            every task's backtrace
 *   foreach UN bt         tasks in D state (crash's state names: RU IN UN ST TR ZO DE SW PA ID NE)
 *   foreach bash bt -s    tasks named bash
 *   foreach 1 120 bt      pids;  foreach ffff888004a12900 bt   a task address
 *   foreach kernel bt / foreach user bt / foreach active bt
 *
 * The command gets the task's address as its last argument (one task each time), so any command
 * that takes a task works: bt, task, files, vm, ps, ...
 */
import { TextOut } from './result';
import { taskList, type TaskInfo } from '../analysis/tasks';
import { CommandError, checkCancel, getCommand, registerCommand, runBare, type CommandResult } from './registry';

const STATES = new Set(['RU', 'IN', 'UN', 'ST', 'TR', 'ZO', 'DE', 'SW', 'PA', 'ID', 'NE', 'WA']);

/** The tasks a foreach selector list names (every task when empty), in ps order. */
export function selectTasks(all: TaskInfo[], selectors: string[]): TaskInfo[] {
  if (!selectors.length) return all;
  const keep = new Set<TaskInfo>();
  for (const s of selectors) {
    let hit: TaskInfo[];
    if (STATES.has(s)) hit = all.filter((t) => t.state === s);
    else if (s === 'kernel') hit = all.filter((t) => t.kthread);
    else if (s === 'user') hit = all.filter((t) => !t.kthread);
    else if (s === 'active') hit = all.filter((t) => t.active);
    else if (/^\d+$/.test(s) && s.length < 8) hit = all.filter((t) => t.pid === Number(s));
    else if (/^(0x)?[0-9a-f]{9,16}$/i.test(s)) {
      const a = BigInt(s.startsWith('0x') ? s : '0x' + s);
      hit = all.filter((t) => t.task === a);
    } else {
      // a name, or crash's \name for a name that looks like something else; 'name*' as a glob
      const n = s.replace(/^\\/, '');
      const re = n.includes('*') ? new RegExp('^' + n.replace(/[.+?^${}()|[\]]/g, '\\$&').replace(/\*/g, '.*') + '$') : null;
      hit = all.filter((t) => (re ? re.test(t.comm) : t.comm === n));
    }
    if (!hit.length) throw new CommandError(`foreach: no task matches "${s}"`);
    hit.forEach((t) => keep.add(t));
  }
  return all.filter((t) => keep.has(t));
}

registerCommand({
  name: 'foreach',
  summary: 'run a task command for every task, or for the tasks named by pid, address, name or state',
  usage: 'foreach [pid|task|name|state(RU IN UN ...)|kernel|user|active ...] <command> [args]   e.g. foreach UN bt',
  run(args, ctx): CommandResult {
    const i = args.findIndex((a) => getCommand(a) !== undefined && !STATES.has(a));
    if (i < 0) throw new CommandError('usage: foreach [pid|task|name|state ...] <command> [args]');
    const selectors = args.slice(0, i);
    const [cmd, ...cargs] = args.slice(i);
    if (cmd === 'foreach') throw new CommandError('foreach: cannot nest foreach');
    const tasks = selectTasks(taskList(ctx.prog), selectors);
    // each task's answer streams out as soon as it is made (console, CLI); a blank line between
    const out = new TextOut(ctx.emit, 64);
    const inner = { ...ctx, emit: undefined };
    const json: unknown[] = [];
    const problems: string[] = [];
    let i0 = 0;
    for (const t of tasks) {
      checkCancel(ctx);
      ctx.progress?.(i0, tasks.length, 'tasks');
      if (i0++) out.line('');
      const line = [cmd, ...cargs, '0x' + t.task.toString(16)].join(' ');
      try {
        const r = runBare(inner, line);
        out.text(r.text.endsWith('\n') ? r.text : r.text + '\n');
        out.flush();
        const j = r.json;
        json.push(Array.isArray(j) && j.length === 1 ? j[0] : j ?? r.text);
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        const msg = `PID: ${t.pid}  TASK: ${t.task.toString(16)}: ${e.message}`;
        out.line(msg);
        problems.push(msg);
      }
    }
    return { text: out.done(), json: problems.length ? { results: json, problems } : json };
  },
});
