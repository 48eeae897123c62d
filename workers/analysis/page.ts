/**
 * struct page (include/linux/mm_types.h, include/linux/page-flags.h, mm/debug.c): where the page
 * array is, the kernel's page flag names, and one page's fields as crash's page line shows them.
 */
import { DumpError, MemoryError, expectedError } from '../errors';
import { u64 } from '../bytes';
import { cacheKey, type Program } from '../kernel/program';

/**
 * The base of the struct page array (CONFIG_SPARSEMEM_VMEMMAP), one precedence everywhere:
 * VMCOREINFO's SYMBOL(vmemmap), else the kernel's vmemmap_base variable (KASLR), else the fixed
 * base of the paging mode.
 */
export function vmemmapBase(prog: Program): bigint {
  const v = prog.info.symbol('vmemmap');
  if (v !== undefined) return v;
  const vb = prog.symbolAddress('vmemmap_base');
  if (vb !== undefined) {
    const b = prog.mem.tryRead(vb, 8);
    if (b) {
      const x = u64(b, 0);
      if (x >> 63n) return x;
    }
  }
  return prog.arch.l5 ? 0xffd4000000000000n : 0xffffea0000000000n;
}

/** Page flag names in the order crash prints them (mm/debug.c pageflag_names, else enum pageflags): [mask, name]. */
export function pageFlagNames(prog: Program): Array<[bigint, string]> {
  const key = cacheKey<Array<[bigint, string]>>('page.flagnames');
  const c = prog.recall(key);
  if (c) return c;
  let out: Array<[bigint, string]> = [];
  // the kernel's pageflag_names[] (struct trace_print_flags {unsigned long mask; const char *name}),
  // ended by {0, NULL}: what crash reads
  const a = prog.symbolAddress('pageflag_names');
  if (a !== undefined) {
    try {
      for (let i = 0; i < 64; i++) {
        const mask = prog.mem.u64(a + BigInt(i * 16));
        const np = prog.mem.u64(a + BigInt(i * 16 + 8));
        if (!np) break;
        const name = prog.mem.cstring(np, 64);
        if (!mask || !/^\w+$/.test(name)) break;
        out.push([mask, name]);
      }
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      out = [];
    }
  }
  if (out.length === 0) {
    try {
      const id = prog.btf.findType('enum pageflags');
      if (id !== null) {
        const t = prog.btf.type(id);
        if (t.kind === 'enum' || t.kind === 'enum64') {
          const nr = t.values.find((v) => v.name === '__NR_PAGEFLAGS')?.value ?? 64n;
          const seen = new Set<bigint>();
          for (const v of t.values) {
            if (!v.name.startsWith('PG_') || v.value >= nr || seen.has(v.value)) continue;
            seen.add(v.value);
            out.push([1n << v.value, v.name.slice(3)]);
          }
        }
      }
    } catch (e) {
      if (!(e instanceof DumpError)) throw e;
    }
  }
  prog.remember(key, out);
  return out;
}

export interface PageInfo {
  page: bigint;
  phys: number;
  flags: bigint;
  count: number;
  mapping: bigint;
  index: bigint;
  names: string[];
}

function fieldOffset(prog: Program, member: string, vmcoreinfo: string): number | null {
  const o = prog.info.offset(vmcoreinfo);
  if (o !== undefined) return o;
  try {
    return prog.offsetof('struct page', member);
  } catch (e) {
    if (e instanceof DumpError) return null;
    throw e;
  }
}

