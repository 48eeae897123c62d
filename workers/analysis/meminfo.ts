/**
 * Memory usage (mm/show_mem.c si_meminfo, mm/vmstat.c, fs/proc/meminfo.c) as crash's `kmem -i`
 * computes it: total RAM, free pages summed over every zone, buffers (block device page cache),
 * page cache, slab, huge pages, swap and the commit limit. Counters come from vm_zone_stat /
 * vm_node_stat indexed by the kernel's own enumerators (BTF), never by fixed numbers.
 */
import type { Program } from '../kernel/program';
import { DumpError, MemoryError } from '../errors';
import { walkList } from '../kernel/list';

export interface MemInfo {
  totalram: number;
  free: number;
  buffers: number;
  cached: number;
  slab: number;
  hugeTotal: number | null;
  hugeFree: number;
  /** the kernel has swap_info / swapper_spaces (crash prints the swap lines only then) */
  swapKnown: boolean;
  swapTotal: number;
  swapUsed: number;
  commitLimit: number | null;
  committed: number;
  problems: string[];
}

/** A global vm_zone_stat / vm_node_stat counter by enumerator name, or null when absent. */
export function vmStat(prog: Program, item: string): number | null {
  const e = prog.btf.enumerator(item);
  if (!e) return null;
  const zone = prog.btf.enumerator('NR_VM_ZONE_STAT_ITEMS');
  const enumName = prog.btf.name(e.type);
  const sym = enumName === 'zone_stat_item' ? 'vm_zone_stat' : enumName === 'node_stat_item' ? 'vm_node_stat' : null;
  if (!sym || !zone) return null;
  const a = prog.symbolAddress(sym);
  if (a === undefined) return null;
  return Number(BigInt.asIntN(64, prog.mem.u64(a + e.value * 8n)));
}

/** Every pglist_data: node_data[] (NUMA) or contig_page_data. */
export function pgdats(prog: Program): bigint[] {
  const nd = prog.symbolAddress('node_data');
  if (nd !== undefined) {
    const next = prog.symbols.nextAddress(nd);
    const n = next !== undefined ? Math.min(1024, Number(next - nd) / 8) : 64;
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const p = prog.mem.tryRead(nd + BigInt(i * 8), 8);
      if (!p) break;
      const v = new DataView(p.buffer, p.byteOffset, 8).getBigUint64(0, true);
      if (v) out.push(v);
    }
    return out;
  }
  const c = prog.symbolAddress('contig_page_data');
  if (c === undefined) throw new DumpError('neither node_data nor contig_page_data');
  return [c];
}

/** Free pages: zone->vm_stat[NR_FREE_PAGES] summed over every zone of every node. */
export function freePages(prog: Program): number {
  const nrFree = prog.btf.enumerator('NR_FREE_PAGES');
  if (!nrFree) throw new DumpError('no NR_FREE_PAGES enumerator');
  const pgT = prog.type('struct pglist_data');
  const zoneT = prog.type('struct zone');
  const zsize = BigInt(prog.sizeof(zoneT));
  const vmOff = BigInt(prog.offsetof(zoneT, 'vm_stat'));
  let sum = 0;
  for (const n of pgdats(prog)) {
    const zones = prog.obj(pgT, n).member('node_zones');
    const nz = Math.floor(zones.size / Number(zsize));
    for (let i = 0; i < nz; i++) sum += Number(BigInt.asIntN(64, prog.mem.u64(zones.address + zsize * BigInt(i) + vmOff + nrFree.value * 8n)));
  }
  return sum;
}

/** The page cache of block devices (nr_blockdev_pages): blockdev_superblock's inodes' nrpages. */
export function blockdevPages(prog: Program, problems: string[]): number {
  const a = prog.symbolAddress('blockdev_superblock');
  if (a === undefined) return 0;
  const sb = prog.mem.u64(a);
  const head = prog.obj('struct super_block', sb).member('s_inodes').address;
  const w = walkList(prog, head, { nextOffset: prog.offsetof('struct inode', 'i_sb_list'), headIsAnchor: true, limit: 1_000_000 });
  let n = 0;
  for (const ino of w.entries) {
    try {
      const m = prog.obj('struct inode', ino).member('i_mapping').ptr();
      n += Number(prog.obj('struct address_space', m).member('nrpages').value());
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`inode ${ino.toString(16)}: ${e.message}`);
    }
  }
  return n;
}

