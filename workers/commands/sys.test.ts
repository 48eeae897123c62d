import { KALLSYMS_ENCODING_KEY } from '../kernel/program';
import { describe, it, expect } from 'vitest';
import { basename } from 'node:path';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { NodeFileSource } from '../source/node';
import { openProgram } from '../engine';
import { runCommand } from './registry';
import './sys';
import './log';
import { formatSize, formatLoad, formatUptime, uptimeJiffies } from './sys';

describe('crash number formats', () => {
  it('pages_to_size: one decimal, ".0" dropped, printf rounding', () => {
    expect(formatSize(511.5 * 2 ** 20)).toBe('511.5 MB');
    expect(formatSize(2 ** 30)).toBe('1 GB');
    expect(formatSize(2 ** 31 + 2 ** 29)).toBe('2.5 GB');
    expect(formatSize(511.25 * 2 ** 20)).toBe('511.2 MB'); // a tie rounds to even, as glibc printf
    expect(formatSize(511.75 * 2 ** 20)).toBe('511.8 MB');
    expect(formatSize(1536 * 1024 - 1)).toBe('1.5 MB');
    expect(formatSize(4096)).toBe('4 KB');
  });
  it('load average and uptime like crash', () => {
    expect(formatLoad([0, 0, 0])).toBe('0.00, 0.00, 0.00');
    expect(formatLoad([2048, 3072, 100])).toBe('1.00, 1.50, 0.05');
    expect(formatUptime(3)).toBe('00:00:03');
    expect(formatUptime(2 * 86400 + 3723)).toBe('2 days, 01:02:03');
  });
  it('removes INITIAL_JIFFIES like crash, before and after the 32-bit wrap', () => {
    const hz = 250;
    const initial = BigInt.asUintN(32, BigInt(-300 * hz));
    expect(uptimeJiffies(initial + 1000n, hz)).toBe(1000n);
    expect(uptimeJiffies(initial + 300n * 250n + 5n, hz)).toBe(300n * 250n + 5n);
  });
});

type SysJson = Record<string, string>;

/**
 * Dumps whose crash `sys` DATE is crash's failure, not a fact: crash 9.0.2 cannot read Linux 7.x's
 * timekeeper (struct tk_data timekeeper_data[], no shadow_timekeeper symbol) and prints the epoch
 * ("Thu Jan  1 00:00:00 UTC 1970", see the dump's README). There the DATE is checked against the
 * kernel's own log instead: rtc_cmos "setting system clock to ... (EPOCH)" at boot time T, plus
 * the uptime since T.
 */
const CRASH_DATE_WRONG: ReadonlySet<string> = new Set(['7.2-sysrq-kaslr']);

function dateFromRtcLog(prog: ReturnType<typeof openProgram>, uptimeSec: number): number {
  const log = runCommand({ prog }, 'log').text;
  const m = /^\[\s*(\d+)\.(\d+)\] rtc_cmos .*setting system clock to .* \((\d+)\)$/m.exec(log);
  if (!m) throw new Error('no rtc_cmos "setting system clock" line in the log');
  return Number(m[3]) + uptimeSec - Number(m[1]);
}

function epochOf(date: string): number {
  return Date.parse(date.replace(/ UTC (\d{4})$/, ' $1 UTC')) / 1000;
}

