/**
 * `kmem -z`, `kmem -V`, `kmem -f`, `kmem -p [address]`: crash's memory.c layouts (dump_zone_stats,
 * dump_vm_stat + dump_vm_event_state, dump_free_pages_zones_v2, dump_mem_map_SPARSEMEM) over
 * analysis/vmstat.ts (zones, counters), analysis/page_alloc.ts (buddy free lists) and
 * analysis/sparse.ts (the mem_map), page flags named by analysis/page.ts.
 */
import { listZones, vmCounters } from '../analysis/vmstat';
import { zoneFreeLists } from '../analysis/page_alloc';
import { presentSections, sectionLayout, forEachPage, flagNames, pagePfn, type MemMapPage } from '../analysis/sparse';
import { physToPage } from '../analysis/slab';
import { pageFlagsLayout, decodePageFlags, type PageFlagsLayout } from '../analysis/page';
import { pgdats } from '../analysis/meminfo';
import { evalAddress } from './expr';
import { checkCancel, type CommandContext, type CommandResult } from './registry';
import { MemoryError } from '../errors';
import { center } from './columns';

const hx = (v: bigint | number) => v.toString(16);


/** Counter lines right-aligned on the longest name ("%s%s: %ld" after space(maxlen - len)). */
function counterLines(rows: { name: string; value: number | bigint }[], maxlen: number): string[] {
  return rows.map((r) => `${r.name.padStart(maxlen)}: ${r.value}`);
}

export function kmemZ(ctx: CommandContext): CommandResult {
  const { zones, items, problems } = listZones(ctx.prog);
  const out: string[] = [];
  const maxlen = Math.max(0, ...items.map((n) => n.length));
  for (const z of zones) {
    out.push(`NODE: ${z.node}  ZONE: ${z.index}  ADDR: ${hx(z.address)}  NAME: "${z.name}"`);
    if (!z.spanned) {
      out.push('  [unpopulated]', '');
      continue;
    }
    const wm = z.watermarks ?? [0, 0, 0];
    out.push(`  SIZE: ${z.spanned}${z.present < z.spanned ? `  PRESENT: ${z.present}` : ''}  MIN/LOW/HIGH: ${wm[0]}/${wm[1]}/${wm[2]}`);
    out.push('  VM_STAT:');
    out.push(...counterLines(items.map((name, i) => ({ name, value: z.vmStat[i] })), maxlen));
    out.push('', '');
  }
  for (const p of problems) out.push(`kmem: ${p}`);
  return {
    text: out.join('\n') + '\n',
    json: {
      zones: zones.map((z) => ({
        node: z.node,
        zone: z.index,
        address: '0x' + hx(z.address),
        name: z.name,
        spanned: z.spanned,
        present: z.present,
        start_pfn: z.startPfn,
        watermarks: z.watermarks ? { min: z.watermarks[0], low: z.watermarks[1], high: z.watermarks[2] } : null,
        vm_stat: Object.fromEntries(items.map((n, i) => [n, z.vmStat[i]])),
      })),
      problems,
    },
    problems: problems.map((p) => `kmem: ${p}`),
  };
}

export function kmemBigV(ctx: CommandContext): CommandResult {
  const c = vmCounters(ctx.prog);
  const out: string[] = [];
  if (c.zone.length) {
    const maxlen = Math.max(...[...c.zone, ...c.node].map((r) => r.name.length));
    out.push('  VM_ZONE_STAT:');
    out.push(...counterLines(c.zone, maxlen));
    if (c.node.length) out.push('', '  VM_NODE_STAT:', ...counterLines(c.node, maxlen));
  }
  // crash 9.0.2 prints the numa counters only from vm_numa_stat (4.14-5.13); vm_numa_event (5.14+)
  // is in the JSON
  if (c.numaSource === 'vm_numa_stat' && c.numa.length) {
    out.push('', '  VM_NUMA_STAT:', ...counterLines(c.numa, Math.max(...[...c.zone, ...c.node, ...c.numa].map((r) => r.name.length))));
  }
  if (c.events.length) {
    const maxlen = Math.max(...c.events.map((r) => r.name.length));
    out.push('', '  VM_EVENT_STATES:', ...counterLines(c.events, maxlen));
  }
  for (const p of c.problems) out.push(`kmem: ${p}`);
  const obj = (rows: { name: string; value: number | bigint }[]) => Object.fromEntries(rows.map((r) => [r.name, typeof r.value === 'bigint' ? r.value.toString() : r.value]));
  return {
    text: out.join('\n') + '\n',
    json: { vm_zone_stat: obj(c.zone), vm_node_stat: obj(c.node), numa: c.numaSource ? { source: c.numaSource, counters: obj(c.numa) } : null, vm_event_states: obj(c.events), problems: c.problems },
    problems: c.problems.map((p) => `kmem: ${p}`),
  };
}

