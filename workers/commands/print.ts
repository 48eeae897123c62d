/**
 * `p[/x|/d] [-x|-d] [-c cpus] <expression>`: gdb's print as crash runs it, over typed C expressions
 * (cexpr.ts): globals and per-CPU variables typed by BTF (or by inference from the kernel's code,
 * with the evidence shown), members, pointers, casts, arithmetic.
 *
 *   p jiffies                  jiffies = $1 = 4294892296          (crash prefixes a lone symbol)
 *   p runqueues                PER-CPU DATA TYPE / PER-CPU ADDRESSES (crash's listing)
 *   p runqueues:1              per_cpu(runqueues, 1) = $2 = {...}
 *   p runqueues:a, p -c 0,1 runqueues   one value per CPU
 *   p init_task.comm           $3 = "swapper/0\000..."
 *   p ((struct sk_buff *)ADDR)->head
 *
 * Output numbers "$N" count up per opened dump, as gdb's value history does.
 */
import { cacheKey, type Program } from '../kernel/program';
import { symbolAt } from './sym';
import { ensureExportSymbols } from '../kernel/exports';
import { CommandError, registerCommand, registerFallback, type CommandContext, type CommandResult } from './registry';
import { CExpr, PerCpuNeeded, parseCpuSpec, type CValue, type TypedValue } from './cexpr';
import { valueText, jsonValueOf, type PrintCtx } from './struct';
import { inferVariableType, type InferredType } from '../analysis/vartype';
import { btfVariable } from '../kernel/variables';
import { isKernelText } from '../analysis/unwind';

const PRINT_COUNTER_KEY = cacheKey<number>('print.counter');

function nextN(prog: Program): number {
  const n = ((prog.recall(PRINT_COUNTER_KEY)) ?? 0) + 1;
  prog.remember(PRINT_COUNTER_KEY, n);
  return n;
}

