/**
 * SLUB helpers, mirroring mm/slub.c and mm/slab.h (drgn's helpers/linux/slab.py, reduced to what
 * the workbench needs). Everything is read from the kernel's BTF and VMCOREINFO, never assumed
 * for one kernel generation:
 *
 * - caches: the `slab_caches` list of struct kmem_cache (bounded, cycle-checked);
 * - slabs: struct slab (5.17+, overlaying struct page) or, when the BTF has no struct slab, the
 *   SLUB members of struct page (same member names: slab_cache, freelist, counters with the
 *   inuse/objects/frozen bitfields, slab_list, next);
 * - per-CPU: struct kmem_cache_cpu (freelist, slab or page, partial) when kmem_cache has cpu_slab,
 *   and the per-CPU "sheaves" of recent kernels (kmem_cache.cpu_sheaves -> struct
 *   slub_percpu_sheaves {main, spare, rcu_free} -> struct slab_sheaf {size, objects[]}, and the
 *   per-node barn of full sheaves) when the BTF has them;
 * - per node: struct kmem_cache_node (partial list, nr_partial, nr_slabs, total_objects, and the
 *   full list that CONFIG_SLUB_DEBUG keeps for caches with SLAB_STORE_USER);
 * - free pointers: CONFIG_SLAB_FREELIST_HARDENED (kmem_cache has `random`) stores
 *   ptr ^ s->random ^ swab(ptr_addr) (5.7+) or ptr ^ s->random ^ ptr_addr (older); which one this
 *   kernel uses is decided from the data (freelistMode): both are tried on real freelists and the
 *   one that decodes into the slab wins;
 * - slab-ness of a page: PG_slab in page->flags (VMCOREINFO NUMBER(PG_slab), up to 6.9), or the
 *   page type (6.10+: page_type's top byte == enum pagetype PGTY_slab from BTF; the 6.10/6.11 form
 *   PAGE_SLAB_MAPCOUNT_VALUE with inverted bits from VMCOREINFO);
 * - struct page addresses through vmemmap: VMCOREINFO SYMBOL(vmemmap), else the `vmemmap_base`
 *   variable (CONFIG_RANDOMIZE_MEMORY), else the fixed x86_64 base.
 *
 * Slab flag values: kernels 6.8+ define them from `enum _slab_flag_bits` (bit numbers, in BTF:
 * _SLAB_RED_ZONE ...). Older kernels only #define them, with values that did not change from 2.6
 * to 6.7 (include/linux/slab.h): SLAB_CONSISTENCY_CHECKS 0x100, SLAB_RED_ZONE 0x400, SLAB_POISON
 * 0x800, SLAB_HWCACHE_ALIGN 0x2000, SLAB_CACHE_DMA 0x4000, SLAB_CACHE_DMA32 0x8000,
 * SLAB_STORE_USER 0x10000, SLAB_RECLAIM_ACCOUNT 0x20000, SLAB_PANIC 0x40000,
 * SLAB_TYPESAFE_BY_RCU 0x80000, SLAB_TRACE 0x200000, SLAB_NOLEAKTRACE 0x800000,
 * SLAB_ACCOUNT 0x4000000, __OBJECT_POISON 0x80000000 (mm/slub.c). Where the dump can confirm a
 * flag by its effect it does: a cache with red_left_pad > 0 has SLAB_RED_ZONE.
 *
 * Corrupt memory is the normal input: every walk is bounded and cycle-checked and reports what
 * stopped it instead of throwing.
 */
import { DumpError, MemoryError, expectedError } from '../errors';
import { u32, u64, cstr } from '../bytes';
import { cacheKey, type Program } from '../kernel/program';
import { vmemmapBase } from './page';
import { walkList, listProblem, describeStop, type ListProblem, type ListWalk } from '../kernel/list';

const SLAB_LAYOUT_KEY = cacheKey<SlabLayout>('slab.layout');
const SLAB_CACHES_KEY = cacheKey<CacheListResult>('slab.caches');
const SLAB_FPMODE_KEY = cacheKey<FreelistMode>('slab.fpmode');
/** how many real freelists decided the freelist-pointer mode (0: nothing to decide from) */
export const SLAB_FPMODE_SAMPLES_KEY = cacheKey<number>('slab.fpmode.samples');
const SLAB_USAGE_KEY = cacheKey<Map<bigint, CacheUsage>>('slab.usage');
const SLAB_LOOKUP_KEY = cacheKey<Map<string, SlabObjects>>('slab.lookup');

const MAX_CACHES = 100_000;
const MAX_LIST = 1_000_000;
const MAX_OBJECTS_PER_SLAB = 1 << 15;

// ------------------------------------------------------------------------------------ layout

/** Byte offsets of what SLUB needs, from BTF (undefined when this kernel has no such member). */
export interface SlabLayout {
  /** 'slab' (struct slab, 5.17+) or 'page' (SLUB fields inside struct page) */
  slabStruct: 'slab' | 'page';
  /** sizeof(struct page) */
  pageSize: number;
  vmemmap: bigint;
  kc: {
    size: number;
    cpu_slab?: number;
    cpu_sheaves?: number;
    flags: number;
    flagsSize: number;
    objsize: number;
    slabsize: number;
    offset: number;
    oo: number;
    inuse: number;
    align: number;
    red_left_pad?: number;
    name: number;
    list: number;
    random?: number;
    /** offset of the first node's struct kmem_cache_node * (node[0], or per_node[0].node on 6.19+) */
    node: number;
    /** bytes between two nodes' pointers: 8 for node[], sizeof(struct kmem_cache_per_node_ptrs) for per_node[] */
    nodeStride: number;
    /** offset of per_node[0].barn (struct node_barn *), when the barn hangs off kmem_cache */
    barn?: number;
    refcount?: number;
    ctor?: number;
    min_partial?: number;
  };
  kcc?: { freelist: number; slab: number; partial?: number };
  kcn: { nr_partial: number; partial: number; nr_slabs?: number; total_objects?: number; full?: number; barn?: number };
  slab: {
    slab_cache: number;
    freelist: number;
    counters: number;
    inuseBit: number;
    inuseBits: number;
    objectsBit: number;
    objectsBits: number;
    frozenBit?: number;
    slab_list: number;
    next?: number;
  };
  page: { flags: number; compound_head: number; page_type?: number; mapping?: number; refcount?: number; index?: number; private?: number };
  /** how to tell a slab page */
  slabTest: { kind: 'flag'; bit: number } | { kind: 'pgty'; value: number } | { kind: 'type-inverted'; bit: number } | { kind: 'none' };
  sheaves?: { main: number; spare?: number; rcu_free?: number; sheafSize: number; sheafObjects: number; barnList?: number };
  barn?: { full: number; nr_full?: number };
  nrNodes: number;
}

function off(prog: Program, type: string, member: string): number | undefined {
  const id = prog.findType(type);
  if (id === null) return undefined;
  const loc = prog.btf.memberPath(id, member);
  return loc ? loc.offset : undefined;
}

function must(v: number | undefined, what: string): number {
  if (v === undefined) throw new DumpError(`SLUB: the kernel's BTF has no ${what}; is this a SLUB kernel?`);
  return v;
}

function structId(prog: Program, name: string): number | null {
  return prog.btf.findType(name, 'struct');
}

