/**
 * slabcheck: a corruption scan of SLUB, in the spirit of the kernel's own slub_debug checks
 * (mm/slub.c check_object / check_slab / on_freelist / check_bytes_and_report) run over a dump:
 *
 * - the slab_caches list and every slab list (node partial and full, per-CPU partial chains):
 *   NULL or unreadable next/prev, prev that does not point back, cycles (the megaraid case:
 *   zeroed list heads);
 * - each slab: slab_cache pointing elsewhere, page not marked slab, counts (objects - inuse vs the
 *   length of the freelist), slabs on the wrong list (full on partial, partial on full);
 * - freelists (slab and per-CPU, hardened pointers decoded): pointers outside their slab, not on
 *   an object boundary, cycles, unreadable;
 * - slub_debug: left/right red zones (0xbb free / 0xcc allocated), free poison (0x6b ... 0xa5),
 *   each with the first bad byte as the kernel's "First byte 0x.. instead of 0x.." names it;
 *   allocated objects still carrying free poison (SLUB's "Marking all objects used" fix-up);
 * - objects filled with a known fill pattern (0xdeadbeef, 0x3f3f..., ...);
 * - typed objects: buffer_head's b_this_page ring, pointer members with a zeroed low half, and
 *   a zeroed run at the start of a slab page (a DMA scribble over the page head);
 * - the kernel's own SLUB reports in the log ("BUG <cache> ...: Poison overwritten" and the
 *   "First byte" line), matched to the slab and object, with what the bytes hold now (SLUB
 *   restores the poison after reporting, so memory alone may no longer show it).
 *
 * Memory stays bounded: slabs are visited one at a time from a walk of struct pages (the only way
 * to see full slabs without SLAB_STORE_USER); findings are capped.
 */
import { MemoryError, expectedError } from '../errors';
import { u64 } from '../bytes';
import type { Program } from '../kernel/program';
import {
  listCaches, cpuSlabs, cacheNodes, readSlab, walkFreelist, slabBounds, objectIndex, forEachSlabPage,
  slabFlag, slabLayout, pageToPfn, type SlabCache, type SlabInfo,
} from './slab';
import { readPrintk } from './printk';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** what kind of check found it */
  check:
    | 'cache-list' | 'slab-list' | 'slab' | 'counts' | 'wrong-list' | 'freelist' | 'redzone' | 'poison'
    | 'poison-in-use' | 'pattern' | 'pointer' | 'ring' | 'zeroed-head' | 'kernel-report';
  cache: string;
  slab: string | null;
  object?: string;
  address: string;
  message: string;
  view: { panel: 'mem'; address: string; type?: string };
}

export interface SlabCheckResult {
  findings: Finding[];
  scanned: { caches: number; slabs: number; objects: number };
  truncated: boolean;
  cancelled: boolean;
}

export interface SlabCheckOptions {
  /** one cache by name; all when absent */
  cache?: string;
  onProgress?: (done: number, total: number, what: string) => void;
  cancelled?: () => boolean;
  maxFindings?: number;
}

/**
 * A part of the scan (SlabCheckOptions plus what the part covers): the slab pages of page frames
 * [pfnStart, pfnEnd); the list walk's findings (`lists`) and the kernel's reports (`reports`) by
 * one part each. Every part walks the lists (which slab is on which list is needed to check its
 * pages) but only the `lists` part keeps what the walk found.
 */
export interface SlabCheckPartOptions extends SlabCheckOptions {
  pfnStart?: number;
  pfnEnd?: number;
  lists: boolean;
  reports: boolean;
}

/** A part's findings by phase, in scan order (merged by mergeSlabCheck). */
export interface SlabCheckPart {
  lists: Finding[];
  pages: Finding[];
  reports: Finding[];
  scanned: { caches: number; slabs: number; objects: number };
  truncated: boolean;
  cancelled: boolean;
}

const SLUB_RED_INACTIVE = 0xbb;
const SLUB_RED_ACTIVE = 0xcc;
const POISON_FREE = 0x6b;
const POISON_END = 0xa5;

