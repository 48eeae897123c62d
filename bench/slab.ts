/**
 * Benchmark: open a dump + `kmem -s` over all caches (time and peak memory), per shared dump,
 * beside crash's `kmem -s` on the same dump when crash and a vmlinux exist, and as a ratio to
 * drgn's figure from issue 4 (drgn 0.3.0 with the DWARF vmlinux: 0.53 s, peak 248 MiB on
 * 6.1-skb-uaf-0x106; crash 8.0.2 about 6.7 s).
 *
 *   npx tsx bench/slab.ts [dump-name ...]        (node --expose-gc for exact heap figures)
 *
 * Each dump runs in a fresh child process so that peak RSS is per dump.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHARED_DUMP_NAMES, sharedDump } from '../workers/testing/dumps';

const DRGN_SECONDS = 0.53;
const DRGN_PEAK_MIB = 248;
const CRASH_SECONDS = 6.7;

interface Sample {
  dump: string;
  caches: number;
  openMs: number;
  symbolsMs: number;
  btfMs: number;
  kmemMs: number;
  totalMs: number;
  peakRssMiB: number;
  heapMiB: number;
}

async function child(name: string): Promise<void> {
  const { openDumpFile } = await import('../workers/node');
  const { runCommand } = await import('../workers/commands/registry');
  const d = sharedDump(name)!;
  let peak = process.memoryUsage().rss;
  const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
  const timer = setInterval(sample, 5);
  const t0 = performance.now();
  const prog = openDumpFile(d.file);
  const t1 = performance.now();
  prog.symbolAddress('slab_caches'); // what kmem -s uses: the name index, not the sorted table
  const t2 = performance.now();
  prog.btf;
  const t3 = performance.now();
  const r = runCommand({ prog }, 'kmem -s');
  const t4 = performance.now();
  sample();
  clearInterval(timer);
  (globalThis as { gc?: () => void }).gc?.();
  const s: Sample = {
    dump: name,
    caches: (r.json as unknown[]).length,
    openMs: t1 - t0,
    symbolsMs: t2 - t1,
    btfMs: t3 - t2,
    kmemMs: t4 - t3,
    totalMs: t4 - t0,
    peakRssMiB: peak / 2 ** 20,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  };
  process.stdout.write(JSON.stringify(s) + '\n');
}

function crashAvailable(): string | null {
  try {
    execFileSync('sh', ['-c', 'command -v crash'], { stdio: 'pipe' });
  } catch {
    return 'crash is not installed here';
  }
  if (!process.env.VMLINUX || !existsSync(process.env.VMLINUX)) return 'crash is installed but no vmlinux (set VMLINUX=) for these dumps';
  return null;
}

function timeCrash(file: string): { seconds: number; peakMiB: number } | null {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'crash', '-s', process.env.VMLINUX!, file], { input: 'kmem -s\nquit\n', encoding: 'utf8' });
  if (r.status !== 0) return null;
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { seconds: (performance.now() - t0) / 1000, peakMiB: kb / 1024 };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]);
  const names = process.argv.slice(2).length ? process.argv.slice(2) : [...SHARED_DUMP_NAMES];
  const crashWhy = crashAvailable();
  const self = fileURLToPath(import.meta.url);
  console.log('open + kmem -s over all caches (fresh process per dump; peak = max RSS sampled every 5 ms)');
  console.log(`drgn 0.3.0 (issue 4, 6.1-skb-uaf-0x106, DWARF vmlinux): ${DRGN_SECONDS} s, peak ${DRGN_PEAK_MIB} MiB; crash 8.0.2: ~${CRASH_SECONDS} s`);
  console.log(crashWhy ? `crash: not run (${crashWhy}); its figure above is from the issue` : 'crash: run on each dump below');
  console.log('');
  console.log('dump                          caches   open  symbols    BTF  kmem -s   total  vs drgn  vs crash  peak RSS  heap');
  for (const name of names) {
    const d = sharedDump(name);
    if (!d) {
      console.log(`${name.padEnd(30)} (dump not found)`);
      continue;
    }
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', name], { encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let s: Sample;
    try {
      s = JSON.parse(line);
    } catch {
      console.log(`${name.padEnd(30)} failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
      continue;
    }
    const crash = crashWhy ? null : timeCrash(d.file);
    const sec = s.totalMs / 1000;
    const ms = (v: number) => (v / 1000).toFixed(2).padStart(6);
    console.log(
      `${name.padEnd(30)}${String(s.caches).padStart(6)} ${ms(s.openMs)} ${ms(s.symbolsMs)}   ${ms(s.btfMs)} ${ms(s.kmemMs)}  ${ms(s.totalMs)}  ${(sec / DRGN_SECONDS).toFixed(2).padStart(6)}x  ${(crash ? sec / crash.seconds : sec / CRASH_SECONDS).toFixed(2).padStart(6)}x${crash ? '' : '*'}  ${s.peakRssMiB.toFixed(0).padStart(5)} MiB ${s.heapMiB.toFixed(0).padStart(4)} MiB` +
        (crash ? `   (crash ${crash.seconds.toFixed(2)} s, ${crash.peakMiB.toFixed(0)} MiB)` : ''),
    );
  }
  if (crashWhy) console.log('* ratio to the issue\'s crash 8.0.2 figure (6.7 s on 6.1-skb-uaf-0x106), not a run on this machine');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
