/**
 * Typed C expressions, the part of gdb's language crash users type on dumps:
 *
 *   jiffies   init_task.comm   init_task.tasks.next   runqueues:1   per_cpu(runqueues, 1).nr_running
 *   ((struct sk_buff *)0xffff888005041e00)->head   *(struct rq *)ADDR   &init_task   modules.next->next
 *   kmalloc_caches[0][3]->name   sizeof(struct task_struct)   jiffies + 100
 *
 * A variable's type comes from the kernel's BTF VAR entries (every per-CPU variable, and every
 * global when pahole emitted them), else from inference over the kernel's code
 * (analysis/vartype.ts); `typedBy` says which, so the caller can show the evidence. A name with
 * no type is an error in a typed position (printing it would print its address as if it were its
 * value). Per-CPU variables: `var:cpu` (crash) and `per_cpu(var, cpu)` (the kernel's and drgn's
 * spelling) give the variable on one CPU.
 */
import type { Program } from '../kernel/program';
import type { Btf } from '../kernel/btf';
import { btfVariable } from '../kernel/variables';
import { inferredVariableType, type InferredType } from '../analysis/vartype';
import { CommandError } from './registry';
import { parseNumber, symbolValue } from './expr';

export interface TypedValue {
  btf: Btf;
  type: number;
  /** lvalue: where the value lives */
  address?: bigint;
  /** rvalue: the value's bytes (little-endian) */
  buf?: Uint8Array;
  /** bitfield members: bit offset from address, width */
  bit?: number;
  bitSize?: number;
}

export type CValue = TypedValue | { num: bigint };

export interface CExprInfo {
  /** for a lone variable or per-CPU variable: the name gdb/crash put before "$N =" */
  label?: string;
  /** variables whose type was inferred from code, with the evidence */
  inferred: InferredType[];
  /** variables typed by BTF VAR entries */
  btfTyped: string[];
}

type Tok = { k: 'num'; v: bigint } | { k: 'id'; s: string } | { k: 'op'; s: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(0x[0-9a-fA-F]+|\d+)(?![\w])|([A-Za-z_$][\w$]*)|(->|<<|>>|[-+*/%&|^~()[\].,:!]))/y;
  let i = 0;
  const s = src.trim();
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || m[0].length === 0) throw new CommandError(`invalid expression: ${src} (unexpected "${s.slice(i).trim()[0]}")`);
    i = re.lastIndex;
    if (m[1]) out.push({ k: 'num', v: BigInt(m[1]) });
    else if (m[2]) out.push({ k: 'id', s: m[2] });
    else out.push({ k: 'op', s: m[3] });
  }
  return out;
}

const BASE_WORDS = new Set(['unsigned', 'signed', 'long', 'short', 'int', 'char', 'const', 'volatile', 'void', '_Bool']);

/** A pointer type to `target` in this BTF (Btf.pointerTo), or a command error. */
export function pointerTo(btf: Btf, target: number): number {
  const id = btf.pointerTo(target);
  if (id === null) throw new CommandError(`no pointer type to ${btf.typeName(target)} in the kernel's BTF`);
  return id;
}

function readUint(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = Math.min(size, 8) - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return v;
}

function le(v: bigint, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < size; i++) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

export class CExpr {
  private toks: Tok[] = [];
  private pos = 0;
  private src = '';
  readonly info: CExprInfo = { inferred: [], btfTyped: [] };

  constructor(
    readonly prog: Program,
    /** the CPU `var:` with no number means (crash: the current task's CPU) */
    readonly defaultCpu = 0,
  ) {}

  get btf(): Btf {
    return this.prog.btf;
  }

  evaluate(src: string): CValue {
    this.src = src;
    this.toks = tokenize(src);
    this.pos = 0;
    if (this.toks.length === 0) throw new CommandError('invalid expression: (empty)');
    const v = this.binary(0);
    if (this.pos < this.toks.length) throw this.err(`unexpected "${this.tokText(this.toks[this.pos])}"`);
    if (this.toks.length === 1 && this.toks[0].k === 'id') this.info.label = this.toks[0].s;
    return v;
  }

