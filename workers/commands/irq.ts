/** `irq [-u]`: every interrupt's descriptor and actions, crash's layout (kernel.c irq_desc_format_v2). */
import { irqList } from '../analysis/irq';
import { parseFlags, registerCommand } from './registry';
import { center } from './columns';

registerCommand({
  name: 'irq',
  summary: 'interrupts: descriptor, actions and their names (-u: only those in use)',
  usage: 'irq [-u]',
  run(args, ctx) {
    const { flags } = parseFlags(args, { bool: ['-u'] });
    const { irqs, problems } = irqList(ctx.prog);
    const lines = [` IRQ  ${center('IRQ_DESC/_DATA', 16)}  ${center('IRQACTION', 16)}  NAME`];
    const shown = flags.has('-u') ? irqs.filter((q) => q.actions.length) : irqs;
    for (const q of shown) {
      const n = String(q.irq);
      const left = Math.ceil(Math.max(0, 4 - n.length) / 2); // crash's mkstring(4, CENTER|RJUST)
      let l = `${(' '.repeat(left) + n).padEnd(4)}  ${q.desc ? q.desc.toString(16).padStart(16, '0') : center('(unused)', 16)}  `;
      if (!q.actions.length) l += `${center('(unused)', 16)}  `;
      q.actions.forEach((a, i) => {
        if (i) l += '\n' + ' '.repeat(24);
        l += `${a.action.toString(16).padStart(16, '0')}  "${a.name}"`;
      });
      lines.push(l);
    }
    for (const p of problems) lines.push(`irq: ${p}`);
    return {
      text: lines.join('\n') + '\n',
      json: { irqs: shown.map((q) => ({ irq: q.irq, desc: q.desc ? '0x' + q.desc.toString(16) : null, actions: q.actions.map((a) => ({ action: '0x' + a.action.toString(16), name: a.name })) })), problems },
    };
  },
});
