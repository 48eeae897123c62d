/**
 * `struct` / `union`: a type's layout, or its value at an address, as crash prints them.
 *
 *   struct <type>[.member[,member...]] [-o] [-x|-d] [<address|symbol|expression>] [count]
 *   union  <type>[.member...] ...
 *   <type>[.member] ...            (a struct or union name used as a command, as crash allows)
 *
 * Without an address: the definition (`-o`: crash's `struct -o` layout with offsets; `-x`: offsets
 * and SIZE in hex). With an address: the value the way crash (gdb, pretty printing on) prints it:
 * members one per line, nested structs and unions indented, arrays "{0, 0, ...}" (every element:
 * crash's gdb does not collapse repeats), at most 256 elements or chars, char arrays as strings
 * ("insmod\000\000..."), char pointers with their string, function and kernel-data pointers with
 * <symbol+offset>, enums by name, bools true/false, bitfields as numbers. crash's default radix
 * is decimal; -x prints every number in hex (gdb's p/x: no strings, no <symbols>), -d forces
 * decimal. `.member` forms print only those members' lines (`  head = 0xffff888005ec9800 "",`).
 *
 * Types come from the kernel's BTF, then from each loaded module's BTF (moduleBtf), so a type
 * only a module defines is found too.
 */
import type { Program } from '../kernel/program';
import type { Btf, BtfType, BtfInt, FlatMember } from '../kernel/btf';
import { formatStructLayout } from '../kernel/btf-format';
import { listModules, moduleBtf } from '../kernel/modules';
import { START_KERNEL_MAP } from '../arch/x86_64';
import { DumpError, MemoryError, expectedError } from '../errors';
import { CommandError, registerCommand, registerFallback, type CommandResult, type CommandContext } from './registry';
import { evalAddress, parseNumber } from './expr';
import { symbolAt } from './sym';
import { ensureExportSymbols } from '../kernel/exports';
import { btfVariable, perCpuVariablesOfType } from '../kernel/variables';
import { parseCpuSpec } from './cexpr';

/**
 * crash runs gdb with repeats unlimited: the oracle's incident.txt shows 17 equal frags printed
 * one by one and a char * of 200 'k' printed in full, never "<repeats N times>". Lower this to
 * gdb's default (10) to get gdb's collapsing.
 */
const REPEAT_THRESHOLD = Number.POSITIVE_INFINITY;
/** gdb's `print elements` as crash sets it: a char * of 'k's is shown to 256 chars then "..." */
const PRINT_ELEMENTS = 256;

export interface FoundType {
  btf: Btf;
  id: number;
  /** where the type was found: 'vmlinux' or a module name */
  from: string;
}

/** A struct or union by name (kind: 'struct' | 'union' | undefined for either), kernel BTF first, then modules'. */
export function findComposite(prog: Program, name: string, kind?: 'struct' | 'union'): FoundType | null {
  const look = (btf: Btf): number | null => {
    const bare = name.replace(/^(struct|union)\s+/, '');
    const kinds: Array<'struct' | 'union'> = kind ? [kind] : ['struct', 'union'];
    for (const k of kinds) {
      const id = btf.findType(`${k} ${bare}`);
      if (id !== null && btf.kind(id) === k) return id;
    }
    // a typedef of a struct/union ("skb_frag_t")
    const td = btf.findType(bare, 'typedef');
    if (td !== null && btf.isComposite(td)) {
      const r = btf.resolve(td);
      if (!kind || btf.kind(r) === kind) return td;
    }
    return null;
  };
  let btf: Btf;
  try {
    btf = prog.btf;
  } catch (e) {
    if (e instanceof DumpError) throw new CommandError(e.message);
    throw e;
  }
  const id = look(btf);
  if (id !== null) return { btf, id, from: 'vmlinux' };
  let mods: ReturnType<typeof listModules> = [];
  try {
    mods = listModules(prog);
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  for (const m of mods) {
    const mb = moduleBtf(prog, m.name);
    if (!mb) continue;
    const mid = look(mb);
    if (mid !== null) return { btf: mb, id: mid, from: m.name };
  }
  return null;
}

// ------------------------------------------------------------------ value printing (gdb style)

export interface PrintCtx {
  prog: Program;
  btf: Btf;
  hex: boolean;
  /** address of buf[0] when the value was read from memory (flexible char arrays print their address) */
  base?: bigint;
}

function readBits(buf: Uint8Array, bitOff: number, bitSize: number): bigint {
  const first = Math.floor(bitOff / 8);
  const last = Math.floor((bitOff + bitSize - 1) / 8);
  let v = 0n;
  for (let i = last; i >= first; i--) v = (v << 8n) | BigInt(buf[i] ?? 0);
  return (v >> BigInt(bitOff - first * 8)) & ((1n << BigInt(bitSize)) - 1n);
}

function readUint(buf: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i] ?? 0);
  return v;
}

