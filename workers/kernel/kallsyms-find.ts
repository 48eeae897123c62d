import { DumpError, MemoryError, expectedError } from '../errors';
import { u16, u32, u64, i32 } from '../bytes';
import { START_KERNEL_MAP } from '../arch/x86_64';
import type { KernelMemory } from './memory';
import type { VmcoreInfo } from './vmcoreinfo';
import { newArena } from './bulk';

/**
 * Where the kallsyms tables are when VMCOREINFO does not say (kernels before 6.0): found in the
 * kernel image's read-only data by their shape, then validated against symbols whose values the
 * dump states elsewhere.
 *
 * Facts used (scripts/kallsyms.c, which writes these tables as assembler): every table label is
 * aligned to 8 bytes; kallsyms_token_table holds 256 NUL-terminated strings, and the token of
 * index c for every character c used in symbol names is that character alone, so "0\0" "1\0" ...
 * "9\0" appear in a row; kallsyms_token_index (256 u16 offsets into the token table) follows the
 * token table. Before the token table come kallsyms_markers (the offset in kallsyms_names of
 * every 256th entry, u32 since 4.20, pointer-sized before; markers[0] = 0), before them
 * kallsyms_names, before that kallsyms_num_syms. The address table comes before num_syms up to
 * 5.19 (kallsyms_addresses: absolute pointers; or kallsyms_offsets: u32 per symbol, then
 * kallsyms_relative_base, a pointer) and after kallsyms_token_index since then.
 *
 * A candidate is accepted only when the decoded _stext has SYMBOL(_stext)'s address and, where
 * VMCOREINFO or memory can check them, init_uts_ns has its VMCOREINFO address and linux_banner's
 * bytes begin with "Linux version " + OSRELEASE.
 */
export interface KallsymsLocation {
  namesAddr: bigint;
  num: number;
  tokTable: bigint;
  tokIndex: bigint;
  offsetsAddr?: bigint;
  relBaseAddr?: bigint;
  addressesAddr?: bigint;
  /** how they were found, and what was checked (for `sys`/diagnostics) */
  how: string;
}

/** what kallsyms.ts's name index allocates beside the names in its arena: per entry, and in all */
export const KALLSYMS_INDEX_BYTES_PER_ENTRY = 16;
export const KALLSYMS_INDEX_EXTRA = 8192;

const DIGITS = new Uint8Array([0x30, 0, 0x31, 0, 0x32, 0, 0x33, 0, 0x34, 0, 0x35, 0, 0x36, 0, 0x37, 0, 0x38, 0, 0x39, 0]);
const MB2 = 0x200000n;
const NX = 1n << 63n;
/** the kallsyms tables of a kernel with 5 million symbols still fit */
const SCAN_LIMIT = 256n << 20n;

const align8 = (a: bigint): bigint => (a + 7n) & ~7n;

/**
 * The start of the kernel's read-only data: the first 2 MiB-aligned address after _stext mapped
 * no-execute (x86_64 aligns __start_rodata to a huge page, and mark_rodata_ro maps it NX). Falls
 * back to _stext when the page tables do not say.
 */
export function rodataStart(mem: KernelMemory, stext: bigint): bigint {
  let va = (stext + MB2 - 1n) & ~(MB2 - 1n);
  for (let i = 0; i < 64; i++, va += MB2) {
    try {
      const tr = mem.arch.walk(va);
      if (tr.steps[tr.steps.length - 1].value & NX) return va;
    } catch (e) {
      expectedError(e);
      /* unmapped or page table not in the dump: keep going */
    }
  }
  return stext;
}

const SCAN_CHUNK = 64 * 1024;
/** whole chunks the scan keeps (the tables sit right before the token table it stops at) */
const SCAN_KEEP = 96;

/**
 * The scan's whole chunks, the last SCAN_KEEP of them: kallsyms_names (1-2 MB) lies just before
 * the token table the scan finds, so reading it for the check is served from here instead of
 * decoding its pages a second time.
 */
class ScanChunks {
  private chunks = new Map<bigint, Uint8Array>();
  constructor(
    private mem: KernelMemory,
    private from: bigint,
  ) {}

  keep(va: bigint, b: Uint8Array): void {
    this.chunks.set(va, b);
    if (this.chunks.size > SCAN_KEEP) this.chunks.delete(this.chunks.keys().next().value!);
  }