/** Fill words that mark memory written by a pattern (a use-after-free, an uninitialised read), in the order a tie goes. */
export const FILL_PATTERNS: Array<[number, string]> = [
  [0xdeadbeef, 'deadbeef'],
  [0x3f3f3f3f, '3f3f3f3f'],
  [0xbaddcafe, 'baddcafe'],
  [0xbaadf00d, 'baadf00d'],
  [0xdeadbabe, 'deadbabe'],
  [0xfeedface, 'feedface'],
  [0xcafebabe, 'cafebabe'],
  [0x5a5a5a5a, '5a5a5a5a (POISON_INUSE)'],
];

const hx = (v: bigint) => '0x' + v.toString(16);

export function slabCheck(prog: Program, opts: SlabCheckOptions = {}): SlabCheckResult {
  return mergeSlabCheck([slabCheckPart(prog, { ...opts, lists: true, reports: true })], opts.maxFindings);
}

/**
 * The answer from the parts' results in scan order, as one scan gives it: list findings, then the
 * pages' in page order, then the kernel's reports; capped at maxFindings; errors first.
 */
export function mergeSlabCheck(parts: SlabCheckPart[], maxFindings?: number): SlabCheckResult {
  const max = maxFindings ?? 2000;
  const all = [...parts.flatMap((p) => p.lists), ...parts.flatMap((p) => p.pages), ...parts.flatMap((p) => p.reports)];
  const res: SlabCheckResult = {
    findings: all.slice(0, max),
    scanned: { caches: 0, slabs: 0, objects: 0 },
    truncated: all.length > max || parts.some((p) => p.truncated),
    cancelled: parts.some((p) => p.cancelled),
  };
  for (const p of parts) {
    res.scanned.caches += p.scanned.caches;
    res.scanned.slabs += p.scanned.slabs;
    res.scanned.objects += p.scanned.objects;
  }
  const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  res.findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
  return res;
}

