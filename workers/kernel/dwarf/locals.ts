/**
 * Parameters and local variables of a frame from DWARF: the scopes covering pc (the function, the
 * calls inlined into it, lexical blocks), each variable's location (an expression, or a location
 * list entry covering pc) evaluated with the registers the unwinder knows for that frame, and its
 * value read from the dump. What cannot be known is said plainly: "optimized out" (no location
 * at this pc), or which register or entry value the location needs that this frame lacks.
 *
 * Registers: a frame that starts from registers (an exception frame's pt_regs, a CPU's PRSTATUS)
 * has all of them; any other frame has its stack pointer, its CFA and the callee-saved registers
 * recovered from .debug_frame (index.ts recoverRegisters; ORC does not record them).
 */
import { AT, TAG } from './consts';
import { Cursor } from './cursor';
import type { Dwarf, Unit, AttrValue } from './dwarf';
import { scopesAt } from './inline';

/** DWARF register numbers of x86_64 (System V psABI) -> names */
export const DWARF_REGS = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];

export interface FrameRegisters {
  /** known registers by DWARF number */
  regs: Map<number, bigint>;
  /** canonical frame address (the caller's stack pointer before the call) */
  cfa?: bigint;
}

export interface FrameVariable {
  name: string;
  kind: 'parameter' | 'variable';
  type: string;
  size: number;
  /** the value (integers, pointers, enums: up to 8 bytes) */
  value?: bigint;
  /** where it lives in memory (link-time for globals is already relocated by the caller) */
  address?: bigint;
  /** the register holding it */
  register?: string;
  /** why there is no value: "optimized out", "needs register rbx (not recovered in this frame)", ... */
  unavailable?: string;
}

export interface ScopeVariables {
  /** the function (or inlined function) these belong to */
  function: string | null;
  inlined: boolean;
  variables: FrameVariable[];
}

export interface LocalsContext {
  /** read run-time memory (null when unreadable) */
  read(addr: bigint, size: number): Uint8Array | null;
  /** link-time -> run-time address of a global (KASLR) */
  relocate(addr: bigint): bigint;
}

class Unavailable extends Error {}

/** Resolve a DIE through abstract_origin: the attributes of the DIE and of its origin(s). */
function merged(d: Dwarf, u: Unit, i: number): { attrs: Map<number, AttrValue>; unit: Unit; originUnit: Unit; origin: number } {
  const attrs = new Map(u.attrs(i));
  let cu = u;
  let ci = i;
  for (let hop = 0; hop < 4; hop++) {
    const ref = cu.attrs(ci).get(AT.abstract_origin);
    if (!ref || ref.k !== 'ref') break;
    const t = d.deref(cu, ref.v);
    if (!t) break;
    [cu, ci] = t;
    for (const [k, v] of cu.attrs(ci)) if (!attrs.has(k)) attrs.set(k, v);
  }
  return { attrs, unit: u, originUnit: cu, origin: ci };
}

/** A C name of a DWARF type and its byte size. */
export function typeInfo(d: Dwarf, u: Unit, ref: AttrValue | undefined, depth = 0): { name: string; size: number } {
  if (!ref || ref.k !== 'ref') return { name: 'void', size: 0 };
  const t = d.deref(u, ref.v);
  if (!t || depth > 16) return { name: '?', size: 0 };
  const [tu, ti] = t;
  const a = tu.attrs(ti);
  const nm = a.get(AT.name);
  const name = nm && nm.k === 'str' ? nm.v : '';
  const bs = a.get(AT.byte_size);
  const size = bs && (bs.k === 'u' || bs.k === 's') ? Number(bs.v) : 0;
  switch (tu.tags[ti]) {
    case TAG.base_type:
      return { name, size };
    case TAG.pointer_type: {
      const inner = typeInfo(d, tu, a.get(AT.type), depth + 1);
      return { name: inner.name.endsWith('*') ? inner.name + '*' : inner.name + ' *', size: size || 8 };
    }
    case TAG.structure_type:
      return { name: `struct ${name || '(anonymous)'}`, size };
    case TAG.union_type:
      return { name: `union ${name || '(anonymous)'}`, size };
    case TAG.enumeration_type:
      return { name: `enum ${name || '(anonymous)'}`, size };
    case TAG.typedef: {
      const inner = typeInfo(d, tu, a.get(AT.type), depth + 1);
      return { name, size: inner.size };
    }
    case TAG.const_type:
    case TAG.volatile_type:
    case TAG.restrict_type:
    case TAG.atomic_type: {
      const inner = typeInfo(d, tu, a.get(AT.type), depth + 1);
      const q = tu.tags[ti] === TAG.const_type ? 'const' : tu.tags[ti] === TAG.volatile_type ? 'volatile' : tu.tags[ti] === TAG.restrict_type ? 'restrict' : '_Atomic';
      if (inner.name.startsWith(q + ' ')) return inner; // a qualified array of qualified elements
      return { name: inner.name.endsWith('*') ? `${inner.name} ${q}` : `${q} ${inner.name}`, size: inner.size };
    }
    case TAG.array_type: {
      const inner = typeInfo(d, tu, a.get(AT.type), depth + 1);
      let n = 0;
      for (const c of tu.children(ti)) {
        if (tu.tags[c] !== TAG.subrange_type) continue;
        const ca = tu.attrs(c);
        const cnt = ca.get(AT.count);
        const ub = ca.get(AT.upper_bound);
        if (cnt && (cnt.k === 'u' || cnt.k === 's')) n = Number(cnt.v);
        else if (ub && (ub.k === 'u' || ub.k === 's')) n = Number(ub.v) + 1;
      }
      return { name: `${inner.name} [${n}]`, size: inner.size * n };
    }
    case TAG.subroutine_type:
      return { name: 'function', size: 0 };
    default:
      return { name: name || '?', size };
  }
}

