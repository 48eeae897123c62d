import { DumpError } from '../errors';
import { registerCommand, parseFlags, CommandError } from './registry';
import { evalAddress } from './expr';
import { walkList, describeStop } from '../analysis/list';
import { runCommand } from './registry';

/**
 * crash's `list`: `list [-o offset|struct.member] [-s struct[.member,...]] [-H] start`.
 * The start is an entry whose next pointer sits at -o (default 0); with -H the start is an anchor
 * list_head that is not an entry itself. Printed addresses are the entries (containing objects).
 */
registerCommand({
  name: 'list',
  summary: 'walk a linked list (bounded, cycle-checked)',
  usage: 'list [-o offset|struct.member] [-s struct[.member,...]] [-H] [-c count] <start>',
  run(args, ctx) {
    const { prog } = ctx;
    const { flags, values, rest } = parseFlags(args, { bool: ['-H', '-x', '-d'], value: ['-o', '-s', '-c'] });
    if (rest.length !== 1) throw new CommandError('list: one start address is needed');
    let nextOffset = 0;
    const o = values.get('-o');
    if (o !== undefined) {
      const m = /^(?:struct\s+)?([A-Za-z_]\w*)\.([\w.[\]]+)$/.exec(o);
      if (m) nextOffset = prog.offsetof(m[1], m[2]);
      else if (/^-?(0x[0-9a-f]+|\d+)$/i.test(o)) nextOffset = Number(BigInt(o));
      else throw new CommandError(`list: -o ${o}: expected an offset or struct.member`);
    }
    const limit = values.has('-c') ? Number(values.get('-c')) : undefined;
    const start = evalAddress(prog, rest[0]);
    const walk = walkList(prog, start, { nextOffset, headIsAnchor: flags.has('-H'), limit, checkPrev: false });
    const lines: string[] = [];
    const s = values.get('-s');
    for (const e of walk.entries) {
      lines.push(e.toString(16));
      if (s) {
        const radix = flags.has('-x') ? ' -x' : flags.has('-d') ? ' -d' : '';
        try {
          lines.push(runCommand(ctx, `struct ${s}${radix} 0x${e.toString(16)}`).text.replace(/\n$/, ''));
        } catch (err) {
          if (err instanceof DumpError || err instanceof CommandError) lines.push(`  (${err.message})`);
          else throw err;
        }
      }
    }
    const why = describeStop(walk);
    if (why) lines.push(why);
    return {
      text: lines.join('\n') + '\n',
      json: {
        entries: walk.entries.map((e) => '0x' + e.toString(16)),
        stop: { ...walk.stop, ...Object.fromEntries(Object.entries(walk.stop).filter(([, v]) => typeof v === 'bigint').map(([k, v]) => [k, '0x' + (v as bigint).toString(16)])) },
        message: why,
      },
    };
  },
});
