import { DumpError, MemoryError } from '../errors';
import { u16, u32, i32, u64 } from '../bytes';
import type { KernelMemory } from './memory';
import type { VmcoreInfo } from './vmcoreinfo';
import { findKallsyms, namesFoundAt, KALLSYMS_INDEX_BYTES_PER_ENTRY, KALLSYMS_INDEX_EXTRA } from './kallsyms-find';
import { arenaOf, newArena, type Arena } from './bulk';

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
 *    base implied by _stext);
 *  - kallsyms_offsets[] place-relative (Linux 6.15+, kallsyms_relative_base gone): entry i is the
 *    signed 32-bit distance from &kallsyms_offsets[i] to the symbol (`.long sym - .`).
 * A candidate must give every VMCOREINFO SYMBOL() its address (not only _stext: the _stext-implied
 * base always fits _stext), so a wrong encoding is refused instead of shifting every symbol.
 */
export interface KallsymsRaw {
  names: string[];
  types: string[];
  /** addresses, index-aligned with names (a typed array: no heap object per symbol) */
  addrs: BigUint64Array;
  encoding: 'absolute' | 'absolute-percpu' | 'relative' | 'place-relative';
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
function namesBytes(mem: KernelMemory, t: KallsymsTables, arena?: Arena | null): Uint8Array {
  // read once per dump: the symbol table and the name index both decode it, and a scan for the
  // tables (kernels before 6.0) has read it already
  let buf = namesKnown(mem, t);
  if (buf && arena && arenaOf(buf) === null) {
    // into the arena, for bulk.wat (the scan's copy is a view of one of its chunks)
    const at = arena.alloc(buf.length);
    if (at !== null) {
      const copy = arena.u8(at, buf.length);
      copy.set(buf);
      buf = copy;
    }
  }
  if (!buf) {
    const span = namesSpan(t);
    const at = span && arena ? arena.alloc(span) : null;
    buf = span ? mem.read(t.namesAddr, span, arena && at !== null ? arena.u8(at, span) : undefined) : readNamesChunked(mem, t.namesAddr, t.num);
  }
  namesRead.set(mem, { at: t.namesAddr, buf });
  return buf;
}

/** kallsyms_names' bytes when this dump has read them already (or its scan for the tables has). */
function namesKnown(mem: KernelMemory, t: KallsymsTables): Uint8Array | undefined {
  const m = namesRead.get(mem);
  if (m && m.at === t.namesAddr) return m.buf;
  return namesFoundAt(mem, t.namesAddr);
}

/** kallsyms_names' length when the token table follows it (0: unknown, read entry by entry). */
function namesSpan(t: KallsymsTables): number {
  return t.tokTable > t.namesAddr && t.tokTable - t.namesAddr < 64n << 20n ? Number(t.tokTable - t.namesAddr) : 0;
}

const namesRead = new WeakMap<KernelMemory, { at: bigint; buf: Uint8Array }>();

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
  indexOf?: (name: string) => number,
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
  if (t.offsetsAddr) {
    const at = t.offsetsAddr;
    candidates.push(['place-relative', (i) => at + BigInt(i * 4) + BigInt(i32(offset(i), 0))]);
  }
  const checks = vmcoreinfoChecks(info, stextIdx, indexOf);
  // the _stext-implied base fits _stext by construction: with a name lookup, a second symbol must confirm it
  if (stext !== undefined && stextIdx >= 0 && (!indexOf || checks.length > 1)) {
    const base = stext - BigInt(u32(offset(stextIdx), 0));
    candidates.push(['relative', (i) => base + BigInt(u32(offset(i), 0))]);
  }
  // the candidate that gives the most checked symbols their address; all of them, or (a static
  // symbol may share a VMCOREINFO symbol's name) all but one when at least five are checked
  const score = (f: (i: number) => bigint): number => checks.filter(([i, a]) => BigInt.asUintN(64, f(i)) === a).length;
  let chosen: (typeof candidates)[number] | undefined = checks.length ? undefined : candidates[0];
  let best = 0;
  for (const c of candidates) {
    if (!checks.length) break;
    const n = score(c[1]);
    if (n > best && (n === checks.length || (checks.length >= 5 && n >= checks.length - 1))) {
      chosen = c;
      best = n;
    }
  }
  if (!chosen) {
    throw new DumpError(
      `kallsyms: no known address encoding gives the ${checks.length} VMCOREINFO symbols (_stext, ...) their addresses`,
    );
  }
  return { encoding: chosen[0], address: (i) => BigInt.asUintN(64, chosen[1](i)) };
}

