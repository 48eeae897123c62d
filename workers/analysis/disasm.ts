/**
 * x86-64 disassembly as crash's `dis` prints it.
 *
 * crash prints what gdb prints, and gdb (like objdump) prints what binutils' libopcodes
 * makes of the bytes, in AT&T syntax. We decode with capstone (capstone-wasm) and rewrite
 * capstone's AT&T text into libopcodes' form (see `normalize` and its tables): operand-size
 * suffixes only where no register says the size, hex immediates masked to the operand size,
 * `0x0(%rax,%rax,1)` for an explicit zero displacement and scale, unused prefixes spelled out
 * (`data16 cs nopw`, `cs call`, `rex.W`), `call`/`ret`/`push` without `q`, `xchg %ax,%ax`,
 * `out %al,(%dx)`, and the instructions capstone 5 does not know (serialize, vmgexit, ...).
 *
 * Measured against objdump 2.40 on 1.1 million instructions of a Debian 6.1 kernel's text:
 * see disasm.test.ts and the report in the commit that added this file.
 *
 * Loading the wasm is the only asynchronous step: `await initDisassembler()` once, then
 * `disassemble` and `formatDis` are synchronous like every engine read.
 */

/** The part of capstone-wasm 1.0.3's API used here (dist/index.d.ts). */
interface CsInsn {
  id: number;
  address: number | bigint;
  size: number;
  bytes: Uint8Array;
  mnemonic: string;
  opStr: string;
}
interface Capstone {
  setOption(opt: number, value: number): number;
  disasm(data: Uint8Array, options?: { address?: number | bigint; count?: number }): CsInsn[];
}
interface CapstoneModule {
  Capstone: new (arch: number, mode: number) => Capstone;
  Const: { CS_ARCH_X86: number; CS_MODE_64: number; CS_OPT_SYNTAX: number; CS_OPT_SYNTAX_ATT: number };
  loadCapstone(args?: Record<string, unknown>): Promise<void>;
}

export interface Insn {
  address: bigint;
  size: number;
  bytes: Uint8Array;
  /** with its printed prefixes, as objdump prints it: `lock xadd`, `cs nopw`, `call` */
  mnemonic: string;
  /** the operands as objdump prints them, without the `# 0x...` comment or `<sym>` */
  operands: string;
  /** the instruction as crash prints it after the `<sym+off>:\t` column (with `<sym>` and `# 0x...` comment) */
  text: string;
  /** target of a direct call/jump, or the address of a RIP-relative memory operand */
  target?: bigint;
  targetKind?: 'branch' | 'memory';
  /** bytes that do not decode (objdump's `(bad)`), or a stray prefix printed alone */
  bad?: boolean;
}

export interface SymbolRef {
  name: string;
  offset: number;
  module?: string;
}
export type Symbolize = (addr: bigint) => SymbolRef | null;

export interface DisasmOptions {
  /** stop after this many instructions */
  count?: number;
  /** names for branch targets and RIP-relative addresses (`<kfree_skb_reason>`, `# 0x... <foo+8>`) */
  symbolize?: Symbolize;
}

const MASK64 = (1n << 64n) - 1n;

let cs: Capstone | null = null;
let loading: Promise<void> | null = null;

/** Load capstone's wasm once. Every later call of disassemble() is synchronous. */
export function initDisassembler(): Promise<void> {
  if (cs) return Promise.resolve();
  if (!loading) {
    loading = (async () => {
      // imported here, not at the top: only the commands that disassemble pay for the module and its wasm
      // @ts-ignore -- capstone-wasm's package.json "exports" has no "types" condition (its dist/index.d.ts is typed above)
      const { Capstone, Const, loadCapstone } = (await import('capstone-wasm')) as unknown as CapstoneModule;
      await loadCapstone();
      const c = new Capstone(Const.CS_ARCH_X86, Const.CS_MODE_64);
      c.setOption(Const.CS_OPT_SYNTAX, Const.CS_OPT_SYNTAX_ATT);
      cs = c;
    })().catch((e) => {
      loading = null;
      throw e;
    });
  }
  return loading;
}

/**
 * capstone's decode of `data`: [] when capstone refuses it (it throws "Failed to disassemble"
 * when not even the first instruction decodes); any other throw is a bug and propagates.
 */
function csDisasm(data: Uint8Array, options: { address: bigint; count: number }): CsInsn[] {
  try {
    return cs!.disasm(data, options);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('Failed to disassemble')) return [];
    throw e;
  }
}

export function disassemblerReady(): boolean {
  return cs !== null;
}

/**
 * Disassemble `bytes` placed at `address`, linearly, like objdump/gdb: bytes that do not decode
 * become one-byte `(bad)` entries and decoding goes on after them.
 */
