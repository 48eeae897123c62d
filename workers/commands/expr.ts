/**
 * Expressions of the command language: what every command that takes an address accepts, and
 * what `eval` prints.
 *
 * crash's rules (crash 9 tools.c: cmd_eval / eval_common / calculate, memory.c: cmd_rd) and ours:
 * - A lone number given where an address is expected is hexadecimal, with or without "0x"
 *   (crash's htol): `rd ffff888005ec9800`, `rd 1000` (= 0x1000).
 * - Inside an expression, and in `eval`, numbers have crash's "bias towards decimal": "0x..." is
 *   hex, a run of decimal digits is decimal, a run with a hex letter (a-f) is hex
 *   ("ffff888005ec9800 + 2c0" adds 0x2c0; "jiffies + 16" adds 16). crash's k/K, m/M, g/G
 *   suffixes multiply by 1024, 1024^2, 1024^3 ("eval 128m").
 * - Names are kernel or module symbols; "module:symbol" picks one module's symbol. A name is
 *   tried as a symbol first, then as a number (crash does the same: "add" is a symbol if one is
 *   called so). Symbol names may contain '.' ("__key.1").
 * - crash's eval takes one binary operator; we take full C expressions: + - * / % & | ^ << >>,
 *   unary - ~ +, parentheses, C precedence, all in 64-bit unsigned arithmetic that wraps around
 *   (crash's ulong). Division or modulo by zero is an error.
 */
import type { Program } from '../kernel/program';
import { CommandError, registerCommand, type CommandResult } from './registry';
import { expectedError } from '../errors';

export interface EvalOptions {
  /** a lone number (the whole text) is hexadecimal even without 0x (address arguments) */
  hexBias?: boolean;
}

const MASK = (1n << 64n) - 1n;
const wrap = (v: bigint) => v & MASK;

type Tok = { k: 'num'; v: bigint } | { k: 'name'; s: string } | { k: 'op'; s: string };

/** The value of a symbol ("name" or "module:name"), or undefined. */
export function symbolValue(prog: Program, name: string): bigint | undefined {
  try {
    const a = prog.symbols.address(name);
    if (a !== undefined) return a;
  } catch (e) {
    expectedError(e);
    /* symbols unavailable */
  }
  return prog.info.symbol(name);
}

/** A number as crash reads one: 0x hex; digits decimal (hex when hexBias); hex letters hex; k/m/g suffix. */
export function parseNumber(text: string, hexBias = false): bigint | null {
  let s = text.trim();
  if (!s) return null;
  let factor = 1n;
  const suf = /^(0x[0-9a-f]+|[0-9a-f]+)([kmg])$/i.exec(s);
  if (suf) {
    s = suf[1];
    factor = { k: 1024n, m: 1024n ** 2n, g: 1024n ** 3n }[suf[2].toLowerCase() as 'k' | 'm' | 'g'];
  }
  let v: bigint;
  if (/^0x[0-9a-f]+$/i.test(s)) v = BigInt(s);
  else if (/^\d+$/.test(s)) v = hexBias ? BigInt('0x' + s) : BigInt(s);
  else if (/^[0-9a-f]+$/i.test(s)) v = BigInt('0x' + s);
  else return null;
  return wrap(v * factor);
}

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(<<|>>|[-+*/%&|^~()])|([A-Za-z0-9_.$:]+))/y;
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || m[0].length === 0) throw new CommandError(`invalid expression: ${text} (unexpected "${s.slice(i).trim()[0]}")`);
    i = re.lastIndex;
    if (m[1]) out.push({ k: 'op', s: m[1] });
    else out.push({ k: 'name', s: m[2] });
  }
  return out;
}

const BINARY: Array<Record<string, (a: bigint, b: bigint) => bigint>> = [
  { '|': (a, b) => a | b },
  { '^': (a, b) => a ^ b },
  { '&': (a, b) => a & b },
  { '<<': (a, b) => (b >= 64n ? 0n : a << b), '>>': (a, b) => (b >= 64n ? 0n : a >> b) },
  { '+': (a, b) => a + b, '-': (a, b) => a - b },
  {
    '*': (a, b) => a * b,
    '/': (a, b) => {
      if (b === 0n) throw new CommandError('invalid expression: division by zero');
      return a / b;
    },
    '%': (a, b) => {
      if (b === 0n) throw new CommandError('invalid expression: division by zero');
      return a % b;
    },
  },
];

/**
 * Evaluate an expression to a 64-bit unsigned value. Throws CommandError with a one-line message
 * ("invalid expression: ...", "symbol not found: ...").
 */
