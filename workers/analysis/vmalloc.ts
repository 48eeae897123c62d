/**
 * vmalloc areas (mm/vmalloc.c): every vmap_area, on the global vmap_area_list (up to 6.8) or on
 * each vmap_node's busy list (6.9+), and the one holding an address.
 */
import { u32, u64 } from '../bytes';
import type { Program } from '../kernel/program';
import { walkList } from '../kernel/list';

export interface VmapArea {
  va: bigint;
  start: bigint;
  end: bigint;
  vm: bigint;
}

/** Every vmap_area: the global vmap_area_list (up to 6.8) or each vmap_node's busy list (6.9+). */
export function vmapAreas(prog: Program): VmapArea[] {
  const c = prog.cache.get('vmalloc.areas') as VmapArea[] | undefined;
  if (c) return c;
  const out: VmapArea[] = [];
  prog.cache.set('vmalloc.areas', out);
  const vaId = prog.btf.findType('vmap_area', 'struct');
  if (vaId === null) return out;
  const listOff = prog.offsetof(vaId, 'list');
  const startOff = prog.offsetof(vaId, 'va_start');
  const endOff = prog.offsetof(vaId, 'va_end');
  const vmLoc = prog.btf.memberPath(vaId, 'vm');
  const heads: bigint[] = [];
  const g = prog.symbolAddress('vmap_area_list');
  if (g !== undefined) heads.push(g);
  else {
    const nodes = prog.symbolAddress('vmap_nodes');
    const nrA = prog.symbolAddress('nr_vmap_nodes');
    const vn = prog.btf.findType('vmap_node', 'struct');
    if (nodes !== undefined && vn !== null) {
      let nr = 1;
      if (nrA !== undefined) {
        const b = prog.mem.tryRead(nrA, 4);
        if (b) nr = Math.min(Math.max(1, u32(b, 0)), 4096);
      }
      const base = prog.mem.tryRead(nodes, 8);
      const arr = base ? u64(base, 0) : 0n;
      const busyHead = prog.btf.memberPath(vn, 'busy.head');
      if (arr && busyHead) for (let i = 0; i < nr; i++) heads.push(arr + BigInt(i * prog.sizeof(vn) + busyHead.offset));
    }
  }
  for (const head of heads) {
    const walk = walkList(prog, head, { nextOffset: listOff, headIsAnchor: true, limit: 1_000_000 });
    for (const va of walk.entries) {
      const b = prog.mem.tryRead(va, Math.max(endOff, listOff, vmLoc?.offset ?? 0) + 8);
      if (!b) break;
      out.push({ va, start: u64(b, startOff), end: u64(b, endOff), vm: vmLoc ? u64(b, vmLoc.offset) : 0n });
    }
  }
  out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return out;
}

/** The vmap area holding addr, by binary search over the sorted areas. */
export function findVmapArea(prog: Program, addr: bigint): VmapArea | null {
  const areas = vmapAreas(prog);
  let lo = 0;
  let hi = areas.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const a = areas[mid];
    if (addr < a.start) hi = mid - 1;
    else if (addr >= a.end) lo = mid + 1;
    else return a;
  }
  return null;
}

/** The area's vm_struct caller (who vmalloc'ed it), or null. */
export function vmCaller(prog: Program, a: VmapArea): bigint | null {
  if (!a.vm) return null;
  const vm = prog.findType('vm_struct');
  if (vm === null) return null;
  const b = prog.mem.tryRead(a.vm + BigInt(prog.offsetof(vm, 'caller')), 8);
  return b && u64(b, 0) ? u64(b, 0) : null;
}
