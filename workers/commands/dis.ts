/**
 * `dis [-l] [-r] <addr|sym[+off]> [count]`: disassembly of kernel and module text read from the
 * dump, in crash's layout (workers/analysis/disasm.ts makes each line as gdb/objdump would):
 *
 *   0xffffffff817c0c2d <skb_release_data+285>:	mov    (%rbx),%rbx
 *
 * - a symbol with no offset and no count: the whole function (its end is the next symbol);
 * - an address (or sym+off) with no count: one instruction; with a count: that many;
 * - -r: from the start of the function up to and including the address;
 * - -l: source lines need a vmlinux with DWARF; said once, then the instructions as without -l;
 * - the faulting instruction of an exception frame on the panic task's stack is marked
 *   ("<-- trapping instruction").
 * JSON: {address, count, instructions: [{address, symbol, offset, bytes, mnemonic, operands, text,
 * target?}], faulting?}.
 */
import { registerCommand, parseFlags, CommandError } from './registry';
import { disassemble, disassemblerReady, formatDis, initDisassembler, type SymbolRef } from '../analysis/disasm';
import { unwindTask } from '../analysis/unwind';
import { panicTask } from '../analysis/tasks';
import { cacheKey, type Program } from '../kernel/program';
import { MemoryError, DumpError } from '../errors';
import { hasDwarf, lineAt, crashLine } from '../kernel/dwarf/index';

const DIS_FAULTING_KEY = cacheKey<bigint[]>('dis.faulting');

const MAX_BYTES = 64 * 1024;
const MAX_INSNS = 20000;

