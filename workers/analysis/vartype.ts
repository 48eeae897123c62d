/**
 * The type of a global variable that BTF does not type (pahole emits VARs for per-CPU variables
 * only unless built with global_var), inferred from the kernel's own code:
 *
 *   lea  sym(%rip),%rdi  /  mov $sym,%rdi     ; the address of sym in an argument register
 *   call mutex_lock                            ; BTF: void mutex_lock(struct mutex *lock)
 *     => sym is a struct mutex
 *   mov  sym(%rip),%rsi                        ; sym's value (8 bytes) in an argument register
 *   call kmem_cache_alloc_lru                  ; BTF: param 1 is struct list_lru *
 *     => sym is a struct list_lru *
 *
 * References are found by scanning kernel text for rel32 displacements and absolute imm32 values
 * that point at the symbol; each function holding one is disassembled from its start and the
 * argument registers are followed to the next call (or tail-call jmp). The callee's BTF FUNC and
 * FUNC_PROTO give the parameter type. Votes per type, ranked; a type larger than the gap to the
 * next symbol is dropped (it cannot fit). With no call evidence, the width of the loads names a
 * base type of that size (weaker). Every candidate carries its evidence, as `overlay` does.
 */
import { cacheKey, type Program } from '../kernel/program';
import { kernelImageLayout } from '../kernel/layout';
import type { Btf } from '../kernel/btf';
import { disassemble, disassemblerReady, type Insn } from './disasm';
import { DumpError, MemoryError, expectedError } from '../errors';
import { btfVariables } from '../kernel/variables';

interface KernelText {
  start: bigint;
  bytes: Uint8Array;
}

const TEXT_KEY = cacheKey<KernelText | null>('vartype.text');
const TYPED_POINTERS_KEY = cacheKey<Map<bigint, { target: number; where: string }>>('vartype.typedPointers');

export interface TypeEvidence {
  /** where: function+offset of the referencing instruction */
  at: string;
  /** the instructions that make the case ("lea ...; call mutex_lock(struct mutex *lock) arg 1") */
  text: string;
}

export interface TypeCandidate {
  /** type id in the kernel BTF */
  type: number;
  /** C name ("struct mutex", "struct list_lru *", "unsigned long") */
  name: string;
  votes: number;
  /** 'call': a callee's parameter type; 'width': only the load width */
  how: 'call' | 'width';
  evidence: TypeEvidence[];
}

export interface InferredType {
  symbol: string;
  address: bigint;
  /** references found in kernel text (scanned), and how many were analysed */
  references: number;
  analysed: number;
  candidates: TypeCandidate[];
  problems: string[];
}

const MAX_REFS = 400;
/** stop analysing once the leading type has this many votes */
const ENOUGH = 12;
const WINDOW = 16;

const ARG_REGS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
const REG_ALIASES: Record<string, string> = {};
for (const [r64, r32, r16, r8] of [
  ['rax', 'eax', 'ax', 'al'], ['rbx', 'ebx', 'bx', 'bl'], ['rcx', 'ecx', 'cx', 'cl'], ['rdx', 'edx', 'dx', 'dl'],
  ['rsi', 'esi', 'si', 'sil'], ['rdi', 'edi', 'di', 'dil'], ['rbp', 'ebp', 'bp', 'bpl'], ['rsp', 'esp', 'sp', 'spl'],
]) for (const a of [r64, r32, r16, r8]) REG_ALIASES[a] = r64;
for (let i = 8; i < 16; i++) for (const s of ['', 'd', 'w', 'b']) REG_ALIASES[`r${i}${s}`] = `r${i}`;

function canon(op: string): string | null {
  const m = /^%([a-z0-9]+)$/.exec(op.trim());
  return m ? REG_ALIASES[m[1]] ?? null : null;
}

