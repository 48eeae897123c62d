import { Cancelled, MemoryError } from '../errors';
import type { Program } from '../kernel/program';

/**
 * Search memory for a value (crash's `search`). Kernel virtual memory is searched through the
 * direct map: every physical range of the dump, read page by page, pages not in the dump skipped
 * (and counted). Optionally also the kernel image (text/data/bss, which lives in physical RAM
 * too, so a hit there is reported at its direct-map address and its kernel-image alias).
 */
export interface SearchOptions {
  /** value width in bytes: 8 (default), 4, 2 or 1 */
  width?: 8 | 4 | 2 | 1;
  /** bits that must match (default all) */
  mask?: bigint;
  /** physical range restriction */
  startPhys?: number;
  endPhys?: number;
  limit?: number;
  /**
   * 8-byte words only: match every value in [from, to) instead of `value`/`mask` (pointers into an
   * object). The range must not cross a 4 GiB boundary (both ends share the high 32 bits).
   */
  range?: [bigint, bigint];
  cancel?: { cancelled: boolean };
  /** called for each hit as it is found (streaming output) */
  onHit?: (h: SearchHit) => void;
  progress?: (done: number, total: number, what: string) => void;
}

export interface SearchHit {
  /** direct-map virtual address */
  address: bigint;
  phys: number;
  value: bigint;
  /** pages searched and pages missing before this hit's page (a search cut at a limit counts to here) */
  searchedBefore: number;
  missingBefore: number;
}

export interface SearchResult {
  hits: SearchHit[];
  pagesSearched: number;
  pagesMissing: number;
  truncated: boolean;
}

/**
 * Pages read at once by default (1 MiB): a run of pages the dump has is read in one call, up to
 * the source's `scanReadSize` when it says one (16 MiB for a browser File, whose every
 * FileReaderSync call costs milliseconds, its throughput growing with the read's size, and for
 * a URL, a round trip per request).
 */
const READ_PAGES = 256;

/** How many pages from `pa` (at most `max`) the dump has, one after the other. */
function presentRun(prog: Program, pa: number, max: number): number {
  let n = 0;
  while (n < max && prog.phys.hasPage(pa + n * 4096)) n++;
  return n;
}

/**
 * `n` pages from `pa` in one read, into `scratch` (reused run after run: past the page cache, no
 * fresh buffer per run) when the dump can; null when it fails (then page by page, each page's
 * error counted).
 */