/** The location expression of a variable at pc (null: optimized out here). */
function locationAt(d: Dwarf, u: Unit, loc: AttrValue | undefined, pc: bigint): Uint8Array | null {
  if (!loc) return null;
  if (loc.k === 'b') return loc.v;
  if (loc.k !== 'sec' && loc.k !== 'u') return null;
  const off = loc.k === 'sec' ? loc.v : loc.v;
  if (u.version >= 5) {
    const ll = d.section('.debug_loclists');
    if (!ll) return null;
    let p = off;
    if (loc.k === 'sec' && loc.form === 0x22 /* loclistx */) p = u.loclistsBase + new Cursor(ll, u.loclistsBase + off * u.offSize).offset(u.offSize);
    const c = new Cursor(ll, p);
    let base = u.lowPc;
    for (let guard = 0; guard < 100000; guard++) {
      const kind = c.u8();
      let s = 0n;
      let e = 0n;
      switch (kind) {
        case 0: return null;
        case 1: base = d.addrx(u, c.uleb()); continue;
        case 2: s = d.addrx(u, c.uleb()); e = d.addrx(u, c.uleb()); break;
        case 3: s = d.addrx(u, c.uleb()); e = s + BigInt(c.uleb()); break;
        case 4: s = base + BigInt(c.uleb()); e = base + BigInt(c.uleb()); break;
        case 5: { const n = c.uleb(); return c.bytes(n); } // default location
        case 6: base = c.addr(u.addrSize); continue;
        case 7: s = c.addr(u.addrSize); e = c.addr(u.addrSize); break;
        case 8: s = c.addr(u.addrSize); e = s + BigInt(c.uleb()); break;
        default: return null;
      }
      const n = c.uleb();
      const expr = c.bytes(n);
      if (pc >= s && pc < e) return expr;
    }
    return null;
  }
  const lc = d.section('.debug_loc');
  if (!lc) return null;
  const c = new Cursor(lc, off);
  let base = u.lowPc;
  for (let guard = 0; guard < 100000; guard++) {
    const s = c.addr(u.addrSize);
    const e = c.addr(u.addrSize);
    if (s === 0n && e === 0n) return null;
    if (s === 0xffffffffffffffffn) {
      base = e;
      continue;
    }
    const n = c.u16();
    const expr = c.bytes(n);
    if (pc >= base + s && pc < base + e) return expr;
  }
  return null;
}

type Loc = { kind: 'memory'; addr: bigint } | { kind: 'register'; reg: number } | { kind: 'value'; value: bigint };

const M64 = (1n << 64n) - 1n;

