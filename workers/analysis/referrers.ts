import { DumpError, MemoryError } from '../errors';
import { u64 } from '../bytes';
import { START_KERNEL_MAP } from '../arch/x86_64';
import { cacheKey, type Program } from '../kernel/program';
import { searchMemory } from './search';
import { slabObjectInfo, type SlabCache } from './slab';
import { taskList, threadSize } from './tasks';

/**
 * Who points into an object: every 8-byte word of the dump's RAM whose value lies inside
 * [start, start + size), with what holds it — a member of a slab object of a typed cache (and the
 * member's pointee type, from BTF), a task's kernel stack, a kernel-image variable, or other memory.
 * The overlay ranking ("which types fit?") weighs typed referrers: a `struct request *` member
 * pointing at the object start is evidence for struct request there; `sk_buff.head` says the
 * object is (now) an skb's data buffer, whose skb_shared_info sits at head + end.
 */

export interface Referrer {
  /** direct-map address of the word that points into the object */
  address: bigint;
  /** its value, and how far into the object it points */
  value: bigint;
  delta: number;
  kind: 'slab' | 'stack' | 'global' | 'memory';
  /** slab: the referring object, its cache, its type (dedicated caches) and the member */
  object?: bigint;
  cache?: string;
  state?: string;
  type?: string;
  member?: string;
  /** the member's declared type ("struct request *", "unsigned char *", "void *") */
  memberType?: string;
  /** the struct/union the member points to, when it is a pointer to one */
  pointee?: string;
  /** stack: the task whose kernel stack holds the word */
  task?: { pid: number; comm: string; task: bigint; address: bigint };
  /** global: the kernel-image symbol holding the word */
  symbol?: string;
  /** one line for people: "sk_buff.head of ffff888005041e00 (skbuff_head_cache, allocated)" */
  text: string;
}

/** Bytes of an object that say nothing about its type (left out of the overlay's scoring), and why. */
export interface NeutralRange {
  offset: number;
  size: number;
  why: string;
}

export interface ReferrerScan {
  referrers: Referrer[];
  pagesSearched: number;
  pagesMissing: number;
  truncated: boolean;
  problems: string[];
}

export interface ReferrerOptions {
  /** most referrers kept (default 64) */
  limit?: number;
  /** the struct type a slab cache holds, when it is dedicated to one (commands/whatis knows) */
  cacheType?: (c: SlabCache) => string | undefined;
  cancel?: { cancelled: boolean };
  progress?: (done: number, total: number, what: string) => void;
}

const REFERRERS_KEY = cacheKey<Map<string, ReferrerScan>>('referrers.scans');

const expected = (e: unknown) => e instanceof MemoryError || e instanceof DumpError;