  private tokText(t: Tok): string {
    return t.k === 'num' ? t.v.toString() : t.s;
  }
  private err(why: string): CommandError {
    return new CommandError(`invalid expression: ${this.src} (${why})`);
  }
  private peek(o = 0): Tok | undefined {
    return this.toks[this.pos + o];
  }
  private isOp(s: string, o = 0): boolean {
    const t = this.peek(o);
    return !!t && t.k === 'op' && t.s === s;
  }
  private expectOp(s: string): void {
    if (!this.isOp(s)) throw this.err(`expected "${s}"`);
    this.pos++;
  }
  private ident(): string {
    const t = this.peek();
    if (!t || t.k !== 'id') throw this.err('expected a name');
    this.pos++;
    return t.s;
  }

  // ------------------------------------------------------------------ values

  size(v: TypedValue): number {
    return this.btf.sizeof(v.type);
  }

  /** The bytes of a value (read from memory for an lvalue). */
  bytes(v: TypedValue): Uint8Array {
    if (v.buf) return v.buf;
    const extra = v.bitSize ? Math.ceil(((v.bit ?? 0) + v.bitSize) / 8) : 0;
    return this.prog.mem.read(v.address!, Math.max(1, this.size(v), extra));
  }

  /** A scalar's numeric value (ints, enums, pointers, bools, bitfields); arrays decay to their address. */
  number(v: CValue): bigint {
    if ('num' in v) return v.num;
    const btf = v.btf;
    const t = btf.type(btf.resolve(v.type));
    if (t.kind === 'array' && v.address !== undefined) return v.address;
    if (t.kind === 'func') return v.address ?? 0n;
    if (t.kind !== 'int' && t.kind !== 'ptr' && t.kind !== 'enum' && t.kind !== 'enum64') {
      throw this.err(`${btf.typeName(v.type)} is not a number`);
    }
    const b = this.bytes(v);
    if (v.bitSize) {
      const nb = Math.ceil(((v.bit ?? 0) + v.bitSize) / 8);
      return (readUint(b, 0, nb) >> BigInt(v.bit ?? 0)) & ((1n << BigInt(v.bitSize)) - 1n);
    }
    const size = Math.min(8, t.kind === 'ptr' ? 8 : t.size);
    const u = readUint(b, 0, size);
    const signed = (t.kind === 'int' && t.signed) || ((t.kind === 'enum' || t.kind === 'enum64') && t.signed);
    return signed ? BigInt.asUintN(64, BigInt.asIntN(size * 8, u)) : u;
  }

  private kindOf(v: CValue): string {
    return 'num' in v ? 'num' : v.btf.kind(v.btf.resolve(v.type));
  }

  private deref(v: CValue): TypedValue {
    if ('num' in v) throw this.err('cannot dereference a number without a type; cast it: *(struct T *)ADDR');
    const btf = v.btf;
    const t = btf.type(btf.resolve(v.type));
    if (t.kind === 'ptr') {
      const target = t.type;
      if (btf.kind(btf.resolve(target)) === 'void') throw this.err('cannot dereference a void *');
      return { btf, type: target, address: this.number(v) };
    }
    if (t.kind === 'array') return { btf, type: t.type, address: v.address! };
    throw this.err(`${btf.typeName(v.type)} is not a pointer`);
  }

  private member(v: CValue, name: string): TypedValue {
    if ('num' in v) throw this.err(`a number has no member ${name}`);
    const btf = v.btf;
    if (!btf.isComposite(v.type)) throw this.err(`${btf.typeName(v.type)} is not a struct or union (member ${name})`);
    const loc = btf.memberPath(v.type, name);
    if (!loc) throw new CommandError(`There is no member named ${name}.`);
    const byte = Math.floor(loc.bitOffset / 8);
    const bit = loc.bitSize ? loc.bitOffset - byte * 8 : 0;
    if (v.address !== undefined) return { btf, type: loc.type, address: v.address + BigInt(byte), bit, bitSize: loc.bitSize };
    return { btf, type: loc.type, buf: v.buf!.subarray(byte), bit, bitSize: loc.bitSize };
  }

