import { registerCommand, parseFlags, CommandError } from './registry';
import { evalAddress } from './expr';
import { rankOverlays, formatOverlays, sizeClassWindow, readableOrMissing, poisonRanges, readObject, type PointerInfo, type NeutralRange, type OverlayCandidate } from '../analysis/overlay';
import type { Program } from '../kernel/program';
import { slabObjectInfo, slabFlag, readTracks, type SlabCache } from '../analysis/slab';
import { findReferrers, ownedByReferrers, type ReferrerScan } from '../analysis/referrers';
import { cacheObjectType } from './whatis';

/** The slab object holding an address: start, size, cache and the cache's own type if dedicated. */
function locate(prog: Program, addr: bigint): { start: bigint; size: number; cache: string; type?: string; poison: boolean; state: string; tracks: string[] } | null {
  const so = slabObjectInfo(prog, addr);
  if (!so) return null;
  const tid = cacheObjectType(prog, so.cache);
  const poison = (so.cache.flags & slabFlag(prog, 'SLAB_POISON')) !== 0n;
  // slub_debug U: where this lifetime began and where the previous one ended (its owner's code)
  const tracks: string[] = [];
  for (const t of readTracks(prog, so.cache, so.object) ?? []) {
    if (!t.addr) continue;
    const hit = prog.symbols.lookup(t.addr);
    const where = hit ? `${hit.sym.name}+0x${hit.offset.toString(16)}${hit.sym.module ? ` [${hit.sym.module}]` : ''}` : `0x${t.addr.toString(16)}`;
    tracks.push(t.kind === 'alloc' ? `allocated (this lifetime) in ${where}, pid ${t.pid}` : `freed last (the previous owner) in ${where}, pid ${t.pid}`);
  }
  return { start: so.object, size: so.cache.objectSize, cache: so.cache.name, type: tid === null ? undefined : prog.btf.typeName(tid), poison, state: so.state, tracks };
}

/** The struct type a slab cache holds (dedicated caches, and caches named after a struct). */
export function cacheStructType(prog: Program, c: SlabCache): string | undefined {
  let tid = cacheObjectType(prog, c);
  if (tid === null && !/^(dma-)?kmalloc/.test(c.name)) {
    // a cache named after its struct whose size exceeds the object by a variable tail
    // (task_struct: the FPU state is sized at boot)
    const t = prog.btf.findType(c.name, 'struct');
    if (t !== null && prog.btf.sizeof(t) <= c.objectSize * 1.25) tid = t;
  }
  return tid === null ? undefined : prog.btf.typeName(tid);
}

/** What a pointer points at: a slab object (with its cache's type when dedicated) or a symbol. */
export function classifyPointer(prog: Program, v: bigint): PointerInfo | null {
  const so = slabObjectInfo(prog, v);
  if (so) {
    const type = cacheStructType(prog, so.cache);
    return { type, offset: so.offset, what: `${so.cache.name} object ${so.object.toString(16)}${so.offset ? `+0x${so.offset.toString(16)}` : ''} (${so.state})` };
  }
  const hit = prog.symbols.lookup(v);
  if (hit) return { what: `${hit.sym.name}+0x${hit.offset.toString(16)}`, symbol: hit.offset === 0 ? hit.sym.name.replace(/\.\d+$/, '') : undefined };
  return readableOrMissing(prog, v);
}

/** `overlay --json`: the object ranked against and the candidate layouts, best first. */
export interface OverlayJson {
  address: string;
  size: number;
  /** the slab cache of the object, when the address is in one */
  cache?: string;
  candidates: Array<Pick<OverlayCandidate, 'name' | 'score' | 'parts' | 'evidence'>>;
  /** who points into the object (absent with -R) */
  referrers?: OverlayReferrerJson[];
  referrers_truncated?: boolean;
  /** byte ranges left out of the scoring, and why */
  not_scored?: NeutralRange[];
  /** no candidate has evidence beyond its size */
  undecided?: boolean;
  /** slub_debug alloc/free tracks of the object, in words */
  tracks?: string[];
}

/** One word of the dump that points into the object, and what holds it. */
export interface OverlayReferrerJson {
  address: string;
  value: string;
  offset: number;
  kind: 'slab' | 'stack' | 'global' | 'memory';
  object?: string;
  cache?: string;
  state?: string;
  type?: string;
  member?: string;
  member_type?: string;
  pointee?: string;
  pid?: number;
  comm?: string;
  task?: string;
  symbol?: string;
  text: string;
}

