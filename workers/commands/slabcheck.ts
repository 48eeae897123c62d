/**
 * `slabcheck [cache]`: the SLUB corruption scan of workers/analysis/slabcheck.ts. Text: one line
 * per finding, errors first; JSON: {findings: [{severity, check, cache, slab, object?, address,
 * message, view: {panel: 'mem', address, type?}}], scanned, truncated, cancelled}.
 */
import { slabCheckPart, mergeSlabCheck, type SlabCheckPart, type SlabCheckResult } from '../analysis/slabcheck';
import { findCache, pageFrameParts } from '../analysis/slab';
import { CommandError, registerCommand, checkCancel, runSplit, type CommandContext, type CommandResult, type CommandSplit } from './registry';

/** `slabcheck --json`: the scan's result as analysis/slabcheck.ts returns it (no bigint in it). */
export type SlabcheckJson = SlabCheckResult;
export type { Finding as SlabFinding } from '../analysis/slabcheck';

function cacheArg(args: string[], ctx: CommandContext): string | undefined {
  const words = args.filter((a) => a !== '--json');
  if (words.length > 1) throw new CommandError('usage: slabcheck [cache]');
  if (words[0] && !findCache(ctx.prog, words[0])) throw new CommandError(`slabcheck: no slab cache named ${words[0]}`);
  return words[0];
}

/** A part of the scan: the slab pages of page frames [start, end); the first walks the lists, the last reads the log. */
interface Part {
  start: number;
  end: number;
  lists: boolean;
  reports: boolean;
}

/** Page frame ranges of about equal size over the dump's physical memory, in order. */
function planPfns(ctx: CommandContext, want: number): Part[] {
  const parts = pageFrameParts(ctx.prog, want);
  return parts.map((p, i) => ({ ...p, lists: i === 0, reports: i === parts.length - 1 }));
}

const split: CommandSplit = {
  plan: (args, ctx, want) => {
    cacheArg(args, ctx);
    return planPfns(ctx, want);
  },
  part: (args, ctx, part) => {
    const p = part as Part;
    const r = slabCheckPart(ctx.prog, {
      cache: cacheArg(args, ctx),
      onProgress: (d, t, w) => ctx.progress?.(d, t, w),
      cancelled: () => !!ctx.cancel?.cancelled,
      pfnStart: p.start,
      pfnEnd: p.end,
      lists: p.lists,
      reports: p.reports,
    });
    checkCancel(ctx);
    return r;
  },
  merge: (args, ctx, partials) => format(mergeSlabCheck(partials as SlabCheckPart[])),
};

registerCommand({
  name: 'slabcheck',
  summary: 'scan SLUB for corruption: freelists, counts, list linkage, red zones, poison, fill patterns',
  usage: 'slabcheck [cache]',
  split,
  run: (args, ctx) => runSplit(split, args, ctx),
});

function format(r: ReturnType<typeof mergeSlabCheck>): CommandResult {
  const lines = r.findings.map((f) => `${f.severity.toUpperCase().padEnd(7)} ${f.cache.padEnd(20)} ${f.address}  ${f.message}`);
  lines.push(
    `slabcheck: ${r.findings.length} finding(s) in ${r.scanned.caches} cache(s), ${r.scanned.slabs} slabs, ${r.scanned.objects} objects` +
      (r.truncated ? ' (truncated)' : ''),
  );
  const json: SlabcheckJson = r;
  return { text: lines.join('\n') + '\n', json };
}
