/**
 * The script object API on real dumps: offsetof/sizeof equal crash's struct -o, memory reads equal
 * crash's rd, member access by property equals member(), deref/cast/containerOf/at agree, per-CPU
 * variables are typed from BTF's .data..percpu when it has them, an hlist walk, a task's stack
 * matches drgn's frames.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { sharedDump } from '../testing/dumps';
import { openDumpFile } from '../node';
import { scriptProgram, type ScriptProgram } from './api';

const NAMES = ['6.1-sysrq-kaslr', '5.10-sysrq-lzo', '7.2-sysrq-kaslr', '6.12-skb-uaf-kaslr'] as const;

for (const name of NAMES) {
  const d = sharedDump(name);
  describe.skipIf(!d)(`script API on ${name}`, () => {
    let sp: ScriptProgram;
    const S = () => (sp ??= scriptProgram(openDumpFile(d!.file)));

    it('sizeof / offsetof equal crash struct -o (every member crash lists)', () => {
      const types = d!.oracleJson<any[]>('struct-offsets.json');
      let n = 0;
      for (const t of types) {
        if (!t.type || !t.members) continue;
        if (S().program.findType(t.type) === null) continue;
        expect(S().sizeof(t.type), t.type).toBe(t.size);
        for (const m of t.members) {
          if (m.bits || m.name.includes('(')) continue;
          expect(S().offsetof(t.type, m.name), `${t.type}.${m.name}`).toBe(m.offset);
          n++;
        }
      }
      expect(n).toBeGreaterThan(300);
    });

    it('prog.read equals crash rd', () => {
      const rd = d!.oracleJson<any[]>('rd.json');
      let n = 0;
      for (const r of rd) {
        if (!r.words?.length || !/^0x[0-9a-f]+$/.test(r.words[0])) continue;
        const b = S().tryRead(BigInt(r.address), r.words.length * 8);
        if (!b) continue;
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        const words = r.words.map((_: string, i: number) => '0x' + dv.getBigUint64(i * 8, true).toString(16).padStart(16, '0'));
        expect(words, r.address).toEqual(r.words);
        n++;
      }
      expect(n).toBeGreaterThan(10);
    });

    it('objects: property = member(), deref, cast, containerOf, at, value(), string()', () => {
      const drgn = d!.oracleJson('drgn.json');
      const init = (drgn.tasks as any[]).find((t) => t.pid === 1);
      const t = S().object(BigInt(init.task), 'struct task_struct');
      expect(t.typeName).toBe('struct task_struct');
      expect(t.comm.string()).toBe(init.comm);
      expect(t.member('comm').string()).toBe(init.comm);
      expect(t.pid.value()).toBe(1);
      expect(typeof t.pid.value()).toBe('number');
      expect(t.comm.length).toBe(t.comm.byteSize);
      expect(String.fromCharCode(t.comm[0].value())).toBe(init.comm[0]);
      expect(t.comm.at(1).value()).toBe(init.comm.charCodeAt(1));
      // through a pointer, as C's ->
      const mm = t.mm;
      expect(mm.kind).toBe('ptr');
      expect(typeof mm.value()).toBe('bigint');
      expect(mm.deref().address).toBe(mm.value());
      expect(mm.pgd.value()).toBe(mm.deref().member('pgd').value());
      expect(t.member('thread_pid').deref().typeName).toBe('struct pid');
      // container_of of the tasks list_head gives the task back
      expect(S().containerOf(t.tasks, 'struct task_struct', 'tasks').address).toBe(t.address);
      expect(S().containerOf(t.tasks.address, 'struct task_struct', 'tasks').comm.string()).toBe(init.comm);
      // cast and pointer types
      expect(t.cast('struct list_head').address).toBe(t.address);
      expect(S().object(t.address, 'struct task_struct *').typeName).toBe('struct task_struct *');
      expect(S().sizeof('struct task_struct *')).toBe(8);
      // value() of a small struct
      const lh = t.tasks.value();
      expect(lh.next).toBe(t.tasks.next.value());
      expect(() => t.no_such_member_here.value()).toThrow();
      expect(t.no_such_member_here).toBeUndefined();
      expect('comm' in t).toBe(true);
      expect(t.members()).toContain('comm');
      // members named like the object's own fields are members (pt_regs.sp, not the program)
      const regs = S().object(t.address, 'struct pt_regs');
      expect(regs.sp.address).toBe(t.address + BigInt(S().offsetof('struct pt_regs', 'sp')));
      expect(regs.sp.typeName).toBe('unsigned long');
    });

    it('per-CPU variables typed from BTF (.data..percpu) when it has them, else from a given type', () => {
      const drgn = d!.oracleJson('drgn.json');
      const v = S().btfVariable('runqueues');
      for (const t of (drgn.tasks as any[]).filter((x) => x.rq_curr_of_cpu !== null && x.rq_curr_of_cpu !== undefined)) {
        const rq = v ? S().perCpu('runqueues', t.rq_curr_of_cpu) : S().perCpu('runqueues', t.rq_curr_of_cpu, 'struct rq');
        expect(rq.typeName).toBe('struct rq');
        expect('0x' + rq.curr.value().toString(16)).toBe(t.task);
      }
      if (v) {
        expect(v.percpu).toBe(true);
        expect(() => S().var('runqueues')).toThrow(/per-CPU variable/);
      } else {
        expect(() => S().perCpu('runqueues', 0)).toThrow(/no type for per-CPU runqueues/);
      }
      // a global without a BTF VAR needs its type
      if (!S().btfVariable('init_task')) expect(() => S().var('init_task')).toThrow(/give one/);
      expect(S().var('init_task', 'struct task_struct').pid.value()).toBe(0);
    });

    it('hlist walk: struct pid.tasks[PIDTYPE_PID] holds its task', () => {
      const t = S().task(1)!;
      const pid = t.thread_pid;
      const PIDTYPE_PID = Number(S().constant('PIDTYPE_PID'));
      const tasks = S().hlistForEachEntry(pid.tasks.at(PIDTYPE_PID), 'struct task_struct', `pid_links[${PIDTYPE_PID}]`);
      expect(tasks.map((x) => x.address)).toEqual([t.address]);
    });

    it('rbtree walk: vmap_area_root in order = crash kmem -v (kernels with one vmap rbtree)', () => {
      const root = S().symbolAddress('vmap_area_root');
      if (root === undefined) {
        // 6.9+ keeps busy areas in per-node trees (vmap_nodes): not this check
        expect(S().symbolAddress('vmap_nodes')).toBeDefined();
        return;
      }
      const want = d!.oracle('kmem-v.txt').split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0]).filter((a) => /^[0-9a-f]{16}$/.test(a));
      expect(want.length).toBeGreaterThan(20);
      const got = S().rbtreeInorderForEachEntry(root, 'struct vmap_area', 'rb_node').map((v) => v.address.toString(16));
      expect(S().problems).toEqual([]);
      expect(got).toEqual(want);
    });

    it('xarray walk: init_pid_ns.idr holds a struct pid for every pid drgn lists (idr_for_each)', () => {
      const drgn = d!.oracleJson('drgn.json');
      const want = [...new Set((drgn.tasks as any[]).map((t) => t.pid as number).filter((p) => p > 0))].sort((a, b) => a - b);
      expect(want.length).toBeGreaterThan(40);
      const ns = S().var('init_pid_ns', 'struct pid_namespace');
      const ids = S().idrForEach(ns.idr);
      expect(S().problems).toEqual([]);
      const got: number[] = [];
      for (const { id, entry } of ids) {
        const pid = S().object(entry, 'struct pid');
        // the entry is the struct pid of that number (numbers[0] in the init namespace)
        expect(pid.numbers.at(0).nr.value()).toBe(Number(id));
        got.push(Number(id));
      }
      expect(got).toEqual([...got].sort((a, b) => a - b));
      // every task's pid is allocated; pids with no task on the lists (exited, being reaped) may be too
      for (const p of want) expect(got, `pid ${p}`).toContain(p);
      expect(got.length).toBeLessThan(want.length + 20);
    });

    it("a task's stack: every kernel frame drgn shows for the crashed thread", () => {
      const drgn = d!.oracleJson('drgn.json');
      const ct = drgn.crashed_thread;
      const want = ((drgn.tasks as any[]).find((t) => t.task === ct.task).frames as any[])
        .filter((f) => !f.is_inline && BigInt(f.pc) >= 0xffff800000000000n)
        .map((f) => f.pc as string);
      expect(want.length).toBeGreaterThan(3);
      const got = new Set(S().stackTrace(BigInt(ct.task)).map((f) => '0x' + f.pc.toString(16)));
      // drgn's first frame is where the CPU was (delay loop); ours may start in the same function elsewhere
      const missing = want.slice(1).filter((pc) => !got.has(pc));
      expect(missing).toEqual([]);
    });

    it('slab objects and kmem ADDR through the API', () => {
      const drgn = d!.oracleJson('drgn.json');
      const info = (drgn.slab_object_info as any[]).filter((x) => x.slab && x.object).slice(0, 20);
      expect(info.length).toBeGreaterThan(5);
      for (const x of info) {
        const i = S().slabObjectInfo(BigInt(x.address));
        expect(i, x.address).not.toBeNull();
        expect({ cache: i!.cache, object: '0x' + i!.object.toString(16), allocated: i!.allocated }).toEqual({ cache: x.cache, object: x.object, allocated: x.allocated_all_cpus });
      }
      const objs = S().slabObjects('task_struct');
      expect(objs.length).toBeGreaterThan(0);
      const tasks = new Set(S().tasks().map((t) => t.address));
      // every allocated listed task_struct slot that is a task on the list is allocated
      for (const o of objs) if (tasks.has(o.address)) expect(o.state).toBe('allocated');
    });
  });
}

// mt_for_each over pid 1's mm->mm_mt: its VMAs, with their ranges, = crash `vm 1`
// (workers/commands/oracles/<dump>/vm_1.txt, made by oracles/make.sh)
for (const name of ['6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr', '6.1-bh-scribble']) {
  const d = sharedDump(name);
  const oracleFile = new URL(`../commands/oracles/${name}/vm_1.txt`, import.meta.url);
  describe.skipIf(!d)(`maple tree walk on ${name}`, () => {
    it("prog.mtForEach(task.mm.mm_mt): pid 1's VMAs and their ranges = crash vm 1", () => {
      const want = readFileSync(oracleFile, 'utf8')
        .split('\n')
        .map((l) => /^([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s/.exec(l))
        .filter((m) => m !== null)
        .map((m) => `${m![1]} ${m![2]} ${m![3]}`);
      expect(want.length).toBeGreaterThan(3);
      const sp = scriptProgram(openDumpFile(d!.file));
      const task = sp.task(1)!;
      const got = sp.mtForEach(task.mm.mm_mt).map(({ index, last, entry }) => {
        const vma = sp.object(entry, 'struct vm_area_struct');
        // the tree keys each VMA by [vm_start, vm_end - 1]
        expect(vma.vm_start.value()).toBe(index);
        expect(vma.vm_end.value()).toBe(last + 1n);
        return `${entry.toString(16)} ${index.toString(16)} ${(last + 1n).toString(16)}`;
      });
      expect(sp.problems).toEqual([]);
      expect(got).toEqual(want);
      expect(got.length).toBe(task.mm.map_count.value());
    }, 120_000);
  });
}