  private index(v: CValue, i: bigint): TypedValue {
    if ('num' in v) throw this.err('cannot index a number');
    const btf = v.btf;
    const t = btf.type(btf.resolve(v.type));
    if (t.kind === 'array') {
      const es = btf.sizeof(t.type);
      if (v.address !== undefined) return { btf, type: t.type, address: v.address + i * BigInt(es) };
      const o = Number(i) * es;
      return { btf, type: t.type, buf: v.buf!.subarray(o, o + es) };
    }
    if (t.kind === 'ptr') return { btf, type: t.type, address: BigInt.asUintN(64, this.number(v) + i * BigInt(btf.sizeof(t.type))) };
    throw this.err(`${btf.typeName(v.type)} is not an array or pointer`);
  }

  private addressOf(v: CValue): TypedValue {
    if ('num' in v || v.address === undefined) throw this.err('& needs a variable or member');
    const p = pointerTo(v.btf, v.type);
    return { btf: v.btf, type: p, buf: le(v.address, 8) };
  }

  /** A variable: per-CPU (on `cpu`), BTF-typed global, or a global typed by inference. */
  variable(name: string, cpu?: number): CValue {
    const prog = this.prog;
    const bv = btfVariable(prog, name);
    if (bv && bv.percpu) {
      if (cpu === undefined) throw new PerCpuNeeded(name, bv.type);
      this.info.btfTyped.push(name);
      return { btf: this.btf, type: bv.type, address: prog.perCpu(name, cpu) };
    }
    if (cpu !== undefined) throw this.err(`${name} is not a per-CPU variable`);
    const addr = symbolValue(prog, name);
    if (addr === undefined) throw new CommandError(`No symbol "${name}" in current context.`);
    if (bv) {
      this.info.btfTyped.push(name);
      return { btf: this.btf, type: bv.type, address: addr };
    }
    if (!prog.hasBtf) throw new CommandError(`${name}: no type (the kernel's BTF is unavailable)`);
    const inf = inferredVariableType(prog, name);
    if (inf) {
      this.info.inferred.push(inf.inferred);
      return { btf: this.btf, type: inf.type, address: addr };
    }
    // a function: its address
    const hit = prog.symbols.lookup(addr);
    if (hit && /^[tTwW]$/.test(hit.sym.type)) {
      const f = this.btf.findType(name, 'func');
      if (f !== null) return { btf: this.btf, type: f, address: addr };
      return { num: addr };
    }
    throw new CommandError(
      `${name}: no type for this variable (no BTF VAR, and no call or comparison in the kernel's code names it); try "rd ${name}" or "struct <type> ${name}"`,
    );
  }

  // ------------------------------------------------------------------ grammar

  private static readonly LEVELS: string[][] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

  private binary(lvl: number): CValue {
    if (lvl >= CExpr.LEVELS.length) return this.unary();
    let v = this.binary(lvl + 1);
    for (;;) {
      const t = this.peek();
      if (!t || t.k !== 'op' || !CExpr.LEVELS[lvl].includes(t.s)) return v;
      this.pos++;
      const r = this.binary(lvl + 1);
      v = this.arith(t.s, v, r);
    }
  }

