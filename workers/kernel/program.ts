import { DumpError, MemoryError, expectedError } from '../errors';
import { noteProblem } from '../problems';
import type { ByteSource } from '../source/bytesource';
import { CachedSource } from '../source/cached';
import type { PhysicalDump } from '../format/types';
import { openPhysical, type FormatHandlers } from '../format/detect';
import { X86_64, START_KERNEL_MAP } from '../arch/x86_64';
import { VmcoreInfo, shownLine } from './vmcoreinfo';
import { KernelMemory } from './memory';
import { readKallsyms, KallsymsNameIndex, type KallsymsRaw } from './kallsyms';
import { SymbolTable } from './symbols';
import { Btf, btfArenaBytes, parseBtf } from './btf';
import { findBtfInMemory } from './btf-find';
import { arenaOf, newArena } from './bulk';
import { Obj } from './object';
import { dumpIdentity, relocate, type DebugInput } from './debuginfo';
import { cstr } from '../bytes';

export interface OpenOptions {
  /** byte budget of the raw file block cache (default: what the source asks for, else 64 MiB) */
  cacheBytes?: number;
  /** and the most it may be, whatever the source asks for */
  maxCacheBytes?: number;
  handlers?: FormatHandlers;
  /** second inputs (a vmlinux, a System.map), matched to the dump before use; a mismatch throws */
  debug?: DebugInput[];
  /** tests: behave as if the dump had no in-memory BTF / kallsyms (a kernel built without them) */
  hide?: { btf?: boolean; kallsyms?: boolean };
}

/** Something the engine could not provide, with why and what the user can add. */
export interface Unavailable {
  what: string;
  why: string;
  remedy?: string;
}

let defaultHandlers: FormatHandlers = {};
/** Registered by workers/format/index.ts so that Program.open knows every format. */
export function registerFormats(h: FormatHandlers): void {
  defaultHandlers = { ...defaultHandlers, ...h };
}

/** A key of Program's cache that carries its value's type: recall/remember/memo need no cast. */
export class CacheKey<T> {
  declare private readonly _value: T;
  constructor(readonly name: string) {}
}

export function cacheKey<T>(name: string): CacheKey<T> {
  return new CacheKey<T>(name);
}

const PERCPU_OFFSETS_KEY = cacheKey<bigint[]>('percpu.offsets');
/** how the kallsyms addresses are encoded (set when the symbol table was built) */
export const KALLSYMS_ENCODING_KEY = cacheKey<KallsymsRaw['encoding']>('kallsyms.encoding');
/** how the kallsyms tables were found */
export const KALLSYMS_HOW_KEY = cacheKey<string>('kallsyms.how');
/** how the kernel's BTF was found */
export const BTF_HOW_KEY = cacheKey<string>('btf.how');

/**
 * One opened dump: physical memory, translation, VMCOREINFO, symbols and (lazily) types.
 * Everything is computed on first use; opening reads headers, notes and VMCOREINFO only.
 */
export class Program {
  readonly src: ByteSource;
  readonly phys: PhysicalDump;
  readonly info: VmcoreInfo;
  readonly arch: X86_64;
  readonly mem: KernelMemory;
  readonly unavailable: Unavailable[] = [];
  private _symbols: SymbolTable | null = null;
  /** extensions (btf, modules, ...) attach lazily computed state here: use recall/remember/memo */
  readonly cache = new Map<string, unknown>();

  /** The value stored under a typed key, or undefined. */
  recall<T>(key: CacheKey<T>): T | undefined {
    return this.cache.get(key.name) as T | undefined;
  }

  /** Store a value under a typed key; returns it. */
  remember<T>(key: CacheKey<T>, value: T): T {
    this.cache.set(key.name, value);
    return value;
  }

  /** The value under a typed key, computed once (a throw stores nothing). */
  memo<T>(key: CacheKey<T>, compute: () => T): T {
    if (this.cache.has(key.name)) return this.cache.get(key.name) as T;
    return this.remember(key, compute());
  }

