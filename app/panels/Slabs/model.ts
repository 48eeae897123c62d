/**
 * The slab map's data: caches from `kmem -s --json` sized by memory, slabs and object states from
 * `kmem -S --full <cache> --json`, corrupt objects from `slabcheck` findings. Pure, unit-tested.
 */

import type { KmemCacheJson, KmemSRow, SlabFinding, SlabJson } from '../../engine';

/** A row of `kmem -s --json` (the engine's type); ssize is bytes per slab. Tests may omit `cache`. */
export type CacheRow = Omit<KmemSRow, 'cache'> & { cache?: string };

/** Memory a cache holds: its slabs times the slab size (falls back to objects * objsize). */
export function cacheBytes(c: CacheRow): number {
  const bySlabs = c.slabs * c.ssize;
  return bySlabs > 0 ? bySlabs : c.total * c.objsize;
}

export type ObjState = 'allocated' | 'free' | 'cpu-free' | 'corrupt';

export interface SlabRow {
  slab: string;
  memory: string;
  section: string;
  cpu?: number;
  node?: number;
  objects: { addr: string; state: ObjState; note?: string }[];
}

/** `kmem -S <cache> --json`: the engine's type (workers/commands/kmem.ts). */
export type KmemSJson = KmemCacheJson;

/** A slabcheck finding (the engine's type, workers/analysis/slabcheck.ts). */
export type Finding = SlabFinding;

/** Every slab of a cache in a stable order: CPU slabs, CPU partial, node partial, full. */
export function slabRows(j: KmemSJson, corrupt: Set<string> = new Set()): SlabRow[] {
  const out: SlabRow[] = [];
  const seen = new Set<string>();
  const add = (s: SlabJson | null | undefined, section: string) => {
    if (!s || seen.has(s.slab)) return;
    seen.add(s.slab);
    out.push({
      slab: s.slab,
      memory: s.memory,
      section,
      cpu: s.cpu,
      node: undefined,
      objects: (s.objects ?? []).map((o) => ({
        addr: o.addr,
        state: corrupt.has(o.addr) || (o.slot !== undefined && corrupt.has(o.slot)) ? 'corrupt' : (o.state as ObjState),
        note: o.note,
      })),
    });
  };
  for (const c of j.cpus ?? []) add(c.slab, `cpu ${c.cpu}`);
  for (const c of j.cpus ?? []) for (const s of c.partial ?? []) add(s, `cpu ${c.cpu} partial`);
  for (const n of j.nodes ?? []) for (const s of n.partial ?? []) add(s, `node ${n.node} partial`);
  for (const n of j.nodes ?? []) for (const s of n.full ?? []) add(s, `node ${n.node} full`);
  for (const s of j.untracked ?? []) add(s, 'full');
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