export function disassemble(bytes: Uint8Array, address: bigint, opts: DisasmOptions = {}): Insn[] {
  if (!cs) throw new Error('disassembler not initialised: await initDisassembler() first');
  const out: Insn[] = [];
  const max = opts.count ?? Infinity;
  let off = 0;
  // capstone-wasm copies its input onto a 64 KiB wasm stack and its heap cannot grow: small chunks
  const CHUNK = 2048;
  while (off < bytes.length && out.length < max) {
    const end = Math.min(bytes.length, off + CHUNK);
    // a stray REX (followed by another prefix) is its own line in objdump
    const stray = strayPrefix(bytes, off);
    if (stray) {
      out.push(makeBad(bytes.subarray(off, off + 1), address + BigInt(off), stray));
      off += 1;
      continue;
    }
    const special = specialInsn(bytes, off);
    if (special) {
      const b = bytes.subarray(off, off + special.size);
      const a = (address + BigInt(off)) & MASK64;
      out.push(finish({ address: a, size: special.size, bytes: b, mnemonic: special.mnemonic, operands: special.operands ?? '', text: '' }, opts.symbolize));
      off += special.size;
      continue;
    }
    const raw = csDisasm(bytes.subarray(off, end), {
      address: (address + BigInt(off)) & MASK64,
      count: Math.min(max - out.length, 4096),
    });
    let o = off;
    let stopped = false;
    for (const r of raw) {
      if (o !== off && (strayPrefix(bytes, o) || specialInsn(bytes, o))) {
        stopped = true;
        break;
      }
      const b = bytes.subarray(o, o + r.size);
      const a = (address + BigInt(o)) & MASK64;
      out.push(finish(normalize(r.mnemonic, r.opStr, b, a), opts.symbolize));
      o += r.size;
      if (out.length >= max) break;
    }
    if (!stopped && o < end && out.length < max && !strayPrefix(bytes, o) && !specialInsn(bytes, o)) {
      // capstone stopped: at the end of a chunk with an instruction cut in two, or at bad bytes
      if (end - o < 16 && end < bytes.length) {
        if (o === off) {
          // should not happen (a chunk is far longer than an instruction), but never loop
          out.push(makeBad(bytes.subarray(o, o + 1), address + BigInt(o), '(bad)'));
          o += 1;
        }
      } else {
        const i = undecodable(bytes, o, address, 0);
        out.push(finish(i, opts.symbolize));
        o += i.size;
      }
    }
    off = o;
  }
  return out;
}

const PREFIX_NAME: Record<number, string> = {
  0xf0: 'lock', 0xf2: 'repnz', 0xf3: 'repz', 0x66: 'data16', 0x67: 'addr32', ...SEG_PREFIX_NAMES(),
};
function SEG_PREFIX_NAMES(): Record<number, string> {
  return { 0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x64: 'fs', 0x65: 'gs' };
}

/**
 * Bytes at `o` that capstone rejects. objdump prints a prefix it cannot attach by name in front
 * of what follows (`lock xchg %eax,%ebx`, `rex.WR (bad)`), and `(bad)` for one undecodable byte.
 */
function undecodable(bytes: Uint8Array, o: number, address: bigint, depth: number): Insn {
  const x = bytes[o];
  const name = (x & 0xf0) === 0x40 ? rexName(x) : PREFIX_NAME[x];
  if (name && depth < 14 && o + 1 < bytes.length) {
    let inner: Insn | null = null;
    const r = csDisasm(bytes.subarray(o + 1, Math.min(bytes.length, o + 16)), { address: (address + BigInt(o + 1)) & MASK64, count: 1 });
    if (r.length) inner = normalize(r[0].mnemonic, r[0].opStr, bytes.subarray(o + 1, o + 1 + r[0].size), (address + BigInt(o + 1)) & MASK64);
    if (!inner) inner = undecodable(bytes, o + 1, address, depth + 1);
    return {
      ...inner,
      address: (address + BigInt(o)) & MASK64,
      size: inner.size + 1,
      bytes: bytes.subarray(o, o + inner.size + 1),
      mnemonic: name + ' ' + inner.mnemonic,
      bad: inner.bad,
    };
  }
  if (x === 0x63 && o + 1 < bytes.length) {
    // movsxd without REX.W (capstone rejects it): decode as movslq, then narrow the destination
    const tmp = new Uint8Array(Math.min(16, bytes.length - o + 1));
    tmp[0] = 0x48;
    tmp.set(bytes.subarray(o, o + tmp.length - 1), 1);
    const r = csDisasm(tmp, { address: 0n, count: 1 });
    if (r.length && r[0].mnemonic === 'movslq') {
      const i = normalize(r[0].mnemonic, r[0].opStr, tmp.subarray(0, r[0].size), (address + BigInt(o)) & MASK64);
      const ops = i.operands.replace(/%r([a-z]{2})$/, '%e$1').replace(/%(r[0-9]+)$/, '%$1d');
      return { ...i, size: r[0].size - 1, bytes: bytes.subarray(o, o + r[0].size - 1), mnemonic: 'movsxd', operands: ops };
    }
  }
  return makeBad(bytes.subarray(o, o + 1), address + BigInt(o), '(bad)');
}

