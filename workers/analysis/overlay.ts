import { DumpError, MemoryError } from '../errors';
import { u64 } from '../bytes';
import type { Btf, BtfComposite } from '../kernel/btf';
import { cacheKey, type Program } from '../kernel/program';
import { listModules, moduleBtf } from '../kernel/modules';
import { findCache, cacheSlabs, type SlabObjects } from './slab';
import type { Referrer, NeutralRange } from './referrers';

const OVERLAY_TAGSETS_KEY = cacheKey<TagSetScan>('overlay.tagsets');

/**
 * "Which struct type fits this object?" — rank BTF struct types by how well an untyped object's
 * bytes fit them. Every candidate comes with its evidence, so the user can judge the ranking:
 * function pointers that point at functions (named like the member), list_heads that link back,
 * pointers that point at objects of the member's type, enums and bools in range, and the size
 * fitting the allocation's size class. Composite layouts are tried where the kernel allocates
 * one struct followed by another (a block-layer request followed by its driver's command: the
 * blk-mq PDU at rq + sizeof(struct request), sized by the tag set's cmd_size).
 */

export type EvidenceKind = 'size' | 'fnptr' | 'ptr' | 'typed-ptr' | 'list' | 'enum' | 'bool' | 'string' | 'referrer' | 'bad';

export interface Evidence {
  /** byte offset in the object */
  offset: number;
  /** member path in the candidate type ('' for whole-object evidence) */
  member: string;
  kind: EvidenceKind;
  weight: number;
  text: string;
}

export interface OverlayPart {
  type: string;
  /** where the type comes from: 'vmlinux' or a module's BTF */
  source: string;
  offset: number;
  size: number;
  /** a PDU of known size whose type is not in any BTF the dump has */
  unknown?: boolean;
}

export interface OverlayCandidate {
  /** the layout: one part, or a head followed by a tail (composite) */
  parts: OverlayPart[];
  /** display name: "struct request + struct scsi_cmnd" */
  name: string;
  score: number;
  evidence: Evidence[];
}

/** What a pointer points at (slab analysis plugs in here: cache name and the cache's type). */
export interface PointerInfo {
  /** the type the target object is known to have (e.g. from a dedicated cache), if any */
  type?: string;
  /** a short description: "dentry object", "kernel text", ... */
  what: string;
  /** the symbol the pointer points at exactly, if any */
  symbol?: string;
  /** offset of the pointer inside the object it points into (with `type`) */
  offset?: number;
  /** the target page is mapped but not in the dump (neither evidence for nor against) */
  missing?: boolean;
}

export interface OverlayOptions {
  /** object size in bytes (the slab cache's object_size, or a user-given length) */
  size: number;
  /** sizes of struct that fit the allocation: [min, max] (e.g. kmalloc-1k: [513, 1024]) */
  window?: [number, number];
  /** type names to leave out (tests hide the cache's own type) */
  exclude?: Set<string>;
  limit?: number;
  /** classify a pointer value (slab-aware); default: symbols and readability only */
  classify?: (value: bigint) => PointerInfo | null;
  /** also try module BTF types (default true) */
  modules?: boolean;
  /** try composite layouts (request + PDU) — for generic (kmalloc) objects; default true */
  composites?: boolean;
  /**
   * Who points into the object (findReferrers): a referrer whose member is a pointer to a struct
   * is evidence for (or against) the layout at the offset it points to.
   */
  referrers?: Referrer[];
  /**
   * Byte ranges that say nothing about the object's type and are left out of the scoring: words
   * still holding the free poison, another owner's part (an skb's shared info at head + end).
   */
  neutral?: NeutralRange[];
  cancel?: { cancelled: boolean };
}

export type { NeutralRange };

interface TypeRef {
  btf: Btf;
  id: number;
  name: string;
  size: number;
  source: string;
}

/** Evidence of layout (pointers and links that check out), as opposed to plausible scalars. */
const STRUCTURAL = new Set<EvidenceKind>(['fnptr', 'ptr', 'typed-ptr', 'list', 'string', 'referrer']);

const LIST_POISON1 = 0xdead000000000100n;
const LIST_POISON2 = 0xdead000000000122n;
const MAX_ARRAY_ELEMS = 4;

/** The size window of a kmalloc-style size class holding `size`-byte objects. */
export function sizeClassWindow(size: number): [number, number] {
  const classes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
  const i = classes.indexOf(size);
  if (i > 0) return [classes[i - 1] + 1, size];
  if (i === 0) return [1, size];
  return [size, size];
}