/**
 * [kallsyms index, VMCOREINFO address] of each SYMBOL(name) in VMCOREINFO that kallsyms names
 * (kernel text and data symbols: _stext, init_uts_ns, swapper_pg_dir, prb, ...), the facts an
 * address encoding is checked against. Only _stext when no name lookup is given.
 */
function vmcoreinfoChecks(info: VmcoreInfo, stextIdx: number, indexOf?: (name: string) => number): Array<[number, bigint]> {
  const out: Array<[number, bigint]> = [];
  const stext = info.symbol('_stext');
  if (stext !== undefined && stextIdx >= 0) out.push([stextIdx, stext]);
  if (!indexOf) return out;
  for (const key of info.entries.keys()) {
    const m = /^SYMBOL\((\w+)\)$/.exec(key);
    if (!m || m[1] === '_stext') continue;
    const addr = info.symbol(m[1])!;
    // only symbols of the kernel image: VMCOREINFO also names values (vmemmap, mem_section)
    if (stext !== undefined && (addr < stext - (1n << 30n) || addr > stext + (1n << 30n))) continue;
    const i = indexOf(m[1]);
    if (i >= 0) out.push([i, addr]);
  }
  return out;
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
    let byName: Map<string, number> | undefined;
    const indexOf = (name: string): number => {
      if (!byName) {
        byName = new Map();
        for (const [key] of info.entries) {
          const m = /^SYMBOL\((\w+)\)$/.exec(key);
          if (m) byName.set(m[1], -1);
        }
        for (let i = 0; i < num; i++) if (byName.get(names[i]) === -1) byName.set(names[i], i);
      }
      return byName.get(name) ?? -1;
    };
    const d = addressDecoder(mem, info, t, offsetAt, names.indexOf('_stext'), indexOf);
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
 * Name -> address for a few symbols without making a string per symbol. Some kernels keep their
 * own index: kallsyms_seqs_of_names (6.2, and backported: Debian's 6.1.y has it, its 6.12 and 7.2
 * builds do not), every entry's number sorted by name (3 bytes each, between kallsyms_markers and
 * the token table); a lookup is a binary search over it, decoding ~18 names. Its place is checked
 * by the layout (names, markers, then it, ending where the token table starts), its contents by
 * every entry appearing once and its order by a sample of neighbours; without it (or when a check
 * fails) one pass hashes every expanded name (a polynomial hash, composed token by token from
 * per-token values) into an open-addressing table of entry indexes, and a lookup hashes the query
 * and decodes the entries of its chain to confirm. Entries decode one at a time (name(i),
 * addressAt(i)).
 */
export class KallsymsNameIndex {
  private readonly t: KallsymsTables;
  private readonly buf: Uint8Array;
  /** start of each entry's token bytes in buf, and their count */
  private at: Uint32Array = new Uint32Array(0);
  private len: Uint16Array = new Uint16Array(0);
  /** kallsyms_seqs_of_names where the data has it, checked; null: the hash table below is used */
  private readonly seqs: Uint8Array | null = null;
  /**
   * The entries by name hash (kernels without kallsyms_seqs_of_names): bucket b (the mixed hash's
   * top bits) holds order[start[b] .. start[b + 1]), in index order; 2-4 entries a bucket, so a
   * lookup decodes a few names and compares them, no hash per entry is consulted (1.6 MB touched
   * for 166k names where an open-addressing table of twice the entries and the hashes touched
   * 2.7 MB, and faulting in fresh memory is a large part of a short command's time)
   */
  private start: Uint32Array = new Uint32Array(1);
  private order: Uint32Array = new Uint32Array(0);
  private shift = 32;
  /** the JavaScript loops only (tests) */
  private js = false;
  private decoder: ((i: number) => bigint) | null = null;
  encoding: KallsymsRaw['encoding'] | null = null;

