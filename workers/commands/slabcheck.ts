/**
 * `slabcheck [cache]`: the SLUB corruption scan of workers/analysis/slabcheck.ts. Text: one line
 * per finding, errors first; JSON: {findings: [{severity, check, cache, slab, object?, address,
 * message, view: {panel: 'mem', address, type?}}], scanned, truncated, cancelled}.
 */
import { slabCheck, type SlabCheckResult } from '../analysis/slabcheck';

/** `slabcheck --json`: the scan's result as analysis/slabcheck.ts returns it (no bigint in it). */
export type SlabcheckJson = SlabCheckResult;
export type { Finding as SlabFinding } from '../analysis/slabcheck';
import { findCache } from '../analysis/slab';
import { CommandError, registerCommand, checkCancel, type CommandContext, type CommandResult } from './registry';

registerCommand({
  name: 'slabcheck',
  summary: 'scan SLUB for corruption: freelists, counts, list linkage, red zones, poison, fill patterns',
  usage: 'slabcheck [cache]',
  run(args: string[], ctx: CommandContext): CommandResult {
    const words = args.filter((a) => a !== '--json');
    if (words.length > 1) throw new CommandError('usage: slabcheck [cache]');
    if (words[0] && !findCache(ctx.prog, words[0])) throw new CommandError(`slabcheck: no slab cache named ${words[0]}`);
    const r = slabCheck(ctx.prog, {
      cache: words[0],
      onProgress: (d, t, w) => ctx.progress?.(d, t, w),
      cancelled: () => !!ctx.cancel?.cancelled,
    });
    checkCancel(ctx);
    const lines = r.findings.map((f) => `${f.severity.toUpperCase().padEnd(7)} ${f.cache.padEnd(20)} ${f.address}  ${f.message}`);
    lines.push(
      `slabcheck: ${r.findings.length} finding(s) in ${r.scanned.caches} cache(s), ${r.scanned.slabs} slabs, ${r.scanned.objects} objects` +
        (r.truncated ? ' (truncated)' : ''),
    );
    const json: SlabcheckJson = r;
    return { text: lines.join('\n') + '\n', json };
  },
});
