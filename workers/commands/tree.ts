/**
 * `tree -t rbtree|maple|xarray|radix|idr [-o offset|struct.member] [-l] <root address|symbol|expression>`:
 * the entries of a kernel tree, one address per line, as crash's `tree` prints them (rbtree:
 * pre-order, `-l` in linear order; -o turns rb_node addresses into the containing structs; maple
 * entries in decimal, as crash 9 prints them).
 */
import { rbPreorder, rbWalk } from '../analysis/rbtree';
import { mapleEntries } from '../analysis/maple';
import { xaEntries } from '../analysis/xarray';
import { CommandError, parseFlags, registerCommand } from './registry';
import { evalAddress, parseNumber } from './expr';
import { CExpr } from './cexpr';
import { expectedError } from '../errors';

registerCommand({
  name: 'tree',
  disassembles: true,
  summary: 'the entries of an rbtree, maple tree, xarray / radix tree / idr, in crash\'s order',
  usage: 'tree -t rbtree|maple|xarray|radix|idr [-o offset|struct.member] [-l] <root>',
  run(args, ctx) {
    const prog = ctx.prog;
    const { flags, values, rest } = parseFlags(args, { bool: ['-l'], value: ['-t', '-o'] });
    const type = values.get('-t') ?? 'radix';
    if (!rest.length) throw new CommandError('usage: tree -t rbtree|maple|xarray|radix|idr [-o offset|struct.member] [-l] <root>');
    const text = rest.join(' ');
    let root: bigint;
    try {
      root = evalAddress(prog, text);
    } catch (e) {
      if (!(e instanceof CommandError)) expectedError(e);
      // a typed expression: &init_pid_ns.idr.idr_rt
      const ce = new CExpr(prog);
      const v = ce.evaluate(text);
      root = ce.number(v);
    }
    let off = 0n;
    const o = values.get('-o');
    if (o) {
      const n = parseNumber(o);
      if (n !== null) off = n;
      else {
        const [s, ...m] = o.split('.');
        off = BigInt(prog.offsetof(`struct ${s}`, m.join('.')));
      }
    }
    let list: bigint[];
    let problems: string[];
    let json: unknown;
    if (type === 'rbtree') {
      const w = flags.has('-l') ? rbWalk(prog, root) : rbPreorder(prog, root);
      list = w.nodes.map((n) => n - off);
      problems = w.problems;
      json = list.map((a) => '0x' + a.toString(16));
    } else if (type === 'maple') {
      const w = mapleEntries(prog, root);
      list = w.entries.map((e) => e.entry - off);
      problems = w.problems;
      json = w.entries.map((e) => ({ index: '0x' + e.index.toString(16), last: '0x' + e.last.toString(16), entry: '0x' + (e.entry - off).toString(16) }));
    } else if (type === 'xarray' || type === 'radix' || type === 'idr') {
      const w = xaEntries(prog, root);
      list = w.entries.map((e) => e.entry - off);
      problems = w.problems;
      json = w.entries.map((e) => ({ index: Number(e.index), entry: '0x' + (e.entry - off).toString(16) }));
    } else throw new CommandError(`tree: unknown type ${type} (rbtree, maple, xarray, radix, idr)`);
    // crash prints maple tree entries in decimal, the others in hex
    const lines = list.map((a) => (type === 'maple' ? a.toString(10) : a.toString(16)));
    for (const p of problems) lines.push(`tree: ${p}`);
    return { text: lines.length ? lines.join('\n') + '\n' : '', json: { type, root: '0x' + root.toString(16), entries: json, problems } };
  },
});
