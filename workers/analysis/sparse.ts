/**
 * SPARSEMEM (mm/sparse.c, include/linux/mmzone.h): which memory sections are present, and the
 * struct pages of each, read in bulk as crash's `kmem -p` lists them. The section layout comes
 * from VMCOREINFO (SYMBOL/LENGTH/SIZE(mem_section), NUMBER(SECTION_SIZE_BITS),
 * NUMBER(MAX_PHYSMEM_BITS)) with BTF for what it lacks; a section is present when bit 0 of
 * section_mem_map (SECTION_MARKED_PRESENT) is set. With SPARSEMEM_VMEMMAP the struct page of a
 * pfn is vmemmap + pfn * sizeof(struct page) (analysis/slab.ts physToPage).
 */
import type { Program } from '../kernel/program';
import { DumpError, MemoryError, expectedError } from '../errors';
import { u32, u64 } from '../bytes';
import { slabLayout, physToPage } from './slab';
import { pageFlagNames } from './page';

export interface SectionLayout {
  sectionSizeBits: number;
  pagesPerSection: number;
  nrSections: number;
  sectionsPerRoot: number;
  nrRoots: number;
  /** SPARSEMEM_EXTREME: mem_section is a pointer to an array of root pointers */
  extreme: boolean;
  /** address of the roots (extreme) or of the static two-level array */
  base: bigint;
  sizeofSection: number;
  mapOffset: number;
}

export function sectionLayout(prog: Program): SectionLayout {
  const info = prog.info;
  const bits = Number(info.number('SECTION_SIZE_BITS') ?? 0n);
  // before VMCOREINFO exported it: x86-64's MAX_PHYSMEM_BITS (arch/x86/include/asm/sparsemem.h)
  const phys = Number(info.number('MAX_PHYSMEM_BITS') ?? BigInt(prog.arch.l5 ? 52 : 46));
  if (!bits) throw new DumpError('VMCOREINFO has no SECTION_SIZE_BITS: not a SPARSEMEM kernel, or no VMCOREINFO');
  const sizeofSection = info.size('mem_section') ?? prog.sizeof('struct mem_section');
  const mapOffset = info.offset('mem_section.section_mem_map') ?? prog.offsetof('struct mem_section', 'section_mem_map');
  const sym = prog.symbolAddress('mem_section');
  const vi = info.symbol('mem_section');
  const pageSize = info.pageSize;
  const nrSections = 2 ** (phys - bits);
  // CONFIG_SPARSEMEM_EXTREME: mem_section points to NR_SECTION_ROOTS pointers, each to a page of
  // sections; VMCOREINFO's LENGTH(mem_section) is then fewer roots than sections, and its
  // SYMBOL_ARRAY(mem_section) is the pointer's value. Without it: a static [roots][1] array.
  const len = info.length('mem_section');
  const extreme = len !== undefined ? len < nrSections : vi !== undefined && sym !== undefined && vi !== sym;
  let base: bigint;
  if (vi !== undefined) base = vi;
  else if (sym !== undefined) base = extreme ? prog.mem.u64(sym) : sym;
  else throw new DumpError('no mem_section symbol');
  const sectionsPerRoot = extreme ? Math.floor(pageSize / sizeofSection) : 1;
  const nrRoots = len ?? Math.ceil(nrSections / sectionsPerRoot);
  return { sectionSizeBits: bits, pagesPerSection: 2 ** (bits - Math.log2(pageSize)), nrSections, sectionsPerRoot, nrRoots, extreme, base, sizeofSection, mapOffset };
}

/** Numbers of the present sections (SECTION_MARKED_PRESENT), in order; unreadable roots are problems. */
export function presentSections(prog: Program, problems: string[]): number[] {
  const L = sectionLayout(prog);
  const out: number[] = [];
  for (let r = 0; r < L.nrRoots; r++) {
    let rootAddr: bigint;
    if (L.extreme) {
      const b = prog.mem.tryRead(L.base + BigInt(r * 8), 8);
      if (!b) {
        problems.push(`mem_section root ${r} at ${(L.base + BigInt(r * 8)).toString(16)} unreadable`);
        continue;
      }
      rootAddr = u64(b, 0);
      if (!rootAddr) continue;
    } else rootAddr = L.base + BigInt(r * L.sectionsPerRoot * L.sizeofSection);
    const b = prog.mem.tryRead(rootAddr, L.sectionsPerRoot * L.sizeofSection);
    if (!b) {
      problems.push(`mem_section root ${r} array at ${rootAddr.toString(16)} unreadable`);
      continue;
    }
    for (let i = 0; i < L.sectionsPerRoot; i++) {
      const nr = r * L.sectionsPerRoot + i;
      if (nr >= L.nrSections) break;
      if (u64(b, i * L.sizeofSection + L.mapOffset) & 1n) out.push(nr);
    }
  }
  return out;
}

