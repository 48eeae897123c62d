/**
 * The slab map's data: caches from `kmem -s --json` sized by memory; slabs and object states from
 * the map's line (slabMapLine: `kmem -S --full <cache> --states`), whose JSON the engine gives as
 * a SlabGrid (typed arrays and a letter per object: a cache of a million objects crosses to the
 * page in one copy); corrupt objects from `slabcheck` findings. Pure, unit-tested.
 */

import type { KmemSRow, SlabFinding, SlabGrid } from '../../engine';

/** A row of `kmem -s --json` (the engine's type); ssize is bytes per slab. Tests may omit `cache`. */
export type CacheRow = Omit<KmemSRow, 'cache'> & { cache?: string };

/** Memory a cache holds: its slabs times the slab size (falls back to objects * objsize). */
export function cacheBytes(c: CacheRow): number {
  const bySlabs = c.slabs * c.ssize;
  return bySlabs > 0 ? bySlabs : c.total * c.objsize;
}

export type ObjState = 'allocated' | 'free' | 'cpu-free' | 'corrupt';

/** A slabcheck finding (the engine's type, workers/analysis/slabcheck.ts). */
export type Finding = SlabFinding;

/** Objects slabcheck named: row -> their indices */
export type CorruptCells = Map<number, Set<number>>;

const LETTER: Record<string, ObjState> = { a: 'allocated', f: 'free', c: 'cpu-free' };

/** Object k of row i: its state (corrupt when slabcheck named it) */
export function objState(g: SlabGrid, i: number, k: number, corrupt?: CorruptCells): ObjState {
  return corrupt?.get(i)?.has(k) ? 'corrupt' : (LETTER[g.states[g.start[i] + k]] ?? 'allocated');
}

/** Object k of row i: its address */
export function objAddr(g: SlabGrid, i: number, k: number): string {
  return '0x' + (g.first[i] + BigInt(k * g.stride)).toString(16);
}

/** Row i's label: its memory and section */
export function rowLabel(g: SlabGrid, i: number): string {
  return `${g.memory[i].toString(16)} ${g.sections[g.section[i]]}`;
}

/** The most objects in a row */
export function maxObjects(g: SlabGrid): number {
  let m = 1;
  for (let i = 0; i < g.rows; i++) if (g.count[i] > m) m = g.count[i];
  return m;
}

/** Notes of objects by "row:index" */
export function objNotes(g: SlabGrid): Map<string, string> {
  return new Map(g.notes.map(([i, k, n]) => [`${i}:${k}`, n]));
}

/**
 * The row and index of the object whose slot (red_left_pad before the object, then the stride)
 * holds an address: a binary search over the rows in address order; null outside every slab.
 */
export function locate(g: SlabGrid, addr: string): { i: number; k: number } | null {
  let a: bigint;
  try {
    a = BigInt(addr.startsWith('0x') ? addr : '0x' + addr);
  } catch {
    return null;
  }
  const pad = BigInt(g.info.red_left_pad);
  let lo = 0;
  let hi = g.rows - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (g.first[g.byAddress[mid]] - pad <= a) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return null;
  const i = g.byAddress[best];
  const k = Number((a - (g.first[i] - pad)) / BigInt(g.stride));
  return k < g.count[i] ? { i, k } : null;
}

/** The objects that hold addresses slabcheck named (corruptObjects) */
export function corruptCells(g: SlabGrid, addrs: Set<string>): CorruptCells {
  const out: CorruptCells = new Map();
  for (const a of addrs) {
    const at = locate(g, a);
    if (!at) continue;
    let s = out.get(at.i);
    if (!s) out.set(at.i, (s = new Set()));
    s.add(at.k);
  }
  return out;
}

/** Objects named by findings (the object, else the address), for the 'corrupt' colour. */
export function corruptObjects(findings: readonly { object?: string; address?: string }[]): Set<string> {
  const s = new Set<string>();
  for (const f of findings) {
    if (f.object) s.add(f.object);
    else if (f.address) s.add(f.address);
  }
  return s;
}

/** Cell size for `n` objects per row in `width` px: 3..14 px, 1 px gap when there is room. */
export function cellSize(n: number, width: number): { w: number; gap: number } {
  const per = Math.floor(width / Math.max(1, n));
  const w = Math.max(3, Math.min(14, per));
  return { w, gap: w >= 6 ? 1 : 0 };
}
