import { registerCommand, parseFlags, CommandError } from './registry';
import { evalAddress } from './expr';
import { rankOverlays, formatOverlays, sizeClassWindow, readableOrMissing, type PointerInfo, type OverlayCandidate } from '../analysis/overlay';
import type { Program } from '../kernel/program';
import { slabObjectInfo } from '../analysis/slab';
import { cacheObjectType } from './whatis';

/** The slab object holding an address: start, size, cache and the cache's own type if dedicated. */
function locate(prog: Program, addr: bigint): { start: bigint; size: number; cache: string; type?: string } | null {
  const so = slabObjectInfo(prog, addr);
  if (!so) return null;
  const tid = cacheObjectType(prog, so.cache);
  return { start: so.object, size: so.cache.objectSize, cache: so.cache.name, type: tid === null ? undefined : prog.btf.typeName(tid) };
}

/** What a pointer points at: a slab object (with its cache's type when dedicated) or a symbol. */
export function classifyPointer(prog: Program, v: bigint): PointerInfo | null {
  const so = slabObjectInfo(prog, v);
  if (so) {
    let tid = cacheObjectType(prog, so.cache);
    if (tid === null && !/^(dma-)?kmalloc/.test(so.cache.name)) {
      // a cache named after its struct whose size exceeds the object by a variable tail
      // (task_struct: the FPU state is sized at boot)
      const t = prog.btf.findType(so.cache.name, 'struct');
      if (t !== null && prog.btf.sizeof(t) <= so.cache.objectSize * 1.25) tid = t;
    }
    const type = tid === null ? undefined : prog.btf.typeName(tid);
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
}

registerCommand({
  name: 'overlay',
  summary: 'rank the struct types that fit an untyped object, with the evidence for each',
  usage: 'overlay [-n count] [-x type[,type]] [-v] <addr> [size]',
  run(args, ctx) {
    const { prog } = ctx;
    const { flags, values, rest } = parseFlags(args, { bool: ['-v'], value: ['-n', '-x'] });
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
    const cands = rankOverlays(prog, start, {
      size,
      window: rest[1] ? undefined : window,
      composites: rest[1] ? true : generic,
      exclude,
      limit,
      cancel: ctx.cancel,
      classify: (v) => classifyPointer(prog, v),
    });
    const head = cache ? `${cache} object ${start.toString(16)} (${size} bytes)${start !== addr ? `, +0x${(addr - start).toString(16)} asked` : ''}\n` : '';
    return {
      text: head + formatOverlays(start, size, cands, flags.has('-v') ? 100 : 6),
      json: {
        address: '0x' + start.toString(16),
        size,
        cache,
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

function kmallocSize(cache: string): number | null {
  const m = /(\d+)(k?)$/.exec(cache);
  if (!m) return null;
  return Number(m[1]) * (m[2] ? 1024 : 1);
}
