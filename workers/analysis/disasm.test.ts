import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { openSync, readSync, closeSync, writeFileSync, mkdtempSync, rmSync, statSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initDisassembler, disassemble, formatDis, type SymbolRef } from './disasm';
import { sharedDump, SHARED_DUMPS } from '../testing/dumps';

const hex = (s: string) => new Uint8Array(s.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));

beforeAll(async () => {
  await initDisassembler();
});

describe('disassemble: capstone text rewritten as objdump/gdb print it', () => {
  // bytes and texts from GNU as + objdump 2.40
  const cases: [string, string][] = [
    ['0f1f440000', 'nopl   0x0(%rax,%rax,1)'],
    ['0f1f0400', 'nopl   (%rax,%rax,1)'],
    ['4157', 'push   %r15'],
    ['488b1b', 'mov    (%rbx),%rbx'],
    ['4989fd', 'mov    %rdi,%r13'],
    ['6690', 'xchg   %ax,%ax'],
    ['66662e0f1f840000000000', 'data16 cs nopw 0x0(%rax,%rax,1)'],
    ['2e0f1f840000000000', 'cs nopl 0x0(%rax,%rax,1)'],
    ['f0410fc1442420', 'lock xadd %eax,0x20(%r12)'],
    ['f348ab', 'rep stos %rax,%es:(%rdi)'],
    ['f3a5', 'rep movsl %ds:(%rsi),%es:(%rdi)'],
    ['65488b042528000000', 'mov    %gs:0x28,%rax'],
    ['48c744240800000000', 'movq   $0x0,0x8(%rsp)'],
    ['4883e4f0', 'and    $0xfffffffffffffff0,%rsp'],
    ['b8eaffffff', 'mov    $0xffffffea,%eax'],
    ['41807c240200', 'cmpb   $0x0,0x2(%r12)'],
    ['48d1e8', 'shr    %rax'],
    ['488d0cf500000000', 'lea    0x0(,%rsi,8),%rcx'],
    ['488b6d00', 'mov    0x0(%rbp),%rbp'],
    ['c3', 'ret'],
    ['cc', 'int3'],
    ['f30f1efa', 'endbr64'],
    ['0fb6477e', 'movzbl 0x7e(%rdi),%eax'],
    ['4863c6', 'movslq %esi,%rax'],
    ['48b8f0debc9a78563412', 'movabs $0x123456789abcdef0,%rax'],
    ['ffd0', 'call   *%rax'],
    ['ff6010', 'jmp    *0x10(%rax)'],
    ['6a10', 'push   $0x10'],
    ['482d0000e0a3', 'sub    $0xffffffffa3e00000,%rax'],
    ['0f01e8', 'serialize'],
    ['0f01c8', 'monitor %rax,%ecx,%edx'],
    ['0f21d0', 'mov    %db2,%rax'],
    ['6e', 'outsb  %ds:(%rsi),(%dx)'],
    ['4f4e55', 'rex.WRXB'], // a REX followed by another REX stands alone (then `rex.WRX push %rbp`)
    ['4e55', 'rex.WRX push %rbp'],
  ];
  for (const [bytes, text] of cases) {
    it(text, () => {
      const b = hex(bytes);
      const [i] = disassemble(b, 0xffffffff81000000n, { count: 1 });
      expect(i.text).toBe(text);
      expect(i.size).toBe(text === 'rex.WRXB' ? 1 : b.length);
    });
  }

  it('undecodable bytes are one-byte (bad) entries and decoding resumes after them', () => {
    const ins = disassemble(hex('06 c3'), 0x1000n);
    expect(ins.map((i) => i.text)).toEqual(['(bad)', 'ret']);
    expect(ins[0].bad).toBe(true);
  });

  it('resolves call/jump targets and RIP-relative addresses, named like gdb', () => {
    const sym = (a: bigint): SymbolRef | null =>
      a === 0xffffffff817c02a0n ? { name: 'kfree_skb_reason', offset: 0 } :
      a === 0xffffffff817c0c2an ? { name: 'skb_release_data', offset: 282 } :
      a === 0xffffffffa98668c0n ? { name: '__cpu_online_mask', offset: 0 } : null;
    // call kfree_skb_reason at skb_release_data+293
    let [i] = disassemble(hex('e866f6ffff'), 0xffffffff817c0c35n, { symbolize: sym });
    expect(i.text).toBe('call   0xffffffff817c02a0 <kfree_skb_reason>');
    expect(i.target).toBe(0xffffffff817c02a0n);
    expect(i.targetKind).toBe('branch');
    [i] = disassemble(hex('75eb'), 0xffffffff817c0c3dn, { symbolize: sym });
    expect(i.text).toBe('jne    0xffffffff817c0c2a <skb_release_data+282>');
    // bt %rax,0x144c3b0(%rip) at kfree_skb_list_reason+280 on 6.12
    [i] = disassemble(hex('480fa305b0c34401'), 0xffffffffa841a508n, { symbolize: sym });
    expect(i.text).toBe('bt     %rax,0x144c3b0(%rip)        # 0xffffffffa98668c0 <__cpu_online_mask>');
    expect(i.targetKind).toBe('memory');
    // a %gs-relative per-cpu offset has no symbol: only the address
    [i] = disassemble(hex('65ff05abacc157'), 0xffffffffa841a516n, { symbolize: sym });
    expect(i.text).toBe('incl   %gs:0x57c1acab(%rip)        # 0x351c8');
  });

  it('formatDis lays lines out like crash, with [FTRACE NOP] at a function start and a trap mark', () => {
    const sym = (a: bigint): SymbolRef | null =>
      a >= 0xffffffff817c0b10n && a < 0xffffffff817c0d00n ? { name: 'skb_release_data', offset: Number(a - 0xffffffff817c0b10n) } : null;
    const ins = disassemble(hex('0f1f440000 4155 4989fd'), 0xffffffff817c0b10n);
    expect(formatDis(ins, { symbolize: sym, markAddress: 0xffffffff817c0b17n }).split('\n')).toEqual([
      '0xffffffff817c0b10 <skb_release_data>:\tnopl   0x0(%rax,%rax,1) [FTRACE NOP]',
      '0xffffffff817c0b15 <skb_release_data+5>:\tpush   %r13',
      '0xffffffff817c0b17 <skb_release_data+7>:\tmov    %rdi,%r13   <-- trapping instruction',
    ]);
  });

  it('count limits the number of instructions', () => {
    expect(disassemble(hex('90 90 90 90'), 0n, { count: 2 })).toHaveLength(2);
  });
});