  private arith(op: string, a: CValue, b: CValue): CValue {
    // pointer arithmetic keeps the pointer's type
    const ka = this.kindOf(a);
    if ((op === '+' || op === '-') && (ka === 'ptr' || ka === 'array') && !('num' in a)) {
      const t = a.btf.type(a.btf.resolve(a.type)) as { type: number };
      const es = BigInt(Math.max(1, a.btf.sizeof(t.type)));
      const n = this.number(b) * es;
      const base = this.number(a);
      const ptr = ka === 'array' ? pointerTo(a.btf, t.type) : a.type;
      return { btf: a.btf, type: ptr, buf: le(op === '+' ? base + n : base - n, 8) };
    }
    const x = this.number(a);
    const y = this.number(b);
    const M = (1n << 64n) - 1n;
    switch (op) {
      case '+': return { num: (x + y) & M };
      case '-': return { num: (x - y) & M };
      case '*': return { num: (x * y) & M };
      case '/': if (y === 0n) throw this.err('division by zero'); return { num: x / y };
      case '%': if (y === 0n) throw this.err('division by zero'); return { num: x % y };
      case '&': return { num: x & y };
      case '|': return { num: x | y };
      case '^': return { num: x ^ y };
      case '<<': return { num: y >= 64n ? 0n : (x << y) & M };
      case '>>': return { num: y >= 64n ? 0n : x >> y };
    }
    throw this.err(`operator ${op}`);
  }

  /** After "(": a type name then ")"? Returns the type id or null (and leaves pos unchanged). */
  private tryTypeName(): number | null {
    const save = this.pos;
    const words: string[] = [];
    while (this.peek()?.k === 'id') {
      const w = (this.peek() as { s: string }).s;
      if (words.length && !BASE_WORDS.has(w) && !['struct', 'union', 'enum'].includes(words[words.length - 1]) && !BASE_WORDS.has(words[words.length - 1])) break;
      words.push(w);
      this.pos++;
    }
    let stars = 0;
    while (this.isOp('*')) {
      stars++;
      this.pos++;
    }
    const btf = this.btf;
    const clean = words.filter((w) => w !== 'const' && w !== 'volatile');
    let id: number | null = null;
    if (clean.length && this.isOp(')')) {
      const text = clean.join(' ');
      if (/^(struct|union|enum) /.test(text)) id = btf.findType(text);
      else if (clean.length === 1 && clean[0] === 'void') id = 0;
      else {
        const norm: Record<string, string> = {
          'unsigned long': 'long unsigned int', 'unsigned int': 'unsigned int', unsigned: 'unsigned int', long: 'long int',
          'unsigned long long': 'long long unsigned int', 'long long': 'long long int', 'unsigned short': 'short unsigned int',
          short: 'short int', 'unsigned char': 'unsigned char', 'signed char': 'signed char',
        };
        const n = norm[text] ?? text;
        // a typedef or base type, not a variable of that name
        const cand = btf.findType(n);
        if (cand !== null && ['typedef', 'int', 'struct', 'union', 'enum', 'enum64', 'float'].includes(btf.kind(cand))) id = cand;
      }
    }
    if (id === null || (id === 0 && stars === 0)) {
      this.pos = save;
      return null;
    }
    for (let i = 0; i < stars; i++) id = pointerTo(btf, id);
    this.pos++; // ")"
    return id;
  }

  private unary(): CValue {
    const t = this.peek();
    if (!t) throw this.err('ends early');
    if (t.k === 'op') {
      if (t.s === '*') {
        this.pos++;
        return this.deref(this.unary());
      }
      if (t.s === '&') {
        this.pos++;
        return this.addressOf(this.unary());
      }
      if (t.s === '-' || t.s === '~' || t.s === '+' || t.s === '!') {
        this.pos++;
        const n = this.number(this.unary());
        const M = (1n << 64n) - 1n;
        return { num: t.s === '-' ? -n & M : t.s === '~' ? ~n & M : t.s === '!' ? (n === 0n ? 1n : 0n) : n };
      }
      if (t.s === '(' && this.peek(1)?.k === 'id') {
        this.pos++;
        const ty = this.tryTypeName();
        if (ty !== null) return this.cast(ty, this.unary());
        this.pos--;
      }
    }
    return this.postfix(this.primary());
  }

  private cast(type: number, v: CValue): CValue {
    const btf = this.btf;
    const k = btf.kind(btf.resolve(type));
    if (k === 'struct' || k === 'union' || k === 'array') {
      if ('num' in v || v.address === undefined) throw this.err(`cannot cast a number to ${btf.typeName(type)}`);
      return { btf, type, address: v.address };
    }
    const size = Math.max(1, Math.min(8, btf.sizeof(type)));
    return { btf, type, buf: le(this.number(v), size) };
  }

