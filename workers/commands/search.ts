import { registerCommand, parseFlags, CommandError, checkCancel, type CommandContext, type CommandResult, type CommandSplit } from './registry';
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

interface SearchArgs {
  value: bigint;
  width: 8 | 4 | 2 | 1;
  mask?: bigint;
  limit: number;
  phys: boolean;
}

function searchArgs(args: string[], ctx: CommandContext): SearchArgs {
  const { prog } = ctx;
  const { flags, values, rest } = parseFlags(args, { bool: ['-k', '-p', '-K', '-w', '-h', '-c', '-u'], value: ['-m', '-l', '-s', '-e'] });
  if (flags.has('-u')) throw new CommandError('search -u: user memory is not searched (makedumpfile -d 31 dumps exclude user pages)');
  if (rest.length !== 1) throw new CommandError('search: one value is needed');
  const value = evalExpr(prog, rest[0], { hexBias: true });
  const width = flags.has('-w') ? 4 : flags.has('-h') ? 2 : flags.has('-c') ? 1 : 8;
  const mask = values.has('-m') ? evalExpr(prog, values.get('-m')!, { hexBias: true }) : undefined;
  const limit = values.has('-l') ? searchLimit(values.get('-l')!) : 10_000;
  return { value, width, mask, limit, phys: flags.has('-p') };
}

/** A part of a search: physical pages [start, end). */
interface SearchPart {
  start: number;
  end: number;
}

/** A part's hits as [address hex, phys, pages searched before, pages missing before], and its counts. */
interface SearchPartial {
  hits: Array<[string, number, number, number]>;
  searched: number;
  missing: number;
  truncated: boolean;
}

/** Search ranges of about equal page counts, page aligned, in physical order. */
function planSearch(ctx: CommandContext, want: number): SearchPart[] {
  const ranges = ctx.prog.phys.ranges();
  const pages = ranges.reduce((n, r) => n + Math.ceil((r.end - (r.start - (r.start % 4096))) / 4096), 0);
  if (!ranges.length) return [{ start: 0, end: 0 }];
  const per = Math.max(1, Math.ceil(pages / want));
  const parts: SearchPart[] = [];
  let start = 0;
  let count = 0;
  for (const r of ranges) {
    for (let pa = r.start - (r.start % 4096); pa < r.end; ) {
      const take = Math.min(per - count, Math.ceil((r.end - pa) / 4096));
      pa += take * 4096;
      count += take;
      if (count >= per) {
        parts.push({ start, end: pa });
        start = pa;
        count = 0;
      }
    }
  }
  if (count > 0 || !parts.length) parts.push({ start, end: Number.MAX_SAFE_INTEGER });
  else parts[parts.length - 1].end = Number.MAX_SAFE_INTEGER;
  return parts;
}

function searchPart(args: string[], ctx: CommandContext, part: SearchPart): SearchPartial {
  const a = searchArgs(args, ctx);
  checkCancel(ctx);
  const r = searchMemory(ctx.prog, a.value, {
    width: a.width,
    mask: a.mask,
    limit: a.limit,
    startPhys: part.start,
    endPhys: part.end,
    cancel: ctx.cancel,
    progress: ctx.progress,
  });
  return {
    hits: r.hits.map((h) => ['0x' + h.address.toString(16), h.phys, h.searchedBefore, h.missingBefore]),
    searched: r.pagesSearched,
    missing: r.pagesMissing,
    truncated: r.truncated,
  };
}

/**
 * The parts in physical order, cut at the limit as one search from the start would be: the
 * pages counted are those before the limit's hit in its part (the hit's page searched).
 */
function mergeSearch(args: string[], ctx: CommandContext, partials: SearchPartial[]): CommandResult {
  const a = searchArgs(args, ctx);
  const hits: Array<[string, number]> = [];
  let searched = 0;
  let missing = 0;
  let truncated = false;
  for (const p of partials) {
    if (hits.length + p.hits.length >= a.limit) {
      const last = p.hits[a.limit - hits.length - 1];
      for (const h of p.hits.slice(0, a.limit - hits.length)) hits.push([h[0], h[1]]);
      searched += last[2] + 1;
      missing += last[3];
      truncated = true;
      break;
    }
    for (const h of p.hits) hits.push([h[0], h[1]]);
    searched += p.searched;
    missing += p.missing;
  }
  const mask = (a.mask ?? (1n << BigInt(a.width * 8)) - 1n) & ((1n << BigInt(a.width * 8)) - 1n);
  const want = a.value & mask;
  const digits = a.width * 2;
  const valueText = want.toString(16).padStart(digits, '0');
  const lines = hits.map(([addr, phys]) => `${a.phys ? phys.toString(16) : addr.slice(2)}: ${valueText}`);
  if (truncated) lines.push(`search: stopped after ${a.limit} hits (-l to raise)`);
  if (missing) lines.push(`(${missing} pages not in the dump were not searched)`);
  const valueHex = '0x' + want.toString(16);
  return {
    text: lines.join('\n') + (lines.length ? '\n' : ''),
    json: {
      hits: hits.map(([addr, phys]) => ({ address: addr, phys: '0x' + phys.toString(16), value: valueHex })),
      pages_searched: searched,
      pages_missing: missing,
      truncated,
    },
  };
}

const split: CommandSplit = {
  plan: (args, ctx, want) => {
    searchArgs(args, ctx); // argument errors before any part runs
    return planSearch(ctx, want);
  },
  part: (args, ctx, part) => searchPart(args, ctx, part as SearchPart),
  merge: (args, ctx, partials) => mergeSearch(args, ctx, partials as SearchPartial[]),
};

/**
 * crash's `search [-k] [-p] [-m mask] [-w|-h|-c] [-s start] [-e end] value`: every place in memory
 * holding value, printed "address: value" as crash does. Kernel memory is searched through the
 * direct map (all RAM the dump holds); pages the dump excluded are counted and reported. In the
 * browser it runs in parts (ranges of physical memory) on the scan workers (`split`), merged into
 * the text and JSON `run` gives; `run` (the CLI, the console without scan workers) streams hits.
 */
registerCommand({
  name: 'search',
  summary: 'search memory for a value (all RAM in the dump, by direct-map address)',
  usage: 'search [-k|-p] [-w|-h|-c] [-m mask] [-l limit] <value>',
  split,
  run(args, ctx) {
    const { prog } = ctx;
    const { value, width, mask, limit, phys } = searchArgs(args, ctx);
    checkCancel(ctx);
    const digits = width * 2;
    const fmt = (h: { phys: number; address: bigint; value: bigint }) => `${phys ? h.phys.toString(16) : h.address.toString(16)}: ${h.value.toString(16).padStart(digits, '0')}`;
    // hits stream out as they are found (console, CLI); the JSON lists them all at the end
    const live = new TextOut(ctx.emit, 64);
    const r = searchMemory(prog, value, {
      width,
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
