/**
 * `whatis <addr>`: what an address is — which slab object (cache, slab, object start, offset,
 * state, the BTF member at that offset when the object's type is known), or, outside slabs, which
 * kernel symbol, module, task stack, vmalloc area, per-CPU area or page (page cache, buddy-free,
 * reserved...). The same classification backs `kmem <addr>` (kmem.ts), which prints it in crash's
 * layout.
 *
 * Object types: a cache's objects are typed only when the dump vouches for it: a table of
 * dedicated caches (skbuff_head_cache -> sk_buff, dentry, buffer_head, ...) or a cache named after
 * a struct, each checked by size (sizeof(type) <= object_size); kmalloc-* caches are untyped unless
 * the user chose an overlay for the object (ctx.overlays). With slub_debug red zones the object is
 * the pointer after red_left_pad, as the kernel and drgn use it (crash reports the start of the
 * left red zone: that address is given as `slot`, and an address inside the red zone says so).
 */
import { variableDeclaration } from './print';
import { memberInLayout } from '../analysis/overlay';
import type { Program } from '../kernel/program';
import { MemoryError } from '../errors';
import { u32, u64 } from '../bytes';
import { START_KERNEL_MAP } from '../arch/x86_64';
import {
  slabObjectInfo, slabLayout, readTracks, physToPage, pageToPfn,
  type SlabObjectInfo, type TrackInfo, type SlabCache,
} from '../analysis/slab';
import { taskList, threadSize, type TaskInfo } from '../analysis/tasks';
import { CommandError, registerCommand, type CommandContext, type CommandResult } from './registry';
import { ensureExportSymbols, crashSymName } from './sym';

export type WhatisKind = 'slab' | 'symbol' | 'module' | 'stack' | 'vmalloc' | 'percpu' | 'page' | 'struct-page' | 'unmapped' | 'unreadable' | 'user' | 'unknown';

export interface VmapInfo {
  vmap_area: string;
  vm_struct: string;
  start: string;
  end: string;
  size: number;
  caller?: string;
}

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

export interface TrackJson {
  kind: 'alloc' | 'free';
  caller: string;
  caller_symbol: string | null;
  cpu: number;
  pid: number;
  when: number;
  age: number | null;
  handle: number;
  stack: Array<{ pc: string; symbol: string | null }>;
  stack_problem?: string;
}

/** The DESIGN.md shape plus details (added fields only). */
export interface WhatisResult {
  address: string;
  kind: WhatisKind;
  /** kind 'unreadable': why the address could not be translated (page table not in the dump, ...) */
  reason?: string;
  cache?: string;
  slab?: string;
  object?: string;
  offset?: number;
  state?: 'allocated' | 'free' | 'cpu-free';
  member_path?: string;
  symbol?: string;
  task?: { task: string; pid: number; comm: string; cpu: number };
  // details
  type?: string;
  type_source?: 'overlay' | 'cache';
  /** crash's object address: the slot start (left red zone) when red_left_pad > 0 */
  slot?: string;
  region?: SlabObjectInfo['region'];
  red_left_pad?: number;
  note?: string;
  /** who holds a free object: slab-freelist, cpu-slab, cpu-sheaf, node-barn (or rcu-sheaf, kfree_rcu pending) */
  free_in?: string;
  tracks?: TrackJson[];
  module?: string;
  vmap?: VmapInfo;
  percpu?: { cpu: number; symbol: string | null };
  page?: PageDesc;
  struct_page_of?: string;
  problems?: string[];
}

// ---------------------------------------------------------------------------- object types