/** Evaluate a DWARF location expression. Throws Unavailable saying what is missing. */
function evaluate(expr: Uint8Array, fr: FrameRegisters, frameBase: () => bigint, ctx: LocalsContext, addrSize: number): Loc {
  const st: bigint[] = [];
  const c = new Cursor(expr);
  const reg = (n: number): bigint => {
    const v = fr.regs.get(n);
    if (v === undefined) throw new Unavailable(`needs register ${DWARF_REGS[n] ?? n} (not recovered in this frame)`);
    return v;
  };
  const pop = (): bigint => {
    const v = st.pop();
    if (v === undefined) throw new Unavailable('bad location expression (stack underflow)');
    return v;
  };
  const deref = (a: bigint, size: number): bigint => {
    const b = ctx.read(a, size);
    if (!b) throw new Unavailable(`memory at 0x${a.toString(16)} is not in the dump`);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return v;
  };
  let result: Loc | null = null;
  for (let steps = 0; c.pos < c.end && steps < 10000; steps++) {
    const op = c.u8();
    if (op >= 0x30 && op <= 0x4f) st.push(BigInt(op - 0x30));
    else if (op >= 0x50 && op <= 0x6f) result = { kind: 'register', reg: op - 0x50 };
    else if (op >= 0x70 && op <= 0x8f) st.push((reg(op - 0x70) + c.slebBig()) & M64);
    else
      switch (op) {
        case 0x03: st.push(ctx.relocate(c.addr(addrSize))); break;
        case 0x06: st.push(deref(pop(), 8)); break;
        case 0x08: st.push(BigInt(c.u8())); break;
        case 0x09: st.push(BigInt(c.i8()) & M64); break;
        case 0x0a: st.push(BigInt(c.u16())); break;
        case 0x0b: { const v = c.u16(); st.push(BigInt(v >= 0x8000 ? v - 0x10000 : v) & M64); break; }
        case 0x0c: st.push(BigInt(c.u32())); break;
        case 0x0d: st.push(BigInt(c.u32() | 0) & M64); break;
        case 0x0e: st.push(c.u64()); break;
        case 0x0f: st.push(c.u64()); break;
        case 0x10: st.push(c.ulebBig()); break;
        case 0x11: st.push(c.slebBig() & M64); break;
        case 0x12: st.push(st[st.length - 1] ?? pop()); break;
        case 0x13: pop(); break;
        case 0x14: st.push(st[st.length - 2] ?? 0n); break;
        case 0x15: st.push(st[st.length - 1 - c.u8()] ?? 0n); break;
        case 0x16: { const a = pop(); const b = pop(); st.push(a, b); break; }
        case 0x17: { const a = pop(); const b = pop(); const x = pop(); st.push(a, x, b); break; }
        case 0x19: { const a = BigInt.asIntN(64, pop()); st.push((a < 0n ? -a : a) & M64); break; }
        case 0x1a: { const b = pop(); st.push(pop() & b); break; }
        case 0x1b: { const b = BigInt.asIntN(64, pop()); const a = BigInt.asIntN(64, pop()); if (!b) throw new Unavailable('division by zero in location'); st.push((a / b) & M64); break; }
        case 0x1c: { const b = pop(); st.push((pop() - b) & M64); break; }
        case 0x1d: { const b = pop(); const a = pop(); if (!b) throw new Unavailable('division by zero in location'); st.push(a % b); break; }
        case 0x1e: { const b = pop(); st.push((pop() * b) & M64); break; }
        case 0x1f: st.push(-pop() & M64); break;
        case 0x20: st.push(~pop() & M64); break;
        case 0x21: { const b = pop(); st.push(pop() | b); break; }
        case 0x22: { const b = pop(); st.push((pop() + b) & M64); break; }
        case 0x23: st.push((pop() + c.ulebBig()) & M64); break;
        case 0x24: { const b = pop(); st.push((pop() << b) & M64); break; }
        case 0x25: { const b = pop(); st.push(pop() >> b); break; }
        case 0x26: { const b = pop(); st.push(BigInt.asIntN(64, pop()) >> b & M64); break; }
        case 0x27: { const b = pop(); st.push(pop() ^ b); break; }
        case 0x28: { const off = c.u16(); const v = pop(); if (v) c.pos += off >= 0x8000 ? off - 0x10000 : off; break; }
        case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: {
          const b = BigInt.asIntN(64, pop());
          const a = BigInt.asIntN(64, pop());
          const r = [a === b, a >= b, a > b, a <= b, a < b, a !== b][op - 0x29];
          st.push(r ? 1n : 0n);
          break;
        }
        case 0x2f: { const off = c.u16(); c.pos += off >= 0x8000 ? off - 0x10000 : off; break; }
        case 0x90: result = { kind: 'register', reg: c.uleb() }; break;
        case 0x91: st.push((frameBase() + c.slebBig()) & M64); break;
        case 0x92: { const r = c.uleb(); st.push((reg(r) + c.slebBig()) & M64); break; }
        case 0x93: throw new Unavailable('split into pieces (not read yet)');
        case 0x94: { const n = c.u8(); st.push(deref(pop(), n)); break; }
        case 0x96: break;
        case 0x9c:
          if (fr.cfa === undefined) throw new Unavailable('needs the frame address (CFA), unknown in this frame');
          st.push(fr.cfa);
          break;
        case 0x9e: { const n = c.uleb(); const b = c.bytes(n); let v = 0n; for (let i = Math.min(8, n) - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]); return { kind: 'value', value: v }; }
        case 0x9f: return { kind: 'value', value: pop() };
        case 0xa3: case 0xf3: throw new Unavailable("needs the caller's value at entry (DW_OP_entry_value)");
        case 0xa0: case 0xf2: throw new Unavailable('optimized out (implicit pointer)');
        default: throw new Unavailable(`location uses DWARF operation 0x${op.toString(16)} (not supported)`);
      }
  }
  if (result) return result;
  if (!st.length) throw new Unavailable('optimized out');
  return { kind: 'memory', addr: pop() };
}