  /** len bytes at va, from the chunks when they hold them all, else from memory; null unless whole */
  tryRead(va: bigint, len: number): Uint8Array | null {
    const ch = BigInt(SCAN_CHUNK);
    if (va < this.from) return this.mem.tryRead(va, len);
    const out = new Uint8Array(len);
    for (let pos = 0; pos < len; ) {
      const at = va + BigInt(pos);
      const base = this.from + ((at - this.from) / ch) * ch;
      const c = this.chunks.get(base);
      if (!c) return this.mem.tryRead(va, len);
      const o = Number(at - base);
      const n = Math.min(len - pos, SCAN_CHUNK - o);
      out.set(c.subarray(o, o + n), pos);
      pos += n;
    }
    return out;
  }
}

/** Find the token table: every place where "0\0" ... "9\0" occurs, scanning forward from `from`. */
function* digitRuns(mem: KernelMemory, from: bigint, to: bigint, kept: ScanChunks): Generator<bigint> {
  const CH = SCAN_CHUNK;
  let missing = 0;
  for (let va = from; va < to; va += BigInt(CH)) {
    const whole = mem.tryRead(va, CH + DIGITS.length);
    const b = whole ?? readSome(mem, va, CH + DIGITS.length);
    if (!b) {
      if (++missing > 64) return; // 4 MiB of nothing: out of the image
      continue;
    }
    if (whole) kept.keep(va, whole.subarray(0, CH));
    missing = 0;
    const n = Math.min(b.length - DIGITS.length, CH);
    for (let i = b.indexOf(0x30); i >= 0 && i < n; i = b.indexOf(0x30, i + 1)) {
      if (b[i + 1] !== 0 || b[i + 2] !== 0x31) continue;
      let k = 3;
      while (k < DIGITS.length && b[i + k] === DIGITS[k]) k++;
      if (k === DIGITS.length) yield va + BigInt(i);
    }
  }
}

/** Up to len bytes at va; pages that cannot be read become zeros, null when none can. */
export function readSome(mem: KernelMemory, va: bigint, len: number): Uint8Array | null {
  const whole = mem.tryRead(va, len);
  if (whole) return whole;
  const out = new Uint8Array(len);
  let any = false;
  for (let pos = 0; pos < len; ) {
    const cur = va + BigInt(pos);
    const n = Math.min(len - pos, 4096 - Number(cur & 0xfffn));
    const b = mem.tryRead(cur, n);
    if (b) {
      out.set(b, pos);
      any = true;
    }
    pos += n;
  }
  return any ? out : null;
}

interface TokenTables {
  tokTable: bigint;
  tokIndex: bigint;
  tokens: string[];
}

/** no token of kallsyms_token_table is longer (scripts/kallsyms.c merges pairs of pairs) */
const MAX_TOKEN = 256;

/** Where `count` NUL-terminated tokens starting at b[0] end, or -1 when one is longer than MAX_TOKEN or b ends first. */
function pastTokens(b: Uint8Array, count: number): number {
  let pos = 0;
  for (let t = 0; t < count; t++) {
    const z = b.indexOf(0, pos);
    if (z < 0 || z - pos > MAX_TOKEN) return -1;
    pos = z + 1;
  }
  return pos;
}

/** The token table whose '0' token is at `zero`, with its index after it; null when the shape is off. */
function tokenTablesAt(mem: KernelMemory, zero: bigint): TokenTables | null {
  // tokens 0x30..0xff follow '0'; the index starts at the next 8-byte boundary after the last
  const after = mem.tryRead(zero, 16 * 1024);
  if (!after) return null;
  const pos = pastTokens(after, 256 - 0x30);
  if (pos < 0) return null;
  const tokIndex = align8(zero + BigInt(pos));
  const idx = mem.tryRead(tokIndex, 512);
  if (!idx) return null;
  const off0 = u16(idx, 0x30 * 2);
  if (u16(idx, 0) !== 0 || off0 > 16 * 1024) return null;
  const tokTable = zero - BigInt(off0);
  const table = mem.tryRead(tokTable, Number(tokIndex - tokTable));
  if (!table) return null;
  const tokens: string[] = new Array(256);
  const dec = new TextDecoder('latin1');
  for (let t = 0; t < 256; t++) {
    const s = u16(idx, t * 2);
    const e = t < 255 ? u16(idx, t * 2 + 2) - 1 : table.indexOf(0, s);
    if (e < s || e >= table.length || table[e] !== 0 || table.subarray(s, e).includes(0)) return null;
    tokens[t] = dec.decode(table.subarray(s, e));
  }
  return { tokTable, tokIndex, tokens };
}