/** Addresses of the panic task's exception frames (the faulting instructions). */
export function faultingPcs(prog: Program): bigint[] {
  const c = prog.recall(DIS_FAULTING_KEY);
  if (c) return c;
  const out: bigint[] = [];
  try {
    const t = panicTask(prog);
    if (t) for (const f of unwindTask(prog, t).frames) if (f.regs && !f.user && !f.prstatus) out.push(f.pc);
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  prog.remember(DIS_FAULTING_KEY, out);
  return out;
}

function symbolizer(prog: Program) {
  return (addr: bigint): SymbolRef | null => {
    // per-CPU offsets (%gs:-relative operands) are not named, as crash/gdb print them
    if (!prog.arch.isKernelAddress(addr)) return null;
    const h = prog.symbols.lookup(addr);
    if (!h) return null;
    const first = prog.symbols.at(h.sym.address).find((s) => s.module === h.sym.module) ?? h.sym;
    // crash stores module symbols without the compiler's clone suffixes (walk_ring.isra.0 -> walk_ring)
    const name = first.module ? first.name.replace(/\.(isra|part|llvm)\.\d+$/, '') : first.name;
    return { name, offset: Number(addr - first.address), module: first.module };
  };
}

/**
 * kallsyms has no symbol sizes: a function runs to the next symbol, which includes the alignment
 * padding after its last instruction (nops, int3). gdb (and so crash) stops at the ELF symbol's
 * size, before the padding: drop the trailing padding instructions.
 */
function trimPadding<T extends { mnemonic: string; text: string; bad?: boolean }>(insns: T[]): T[] {
  let n = insns.length;
  const pad = (i: T) => /(^|\s)nop[wlq]?$/.test(i.mnemonic) || /^xchg\s+%ax,%ax$/.test(i.text) || i.mnemonic === 'int3';
  while (n > 1 && pad(insns[n - 1])) n--;
  return insns.slice(0, n);
}

/**
 * A symbol by the name crash uses: the exact name, else a module clone with a compiler suffix
 * (crash stores "walk_ring.isra.0" as "walk_ring").
 */
function symbolAddress(prog: Program, name: string): bigint | undefined {
  const a = prog.symbols.address(name);
  if (a !== undefined) return a;
  const re = new RegExp(`^${name.replace(/[.$]/g, '\\$&')}\\.(isra|part|llvm|constprop)\\.\\d+$`);
  return prog.symbols.all().find((s) => s.module && re.test(s.name))?.address;
}

/** Parse "ffffffff817c0c2d", "0x...", "sym", "sym+285", "sym+0x11d". */
export function parseTarget(prog: Program, s: string): { address: bigint; symbolOnly: boolean } {
  const m = /^([A-Za-z_.$][\w.$:-]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(s);
  if (m && !/^(0x)?[0-9a-f]+$/i.test(s)) {
    const a = symbolAddress(prog, m[1]);
    if (a === undefined) throw new CommandError(`dis: invalid symbol: ${m[1]}`);
    const off = m[2] ? BigInt(m[2]) : 0n;
    return { address: a + off, symbolOnly: !m[2] };
  }
  if (/^(0x)?[0-9a-f]+$/i.test(s)) return { address: BigInt(s.startsWith('0x') ? s : '0x' + s), symbolOnly: false };
  throw new CommandError(`dis: invalid address: ${s}`);
}

/** One instruction of `dis --json`. */
export interface DisInsnJson {
  address: string;
  symbol: string | null;
  offset: number | null;
  module: string | null;
  /** the instruction's bytes, two hex digits each, space-separated */
  bytes: string;
  mnemonic: string;
  operands: string;
  text: string;
  /** a branch or RIP-relative target */
  target?: string;
  /** dis -l: the source line (null: none for this address) */
  source?: { file: string; line: number } | null;
}

/** `dis --json` */
export interface DisJson {
  address: string;
  count: number;
  /** the faulting instruction marked in the listing, if any */
  faulting: string | null;
  instructions: DisInsnJson[];
}

registerCommand({
  name: 'dis',
  disassembles: true,
  summary: 'disassemble kernel or module text (AT&T syntax, as crash prints it)',
  usage: 'dis [-l] [-r] <addr|sym[+off]> [count] [--json]',
  run(args, ctx) {
    const { flags, rest } = parseFlags(args, { bool: ['--json', '-l', '-r'] });
    const prog = ctx.prog;
    if (!rest.length) throw new CommandError('dis: give an address or a symbol');
    if (!disassemblerReady()) {
      // the command stays synchronous: start loading the wasm (the CLI and the worker load it first)
      void initDisassembler().catch(() => undefined);
      throw new CommandError('dis: the disassembler (capstone wasm) is still loading; run the command again');
    }
    const { address, symbolOnly } = parseTarget(prog, rest[0]);
    let count: number | undefined = rest[1] !== undefined ? Number(rest[1]) : undefined;
    if (count !== undefined && (!Number.isInteger(count) || count <= 0)) throw new CommandError(`dis: invalid count: ${rest[1]}`);
    const hit = prog.symbols.lookup(address);
    let start = address;
    let end: bigint;
    if (flags.has('-r')) {
      if (!hit) throw new CommandError(`dis: 0x${address.toString(16)} is not in a known function`);
      start = hit.sym.address;
      end = address + 16n;
      count = undefined;
    } else if (symbolOnly && count === undefined) {
      const next = prog.symbols.nextAddress(address);
      end = next !== undefined && next > address && next - address <= BigInt(MAX_BYTES) ? next : address + 256n;
    } else {
      count = count ?? 1;
      end = address + BigInt(Math.min(MAX_BYTES, count * 15 + 16));
    }
    // 16 bytes more, so that the last instruction before `end` is decoded whole
    let bytes: Uint8Array | null = prog.mem.tryRead(start, Number(end - start) + 16) ?? prog.mem.tryRead(start, Number(end - start));
    if (!bytes) {
      // read up to the first unreadable page
      const firstPage = Number(((start | 0xfffn) + 1n) - start);
      bytes = prog.mem.tryRead(start, Math.min(firstPage, Number(end - start)));
      if (!bytes) throw new CommandError(`dis: cannot read memory at 0x${start.toString(16)}`);
    }
    const symbolize = symbolizer(prog);
    let insns = disassemble(bytes, start, { count: count ?? MAX_INSNS, symbolize });
    if (flags.has('-r')) insns = insns.filter((i) => i.address <= address);
    else if (count === undefined) insns = trimPadding(insns.filter((i) => i.address < end));
    const faulting = faultingPcs(prog).find((pc) => insns.some((i) => i.address === pc));
    const lines: string[] = [];
    const withLines = flags.has('-l') && hasDwarf(prog);
    const src = withLines ? insns.map((i) => lineAt(prog, i.address)) : [];
    if (flags.has('-l') && !withLines) lines.push('dis: -l: source lines need a vmlinux with DWARF debug info (none was given); showing instructions only');
    const text = formatDis(insns, { symbolize, markAddress: faulting }).split('\n');
    if (withLines) {
      // crash: the source line above the first instruction of each run of instructions on it
      let prev = '';
      text.forEach((t, k) => {
        const s = src[k] ? crashLine(src[k]!) : '';
        if (s && s !== prev) lines.push(s);
        prev = s;
        lines.push(t);
      });
    } else lines.push(...text);
    const json: DisJson = {
        address: '0x' + address.toString(16),
        count: insns.length,
        faulting: faulting !== undefined ? '0x' + faulting.toString(16) : null,
        instructions: insns.map((i, k) => {
          const s = symbolize(i.address);
          return {
            address: '0x' + i.address.toString(16),
            symbol: s?.name ?? null,
            offset: s?.offset ?? null,
            module: s?.module ?? null,
            bytes: [...i.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' '),
            mnemonic: i.mnemonic,
            operands: i.operands,
            text: i.text,
            target: i.target !== undefined ? '0x' + i.target.toString(16) : undefined,
            source: withLines ? (src[k] ?? null) : undefined,
          };
        }),
    };
    return { text: lines.join('\n') + '\n', json };
  },
});