/** The SLUB layout of this kernel (cached per Program). Throws DumpError without BTF/SLUB. */
export function slabLayout(prog: Program): SlabLayout {
  const c = prog.recall(SLAB_LAYOUT_KEY);
  if (c) return c;
  const btf = prog.btf;
  const kcId = structId(prog, 'kmem_cache');
  if (kcId === null) throw new DumpError('SLUB: no struct kmem_cache in BTF');
  const km = (m: string) => {
    const l = btf.memberPath(kcId, m);
    return l ? l.offset : undefined;
  };
  const flagsLoc = btf.memberPath(kcId, 'flags');
  // the node pointers: kmem_cache.node[] or (6.19+, with the barns) kmem_cache.per_node[] of
  // struct kmem_cache_per_node_ptrs {barn, node}
  let nodeAt = km('node');
  let nodeStride = 8;
  let barnAt: number | undefined;
  if (nodeAt === undefined) {
    const pn = btf.memberPath(kcId, 'per_node');
    const pnt = structId(prog, 'kmem_cache_per_node_ptrs');
    const pnNode = off(prog, 'kmem_cache_per_node_ptrs', 'node');
    if (pn && pnt !== null && pnNode !== undefined) {
      nodeAt = pn.offset + pnNode;
      nodeStride = prog.sizeof(pnt);
      const pnBarn = off(prog, 'kmem_cache_per_node_ptrs', 'barn');
      if (pnBarn !== undefined) barnAt = pn.offset + pnBarn;
    }
  }
  if (km('cpu_slab') === undefined && km('cpu_sheaves') === undefined && nodeAt === undefined) {
    throw new DumpError('SLUB: struct kmem_cache has neither cpu_slab, cpu_sheaves nor node (SLAB or SLOB kernel?)');
  }
  const slabStruct: 'slab' | 'page' = structId(prog, 'slab') !== null && off(prog, 'slab', 'slab_cache') !== undefined ? 'slab' : 'page';
  const st = slabStruct;
  const sid = structId(prog, st)!;
  const counters = must(off(prog, st, 'counters'), `${st}.counters`);
  const bits = (m: string) => {
    const l = btf.memberPath(sid, m);
    return l ? { bit: l.bitOffset - counters * 8, n: l.bitSize || btf.sizeof(l.type) * 8 } : undefined;
  };
  const inuse = bits('inuse');
  const objects = bits('objects');
  const frozen = bits('frozen');
  if (!inuse || !objects) throw new DumpError(`SLUB: ${st} has no inuse/objects counters`);

  const info = prog.info;
  const pageSize = info.size('page') ?? prog.sizeof('page');
  // kmem_cache_cpu: freelist, slab (struct slab) or page (older)
  let kcc: SlabLayout['kcc'];
  if (km('cpu_slab') !== undefined && structId(prog, 'kmem_cache_cpu') !== null) {
    kcc = {
      freelist: must(off(prog, 'kmem_cache_cpu', 'freelist'), 'kmem_cache_cpu.freelist'),
      slab: must(off(prog, 'kmem_cache_cpu', 'slab') ?? off(prog, 'kmem_cache_cpu', 'page'), 'kmem_cache_cpu.slab'),
      partial: off(prog, 'kmem_cache_cpu', 'partial'),
    };
  }
  let sheaves: SlabLayout['sheaves'];
  if (km('cpu_sheaves') !== undefined && structId(prog, 'slub_percpu_sheaves') !== null && structId(prog, 'slab_sheaf') !== null) {
    sheaves = {
      main: must(off(prog, 'slub_percpu_sheaves', 'main'), 'slub_percpu_sheaves.main'),
      spare: off(prog, 'slub_percpu_sheaves', 'spare'),
      rcu_free: off(prog, 'slub_percpu_sheaves', 'rcu_free'),
      sheafSize: must(off(prog, 'slab_sheaf', 'size'), 'slab_sheaf.size'),
      sheafObjects: must(off(prog, 'slab_sheaf', 'objects'), 'slab_sheaf.objects'),
      barnList: off(prog, 'slab_sheaf', 'barn_list'),
    };
  }
  let barn: SlabLayout['barn'];
  if ((off(prog, 'kmem_cache_node', 'barn') !== undefined || barnAt !== undefined) && structId(prog, 'node_barn') !== null) {
    const f = off(prog, 'node_barn', 'sheaves_full');
    if (f !== undefined) barn = { full: f, nr_full: off(prog, 'node_barn', 'nr_full') };
  }
  // slab test
  let slabTest: SlabLayout['slabTest'] = { kind: 'none' };
  const pgSlab = info.number('PG_slab');
  const pgty = btf.enumerator('PGTY_slab');
  const mapcountVal = info.number('PAGE_SLAB_MAPCOUNT_VALUE');
  if (pgSlab !== undefined) slabTest = { kind: 'flag', bit: Number(pgSlab) };
  else if (pgty) slabTest = { kind: 'pgty', value: Number(pgty.value) };
  else if (mapcountVal !== undefined) slabTest = { kind: 'type-inverted', bit: ~Number(mapcountVal) >>> 0 };
  else {
    const e = btf.enumerator('PG_slab');
    if (e) slabTest = { kind: 'flag', bit: Number(e.value) };
  }
  // nr_node_ids
  let nrNodes = 1;
  const nn = prog.symbolAddress('nr_node_ids');
  if (nn !== undefined) {
    const b = prog.mem.tryRead(nn, 4);
    if (b) {
      const v = u32(b, 0);
      if (v >= 1 && v <= 1024) nrNodes = v;
    }
  }
  const L: SlabLayout = {
    slabStruct,
    pageSize,
    vmemmap: vmemmapBase(prog),
    kc: {
      size: btf.sizeof(kcId),
      cpu_slab: km('cpu_slab'),
      cpu_sheaves: km('cpu_sheaves'),
      flags: must(flagsLoc?.offset, 'kmem_cache.flags'),
      flagsSize: flagsLoc ? btf.sizeof(flagsLoc.type) : 4,
      objsize: must(km('object_size'), 'kmem_cache.object_size'),
      slabsize: must(km('size'), 'kmem_cache.size'),
      offset: must(km('offset'), 'kmem_cache.offset'),
      oo: must(km('oo'), 'kmem_cache.oo'),
      inuse: must(km('inuse'), 'kmem_cache.inuse'),
      align: must(km('align'), 'kmem_cache.align'),
      red_left_pad: km('red_left_pad'),
      name: must(km('name'), 'kmem_cache.name'),
      list: must(km('list'), 'kmem_cache.list'),
      random: km('random'),
      node: must(nodeAt, 'kmem_cache.node (or per_node[].node)'),
      nodeStride,
      barn: barnAt,
      refcount: km('refcount'),
      ctor: km('ctor'),
      min_partial: km('min_partial'),
    },
    kcc,
    kcn: {
      nr_partial: must(off(prog, 'kmem_cache_node', 'nr_partial'), 'kmem_cache_node.nr_partial'),
      partial: must(off(prog, 'kmem_cache_node', 'partial'), 'kmem_cache_node.partial'),
      nr_slabs: off(prog, 'kmem_cache_node', 'nr_slabs'),
      total_objects: off(prog, 'kmem_cache_node', 'total_objects'),
      full: off(prog, 'kmem_cache_node', 'full'),
      barn: off(prog, 'kmem_cache_node', 'barn'),
    },
    slab: {
      slab_cache: must(off(prog, st, 'slab_cache'), `${st}.slab_cache`),
      freelist: must(off(prog, st, 'freelist'), `${st}.freelist`),
      counters,
      inuseBit: inuse.bit,
      inuseBits: inuse.n,
      objectsBit: objects.bit,
      objectsBits: objects.n,
      frozenBit: frozen?.bit,
      slab_list: must(off(prog, st, 'slab_list') ?? off(prog, st, 'lru'), `${st}.slab_list`),
      next: off(prog, st, 'next'),
    },
    page: {
      flags: info.offset('page.flags') ?? 0,
      compound_head:
        info.offset('page.compound_head') ?? info.offset('page.compound_info') ?? off(prog, 'page', 'compound_head') ?? off(prog, 'page', 'compound_info') ?? 8,
      page_type: off(prog, 'page', 'page_type') ?? info.offset('page._mapcount'),
      mapping: info.offset('page.mapping') ?? off(prog, 'page', 'mapping'),
      refcount: info.offset('page._refcount') ?? off(prog, 'page', '_refcount'),
      index: off(prog, 'page', 'index') ?? off(prog, 'page', '__folio_index'),
      private: info.offset('page.private') ?? off(prog, 'page', 'private'),
    },
    slabTest,
    sheaves,
    barn,
    nrNodes,
  };
  prog.remember(SLAB_LAYOUT_KEY, L);
  return L;
}

// ------------------------------------------------------------------------------------ flags

export type SlabFlagName =
  | 'SLAB_CONSISTENCY_CHECKS' | 'SLAB_RED_ZONE' | 'SLAB_POISON' | 'SLAB_KMALLOC' | 'SLAB_HWCACHE_ALIGN'
  | 'SLAB_CACHE_DMA' | 'SLAB_CACHE_DMA32' | 'SLAB_STORE_USER' | 'SLAB_PANIC' | 'SLAB_TYPESAFE_BY_RCU'
  | 'SLAB_TRACE' | 'SLAB_NOLEAKTRACE' | 'SLAB_ACCOUNT' | 'SLAB_RECLAIM_ACCOUNT' | '__OBJECT_POISON'
  | '__CMPXCHG_DOUBLE';

/** Values of the #defines of kernels before 6.8 (see the file comment). */
const LEGACY_FLAGS: Record<SlabFlagName, bigint> = {
  SLAB_CONSISTENCY_CHECKS: 0x100n,
  SLAB_RED_ZONE: 0x400n,
  SLAB_POISON: 0x800n,
  SLAB_KMALLOC: 0x1000n,
  SLAB_HWCACHE_ALIGN: 0x2000n,
  SLAB_CACHE_DMA: 0x4000n,
  SLAB_CACHE_DMA32: 0x8000n,
  SLAB_STORE_USER: 0x10000n,
  SLAB_RECLAIM_ACCOUNT: 0x20000n,
  SLAB_PANIC: 0x40000n,
  SLAB_TYPESAFE_BY_RCU: 0x80000n,
  SLAB_TRACE: 0x200000n,
  SLAB_NOLEAKTRACE: 0x800000n,
  SLAB_ACCOUNT: 0x4000000n,
  __CMPXCHG_DOUBLE: 0x40000000n,
  __OBJECT_POISON: 0x80000000n,
};

/** The value of a slab flag on this kernel: from enum _slab_flag_bits when the BTF has it. */
export function slabFlag(prog: Program, name: SlabFlagName): bigint {
  return prog.memo(cacheKey<bigint>('slab.flag.' + name), () => {
    const bitName = name.startsWith('__') ? '_SLAB_' + name.slice(2) : '_' + name;
    const e = prog.btf.enumerator(bitName);
    // 6.8+: every flag is a bit of enum _slab_flag_bits; a flag absent from the enum is not configured
    if (prog.btf.enumerator('_SLAB_RED_ZONE')) return e ? 1n << e.value : 0n;
    return LEGACY_FLAGS[name];
  });
}

