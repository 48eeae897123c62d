import { describe, it, expect } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { allSharedDumps, SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand } from './registry';
import { psRows, formatPs } from './ps';
import { taskList, taskRssPages, totalPages } from '../analysis/tasks';

// crash's `ps` on the same dump (oracle/ps.json, ps.txt) is the reference
describe('ps equals crash on every shared dump', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const r = runCommand({ prog }, 'ps --json');
      const want = d!.oracleJson<any[]>('ps.json');
      const got = r.json as any[];
      const key = (t: any) => ({ pid: t.pid, ppid: t.ppid, cpu: t.cpu, task: t.task, comm: t.comm, active: t.active, state: t.state });
      expect(got.map(key)).toEqual(want.map(key));
      // the text is crash's, line for line (memory columns included)
      if (d!.crashVersion !== '8.0.2') {
        expect(r.text.trimEnd()).toBe(d!.oracle('ps.txt').trimEnd());
        return;
      }
      // crash 8.0.2 (the 5.10 oracle) is wrong on RSS and %MEM: it adds MM_FILEPAGES and
      // MM_ANONPAGES only, while the kernel's get_mm_rss() (and crash 9.0.2, the other oracles)
      // adds MM_SHMEMPAGES too; this guest runs from an initramfs, so its programs' pages are
      // shmem. Evidence: recomputed without MM_SHMEMPAGES every line equals crash 8.0.2's, and
      // the lines that differ are exactly the tasks with shmem pages.
      const tasks = taskList(prog);
      const total = totalPages(prog);
      const rows = psRows(prog, tasks);
      let withShmem = 0;
      const crash802 = rows.map((row, i) => {
        const t = tasks[i];
        if (!t.mm || t.idle) return row;
        const fileAnon = taskRssPages(prog, t, ['MM_FILEPAGES', 'MM_ANONPAGES']);
        const shmem = taskRssPages(prog, t, ['MM_SHMEMPAGES']);
        if (shmem > 0) withShmem++;
        expect(row.rss, `pid ${t.pid}`).toBe((fileAnon + shmem) * 4);
        return { ...row, rss: fileAnon * 4, mem_pct: ((fileAnon * 100) / total).toFixed(1) };
      });
      expect(formatPs(crash802).trimEnd()).toBe(d!.oracle('ps.txt').trimEnd());
      expect(withShmem).toBeGreaterThan(0);
      const diff = r.text.split('\n').filter((l, i) => l !== d!.oracle('ps.txt').split('\n')[i] && l).length;
      expect(diff).toBe(withShmem);
    }, 60_000);
  }
  it('has at least one dump', () => {
    expect(allSharedDumps().length).toBeGreaterThan(0);
  });
});
