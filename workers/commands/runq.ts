/** `runq`: each CPU's run queue in crash's layout (task.c dump_CFS_runqueues). Analysis: analysis/sched.ts. */
import { runQueue } from '../analysis/sched';
import { activeTasks, taskList } from '../analysis/tasks';
import { checkCancel, registerCommand } from './registry';

registerCommand({
  name: 'runq',
  summary: "each CPU's run queue: current task, RT and CFS queued tasks",
  usage: 'runq',
  run(_args, ctx) {
    const prog = ctx.prog;
    const tasks = new Map(taskList(prog).map((t) => [t.task, t]));
    const active = activeTasks(prog);
    const lines: string[] = [];
    const json: unknown[] = [];
    const ent = (task: bigint, prio: number) => {
      const t = tasks.get(task);
      return `     [${String(prio).padStart(3)}] PID: ${String(t?.pid ?? '?').padEnd(5)}  TASK: ${task.toString(16)}  COMMAND: "${t?.comm ?? '?'}"`;
    };
    const ncpu = prog.perCpuOffsets().length;
    for (let cpu = 0; cpu < ncpu; cpu++) {
      checkCancel(ctx);
      const q = runQueue(prog, cpu);
      if (cpu) lines.push('');
      lines.push(`CPU ${cpu} RUNQUEUE: ${q.rq.toString(16)}`);
      const cur = active.get(cpu) ?? q.curr;
      const ct = cur !== null && cur !== undefined ? tasks.get(cur) : undefined;
      lines.push(ct ? `  CURRENT: PID: ${String(ct.pid).padEnd(5)}  TASK: ${ct.task.toString(16)}  COMMAND: "${ct.comm}"` : `  CURRENT: ${(cur ?? 0n).toString(16)}`);
      lines.push(`  RT PRIO_ARRAY: ${q.rtArray.toString(16)}`);
      for (const e of q.rt) lines.push(ent(e.task, e.prio));
      if (!q.rt.length) lines.push('     [no tasks queued]');
      lines.push(`  CFS RB_ROOT: ${q.cfsRoot.toString(16)}`);
      for (const e of q.cfs) lines.push(ent(e.task, e.prio));
      if (!q.cfs.length) lines.push('     [no tasks queued]');
      for (const p of q.problems) lines.push(`  runq: ${p}`);
      const tj = (e: { task: bigint; prio: number }) => ({ task: '0x' + e.task.toString(16), pid: tasks.get(e.task)?.pid ?? null, comm: tasks.get(e.task)?.comm ?? null, prio: e.prio });
      json.push({ cpu, rq: '0x' + q.rq.toString(16), current: cur ? '0x' + cur.toString(16) : null, rt: q.rt.map(tj), cfs: q.cfs.map(tj), problems: q.problems });
    }
    return { text: lines.join('\n') + '\n', json };
  },
});