/** kallsyms_markers ending at `end` (the token table, maybe with padding), as u32 or u64 entries. */
function markersBefore(mem: Pick<KernelMemory, 'tryRead'>, end: bigint, width: 4 | 8): { at: bigint; m: number[] } | null {
  const WIN = 96 * 1024;
  const start = end - BigInt(WIN);
  const b = mem.tryRead(start, WIN);
  if (!b) return null;
  const get = (o: number): number => (width === 4 ? u32(b, o) : Number(u64(b, o)));
  let o = WIN - width;
  // alignment padding before the next label
  let pad = 0;
  while (o >= 0 && get(o) === 0 && pad < 8) {
    o -= width;
    pad += width;
  }
  const m: number[] = [];
  let prev = Infinity;
  for (; o >= 0; o -= width) {
    const v = get(o);
    if (v >= prev) return null;
    m.push(v);
    prev = v;
    if (v === 0) break;
  }
  if (prev !== 0 || m.length < 1) return null;
  m.reverse();
  return { at: start + BigInt(o), m };
}

/**
 * Since 6.2 kallsyms_seqs_of_names (3 bytes per symbol) sits between the markers and the token
 * table: find the end E of u32 markers such that the table from E to the token table holds
 * exactly 3 * num bytes (8-aligned) for a num that needs as many markers as end at E.
 */
function markersBeforeSeqs(mem: KernelMemory, tokTable: bigint): Array<{ at: bigint; m: number[] }> {
  const WIN = 4 << 20;
  const start = tokTable - BigInt(WIN);
  const b = readSome(mem, start, WIN);
  if (!b) return [];
  const out: Array<{ at: bigint; m: number[] }> = [];
  for (let e = WIN - 8; e > 16; e -= 8) {
    const span = WIN - e;
    for (let num = Math.ceil((span - 7) / 3); num * 3 <= span; num++) {
      if (((num * 3 + 7) & ~7) !== span || num < 1) continue;
      const nm = Math.ceil(num / 256);
      // the markers' last entry sits right before e, or 4 bytes earlier (padding)
      for (const endAt of [e, e - 4]) {
        const first = endAt - nm * 4;
        if (first < 0 || u32(b, first) !== 0) continue;
        let ok = true;
        for (let k = 1; k < nm && ok; k++) ok = u32(b, first + k * 4) > u32(b, first + (k - 1) * 4);
        if (ok) out.push({ at: start + BigInt(first), m: Array.from({ length: nm }, (_, k) => u32(b, first + k * 4)) });
      }
    }
    if (out.length >= 4) break;
  }
  return out;
}

/** Markers as u32 right before the token table (4.20 to 6.1), as u64 (before 4.20), then after kallsyms_seqs_of_names (6.2+). */
function* markerCandidates(mem: KernelMemory, tokTable: bigint, kept?: ScanChunks): Generator<{ at: bigint; m: number[] }> {
  const m4 = markersBefore(kept ?? mem, tokTable, 4);
  if (m4) yield m4;
  const m8 = markersBefore(kept ?? mem, tokTable, 8);
  if (m8) yield m8;
  yield* markersBeforeSeqs(mem, tokTable);
}

/** Walk `count` kallsyms_names entries from byte `pos`; the position after them, or -1. */
function skipEntries(buf: Uint8Array, pos: number, count: number): number {
  for (let i = 0; i < count; i++) {
    if (pos >= buf.length) return -1;
    let len = buf[pos++];
    if (len & 0x80) len = (len & 0x7f) | (buf[pos++] << 7);
    if (len === 0 || pos + len > buf.length) return -1;
    pos += len;
  }
  return pos;
}

interface NamesFound {
  namesAddr: bigint;
  numAddr: bigint;
  num: number;
  names: Uint8Array;
}