  /** run once when the symbol table is first used, after kallsyms (deferred until a name lookup) */
  private readonly symbolLoaders: readonly SymbolLoader[];

  constructor(src: ByteSource, phys: PhysicalDump, symbolLoaders: readonly SymbolLoader[]) {
    this.src = src;
    this.phys = phys;
    this.symbolLoaders = symbolLoaders;
    if (!phys.vmcoreinfo) {
      throw new DumpError(
        `${src.name}: the dump has no VMCOREINFO note (QEMU dumps need -device vmcoreinfo and the guest's qemu_fw_cfg driver); cannot locate the kernel`,
      );
    }
    this.info = new VmcoreInfo(phys.vmcoreinfo);
    if (this.info.malformed.length) {
      const n = this.info.malformed.length;
      phys.warnings.push(`VMCOREINFO: ${n} damaged line${n > 1 ? 's' : ''} (e.g. "${shownLine(this.info.malformed[0])}"); what ${n > 1 ? 'they' : 'it'} said is missing`);
    }
    this.arch = new X86_64(phys, this.info);
    this.mem = new KernelMemory(phys, this.arch);
    this.findPageOffset();
  }

  /** Open a dump; kernel/open.ts's openProgram passes the kernel's symbol loaders. */
  static open(src: ByteSource, opts: OpenOptions, symbolLoaders: readonly SymbolLoader[]): Program {
    const budget = Math.min(opts.cacheBytes ?? src.cacheBytes ?? 64 * 1024 * 1024, opts.maxCacheBytes ?? Infinity);
    const cached = new CachedSource(src, src.preferredBlockSize ?? 16 * 1024, budget);
    const phys = openPhysical(cached, opts.handlers ?? defaultHandlers);
    const prog = new Program(cached, phys, symbolLoaders);
    prog.hide = opts.hide ?? {};
    for (const d of opts.debug ?? []) if (!bindsToProgram(d)) prog.attachDebug(d);
    // modules bind after the kernel's own inputs: they read the module list with its types
    for (const d of opts.debug ?? []) if (bindsToProgram(d)) prog.attachDebug(d);
    return prog;
  }

  /** Second inputs in use (vmlinux, System.map), each matched to this dump. */
  readonly debug: DebugInput[] = [];
  /** what tests asked to hide of the dump's own debug data (see OpenOptions.hide) */
  hide: { btf?: boolean; kallsyms?: boolean } = {};

  /**
   * Use a vmlinux or System.map with this dump: refused (DumpError, one line) unless it matches
   * the dump's build id / linux_banner / VMCOREINFO symbols. Call before the first command.
   */
  attachDebug(d: DebugInput): void {
    d.match(
      dumpIdentity(this.info, (addr, max) => {
        try {
          return cstr(this.mem.read(addr, max));
        } catch (e) {
          if (e instanceof MemoryError) return null;
          throw e;
        }
      }),
    );
    if (bindsToProgram(d)) d.attach(this);
    this.debug.push(d);
  }

  /** Kernel symbols of the second inputs, relocated by the KASLR offset (null: none given). */
  private debugSymbols(): { name: string; address: bigint; type: string }[] | null {
    for (const d of this.debug) {
      const s = d.linkSymbols();
      if (s && s.length) {
        const off = this.info.kernelOffset;
        return s.map((x) => ({ name: x.name, address: relocate(x.address, off), type: x.type }));
      }
    }
    return null;
  }

