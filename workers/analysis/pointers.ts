/**
 * What a kernel pointer points at, for the hex view's colours and the CLI: slab object (cache
 * name), kernel/module text or data symbol, other direct-map memory, other mapped kernel memory,
 * or unreadable; and the slab a page belongs to with its object stride and per-object state.
 * Both are remembered per program (bounded), as the hex view asks for every word of a page.
 */
import { DumpError, MemoryError } from '../errors';
import { cacheKey, type Program } from '../kernel/program';
import { findCache, readCache, slabObjects, slabOfAddress, type SlabCache } from './slab';

export type PointerKind = 'text' | 'data' | 'slab' | 'direct' | 'kernel' | 'bad';

export interface PointerClass {
  kind: PointerKind;
  /** "sym+0x1d [mod]" or the slab cache name */
  label?: string;
}

export interface SlabSpanInfo {
  cache: string;
  /** struct slab address */
  slab: bigint;
  /** start and end (exclusive) of the slab's memory */
  memory: bigint;
  end: bigint;
  /** stride of objects (s->size) and the object size (s->object_size) */
  size: number;
  objsize: number;
  redLeftPad: number;
  /** state per object index (slot i starts at memory + i * size) */
  states: ('allocated' | 'free' | 'cpu-free')[];
}

const expected = (e: unknown) => e instanceof MemoryError || e instanceof DumpError;

/** a per-program memo map, cleared when it grows past `max` entries */
function bounded<V>(prog: Program, key: string): Map<bigint, V> {
  return prog.memo(cacheKey<Map<bigint, V>>(key), () => new Map());
}

function inDirectMap(prog: Program, v: bigint): boolean {
  const po = prog.arch.pageOffset;
  return po !== null && v >= po && v < po + BigInt(prog.phys.maxPhys);
}

function cacheOf(prog: Program, address: bigint): SlabCache | null {
  try {
    return findCache(prog, address) ?? readCache(prog, address);
  } catch (e) {
    if (!expected(e)) throw e;
    return null;
  }
}

/** Classify a value that looks like a kernel address. */
export function classifyPointer(prog: Program, v: bigint): PointerClass {
  if (!prog.arch.isKernelAddress(v)) return { kind: 'bad' };
  const page = v & ~0xfffn;
  const pageKinds = bounded<string | null>(prog, 'pointers.pageKinds');
  const known = pageKinds.get(page);
  if (known !== undefined) {
    if (known !== null) return { kind: 'slab', label: known };
  } else {
    let cache: string | null = null;
    try {
      if (inDirectMap(prog, v)) {
        const sl = slabOfAddress(prog, v);
        if (sl) cache = cacheOf(prog, sl.cache)?.name ?? null;
      }
    } catch (e) {
      if (!expected(e)) throw e;
      cache = null;
    }
    if (pageKinds.size > 20000) pageKinds.clear();
    pageKinds.set(page, cache);
    if (cache !== null) return { kind: 'slab', label: cache };
  }
  try {
    const hit = prog.symbols.lookup(v);
    if (hit) {
      const label = `${hit.sym.name}${hit.offset ? `+0x${hit.offset.toString(16)}` : ''}${hit.sym.module ? ` [${hit.sym.module}]` : ''}`;
      return { kind: /^[tTwW]$/.test(hit.sym.type) ? 'text' : 'data', label };
    }
  } catch (e) {
    if (!expected(e)) throw e; // no symbols
  }
  if (!prog.mem.readable(v)) return { kind: 'bad' };
  if (inDirectMap(prog, v)) return { kind: 'direct' };
  return { kind: 'kernel' };
}

/** The slab holding direct-map address a (its memory, stride and object states), or null. */
export function slabSpanAt(prog: Program, a: bigint): SlabSpanInfo | null {
  if (!inDirectMap(prog, a)) return null;
  const sl = slabOfAddress(prog, a);
  if (!sl) return null;
  const spans = bounded<SlabSpanInfo | null>(prog, 'pointers.slabSpans');
  const hit = spans.get(sl.address);
  if (hit !== undefined) return hit;
  const c = cacheOf(prog, sl.cache);
  let span: SlabSpanInfo | null = null;
  if (c && c.size > 0) {
    let states: SlabSpanInfo['states'] = [];
    try {
      states = slabObjects(prog, c, sl, 'lookup').states;
    } catch (e) {
      if (!expected(e)) throw e;
      states = [];
    }
    const count = sl.objects || c.objects;
    span = {
      cache: c.name,
      slab: sl.address,
      memory: sl.memory,
      end: sl.memory + BigInt(prog.info.pageSize << c.order),
      size: c.size,
      objsize: c.objectSize,
      redLeftPad: c.redLeftPad,
      states: states.length ? states : new Array(count).fill('allocated'),
    };
  }
  if (spans.size > 4096) spans.clear();
  spans.set(sl.address, span);
  return span;
}