/** kallsyms_num_syms and kallsyms_names before the markers, checked against every marker. */
function namesBefore(mem: KernelMemory, markers: { at: bigint; m: number[] }, kept?: ScanChunks): NamesFound | null {
  const nm = markers.m.length;
  const last = markers.m[nm - 1];
  const lo = (nm - 1) * 256 + 1;
  const hi = nm * 256;
  const slack = 256 * 520 + 16; // the last block: 256 entries of at most 2 + 512 bytes, padding
  const winStart = (markers.at - BigInt(last + slack)) & ~7n;
  // a window read whole holds the table itself (no second read of its ~1-2 MB); one with holes
  // (zeros) is only for finding the extent, then the table is read and must be whole
  const whole = (kept ?? mem).tryRead(winStart, Number(markers.at - winStart));
  const win = whole ?? readSome(mem, winStart, Number(markers.at - winStart));
  if (!win) return null;
  // num_syms (a .long) is 8-aligned and kallsyms_names starts at the next 8-byte boundary; newer
  // kernels emit the labels unaligned (names right after the 4-byte count)
  const top = Number(markers.at - winStart) - last - 8;
  for (let p = top - (top % 4); p >= 0; p -= 4) {
    const num = u32(win, p);
    if (num < lo || num > hi) continue;
    const names = p % 8 === 0 && u32(win, p + 4) === 0 && win[p + 8] !== 0 ? p + 8 : p + 4;
    if (names + last >= win.length) continue;
    // the last block begins at markers[nm-1] and its entries end before the markers
    const end = skipEntries(win, names + last, num - (nm - 1) * 256);
    if (end < 0 || win.length - end >= 8) continue;
    const namesAddr = winStart + BigInt(names);
    // every marker: read the whole table now that its extent is known
    const buf = whole ? whole.subarray(names, end) : mem.tryRead(namesAddr, end - names);
    if (!buf) continue;
    let pos = 0;
    let ok = true;
    for (let k = 1; k < nm && ok; k++) {
      pos = skipEntries(buf, pos, 256);
      ok = pos === markers.m[k];
    }
    if (ok) return { namesAddr, numAddr: winStart + BigInt(p), num, names: buf };
  }
  return null;
}

/**
 * Index of each wanted name in kallsyms_names (one pass, comparing token by token). An entry's
 * first token is its type letter and what follows; what follows (or, when nothing does, the
 * second token) must begin the name, which rules out almost every entry by a table lookup.
 */
function indexesOf(buf: Uint8Array, num: number, tokens: string[], wanted: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const after = new Uint8Array(256); // bit k: the token's tail begins wanted[k]
  const begins = new Uint8Array(256); // bit k: the token begins wanted[k]
  const letterOnly = new Uint8Array(256);
  for (let t = 0; t < 256; t++) {
    const tok = tokens[t] ?? '';
    letterOnly[t] = tok.length === 1 ? 1 : 0;
    wanted.forEach((w, k) => {
      if (tok.length > 1 && w.startsWith(tok.slice(1))) after[t] |= 1 << k;
      if (tok.length > 0 && w.startsWith(tok)) begins[t] |= 1 << k;
    });
  }
  let pos = 0;
  for (let i = 0; i < num && out.size < wanted.length; i++) {
    let len = buf[pos++];
    if (len & 0x80) len = (len & 0x7f) | (buf[pos++] << 7);
    const t0 = buf[pos];
    const may = letterOnly[t0] ? (len > 1 ? begins[buf[pos + 1]] : 0) : after[t0];
    if (may) {
      for (let k = 0; k < wanted.length; k++) {
        const w = wanted[k];
        if (may & (1 << k) && !out.has(w) && entryIs(buf, pos, len, tokens, w)) out.set(w, i);
      }
    }
    pos += len;
  }
  return out;
}

/** Whether the entry of `len` token bytes at pos expands to a type letter followed by name. */
function entryIs(buf: Uint8Array, pos: number, len: number, tokens: string[], name: string): boolean {
  let c = -1; // -1: the type letter comes first
  for (let j = 0; j < len; j++) {
    const t = tokens[buf[pos + j]];
    for (let q = 0; q < t.length; q++, c++) {
      if (c < 0) continue;
      if (c >= name.length || t.charCodeAt(q) !== name.charCodeAt(c)) return false;
    }
  }
  return c === name.length;
}

