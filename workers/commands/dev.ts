/**
 * `dev`: crash's device listing (dev.c):
 *   dev        character majors (chrdevs[]: name, cdev, file_operations) and block majors
 *              (major_names[]: name, the gendisk of a block device of that major, its fops)
 *   dev -d     disks and their requests in flight (TOTAL READ WRITE), crash's dev -d; ram* and
 *              loop* disks are left out as crash does
 *   dev -D     the same, only disks with requests in flight
 * Analysis: analysis/char_dev.ts, analysis/genhd.ts. `--json`: {chrdevs, blkdevs} / {disks}.
 */
import { charDevices, blockDevices } from '../analysis/char_dev';
import { diskIo } from '../analysis/genhd';
import { registerCommand, parseFlags, CommandError, type CommandContext, type CommandResult } from './registry';
import type { Program } from '../kernel/program';
import { center } from './columns';

const hx = (v: bigint) => v.toString(16);


/** crash's value_to_symstr: the symbol (+offset) of an address, or '' */
function symstr(prog: Program, a: bigint): string {
  const h = prog.symbols.lookup(a);
  if (!h) return '';
  return h.offset ? `${h.sym.name}+${h.offset}` : h.sym.name;
}

function devLine(prog: Program, major: number, name: string, obj: bigint, fops: bigint): string {
  const head = ` ${String(major).padStart(3)}      ${name.padEnd(13)} `;
  if (!fops) return `${head} ${center('(none)', 16)}`;
  return `${head} ${hx(obj).padStart(16)}  ${symstr(prog, fops) || hx(fops)}`;
}

function devList(ctx: CommandContext): CommandResult {
  const prog = ctx.prog;
  const c = charDevices(prog);
  const b = blockDevices(prog);
  const lines = [`CHRDEV    NAME           ${center('CDEV', 16)}  ${'OPERATIONS'.padEnd(16)}`];
  for (const d of c.devs) lines.push(devLine(prog, d.major, d.name, d.cdev, d.fops));
  lines.push('', `BLKDEV    NAME           ${center('GENDISK', 16, true)}  ${'OPERATIONS'.padEnd(16)}`);
  for (const d of b.devs) lines.push(devLine(prog, d.major, d.name || '(unknown)', d.gendisk, d.fops));
  const problems = [...c.problems, ...b.problems];
  for (const p of problems) lines.push(`dev: ${p}`);
  return {
    text: lines.join('\n') + '\n',
    json: {
      chrdevs: c.devs.map((d) => ({ major: d.major, baseminor: d.baseminor, name: d.name, char_device_struct: '0x' + hx(d.cds), cdev: d.cdev ? '0x' + hx(d.cdev) : null, fops: d.fops ? '0x' + hx(d.fops) : null, fops_symbol: d.fops ? symstr(prog, d.fops) || null : null })),
      blkdevs: b.devs.map((d) => ({ major: d.major, name: d.name, gendisk: d.gendisk ? '0x' + hx(d.gendisk) : null, fops: d.fops ? '0x' + hx(d.fops) : null, fops_symbol: d.fops ? symstr(prog, d.fops) || null : null })),
      problems,
    },
    problems: problems.map((p) => `dev: ${p}`),
  };
}

function devDisks(ctx: CommandContext, nonzero: boolean): CommandResult {
  const { disks, problems } = diskIo(ctx.prog);
  // no request_queue.in_flight (blk-mq only kernels): crash shows no DRV column
  const lines = [`MAJOR ${'GENDISK'.padEnd(18)} NAME       ${'REQUEST_QUEUE'.padEnd(18)} ${'TOTAL'.padStart(5)} ${'READ'.padStart(5)} ${'WRITE'.padStart(5)} `];
  const shown = disks.filter((d) => !/^(ram|loop)/.test(d.name) && (!nonzero || d.read + d.write > 0));
  for (const d of shown) {
    lines.push(`${String(d.major).padStart(5)} ${hx(d.gendisk).padEnd(16)}   ${d.name.padEnd(10)} ${hx(d.queue).padEnd(16)}   ${String(d.read + d.write).padStart(5)} ${String(d.read).padStart(5)} ${String(d.write).padStart(5)} `);
  }
  for (const p of problems) lines.push(`dev: ${p}`);
  return {
    text: lines.join('\n') + '\n',
    json: { disks: shown.map((d) => ({ major: d.major, gendisk: '0x' + hx(d.gendisk), name: d.name, request_queue: '0x' + hx(d.queue), total: d.read + d.write, read: d.read, write: d.write })), problems },
    problems: problems.map((p) => `dev: ${p}`),
  };
}

registerCommand({
  name: 'dev',
  summary: 'character and block device majors (crash\'s dev); -d disks with their requests in flight',
  usage: 'dev [-d | -D] [--json]',
  run(args: string[], ctx: CommandContext): CommandResult {
    const { flags, rest } = parseFlags(args, { bool: ['-d', '-D', '--json'] });
    if (rest.length) throw new CommandError('usage: dev [-d | -D]');
    if (flags.has('-d') || flags.has('-D')) return devDisks(ctx, flags.has('-D'));
    return devList(ctx);
  },
});