const CHAR_ESC: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\033' };

/** A byte as gdb shows it inside quotes. */
function charText(c: number, quote: string): string {
  if (c === quote.charCodeAt(0) || c === 0x5c) return '\\' + String.fromCharCode(c);
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return CHAR_ESC[c] ?? '\\' + c.toString(8).padStart(3, '0');
}

function isCharType(btf: Btf, id: number): boolean {
  const t = btf.type(btf.resolve(id));
  return t.kind === 'int' && t.size === 1 && ((t as BtfInt).char || /char/.test(t.name));
}

/** gdb's string printing of bytes (print null-stop off): runs of >10 equal chars as <repeats>. */
export function gdbString(bytes: Uint8Array, dropTrailingNul: boolean, limit = PRINT_ELEMENTS): string {
  let n = bytes.length;
  let truncated = false;
  if (n > limit) {
    n = limit;
    truncated = true;
  }
  if (!truncated && dropTrailingNul && n > 0 && bytes[n - 1] === 0) n--;
  if (n === 0) return '""';
  const segs: string[] = [];
  let cur = '';
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && bytes[j] === bytes[i]) j++;
    const reps = j - i;
    if (reps > REPEAT_THRESHOLD) {
      if (cur) segs.push(`"${cur}"`);
      cur = '';
      segs.push(`'${charText(bytes[i], "'")}' <repeats ${reps} times>`);
      i = j;
    } else {
      cur += charText(bytes[i], '"');
      i++;
    }
  }
  if (cur) segs.push(`"${cur}"`);
  return segs.join(', ') + (truncated ? '...' : '');
}

function symSuffix(p: PrintCtx, v: bigint, text: boolean): string {
  if (v === 0n) return '';
  // gdb names addresses of vmlinux's own text and data (crash loads no module symbols into gdb)
  if (!text && (v < START_KERNEL_MAP || !p.prog.arch.isKernelText(v))) return '';
  const hit = symbolAt(p.prog, v);
  if (!hit || hit.sym.module) return '';
  // gdb names a data address only by the object that holds it: a zero-sized symbol that is not text
  // (a linker-script section bound such as __smp_locks .. __smp_locks_end) names nothing. kallsyms
  // has no sizes, so a bound is known by its partner: NAME with NAME_end, __start_X with __stop_X,
  // X_start with X_end/X_stop, and the other way round (7.2's rq.scx.local_dsq.pcpu points into
  // .smp_locks: crash prints no symbol, drgn finds only zero-sized symbols there)
  if (!text && isSectionBound(p.prog, hit.sym.name)) return '';
  return ` <${hit.sym.name}${hit.offset ? '+' + hit.offset : ''}>`;
}

