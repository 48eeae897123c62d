import { registerCommand, parseFlags, type CommandContext } from './registry';
import { parseOopsResult, type OopsReport, type Location } from '../analysis/oops';
import { readPrintk } from '../analysis/printk';
import type { Program } from '../kernel/program';
import { MemoryError, expectedError } from '../errors';

/**
 * `oops [text]`: the structure of a pasted oops / panic / BUG / KASAN / slub_debug report:
 * headline, faulting address, RIP, registers, call trace (`?` entries marked unreliable),
 * modules, and the Code: bytes disassembled with the faulting instruction marked. Without text it
 * reads the dump's own kernel log. With a dump, symbols are resolved and checked against it:
 * does RIP's symbol+offset exist in this kernel, and do the Code: bytes equal its memory there?
 */
registerCommand({
  name: 'oops',
  disassembles: true,
  summary: "parse a pasted oops/panic/KASAN/slub_debug report (default: the dump's own log)",
  usage: 'oops [-n] ["<pasted report text>"]   (-n: do not check against the dump)',
  run(args, ctx) {
    const { flags, rest } = parseFlags(args, { bool: ['-n'] });
    const fromLog = rest.length === 0;
    const text = fromLog ? logText(ctx.prog) : rest.join(' ');
    const r = parseOopsResult(text);
    const lines: string[] = [];
    if (!r.found) return { text: `oops: ${r.message}\n`, json: { found: false, message: r.message, reports: [] } };
    const checks = r.reports.map((rep) => (flags.has('-n') ? [] : checkAgainstDump(ctx, rep)));
    r.reports.forEach((rep, i) => {
      if (i) lines.push('');
      lines.push(...formatReport(rep, i, r.reports.length));
      for (const c of checks[i]) lines.push(`  check: ${c}`);
    });
    return {
      text: lines.join('\n') + '\n',
      json: { found: true, source: fromLog ? 'log' : 'text', reports: r.reports.map((rep, i) => ({ ...(toJson(rep) as object), checks: checks[i] })) },
    };
  },
});

function logText(prog: Program): string {
  return readPrintk(prog).records.map((rec) => rec.text).join('\n');
}

function loc(l: Location | undefined): string {
  if (!l) return '?';
  if (!l.symbol) return l.address !== undefined ? `0x${l.address.toString(16)}` : '?';
  return `${l.symbol}+0x${l.offset.toString(16)}/0x${l.length.toString(16)}${l.module ? ` [${l.module}]` : ''}`;
}

export function formatReport(rep: OopsReport, i: number, n: number): string[] {
  const out: string[] = [];
  out.push(`${n > 1 ? `report ${i + 1}/${n}: ` : ''}${rep.headline}  (${rep.kind})`);
  if (rep.faultAddress !== undefined) out.push(`  fault address: 0x${rep.faultAddress.toString(16)}`);
  const who = [rep.cpu !== undefined ? `CPU ${rep.cpu}` : '', rep.pid !== undefined ? `PID ${rep.pid}` : '', rep.comm ? `COMM "${rep.comm}"` : '', rep.tainted ? `Tainted: ${rep.tainted}` : '']
    .filter(Boolean)
    .join('  ');
  if (who) out.push(`  ${who}`);
  if (rep.release) out.push(`  kernel: ${rep.release}`);
  if (rep.rip) out.push(`  RIP: ${loc(rep.rip)}`);
  const regs = Object.entries(rep.registers);
  for (let k = 0; k < regs.length; k += 3) {
    out.push('  ' + regs.slice(k, k + 3).map(([n, v]) => `${n.padStart(3)}: ${v.toString(16).padStart(16, '0')}`).join('  '));
  }
  if (rep.slub) out.push(`  slub: ${JSON.stringify(rep.slub, (_, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v)).slice(0, 400)}`);
  if (rep.callTrace.length) {
    out.push('  Call Trace:');
    for (const e of rep.callTrace) out.push(`    ${e.reliable ? '  ' : '? '}${loc(e)}${e.context !== 'task' ? `  <${e.context}>` : ''}`);
  }
  if (rep.code?.listing) {
    out.push(`  Code (${rep.code.base === 'absolute' ? 'at the RIP address' : rep.code.base === 'symbol' ? 'offsets from the symbol start' : 'offsets in the Code: bytes'}):`);
    for (const l of rep.code.listing.split('\n')) out.push(`    ${l}`);
  }
  if (rep.modules.length) out.push(`  modules: ${rep.modules.slice(0, 40).join(' ')}${rep.modules.length > 40 ? ` ... (${rep.modules.length})` : ''}`);
  if (rep.panic) out.push(`  panic: ${rep.panic}`);
  return out;
}

/** Resolve the report's RIP in the loaded dump and compare the Code: bytes with its memory. */
function checkAgainstDump(ctx: CommandContext, rep: OopsReport): string[] {
  const prog = ctx.prog;
  const out: string[] = [];
  const rip = rep.rip;
  if (!rip || !rip.symbol) return out;
  let base: bigint | undefined;
  try {
    base = rip.module ? (prog.symbols.address(`${rip.module}:${rip.symbol}`) ?? prog.symbols.address(rip.symbol)) : prog.symbols.address(rip.symbol);
  } catch (e) {
    expectedError(e); // no symbol table in this dump
    base = undefined;
  }
  if (base === undefined) {
    out.push(`RIP symbol ${rip.symbol} is not in this dump's kernel: the report comes from another kernel or module build`);
    return out;
  }
  const addr = base + BigInt(rip.offset);
  out.push(`RIP ${rip.symbol}+0x${rip.offset.toString(16)} is 0x${addr.toString(16)} in this dump`);
  const next = prog.symbols.nextAddress(base);
  if (next !== undefined && rip.length && next - base !== BigInt(rip.length)) {
    out.push(`function length differs: the report says 0x${rip.length.toString(16)}, this kernel's ${rip.symbol} spans 0x${(next - base).toString(16)} (another build?)`);
  }
  const code = rep.code;
  if (code) {
    const start = addr - BigInt(code.faultIndex);
    try {
      const mem = prog.mem.read(start, code.bytes.length);
      const same = mem.every((b, k) => b === code.bytes[k]);
      out.push(same ? 'Code: bytes equal the kernel text at RIP: the report matches this dump' : 'Code: bytes differ from the kernel text at RIP: the report is not from this kernel build (or the text was patched)');
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      out.push(`kernel text at RIP not readable: ${e.message}`);
    }
  }
  return out;
}

function toJson(rep: OopsReport): unknown {
  return JSON.parse(
    JSON.stringify(rep, (_, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v instanceof Uint8Array ? Array.from(v, (b) => b.toString(16).padStart(2, '0')).join(' ') : v)),
  );
}

/** A value as `oops --json` writes it: bigints as "0x..." strings, byte arrays as hex text. */
export type Hexed<T> = T extends bigint
  ? string
  : T extends Uint8Array
    ? string
    : T extends readonly (infer U)[]
      ? Hexed<U>[]
      : T extends object
        ? { [K in keyof T]: Hexed<T[K]> }
        : T;

/** One report of `oops --json`, with what was checked against the dump. */
export type OopsReportJson = Hexed<OopsReport> & { checks: string[] };

/** `oops --json` */
export interface OopsJson {
  found: boolean;
  /** the dump's own log, or pasted text */
  source?: 'log' | 'text';
  message?: string;
  reports: OopsReportJson[];
}
