import { describe, it, expect } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand } from './registry';
import './index';

for (const name of ['6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr', '6.1-la57-hung-locks']) {
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

// A dump made for this: tasks blocked in D state on a mutex and an rw_semaphore whose owners sleep
// holding them (fixtures/modules/hung_locks), 5-level paging. The oracle is drgn 0.3.0's
// mutex_owner()/rwsem_owner() and the waiter tasks on each lock's wait_list (drgn.json "locks"),
// and crash's `struct mutex|rw_semaphore ADDR` owner counter (locks.json).
const hl = sharedDump('6.1-la57-hung-locks');
describe.skipIf(!hl)(`hung: the lock and its owner on 6.1-la57-hung-locks${hl ? '' : ` (${SKIP_REASON})`}`, () => {
  it("every D-state task's lock, owner, owner field and wait list equal drgn's and crash's", () => {
    const prog = openProgram(new NodeFileSource(hl!.file));
    type DrgnLock = { symbol: string; type: string; address: string; owner_counter: string; owner: string; owner_pid: number; owner_comm: string; waiters: { task: string; pid: number; comm: string }[] };
    const locks = hl!.oracleJson<{ locks: DrgnLock[] }>('drgn.json').locks;
    const crashLocks = hl!.oracleJson<{ symbol: string; address: string; owner_counter: string }[]>('locks.json');
    expect(locks.length).toBe(2);
    // default threshold: the kernel's hung_task_timeout_secs (10, set by the guest's /init)
    const j = runCommand({ prog }, 'hung').json as any;
    expect(j.seconds).toBe(10);
    const ps = hl!.oracleJson<any[]>('ps.json');
    expect(j.tasks.map((t: any) => t.task).sort()).toEqual(ps.filter((t) => t.state === 'UN').map((t) => t.task).sort());
    const byTask = new Map<string, any>(j.tasks.map((t: any) => [t.task, t]));
    let checked = 0;
    for (const l of locks) {
      const c = crashLocks.find((x) => x.symbol === l.symbol)!;
      expect(c.address).toBe(l.address);
      expect(c.owner_counter).toBe(l.owner_counter);
      for (const w of l.waiters) {
        const h = byTask.get(w.task);
        expect(h, `${w.comm} (${w.pid}) listed by hung`).toBeDefined();
        expect(h.waits.length, w.comm).toBe(1);
        const x = h.waits[0];
        expect(`${w.comm}: ${x.type} ${x.lock} ${x.symbol}`).toBe(`${w.comm}: ${l.type} ${l.address} ${l.symbol} [hung_locks]`);
        expect(x.owner_raw).toBe(l.owner_counter);
        expect(x.owner).toEqual({ pid: l.owner_pid, task: l.owner, comm: l.owner_comm, state: ps.find((t) => t.task === l.owner).state });
        expect(x.waiters).toEqual(l.waiters);
        checked++;
      }
    }
    // every D-state task waits on one of the two locks
    expect(checked).toBe(j.tasks.length);
    // the text names the lock and the owner
    const text = runCommand({ prog }, 'hung').text;
    const m = locks.find((l) => l.type === 'struct mutex')!;
    expect(text).toContain(`waits on struct mutex ${m.address.slice(2)} (${m.symbol} [hung_locks])`);
    expect(text).toContain(`owner: PID ${m.owner_pid} TASK ${m.owner.slice(2)} "${m.owner_comm}"`);
  }, 120_000);
});
