/**
 * vmalloc areas (mm/vmalloc.c): the busy vmap_areas, in address order, from the busy rb-tree
 * (vmap_area_root before 6.9; each vmap_nodes[i].busy.root since), as crash's `kmem -v` lists
 * them: areas that carry a vm_struct.
 */
import { cacheKey, type Program } from '../kernel/program';
import { DumpError, MemoryError } from '../errors';
import { rbWalk } from './rbtree';
import { containing } from '../sorted';

const VMALLOC_ALL_KEY = cacheKey<VmapArea[]>('vmalloc.all');

export interface VmapArea {
  area: bigint;
  vm: bigint;
  start: bigint;
  end: bigint;
}

/**
 * `all`: every busy area, also those without a vm_struct (vm_map_ram), as whatis needs them;
 * otherwise only the vm areas crash's kmem -v lists.
 */
export function vmapAreas(prog: Program, opts: { all?: boolean } = {}): { areas: VmapArea[]; problems: string[] } {
  const problems: string[] = [];
  const vaT = prog.type('struct vmap_area');
  const rbOff = BigInt(prog.offsetof(vaT, 'rb_node'));
  const roots: bigint[] = [];
  const nodesSym = prog.symbolAddress('vmap_nodes');
  if (nodesSym !== undefined && prog.findType('struct vmap_node') !== null) {
    const nr = prog.mem.u32(prog.symbolAddress('nr_vmap_nodes') ?? 0n);
    const base = prog.mem.u64(nodesSym);
    const size = BigInt(prog.sizeof('struct vmap_node'));
    const busyRoot = BigInt(prog.offsetof('struct vmap_node', 'busy.root'));
    for (let i = 0; i < Math.min(nr, 4096); i++) roots.push(base + size * BigInt(i) + busyRoot);
  } else {
    const r = prog.symbolAddress('vmap_area_root');
    if (r === undefined) throw new DumpError('neither vmap_nodes nor vmap_area_root: cannot find the vmalloc areas');
    roots.push(r);
  }
  // crash: with vmap_area.flags and purge_list, an area is a vm area when flags == VM_VM_AREA (4)
  const byFlags = prog.hasMember('struct vmap_area', 'flags') && prog.hasMember('struct vmap_area', 'purge_list');
  const areas: VmapArea[] = [];
  for (const root of roots) {
    const w = rbWalk(prog, root);
    problems.push(...w.problems);
    for (const n of w.nodes) {
      const a = n - rbOff;
      try {
        const o = prog.obj(vaT, a);
        const vm = o.member('vm').ptr();
        if (!opts.all && (byFlags ? o.member('flags').value() !== 4n : vm === 0n)) continue;
        areas.push({ area: a, vm, start: o.member('va_start').value(), end: o.member('va_end').value() });
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        problems.push(`vmap_area ${a.toString(16)}: ${e.message}`);
      }
    }
  }
  areas.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  return { areas, problems };
}

/** The busy vmap area holding addr (binary search over every busy area, read once), or null. */
export function findVmapArea(prog: Program, addr: bigint): VmapArea | null {
  let areas = prog.recall(VMALLOC_ALL_KEY);
  if (!areas) {
    try {
      areas = vmapAreas(prog, { all: true }).areas;
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      areas = [];
    }
    prog.remember(VMALLOC_ALL_KEY, areas);
  }
  return containing(areas, (a) => a.start, (a) => a.end, addr);
}

/** The area's vm_struct caller (who vmalloc'ed it), or null. */
export function vmCaller(prog: Program, a: VmapArea): bigint | null {
  if (!a.vm) return null;
  const vm = prog.findType('vm_struct');
  if (vm === null) return null;
  const b = prog.mem.tryRead(a.vm + BigInt(prog.offsetof(vm, 'caller')), 8);
  if (!b) return null;
  const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return v || null;
}
