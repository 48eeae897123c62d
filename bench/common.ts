/** Shared helpers of the benchmarks: which dumps, how to time, how to find crash and drgn. */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { sharedDump, type SharedDump } from '../workers/testing/dumps';

export function benchDump(name = process.argv[2] ?? '6.1-skb-uaf-0x106'): SharedDump {
  const d = sharedDump(name);
  if (!d) throw new Error(`dump ${name} not found (../shared/dumps or public/samples)`);
  return d;
}

export function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}

/** crash and a DWARF vmlinux for this release, if both are on this machine. */
export function crashSetup(release: string): { crash: string; vmlinux: string } | { missing: string } {
  let crash = '';
  try {
    crash = execFileSync('sh', ['-c', 'command -v crash'], { encoding: 'utf8' }).trim();
  } catch {
    /* not installed */
  }
  const vmlinux = [`/usr/lib/debug/boot/vmlinux-${release}`, `/usr/lib/debug/vmlinux-${release}`].find((p) => existsSync(p));
  if (!crash) return { missing: 'crash is not installed (apt-get install crash)' };
  if (!vmlinux) return { missing: `no DWARF vmlinux for ${release} (apt-get install linux-image-${release}-dbg)` };
  return { crash, vmlinux };
}

/** Run crash in batch mode on a dump: returns seconds, or null on failure. */
export function timeCrash(c: { crash: string; vmlinux: string }, dump: string, commands: string): number | null {
  const t0 = performance.now();
  try {
    execFileSync(c.crash, ['-s', c.vmlinux, dump], { input: commands + '\nquit\n', stdio: ['pipe', 'ignore', 'ignore'], timeout: 600_000 });
  } catch {
    return null;
  }
  return (performance.now() - t0) / 1000;
}
