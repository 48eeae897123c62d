/**
 * The kernel's virtual address layout on this dump (x86_64, Documentation/arch/x86/x86_64/mm.rst):
 * which ranges hold kernel objects a pointer can point to. Bases come from the dump: the direct
 * map from the arch layer (page_offset_base, checked by a page-table walk), vmalloc_base and
 * vmemmap_base when the kernel randomizes them (CONFIG_RANDOMIZE_MEMORY), the kernel image from
 * phys_base/KERNEL_IMAGE_SIZE; the fixed bases of the paging mode (4- or 5-level) otherwise.
 * Sizes are bounded by what this machine has (its physical memory, its struct page size).
 *
 * The UI uses it to decide which numbers are pointers (links, hex-view colours): a value is a
 * kernel pointer when it falls in one of these ranges, not when it starts with 0xffff (5-level
 * kernels put the direct map at 0xff11..., and -ENOSYS is 0xffffffffffffffda).
 */
import type { Program } from '../kernel/program';
import { START_KERNEL_MAP } from '../arch/x86_64';
import { u64 } from '../bytes';
import { vmemmapBase } from './slab';

export type RangeName = 'direct map' | 'vmalloc' | 'vmemmap' | 'vmalloc or vmemmap' | 'kernel image' | 'modules' | 'cpu entry area';

export interface AddressRange {
  name: RangeName;
  /** "0x..." inclusive */
  start: string;
  /** "0x..." exclusive */
  end: string;
}

export interface AddressLayout {
  /** page-table levels: 4 (48-bit) or 5 (57-bit, la57) */
  levels: 4 | 5;
  ranges: AddressRange[];
  /** how the bases were found, one line each */
  notes: string[];
}

const TIB = 1n << 40n;
/** MODULES_END (both paging modes) */
const MODULES_END = 0xffffffffff000000n;
/** CPU_ENTRY_AREA_BASE and its size (both paging modes) */
const CPU_ENTRY_AREA = 0xfffffe0000000000n;
const CPU_ENTRY_AREA_SIZE = TIB / 2n;

function hex(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** A randomized base variable (vmalloc_base, ...) read from the dump, when the kernel has it. */
function baseVariable(prog: Program, name: string): bigint | undefined {
  let a: bigint | undefined;
  try {
    a = prog.symbolAddress(name);
  } catch {
    a = undefined;
  }
  if (a === undefined) return undefined;
  const b = prog.mem.tryRead(a, 8);
  if (!b) return undefined;
  const v = u64(b, 0);
  return v >> 63n ? v : undefined;
}

export function kernelAddressLayout(prog: Program): AddressLayout {
  const cached = prog.cache.get('layout.kernel') as AddressLayout | undefined;
  if (cached) return cached;
  const arch = prog.arch;
  const l5 = arch.l5;
  const notes: string[] = [];
  const ranges: AddressRange[] = [];
  const phys = BigInt(prog.phys.maxPhys);
  const gib = 1n << 30n;
  const physRounded = ((phys + gib - 1n) / gib) * gib;

  if (arch.pageOffset !== null) {
    ranges.push({ name: 'direct map', start: hex(arch.pageOffset), end: hex(arch.pageOffset + physRounded) });
    notes.push(`direct map at ${hex(arch.pageOffset)} (${physRounded / gib} GiB of physical address space)`);
  } else notes.push('direct map base unknown');

  const vb = baseVariable(prog, 'vmalloc_base');
  const fixedDirect = l5 ? 0xff11000000000000n : 0xffff888000000000n;
  const randomized = arch.pageOffset !== null && arch.pageOffset !== fixedDirect;
  if (vb === undefined && randomized && arch.pageOffset !== null) {
    // KASLR moved the regions but this kernel's vmalloc_base/vmemmap_base cannot be read: they
    // lie, in that order, between the direct map and the CPU entry area
    ranges.push({ name: 'vmalloc or vmemmap', start: hex(arch.pageOffset + physRounded), end: hex(CPU_ENTRY_AREA) });
    notes.push('vmalloc and vmemmap randomized, bases not readable (no vmalloc_base symbol): the span after the direct map');
  } else {
    const vmalloc = vb ?? (l5 ? 0xffa0000000000000n : 0xffffc90000000000n);
    const vmallocSize = l5 ? 12800n * TIB : 32n * TIB;
    ranges.push({ name: 'vmalloc', start: hex(vmalloc), end: hex(vmalloc + vmallocSize) });
    notes.push(`vmalloc at ${hex(vmalloc)} (${vb !== undefined ? 'vmalloc_base' : `the ${l5 ? 5 : 4}-level default`})`);
    let vmemmap: bigint | null = null;
    try {
      vmemmap = vmemmapBase(prog);
    } catch {
      vmemmap = null;
    }
    if (vmemmap !== null) {
      let pageSize = 64n;
      try {
        if (prog.hasBtf) pageSize = BigInt(prog.sizeof('page'));
      } catch {
        pageSize = 64n;
      }
      const pages = physRounded / BigInt(prog.info.pageSize);
      ranges.push({ name: 'vmemmap', start: hex(vmemmap), end: hex(vmemmap + pages * pageSize) });
    }
  }

  const imageEnd = START_KERNEL_MAP + arch.kernelImageSize;
  ranges.push({ name: 'kernel image', start: hex(START_KERNEL_MAP), end: hex(imageEnd) });
  ranges.push({ name: 'modules', start: hex(imageEnd), end: hex(MODULES_END) });
  ranges.push({ name: 'cpu entry area', start: hex(CPU_ENTRY_AREA), end: hex(CPU_ENTRY_AREA + CPU_ENTRY_AREA_SIZE) });
  const out: AddressLayout = { levels: l5 ? 5 : 4, ranges, notes };
  prog.cache.set('layout.kernel', out);
  return out;
}

/** Which range of the layout holds `v` (null: not a kernel pointer on this dump). */
export function rangeOf(layout: AddressLayout, v: bigint): AddressRange | null {
  for (const r of layout.ranges) if (v >= BigInt(r.start) && v < BigInt(r.end)) return r;
  return null;
}