  /** where the tables came from (VMCOREINFO, or found in memory and how checked) */
  get how(): string {
    return this.t.how;
  }

  /** how names are looked up: the kernel's sorted index, or a hash of every name */
  get lookup(): 'seqs_of_names' | 'hash' {
    return this.seqs ? 'seqs_of_names' : 'hash';
  }

  /**
   * `opts.hashOnly`: the hash table even where the kernel's sorted index is; `opts.js`: the
   * JavaScript loops, not bulk.wat (tests compare them)
   */
  constructor(
    private mem: KernelMemory,
    private info: VmcoreInfo,
    opts: { hashOnly?: boolean; js?: boolean } = {},
  ) {
    const t = (this.t = kallsymsTables(mem, info));
    const num = t.num;
    // the names, the entry tables and the hash buckets in a WebAssembly arena (bulk.ts), where the
    // loops over every entry run as bulk.wat
    const known = namesKnown(mem, t);
    const namesLen = known?.length ?? namesSpan(t);
    this.js = opts.js === true;
    // a scan for the tables may have read the names into an arena with room for the rest
    const arena = this.js ? null : ((known && arenaOf(known)) ?? (namesLen ? newArena(namesLen + KALLSYMS_INDEX_BYTES_PER_ENTRY * num + KALLSYMS_INDEX_EXTRA) : null));
    const buf = (this.buf = namesBytes(mem, t, arena));
    const end = this.parseInArena(arena, num);
    if (end >= 0) {
      this.seqs = opts.hashOnly ? null : this.seqsOfNames(end, arena);
      if (!this.seqs) this.hashNames(arena);
      return;
    }
    const at = (this.at = new Uint32Array(num));
    const lens = (this.len = new Uint16Array(num));
    const n = buf.length;
    let pos = 0;
    for (let i = 0; i < num; i++) {
      if (pos >= n) throw new DumpError(`kallsyms_names ends after ${i} of ${num} entries: kallsyms memory looks corrupt`);
      let len = buf[pos++];
      if (len & 0x80) len = (len & 0x7f) | (buf[pos++] << 7);
      if (len === 0 || len > 4096 || pos + len > n) throw new DumpError(`kallsyms_names entry ${i} has length ${len}: kallsyms memory looks corrupt`);
      at[i] = pos;
      lens[i] = len;
      pos += len;
    }
    this.seqs = opts.hashOnly ? null : this.seqsOfNames(pos, null);
    if (!this.seqs) this.hashNames(null);
  }

  /**
   * The entries' starts and lengths by bulk.wat when the names lie in the arena: the end of the
   * last entry, or -1 (no arena, or a bad entry: the JavaScript loop then says which).
   */
  private parseInArena(arena: Arena | null, num: number): number {
    if (!arena || arenaOf(this.buf) !== arena) return -1;
    const at = arena.alloc(4 * num, 4);
    const lens = arena.alloc(2 * num, 2);
    if (at === null || lens === null) return -1;
    const end = arena.fn.ks_parse(this.buf.byteOffset, this.buf.length, num, at, lens);
    if (end < 0) return -1;
    this.at = arena.u32(at, num);
    this.len = arena.u16(lens, num);
    return end;
  }

