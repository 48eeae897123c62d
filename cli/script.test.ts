/**
 * Scripts over the dump (workers/script/api.ts run by cli/script.ts) reproduce drgn's facts of the
 * dev dumps (oracle/drgn.json): every task's comm and pid, every slab cache's counts, a list walk
 * (slab_caches by list_for_each_entry), a per-CPU read (runqueues.curr of each CPU). The
 * generated kernel.d.ts type-checks with the project's tsc and has every named BTF struct; a
 * runaway loop is stopped by the time budget.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openDumpFile } from '../workers/node';
import { allSharedDumps, sharedDump, SHARED_DUMP_NAMES, SKIP_REASON, ROOT } from '../workers/testing/dumps';
import type { Program } from '../workers/kernel/program';
import { runScript, dumpDts } from './script';
import { generateDts } from '../workers/script/dts';
import { btfVariables } from '../workers/kernel/variables';

const TASKS_SCRIPT = `
// every task on the task lists, plus each CPU's idle task (drgn's list has them too)
const seen = new Set();
const out = [];
for (const t of [...prog.tasks(), ...prog.idleTasks()]) {
  if (seen.has(t.address)) continue;
  seen.add(t.address);
  out.push({ task: '0x' + t.address.toString(16), pid: t.pid.value(), comm: t.comm.string() });
}
return out;
`;

const SLAB_SCRIPT = `
return prog.slabCaches().map((c) => {
  const u = prog.slabCacheUsage(c);
  return { name: c.name, address: '0x' + c.address.toString(16), objsize: c.object.object_size.value(), allocated: u.allocated, total: u.total, slabs: u.slabs };
});
`;

// a list walk written in the script: slab_caches through kmem_cache.list (list.h's helper)
const LIST_SCRIPT = `
const head = prog.symbolAddress('slab_caches');
return prog.listForEachEntry(head, 'struct kmem_cache', 'list').map((s) => [s.name.string(), '0x' + s.address.toString(16)]);
`;

// per-CPU read: runqueues on every CPU, typed from BTF's .data..percpu when it has the VAR
const PERCPU_SCRIPT = `
const out = {};
for (const cpu of prog.cpus()) {
  let rq;
  try { rq = prog.perCpu('runqueues', cpu); } catch (e) { rq = prog.perCpu('runqueues', cpu, 'struct rq'); }
  out[cpu] = { curr: '0x' + rq.curr.value().toString(16), comm: rq.curr.comm.string(), pid: rq.curr.pid.value(), type: rq.typeName };
}
return out;
`;

function run(prog: Program, code: string, timeoutMs = 120_000): any {
  const r = runScript(prog, code, { timeoutMs });
  expect(r.error ?? null).toBeNull();
  expect(r.ok).toBe(true);
  return r.result;
}

const dumps = allSharedDumps().filter((d) => d.hasOracle('drgn.json'));

describe('scripts reproduce drgn.json of the dev dumps', () => {
  it('has dumps to check', () => {
    if (dumps.length === 0) console.warn(SKIP_REASON);
    expect(SHARED_DUMP_NAMES.length).toBeGreaterThan(0);
  });
  for (const d of dumps) {
    describe(d.name, () => {
      const drgn = d.oracleJson('drgn.json');
      let prog: Program;
      const P = () => (prog ??= openDumpFile(d.file));

      it('every task: address, pid, comm', () => {
        const got = run(P(), TASKS_SCRIPT) as Array<{ task: string; pid: number; comm: string }>;
        const want = (drgn.tasks as any[]).map((t) => ({ task: t.task, pid: t.pid, comm: t.comm }));
        const key = (t: { task: string }) => t.task;
        expect(want.length).toBeGreaterThan(40);
        expect([...got].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...want].sort((a, b) => key(a).localeCompare(key(b))));
      }, 120_000);

      it('per-CPU runqueues.curr of each CPU', () => {
        const got = run(P(), PERCPU_SCRIPT) as Record<string, { curr: string; comm: string; pid: number }>;
        const want = (drgn.tasks as any[]).filter((t) => t.rq_curr_of_cpu !== null && t.rq_curr_of_cpu !== undefined);
        expect(want.length).toBeGreaterThan(0);
        for (const t of want) expect(got[t.rq_curr_of_cpu]).toMatchObject({ curr: t.task, comm: t.comm, pid: t.pid });
      }, 120_000);

      it('a list walk: slab_caches by list_for_each_entry, in drgn order', () => {
        const got = run(P(), LIST_SCRIPT) as Array<[string, string]>;
        const want = (drgn.slab_caches as any[]).map((c) => [c.name, c.address]);
        expect(want.length).toBeGreaterThan(100);
        expect(got).toEqual(want);
      }, 120_000);

      it('slab caches: counts over every possible CPU (allocated_all_cpus, node totals)', () => {
        const got = run(P(), SLAB_SCRIPT);
        const want = (drgn.slab_caches as any[]).map((c) => ({
          name: c.name, address: c.address, objsize: c.object_size, allocated: c.allocated_all_cpus, total: c.node_total_objects, slabs: c.node_nr_slabs,
        }));
        expect(got).toEqual(want);
      }, 300_000);
    });
  }
});

describe('kernel.d.ts from BTF', () => {
  const names = ['6.1-sysrq-kaslr', '5.10-sysrq-lzo', '7.2-sysrq-kaslr'] as const;
  for (const name of names) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}: every named struct, and it type-checks with a script (tsc)`, () => {
      const prog = openDumpFile(d!.file);
      const { text, stats } = generateDts(prog.btf, btfVariables(prog));
      const structNames = new Set([...prog.btf.structs()].filter((s) => s.kind === 'struct').map((s) => s.name));
      expect(structNames.size).toBeGreaterThan(3000);
      expect(stats.structs).toBe(structNames.size);
      const declared = new Set([...text.matchAll(/^interface struct_(\w+) extends KStruct \{/gm)].map((m) => m[1]));
      for (const s of structNames) expect(declared.has(s), `struct ${s}`).toBe(true);
      // per-CPU variables with their types when BTF has them (pahole's default since 1.18; not 5.10's)
      const pc = btfVariables(prog).filter((v) => v.percpu);
      expect(stats.perCpu).toBe(pc.length);
      if (name !== '5.10-sysrq-lzo') expect(text).toMatch(/^  "runqueues": struct_rq;$/m);
      expect(text).toMatch(/^  \/\*\* char comm\[16\]; \(offset \d+\) \*\/\n  readonly comm: KArray<KInt<number>>;/m);
      const dir = mkdtempSync(join(tmpdir(), 'vmcore-dts-'));
      try {
        writeFileSync(join(dir, 'kernel.d.ts'), dumpDts(prog));
        // a script the declarations check: typed members through pointers, typed values
        writeFileSync(
          join(dir, 'ok.ts'),
          `const rq = prog.perCpu('runqueues', 1, 'struct rq');
const comm: string = rq.curr.comm.string();
const pid: number = rq.curr.pid.value();
for (const t of prog.tasks()) print(t.comm.string(), t.pid.value(), t.mm.isNull() ? 0n : t.mm.pgd.value());
const skb = prog.object(0xffff888000000000n, 'struct sk_buff');
const head: bigint = skb.head.value();
const len: number = skb.len.value();
const caches: string[] = prog.listForEachEntry(prog.symbolAddress('slab_caches')!, 'struct kmem_cache', 'list').map((c) => c.name.string());
print(comm, pid, head, len, caches.length);
` + (pc.some((v) => v.name === 'runqueues') ? "const typed: string = prog.perCpu('runqueues', 0).curr.comm.string();\n" : ''),
        );
        // and a typo it must reject
        writeFileSync(join(dir, 'bad.ts'), `const x: number = prog.tasks()[0].no_such_member.value();\n`);
        const tsc = (files: string[]) =>
          spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--ignoreConfig', '--noEmit', '--strict', '--target', 'es2022', '--lib', 'es2022', '--types', '', ...files], {
            cwd: dir,
            encoding: 'utf8',
            timeout: 240_000,
          });
        const ok = tsc(['kernel.d.ts', 'ok.ts']);
        expect(ok.stdout + ok.stderr).toBe('');
        expect(ok.status).toBe(0);
        const bad = tsc(['kernel.d.ts', 'bad.ts']);
        expect(bad.status).not.toBe(0);
        expect(bad.stdout).toMatch(/bad\.ts\(1,\d+\): error TS2339: Property 'no_such_member' does not exist on type 'struct_task_struct'/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});

describe('time budget and the CLI', () => {
  const d = sharedDump('6.1-sysrq-kaslr') ?? sharedDump('6.1-skb-uaf-0x106');
  it.skipIf(!d)('a runaway loop is stopped and reported', () => {
    const prog = openDumpFile(d!.file);
    const t0 = Date.now();
    const r = runScript(prog, 'let n = 0; for (;;) { n++; }', { timeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(r.timedOut).toBe(true);
    expect(r.error).toMatch(/time budget exceeded/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // a loop over kernel reads is stopped too
    const r2 = runScript(prog, "for (;;) { prog.perCpu('runqueues', 0, 'struct rq').curr.pid.value(); }", { timeoutMs: 300 });
    expect(r2.timedOut).toBe(true);
    // scripts see no Node globals
    const r3 = runScript(prog, 'return [typeof require, typeof process, typeof fetch, typeof globalThis.Buffer];', {});
    expect(r3.result).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
  }, 60_000);

  it.skipIf(!d)('vmcore DUMP --script file.js args --json, and the timeout as one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcore-script-'));
    try {
      writeFileSync(join(dir, 'pid.js'), "const t = prog.task(Number(args[0]));\nprint('found', t.comm.string());\nreturn { pid: t.pid.value(), comm: t.comm.string(), task: t.address, frames: prog.stackTrace(t).length };\n");
      writeFileSync(join(dir, 'loop.js'), 'for (;;) {}\n');
      const cli = (a: string[]) => spawnSync(process.execPath, [join(ROOT, 'cli/vmcore.cjs'), ...a], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      const r = cli([d!.file, '--script', join(dir, 'pid.js'), '1', '--json']);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      const want = (d!.oracleJson('drgn.json').tasks as any[]).find((t) => t.pid === 1);
      expect(j).toMatchObject({ ok: true, result: { pid: 1, comm: want.comm, task: want.task }, output: [`found ${want.comm}`] });
      expect(j.result.frames).toBeGreaterThan(0);
      const l = cli([d!.file, '--script', join(dir, 'loop.js'), '--timeout', '300']);
      expect(l.status).toBe(1);
      expect(l.stderr.trim().split('\n')).toHaveLength(1);
      expect(l.stderr).toMatch(/^vmcore: .*loop\.js: script stopped after 300 ms: time budget exceeded/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it.skipIf(!d)("import { open } from 'vmcore-workbench' (package.json exports) in a Node module", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcore-import-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules', 'vmcore-workbench'), 'dir');
      writeFileSync(
        join(dir, 'm.mjs'),
        `import { open } from 'vmcore-workbench';
const prog = await open(process.argv[2]);
const t = prog.task(1);
console.log(JSON.stringify({ comm: t.comm.string(), task: '0x' + t.address.toString(16), caches: prog.slabCaches().length, sys: prog.command('sys').text.includes('RELEASE') }));
prog.close();
`,
      );
      const r = spawnSync(process.execPath, [join(dir, 'm.mjs'), d!.file], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const drgn = d!.oracleJson('drgn.json');
      const init = (drgn.tasks as any[]).find((t) => t.pid === 1);
      expect(JSON.parse(r.stdout)).toEqual({ comm: init.comm, task: init.task, caches: drgn.slab_caches.length, sys: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
