/**
 * `vmcore --vmlinux FILE --system-map FILE DUMP CMD` (DESIGN.md's CLI contract): the files are used
 * when they match the dump and refused with a one-line reason and exit 1 when they do not.
 * Needs Debian's -dbg vmlinux of the 6.1 dev dumps (scripts/fetch-dbg.sh); skips without it.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDump } from '../workers/testing/dumps';
import { debugVmlinux, systemMapOf, DBG_SKIP } from '../workers/testing/vmlinux';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'cli/vmcore.cjs');
const REL = '6.1.0-56-amd64';
const vmlinux = debugVmlinux(REL);
const sysmap = vmlinux ? systemMapOf(vmlinux) : null;
const d61 = sharedDump('6.1-sysrq-kaslr');
const d612 = sharedDump('6.12-skb-uaf-kaslr');

function vmcore(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').split('\n').filter((l) => l && !/^npm (warn|notice)/.test(l)).join('\n') };
}

describe.skipIf(!vmlinux || !d61)(`vmcore --vmlinux / --system-map (${vmlinux ? REL : DBG_SKIP(REL)})`, () => {
  it('sys with both files: KERNEL and SYSTEM MAP lines, exit 0', () => {
    const r = vmcore(['--vmlinux', vmlinux!, '--system-map', sysmap!, d61!.file, 'sys']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SYSTEM MAP: System\.map-vmlinux-6\.1\.0-56-amd64/);
    expect(r.stdout).toMatch(/KERNEL: vmlinux-6\.1\.0-56-amd64/);
    expect(r.stdout).toMatch(/RELEASE: 6\.1\.0-56-amd64/);
  });
  it.skipIf(!d612)('a vmlinux of another build: one line, exit 1', () => {
    const r = vmcore(['--vmlinux', vmlinux!, d612!.file, 'sys']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^vmcore: vmlinux-6\.1\.0-56-amd64 does not match the dump: build id \w+ differs from the dump's \w+ \(VMCOREINFO BUILD-ID\)$/);
  });
  it.skipIf(!d612)('a System.map of another build: one line, exit 1', () => {
    const r = vmcore(['--system-map', sysmap!, d612!.file, 'sys']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not match the dump/);
  });
  it('a missing vmlinux, a dump given as vmlinux: one line, exit 1', () => {
    expect(vmcore(['--vmlinux', '/nonexistent/vmlinux', d61!.file, 'sys'])).toMatchObject({ code: 1, stderr: 'vmcore: /nonexistent/vmlinux: no such file' });
    const r = vmcore(['--vmlinux', d61!.file, d61!.file, 'sys']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
  });
});
