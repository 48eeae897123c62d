import { describe, it, expect, beforeAll } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { initDisassembler } from '../analysis/disasm';
import { inferVariableType } from '../analysis/vartype';
import { btfVariable } from '../kernel/variables';
import { runCommand } from './registry';
import './index';

// 7.2-sysrq-kaslr joins when this branch reads that kernel (its BTF sits above the mapped text here)
const NAMES = ['6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr', '7.2-sysrq-kaslr'];

beforeAll(async () => {
  await initDisassembler();
});

function open(name: string) {
  const d = sharedDump(name)!;
  return { d, prog: openProgram(new NodeFileSource(d.file)) };
}

for (const name of NAMES) {
  const d = sharedDump(name);
  const usable = (() => {
    if (!d) return false;
    try {
      return openProgram(new NodeFileSource(d.file)).hasBtf;
    } catch {
      return false;
    }
  })();
  describe.skipIf(!usable)(`typed variables on ${name}${d ? (usable ? '' : ' (BTF not readable on this branch yet)') : ` (${SKIP_REASON})`}`, () => {
    it('p runqueues:N.curr is the task crash calls active on CPU N (ps.json); p &init_task is swapper/0', () => {
      const { d, prog } = open(name);
      const ps = d.oracleJson<any[]>('ps.json');
      const cpus = [...new Set(ps.map((t) => t.cpu))];
      for (const cpu of cpus) {
        const r = runCommand({ prog }, `p/x runqueues:${cpu}.curr --json`.replace(' --json', ''));
        const active = ps.filter((t) => t.cpu === cpu && t.active);
        // crash's active task on a CPU is rq->curr
        if (active.length === 1) expect(r.text, `cpu ${cpu}`).toBe(`$${/\$(\d+)/.exec(r.text)![1]} = ${active[0].task}\n`);
      }
      const swapper0 = ps.find((t) => t.pid === 0 && t.cpu === 0)!;
      expect(runCommand({ prog }, 'p &init_task').text).toMatch(new RegExp(`= \\(struct task_struct \\*\\) ${swapper0.task} <init_task>\\n`));
      expect(runCommand({ prog }, 'p init_task.comm').text).toMatch(/^\$\d+ = "swapper\/0\\000/);
      // per_cpu() and var:cpu agree; the listing names the BTF type
      expect(runCommand({ prog }, 'p per_cpu(runqueues, 0).cpu').text).toMatch(/= 0\n/);
      expect(runCommand({ prog }, 'p runqueues:1.cpu').text).toMatch(/= 1\n/);
      const list = runCommand({ prog }, 'p runqueues').text;
      expect(list).toContain('PER-CPU DATA TYPE:\n  struct rq runqueues;\nPER-CPU ADDRESSES:\n  [0]: ');
    }, 120_000);

    it('struct rq.nr_running -c / runqueues:a: one block per CPU', () => {
      const { prog } = open(name);
      const a = runCommand({ prog }, 'struct rq.nr_running -c');
      const b = runCommand({ prog }, 'struct rq.nr_running runqueues:a');
      expect(a.text).toBe(b.text);
      expect(a.text).toMatch(/^\[0\]: [0-9a-f]+\n  nr_running = \d+,\n\[1\]: [0-9a-f]+\n  nr_running = \d+,\n$/);
      // the value is rq->nr_running read with the BTF offset
      const rq1 = prog.perCpu('runqueues', 1);
      const n = prog.obj('struct rq', rq1).member('nr_running').num();
      expect(a.text).toContain(`[1]: ${rq1.toString(16)}\n  nr_running = ${n},`);
    }, 60_000);

    it('p jiffies: typed by inference as unsigned long, the value in memory', () => {
      const { prog } = open(name);
      expect(btfVariable(prog, 'jiffies')).toBeNull(); // no BTF VAR: the type must come from the code
      const r = runCommand({ prog }, 'p jiffies');
      const v = prog.mem.u64(prog.symbolAddress('jiffies')!);
      expect(r.text).toMatch(new RegExp(`^jiffies = \\$\\d+ = ${v}\\n\\(type of jiffies inferred from the kernel's code and data`));
    }, 120_000);

    // the engine has no type for these globals (no BTF VAR); the truth is the kernel's source
    // (include/linux/sched/task.h init_task, mm_types.h init_mm, net_namespace.h init_net,
    // mm/slab_common.c slab_mutex, net/core/rtnetlink.c rtnl_mutex, jiffies.h jiffies, module.c modules)
    const TRUTH: Record<string, string> = {
      init_task: 'struct task_struct',
      init_mm: 'struct mm_struct',
      init_net: 'struct net',
      slab_mutex: 'struct mutex',
      rtnl_mutex: 'struct mutex',
      jiffies: 'unsigned long',
      modules: 'struct list_head',
    };
    it('inference ranks the true type first, with evidence', () => {
      const { prog } = open(name);
      for (const [sym, truth] of Object.entries(TRUTH)) {
        expect(btfVariable(prog, sym), sym).toBeNull();
        const inf = inferVariableType(prog, sym);
        expect(inf.candidates.length, sym).toBeGreaterThan(0);
        expect(inf.candidates[0].name, `${sym}: ${inf.candidates.map((c) => `${c.name}(${c.votes})`).join(' ')}`).toBe(truth);
        expect(inf.candidates[0].evidence[0].text).toMatch(/call|jmp|compared|points at/);
      }
      // a per-CPU variable whose BTF VAR we ignore: the code's use agrees with BTF
      const v = runCommand({ prog }, 'vartype runqueues --json').json as any;
      expect(v.source).toBe('btf');
      expect(v.type).toBe('struct rq');
    }, 300_000);
  });
}
