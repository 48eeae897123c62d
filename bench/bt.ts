/**
 * Open a dump and run `bt -a` (each CPU's active task, unwound with the dump's own ORC tables):
 * engine time in a fresh process per run (what a user waits for), then the backtrace of every
 * task in one process; beside `crash -s <vmlinux> <dump>` running `bt -a` when crash and the
 * DWARF vmlinux for the dump's release are on this machine (else says which is missing).
 *
 *   npx tsx bench/bt.ts [dump-name] [runs]
 */
import { execFileSync } from 'node:child_process';
import { benchDump, crashSetup, timeCrash } from './common';

const d = benchDump();
const runs = Number(process.argv[3] ?? 5);
const child = `
import { openDumpFile } from './workers/node';
import { runCommand } from './workers/commands/registry';
import { taskList } from './workers/analysis/tasks';
import { unwindTask } from './workers/analysis/unwind';
const t0 = performance.now();
const prog = openDumpFile(process.argv[1]);
const r = runCommand({ prog }, 'bt -a');
const t = performance.now() - t0;
const t1 = performance.now();
let frames = 0;
const tasks = taskList(prog);
for (const task of tasks) frames += unwindTask(prog, task).frames.length;
const all = performance.now() - t1;
console.log(JSON.stringify({ ms: t, lines: r.text.split('\\n').length, bytes: prog.src.stats.bytesRead, all, tasks: tasks.length, frames }));
`;
const results: { ms: number; lines: number; bytes: number; all: number; tasks: number; frames: number }[] = [];
for (let i = 0; i < runs; i++) {
  const out = execFileSync('npx', ['tsx', '-e', child, d.file], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  results.push(JSON.parse(out.trim().split('\n').pop()!));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const median = med(results.map((r) => r.ms));
console.log(`dump: ${d.name} (${d.file})`);
console.log(`vmcore open + bt -a: median ${median.toFixed(0)} ms over ${runs} fresh processes (engine time, excluding Node start-up), min ${Math.min(...results.map((r) => r.ms)).toFixed(0)} ms, ${results[0].lines} lines, ${(results[0].bytes / 1048576).toFixed(2)} MiB read`);
console.log(`then bt of every task (${results[0].tasks} tasks, ${results[0].frames} frames): median ${med(results.map((r) => r.all)).toFixed(0)} ms`);
const release = (d.oracleJson('sys.json') as Record<string, string>).RELEASE;
const c = crashSetup(release);
if ('missing' in c) console.log(`crash: not measured: ${c.missing}; no ratio`);
else {
  const s = timeCrash(c, d.file, 'bt -a');
  console.log(s === null ? 'crash: failed to run' : `crash -s (start-up + bt -a): ${s.toFixed(2)} s -> ratio ${(median / 1000 / s).toFixed(3)}`);
}
