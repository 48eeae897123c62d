/**
 * makedumpfile's flattened format (makedumpfile -F, and what QEMU < 8.2 writes for
 * `dump-guest-memory -z/-l/-s`): a stream meant for a pipe, to be replayed into the real file.
 *
 *   struct makedumpfile_header       MAX_SIZE_MDF_HEADER = 4096 bytes at file offset 0
 *     char    signature[16]          "makedumpfile" (NUL padded)
 *     int64_t type                   TYPE_FLAT_HEADER = 1      (big-endian)
 *     int64_t version                VERSION_FLAT_HEADER = 1   (big-endian)
 *   then records, each:
 *   struct makedumpfile_data_header
 *     int64_t offset                 where the data goes in the logical file (big-endian)
 *     int64_t buf_size               bytes of data that follow (big-endian)
 *   followed by buf_size bytes of data. A record with offset == END_FLAG_FLAT_HEADER (-1) ends
 *   the stream.
 *
 * The writer may write the same logical range more than once (headers are rewritten at the
 * end), so replaying means the latest record wins. We scan the record headers once (16 bytes
 * per record; data is skipped, not read), resolve overlaps, and expose the logical file as a
 * ByteSource whose reads map to file reads. Logical bytes no record wrote read as zeros, as
 * they would in the sparse file `makedumpfile -R` produces.
 */
import { DumpError } from '../errors';
import { WrappedSource, type ByteSource } from '../source/bytesource';
import { floorIndex } from '../sorted';

export const MAKEDUMPFILE_SIGNATURE = 'makedumpfile';
export const MAX_SIZE_MDF_HEADER = 4096;
const TYPE_FLAT_HEADER = 1;
const VERSION_FLAT_HEADER = 1;
const DATA_HEADER_SIZE = 16;
const END_FLAG_FLAT_HEADER = -1;

/** Whether the first bytes of a file are a makedumpfile flattened header. */
export function isFlattened(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  for (let i = 0; i < 16; i++) {
    const want = i < MAKEDUMPFILE_SIGNATURE.length ? MAKEDUMPFILE_SIGNATURE.charCodeAt(i) : 0;
    if (head[i] !== want) return false;
  }
  return true;
}

/**
 * A big-endian int64 as a number: exact up to 2^53; beyond that (or negative) only its sign and
 * magnitude matter to the checks that reject it. -1 (the end marker) is exactly -1.
 */
function be64(b: Uint8Array, o: number): number {
  const hi = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) | 0;
  const lo = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0;
  return hi * 4294967296 + lo;
}

/** One piece of the logical file: [start, start+length) is stored at file offset fileOffset. */
interface Segment {
  start: number;
  length: number;
  fileOffset: number;
}

interface RawRecord {
  start: number;
  end: number;
  fileOffset: number;
  seq: number;
}

/** The logical (replayed) file of a flattened dump. */
export class FlattenedSource extends WrappedSource {
  /** the logical file's size (name, stats, block size and read-ahead are the file's) */
  private readonly logicalSize: number;
  /** problems found while scanning (missing end marker...) */
  readonly warnings: string[] = [];
  /** number of data records in the stream */
  readonly records: number;
  /** the stream ends before its end marker (a cut file): what it did not reach was never written */
  readonly cut: boolean;
  private segStart: Float64Array;
  private segLength: Float64Array;
  private segFile: Float64Array;

  constructor(inner: ByteSource) {
    super(inner);
    const { recs, cut } = scanRecords(inner, this.warnings);
    this.records = recs.length;
    this.cut = cut;
    const segs = resolve(recs);
    this.segStart = Float64Array.from(segs, (s) => s.start);
    this.segLength = Float64Array.from(segs, (s) => s.length);
    this.segFile = Float64Array.from(segs, (s) => s.fileOffset);
    this.logicalSize = segs.length ? segs[segs.length - 1].start + segs[segs.length - 1].length : 0;
    if (inner.readInto) {
      const direct = inner.readInto.bind(inner);
      this.readInto = (offset, dest) => {
        if (offset < 0) throw new RangeError(`bad read ${offset}+${dest.length}`);
        const end = Math.min(offset + dest.length, this.size);
        if (end <= offset) return 0;
        this.fill(offset, dest.subarray(0, end - offset), direct);
        return end - offset;
      };
    }
  }

  override get size(): number {
    return this.logicalSize;
  }

  /**
   * Present when the file's reads are cheap (ByteSource.readInto): the logical bytes at `offset`
   * copied into `dest` piece by piece, holes as zeros, nothing cached here.
   */
  readonly readInto?: (offset: number, dest: Uint8Array) => number;