function makeBad(b: Uint8Array, address: bigint, mnemonic: string): Insn {
  return { address: address & MASK64, size: b.length, bytes: b, mnemonic, operands: '', text: mnemonic, bad: true };
}

/** text as objdump/gdb lay it out: mnemonic padded to 6 columns and a space, then operands */
function layout(mnemonic: string, operands: string): string {
  if (!operands) return mnemonic;
  return mnemonic.padEnd(6, ' ') + ' ' + operands;
}

function symText(s: SymbolRef): string {
  return s.offset ? `<${s.name}+${s.offset}>` : `<${s.name}>`;
}

function finish(i: Insn, symbolize?: Symbolize): Insn {
  let text = layout(i.mnemonic, i.operands);
  if (i.target !== undefined && i.targetKind === 'branch') {
    const s = symbolize?.(i.target);
    if (s) text += ' ' + symText(s);
  } else if (i.target !== undefined && i.targetKind === 'memory') {
    text += '        # 0x' + i.target.toString(16);
    const s = symbolize?.(i.target);
    if (s) text += ' ' + symText(s);
  }
  i.text = text;
  return i;
}

// ---------------------------------------------------------------------------------------------
// Instruction bytes: prefixes, opcode, ModRM (only as much as the normaliser needs)

const SEG_PREFIX: Record<number, string> = { 0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x64: 'fs', 0x65: 'gs' };
const LEGACY = new Set([0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67]);

interface Decoded {
  prefixes: number[]; // legacy prefix bytes in order
  rex: number; // 0 when none
  opcode: number[]; // opcode bytes (escape bytes included), VEX/EVEX: [map-escape..., opcode]
  vex: boolean;
  modrm: number; // -1 when unknown / none
  modrmAt: number;
}

function decodeHead(b: Uint8Array): Decoded {
  let i = 0;
  const prefixes: number[] = [];
  while (i < b.length && LEGACY.has(b[i])) prefixes.push(b[i++]);
  let rex = 0;
  if (i < b.length && (b[i] & 0xf0) === 0x40) rex = b[i++];
  const opcode: number[] = [];
  let vex = false;
  if (b[i] === 0xc4 || b[i] === 0xc5 || b[i] === 0x62) {
    vex = true;
    const len = b[i] === 0xc5 ? 2 : b[i] === 0xc4 ? 3 : 4;
    opcode.push(...b.subarray(i, i + len));
    i += len;
    opcode.push(b[i++]);
  } else if (b[i] === 0x0f) {
    opcode.push(b[i++]);
    if (b[i] === 0x38 || b[i] === 0x3a) opcode.push(b[i++]);
    opcode.push(b[i++]);
  } else {
    opcode.push(b[i++]);
  }
  return { prefixes, rex, opcode, vex, modrm: i < b.length ? b[i] : -1, modrmAt: i };
}

/** Does the memory operand of this ModRM instruction carry a displacement? */
function modrmHasDisp(d: Decoded, b: Uint8Array): boolean {
  if (d.modrm < 0) return false;
  const mod = d.modrm >> 6;
  const rm = d.modrm & 7;
  if (mod === 1 || mod === 2) return true;
  if (mod === 0 && rm === 5) return true; // rip-relative
  if (mod === 0 && rm === 4) {
    const sib = b[d.modrmAt + 1];
    return sib !== undefined && (sib & 7) === 5;
  }
  return false;
}

/** objdump prints a REX prefix followed by another prefix as an instruction of its own. */
function strayPrefix(b: Uint8Array, o: number): string | null {
  const x = b[o];
  if ((x & 0xf0) !== 0x40 || o + 1 >= b.length) return null;
  const n = b[o + 1];
  if ((n & 0xf0) === 0x40 || LEGACY.has(n)) return rexName(x);
  return null;
}

function rexName(x: number): string {
  const bits = (x & 8 ? 'W' : '') + (x & 4 ? 'R' : '') + (x & 2 ? 'X' : '') + (x & 1 ? 'B' : '');
  return bits ? `rex.${bits}` : 'rex';
}

/**
 * x87 register forms: objdump spells out the implicit %st operand (`fadd %st(7),%st`,
 * `fsub %st,%st(1)`), capstone often leaves it out and calls it %st(0).
 */
