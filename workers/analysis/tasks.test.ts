import { describe, it, expect } from 'vitest';
import { openProgram, Program, SYMBOL_LOADERS } from '../engine';
import { NodeFileSource } from '../source/node';
import { SHARED_DUMP_NAMES, sharedDump } from '../testing/dumps';
import { stateLetters, taskStateBits, panicTask, taskList, forEachThread, listNodes, taskWalkProblems, type TaskStateBits } from './tasks';

const bits: TaskStateBits = {
  INTERRUPTIBLE: 1, UNINTERRUPTIBLE: 2, STOPPED: 4, TRACED: 8, EXIT_DEAD: 0x10, EXIT_ZOMBIE: 0x20, PARKED: 0x40,
  DEAD: 0x80, WAKEKILL: 0x100, WAKING: 0x200, NOLOAD: 0x400, NEW: 0x800, letters: '',
};

describe('task state letters (crash task_state_string)', () => {
  it('maps the bits', () => {
    expect(stateLetters(0, bits)).toBe('RU');
    expect(stateLetters(1, bits)).toBe('IN');
    expect(stateLetters(2, bits)).toBe('UN');
    expect(stateLetters(0x402, bits)).toBe('ID');
    expect(stateLetters(0x20, bits)).toBe('ZO');
    expect(stateLetters(0x10, bits)).toBe('DE');
    expect(stateLetters(4, bits)).toBe('ST');
    expect(stateLetters(8, bits)).toBe('TR');
    expect(stateLetters(0x40, bits)).toBe('PA');
    expect(stateLetters(0x800, bits)).toBe('NE');
  });
});

describe('tasks on the shared dumps', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}: panic task, state bits from task_state_array, threads`, () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const inc = d!.oracleJson('incident.json');
      const p = panicTask(prog)!;
      expect({ pid: p.pid, comm: p.comm, task: '0x' + p.task.toString(16), cpu: p.cpu }).toEqual(inc.panic_task);
      const b = taskStateBits(prog);
      expect(b.letters.startsWith('RSDTtXZPI')).toBe(true);
      expect(b).toMatchObject({ INTERRUPTIBLE: 1, UNINTERRUPTIBLE: 2, EXIT_ZOMBIE: 0x20, PARKED: 0x40 });
      // every thread list walk ends at its head
      for (const t of taskList(prog).filter((x) => !x.idle)) expect(forEachThread(prog, t.task)).toContain(t.task);
      expect(taskWalkProblems(prog)).toEqual([]);
    }, 60_000);
  }
  const d = sharedDump('6.1-skb-uaf-0x106');
  it.skipIf(!d)('a task list that loops back is cut and reported, in bounded time', () => {
    const base = openProgram(new NodeFileSource(d!.file));
    const init = base.symbolAddress('init_task')!;
    const off = BigInt(base.offsetof('struct task_struct', 'tasks'));
    const nodes = listNodes(base, init + off, 'test');
    // make the 6th process's tasks.next point back at the 2nd one (memory corruption)
    const victim = nodes[5];
    const pa = Number(base.arch.vtop(victim));
    const patch = new Uint8Array(8);
    new DataView(patch.buffer).setBigUint64(0, nodes[1], true);
    const phys = new Proxy(base.phys, {
      get(target, prop) {
        if (prop === 'readPhys')
          return (a: number, len: number) => {
            const b = target.readPhys(a, len);
            if (a + len <= pa || a >= pa + 8) return b;
            const out = b.slice();
            for (let i = 0; i < len; i++) if (a + i >= pa && a + i < pa + 8) out[i] = patch[a + i - pa];
            return out;
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const prog = new Program(base.src, phys, SYMBOL_LOADERS);
    const t0 = Date.now();
    const list = taskList(prog);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(list.length).toBeLessThan(taskList(base).length);
    expect(taskWalkProblems(prog).some((p) => /loops back/.test(p.why))).toBe(true);
  }, 60_000);
});