export function flagNames(prog: Program, flags: bigint): string[] {
  const out: string[] = [];
  for (const n of Object.keys(LEGACY_FLAGS) as SlabFlagName[]) {
    const v = slabFlag(prog, n);
    if (v && (flags & v) === v) out.push(n);
  }
  return out;
}

// ------------------------------------------------------------------------------------ caches

/** struct kmem_cache, read. */
export interface SlabCache {
  address: bigint;
  name: string;
  /** object_size: what the user asked for */
  objectSize: number;
  /** size: the stride of objects in a slab (object + metadata) */
  size: number;
  /** offset of the free pointer from the object pointer */
  offset: number;
  /** inuse: end of the object and its right red zone (metadata starts here) */
  inuse: number;
  align: number;
  redLeftPad: number;
  flags: bigint;
  random: bigint | null;
  /** slab order and objects per slab (s->oo) */
  order: number;
  objects: number;
  refcount: number;
  ctor: bigint;
  /** __percpu struct kmem_cache_cpu * (null when the kernel has none) */
  cpuSlab: bigint | null;
  /** __percpu struct slub_percpu_sheaves * (7.x) */
  cpuSheaves: bigint | null;
  /** struct kmem_cache_node * per node */
  nodes: bigint[];
  /** struct node_barn * per node, when kmem_cache holds them (per_node[].barn, 6.19+) */
  barns?: bigint[];
}

export interface CacheListResult {
  caches: SlabCache[];
  /** what stopped the walk of slab_caches early, or an unreadable cache */
  problems: Array<{ address: bigint; message: string }>;
}

/** Read one struct kmem_cache. Throws MemoryError when unreadable. */
export function readCache(prog: Program, addr: bigint): SlabCache {
  const L = slabLayout(prog);
  const k = L.kc;
  const len = Math.max(k.node, k.barn ?? 0) + k.nodeStride * (L.nrNodes - 1) + 8;
  const b = prog.mem.read(addr, len);
  const namePtr = u64(b, k.name);
  let name = '';
  try {
    name = prog.mem.cstring(namePtr, 64);
  } catch (e) {
    expectedError(e);
    name = `(unreadable name at 0x${namePtr.toString(16)})`;
  }
  const oo = u32(b, k.oo);
  const flags = k.flagsSize === 8 ? u64(b, k.flags) : BigInt(u32(b, k.flags));
  const nodes: bigint[] = [];
  for (let i = 0; i < L.nrNodes; i++) nodes.push(u64(b, k.node + k.nodeStride * i));
  const barns = k.barn !== undefined ? Array.from({ length: L.nrNodes }, (_, i) => u64(b, k.barn! + k.nodeStride * i)) : undefined;
  return {
    address: addr,
    name,
    objectSize: u32(b, k.objsize),
    size: u32(b, k.slabsize),
    offset: u32(b, k.offset),
    inuse: u32(b, k.inuse),
    align: u32(b, k.align),
    redLeftPad: k.red_left_pad !== undefined ? u32(b, k.red_left_pad) : 0,
    flags,
    random: k.random !== undefined ? u64(b, k.random) : null,
    order: oo >>> 16,
    objects: oo & 0xffff,
    refcount: k.refcount !== undefined ? u32(b, k.refcount) | 0 : 1,
    ctor: k.ctor !== undefined ? u64(b, k.ctor) : 0n,
    cpuSlab: k.cpu_slab !== undefined ? u64(b, k.cpu_slab) : null,
    cpuSheaves: k.cpu_sheaves !== undefined ? u64(b, k.cpu_sheaves) : null,
    nodes,
    ...(barns ? { barns } : {}),
  };
}

/** Every cache on the slab_caches list, in list order (as crash's kmem -s prints them). */
export function listCaches(prog: Program): CacheListResult {
  const c = prog.recall(SLAB_CACHES_KEY);
  if (c) return c;
  const L = slabLayout(prog);
  const head = prog.symbolAddress('slab_caches');
  if (head === undefined) throw prog.missingSymbol('slab_caches', 'SLUB: no slab_caches symbol');
  const out: CacheListResult = { caches: [], problems: [] };
  try {
    prog.mem.u64(head);
  } catch (e) {
    throw new DumpError(`SLUB: slab_caches list head unreadable: ${(e as Error).message}`);
  }
  const walk = walkList(prog, head, { nextOffset: L.kc.list, headIsAnchor: true, limit: MAX_CACHES });
  let prev = head;
  for (const kc of walk.entries) {
    const cur = kc + BigInt(L.kc.list);
    try {
      const back = prog.mem.u64(cur + 8n);
      if (back !== prev) out.problems.push({ address: kc, message: `slab_caches: ${prev === head ? 'head' : 'entry'} 0x${prev.toString(16)} -> 0x${cur.toString(16)} but its prev is 0x${back.toString(16)}` });
      out.caches.push(readCache(prog, kc));
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      out.problems.push({ address: kc, message: `slab_caches: kmem_cache 0x${kc.toString(16)} unreadable: ${e.message}` });
      break;
    }
    prev = cur;
  }
  const stop = out.caches.length === walk.entries.length ? listProblem(walk, 'slab_caches') : null;
  if (stop) out.problems.push({ address: stop.at, message: stop.message });
  prog.remember(SLAB_CACHES_KEY, out);
  return out;
}

/** A cache by name or kmem_cache address. */
export function findCache(prog: Program, spec: string | bigint): SlabCache | null {
  const list = listCaches(prog);
  if (typeof spec === 'bigint') {
    // by address for every slab an address lookup meets: one map per cache list
    let byAddr = cachesByAddress.get(list);
    if (!byAddr) {
      byAddr = new Map();
      for (const c of list.caches) if (!byAddr.has(c.address)) byAddr.set(c.address, c);
      cachesByAddress.set(list, byAddr);
    }
    return byAddr.get(spec) ?? null;
  }
  return list.caches.find((c) => c.name === spec) ?? null;
}
const cachesByAddress = new WeakMap<CacheListResult, Map<bigint, SlabCache>>();

/** PAGE_SIZE << order: the slab size crash prints as SSIZE. */
export function slabBytes(prog: Program, c: SlabCache): number {
  return prog.info.pageSize << c.order;
}

// ------------------------------------------------------------------------------------ pages

/** struct page address of a kernel virtual address (direct map or anything vtop translates). */
export function virtToPage(prog: Program, addr: bigint): bigint | null {
  let pa: number;
  try {
    pa = prog.arch.vtop(addr);
  } catch (e) {
    expectedError(e);
    return null;
  }
  return physToPage(prog, pa);
}

export function physToPage(prog: Program, pa: number): bigint {
  const L = slabLayout(prog);
  return L.vmemmap + BigInt(Math.floor(pa / prog.info.pageSize)) * BigInt(L.pageSize);
}

/** pfn of a struct page address (null when not in vmemmap's range). */
export function pageToPfn(prog: Program, page: bigint): number | null {
  const L = slabLayout(prog);
  if (page < L.vmemmap) return null;
  const d = page - L.vmemmap;
  if (d % BigInt(L.pageSize) !== 0n) return null;
  const pfn = Number(d / BigInt(L.pageSize));
  if (pfn * prog.info.pageSize >= prog.phys.maxPhys + (1 << 30)) return null;
  return pfn;
}

/** Direct-map address of a struct page (page_address). */
export function pageToVirt(prog: Program, page: bigint): bigint {
  const pfn = pageToPfn(prog, page);
  if (pfn === null) throw new DumpError(`0x${page.toString(16)} is not a struct page address`);
  const base = prog.arch.pageOffset ?? (prog.arch.l5 ? 0xff11000000000000n : 0xffff888000000000n);
  return base + BigInt(pfn) * BigInt(prog.info.pageSize);
}

/** Whether the struct page at `page` (raw bytes `b`, at least 64) is a slab page (head). */
export function pageBytesIsSlab(prog: Program, b: Uint8Array, o = 0): boolean {
  const L = slabLayout(prog);
  const t = L.slabTest;
  if (t.kind === 'flag') return ((u64(b, o + L.page.flags) >> BigInt(t.bit)) & 1n) === 1n;
  if (L.page.page_type === undefined) return false;
  const pt = u32(b, o + L.page.page_type);
  if (t.kind === 'pgty') return pt >>> 24 === t.value;
  if (t.kind === 'type-inverted') return (pt & (0xf0000000 | t.bit)) >>> 0 === 0xf0000000;
  return false;
}

/**
 * compound_head(page): the head page of a compound page, or the page itself. Bit 0 of the word
 * (page->compound_head, page->compound_info on 7.x) marks a tail page; the rest is either the head
 * page's address (compound_head, and compound_info when sizeof(struct page) is not a power of 2)
 * or, with a power-of-2 struct page on 7.x, a mask that turns the tail's address into its head's
 * (page & info). Which one is decided from the value: a head pointer lies at or below the tail,
 * within a maximal folio; a mask has all its high bits set and does not.
 */