function hugePages(prog: Program): { total: number; free: number } | null {
  const a = prog.symbolAddress('hstates');
  const t = prog.findType('struct hstate');
  if (a === undefined || t === null) return null;
  const size = prog.sizeof(t);
  const next = prog.symbols.nextAddress(a);
  const n = next !== undefined ? Math.min(64, Math.floor(Number(next - a) / size)) : 1;
  let total = 0;
  let free = 0;
  for (let i = 0; i < n; i++) {
    const h = prog.obj(t, a + BigInt(i * size));
    const order = h.member('order').num();
    if (!order) continue;
    total += Number(h.member('nr_huge_pages').value()) * (1 << order);
    free += Number(h.member('free_huge_pages').value()) * (1 << order);
  }
  return { total, free };
}

function swap(prog: Program): { total: number; used: number } {
  const si = prog.symbolAddress('swap_info');
  const nr = prog.symbolAddress('nr_swapfiles');
  if (si === undefined || nr === undefined) return { total: 0, used: 0 };
  const n = Math.min(64, prog.mem.u32(nr));
  let total = 0;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const p = prog.mem.u64(si + BigInt(i * 8));
    if (!p) continue;
    const s = prog.obj('struct swap_info_struct', p);
    if (!(s.member('flags').num() & 1)) continue; // SWP_USED
    total += s.member('pages').num();
    used += s.member('inuse_pages').num();
  }
  return { total, used };
}

export function memInfo(prog: Program): MemInfo {
  const problems: string[] = [];
  const tr = prog.symbolAddress('_totalram_pages') ?? prog.symbolAddress('totalram_pages');
  if (tr === undefined) throw new DumpError('no _totalram_pages symbol');
  const totalram = Number(prog.mem.u64(tr));
  const free = freePages(prog);
  const buffers = blockdevPages(prog, problems);
  const filePages = vmStat(prog, 'NR_FILE_PAGES') ?? 0;
  const swapCache = vmStat(prog, 'NR_SWAPCACHE') ?? 0;
  const cached = Math.max(0, filePages - swapCache - buffers);
  const slab = (vmStat(prog, 'NR_SLAB_RECLAIMABLE_B') ?? vmStat(prog, 'NR_SLAB_RECLAIMABLE') ?? 0) + (vmStat(prog, 'NR_SLAB_UNRECLAIMABLE_B') ?? vmStat(prog, 'NR_SLAB_UNRECLAIMABLE') ?? 0);
  const huge = hugePages(prog);
  const sw = swap(prog);
  let commitLimit: number | null = null;
  let committed = 0;
  if (prog.symbolAddress('sysctl_overcommit_memory') !== undefined) {
    const kb = prog.symbolAddress('sysctl_overcommit_kbytes');
    const kbytes = kb !== undefined ? Number(prog.mem.u64(kb)) : 0;
    if (kbytes) commitLimit = kbytes >> 2;
    else if (huge) {
      const ratio = prog.mem.u32(prog.symbolAddress('sysctl_overcommit_ratio')!);
      commitLimit = Math.floor(((totalram - huge.total) * ratio) / 100);
    }
    if (commitLimit !== null) {
      commitLimit += sw.total;
      const vc = prog.symbolAddress('vm_committed_as');
      if (vc !== undefined) committed = Math.max(0, Number(BigInt.asIntN(64, prog.obj('struct percpu_counter', vc).member('count').value())));
    }
  }
  const swapKnown = ['swap_info', 'swapper_space', 'swapper_spaces'].some((n) => prog.symbolAddress(n) !== undefined);
  return { totalram, free, buffers, cached, slab, hugeTotal: huge?.total ?? null, hugeFree: huge?.free ?? 0, swapKnown, swapTotal: sw.total, swapUsed: sw.used, commitLimit, committed, problems };
}