/** Is `name` one end of a linker-script section's pair of bounds (a symbol of size zero)? */
function isSectionBound(prog: Program, name: string): boolean {
  const partners: string[] = [name + '_end'];
  let m: RegExpExecArray | null;
  if ((m = /^(.*)_end$/.exec(name))) partners.push(m[1], m[1] + '_start', m[1] + '_begin');
  if ((m = /^(.*)_(?:start|begin)$/.exec(name))) partners.push(m[1] + '_end', m[1] + '_stop');
  if ((m = /^(.*)_stop$/.exec(name))) partners.push(m[1] + '_start');
  if ((m = /^__start_(.+)$/.exec(name))) partners.push('__stop_' + m[1]);
  if ((m = /^__stop_(.+)$/.exec(name))) partners.push('__start_' + m[1]);
  return partners.some((n) => n !== name && prog.symbolAddress(n) !== undefined);
}

/** The scalar (int, char, bool, enum, pointer) at bit offset `bit` of buf, as gdb prints it. */
function scalarText(p: PrintCtx, id: number, buf: Uint8Array, bit: number, bitSize: number): string | null {
  const btf = p.btf;
  const r = btf.resolve(id);
  const t = btf.type(r);
  if (t.kind === 'ptr') {
    const v = readUint(buf, bit / 8, 8);
    const h = '0x' + v.toString(16);
    if (p.hex || v === 0n) return h;
    const target = btf.resolve(t.type);
    const tk = btf.kind(target);
    if (tk === 'func_proto' || tk === 'func') return h + symSuffix(p, v, true);
    if (isCharType(btf, t.type)) {
      try {
        const s = readCString(p.prog, v, PRINT_ELEMENTS);
        return `${h} ${gdbString(s.bytes, false)}${s.more ? '...' : ''}`;
      } catch (e) {
        if (e instanceof MemoryError) return `${h} <error: Cannot access memory at address ${h}>`;
        throw e;
      }
    }
    return h + symSuffix(p, v, false);
  }
  if (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') {
    const size = t.size;
    let v = bitSize ? readBits(buf, bit, bitSize) : readUint(buf, bit / 8, size);
    const bits = bitSize || size * 8;
    const signed = t.kind === 'int' ? (t as BtfInt).signed : t.signed;
    if (p.hex) return '0x' + v.toString(16);
    if (t.kind === 'int' && (t as BtfInt).bool) return v === 0n ? 'false' : v === 1n ? 'true' : String(v);
    if (signed) v = BigInt.asIntN(bits, v);
    if (t.kind === 'enum' || t.kind === 'enum64') {
      const name = btf.enumName(r, v);
      if (name !== null) return name;
      return String(v);
    }
    if (!bitSize && isCharType(btf, r)) return `${v} '${charText(Number(BigInt.asUintN(8, v)), "'")}'`;
    return String(v);
  }
  if (t.kind === 'float') return p.hex ? '0x' + readUint(buf, bit / 8, t.size).toString(16) : String(floatValue(buf, bit / 8, t.size));
  return null;
}

function floatValue(buf: Uint8Array, off: number, size: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, size);
  return size === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true);
}

function readCString(prog: Program, addr: bigint, max: number): { bytes: Uint8Array; more: boolean } {
  const out: number[] = [];
  let pos = 0;
  while (out.length < max) {
    const cur = addr + BigInt(pos);
    const n = Math.min(max - out.length, 4096 - Number(cur & 0xfffn));
    const b = pos === 0 ? prog.mem.read(cur, n) : prog.mem.tryRead(cur, n);
    if (!b) break;
    const z = b.indexOf(0);
    if (z >= 0) {
      for (let i = 0; i < z; i++) out.push(b[i]);
      return { bytes: Uint8Array.from(out), more: false };
    }
    for (const x of b) out.push(x);
    pos += n;
  }
  return { bytes: Uint8Array.from(out), more: out.length >= max };
}