export function compoundHead(prog: Program, page: bigint): bigint {
  const L = slabLayout(prog);
  const b = prog.mem.tryRead(page + BigInt(L.page.compound_head), 8);
  if (!b) return page;
  return headFromCompoundWord(page, u64(b, 0), L.pageSize);
}

/** The head page of `page` from its compound word `v` (see compoundHead). */
export function headFromCompoundWord(page: bigint, v: bigint, structPageSize: number): bigint {
  if (!(v & 1n)) return page;
  const ptr = v - 1n;
  // at most 2^18 tail pages (a 1 GiB folio) away
  if (ptr <= page && page - ptr <= BigInt(structPageSize) << 18n) return ptr;
  const pow2 = structPageSize > 0 && (structPageSize & (structPageSize - 1)) === 0;
  if (pow2 && v >> 63n) {
    const head = page & v & ~1n;
    if (page - head <= BigInt(structPageSize) << 18n) return head;
  }
  return page;
}

// ------------------------------------------------------------------------------------ slabs

/** struct slab (or the SLUB part of struct page), read. */
export interface SlabInfo {
  /** struct slab / struct page address */
  address: bigint;
  cache: bigint;
  /** raw slab->freelist (not encoded: it is the first free object) */
  freelist: bigint;
  inuse: number;
  objects: number;
  frozen: boolean;
  /** page_address(slab): the start of the slab's memory */
  memory: bigint;
  /** slab->next (per-CPU partial chain) */
  next: bigint;
  /** whether the page says it is a slab (PG_slab / page type) */
  isSlab: boolean;
}

export function readSlab(prog: Program, addr: bigint): SlabInfo {
  const L = slabLayout(prog);
  const s = L.slab;
  const b = prog.mem.read(addr, Math.max(L.pageSize, 64));
  const ctr = u64(b, s.counters);
  const field = (bit: number, n: number) => Number((ctr >> BigInt(bit)) & ((1n << BigInt(n)) - 1n));
  let memory = 0n;
  try {
    memory = pageToVirt(prog, addr);
  } catch (e) {
    expectedError(e);
    /* not a page address */
  }
  return {
    address: addr,
    cache: u64(b, s.slab_cache),
    freelist: u64(b, s.freelist),
    inuse: field(s.inuseBit, s.inuseBits),
    objects: field(s.objectsBit, s.objectsBits),
    frozen: s.frozenBit !== undefined ? field(s.frozenBit, 1) === 1 : false,
    memory,
    next: s.next !== undefined ? u64(b, s.next) : 0n,
    isSlab: pageBytesIsSlab(prog, b),
  };
}

/** swab64 */
export function swab64(v: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 8; i++) {
    r = (r << 8n) | (v & 0xffn);
    v >>= 8n;
  }
  return r;
}

export type FreelistMode = 'plain' | 'hardened-swab' | 'hardened';

/** freelist_ptr_decode(): the next free object from the value stored at ptrAddr. */
export function decodeFreePointer(mode: FreelistMode, c: SlabCache, ptrAddr: bigint, stored: bigint): bigint {
  if (mode === 'plain' || c.random === null) return stored;
  const k = mode === 'hardened-swab' ? swab64(ptrAddr) : ptrAddr;
  return BigInt.asUintN(64, stored ^ c.random ^ k);
}

/**
 * How this kernel stores free pointers, decided from the data: walks a few real freelists (the
 * per-CPU freelists and the partial slabs of the first caches) with each candidate and keeps the
 * one whose decoded pointers land on object boundaries inside the slab (or end the list with 0).
 */
export function freelistMode(prog: Program): FreelistMode {
  const c = prog.recall(SLAB_FPMODE_KEY);
  if (c) return c;
  const L = slabLayout(prog);
  if (L.kc.random === undefined) {
    prog.remember(SLAB_FPMODE_KEY, 'plain');
    return 'plain';
  }
  const score: Record<FreelistMode, number> = { plain: 0, 'hardened-swab': 0, hardened: 0 };
  const modes: FreelistMode[] = ['hardened-swab', 'hardened', 'plain'];
  let samples = 0;
  const { caches } = listCaches(prog);
  for (const cache of caches) {
    if (samples >= 24) break;
    for (const start of sampleFreelists(prog, cache)) {
      samples++;
      for (const m of modes) {
        const r = walkFreelistRaw(prog, m, cache, start.head, start.slab, 4);
        if (!r.error && r.objects.length >= 1) score[m] += r.objects.length;
        else if (r.error) score[m] -= 1;
      }
    }
  }
  let best: FreelistMode = 'hardened-swab';
  for (const m of modes) if (score[m] > score[best]) best = m;
  prog.remember(SLAB_FPMODE_KEY, best);
  // how many real freelists decided it (0: nothing to decide from, the default stands)
  prog.remember(SLAB_FPMODE_SAMPLES_KEY, samples);
  return best;
}

function sampleFreelists(prog: Program, cache: SlabCache): Array<{ head: bigint; slab: SlabInfo }> {
  const out: Array<{ head: bigint; slab: SlabInfo }> = [];
  for (const cs of cpuSlabs(prog, cache)) {
    if (cs.slab && cs.freelist) out.push({ head: cs.freelist, slab: cs.slab });
    if (cs.slab && cs.slab.freelist) out.push({ head: cs.slab.freelist, slab: cs.slab });
  }
  // kernels without kmem_cache_cpu (sheaves, 6.18+): the node partial slabs' own freelists
  if (out.length < 4) {
    for (const n of cacheNodes(prog, cache, false)) {
      for (const a of n.partial.entries.slice(0, 4)) {
        try {
          const sl = readSlab(prog, a);
          if (sl.freelist) out.push({ head: sl.freelist, slab: sl });
        } catch (e) {
          if (!(e instanceof MemoryError)) throw e;
        }
      }
    }
  }
  return out.slice(0, 4);
}

export interface FreelistWalk {
  objects: bigint[];
  error?: { kind: 'outside' | 'misaligned' | 'cycle' | 'unreadable' | 'too-long'; at: bigint; value: bigint; message: string };
}

/** Object bounds of a slab: [start, end) of object pointers (after red_left_pad). */
export function slabBounds(c: SlabCache, slab: SlabInfo): { first: bigint; end: bigint; count: number } {
  const count = slab.objects || c.objects;
  return { first: slab.memory + BigInt(c.redLeftPad), end: slab.memory + BigInt(count * c.size), count };
}

/** Index of object pointer p in the slab, or -1 when p is not an object boundary inside it. */
export function objectIndex(c: SlabCache, slab: SlabInfo, p: bigint): number {
  const b = slabBounds(c, slab);
  if (p < b.first || p >= b.end || c.size === 0) return -1;
  const d = p - b.first;
  if (d % BigInt(c.size) !== 0n) return -1;
  const i = Number(d / BigInt(c.size));
  return i < b.count ? i : -1;
}

function walkFreelistRaw(prog: Program, mode: FreelistMode, c: SlabCache, head: bigint, slab: SlabInfo | null, limit: number): FreelistWalk {
  const objs: bigint[] = [];
  const seen = new Set<bigint>();
  let p = head;
  let from = 0n;
  const max = Math.min(limit, MAX_OBJECTS_PER_SLAB);
  while (p !== 0n) {
    if (objs.length >= max) {
      if (limit < MAX_OBJECTS_PER_SLAB) break;
      return { objects: objs, error: { kind: 'too-long', at: from, value: p, message: `freelist longer than ${max} objects` } };
    }
    if (seen.has(p)) return { objects: objs, error: { kind: 'cycle', at: from, value: p, message: `freelist cycle: 0x${p.toString(16)} again` } };
    if (slab) {
      const b = slabBounds(c, slab);
      if (p < b.first - BigInt(c.redLeftPad) || p >= b.end) {
        return { objects: objs, error: { kind: 'outside', at: from, value: p, message: `free pointer 0x${p.toString(16)} outside slab 0x${slab.address.toString(16)} [0x${slab.memory.toString(16)}-0x${b.end.toString(16)})` } };
      }
      if (objectIndex(c, slab, p) < 0) {
        return { objects: objs, error: { kind: 'misaligned', at: from, value: p, message: `free pointer 0x${p.toString(16)} is not on an object boundary of slab 0x${slab.address.toString(16)}` } };
      }
    }
    seen.add(p);
    objs.push(p);
    const fpAddr = p + BigInt(c.offset);
    const b = prog.mem.tryRead(fpAddr, 8);
    if (!b) return { objects: objs, error: { kind: 'unreadable', at: fpAddr, value: p, message: `free pointer of 0x${p.toString(16)} at 0x${fpAddr.toString(16)} unreadable` } };
    from = fpAddr;
    p = decodeFreePointer(mode, c, fpAddr, u64(b, 0));
  }
  return { objects: objs };
}

/** Walk a freelist starting at `head` (a raw object pointer), checking it against `slab`. */
export function walkFreelist(prog: Program, c: SlabCache, head: bigint, slab: SlabInfo | null): FreelistWalk {
  return walkFreelistRaw(prog, freelistMode(prog), c, head, slab, MAX_OBJECTS_PER_SLAB);
}

// ------------------------------------------------------------------------------------ per CPU