/** One part of the scan (see SlabCheckPartOptions); slabCheck is the one part covering all. */
export function slabCheckPart(prog: Program, opts: SlabCheckPartOptions): SlabCheckPart {
  const max = opts.maxFindings ?? 2000;
  const res: SlabCheckPart = { lists: [], pages: [], reports: [], scanned: { caches: 0, slabs: 0, objects: 0 }, truncated: false, cancelled: false };
  let into: Finding[] | null = opts.lists ? res.lists : null;
  let count = 0;
  const add = (f: Omit<Finding, 'view'> & { type?: string }) => {
    if (!into) return; // another part keeps the list walk's findings
    if (count >= max) {
      res.truncated = true;
      return;
    }
    count++;
    const { type, ...rest } = f;
    into.push({ ...rest, view: { panel: 'mem', address: f.address, ...(type ? { type } : {}) } });
  };
  const { caches, problems } = listCaches(prog);
  for (const p of problems) add({ severity: 'error', check: 'cache-list', cache: '', slab: null, address: hx(p.address), message: p.message, type: 'kmem_cache' });
  const sel = opts.cache ? caches.filter((c) => c.name === opts.cache) : caches;
  const byAddr = new Map<bigint, SlabCache>(sel.map((c) => [c.address, c]));
  const allByAddr = new Map<bigint, SlabCache>(caches.map((c) => [c.address, c]));
  const L = slabLayout(prog);
  const slabType = L.slabStruct;

  // 1. lists: per-CPU and per-node, slab by slab
  const onList = new Map<bigint, 'partial' | 'full' | 'cpu' | 'cpu-partial'>();
  const cpuOf = new Map<bigint, { freelist: bigint }>();
  sel.forEach((c, i) => {
    if (opts.cancelled?.()) return;
    opts.onProgress?.(i, sel.length, 'slab lists');
    if (opts.lists) res.scanned.caches++;
    for (const cs of cpuSlabs(prog, c)) {
      for (const p of cs.problems) add({ severity: 'error', check: 'slab-list', cache: c.name, slab: null, address: hx(cs.kcc), message: p, type: 'kmem_cache_cpu' });
      if (cs.slab) {
        onList.set(cs.slab.address, 'cpu');
        cpuOf.set(cs.slab.address, { freelist: cs.freelist });
        const w = walkFreelist(prog, c, cs.freelist, cs.slab);
        if (w.error) add({ severity: 'error', check: 'freelist', cache: c.name, slab: hx(cs.slab.address), address: hx(w.error.at || cs.kcc), message: `cpu ${cs.cpu} freelist: ${w.error.message}` });
      }
      for (const p of cs.partial) {
        onList.set(p.address, 'cpu-partial');
        checkSlabHeader(prog, c, p, 'cpu-partial', add, allByAddr);
      }
    }
    for (const n of cacheNodes(prog, c)) {
      for (const [which, lw] of [['partial', n.partial], ['full', n.full]] as const) {
        if (!lw) continue;
        if (lw.problem) {
          add({ severity: 'error', check: 'slab-list', cache: c.name, slab: null, address: hx(lw.problem.at), message: `node ${n.node} ${which} list: ${lw.problem.message}`, type: slabType });
        }
        for (const s of lw.entries) {
          onList.set(s, which);
          let si: SlabInfo;
          try {
            si = readSlab(prog, s);
          } catch (e) {
            if (!(e instanceof MemoryError)) throw e;
            add({ severity: 'error', check: 'slab-list', cache: c.name, slab: hx(s), address: hx(s), message: `node ${n.node} ${which} list: slab unreadable` });
            continue;
          }
          checkSlabHeader(prog, c, si, which, add, allByAddr);
        }
      }
      if (n.nrPartial !== n.partial.entries.length && !n.partial.problem) {
        add({ severity: 'warning', check: 'counts', cache: c.name, slab: null, address: hx(n.address), message: `node ${n.node}: nr_partial ${n.nrPartial} but the partial list holds ${n.partial.entries.length} slabs`, type: 'kmem_cache_node' });
      }
    }
  });

  // 2. every slab page (of this part): freelists, counts, debug bytes, patterns, typed checks
  into = res.pages;
  forEachSlabPage(
    prog,
    (slab) => {
      const c = byAddr.get(slab.cache);
      if (!c) {
        if (!opts.cache && !allByAddr.has(slab.cache)) {
          add({ severity: 'error', check: 'slab', cache: '?', slab: hx(slab.address), address: hx(slab.address), message: `slab page whose slab_cache 0x${slab.cache.toString(16)} is not on slab_caches`, type: slabType });
        }
        return;
      }
      res.scanned.slabs++;
      res.scanned.objects += slab.objects;
      checkSlabObjects(prog, c, slab, onList.get(slab.address), cpuOf.get(slab.address)?.freelist ?? 0n, add);
    },
    {
      onProgress: (d, t) => opts.onProgress?.(d, t, 'slab pages'),
      cancelled: opts.cancelled,
      pfnStart: opts.pfnStart,
      pfnEnd: opts.pfnEnd,
      // one cache asked for: the other caches' slab pages (which add no finding then) are not read
      ...(opts.cache && byAddr.size === 1 ? { cache: [...byAddr.keys()][0] } : {}),
    },
  );
  if (opts.cancelled?.()) res.cancelled = true;

  // 3. the kernel's own reports
  into = opts.reports ? res.reports : null;
  checkKernelReports(prog, opts.cache, add);
  return res;
}

type Add = (f: Omit<Finding, 'view'> & { type?: string }) => void;