describe.each(SHARED_DUMP_NAMES.map((n) => [n]))('sys on %s', (name) => {
  const d = sharedDump(name);
  it.skipIf(!d)(`every field equals crash's sys (KERNEL names crash's vmlinux)${d ? '' : ` (${SKIP_REASON})`}`, () => {
    const src = new NodeFileSource(d!.file);
    const prog = openProgram(src);
    const r = runCommand({ prog }, 'sys');
    const want = d!.oracleJson<SysJson>('sys.json');
    const got: SysJson = {};
    for (const line of r.text.split('\n')) {
      const m = /^\s*([A-Z ]+): (.*)$/.exec(line);
      if (m) got[m[1].trim()] = m[2];
    }
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) {
      if (k === 'KERNEL') {
        // no vmlinux; the taint mark is crash's
        expect(got.KERNEL.endsWith('[TAINTED]')).toBe(want.KERNEL.endsWith('[TAINTED]'));
      } else if (k === 'DUMPFILE') {
        // an .xz dump is read from a decompressed copy with another name
        const w = want.DUMPFILE.replace(/^\S+/, '');
        expect(got.DUMPFILE.replace(/^\S+/, '')).toBe(w);
        if (!d!.file.includes('vmcore-workbench-cache')) expect(got.DUMPFILE.split(' ')[0]).toBe(basename(d!.file));
      } else if (k === 'DATE' && CRASH_DATE_WRONG.has(name)) {
        expect(want.DATE).toBe('Thu Jan  1 00:00:00 UTC 1970'); // crash's failure, as the README says
        const [h, mi, sec] = got.UPTIME.split(':').map(Number);
        const expected = dateFromRtcLog(prog, h * 3600 + mi * 60 + sec);
        expect(Math.abs(epochOf(got.DATE) - expected), `DATE ${got.DATE}`).toBeLessThanOrEqual(2);
      } else expect(got[k], k).toBe(want[k]);
    }
  });

  it.skipIf(!d)('sys --json: the DESIGN.md shape, consistent with the text', () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const j = runCommand({ prog }, 'sys').json as Record<string, unknown>;
    for (const k of ['release', 'version', 'machine', 'cpus', 'panic', 'crash_time', 'kaslr_offset', 'page_offset', 'format', 'compression']) {
      expect(j, k).toHaveProperty(k);
    }
    const want = d!.oracleJson<SysJson>('sys.json');
    expect(j.release).toBe(want.RELEASE);
    expect(j.version).toBe(want.VERSION);
    expect(j.cpus).toBe(Number(want.CPUS.split(' ')[0]));
    expect(`"${j.panic}"`).toBe(want.PANIC);
    expect(j.tasks).toBe(Number(want.TASKS));
    expect(j.tasks_kernel_count).toBe(j.tasks); // the walk agrees with the kernel's nr_threads
    expect(j.hz).toBe(250); // Debian's CONFIG_HZ_250, found from jiffies vs the timekeeper
    if (CRASH_DATE_WRONG.has(name)) {
      // Linux 7.x: tk_core is element TIMEKEEPER_CORE of timekeeper_data[]; crash's DATE is the epoch
      expect(j.date_source).toBe('timekeeper_data[0].shadow_timekeeper.xtime_sec');
      expect(j.date).not.toBe(want.DATE);
    } else {
      expect(j.date_source).toBe('shadow_timekeeper.xtime_sec');
      expect(j.date).toBe(want.DATE);
    }
    expect(j.memory).toBe(want.MEMORY);
    expect(j.unknown).toBeUndefined();
    expect(typeof j.crash_time).toBe('number');
    expect(String(j.kaslr_offset)).toMatch(/^0x[0-9a-f]+$/);
    expect(String(j.page_offset)).toMatch(/^0x[0-9a-f]+$/);
  });

  it.skipIf(!d)('open + sys reads little of the dump and is quick', () => {
    const src = new NodeFileSource(d!.file);
    const t0 = performance.now();
    const prog = openProgram(src);
    const before = src.stats.bytesRead; // opening a flattened file replays all of it (not sys's doing)
    runCommand({ prog }, 'sys');
    const ms = performance.now() - t0;
    const sysBytes = src.stats.bytesRead - before;
    console.log(`${name}: open+sys ${ms.toFixed(0)} ms, open ${before} B, sys ${sysBytes} B read`);
    expect(sysBytes).toBeLessThan(10 * 2 ** 20);
    expect(prog.recall(KALLSYMS_ENCODING_KEY) !== undefined).toBe(false); // the symbol table was not built
  });
});

describe('ELF and kdump of the same kernel agree', () => {
  const elf = sharedDump('6.1-sysrq-kaslr');
  const kd = sharedDump('6.1-skb-uaf-0x106');
  it.skipIf(!elf || !kd)('release, version, machine, memory, nodename, HZ and the clock source', () => {
    const a = runCommand({ prog: openProgram(new NodeFileSource(elf!.file)) }, 'sys').json as Record<string, unknown>;
    const b = runCommand({ prog: openProgram(new NodeFileSource(kd!.file)) }, 'sys').json as Record<string, unknown>;
    for (const k of ['release', 'version', 'machine', 'nodename', 'memory', 'hz', 'date_source', 'cpus', 'offline_cpus']) {
      expect(a[k], k).toBe(b[k]);
    }
    expect(a.format).toBe('elf');
    expect(b.format).toBe('kdump');
  });
});