/**
 * The variables of each scope at pc (a link-time address), innermost inlined function first (the
 * order of sourceFrames). Variables of lexical blocks covering pc go with their function.
 */
export function variablesAt(d: Dwarf, pc: bigint, fr: FrameRegisters, ctx: LocalsContext): ScopeVariables[] | null {
  const u = d.unitFor(pc);
  if (!u) return null;
  const chain = scopesAt(u, pc);
  if (!chain.length) return null;
  // frame base of the out-of-line function
  const fb = u.attrs(chain[0]).get(AT.frame_base);
  const frameBase = (): bigint => {
    const e = fb && fb.k === 'b' ? fb.v : null;
    if (!e) throw new Unavailable('the function has no frame base');
    const l = evaluate(e, fr, () => {
      throw new Unavailable('recursive frame base');
    }, ctx, u.addrSize);
    if (l.kind === 'memory') return l.addr;
    if (l.kind === 'value') return l.value;
    return fr.regs.get(l.reg) ?? (() => { throw new Unavailable(`needs register ${DWARF_REGS[l.reg]} (not recovered in this frame)`); })();
  };
  const scopes: ScopeVariables[] = [];
  let cur: ScopeVariables | null = null;
  for (const s of chain) {
    if (u.tags[s] !== TAG.lexical_block) {
      cur = { function: d.dieName(u, s), inlined: u.tags[s] === TAG.inlined_subroutine, variables: [] };
      scopes.push(cur);
    }
    for (let c = u.firstChild[s]; c >= 0; c = u.nextSibling[c]) {
      const tag = u.tags[c];
      if (tag !== TAG.formal_parameter && tag !== TAG.variable) continue;
      const m = merged(d, u, c);
      if (m.attrs.get(AT.declaration)) continue; // extern declarations inside functions
      const nm = m.attrs.get(AT.name);
      if (!nm || nm.k !== 'str') continue;
      const ty = typeInfo(d, m.originUnit === u ? u : m.originUnit, m.attrs.get(AT.type));
      const v: FrameVariable = { name: nm.v, kind: tag === TAG.formal_parameter ? 'parameter' : 'variable', type: ty.name, size: ty.size };
      const own = u.attrs(c);
      const cv = own.get(AT.const_value) ?? m.attrs.get(AT.const_value);
      try {
        if (cv && (cv.k === 'u' || cv.k === 's')) v.value = BigInt.asUintN(64, BigInt(cv.v));
        else {
          const expr = locationAt(d, u, own.get(AT.location), pc);
          if (!expr || expr.length === 0) throw new Unavailable('optimized out');
          const l = evaluate(expr, fr, frameBase, ctx, u.addrSize);
          if (l.kind === 'register') {
            v.register = DWARF_REGS[l.reg] ?? `r${l.reg}`;
            const r = fr.regs.get(l.reg);
            if (r === undefined) throw new Unavailable(`in register ${v.register} (not recovered in this frame)`);
            v.value = ty.size > 0 && ty.size < 8 ? r & ((1n << BigInt(ty.size * 8)) - 1n) : r;
          } else if (l.kind === 'value') {
            v.value = ty.size > 0 && ty.size < 8 ? l.value & ((1n << BigInt(ty.size * 8)) - 1n) : l.value;
          } else {
            v.address = l.addr;
            if (ty.size > 0 && ty.size <= 8) {
              const b = ctx.read(l.addr, ty.size);
              if (!b) throw new Unavailable(`at 0x${l.addr.toString(16)}, not in the dump`);
              let x = 0n;
              for (let i = ty.size - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
              v.value = x;
            }
          }
        }
      } catch (e) {
        if (!(e instanceof Unavailable)) throw e;
        v.unavailable = e.message;
      }
      cur?.variables.push(v);
    }
  }
  return scopes.reverse();
}