/** The address table candidates, each decoding index i; the first that gives _stext wins. */
function addressCandidates(
  mem: KernelMemory,
  n: NamesFound,
  tok: TokenTables,
  stext: bigint,
  stextIdx: number,
): Array<{ loc: Partial<KallsymsLocation>; address: (i: number) => bigint | null; label: string }> {
  const out: Array<{ loc: Partial<KallsymsLocation>; address: (i: number) => bigint | null; label: string }> = [];
  const sb = mem.tryRead(tok.tokIndex + 512n + BigInt(stextIdx * 4), 4);
  const impliedBase = sb ? stext - BigInt(u32(sb, 0)) : null;
  const rel = (offsetsAddr: bigint, relBaseAddr: bigint, label: string) => {
    let relBase: bigint;
    try {
      relBase = mem.u64(relBaseAddr);
    } catch (e) {
      expectedError(e);
      return;
    }
    const off = (i: number) => {
      const b = mem.tryRead(offsetsAddr + BigInt(i * 4), 4);
      return b ? i32(b, 0) : null;
    };
    out.push({
      loc: { offsetsAddr, relBaseAddr },
      label: `${label}, kallsyms_offsets + kallsyms_relative_base (absolute per-cpu)`,
      address: (i) => {
        const o = off(i);
        return o === null ? null : o >= 0 ? BigInt(o) : BigInt.asUintN(64, relBase - 1n - BigInt(o));
      },
    });
    out.push({
      loc: { offsetsAddr, relBaseAddr },
      label: `${label}, kallsyms_offsets + kallsyms_relative_base`,
      address: (i) => {
        const o = off(i);
        return o === null ? null : BigInt.asUintN(64, relBase + BigInt(o >>> 0));
      },
    });
  };
  const abs = (addressesAddr: bigint, label: string) =>
    out.push({
      loc: { addressesAddr },
      label: `${label}, kallsyms_addresses`,
      address: (i) => {
        const b = mem.tryRead(addressesAddr + BigInt(i * 8), 8);
        return b ? u64(b, 0) : null;
      },
    });
  // up to 5.19: [addresses | offsets, relative_base] num_syms names markers token_table token_index
  const relBaseOld = n.numAddr - 8n;
  rel(relBaseOld - align8(BigInt(n.num * 4)), relBaseOld, 'before kallsyms_num_syms');
  abs(n.numAddr - BigInt(n.num * 8), 'before kallsyms_num_syms');
  // since then: ... token_table token_index [offsets relative_base | addresses]
  const afterIndex = align8(tok.tokIndex + 512n);
  rel(afterIndex, afterIndex + align8(BigInt(n.num * 4)), 'after kallsyms_token_index');
  abs(afterIndex, 'after kallsyms_token_index');
  // newest kernels: kallsyms_offsets right after the index, relative to the kernel image with
  // no kallsyms_relative_base (the base is implied by _stext; init_uts_ns/linux_banner check it)
  const offsetsAt = tok.tokIndex + 512n;
  const off = (i: number) => {
    const b = mem.tryRead(offsetsAt + BigInt(i * 4), 4);
    return b ? u32(b, 0) : null;
  };
  out.push({
    loc: { offsetsAddr: offsetsAt },
    label: 'after kallsyms_token_index, kallsyms_offsets from the image base',
    address: (i) => {
      const o = off(i);
      return o === null || impliedBase === null ? null : BigInt.asUintN(64, impliedBase + BigInt(o));
    },
  });
  return out;
}

const cache = new WeakMap<KernelMemory, KallsymsLocation | DumpError>();
/** the kallsyms_names bytes the scan read and checked (every entry), for namesBytes to reuse */
const scannedNames = new WeakMap<KernelMemory, { at: bigint; buf: Uint8Array }>();

/** The kallsyms_names bytes the scan already read at `at` (all num entries), if it did. */
export function namesFoundAt(mem: KernelMemory, at: bigint): Uint8Array | undefined {
  const s = scannedNames.get(mem);
  return s && s.at === at ? s.buf : undefined;
}

/** The kallsyms tables found in memory, or a DumpError saying what was tried. Memoized per dump. */
export function findKallsyms(mem: KernelMemory, info: VmcoreInfo): KallsymsLocation {
  let r = cache.get(mem);
  if (!r) {
    try {
      r = locateKallsyms(mem, info, { sample: true, scan: true })!;
    } catch (e) {
      if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
      r = e instanceof DumpError ? e : new DumpError(e.message);
    }
    cache.set(mem, r);
  }
  if (r instanceof DumpError) throw r;
  return r;
}

/**
 * The tables found in memory by the ways asked for (tests compare them): sampling for
 * kallsyms_offsets first, then the scan of the whole read-only data. null when sampling alone
 * finds nothing; the scan throws a DumpError saying what it tried.
 */
export function locateKallsyms(mem: KernelMemory, info: VmcoreInfo, ways: { sample: boolean; scan: boolean }): KallsymsLocation | null {
  const stext = info.symbol('_stext');
  if (stext === undefined || stext < START_KERNEL_MAP) {
    throw new DumpError('VMCOREINFO has neither kallsyms entries (kernels before 6.0) nor SYMBOL(_stext) to find the kallsyms tables by');
  }
  const from = rodataStart(mem, stext);
  const uts = info.symbol('init_uts_ns');
  const to = uts !== undefined && uts > from && uts - from < SCAN_LIMIT ? uts : from + SCAN_LIMIT;
  const want: Wanted = { stext, uts, release: info.osrelease };
  return (ways.sample ? sampled(mem, from, to, want) : null) ?? (ways.scan ? scanAll(mem, from, to, want) : null);
}

