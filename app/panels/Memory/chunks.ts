/**
 * The hex view's page cache in the UI: 4 KiB chunks from the engine (`readChunk`: bytes,
 * unreadable spans, pointer classes, slab spans), LRU-bounded, fetched at most a few per
 * animation frame, newest request first (pages scrolled past before they arrive are dropped from
 * the queue, never fetched).
 */
import { readChunk, type MemoryChunk } from '../../engine';
import { PAGE } from './hexmodel';

export interface Chunk {
  page: bigint;
  bytes: Uint8Array;
  /** [start, end) offsets into the chunk that could not be read, with why */
  missing: { s: number; e: number; reason: string; kind: string }[];
  /** offset -> pointer class/label of the aligned word starting there */
  pointers: Map<number, { kind: string; label?: string; value: string }>;
  slabs: MemoryChunk['slabs'];
  error?: string;
}

const MAX_CHUNKS = 384; // 1.5 MiB of bytes
const PER_FRAME = 3;

export class ChunkCache {
  private map = new Map<bigint, Chunk>();
  private inflight = new Set<bigint>();
  private queue: bigint[] = [];
  private scheduled = false;
  private listeners = new Set<() => void>();
  version = 0;
  fetched = 0;

  constructor(private session: string) {}

  get(page: bigint): Chunk | undefined {
    const c = this.map.get(page);
    if (c) {
      // LRU touch
      this.map.delete(page);
      this.map.set(page, c);
    }
    return c;
  }

  peek(page: bigint): Chunk | undefined {
    return this.map.get(page);
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Want these pages (visible first); replaces the previous wish list. */
  want(pages: bigint[]): void {
    this.queue = pages.filter((p) => !this.map.has(p) && !this.inflight.has(p));
    if (this.queue.length && !this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.pump());
    }
  }

  private pump(): void {
    this.scheduled = false;
    let n = 0;
    while (this.queue.length && n < PER_FRAME && this.inflight.size < PER_FRAME * 2) {
      const p = this.queue.shift()!;
      if (this.map.has(p) || this.inflight.has(p)) continue;
      n++;
      this.inflight.add(p);
      void readChunk(this.session, '0x' + p.toString(16), PAGE).then((r) => {
        this.inflight.delete(p);
        this.fetched++;
        this.put(p, r);
        if (this.queue.length && !this.scheduled) {
          this.scheduled = true;
          requestAnimationFrame(() => this.pump());
        }
      });
    }
    if (this.queue.length && !this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.pump());
    }
  }

  private put(page: bigint, r: MemoryChunk | { error: string }): void {
    let c: Chunk;
    if ('error' in r) {
      c = { page, bytes: new Uint8Array(PAGE), missing: [{ s: 0, e: PAGE, reason: r.error, kind: 'error' }], pointers: new Map(), slabs: [], error: r.error };
    } else {
      const base = BigInt(r.address);
      c = {
        page,
        bytes: r.bytes,
        missing: r.missing.map((m) => ({ s: Number(BigInt(m.start) - base), e: Number(BigInt(m.end) - base), reason: m.reason, kind: m.kind })),
        pointers: new Map(r.pointers.map((p) => [p.off, { kind: p.kind, label: p.label, value: p.value }])),
        slabs: r.slabs,
      };
    }
    this.map.set(page, c);
    while (this.map.size > MAX_CHUNKS) {
      const k = this.map.keys().next().value as bigint;
      this.map.delete(k);
    }
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Drop everything (an overlay change does not need it; a new session does). */
  clear(): void {
    this.map.clear();
    this.queue = [];
    this.version++;
  }

  get size(): number {
    return this.map.size;
  }
}

const caches = new Map<string, ChunkCache>();
/** One cache per open dump, kept while the tab lives (the panel remounts on every visit). */
export function chunkCache(session: string): ChunkCache {
  let c = caches.get(session);
  if (!c) {
    c = new ChunkCache(session);
    caches.set(session, c);
  }
  return c;
}
export function dropChunkCache(session: string): void {
  caches.delete(session);
}
