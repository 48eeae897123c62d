import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openProgram, Program, SYMBOL_LOADERS } from '../engine';
import { NodeFileSource } from '../source/node';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand } from './registry';
import { taskList, panicTask } from '../analysis/tasks';
import { unwindTask, isKernelText } from '../analysis/unwind';
import type { PhysicalDump } from '../format/types';
import { MemoryError } from '../errors';

function open(name: string) {
  const d = sharedDump(name)!;
  return { d, prog: openProgram(new NodeFileSource(d.file)) };
}

/** drgn's ORC frames of a task by PC: inline frames merged, cut where drgn left kernel text. */
function drgnPcs(prog: Program, frames: any[]): bigint[] {
  const out: bigint[] = [];
  for (const f of frames) {
    const pc = BigInt(f.pc);
    if (out.length && out[out.length - 1] === pc) continue;
    if (!isKernelText(prog, pc)) break; // drgn has no ORC for the module: what follows is garbage
    out.push(pc);
  }
  return out;
}

function containsInOrder(got: bigint[], want: bigint[]): number {
  let j = 0;
  for (const pc of got) if (j < want.length && pc === want[j]) j++;
  return j;
}

/** The kernel's oops "Call Trace" (the last one in the console log), `?` entries dropped. */
function callTrace(dir: string): Array<{ name: string; off: number; mod: string | null }> {
  const f = join(dir, 'console.log');
  if (!existsSync(f)) return [];
  const lines = readFileSync(f, 'utf8').split('\n');
  let start = -1;
  lines.forEach((l, i) => {
    if (/Call Trace:/.test(l)) start = i;
  });
  const out: Array<{ name: string; off: number; mod: string | null }> = [];
  for (let i = start + 1; i < lines.length && start >= 0; i++) {
    const l = lines[i].replace(/^\[[^\]]*\]\s*/, '');
    if (l.startsWith('</TASK>') || /^RIP: 0033/.test(l)) break;
    const m = /^([\w.]+)\+0x([0-9a-f]+)\/0x[0-9a-f]+(?: \[(\w+)\])?$/.exec(l.trim());
    if (m && !/^(dump_stack|show_stack|dump_stack_lvl)$/.test(m[1])) out.push({ name: m[1], off: parseInt(m[2], 16), mod: m[3] ?? null });
  }
  return out;
}

