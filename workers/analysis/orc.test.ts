import { describe, it, expect } from 'vitest';
import { decodeOrc, detectLayout, orcIndex, orcFind, type OrcLayout } from './orc';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump } from '../testing/dumps';

function entry(sp: number, bp: number, flags: number): Uint8Array {
  const b = new Uint8Array(6);
  const dv = new DataView(b.buffer);
  dv.setInt16(0, sp, true);
  dv.setInt16(2, bp, true);
  dv.setUint16(4, flags, true);
  return b;
}

describe('ORC entry layouts', () => {
  const v1: OrcLayout = { version: 1, from: 'btf', numbering: 'classic' };
  const v2: OrcLayout = { version: 2, from: 'btf', numbering: 'classic' };
  const v3: OrcLayout = { version: 3, from: 'btf', numbering: 'classic' };
  const v31: OrcLayout = { version: 3, from: 'data', numbering: '7.1' };
  it('v1 (4.14..6.2): type:2 end:1', () => {
    // CALL, sp = SP + 8, bp undefined
    expect(decodeOrc(entry(8, 0, 0x05), 0, v1)).toEqual({ spOffset: 8, bpOffset: 0, spReg: 'sp', bpReg: 'undefined', type: 'call', signal: false });
    // REGS: a signal frame
    expect(decodeOrc(entry(0, 0, 0x105), 0, v1)).toMatchObject({ type: 'regs', signal: true });
    // REGS_IRET
    expect(decodeOrc(entry(0, 0, 0x205), 0, v1)).toMatchObject({ type: 'regs_partial', signal: true });
    // sp_reg UNDEFINED + end: end of stack; without end: undefined
    expect(decodeOrc(entry(0, 0, 0x400), 0, v1).type).toBe('end');
    expect(decodeOrc(entry(0, 0, 0x000), 0, v1).type).toBe('undefined');
    // bp = PREV_SP - 16
    expect(decodeOrc(entry(16, -16, 0x15), 0, v1)).toMatchObject({ bpReg: 'prev_sp', bpOffset: -16 });
  });
  it('v2 (6.3): signal at bit 10, end at bit 11', () => {
    expect(decodeOrc(entry(8, 0, 0x405), 0, v2)).toMatchObject({ type: 'call', signal: true });
    expect(decodeOrc(entry(0, 0, 0x800), 0, v2).type).toBe('end');
  });
  it('v3 (6.4..): type:3 signal:1', () => {
    expect(decodeOrc(entry(0, 0, 0x000), 0, v3).type).toBe('undefined');
    expect(decodeOrc(entry(0, 0, 0x100), 0, v3).type).toBe('end');
    expect(decodeOrc(entry(8, 0, 0x205), 0, v3)).toMatchObject({ type: 'call', spReg: 'sp', signal: false });
    expect(decodeOrc(entry(0, 0, 0xb05), 0, v3)).toMatchObject({ type: 'regs', signal: true });
    expect(decodeOrc(entry(0, 0, 0xc05), 0, v3)).toMatchObject({ type: 'regs_partial', signal: true });
    expect(decodeOrc(entry(8, 0, 0x209), 0, v3).spReg).toBe('sp_indirect');
    expect(decodeOrc(entry(8, 0, 0x20a), 0, v3).spReg).toBe('ax');
  });
  it('7.1 register numbering', () => {
    expect(decodeOrc(entry(8, -16, 0x283), 0, v31)).toMatchObject({ spReg: 'sp', bpReg: 'prev_sp', type: 'call' });
    expect(decodeOrc(entry(8, 0, 0x201), 0, v31).spReg).toBe('ax');
    expect(decodeOrc(entry(8, 0, 0x20a), 0, v31).spReg).toBe('bp_indirect');
  });
});

describe('layout detection on real dumps', () => {
  const d510 = sharedDump('5.10-sysrq-lzo');
  it.skipIf(!d510)('5.10-sysrq-lzo: ORC before 6.3 (v1) from BTF and from the data alone, kernel symbols found without VMCOREINFO kallsyms', () => {
    const prog = openProgram(new NodeFileSource(d510!.file));
    const idx = orcIndex(prog);
    expect(idx.layout).toEqual({ version: 1, from: 'btf', numbering: 'classic' });
    expect(detectLayout(prog, idx.vmlinux, { useBtf: false })).toEqual({ version: 1, from: 'data', numbering: 'classic' });
    const f = prog.symbols.address('do_one_initcall')!;
    expect(orcFind(prog, f)?.entry).toMatchObject({ type: 'call', spReg: 'sp', spOffset: 8 });
    // module_layout (before 6.4): the one module's ORC (crash mod: qemu_fw_cfg)
    expect(idx.modules.map((m) => m.name)).toEqual(['qemu_fw_cfg']);
  }, 60_000);
  // 7.2: v3 entries with the 7.1 register renumbering; its only module is qemu_fw_cfg
  for (const [name, version, numbering, module] of [
    ['6.1-skb-uaf-0x106', 1, 'classic', 'skb_uaf'],
    ['6.12-skb-uaf-kaslr', 3, 'classic', 'skb_uaf'],
    ['7.2-sysrq-kaslr', 3, '7.1', 'qemu_fw_cfg'],
  ] as const) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}: BTF says v${version} (${numbering} registers), the data alone says the same`, () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const idx = orcIndex(prog);
      expect(idx.layout).toEqual({ version, from: 'btf', numbering });
      expect(detectLayout(prog, idx.vmlinux, { useBtf: false })).toEqual({ version, from: 'data', numbering });
      // every function start is a CALL entry with the return address at SP+8
      const f = prog.symbols.address('do_one_initcall')!;
      expect(orcFind(prog, f)?.entry).toMatchObject({ type: 'call', spReg: 'sp', spOffset: 8 });
      // module ORC comes from struct module
      expect(idx.modules.some((m) => m.name === module)).toBe(true);
    }, 60_000);
  }
});