function checkSlabHeader(prog: Program, c: SlabCache, s: SlabInfo, where: string, add: Add, caches: Map<bigint, SlabCache>): void {
  const t = slabLayout(prog).slabStruct;
  if (!s.isSlab) add({ severity: 'error', check: 'slab', cache: c.name, slab: hx(s.address), address: hx(s.address), message: `${where} list entry 0x${s.address.toString(16)} is not a slab page (page flags/type say otherwise)`, type: t });
  if (s.cache !== c.address) {
    const other = caches.get(s.cache);
    add({ severity: 'error', check: 'slab', cache: c.name, slab: hx(s.address), address: hx(s.address), message: `slab on ${c.name}'s ${where} list has slab_cache 0x${s.cache.toString(16)}${other ? ` (${other.name})` : ''}`, type: t });
  }
  if (s.objects !== c.objects && s.objects > c.objects) add({ severity: 'error', check: 'counts', cache: c.name, slab: hx(s.address), address: hx(s.address), message: `slab has objects=${s.objects}, more than the cache's ${c.objects} per slab`, type: t });
  if (s.inuse > s.objects) add({ severity: 'error', check: 'counts', cache: c.name, slab: hx(s.address), address: hx(s.address), message: `slab inuse ${s.inuse} > objects ${s.objects}`, type: t });
  if (where === 'partial' && s.inuse === s.objects && s.objects > 0) add({ severity: 'warning', check: 'wrong-list', cache: c.name, slab: hx(s.address), address: hx(s.address), message: `full slab (inuse ${s.inuse} of ${s.objects}) on the node partial list`, type: t });
  if (where === 'full' && s.inuse !== s.objects) add({ severity: 'warning', check: 'wrong-list', cache: c.name, slab: hx(s.address), address: hx(s.address), message: `slab with ${s.objects - s.inuse} free objects on the node full list`, type: t });
  if ((where === 'partial' || where === 'full') && s.frozen) add({ severity: 'warning', check: 'wrong-list', cache: c.name, slab: hx(s.address), address: hx(s.address), message: `frozen (per-CPU) slab on the node ${where} list`, type: t });
}

function firstBad(b: Uint8Array, from: number, len: number, want: number): number {
  for (let i = from; i < from + len && i < b.length; i++) if (b[i] !== want) return i;
  return -1;
}