describe('bt on the shared dumps', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const present = !!sharedDump(name);
    it.skipIf(!present)(`${name}: every task's bt contains drgn's ORC frames in order${present ? '' : ` (${SKIP_REASON})`}`, () => {
      const { d, prog } = open(name);
      const drgn = d.oracleJson('drgn.json');
      const list = taskList(prog);
      let frames = 0;
      for (const dt of drgn.tasks) {
        const t = list.find((x) => x.task === BigInt(dt.task));
        expect(t, `task ${dt.task}`).toBeTruthy();
        const want = drgnPcs(prog, dt.frames);
        const u = unwindTask(prog, t!);
        const got = u.frames.filter((f) => !f.user).map((f) => f.pc);
        expect(containsInOrder(got, want), `pid ${dt.pid} ${dt.comm}`).toBe(want.length);
        expect(u.stopped, `pid ${dt.pid}`).toBeUndefined();
        frames += want.length;
      }
      expect(frames).toBeGreaterThan(300);
    }, 120_000);

    it.skipIf(!present)(`${name}: the panic task's bt has the oops Call Trace and crash's exception registers`, () => {
      const { d, prog } = open(name);
      const inc = d.oracleJson('incident.json');
      const p = panicTask(prog)!;
      expect('0x' + p.task.toString(16)).toBe(inc.panic_task.task);
      const r = runCommand({ prog }, 'bt --json');
      const bt = (r.json as any[])[0];
      const frames = bt.frames as any[];
      // the functions of the kernel's own Call Trace, in order (names and, below panic, offsets)
      const trace = callTrace(d.dir);
      expect(trace.length).toBeGreaterThan(3);
      let j = 0;
      for (const f of frames) {
        const w = trace[j];
        if (!w || f.symbol !== w.name) continue;
        // the function that printed the trace kept running into the panic loop: panic(), or on
        // 7.x vpanic() (panic() became a wrapper of it); its offset is later than the trace's
        if (w.name !== 'panic' && w.name !== 'vpanic') expect(f.offset, w.name).toBe(w.off);
        expect(f.module).toBe(w.mod);
        j++;
      }
      expect(j, `matched ${trace.slice(0, j).map((x) => x.name).join(' > ')}`).toBe(trace.length);
      if (inc.exception_registers) {
        const exc = frames.find((f) => f.exception && !f.user && !f.prstatus);
        expect(exc.exception).toEqual(inc.exception_registers);
        // crash's block, line for line
        const block = d.oracle('bt-a.txt').split('\n');
        const h = block.findIndex((l) => l.startsWith(`PID: ${p.pid} `));
        const i = block.findIndex((l, n) => n > h && l.includes('[exception RIP:'));
        const ours = r.text.split('\n');
        const k = ours.findIndex((l) => l.includes('[exception RIP:'));
        expect(ours.slice(k, k + 8)).toEqual(block.slice(i, i + 8));
      }
    }, 60_000);
  }

  const d510 = sharedDump('5.10-sysrq-lzo');
  it.skipIf(!d510)('5.10-sysrq-lzo: every frame of crash 8.0.2 (foreach bt), and only drgn\'s frames besides', () => {
    const { d, prog } = open('5.10-sysrq-lzo');
    const crash = d.oracleJson('bt.json').tasks as any[];
    const drgn = d.oracleJson('drgn.json').tasks as any[];
    let frames = 0;
    const extra: string[] = [];
    for (const ct of crash) {
      const r = runCommand({ prog }, `bt --json ${ct.task}`);
      const ours = ((r.json as any[])[0].frames as any[]).filter((f) => !f.user);
      // every crash frame is ours, by PC and name; at 0xffffffff99201212 three aliases share one
      // address (asm_call_irq_on_stack, asm_call_on_stack, asm_call_sysvec_on_stack): crash names
      // the last, we the first in kallsyms order as the kernel's %pB would (drgn: the sized one)
      for (const cf of ct.frames) {
        const f = ours.find((o) => o.pc === cf.pc);
        expect(f, `pid ${ct.pid} ${cf.line}`).toBeTruthy();
        const alias = prog.symbols.at(prog.symbols.address(f.symbol)!).some((s) => s.name === cf.symbol);
        expect(f.symbol === cf.symbol || alias, `pid ${ct.pid} ${cf.line}: ${f.symbol}`).toBe(true);
        frames++;
      }
      // what we show besides is what drgn's ORC unwinder shows (crash 8.0.2 misses these: the
      // panic task's delay_tsc frame above panic, and swapper/1's sysvec_reboot/asm_sysvec_reboot,
      // where crash prints an exception frame it calls "possibly bogus" itself)
      const dt = drgn.find((x) => x.task === ct.task);
      const drgnPcSet = new Set((dt?.frames ?? []).map((f: any) => f.pc));
      for (const f of ours) {
        if (f.prstatus || ct.frames.some((cf: any) => cf.pc === f.pc)) continue;
        if (f.exception && !f.pc) continue;
        if (!drgnPcSet.has(f.pc)) extra.push(`pid ${ct.pid} ${f.symbol} ${f.pc}`);
      }
    }
    expect(frames).toBeGreaterThan(300);
    expect(extra).toEqual([]);
    // crash's own doubt about the frame it made up
    expect(d.oracle('bt-a.txt')).toContain('WARNING: possibly bogus exception frame');
  }, 120_000);

  const skb = sharedDump('6.1-skb-uaf-0x106');
  it.skipIf(!skb)('names the module frame as the kernel does', () => {
    const { prog } = open('6.1-skb-uaf-0x106');
    const r = runCommand({ prog }, 'bt');
    expect(r.text).toMatch(/ #\d+ \[ffffc90000443bc0\] skb_uaf_init at ffffffffc020c299 \[skb_uaf\]/);
    expect(r.text).toContain('    [exception RIP: skb_release_data+285]');
    const a = runCommand({ prog }, 'bt -a');
    expect(a.text).toContain('--- <IRQ stack> ---');
    expect(a.text).toContain('PID: 0        TASK: ffff888004a78000  CPU: 1    COMMAND: "swapper/1"');
    expect(runCommand({ prog }, 'bt -f 1').text).toMatch(/^    ffffc90000013[0-9a-f]+: [0-9a-f]{16} [0-9a-f]{16} $/m);
    expect(runCommand({ prog }, 'bt -t 120').text).toContain('kfree_skb_reason at ffffffff817c02de');
  }, 60_000);

  it.skipIf(!skb)('a task whose stack was overwritten ends with "unwind stopped" in bounded time', () => {
    const base = open('6.1-skb-uaf-0x106').prog;
    const t = panicTask(base)!;
    // the exception frame's RSP: everything above it (kfree_skb_reason's frame and up) is destroyed
    const exc = unwindTask(base, t).frames.find((f) => f.regs && !f.prstatus)!;
    const from = exc.sp;
    const pageVa = from & ~0xfffn;
    const pa = Number(base.arch.vtop(pageVa));
    for (const fill of ['garbage', 'loop'] as const) {
      const page = base.phys.readPhys(pa, 4096).slice();
      const dv = new DataView(page.buffer);
      const ra = base.symbols.address('do_one_initcall')! + 89n;
      for (let o = Number(from - pageVa); o < 4096; o += 8) {
        dv.setBigUint64(o, fill === 'garbage' ? 0x4141414141414141n ^ BigInt(o) : ra, true);
      }
      const phys = overlay(base.phys, pa, page);
      const prog = new Program(base.src, phys, SYMBOL_LOADERS);
      const task = taskList(prog).find((x) => x.task === t.task)!;
      const t0 = Date.now();
      const r = runCommand({ prog }, `bt --json ${task.pid}`);
      const ms = Date.now() - t0;
      const bt = (r.json as any[])[0];
      expect(bt.stopped, fill).toMatch(/^unwind stopped: /);
      expect(bt.frames[bt.frames.length - 1].stopped).toBe(bt.stopped);
      expect(runCommand({ prog }, `bt ${task.pid}`).text).toContain('    unwind stopped: ');
      expect(bt.frames.some((f: any) => f.symbol === 'asm_exc_page_fault')).toBe(true);
      expect(ms).toBeLessThan(5000);
    }
  }, 60_000);
});