  /**
   * kallsyms_seqs_of_names when the layout scripts/kallsyms.c writes (each table 8-aligned)
   * puts it exactly before the token table: kallsyms_markers right after the names (its first
   * entries the offsets of entries 0 and 256), then 3 bytes per entry naming every entry once,
   * and the sorted order holds on a sample of neighbours. null otherwise. Read into `arena` when
   * it has room (bulk.wat checks that every entry is named once), else by the JavaScript loop.
   */
  private seqsOfNames(namesEnd: number, arena: Arena | null): Uint8Array | null {
    const { num, namesAddr, tokTable } = this.t;
    const align8 = (a: bigint) => (a + 7n) & ~7n;
    const markersAddr = align8(namesAddr + BigInt(namesEnd));
    const nm = Math.ceil(num / 256);
    const seqsAddr = align8(markersAddr + BigInt(4 * nm));
    if (align8(seqsAddr + BigInt(3 * num)) !== tokTable) return null;
    const markers = this.mem.tryRead(markersAddr, Math.min(nm, 2) * 4);
    if (!markers || u32(markers, 0) !== 0) return null;
    if (nm > 1 && u32(markers, 4) !== this.at[256] - (this.len[256] > 0x7f ? 2 : 1)) return null;
    // every entry exactly once (a scribbled entry repeats one or leaves the range): a damaged
    // table is not searched, the names are hashed instead
    const at = arena?.alloc(3 * num, 1) ?? null;
    const seenAt = at !== null ? arena!.alloc(num, 1) : null;
    let seqs: Uint8Array | null;
    if (at !== null && seenAt !== null) {
      try {
        seqs = this.mem.read(seqsAddr, 3 * num, arena!.u8(at, 3 * num));
      } catch (e) {
        if (e instanceof MemoryError) return null;
        throw e;
      }
      if (arena!.fn.ks_seqs(at, num, seenAt) !== 1) return null;
    } else {
      seqs = this.mem.tryRead(seqsAddr, 3 * num);
      if (!seqs) return null;
      const seen = new Uint8Array(num);
      for (let k = 0; k < num; k++) {
        const x = seqAt(seqs, k);
        if (x >= num || seen[x]) return null;
        seen[x] = 1;
      }
    }
    const step = Math.max(1, Math.floor(num / 64));
    for (let k = 0; k + 1 < num; k += step) if (this.name(seqAt(seqs, k)) > this.name(seqAt(seqs, k + 1))) return null;
    return seqs;
  }

  /** The hash table of every name (kernels without kallsyms_seqs_of_names). */
  private hashNames(arena: Arena | null): void {
    const { num, tokens } = this.t;
    const { buf, at, len: lens } = this;
    const wasm = arena !== null && arenaOf(buf) === arena && arenaOf(at) === arena && arenaOf(lens) === arena;
    const tables = wasm ? arena.alloc(3 * 1024, 4) : null;
    const hashesAt = wasm ? arena.alloc(4 * num, 4) : null;
    const hashes = hashesAt !== null ? arena!.u32(hashesAt, num) : new Uint32Array(num);
    // The hash is polynomial (h = h * P + c, mod 2^32), so a token's part composes in one step:
    // h = h * P^len(token) + H(token). The first character of a name is its type letter and is
    // not hashed: the first token of each entry uses its tail's values.
    const pw = tables !== null ? arena!.i32(tables, 256) : new Int32Array(256);
    const hv = tables !== null ? arena!.i32(tables + 1024, 256) : new Int32Array(256);
    const hvTail = tables !== null ? arena!.i32(tables + 2048, 256) : new Int32Array(256);
    for (let k = 0; k < 256; k++) {
      const tok = tokens[k] ?? '';
      [pw[k], hv[k]] = polyHash(tok);
      hvTail[k] = polyHash(tok.slice(1))[1];
    }
    let bits = 1;
    while (bits < 24 && 1 << (bits + 2) < num) bits++;
    const shift = 32 - bits;
    const nb = 1 << bits;
    if (tables !== null && hashesAt !== null) {
      const startAt = arena!.alloc(4 * (nb + 1), 4);
      const orderAt = arena!.alloc(4 * num, 4);
      if (startAt !== null && orderAt !== null) {
        arena!.fn.ks_hash(buf.byteOffset, at.byteOffset, lens.byteOffset, num, tables, tables + 1024, tables + 2048, hashesAt);
        arena!.fn.ks_buckets(hashesAt, num, shift, startAt, orderAt);
        this.start = arena!.u32(startAt, nb + 1);
        this.order = arena!.u32(orderAt, num);
        this.shift = shift;
        return;
      }
    }
    for (let i = 0; i < num; i++) {
      const pos = at[i];
      const len = lens[i];
      let h = hvTail[buf[pos]];
      for (let k = 1; k < len; k++) {
        const tok = buf[pos + k];
        h = (Math.imul(h, pw[tok]) + hv[tok]) | 0;
      }
      hashes[i] = mix(h);
    }
    // a counting sort of the entries by bucket; filled from the last entry down, so each bucket
    // lists its entries in index order (equal names: lowest index first)
    const start = new Uint32Array(nb + 1);
    for (let i = 0; i < num; i++) start[hashes[i] >>> shift]++;
    for (let b = 1; b <= nb; b++) start[b] += start[b - 1];
    const order = new Uint32Array(num);
    for (let i = num - 1; i >= 0; i--) order[--start[hashes[i] >>> shift]] = i;
    this.start = start;
    this.order = order;
    this.shift = shift;
  }