function x87Registers(op: number, modrm: number, P: Operand[]): void {
  const i = modrm & 7;
  const sti = (k: number): Operand => ({ kind: 'reg', name: `%st(${k})`, star: false });
  const st: Operand = { kind: 'reg', name: '%st', star: false };
  const sub = (modrm >> 3) & 7;
  let ops: Operand[] | null = null;
  if (op === 0xd8) ops = sub === 2 || sub === 3 ? [sti(i)] : [sti(i), st]; // fcom/fcomp take one
  else if (op === 0xdc) ops = sub === 2 || sub === 3 ? [sti(i)] : [st, sti(i)];
  else if (op === 0xde) ops = sub === 3 ? null : [st, sti(i)];
  else if (op === 0xda && sub < 4) ops = [sti(i), st];
  else if (op === 0xdb && (sub < 4 || sub === 5 || sub === 6)) ops = [sti(i), st];
  else if (op === 0xdf && (sub === 5 || sub === 6)) ops = [sti(i), st];
  if (ops) P.splice(0, P.length, ...ops);
}

/** default 64-bit operand size: REX.W changes nothing */
const DEFAULT64 = /^(push|pop|call|jmp|ret|enter|leave|pushf|popf|j[a-z]+|loop[a-z]*|jrcxz)$/;
const W_MNEMONICS = /^(iretq|lretq|sysretq|sysexitq|cmpxchg16b|fxsave64|fxrstor64|xsave64|xrstor64|xsaveopt64|xsavec64|xsaves64|xrstors64|cltq|cqto|movslq|movsbq|movswq|movzbq|movzwq|cmpsq|movsq|stosq|lodsq|scasq|iretq)$/;

/**
 * Does the instruction leave some bit of its REX prefix unused? objdump then prints the whole
 * prefix (`rex.XB push %r8`). Judged from the operands: each extended register accounts for
 * one of R/B (X for an index), a 64-bit operation for W.
 */
function rexUnused(d: Decoded, P: Operand[], name: string, suffix: string, regSizes: number[]): boolean {
  const rex = d.rex;
  const ext = (r: string) => /^%(r(8|9|1[0-5])[dwb]?|[xyz]mm(8|9|1[0-5])|cr(8|9|1[0-5])|db(8|9|1[0-5])|dr(8|9|1[0-5]))$/.test(r);
  let regExt = 0;
  let idxExt = 0;
  let byteNew = false;
  for (const p of P) {
    if (p.kind === 'reg') {
      if (ext(p.name)) regExt++;
      if (/^%(spl|bpl|sil|dil)$/.test(p.name)) byteNew = true;
    } else if (p.kind === 'mem') {
      if (p.base && ext(p.base)) regExt++;
      if (p.index && ext(p.index)) idxExt++;
    }
  }
  if (rex === 0x40) return !byteNew && regExt === 0;
  const rb = (rex & 4 ? 1 : 0) + (rex & 1 ? 1 : 0);
  if (rb > regExt) return true;
  if (rex & 2 && idxExt === 0) return true;
  if (rex & 8) {
    const w64 = suffix === 'q' || regSizes.some((s) => s === 64) || W_MNEMONICS.test(name) || /^(movq|movabs|cmpxchg16b)$/.test(name);
    if (!w64 || DEFAULT64.test(name)) return true;
  }
  return false;
}

/** Instructions capstone 5.0 does not know (or names differently), by exact bytes. */
const SPECIAL: { bytes: number[]; mnemonic: string; operands?: string }[] = [
  { bytes: [0x0f, 0x01, 0xc8], mnemonic: 'monitor', operands: '%rax,%ecx,%edx' },
  { bytes: [0x0f, 0x01, 0xc9], mnemonic: 'mwait', operands: '%eax,%ecx' },
  { bytes: [0x0f, 0x01, 0xfa], mnemonic: 'monitorx', operands: '%rax,%ecx,%edx' },
  { bytes: [0x0f, 0x01, 0xfb], mnemonic: 'mwaitx', operands: '%eax,%ecx,%ebx' },
  { bytes: [0x0f, 0x01, 0xe8], mnemonic: 'serialize' },
  { bytes: [0xc4, 0xe2, 0x78, 0x49, 0xc0], mnemonic: 'tilerelease' },
  { bytes: [0xf3, 0x0f, 0x01, 0xd9], mnemonic: 'vmgexit' },
  { bytes: [0xf3, 0x0f, 0x01, 0xfe], mnemonic: 'rmpadjust' },
  { bytes: [0xf2, 0x0f, 0x01, 0xfe], mnemonic: 'rmpupdate' },
  { bytes: [0xf2, 0x0f, 0x01, 0xff], mnemonic: 'pvalidate' },
  { bytes: [0xf3, 0x0f, 0x01, 0xff], mnemonic: 'psmash' },
  { bytes: [0x0f, 0x01, 0xca], mnemonic: 'clac' },
  { bytes: [0x0f, 0x01, 0xcb], mnemonic: 'stac' },
  { bytes: [0xf3, 0x0f, 0x01, 0xe8], mnemonic: 'setssbsy' },
  { bytes: [0x0f, 0x01, 0xc6], mnemonic: 'wrmsrns' },
  { bytes: [0xf3, 0x0f, 0x01, 0xef], mnemonic: 'rmpquery' },
  { bytes: [0x0f, 0x01, 0xd6], mnemonic: 'xtest' },
  { bytes: [0xf2, 0x0f, 0x01, 0xe8], mnemonic: 'xsusldtrk' },
  { bytes: [0xf2, 0x0f, 0x01, 0xe9], mnemonic: 'xresldtrk' },
];

