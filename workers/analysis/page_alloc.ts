/**
 * The buddy allocator (mm/page_alloc.c, include/linux/mmzone.h): the free block holding a page,
 * its zone, and a page described with both (whatis, kmem -p).
 */
import { MemoryError, expectedError } from '../errors';
import { u32, u64 } from '../bytes';
import type { Program } from '../kernel/program';
import { walkList, describeStop } from '../kernel/list';
import { slabLayout, physToPage } from './slab';
import { pageFlagNames } from './page';

// ------------------------------------------------------------------------ one page, described

/** A page as whatis/kmem -p describe it (JSON shape of the whatis result's page). */
export interface PageDesc {
  page: string;
  physical: string;
  mapping: string;
  index: string;
  count: number;
  flags: string;
  flag_names: string[];
  /** buddy allocator: the free block holding the page */
  buddy?: { head: string; order: number; nth: number };
  zone?: { index: number; name: string; size: number; free: number; mem_map: string; start_paddr: string; start_mapnr: number; free_area: string };
}

function pageTypeIs(prog: Program, pageBytes: Uint8Array, what: 'buddy'): boolean {
  const L = slabLayout(prog);
  if (L.page.page_type === undefined) return false;
  const pt = u32(pageBytes, L.page.page_type);
  const pgty = prog.btf.enumerator('PGTY_' + what);
  if (pgty) return pt >>> 24 === Number(pgty.value);
  const v = prog.info.number('PAGE_BUDDY_MAPCOUNT_VALUE');
  if (v === undefined) return false;
  const bit = ~Number(v) >>> 0;
  return (pt & (0xf0000000 | bit)) >>> 0 === 0xf0000000;
}

/** The buddy-allocator free block holding pfn, if any (PageBuddy head with order covering it). */
export function buddyBlock(prog: Program, pfn: number): { head: bigint; order: number; nth: number } | null {
  const L = slabLayout(prog);
  for (let order = 0; order <= 12; order++) {
    const headPfn = pfn - (pfn % (1 << order));
    const page = physToPage(prog, headPfn * prog.info.pageSize);
    const b = prog.mem.tryRead(page, L.pageSize);
    if (!b) continue;
    if (!pageTypeIs(prog, b, 'buddy')) continue;
    const o = L.page.private !== undefined ? Number(u64(b, L.page.private)) : 0;
    if (o >= order && pfn < headPfn + (1 << o) && o <= 12) return { head: page, order: o, nth: pfn - headPfn + 1 };
  }
  return null;
}

export function zoneOf(prog: Program, pfn: number, order: number): PageDesc['zone'] | undefined {
  try {
    const nd = prog.symbolAddress('node_data');
    let pgdat: bigint | undefined;
    if (nd !== undefined) pgdat = prog.mem.u64(nd);
    else pgdat = prog.symbolAddress('contig_page_data');
    if (!pgdat) return undefined;
    const pg = prog.obj('pglist_data', pgdat);
    const nodeStart = pg.member('node_start_pfn').num();
    const zones = pg.member('node_zones');
    const nz = prog.btf.sizeof(zones.type) / prog.sizeof('zone');
    for (let i = 0; i < nz; i++) {
      const z = zones.index(i);
      const start = z.member('zone_start_pfn').num();
      const spanned = z.member('spanned_pages').num();
      if (pfn < start || pfn >= start + spanned) continue;
      const fa = z.member('free_area').index(order);
      let free = 0;
      try {
        free = z.member('vm_stat').index(0).member('counter').num();
      } catch (e) {
        expectedError(e);
        /* no vm_stat */
      }
      return {
        index: i,
        name: z.member('name').string(16),
        size: z.member('present_pages').num(),
        free,
        mem_map: '0x' + physToPage(prog, start * prog.info.pageSize).toString(16),
        start_paddr: '0x' + (BigInt(start) * BigInt(prog.info.pageSize)).toString(16),
        start_mapnr: start - nodeStart,
        free_area: '0x' + fa.address.toString(16),
      };
    }
  } catch (e) {
    if (!(e instanceof MemoryError) && !(e instanceof Error)) throw e;
  }
  return undefined;
}

/**
 * A page with its buddy block and zone when free. `inSlab`: the page was found to be a live
 * slab's (slabObjectInfo checked its slab and cache), so it is in no free block: the search of
 * up to 13 block heads (struct pages up to 4096 pfns away, each a page of the dump to read) is
 * skipped.
 */