/** The struct page of a physical address, as crash's page line shows it; null when unreadable. */
export function pageInfo(prog: Program, phys: number): PageInfo | null {
  const base = vmemmapBase(prog);
  let size = prog.info.size('page');
  if (size === undefined) {
    try {
      size = prog.sizeof('struct page');
    } catch (e) {
      expectedError(e);
      return null;
    }
  }
  const pfn = BigInt(Math.floor(phys / 4096));
  const page = base + pfn * BigInt(size);
  const oFlags = fieldOffset(prog, 'flags', 'page.flags');
  const oCount = fieldOffset(prog, '_refcount', 'page._refcount');
  const oMapping = fieldOffset(prog, 'mapping', 'page.mapping');
  // page.index became page.__folio_index (6.16+)
  const oIndex = fieldOffset(prog, 'index', 'page.index') ?? fieldOffset(prog, '__folio_index', 'page.index');
  if (oFlags === null || oCount === null || oMapping === null) return null;
  try {
    const flags = prog.mem.u64(page + BigInt(oFlags));
    const count = prog.mem.i32(page + BigInt(oCount));
    const mapping = prog.mem.u64(page + BigInt(oMapping));
    const index = oIndex === null ? 0n : prog.mem.u64(page + BigInt(oIndex));
    const names = pageFlagNames(prog)
      .filter(([m]) => (flags & m) !== 0n)
      .map(([, n]) => n);
    return { page, phys: Number(pfn) * 4096, flags, count, mapping, index, names };
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
}



/** Where page->flags keeps the section, node and zone numbers (include/linux/page-flags-layout.h). */
export interface PageFlagsLayout {
  sectionShift: number;
  sectionBits: number;
  nodeShift: number;
  nodeBits: number;
  zoneShift: number;
  zoneBits: number;
}

const orderBase2 = (n: number) => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));

/**
 * The page->flags layout, from the kernel's own numbers: ZONES_WIDTH from BTF's __MAX_NR_ZONES,
 * NODES_SHIFT from VMCOREINFO's LENGTH(node_data) (MAX_NUMNODES), SECTIONS_WIDTH from
 * MAX_PHYSMEM_BITS - SECTION_SIZE_BITS when the section is kept in the flags (SPARSEMEM without
 * VMEMMAP), __NR_PAGEFLAGS for the room left; the fields stack down from bit 63 as
 * page-flags-layout.h places them. Of the candidate layouts (section in the flags or not), the one
 * whose zone field agrees with every populated zone's first page (`check(pfn) -> zone index`)
 * wins; null when none does (then nothing is decoded).
 */
export function pageFlagsLayout(prog: Program, check: Array<{ flags: bigint; zone: number; node: number }>): PageFlagsLayout | null {
  const maxZones = prog.btf.enumerator('__MAX_NR_ZONES');
  const nrFlags = prog.btf.enumerator('__NR_PAGEFLAGS');
  if (!maxZones || !nrFlags) return null;
  const zoneBits = orderBase2(Number(maxZones.value));
  const numNodes = prog.info.length('node_data') ?? 1;
  const nodesShift = orderBase2(numNodes);
  const secBits = Number(prog.info.number('MAX_PHYSMEM_BITS') ?? 0n) - Number(prog.info.number('SECTION_SIZE_BITS') ?? 0n);
  const room = 64 - Number(nrFlags.value);
  for (const withSection of [false, true]) {
    const sectionBits = withSection ? Math.max(0, secBits) : 0;
    const nodeBits = sectionBits + zoneBits + nodesShift <= room ? nodesShift : 0;
    const L: PageFlagsLayout = {
      sectionShift: 64 - sectionBits,
      sectionBits,
      nodeShift: 64 - sectionBits - nodeBits,
      nodeBits,
      zoneShift: 64 - sectionBits - nodeBits - zoneBits,
      zoneBits,
    };
    if (check.length && check.every((c) => decodePageFlags(L, c.flags).zone === c.zone && (!nodeBits || decodePageFlags(L, c.flags).node === c.node))) return L;
  }
  return null;
}

export function decodePageFlags(L: PageFlagsLayout, flags: bigint): { zone: number; node: number | null; section: number | null } {
  const field = (shift: number, bits: number) => (bits ? Number((flags >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n)) : null);
  return { zone: field(L.zoneShift, L.zoneBits) ?? 0, node: field(L.nodeShift, L.nodeBits), section: field(L.sectionShift, L.sectionBits) };
}