registerCommand({
  name: 'overlay',
  summary: 'rank the struct types that fit an untyped object, with the evidence for each',
  usage: 'overlay [-n count] [-x type[,type]] [-v] [-R] <addr> [size]   (-R: do not search for referrers)',
  run(args, ctx) {
    const { prog } = ctx;
    const { flags, values, rest } = parseFlags(args, { bool: ['-v', '-R'], value: ['-n', '-x'] });
    if (rest.length < 1 || rest.length > 2) throw new CommandError('overlay: an address (and optionally a size) is needed');
    const addr = evalAddress(prog, rest[0]);
    let start = addr;
    let size: number;
    let cache: string | undefined;
    const loc = locate(prog, addr);
    if (rest[1]) {
      size = Number(evalAddress(prog, rest[1]));
      if (!(size > 0 && size <= 1 << 20)) throw new CommandError(`overlay: size ${rest[1]} out of range`);
    } else if (loc) {
      start = loc.start;
      size = loc.size;
      cache = loc.cache;
    } else {
      throw new CommandError('overlay: the address is not in a known slab object; give the object size: overlay <addr> <size>');
    }
    const exclude = new Set((values.get('-x') ?? '').split(',').filter(Boolean).map((t) => (/^(struct|union) /.test(t) ? t : `struct ${t}`)));
    const generic = !!cache && /^(dma-)?kmalloc-(rcl-|cg-|dma-)?\d/.test(cache);
    // a dedicated cache holds one type: it fits in the object, or exceeds it only by a
    // variable-size tail (task_struct's FPU state, kmem_cache's per-node array)
    const window: [number, number] = generic ? sizeClassWindow(kmallocSize(cache!) ?? size) : [Math.ceil(size / 2), size + Math.max(64, Math.floor(size / 4))];
    const limit = Number(values.get('-n') ?? 10);
    // who points into the object (all RAM in the dump, bounded, cancellable, with progress)
    let scan: ReferrerScan | null = null;
    if (!flags.has('-R')) {
      ctx.progress?.(0, 1, 'searching for pointers into the object');
      scan = findReferrers(prog, start, size, { cancel: ctx.cancel, progress: ctx.progress, cacheType: (c) => cacheStructType(prog, c) });
    }
    const neutral: NeutralRange[] = [];
    if (loc?.poison && loc.state === 'allocated' && start === loc.start) neutral.push(...poisonRanges(readObject(prog, start, size)));
    if (scan) neutral.push(...ownedByReferrers(prog, start, size, scan.referrers));
    const cands = rankOverlays(prog, start, {
      size,
      window: rest[1] ? undefined : window,
      composites: rest[1] ? true : generic,
      exclude,
      limit,
      cancel: ctx.cancel,
      classify: (v) => classifyPointer(prog, v),
      referrers: scan?.referrers,
      neutral,
    });
    let head = cache ? `${cache} object ${start.toString(16)} (${size} bytes)${start !== addr ? `, +0x${(addr - start).toString(16)} asked` : ''}\n` : '';
    if (loc && start === loc.start) for (const t of loc.tracks) head += `slub_debug track: ${t}\n`;
    if (scan) {
      head += scan.referrers.length ? `pointed to by ${scan.referrers.length}${scan.truncated ? '+' : ''}:\n` : 'no pointers into the object found in the dump\n';
      for (const r of scan.referrers.slice(0, flags.has('-v') ? 64 : 8)) head += `  ${r.address.toString(16)}: ${r.text}\n`;
      if (scan.referrers.length > 8 && !flags.has('-v')) head += `  ... ${scan.referrers.length - 8} more (-v)\n`;
    }
    // when no candidate has evidence beyond its size, the order among them means nothing: say so
    const undecided = cands.length > 0 && !cands[0].evidence.some((e) => e.weight > 0 && e.kind !== 'size' && e.member !== '');
    if (undecided) head += 'undecided: no layout has member or referrer evidence; the ranking below is by size alone\n';
    for (const n of mergeNeutral(neutral)) head += `not scored: +0x${n.offset.toString(16)}..+0x${(n.offset + n.size).toString(16)} ${n.why}\n`;
    return {
      text: head + formatOverlays(start, size, cands, flags.has('-v') ? 100 : 6),
      problems: scan?.problems,
      json: {
        address: '0x' + start.toString(16),
        size,
        cache,
        referrers: scan?.referrers.map((r) => ({
          address: '0x' + r.address.toString(16),
          value: '0x' + r.value.toString(16),
          offset: r.delta,
          kind: r.kind,
          ...(r.object !== undefined ? { object: '0x' + r.object.toString(16), cache: r.cache, state: r.state } : {}),
          ...(r.type ? { type: r.type, member: r.member, member_type: r.memberType, pointee: r.pointee } : {}),
          ...(r.task ? { pid: r.task.pid, comm: r.task.comm, task: '0x' + r.task.task.toString(16) } : {}),
          ...(r.symbol ? { symbol: r.symbol } : {}),
          text: r.text,
        })),
        referrers_truncated: scan?.truncated,
        not_scored: mergeNeutral(neutral),
        undecided,
        tracks: loc && start === loc.start ? loc.tracks : undefined,
        candidates: cands.map((c) => ({
          name: c.name,
          score: c.score,
          parts: c.parts,
          evidence: c.evidence,
        })),
      } satisfies OverlayJson,
    };
  },
});

/** Poison runs summarized as one line each kind (their word count), others as they are. */
function mergeNeutral(n: NeutralRange[]): NeutralRange[] {
  const poison = n.filter((x) => x.why.startsWith('the free poison'));
  const rest = n.filter((x) => !x.why.startsWith('the free poison'));
  if (!poison.length) return rest;
  const words = poison.reduce((s, x) => s + x.size / 8, 0);
  const first = poison[0].offset;
  const last = poison[poison.length - 1];
  return [{ offset: first, size: last.offset + last.size - first, why: `${words} word(s) in this span hold the free poison 0x6b (not written since allocation)` }, ...rest];
}

function kmallocSize(cache: string): number | null {
  const m = /(\d+)(k?)$/.exec(cache);
  if (!m) return null;
  return Number(m[1]) * (m[2] ? 1024 : 1);
}
