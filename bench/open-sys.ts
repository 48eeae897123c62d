/**
 * Open a dump and print `sys`: time and bytes read from the file, in a fresh process each run
 * (what a user waits for), beside `crash -s <vmlinux> <dump>` printing sys when crash and the
 * DWARF vmlinux are present, and drgn's figure from the issue (0.54 s to print the release on
 * 6.1-skb-uaf-0x106 with its vmlinux, on this kind of machine).
 *
 *   npx tsx bench/open-sys.ts [dump-name] [runs]
 */
import { execFileSync } from 'node:child_process';
import { benchDump, crashSetup, timeCrash } from './common';

const d = benchDump();
const runs = Number(process.argv[3] ?? 5);
const child = `
import { openDumpFile } from './workers/node';
import { runCommand } from './workers/commands/registry';
const t0 = performance.now();
const prog = openDumpFile(process.argv[1]);
const r = runCommand({ prog }, 'sys');
const t = performance.now() - t0;
console.log(JSON.stringify({ ms: t, bytes: prog.src.stats.bytesRead, lines: r.text.split('\\n').length }));
`;
const results: { ms: number; bytes: number }[] = [];
for (let i = 0; i < runs; i++) {
  const out = execFileSync('npx', ['tsx', '-e', child, d.file], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  results.push(JSON.parse(out.trim().split('\n').pop()!));
}
const times = results.map((r) => r.ms).sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`dump: ${d.name} (${d.file})`);
console.log(`vmcore open + sys: median ${median.toFixed(0)} ms over ${runs} fresh processes (engine time, excluding Node start-up), min ${times[0].toFixed(0)} ms`);
console.log(`bytes read from the dump file: ${(results[0].bytes / 1048576).toFixed(2)} MiB`);
console.log(`drgn 0.3.0 with vmlinux (figure from the issue, same dump, this machine kind): 540 ms -> ratio ${(median / 540).toFixed(2)}`);
const release = (d.oracleJson('sys.json') as Record<string, string>).RELEASE;
const c = crashSetup(release);
if ('missing' in c) console.log(`crash: not measured: ${c.missing}; the issue's figure is 6.5 s -> ratio ${(median / 6500).toFixed(3)}`);
else {
  const s = timeCrash(c, d.file, 'sys');
  console.log(s === null ? 'crash: failed to run' : `crash -s: ${s.toFixed(2)} s -> ratio ${(median / 1000 / s).toFixed(3)}`);
}