export function rankOverlays(prog: Program, address: bigint, opts: OverlayOptions): OverlayCandidate[] {
  const size = opts.size;
  const window = opts.window ?? [Math.max(1, Math.floor(size / 2) + 1), size];
  const bytes = readObject(prog, address, size);
  // neutral bytes read as zero: no member is judged on them (NULL, 0 and empty say nothing)
  for (const r of opts.neutral ?? []) bytes.fill(0, Math.max(0, r.offset), Math.min(size, r.offset + r.size));
  const types = allStructTypes(prog, opts.modules !== false);
  const scorer = new Scorer(prog, address, bytes, opts.classify ?? defaultClassify(prog));
  const typed = (opts.referrers ?? []).filter((r) => r.pointee && r.delta >= 0 && r.delta < size);
  const refEv = (parts: OverlayPart[]) => referrerEvidence(prog, parts, typed);
  const out: OverlayCandidate[] = [];
  const excluded = (t: TypeRef) => opts.exclude?.has(t.name) ?? false;

  let n = 0;
  for (const t of types) {
    if (t.size < window[0] || excluded(t)) continue;
    if (t.size > window[1] && !(opts.composites === false && variableTailFits(t, size))) continue;
    if ((++n & 255) === 0 && opts.cancel?.cancelled) break;
    const ev = [...scorer.evaluate(t, 0), ...refEv([part(t, 0)])];
    ev.push(sizeEvidence(t.size, size, window));
    out.push(candidate([part(t, 0)], ev));
  }

  // composites: a request followed by its PDU (blk-mq: blk_mq_rq_to_pdu(rq) == rq + 1)
  const heads = opts.composites === false ? [] : types.filter((t) => t.name === 'struct request' && t.source === 'vmlinux');
  for (const head of heads) {
    if (excluded(head) || head.size >= window[1]) continue;
    const headEv = scorer.evaluate(head, 0);
    const tailOff = head.size; // sizeof(struct request) is a multiple of 8
    const room: [number, number] = [Math.max(1, window[0] - tailOff), window[1] - tailOff];
    let anyTail = false;
    for (const t of types) {
      if (t.size < room[0] || t.size > room[1] || excluded(t) || t.name === head.name) continue;
      const tailEv = scorer.evaluate(t, tailOff);
      // a tail must show structure of its own (a function pointer, a typed or aptly named pointer,
      // a linked list): scalar coverage alone would let any type of the right size in
      if (!tailEv.some((e) => e.weight >= 2 && e.member !== '')) continue;
      anyTail = true;
      const parts = [part(head, 0), part(t, tailOff)];
      const ev = [...headEv, ...tailEv, ...refEv(parts), sizeEvidence(head.size + t.size, size, window, `${head.name} + ${t.name}`)];
      out.push(candidate(parts, ev));
    }
    // the driver's command type may be in no BTF the dump has (a module without BTF, or not
    // loaded): keep the head with an unknown PDU filling the rest of the object
    const pduSizes = tagSetCmdSizes(prog);
    const pdu = pduSizes.find((s) => head.size + s >= window[0] && head.size + s <= window[1]) ?? size - tailOff;
    const pduPart: OverlayPart = { type: 'PDU (driver command)', source: 'unknown', offset: tailOff, size: pdu, unknown: true };
    const ev = [...headEv, ...refEv([part(head, 0), pduPart])];
    ev.push({
      offset: tailOff,
      member: '',
      kind: 'size',
      weight: pduSizes.includes(pdu) ? 3 : anyTail ? 0.5 : 1.5,
      text: pduSizes.includes(pdu)
        ? `a blk-mq tag set in this dump has cmd_size ${pdu}: ${head.name} (${head.size}) + PDU (${pdu}) = ${head.size + pdu} fits`
        : `${head.name} (${head.size} bytes) + the driver's PDU (blk_mq_rq_to_pdu: rq + 1) would fill this ${size}-byte object; the PDU's type is in no BTF of this dump`,
    });
    out.push(candidate([part(head, 0), pduPart], ev));
  }

  out.sort((a, b) => b.score - a.score || a.parts.length - b.parts.length || a.name.localeCompare(b.name));
  return out.slice(0, opts.limit ?? 20);
}

/**
 * Evidence from typed referrers: a member declared `struct T *` that points at +d of the object says
 * a T starts there. A layout with T (or a member of type T) at +d gains; one with something else
 * there loses; a driver PDU of unknown type starting at +d can be a T (weak support).
 */
function referrerEvidence(prog: Program, parts: OverlayPart[], refs: Referrer[]): Evidence[] {
  const out: Evidence[] = [];
  const seen = new Set<string>();
  for (const r of refs) {
    const key = `${r.type}.${r.member}@${r.delta}`;
    if (seen.has(key)) continue; // many objects of one type pointing the same way count once
    seen.add(key);
    const n = refs.filter((x) => `${x.type}.${x.member}@${x.delta}` === key).length;
    const who = `pointed to by ${r.text.split(' (')[0]}${n > 1 ? ` and ${n - 1} more` : ''} (${r.memberType})`;
    const p = parts.find((x) => r.delta >= x.offset && r.delta < x.offset + x.size);
    const at = `+0x${r.delta.toString(16)}`;
    if (!p) {
      out.push({ offset: r.delta, member: '', kind: 'bad', weight: -1, text: `${who}: ${at} is past this layout` });
      continue;
    }
    const rel = r.delta - p.offset;
    if (p.unknown) {
      if (rel === 0) out.push({ offset: r.delta, member: p.type, kind: 'referrer', weight: 1.5, text: `${who}: the ${p.type} starts at ${at}, so it can be a ${r.pointee}` });
      continue;
    }
    if (rel === 0 && p.type === r.pointee) {
      out.push({ offset: r.delta, member: p.type.replace(/^(struct|union) /, ''), kind: 'referrer', weight: 4, text: `${who}: a ${r.pointee} starts at ${at}` });
      continue;
    }
    const inner = structMemberAt(prog, p, rel);
    if (inner && inner.type === r.pointee) {
      // a link type (list_head, hlist_node, rb_node) is embedded everywhere: a match says little,
      // unless the referrer is the same member of the same type (siblings on one list)
      const link = isLinkType(prog, r.pointee!);
      // (the referrer's member is the link's own next/prev: its parent is the embedded link)
      const same = link && r.type !== undefined && `${r.type.replace(/^(struct|union) /, '')}.${r.member}`.replace(/\.[^.]+$/, '') === inner.path;
      const weight = !link ? 3 : same ? 3 : 0.5;
      out.push({ offset: r.delta, member: inner.path, kind: 'referrer', weight, text: `${who}: ${inner.path} at ${at} is a ${r.pointee}${same ? ', the same member (one list)' : link ? ' (a link type: weak)' : ''}` });
    } else {
      out.push({ offset: r.delta, member: '', kind: 'bad', weight: -2, text: `${who}: but ${at} is ${inner ? `${inner.path} (${inner.type})` : `inside ${p.type}, not the start of a ${r.pointee}`}` });
    }
  }
  return out;
}