export interface CpuSlab {
  cpu: number;
  /** struct kmem_cache_cpu address */
  kcc: bigint;
  /** kcc->freelist: the lockless per-CPU freelist */
  freelist: bigint;
  /** kcc->slab (null when none) */
  slab: SlabInfo | null;
  slabAddr: bigint;
  /** the per-CPU partial slabs (kcc->partial, then slab->next) */
  partial: SlabInfo[];
  problems: string[];
}

/** Every possible CPU's kmem_cache_cpu for a cache (online or not: crash counts them all). */
export function cpuSlabs(prog: Program, c: SlabCache): CpuSlab[] {
  return prog.memo(cacheKey<CpuSlab[]>('slab.cpu.' + c.address.toString(16)), () => readCpuSlabs(prog, c));
}

function readCpuSlabs(prog: Program, c: SlabCache): CpuSlab[] {
  const L = slabLayout(prog);
  const out: CpuSlab[] = [];
  if (!L.kcc || !c.cpuSlab) return out;
  const offs = prog.perCpuOffsets();
  for (let cpu = 0; cpu < offs.length; cpu++) {
    const kcc = BigInt.asUintN(64, c.cpuSlab + offs[cpu]);
    const cs: CpuSlab = { cpu, kcc, freelist: 0n, slab: null, slabAddr: 0n, partial: [], problems: [] };
    out.push(cs);
    const b = prog.mem.tryRead(kcc, Math.max(L.kcc.freelist, L.kcc.slab, L.kcc.partial ?? 0) + 8);
    if (!b) {
      cs.problems.push(`kmem_cache_cpu 0x${kcc.toString(16)} of cpu ${cpu} unreadable`);
      continue;
    }
    cs.freelist = u64(b, L.kcc.freelist);
    cs.slabAddr = u64(b, L.kcc.slab);
    if (cs.slabAddr) {
      try {
        cs.slab = readSlab(prog, cs.slabAddr);
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        cs.problems.push(`cpu ${cpu} slab 0x${cs.slabAddr.toString(16)} unreadable`);
      }
    }
    if (L.kcc.partial !== undefined) {
      const first = u64(b, L.kcc.partial);
      // slab->next chains the per-CPU partial slabs; a NULL ends it (no slab->next: only the first)
      const walk: ListWalk = !first ? { entries: [], stop: { kind: 'end' } }
        : L.slab.next === undefined ? { entries: [first], stop: { kind: 'end' } }
        : walkList(prog, first, { nextOffset: L.slab.next, endAtStart: false, limit: 100_000 });
      let complete = true;
      for (const p of walk.entries) {
        if (pageToPfn(prog, p) === null) {
          cs.problems.push(`cpu ${cpu} partial list: 0x${p.toString(16)} is not a struct slab address`);
          complete = false;
          break;
        }
        try {
          cs.partial.push(readSlab(prog, p));
        } catch (e) {
          if (!(e instanceof MemoryError)) throw e;
          cs.problems.push(`cpu ${cpu} partial slab 0x${p.toString(16)} unreadable`);
          complete = false;
          break;
        }
      }
      const stop = complete ? describeStop(walk, `cpu ${cpu} partial list`) : null;
      if (stop) cs.problems.push(stop);
    }
  }
  return out;
}

/**
 * Per-CPU sheaves (6.18+): the objects each CPU holds in its main/spare sheaves (free, ready to
 * allocate) and in its rcu_free sheaf (kfree_rcu()'d, waiting for a grace period: still allocated,
 * as drgn counts them).
 */
export interface CpuSheaf {
  cpu: number;
  which: 'main' | 'spare' | 'rcu_free';
  sheaf: bigint;
  objects: bigint[];
}

export function cpuSheaves(prog: Program, c: SlabCache): CpuSheaf[] {
  const L = slabLayout(prog);
  const out: CpuSheaf[] = [];
  if (!L.sheaves || !c.cpuSheaves) return out;
  const S = L.sheaves;
  const offs = prog.perCpuOffsets();
  for (let cpu = 0; cpu < offs.length; cpu++) {
    const pcs = BigInt.asUintN(64, c.cpuSheaves + offs[cpu]);
    for (const [which, o] of [['main', S.main], ['spare', S.spare], ['rcu_free', S.rcu_free]] as const) {
      if (o === undefined) continue;
      const b = prog.mem.tryRead(pcs + BigInt(o), 8);
      if (!b) continue;
      const sheaf = u64(b, 0);
      if (!sheaf) continue;
      out.push({ cpu, which, sheaf, objects: readSheaf(prog, sheaf) });
    }
  }
  return out;
}

function readSheaf(prog: Program, sheaf: bigint): bigint[] {
  const S = slabLayout(prog).sheaves!;
  const b = prog.mem.tryRead(sheaf + BigInt(S.sheafSize), 4);
  if (!b) return [];
  const n = Math.min(u32(b, 0), 4096);
  const ob = prog.mem.tryRead(sheaf + BigInt(S.sheafObjects), n * 8);
  const out: bigint[] = [];
  if (ob) for (let i = 0; i < n; i++) out.push(u64(ob, i * 8));
  return out;
}

/** Objects in the full sheaves of each node's barn (6.18+), with the node holding them. */
export function barnObjects(prog: Program, c: SlabCache): bigint[] {
  return nodeBarns(prog, c).flatMap((b) => b.objects);
}

export interface NodeBarn {
  node: number;
  barn: bigint;
  objects: bigint[];
  problem?: string;
}

/**
 * Each node's barn (struct node_barn: kmem_cache_node.barn, or kmem_cache.per_node[].barn on
 * 6.19+) and the objects in its full sheaves. Bounded like every list walk.
 */
export function nodeBarns(prog: Program, c: SlabCache): NodeBarn[] {
  const L = slabLayout(prog);
  const barnFull = L.barn?.full;
  const barnList = L.sheaves?.barnList;
  if (barnFull === undefined || barnList === undefined) return [];
  return prog.memo(cacheKey<NodeBarn[]>('slab.barns.' + c.address.toString(16)), () => {
    const out: NodeBarn[] = [];
    for (let i = 0; i < c.nodes.length; i++) {
      let barn = c.barns?.[i] ?? 0n;
      if (!c.barns) {
        const n = c.nodes[i];
        if (!n || L.kcn.barn === undefined) continue;
        const b = prog.mem.tryRead(n + BigInt(L.kcn.barn), 8);
        if (!b) continue;
        barn = u64(b, 0);
      }
      if (!barn) continue;
      const r = walkListHead(prog, barn + BigInt(barnFull), barnList, 100_000);
      const objects: bigint[] = [];
      for (const sheaf of r.entries) objects.push(...readSheaf(prog, sheaf));
      out.push({ node: i, barn, objects, ...(r.problem ? { problem: `node ${i} barn: ${r.problem.message}` } : {}) });
    }
    return out;
  });
}

// ------------------------------------------------------------------------------------ per node

export interface ListWalkResult {
  /** container addresses (entry - member offset) */
  entries: bigint[];
  problem?: ListProblem;
}

/** Walk a list_head ring from `head`, returning containers (entry - off). Bounded, checked (kernel/list.ts). */
export function walkListHead(prog: Program, head: bigint, off: number, max = MAX_LIST): ListWalkResult {
  const walk = walkList(prog, head, { nextOffset: off, headIsAnchor: true, checkPrev: true, limit: max });
  const problem = listProblem(walk, '');
  return problem ? { entries: walk.entries, problem } : { entries: walk.entries };
}

export interface NodeInfo {
  node: number;
  address: bigint;
  nrPartial: number;
  nrSlabs: number | null;
  totalObjects: number | null;
  partial: ListWalkResult;
  /** the full list: only kept for SLAB_STORE_USER caches with CONFIG_SLUB_DEBUG */
  full: ListWalkResult | null;
}

export function fullListTracked(prog: Program, c: SlabCache): boolean {
  const L = slabLayout(prog);
  return L.kcn.full !== undefined && (c.flags & slabFlag(prog, 'SLAB_STORE_USER')) !== 0n;
}

export function cacheNodes(prog: Program, c: SlabCache, withFull = true): NodeInfo[] {
  const L = slabLayout(prog);
  const out: NodeInfo[] = [];
  c.nodes.forEach((n, i) => {
    if (!n) return;
    const b = prog.mem.tryRead(n, Math.max(L.kcn.nr_partial, L.kcn.nr_slabs ?? 0, L.kcn.total_objects ?? 0) + 8);
    if (!b) {
      out.push({ node: i, address: n, nrPartial: 0, nrSlabs: null, totalObjects: null, partial: { entries: [], problem: { at: n, message: `kmem_cache_node 0x${n.toString(16)} unreadable` } }, full: null });
      return;
    }
    out.push({
      node: i,
      address: n,
      nrPartial: Number(u64(b, L.kcn.nr_partial)),
      nrSlabs: L.kcn.nr_slabs !== undefined ? Number(BigInt.asIntN(64, u64(b, L.kcn.nr_slabs))) : null,
      totalObjects: L.kcn.total_objects !== undefined ? Number(BigInt.asIntN(64, u64(b, L.kcn.total_objects))) : null,
      partial: walkListHead(prog, n + BigInt(L.kcn.partial), L.slab.slab_list),
      full: withFull && fullListTracked(prog, c) ? walkListHead(prog, n + BigInt(L.kcn.full!), L.slab.slab_list) : null,
    });
  });
  return out;
}