function checkSlabObjects(prog: Program, c: SlabCache, slab: SlabInfo, list: string | undefined, cpuFreelist: bigint, add: Add): void {
  const bounds = slabBounds(c, slab);
  const slabLen = (prog.info.pageSize << c.order) >>> 0;
  const data = prog.mem.tryRead(slab.memory, slabLen);
  // freelist and counts
  const w = walkFreelist(prog, c, slab.freelist, slab);
  if (w.error) add({ severity: 'error', check: 'freelist', cache: c.name, slab: hx(slab.address), address: hx(w.error.at || slab.address), message: `slab freelist: ${w.error.message}` });
  const free = new Set<number>();
  for (const o of w.objects) free.add(objectIndex(c, slab, o));
  if (cpuFreelist) {
    const cw = walkFreelist(prog, c, cpuFreelist, slab);
    for (const o of cw.objects) free.add(objectIndex(c, slab, o));
  }
  if (!w.error && list !== 'cpu' && w.objects.length !== slab.objects - slab.inuse) {
    add({ severity: 'error', check: 'counts', cache: c.name, slab: hx(slab.address), address: hx(slab.address), message: `slab inuse ${slab.inuse} of ${slab.objects} but its freelist holds ${w.objects.length} objects (expected ${slab.objects - slab.inuse})`, type: slabLayout(prog).slabStruct });
  }
  if (!list && slab.inuse < slab.objects && !slab.frozen && slab.objects > 0) {
    add({ severity: 'warning', check: 'wrong-list', cache: c.name, slab: hx(slab.address), address: hx(slab.address), message: `slab with ${slab.objects - slab.inuse} free objects is on no list (neither a CPU's nor the node partial list)`, type: slabLayout(prog).slabStruct });
  }
  if (!data) return;
  const redzone = (c.flags & slabFlag(prog, 'SLAB_RED_ZONE')) !== 0n;
  const poison = (c.flags & slabFlag(prog, 'SLAB_POISON')) !== 0n && (c.flags & slabFlag(prog, '__OBJECT_POISON')) !== 0n;
  const typed = typedChecks(prog, c);
  for (let i = 0; i < bounds.count; i++) {
    const slotOff = i * c.size;
    const objOff = slotOff + c.redLeftPad;
    if (objOff + c.objectSize > data.length) break;
    const object = slab.memory + BigInt(objOff);
    const isFree = free.has(i);
    const where = (off: number) => slab.memory + BigInt(off);
    // an allocated object with free poison and inactive red zones is free in fact: SLUB's
    // "Marking all objects used" after it found a corrupted slab leaves exactly this
    const poisoned = poison && firstBad(data, objOff, c.objectSize - 1, POISON_FREE) < 0 && data[objOff + c.objectSize - 1] === POISON_END;
    const inactive = redzone && firstBad(data, slotOff, c.redLeftPad, SLUB_RED_INACTIVE) < 0 && firstBad(data, objOff + c.objectSize, c.inuse - c.objectSize, SLUB_RED_INACTIVE) < 0;
    if (!isFree && poisoned && inactive) {
      add({ severity: 'warning', check: 'poison-in-use', cache: c.name, slab: hx(slab.address), object: hx(object), address: hx(object), message: `object ${hx(object)} is counted allocated but is free in fact (free poison 0x6b..0xa5 and inactive red zones 0xbb): SLUB marks every object of a slab used when it finds the slab corrupted ("FIX ${c.name}: Marking all objects used")` });
      continue;
    }
    if (redzone) {
      const val = isFree ? SLUB_RED_INACTIVE : SLUB_RED_ACTIVE;
      const l = firstBad(data, slotOff, c.redLeftPad, val);
      if (l >= 0) add({ severity: 'error', check: 'redzone', cache: c.name, slab: hx(slab.address), object: hx(object), address: hx(where(l)), message: `Left Redzone overwritten at ${hx(where(l))} (object ${hx(object)}, offset ${l - objOff}): first byte 0x${data[l].toString(16)} instead of 0x${val.toString(16)}` });
      const r = firstBad(data, objOff + c.objectSize, c.inuse - c.objectSize, val);
      if (r >= 0) add({ severity: 'error', check: 'redzone', cache: c.name, slab: hx(slab.address), object: hx(object), address: hx(where(r)), message: `Right Redzone overwritten at ${hx(where(r))} (object ${hx(object)}+0x${(r - objOff).toString(16)}): first byte 0x${data[r].toString(16)} instead of 0x${val.toString(16)}` });
    }
    if (poison) {
      const body = firstBad(data, objOff, c.objectSize - 1, POISON_FREE);
      const end = data[objOff + c.objectSize - 1];
      if (isFree) {
        if (body >= 0) {
          let last = body;
          while (last + 1 < objOff + c.objectSize - 1 && data[last + 1] !== POISON_FREE) last++;
          add({ severity: 'error', check: 'poison', cache: c.name, slab: hx(slab.address), object: hx(object), address: hx(where(body)), message: `Poison overwritten: ${hx(where(body))}-${hx(where(last))} @offset=${body}. First byte 0x${data[body].toString(16)} instead of 0x${POISON_FREE.toString(16)} (free object ${hx(object)}+0x${(body - objOff).toString(16)})` });
        } else if (end !== POISON_END) {
          add({ severity: 'error', check: 'poison', cache: c.name, slab: hx(slab.address), object: hx(object), address: hx(where(objOff + c.objectSize - 1)), message: `End Poison overwritten at ${hx(where(objOff + c.objectSize - 1))}: 0x${end.toString(16)} instead of 0x${POISON_END.toString(16)} (free object ${hx(object)})` });
        }
      } else if (body < 0 && end === POISON_END && c.objectSize >= 16) {
        add({ severity: 'info', check: 'poison-in-use', cache: c.name, slab: hx(slab.address), object: hx(object), address: hx(object), message: `allocated object ${hx(object)} still holds the free poison (0x6b..0xa5): not written since its allocation (a mempool reserve?)` });
      }
    }
    // fill patterns (free poisoned objects are expected to be 0x6b)
    const pat = fillPattern(data, objOff, Math.min(c.objectSize, 4096), (c.flags & slabFlag(prog, 'SLAB_POISON')) !== 0n);
    if (pat) add({ severity: 'warning', check: 'pattern', cache: c.name, slab: hx(slab.address), object: hx(object), address: hx(where(objOff + pat.start)), message: `${isFree ? 'free' : 'allocated'} object ${hx(object)}: ${pat.len} bytes from offset ${pat.start} filled with 0x${pat.name}` });
    if (typed && !isFree) typed(data, objOff, object, slab, add);
  }
}

