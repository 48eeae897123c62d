/** `kmem -v`: crash's memory.c layouts over analysis/vmalloc.ts. */
import { vmapAreas } from '../analysis/vmalloc';
import type { CommandContext, CommandResult } from './registry';

function center(s: string, w: number): string {
  const l = Math.max(0, Math.floor((w - s.length) / 2));
  return (' '.repeat(l) + s).padEnd(w);
}

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