/**
 * Real kernel text: the Debian 6.1.0-56 kernel in 6.1-sysrq-kaslr's raw ELF (physical memory).
 * The kernel is found by the bytes of skb_release_data's prologue, which crash prints for the
 * same kernel in 6.1-skb-uaf-0x106's oracle (`dis -l skb_release_data`).
 */
const SKB_RELEASE_DATA = hex('0f1f440000 4155 4989fd 4154 55 53 0fb6477e 448ba7c0000000');
const SKB_RELEASE_DATA_VA = 0xffffffff817c0b10n;
const TEXT_VA = 0xffffffff81000000n;

function findKernelText(file: string): number | null {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const CH = 64 << 20;
    const buf = Buffer.alloc(CH + 64);
    for (let pos = 0; pos < size; pos += CH) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      const k = buf.subarray(0, n).indexOf(Buffer.from(SKB_RELEASE_DATA));
      if (k >= 0) return pos + k - Number(SKB_RELEASE_DATA_VA - TEXT_VA);
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

function readAt(file: string, off: number, len: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(len);
    readSync(fd, b, 0, len, off);
    return new Uint8Array(b);
  } finally {
    closeSync(fd);
  }
}

function haveObjdump(): boolean {
  try {
    execFileSync('objdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dump = existsSync(join(SHARED_DUMPS, '6.1-sysrq-kaslr')) ? sharedDump('6.1-sysrq-kaslr') : null;

describe.skipIf(!dump)('real kernel text (6.1-sysrq-kaslr)', () => {
  let textOff = -1;
  beforeAll(() => {
    textOff = findKernelText(dump!.file) ?? -1;
  });

  it('reproduces crash\'s `dis -l skb_release_data` (6.1-skb-uaf-0x106 oracle) line for line', () => {
    expect(textOff).toBeGreaterThan(0);
    const txt = readFileSync(join(SHARED_DUMPS, '6.1-skb-uaf-0x106/oracle/incident.txt'), 'utf8');
    const section = txt.split('crash> dis -l skb_release_data')[1].split('\ncrash> ')[0];
    const want = section.split('\n').filter((l) => l.startsWith('0x'));
    expect(want.length).toBeGreaterThan(100);
    // symbols as crash names them anywhere in the oracle (targets and the address column)
    const syms = new Map<bigint, SymbolRef>();
    for (const m of txt.matchAll(/0x([0-9a-f]+) <([^>+]+)(?:\+(\d+))?>/g)) syms.set(BigInt('0x' + m[1]), { name: m[2], offset: Number(m[3] ?? 0) });
    const first = BigInt(want[0].split(' ')[0]);
    const last = BigInt(want[want.length - 1].split(' ')[0]);
    const bytes = readAt(dump!.file, textOff + Number(first - TEXT_VA), Number(last - first) + 16);
    const ins = disassemble(bytes, first).filter((i) => i.address <= last);
    const got = formatDis(ins, { symbolize: (a) => syms.get(a) ?? null }).split('\n');
    expect(got).toEqual(want);
  });

  it.skipIf(!haveObjdump())('agrees with objdump on >99.5% of ~60k kernel instructions', () => {
    expect(textOff).toBeGreaterThan(0);
    const start = 0x7a0000; // net/core around skb_release_data
    const len = 256 << 10;
    const bytes = readAt(dump!.file, textOff + start, len);
    const dir = mkdtempSync(join(tmpdir(), 'disasm-'));
    try {
      writeFileSync(join(dir, 'text.bin'), bytes);
      const od = execFileSync(
        'objdump',
        ['-D', '-b', 'binary', '-mi386:x86-64', `--adjust-vma=0x${(TEXT_VA + BigInt(start)).toString(16)}`, '--no-show-raw-insn', join(dir, 'text.bin')],
        { maxBuffer: 256 << 20 },
      ).toString();
      const want = new Map<string, string>();
      for (const l of od.split('\n')) {
        const m = /^\s*([0-9a-f]+):\t(.*)$/.exec(l);
        if (m) want.set(m[1], m[2].replace(/\s+$/, ''));
      }
      const ins = disassemble(bytes, TEXT_VA + BigInt(start));
      let same = 0;
      const diffs: string[] = [];
      for (const i of ins.slice(0, -1)) {
        const w = want.get(i.address.toString(16));
        if (w === i.text) same++;
        else diffs.push(`${i.address.toString(16)}: objdump ${JSON.stringify(w)} ours ${JSON.stringify(i.text)}`);
      }
      const total = ins.length - 1;
      expect(total).toBeGreaterThan(50_000);
      expect(same / total, diffs.slice(0, 20).join('\n')).toBeGreaterThan(0.995);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