export function describePage(prog: Program, pa: number, opts: { inSlab?: boolean } = {}): PageDesc | null {
  const L = slabLayout(prog);
  const page = physToPage(prog, pa);
  const b = prog.mem.tryRead(page, L.pageSize);
  if (!b) return null;
  const flags = u64(b, L.page.flags);
  const names: string[] = [];
  // indexed: for-of over the pairs made an iterator result per flag per page in V8's first tiers
  const fl = pageFlagNames(prog);
  for (let i = 0; i < fl.length; i++) {
    const mask = fl[i][0];
    if (mask && (flags & mask) === mask) names.push(fl[i][1]);
  }
  const pfn = Math.floor(pa / prog.info.pageSize);
  const d: PageDesc = {
    page: '0x' + page.toString(16),
    physical: '0x' + (BigInt(pfn) * BigInt(prog.info.pageSize)).toString(16),
    mapping: '0x' + (L.page.mapping !== undefined ? u64(b, L.page.mapping) : 0n).toString(16),
    index: '0x' + (L.page.index !== undefined ? u64(b, L.page.index) : 0n).toString(16),
    count: L.page.refcount !== undefined ? u32(b, L.page.refcount) | 0 : 0,
    flags: '0x' + flags.toString(16),
    flag_names: names,
  };
  const bb = opts.inSlab ? null : buddyBlock(prog, pfn);
  if (bb) {
    d.buddy = { head: '0x' + bb.head.toString(16), order: bb.order, nth: bb.nth };
    d.zone = zoneOf(prog, pfn, bb.order);
  }
  return d;
}


// ------------------------------------------------------------------------ a zone's free lists

export interface FreeList {
  order: number;
  migratetype: number;
  /** the list_head free_area[order].free_list[migratetype] */
  list: bigint;
  /** blocks of 2^order pages on it (walked; bounded and cycle-checked) */
  blocks: number;
  /** why the walk stopped early, if it did */
  problem?: string;
}

/**
 * Every free list of a zone (zone->free_area[order].free_list[migratetype]), walked through the
 * struct pages' lru (buddy_list) links as crash's kmem -f does. Each walk is bounded by the
 * blocks of that order the zone's span can hold; a list longer than free_area[order].nr_free
 * is reported.
 */
export function zoneFreeLists(prog: Program, freeArea: bigint, spannedPages: number): { lists: FreeList[]; problems: string[] } {
  const problems: string[] = [];
  const faT = prog.type('struct free_area');
  const faSize = prog.sizeof(faT);
  const listOff = prog.offsetof(faT, 'free_list');
  const nrFreeOff = prog.offsetof(faT, 'nr_free');
  const nLists = Math.floor(prog.btf.sizeof(prog.obj(faT, freeArea).member('free_list').type) / 16);
  // free_area[] length: NR_PAGE_ORDERS (6.8+) / MAX_ORDER(+1): the array's size in struct zone
  const zoneT = prog.type('struct zone');
  const faArr = prog.btf.sizeof(prog.obj(zoneT, 0n).member('free_area').type);
  const orders = Math.floor(faArr / faSize);
  const lruOff = prog.offsetof('struct page', 'lru');
  const lists: FreeList[] = [];
  for (let order = 0; order < orders; order++) {
    const fa = freeArea + BigInt(order * faSize);
    let nrFree = 0;
    try {
      nrFree = Number(prog.mem.u64(fa + BigInt(nrFreeOff)));
    } catch (e) {
      expectedError(e);
      problems.push(`free_area[${order}] at ${fa.toString(16)} unreadable`);
    }
    for (let mt = 0; mt < nLists; mt++) {
      const head = fa + BigInt(listOff + mt * 16);
      const w = walkList(prog, head, { nextOffset: lruOff, headIsAnchor: true, limit: Math.max(1, Math.ceil(spannedPages / (1 << order))) });
      const stop = describeStop(w, `free_area[${order}].free_list[${mt}]`);
      lists.push({ order, migratetype: mt, list: head, blocks: w.entries.length, ...(stop ? { problem: stop } : {}) });
    }
    const blocks = lists.filter((l) => l.order === order).reduce((a, l) => a + l.blocks, 0);
    if (blocks > nrFree) problems.push(`free_area[${order}] at ${fa.toString(16)}: ${blocks} blocks on its lists, nr_free says ${nrFree}`);
  }
  return { lists, problems };
}
