import { DumpError } from '../errors';
import { u16, u32, i32, u64 } from '../bytes';
import type { KernelMemory } from './memory';
import type { VmcoreInfo } from './vmcoreinfo';
import { findKallsyms } from './kallsyms-find';

/**
 * kallsyms read from the dump's own memory (kernel/kallsyms.c, scripts/kallsyms.c), located by
 * the kallsyms entries of VMCOREINFO (Linux >= 6.0).
 *
 * kallsyms_names: per symbol a length (one byte; since 6.1 two bytes when the high bit is set:
 * (b0 & 0x7f) | (b1 << 7)) and that many token indexes; tokens expand through kallsyms_token_index
 * (u16 offsets) into kallsyms_token_table (NUL-terminated strings). The first character of the
 * expansion is the symbol type (T, t, D, ...).
 *
 * Addresses have been encoded three ways, so the encoding is detected from the data, checked
 * against SYMBOL(_stext) of VMCOREINFO:
 *  - kallsyms_addresses[]: absolute 64-bit addresses (!CONFIG_KALLSYMS_BASE_RELATIVE);
 *  - kallsyms_offsets[] + kallsyms_relative_base with CONFIG_KALLSYMS_ABSOLUTE_PERCPU: offsets
 *    >= 0 are absolute (per-cpu symbols), negative ones are relative_base - 1 - offset;
 *  - kallsyms_offsets[] as u32 added to relative_base (or, where relative_base is gone, to the
 *    base implied by _stext).
 */
export interface KallsymsRaw {
  names: string[];
  types: string[];
  /** addresses, index-aligned with names (a typed array: no heap object per symbol) */
  addrs: BigUint64Array;
  encoding: 'absolute' | 'absolute-percpu' | 'relative';
  /** where the tables came from: VMCOREINFO, or found in memory (and what validated them) */
  how: string;
}

/** The kallsyms tables VMCOREINFO names, with the token table expanded. */
interface KallsymsTables {
  namesAddr: bigint;
  num: number;
  tokTable: bigint;
  tokens: string[];
  /** character count of each token (to skip names by length without making strings) */
  tokLen: Uint16Array;
  offsetsAddr?: bigint;
  relBaseAddr?: bigint;
  addressesAddr?: bigint;
  /** where the tables' addresses came from (VMCOREINFO, or found in memory and how checked) */
  how: string;
}

function kallsymsTables(mem: KernelMemory, info: VmcoreInfo): KallsymsTables {
  let namesAddr = info.symbol('kallsyms_names');
  const numAddr = info.symbol('kallsyms_num_syms');
  let tokTable = info.symbol('kallsyms_token_table');
  let tokIndex = info.symbol('kallsyms_token_index');
  let offsetsAddr = info.symbol('kallsyms_offsets');
  let relBaseAddr = info.symbol('kallsyms_relative_base');
  let addressesAddr = info.symbol('kallsyms_addresses');
  let num: number;
  let how = 'VMCOREINFO';
  if (!namesAddr || !numAddr || !tokTable || !tokIndex || (!offsetsAddr && !addressesAddr)) {
    // before 6.0: find them in the kernel image by their shape (kallsyms-find.ts)
    const loc = findKallsyms(mem, info);
    ({ namesAddr, tokTable, tokIndex, offsetsAddr, relBaseAddr, addressesAddr, num, how } = loc);
  } else {
    num = mem.u32(numAddr);
  }
  if (num === 0 || num > 5_000_000) throw new DumpError(`kallsyms_num_syms is ${num}: kallsyms memory looks corrupt`);

  // token table: 256 tokens
  const index = mem.read(tokIndex, 512);
  const lastTok = u16(index, 255 * 2);
  const table = mem.read(tokTable, lastTok + 256);
  const tokens: string[] = new Array(256);
  const tokLen = new Uint16Array(256);
  const dec = new TextDecoder('latin1');
  for (let t = 0; t < 256; t++) {
    const s = u16(index, t * 2);
    let e = s;
    while (e < table.length && table[e] !== 0) e++;
    tokens[t] = dec.decode(table.subarray(s, e));
    tokLen[t] = e - s;
  }
  return { namesAddr: namesAddr!, num, tokTable: tokTable!, tokens, tokLen, offsetsAddr, relBaseAddr, addressesAddr, how };
}

/** kallsyms_names: one read up to the token table, which scripts/kallsyms.c emits after the
 * names and markers; chunked reads when it is not after them. */
