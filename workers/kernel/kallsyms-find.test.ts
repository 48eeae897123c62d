import { BTF_HOW_KEY, KALLSYMS_HOW_KEY } from './program';
import { describe, it, expect } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram, Program, SYMBOL_LOADERS } from '../engine';
import { runCommandSafe } from '../commands/registry';
import '../commands/index';
import { findKallsyms, locateKallsyms, offsetsLike } from './kallsyms-find';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { zeroedPhys as zeroed } from '../testing/patched';

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
    expect(prog.recall(KALLSYMS_HOW_KEY)).toBe(loc.how);
  });
});

/**
 * The same finder on kernels that do export the tables in VMCOREINFO (6.1: offsets before
 * kallsyms_num_syms, seqs_of_names after the markers; 6.12: offsets after the token index):
 * what it finds by shape must be what VMCOREINFO says.
 */
describe.each([['6.1-skb-uaf-0x106'], ['6.1-sysrq-kaslr'], ['6.12-skb-uaf-kaslr']])('kallsyms finder agrees with VMCOREINFO on %s', (name) => {
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

/**
 * The two ways of finding the tables: sampling one page in 64 KiB for kallsyms_offsets (the layout
 * up to 5.19, 5.4's and 5.10's here, and 6.1's with kallsyms_seqs_of_names) and the scan of the whole read-only data for
 * the token table. Where sampling finds them, both must give the same tables; where the layout is
 * another (6.12: the address table after the token index), sampling finds nothing and the scan does.
 */
describe.each([
  ['5.10-sysrq-lzo', true],
  ['5.10-skb-uaf-kaslr', true],
  ['5.4-sysrq-kaslr', true],
  ['6.1-la57-hung-locks', true],
  ['6.1-skb-uaf-0x106', true],
  ['6.1-bh-scribble', true],
  ['6.12-skb-uaf-kaslr', false],
])('kallsyms by sampling and by the whole scan on %s', (name, samples) => {
  const d = sharedDump(name);
  it.skipIf(!d)(`${samples ? 'the same tables' : 'sampling finds nothing, the scan does'}${d ? '' : ` (${SKIP_REASON})`}`, () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const quick = locateKallsyms(prog.mem, prog.info, { sample: true, scan: false });
    const whole = locateKallsyms(prog.mem, prog.info, { sample: false, scan: true })!;
    expect(whole.how).toMatch(/^found in memory \(token table at /);
    if (!samples) {
      expect(quick).toBeNull();
      expect(findKallsyms(prog.mem, prog.info).how).toBe(whole.how);
      return;
    }
    expect(quick!.how).toMatch(/^found in memory \(kallsyms_offsets sampled at 0x[0-9a-f]+; token table at .*checked _stext, init_uts_ns, linux_banner\)$/);
    const { how: _a, ...q } = quick!;
    const { how: _b, ...w } = whole;
    expect(q).toEqual(w);
    // and what the default finder uses
    expect(findKallsyms(prog.mem, prog.info).how).toBe(quick!.how);
    // the table's whole pages look like it (what sampling relies on), all but the one where the
    // absolute per-cpu symbols end (one large step, and the steps change sign)
    const start = quick!.offsetsAddr!;
    const end = quick!.relBaseAddr!;
    let pages = 0;
    const unlike: string[] = [];
    for (let va = (start + 4095n) & ~4095n; va + 4096n <= end; va += 4096n) {
      if (!offsetsLike(prog.mem.read(va, 4096), false)) unlike.push(va.toString(16));
      pages++;
    }
    expect(unlike.length, unlike.join(' ')).toBeLessThanOrEqual(1);
    expect(pages).toBeGreaterThan(4);
  });
});

describe('sampling past damage inside kallsyms_offsets (5.10-sysrq-lzo)', () => {
  it.skipIf(!d510)(`a zeroed page inside the table: sampling goes on past it and finds the same tables as the scan${d510 ? '' : ` (${SKIP_REASON})`}`, () => {
    const base = openProgram(new NodeFileSource(d510!.file));
    const loc = locateKallsyms(base.mem, base.info, { sample: true, scan: false })!;
    // the page after the one sampling hit first: the first step from it meets the damage and
    // takes it for the table's end, which has no counts after it
    const hit = BigInt(loc.how.match(/sampled at (0x[0-9a-f]+)/)![1]);
    const mid = hit + 4096n;
    expect(mid + 65536n).toBeLessThan(loc.relBaseAddr!);
    const prog = new Program(base.src, zeroed(base.phys, base.arch.vtop(mid) & ~0xfff, 4096), SYMBOL_LOADERS);
    expect(offsetsLike(prog.mem.read(mid, 4096), false)).toBe(false);
    const quick = locateKallsyms(prog.mem, prog.info, { sample: true, scan: false });
    const whole = locateKallsyms(prog.mem, prog.info, { sample: false, scan: true })!;
    expect(quick).not.toBeNull();
    expect(quick!.namesAddr).toBe(whole.namesAddr);
    expect(quick!.offsetsAddr).toBe(whole.offsetsAddr);
    expect(quick!.relBaseAddr).toBe(whole.relBaseAddr);
    expect(quick!.tokTable).toBe(whole.tokTable);
    // found from a later sample, past the damage
    expect(BigInt(quick!.how.match(/sampled at (0x[0-9a-f]+)/)![1])).toBeGreaterThan(mid);
  });
});

describe('when the kallsyms tables cannot be found (token table wiped)', () => {
  it.skipIf(!d510)(`sys says what is missing and why; BTF, log, rd, struct keep working${d510 ? '' : ` (${SKIP_REASON})`}`, () => {
    const base = openProgram(new NodeFileSource(d510!.file));
    const loc = findKallsyms(base.mem, base.info);
    const prog = new Program(base.src, zeroed(base.phys, base.arch.vtop(loc.tokTable) & ~0xfff, 8192), SYMBOL_LOADERS);
    const sys = runCommandSafe({ prog }, 'sys');
    expect(sys.ok).toBe(true);
    const text = sys.ok ? sys.result.text : '';
    expect(text).toMatch(/^ {8}CPUS: \(unknown: nr_cpu_ids unknown: kernel symbols unavailable\)$/m);
    expect(text).toMatch(/^ {2}\(kernel symbols unavailable: VMCOREINFO has no kallsyms entries \(kernels before 6\.0 do not export them\) and no kallsyms tables were found in the kernel's read-only data/m);
    expect(text).not.toMatch(/CONFIG_DEBUG_INFO_BTF/);
    expect(text).toContain('RELEASE: 5.10.0-46-amd64'); // init_uts_ns (VMCOREINFO) + BTF found by scanning
    expect(prog.recall(BTF_HOW_KEY)).toMatch(/found by scanning/);
    expect((sys.ok ? (sys.result.json as any).missing : []).map((m: any) => m.what)).toEqual(['kernel symbols']);
    // what needs no kallsyms keeps working
    const log = runCommandSafe({ prog }, 'log');
    expect(log.ok && log.result.text.split('\n').length).toBeGreaterThan(400);
    const rd = runCommandSafe({ prog }, 'rd -64 init_uts_ns 2');
    expect(rd.ok && rd.result.text).toContain('Linux');
    expect(runCommandSafe({ prog }, 'struct task_struct -o').ok).toBe(true);
    // what needs kallsyms says why
    const ps = runCommandSafe({ prog }, 'ps');
    expect(ps.ok ? '' : ps.error).toMatch(/init_task.*kernel symbols unavailable/);
  }, 60_000);
});
