import { DumpError } from '../errors';
import { registerCommand, parseFlags, CommandError } from './registry';
import { evalAddress } from './expr';
import { walkList, describeStop } from '../kernel/list';
import { runCommand } from './registry';

/**
 * crash's `list`: `list [-o offset|struct.member] [-s struct[.member,...]] [-h|-H] start`, and
 * `list struct.member start` as a shorthand for -o.
 * - plain: start is an entry; its next pointer sits at the offset and points at the next entry
 *   itself (b_this_page, ->next chains).
 * - -h: start is an entry whose member at the offset is an embedded list_head; next pointers point
 *   at the next entry's list_head (include/linux/list.h), entries are pointer - offset.
 * - -H: start is a list_head anchor (LIST_HEAD), not an entry; embedded entries as with -h.
 * Printed addresses are the entries (containing objects). Bounded and cycle-checked.
 */
/** `list --json`: the entries (hex), how the walk stopped (kernel/list.ts's stop, addresses as hex) and why, when it was not the end. */
export interface ListJson {
  entries: string[];
  stop: { kind: string; [detail: string]: string | number };
  message: string | null;
}

registerCommand({
  name: 'list',
  summary: 'walk a linked list (bounded, cycle-checked)',
  usage: 'list [-o offset|struct.member] [-s struct[.member,...]] [-h|-H] [-c count] <start>',
  run(args, ctx) {
    const { prog } = ctx;
    const { flags, values, rest } = parseFlags(args, { bool: ['-H', '-h', '-x', '-d'], value: ['-o', '-s', '-c'] });
    // crash also takes the member as a bare first argument: list buffer_head.b_this_page ADDR
    if (rest.length === 2 && !values.has('-o') && /^(struct\s+)?[A-Za-z_]\w*\.[\w.[\]]+$/.test(rest[0])) values.set('-o', rest.shift()!);
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
    const walk = walkList(prog, start, { nextOffset, headIsAnchor: flags.has('-H'), embedded: flags.has('-h'), limit, checkPrev: flags.has('-h') || flags.has('-H') });
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
        stop: { kind: walk.stop.kind, ...Object.fromEntries(Object.entries(walk.stop).filter(([k]) => k !== 'kind').map(([k, v]) => [k, typeof v === 'bigint' ? '0x' + v.toString(16) : v])) },
        message: why,
      } satisfies ListJson,
    };
  },
});
