/**
 * Where tests find a kernel's debug vmlinux (Debian's linux-image-<release>-dbg, unpacked by
 * scripts/fetch-dbg.sh into ../dbg/<release>/, marked complete by a .ready file) and a System.map
 * made from it with `nm -n`. Tests that need one skip with the reason when it is absent.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from './dumps';

export const DBG_DIR = process.env.VMCORE_DBG_DIR ?? resolve(ROOT, '../dbg');

/** The -dbg vmlinux of a kernel release, or null when it was not fetched. */
export function debugVmlinux(release: string): string | null {
  const dir = join(DBG_DIR, release);
  const f = join(dir, 'usr/lib/debug/boot', `vmlinux-${release}`);
  return existsSync(join(dir, '.ready')) && existsSync(f) ? f : null;
}

/** A System.map of that vmlinux (`nm -n`, made once into a cache dir), or null. */
export function systemMapOf(vmlinux: string): string | null {
  const dir = join(tmpdir(), 'vmcore-workbench-cache');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `System.map-${vmlinux.split('/').pop()}.${statSync(vmlinux).size}`);
  if (!existsSync(out)) {
    try {
      execFileSync('sh', ['-c', `nm -n "$1" > "$2.tmp" && mv "$2.tmp" "$2"`, 'sh', vmlinux, out]);
    } catch (e) {
      // nm missing (ENOENT) or failing (a status): no System.map; anything else is a bug
      if (!(e instanceof Error && ('status' in e || 'code' in e))) throw e;
      return null;
    }
  }
  return out;
}

export const DBG_SKIP = (release: string) =>
  `no debug vmlinux for ${release} in ${DBG_DIR} (run scripts/fetch-dbg.sh ${release} as root; needs apt and Debian's archive)`;