  /**
   * The direct map base: page_offset_base when the kernel randomizes it (CONFIG_RANDOMIZE_MEMORY),
   * else the fixed base for the paging mode; checked by a page-table walk.
   */
  private findPageOffset(): void {
    const candidates: bigint[] = [];
    const sym = this.info.symbol('page_offset_base');
    if (sym) {
      try {
        candidates.push(this.mem.u64(sym));
      } catch (e) {
        expectedError(e);
        /* fall through */
      }
    }
    // mem_section (SPARSEMEM) is allocated in the direct map: its translation gives the base.
    const ms = this.info.symbol('mem_section');
    if (ms) {
      try {
        const pa = this.arch.walk(ms).phys;
        candidates.push(ms - BigInt(pa));
      } catch (e) {
        expectedError(e);
        /* fall through */
      }
    }
    candidates.push(this.arch.l5 ? 0xff11000000000000n : 0xffff888000000000n);
    for (const c of candidates) {
      if (this.checkPageOffset(c) === 'yes') {
        this.arch.pageOffset = c;
        return;
      }
    }
    // The page tables could not confirm it (a damaged or missing page-table page): the kernel's
    // own page_offset_base still gives the direct map by arithmetic, unless a walk contradicts it.
    let first = sym ? candidates[0] : undefined;
    if (first === undefined) {
      // VMCOREINFO lacks page_offset_base (before 6.x kernels export it there): the variable is
      // in the kernel image, found by kallsyms and read by arithmetic, no page table needed
      try {
        const a = this.kernelSymbolAddress('page_offset_base');
        if (a !== undefined) first = this.mem.u64(a);
      } catch (e) {
        if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      }
    }
    if (first !== undefined && this.plausiblePageOffset(first) && this.checkPageOffset(first) === 'unknown') {
      this.arch.pageOffset = first;
      const why = `page_offset_base 0x${first.toString(16)} used without confirmation: the page tables that map it are unreadable`;
      this.unavailable.push({ what: 'direct map check', why });
      // damage every answer should mention (commands carry the dump's warnings)
      this.phys.warnings.push(`direct map: ${why}`);
      return;
    }
    this.unavailable.push({
      what: 'direct map base',
      why: 'page_offset_base could not be confirmed by a page-table walk; translating every address by walking page tables',
    });
  }

  /** 'yes' when a walk maps base + pa to pa, 'no' when a walk contradicts it, else 'unknown'. */
  private checkPageOffset(base: bigint): 'yes' | 'no' | 'unknown' {
    const r = this.phys.ranges();
    let unmapped = false;
    // check a page inside the first few ranges
    for (const range of r.slice(0, 4)) {
      const pa = range.start + 0x1000 < range.end ? range.start + 0x1000 : range.start;
      try {
        if (this.arch.walk(base + BigInt(pa)).phys !== pa) return 'no';
        return 'yes';
      } catch (e) {
        if (e instanceof MemoryError && e.kind === 'unmapped') unmapped = true;
        continue;
      }
    }
    return unmapped ? 'no' : 'unknown';
  }

  /** A direct map base the kernel could have chosen: 1 GiB aligned, in the kernel half, below the text map. */
  private plausiblePageOffset(v: bigint): boolean {
    const low = this.arch.l5 ? 0xff00000000000000n : 0xffff800000000000n;
    return v >= low && v < START_KERNEL_MAP && (v & ((1n << 30n) - 1n)) === 0n;
  }

  /** Kernel and module symbols (kallsyms from memory), loaded on first use. */
  private _kallsyms: KallsymsRaw | null | undefined;
  private _nameIndex: KallsymsNameIndex | null | undefined;

  /** The raw kallsyms tables (names, types, addresses), read once; null when unavailable. */
  private kallsyms(): KallsymsRaw | null {
    if (this._kallsyms !== undefined) return this._kallsyms;
    try {
      if (this.hide.kallsyms) throw new DumpError('kallsyms in memory hidden (test option)');
      this._kallsyms = readKallsyms(this.mem, this.info);
      this.remember(KALLSYMS_ENCODING_KEY, this._kallsyms.encoding);
      this.remember(KALLSYMS_HOW_KEY, this._kallsyms.how);
    } catch (e) {
      if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
      this._kallsyms = null;
      if (this.debug.some((d) => d.linkSymbols()?.length)) return null; // a vmlinux/System.map supplies them
      this.unavailable.push({
        what: 'kernel symbols',
        why: e.message,
        remedy: 'open a System.map or vmlinux for this kernel alongside the dump',
      });
    }
    return this._kallsyms;
  }

