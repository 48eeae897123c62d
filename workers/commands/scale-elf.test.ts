/**
 * The unfiltered 8 GiB ELF (issue 11, scale): `fixtures/make-dump.sh scale-8g-elf` (QEMU's
 * dump-guest-memory ELF of an 8 GiB guest with 3000 extra tasks, every page in the file; not in
 * git: SCALE_ELF_DUMP names it, default /work/fixtures-out/scale-8g-elf/vmcore.elf) against crash
 * 9.0.2's answers on that same file (fixtures/oracles/scale-8g-elf, made by its make.sh with the
 * 6.1.0-57 -dbg vmlinux). Each run of the recipe makes another dump (other addresses), so the test
 * skips with its reason when the file is absent or is not the one the oracle names (sha256).
 */
import { describe, it, expect } from 'vitest';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openDumpFile, type Program } from '../node';
import { ROOT } from '../testing/dumps';
import { runCommand } from './registry';
import './index';
import { crashFrames } from '../testing/crashbt';

const DUMP = process.env.SCALE_ELF_DUMP ?? '/work/fixtures-out/scale-8g-elf/vmcore.elf';
const ORACLE = join(ROOT, 'fixtures/oracles/scale-8g-elf');
const oracle = (f: string) => readFileSync(join(ORACLE, f), 'utf8');
/** "- dump file: vmcore.elf, 8606848339 bytes, sha256 `...`" in the oracle's README */
const want = /dump file: \S+, (\d+) bytes, sha256 `([0-9a-f]{64})`/.exec(oracle('README.md'));
const wantSize = Number(want?.[1]);
const wantSha = want?.[2] ?? '';

/**
 * The dump's sha256: from the build-info.txt fixtures/make-dump.sh writes beside it ("result:
 * vmcore.elf N bytes sha256 H"), else hashed here (8.6 GB: half a minute). Every run of the
 * recipe makes a dump of the same size with other contents, so the size alone does not tell.
 */
function dumpSha(): string {
  const info = join(dirname(DUMP), 'build-info.txt');
  if (existsSync(info)) {
    const m = new RegExp(`^result: ${basename(DUMP)} (\\d+) bytes sha256 ([0-9a-f]{64})`, 'm').exec(readFileSync(info, 'utf8'));
    if (m && Number(m[1]) === statSync(DUMP).size) return m[2];
  }
  const h = createHash('sha256');
  const fd = openSync(DUMP, 'r');
  try {
    const buf = Buffer.alloc(16 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

const skip = !existsSync(DUMP)
  ? `${DUMP} absent (make it with fixtures/make-dump.sh scale-8g-elf; SCALE_ELF_DUMP= names it)`
  : statSync(DUMP).size !== wantSize || dumpSha() !== wantSha
    ? `${DUMP} is not the dump fixtures/oracles/scale-8g-elf was made from (sha256 ${wantSha.slice(0, 12)}…: another run of the recipe; remake the oracle with its make.sh)`
    : '';

const lines = (s: string) => s.replace(/\s+$/, '').split('\n').map((l) => l.replace(/\s+$/, ''));

describe.skipIf(!!skip)(`scale-8g-elf: the unfiltered 8 GiB ELF against crash 9.0.2${skip ? ` (${skip})` : ''}`, () => {
  let prog: Program;
  const p = () => (prog ??= openDumpFile(DUMP));

  it('sys equals crash line for line (but KERNEL: we read the dump alone)', () => {
    const drop = (t: string) => lines(t).filter((l) => !/^\s*KERNEL:/.test(l));
    expect(drop(runCommand({ prog: p() }, 'sys').text)).toEqual(drop(oracle('sys.txt')));
  });

  it('ps equals crash line for line (3061 tasks)', () => {
    const want = lines(oracle('ps.txt'));
    expect(want.length).toBeGreaterThan(3000);
    expect(lines(runCommand({ prog: p() }, 'ps').text)).toEqual(want);
  });

  it('kmem -s equals crash line for line', () => {
    expect(lines(runCommand({ prog: p() }, 'kmem -s').text)).toEqual(lines(oracle('kmem-s.txt')));
  });

  it("bt -a: crash's blocks, frame for frame, but where the CPU's saved registers say more", () => {
    // The difference, per CPU: we start from the registers QEMU saved for the CPU (NT_PRSTATUS),
    // shown as an exception frame `[exception RIP: stop_this_cpu+107]`, where crash's stack scan
    // shows a return address inside the same function (`stop_this_cpu at ...`); above panic()
    // our unwinder also has the frame the CPU was in (delay_tsc), which crash's scan misses.
    // Everything else (headers, frames, IRQ-stack markers, exception frames) equals crash.
    const strip = (l: string) => l.replace(/^\s*#\d+ /, '#');
    const split = (t: string) => t.trimEnd().split(/\n\n(?=PID:)/).map((b) => lines(b).map(strip));
    const ours = split(runCommand({ prog: p() }, 'bt -a').text);
    const want = split(oracle('bt-a.txt'));
    expect(ours.map((b) => b[0])).toEqual(want.map((b) => b[0]));
    let compared = 0;
    for (let i = 0; i < want.length; i++) {
      const o = ours[i];
      const w = want[i];
      // crash's frames above the first one we share, in the function our first exception frame names
      const rip = /\[exception RIP: ([^+\]]+)/.exec(o[1] ?? '')?.[1];
      const first = w.findIndex((l, k) => k > 0 && o.includes(l));
      const above = w.slice(1, first);
      for (const l of above) expect(rip && l.includes(` ${rip} at `), `${w[0]}: crash's ${l} (ours: ${o[1]})`).toBeTruthy();
      // the rest of crash's block is the tail of ours, line for line
      const rest = w.slice(first);
      expect(o.slice(o.length - rest.length), w[0]).toEqual(rest);
      // and what we show above it is the CPU's own registers and the frames they lead to
      const extra = o.slice(1, o.length - rest.length).filter((l) => l.startsWith('#'));
      expect(extra.length, `${w[0]}: ${extra.join(' | ')}`).toBeLessThanOrEqual(1);
      compared += rest.length;
    }
    expect(compared).toBeGreaterThan(30);
  });

  it("bt of every sleeping task: function and return address of each frame equal crash's foreach bt -s", () => {
    const blocks = gunzipSync(readFileSync(join(ORACLE, 'bt-foreach-s.txt.gz'))).toString('utf8').trimEnd().split(/\n\n(?=PID:)/);
    const onCpu = new Set([...oracle('bt-a.txt').matchAll(/TASK: ([0-9a-f]+)/g)].map((m) => m[1]));
    let compared = 0;
    for (const b of blocks) {
      const head = /^PID: (\d+)\s+TASK: ([0-9a-f]+)/.exec(b);
      if (!head || onCpu.has(head[2]) || head[1] === '0') continue;
      expect(crashFrames(runCommand({ prog: p() }, `bt ${head[2]}`).text), `pid ${head[1]}`).toEqual(crashFrames(b));
      compared++;
    }
    expect(compared).toBeGreaterThan(3000);
  }, 600_000);
});