/** Split AT&T operands at top-level commas. */
function operands(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The kernel's text, read once per dump (bounded: 64 MiB). */
function kernelText(prog: Program): KernelText | null {
  return prog.memo(TEXT_KEY, () => readKernelText(prog));
}

function readKernelText(prog: Program): KernelText | null {
  let res: KernelText | null = null;
  const { textStart: start, textEnd: end } = kernelImageLayout(prog);
  if (start !== undefined && end !== undefined && end > start && end - start < 64n << 20n) {
    const len = Number(end - start);
    const bytes = new Uint8Array(len);
    for (let o = 0; o < len; o += 4096) {
      const n = Math.min(4096, len - o);
      const b = prog.mem.tryRead(start + BigInt(o), n);
      if (b) bytes.set(b, o);
    }
    res = { start, bytes };
  }
  return res;
}

/** Addresses in kernel text of 4-byte fields that refer to `target` (rel32 or abs32). */
export function findReferences(prog: Program, target: bigint, max = MAX_REFS): bigint[] {
  const text = kernelText(prog);
  if (!text) return [];
  const { start, bytes } = text;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: bigint[] = [];
  // rel32: target = field + 4 + k + disp (k = size of an immediate after the displacement)
  const rel = target - start - 4n;
  const lowAbs = Number(BigInt.asIntN(32, target));
  const absOk = BigInt.asIntN(32, target) === BigInt.asIntN(64, target) || (target >= 0n && target < 0x80000000n);
  if (rel < -(1n << 40n) || rel > 1n << 40n) return out;
  const relN = Number(rel);
  for (let j = 0; j + 4 <= bytes.length && out.length < max; j++) {
    const d = dv.getInt32(j, true);
    const need = relN - j;
    if (d === need || d === need - 1 || d === need - 4 || (absOk && d === lowAbs)) out.push(start + BigInt(j));
  }
  return out;
}

interface Track {
  kind: 'addr' | 'val';
  width: number;
  first: Insn;
}

function bytesInWidth(mnemonic: string, dst: string): number {
  const r = /^%([a-z0-9]+)$/.exec(dst)?.[1] ?? '';
  if (/^r(\d+)$/.test(r) || /^r[a-z]{2}$/.test(r)) return 8;
  if (/^e[a-z]{2}$/.test(r) || /^r\d+d$/.test(r)) return 4;
  if (/^[a-z]x$|^[sd]i$|^r\d+w$/.test(r)) return 2;
  if (/l$|^[a-d]l$|b$/.test(r)) return 1;
  return /q$/.test(mnemonic) ? 8 : 4;
}

function funcParams(btf: Btf, name: string): Array<{ name: string; type: number }> | null {
  const id = btf.findType(name.replace(/\.(cold|isra|constprop|part)(\.\d+)*$/, ''), 'func');
  if (id === null) return null;
  const f = btf.type(id);
  if (f.kind !== 'func') return null;
  const p = btf.type(f.type);
  return p.kind === 'func_proto' ? p.params : null;
}

/** No instruction before insns[i] writes `reg` (a linear look: the register still holds the argument). */
function untouched(insns: Insn[], i: number, reg: string): boolean {
  for (let k = 0; k < i; k++) {
    const o = operands(insns[k].operands);
    const m = insns[k].mnemonic;
    if (m === 'call') return false;
    const d = canon(o[o.length - 1] ?? '');
    if (d === reg && !/^(cmp|test|push|bt)/.test(m)) return false;
  }
  return true;
}

interface PtrSlot {
  offset: number;
  /** the pointed-to type */
  target: number;
  path: string;
}

/** Pointer members of a type to composite types (through nested structs, unions and small arrays). */
function pointerSlots(btf: Btf, id: number, cache: Map<number, PtrSlot[]>): PtrSlot[] {
  const hit = cache.get(id);
  if (hit) return hit;
  const out: PtrSlot[] = [];
  const rec = (tid: number, base: number, path: string, depth: number) => {
    if (depth > 6 || out.length > 4096) return;
    const r = btf.resolve(tid);
    const t = btf.type(r);
    if (t.kind === 'struct' || t.kind === 'union') {
      for (const m of t.members) if (!m.bitSize) rec(m.type, base + m.bitOffset / 8, m.name ? (path ? `${path}.${m.name}` : m.name) : path, depth + 1);
    } else if (t.kind === 'array') {
      const es = btf.sizeof(t.type);
      for (let i = 0; i < Math.min(t.nelems, 16); i++) rec(t.type, base + i * es, `${path}[${i}]`, depth + 1);
    } else if (t.kind === 'ptr') {
      const target = btf.unqualified(t.type);
      if (btf.isComposite(target) && btf.sizeof(target) > 0) out.push({ offset: base, target, path });
    }
  };
  rec(id, 0, '', 0);
  cache.set(id, out);
  return out;
}

/**
 * Typed pointers the dump holds in BTF-typed variables (every per-CPU variable on every CPU):
 * pointer value -> the type it points to and where it was read ("per_cpu(runqueues, 0).idle").
 * Built once per dump; bounded.
 */
function typedPointers(prog: Program): Map<bigint, { target: number; where: string }> {
  const cached = prog.recall(TYPED_POINTERS_KEY);
  if (cached) return cached;
  const out = prog.remember(TYPED_POINTERS_KEY, new Map());
  const btf = prog.btf;
  const slotsCache = new Map<number, PtrSlot[]>();
  const ncpu = prog.perCpuOffsets().length;
  for (const v of btfVariables(prog)) {
    if (!v.percpu) continue;
    const slots = pointerSlots(btf, v.type, slotsCache);
    if (!slots.length) continue;
    const size = btf.sizeof(v.type);
    for (let cpu = 0; cpu < ncpu; cpu++) {
      let buf: Uint8Array | null = null;
      try {
        buf = prog.mem.tryRead(prog.perCpu(v.name, cpu), size);
      } catch (e) {
        expectedError(e);
        buf = null;
      }
      if (!buf) continue;
      const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      for (const s of slots) {
        if (s.offset + 8 > buf.length) continue;
        const p = dv.getBigUint64(s.offset, true);
        if (!prog.arch.isKernelAddress(p) || out.has(p)) continue;
        out.set(p, { target: s.target, where: `per_cpu(${v.name}, ${cpu})${s.path ? '.' + s.path : ''}` });
      }
    }
  }
  return out;
}

/** Infer the type of the global `name` from its uses in kernel text. */
export function inferVariableType(prog: Program, name: string, opts: { maxRefs?: number } = {}): InferredType {
  const problems: string[] = [];
  const address = prog.symbolAddress(name);
  if (address === undefined) throw new DumpError(`no symbol ${name}`);
  const res: InferredType = { symbol: name, address, references: 0, analysed: 0, candidates: [], problems };
  if (!disassemblerReady()) {
    problems.push('disassembler not loaded');
    return res;
  }
  const btf = prog.btf;
  const refs = findReferences(prog, address, opts.maxRefs ?? MAX_REFS);
  res.references = refs.length;
  // the gap to the next symbol bounds the variable's size
  const next = prog.symbols.nextAddress(address);
  const gap = next !== undefined ? Number(next - address) : Infinity;
  const votes = new Map<number, TypeCandidate>();
  const widths = new Map<number, TypeEvidence[]>();
  const seenFn = new Set<string>();
  const disCache = new Map<bigint, Insn[]>();
  const vote = (type: number, how: 'call' | 'width', ev: TypeEvidence, weight = 1) => {
    let c = votes.get(type);
    if (!c) {
      c = { type, name: btf.typeName(type), votes: 0, how, evidence: [] };
      votes.set(type, c);
    }
    c.votes += weight;
    if (c.evidence.length < 8) c.evidence.push(ev);
  };
  // a BTF-typed pointer in memory that points at the symbol names its type outright
  try {
    const tp = typedPointers(prog).get(address);
    if (tp) {
      // worth several code uses: the kernel's own typed pointer holds this address
      vote(tp.target, 'call', { at: tp.where, text: `${tp.where}, a ${btf.typeName(tp.target)} *, points at ${name}` }, 4);
    }
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  for (const field of refs) {
    let lead = 0;
    for (const c of votes.values()) lead = Math.max(lead, c.votes);
    if (lead >= ENOUGH) break;
    const hit = prog.symbols.lookup(field);
    if (!hit || hit.sym.module) continue;
    const fnStart = hit.sym.address;
    const fnEnd = prog.symbols.nextAddress(fnStart) ?? fnStart + 4096n;
    const len = Math.min(Number(fnEnd - fnStart), 64 << 10);
    let code: Uint8Array;
    try {
      code = prog.mem.read(fnStart, len);
    } catch (e) {
      if (e instanceof MemoryError) continue;
      throw e;
    }
    const key = `${hit.sym.name}:${field}`;
    if (seenFn.has(key)) continue;
    seenFn.add(key);
    let insns = disCache.get(fnStart);
    if (!insns) {
      insns = disassemble(code, fnStart);
      disCache.set(fnStart, insns);
    }
    const i0 = insns.findIndex((x) => x.address <= field && field < x.address + BigInt(x.size));
    if (i0 < 0) continue;
    const ins = insns[i0];
    // the instruction must really reference the symbol
    const ops = operands(ins.operands);
    const absRef = ops.some((o) => o === `$0x${address.toString(16)}`);
    const ripRef = ins.targetKind === 'memory' && ins.target === address;
    if (!absRef && !ripRef) continue;
    res.analysed++;
    const at = `${hit.sym.name}+${Number(ins.address - fnStart)}`;
    const dst = ops[ops.length - 1] ?? '';
    const reg = canon(dst);
    const mn = ins.mnemonic.replace(/^(lock|rep[nz]*) /, '');
    const regs = new Map<string, Track>();
    if (reg && (mn.startsWith('lea') || absRef) && /^(lea|mov)/.test(mn)) regs.set(reg, { kind: 'addr', width: 8, first: ins });
    else if (reg && ripRef && /^mov[lqwb]?$|^mov[sz]/.test(mn) && ops[0].includes('(%rip)')) {
      const w = bytesInWidth(mn, dst);
      regs.set(reg, { kind: 'val', width: w, first: ins });
      const l = widths.get(w) ?? [];
      if (l.length < 8) l.push({ at, text: `${ins.mnemonic} ${ins.operands}: a ${w}-byte load` });
      widths.set(w, l);
    } else if (ripRef && ops.length === 2 && ops[1].includes('(%rip)') && /^mov[lqwb]?$/.test(mn)) {
      // a store: the source register's width
      const w = bytesInWidth(mn, ops[0]);
      const l = widths.get(w) ?? [];
      if (l.length < 8) l.push({ at, text: `${ins.mnemonic} ${ins.operands}: a ${w}-byte store` });
      widths.set(w, l);
    }
    if (/^cmp/.test(mn) && ops.length === 2) {
      // compared with a parameter of the function itself that is still in its register:
      // `cmp $sym,%rsi` in f(struct task_struct *dst, struct task_struct *src) => sym is a task_struct
      const other = canon(ops[absRef ? 1 : ops[0].includes('(%rip)') ? 1 : 0]);
      const own = funcParams(btf, hit.sym.name);
      const idx = other ? ARG_REGS.indexOf(other) : -1;
      if (own && idx >= 0 && idx < own.length && untouched(insns, i0, other!)) {
        const pt = btf.resolve(own[idx].type);
        const pk = btf.type(pt);
        const decl = btf.declaration(own[idx].type, own[idx].name || `arg${idx + 1}`);
        if (absRef && pk.kind === 'ptr') {
          const tgt = btf.unqualified(pk.type);
          if (btf.sizeof(tgt) > 0) vote(tgt, 'call', { at, text: `${ins.mnemonic} ${ins.operands}: compared with parameter ${idx + 1} of ${hit.sym.name}(${decl})` });
        } else if (ripRef && btf.sizeof(pt) === 8) {
          vote(btf.unqualified(own[idx].type), 'call', { at, text: `${ins.mnemonic} ${ins.operands}: value compared with parameter ${idx + 1} of ${hit.sym.name}(${decl})` });
        }
      }
    }
    if (regs.size === 0) continue;
    const trail: string[] = [`${ins.mnemonic} ${ins.operands}`];
    for (let k = i0 + 1; k < Math.min(insns.length, i0 + WINDOW); k++) {
      const x = insns[k];
      const m = x.mnemonic;
      const o = operands(x.operands);
      if (m === 'call' || (m === 'jmp' && x.target !== undefined)) {
        if (x.target === undefined) break;
        const callee = prog.symbols.lookup(x.target);
        if (!callee || callee.offset !== 0) break;
        const params = funcParams(btf, callee.sym.name);
        if (!params) break;
        for (const [r, t] of regs) {
          const idx = ARG_REGS.indexOf(r);
          if (idx < 0 || idx >= params.length) continue;
          const p = params[idx];
          const pt = btf.resolve(p.type);
          const pk = btf.type(pt);
          let type: number | null = null;
          if (t.kind === 'addr' && pk.kind === 'ptr') {
            const tgt = btf.unqualified(pk.type);
            if (btf.kind(btf.resolve(tgt)) !== 'void' && btf.sizeof(tgt) > 0) type = tgt;
          } else if (t.kind === 'val' && btf.sizeof(p.type) === t.width) type = btf.unqualified(p.type);
          if (type === null) continue;
          const decl = btf.declaration(p.type, p.name || `arg${idx + 1}`);
          vote(type, 'call', { at, text: `${trail.join('; ')}; ${m} ${callee.sym.name}(${decl}) argument ${idx + 1}` });
        }
        break;
      }
      if (m === 'ret' || m.startsWith('jmp') || m === 'ud2' || m.startsWith('int3')) break;
      // register copies keep the tracked value; anything else written to a register kills it
      const d = canon(o[o.length - 1] ?? '');
      const s = canon(o[0] ?? '');
      if (/^mov[q]?$/.test(m) && d && s && regs.has(s) && o.length === 2) {
        regs.set(d, regs.get(s)!);
        trail.push(`${m} ${x.operands}`);
        continue;
      }
      if (d && !/^(cmp|test|push|bt)/.test(m)) regs.delete(d);
      if (/^(xchg|xadd|cmpxchg)/.test(m) && s) regs.delete(s);
      if (regs.size === 0) break;
    }
  }
  let cands = [...votes.values()].filter((c) => btf.sizeof(c.type) <= gap);
  const dropped = votes.size - cands.length;
  if (dropped) problems.push(`${dropped} candidate type(s) larger than the ${gap} bytes before the next symbol were dropped`);
  if (cands.length === 0 && widths.size) {
    // only the width of its loads: an unsigned integer of that size
    const [w, ev] = [...widths.entries()].sort((a, b) => b[1].length - a[1].length)[0];
    const base = { 8: 'long unsigned int', 4: 'unsigned int', 2: 'short unsigned int', 1: 'unsigned char' }[w];
    const id = base ? btf.findType(base, 'int') : null;
    if (id !== null) cands = [{ type: id, name: btf.typeName(id), votes: ev.length, how: 'width', evidence: ev }];
  }
  cands.sort((a, b) => b.votes - a.votes || a.name.localeCompare(b.name));
  res.candidates = cands;
  if (refs.length >= (opts.maxRefs ?? MAX_REFS)) problems.push(`only the first ${refs.length} references were analysed`);
  return res;
}

/** The best inferred type of a global, cached per dump; null when the code says nothing. */
export function inferredVariableType(prog: Program, name: string): { type: number; inferred: InferredType } | null {
  const key = cacheKey<{ type: number; inferred: InferredType } | null>(`vartype.${name}`);
  const cached = prog.recall(key);
  if (cached !== undefined) return cached;
  let r: { type: number; inferred: InferredType } | null = null;
  try {
    const inf = inferVariableType(prog, name);
    if (inf.candidates.length) r = { type: inf.candidates[0].type, inferred: inf };
  } catch (e) {
    if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
  }
  if (disassemblerReady()) prog.remember(key, r);
  return r;
}