// ------------------------------------------------------------------------------------ usage

/** A cache's numbers as crash's kmem -s counts them. */
export interface CacheUsage {
  name: string;
  address: bigint;
  objsize: number;
  allocated: number;
  total: number;
  slabs: number;
  ssize: number;
  /** objects on per-CPU freelists, of every possible CPU */
  cpuFree: number;
  problems: string[];
}

/**
 * crash's count (memory.c get_kmem_cache_slub_data): total objects and slabs from each node's
 * total_objects and nr_slabs; free = for every possible CPU (online or not) the CPU slab's
 * objects - inuse plus the length of its lockless freelist plus the free objects of its partial
 * slabs, plus the free objects of every node partial slab (and, with sheaves, the objects held in
 * per-CPU sheaves and barns); allocated = total - free.
 */
export function cacheUsage(prog: Program, c: SlabCache): CacheUsage {
  // once per cache and open dump: `kmem ADDR` prints its cache's counts for every address
  const memo = (prog.recall(SLAB_USAGE_KEY)) ?? new Map<bigint, CacheUsage>();
  prog.remember(SLAB_USAGE_KEY, memo);
  const hit = memo.get(c.address);
  if (hit) return hit;
  const u = cacheUsageOnce(prog, c);
  memo.set(c.address, u);
  return u;
}

function cacheUsageOnce(prog: Program, c: SlabCache): CacheUsage {
  const problems: string[] = [];
  let free = 0;
  let cpuFree = 0;
  let cpuSlabCount = 0;
  for (const cs of cpuSlabs(prog, c)) {
    problems.push(...cs.problems);
    if (cs.slab) {
      cpuSlabCount++;
      free += Math.max(0, cs.slab.objects - cs.slab.inuse);
      const w = walkFreelist(prog, c, cs.freelist, cs.slab);
      if (w.error) problems.push(`cpu ${cs.cpu} freelist: ${w.error.message}`);
      free += w.objects.length;
      cpuFree += w.objects.length;
    }
    for (const p of cs.partial) free += Math.max(0, p.objects - p.inuse);
  }
  for (const sh of cpuSheaves(prog, c)) {
    // the rcu_free sheaf holds kfree_rcu()'d objects waiting for a grace period: still allocated
    if (sh.which === 'rcu_free') continue;
    free += sh.objects.length;
    cpuFree += sh.objects.length;
  }
  free += barnObjects(prog, c).length;
  let total = 0;
  let slabs = 0;
  let totalKnown = true;
  let partialCount = 0;
  for (const n of cacheNodes(prog, c, false)) {
    if (n.partial.problem) problems.push(`node ${n.node} partial list: ${n.partial.problem.message}`);
    for (const s of n.partial.entries) {
      const b = prog.mem.tryRead(s, slabLayout(prog).pageSize);
      if (!b) {
        problems.push(`node ${n.node} partial slab 0x${s.toString(16)} unreadable`);
        continue;
      }
      try {
        const si = readSlab(prog, s);
        free += Math.max(0, si.objects - si.inuse);
        partialCount++;
      } catch (e) {
        expectedError(e);
        problems.push(`node ${n.node} partial slab 0x${s.toString(16)} unreadable`);
      }
    }
    if (n.totalObjects === null || n.nrSlabs === null) totalKnown = false;
    else {
      total += n.totalObjects;
      slabs += n.nrSlabs;
    }
  }
  if (!totalKnown) {
    // without CONFIG_SLUB_DEBUG there are no node counters: count what the lists show
    problems.push('no per-node nr_slabs/total_objects (CONFIG_SLUB_DEBUG off): counting listed slabs only');
    slabs = cpuSlabCount + partialCount;
    total = slabs * c.objects;
  }
  return {
    name: c.name,
    address: c.address,
    objsize: c.objectSize,
    allocated: total - free,
    total,
    slabs,
    ssize: slabBytes(prog, c),
    cpuFree,
    problems,
  };
}

// ------------------------------------------------------------------------------------ objects

export type ObjectState = 'allocated' | 'free' | 'cpu-free';

/**
 * Who holds a free (or, for rcu-sheaf, about-to-be-freed) object: the slab's own freelist, a CPU's
 * lockless freelist or active slab (kmem_cache_cpu), a CPU's main/spare sheaf (6.18+), a full
 * sheaf in a node's barn (6.18+), or a CPU's rcu_free sheaf (kfree_rcu pending: state allocated).
 * The detail behind ObjectState, which stays one of three values.
 */
export type ObjectHolder = 'slab-freelist' | 'cpu-slab' | 'cpu-sheaf' | 'node-barn' | 'rcu-sheaf';

export interface SlabObjects {
  slab: SlabInfo;
  /** where the slab was found */
  section: 'cpu' | 'cpu-partial' | 'node-partial' | 'node-full' | 'pagewalk' | 'lookup';
  cpu?: number;
  node?: number;
  /** object pointers (after red_left_pad), in address order */
  objects: bigint[];
  states: ObjectState[];
  /** "cpu N cache" notes as crash prints them, per object ('' when none) */
  notes: string[];
  /** who holds each object that is not plainly allocated (undefined when none) */
  holders: Array<ObjectHolder | undefined>;
  /** freelist walk problems */
  problems: string[];
  allocated: number;
  free: number;
}

/**
 * The state of every object of one slab. For a CPU's active slab every free object is
 * "cpu-free" (as crash labels them "(cpu N cache)"), whether it is on the CPU's lockless freelist
 * or on the slab's own freelist; `kind` in the notes tells them apart for callers that care.
 */
export function slabObjects(
  prog: Program,
  c: SlabCache,
  slab: SlabInfo,
  section: SlabObjects['section'],
  opts: { cpu?: number; node?: number } = {},
): SlabObjects {
  const problems: string[] = [];
  const b = slabBounds(c, slab);
  const count = Math.min(b.count, MAX_OBJECTS_PER_SLAB);
  const objects: bigint[] = [];
  for (let i = 0; i < count; i++) objects.push(b.first + BigInt(i * c.size));
  const states: ObjectState[] = new Array(count).fill('allocated');
  const notes: string[] = new Array(count).fill('');
  const holders: Array<ObjectHolder | undefined> = new Array(count).fill(undefined);
  const mark = (list: bigint[], st: ObjectState, note: string, holder: ObjectHolder) => {
    for (const o of list) {
      const i = objectIndex(c, slab, o);
      if (i >= 0) {
        states[i] = st;
        notes[i] = note;
        holders[i] = holder;
      }
    }
  };
  // which CPU has this slab as its active slab?
  let cpuOwner = opts.cpu;
  let cpuFreelist = 0n;
  for (const cs of cpuSlabs(prog, c)) {
    if (cs.slabAddr === slab.address) {
      cpuOwner = cs.cpu;
      cpuFreelist = cs.freelist;
      section = section === 'lookup' || section === 'pagewalk' ? section : 'cpu';
      break;
    }
  }
  const isCpuSlab = cpuFreelist !== 0n || cpuSlabs(prog, c).some((cs) => cs.slabAddr === slab.address);
  const w = walkFreelist(prog, c, slab.freelist, slab);
  if (w.error) problems.push(`slab freelist: ${w.error.message}`);
  if (isCpuSlab) {
    mark(w.objects, 'cpu-free', `cpu ${cpuOwner} cache`, 'cpu-slab');
    const cw = walkFreelist(prog, c, cpuFreelist, slab);
    if (cw.error) problems.push(`cpu ${cpuOwner} freelist: ${cw.error.message}`);
    mark(cw.objects, 'cpu-free', `cpu ${cpuOwner} cache`, 'cpu-slab');
  } else mark(w.objects, 'free', '', 'slab-freelist');
  // sheaves: objects held by a CPU's sheaf are free to the allocator (drgn: C), and so are those in
  // the full sheaves of a node's barn (drgn: B), which no CPU holds: free, the note says where
  for (const sh of cpuSheaves(prog, c)) {
    if (sh.which === 'rcu_free') mark(sh.objects, 'allocated', `cpu ${sh.cpu} rcu_free sheaf (kfree_rcu pending)`, 'rcu-sheaf');
    else mark(sh.objects, 'cpu-free', `cpu ${sh.cpu} sheaf`, 'cpu-sheaf');
  }
  for (const nb of nodeBarns(prog, c)) mark(nb.objects, 'free', `node ${nb.node} barn`, 'node-barn');
  let free = 0;
  for (const s of states) if (s !== 'allocated') free++;
  return { slab, section, cpu: cpuOwner, node: opts.node, objects, states, notes, holders, problems, allocated: count - free, free };
}

export interface CacheSlabList {
  cache: SlabCache;
  cpus: Array<{ cpu: number; kcc: bigint; slab: SlabObjects | null; partial: SlabObjects[]; problems: string[] }>;
  nodes: Array<{ node: NodeInfo; partial: SlabObjects[]; full: SlabObjects[] | null }>;
  /** full slabs found by walking every struct page (only when asked: SLUB does not list them) */
  untracked: SlabObjects[] | null;
}