/** Each fill word as it reads in either byte order -> its places in FILL_PATTERNS. */
const FILL_WORDS = new Map<number, number[]>();
for (const [k, [word]] of FILL_PATTERNS.entries()) {
  const swapped = (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0;
  for (const w of new Set([word, swapped])) FILL_WORDS.set(w, [...(FILL_WORDS.get(w) ?? []), k]);
}
/** A byte of each fill word's hash: a word whose byte is not set is none of them (most words). */
const FILL_HASH = new Uint8Array(256);
const fillHash = (w: number) => (w ^ (w >>> 8) ^ (w >>> 16) ^ (w >>> 24)) & 0xff;
for (const w of FILL_WORDS.keys()) FILL_HASH[fillHash(w)] = 1;
// per fill word: where its current run starts, where its last match ends, its longest run so far
const fillRunStart = new Int32Array(FILL_PATTERNS.length);
const fillRunEnd = new Int32Array(FILL_PATTERNS.length);
const fillBestLen = new Int32Array(FILL_PATTERNS.length);
const fillBestStart = new Int32Array(FILL_PATTERNS.length);

/**
 * The longest run (>= 32 bytes, 4-byte aligned) of a known fill word, in either byte order; null
 * when none. Of runs of the same length, the first fill word's (FILL_PATTERNS order), and of its
 * runs the first. One pass over the words (every object of a slabcheck: a million objects of 776
 * bytes were 4.2 s of a word-by-word pass per fill word).
 */
export function fillPattern(b: Uint8Array, off: number, len: number, slubPoison: boolean): { start: number; len: number; name: string } | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  fillRunEnd.fill(-1);
  fillBestLen.fill(0);
  for (let i = 0; i + 4 <= len; i += 4) {
    const w = dv.getUint32(off + i, true);
    if (!FILL_HASH[fillHash(w)]) continue;
    const ks = FILL_WORDS.get(w);
    if (!ks) continue;
    for (const k of ks) {
      if (fillRunEnd[k] !== i) fillRunStart[k] = i;
      fillRunEnd[k] = i + 4;
      const run = i + 4 - fillRunStart[k];
      if (run >= 32 && run > fillBestLen[k]) {
        fillBestLen[k] = run;
        fillBestStart[k] = fillRunStart[k];
      }
    }
  }
  let best = -1;
  for (let k = 0; k < FILL_PATTERNS.length; k++) {
    if (slubPoison && FILL_PATTERNS[k][0] === 0x5a5a5a5a) continue; // SLUB's own POISON_INUSE padding
    if (fillBestLen[k] > 0 && (best < 0 || fillBestLen[k] > fillBestLen[best])) best = k;
  }
  return best < 0 ? null : { start: fillBestStart[best], len: fillBestLen[best], name: FILL_PATTERNS[best][1] };
}

type TypedCheck = (data: Uint8Array, objOff: number, object: bigint, slab: SlabInfo, add: Add) => void;