/** A struct made only of pointers to itself (list_head, hlist_node's next/pprev, llist_node): a link, not a type's identity. */
function isLinkType(prog: Program, name: string): boolean {
  const btf = prog.btf;
  const id = btf.findType(name);
  if (id === null) return false;
  const t = btf.type(btf.resolve(id));
  if (t.kind !== 'struct' || t.members.length === 0) return false;
  const self = btf.resolve(id);
  return t.members.every((m) => {
    let x = btf.type(btf.resolve(m.type));
    let hops = 0;
    while (x.kind === 'ptr' && hops++ < 3) {
      const to = btf.resolve(x.type);
      if (to === self) return true;
      x = btf.type(to);
    }
    // rb_node: __rb_parent_color is an unsigned long holding a pointer and a colour
    return x.kind === 'int' && m.name.includes('parent');
  });
}

/** The outermost struct/union member of a layout part starting exactly at `rel`, if any. */
function structMemberAt(prog: Program, p: OverlayPart, rel: number): { path: string; type: string } | null {
  const btf = p.source === 'vmlinux' ? prog.btf : (moduleBtf(prog, p.source) ?? prog.btf);
  const id = btf.findType(p.type);
  if (id === null) return null;
  const m = btf.memberAt(id, rel);
  if (!m || m.delta !== 0 || m.padding) return null;
  const parts = m.path.split('.');
  for (let k = 1; k <= parts.length; k++) {
    const sub = parts.slice(0, k).join('.');
    const loc = btf.memberPath(id, sub);
    if (!loc || loc.offset !== rel) continue;
    const rt = btf.type(btf.resolve(loc.type));
    if ((rt.kind === 'struct' || rt.kind === 'union') && rt.name) return { path: `${p.type.replace(/^(struct|union) /, '')}.${sub}`, type: `${rt.kind} ${rt.name}` };
  }
  return null;
}

/** SLUB's free poison (mm/slub.c POISON_FREE 0x6b, the object's last byte POISON_END 0xa5). */
const POISON_WORD = 0x6b6b6b6b6b6b6b6bn;

/**
 * The 8-byte words of an allocated object of a poisoning cache (slub_debug P) that still hold the
 * free poison: not written since the object was allocated, so no evidence about its type.
 */
export function poisonRanges(bytes: Uint8Array): NeutralRange[] {
  const out: NeutralRange[] = [];
  for (let o = 0; o + 8 <= bytes.length; o += 8) {
    let v = u64(bytes, o);
    if (o + 8 === bytes.length && bytes[o + 7] === 0xa5) v = (v & 0x00ffffffffffffffn) | 0x6b00000000000000n;
    if (v !== POISON_WORD) continue;
    const last = out[out.length - 1];
    if (last && last.offset + last.size === o) last.size += 8;
    else out.push({ offset: o, size: 8, why: 'the free poison 0x6b (not written since allocation)' });
  }
  return out;
}

/**
 * A struct whose last member is an array sized at run time (kmem_cache's node[MAX_NUMNODES],
 * allocated for nr_node_ids) fits an object that ends inside that array.
 */
function variableTailFits(t: TypeRef, objSize: number): boolean {
  const r = t.btf.type(t.btf.resolve(t.id));
  if (r.kind !== 'struct' || r.members.length === 0) return false;
  const last = r.members[r.members.length - 1];
  const lt = t.btf.type(t.btf.resolve(last.type));
  const start = Math.floor(last.bitOffset / 8);
  return lt.kind === 'array' && start < objSize && start >= objSize / 2;
}

function part(t: TypeRef, offset: number): OverlayPart {
  return { type: t.name, source: t.source, offset, size: t.size };
}

