/**
 * The interactive prompt in a pseudo-terminal (python3's pty module drives it: cli/pty-drive.py):
 * history (arrow up), Tab completion of a command, a member and a symbol, Ctrl-C cancelling a long
 * command with the prompt back, quit. And `vmcore DUMP -` reading commands from stdin.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sharedDump, SKIP_REASON } from '../workers/testing/dumps';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'cli/vmcore.cjs');
// a raw ELF with every page: `search` over it reads 550 MB (~0.4 s here), long enough to cancel 0.15 s in
const d = sharedDump('6.1-sysrq-kaslr');
const python = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!d || !python)(`crash> prompt in a pty${d ? (python ? '' : ' (no python3)') : ` (${SKIP_REASON})`}`, () => {
  it('history, completion, Ctrl-C, quit', () => {
    const hist = join(mkdtempSync(join(tmpdir(), 'vmcore-hist-')), 'history');
    const r = spawnSync('python3', [join(ROOT, 'cli/pty-drive.py'), process.execPath, CLI, d!.file, hist], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    const plain = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
    expect(o.prompt).toBe(true);
    expect(plain(o.mod)).toContain('mod -t\n');
    // arrow up + Enter ran "mod -t" again (its output: no tainted modules on this sysrq dump, or the list)
    expect(plain(o.history)).toMatch(/mod -t\n(no tainted modules|NAME +TAINTS)/);
    expect(plain(o.complete_cmd)).toMatch(/struct $/);
    expect(plain(o.complete_member)).toContain('skb_shared_info.frag_list');
    expect(plain(o.member_out)).toMatch(/\[\d+\] struct sk_buff \*frag_list;/);
    expect(plain(o.complete_symbol)).toContain('p init_task');
    // Ctrl-C: the command stops ("cancelled") and the prompt returns at once
    expect(o.cancel_prompt).toBe(true);
    expect(plain(o.cancel)).toContain('cancelled');
    expect(o.cancel_seconds).toBeLessThan(5);
    expect(plain(o.after_cancel)).toMatch(/TAINTED_MASK: [0-9a-f]+/);
    expect(o.exit).toBe(0);
    expect(existsSync(hist)).toBe(true);
    expect(readFileSync(hist, 'utf8').split('\n')).toContain('mod -t');
  }, 300_000);

  it('vmcore DUMP - reads commands from stdin; not on a terminal, no command prints sys', () => {
    const r = spawnSync(process.execPath, [CLI, d!.file, '-'], { cwd: ROOT, encoding: 'utf8', input: 'sys -t\nps -S | count\n', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^TAINTED_MASK: [0-9a-f]+ .*\n\d+\n$/);
    const s = spawnSync(process.execPath, [CLI, d!.file], { cwd: ROOT, encoding: 'utf8', input: '', timeout: 120_000 });
    expect(s.stdout).toMatch(/^ +KERNEL: /m);
  }, 240_000);
});