function namesBytes(mem: KernelMemory, t: KallsymsTables): Uint8Array {
  const span = t.tokTable > t.namesAddr && t.tokTable - t.namesAddr < 64n << 20n ? Number(t.tokTable - t.namesAddr) : 0;
  return span ? mem.read(t.namesAddr, span) : readNamesChunked(mem, t.namesAddr, t.num);
}

/**
 * The address of symbol index i, in the encoding the data has, chosen so that _stext gets its
 * VMCOREINFO address. `offset(i)` reads the raw 4-byte kallsyms_offsets entry.
 */
function addressDecoder(
  mem: KernelMemory,
  info: VmcoreInfo,
  t: KallsymsTables,
  offset: (i: number) => Uint8Array,
  stextIdx: number,
): { encoding: KallsymsRaw['encoding']; address: (i: number) => bigint } {
  if (t.addressesAddr && !t.offsetsAddr) {
    const at = t.addressesAddr;
    return { encoding: 'absolute', address: (i) => mem.u64(at + BigInt(i * 8)) };
  }
  const stext = info.symbol('_stext');
  const relBase = t.relBaseAddr ? mem.u64(t.relBaseAddr) : undefined;
  const candidates: Array<[KallsymsRaw['encoding'], (i: number) => bigint]> = [];
  if (relBase !== undefined) {
    candidates.push([
      'absolute-percpu',
      (i) => {
        const o = i32(offset(i), 0);
        return o >= 0 ? BigInt(o) : relBase - 1n - BigInt(o);
      },
    ]);
    candidates.push(['relative', (i) => relBase + BigInt(u32(offset(i), 0))]);
  }
  if (stext !== undefined && stextIdx >= 0) {
    const base = stext - BigInt(u32(offset(stextIdx), 0));
    candidates.push(['relative', (i) => base + BigInt(u32(offset(i), 0))]);
  }
  const known = stext !== undefined && stextIdx >= 0;
  const chosen = candidates.find((c) => !known || c[1](stextIdx) === stext);
  if (!chosen) throw new DumpError('kallsyms: no known address encoding gives _stext its VMCOREINFO address');
  return { encoding: chosen[0], address: (i) => BigInt.asUintN(64, chosen[1](i)) };
}

export function readKallsyms(mem: KernelMemory, info: VmcoreInfo): KallsymsRaw {
  const t = kallsymsTables(mem, info);
  const num = t.num;
  const names: string[] = new Array(num);
  const types: string[] = new Array(num);
  decodeNames(namesBytes(mem, t), num, t.tokens, names, types);
  let offsetAt = (_i: number): Uint8Array => new Uint8Array(4);
  if (t.offsetsAddr) {
    const raw = mem.read(t.offsetsAddr, num * 4);
    offsetAt = (i) => raw.subarray(i * 4, i * 4 + 4);
  }
  let addrs: BigUint64Array;
  let encoding: KallsymsRaw['encoding'];
  if (t.addressesAddr && !t.offsetsAddr) {
    const raw = mem.read(t.addressesAddr, num * 8);
    addrs = new BigUint64Array(num);
    for (let i = 0; i < num; i++) addrs[i] = u64(raw, i * 8);
    encoding = 'absolute';
  } else {
    const d = addressDecoder(mem, info, t, offsetAt, names.indexOf('_stext'));
    addrs = new BigUint64Array(num);
    for (let i = 0; i < num; i++) addrs[i] = d.address(i);
    encoding = d.encoding;
  }
  return { names, types, addrs, encoding, how: t.how };
}

/** Expand every kallsyms_names entry (length byte(s) + token indexes) into names and types. */
function decodeNames(buf: Uint8Array, num: number, tokens: string[], names: string[], types: string[]): void {
  let pos = 0;
  const n = buf.length;
  for (let i = 0; i < num; i++) {
    if (pos >= n) throw new DumpError(`kallsyms_names ends after ${i} of ${num} entries: kallsyms memory looks corrupt`);
    let len = buf[pos++];
    if (len & 0x80) len = (len & 0x7f) | (buf[pos++] << 7);
    if (len === 0 || len > 4096 || pos + len > n) {
      throw new DumpError(`kallsyms_names entry ${i} has length ${len}: kallsyms memory looks corrupt`);
    }
    let s = tokens[buf[pos]];
    for (let k = 1; k < len; k++) s += tokens[buf[pos + k]];
    pos += len;
    types[i] = s.charAt(0);
    names[i] = s.substring(1);
  }
}