/** Value text of type id at bit offset `bit` of buf; `r` is gdb's recursion depth (indent). */
export function valueText(p: PrintCtx, id: number, buf: Uint8Array, bit: number, bitSize: number, r: number): string {
  const btf = p.btf;
  const rid = btf.resolve(id);
  const t = btf.type(rid);
  if (t.kind === 'struct' || t.kind === 'union') return compositeText(p, t, buf, bit, r);
  if (t.kind === 'array') return arrayText(p, t.type, t.nelems, buf, bit, r);
  const s = scalarText(p, id, buf, bit, bitSize);
  if (s !== null) return s;
  if (t.kind === 'fwd') return '<incomplete type>';
  return '<unknown type>';
}

function compositeText(p: PrintCtx, t: BtfType & { kind: 'struct' | 'union' }, buf: Uint8Array, bit: number, r: number): string {
  // gdb: a struct with no members
  if (t.members.length === 0) return '{<No data fields>}';
  const ind = '  '.repeat(r + 1);
  const lines = t.members.map((m) => {
    const v = valueText(p, m.type, buf, bit + m.bitOffset, m.bitSize, r + 1);
    return m.name ? `${ind}${m.name} = ${v}` : `${ind}${v}`;
  });
  return `{\n${lines.join(',\n')}\n${'  '.repeat(r)}}`;
}

function arrayText(p: PrintCtx, elem: number, nelems: number, buf: Uint8Array, bit: number, r: number): string {
  const btf = p.btf;
  const esz = btf.sizeof(elem);
  if (!p.hex && isCharType(btf, elem) && nelems === 0 && p.base !== undefined) {
    // a flexible char array (u8 x[]): gdb prints its address and the string there
    const a = p.base + BigInt(bit / 8);
    try {
      const s = readCString(p.prog, a, PRINT_ELEMENTS);
      return `0x${a.toString(16)} ${gdbString(s.bytes, false)}${s.more ? '...' : ''}`;
    } catch (e) {
      if (e instanceof MemoryError) return `0x${a.toString(16)} <error: Cannot access memory at address 0x${a.toString(16)}>`;
      throw e;
    }
  }
  if (!p.hex && isCharType(btf, elem)) {
    const start = bit / 8;
    return gdbString(buf.subarray(start, start + nelems), true);
  }
  if (nelems === 0) return '{}';
  const scalar = !btf.isComposite(elem) && btf.kind(btf.resolve(elem)) !== 'array';
  const parts: string[] = [];
  let shown = 0;
  let i = 0;
  while (i < nelems) {
    if (shown >= PRINT_ELEMENTS) {
      parts.push('...');
      break;
    }
    const at = bit + i * esz * 8;
    const text = valueText(p, elem, buf, at, 0, r + 1);
    let j = i + 1;
    if (scalar) {
      const a = buf.subarray(at / 8, at / 8 + esz);
      while (j < nelems) {
        const b = buf.subarray((bit + j * esz * 8) / 8, (bit + j * esz * 8) / 8 + esz);
        if (!a.every((x, k) => x === b[k])) break;
        j++;
      }
    }
    const reps = j - i;
    if (reps > REPEAT_THRESHOLD) {
      parts.push(`${text} <repeats ${reps} times>`);
      i = j;
      shown += REPEAT_THRESHOLD;
    } else {
      parts.push(text);
      i++;
      shown++;
    }
  }
  // gdb puts the elements of an array of structs on from "{{" with ", {" between them
  return `{${parts.join(', ')}}`;
}

/** crash/gdb text of the object of type `id` at `addr` ("struct skb_shared_info {\n  flags = 0,\n...}"). */
export function formatValue(prog: Program, btf: Btf, id: number, addr: bigint, hex: boolean): string {
  const size = btf.sizeof(id);
  const buf = prog.mem.read(addr, size);
  const p: PrintCtx = { prog, btf, hex, base: addr };
  ensureExportSymbols(prog);
  const r = btf.resolve(id);
  const t = btf.type(r);
  if (t.kind !== 'struct' && t.kind !== 'union') throw new CommandError(`${btf.typeName(id)} is not a struct or union`);
  return `${t.kind} ${t.name ? t.name + ' ' : ''}${compositeText(p, t, buf, 0, 0)}`;
}