function specialInsn(b: Uint8Array, o: number): { size: number; mnemonic: string; operands?: string } | null {
  const x = b[o];
  if (x !== 0x0f && x !== 0xf3 && x !== 0xf2 && x !== 0xc4) return null;
  outer: for (const s of SPECIAL) {
    if (o + s.bytes.length > b.length) continue;
    for (let k = 0; k < s.bytes.length; k++) if (b[o + k] !== s.bytes[k]) continue outer;
    return { size: s.bytes.length, mnemonic: s.mnemonic, operands: s.operands };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Operands

type Operand =
  | { kind: 'reg'; name: string; star: boolean }
  | { kind: 'imm'; value: bigint }
  | { kind: 'addr'; value: bigint } // a direct branch target
  | { kind: 'mem'; seg: string; disp: bigint | null; base: string; index: string; scale: string; star: boolean; abs: boolean };

function parseNum(s: string): bigint | null {
  const m = /^(-)?(0x[0-9a-f]+|[0-9]+)$/i.exec(s.trim());
  if (!m) return null;
  const v = BigInt(m[2]);
  return m[1] ? -v : v;
}

function splitOperands(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function parseOperand(s: string): Operand | null {
  s = s.replace(/^(byte|word|dword|qword|tbyte|xmmword|ymmword|zmmword) ptr /, '');
  let star = false;
  if (s.startsWith('*')) {
    star = true;
    s = s.slice(1);
  }
  if (s.startsWith('$')) {
    const v = parseNum(s.slice(1));
    return v === null ? null : { kind: 'imm', value: v };
  }
  let seg = '';
  const sm = /^%([cdefgs]s):(.*)$/.exec(s);
  if (sm) {
    seg = sm[1];
    s = sm[2];
  }
  if (!seg && /^%[a-z0-9()]+$/.test(s)) return { kind: 'reg', name: s, star };
  const mm = /^([^(]*)\(([^)]*)\)$/.exec(s);
  if (mm) {
    let disp = mm[1] ? parseNum(mm[1]) : null;
    if (mm[1] && disp === null) return null;
    if (disp !== null) disp = BigInt.asIntN(32, disp); // displacements are at most 32 bits, signed
    const parts = mm[2].split(',').map((x) => x.trim());
    return { kind: 'mem', seg, disp, base: parts[0] ?? '', index: parts[1] ?? '', scale: parts[2] ?? '', star, abs: false };
  }
  const v = parseNum(s);
  if (v === null) return null;
  if (seg || star) return { kind: 'mem', seg, disp: v, base: '', index: '', scale: '', star, abs: true };
  return { kind: 'addr', value: v & MASK64 };
}

function regSize(r: string): number {
  const n = r.slice(1);
  if (/^r(ax|bx|cx|dx|si|di|sp|bp|ip|[0-9]+)$/.test(n)) return 64;
  if (/^e(ax|bx|cx|dx|si|di|sp|bp)$/.test(n) || /^r[0-9]+d$/.test(n)) return 32;
  if (/^(ax|bx|cx|dx|si|di|sp|bp)$/.test(n) || /^r[0-9]+w$/.test(n)) return 16;
  if (/^([abcd][lh]|sil|dil|spl|bpl)$/.test(n) || /^r[0-9]+b$/.test(n)) return 8;
  if (/^[c-gs]s$/.test(n)) return 16; // segment registers
  return 0; // control, debug, vector, x87 registers
}

function hexSigned(v: bigint): string {
  return v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}

function formatMem(m: Extract<Operand, { kind: 'mem' }>, printSeg: boolean, hasDisp: boolean): string {
  let s = m.star ? '*' : '';
  if (printSeg && m.seg) s += `%${m.seg}:`;
  if (m.abs) return s + '0x' + ((m.disp ?? 0n) & MASK64).toString(16);
  let disp = m.disp;
  if (disp === null && hasDisp) disp = 0n;
  if (disp !== null) s += m.base ? hexSigned(disp) : hexSigned(disp);
  s += '(' + m.base;
  if (m.index) s += ',' + m.index + ',' + (m.scale || '1');
  return s + ')';
}

// ---------------------------------------------------------------------------------------------
// Mnemonics

/** base mnemonics that take an AT&T size suffix, which objdump prints only when no register sizes the operation */
const SUFFIXED = new Set(
  (
    'mov add sub and or xor cmp test adc sbb inc dec neg not mul imul div idiv shl shr sar sal rol ror rcl rcr ' +
    'shld shrd push pop lea movnti xchg xadd cmpxchg bt bts btr btc bsf bsr bswap tzcnt lzcnt popcnt movbe crc32 ' +
    'in out lar lsl rdfsbase wrfsbase rdgsbase wrgsbase rdrand rdseed rdpid sldt str smsw lmsw ltr lldt verr verw ' +
    'lgdt lidt sgdt sidt nop adcx adox andn bextr blsi blsmsk blsr bzhi mulx pdep pext rorx sarx shlx shrx ' +
    'cmovo cmovno cmovb cmovae cmove cmovne cmovbe cmova cmovs cmovns cmovp cmovnp cmovl cmovge cmovle cmovg ' +
    'call jmp ret lret movs stos lods scas cmps ins outs'
  ).split(' '),
);
/** size suffix kept by objdump even when memory is the only operand: none of these print it */
const NO_SUFFIX_EVER = new Set(['call', 'jmp', 'push', 'pop', 'lgdt', 'lidt', 'sgdt', 'sidt', 'ltr', 'lldt', 'str', 'sldt', 'verr', 'verw', 'lar', 'lsl', 'smsw', 'lmsw']);
/** capstone mnemonics renamed outright */
const RENAME: Record<string, string> = {
  retq: 'ret',
  pushfq: 'pushf',
  popfq: 'popf',
  leaveq: 'leave',
  movabsq: 'movabs',
  wait: 'fwait',
  ljmpl: 'ljmp',
  lcalll: 'lcall',
  iretq: 'iretq',
  lretq: 'lretq',
  lretl: 'lret',
  iretl: 'iret',
  movabsb: 'movabs',
  movabsw: 'movabs',
  movabsl: 'movabs',
  sysretq: 'sysretq',
};
/** 0f-map instructions where 66 is part of the opcode, not an operand-size prefix */
const MANDATORY_66 = new Set(['clflushopt', 'clwb', 'tpause', 'umonitor', 'pcommit']);
const STRING_OPS = /^(movs|stos|lods|scas|cmps|ins|outs)[bwlq]?$/;
const SHIFTS = /^(shl|shr|sar|sal|rol|ror|rcl|rcr|shld|shrd)$/;

function splitSuffix(m: string): { base: string; suffix: string } {
  if (SUFFIXED.has(m)) return { base: m, suffix: '' };
  const last = m[m.length - 1];
  if ('bwlq'.includes(last) && SUFFIXED.has(m.slice(0, -1))) return { base: m.slice(0, -1), suffix: last };
  return { base: m, suffix: '' };
}

const SUFFIX_BITS: Record<string, number> = { b: 8, w: 16, l: 32, q: 64 };

/** Rewrite one capstone instruction (AT&T) into objdump's text. */
function normalize(csMnemonic: string, opStr: string, bytes: Uint8Array, address: bigint): Insn {
  const d = decodeHead(bytes);
  const words = csMnemonic.trim().split(/\s+/);
  let mn = words[words.length - 1];
  const csPrefixes = words.slice(0, -1); // lock, rep, repne, notrack, bnd, xacquire...
  const ops = splitOperands(opStr);
  const parsed = ops.map(parseOperand);
  const insn: Insn = { address, size: bytes.length, bytes, mnemonic: '', operands: '', text: '' };
  if (parsed.some((p) => p === null)) {
    // an operand we do not understand: keep capstone's text, only the separators changed
    insn.mnemonic = csMnemonic;
    insn.operands = ops.join(',');
    return insn;
  }
  const P = parsed as Operand[];
  const op0 = d.opcode[0];
  const vector = P.some((p) => p.kind === 'reg' && /^%([xyz]mm|mm|k|st)/.test(p.name));

  // --- special forms
  if (!d.vex && d.opcode.length === 1 && op0 === 0x90 && !(d.rex & 1)) {
    if (d.prefixes.includes(0xf3)) mn = 'pause';
    else if (d.prefixes.includes(0x66)) {
      mn = 'xchg';
      P.splice(0, P.length, { kind: 'reg', name: '%ax', star: false }, { kind: 'reg', name: '%ax', star: false });
    } else if (d.rex & 8) {
      mn = 'xchg';
      P.splice(0, P.length, { kind: 'reg', name: '%rax', star: false }, { kind: 'reg', name: '%rax', star: false });
    } else mn = 'nop';
  }

  // capstone calls the /4 shift `sal`, objdump `shl`
  if (/^sal[bwlq]?$/.test(mn)) mn = mn.replace(/^sal/, 'shl');
  if (!d.vex && d.opcode.length === 1 && op0 >= 0xd8 && op0 <= 0xdf && d.modrm >= 0xc0) x87Registers(op0, d.modrm, P);
  if (mn === 'fucompi') mn = 'fucomip';
  else if (mn === 'fcompi') mn = 'fcomip';
  if (mn === 'xlatb' && P.length === 0) {
    mn = 'xlat';
    P.push({ kind: 'mem', seg: 'ds', disp: null, base: '%rbx', index: '', scale: '', star: false, abs: false });
  }
  // shifts and rotates by one (d0/d1): objdump prints no count
  if (!d.vex && d.opcode.length === 1 && (op0 === 0xd0 || op0 === 0xd1) && P.length === 2 && P[0].kind === 'imm') P.shift();
  // ins/outs: capstone drops the size suffix, objdump keeps it (the operands are implicit)
  let keepMnemonic = false;
  if (/^(outs|ins)[bwl]?$/.test(mn) && d.opcode.length === 1) {
    mn = mn.replace(/[bwl]$/, '') + (op0 & 1 ? (d.prefixes.includes(0x66) ? 'w' : 'l') : 'b');
    keepMnemonic = true;
  }

  // --- mnemonic
  let { base, suffix } = splitSuffix(mn);
  const regSizes = P.map((p, k) => {
    if (p.kind !== 'reg') return 0;
    // a shift count in %cl and the port in %dx do not say the operand size
    if (p.name === '%cl' && SHIFTS.test(base) && k === 0 && P.length > 1) return 0;
    if (p.name === '%dx' && /^(in|out)s?$/.test(base)) return 0;
    return regSize(p.name);
  });
  const sized = regSizes.some((s) => s > 0);
  let opSize = suffix ? SUFFIX_BITS[suffix] : Math.max(0, ...regSizes);
  if (!suffix && sized) {
    // the size of the destination (last) register, for immediates
    for (let k = P.length - 1; k >= 0; k--) if (regSizes[k]) { opSize = regSizes[k]; break; }
  }
  let name = mn;
  if (keepMnemonic) name = mn;
  else if (RENAME[mn] !== undefined) name = RENAME[mn];
  else if (suffix && !vector) {
    if (sized || NO_SUFFIX_EVER.has(base)) name = base;
    else if (STRING_OPS.test(mn) && P.length && P.every((p) => p.kind === 'reg' || p.kind === 'mem') && P.some((p) => p.kind === 'reg')) name = base;
    else name = mn;
  }
  if (/^(in|out)s?$/.test(base) && !vector) {
    if (base === 'in' || base === 'out') name = base;
    for (const p of P) if (p.kind === 'reg' && p.name === '%dx') (p as any).portDx = true;
  }
  if (base === 'push' && suffix === 'q') opSize = 64;

  // --- operands
  const hasDisp = modrmHasDisp(d, bytes);
  const strings = STRING_OPS.test(mn) || /^(movs|stos|lods|scas|cmps|ins|outs|xlat)$/.test(base);
  if (strings) {
    // objdump names the implicit segments: %ds:(%rsi), %es:(%rdi)
    for (const p of P) {
      if (p.kind !== 'mem' || p.seg) continue;
      if (/^%[er]?si$/.test(p.base)) p.seg = 'ds';
      else if (/^%[er]?di$/.test(p.base)) p.seg = 'es';
    }
  }
  const segWords: string[] = [];
  const opTexts: string[] = [];
  const isBranch = /^(call|jmp|j[a-z]+|loop[a-z]*|jrcxz|jecxz|xbegin)$/.test(name);
  for (const p of P) {
    switch (p.kind) {
      case 'reg':
        opTexts.push((p.star ? '*' : '') + ((p as any).portDx ? '(%dx)' : p.name.replace(/^%dr([0-7])$/, '%db$1')));
        break;
      case 'imm': {
        let v = p.value;
        const bits = name === 'enter' ? (opTexts.length ? 8 : 16) : /^(ret|lret|lretq|lretl)$/.test(name) ? 16 : opSize || 64;
        if (v < 0n) v &= (1n << BigInt(bits)) - 1n;
        opTexts.push('$0x' + v.toString(16));
        break;
      }
      case 'addr':
        opTexts.push('0x' + p.value.toString(16));
        if (isBranch) {
          insn.target = p.value;
          insn.targetKind = 'branch';
        }
        break;
      case 'mem': {
        // in 64-bit mode cs/ds/es/ss overrides do nothing: objdump prints them as prefixes,
        // except the implicit %es:(%rdi) / %ds:(%rsi) of string instructions
        let printSeg = !!p.seg;
        if (p.seg && p.seg !== 'fs' && p.seg !== 'gs' && !strings) printSeg = false;
        opTexts.push(formatMem(p, printSeg, hasDisp && !strings && !p.abs));
        if (p.base === '%rip') {
          insn.target = (address + BigInt(bytes.length) + (p.disp ?? 0n)) & MASK64;
          insn.targetKind = 'memory';
        }
        break;
      }
    }
  }

  // --- prefixes as objdump prints them, in byte order
  const printed: string[] = [];
  const n66 = d.prefixes.filter((x) => x === 0x66).length;
  const uses66 =
    opSize === 16 ||
    suffix === 'w' ||
    /^(cbtw|cwtd|cwtl|pushfw|popfw|iretw|lretw)$/.test(mn) ||
    (d.opcode[0] === 0x0f && !d.vex && (vector || d.opcode.length === 3 || MANDATORY_66.has(base)));
  let skip66 = uses66 ? 1 : 0;
  let remaining66 = n66;
  const lastSeg = [...d.prefixes].reverse().find((x) => SEG_PREFIX[x] !== undefined);
  for (const x of d.prefixes) {
    if (x === 0x66) {
      remaining66--;
      if (remaining66 < skip66) {
        skip66--;
        continue;
      }
      printed.push('data16');
    } else if (x === 0xf0) printed.push('lock');
    else if (x === 0xf2 || x === 0xf3) {
      const w = csPrefixes.find((p) => /^(rep|repne|repe|repz|repnz|bnd|xacquire|xrelease)$/.test(p));
      if (w && x === 0xf3 && (w === 'rep' || w === 'repe' || w === 'repz')) printed.push(/^(cmps|scas)/.test(base) ? 'repz' : 'rep');
      else if (w && x === 0xf2 && (w === 'repne' || w === 'repnz')) printed.push('repnz');
      else if (w === 'bnd' && x === 0xf2) printed.push('bnd');
      else if (!w && (name === 'ret' || isBranch) && x === 0xf2) printed.push('bnd');
      else if (!w && d.opcode.length === 1 && !d.vex && name !== 'pause') printed.push(x === 0xf3 ? 'repz' : 'repnz');
    } else if (SEG_PREFIX[x] !== undefined) {
      const s = SEG_PREFIX[x];
      const usedInOperand = x === lastSeg && P.some((p) => p.kind === 'mem' && p.seg === s && (s === 'fs' || s === 'gs' || strings));
      if (x === 0x3e && csPrefixes.includes('notrack')) printed.push('notrack');
      else if (!usedInOperand) printed.push(s);
    } else if (x === 0x67) {
      if (!P.some((p) => p.kind === 'mem' && !p.abs)) printed.push('addr32');
    }
  }
  for (const w of csPrefixes) if (w === 'lock' && !d.prefixes.includes(0xf0)) printed.push('lock');
  if (d.rex && !d.vex && rexUnused(d, P, name, suffix, regSizes)) printed.push(rexName(d.rex));

  insn.mnemonic = [...printed, ...segWords, name].join(' ');
  insn.operands = opTexts.join(',');
  return insn;
}

// ---------------------------------------------------------------------------------------------
// crash's `dis` layout

export interface FormatOptions {
  symbolize?: Symbolize;
  /** mark this instruction (the faulting one), like scripts/decodecode: `<-- trapping instruction` */
  markAddress?: bigint;
}

/**
 * Lines as crash's `dis` prints them:
 * `0xffffffff817c0b10 <skb_release_data>:\tnopl   0x0(%rax,%rax,1) [FTRACE NOP]`.
 * The `[FTRACE NOP]` tag goes on the 5-byte nop at offset 0 of a function (where ftrace patched
 * out the call to __fentry__), as crash does.
 */
export function formatDis(insns: Insn[], opts: FormatOptions = {}): string {
  const lines: string[] = [];
  for (const i of insns) {
    const s = opts.symbolize?.(i.address);
    let line = '0x' + i.address.toString(16).padStart(16, '0');
    if (s) line += ' ' + symText(s);
    // with a symbolizer, name the targets too (the insns may have been decoded without one)
    line += ':\t' + (opts.symbolize && !i.bad ? finish({ ...i }, opts.symbolize).text : i.text);
    if (s && s.offset === 0 && isFtraceNop(i)) line += ' [FTRACE NOP]';
    if (opts.markAddress !== undefined && i.address === opts.markAddress) line += '   <-- trapping instruction';
    lines.push(line);
  }
  return lines.join('\n');
}

/** `nopl 0x0(%rax,%rax,1)`: 0f 1f 44 00 00, the 5-byte nop ftrace writes over `call __fentry__` */
export function isFtraceNop(i: Insn): boolean {
  const b = i.bytes;
  return b.length === 5 && b[0] === 0x0f && b[1] === 0x1f && b[2] === 0x44 && b[3] === 0 && b[4] === 0;
}

/** objdump-style line without symbols (`addr:\ttext`), for comparisons in tests */
export function objdumpLine(i: Insn): string {
  return `${i.address.toString(16)}:\t${i.text}`;
}
