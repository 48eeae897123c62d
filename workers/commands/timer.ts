/** `timer`: pending timers per CPU and timer base, crash's layout (kernel.c dump_timer_data_timer_bases). */
import { crashBaseCount, jiffies, timerBase } from '../analysis/timer';
import { symbolAt } from './sym';
import { checkCancel, registerCommand } from './registry';
import { center } from './columns';

registerCommand({
  name: 'timer',
  summary: 'pending timers of every CPU (timer wheel), soonest first',
  usage: 'timer',
  run(_args, ctx) {
    const prog = ctx.prog;
    const now = jiffies(prog);
    const flen = Math.max(now.toString().length, 'JIFFIES'.length);
    const lines = ['JIFFIES'.padEnd(flen), now.toString().padStart(flen), ''];
    const problems: string[] = [];
    const json: unknown[] = [];
    const nb = crashBaseCount(prog);
    const ncpu = prog.perCpuOffsets().length;
    for (let cpu = 0; cpu < ncpu; cpu++) {
      checkCancel(ctx);
      if (cpu) lines.push('');
      for (let b = 0; b < nb; b++) {
        const base = timerBase(prog, cpu, b, now, problems);
        lines.push(`TIMER_BASES[${cpu}][${b === 0 ? 'BASE_STD' : 'BASE_DEF'}]: ${base.address.toString(16)}`);
        let high = 0n;
        for (const t of base.timers) high = (t.tte < 0n ? -t.tte : t.tte) > high ? (t.tte < 0n ? -t.tte : t.tte) : high;
        const tlen = Math.max(high.toString().length + 1, 3);
        lines.push(`  ${'EXPIRES'.padEnd(flen)}     ${'TTE'.padEnd(tlen)}     TIMER_LIST     FUNCTION`);
        for (const t of base.timers) {
          const hit = symbolAt(prog, t.function);
          const sym = hit ? `${hit.sym.name}${hit.offset ? '+' + hit.offset : ''}` : t.function.toString(16);
          lines.push(`  ${t.expires.toString().padStart(flen)}  ${t.tte.toString().padStart(tlen)}  ${center(t.address.toString(16).padStart(16), 16)}  ${t.function.toString(16).padStart(16)}  <${sym}>`);
        }
        if (!base.timers.length) lines.push('  (none)');
        json.push({
          cpu, base: b, address: '0x' + base.address.toString(16),
          timers: base.timers.map((t) => ({ address: '0x' + t.address.toString(16), expires: Number(t.expires), tte: Number(t.tte), function: '0x' + t.function.toString(16), symbol: symbolAt(prog, t.function)?.sym.name ?? null })),
        });
      }
    }
    for (const p of problems) lines.push(`timer: ${p}`);
    return { text: lines.join('\n') + '\n', json: { jiffies: Number(now), bases: json, problems } };
  },
});