// A kernel-written kdump: bt starts where each CPU stopped only when the dump proves it (the
// frame-by-frame comparison with crash is in other-boots.test.ts).
const kd = sharedDump('6.1-kdump-kexec-skb-uaf');
describe.skipIf(!kd)(`6.1-kdump-kexec-skb-uaf: where the walk starts${kd ? '' : ` (${SKIP_REASON})`}`, () => {
  it('starts at machine_kexec only while the pt_regs on the stack equal PRSTATUS; otherwise at PRSTATUS, saying why', () => {
    const base = open('6.1-kdump-kexec-skb-uaf').prog;
    const t = panicTask(base)!;
    const u = unwindTask(base, t);
    expect(u.start).toBe('kdump');
    expect(u.frames[0].sym?.sym.name).toBe('machine_kexec');
    // __crash_kexec has no ORC (STACK_FRAME_NON_STANDARD): its caller comes from the call to it
    expect(u.frames.find((f) => f.sym?.sym.name === 'crash_kexec')?.byCall).toBe(true);
    const exc = u.frames.find((f) => f.regs && !f.user)!;
    const prs = base.phys.prstatus[t.cpu];
    expect(exc.regs!.ip).toBe(prs.regs.rip);
    // one register of that pt_regs changed: it is no longer the registers PRSTATUS saved
    const at = exc.regsAddress!;
    const pageVa = at & ~0xfffn;
    const pa = Number(base.arch.vtop(pageVa));
    const page = base.phys.readPhys(pa, 4096).slice();
    const dv = new DataView(page.buffer);
    const o = Number(at - pageVa) + base.offsetof('pt_regs', 'r15');
    dv.setBigUint64(o, dv.getBigUint64(o, true) ^ 1n, true);
    const prog = new Program(base.src, overlay(base.phys, pa, page), SYMBOL_LOADERS);
    const task = taskList(prog).find((x) => x.task === t.task)!;
    const v = unwindTask(prog, task);
    expect(v.start).toBe('prstatus');
    expect(v.frames[0].pc).toBe(prs.regs.rip);
    const r = runCommand({ prog }, `bt --json ${task.pid}`);
    const why = /^kdump: the return address machine_kexec\+0x[0-9a-f]+ at 0x[0-9a-f]+ does not unwind to the CPU 0 PRSTATUS registers; the walk starts at PRSTATUS$/;
    expect(r.problems?.some((p) => why.test(p)), String(r.problems)).toBe(true);
    expect(runCommand({ prog }, `bt ${task.pid}`).text).toMatch(/ #0 \[ffffc900003d3d28\] skb_release_data at /);
  }, 60_000);

  it('a stack page of the crashing task missing from the dump is said, and the walk starts at PRSTATUS', () => {
    const base = open('6.1-kdump-kexec-skb-uaf').prog;
    const t = panicTask(base)!;
    const first = unwindTask(base, t).frames[0];
    const pageVa = first.slot & ~0xfffn;
    const pa = Number(base.arch.vtop(pageVa));
    const phys = new Proxy(base.phys, {
      get(target, prop) {
        if (prop === 'readPhys') {
          return (p: number, len: number) => {
            if (p < pa + 4096 && p + len > pa) throw new MemoryError('not-in-dump', BigInt(pa), 'physical');
            return target.readPhys(p, len);
          };
        }
        if (prop === 'hasPage') return (p: number) => (p >= pa && p < pa + 4096 ? false : target.hasPage(p));
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const prog = new Program(base.src, phys, SYMBOL_LOADERS);
    const task = taskList(prog).find((x) => x.task === t.task)!;
    const r = runCommand({ prog }, `bt --json ${task.pid}`);
    const bt = (r.json as any)[0] ?? (r.json as any).result[0];
    expect(bt.start).toBe('prstatus');
    expect(r.problems?.some((p) => p.includes(`not in the dump, not searched for where it stopped: 0x${pageVa.toString(16)}`)), String(r.problems)).toBe(true);
  }, 60_000);
});

/** The dump with one physical page replaced (an in-memory overlay over the real dump). */
function overlay(phys: PhysicalDump, pagePa: number, data: Uint8Array): PhysicalDump {
  return new Proxy(phys, {
    get(target, prop) {
      if (prop === 'readPhys') {
        return (pa: number, len: number) => {
          const b = target.readPhys(pa, len);
          if (pa + len <= pagePa || pa >= pagePa + 4096) return b;
          const out = b.slice();
          for (let i = 0; i < len; i++) {
            const a = pa + i;
            if (a >= pagePa && a < pagePa + 4096) out[i] = data[a - pagePa];
          }
          return out;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
