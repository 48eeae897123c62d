import { describe, it, expect } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { allSharedDumps, SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand } from './registry';

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
      expect(r.text.trimEnd()).toBe(d!.oracle('ps.txt').trimEnd());
    }, 60_000);
  }
  it('has at least one dump', () => {
    expect(allSharedDumps().length).toBeGreaterThan(0);
  });
});