/** gdb's text of a value. */
export function cvalueText(prog: Program, ce: CExpr, v: CValue, hex: boolean, dec: boolean): { text: string; json: unknown } {
  if ('num' in v) {
    const text = hex ? '0x' + v.num.toString(16) : dec ? BigInt.asIntN(64, v.num).toString() : v.num.toString();
    return { text, json: { value: '0x' + v.num.toString(16) } };
  }
  const tv = v as TypedValue;
  const btf = tv.btf;
  const r = btf.resolve(tv.type);
  const kind = btf.kind(r);
  if (kind === 'func') {
    const a = tv.address ?? 0n;
    const hit = symbolAt(prog, a);
    return { text: `{${btf.typeName(tv.type)}} 0x${a.toString(16)}${hit ? ` <${hit.sym.name}>` : ''}`, json: { address: '0x' + a.toString(16) } };
  }
  const buf = ce.bytes(tv);
  const p: PrintCtx = { prog, btf, hex };
  ensureExportSymbols(prog);
  let text = valueText(p, tv.type, buf, tv.bit ?? 0, tv.bitSize ?? 0, 0);
  if (kind === 'ptr' && !hex && !/^0x[0-9a-f]+ "/.test(text)) text = `(${btf.typeName(tv.type)}) ${text}`;
  const json: Record<string, unknown> = { type: btf.typeName(tv.type), value: jsonValueOf(btf, tv.type, buf, tv.bit ?? 0, tv.bitSize ?? 0) };
  if (tv.address !== undefined) json.address = '0x' + tv.address.toString(16);
  return { text, json };
}

function evidenceText(inf: InferredType[]): string {
  const out: string[] = [];
  for (const i of inf) {
    const c = i.candidates;
    if (!c.length) continue;
    out.push(`(type of ${i.symbol} inferred from the kernel's code and data, not from BTF: ${c[0].name}, ${c[0].votes} use${c[0].votes === 1 ? '' : 's'}` +
      (c.length > 1 ? `; also ${c.slice(1, 3).map((x) => `${x.name} (${x.votes})`).join(', ')}` : '') +
      `; e.g. ${c[0].evidence[0]?.at}: ${c[0].evidence[0]?.text}; "vartype ${i.symbol}" ranks them)`);
  }
  return out.join('\n');
}

function perCpuListing(prog: Program, e: PerCpuNeeded): CommandResult {
  const btf = prog.btf;
  const addrs = prog.perCpuOffsets().map((_, cpu) => prog.perCpu(e.variable, cpu));
  const text =
    `PER-CPU DATA TYPE:\n  ${btf.declaration(e.type, e.variable)};\nPER-CPU ADDRESSES:\n` +
    addrs.map((a, i) => `  [${i}]: ${a.toString(16)}\n`).join('');
  return { text, json: { variable: e.variable, type: btf.typeName(e.type), percpu: addrs.map((a, cpu) => ({ cpu, address: '0x' + a.toString(16) })) } };
}

export function runPrint(args: string[], ctx: CommandContext, fmt?: string): CommandResult {
  const prog = ctx.prog;
  let hex = fmt === 'x';
  let dec = fmt === 'd';
  let cpus: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (rest.length === 0 && a === '-x') hex = true;
    else if (rest.length === 0 && a === '-d') dec = true;
    else if (rest.length === 0 && a === '-c') {
      cpus = args[++i];
      if (cpus === undefined) throw new CommandError('p: -c needs a CPU list (a, 0, 0,1, 0-3)');
    } else rest.push(a);
  }
  let text = rest.join(' ').trim();
  if (!text) throw new CommandError('usage: p[/x|/d] [-x|-d] [-c cpus] <expression>');
  // crash's `p var:cpuspec` over several CPUs ("runqueues:a", "runqueues:0,1")
  const m = /^([A-Za-z_]\w*):([\d,a-z-]+)$/.exec(text);
  if (m && cpus === undefined && (m[2] === 'a' || m[2] === 'all' || /[,-]/.test(m[2]))) {
    cpus = m[2];
    text = m[1];
  }
  if (cpus !== undefined) {
    const list = parseCpuSpec(cpus, prog.perCpuOffsets().length || prog.nrCpuIds());
    const name = /^[A-Za-z_]\w*$/.exec(text)?.[0];
    if (!name) throw new CommandError('p: -c and :cpus take a per-CPU variable name');
    const parts: string[] = [];
    const json: unknown[] = [];
    for (const cpu of list) {
      const r = printOne(prog, `per_cpu(${name}, ${cpu})`, hex, dec);
      parts.push(r.text);
      json.push({ cpu, ...(r.json as object) });
    }
    return { text: parts.join(''), json };
  }
  try {
    return printOne(prog, text, hex, dec);
  } catch (e) {
    if (e instanceof PerCpuNeeded) return perCpuListing(prog, e);
    throw e;
  }
}

function printOne(prog: Program, text: string, hex: boolean, dec: boolean): CommandResult {
  const ce = new CExpr(prog);
  const v = ce.evaluate(text);
  const r = cvalueText(prog, ce, v, hex, dec);
  const n = nextN(prog);
  const label = ce.info.label && !/^\d/.test(ce.info.label) && ('num' in v ? false : true) ? `${ce.info.label} = ` : '';
  const ev = evidenceText(ce.info.inferred);
  const json: Record<string, unknown> = { ...(r.json as object) };
  if (ce.info.inferred.length) {
    json.inferred = ce.info.inferred.map((i) => ({
      symbol: i.symbol,
      candidates: i.candidates.slice(0, 5).map((c) => ({ type: c.name, votes: c.votes, how: c.how, evidence: c.evidence.slice(0, 3) })),
    }));
  }
  return { text: `${label}$${n} = ${r.text}\n${ev ? ev + '\n' : ''}`, json };
}