function candidate(parts: OverlayPart[], evidence: Evidence[]): OverlayCandidate {
  // a type with no member evidence at all (a bitmap, a buffer) fits any bytes: size alone is weak
  const structural = evidence.some((e) => e.weight > 0 && STRUCTURAL.has(e.kind) && e.member !== '');
  const unknownTail = parts.some((p) => p.unknown);
  if (!structural && !unknownTail) evidence = evidence.map((e) => (e.kind === 'size' ? { ...e, weight: e.weight / 2, text: `${e.text} (no member evidence)` } : e));
  evidence.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.offset - b.offset);
  const score = Math.round(evidence.reduce((s, e) => s + e.weight, 0) * 100) / 100;
  return { parts, name: parts.map((p) => p.type).join(' + '), score, evidence };
}

function sizeEvidence(typeSize: number, objSize: number, window: [number, number], label?: string): Evidence {
  const what = label ?? `${typeSize}-byte type`;
  if (typeSize > objSize) {
    return {
      offset: 0,
      member: '',
      kind: 'size',
      weight: 1,
      text: `${what} is ${typeSize - objSize} bytes larger than the ${objSize}-byte object: only a type with a variable-size tail (task_struct's FPU state, kmem_cache's node array) fits`,
    };
  }
  if (typeSize === objSize) return { offset: 0, member: '', kind: 'size', weight: 3, text: `${what} is exactly the object size ${objSize}` };
  return {
    offset: 0,
    member: '',
    kind: 'size',
    weight: 2,
    text: `${what} (${typeSize} bytes) fits the ${objSize}-byte object's size class [${window[0]}, ${window[1]}]`,
  };
}

export function readObject(prog: Program, address: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let off = 0; off < size; ) {
    const n = Math.min(size - off, 4096 - Number((address + BigInt(off)) & 0xfffn));
    const b = prog.mem.read(address + BigInt(off), n); // a MemoryError here is the caller's answer
    out.set(b, off);
    off += n;
  }
  return out;
}

/** Every struct type of the kernel's BTF and of the loaded modules' BTF (deduplicated by name). */
function allStructTypes(prog: Program, modules: boolean): TypeRef[] {
  return prog.memo(cacheKey<TypeRef[]>(`overlay.types.${modules}`), () => collectStructTypes(prog, modules));
}

function collectStructTypes(prog: Program, modules: boolean): TypeRef[] {
  const out: TypeRef[] = [];
  const seen = new Set<string>();
  const add = (btf: Btf, source: string, local: boolean) => {
    for (const s of btf.structs()) {
      if (local && s.id < btf.startId) continue;
      if (!s.name || s.size === 0) continue;
      const name = `${s.kind} ${s.name}`;
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ btf, id: s.id, name, size: s.size, source });
    }
  };
  add(prog.btf, 'vmlinux', false);
  if (modules) {
    for (const m of listModules(prog)) {
      const b = moduleBtf(prog, m.name);
      if (b) add(b, m.name, true);
    }
  }
  return out;
}

/** The slab caches struct request_queue comes from (block/blk-core.c; blkdev_queue before 5.x). */
const QUEUE_CACHES = ['request_queue', 'request_queue_srcu', 'blkdev_queue'];

export interface TagSetScan {
  /** distinct nonzero blk_mq_tag_set.cmd_size values, ascending */
  cmdSizes: number[];
  /** allocated request queues looked at, and how many had a tag set (blk-mq) */
  queues: number;
  tagSets: number;
  /** the caches searched that the dump has */
  caches: string[];
  problems: string[];
}

/**
 * cmd_size of every blk-mq tag set reachable in the dump: each allocated request_queue object of
 * the request-queue slab caches (CPU, partial and listed full slabs; SLUB lists full slabs only
 * with debugging) and its q->tag_set (NULL for bio-based queues).
 */
export function scanTagSets(prog: Program): TagSetScan {
  const cached = prog.recall(OVERLAY_TAGSETS_KEY);
  if (cached) return cached;
  const out: TagSetScan = { cmdSizes: [], queues: 0, tagSets: 0, caches: [], problems: [] };
  prog.remember(OVERLAY_TAGSETS_KEY, out);
  const qT = prog.findType('struct request_queue');
  const tsT = prog.findType('struct blk_mq_tag_set');
  if (qT === null || tsT === null || !prog.btf.memberPath(qT, 'tag_set') || !prog.btf.memberPath(tsT, 'cmd_size')) {
    out.problems.push('no struct request_queue.tag_set / blk_mq_tag_set.cmd_size in BTF');
    return out;
  }
  const tagOff = BigInt(prog.offsetof(qT, 'tag_set'));
  const cmdOff = BigInt(prog.offsetof(tsT, 'cmd_size'));
  const sizes = new Set<number>();
  const seen = new Set<bigint>();
  for (const name of QUEUE_CACHES) {
    let slabs: SlabObjects[];
    try {
      const c = findCache(prog, name);
      if (!c) continue;
      out.caches.push(name);
      const l = cacheSlabs(prog, c);
      slabs = [...l.cpus.flatMap((x) => (x.slab ? [x.slab, ...x.partial] : x.partial)), ...l.nodes.flatMap((n) => [...n.partial, ...(n.full ?? [])])];
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      out.problems.push(`${name}: ${e.message}`);
      continue;
    }
    for (const so of slabs) {
      so.objects.forEach((q, i) => {
        if (so.states[i] !== 'allocated' || seen.has(q)) return;
        seen.add(q);
        out.queues++;
        const p = prog.mem.tryRead(q + tagOff, 8);
        const set = p ? u64(p, 0) : 0n;
        if (!set) return;
        const b = prog.mem.tryRead(set + cmdOff, 4);
        if (!b) {
          out.problems.push(`request_queue 0x${q.toString(16)}: tag set 0x${set.toString(16)} unreadable`);
          return;
        }
        out.tagSets++;
        const n = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
        if (n) sizes.add(n);
      });
    }
  }
  out.cmdSizes = [...sizes].sort((x, y) => x - y);
  return out;
}