/** kallsyms_names when its end is not known: read enough in 256 KiB steps. */
function readNamesChunked(mem: KernelMemory, at: bigint, num: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  let seen = 0;
  let cur: Uint8Array = new Uint8Array(0);
  // walk entries to find the end, reading more as needed
  while (seen < num) {
    if (pos + 2 > total) {
      const more = mem.read(at + BigInt(total), 256 * 1024);
      chunks.push(more);
      total += more.length;
      cur = concat(chunks, total);
      continue;
    }
    let len = cur[pos];
    let hdr = 1;
    if (len & 0x80) {
      len = (len & 0x7f) | (cur[pos + 1] << 7);
      hdr = 2;
    }
    if (pos + hdr + len > total) {
      const more = mem.read(at + BigInt(total), 256 * 1024);
      chunks.push(more);
      total += more.length;
      cur = concat(chunks, total);
      continue;
    }
    pos += hdr + len;
    seen++;
  }
  return cur;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out: Uint8Array = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Name -> address for a few symbols without making a string per symbol: one pass hashes every
 * expanded name (FNV-1a over the token characters) into a Map of hash -> index; a lookup hashes
 * the query, decodes that one entry to confirm it, and decodes the address. About ten times
 * cheaper than readKallsyms, for analyses that need a few dozen symbols by name.
 */
export class KallsymsNameIndex {
  private readonly t: KallsymsTables;
  private readonly buf: Uint8Array;
  /** start of each entry's token bytes in buf, and their count */
  private readonly at: Uint32Array;
  private readonly len: Uint16Array;
  /** hash -> index (first wins), or -1 when several names share a hash */
  private readonly byHash = new Map<number, number>();
  private readonly collisions = new Map<number, number[]>();
  private readonly tokHash: Array<Uint16Array>;
  private decoder: ((i: number) => bigint) | null = null;
  encoding: KallsymsRaw['encoding'] | null = null;

  constructor(
    private mem: KernelMemory,
    private info: VmcoreInfo,
  ) {
    const t = (this.t = kallsymsTables(mem, info));
    const buf = (this.buf = namesBytes(mem, t));
    this.at = new Uint32Array(t.num);
    this.len = new Uint16Array(t.num);
    this.tokHash = t.tokens.map((s) => Uint16Array.from(s, (c) => c.charCodeAt(0)));
    let pos = 0;
    for (let i = 0; i < t.num; i++) {
      if (pos >= buf.length) throw new DumpError(`kallsyms_names ends after ${i} of ${t.num} entries: kallsyms memory looks corrupt`);
      let len = buf[pos++];
      if (len & 0x80) len = (len & 0x7f) | (buf[pos++] << 7);
      if (len === 0 || len > 4096 || pos + len > buf.length) throw new DumpError(`kallsyms_names entry ${i} has length ${len}: kallsyms memory looks corrupt`);
      this.at[i] = pos;
      this.len[i] = len;
      // FNV-1a over the name's characters, skipping the first (the type letter)
      let h = 0x811c9dc5;
      let first = true;
      for (let k = 0; k < len; k++) {
        const tok = this.tokHash[buf[pos + k]];
        for (let c = 0; c < tok.length; c++) {
          if (first) {
            first = false;
            continue;
          }
          h = Math.imul(h ^ tok[c], 0x01000193);
        }
      }
      h >>>= 0;
      const prev = this.byHash.get(h);
      if (prev === undefined) this.byHash.set(h, i);
      else {
        const l = this.collisions.get(h) ?? [prev];
        l.push(i);
        this.collisions.set(h, l);
        this.byHash.set(h, -1);
      }
      pos += len;
    }
  }

  private name(i: number): string {
    let s = '';
    for (let k = 0; k < this.len[i]; k++) s += this.t.tokens[this.buf[this.at[i] + k]];
    return s.slice(1);
  }

  private index(name: string): number | undefined {
    let h = 0x811c9dc5;
    for (let c = 0; c < name.length; c++) h = Math.imul(h ^ name.charCodeAt(c), 0x01000193);
    h >>>= 0;
    const i = this.byHash.get(h);
    if (i === undefined) return undefined;
    const cands = i === -1 ? this.collisions.get(h)! : [i];
    return cands.find((c) => this.name(c) === name);
  }

  address(name: string): bigint | undefined {
    const i = this.index(name);
    if (i === undefined) return undefined;
    if (!this.decoder) {
      const offsetsAddr = this.t.offsetsAddr;
      const d = addressDecoder(this.mem, this.info, this.t, (k) => this.mem.read(offsetsAddr! + BigInt(k * 4), 4), this.index('_stext') ?? -1);
      this.decoder = d.address;
      this.encoding = d.encoding;
    }
    return this.decoder(i);
  }
}
