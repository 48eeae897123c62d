import { describe, it, expect } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand } from './registry';
import './index';

for (const name of ['6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr']) {
  const d = sharedDump(name);
  describe.skipIf(!d)(`stacks / hung on ${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
    it("groups every task of crash's ps once; tasks of a group have the same crash bt (bt-foreach-s.txt)", () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const ps = d!.oracleJson<any[]>('ps.json');
      const j = runCommand({ prog }, 'stacks').json as any;
      const tasks = j.groups.flatMap((g: any) => g.tasks.map((t: any) => t.task));
      expect(tasks.sort()).toEqual(ps.map((t) => t.task).sort());
      // crash's own backtraces (sleeping tasks: crash and the engine agree there) fall in the same groups
      const blocks = d!.oracle('bt-foreach-s.txt').trimEnd().split(/\n\n(?=PID:)/);
      const crashBt = new Map(blocks.map((b) => ['0x' + /TASK: ([0-9a-f]+)/.exec(b)![1], b.split('\n').slice(1).filter((l) => /^ *#\d+ /.test(l)).map((l) => l.replace(/^ *#\d+ \[[0-9a-f]+\] /, '').replace(/ at [0-9a-f]+/, '')).join('\n')]));
      const active = new Set(ps.filter((t) => t.active).map((t) => t.task));
      for (const g of j.groups) {
        const sleeping = g.tasks.filter((t: any) => !active.has(t.task));
        const texts = new Set(sleeping.map((t: any) => crashBt.get(t.task)));
        expect(texts.size, g.tasks.map((t: any) => t.pid).join(',')).toBeLessThanOrEqual(1);
        // the frames are crash's frames: function+offset
        if (sleeping.length) expect([...texts][0]).toBe(g.frames.map((f: any) => `${f.symbol}+${f.offset}${f.module ? ` [${f.module}]` : ''}`).join('\n'));
      }
      // states add up to crash's ps states
      const states: Record<string, number> = {};
      for (const g of j.groups) for (const [s, n] of Object.entries(g.states)) states[s] = (states[s] ?? 0) + (n as number);
      const want: Record<string, number> = {};
      for (const t of ps) want[t.state] = (want[t.state] ?? 0) + 1;
      expect(states).toEqual(want);
      // filters: by function, by state, by module (the incident module's insmod stack on skb dumps)
      const wt = runCommand({ prog }, 'stacks -c worker_thread').json as any;
      expect(wt.groups.length).toBeGreaterThan(0);
      for (const g of wt.groups) expect(g.frames.some((f: any) => f.symbol === 'worker_thread')).toBe(true);
      const idle = runCommand({ prog }, 'stacks -s ID').json as any;
      expect(idle.groups.reduce((n: number, g: any) => n + g.count, 0)).toBe(want.ID ?? 0);
    }, 180_000);

    it('hung -t 0 lists exactly the D-state tasks', () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const ps = d!.oracleJson<any[]>('ps.json');
      const j = runCommand({ prog }, 'hung -t 0').json as any;
      expect(j.tasks.map((t: any) => t.task).sort()).toEqual(ps.filter((t) => t.state === 'UN').map((t) => t.task).sort());
    }, 120_000);
  });
}
