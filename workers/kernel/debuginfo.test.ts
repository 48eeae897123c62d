import { describe, it, expect, beforeAll } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram, type Program } from '../engine';
import { runCommand, runCommandSafe } from '../commands/registry';
import { sharedDump, type SharedDump } from '../testing/dumps';
import { debugVmlinux, systemMapOf, DBG_SKIP } from '../testing/vmlinux';
import { openDebugInput, Vmlinux, SystemMap } from './debuginfo';
import '../commands/index';

const REL = '6.1.0-56-amd64';
const vmlinux = debugVmlinux(REL);
const sysmap = vmlinux ? systemMapOf(vmlinux) : null;
const d61 = sharedDump('6.1-skb-uaf-0x106');
const kaslr = sharedDump('6.1-sysrq-kaslr');
const d612 = sharedDump('6.12-skb-uaf-kaslr');
const d510 = sharedDump('5.10-sysrq-lzo');

const open = (d: SharedDump, files: string[], hide?: { btf?: boolean; kallsyms?: boolean }) =>
  openProgram(new NodeFileSource(d.file), { debug: files.map((f) => openDebugInput(new NodeFileSource(f))), hide });

describe.skipIf(!vmlinux)(`vmlinux / System.map as second inputs (${vmlinux ? REL : DBG_SKIP(REL)})`, () => {
  it('reads only headers when opened: the file is a vmlinux with a build id', () => {
    const src = new NodeFileSource(vmlinux!);
    const v = openDebugInput(src) as Vmlinux;
    expect(v).toBeInstanceOf(Vmlinux);
    expect(src.stats.bytesRead).toBeLessThan(256 << 10);
    expect(v.buildId).toMatch(/^[0-9a-f]{40}$/);
  });

  it.skipIf(!d612)('a 6.1 vmlinux is refused for the 6.12 dump with a one-line reason (build id)', () => {
    let msg = '';
    try {
      open(d612!, [vmlinux!]);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/does not match the dump: build id [0-9a-f]+ differs from the dump's 9c54a8e4/);
    expect(msg).not.toContain('\n');
  });

  it.skipIf(!d510)('a 6.1 vmlinux and System.map are refused for the 5.10 dump', () => {
    expect(() => open(d510!, [vmlinux!])).toThrow(/does not match the dump/);
    expect(() => open(d510!, [sysmap!])).toThrow(/does not match the dump/);
  });

  it.skipIf(!d61)('without build id the banner decides: the vmlinux banner equals the dump memory', () => {
    const prog = openProgram(new NodeFileSource(d61!.file));
    const v = openDebugInput(new NodeFileSource(vmlinux!)) as Vmlinux;
    const banner = v.banner();
    expect(banner).toMatch(/^Linux version 6\.1\.0-56-amd64 /);
    const id = { buildId: undefined, release: prog.info.osrelease, kernelOffset: 0n, vmcoreinfoSymbols: new Map<string, bigint>() };
    const mem = (a: bigint, n: number) => new TextDecoder('latin1').decode(prog.mem.read(a, n)).split('\0')[0];
    expect(() => v.match({ ...id, readString: mem })).not.toThrow();
    expect(() => v.match({ ...id, readString: () => banner!.replace('6.1.192', '6.1.191') })).toThrow(/linux_banner .* differs/);
  });

  for (const d of [d61, kaslr].filter((x): x is SharedDump => x !== null)) {
    describe(`${d.name}: in-memory BTF and kallsyms hidden, the vmlinux supplies them`, () => {
      let prog: Program;
      beforeAll(() => {
        prog = open(d, [vmlinux!], { btf: true, kallsyms: true });
      });
      it('every struct -o oracle fact (struct-offsets.json) from the vmlinux .BTF', () => {
        let n = 0;
        for (const e of d.oracleJson<Array<{ type: string | null; size: number; members: Array<{ name: string; path: string; offset: number }> }>>('struct-offsets.json')) {
          if (!e.type) continue;
          const j = runCommand({ prog }, `struct -o ${e.type.replace(/^struct /, '')}`).json as { size: number; members: Array<{ name: string; path: string; offset: number }> };
          expect(j.size, e.type).toBe(e.size);
          expect(j.members.map((m) => [m.path, m.offset]), e.type).toEqual(e.members.map((m) => [m.path, m.offset]));
          n++;
        }
        expect(n).toBeGreaterThan(35);
        expect(prog.unavailable).toEqual([]);
      });
      it('sym-names.tsv: kernel names to the oracle addresses (relocated by KERNELOFFSET)', () => {
        const rows = d.oracle('sym-names.tsv').trim().split('\n').slice(1).map((l) => l.split('\t'));
        let n = 0;
        for (const [name, , , address, , , module] of rows) {
          if (module) continue; // module symbols come from the dump's module list
          const r = runCommandSafe({ prog }, `sym ${name}`);
          expect(r.ok && r.result.text.trim().split(' ')[0], name).toBe(address.slice(2).padStart(16, '0'));
          n++;
        }
        expect(n).toBeGreaterThan(20);
      });
      // one dump is enough for the 1000 sampled addresses (the KASLR one: relocation is the risk)
      it.skipIf(d.name !== '6.1-sysrq-kaslr' && kaslr !== null)('sym.tsv: kernel addresses resolve to crash names and offsets (crash reads this vmlinux)', () => {
        const rows = d.oracle('sym.tsv').trim().split('\n').slice(1).map((l) => l.split('\t'));
        let ok = 0;
        const bad: string[] = [];
        for (const [query, , , , , symbol, offset, , module, , , error] of rows) {
          if (error || module) continue;
          const r = runCommandSafe({ prog }, `sym ${query.slice(2)}`);
          const j = r.ok ? (r.result.json as { symbol: string; offset: number }) : null;
          if (j && j.symbol === symbol && j.offset === Number(offset)) ok++;
          else bad.push(`${query} ${symbol}+${offset} <> ${j ? `${j.symbol}+${j.offset}` : r.ok ? '' : r.error}`);
        }
        expect(bad).toEqual([]);
        expect(ok).toBeGreaterThan(500);
      });
      it('bt -a: the same frame PCs as with the dump alone', () => {
        const alone = openProgram(new NodeFileSource(d.file));
        const pcs = (p: Program) => (runCommand({ prog: p }, 'bt -a').json as Array<{ frames: Array<{ pc: string; symbol: string }> }>).map((t) => t.frames.map((f) => `${f.pc} ${f.symbol}`));
        expect(pcs(prog)).toEqual(pcs(alone));
      });
    });
  }

  it.skipIf(!kaslr || !sysmap)('a System.map alone supplies symbols (KASLR dump, kallsyms hidden)', () => {
    const prog = open(kaslr!, [sysmap!], { kallsyms: true });
    expect(prog.debug[0]).toBeInstanceOf(SystemMap);
    const rows = kaslr!.oracle('sym-names.tsv').trim().split('\n').slice(1).map((l) => l.split('\t'));
    for (const [name, , , address, , , module] of rows) {
      if (module) continue;
      expect(runCommand({ prog }, `sym ${name}`).text.split(' ')[0], name).toBe(address.slice(2).padStart(16, '0'));
    }
    expect(runCommand({ prog }, 'ps').text).toContain('sh');
  });

  it.skipIf(!d61)('sys names the second inputs', () => {
    const prog = open(d61!, [vmlinux!, sysmap!]);
    expect(runCommand({ prog }, 'sys').text).toMatch(/KERNEL: vmlinux-6\.1\.0-56-amd64/);
  });
});