/** Dedicated caches and the struct they hold (a hint: verified by size before use). */
const CACHE_TYPES: Record<string, string> = {
  skbuff_head_cache: 'sk_buff',
  skbuff_small_head: '',
  skbuff_fclone_cache: 'sk_buff_fclones',
  task_struct: 'task_struct',
  dentry: 'dentry',
  inode_cache: 'inode',
  ext4_inode_cache: 'ext4_inode_info',
  shmem_inode_cache: 'shmem_inode_info',
  proc_inode_cache: 'proc_inode',
  sock_inode_cache: 'socket_alloc',
  buffer_head: 'buffer_head',
  vm_area_struct: 'vm_area_struct',
  mm_struct: 'mm_struct',
  files_cache: 'files_struct',
  fs_cache: 'fs_struct',
  signal_cache: 'signal_struct',
  sighand_cache: 'sighand_struct',
  cred_jar: 'cred',
  filp: 'file',
  anon_vma: 'anon_vma',
  anon_vma_chain: 'anon_vma_chain',
  kernfs_node_cache: 'kernfs_node',
  pid: 'pid',
  radix_tree_node: 'xa_node',
  nsproxy: 'nsproxy',
  uts_namespace: 'uts_namespace',
  'biovec-max': '',
  bio_integrity_payload: '',
  request_queue: 'request_queue',
  blkdev_ioc: 'io_context',
  sigqueue: 'sigqueue',
  UNIX: 'unix_sock',
  TCP: 'tcp_sock',
  UDP: 'udp_sock',
  RAW: 'raw_sock',
  TCPv6: 'tcp6_sock',
  UDPv6: 'udp6_sock',
  RAWv6: 'raw6_sock',
  mnt_cache: 'mount',
  ext4_groupinfo_4k: 'ext4_group_info',
  jbd2_journal_head: 'journal_head',
  fsnotify_mark_connector: 'fsnotify_mark_connector',
  eventpoll_epi: 'epitem',
  eventpoll_pwq: 'eppoll_entry',
  seq_file: 'seq_file',
  'kmem_cache': 'kmem_cache',
  kmem_cache_node: 'kmem_cache_node',
};

/** The struct type of a cache's objects, when the dump vouches for it; null otherwise. */
export function cacheObjectType(prog: Program, c: SlabCache): number | null {
  if (/^(kmalloc|dma-kmalloc|kmalloc-cg|kmalloc-rcl|size-)/.test(c.name)) return null;
  const key = 'whatis.ctype.' + c.address.toString(16);
  if (prog.cache.has(key)) return prog.cache.get(key) as number | null;
  let id: number | null = null;
  const hint = CACHE_TYPES[c.name];
  const tryType = (name: string, lower: number) => {
    if (!name) return null;
    const t = prog.btf.findType(name, 'struct');
    if (t === null) return null;
    const sz = prog.btf.sizeof(t);
    return sz > 0 && sz <= c.objectSize && sz >= lower ? t : null;
  };
  if (hint !== undefined) id = tryType(hint, 1);
  // a cache named after a struct (with a size close to it)
  else id = tryType(c.name, Math.ceil(c.objectSize / 2));
  prog.cache.set(key, id);
  return id;
}