  private postfix(v: CValue): CValue {
    for (;;) {
      if (this.isOp('.')) {
        this.pos++;
        v = this.member(v, this.ident());
      } else if (this.isOp('->')) {
        this.pos++;
        v = this.member(this.deref(v), this.ident());
      } else if (this.isOp('[')) {
        this.pos++;
        const i = this.number(this.binary(0));
        this.expectOp(']');
        v = this.index(v, i);
      } else return v;
    }
  }

  private primary(): CValue {
    const t = this.peek();
    if (!t) throw this.err('ends early');
    if (t.k === 'num') {
      this.pos++;
      return { num: t.v };
    }
    if (t.k === 'op') {
      if (t.s === '(') {
        this.pos++;
        const v = this.binary(0);
        this.expectOp(')');
        return v;
      }
      throw this.err(`unexpected "${t.s}"`);
    }
    this.pos++;
    const name = t.s;
    if (name === 'sizeof' && this.isOp('(')) {
      this.pos++;
      const ty = this.tryTypeName();
      if (ty !== null) return { num: BigInt(this.btf.sizeof(ty)) };
      const v = this.binary(0);
      this.expectOp(')');
      if ('num' in v) return { num: 8n };
      return { num: BigInt(v.btf.sizeof(v.type)) };
    }
    if (name === 'per_cpu' && this.isOp('(')) {
      this.pos++;
      const vn = this.ident();
      this.expectOp(',');
      const cpu = Number(this.number(this.binary(0)));
      this.expectOp(')');
      const v = this.variable(vn, cpu);
      if (this.pos === this.toks.length) this.info.label = `per_cpu(${vn}, ${cpu})`;
      return v;
    }
    // crash's var:cpu, and module:symbol
    if (this.isOp(':')) {
      const nx = this.peek(1);
      if (nx?.k === 'num') {
        this.pos += 2;
        const v = this.variable(name, Number(nx.v));
        if (this.pos === this.toks.length) this.info.label = `per_cpu(${name}, ${nx.v})`;
        return v;
      }
      if (nx?.k === 'id') {
        const a = symbolValue(this.prog, `${name}:${nx.s}`);
        if (a !== undefined) {
          this.pos += 2;
          return { num: a };
        }
      }
    }
    // a hex number written without 0x ("ffff888005ec9800") when no symbol has that name
    if (/^[0-9a-fA-F]+$/.test(name) && symbolValue(this.prog, name) === undefined) {
      const n = parseNumber(name);
      if (n !== null) return { num: n };
    }
    // an enumerator constant
    if (this.prog.hasBtf) {
      const e = this.btf.enumerator(name);
      if (e && symbolValue(this.prog, name) === undefined) return { btf: this.btf, type: e.type, buf: le(e.value, Math.min(8, this.btf.sizeof(e.type))) };
    }
    return this.variable(name);
  }
}

/** Thrown for a per-CPU variable used without a CPU: crash then lists its per-CPU addresses. */
export class PerCpuNeeded extends CommandError {
  constructor(
    readonly variable: string,
    readonly type: number,
  ) {
    super(`${variable} is a per-CPU variable: give a CPU (${variable}:0, per_cpu(${variable}, 0))`);
  }
}

/** crash's CPU list: "a"/"all", "1,3,5-7". */
export function parseCpuSpec(spec: string, nr: number): number[] {
  if (spec === '' || spec === 'a' || spec === 'all') return Array.from({ length: nr }, (_, i) => i);
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new CommandError(`invalid cpu specification: ${spec}`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    for (let c = a; c <= b; c++) {
      if (c >= nr) throw new CommandError(`invalid cpu specification: ${spec} (cpu ${c} of ${nr})`);
      out.push(c);
    }
  }
  return out;
}