  /** Kernel and module symbols (kallsyms from memory), loaded on first use. */
  get symbols(): SymbolTable {
    if (this._symbols) return this._symbols;
    const t = new SymbolTable();
    this._symbols = t;
    const index = this.kernelSymbolIndex();
    let addrs: BigUint64Array | null = null;
    if (index) {
      try {
        addrs = index.addresses();
        this.remember(KALLSYMS_ENCODING_KEY, index.encoding);
      } catch (e) {
        if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
      }
    }
    if (index && addrs) {
      // kallsyms' tables in place: no string or object per symbol until a lookup returns it
      t.setKernel(index, addrs);
      addImageRegions(t, addrs);
    }
    const k = index && addrs ? null : this.kallsyms();
    const fromFile = k || (index && addrs) ? null : this.debugSymbols();
    if (fromFile) {
      for (const s of fromFile) t.add(s);
      addImageRegions(t, fromFile.map((s) => s.address));
    }
    if (k) {
      for (let i = 0; i < k.names.length; i++) t.add({ name: k.names[i], address: k.addrs[i], type: k.types[i] });
      addImageRegions(t, k.addrs);
    }
    for (const { load, regions } of this.symbolLoaders) t.defer(() => load(this, t), regions);
    return t;
  }

  private _btf: Btf | null = null;
  private _btfError: string | null = null;

  /** Whether BTF types are available (loads them on first call). */
  get hasBtf(): boolean {
    try {
      this.btf;
      return true;
    } catch (e) {
      expectedError(e);
      return false;
    }
  }

  /**
   * The kernel's BTF, read from its own memory between __start_BTF and __stop_BTF
   * (CONFIG_DEBUG_INFO_BTF), or given with setBtf() from a vmlinux file. Throws a DumpError
   * saying why when unavailable.
   */
  get btf(): Btf {
    if (this._btf) return this._btf;
    if (this._btfError) throw new DumpError(this._btfError);
    try {
      if (this.hide.btf) throw new DumpError('BTF in memory hidden (test option)');
      let start = this.symbolAddress('__start_BTF');
      const stop = this.symbolAddress('__stop_BTF');
      let len = start !== undefined && stop !== undefined ? Number(stop - start) : 0;
      if (start === undefined || stop === undefined) {
        // no symbols for it: look for the .BTF section itself in the read-only data
        const why = this.symbolsMissingWhy();
        try {
          const loc = findBtfInMemory(this.mem, this.info);
          start = loc.start;
          len = loc.len;
          this.remember(BTF_HOW_KEY, loc.how);
        } catch (e) {
          if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
          throw new DumpError(
            why
              ? `kernel symbols are unavailable (${why}), so __start_BTF/__stop_BTF are unknown, and ${e.message}`
              : `the kernel has no __start_BTF/__stop_BTF symbols and ${e.message} (built without CONFIG_DEBUG_INFO_BTF?)`,
          );
        }
      } else this.remember(BTF_HOW_KEY, '__start_BTF..__stop_BTF');
      if (len < 24 || len > 256 << 20) throw new DumpError(`BTF section is ${len} bytes`);
      // into a WebAssembly memory with room for the record tables and name indexes (bulk.ts)
      const arena = newArena(btfArenaBytes(len));
      const at = arena?.alloc(len) ?? null;
      this._btf = parseBtf(this.mem.read(start, len, arena && at !== null ? arena.u8(at, len) : undefined));
      return this._btf;
    } catch (e) {
      for (const d of this.debug) {
        const b = d.btf();
        if (b) return (this._btf = b);
      }
      const why = e instanceof DumpError || e instanceof MemoryError ? e.message : String(e);
      this._btfError = `kernel types (BTF) unavailable: ${why}; open a vmlinux with .BTF for this kernel`;
      this.unavailable.push({ what: 'kernel types (BTF)', why, remedy: 'open a vmlinux (with a .BTF section) for this kernel' });
      throw new DumpError(this._btfError);
    }
  }

