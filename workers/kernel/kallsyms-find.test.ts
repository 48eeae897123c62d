import { describe, it, expect } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram } from '../engine';
import { findKallsyms } from './kallsyms-find';
import { sharedDump, SKIP_REASON } from '../testing/dumps';

const d510 = sharedDump('5.10-sysrq-lzo');

describe('kallsyms found in memory without VMCOREINFO entries (5.10-sysrq-lzo)', () => {
  it.skipIf(!d510)(`finds, validates and decodes the tables; names resolve as crash's sym${d510 ? '' : ` (${SKIP_REASON})`}`, () => {
    const prog = openProgram(new NodeFileSource(d510!.file));
    expect(prog.info.symbol('kallsyms_names')).toBeUndefined(); // the premise: 5.10 does not export them
    const loc = findKallsyms(prog.mem, prog.info);
    expect(loc.how).toMatch(/checked _stext, init_uts_ns, linux_banner/);
    // crash's sym -l has 105256 symbols, vmlinux's ELF symtab included; kallsyms has a few fewer
    expect(loc.num).toBeGreaterThan(100_000);
    expect(prog.symbols.size).toBeGreaterThanOrEqual(loc.num);
    const rows = d510!.oracle('sym-names.tsv').trim().split('\n').slice(1).map((l) => l.split('\t'));
    let ok = 0;
    for (const [name, , , address, , , module] of rows) {
      if (module) continue;
      expect(prog.symbolAddress(name), name).toBe(BigInt(address));
      ok++;
    }
    expect(ok).toBeGreaterThan(40);
    expect(prog.cache.get('kallsyms.how')).toBe(loc.how);
  });
});

/**
 * The same finder on kernels that do export the tables in VMCOREINFO (6.1: offsets before
 * kallsyms_num_syms, seqs_of_names after the markers; 6.12: offsets after the token index):
 * what it finds by shape must be what VMCOREINFO says.
 */
describe.each([['6.1-skb-uaf-0x106'], ['6.12-skb-uaf-kaslr']])('kallsyms finder agrees with VMCOREINFO on %s', (name) => {
  const d = sharedDump(name);
  it.skipIf(!d)(`same tables${d ? '' : ` (${SKIP_REASON})`}`, () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const loc = findKallsyms(prog.mem, prog.info);
    expect(loc.namesAddr).toBe(prog.info.symbol('kallsyms_names'));
    expect(loc.tokTable).toBe(prog.info.symbol('kallsyms_token_table'));
    expect(loc.tokIndex).toBe(prog.info.symbol('kallsyms_token_index'));
    expect(loc.offsetsAddr).toBe(prog.info.symbol('kallsyms_offsets'));
    expect(loc.relBaseAddr).toBe(prog.info.symbol('kallsyms_relative_base'));
    expect(loc.num).toBe(prog.mem.u32(prog.info.symbol('kallsyms_num_syms')!));
  });
});
