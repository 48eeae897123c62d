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