  /** Why kernel symbols are unavailable (the kallsyms tables could not be read), or null. */
  symbolsMissingWhy(): string | null {
    // the name index decodes the same tables: when it was built, symbols are there (no full read)
    if (this._nameIndex || this._kallsyms) return null;
    if (this.kallsyms() !== null) return null;
    return this.unavailable.find((u) => u.what === 'kernel symbols')?.why ?? 'kallsyms unreadable';
  }

  /** The error for a kernel symbol that is not there: absent from the kernel, or every symbol unknown (and why). */
  missingSymbol(name: string, what = `no ${name} symbol`): DumpError {
    const why = this.symbolsMissingWhy();
    return new DumpError(why ? `${what}: kernel symbols unavailable (${why})` : what);
  }

  /** Use BTF from elsewhere (a vmlinux file's .BTF section). */
  setBtf(btf: Btf): void {
    this._btf = btf;
    this._btfError = null;
  }

  /** A type id by C name ("struct sk_buff", "sk_buff", "task_struct *" not accepted). */
  type(name: string): number {
    const id = this.btf.findType(name);
    if (id === null) throw new DumpError(`no type named ${name} in the kernel's BTF`);
    return id;
  }

  /** Like type(), but null when absent (optional members of other kernel versions). */
  findType(name: string): number | null {
    return this.btf.findType(name);
  }

  /** A typed object at an address. */
  obj(type: string | number, address: bigint): Obj {
    return new Obj(this, typeof type === 'number' ? type : this.type(type), address);
  }

  /** A global variable as an object of the given type (BTF has no types for most globals). */
  variable(name: string, type: string | number): Obj {
    const a = this.symbolAddress(name);
    if (a === undefined) throw new DumpError(`no symbol ${name}`);
    return this.obj(type, a);
  }

  sizeof(type: string | number): number {
    return this.btf.sizeof(typeof type === 'number' ? type : this.type(type));
  }

  /** offsetof(type, member path); throws DumpError when the member does not exist. */
  offsetof(type: string | number, member: string): number {
    const id = typeof type === 'number' ? type : this.type(type);
    const loc = this.btf.memberPath(id, member);
    if (!loc) throw new DumpError(`${this.btf.typeName(id)} has no member ${member}`);
    return loc.offset;
  }

  /** Whether a struct has a member (kernel-version differences). */
  hasMember(type: string, member: string): boolean {
    const id = this.findType(type);
    return id !== null && this.btf.memberPath(id, member) !== null;
  }

  /** container_of(ptr, type, member). */
  containerOf(ptr: bigint, type: string | number, member: string): Obj {
    return this.obj(type, ptr - BigInt(this.offsetof(type, member)));
  }

  /**
   * Address of a kernel symbol: VMCOREINFO first (no kallsyms needed), then kallsyms. When the
   * kallsyms name index answers "no such symbol" that is the answer: analyses probe optional
   * symbols of other kernel versions (contig_page_data, pcpu_hot, ...), and a miss must not build
   * the whole symbol table and load every module's symbols. Names typed by a user, which may be
   * module symbols, go to `symbols.address` (see `anySymbolAddress`).
   */
  symbolAddress(name: string): bigint | undefined {
    const k = this.kernelSymbolAddress(name);
    if (k !== undefined || this._nameIndex) return k;
    const v = this.symbols.address(name);
    if (v === undefined && this._kallsyms === null) {
      // a missing symbol is no fact about the kernel when its symbol table is unreadable
      const u = this.unavailable.find((x) => x.what === 'kernel symbols');
      noteProblem('kallsyms', `kernel symbols unreadable (${u?.why ?? 'kallsyms'}): ${name} and other symbols cannot be found`);
    }
    return v;
  }