export function evalExpr(prog: Program, text: string, opts: EvalOptions = {}): bigint {
  const src = text.trim();
  if (!src) throw new CommandError('invalid expression: (empty)');
  const toks = tokenize(src);
  // a lone token: address arguments take a bare number as hex
  if (toks.length === 1 && toks[0].k === 'name') return atom(prog, toks[0].s, !!opts.hexBias, src);
  let pos = 0;
  const peek = () => toks[pos];
  const parseLevel = (lvl: number): bigint => {
    if (lvl >= BINARY.length) return parseUnary();
    let v = parseLevel(lvl + 1);
    for (;;) {
      const t = peek();
      if (!t || t.k !== 'op' || !(t.s in BINARY[lvl])) return v;
      pos++;
      const r = parseLevel(lvl + 1);
      v = wrap(BINARY[lvl][t.s](v, r));
    }
  };
  const parseUnary = (): bigint => {
    const t = peek();
    if (!t) throw new CommandError(`invalid expression: ${src} (ends early)`);
    if (t.k === 'op') {
      if (t.s === '-') {
        pos++;
        return wrap(-parseUnary());
      }
      if (t.s === '+') {
        pos++;
        return parseUnary();
      }
      if (t.s === '~') {
        pos++;
        return wrap(~parseUnary());
      }
      if (t.s === '(') {
        pos++;
        const v = parseLevel(0);
        const c = peek();
        if (!c || c.k !== 'op' || c.s !== ')') throw new CommandError(`invalid expression: ${src} (missing ")")`);
        pos++;
        return v;
      }
      throw new CommandError(`invalid expression: ${src} (unexpected "${t.s}")`);
    }
    pos++;
    return t.k === 'num' ? t.v : atom(prog, t.s, false, src);
  };
  const v = parseLevel(0);
  if (pos < toks.length) {
    const t = toks[pos];
    throw new CommandError(`invalid expression: ${src} (unexpected "${t.k === 'op' ? t.s : t.k === 'name' ? t.s : ''}")`);
  }
  return v;
}

/** Why the kernel's symbols are missing (truncated dump, ...), as a suffix for "not found" errors. */
export function symbolsMissingWhy(prog: Program): string {
  const why = prog.symbolsMissingWhy();
  return why ? ` (kernel symbols unavailable: ${why})` : '';
}

function atom(prog: Program, s: string, hexBias: boolean, src: string): bigint {
  const sym = /^[A-Za-z_.$]|:/.test(s) ? symbolValue(prog, s) : undefined;
  if (sym !== undefined) return sym;
  const n = parseNumber(s, hexBias);
  if (n !== null) return n;
  // a hex-looking word that is also not a symbol was handled above; anything else is a name
  if (s === src) throw new CommandError(`symbol not found: ${s}${symbolsMissingWhy(prog)}`);
  throw new CommandError(`invalid expression: ${src} (symbol not found: ${s})${symbolsMissingWhy(prog)}`);
}

/**
 * An address argument: a symbol, a hex number (0x optional), or an expression of them
 * ("skb_release_data+29", "ffff888005ec9800+0x2c0", "(jiffies + 8)").
 */
export function evalAddress(prog: Program, text: string): bigint {
  return evalExpr(prog, text, { hexBias: true });
}

/**
 * crash refuses an address argument with more hex digits than an address has (htol's "input
 * string too large"): a 17-digit value is a mistake (e.g. a per-CPU offset added without wrapping),
 * never silently truncated to 64 bits.
 */
export function checkAddressDigits(cmd: string, text: string): void {
  const m = /^(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (m && m[1].length > 16) throw new CommandError(`${cmd}: input string too large: "${text.trim()}" (${m[1].length} vs 16)`);
}

/** crash's `eval` layout (tools.c print_number, 64-bit). */
export function formatEval(v: bigint): string {
  v = wrap(v);
  let hex = `hexadecimal: ${v.toString(16)}  `;
  const KB = 1024n, MB = KB * KB, GB = MB * KB;
  if (v >= KB) {
    if (v % GB === 0n) hex += `(${v / GB}GB)`;
    else if (v % MB === 0n) hex += `(${v / MB}MB)`;
    else if (v % KB === 0n) hex += `(${v / KB}KB)`;
  }
  const signed = BigInt.asIntN(64, v);
  const dec = `    decimal: ${v.toString()}  ` + (signed < 0n ? `(${signed.toString()})` : '');
  return [hex, dec, `      octal: ${v.toString(8)}`, `     binary: ${v.toString(2).padStart(64, '0')}`].join('\n') + '\n';
}

/** crash's `eval -b` extra line: the bits set, highest first, wrapped like crash at 77 columns. */
export function formatBits(v: bigint): string {
  const hdr = '   bits set: ';
  let line = hdr;
  let out = '';
  let ccnt = hdr.length;
  for (let i = 63; i >= 0; i--) {
    if ((v >> BigInt(i)) & 1n) {
      const b = `${i} `;
      line += b;
      ccnt += b.length;
      if (ccnt >= 77) {
        out += line + '\n';
        line = ' '.repeat(hdr.length);
        ccnt = hdr.length;
      }
    }
  }
  return out + line + '\n';
}

/** `eval --json`: the value as hex, unsigned and signed decimal (strings: 64-bit exact). */
export interface EvalJson {
  value: string;
  decimal: string;
  signed: string;
}

registerCommand({
  name: 'eval',
  summary: 'evaluate an expression: hexadecimal, decimal, octal and binary',
  usage:
    'eval [-b] <expression>   numbers: 0x.. hex, plain digits decimal, with a-f hex, k/m/g suffixes; symbols and module:symbol; + - * / % & | ^ << >> ~ ( )',
  run(args, ctx): CommandResult {
    let bits = false;
    const rest: string[] = [];
    for (const a of args) {
      if (rest.length === 0 && (a === '-b' || a === '-bl' || a === '-lb')) bits = true;
      else if (rest.length === 0 && a === '-l') continue;
      else rest.push(a);
    }
    if (rest.length === 0) throw new CommandError('usage: eval [-b] <expression>');
    const v = evalExpr(ctx.prog, rest.join(' '));
    const signed = BigInt.asIntN(64, v);
    return {
      text: formatEval(v) + (bits ? formatBits(v) : ''),
      json: { value: '0x' + v.toString(16), decimal: v.toString(), signed: signed.toString() } satisfies EvalJson,
    };
  },
});
