import { BTF_HOW_KEY } from './program';
import { describe, it, expect } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram, Program, SYMBOL_LOADERS } from '../engine';
import { findBtfInMemory } from './btf-find';
import { sharedDump, SKIP_REASON } from '../testing/dumps';

/** A Program that knows no kernel symbols by name (as when kallsyms cannot be read). */
class NoSymbols extends Program {
  override symbolAddress(_name: string): bigint | undefined {
    return undefined;
  }
}

describe.each([['5.10-sysrq-lzo'], ['6.1-skb-uaf-0x106'], ['6.12-skb-uaf-kaslr']])('BTF found without __start_BTF/__stop_BTF on %s', (name) => {
  const d = sharedDump(name);
  it.skipIf(!d)(`the scan finds exactly the section the symbols bound${d ? '' : ` (${SKIP_REASON})`}`, () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const start = prog.symbolAddress('__start_BTF')!;
    const stop = prog.symbolAddress('__stop_BTF')!;
    const loc = findBtfInMemory(prog.mem, prog.info);
    expect(loc.start).toBe(start);
    expect(loc.len).toBe(Number(stop - start));
    // a Program without symbols falls back to it, and says so
    const bare = new NoSymbols(prog.src, prog.phys, SYMBOL_LOADERS);
    expect(bare.btf.count).toBe(prog.btf.count);
    expect(bare.recall(BTF_HOW_KEY)).toMatch(/found by scanning the read-only data/);
    expect(bare.sizeof('struct task_struct')).toBe(prog.sizeof('struct task_struct'));
  }, 60_000);
});