  /** Address of any symbol by name, kernel or module ("module:name" picks a module's). */
  anySymbolAddress(name: string): bigint | undefined {
    return this.kernelSymbolAddress(name) ?? this.symbols.address(name);
  }

  /**
   * A kernel (not module) symbol's address from VMCOREINFO or kallsyms alone: analyses need a few
   * dozen symbols by name, answered from a hashed name index over the raw kallsyms tables without
   * decoding every name or building the sorted table (sym, bt and dis build it). Undefined when
   * the kernel has no such symbol: optional symbols of other versions cost nothing more.
   */
  kernelSymbolAddress(name: string): bigint | undefined {
    const v = this.info.symbol(name);
    if (v !== undefined) return v;
    if (this._symbols && !this._nameIndex) return this._symbols.address(name);
    if (this.debug.length && (this.hide.kallsyms || this._nameIndex === null) && this.debug.some((d) => d.linkSymbols()?.length))
      return this.symbols.address(name);
    if (this.hide.kallsyms) return undefined;
    if (name.includes(':')) return undefined;
    try {
      const idx = this.kernelSymbolIndex();
      if (idx) return idx.address(name);
    } catch (e) {
      if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
      return undefined;
    }
    // no kallsyms in memory: a vmlinux's or System.map's symbols, when given
    return this.debug.some((d) => d.linkSymbols()?.length) ? this.symbols.address(name) : undefined;
  }

  /** The kallsyms name index (built once), or null when kallsyms cannot be read that way. */
  private kernelSymbolIndex(): KallsymsNameIndex | null {
    if (this.hide.kallsyms) return null;
    if (this._nameIndex !== undefined) return this._nameIndex;
    try {
      this._nameIndex = new KallsymsNameIndex(this.mem, this.info);
      this.remember(KALLSYMS_HOW_KEY, this._nameIndex.how);
    } catch (e) {
      if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
      this._nameIndex = null; // the full table reports why
    }
    return this._nameIndex;
  }

  /** Per-CPU offsets (__per_cpu_offset[cpu]) for all possible CPUs. */
  perCpuOffsets(): bigint[] {
    const cached = this.recall(PERCPU_OFFSETS_KEY);
    if (cached) return cached;
    const a = this.symbolAddress('__per_cpu_offset');
    const out: bigint[] = [];
    if (a !== undefined) {
      const nr = this.nrCpuIds();
      for (let i = 0; i < nr; i++) out.push(this.mem.u64(a + BigInt(i * 8)));
    }
    this.remember(PERCPU_OFFSETS_KEY, out);
    return out;
  }

  /** nr_cpu_ids (possible CPUs). */
  nrCpuIds(): number {
    const a = this.symbolAddress('nr_cpu_ids');
    if (a !== undefined) {
      try {
        const n = this.mem.u32(a);
        if (n > 0 && n <= 8192) return n;
      } catch (e) {
        expectedError(e);
        /* fall through */
      }
    }
    return Math.max(1, this.phys.prstatus.length);
  }

  /** Address of per-CPU variable `name` on `cpu`. */
  perCpu(name: string | bigint, cpu: number): bigint {
    const base = typeof name === 'bigint' ? name : this.symbolAddress(name);
    if (base === undefined) throw new DumpError(`no per-cpu symbol ${name}`);
    const off = this.perCpuOffsets()[cpu];
    if (off === undefined) throw new DumpError(`no per-cpu offset for cpu ${cpu}`);
    return BigInt.asUintN(64, base + off);
  }

