import { WrappedSource, type ByteSource } from './bytesource';
import { LruCache } from './lru';

/**
 * Wraps a ByteSource with an LRU cache of fixed-size blocks. Small dependent reads (headers,
 * page descriptors, page tables) hit the cache; the budget bounds memory whatever the dump size.
 */
export class CachedSource extends WrappedSource {
  private cache: LruCache<number, Uint8Array>;
  /** most blocks one miss may fetch (1: no read-ahead) */
  private readonly aheadMax: number;
  /**
   * Sequential streams of misses being followed (read-ahead): `next` is the block right after
   * the stream's last fetched run, `window` how many blocks its next miss fetches. Several,
   * because a scan interleaves streams (kdump: the descriptor table and the page data after it).
   */
  private streams: { next: number; window: number }[] = [];
  private static readonly STREAMS = 4;
  /**
   * A miss continues a stream when it is within this many blocks of the stream's end (a scan
   * may skip a block); farther on it is a random read. A walk over objects spread through
   * memory grew windows of megabytes for pages it never read when any miss within the window
   * continued the stream (an 8 GiB ELF by URL, 128 MiB cached: `sys` made 499 requests for
   * 315 MiB; 296 for 130 MiB with this).
   */
  private static readonly GAP = 2;
  /** misses that fetched blocks ahead (runs) and how many blocks they fetched ahead of the one asked for */
  private aheadStats = { runs: 0, blocksAhead: 0 };
  constructor(
    inner: ByteSource,
    readonly blockSize = 64 * 1024,
    budgetBytes = 64 * 1024 * 1024,
  ) {
    super(inner);
    this.cache = new LruCache(budgetBytes, (b) => b.byteLength);
    if (inner.readInto) {
      const direct = inner.readInto.bind(inner);
      this.readInto = (offset, dest) => {
        // from the cache when one block holds it all, else straight from the medium (uncached)
        const i = Math.floor(offset / this.blockSize);
        const s = offset - i * this.blockSize;
        const b = s + dest.length <= this.blockSize ? this.cache.get(i) : undefined;
        if (b === undefined) return direct(offset, dest);
        const n = Math.max(0, Math.min(dest.length, b.length - s));
        dest.set(b.subarray(s, s + n));
        return n;
      };
    }
    // never more than an eighth of the budget ahead: read-ahead must not flush the cache
    const ahead = Math.min(inner.readAheadBytes ?? 0, budgetBytes / 8);
    this.aheadMax = Math.max(1, Math.floor(ahead / blockSize));
  }
  /** present when the inner medium's reads are cheap (ByteSource.readInto) */
  readonly readInto?: (offset: number, dest: Uint8Array) => number;
  override get preferredBlockSize(): number {
    return this.blockSize;
  }
  /** the cache reads ahead itself: a cache over this one reads memory, nothing to gain */
  override get readAheadBytes(): undefined {
    return undefined;
  }
  get cacheStats() {
    return { hits: this.cache.hits, misses: this.cache.misses, bytes: this.cache.bytesUsed, budget: this.cache.budgetBytes, ...this.aheadStats };
  }

  private block(index: number): Uint8Array {
    let b = this.cache.get(index);
    if (!b) {
      if (this.aheadMax > 1) return this.missAhead(index);
      if (this.inner.readInto) {
        // a cache over a cache (the kdump reader's over the program's): one copy, in this one
        const buf = new Uint8Array(Math.max(0, Math.min(this.blockSize, this.size - index * this.blockSize)));
        const n = this.inner.readInto(index * this.blockSize, buf);
        b = n === buf.length ? buf : buf.subarray(0, n);
      } else b = this.inner.read(index * this.blockSize, this.blockSize);
      this.cache.set(index, b);
    }
    return b;
  }

  /**
   * A miss on a medium that reads ahead: a miss at (or just past: GAP) the end of a stream of
   * sequential misses doubles that stream's window (up to aheadMax blocks) and fetches the
   * blocks from `index` on that the cache lacks in one read; any other miss fetches its block
   * alone and starts a new stream (replacing the oldest). So random reads cost what they did,
   * and a scan through the file makes log2(aheadMax) small requests, then one per window.
   */
  private missAhead(index: number): Uint8Array {
    let s = this.streams.find((x) => index >= x.next && index < x.next + CachedSource.GAP);
    if (s) {
      s.window = Math.min(this.aheadMax, s.window * 2);
      this.streams.splice(this.streams.indexOf(s), 1);
    } else s = { next: 0, window: 1 };
    this.streams.push(s);
    if (this.streams.length > CachedSource.STREAMS) this.streams.shift();
    const lastBlock = Math.max(0, Math.ceil(this.size / this.blockSize) - 1);
    let j = index;
    while (j - index + 1 < s.window && j < lastBlock && !this.cache.has(j + 1)) j++;
    s.next = j + 1;
    if (j > index) {
      this.aheadStats.runs++;
      this.aheadStats.blocksAhead += j - index;
    }
    const buf = this.inner.read(index * this.blockSize, (j - index + 1) * this.blockSize);
    let first: Uint8Array | undefined;
    for (let k = index; k <= j; k++) {
      const at = (k - index) * this.blockSize;
      if (at >= buf.length && k > index) break;
      const b = j === index ? buf : buf.slice(at, Math.min(at + this.blockSize, buf.length));
      this.cache.set(k, b);
      first ??= b;
    }
    return first!;
  }

  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    const first = Math.floor(offset / this.blockSize);
    const last = Math.floor((end - 1) / this.blockSize);
    if (first === last) {
      const b = this.block(first);
      const s = offset - first * this.blockSize;
      return b.subarray(s, Math.min(s + (end - offset), b.length));
    }
    // Large reads spanning many blocks bypass the cache for the middle part.
    if (last - first > 8) return this.inner.read(offset, end - offset);
    this.fill(first, last);
    const out = new Uint8Array(end - offset);
    let pos = offset;
    for (let i = first; i <= last; i++) {
      const b = this.block(i);
      const s = pos - i * this.blockSize;
      const n = Math.min(b.length - s, end - pos);
      if (n <= 0) break;
      out.set(b.subarray(s, s + n), pos - offset);
      pos += n;
    }
    return pos === end ? out : out.subarray(0, pos - offset);
  }

  /**
   * Fetch the blocks of [first, last] the cache lacks with one inner read per run of missing
   * blocks, not one per block: a browser File costs a FileReaderSync call per read, a URL a
   * Range request. Each block is its own copy, so evicting one frees its bytes.
   */
  private fill(first: number, last: number): void {
    for (let i = first; i <= last; ) {
      if (this.cache.has(i)) {
        i++;
        continue;
      }
      let j = i;
      while (j < last && !this.cache.has(j + 1)) j++;
      if (j > i) {
        const buf = this.inner.read(i * this.blockSize, (j - i + 1) * this.blockSize);
        for (let k = i; k <= j; k++) {
          const s = (k - i) * this.blockSize;
          if (s >= buf.length) break;
          this.cache.set(k, buf.slice(s, Math.min(s + this.blockSize, buf.length)));
        }
      }
      i = j + 1;
    }
  }
}