function tagSetCmdSizes(prog: Program): number[] {
  return scanTagSets(prog).cmdSizes;
}

function defaultClassify(prog: Program): (v: bigint) => PointerInfo | null {
  return (v) => {
    const hit = prog.symbols.lookup(v);
    if (hit) return { what: `${hit.sym.name}+0x${hit.offset.toString(16)}`, symbol: hit.offset === 0 ? hit.sym.name.replace(/\.\d+$/, '') : undefined };
    return readableOrMissing(prog, v);
  };
}

/** A kernel address that reads, or one that is mapped but excluded from the dump. */
export function readableOrMissing(prog: Program, v: bigint): PointerInfo | null {
  try {
    prog.mem.read(v, 1);
    return { what: 'readable kernel memory' };
  } catch (e) {
    if (e instanceof MemoryError && (e.kind === 'not-in-dump' || e.kind === 'truncated')) return { what: 'a page not in the dump', missing: true };
    if (e instanceof MemoryError) return null;
    throw e;
  }
}

class Scorer {
  private fnCache = new Map<bigint, { name: string; offset: number; type: string } | null>();
  private ptrCache = new Map<bigint, PointerInfo | null>();
  private evCache = new Map<string, Evidence[]>();
  constructor(
    private prog: Program,
    private base: bigint,
    private bytes: Uint8Array,
    private classify: (v: bigint) => PointerInfo | null,
  ) {}

  evaluate(t: TypeRef, offset: number): Evidence[] {
    const key = `${t.source}:${t.id}@${offset}`;
    const hit = this.evCache.get(key);
    if (hit) return hit;
    const raw: Evidence[] = [];
    this.walk(t.btf, t.id, offset, '', false, raw, 0);
    // union alternatives overlay the same bytes: keep the strongest evidence per offset
    const best = new Map<number, Evidence>();
    for (const e of raw) {
      const b = best.get(e.offset);
      if (!b || e.weight > b.weight) best.set(e.offset, e);
    }
    const ev = [...best.values()];
    ev.push(...this.explained(t, offset, new Set(best.keys())));
    this.evCache.set(key, ev);
    return ev;
  }

  /**
   * The object's non-zero 8-byte words that this type (placed at `offset`) covers: a word on a
   * scalar member (not an array: arrays of longs "explain" anything) is weak support; a word in
   * padding contradicts the layout. Words already judged (pointers, lists, enums) are skipped.
   */
  private explained(t: TypeRef, offset: number, judged: Set<number>): Evidence[] {
    let support = 0;
    let holes = 0;
    const holeAt: string[] = [];
    for (let o = offset; o < Math.min(offset + t.size, this.bytes.length); o += 8) {
      if (judged.has(o) || this.u64at(o) === 0n || this.u64at(o) === null) continue;
      const m = t.btf.memberAt(t.id, o - offset);
      if (!m) {
        holes++;
        holeAt.push(`+0x${o.toString(16)}`);
        continue;
      }
      if (m.padding) {
        holes++;
        holeAt.push(`+0x${o.toString(16)}`);
        continue;
      }
      const rk = t.btf.type(t.btf.resolve(m.type)).kind;
      if (rk === 'int' || rk === 'enum' || rk === 'enum64' || rk === 'ptr') {
        if (!m.path.includes('[')) support++;
      }
    }
    const out: Evidence[] = [];
    // capped: covering words with integers is weak evidence, whatever the count
    if (support) out.push({ offset, member: '', kind: 'ptr', weight: Math.min(1.5, 0.3 * support), text: `${support} non-zero word(s) fall on scalar members` });
    if (holes) out.push({ offset, member: '', kind: 'bad', weight: -0.75 * holes, text: `${holes} non-zero word(s) fall in padding (${holeAt.slice(0, 4).join(', ')})` });
    return out;
  }

  private u64at(off: number): bigint | null {
    return off >= 0 && off + 8 <= this.bytes.length ? u64(this.bytes, off) : null;
  }