/** The lines crash's `struct T.member ADDR` prints for one member: "  name = value," */
export function formatMember(prog: Program, btf: Btf, id: number, addr: bigint, member: string, hex: boolean): string {
  const loc = btf.memberPath(id, member);
  if (!loc) throw new CommandError(`struct: invalid data structure reference: ${btf.typeName(id).replace(/^(struct|union) /, '')}.${member}`);
  const size = Math.max(1, btf.sizeof(id));
  const buf = prog.mem.read(addr, size);
  const p: PrintCtx = { prog, btf, hex, base: addr };
  ensureExportSymbols(prog);
  const v = valueText(p, loc.type, buf, loc.bitOffset, loc.bitSize, 1);
  // gdb's line ends with "," unless the member is the last one printed of its struct
  const top = btf.members(id);
  const last = top.length > 0 && top[top.length - 1].name === member.split(/[.[]/)[0];
  const name = member.split('.').pop()!;
  return `  ${name} = ${v}${last ? '' : ','}`;
}

// ------------------------------------------------------------------ the command

function definitionText(btf: Btf, id: number, offsets: boolean, hex: boolean, members: string[] | null): string {
  if (!members) return formatStructLayout(btf, id, { offsets, hex }) + '\n';
  // crash: `struct sk_buff.head -o` prints the member's line
  const out: string[] = [];
  for (const m of members) {
    const loc = btf.memberPath(id, m);
    if (!loc) throw new CommandError(`struct: invalid data structure reference: ${m}`);
    const decl = btf.declaration(loc.type, m.split('.').pop()!, { bitSize: loc.bitSize });
    out.push(offsets ? `  [${hex ? '0x' + loc.offset.toString(16) : loc.offset}] ${decl};` : `  ${decl};`);
  }
  return out.join('\n') + '\n';
}

function runStruct(kind: 'struct' | 'union' | undefined, args: string[], ctx: CommandContext): CommandResult {
  const prog = ctx.prog;
  let offsets = false;
  let hex = false;
  const rest: string[] = [];
  let cpus: string | undefined;
  for (let ai = 0; ai < args.length; ai++) {
    const a = args[ai];
    if (a === '-c') {
      // crash's per-CPU form: struct rq.nr_running -c [cpus] (the type's per-CPU variable)
      const nx = args[ai + 1];
      cpus = nx !== undefined && /^(a|all|[\d,-]+)$/.test(nx) && (ai + 2 < args.length || !/^\d+$/.test(nx) || true) ? (ai++, nx) : 'a';
      continue;
    }
    if (/^-[oxdp]+$/.test(a) && !/^-\d/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 'o') offsets = true;
        else if (f === 'x') hex = true;
        else if (f === 'd') hex = false;
      }
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new CommandError(`${kind ?? 'struct'}: invalid option: ${a}`);
    else rest.push(a);
  }
  const cmd = kind ?? 'struct';
  if (rest.length === 0) throw new CommandError(`usage: ${cmd} <type>[.member[,member]] [-o] [-x|-d] [address [count]]`);
  const spec = rest[0];
  const dot = spec.indexOf('.');
  const typeName = dot < 0 ? spec : spec.slice(0, dot);
  const members = dot < 0 ? null : spec.slice(dot + 1).split(',').filter(Boolean);
  const found = findComposite(prog, typeName, kind);
  if (!found) throw new CommandError(`${cmd}: invalid data structure reference: ${typeName}`);
  const { btf, id } = found;
  if (members) for (const m of members) if (!btf.memberPath(id, m)) throw new CommandError(`${cmd}: invalid data structure reference: ${typeName}.${m}`);

  // address and count
  let addrText = rest.slice(1).join(' ');
  let count = 1;
  if (rest.length > 2) {
    const last = rest[rest.length - 1];
    const n = parseNumber(last);
    if (n !== null && !/[-+*/%&|^<>(]$/.test(rest[rest.length - 2])) {
      count = Number(n);
      addrText = rest.slice(1, -1).join(' ');
    }
  }
  const rid = btf.resolve(id);
  const size = btf.sizeof(rid);
  const pc = /^([A-Za-z_]\w*):(a|all|[\d,-]+)$/.exec(addrText);
  if (pc) {
    addrText = pc[1];
    cpus = pc[2];
  }
  if (cpus !== undefined) return perCpuStruct(ctx, cmd, found, members, hex, addrText, cpus);
  if (!addrText) {
    const text = definitionText(btf, id, offsets, hex, members);
    const flat = btf.flatten(id);
    const json: StructLayoutJson = { name: flat.name, kind: flat.kind, size: flat.size, members: flat.members, ...(found.from !== 'vmlinux' ? { module: found.from } : {}) };
    return { text, json };
  }
  const addr = evalAddress(prog, addrText);
  if (count < 1 || count > 100000) throw new CommandError(`${cmd}: invalid count: ${count}`);
  const blocks: string[] = [];
  const values: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const a = addr + BigInt(i * size);
    try {
      if (members) blocks.push(members.map((m) => formatMember(prog, btf, id, a, m, hex)).join('\n') + '\n');
      else blocks.push(formatValue(prog, btf, id, a, hex) + '\n');
      values.push({ address: '0x' + a.toString(16), value: jsonValue(prog, btf, id, a) });
    } catch (e) {
      if (e instanceof MemoryError) {
        const msg = `${cmd}: cannot read ${btf.typeName(rid)} at ${a.toString(16)}: ${e.message}`;
        if (blocks.length === 0) throw new CommandError(msg);
        blocks.push(msg + '\n');
        break;
      }
      throw e;
    }
  }
  const json = { type: btf.typeName(rid), size, ...(count === 1 ? (values[0] as object) : { objects: values }) };
  return { text: blocks.join(''), json };
}