export function kmemF(ctx: CommandContext): CommandResult {
  const prog = ctx.prog;
  const { zones, problems } = listZones(prog);
  const nodes = pgdats(prog);
  const nodeStart = new Map<number, number>();
  nodes.forEach((n, i) => {
    try {
      nodeStart.set(i, prog.obj('struct pglist_data', n).member('node_start_pfn').num());
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`node ${i}: node_start_pfn unreadable`);
    }
  });
  const out: string[] = [];
  const json: unknown[] = [];
  let sum = 0;
  let found = 0;
  for (const z of zones) {
    checkCancel(ctx);
    if (z.index === 0 && nodes.length > 1) {
      if (z.node) out.push('', '-'.repeat(74));
      out.push(`${z.node ? '\n' : ''}NODE`, ` ${String(z.node).padStart(2)}`);
    }
    const free = z.vmStat[0] ?? 0;
    const memMap = z.spanned ? physToPage(prog, z.startPfn * prog.info.pageSize) : 0n;
    const mapnr = memMap ? z.startPfn - (nodeStart.get(z.node) ?? 0) : 0;
    const paddr = BigInt(z.startPfn) * BigInt(prog.info.pageSize);
    if (z.index > 0) out.push('');
    out.push(`ZONE  NAME        SIZE    FREE  ${center('MEM_MAP', 16)}  START_PADDR  START_MAPNR`);
    out.push(`${String(z.index).padStart(3)}   ${z.name.padEnd(9)} ${String(z.spanned).padStart(6)}  ${String(free).padStart(6)}  ${center(hx(memMap), 16)}  ${center(hx(paddr), 11, true)}  ${center(String(mapnr), 11, true)}`);
    sum += free;
    const zj: { node: number; zone: number; name: string; size: number; free: number; mem_map: string; start_paddr: string; start_mapnr: number; areas: unknown[] } = {
      node: z.node, zone: z.index, name: z.name, size: z.spanned, free, mem_map: '0x' + hx(memMap), start_paddr: '0x' + hx(paddr), start_mapnr: mapnr, areas: [],
    };
    json.push(zj);
    if (!free) continue;
    const fl = zoneFreeLists(prog, z.freeArea, z.spanned);
    out.push('AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES');
    for (const l of fl.lists) {
      const size = `${((1 << l.order) * prog.info.pageSize) / 1024}k`;
      out.push(`${String(l.order).padStart(3)}  ${size.padStart(7)}  ${center(hx(l.list), 16)}  ${String(l.blocks).padStart(6)} ${String(l.blocks << l.order).padStart(6)}`);
      found += l.blocks << l.order;
      zj.areas.push({ order: l.order, migratetype: l.migratetype, free_list: '0x' + hx(l.list), blocks: l.blocks, pages: l.blocks << l.order, ...(l.problem ? { problem: l.problem } : {}) });
    }
    for (const l of fl.lists) if (l.problem) problems.push(`zone ${z.name} order ${l.order}: ${l.problem}`);
    problems.push(...fl.problems);
  }
  out.push('', `nr_free_pages: ${sum}  ${sum === found ? '(verified)' : `(found ${found})`}`);
  for (const p of problems) out.push(`kmem: ${p}`);
  return { text: out.join('\n') + '\n', json: { zones: json, nr_free_pages: sum, found, verified: sum === found, problems }, problems: problems.map((p) => `kmem: ${p}`) };
}

// crash's MINSPACE is one blank; PHYSICAL is max(PADDR_PRLEN, 8) wide
const KMEM_P_HEADER = `${center('PAGE', 16)} PHYSICAL ${center('MAPPING', 16, true)} ${center('INDEX', 8, true)}CNT FLAGS`;