/** What a candidate must decode to: _stext (always), init_uts_ns and linux_banner where known. */
interface Wanted {
  stext: bigint;
  uts: bigint | undefined;
  release: string | undefined;
}

/**
 * The candidate's location when its address table gives _stext (and init_uts_ns, linux_banner
 * where they can be checked) the addresses the dump states; null (with why, in `rejected`) when not.
 */
function accepted(mem: KernelMemory, names: NamesFound, tok: TokenTables, want: Wanted, rejected: string[], layouts?: RegExp): KallsymsLocation | null {
  const { stext, uts, release } = want;
  const idx = indexesOf(names.names, names.num, tok.tokens, ['_stext', 'init_uts_ns', 'linux_banner']);
  const si = idx.get('_stext');
  if (si === undefined) {
    rejected.push(`token table at 0x${tok.tokTable.toString(16)}: no _stext among ${names.num} names`);
    return null;
  }
  for (const c of addressCandidates(mem, names, tok, stext, si)) {
    if (layouts && !layouts.test(c.label)) continue;
    if (c.address(si) !== stext) continue;
    const checks = ['_stext'];
    const ui = idx.get('init_uts_ns');
    if (uts !== undefined && ui !== undefined) {
      if (c.address(ui) !== uts) continue;
      checks.push('init_uts_ns');
    }
    const bi = idx.get('linux_banner');
    if (release && bi !== undefined) {
      const a = c.address(bi);
      const text = `Linux version ${release}`;
      const b = a === null ? null : mem.tryRead(a, text.length);
      if (!b || new TextDecoder('latin1').decode(b) !== text) continue;
      checks.push('linux_banner');
    }
    scannedNames.set(mem, { at: names.namesAddr, buf: names.names });
    return {
      namesAddr: names.namesAddr,
      num: names.num,
      tokTable: tok.tokTable,
      tokIndex: tok.tokIndex,
      ...c.loc,
      how: `token table at 0x${tok.tokTable.toString(16)}; ${c.label}; checked ${checks.join(', ')}`,
    };
  }
  rejected.push(`token table at 0x${tok.tokTable.toString(16)}: no address table gives _stext its VMCOREINFO address`);
  return null;
}

/** The whole read-only data scanned for the token table, then the tables before it. */
function scanAll(mem: KernelMemory, from: bigint, to: bigint, want: Wanted): KallsymsLocation {
  const rejected: string[] = [];
  let runs = 0;
  const kept = new ScanChunks(mem, from);
  for (const zero of digitRuns(mem, from, to, kept)) {
    if (++runs > 64) break;
    const tok = tokenTablesAt(mem, zero);
    if (!tok) continue;
    let names: NamesFound | null = null;
    for (const markers of markerCandidates(mem, tok.tokTable, kept)) {
      names = namesBefore(mem, markers, kept);
      if (names) break;
    }
    if (!names) {
      rejected.push(`token table at 0x${tok.tokTable.toString(16)}: no kallsyms_names/kallsyms_markers before it`);
      continue;
    }
    const loc = accepted(mem, names, tok, want, rejected);
    if (loc) return { ...loc, how: `found in memory (${loc.how})` };
  }
  throw new DumpError(
    `VMCOREINFO has no kallsyms entries (kernels before 6.0 do not export them) and no kallsyms tables were found in the kernel's read-only data from 0x${from.toString(16)} to 0x${to.toString(16)}` +
      (rejected.length ? ` (${rejected.slice(0, 3).join('; ')})` : ` (${runs} token-table candidates)`),
  );
}

// ---------------------------------------------------------------------------- sampled

const PAGE = 4096;
/** one page read every SAMPLE_STRIDE bytes: kallsyms_offsets of even a small kernel (20k symbols, 80 KiB) spans one */
const SAMPLE_STRIDE = 64 * 1024;
/** pages that look like kallsyms_offsets but lead nowhere, before the sampling gives up */
const SAMPLE_TRIES = 16;
/** the most symbols, and kallsyms_names bytes, a sampled candidate may have (the scan allows more) */
const SAMPLED_MAX_SYMS = 2_000_000;
const SAMPLED_NAMES_MAX = 64 << 20;
/** a step between consecutive symbols larger than this is not inside one kernel image */
const MAX_STEP = 1 << 24;