/** crash's per-CPU struct output: "[cpu]: address" then the value (or members) on that CPU. */
function perCpuStruct(ctx: CommandContext, cmd: string, found: FoundType, members: string[] | null, hex: boolean, varName: string, cpus: string): CommandResult {
  const prog = ctx.prog;
  const { btf, id } = found;
  if (!varName) {
    const vs = perCpuVariablesOfType(prog, btf, id);
    if (vs.length !== 1) {
      throw new CommandError(
        vs.length === 0
          ? `${cmd}: no per-CPU variable of type ${btf.typeName(id)}; give one: ${cmd} ${btf.name(btf.resolve(id))} <variable>:a`
          : `${cmd}: several per-CPU variables have type ${btf.typeName(id)} (${vs.map((v) => v.name).join(', ')}); name one: <variable>:a`,
      );
    }
    varName = vs[0].name;
  }
  const bv = btfVariable(prog, varName);
  if (!bv || !bv.percpu) throw new CommandError(`${cmd}: ${varName} is not a per-CPU variable`);
  const list = parseCpuSpec(cpus, prog.perCpuOffsets().length || prog.nrCpuIds());
  const out: string[] = [];
  const json: unknown[] = [];
  for (const cpu of list) {
    const a = prog.perCpu(varName, cpu);
    out.push(`[${cpu}]: ${a.toString(16)}\n`);
    try {
      if (members) out.push(members.map((m) => formatMember(prog, btf, id, a, m, hex)).join('\n') + '\n');
      else out.push(formatValue(prog, btf, id, a, hex) + '\n');
      json.push({ cpu, address: '0x' + a.toString(16), value: jsonValue(prog, btf, id, a) });
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      out.push(`${cmd}: cannot read ${btf.typeName(id)} at ${a.toString(16)}: ${e.message}\n`);
      json.push({ cpu, address: '0x' + a.toString(16), problem: e.message });
    }
  }
  return { text: out.join(''), json: { type: btf.typeName(btf.resolve(id)), variable: varName, percpu: json } };
}