export function findReferrers(prog: Program, start: bigint, size: number, opts: ReferrerOptions = {}): ReferrerScan {
  const limit = opts.limit ?? 64;
  // a dump does not change: the same object's scan is remembered (a few, bounded)
  const memo = prog.memo(REFERRERS_KEY, () => new Map<string, ReferrerScan>());
  const key = `${start}:${size}:${limit}:${opts.cacheType ? "typed" : "untyped"}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const out = scan(prog, start, size, limit, opts);
  if (memo.size >= 16) memo.delete(memo.keys().next().value as string);
  memo.set(key, out);
  return out;
}

function scan(prog: Program, start: bigint, size: number, limit: number, opts: ReferrerOptions): ReferrerScan {
  const end = start + BigInt(size);
  const out: ReferrerScan = { referrers: [], pagesSearched: 0, pagesMissing: 0, truncated: false, problems: [] };
  // a range crossing a 4 GiB boundary is searched as two
  const cut = ((start >> 32n) + 1n) << 32n;
  const ranges: Array<[bigint, bigint]> = end > cut ? [[start, cut], [cut, end]] : [[start, end]];
  // the word search is bounded by the dump's RAM; the hits kept by `limit` (+ the object's own
  // words, which are skipped: a list_head pointing at itself is not a referrer)
  const hits = [];
  for (const r of ranges) {
    const s = searchMemory(prog, 0n, { range: r, limit: limit + Math.ceil(size / 8), cancel: opts.cancel, progress: opts.progress });
    hits.push(...s.hits);
    out.pagesSearched += s.pagesSearched;
    out.pagesMissing += s.pagesMissing;
    out.truncated ||= s.truncated;
  }
  for (const h of hits) {
    if (h.address >= start && h.address < end) continue;
    if (out.referrers.length >= limit) {
      out.truncated = true;
      break;
    }
    try {
      out.referrers.push(describe(prog, h.address, h.phys, h.value, start, opts));
    } catch (e) {
      if (!expected(e)) throw e;
      out.problems.push(`referrer at ${h.address.toString(16)}: ${(e as Error).message}`);
    }
  }
  if (out.pagesMissing) out.problems.push(`${out.pagesMissing} pages not in the dump were not searched: referrers there are unknown`);
  return out;
}

function describe(prog: Program, address: bigint, phys: number, value: bigint, start: bigint, opts: ReferrerOptions): Referrer {
  const delta = Number(value - start);
  const at = delta ? `+0x${delta.toString(16)}` : '';
  const base = { address, value, delta };
  const so = slabObjectInfo(prog, address);
  if (so && so.region !== 'slab-tail') {
    const type = opts.cacheType?.(so.cache);
    const r: Referrer = { ...base, kind: 'slab', object: so.object, cache: so.cache.name, state: so.state, text: '' };
    if (type) {
      r.type = type;
      const m = memberPointer(prog, type, so.offset);
      if (m) Object.assign(r, m);
    }
    const owner = r.member ? `${type!.replace(/^(struct|union) /, '')}.${r.member}` : `+0x${so.offset.toString(16)}`;
    r.text = `${owner} of ${so.object.toString(16)} (${so.cache.name}, ${so.state})${r.memberType ? `, ${r.memberType}` : ''}${at ? `, pointing at ${at}` : ''}`;
    return r;
  }
  const t = stackOf(prog, phys);
  if (t) {
    return { ...base, kind: 'stack', task: t, text: `the kernel stack of pid ${t.pid} "${t.comm}" at ${t.address.toString(16)}${at ? `, pointing at ${at}` : ''}` };
  }
  const arch = prog.arch;
  if (phys >= Number(arch.physBase) && phys < Number(arch.physBase + arch.kernelImageSize)) {
    const va = START_KERNEL_MAP + BigInt(phys) - arch.physBase;
    const hit = prog.symbols.lookup(va);
    if (hit) {
      const symbol = `${hit.sym.name}${hit.offset ? `+0x${hit.offset.toString(16)}` : ''}`;
      return { ...base, kind: 'global', symbol, text: `kernel variable ${symbol} (${va.toString(16)})${at ? `, pointing at ${at}` : ''}` };
    }
  }
  return { ...base, kind: 'memory', text: `memory at ${address.toString(16)} (not a slab object, stack or kernel variable)${at ? `, pointing at ${at}` : ''}` };
}

/** The member of `type` at byte `offset` when it is a pointer: its path, declared type and pointee. */
function memberPointer(prog: Program, type: string, offset: number): Pick<Referrer, 'member' | 'memberType' | 'pointee'> | null {
  const btf = prog.btf;
  const id = btf.findType(type);
  if (id === null) return null;
  const m = btf.memberAt(id, offset);
  if (!m || m.delta !== 0 || m.padding) return null;
  const rt = btf.type(btf.resolve(m.type));
  const out: Pick<Referrer, 'member' | 'memberType' | 'pointee'> = { member: m.path, memberType: btf.typeName(m.type) };
  if (rt.kind === 'ptr') {
    const pt = btf.type(btf.resolve(rt.type));
    if ((pt.kind === 'struct' || pt.kind === 'union') && pt.name) out.pointee = `${pt.kind} ${pt.name}`;
  }
  return out;
}

/** The task whose kernel stack holds physical address `phys` (stacks are vmalloc'ed: by page). */
function stackOf(prog: Program, phys: number): Referrer['task'] | null {
  const key = 'referrers.stackPages';
  let pages = prog.cache.get(key) as Map<number, { pid: number; comm: string; task: bigint; va: bigint }> | undefined;
  if (!pages) {
    pages = new Map();
    let list: ReturnType<typeof taskList> = [];
    try {
      list = taskList(prog);
    } catch (e) {
      if (!expected(e)) throw e;
    }
    const size = threadSize(prog);
    for (const t of list) {
      if (!t.stack) continue;
      for (let o = 0; o < size; o += 4096) {
        const va = t.stack + BigInt(o);
        try {
          pages.set(prog.arch.vtop(va) & ~0xfff, { pid: t.pid, comm: t.comm, task: t.task, va });
        } catch (e) {
          if (!expected(e)) throw e;
        }
      }
    }
    prog.cache.set(key, pages);
  }
  const p = pages.get(phys & ~0xfff);
  return p ? { pid: p.pid, comm: p.comm, task: p.task, address: p.va + BigInt(phys & 0xfff) } : null;
}

/**
 * What the referrers say about the object's bytes: an skb whose head is this object owns
 * skb_shared_info at head + end (that part is the skb's, not the other owner's).
 */
export function ownedByReferrers(prog: Program, start: bigint, size: number, refs: Referrer[]): NeutralRange[] {
  const out: NeutralRange[] = [];
  for (const r of refs) {
    if (r.type !== 'struct sk_buff' || r.member !== 'head' || r.delta !== 0 || r.object === undefined) continue;
    const si = skbShinfo(prog, r.object);
    if (!si || si.head !== start || si.address < start || si.address >= start + BigInt(size)) continue;
    const off = Number(si.address - start);
    if (out.some((x) => x.offset === off)) continue;
    out.push({ offset: off, size: Math.min(si.size, size - off), why: `skb_shared_info of the skb ${r.object.toString(16)} (skb_shinfo = head + end): the skb's part, not evidence about another owner` });
  }
  return out;
}

/**
 * An skb's shared info: skb_shinfo(skb) = skb->head + skb->end (sk_buff_data_t is an offset on
 * 64-bit kernels, NET_SKBUFF_DATA_USES_OFFSET, and a pointer elsewhere; BTF says which).
 */
export function skbShinfo(prog: Program, skb: bigint): { head: bigint; address: bigint; size: number } | null {
  const btf = prog.btf;
  const sk = btf.findType('sk_buff', 'struct');
  const si = btf.findType('skb_shared_info', 'struct');
  if (sk === null || si === null) return null;
  const h = btf.memberPath(sk, 'head');
  const e = btf.memberPath(sk, 'end');
  if (!h || !e) return null;
  const hb = prog.mem.tryRead(skb + BigInt(h.offset), 8);
  const eb = prog.mem.tryRead(skb + BigInt(e.offset), 8);
  if (!hb || !eb) return null;
  const head = u64(hb, 0);
  const et = btf.type(btf.resolve(e.type));
  const end = et.kind === 'ptr' ? u64(eb, 0) : head + BigInt(new DataView(eb.buffer, eb.byteOffset, 4).getUint32(0, true));
  return { head, address: end, size: btf.sizeof(si) };
}
