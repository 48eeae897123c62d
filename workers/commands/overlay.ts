import { registerCommand, parseFlags, CommandError } from './registry';
import { evalAddress } from './expr';
import { rankOverlays, formatOverlays, sizeClassWindow, type PointerInfo } from '../analysis/overlay';
import type { Program } from '../kernel/program';

/** Where an object starts and how big it is (slab analysis provides this). */
export interface ObjectLocation {
  start: bigint;
  size: number;
  cache?: string;
  /** the type the cache is known to hold (dedicated caches), if any */
  type?: string;
}

type Locator = (prog: Program, addr: bigint) => ObjectLocation | null;
type Classifier = (prog: Program, value: bigint) => PointerInfo | null;
let locator: Locator | null = null;
let classifier: Classifier | null = null;

/** Slab analysis registers how to find the object holding an address, and what a pointer is. */
export function registerObjectLocator(l: Locator, c?: Classifier): void {
  locator = l;
  if (c) classifier = c;
}

registerCommand({
  name: 'overlay',
  summary: 'rank the struct types that fit an untyped object, with the evidence for each',
  usage: 'overlay [-n count] [-x type[,type]] [-v] <addr> [size]',
  run(args, ctx) {
    const { prog } = ctx;
    const { flags, values, rest } = parseFlags(args, { bool: ['-v'], value: ['-n', '-x'] });
    if (rest.length < 1 || rest.length > 2) throw new CommandError('overlay: an address (and optionally a size) is needed');
    const addr = evalAddress(prog, rest[0]);
    let start = addr;
    let size: number;
    let cache: string | undefined;
    const loc = locator?.(prog, addr) ?? null;
    if (rest[1]) {
      size = Number(evalAddress(prog, rest[1]));
      if (!(size > 0 && size <= 1 << 20)) throw new CommandError(`overlay: size ${rest[1]} out of range`);
    } else if (loc) {
      start = loc.start;
      size = loc.size;
      cache = loc.cache;
    } else {
      throw new CommandError('overlay: the address is not in a known slab object; give the object size: overlay <addr> <size>');
    }
    const exclude = new Set((values.get('-x') ?? '').split(',').filter(Boolean).map((t) => (/^(struct|union) /.test(t) ? t : `struct ${t}`)));
    const window = cache && /^kmalloc-(rcl-|cg-|dma-)?\d/.test(cache) ? sizeClassWindow(kmallocSize(cache) ?? size) : ([size, size] as [number, number]);
    const limit = Number(values.get('-n') ?? 10);
    const cands = rankOverlays(prog, start, {
      size,
      window: rest[1] ? undefined : window,
      exclude,
      limit,
      cancel: ctx.cancel,
      classify: classifier ? (v) => classifier!(prog, v) : undefined,
    });
    const head = cache ? `${cache} object ${start.toString(16)} (${size} bytes)${start !== addr ? `, +0x${(addr - start).toString(16)} asked` : ''}\n` : '';
    return {
      text: head + formatOverlays(start, size, cands, flags.has('-v') ? 100 : 6),
      json: {
        address: '0x' + start.toString(16),
        size,
        cache,
        candidates: cands.map((c) => ({
          name: c.name,
          score: c.score,
          parts: c.parts,
          evidence: c.evidence,
        })),
      },
    };
  },
});

function kmallocSize(cache: string): number | null {
  const m = /(\d+)(k?)$/.exec(cache);
  if (!m) return null;
  return Number(m[1]) * (m[2] ? 1024 : 1);
}
