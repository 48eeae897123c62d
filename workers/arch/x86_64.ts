import { DumpError, MemoryError, expectedError } from '../errors';
import { u64 } from '../bytes';
import type { PhysicalDump } from '../format/types';
import { LruCache } from '../source/lru';

/** Start of the kernel text mapping on x86_64 (arch/x86/include/asm/page_64_types.h). */
export const START_KERNEL_MAP = 0xffffffff80000000n;
const ADDR_MASK = 0x000ffffffffff000n;
const PRESENT = 1n;
const PSE = 1n << 7n;

export interface WalkStep {
  level: 'PGD' | 'P4D' | 'PUD' | 'PMD' | 'PTE';
  /** physical address of the entry */
  entryAddr: number;
  value: bigint;
}

export interface Translation {
  virt: bigint;
  phys: number;
  pageSize: number;
  /** page table base (physical) and the entries read on the way, top level first */
  pgd: number;
  steps: WalkStep[];
  /** how it was translated */
  via: 'page-table' | 'direct-map' | 'kernel-text';
}

/**
 * x86_64 virtual -> physical. Every translation can be done by walking the kernel page tables
 * from init_top_pgt (4- or 5-level, 1 GiB and 2 MiB pages); the direct map (page_offset_base)
 * and the kernel text mapping (phys_base) are shortcuts once known. KASLR needs nothing special:
 * VMCOREINFO's symbols are the relocated ones, and phys_base says where the image sits.
 */
/** The facts the translation needs from the kernel's VMCOREINFO (the kernel layer's VmcoreInfo has them). */
export interface ArchInfo {
  readonly kernelOffset: bigint;
  number(key: string): bigint | undefined;
  symbol(name: string): bigint | undefined;
}

export class X86_64 {
  readonly physBase: bigint;
  readonly kernelOffset: bigint;
  readonly l5: boolean;
  readonly pgdPhys: number;
  readonly kernelImageSize: bigint;
  readonly smeMask: bigint;
  /** direct map base, set by the kernel layer once page_offset_base is read */
  pageOffset: bigint | null = null;
  private tcache = new LruCache<bigint, number>(4 << 20, () => 16);

  constructor(
    private phys: PhysicalDump,
    info: ArchInfo,
  ) {
    const pb = info.number('phys_base');
    const pgt = info.symbol('init_top_pgt') ?? info.symbol('swapper_pg_dir');
    if (pb === undefined || pgt === undefined) {
      throw new DumpError(
        'VMCOREINFO lacks NUMBER(phys_base) or SYMBOL(init_top_pgt): cannot translate kernel addresses',
      );
    }
    this.physBase = pb;
    this.kernelOffset = info.kernelOffset;
    this.kernelImageSize = info.number('KERNEL_IMAGE_SIZE') ?? 1n << 30n;
    this.smeMask = info.number('sme_mask') ?? 0n;
    const p = this.textToPhys(pgt);
    if (p === null) throw new DumpError(`init_top_pgt 0x${pgt.toString(16)} is not in the kernel text mapping`);
    this.pgdPhys = p;
    // 4- or 5-level paging: VMCOREINFO's NUMBER(pgtable_l5_enabled) when the kernel exports it,
    // else the depth whose walk of kernel-image addresses lands where phys_base says they are
    const l5 = info.number('pgtable_l5_enabled');
    const probes = [pgt, info.symbol('_stext'), info.symbol('init_uts_ns')].filter((x): x is bigint => x !== undefined);
    this.l5 = l5 !== undefined ? l5 !== 0n : probePagingDepth(phys, p, probes, (va) => this.textToPhys(va), this.smeMask) === 5;
  }

  /** Kernel image addresses: PA = VA - __START_KERNEL_map + phys_base. */
  textToPhys(va: bigint): number | null {
    if (va < START_KERNEL_MAP || va >= START_KERNEL_MAP + this.kernelImageSize) return null;
    return Number(BigInt.asUintN(64, va - START_KERNEL_MAP + this.physBase));
  }

  isKernelText(va: bigint): boolean {
    return va >= START_KERNEL_MAP && va < START_KERNEL_MAP + this.kernelImageSize;
  }

