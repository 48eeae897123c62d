/**
 * `task [-R member[,member...]] [-x] [pid|task ...]`: a task's task_struct as crash prints it
 * (header, then gdb's print of the whole struct, or only the -R members). Default: the current
 * context (the panic task).
 */
import { btHeader, perTaskResult, tasksOrContext } from './bt';
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
    const tasks = tasksOrContext(prog, rest, 'task');
    const btf = prog.btf;
    const id = prog.type('struct task_struct');
    const members = values.get('-R')?.split(',').filter(Boolean);
    if (members) for (const m of members) if (!btf.memberPath(id, m)) throw new CommandError(`task: invalid data structure reference: task_struct.${m}`);
    const hex = flags.has('-x');
    return perTaskResult(tasks, (t) => {
      try {
        let body = members ? members.map((m) => formatMember(prog, btf, id, t.task, m, hex)).join('\n') + '\n' : formatValue(prog, btf, id, t.task, hex) + '\n';
        // crash adds the thread_info when it lives in the task (CONFIG_THREAD_INFO_IN_TASK)
        const ti = btf.memberPath(id, 'thread_info');
        const tiT = prog.findType('struct thread_info');
        if (!members && ti && ti.offset === 0 && tiT !== null) body += '\n' + formatValue(prog, btf, tiT, t.task, hex) + '\n';
        return { text: `${btHeader(t)}\n${body}`, json: { pid: t.pid, task: '0x' + t.task.toString(16), comm: t.comm } };
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        return {
          text: `${btHeader(t)}\ntask: cannot read task_struct at ${t.task.toString(16)}: ${e.message}\n`,
          json: { pid: t.pid, task: '0x' + t.task.toString(16), problem: e.message },
        };
      }
    });
  },
});
