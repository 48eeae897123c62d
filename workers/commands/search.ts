import { registerCommand, parseFlags, CommandError, checkCancel } from './registry';
import { evalExpr } from './expr';
import { searchMemory } from '../analysis/search';
import { TextOut } from './result';

/** Most hits one search keeps (each costs a few hundred bytes of text and JSON). */
export const MAX_SEARCH_HITS = 250_000;

function searchLimit(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new CommandError(`search: -l needs a positive whole number of hits, not "${v}"`);
  if (n > MAX_SEARCH_HITS) throw new CommandError(`search: -l ${v} is too large (at most ${MAX_SEARCH_HITS} hits per search)`);
  return n;
}

/**
 * crash's `search [-k] [-p] [-m mask] [-w|-h|-c] [-s start] [-e end] value`: every place in memory
 * holding value, printed "address: value" as crash does. Kernel memory is searched through the
 * direct map (all RAM the dump holds); pages the dump excluded are counted and reported.
 */
registerCommand({
  name: 'search',
  summary: 'search memory for a value (all RAM in the dump, by direct-map address)',
  usage: 'search [-k|-p] [-w|-h|-c] [-m mask] [-l limit] <value>',
  run(args, ctx) {
    const { prog } = ctx;
    const { flags, values, rest } = parseFlags(args, { bool: ['-k', '-p', '-K', '-w', '-h', '-c', '-u'], value: ['-m', '-l', '-s', '-e'] });
    if (flags.has('-u')) throw new CommandError('search -u: user memory is not searched (makedumpfile -d 31 dumps exclude user pages)');
    if (rest.length !== 1) throw new CommandError('search: one value is needed');
    const value = evalExpr(prog, rest[0], { hexBias: true });
    const width = flags.has('-w') ? 4 : flags.has('-h') ? 2 : flags.has('-c') ? 1 : 8;
    const mask = values.has('-m') ? evalExpr(prog, values.get('-m')!, { hexBias: true }) : undefined;
    const limit = values.has('-l') ? searchLimit(values.get('-l')!) : 10_000;
    checkCancel(ctx);
    const digits = width * 2;
    const phys = flags.has('-p');
    const fmt = (h: { phys: number; address: bigint; value: bigint }) => `${phys ? h.phys.toString(16) : h.address.toString(16)}: ${h.value.toString(16).padStart(digits, '0')}`;
    // hits stream out as they are found (console, CLI); the JSON lists them all at the end
    const live = new TextOut(ctx.emit, 64);
    const r = searchMemory(prog, value, {
      width: width as 8 | 4 | 2 | 1,
      mask,
      limit,
      onHit: ctx.emit ? (h) => live.line(fmt(h)) : undefined,
      cancel: ctx.cancel,
      progress: ctx.progress,
    });
    // streamed: the hits went out live; else every hit is in the text
    const out = ctx.emit ? live : new TextOut();
    if (!ctx.emit) for (const h of r.hits) out.line(fmt(h));
    if (r.truncated) out.line(`search: stopped after ${limit} hits (-l to raise)`);
    if (r.pagesMissing) out.line(`(${r.pagesMissing} pages not in the dump were not searched)`);
    return {
      text: out.done(),
      json: {
        hits: r.hits.map((h) => ({ address: '0x' + h.address.toString(16), phys: '0x' + h.phys.toString(16), value: '0x' + h.value.toString(16) })),
        pages_searched: r.pagesSearched,
        pages_missing: r.pagesMissing,
        truncated: r.truncated,
      },
    };
  },
});
