/**
 * `mod` / `mod -t`: crash's module list (MODULE, NAME, BASE or TEXT_BASE, SIZE, OBJECT FILE) and
 * the modules that taint the kernel with their flags. Analysis: analysis/module.ts.
 */
import { moduleRows } from '../analysis/module';
import { CommandError, parseFlags, registerCommand } from './registry';
import { center } from './columns';

const hex = (v: bigint) => '0x' + v.toString(16);

registerCommand({
  name: 'mod',
  summary: 'loaded modules (base, size); -t: the modules that taint the kernel, with their flags',
  usage: 'mod [-t] [--json]',
  run(args, ctx) {
    const { flags, rest } = parseFlags(args, { bool: ['-t'] });
    if (rest.length) throw new CommandError(`mod: unsupported argument ${rest[0]} (mod, mod -t)`);
    const { rows, textBase, problems } = moduleRows(ctx.prog);
    const json = {
      modules: rows.map((r) => ({ name: r.name, module: hex(r.address), base: hex(r.base), size: r.size, taints: r.taintLetters, taint_mask: hex(r.taints) })),
      problems,
    };
    const tail = problems.map((p) => `mod: ${p}\n`).join('');
    if (flags.has('-t')) {
      const t = rows.filter((r) => r.taints !== 0n);
      if (!t.length) return { text: 'no tainted modules\n' + tail, json };
      const w = Math.max(4, ...t.map((r) => r.name.length));
      const text = `${'NAME'.padEnd(w)}  TAINTS\n` + t.map((r) => `${r.name.padEnd(w)}  ${r.taintLetters}\n`).join('');
      return { text: text + tail, json };
    }
    const w = Math.max(4, ...rows.map((r) => r.name.length));
    const head = `${center('MODULE', 16)}  ${'NAME'.padEnd(w)}  ${center(textBase ? 'TEXT_BASE' : 'BASE', 16)}  ${'SIZE'.padStart(5)}  OBJECT FILE\n`;
    const body = rows
      .map((r) => `${r.address.toString(16).padStart(16, '0')}  ${r.name.padEnd(w)}  ${r.base.toString(16).padStart(16, '0')}  ${String(r.size).padStart(5)}  (not loaded)  [CONFIG_KALLSYMS]\n`)
      .join('');
    return { text: head + body + tail, json };
  },
});