/** One struct page as crash's kmem -p line shows it. */
export interface MemMapPage {
  page: bigint;
  phys: number;
  /** the struct page itself is not mapped (vmemmap hole): crash leaves the fields blank */
  unmapped: boolean;
  /** mapped but not in the dump: read as zeros (crash does the same) */
  unreadable: boolean;
  mapping: bigint;
  index: bigint;
  count: number;
  flags: bigint;
}

interface PageOffsets {
  size: number;
  flags: number;
  mapping: number;
  index: number;
  count: number;
}

function pageOffsets(prog: Program): PageOffsets {
  const L = slabLayout(prog);
  const off = (m: string, vi: string) => prog.info.offset(vi) ?? prog.offsetof('struct page', m);
  let index: number;
  try {
    index = off('index', 'page.index');
  } catch (e) {
    if (!(e instanceof DumpError)) throw e;
    index = off('__folio_index', 'page.index'); // 6.16+
  }
  return { size: L.pageSize, flags: L.page.flags, mapping: off('mapping', 'page.mapping'), index, count: off('_refcount', 'page._refcount') };
}

/**
 * Visit the struct pages of pfns [first, last) (inside present sections), reading the mem_map
 * in blocks. `visit` returns false to stop.
 */
export function forEachPage(prog: Program, first: number, last: number, visit: (p: MemMapPage) => boolean | void): void {
  const O = pageOffsets(prog);
  const pageSize = prog.info.pageSize;
  const BLOCK = 512;
  for (let pfn = first; pfn < last; pfn += BLOCK) {
    const n = Math.min(BLOCK, last - pfn);
    const start = physToPage(prog, pfn * pageSize);
    let buf = prog.mem.tryRead(start, n * O.size);
    // piecewise: per page of the mem_map, zero-filled where absent (crash's fill_mem_map_cache)
    const unmappedAt = new Uint8Array(n);
    const unreadAt = new Uint8Array(n);
    if (!buf) {
      buf = new Uint8Array(n * O.size);
      let a = start;
      const end = start + BigInt(n * O.size);
      while (a < end) {
        const next = (a & ~BigInt(pageSize - 1)) + BigInt(pageSize);
        const cnt = Number((next < end ? next : end) - a);
        const at = Number(a - start);
        const b = prog.mem.tryRead(a, cnt);
        if (b) buf.set(b, at);
        else {
          let mapped = true;
          try {
            prog.arch.vtop(a);
          } catch (e) {
            if (!(e instanceof MemoryError)) throw e;
            mapped = false;
          }
          for (let k = Math.floor(at / O.size); k < Math.min(n, Math.ceil((at + cnt) / O.size)); k++) (mapped ? unreadAt : unmappedAt)[k] = 1;
        }
        a += BigInt(cnt);
      }
    }
    for (let k = 0; k < n; k++) {
      const o = k * O.size;
      const p: MemMapPage = {
        page: start + BigInt(o),
        phys: (pfn + k) * pageSize,
        unmapped: !!unmappedAt[k],
        unreadable: !!unreadAt[k],
        flags: u64(buf, o + O.flags),
        mapping: u64(buf, o + O.mapping),
        index: u64(buf, o + O.index),
        count: u32(buf, o + O.count) | 0,
      };
      if (visit(p) === false) return;
    }
  }
}

/** The kernel's names of the flag bits set in `flags` (crash's translate_page_flags order). */
export function flagNames(prog: Program, flags: bigint): string[] {
  if (!flags) return [];
  return pageFlagNames(prog)
    .filter(([m]) => (flags & m) !== 0n)
    .map(([, n]) => n);
}

/** Is `addr` a struct page address of a present section? Its pfn then. */
export function pagePfn(prog: Program, addr: bigint): number | null {
  const L = slabLayout(prog);
  if (addr < L.vmemmap) return null;
  const d = addr - L.vmemmap;
  if (d % BigInt(L.pageSize) !== 0n) return null;
  const pfn = d / BigInt(L.pageSize);
  try {
    const S = sectionLayout(prog);
    if (pfn >= BigInt(S.nrSections) * BigInt(S.pagesPerSection)) return null;
  } catch (e) {
    expectedError(e);
    return null;
  }
  return Number(pfn);
}