  private walk(btf: Btf, id: number, off: number, path: string, inUnion: boolean, ev: Evidence[], depth: number): void {
    if (depth > 8 || off >= this.bytes.length) return;
    const rid = btf.resolve(id);
    const t = btf.type(rid);
    const push = (e: Evidence) => {
      if (inUnion && e.weight < 0) return; // another union member may be the live one
      ev.push(e);
    };
    switch (t.kind) {
      case 'struct':
      case 'union': {
        const name = t.name;
        if (t.kind === 'struct' && (name === 'list_head' || name === 'hlist_node')) {
          this.list(off, path, name, push);
          return;
        }
        if (t.kind === 'struct' && name === 'refcount_struct') {
          // refcount_t: a live object holds a small positive count; saturation is 0xc0000000
          const v = this.intAt(off, 4, false);
          if (v !== null && v > 0n && v < 1n << 20n) push({ offset: off, member: path, kind: 'enum', weight: 0.5, text: `${path} = ${v} (a plausible reference count)` });
          else if (v !== null && v >= 1n << 31n) push({ offset: off, member: path, kind: 'bad', weight: -1, text: `${path} = 0x${v.toString(16)} (not a reference count)` });
          return;
        }
        for (const m of (t as BtfComposite).members) {
          if (m.bitSize) continue;
          const mo = off + Math.floor(m.bitOffset / 8);
          const p = m.name ? (path ? `${path}.${m.name}` : m.name) : path;
          this.walk(btf, m.type, mo, p, inUnion || t.kind === 'union', ev, depth + 1);
        }
        return;
      }
      case 'array': {
        const es = btf.sizeof(t.type);
        const elt = btf.type(btf.resolve(t.type));
        if (elt.kind === 'int' && es === 1) {
          this.charArray(off, t.nelems, path, push);
          return;
        }
        if (es <= 0) return;
        for (let i = 0; i < Math.min(t.nelems, MAX_ARRAY_ELEMS); i++) {
          this.walk(btf, t.type, off + i * es, `${path}[${i}]`, inUnion, ev, depth + 1);
        }
        return;
      }
      case 'ptr': {
        const v = this.u64at(off);
        if (v === null || v === 0n) return;
        const target = btf.type(btf.resolve(t.type));
        if (target.kind === 'func_proto') this.fnptr(off, v, path, push);
        else this.ptr(btf, off, v, path, target.kind === 'struct' ? `struct ${target.name}` : null, push);
        return;
      }
      case 'enum':
      case 'enum64': {
        const v = this.intAt(off, t.size, t.signed);
        if (v === null || v === 0n) return;
        const ok = t.values.some((x) => x.value === v);
        const flags = !ok && btf.enumFlags(rid, v) !== null && !btf.enumFlags(rid, v)!.some((f) => f.startsWith('0x'));
        if (ok) push({ offset: off, member: path, kind: 'enum', weight: 0.5, text: `${path} = ${btf.enumName(rid, v)} (a valid ${btf.typeName(rid)})` });
        else if (!flags) push({ offset: off, member: path, kind: 'bad', weight: -1.5, text: `${path} = ${v} is not a value of ${btf.typeName(rid)}` });
        return;
      }
      case 'int': {
        if (t.bool) {
          const v = this.bytes[off];
          if (v > 1) push({ offset: off, member: path, kind: 'bad', weight: -1.5, text: `${path} (bool) = ${v}` });
        } else if (t.signed && t.size >= 4) {
          // -1 is the kernel's "none" in signed ids and tags (BLK_MQ_NO_TAG, -1 fds, ...):
          // all-ones on a signed field of its own is a small, specific sign of the layout
          const v = this.intAt(off, t.size, true);
          if (v === -1n) push({ offset: off, member: path, kind: 'enum', weight: 0.75, text: `${path} = -1 (a "none" sentinel in a signed field)` });
        }
        return;
      }
      default:
        return;
    }
  }