function readRun(prog: Program, pa: number, n: number, scratch: Uint8Array): Uint8Array | null {
  if (n < 2) return null;
  try {
    if (prog.phys.copyPhys) {
      const b = scratch.subarray(0, n * 4096);
      prog.phys.copyPhys(pa, b);
      return b;
    }
    const b = prog.phys.readPhys(pa, n * 4096);
    return b.length === n * 4096 ? b : null;
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
}

export function searchMemory(prog: Program, value: bigint, opts: SearchOptions = {}): SearchResult {
  const width = opts.width ?? 8;
  const bits = BigInt(width * 8);
  const full = (1n << bits) - 1n;
  const mask = (opts.mask ?? full) & full;
  const want = value & mask;
  const limit = opts.limit ?? 10_000;
  const base = prog.arch.pageOffset;
  const ranges = prog.phys.ranges();
  const lo0 = opts.startPhys ?? 0;
  const hi0 = opts.endPhys ?? Number.MAX_SAFE_INTEGER;
  const pagesIn = (r: { start: number; end: number }) => {
    const s = Math.max(r.start, lo0);
    const e = Math.min(r.end, hi0);
    return e > s ? Math.ceil((e - (s - (s % 4096))) / 4096) : 0;
  };
  const total = ranges.reduce((n, r) => n + pagesIn(r), 0);
  const out: SearchResult = { hits: [], pagesSearched: 0, pagesMissing: 0, truncated: false };
  // compare 32-bit halves with typed arrays: no bigint per word
  const lo = Number(want & 0xffffffffn);
  const hi = Number((want >> 32n) & 0xffffffffn);
  const mlo = Number(mask & 0xffffffffn);
  const mhi = Number((mask >> 32n) & 0xffffffffn);
  const range = opts.range;
  if (range && (width !== 8 || range[1] <= range[0] || range[0] >> 32n !== (range[1] - 1n) >> 32n)) {
    throw new RangeError('searchMemory: a range is searched in 8-byte words, within one 4 GiB block');
  }
  const rHi = range ? Number(range[0] >> 32n) : 0;
  const rLo = range ? Number(range[0] & 0xffffffffn) : 0;
  const rEnd = range ? rLo + Number(range[1] - range[0]) : 0;
  let done = 0;
  const readPages = Math.max(READ_PAGES, Math.floor((prog.src.scanReadSize ?? 0) / 4096));
  let scratch: Uint8Array | undefined;
  for (const r of ranges) {
    const s0 = Math.max(r.start, lo0);
    const e0 = Math.min(r.end, hi0);
    for (let pa = s0 - (s0 % 4096); pa < e0; ) {
      // a run of present pages is read at once (one read of the file instead of one per page:
      // a browser's FileReaderSync read costs milliseconds whatever its size); a page the dump
      // lacks is a run of its own, counted missing below
      const max = Math.min(readPages, Math.ceil((e0 - pa) / 4096));
      const n = Math.max(1, presentRun(prog, pa, max));
      const run = readRun(prog, pa, n, (scratch ??= new Uint8Array(readPages * 4096)));
      for (let k = 0; k < n; k++, pa += 4096) {
        if ((++done & 255) === 0) {
          if (opts.cancel?.cancelled) throw new Cancelled();
          opts.progress?.(done, total, 'pages');
        }
        let page: Uint8Array;
        if (run) page = run.subarray(k * 4096, (k + 1) * 4096);
        else {
          if (!prog.phys.hasPage(pa)) {
            out.pagesMissing++;
            continue;
          }
          try {
            page = prog.phys.readPhys(pa, 4096);
          } catch (e) {
            if (e instanceof MemoryError) {
              out.pagesMissing++;
              continue;
            }
            throw e;
          }
        }
        const searchedBefore = out.pagesSearched++;
        const at = pa;
        const hitAt = (off: number, value = want) => {
          const h = { address: base === null ? BigInt(at + off) : base + BigInt(at + off), phys: at + off, value, searchedBefore, missingBefore: out.pagesMissing };
          out.hits.push(h);
          opts.onHit?.(h);
          if (out.hits.length >= limit) out.truncated = true;
        };
        const words = () => (page.byteOffset % 4 === 0 ? new Uint32Array(page.buffer, page.byteOffset, 1024) : new Uint32Array(page.slice().buffer));
        if (range) {
          const w = words();
          for (let i = 0; i < 1024; i += 2) {
            if (w[i + 1] === rHi && w[i] >= rLo && w[i] < rEnd) {
              hitAt(i * 4, (BigInt(rHi) << 32n) | BigInt(w[i]));
              if (out.truncated) return out;
            }
          }
        } else if (width === 8) {
          const w = words();
          for (let i = 0; i < 1024; i += 2) {
            if (((w[i] & mlo) >>> 0) === lo && ((w[i + 1] & mhi) >>> 0) === hi) {
              hitAt(i * 4);
              if (out.truncated) return out;
            }
          }
        } else {
          const dv = new DataView(page.buffer, page.byteOffset, 4096);
          for (let off = 0; off + width <= 4096; off += width) {
            const v = width === 4 ? dv.getUint32(off, true) : width === 2 ? dv.getUint16(off, true) : dv.getUint8(off);
            if ((v & mlo) >>> 0 === lo) {
              hitAt(off);
              if (out.truncated) return out;
            }
          }
        }
      }
    }
  }
  opts.progress?.(total, total, 'pages');
  return out;
}
