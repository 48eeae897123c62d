/**
 * The child process of the fuzz harness (bench/fuzz.ts bundles it with esbuild).
 *
 *   child.mjs <vmcore argv...>          the CLI's own main(); the peak RSS as a last stderr line
 *   child.mjs --fuzz-group JOB.json     run each case [{id, argv}] through main() in turn, with
 *                                       its output captured, and print "@@case {id, stdout,
 *                                       stderr, exit, ms, rss}" after each (the harness reads
 *                                       those; a case that hangs or kills the process is the
 *                                       first one not reported)
 */
import { readFileSync } from 'node:fs';
import { main } from '../cli/main';

/** Collects what main() writes, up to a cap (a runaway output is itself a finding). */
class Capture {
  text = '';
  bytes = 0;
  write(s: string | Uint8Array): boolean {
    const t = typeof s === 'string' ? s : Buffer.from(s).toString('utf8');
    this.bytes += t.length;
    if (this.text.length < 8 << 20) this.text += t;
    return true;
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--fuzz-group') {
  const cases = JSON.parse(readFileSync(argv[1], 'utf8')) as Array<{ id: string; argv: string[] }>;
  for (const c of cases) {
    const out = new Capture();
    const err = new Capture();
    const t0 = performance.now();
    let exit: number;
    try {
      exit = await main(c.argv, out as unknown as typeof process.stdout, err as unknown as typeof process.stderr);
    } catch (e) {
      // main() must never throw: report it as a crash with the stack
      err.write(`UNCAUGHT ${(e as Error)?.stack ?? String(e)}\n`);
      exit = 70;
    }
    const ms = Math.round(performance.now() - t0);
    (globalThis as { gc?: () => void }).gc?.();
    process.stdout.write(`@@case ${JSON.stringify({ id: c.id, stdout: out.text, stderr: err.text, exit, ms, rss: process.resourceUsage().maxRSS })}\n`);
  }
} else {
  const code = await main(argv);
  process.stderr.write(`\n@@fuzz maxrss_kb=${process.resourceUsage().maxRSS}\n`);
  process.exitCode = code;
}