/** A JSON view of the value: objects for structs, arrays, numbers (strings past 2^53), pointers as "0x.." */
function jsonValue(prog: Program, btf: Btf, id: number, addr: bigint): unknown {
  return jsonValueOf(btf, id, prog.mem.read(addr, Math.max(1, btf.sizeof(id))), 0, 0);
}

/** The JSON view of a value of type `id` held in buf at bit offset `bit0`. */
export function jsonValueOf(btf: Btf, id: number, buf: Uint8Array, bit0: number, bitSize0: number): unknown {
  const conv = (tid: number, bit: number, bitSize: number, depth: number): unknown => {
    if (depth > 32) return null;
    const r = btf.resolve(tid);
    const t = btf.type(r);
    if (t.kind === 'struct' || t.kind === 'union') {
      const o: Record<string, unknown> = {};
      t.members.forEach((m, i) => {
        const v = conv(m.type, bit + m.bitOffset, m.bitSize, depth + 1);
        if (m.name) o[m.name] = v;
        else if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(o, v);
        else o[`(anon${i})`] = v;
      });
      return o;
    }
    if (t.kind === 'array') {
      if (isCharType(btf, t.type)) {
        const b = buf.subarray(bit / 8, bit / 8 + t.nelems);
        const z = b.indexOf(0);
        return new TextDecoder('latin1').decode(z < 0 ? b : b.subarray(0, z));
      }
      const esz = btf.sizeof(t.type);
      const out: unknown[] = [];
      for (let i = 0; i < Math.min(t.nelems, 4096); i++) out.push(conv(t.type, bit + i * esz * 8, 0, depth + 1));
      return out;
    }
    if (t.kind === 'ptr') return '0x' + readUint(buf, bit / 8, 8).toString(16);
    if (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') {
      let v = bitSize ? readBits(buf, bit, bitSize) : readUint(buf, bit / 8, t.size);
      const signed = t.kind === 'int' ? (t as BtfInt).signed : t.signed;
      if (signed) v = BigInt.asIntN(bitSize || t.size * 8, v);
      if (t.kind === 'int' && (t as BtfInt).bool) return v !== 0n;
      if (t.kind !== 'int') return btf.enumName(r, v) ?? Number(v);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    }
    return null;
  };
  return conv(id, bit0, bitSize0, 0);
}

/** `struct <type> [-o] --json` without an address: the type's layout, every member flattened. */
export interface StructLayoutJson {
  name: string;
  kind: 'struct' | 'union';
  size: number;
  members: FlatMember[];
  /** the module whose BTF has the type (absent: vmlinux) */
  module?: string;
}

registerCommand({
  name: 'struct',
  summary: 'a struct definition (-o offsets) or its value at an address',
  usage: 'struct <type>[.member[,member]] [-o] [-x|-d] [address|symbol|expression] [count]',
  run: (args, ctx) => runStruct('struct', args, ctx),
});

registerCommand({
  name: 'union',
  summary: 'a union definition (-o offsets) or its value at an address',
  usage: 'union <type>[.member[,member]] [-o] [-x|-d] [address|symbol|expression] [count]',
  run: (args, ctx) => runStruct('union', args, ctx),
});

// crash: "If the structure name does not conflict with any crash command, the struct command
// name may be omitted": `sk_buff.head ffff888005041e00`, `request <addr>`, `skb_shared_info -xo`.
registerFallback((name, args, ctx) => {
  if (!/^[A-Za-z_]\w*(\.[\w.[\]]+(,[\w.[\]]+)*)?$/.test(name)) return null;
  const typeName = name.split('.')[0];
  let found: FoundType | null = null;
  try {
    found = findComposite(ctx.prog, typeName);
  } catch (e) {
    expectedError(e);
    return null;
  }
  if (!found) return null;
  const k = found.btf.kind(found.btf.resolve(found.id)) as 'struct' | 'union';
  return runStruct(k, [name, ...args], ctx);
});

// `p` / `print` live in print.ts (typed C expressions: cexpr.ts)
