import { describe, it, expect } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { classifyPointer, slabSpanAt } from './pointers';

// crash's ps lists every task_struct: all but init_task (a kernel data symbol) are objects of the
// task_struct slab cache, allocated
describe('pointer classification and slab spans (crash ps as the oracle)', () => {
  for (const name of ['6.1-skb-uaf-0x106', '7.2-sysrq-kaslr']) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}: tasks are allocated task_struct objects, init_task a symbol${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const ps = d!.oracleJson<Array<{ pid: number; cpu: number; task: string }>>('ps.json');
      const init = BigInt(ps.find((t) => t.pid === 0 && t.cpu === 0)!.task);
      // a symbol, not a slab object (its kind follows kallsyms' type letter: D on 6.1, T on 7.2)
      const ic = classifyPointer(prog, init);
      expect(ic.label).toBe('init_task');
      expect(['data', 'text']).toContain(ic.kind);
      const tasks = ps.map((t) => BigInt(t.task)).filter((t) => t !== init);
      expect(tasks.length).toBeGreaterThan(10);
      for (const t of tasks) {
        expect(classifyPointer(prog, t), t.toString(16)).toEqual({ kind: 'slab', label: 'task_struct' });
        const span = slabSpanAt(prog, t)!;
        expect(span.cache).toBe('task_struct');
        expect(t >= span.memory && t < span.end).toBe(true);
        const i = Number((t - span.memory) / BigInt(span.size));
        expect(span.states[i], t.toString(16)).toBe('allocated');
      }
      const schedule = prog.symbolAddress('schedule')!;
      expect(classifyPointer(prog, schedule + 4n)).toEqual({ kind: 'text', label: 'schedule+0x4' });
      expect(slabSpanAt(prog, schedule)).toBeNull();
    }, 120_000);
  }
});
