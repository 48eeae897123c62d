/**
 * `task [-R member[,member...]] [-x] [pid|task ...]`: a task's task_struct as crash prints it
 * (header, then gdb's print of the whole struct, or only the -R members). Default: the current
 * context (the panic task).
 */
import { panicTask } from '../analysis/tasks';
import { btHeader, resolveTasks } from './bt';
import { formatMember, formatValue } from './struct';
import { CommandError, parseFlags, registerCommand } from './registry';
import { MemoryError } from '../errors';

registerCommand({
  name: 'task',
  summary: "a task's task_struct (crash's task), or only some members (-R)",
  usage: 'task [-R member[,member]] [-x] [pid|task ...]',
  run(args, ctx) {
    const prog = ctx.prog;
    const { flags, values, rest } = parseFlags(args, { bool: ['-x', '-d'], value: ['-R'] });
    const tasks = rest.length ? rest.flatMap((a) => resolveTasks(prog, a)) : [panicTask(prog)].filter((t) => t !== null);
    if (!tasks.length) throw new CommandError('task: no current task (no panic task in this dump): give a pid');
    const btf = prog.btf;
    const id = prog.type('struct task_struct');
    const members = values.get('-R')?.split(',').filter(Boolean);
    if (members) for (const m of members) if (!btf.memberPath(id, m)) throw new CommandError(`task: invalid data structure reference: task_struct.${m}`);
    const hex = flags.has('-x');
    const out: string[] = [];
    const json: unknown[] = [];
    for (const t of tasks) {
      try {
        let body = members ? members.map((m) => formatMember(prog, btf, id, t.task, m, hex)).join('\n') + '\n' : formatValue(prog, btf, id, t.task, hex) + '\n';
        // crash adds the thread_info when it lives in the task (CONFIG_THREAD_INFO_IN_TASK)
        const ti = btf.memberPath(id, 'thread_info');
        const tiT = prog.findType('struct thread_info');
        if (!members && ti && ti.offset === 0 && tiT !== null) body += '\n' + formatValue(prog, btf, tiT, t.task, hex) + '\n';
        out.push(`${btHeader(t)}\n${body}`);
        json.push({ pid: t.pid, task: '0x' + t.task.toString(16), comm: t.comm });
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        out.push(`${btHeader(t)}\ntask: cannot read task_struct at ${t.task.toString(16)}: ${e.message}\n`);
        json.push({ pid: t.pid, task: '0x' + t.task.toString(16), problem: e.message });
      }
    }
    return { text: out.join('\n'), json };
  },
});