/**
 * Whether a page could be all kallsyms_offsets: 1024 u32 in address order, so every step between
 * neighbours is small and all of one sign (negative for the symbols kept relative to
 * kallsyms_relative_base with absolute per-cpu symbols, positive otherwise). To be taken for the
 * table when sampling (`strict`), most steps must not be zero; inside it, a page may repeat one
 * address (5.10 has a thousand symbols at one address), though not zero (padding).
 */
export function offsetsLike(b: Uint8Array, strict: boolean): boolean {
  const v = new DataView(b.buffer, b.byteOffset, PAGE);
  let up = 0;
  let down = 0;
  let prev = v.getInt32(0, true);
  for (let o = 4; o < PAGE; o += 4) {
    const cur = v.getInt32(o, true);
    const d = cur - prev;
    prev = cur;
    if (d > 0) {
      if (d > MAX_STEP || down) return false;
      up++;
    } else if (d < 0) {
      if (d < -MAX_STEP || up) return false;
      down++;
    }
  }
  return strict ? up + down >= (PAGE / 4) * 0.75 : up + down > 0 || prev !== 0;
}

/** The first page at or after `hit` (itself offsetsLike) that is not: galloping, then halving. */
function firstUnlike(mem: KernelMemory, hit: bigint, limit: bigint): bigint | null {
  const like = (va: bigint): boolean | null => {
    const b = mem.tryRead(va, PAGE);
    return b ? offsetsLike(b, false) : null;
  };
  let good = hit;
  let step = BigInt(PAGE);
  let bad: bigint;
  for (;;) {
    const va = good + step;
    if (va > limit) return null;
    const r = like(va);
    if (r === null) return null;
    if (!r) {
      bad = va;
      break;
    }
    good = va;
    step *= 2n;
  }
  while (bad - good > BigInt(PAGE)) {
    const mid: bigint = good + ((bad - good) / BigInt(PAGE) / 2n) * BigInt(PAGE);
    const r = like(mid);
    if (r === null) return null;
    if (r) good = mid;
    else bad = mid;
  }
  return bad;
}

/**
 * kallsyms_relative_base and kallsyms_num_syms right after an offsets table that contains `hit`
 * and ends in the page before `end` or in it: the candidates (numAddr, num), nearest first.
 */
function countsAfter(mem: KernelMemory, hit: bigint, end: bigint, stext: bigint, from: bigint): Array<{ relBaseAddr: bigint; numAddr: bigint; num: number }> {
  const start = end - BigInt(PAGE);
  const b = mem.tryRead(start, 2 * PAGE + 16);
  if (!b) return [];
  const out: Array<{ relBaseAddr: bigint; numAddr: bigint; num: number }> = [];
  for (let o = 0; o + 12 <= b.length; o += 8) {
    const base = u64(b, o);
    if (base < START_KERNEL_MAP || base > stext || stext - base > BigInt(MAX_STEP) * 4n) continue;
    const num = u32(b, o + 8);
    if (num < 1 || num > SAMPLED_MAX_SYMS) continue;
    const relBaseAddr = start + BigInt(o);
    const offsetsAddr = relBaseAddr - align8(BigInt(num * 4));
    if (offsetsAddr > hit || offsetsAddr < from) continue;
    out.push({ relBaseAddr, numAddr: relBaseAddr + 8n, num });
  }
  return out;
}

/**
 * kallsyms_names from `at` for `num` entries, with each 256th entry's offset (what
 * kallsyms_markers must hold); null when memory ends first. Read into a WebAssembly arena with
 * room for the name index's tables (kallsyms.ts builds them there), so the index takes the bytes
 * as they are.
 */
function namesAfter(mem: KernelMemory, at: bigint, num: number, limit: bigint): { names: Uint8Array; marks: number[] } | null {
  // never past the end of the search, nor more than a table of 2M names can be: a candidate with
  // a wrong count must not make us read or hold hundreds of megabytes
  const cap = Math.min(Number(limit > at ? limit - at : 0n), SAMPLED_NAMES_MAX);
  let len = Math.min(num * 14 + PAGE, cap);
  for (let tries = 0; tries < 4 && len > 0; tries++, len = len === cap ? 0 : Math.min(Math.ceil(len * 1.5), cap)) {
    const arena = newArena(len + KALLSYMS_INDEX_BYTES_PER_ENTRY * num + KALLSYMS_INDEX_EXTRA);
    const into = arena?.alloc(len);
    let buf: Uint8Array;
    try {
      buf = mem.read(at, len, arena && into != null ? arena.u8(into, len) : undefined);
    } catch (e) {
      if (e instanceof MemoryError) return null;
      throw e;
    }
    const marks: number[] = [];
    let pos = 0;
    let i = 0;
    for (; i < num && pos < buf.length; i++) {
      if ((i & 255) === 0) marks.push(pos);
      let n = buf[pos++];
      if (n & 0x80) n = (n & 0x7f) | (buf[pos++] << 7);
      if (n === 0) return null;
      pos += n;
    }
    if (i === num && pos <= buf.length) return { names: buf.subarray(0, pos), marks };
  }
  return null;
}

