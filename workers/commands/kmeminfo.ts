/** `kmem -v` and `kmem -i`: crash's memory.c layouts over analysis/vmalloc.ts and analysis/meminfo.ts. */
import { vmapAreas } from '../analysis/vmalloc';
import { memInfo } from '../analysis/meminfo';
import type { CommandContext, CommandResult } from './registry';
import { center } from './columns';

export function kmemV(ctx: CommandContext): CommandResult {
  const { areas, problems } = vmapAreas(ctx.prog);
  const lines: string[] = [];
  if (areas.length) lines.push(`${center('VMAP_AREA', 16)}  ${center('VM_STRUCT', 16)}  ${center('ADDRESS RANGE', 35)}     SIZE`);
  for (const a of areas) {
    const size = a.end - a.start;
    lines.push(`${center(a.area.toString(16), 16)}  ${center(a.vm.toString(16), 16)}  ${a.start.toString(16).padStart(16)} - ${a.end.toString(16).padEnd(16)}  ${size.toString().padStart(7)}`);
  }
  for (const p of problems) lines.push(`kmem: ${p}`);
  return {
    text: lines.join('\n') + '\n',
    json: { areas: areas.map((a) => ({ vmap_area: '0x' + a.area.toString(16), vm_struct: '0x' + a.vm.toString(16), start: '0x' + a.start.toString(16), end: '0x' + a.end.toString(16), size: Number(a.end - a.start) })), problems },
  };
}


/** crash's pages_to_size (tools.c): "0", "512 KB", "8.5 MB", "2 MB" (".0" dropped). */
export function pagesToSize(pages: number, pageSize = 4096): string {
  if (pages === 0) return '0';
  const total = pages * pageSize;
  let s: string;
  if (total >= 1024 ** 3) s = `${(total / 1024 ** 3).toFixed(1)} GB`;
  else if (total >= 1024 ** 2) s = `${(total / 1024 ** 2).toFixed(1)} MB`;
  else s = `${Math.floor(total / 1024)} KB`;
  return s.replace('.0 ', ' ');
}

export function kmemI(ctx: CommandContext): CommandResult {
  const m = memInfo(ctx.prog);
  const row = (name: string, pages: number, pct: string) => `${name.padStart(13)}  ${String(pages).padStart(7)}  ${pagesToSize(pages).padStart(11)}  ${pct}`;
  const pct = (n: number, of: number, what: string) => `${String(of ? Math.floor((n * 100) / of) : 0).padStart(3)}% of ${what}`;
  const dash = '       ----';
  const t = m.totalram;
  const lines = ['                 PAGES        TOTAL      PERCENTAGE'];
  lines.push(row('TOTAL MEM', t, dash).replace(/  +       ----$/, '         ----'));
  lines.push(row('FREE', m.free, pct(m.free, t, 'TOTAL MEM')));
  lines.push(row('USED', t - m.free, pct(t - m.free, t, 'TOTAL MEM')));
  lines.push(row('BUFFERS', m.buffers, pct(m.buffers, t, 'TOTAL MEM')));
  lines.push(row('CACHED', m.cached, pct(m.cached, t, 'TOTAL MEM')));
  lines.push(row('SLAB', m.slab, pct(m.slab, t, 'TOTAL MEM')));
  if (m.hugeTotal !== null) {
    lines.push('');
    lines.push(row('TOTAL HUGE', m.hugeTotal, '').trimEnd() + '         ----');
    lines.push(row('HUGE FREE', m.hugeFree, pct(m.hugeFree, m.hugeTotal, 'TOTAL HUGE')));
  }
  lines.push('');
  if (m.swapKnown) {
    lines.push(row('TOTAL SWAP', m.swapTotal, '').trimEnd() + '         ----');
    lines.push(row('SWAP USED', m.swapUsed, pct(m.swapUsed, m.swapTotal, 'TOTAL SWAP')));
    lines.push(row('SWAP FREE', m.swapTotal - m.swapUsed, pct(m.swapTotal - m.swapUsed, m.swapTotal, 'TOTAL SWAP')));
  }
  if (m.commitLimit !== null) {
    lines.push('');
    lines.push(row('COMMIT LIMIT', m.commitLimit, '').trimEnd() + '         ----');
    lines.push(m.commitLimit ? row('COMMITTED', m.committed, pct(m.committed, m.commitLimit, 'TOTAL LIMIT')) : row('COMMITTED', m.committed, '').trimEnd() + '         ----');
  }
  for (const p of m.problems) lines.push(`kmem: ${p}`);
  const { problems, ...rest } = m;
  return { text: lines.join('\n') + '\n', json: { ...rest, used: t - m.free, page_size: 4096, problems } };
}
