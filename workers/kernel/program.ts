import { DumpError, MemoryError } from '../errors';
import type { ByteSource } from '../source/bytesource';
import { CachedSource } from '../source/cached';
import type { PhysicalDump } from '../format/types';
import { openPhysical, type FormatHandlers } from '../format/detect';
import { X86_64, START_KERNEL_MAP } from '../arch/x86_64';
import { VmcoreInfo } from './vmcoreinfo';
import { KernelMemory } from './memory';
import { readKallsyms } from './kallsyms';
import { SymbolTable } from './symbols';

export interface OpenOptions {
  /** byte budget of the raw file block cache */
  cacheBytes?: number;
  handlers?: FormatHandlers;
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
  /** extensions (btf, modules, ...) attach lazily computed state here */
  readonly cache = new Map<string, unknown>();

  constructor(src: ByteSource, phys: PhysicalDump) {
    this.src = src;
    this.phys = phys;
    if (!phys.vmcoreinfo) {
      throw new DumpError(
        `${src.name}: the dump has no VMCOREINFO note (QEMU dumps need -device vmcoreinfo and the guest's qemu_fw_cfg driver); cannot locate the kernel`,
      );
    }
    this.info = new VmcoreInfo(phys.vmcoreinfo);
    this.arch = new X86_64(phys, this.info);
    this.mem = new KernelMemory(phys, this.arch);
    this.findPageOffset();
  }

  static open(src: ByteSource, opts: OpenOptions = {}): Program {
    const cached = new CachedSource(src, 64 * 1024, opts.cacheBytes ?? 64 * 1024 * 1024);
    const phys = openPhysical(cached, opts.handlers ?? defaultHandlers);
    return new Program(cached, phys);
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
      } catch {
        /* fall through */
      }
    }
    // mem_section (SPARSEMEM) is allocated in the direct map: its translation gives the base.
    const ms = this.info.symbol('mem_section');
    if (ms) {
      try {
        const pa = this.arch.walk(ms).phys;
        candidates.push(ms - BigInt(pa));
      } catch {
        /* fall through */
      }
    }
    candidates.push(this.arch.l5 ? 0xff11000000000000n : 0xffff888000000000n);
    for (const c of candidates) {
      if (this.checkPageOffset(c)) {
        this.arch.pageOffset = c;
        return;
      }
    }
    this.unavailable.push({
      what: 'direct map base',
      why: 'page_offset_base could not be confirmed by a page-table walk; translating every address by walking page tables',
    });
  }

  private checkPageOffset(base: bigint): boolean {
    const r = this.phys.ranges();
    // check a page inside the first few ranges
    for (const range of r.slice(0, 4)) {
      const pa = range.start + 0x1000 < range.end ? range.start + 0x1000 : range.start;
      try {
        if (this.arch.walk(base + BigInt(pa)).phys !== pa) return false;
        return true;
      } catch {
        continue;
      }
    }
    return false;
  }

  /** Kernel and module symbols (kallsyms from memory), loaded on first use. */
  get symbols(): SymbolTable {
    if (this._symbols) return this._symbols;
    const t = new SymbolTable();
    this._symbols = t;
    try {
      const k = readKallsyms(this.mem, this.info);
      let end = 0n;
      let start = -1n;
      for (let i = 0; i < k.names.length; i++) {
        t.add({ name: k.names[i], address: k.addrs[i], type: k.types[i] });
        const a = k.addrs[i];
        if (a >= START_KERNEL_MAP) {
          if (start < 0n || a < start) start = a;
          if (a > end) end = a;
        }
      }
      const kend = t.address('_end') ?? end + 1n;
      t.addRegion(start, kend);
      // per-cpu symbols are small offsets (kernels < 6.15 link them at 0)
      const pcpuEnd = t.address('__per_cpu_end');
      if (pcpuEnd !== undefined && pcpuEnd < START_KERNEL_MAP) t.addRegion(0n, pcpuEnd);
      this.cache.set('kallsyms.encoding', k.encoding);
    } catch (e) {
      if (e instanceof DumpError || e instanceof MemoryError) {
        this.unavailable.push({
          what: 'kernel symbols',
          why: e.message,
          remedy: 'open a System.map or vmlinux for this kernel alongside the dump',
        });
      } else throw e;
    }
    for (const hook of symbolHooks) hook(this, t);
    return t;
  }

  /** Address of a kernel symbol: VMCOREINFO first (no kallsyms needed), then kallsyms. */
  symbolAddress(name: string): bigint | undefined {
    return this.info.symbol(name) ?? this.symbols.address(name);
  }

  /** Per-CPU offsets (__per_cpu_offset[cpu]) for all possible CPUs. */
  perCpuOffsets(): bigint[] {
    const cached = this.cache.get('percpu.offsets') as bigint[] | undefined;
    if (cached) return cached;
    const a = this.symbolAddress('__per_cpu_offset');
    const out: bigint[] = [];
    if (a !== undefined) {
      const nr = this.nrCpuIds();
      for (let i = 0; i < nr; i++) out.push(this.mem.u64(a + BigInt(i * 8)));
    }
    this.cache.set('percpu.offsets', out);
    return out;
  }

  /** nr_cpu_ids (possible CPUs). */
  nrCpuIds(): number {
    const a = this.symbolAddress('nr_cpu_ids');
    if (a !== undefined) {
      try {
        const n = this.mem.u32(a);
        if (n > 0 && n <= 8192) return n;
      } catch {
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
}

type SymbolHook = (p: Program, t: SymbolTable) => void;
const symbolHooks: SymbolHook[] = [];
/** Module symbol loading registers here (it needs BTF, which lives in another module). */
export function onSymbolsLoaded(h: SymbolHook): void {
  symbolHooks.push(h);
}
