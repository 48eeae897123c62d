/**
 * Module debuginfo (--module-debug): fixtures/dumps/6.1-la57-hung-locks ships hung_locks.ko with
 * DWARF. Its D-state tasks sleep inside hung_locks functions: every hung_locks frame's source
 * line and inlined calls equal `addr2line -i -f -e hung_locks.ko <offset in .text>` (the .text
 * address taken from the dump's kallsyms: a symbol's run-time address minus its value in the .ko),
 * and bt --locals of every frame of those tasks equals drgn 0.3.0 given the same .ko
 * (scripts/drgn-locals.py --pid, testdata/drgn-0.3.0-locals-6.1-la57-hung-locks-PID.json).
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, copyFileSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NodeFileSource } from '../../source/node';
import { openProgram } from '../../engine';
import { runCommand } from '../../commands/registry';
import { ROOT } from '../../testing/dumps';
import { debugVmlinux, DBG_SKIP } from '../../testing/vmlinux';
import { openDebugInput } from '../debuginfo';
import { ElfImage } from '../elfimage';
import { attachModuleDebug, ModuleDebug } from './module';
import { sourceAt } from './index';
import '../../commands/index';

const HERE = dirname(fileURLToPath(import.meta.url));
const REL = '6.1.0-56-amd64';
const DIR = join(ROOT, 'fixtures/dumps/6.1-la57-hung-locks');
const DUMP = join(DIR, 'vmcore.kdump-zlib');
const KO = join(DIR, 'hung_locks.ko');
const vmlinux = debugVmlinux(REL);
const PIDS = [116, 117, 118, 119, 120, 121, 122];

let hasAddr2line = true;
try {
  execFileSync('addr2line', ['--version']);
} catch {
  hasAddr2line = false;
}

function open(withVmlinux = true) {
  const prog = openProgram(new NodeFileSource(DUMP), { debug: withVmlinux && vmlinux ? [openDebugInput(new NodeFileSource(vmlinux))] : [] });
  const mods = attachModuleDebug(prog, [{ path: KO, fromDirectory: false, open: () => new NodeFileSource(KO) }]);
  return { prog, mod: mods[0] };
}

type Src = { function: string | null; file: string | null; line: number };
type Frame = { pc: string; symbol: string | null; module?: string | null; source?: Src | null; inlined?: Src[] };

describe.skipIf(!existsSync(DUMP))('module debuginfo: hung_locks.ko on 6.1-la57-hung-locks', () => {
  it('binds to the loaded module by build id, relocating its debug sections at the dump\'s section addresses', () => {
    const { prog, mod } = open(false);
    expect(mod).toBeInstanceOf(ModuleDebug);
    expect(mod.buildId).toBe(new ElfImage(new NodeFileSource(KO)).buildId());
    expect(mod.stats!.relocations).toBeGreaterThan(4000); // readelf -r: 4603 R_X86_64_32 + 164 R_X86_64_64 in .rela.debug_*
    // without the vmlinux: module frames still get their lines (the vmlinux's do not)
    const pc = prog.symbols.address('waiter_fn')!;
    expect(sourceAt(prog, pc + 0x58n, true)?.at(-1)?.file).toMatch(/hung_locks\.c$/);
  });

  it('a .ko of another build is refused in one line; a .ko of a module not loaded too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modwarf-'));
    // flip one byte of the build id note: the same module name, another build
    const bytes = readFileSync(KO);
    const elf = new ElfImage(new NodeFileSource(KO));
    const note = elf.section('.note.gnu.build-id')!;
    bytes[note.offset + note.size - 1] ^= 0xff;
    const other = join(dir, 'hung_locks.ko');
    writeFileSync(other, bytes);
    const prog = openProgram(new NodeFileSource(DUMP), {});
    expect(() => attachModuleDebug(prog, [{ path: other, fromDirectory: false, open: () => new NodeFileSource(other) }])).toThrow(
      /^hung_locks\.ko does not match the dump: build id [0-9a-f]{40} differs from loaded hung_locks's f1db105ce8c4a4eb67d7b9b6252f18ac9fed4be8$/,
    );
    const renamed = join(dir, 'not_loaded.ko');
    copyFileSync(KO, renamed);
    // a directory entry whose name is no loaded module is not even opened
    expect(attachModuleDebug(prog, [{ path: renamed, fromDirectory: true, open: () => { throw new Error('opened'); } }])).toEqual([]);
  });

  it.skipIf(!hasAddr2line)('every hung_locks frame of every task: source line and inlined calls equal addr2line -i -f on the .ko', () => {
    const { prog } = open(false);
    // .text's run-time address from kallsyms: waiter_fn's address minus its value in the .ko
    const sym = new ElfImage(new NodeFileSource(KO)).symbols().find((s) => s.name === 'waiter_fn')!;
    const text = prog.symbols.address('waiter_fn')! - sym.value;
    const bt = runCommand({ prog }, 'foreach bt -l').json as Array<{ frames: Frame[] }>;
    const frames = bt.flatMap((t) => t.frames).filter((f) => f.module === 'hung_locks');
    expect(frames.length).toBeGreaterThanOrEqual(7); // 116..122 each sleep in a hung_locks function
    const offs = frames.map((f) => BigInt(f.pc) - 1n - text); // return addresses: the call
    const out = execFileSync('addr2line', ['-a', '-i', '-f', '-e', KO, ...offs.map((o) => '0x' + o.toString(16))], { encoding: 'utf8' });
    const want = new Map<bigint, string[]>();
    let cur: string[] = [];
    for (const l of out.split('\n').filter(Boolean)) {
      if (/^0x[0-9a-f]+$/.test(l)) want.set(BigInt(l), (cur = []));
      else cur.push(l);
    }
    frames.forEach((f, k) => {
      const w = want.get(offs[k])!;
      const got = [...(f.inlined ?? []), ...(f.source ? [f.source] : [])].flatMap((s) => [s.function ?? '??', `${s.file}:${s.line}`]);
      expect(got, `${f.symbol} ${f.pc}`).toEqual(w);
      expect(w[1]).toMatch(/hung_locks\.c:\d+$/);
    });
  });

  describe.skipIf(!vmlinux)(`bt --locals against drgn 0.3.0 with the .ko (${vmlinux ? REL : DBG_SKIP(REL)})`, () => {
    for (const pid of PIDS) {
      it(`pid ${pid}: every frame's variables`, () => {
        const { prog } = open();
        type V = { name: string; size: number; value?: string; unavailable?: string };
        type Scope = { function: string | null; variables: V[] };
        const bt = runCommand({ prog }, `bt --locals ${pid}`).json as Array<{ frames: Array<{ module?: string | null; locals?: Scope[] | null }> }>;
        const ours = bt[0].frames.flatMap((f) => f.locals ?? []);
        const oracle = JSON.parse(readFileSync(join(HERE, `testdata/drgn-0.3.0-locals-6.1-la57-hung-locks-${pid}.json`), 'utf8')) as {
          drgn: string;
          pid: number;
          frames: Array<{ function: string | null; locals: Record<string, string> }>;
        };
        expect([oracle.drgn, oracle.pid]).toEqual(['0.3.0', pid]);
        const theirs = oracle.frames.filter((f) => f.function !== null);
        expect(ours.map((s) => s.function)).toEqual(theirs.map((f) => f.function));
        expect(theirs.some((f) => /^(waiter_fn|owner_fn|lab_hung_read)$/.test(f.function!))).toBe(true);
        const bad: string[] = [];
        let same = 0;
        theirs.forEach((f, k) => {
          expect(ours[k].variables.map((v) => v.name), `${f.function}`).toEqual(Object.keys(f.locals));
          for (const v of ours[k].variables) {
            const want = f.locals[v.name];
            // drgn prints signed integers with a sign: the same bits at the variable's size
            const bits = /^-0x/.test(want) ? '0x' + BigInt.asUintN(v.size * 8, -BigInt(want.slice(1))).toString(16) : want;
            if (v.value !== undefined) {
              if (/^0x/.test(bits) && v.value !== bits) bad.push(`${f.function}.${v.name} = ${v.value}, drgn ${want}`);
              else if (want === '<absent>') bad.push(`${f.function}.${v.name} = ${v.value}, drgn says absent`);
              else same++;
            } else if (/^0x/.test(bits) && !/not recovered/.test(v.unavailable ?? '')) {
              bad.push(`${f.function}.${v.name}: ${v.unavailable ?? 'no value'}, drgn ${want}`);
            }
          }
        });
        expect(bad).toEqual([]);
        expect(same).toBeGreaterThan(3);
      });
    }
  });
});