  /** Number of entries (kallsyms_num_syms). */
  get count(): number {
    return this.t.num;
  }

  /** The name of entry i (without its type letter). */
  name(i: number): string {
    return this.typedName(i).slice(1);
  }

  /** The type letter of entry i (T, t, D, ...). */
  type(i: number): string {
    return this.t.tokens[this.buf[this.at[i]]].charAt(0);
  }

  private typedName(i: number): string {
    let s = '';
    const a = this.at[i];
    for (let k = 0; k < this.len[i]; k++) s += this.t.tokens[this.buf[a + k]];
    return s;
  }

  /** Every entry with this name, in kallsyms order. */
  indexes(name: string): number[] {
    const seqs = this.seqs;
    if (seqs) {
      const seq = (k: number) => seqAt(seqs, k);
      // the first position whose name is not below `name` (names compare as strcmp: latin1
      // strings compare by byte), then every equal one after it
      let lo = 0;
      let hi = this.t.num;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.name(seq(mid)) < name) lo = mid + 1;
        else hi = mid;
      }
      const out: number[] = [];
      for (let k = lo; k < this.t.num && this.name(seq(k)) === name; k++) out.push(seq(k));
      return out.sort((x, y) => x - y);
    }
    let h = 0;
    for (let c = 0; c < name.length; c++) h = (Math.imul(h, HASH_P) + name.charCodeAt(c)) | 0;
    const out: number[] = [];
    const b = this.shift < 32 ? mix(h) >>> this.shift : 0;
    for (let k = this.start[b]; k < this.start[b + 1]; k++) {
      const i = this.order[k];
      if (this.name(i) === name) out.push(i);
    }
    return out;
  }

  private index(name: string): number | undefined {
    return this.indexes(name)[0];
  }

  /** The address of entry i. */
  addressAt(i: number): bigint {
    if (!this.decoder) {
      const offsetsAddr = this.t.offsetsAddr;
      const d = addressDecoder(
        this.mem,
        this.info,
        this.t,
        (k) => this.mem.read(offsetsAddr! + BigInt(k * 4), 4),
        this.index('_stext') ?? -1,
        (name) => this.index(name) ?? -1,
      );
      this.decoder = d.address;
      this.encoding = d.encoding;
    }
    return this.decoder(i);
  }

  address(name: string): bigint | undefined {
    // kept: analyses ask the same few dozen names again and again (kmem on 200 addresses asked
    // for _end 200 times), and a lookup decodes names
    if (this.found.has(name)) return this.found.get(name);
    const i = this.index(name);
    const a = i === undefined ? undefined : this.addressAt(i);
    this.found.set(name, a);
    return a;
  }

  private found = new Map<string, bigint | undefined>();

  /** Every entry's address, in kallsyms order (one read of the address table). */
  addresses(): BigUint64Array {
    const t = this.t;
    const num = t.num;
    if (t.addressesAddr && !t.offsetsAddr) {
      const out = new BigUint64Array(num);
      const raw = this.mem.read(t.addressesAddr, num * 8);
      for (let i = 0; i < num; i++) out[i] = u64(raw, i * 8);
      this.encoding = 'absolute';
      return out;
    }
    // the table and the addresses in an arena, where bulk.wat makes them (and the symbol table
    // checks their order and range)
    const arena = this.js ? null : newArena(num * 12 + 4096);
    const rawAt = arena?.alloc(num * 4) ?? null;
    const outAt = arena?.alloc(num * 8) ?? null;
    const raw = this.mem.read(t.offsetsAddr!, num * 4, arena && rawAt !== null ? arena.u8(rawAt, num * 4) : undefined);
    const out = arena && outAt !== null ? new BigUint64Array(arena.buffer, outAt, num) : new BigUint64Array(num);
    const d = addressDecoder(this.mem, this.info, t, (k) => raw.subarray(k * 4, k * 4 + 4), this.index('_stext') ?? -1);
    this.encoding = d.encoding;
    if (!fillAddresses(out, raw, d, t.relBaseAddr ? this.mem.u64(t.relBaseAddr) : undefined)) {
      for (let i = 0; i < num; i++) out[i] = d.address(i);
    }
    return out;
  }
}