  /**
   * The inverse of perCpu: the CPU whose per-CPU area ([__per_cpu_start, __per_cpu_end) moved by
   * its offset) holds `addr`, and the per-CPU address there (a per-CPU symbol's address plus the
   * offset into it); null outside every CPU's area.
   */
  perCpuAreaOf(addr: bigint): { cpu: number; percpu: bigint } | null {
    const s = this.symbolAddress('__per_cpu_start');
    const e = this.symbolAddress('__per_cpu_end');
    if (s === undefined || e === undefined) return null;
    const offs = this.perCpuOffsets();
    for (let cpu = 0; cpu < offs.length; cpu++) {
      const base = BigInt.asUintN(64, s + offs[cpu]);
      if (addr >= base && addr < base + (e - s)) return { cpu, percpu: BigInt.asUintN(64, addr - offs[cpu]) };
    }
    return null;
  }
}

/**
 * Adds symbols the kallsyms table lacks (module symbols, export tables) to the table. The loaders
 * are given to Program.open explicitly (kernel/open.ts), so what the symbol table holds does not
 * depend on which modules happen to be imported. `regions`: the loader adds address regions
 * (modules), so an address lookup outside every known region runs it; loaders that only add names
 * (the export-table symbols) run on a name lookup that misses.
 */
export interface SymbolLoader {
  load: (p: Program, t: SymbolTable) => void;
  regions: boolean;
}

/**
 * The kernel image's symbol region (lowest kernel-text-map address to _end) and, where per-CPU
 * symbols are linked at 0 (kernels < 6.15), the per-CPU region [0, __per_cpu_end).
 */
export function addImageRegions(t: SymbolTable, addrs: ArrayLike<bigint>): void {
  let start = -1n;
  let end = 0n;
  const arena = addrs instanceof BigUint64Array ? arenaOf(addrs) : null;
  const out = arena?.alloc(8, 4) ?? null;
  if (arena && out !== null) {
    // bulk.wat: the first smallest and largest address in the kernel text map
    arena.fn.u64_range((addrs as BigUint64Array).byteOffset, addrs.length, START_KERNEL_MAP, out);
    const [lo, hi] = arena.i32(out, 2);
    if (lo >= 0) {
      start = addrs[lo];
      end = addrs[hi];
    }
  } else if (addrs instanceof BigUint64Array && new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) {
    // by 32-bit halves: reading a BigUint64Array element makes a BigInt
    const h = new Uint32Array(addrs.buffer, addrs.byteOffset, addrs.length * 2);
    const kHi = Number(START_KERNEL_MAP >> 32n);
    const kLo = Number(START_KERNEL_MAP & 0xffffffffn);
    let lo = -1;
    let hi = -1;
    const below = (i: number, j: number) => h[2 * i + 1] < h[2 * j + 1] || (h[2 * i + 1] === h[2 * j + 1] && h[2 * i] < h[2 * j]);
    for (let i = 0; i < addrs.length; i++) {
      if (h[2 * i + 1] < kHi || (h[2 * i + 1] === kHi && h[2 * i] < kLo)) continue;
      if (lo < 0 || below(i, lo)) lo = i;
      if (hi < 0 || below(hi, i)) hi = i;
    }
    if (lo >= 0) {
      start = addrs[lo];
      end = addrs[hi];
    }
  } else {
    for (let i = 0; i < addrs.length; i++) {
      const a = addrs[i];
      if (a >= START_KERNEL_MAP) {
        if (start < 0n || a < start) start = a;
        if (a > end) end = a;
      }
    }
  }
  t.addRegion(start, t.address('_end') ?? end + 1n);
  const pcpuEnd = t.address('__per_cpu_end');
  if (pcpuEnd !== undefined && pcpuEnd < START_KERNEL_MAP) t.addRegion(0n, pcpuEnd);
}

/**
 * A second input that needs the opened kernel to bind (a module's .ko: which loaded module, where
 * its sections are): attach() runs after the kernel's own inputs matched and throws a one-line
 * DumpError on a mismatch.
 */
interface BindsToProgram {
  attach(prog: Program): void;
}

function bindsToProgram(d: DebugInput): d is DebugInput & BindsToProgram {
  return typeof (d as Partial<BindsToProgram>).attach === 'function';
}