/** Everything crash's kmem -S lists for a cache (plus, when asked, full slabs found by page walk). */
export function cacheSlabs(prog: Program, c: SlabCache, opts: { walkPages?: boolean; onProgress?: (d: number, t: number) => void; cancelled?: () => boolean } = {}): CacheSlabList {
  const listed = new Set<bigint>();
  const cpus = cpuSlabs(prog, c).map((cs) => {
    const slab = cs.slab ? slabObjects(prog, c, cs.slab, 'cpu', { cpu: cs.cpu }) : null;
    if (cs.slab) listed.add(cs.slab.address);
    const partial = cs.partial.map((p) => {
      listed.add(p.address);
      return slabObjects(prog, c, p, 'cpu-partial', { cpu: cs.cpu });
    });
    return { cpu: cs.cpu, kcc: cs.kcc, slab, partial, problems: cs.problems };
  });
  const nodes = cacheNodes(prog, c).map((n) => {
    const rd = (list: bigint[], sec: SlabObjects['section']) =>
      list.flatMap((a) => {
        listed.add(a);
        try {
          return [slabObjects(prog, c, readSlab(prog, a), sec, { node: n.node })];
        } catch (e) {
          if (!(e instanceof MemoryError)) throw e;
          return [];
        }
      });
    return { node: n, partial: rd(n.partial.entries, 'node-partial'), full: n.full ? rd(n.full.entries, 'node-full') : null };
  });
  const untracked = opts.walkPages ? untrackedSlabs(prog, c, opts, listed) : null;
  return { cache: c, cpus, nodes, untracked };
}

/** The slabs of a cache that its CPUs and nodes list (active, CPU partial, node partial and full lists). */
export function listedSlabAddresses(prog: Program, c: SlabCache): Set<bigint> {
  const listed = new Set<bigint>();
  for (const cs of cpuSlabs(prog, c)) {
    if (cs.slab) listed.add(cs.slab.address);
    for (const p of cs.partial) listed.add(p.address);
  }
  for (const n of cacheNodes(prog, c)) {
    for (const a of n.partial.entries) listed.add(a);
    for (const a of n.full?.entries ?? []) listed.add(a);
  }
  return listed;
}

/**
 * The slabs of a cache no list holds (SLUB tracks no full slabs without SLAB_STORE_USER), found by
 * walking the struct pages of page frames [pfnStart, pfnEnd) (all of them by default; a part of
 * a split scan otherwise), in page frame order. `listed`: the cache's listed slabs when known.
 */
export function untrackedSlabs(
  prog: Program,
  c: SlabCache,
  opts: { onProgress?: (d: number, t: number) => void; cancelled?: () => boolean; pfnStart?: number; pfnEnd?: number } = {},
  listed: Set<bigint> = listedSlabAddresses(prog, c),
): SlabObjects[] {
  const out: SlabObjects[] = [];
  forEachUntrackedSlab(prog, c, (s) => out.push(s), opts, listed);
  return out;
}

/**
 * untrackedSlabs one slab at a time, for a caller that keeps less of each (a cache of a million
 * objects has tens of thousands of such slabs).
 */
export function forEachUntrackedSlab(
  prog: Program,
  c: SlabCache,
  visit: (s: SlabObjects) => void,
  opts: { onProgress?: (d: number, t: number) => void; cancelled?: () => boolean; pfnStart?: number; pfnEnd?: number } = {},
  listed: Set<bigint> = listedSlabAddresses(prog, c),
): void {
  forEachSlabPage(prog, (slab) => {
    if (slab.cache !== c.address || listed.has(slab.address)) return;
    visit(slabObjects(prog, c, slab, 'pagewalk'));
  }, { ...opts, cache: c.address });
}

/**
 * Page frame ranges [start, end) of about equal numbers of present pages over the dump's physical
 * memory, in order, about `want` of them (the parts of a split scan of struct pages); the last
 * runs to the end.
 */
export function pageFrameParts(prog: Program, want: number): Array<{ start: number; end: number }> {
  const ps = prog.info.pageSize;
  const spans = prog.phys.ranges().map((r) => [Math.floor(r.start / ps), Math.ceil(r.end / ps)]);
  const pages = spans.reduce((n, [a, b]) => n + (b - a), 0);
  const per = Math.max(1, Math.ceil(pages / Math.max(1, want)));
  const cuts: number[] = [];
  let count = 0;
  for (const [a, b] of spans) {
    for (let pfn = a; pfn < b; ) {
      const take = Math.min(per - count, b - pfn);
      pfn += take;
      count += take;
      if (count >= per) {
        cuts.push(pfn);
        count = 0;
      }
    }
  }
  if (cuts.length && count === 0) cuts.pop(); // the last part runs to the end
  const bounds = [0, ...cuts, Number.MAX_SAFE_INTEGER];
  return bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1] }));
}

/**
 * Visit every slab (head) page of the memory map, drgn's for_each_slab: reads struct pages in
 * chunks of 8 of the file cache's blocks (one file read each, kept in the cache for the slab
 * reads that follow: 512 KiB of struct pages per browser FileReaderSync call, not 64 KiB), a
 * chunk that cannot be read whole again in 4 KiB pieces, over the physical ranges of the dump.
 * Memory bounded; cancellable.
 */
export function forEachSlabPage(
  prog: Program,
  visit: (slab: SlabInfo) => void,
  opts: {
    onProgress?: (done: number, total: number) => void;
    cancelled?: () => boolean;
    /** only page frames in [pfnStart, pfnEnd) (a part of a split scan) */
    pfnStart?: number;
    pfnEnd?: number;
    /** only the slabs of this cache (told by the struct page's bytes already read, before readSlab) */
    cache?: bigint;
  } = {},
): void {
  const L = slabLayout(prog);
  const ps = prog.info.pageSize;
  const ranges = prog.phys.ranges();
  const lo = opts.pfnStart ?? 0;
  const hi = opts.pfnEnd ?? Number.MAX_SAFE_INTEGER;
  const span = (r: { start: number; end: number }) => [Math.max(lo, Math.floor(r.start / ps)), Math.min(hi, Math.ceil(r.end / ps))];
  let totalPages = 0;
  for (const r of ranges) {
    const [a, b] = span(r);
    if (b > a) totalPages += b - a;
  }
  let done = 0;
  const small = Math.max(1, Math.floor(4096 / L.pageSize));
  // 8 blocks: CachedSource reads up to 9 missing blocks in one call and keeps them (a chunk that
  // is not block aligned in the file spans 9)
  const perChunk = small * Math.max(1, Math.floor((8 * (prog.src.preferredBlockSize ?? 4096)) / 4096));
  const visitPages = (pfn: number, n: number): boolean => {
    const base = L.vmemmap + BigInt(pfn) * BigInt(L.pageSize);
    const b = prog.mem.tryRead(base, n * L.pageSize);
    if (!b) return false;
    for (let i = 0; i < n; i++) {
      const o = i * L.pageSize;
      if (u64(b, o + L.page.compound_head) & 1n) continue; // tail page
      if (!pageBytesIsSlab(prog, b, o)) continue;
      if (opts.cache !== undefined && u64(b, o + L.slab.slab_cache) !== opts.cache) continue;
      try {
        visit(readSlab(prog, base + BigInt(o)));
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
      }
    }
    return true;
  };
  let chunks = 0;
  for (const r of ranges) {
    const [first, last] = span(r);
    for (let pfn = first; pfn < last; ) {
      if (opts.cancelled?.()) return;
      // chunks start at multiples of perChunk (aligned in the memory map), the first may be short
      const n = Math.min(perChunk - (pfn % perChunk), last - pfn);
      if (n > small && !visitPages(pfn, n)) {
        // a hole in the memory map (or the dump) somewhere in the chunk: 4 KiB at a time
        for (let q = pfn; q < pfn + n; q += small) {
          if (opts.cancelled?.()) return;
          visitPages(q, Math.min(small, pfn + n - q));
        }
      } else if (n <= small) visitPages(pfn, n);
      pfn += n;
      done += n;
      if (opts.onProgress && ++chunks % Math.max(1, Math.floor((small * 256) / perChunk)) === 0) opts.onProgress(done, totalPages);
    }
  }
  opts.onProgress?.(done, totalPages);
}

// ------------------------------------------------------------------------------------ address -> object

export interface SlabObjectInfo {
  cache: SlabCache;
  slab: SlabInfo;
  /** the object pointer (after red_left_pad, as the kernel and drgn use it) */
  object: bigint;
  /** the start of the object's slot (its left red zone when red_left_pad > 0; crash's object address) */
  slot: bigint;
  index: number;
  /** address - object (negative inside the left red zone) */
  offset: number;
  /** which part of the slot the address is in */
  region: 'object' | 'left-redzone' | 'right-redzone' | 'free-pointer' | 'track' | 'padding' | 'slab-tail';
  state: ObjectState;
  note: string;
  /** who holds the object when it is free (see ObjectHolder) */
  holder?: ObjectHolder;
  /** the slab as a whole, counted (for crash's SLAB line) */
  slabAllocated: number;
  slabFree: number;
  problems: string[];
}

