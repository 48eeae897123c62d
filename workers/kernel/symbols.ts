/**
 * Kernel and module symbols: address <-> name. Built from kallsyms (kallsyms.ts) and the module
 * symbol tables (modules.ts). Lookups by address return the nearest symbol at or below the
 * address, bounded by the region (kernel image or module) that holds it.
 */
import { floorIndex } from '../sorted';
import { arenaOf } from './bulk';

export interface Sym {
  name: string;
  address: bigint;
  /** nm-style type: T t D d B b R r A W V ... ('?' when unknown) */
  type: string;
  module?: string;
}

export interface SymHit {
  sym: Sym;
  offset: number;
}

interface Region {
  start: bigint;
  end: bigint;
  module?: string;
}

/**
 * Kernel symbols read in place from kallsyms' own tables (kallsyms.ts KallsymsNameIndex): a name
 * or a type is decoded only when a lookup returns that entry, so a table of 100k+ symbols costs
 * one typed array of addresses instead of a string and an object per symbol.
 */
export interface KernelSymbolSource {
  readonly count: number;
  name(i: number): string;
  type(i: number): string;
  /** entries with this name, in kallsyms order */
  indexes(name: string): number[];
}

/** lookup answers kept */
const MAX_HITS = 65536;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class SymbolTable {
  /** the kernel tier (setKernel): kallsyms entries by index, and their order by address */
  private kernel: KernelSymbolSource | null = null;
  private kaddrs: BigUint64Array = new BigUint64Array(0);
  private korder: Uint32Array | null = null; // null: kallsyms order is address order
  private kcache = new Map<number, Sym>();
  private kmax = -1n;
  private allCache: Sym[] | null = null;
  /** symbols added one by one (module and export-table symbols; all of them without a kernel tier) */
  private sorted: Sym[] = [];
  private byName = new Map<string, Sym[]>();
  private regions: Region[] = [];
  private dirty = false;
  /** highest kernel (non-module) symbol address: the kernel region reaches it, as crash's does */
  private kernelMax = -1n;
  private pending: Array<{ load: () => void; regions: boolean }> = [];

  /**
   * Work that adds more symbols (module symbol tables need BTF and many reads): run on the first
   * lookup that the symbols present cannot answer, not when the table is built. `regions`: the
   * work adds address regions (module symbols), so an address outside every region runs it; work
   * that only adds names (export-table symbols) runs on a name that is not found.
   */
  defer(load: () => void, regions = true): void {
    this.pending.push({ load, regions });
  }

  private flush(regionsOnly = false): void {
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i];
      if (regionsOnly && !p.regions) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      p.load();
    }
  }

  private hasPending(regionsOnly = false): boolean {
    return this.pending.some((p) => !regionsOnly || p.regions);
  }

  add(sym: Sym): void {
    this.sorted.push(sym);
    const l = this.byName.get(sym.name);
    if (l) l.push(sym);
    else this.byName.set(sym.name, [sym]);
    this.dirty = true;
    this.hits.clear();
  }

  /** A region [start, end) in which addresses resolve to the symbols inside it. */
  addRegion(start: bigint, end: bigint, module?: string): void {
    this.regions.push({ start, end, module });
    this.hits.clear();
  }

  /** Use kallsyms' tables in place as the kernel's symbols; addrs[i] is entry i's address. */
  setKernel(k: KernelSymbolSource, addrs: BigUint64Array): void {
    this.kernel = k;
    this.kaddrs = addrs;
    this.kcache.clear();
    this.allCache = null;
    const arena = arenaOf(addrs);
    let sorted = arena ? arena.fn.u64_sorted(addrs.byteOffset, addrs.length) === 1 : true;
    // compared as 32-bit halves (high, low): reading a BigUint64Array makes a BigInt per element
    const h = LITTLE_ENDIAN && !arena ? new Uint32Array(addrs.buffer, addrs.byteOffset, addrs.length * 2) : null;
    for (let i = 1; i < addrs.length && sorted && !arena; i++) {
      if (h ? h[2 * i + 1] < h[2 * i - 1] || (h[2 * i + 1] === h[2 * i - 1] && h[2 * i] < h[2 * i - 2]) : addrs[i] < addrs[i - 1]) sorted = false;
    }
    if (sorted) this.korder = null;
    else {
      const order = Array.from({ length: addrs.length }, (_, i) => i);
      order.sort((a, b) => (addrs[a] < addrs[b] ? -1 : addrs[a] > addrs[b] ? 1 : a - b));
      this.korder = Uint32Array.from(order);
    }
    this.kmax = addrs.length ? this.kaddr(addrs.length - 1) : -1n;
    this.dirty = true;
    this.hits.clear();
  }

  /** Address of the kernel entry at position p of address order. */
  private kaddr(p: number): bigint {
    return this.kaddrs[this.korder ? this.korder[p] : p];
  }

  private ksym(p: number): Sym {
    return this.ksymAt(this.korder ? this.korder[p] : p);
  }

  /** The Sym of kallsyms entry i (made once). */
  private ksymAt(i: number): Sym {
    let s = this.kcache.get(i);
    if (!s) {
      s = { name: this.kernel!.name(i), address: this.kaddrs[i], type: this.kernel!.type(i) };
      this.kcache.set(i, s);
    }
    return s;
  }

  /** Position in address order of the last kernel entry with address <= addr, or -1. */
  private kfloor(addr: bigint): number {
    return floorIndex(this.kaddrs.length, (i) => this.kaddr(i), addr);
  }

  /** The greatest symbol address <= addr in either tier, or undefined. */
  private floorAddress(addr: bigint): bigint | undefined {
    const kp = this.kernel ? this.kfloor(addr) : -1;
    const xi = this.floor(addr);
    const ka = kp >= 0 ? this.kaddr(kp) : undefined;
    const xa = xi >= 0 ? this.sorted[xi].address : undefined;
    if (ka === undefined) return xa;
    if (xa === undefined) return ka;
    return ka > xa ? ka : xa;
  }

  private sort(): void {
    if (!this.dirty) return;
    // Aliases at one address are ordered as crash orders its symbol table, so that lookups name
    // the same alias crash does: kernel symbols by name (crash sorts vmlinux's symbols like
    // `nm -n`: by value, then by name in byte order); module symbols exported ones first (crash
    // stores a module's ksymtab symbols before its kallsyms ones), then in symtab order (stable).
    this.sorted.sort((a, b) => this.compare(a, b));
    this.kernelMax = this.kmax;
    for (const x of this.sorted) if (x.module === undefined && x.address > this.kernelMax) this.kernelMax = x.address;
    this.allCache = null;
    this.dirty = false;
  }

  private compare(a: Sym, b: Sym): number {
    const exported = (x: Sym) =>
      x.module !== undefined && (this.byName.get('__ksymtab_' + x.name) ?? []).some((k) => k.module === x.module) ? 0 : 1;
    if (a.address !== b.address) return a.address < b.address ? -1 : 1;
    if (a.module === undefined && b.module === undefined) return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    if (a.module !== b.module) return 0;
    return exported(a) - exported(b);
  }

  get size(): number {
    return this.sorted.length + (this.kernel?.count ?? 0);
  }

  /** Every symbol with this name (kernel first, then modules). */
  lookupName(name: string): Sym[] {
    const l = this.namesNow(name);
    if (l.length || this.pending.length === 0) return l;
    this.flush();
    return this.namesNow(name);
  }

  private namesNow(name: string): Sym[] {
    const l = this.byName.get(name) ?? [];
    if (!this.kernel) return l;
    const k = this.kernel.indexes(name).map((i) => this.ksymAt(i));
    return k.length ? [...k, ...l] : l;
  }

  /** The first symbol with this name; a "module:name" form picks a module's symbol. */
  address(name: string): bigint | undefined {
    const m = /^([\w-]+):(.+)$/.exec(name);
    if (m) return this.lookupName(m[2]).find((s) => s.module === m[1])?.address;
    return this.lookupName(name)[0]?.address;
  }

  regionOf(addr: bigint): Region | undefined {
    const r = this.findRegion(addr);
    if (r || !this.hasPending(true)) return r;
    this.flush(true);
    return this.findRegion(addr);
  }

  private findRegion(addr: bigint): Region | undefined {
    const r = this.regions.find((r) => addr >= r.start && addr < r.end);
    if (r) return r;
    // the kernel image region ends at _end, but crash resolves up to its last symbol
    // (__init_scratch_end and the like live above _end): extend the kernel region to it
    this.sort();
    if (addr > this.kernelMax) return undefined;
    return this.regions.find((r) => r.module === undefined && addr >= r.end && r.end > 0xffffffff80000000n && r.start <= addr);
  }

  /** Index of the last symbol with address <= addr, or -1. */
  private floor(addr: bigint): number {
    this.sort();
    return floorIndex(this.sorted.length, (i) => this.sorted[i].address, addr);
  }

  /** All symbols exactly at addr, in table order. */
  at(addr: bigint): Sym[] {
    let i = this.floor(addr);
    const out: Sym[] = [];
    while (i >= 0 && this.sorted[i].address === addr) out.unshift(this.sorted[i--]);
    if (!this.kernel) return out;
    const k: Sym[] = [];
    for (let p = this.kfloor(addr); p >= 0 && this.kaddr(p) === addr; p--) k.push(this.ksym(p));
    if (!k.length) return out;
    // kernel symbols at one address in name order (as sort() orders them), with the kernel's
    // added ones (export-table names) among them
    const all = [...k, ...out];
    if (all.every((x) => x.module === undefined)) all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return all;
  }

  /**
   * The kernel's (kallsyms) symbols exactly at addr in the kernel's own table order: the order
   * scripts/kallsyms sorted them in (at one address: strong before weak, linker-script section
   * markers such as __sched_text_start last), the order the kernel's own lookup (%pB) takes its
   * first alias from. Empty when the kernel's symbols did not come from kallsyms.
   */
  kallsymsAt(addr: bigint): Sym[] {
    if (!this.kernel) return [];
    const idx: number[] = [];
    for (let p = this.kfloor(addr); p >= 0 && this.kaddr(p) === addr; p--) idx.push(this.korder ? this.korder[p] : p);
    return idx.sort((a, b) => a - b).map((i) => this.ksymAt(i));
  }

  /**
   * The symbol covering addr: nearest at or below it within the same region. Among aliases at one
   * address it picks the one crash's value_search picks: on an exact hit the first in table
   * order, otherwise the last one at the nearest lower address (see sort()).
   */
  lookup(addr: bigint): SymHit | null {
    // the same addresses come back (return addresses of every stack, the same callers in every
    // slab object's alloc/free track): answers are kept until a symbol or region is added
    let hit = this.hits.get(addr);
    if (hit === undefined) {
      hit = this.lookupNow(addr);
      if (this.hits.size >= MAX_HITS) this.hits.clear();
      this.hits.set(addr, hit);
    }
    return hit;
  }

  private hits = new Map<bigint, SymHit | null>();

  private lookupNow(addr: bigint): SymHit | null {
    const region = this.regionOf(addr);
    if (!region) return null;
    if (this.kernel) {
      const a = this.floorAddress(addr);
      if (a === undefined || a < region.start) return null;
      const here = this.at(a);
      const sym = a === addr ? here[0] : here[here.length - 1];
      if (!sym || sym.module !== region.module) return null;
      return { sym, offset: Number(addr - a) };
    }
    let i = this.floor(addr);
    if (i < 0) return null;
    const a = this.sorted[i].address;
    if (a < region.start) return null;
    if (a === addr) while (i > 0 && this.sorted[i - 1].address === a) i--;
    const sym = this.sorted[i];
    if (sym.module !== region.module) return null;
    return { sym, offset: Number(addr - a) };
  }

  /** The next symbol address after sym (for function lengths); undefined at the end of a region. */
  nextAddress(addr: bigint): bigint | undefined {
    this.sort();
    let next: bigint | undefined;
    let i = this.floor(addr) + 1;
    while (i < this.sorted.length && this.sorted[i].address === this.sorted[i - 1]?.address) i++;
    for (; i < this.sorted.length; i++) {
      if (this.sorted[i].address > addr) {
        next = this.sorted[i].address;
        break;
      }
    }
    if (this.kernel) {
      const p = this.kfloor(addr) + 1;
      if (p < this.kaddrs.length) {
        const ka = this.kaddr(p);
        if (next === undefined || ka < next) next = ka;
      }
    }
    return next;
  }

  all(): readonly Sym[] {
    this.flush();
    this.sort();
    if (!this.kernel) return this.sorted;
    if (!this.allCache) {
      const all: Sym[] = [];
      for (let p = 0; p < this.kaddrs.length; p++) all.push(this.ksym(p));
      for (const x of this.sorted) all.push(x);
      all.sort((a, b) => this.compare(a, b));
      this.allCache = all;
    }
    return this.allCache;
  }

  /** Names starting with prefix (completion), at most `limit`. */
  complete(prefix: string, limit = 50): string[] {
    this.flush();
    const out: string[] = [];
    const names = this.kernel ? new Set([...this.all()].map((x) => x.name)) : this.byName.keys();
    for (const k of names) {
      if (k.startsWith(prefix)) {
        out.push(k);
        if (out.length >= limit) break;
      }
    }
    return out.sort();
  }
}

/** "name+0x1d" / "name+29" / "name" */
export function formatSymOffset(hit: SymHit | null, hexOffset = true): string {
  if (!hit) return '';
  const off = hit.offset ? (hexOffset ? `+0x${hit.offset.toString(16)}` : `+${hit.offset}`) : '';
  return `${hit.sym.name}${off}${hit.sym.module ? ` [${hit.sym.module}]` : ''}`;
}