  private intAt(off: number, size: number, signed: boolean): bigint | null {
    if (off + size > this.bytes.length) return null;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[off + i]);
    return signed ? BigInt.asIntN(size * 8, v) : v;
  }

  private fnSym(v: bigint) {
    if (this.fnCache.has(v)) return this.fnCache.get(v)!;
    const hit = this.prog.symbols.lookup(v);
    const r = hit ? { name: hit.sym.name, offset: hit.offset, type: hit.sym.type, module: hit.sym.module } : null;
    this.fnCache.set(v, r);
    return r;
  }

  private fnptr(off: number, v: bigint, path: string, push: (e: Evidence) => void): void {
    const hx = `0x${v.toString(16)}`;
    // small values are sentinels (SIG_IGN, SIG_ERR); user-space addresses are user handlers
    if (v < 0x1000n || v < 0x800000000000n || v >= 0xfffffffffffff000n) return;
    const s = this.fnSym(v);
    if (s && s.offset === 0 && /[tTwW]/.test(s.type)) {
      const fit = nameFit(path, s.name);
      push({
        offset: off,
        member: path,
        kind: 'fnptr',
        weight: 3 + (fit ? 1 : 0),
        text: `${path} = ${hx} <${s.name}>: a function${fit ? ', named like the member' : ''}`,
      });
    } else if (s && /[tT]/.test(s.type)) {
      push({ offset: off, member: path, kind: 'fnptr', weight: 0.5, text: `${path} = ${hx} <${s.name}+0x${s.offset.toString(16)}>: inside a function` });
    } else {
      push({ offset: off, member: path, kind: 'bad', weight: -3, text: `${path} = ${hx} is a function pointer member but not a function address` });
    }
  }

  private info(v: bigint): PointerInfo | null {
    if (this.ptrCache.has(v)) return this.ptrCache.get(v)!;
    let r: PointerInfo | null = null;
    if (this.prog.arch.isKernelAddress(v)) {
      try {
        r = this.classify(v);
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
      }
    }
    this.ptrCache.set(v, r);
    return r;
  }

  private ptr(btf: Btf, off: number, v: bigint, path: string, pointee: string | null, push: (e: Evidence) => void): void {
    const hx = `0x${v.toString(16)}`;
    if (v === LIST_POISON1 || v === LIST_POISON2) return;
    // ERR_PTR values and __user pointers are legitimate contents of pointer members
    if (v >= 0xfffffffffffff000n || (v >= 0x1000n && v < 0x800000000000n)) return;
    if (v < 0x1000n) {
      push({ offset: off, member: path, kind: 'bad', weight: -1, text: `${path} = ${hx}: a small integer in a pointer member` });
      return;
    }
    const i = this.info(v);
    if (!i) {
      push({ offset: off, member: path, kind: 'bad', weight: -2, text: `${path} = ${hx} is not a readable kernel address` });
      return;
    }
    if (i.missing) return;
    if (pointee && i.type) {
      const inner = i.type !== pointee || i.offset ? this.memberType(i.type, i.offset ?? 0) : null;
      if (i.type === pointee && !i.offset) {
        push({ offset: off, member: path, kind: 'typed-ptr', weight: 2.5, text: `${path} = ${hx} points at a ${pointee} (${i.what})` });
      } else if (inner && inner.type === pointee) {
        push({ offset: off, member: path, kind: 'typed-ptr', weight: 2.5, text: `${path} = ${hx} points at ${i.type.replace(/^struct /, '')}.${inner.path}, a ${pointee} (${i.what})` });
      } else {
        push({ offset: off, member: path, kind: 'ptr', weight: 0.25, text: `${path} = ${hx} points at ${i.what}, expected ${pointee}` });
      }
      return;
    }
    void btf;
    const fit = i.symbol ? nameFit(path, i.symbol) : false;
    push({
      offset: off,
      member: path,
      kind: 'ptr',
      weight: fit ? 2 : 1,
      text: `${path} = ${hx} points at ${i.what}${fit ? ', a symbol named like the member' : ''}`,
    });
  }

  private list(off: number, path: string, kind: string, push: (e: Evidence) => void): void {
    const next = this.u64at(off);
    const second = this.u64at(off + 8);
    if (next === null || second === null) return;
    const self = this.base + BigInt(off);
    const hx = (x: bigint) => `0x${x.toString(16)}`;
    if (kind === 'list_head') {
      if (next === 0n && second === 0n) return;
      if (next === self && second === self) {
        push({ offset: off, member: path, kind: 'list', weight: 2, text: `${path}: an empty list_head (next = prev = its own address)` });
        return;
      }
      if (next === LIST_POISON1 && second === LIST_POISON2) {
        push({ offset: off, member: path, kind: 'list', weight: 2, text: `${path}: a deleted list entry (LIST_POISON1/2)` });
        return;
      }
      const nprev = this.readPtr(next + 8n);
      const pnext = this.readPtr(second);
      const back = (nprev === self ? 1 : 0) + (pnext === self ? 1 : 0);
      if (back > 0) {
        push({ offset: off, member: path, kind: 'list', weight: back === 2 ? 3 : 1, text: `${path}: linked (next->prev ${nprev === self ? '==' : '!='} &${path}, prev->next ${pnext === self ? '==' : '!='} &${path})` });
      } else {
        push({ offset: off, member: path, kind: 'bad', weight: -1.5, text: `${path}: next ${hx(next)} / prev ${hx(second)} do not link back` });
      }
      return;
    }
    // hlist_node: next, pprev (pprev points at the previous node's next, or the head's first)
    if (next === 0n && second === 0n) return;
    if (next === self) {
      push({ offset: off, member: path, kind: 'bad', weight: -1.5, text: `${path}: next points at itself (an hlist_node never does; a list_head would)` });
      return;
    }
    const atPprev = second ? this.readPtr(second) : null;
    if (atPprev === self) {
      push({ offset: off, member: path, kind: 'list', weight: 2.5, text: `${path}: hashed (*pprev == &${path})` });
    } else if (next === LIST_POISON1 && second === LIST_POISON2) {
      push({ offset: off, member: path, kind: 'list', weight: 1.5, text: `${path}: a deleted hlist entry (LIST_POISON1/2)` });
    } else {
      push({ offset: off, member: path, kind: 'bad', weight: -1.5, text: `${path}: *pprev does not point back` });
    }
  }

  /** The struct member of `type` (a known object's type) starting exactly at `offset`, if any. */
  private memberType(type: string, offset: number): { path: string; type: string } | null {
    const btf = this.prog.btf;
    const id = btf.findType(type);
    if (id === null) return null;
    // descend while the member starts at the offset; report each level's struct type
    const m = btf.memberAt(id, offset);
    if (!m || m.delta !== 0 || m.padding) return null;
    // memberAt gives the deepest scalar; a pointer to a struct points at the outer member whose
    // type is that struct: walk the path prefixes from the longest
    const parts = m.path.split('.');
    for (let k = parts.length; k >= 1; k--) {
      const sub = parts.slice(0, k).join('.');
      const loc = btf.memberPath(id, sub);
      if (!loc || loc.offset !== offset) continue;
      const rt = btf.type(btf.resolve(loc.type));
      if (rt.kind === 'struct' || rt.kind === 'union') return { path: sub, type: `${rt.kind} ${rt.name}` };
    }
    return null;
  }

  private readPtr(a: bigint): bigint | null {
    if (!this.prog.arch.isKernelAddress(a)) return null;
    const b = this.prog.mem.tryRead(a, 8);
    return b ? u64(b, 0) : null;
  }

  private charArray(off: number, n: number, path: string, push: (e: Evidence) => void): void {
    if (!/(^|\.|_)(comm|name|[a-z]*name)(\[|$)/.test(path)) return;
    const end = Math.min(this.bytes.length, off + n);
    let len = 0;
    while (off + len < end && this.bytes[off + len] !== 0) len++;
    if (len === 0 || off + len === end) return;
    const s = this.bytes.subarray(off, off + len);
    if (len >= 2 && s.every((c) => c >= 0x20 && c < 0x7f)) {
      push({ offset: off, member: path, kind: 'string', weight: 1, text: `${path} = "${new TextDecoder('latin1').decode(s)}" (a printable name)` });
    }
  }
}

