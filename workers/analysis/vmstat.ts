/**
 * Memory zones and the VM counters (include/linux/mmzone.h, include/linux/vmstat.h, mm/vmstat.c):
 * every zone of every node with its size, watermarks and per-zone counters, the global
 * vm_zone_stat / vm_node_stat / vm_numa_event arrays and the per-CPU vm_event_states summed
 * over the CPUs. Counter names come from the kernel's own enums in BTF (zone_stat_item,
 * node_stat_item, numa_stat_item, vm_event_item), never from a fixed list; where two
 * enumerators share a value the later one names it (as gdb's enum listing read by crash does).
 */
import type { Program } from '../kernel/program';
import { MemoryError, expectedError } from '../errors';
import { pgdats } from './meminfo';

/** Enumerator names of enum `name` indexed by value, below the count enumerator `end`. */
export function enumNames(prog: Program, name: string, end: string): string[] | null {
  const id = prog.btf.findType('enum ' + name);
  if (id === null) return null;
  const t = prog.btf.type(id);
  if (t.kind !== 'enum' && t.kind !== 'enum64') return null;
  const n = t.values.find((v) => v.name === end)?.value;
  if (n === undefined || n > 4096n) return null;
  const out: string[] = new Array(Number(n)).fill('');
  for (const v of t.values) if (v.value >= 0n && v.value < n && v.name !== end) out[Number(v.value)] = v.name;
  return out;
}

export interface ZoneInfo {
  node: number;
  index: number;
  address: bigint;
  name: string;
  spanned: number;
  present: number;
  startPfn: number;
  /** [min, low, high] from zone->_watermark (or ->watermark) by WMARK_* */
  watermarks: [number, number, number] | null;
  /** zone->vm_stat[], one per zone_stat_item */
  vmStat: number[];
  /** zone->free_area[] address */
  freeArea: bigint;
}

export interface Zones {
  zones: ZoneInfo[];
  /** zone_stat_item names (index = item) */
  items: string[];
  problems: string[];
}

const i64 = (v: bigint) => Number(BigInt.asIntN(64, v));

/** Every zone of every online node (node_data[] or contig_page_data), in node then zone order. */
export function listZones(prog: Program): Zones {
  const problems: string[] = [];
  const items = enumNames(prog, 'zone_stat_item', 'NR_VM_ZONE_STAT_ITEMS') ?? [];
  const zoneT = prog.type('struct zone');
  const zsize = prog.sizeof(zoneT);
  const wm = prog.hasMember('struct zone', '_watermark') ? '_watermark' : 'watermark';
  const wmIdx = ['WMARK_MIN', 'WMARK_LOW', 'WMARK_HIGH'].map((n, i) => Number(prog.btf.enumerator(n)?.value ?? BigInt(i)));
  const zones: ZoneInfo[] = [];
  const nodes = pgdats(prog);
  nodes.forEach((pgdat, node) => {
    let nodeZones;
    try {
      nodeZones = prog.obj('struct pglist_data', pgdat).member('node_zones');
    } catch (e) {
      expectedError(e);
      problems.push(`node ${node}: pglist_data at ${pgdat.toString(16)} unreadable`);
      return;
    }
    const nz = Math.floor(nodeZones.size / zsize);
    for (let i = 0; i < nz; i++) {
      const z = nodeZones.index(i);
      try {
        let name = '(unknown)';
        try {
          name = prog.mem.cstring(z.member('name').ptr(), 64);
        } catch (e) {
          expectedError(e);
        }
        const spanned = z.member('spanned_pages').num();
        const present = z.member('present_pages').num();
        let watermarks: ZoneInfo['watermarks'] = null;
        if (prog.hasMember('struct zone', wm)) {
          const w = z.member(wm);
          watermarks = [w.index(wmIdx[0]).num(), w.index(wmIdx[1]).num(), w.index(wmIdx[2]).num()];
        }
        const vs = z.member('vm_stat');
        const vmStat = items.map((_, k) => i64(vs.index(k).member('counter').value()));
        zones.push({ node, index: i, address: z.address, name, spanned, present, startPfn: z.member('zone_start_pfn').num(), watermarks, vmStat, freeArea: z.member('free_area').address });
      } catch (e) {
        expectedError(e);
        problems.push(`node ${node} zone ${i} at ${z.address.toString(16)}: ${(e as Error).message}`);
      }
    }
  });
  return { zones, items, problems };
}


export interface VmCounters {
  zone: { name: string; value: number }[];
  node: { name: string; value: number }[];
  /** vm_numa_event[] (5.14+) or vm_numa_stat[] (4.14-5.13); empty when the kernel has neither */
  numa: { name: string; value: number }[];
  /** which array the numa counters came from */
  numaSource: 'vm_numa_event' | 'vm_numa_stat' | null;
  /** vm_event_states summed over every possible CPU */
  events: { name: string; value: bigint }[];
  problems: string[];
}

function globalArray(prog: Program, sym: string, names: string[] | null, problems: string[]): { name: string; value: number }[] {
  const a = prog.symbolAddress(sym);
  if (a === undefined || !names) return [];
  const out: { name: string; value: number }[] = [];
  for (let i = 0; i < names.length; i++) {
    try {
      out.push({ name: names[i], value: i64(prog.mem.u64(a + BigInt(i * 8))) });
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`${sym}[${i}] (${names[i]}) unreadable: ${e.message}`);
      return out;
    }
  }
  return out;
}

/** The global VM counters (crash's kmem -V, /proc/vmstat). */
export function vmCounters(prog: Program): VmCounters {
  const problems: string[] = [];
  const zone = globalArray(prog, 'vm_zone_stat', enumNames(prog, 'zone_stat_item', 'NR_VM_ZONE_STAT_ITEMS'), problems);
  const node = globalArray(prog, 'vm_node_stat', enumNames(prog, 'node_stat_item', 'NR_VM_NODE_STAT_ITEMS'), problems);
  let numa: VmCounters['numa'] = [];
  let numaSource: VmCounters['numaSource'] = null;
  if (prog.symbolAddress('vm_numa_event') !== undefined) {
    numa = globalArray(prog, 'vm_numa_event', enumNames(prog, 'numa_stat_item', 'NR_VM_NUMA_EVENT_ITEMS'), problems);
    numaSource = 'vm_numa_event';
  } else if (prog.symbolAddress('vm_numa_stat') !== undefined) {
    numa = globalArray(prog, 'vm_numa_stat', enumNames(prog, 'numa_stat_item', 'NR_VM_NUMA_STAT_ITEMS'), problems);
    numaSource = 'vm_numa_stat';
  }
  const events: VmCounters['events'] = [];
  const names = enumNames(prog, 'vm_event_item', 'NR_VM_EVENT_ITEMS');
  const base = prog.symbolAddress('vm_event_states');
  if (names && base !== undefined) {
    const sums = names.map(() => 0n);
    prog.perCpuOffsets().forEach((off, cpu) => {
      const a = BigInt.asUintN(64, base + off);
      const b = prog.mem.tryRead(a, names.length * 8);
      if (!b) {
        problems.push(`vm_event_states of cpu ${cpu} at ${a.toString(16)} unreadable: its events are not counted`);
        return;
      }
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < names.length; i++) sums[i] = BigInt.asUintN(64, sums[i] + dv.getBigUint64(i * 8, true));
    });
    names.forEach((n, i) => events.push({ name: n, value: sums[i] }));
  }
  return { zone, node, numa, numaSource, events, problems };
}