  private entry(addr: number, va: bigint): bigint {
    try {
      return u64(this.phys.readPhys(addr, 8), 0);
    } catch (e) {
      if (e instanceof MemoryError) {
        // a page table we cannot read: the address may well be mapped, we cannot tell, so this
        // is "unreadable" (page not in dump, truncated, corrupt), never "not mapped"; a table
        // outside the dump's memory means the entry pointing to it is damaged
        const kind = e.kind === 'no-such-memory' || e.kind === 'unmapped' ? 'corrupt' : e.kind;
        throw new MemoryError(kind, va, 'virtual', `page table at physical 0x${addr.toString(16)} not readable: ${e.message}`);
      }
      throw e;
    }
  }

  /** Full page-table walk, with every entry (for `vtop`). Throws MemoryError('unmapped'). */
  walk(va: bigint, pgd = this.pgdPhys): Translation {
    return walkTables(va, pgd, this.l5, this.smeMask, (addr) => this.entry(addr, va));
  }

  /** Virtual -> physical, fast paths first, cached. Throws MemoryError('unmapped'). */
  vtop(va: bigint): number {
    va = BigInt.asUintN(64, va);
    if (this.pageOffset !== null && va >= this.pageOffset && va < this.pageOffset + BigInt(this.phys.maxPhys)) {
      return Number(va - this.pageOffset);
    }
    const t = this.textToPhys(va);
    if (t !== null) return t;
    const page = va & ~0xfffn;
    const hit = this.tcache.get(page);
    if (hit !== undefined) return hit + Number(va & 0xfffn);
    const tr = this.walk(page);
    this.tcache.set(page, tr.phys);
    return tr.phys + Number(va & 0xfffn);
  }

  /** Physical -> virtual in the direct map (needs page_offset_base). */
  ptov(pa: number): bigint | null {
    return this.pageOffset === null ? null : this.pageOffset + BigInt(pa);
  }

  /** Canonical 48- or 57-bit kernel address? */
  isKernelAddress(va: bigint): boolean {
    return this.l5 ? va >= 0xff00000000000000n : va >= 0xffff800000000000n;
  }
}

/**
 * The x86_64 page-table walk from the top table at physical `pgd`: 4 levels (PGD, PUD, PMD, PTE)
 * or 5 with la57 (PGD, P4D, PUD, PMD, PTE), 1 GiB and 2 MiB leaves. `entry` reads one 8-byte
 * entry by physical address (and throws a MemoryError when it cannot).
 */
export function walkTables(va: bigint, pgd: number, l5: boolean, smeMask: bigint, entry: (addr: number) => bigint): Translation {
  const steps: WalkStep[] = [];
  const levels: Array<[WalkStep['level'], bigint]> = l5
    ? [['PGD', 48n], ['P4D', 39n], ['PUD', 30n], ['PMD', 21n], ['PTE', 12n]]
    : [['PGD', 39n], ['PUD', 30n], ['PMD', 21n], ['PTE', 12n]];
  let table = BigInt(pgd);
  const mask = ADDR_MASK & ~smeMask;
  for (const [level, shift] of levels) {
    const idx = (va >> shift) & 0x1ffn;
    const entryAddr = Number(table + idx * 8n);
    const value = entry(entryAddr);
    steps.push({ level, entryAddr, value });
    if ((value & PRESENT) === 0n) {
      throw new MemoryError('unmapped', va, 'virtual', `${level} entry not present`);
    }
    if ((level === 'PUD' || level === 'PMD') && (value & PSE) !== 0n) {
      const size = 1n << shift;
      const base = value & mask & ~(size - 1n);
      return { virt: va, phys: Number(base | (va & (size - 1n))), pageSize: Number(size), pgd, steps, via: 'page-table' };
    }
    table = value & mask;
  }
  return { virt: va, phys: Number(table | (va & 0xfffn)), pageSize: 4096, pgd, steps, via: 'page-table' };
}

/**
 * Paging depth (4 or 5) read from the dump's own page tables: the depth whose walk puts every
 * probe address (kernel-image addresses, whose physical place phys_base fixes) where it belongs.
 * 4 when neither or both do.
 */
export function probePagingDepth(
  phys: PhysicalDump,
  pgd: number,
  probes: bigint[],
  expected: (va: bigint) => number | null,
  smeMask = 0n,
): 4 | 5 {
  const ok = (l5: boolean) =>
    probes.length > 0 &&
    probes.every((va) => {
      const want = expected(va);
      if (want === null) return false;
      try {
        return walkTables(va, pgd, l5, smeMask, (a) => u64(phys.readPhys(a, 8), 0)).phys === want;
      } catch (e) {
        expectedError(e);
        return false;
      }
    });
  return !ok(false) && ok(true) ? 5 : 4;
}