function overlayType(ctx: CommandContext, addrs: bigint[]): string | null {
  if (!ctx.overlays) return null;
  for (const a of addrs) {
    const h = a.toString(16);
    for (const k of [h, '0x' + h, h.padStart(16, '0')]) {
      const t = ctx.overlays.get(k);
      if (t) return t;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------- symbols

/** "name+off" with a preference among aliases for the one the kernel prints (not init_module). */
export function symbolName(prog: Program, addr: bigint, decimal = false): { text: string; type: string; module?: string } | null {
  let hit;
  try {
    // the export-table symbols (__kstrtab_*, loaded on demand) first, so the answer does not
    // depend on whether `sym` ran before
    ensureExportSymbols(prog);
    hit = prog.symbols.lookup(addr);
  } catch {
    return null;
  }
  if (!hit) return null;
  let sym = hit.sym;
  if (/^(init_module|cleanup_module|__pfx_)/.test(sym.name)) {
    const alts = prog.symbols.at(sym.address).filter((s) => s.module === sym.module && !/^(init_module|cleanup_module|__this_module)$/.test(s.name) && !s.name.startsWith('__pfx_'));
    if (alts.length) sym = alts[0];
  }
  const off = hit.offset ? `+${decimal ? hit.offset : '0x' + hit.offset.toString(16)}` : '';
  // crash keeps no data type for module symbols read from kallsyms: (?) unless text
  const type = sym.module && !/^[tT]$/.test(sym.type) ? '?' : sym.type;
  return { text: crashSymName(sym.name) + off, type, module: sym.module };
}

function symWithModule(prog: Program, a: bigint): string {
  const s = symbolName(prog, a);
  if (!s) return '0x' + a.toString(16);
  return s.module ? `${s.text} [${s.module}]` : s.text;
}

// ---------------------------------------------------------------------------- pages

interface PageFlagName {
  mask: bigint;
  name: string;
}

/** The kernel's own page flag names (mm/debug.c pageflag_names), else enum pageflags. */
function pageFlagNames(prog: Program): PageFlagName[] {
  const c = prog.cache.get('whatis.pfnames') as PageFlagName[] | undefined;
  if (c) return c;
  const out: PageFlagName[] = [];
  const a = prog.symbolAddress('pageflag_names');
  if (a !== undefined) {
    for (let i = 0; i < 64; i++) {
      const b = prog.mem.tryRead(a + BigInt(i * 16), 16);
      if (!b) break;
      const mask = u64(b, 0);
      const np = u64(b, 8);
      if (!np) break;
      let name = '';
      try {
        name = prog.mem.cstring(np, 32);
      } catch {
        break;
      }
      out.push({ mask, name });
    }
  }
  if (!out.length) {
    const e = prog.btf.findType('pageflags', 'enum');
    const nr = prog.btf.enumerator('__NR_PAGEFLAGS');
    if (e !== null) {
      const seen = new Set<bigint>();
      const t = prog.btf.type(e);
      if (t.kind === 'enum' || t.kind === 'enum64') {
        for (const v of t.values) {
          if (nr && v.value >= nr.value) continue;
          if (seen.has(v.value) || !v.name.startsWith('PG_')) continue;
          seen.add(v.value);
          out.push({ mask: 1n << v.value, name: v.name.slice(3) });
        }
      }
    }
  }
  prog.cache.set('whatis.pfnames', out);
  return out;
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
function buddyBlock(prog: Program, pfn: number): { head: bigint; order: number; nth: number } | null {
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

function zoneOf(prog: Program, pfn: number, order: number): PageDesc['zone'] | undefined {
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
      } catch {
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

export function describePage(prog: Program, pa: number): PageDesc | null {
  const L = slabLayout(prog);
  const page = physToPage(prog, pa);
  const b = prog.mem.tryRead(page, L.pageSize);
  if (!b) return null;
  const flags = u64(b, L.page.flags);
  const names: string[] = [];
  for (const f of pageFlagNames(prog)) if (f.mask && (flags & f.mask) === f.mask) names.push(f.name);
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
  const bb = buddyBlock(prog, pfn);
  if (bb) {
    d.buddy = { head: '0x' + bb.head.toString(16), order: bb.order, nth: bb.nth };
    d.zone = zoneOf(prog, pfn, bb.order);
  }
  return d;
}

// ---------------------------------------------------------------------------- vmalloc

interface VmapArea {
  va: bigint;
  start: bigint;
  end: bigint;
  vm: bigint;
}

/** Every vmap_area: the global vmap_area_list (up to 6.8) or each vmap_node's busy list (6.9+). */
export function vmapAreas(prog: Program): VmapArea[] {
  const c = prog.cache.get('whatis.vmap') as VmapArea[] | undefined;
  if (c) return c;
  const out: VmapArea[] = [];
  prog.cache.set('whatis.vmap', out);
  const vaId = prog.btf.findType('vmap_area', 'struct');
  if (vaId === null) return out;
  const listOff = prog.offsetof(vaId, 'list');
  const startOff = prog.offsetof(vaId, 'va_start');
  const endOff = prog.offsetof(vaId, 'va_end');
  const vmLoc = prog.btf.memberPath(vaId, 'vm');
  const heads: bigint[] = [];
  const g = prog.symbolAddress('vmap_area_list');
  if (g !== undefined) heads.push(g);
  else {
    const nodes = prog.symbolAddress('vmap_nodes');
    const nrA = prog.symbolAddress('nr_vmap_nodes');
    const vn = prog.btf.findType('vmap_node', 'struct');
    if (nodes !== undefined && vn !== null) {
      let nr = 1;
      if (nrA !== undefined) {
        const b = prog.mem.tryRead(nrA, 4);
        if (b) nr = Math.min(Math.max(1, u32(b, 0)), 4096);
      }
      const base = prog.mem.tryRead(nodes, 8);
      const arr = base ? u64(base, 0) : 0n;
      const busyHead = prog.btf.memberPath(vn, 'busy.head');
      if (arr && busyHead) for (let i = 0; i < nr; i++) heads.push(arr + BigInt(i * prog.sizeof(vn) + busyHead.offset));
    }
  }
  for (const head of heads) {
    const seen = new Set<bigint>();
    let cur = prog.mem.tryRead(head, 8) ? prog.mem.u64(head) : head;
    while (cur !== head && cur !== 0n && !seen.has(cur) && seen.size < 1_000_000) {
      seen.add(cur);
      const va = cur - BigInt(listOff);
      const b = prog.mem.tryRead(va, Math.max(endOff, listOff, vmLoc?.offset ?? 0) + 8);
      if (!b) break;
      out.push({ va, start: u64(b, startOff), end: u64(b, endOff), vm: vmLoc ? u64(b, vmLoc.offset) : 0n });
      cur = u64(b, listOff);
    }
  }
  out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return out;
}

function findVmap(prog: Program, addr: bigint): VmapInfo | null {
  const areas = vmapAreas(prog);
  let lo = 0;
  let hi = areas.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const a = areas[mid];
    if (addr < a.start) hi = mid - 1;
    else if (addr >= a.end) lo = mid + 1;
    else {
      const info: VmapInfo = { vmap_area: '0x' + a.va.toString(16), vm_struct: '0x' + a.vm.toString(16), start: '0x' + a.start.toString(16), end: '0x' + a.end.toString(16), size: Number(a.end - a.start) };
      if (a.vm) {
        const vm = prog.findType('vm_struct');
        if (vm !== null) {
          const b = prog.mem.tryRead(a.vm + BigInt(prog.offsetof(vm, 'caller')), 8);
          if (b && u64(b, 0)) info.caller = symWithModule(prog, u64(b, 0));
        }
      }
      return info;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------- tasks

/** The task whose kernel stack holds addr (workers/analysis/tasks.ts). */
export function stackOwner(prog: Program, addr: bigint): TaskInfo | null {
  let list: TaskInfo[];
  try {
    list = taskList(prog);
  } catch {
    return null;
  }
  const size = BigInt(threadSize(prog));
  for (const t of list) if (t.stack && addr >= t.stack && addr < t.stack + size) return t;
  return null;
}

function taskAt(prog: Program, addr: bigint): TaskInfo | null {
  try {
    return taskList(prog).find((t) => t.task === addr) ?? null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------- per-CPU

function percpuOf(prog: Program, addr: bigint): { cpu: number; symbol: string | null } | null {
  const s = prog.symbolAddress('__per_cpu_start');
  const e = prog.symbolAddress('__per_cpu_end');
  if (s === undefined || e === undefined) return null;
  const offs = prog.perCpuOffsets();
  for (let cpu = 0; cpu < offs.length; cpu++) {
    const base = BigInt.asUintN(64, s + offs[cpu]);
    if (addr >= base && addr < base + (e - s)) {
      const off = addr - offs[cpu];
      const sym = symbolName(prog, BigInt.asUintN(64, off));
      return { cpu, symbol: sym ? sym.text : null };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------- classification

export function trackJson(prog: Program, t: TrackInfo): TrackJson {
  const caller = symbolName(prog, t.addr);
  return {
    kind: t.kind,
    caller: '0x' + t.addr.toString(16),
    caller_symbol: caller ? (caller.module ? `${caller.text} [${caller.module}]` : caller.text) : null,
    cpu: t.cpu,
    pid: t.pid,
    when: Number(t.when),
    age: t.age === null ? null : Number(t.age),
    handle: t.handle,
    stack: t.stack.map((pc) => {
      const s = symbolName(prog, pc);
      return { pc: '0x' + pc.toString(16), symbol: s ? (s.module ? `${s.text} [${s.module}]` : s.text) : null };
    }),
    ...(t.stackProblem ? { stack_problem: t.stackProblem } : {}),
  };
}

export interface Described {
  json: WhatisResult;
  slab: SlabObjectInfo | null;
  task: TaskInfo | null;
  translated: boolean;
}

/** Classify an address (the engine of whatis and kmem <addr>). Never throws on bad memory. */
export function describeAddress(ctx: CommandContext, addr: bigint): Described {
  const prog = ctx.prog;
  const r: WhatisResult = { address: '0x' + addr.toString(16), kind: 'unknown' };
  const out: Described = { json: r, slab: null, task: null, translated: false };
  if (addr < 0x8000000000000000n) {
    r.kind = addr < 0x800000000000n ? 'user' : 'unknown';
    return out;
  }
  let pa: number | null = null;
  let unreadable: string | null = null;
  try {
    pa = prog.arch.vtop(addr);
    out.translated = true;
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    pa = null;
    // "not mapped" only when the page tables say so; a page table we cannot read (not in the
    // dump, truncated, corrupt) leaves the question open
    if (e.kind !== 'unmapped') unreadable = e.message;
  }
  const kend = prog.symbolAddress('_end');
  const inImage = addr >= START_KERNEL_MAP && (kend === undefined || addr < kend);
  // kernel image: a symbol
  if (inImage) {
    const s = symbolName(prog, addr, true);
    if (s && !s.module) {
      r.kind = 'symbol';
      r.symbol = `${s.text} (${s.type})`;
      const t = stackOwner(prog, addr);
      if (t) setTask(r, out, t);
      else {
        const tk = taskAt(prog, addr);
        if (tk) setTask(r, out, tk);
      }
      if (pa !== null) r.page = describePage(prog, pa) ?? undefined;
      return out;
    }
  }
  if (pa === null) {
    r.kind = unreadable ? 'unreadable' : 'unmapped';
    if (unreadable) r.reason = unreadable;
    const s = addr >= START_KERNEL_MAP ? symbolName(prog, addr, true) : null;
    if (s) {
      r.symbol = `${s.text} (${s.type})`;
      if (s.module) r.module = s.module;
    }
    const v = findVmap(prog, addr);
    if (v) r.vmap = v;
    const t = stackOwner(prog, addr);
    if (t) setTask(r, out, t);
    return out;
  }
  // slab object
  const so = slabObjectInfo(prog, addr);
  if (so) {
    out.slab = so;
    r.kind = 'slab';
    r.cache = so.cache.name;
    r.slab = '0x' + so.slab.address.toString(16);
    r.object = '0x' + so.object.toString(16);
    r.offset = so.offset;
    r.state = so.state;
    if (so.note) r.note = so.note;
    if (so.holder) r.free_in = so.holder;
    if (so.cache.redLeftPad) {
      r.slot = '0x' + so.slot.toString(16);
      r.red_left_pad = so.cache.redLeftPad;
    }
    r.region = so.region;
    const ov = overlayType(ctx, [so.object, so.slot]);
    let tid: number | null = null;
    if (ov && (ov.includes('+') || prog.btf.findType(ov.replace(/^struct\s+/, ''), 'struct') === null)) {
      // a composite layout ("struct request + struct scsi_cmnd") or a type from a module's BTF
      const m = memberInLayout(prog, ov, so.offset);
      r.type = ov;
      r.type_source = 'overlay';
      r.member_path = m.path;
    } else if (ov) {
      tid = prog.btf.findType(ov.replace(/^struct\s+/, ''), 'struct') ?? prog.btf.findType(ov);
      if (tid !== null) r.type_source = 'overlay';
    }
    if (tid === null && r.type_source !== 'overlay') {
      tid = cacheObjectType(prog, so.cache);
      if (tid !== null) r.type_source = 'cache';
    }
    if (tid !== null) {
      r.type = prog.btf.typeName(tid);
      if (so.offset >= 0 && so.offset < prog.btf.sizeof(tid)) {
        const m = prog.btf.memberAt(tid, so.offset);
        if (m) r.member_path = m.padding ? `${m.path || '(padding)'} (padding)` : m.delta ? `${m.path}+${m.delta}` : m.path;
      }
    }
    const tr = readTracks(prog, so.cache, so.object);
    if (tr) r.tracks = tr.map((t) => trackJson(prog, t));
    if (so.problems.length) r.problems = so.problems;
    if (/^task_struct$/.test(so.cache.name)) {
      const t = taskAt(prog, so.object);
      if (t) setTask(r, out, t);
    }
    r.page = describePage(prog, pa) ?? undefined;
    return out;
  }
  // module
  const s = addr >= START_KERNEL_MAP ? symbolName(prog, addr, true) : null;
  if (s && s.module) {
    r.kind = 'module';
    r.symbol = `${s.text} (${s.type})`;
    r.module = s.module;
    const v = findVmap(prog, addr);
    if (v) r.vmap = v;
    r.page = describePage(prog, pa) ?? undefined;
    return out;
  }
  // vmalloc / stacks
  const v = findVmap(prog, addr);
  if (v) {
    r.vmap = v;
    const t = stackOwner(prog, addr);
    r.kind = t ? 'stack' : 'vmalloc';
    if (t) setTask(r, out, t);
    r.page = describePage(prog, pa) ?? undefined;
    return out;
  }
  // struct page array
  const L = slabLayout(prog);
  if (addr >= L.vmemmap && addr < L.vmemmap + BigInt(Math.ceil(prog.phys.maxPhys / prog.info.pageSize) + 1) * BigInt(L.pageSize)) {
    const pageAddr = addr - ((addr - L.vmemmap) % BigInt(L.pageSize));
    const pfn = pageToPfn(prog, pageAddr);
    r.kind = 'struct-page';
    if (pfn !== null) r.struct_page_of = '0x' + (BigInt(pfn) * BigInt(prog.info.pageSize)).toString(16);
    // a struct page address describes that page (as crash does); inside one, the page holding it
    r.page = describePage(prog, pageAddr === addr && pfn !== null ? pfn * prog.info.pageSize : pa) ?? undefined;
    if (r.page?.buddy) r.state = 'free';
    return out;
  }
  const pc = percpuOf(prog, addr);
  if (pc) {
    r.kind = 'percpu';
    r.percpu = pc;
    if (pc.symbol) r.symbol = pc.symbol;
  } else r.kind = 'page';
  const t = stackOwner(prog, addr);
  if (t) {
    r.kind = 'stack';
    setTask(r, out, t);
  }
  r.page = describePage(prog, pa) ?? undefined;
  if (r.kind === 'page' && r.page?.buddy) r.state = 'free';
  return out;
}

function setTask(r: WhatisResult, out: Described, t: TaskInfo): void {
  out.task = t;
  r.task = { task: '0x' + t.task.toString(16), pid: t.pid, comm: t.comm, cpu: t.cpu };
}

export function parseAddress(prog: Program, s: string): bigint {
  const t = s.trim();
  if (/^(0x)?[0-9a-f]+$/i.test(t)) return BigInt(t.startsWith('0x') || t.startsWith('0X') ? t : '0x' + t);
  const m = /^([A-Za-z_][\w.]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(t);
  if (m) {
    const a = prog.anySymbolAddress(m[1]);
    if (a !== undefined) return a + (m[2] ? BigInt(m[2]) : 0n);
  }
  throw new CommandError(`invalid address: ${s}`);
}

// ---------------------------------------------------------------------------- text

export function whatisText(prog: Program, d: Described): string {
  const r = d.json;
  const a = r.address.replace(/^0x/, '');
  const lines: string[] = [];
  switch (r.kind) {
    case 'slab': {
      const so = d.slab!;
      const head = `${a}: ${r.state} object ${r.object} of ${r.cache}` + (r.offset ? `, offset ${r.offset < 0 ? '-' : ''}0x${Math.abs(r.offset).toString(16)} (${r.offset})` : '');
      lines.push(head + (r.note ? ` (${r.note})` : ''));
      if (so.cache.redLeftPad) {
        lines.push(`  slot ${r.slot} (left red zone of ${so.cache.redLeftPad} bytes; crash reports this address), object ${r.object}`);
      }
      if (r.region && r.region !== 'object') lines.push(`  in the object's ${r.region.replace('-', ' ')}`);
      lines.push(`  slab ${r.slab} (memory 0x${so.slab.memory.toString(16)}, ${so.slab.objects} objects, ${so.slabAllocated} allocated)  object size ${so.cache.objectSize}, stride ${so.cache.size}`);
      if (r.type) lines.push(`  type ${r.type} (${r.type_source === 'overlay' ? 'overlay' : 'dedicated cache'})` + (r.member_path ? `: ${r.member_path}` : ''));
      else lines.push(`  type unknown (${so.cache.name} holds objects of any type; choose an overlay)`);
      if (r.task) lines.push(`  task ${r.task.task} pid ${r.task.pid} "${r.task.comm}"`);
      for (const t of r.tracks ?? []) lines.push(...trackLines(t));
      for (const p of r.problems ?? []) lines.push(`  problem: ${p}`);
      break;
    }
    case 'symbol':
      lines.push(`${a}: kernel symbol ${r.symbol}` + (r.task ? `, in the stack of pid ${r.task.pid} "${r.task.comm}" (task ${r.task.task})` : ''));
      break;
    case 'module':
      lines.push(`${a}: module ${r.module}: ${r.symbol}`);
      if (r.vmap) lines.push(`  vmap area ${r.vmap.start}-${r.vmap.end} (${r.vmap.size} bytes)`);
      break;
    case 'stack':
      lines.push(`${a}: kernel stack of pid ${r.task!.pid} "${r.task!.comm}" (task ${r.task!.task}, cpu ${r.task!.cpu})`);
      if (r.vmap) lines.push(`  vmap area ${r.vmap.start}-${r.vmap.end} (${r.vmap.size} bytes)`);
      break;
    case 'vmalloc':
      lines.push(`${a}: vmalloc area ${r.vmap!.start}-${r.vmap!.end} (${r.vmap!.size} bytes)` + (r.vmap!.caller ? `, allocated by ${r.vmap!.caller}` : ''));
      break;
    case 'percpu':
      lines.push(`${a}: per-CPU area of cpu ${r.percpu!.cpu}` + (r.percpu!.symbol ? `: ${r.percpu!.symbol}` : ''));
      break;
    case 'struct-page':
      lines.push(`${a}: struct page` + (r.struct_page_of ? ` of physical ${r.struct_page_of}` : '') + ' (vmemmap)');
      break;
    case 'unreadable':
      lines.push(`${a}: cannot translate: ${r.reason}` + (r.symbol ? `; ${r.symbol}${r.module ? ` [${r.module}]` : ''}` : ''));
      break;
    case 'unmapped':
      lines.push(`${a}: not mapped (no page-table translation)` + (r.symbol ? `; ${r.symbol}${r.module ? ` [${r.module}]` : ''}` : '') + (r.task ? `; in the stack range of pid ${r.task.pid} "${r.task.comm}"` : ''));
      break;
    case 'user':
      lines.push(`${a}: user-space address`);
      break;
    case 'page':
      lines.push(`${a}: ${r.page?.buddy ? `free page (buddy block of order ${r.page.buddy.order} at ${r.page.buddy.head})` : `page ${r.page?.page ?? '?'}` + (r.page?.flag_names.length ? ` [${r.page.flag_names.join(',')}]` : '')}`);
      break;
    default:
      lines.push(`${a}: unknown`);
  }
  return lines.join('\n') + '\n';
}

export function trackLines(t: TrackJson): string[] {
  const head = `  ${t.kind === 'alloc' ? 'Allocated' : 'Freed'} in ${t.caller_symbol ?? t.caller} age=${t.age ?? '?'} cpu=${t.cpu} pid=${t.pid}`;
  const out = [head];
  for (const f of t.stack) out.push(`   ${f.symbol ?? f.pc}`);
  if (t.stack_problem) out.push(`   (stack: ${t.stack_problem})`);
  return out;
}

registerCommand({
  name: 'whatis',
  summary: 'what an address is: slab object (cache, offset, state, member), symbol, stack, vmalloc, page',
  usage: 'whatis <address> | whatis <variable>',
  run(args: string[], ctx: CommandContext): CommandResult {
    const words = args.filter((a) => a !== '--json');
    if (words.length !== 1) throw new CommandError('usage: whatis <address>');
    // crash's `whatis SYMBOL`: the variable's declaration (print.ts: BTF VAR or inferred type)
    const decl = /^[A-Za-z_]\w*$/.test(words[0]) && !/^[0-9a-f]+$/i.test(words[0]) ? variableDeclaration(ctx.prog, words[0]) : null;
    if (decl) return decl;
    const addr = parseAddress(ctx.prog, words[0]);
    const d = describeAddress(ctx, addr);
    return { text: whatisText(ctx.prog, d), json: d.json };
  },
});