/**
 * The fast way, for the layout of kernels up to 5.19 (kallsyms_offsets, kallsyms_relative_base,
 * kallsyms_num_syms, kallsyms_names, kallsyms_markers, [kallsyms_seqs_of_names,]
 * kallsyms_token_table, kallsyms_token_index): the offsets table is a run of pages like no other
 * in the read-only data, so reading one page every SAMPLE_STRIDE finds it without decoding the
 * megabytes before it; its end (found by galloping), the counts after it, the names, markers and
 * token table follow in order, and `accepted` checks them as it checks the scan's. null when
 * nothing is accepted (another layout, damage): the whole scan then runs.
 */
function sampled(mem: KernelMemory, from: bigint, to: bigint, want: Wanted): KallsymsLocation | null {
  const rejected: string[] = [];
  let tries = 0;
  let skipTo = from;
  for (let va = from; va < to && tries < SAMPLE_TRIES; va += BigInt(SAMPLE_STRIDE)) {
    if (va < skipTo) continue;
    const page = mem.tryRead(va, PAGE);
    if (!page || !offsetsLike(page, true)) continue;
    tries++;
    const end = firstUnlike(mem, va, to);
    if (end === null) continue;
    skipTo = end;
    for (const c of countsAfter(mem, va, end, want.stext, from)) {
      const loc = fromCounts(mem, c.numAddr, c.num, to, want, rejected);
      if (loc) return { ...loc, how: `found in memory (kallsyms_offsets sampled at 0x${va.toString(16)}; ${loc.how})` };
    }
  }
  return null;
}

/** The tables after kallsyms_num_syms at numAddr holding num, when they are all there and accepted. */
function fromCounts(mem: KernelMemory, numAddr: bigint, num: number, limit: bigint, want: Wanted, rejected: string[]): KallsymsLocation | null {
  const head = mem.tryRead(numAddr, 16);
  if (!head) return null;
  // as namesBefore: names at the next 8-byte boundary, or right after the count (unaligned labels)
  const namesAddr = numAddr % 8n === 0n && u32(head, 4) === 0 && head[8] !== 0 ? numAddr + 8n : numAddr + 4n;
  const n = namesAfter(mem, namesAddr, num, limit);
  if (!n) return null;
  const namesEnd = namesAddr + BigInt(n.names.length);
  const nm = n.marks.length;
  for (const width of [4, 8] as const) {
    for (const markersAt of new Set([align8(namesEnd), namesEnd])) {
      const mb = mem.tryRead(markersAt, nm * width);
      if (!mb) continue;
      let ok = true;
      for (let k = 0; k < nm && ok; k++) ok = (width === 4 ? u32(mb, k * 4) : Number(u64(mb, k * 8))) === n.marks[k];
      if (!ok) continue;
      const markersEnd = markersAt + BigInt(nm * width);
      // the token table next, or after kallsyms_seqs_of_names (3 bytes a symbol, 6.1's backport and 6.2+)
      for (const tokAt of new Set([align8(markersEnd), markersEnd, align8(markersEnd + BigInt(num * 3)), markersEnd + BigInt(num * 3)])) {
        const zero = tokenZero(mem, tokAt);
        const tok = zero === null ? null : tokenTablesAt(mem, zero);
        if (!tok || tok.tokTable !== tokAt) continue;
        const loc = accepted(mem, { namesAddr, numAddr, num, names: n.names }, tok, want, rejected, /before kallsyms_num_syms/);
        if (loc) return loc;
      }
    }
  }
  return null;
}

/** The address of token 0x30 ('0') in a token table at `at`: after 0x30 NUL-terminated tokens. */
function tokenZero(mem: KernelMemory, at: bigint): bigint | null {
  const b = mem.tryRead(at, 0x30 * (MAX_TOKEN + 1));
  const pos = b ? pastTokens(b, 0x30) : -1;
  return pos < 0 ? null : at + BigInt(pos);
}