  /** Number of disjoint pieces the logical file maps to. */
  get segments(): number {
    return this.segStart.length;
  }

  /**
   * Whether records wrote every byte of [offset, offset + length) (else those bytes read as the
   * zeros of a hole: in a cut stream, what it never reached).
   */
  written(offset: number, length: number): boolean {
    const end = offset + length;
    // pages are read in runs: the segment of the last call usually holds this one too
    const h = this.lastWritten;
    if (h < this.segStart.length && offset >= this.segStart[h] && end <= this.segStart[h] + this.segLength[h]) return true;
    let at = offset;
    for (let i = Math.max(0, this.find(offset)); i < this.segStart.length && at < end; i++) {
      this.lastWritten = i;
      const s = this.segStart[i];
      const e = s + this.segLength[i];
      if (e <= at) continue;
      if (s > at) return false;
      at = e;
    }
    return at >= end;
  }

  private lastWritten = 0;

  /** Index of the last segment starting at or before `offset`, or -1. */
  private find(offset: number): number {
    return floorIndex(this.segStart.length, (i) => this.segStart[i], offset);
  }

  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    const i = this.find(offset);
    // fast path: the whole read lies in one segment
    if (i >= 0 && end <= this.segStart[i] + this.segLength[i]) {
      const got = this.inner.read(this.segFile[i] + (offset - this.segStart[i]), end - offset);
      if (got.length === end - offset) return got;
      throw new DumpError(`flattened dump: record data at file offset ${this.segFile[i]} cut short (file truncated?)`);
    }
    const out = new Uint8Array(end - offset);
    this.fill(offset, out, (at, piece) => {
      const got = this.inner.read(at, piece.length);
      piece.set(got.subarray(0, piece.length));
      return got.length;
    });
    return out;
  }

  /**
   * The logical bytes at `offset` into `dest` (inside the logical file): each piece a record
   * wrote copied by `copy(fileOffset, piece)` (which returns how many bytes it got), holes as zeros.
   */
  private fill(offset: number, dest: Uint8Array, copy: (fileOffset: number, piece: Uint8Array) => number): void {
    const end = offset + dest.length;
    let at = offset; // next logical byte to fill
    for (let i = Math.max(0, this.find(offset)); i < this.segStart.length && this.segStart[i] < end; i++) {
      const s = Math.max(offset, this.segStart[i]);
      const e = Math.min(end, this.segStart[i] + this.segLength[i]);
      if (e <= s) continue;
      if (s > at) dest.fill(0, at - offset, s - offset); // a hole: zeros, as in the replayed file
      if (copy(this.segFile[i] + (s - this.segStart[i]), dest.subarray(s - offset, e - offset)) !== e - s) {
        throw new DumpError(`flattened dump: record data at file offset ${this.segFile[i]} cut short (file truncated?)`);
      }
      at = e;
    }
    if (at < end) dest.fill(0, at - offset, end - offset);
  }
}

/**
 * Read the record headers, 16 bytes each, skipping the data. When records are small we read a
 * window ahead instead of one tiny read per record. Bounded: each record advances the position
 * by at least 16 bytes.
 */