/** Checks that need the object's type: buffer_head today, from BTF offsets. */
function typedChecks(prog: Program, c: SlabCache): TypedCheck | null {
  if (c.name !== 'buffer_head') return null;
  const t = prog.btf.findType('buffer_head', 'struct');
  if (t === null) return null;
  const loc = (m: string) => prog.btf.memberPath(t, m);
  const thisPage = loc('b_this_page');
  const page = loc('b_page');
  if (!thisPage || !page) return null;
  const L = slabLayout(prog);
  const members = prog.btf.flatten(t).members;
  return (data, objOff, object, slab, add) => {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const rd = (o: number) => dv.getBigUint64(objOff + o, true);
    const bPage = rd(page.offset);
    const next = rd(thisPage.offset);
    if (bPage === 0n) return; // not attached to a page
    const problems: string[] = [];
    const pageOk = bPage >= L.vmemmap && pageToPfn(prog, bPage) !== null && (bPage & 0xffffffffn) !== 0n;
    if (!pageOk) problems.push(`b_page 0x${bPage.toString(16)} is not a struct page${(bPage & 0xffffffffn) === 0n ? ' (low 32 bits zero: partly overwritten?)' : ''}`);
    if (next === 0n) problems.push('b_this_page is NULL: the buffer ring of its page is broken');
    else if (next !== object) {
      // follow the ring a bounded number of steps: it must come back
      let cur = next;
      let ok = false;
      for (let i = 0; i < 64 && cur; i++) {
        if (cur === object) {
          ok = true;
          break;
        }
        const b = prog.mem.tryRead(cur + BigInt(thisPage.offset), 8);
        if (!b) break;
        cur = u64(b, 0);
      }
      if (!ok) problems.push(`b_this_page ring from 0x${next.toString(16)} does not come back to this buffer_head`);
    }
    if (!problems.length) return;
    // a zeroed run at the start of the slab page: name the members it covers
    let zeroNote = '';
    const pageOff = Number(object & BigInt(prog.info.pageSize - 1));
    if (pageOff < 8 || objOff === 0) {
      let z = 0;
      while (z < 64 && data[objOff + z] === 0) z++;
      if (z >= 8) {
        const names = members.filter((m) => m.offset < z && !m.name.includes('.')).map((m) => m.name);
        zeroNote = `; the first ${z} bytes of its slab page are zero (${names.join(', ')}): a write of zeroes over the page head (DMA scribble?)`;
      }
    }
    add({
      severity: 'error',
      check: zeroNote ? 'zeroed-head' : 'ring',
      cache: 'buffer_head',
      slab: hx(slab.address),
      object: hx(object),
      address: hx(object),
      message: `buffer_head ${hx(object)}: ${problems.join('; ')}${zeroNote}`,
      type: 'buffer_head',
    });
  };
}

/** SLUB's reports in the kernel log, matched to the dump. */
function checkKernelReports(prog: Program, cache: string | undefined, add: Add): void {
  let recs: string[];
  try {
    recs = readPrintk(prog).records.map((r) => r.text);
  } catch (e) {
    expectedError(e);
    return;
  }
  for (let i = 0; i < recs.length; i++) {
    const m = /^BUG ([^ ]+) \(.*\): (.*)$/.exec(recs[i]);
    if (!m) continue;
    const [, name, what] = m;
    if (cache && name !== cache) continue;
    let first: RegExpExecArray | null = null;
    let objLine: RegExpExecArray | null = null;
    let slabLine: RegExpExecArray | null = null;
    for (let j = i + 1; j < Math.min(recs.length, i + 80); j++) {
      if (/^BUG /.test(recs[j])) break;
      first ??= /^(0x[0-9a-f]+)-(0x[0-9a-f]+) @offset=(\d+)\. First byte (0x[0-9a-f]+) instead of (0x[0-9a-f]+)/.exec(recs[j]);
      objLine ??= /^Object (0x[0-9a-f]+) @offset=(\d+)/.exec(recs[j]);
      slabLine ??= /^Slab (0x[0-9a-f]+) /.exec(recs[j]);
    }
    const addr = first ? first[1] : objLine ? objLine[1] : slabLine ? slabLine[1] : '0x0';
    let now = '';
    if (first) {
      const b = prog.mem.tryRead(BigInt(first[1]), 1);
      if (b) now = b[0] === Number(first[5]) ? `; the byte now reads 0x${b[0].toString(16)} again (SLUB restored it after reporting)` : `; the byte now reads 0x${b[0].toString(16)}`;
    }
    add({
      severity: 'error',
      check: 'kernel-report',
      cache: name,
      slab: slabLine ? slabLine[1] : null,
      ...(objLine ? { object: objLine[1] } : {}),
      address: addr,
      message:
        `kernel log: BUG ${name}: ${what}` +
        (first ? ` at ${first[1]}-${first[2]}: first byte ${first[4]} instead of ${first[5]}` : '') +
        (objLine ? ` (object ${objLine[1]}${first ? `+0x${(BigInt(first[1]) - BigInt(objLine[1])).toString(16)}` : ''})` : '') +
        now,
    });
  }
}