/**
 * Every address of a base-relative table without a BigInt per entry: each address is a 64-bit
 * base plus a 32-bit value (offset, or -1 - offset for the absolute-percpu encoding's negative
 * entries; a non-negative absolute-percpu entry is the address itself), written as two 32-bit
 * halves. Checked against the decoder on a sample of entries; false (nothing promised) when they
 * disagree or the encoding is another.
 */
function fillAddresses(
  out: BigUint64Array,
  raw: Uint8Array,
  d: { encoding: KallsymsRaw['encoding']; address: (i: number) => bigint },
  relBase: bigint | undefined,
): boolean {
  const num = out.length;
  if (num === 0 || raw.length < num * 4) return false;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const halves = new Uint32Array(out.buffer, out.byteOffset, num * 2);
  let base: bigint;
  if (d.encoding === 'relative') base = BigInt.asUintN(64, d.address(0) - BigInt(dv.getUint32(0, true)));
  else if (d.encoding === 'absolute-percpu' && relBase !== undefined) base = relBase;
  else return false;
  const lo = Number(base & 0xffffffffn);
  const hi = Number(base >> 32n);
  const percpu = d.encoding === 'absolute-percpu';
  const arena = arenaOf(out);
  if (arena && arenaOf(raw) === arena && raw.byteOffset % 4 === 0) arena.fn.ks_addresses(raw.byteOffset, num, base, percpu ? 1 : 0, out.byteOffset);
  else for (let i = 0; i < num; i++) {
    let x: number;
    if (percpu) {
      const o = dv.getInt32(i * 4, true);
      if (o >= 0) {
        halves[2 * i] = o;
        halves[2 * i + 1] = 0;
        continue;
      }
      x = -1 - o;
    } else x = dv.getUint32(i * 4, true);
    const sum = lo + x;
    halves[2 * i] = sum >>> 0;
    halves[2 * i + 1] = (hi + (sum >= 0x100000000 ? 1 : 0)) >>> 0;
  }
  // little-endian halves (x86_64 hosts and every browser); the sample check catches anything else
  const step = Math.max(1, Math.floor(num / 64));
  for (let i = 0; i < num; i += step) if (out[i] !== d.address(i)) return false;
  return out[num - 1] === d.address(num - 1);
}

const HASH_P = 0x01000193;

/** [P^len, H(s)] of the polynomial hash H(s) = sum of s[i] * P^(len-1-i), mod 2^32. */
function polyHash(s: string): [number, number] {
  let p = 1;
  let h = 0;
  for (let c = 0; c < s.length; c++) {
    p = Math.imul(p, HASH_P);
    h = (Math.imul(h, HASH_P) + s.charCodeAt(c)) | 0;
  }
  return [p, h];
}

/** Entry k of kallsyms_seqs_of_names: 3 bytes, big-endian (scripts/kallsyms.c). */
function seqAt(seqs: Uint8Array, k: number): number {
  return (seqs[3 * k] << 16) | (seqs[3 * k + 1] << 8) | seqs[3 * k + 2];
}

/** Spread a polynomial hash's bits over the table index (its low bits alone are weak). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 16;
  return h >>> 0;
}