function pageLine(prog: CommandContext['prog'], p: MemMapPage): string {
  const flags = p.flags ? `${hx(p.flags)} ${flagNames(prog, p.flags).join(',')}`.trimEnd() : '0';
  if (p.unmapped) return `${hx(p.page).padEnd(16)} ${hx(p.phys).padStart(8)} ${center(' ', 16, true)} ${center(' ', 8, true)}    ${flags}`;
  return `${hx(p.page).padEnd(16)} ${hx(p.phys).padStart(8)} ${hx(p.mapping).padStart(16)} ${hx(p.index).padStart(8)} ${String(p.count).padStart(2)} ${flags}`;
}

/** The page->flags layout, checked against the first page of every populated zone. */
function flagsLayout(prog: CommandContext['prog']): PageFlagsLayout | null {
  const check: Array<{ flags: bigint; zone: number; node: number }> = [];
  for (const z of listZones(prog).zones) {
    if (!z.spanned) continue;
    forEachPage(prog, z.startPfn, z.startPfn + 1, (p) => {
      if (!p.unreadable && !p.unmapped) check.push({ flags: p.flags, zone: z.index, node: z.node });
    });
  }
  return pageFlagsLayout(prog, check);
}

function pageJson(prog: CommandContext['prog'], p: MemMapPage, L: PageFlagsLayout | null) {
  const where = L ? decodePageFlags(L, p.flags) : null;
  return {
    ...(where ? { zone: where.zone, ...(where.node !== null ? { node: where.node } : {}), ...(where.section !== null ? { section: where.section } : {}) } : {}),
    page: '0x' + hx(p.page),
    physical: '0x' + hx(p.phys),
    mapping: '0x' + hx(p.mapping),
    index: '0x' + hx(p.index),
    count: p.count,
    flags: '0x' + hx(p.flags),
    flag_names: flagNames(prog, p.flags),
    ...(p.unmapped ? { unmapped: true } : {}),
    ...(p.unreadable ? { unreadable: true } : {}),
  };
}

export function kmemP(ctx: CommandContext, addr?: string, wantJson = false): CommandResult {
  const prog = ctx.prog;
  const problems: string[] = [];
  const S = sectionLayout(prog);
  const pageSize = prog.info.pageSize;
  if (addr !== undefined) {
    const a = evalAddress(prog, addr);
    let pfn = pagePfn(prog, a);
    if (pfn === null) {
      try {
        pfn = Math.floor(prog.arch.vtop(a) / pageSize);
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        return { text: '', json: { pages: [], problems: [`${hx(a)}: ${e.message}`] }, problems: [`kmem: ${hx(a)}: ${e.message}`] };
      }
    }
    const present = new Set(presentSections(prog, problems));
    if (!present.has(Math.floor(pfn / S.pagesPerSection))) return { text: '', json: { pages: [], problems }, problems };
    let got: MemMapPage | null = null;
    forEachPage(prog, pfn, pfn + 1, (p) => {
      got = p;
    });
    const p = got as MemMapPage | null;
    if (!p) return { text: '', json: { pages: [], problems }, problems };
    const L = flagsLayout(prog);
    return { text: `${KMEM_P_HEADER}\n${pageLine(prog, p)}\n`, json: { flags_layout: L, pages: [pageJson(prog, p, L)], problems } };
  }
  const lines = [KMEM_P_HEADER];
  const json: ReturnType<typeof pageJson>[] = [];
  const L = wantJson ? flagsLayout(prog) : null;
  let unreadable = 0;
  const sections = presentSections(prog, problems);
  sections.forEach((nr, i) => {
    checkCancel(ctx);
    ctx.progress?.(i, sections.length, 'kmem -p');
    forEachPage(prog, nr * S.pagesPerSection, (nr + 1) * S.pagesPerSection, (p) => {
      if (p.unreadable || p.unmapped) unreadable++;
      lines.push(pageLine(prog, p));
      if (wantJson) json.push(pageJson(prog, p, L));
    });
  });
  ctx.progress?.(sections.length, sections.length, 'kmem -p');
  if (unreadable) problems.push(`${unreadable} struct pages are not in the dump (shown as zeros, as crash does)`);
  for (const p of problems) lines.push(`kmem: ${p}`);
  return { text: lines.join('\n') + '\n', json: { sections: sections.length, flags_layout: L, pages: json, problems }, problems: problems.map((p) => `kmem: ${p}`) };
}