for (const name of ['p', 'print']) {
  registerCommand({
    name,
    disassembles: true,
    summary: 'print a C expression: variables (typed by BTF or inferred), per-CPU var:cpu, members, casts, pointers',
    usage: `${name}[/x|/d] [-x|-d] [-c cpus] <expression>   e.g. p jiffies, p runqueues:1, p init_task.comm, p ((struct sk_buff *)ADDR)->head`,
    run: (args, ctx) => runPrint(args, ctx, undefined),
  });
}
registerFallback((name, args, ctx) => {
  const m = /^(p|print)\/([xd])$/.exec(name);
  return m ? runPrint(args, ctx, m[2]) : null;
});


registerCommand({
  name: 'vartype',
  disassembles: true,
  summary: "the type of a global variable: BTF's VAR entry, else the types the kernel's code uses it as, ranked with the evidence",
  usage: 'vartype [-v] <symbol>',
  run(args, ctx): CommandResult {
    const verbose = args.includes('-v');
    const name = args.filter((a) => a !== '-v')[0];
    if (!name) throw new CommandError('usage: vartype [-v] <symbol>');
    const prog = ctx.prog;
    const bv = btfVariable(prog, name);
    if (bv) {
      const decl = prog.btf.declaration(bv.type, name);
      return { text: `${decl};  (BTF VAR in ${bv.section}${bv.percpu ? ', per-CPU' : ''})\n`, json: { symbol: name, type: prog.btf.typeName(bv.type), source: 'btf', percpu: bv.percpu, section: bv.section } };
    }
    const inf = inferVariableType(prog, name);
    const lines = [`${name} at ${inf.address.toString(16)}: ${inf.references} reference(s) in kernel text, ${inf.analysed} analysed`];
    if (!inf.candidates.length) lines.push('  no call, comparison or load names its type');
    inf.candidates.slice(0, verbose ? 20 : 5).forEach((c, i) => {
      lines.push(`  ${i + 1}. ${c.name}  (${c.votes} use${c.votes === 1 ? '' : 's'}${c.how === 'width' ? ', load width only' : ''})`);
      for (const e of c.evidence.slice(0, verbose ? 8 : 2)) lines.push(`       ${e.at}: ${e.text}`);
    });
    for (const p of inf.problems) lines.push(`  problem: ${p}`);
    return {
      text: lines.join('\n') + '\n',
      json: {
        symbol: name,
        address: '0x' + inf.address.toString(16),
        source: 'inferred',
        references: inf.references,
        analysed: inf.analysed,
        candidates: inf.candidates.map((c) => ({ type: c.name, votes: c.votes, how: c.how, evidence: c.evidence })),
        problems: inf.problems,
      },
    };
  },
});

/**
 * crash's `whatis VARIABLE`: "struct mm_struct init_mm;" — the type from BTF's VAR entry, else the
 * best inferred type (with the evidence on the next line). Null when the name is no data symbol or
 * nothing types it.
 */
export function variableDeclaration(prog: Program, name: string): CommandResult | null {
  if (!prog.hasBtf) return null;
  const btf = prog.btf;
  const bv = btfVariable(prog, name);
  if (bv) return { text: `${btf.declaration(bv.type, name)};\n`, json: { symbol: name, type: btf.typeName(bv.type), source: 'btf', percpu: bv.percpu } };
  const a = prog.symbolAddress(name);
  if (a === undefined) return null;
  const hit = prog.symbols.lookup(a);
  // a function: the address path describes it. By address (below _etext or in init text), not by the
  // kallsyms letter alone: Linux 7.2's kallsyms (and nm of its vmlinux) type .data symbols such as
  // jiffies, init_mm and init_task 'T'
  if (hit && isKernelText(prog, a)) return null;
  const inf = inferVariableType(prog, name);
  const c = inf.candidates[0];
  if (!c) return null;
  return {
    text: `${btf.declaration(c.type, name)};\n(inferred: ${c.votes} use${c.votes === 1 ? '' : 's'}, e.g. ${c.evidence[0]?.at}: ${c.evidence[0]?.text})\n`,
    json: { symbol: name, type: c.name, source: 'inferred', votes: c.votes, evidence: c.evidence.slice(0, 3) },
  };
}