/** Does a function's name share a word with the member's name? (ops->release = foo_release) */
function nameFit(member: string, fn: string): boolean {
  const last = member.split('.').pop()!.replace(/\[\d+\]$/, '');
  const words = last.split('_').filter((w) => w.length >= 3);
  const f = fn.toLowerCase();
  return words.some((w) => f.includes(w.toLowerCase()));
}

/** Text report of a ranking, evidence lines under each candidate. */
export function formatOverlays(address: bigint, size: number, cands: OverlayCandidate[], evidenceLines = 6): string {
  const lines = [`overlay of ${size}-byte object at ${address.toString(16)}: ${cands.length} candidates`];
  cands.forEach((c, i) => {
    const src = c.parts.map((p) => (p.source === 'vmlinux' ? '' : p.unknown ? '' : ` [${p.source}]`)).join('');
    lines.push(`${String(i + 1).padStart(3)}. ${c.name}${src}  score ${c.score}  (${c.parts.map((p) => `+0x${p.offset.toString(16)}: ${p.size}`).join(', ')})`);
    for (const e of c.evidence.slice(0, evidenceLines)) {
      lines.push(`       ${e.weight >= 0 ? '+' : '-'}${Math.abs(e.weight).toFixed(1).padStart(3)}  +0x${e.offset.toString(16).padEnd(4)} ${e.text}`);
    }
    if (c.evidence.length > evidenceLines) lines.push(`       ... ${c.evidence.length - evidenceLines} more`);
  });
  return lines.join('\n') + '\n';
}

/**
 * Which member of an overlay layout covers `offset` (bytes from the object start): "request.tag",
 * "scsi_cmnd.sense_buffer", "PDU (driver command) +0x1b8", or past the end of the layout.
 * `layout` is a candidate's parts, or a type name / "A + B" composite name.
 */
export function memberInLayout(prog: Program, layout: OverlayPart[] | string, offset: number): { path: string; part?: OverlayPart; delta: number } {
  const parts = typeof layout === 'string' ? partsFromName(prog, layout) : layout;
  for (const p of parts) {
    if (offset < p.offset || offset >= p.offset + p.size) continue;
    const rel = offset - p.offset;
    const short = p.type.replace(/^(struct|union) /, '');
    if (p.unknown) return { path: `${p.type} +0x${rel.toString(16)}`, part: p, delta: rel };
    const btf = p.source === 'vmlinux' ? prog.btf : (moduleBtf(prog, p.source) ?? prog.btf);
    const id = btf.findType(p.type);
    const m = id === null ? null : btf.memberAt(id, rel);
    if (!m) return { path: `${short} +0x${rel.toString(16)} (padding)`, part: p, delta: rel };
    return { path: `${short}.${m.path}${m.delta ? `+0x${m.delta.toString(16)}` : ''}${m.padding ? ' (padding)' : ''}`, part: p, delta: m.delta };
  }
  const end = parts.reduce((e, p) => Math.max(e, p.offset + p.size), 0);
  return { path: `+0x${offset.toString(16)}: past the end of ${parts.map((p) => p.type).join(' + ')} (+0x${end.toString(16)})`, delta: offset - end };
}

/** "struct request + struct scsi_cmnd" -> parts laid out one after the other (8-byte aligned). */
export function partsFromName(prog: Program, name: string): OverlayPart[] {
  const out: OverlayPart[] = [];
  let off = 0;
  for (const raw of name.split('+').map((s) => s.trim())) {
    const t = /^(struct|union) /.test(raw) ? raw : `struct ${raw}`;
    let source = 'vmlinux';
    let id = prog.btf.findType(t);
    let size = id === null ? 0 : prog.btf.sizeof(id);
    if (id === null) {
      for (const m of listModules(prog)) {
        const b = moduleBtf(prog, m.name);
        const mid = b?.findType(t) ?? null;
        if (b && mid !== null) {
          id = mid;
          source = m.name;
          size = b.sizeof(mid);
          break;
        }
      }
    }
    if (id === null) {
      out.push({ type: raw, source: 'unknown', offset: off, size: Number.MAX_SAFE_INTEGER, unknown: true });
      break;
    }
    out.push({ type: t, source, offset: off, size });
    off += Math.ceil(size / 8) * 8;
  }
  return out;
}