/** Which part of an object's slot holds offset `d` from the slot start (mm/slub.c layout). */
export function slotRegion(prog: Program, c: SlabCache, d: number): SlabObjectInfo['region'] {
  const rz = c.redLeftPad;
  if (d < rz) return 'left-redzone';
  const o = d - rz;
  if (o < c.objectSize) return 'object';
  const fpOutside = c.offset >= c.inuse;
  if (fpOutside && o >= c.offset && o < c.offset + 8) return 'free-pointer';
  if (o < c.inuse) return (c.flags & slabFlag(prog, 'SLAB_RED_ZONE')) !== 0n ? 'right-redzone' : 'padding';
  const infoEnd = fpOutside ? c.inuse + 8 : c.inuse;
  if ((c.flags & slabFlag(prog, 'SLAB_STORE_USER')) !== 0n && o >= infoEnd && o < infoEnd + 2 * trackSize(prog)) return 'track';
  return 'padding';
}

export function trackSize(prog: Program): number {
  const id = prog.findType('track');
  return id === null ? 32 : prog.sizeof(id);
}

/** The slab page holding an address (head page), or null when it is not a slab page. */
export function slabOfAddress(prog: Program, addr: bigint): SlabInfo | null {
  const page = virtToPage(prog, addr);
  if (page === null) return null;
  const head = compoundHead(prog, page);
  let s: SlabInfo;
  try {
    s = readSlab(prog, head);
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
  return s.isSlab ? s : null;
}

/** drgn's slab_object_info(): cache, slab, object, offset and state of an address in a slab. */
export function slabObjectInfo(prog: Program, addr: bigint): SlabObjectInfo | null {
  const slab = slabOfAddress(prog, addr);
  if (!slab) return null;
  let cache = findCache(prog, slab.cache);
  if (!cache) {
    try {
      cache = readCache(prog, slab.cache);
    } catch (e) {
      if (e instanceof MemoryError) return null;
      throw e;
    }
  }
  if (cache.size <= 0) return null;
  const d = addr - slab.memory;
  const idx = Number(d / BigInt(cache.size));
  const count = slab.objects || cache.objects;
  const slot = slab.memory + BigInt(idx * cache.size);
  const object = slot + BigInt(cache.redLeftPad);
  if (idx >= count) {
    return {
      cache, slab, object, slot, index: idx, offset: Number(addr - object), region: 'slab-tail', state: 'allocated', note: '',
      slabAllocated: 0, slabFree: 0, problems: ['address is past the last object of the slab'],
    };
  }
  // the object states of a slab, once per slab and open dump (many addresses share a slab)
  const memo = (prog.recall(SLAB_LOOKUP_KEY)) ?? new Map<string, SlabObjects>();
  prog.remember(SLAB_LOOKUP_KEY, memo);
  const key = `${cache.address}:${slab.address}`;
  let so = memo.get(key);
  if (!so) {
    if (memo.size >= 4096) memo.clear(); // bounded: a scan over every object must not keep every slab
    memo.set(key, (so = slabObjects(prog, cache, slab, 'lookup')));
  }
  return {
    cache,
    slab,
    object,
    slot,
    index: idx,
    offset: Number(addr - object),
    region: slotRegion(prog, cache, Number(addr - slot)),
    state: so.states[idx],
    note: so.notes[idx],
    ...(so.holders[idx] ? { holder: so.holders[idx] } : {}),
    slabAllocated: so.allocated,
    slabFree: so.free,
    problems: so.problems,
  };
}

// ------------------------------------------------------------------------------------ tracks

export interface TrackInfo {
  kind: 'alloc' | 'free';
  address: bigint;
  /** caller address (track.addr) */
  addr: bigint;
  cpu: number;
  pid: number;
  /** jiffies at the time */
  when: bigint;
  /** jiffies now - when */
  age: bigint | null;
  handle: number;
  /** the stack from the stack depot (empty when none or unreadable) */
  stack: bigint[];
  stackProblem?: string;
}

/** Where the alloc/free tracks of an object start (get_track in mm/slub.c), or null without SLAB_STORE_USER. */
export function trackAddress(prog: Program, c: SlabCache, object: bigint): bigint | null {
  if ((c.flags & slabFlag(prog, 'SLAB_STORE_USER')) === 0n) return null;
  const infoEnd = c.offset >= c.inuse ? c.inuse + 8 : c.inuse;
  return object + BigInt(infoEnd);
}

export function readTracks(prog: Program, c: SlabCache, object: bigint): TrackInfo[] | null {
  const base = trackAddress(prog, c, object);
  if (base === null) return null;
  const tid = prog.findType('track');
  if (tid === null) return null;
  const tsz = prog.sizeof(tid);
  const o = (m: string) => prog.offsetof(tid, m);
  const jiffies = readJiffies(prog);
  const out: TrackInfo[] = [];
  (['alloc', 'free'] as const).forEach((kind, i) => {
    const a = base + BigInt(i * tsz);
    const b = prog.mem.tryRead(a, tsz);
    if (!b) return;
    const hasHandle = prog.btf.memberPath(tid, 'handle') !== null;
    const handle = hasHandle ? u32(b, o('handle')) : 0;
    const when = u64(b, o('when'));
    const t: TrackInfo = {
      kind,
      address: a,
      addr: u64(b, o('addr')),
      cpu: u32(b, o('cpu')) | 0,
      pid: u32(b, o('pid')) | 0,
      when,
      age: jiffies !== null ? BigInt.asIntN(64, jiffies - when) : null,
      handle,
      stack: [],
    };
    if (prog.btf.memberPath(tid, 'addrs') !== null) {
      // CONFIG_STACKTRACE without the depot (older kernels): addrs[] inline
      const l = prog.btf.memberPath(tid, 'addrs')!;
      for (let k = 0; k < l.size / 8; k++) {
        const v = u64(b, l.offset + k * 8);
        if (!v) break;
        t.stack.push(v);
      }
    } else if (handle) {
      const r = depotStack(prog, handle);
      t.stack = r.stack;
      if (r.problem) t.stackProblem = r.problem;
    }
    out.push(t);
  });
  return out;
}

export function readJiffies(prog: Program): bigint | null {
  const a = prog.symbolAddress('jiffies_64') ?? prog.symbolAddress('jiffies');
  if (a === undefined) return null;
  const b = prog.mem.tryRead(a, 8);
  return b ? u64(b, 0) : null;
}

/**
 * Decode a depot_stack_handle_t (lib/stackdepot.c): the bit layout comes from BTF's
 * union handle_parts (slabindex/pool_index[_plus_1], offset, valid, extra), the pool base from
 * stack_slabs[] (up to 6.2) or stack_pools[] (6.3+); offset is in units of 1 << DEPOT_STACK_ALIGN
 * (4, unchanged since the depot was added).
 */
export function depotStack(prog: Program, handle: number): { stack: bigint[]; record?: bigint; problem?: string } {
  const hp = prog.btf.findType('handle_parts', 'union');
  if (hp === null) return { stack: [], problem: 'no union handle_parts in BTF' };
  const field = (name: string) => {
    const l = prog.btf.memberPath(hp, name);
    if (!l || !l.bitSize) return null;
    return (handle >>> l.bitOffset) & ((1 << l.bitSize) - 1 >>> 0);
  };
  let pool = field('pool_index');
  const plus1 = field('pool_index_plus_1');
  if (plus1 !== null) pool = plus1 - 1;
  if (pool === null) pool = field('slabindex');
  const offset = field('offset');
  if (pool === null || offset === null || pool < 0) return { stack: [], problem: `handle 0x${handle.toString(16)}: cannot decode` };
  const arr = prog.symbolAddress('stack_pools') ?? prog.symbolAddress('stack_slabs');
  if (arr === undefined) return { stack: [], problem: 'no stack_pools/stack_slabs symbol' };
  const pb = prog.mem.tryRead(arr + BigInt(pool * 8), 8);
  if (!pb) return { stack: [], problem: 'stack depot pool table unreadable' };
  const poolBase = u64(pb, 0);
  if (!poolBase) return { stack: [], problem: `stack depot pool ${pool} is NULL` };
  const rec = poolBase + BigInt(offset << 4);
  const sr = prog.btf.findType('stack_record', 'struct');
  if (sr === null) return { stack: [], problem: 'no struct stack_record in BTF' };
  const sizeOff = prog.offsetof(sr, 'size');
  const entOff = prog.offsetof(sr, 'entries');
  const sb = prog.mem.tryRead(rec + BigInt(sizeOff), 4);
  if (!sb) return { stack: [], record: rec, problem: 'stack record unreadable' };
  const n = Math.min(u32(sb, 0), 64);
  const eb = prog.mem.tryRead(rec + BigInt(entOff), n * 8);
  if (!eb) return { stack: [], record: rec, problem: 'stack entries unreadable' };
  const stack: bigint[] = [];
  for (let i = 0; i < n; i++) stack.push(u64(eb, i * 8));
  return { stack, record: rec };
}

/** A name for a cache's object type when the dump can vouch for it (see whatis). */
export function cstrAt(prog: Program, a: bigint, max = 64): string {
  const b = prog.mem.tryRead(a, max);
  return b ? cstr(b, 0, max) : '';
}