function scanRecords(src: ByteSource, warnings: string[]): { recs: RawRecord[]; cut: boolean } {
  const head = src.read(0, MAX_SIZE_MDF_HEADER);
  if (!isFlattened(head)) throw new DumpError('not a makedumpfile flattened file (no "makedumpfile" signature)');
  if (head.length < 32) throw new DumpError(`flattened header cut short: file is ${src.size} bytes`);
  const type = be64(head, 16);
  const version = be64(head, 24);
  if (type !== TYPE_FLAT_HEADER) throw new DumpError(`flattened header: type ${type} is not TYPE_FLAT_HEADER (1)`);
  if (version !== VERSION_FLAT_HEADER) warnings.push(`flattened header: version ${version}, expected 1; reading anyway`);
  if (src.size < MAX_SIZE_MDF_HEADER) throw new DumpError(`flattened header cut short: file is ${src.size} bytes`);

  const recs: RawRecord[] = [];
  let win: Uint8Array = new Uint8Array(0);
  let winStart = 0;
  // a local file: headers read straight into reused buffers, past any cache (a record's 16 bytes
  // must not pull a whole cache block each, nor keep it). There a read call costs as much as
  // copying tens of KiB: records up to 64 KiB (QEMU writes 16 KiB ones) are read through a
  // window of 256 KiB (QEMU 7.2's 27 MB dump: 110 reads instead of 1772 of 16 bytes, 2-5 ms
  // instead of 7-17). Elsewhere (a File, a URL) bytes cost more than calls: a window of 64 KiB
  // only while records are under 8 KiB.
  const direct = src.readInto?.bind(src);
  const WINDOW = direct ? 256 * 1024 : 64 * 1024;
  const WINDOW_BELOW = direct ? 64 * 1024 : 8192;
  const winBuf = direct ? new Uint8Array(WINDOW) : undefined;
  const hdrBuf = new Uint8Array(DATA_HEADER_SIZE);
  let pos = MAX_SIZE_MDF_HEADER;
  let lastSize = 0;
  for (;;) {
    if (pos + DATA_HEADER_SIZE > src.size) {
      warnings.push(
        pos === src.size
          ? `flattened dump has no end marker after ${recs.length} records (file truncated at ${src.size} bytes?)`
          : `flattened dump: record header at file offset ${pos} cut short (file truncated at ${src.size} bytes?)`,
      );
      return { recs, cut: true };
    }
    let hdr: Uint8Array;
    if (pos >= winStart && pos + DATA_HEADER_SIZE <= winStart + win.length) {
      hdr = win.subarray(pos - winStart, pos - winStart + DATA_HEADER_SIZE);
    } else if (lastSize < WINDOW_BELOW) {
      win = winBuf ? winBuf.subarray(0, direct!(pos, winBuf)) : src.read(pos, WINDOW);
      winStart = pos;
      hdr = win.subarray(0, DATA_HEADER_SIZE);
    } else if (direct) {
      direct(pos, hdrBuf);
      hdr = hdrBuf;
    } else {
      hdr = src.read(pos, DATA_HEADER_SIZE);
    }
    const off = be64(hdr, 0);
    const size = be64(hdr, 8);
    if (off === END_FLAG_FLAT_HEADER) break;
    if (off < 0 || size < 0 || off > Number.MAX_SAFE_INTEGER || size > src.size) {
      throw new DumpError(
        `flattened dump: bad record header at file offset ${pos} (offset ${off}, size ${size})`,
      );
    }
    const start = off;
    const n = size;
    const dataAt = pos + DATA_HEADER_SIZE;
    if (dataAt + n > src.size) {
      warnings.push(
        `flattened dump: record at file offset ${pos} runs past end of file (file truncated at ${src.size} bytes?); its data is cut`,
      );
      if (src.size > dataAt) recs.push({ start, end: start + (src.size - dataAt), fileOffset: dataAt, seq: recs.length });
      return { recs, cut: true };
    }
    if (n > 0) recs.push({ start, end: start + n, fileOffset: dataAt, seq: recs.length });
    lastSize = n;
    pos = dataAt + n;
  }
  return { recs, cut: false };
}

/**
 * Turn records (in write order) into disjoint segments where the latest record wins: a sweep
 * over the sorted boundaries with a max-heap of covering records by sequence number.
 */
function resolve(recs: RawRecord[]): Segment[] {
  const sorted = recs.slice().sort((a, b) => a.start - b.start || a.seq - b.seq);
  // fast path: no overlaps (the usual case for makedumpfile -F output)
  let overlaps = false;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start < sorted[i - 1].end) {
      overlaps = true;
      break;
    }
  }
  const out: Segment[] = [];
  const push = (start: number, end: number, fileOffset: number) => {
    const last = out[out.length - 1];
    if (last && last.start + last.length === start && last.fileOffset + last.length === fileOffset) {
      last.length += end - start;
    } else out.push({ start, length: end - start, fileOffset });
  };
  if (!overlaps) {
    for (const r of sorted) push(r.start, r.end, r.fileOffset);
    return out;
  }
  const points = Array.from(new Set(sorted.flatMap((r) => [r.start, r.end]))).sort((a, b) => a - b);
  const heap: RawRecord[] = []; // max-heap by seq
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p].seq >= heap[i].seq) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && heap[l].seq > heap[m].seq) m = l;
      if (r < heap.length && heap[r].seq > heap[m].seq) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i], heap[m]];
      i = m;
    }
  };
  let next = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const p = points[k];
    while (next < sorted.length && sorted[next].start <= p) {
      heap.push(sorted[next++]);
      up(heap.length - 1);
    }
    while (heap.length && heap[0].end <= p) {
      const last = heap.pop()!;
      if (heap.length) {
        heap[0] = last;
        down(0);
      }
    }
    if (heap.length) {
      const w = heap[0];
      push(p, points[k + 1], w.fileOffset + (p - w.start));
    }
  }
  return out;
}

/** Replay a flattened file into its logical kdump file. Throws DumpError on a bad header. */
export function openFlattened(src: ByteSource): FlattenedSource {
  return new FlattenedSource(src);
}
