/**
 * The lowest layer: a synchronous random-access byte source (a dump file, a Blob in a worker,
 * a URL read with Range requests). Everything above reads through one of these.
 */
export interface ByteSource {
  /** Human-readable name (file name or URL). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Read up to `length` bytes at `offset`. Returns fewer bytes only at the end of the source.
   * The returned array may be shared with a cache: callers must not modify it.
   */
  read(offset: number, length: number): Uint8Array;
  /** Bytes actually fetched from the underlying medium (not cache hits). */
  readonly stats: ReadStats;
  /**
   * The read size this medium prefers for its cache blocks: small for local files (fewer bytes
   * read), large over HTTP where each request costs a round trip.
   */
  readonly preferredBlockSize?: number;
  /**
   * Copy the bytes at `offset` into `dest` (up to dest.length; fewer only at the end of the
   * source) and return how many, caching nothing: only media whose reads are cheap (a local
   * file) have it. Used for data read once (a compressed page about to be inflated), so a
   * process does not keep a second copy of what it decodes.
   */
  readInto?(offset: number, dest: Uint8Array): number;
  /**
   * How far a cache over this medium may read ahead of a sequential run of misses, in bytes
   * (a URL: every request pays a round trip, so a scan through the file should not pay one per
   * block). Absent: no read-ahead (local files, where a FileReaderSync call is cheap).
   */
  readonly readAheadBytes?: number;
  /**
   * How much the program's cache over this medium may hold, in bytes: more for a URL, where each
   * miss is a round trip (the tasks' pages of an 8 GiB ELF outgrow 64 MiB of 256 KiB blocks, and
   * every pass over them fetched them all again). Absent: 64 MiB.
   */
  readonly cacheBytes?: number;
  /**
   * The read size for long sequential scans (a search of all memory): large for a browser File,
   * whose FileReaderSync calls cost milliseconds each, and for a URL, whose requests cost a round
   * trip each; absent: 1 MiB (Node, where a fresh 16 MiB buffer per read costs more than the
   * calls it saves).
   */
  readonly scanReadSize?: number;
}

/** A source over another (a cache, a counter): name, size, stats, block size and read-ahead are the inner source's. */
export abstract class WrappedSource implements ByteSource {
  constructor(protected readonly inner: ByteSource) {}
  get name(): string {
    return this.inner.name;
  }
  get size(): number {
    return this.inner.size;
  }
  get stats(): ReadStats {
    return this.inner.stats;
  }
  get preferredBlockSize(): number | undefined {
    return this.inner.preferredBlockSize;
  }
  get readAheadBytes(): number | undefined {
    return this.inner.readAheadBytes;
  }
  get cacheBytes(): number | undefined {
    return this.inner.cacheBytes;
  }
  get scanReadSize(): number | undefined {
    return this.inner.scanReadSize;
  }
  abstract read(offset: number, length: number): Uint8Array;
}

export interface ReadStats {
  bytesRead: number;
  reads: number;
}

export function newStats(): ReadStats {
  return { bytesRead: 0, reads: 0 };
}

/** Read exactly `length` bytes or return what exists (short at EOF). */
export function readFully(src: ByteSource, offset: number, length: number): Uint8Array {
  return src.read(offset, length);
}
