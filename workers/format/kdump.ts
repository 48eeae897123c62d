/**
 * kdump-compressed (diskdump) files as makedumpfile and QEMU write them, plain or in the
 * flattened format (flattened.ts replays it into the logical file we read here).
 *
 * File layout (all little-endian on x86_64; "block" = disk_dump_header.block_size = page size):
 *   block 0            struct disk_dump_header
 *   block 1 ..         struct kdump_sub_header (sub_hdr_size blocks; the ELF notes and the
 *                      VMCOREINFO text it points to usually live in these blocks too)
 *   then               1st bitmap: one bit per pfn, set for pages that exist (not a hole)
 *                      2nd bitmap: set for pages whose data is in the dump
 *                      (together bitmap_blocks blocks, each half bitmap_blocks*block_size/2)
 *   then               struct page_desc[], one per set bit of the 2nd bitmap, in pfn order
 *   then               page data, at page_desc.offset, page_desc.size bytes each
 *
 * Nothing is read eagerly beyond the two headers and the notes: the bitmaps are read the
 * first time a page is needed, the page_desc of a pfn is found by rank (the number of set bits
 * of the 2nd bitmap before it, from a table of cumulative counts) and read through a block
 * cache, and decompressed pages are kept in an LRU with a byte budget.
 */
import { cstr, i32, i64, u32, u64 } from '../bytes';
import { DumpError, MemoryError, expectedError, type MemoryErrorKind } from '../errors';
import { noteProblem } from '../problems';
import type { ByteSource } from '../source/bytesource';
import { CachedSource } from '../source/cached';
import { LruCache } from '../source/lru';
import {
  COMPRESSION_FLAGS,
  CodecError,
  compressionOfFlags,
  decompressPage,
} from './codecs/index';
import { FlattenedSource, isFlattened, openFlattened } from './flattened';
import { parseNotes, parsePrStatus, vmcoreinfoFromNotes } from './notes';
import type {
  Compression,
  DumpFormatName,
  DumpHeaderInfo,
  ElfNote,
  PhysRange,
  PhysicalDump,
  PrStatus,
} from './types';

export { isFlattened, openFlattened } from './flattened';

// struct disk_dump_header (x86_64 offsets): signature[8], header_version i32 @8,
// struct new_utsname @12 (6 x 65 bytes), struct timeval timestamp @408 (tv_sec, tv_usec: i64),
// status u32 @424, block_size i32 @428, sub_hdr_size i32 @432, bitmap_blocks u32 @436,
// max_mapnr u32 @440, total_ram_blocks @444, device_blocks @448, written_blocks @452,
// current_cpu u32 @456, nr_cpus i32 @460, tasks[nr_cpus] @464.
const H_VERSION = 8;
const H_UTSNAME = 12;
const UTS_LEN = 65;
const H_TIMESTAMP = 408;
const H_STATUS = 424;
const H_BLOCK_SIZE = 428;
const H_SUB_HDR_SIZE = 432;
const H_BITMAP_BLOCKS = 436;
const H_MAX_MAPNR = 440;
const H_CURRENT_CPU = 456;
const H_NR_CPUS = 460;
const DISK_DUMP_HEADER_SIZE = 464;

// struct kdump_sub_header, at file offset block_size; fields by the header_version that added them:
// phys_base u64 @0 (v1), dump_level i32 @8 (v1), split i32 @12 (v2), start_pfn u64 @16 (v2),
// end_pfn u64 @24 (v2), offset_vmcoreinfo @32 / size_vmcoreinfo @40 (v3),
// offset_note @48 / size_note @56 (v4), offset_eraseinfo @64 / size_eraseinfo @72 (v5),
// start_pfn_64 @80 / end_pfn_64 @88 / max_mapnr_64 @96 (v6).
const SUB_HEADER_SIZE_BY_VERSION = [0, 16, 32, 48, 64, 80, 104];

/** disk_dump_header.status: DUMP_DH_COMPRESSED_INCOMPLETE, set when the writer ran out of space. */
export const DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
/** disk_dump_header.status: DUMP_DH_EXCLUDED_VMEMMAP (makedumpfile -e). */
export const DUMP_DH_EXCLUDED_VMEMMAP = 0x10;

/** struct page_desc: offset i64 @0, size u32 @8, flags u32 @12, page_flags u64 @16. */
const PAGE_DESC_SIZE = 24;

/** Number of bits per entry of the rank table (cumulative set-bit counts of the 2nd bitmap). */
const RANK_CHUNK_BITS = 512;
const RANK_CHUNK_BYTES = RANK_CHUNK_BITS / 8;

/** Bounds that keep a corrupt header from making us allocate or scan absurd amounts. */
const MAX_MAPNR_LIMIT = 2 ** 36; // 256 TiB of 4 KiB pages; bitmaps of 8 GiB would be read lazily
const MAX_NOTES_SIZE = 64 * 1024 * 1024;
const COMPRESSION_SAMPLE = 64;

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

export interface KdumpOptions {
  /** byte budget of the decompressed page cache (default 32 MiB) */
  pageCacheBytes?: number;
  /** byte budget of the raw file block cache holding page descriptors and data (default 16 MiB) */
  fileCacheBytes?: number;
}

/** Layout facts of an opened kdump file (for tests, `sys`-like displays and debugging). */
export interface KdumpLayout {
  signature: string;
  blockSize: number;
  subHdrSize: number;
  bitmapBlocks: number;
  maxMapnr: number;
  physBase: bigint;
  split: boolean;
  startPfn: number;
  endPfn: number;
  /** file offsets of the 1st and 2nd bitmaps and of the page_desc table */
  bitmap1Offset: number;
  bitmap2Offset: number;
  descOffset: number;
}

/** A struct page_desc, with the file offset it was read from. */
export interface PageDescriptor {
  /** file offset of this descriptor */
  descAt: number;
  /** page_desc.offset: file offset of the page data */
  offset: bigint;
  /** page_desc.size: bytes of page data (block_size when stored uncompressed) */
  dataLen: number;
  /** page_desc.flags: DUMP_DH_COMPRESSED_* bits */
  flags: number;
  /** page_desc.page_flags: struct page flags of the page (makedumpfile fills it in; often 0) */
  pageFlags: bigint;
}

/** Whether the first bytes of a file are a disk_dump_header ("KDUMP   " or "DISKDUMP"). */
export function isKdump(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const sig = String.fromCharCode(...head.subarray(0, 8));
  return sig === 'KDUMP   ' || sig === 'DISKDUMP';
}

/** Whether `head` starts a kdump file this module opens, plain or flattened. */
export function isKdumpOrFlattened(head: Uint8Array): boolean {
  return isKdump(head) || isFlattened(head);
}

/** A u64/i64 header field that must be a file offset or size: a DumpError names it if not. */
function fileNumber(b: Uint8Array, o: number, what: string): number {
  const v = i64(b, o);
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DumpError(`kdump sub header: ${what} ${v} is not a valid file offset or size`);
  return Number(v);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** A file truncated hint for DumpError messages. */
function cut(size: number): string {
  return `(file truncated at ${size} bytes?)`;
}

/**
 * Open a kdump-compressed file (or its flattened form). Reads the headers and notes only.
 * Throws DumpError with a one-line message when the file is not usable.
 */
export function openKdump(src: ByteSource, opts: KdumpOptions = {}): KdumpDump {
  try {
    return new KdumpDump(src, opts);
  } catch (e) {
    if (e instanceof DumpError) throw e;
    // anything else (a RangeError from a corrupt field we did not foresee) is still bad input
    throw new DumpError(`kdump: unreadable header (${(e as Error).message?.split('\n')[0] ?? String(e)})`);
  }
}

/** most bytes of page data read ahead of a sequential run of page reads (ByteSource.readInto) */
const DATA_AHEAD_MAX = 256 * 1024;

export class KdumpDump implements PhysicalDump {
  readonly format: DumpFormatName;
  readonly compression: Compression;
  readonly pageSize: number;
  readonly vmcoreinfo: string | null;
  readonly notes: ElfNote[];
  readonly prstatus: PrStatus[];
  readonly header: DumpHeaderInfo;
  readonly warnings: string[] = [];
  readonly maxPhys: number;
  readonly layout: KdumpLayout;

  /** the logical kdump file, through a block cache (descriptors, page data, notes) */
  private file: CachedSource;
  /** the logical kdump file without the cache (one-off large reads: bitmaps) */
  private raw: ByteSource;
  /** the replayed stream of a flattened dump (bytes no record wrote are a hole: zeros) */
  private flat: FlattenedSource | null = null;
  private incomplete: boolean;
  private bitmapBytes: number;
  private bitmap1?: Uint8Array;
  private bitmap2?: Uint8Array;
  private rankTable?: Uint32Array;
  private rankBase = 0;
  private pages: LruCache<number, Uint8Array>;
  private rangesCache?: PhysRange[];
  /**
   * Where page data starts in the file (right after the descriptor table), once checked; and
   * the first pfn whose data cannot be trusted because the 2nd bitmap and the descriptor table
   * disagree (null: they agree). See checkTable().
   */
  private dataStart = 0;
  private untrustedFrom: number | null = null;
  private untrustedWhy = '';

  constructor(src: ByteSource, opts: KdumpOptions = {}) {
    let logical: ByteSource = src;
    this.format = 'kdump';
    if (src instanceof FlattenedSource) {
      // already replayed by the caller (detect.ts: openKdump(openFlattened(src)))
      this.warnings.push(...src.warnings);
      this.format = 'kdump-flat';
    } else if (isFlattened(src.read(0, 16))) {
      const flat = openFlattened(src);
      this.warnings.push(...flat.warnings);
      logical = flat;
      this.format = 'kdump-flat';
    }
    this.raw = logical;
    if (logical instanceof FlattenedSource) this.flat = logical;
    // blocks of a local file are small (random descriptor reads should not pull in 64 KiB each;
    // page data is read past this cache, see pageData); a File or URL read costs a call each
    const block = logical.readInto ? (logical.preferredBlockSize ?? 4096) : Math.max(64 * 1024, logical.preferredBlockSize ?? 0);
    this.file = new CachedSource(logical, block, opts.fileCacheBytes ?? 16 * 1024 * 1024);
    this.pages = new LruCache(opts.pageCacheBytes ?? 32 * 1024 * 1024, (b) => b.byteLength);
    const size = this.file.size;

    // ---- struct disk_dump_header
    const h = this.file.read(0, DISK_DUMP_HEADER_SIZE);
    if (h.length < 8 || !isKdump(h)) {
      throw new DumpError(
        this.format === 'kdump-flat'
          ? 'flattened dump does not hold a kdump file (no "KDUMP   " signature at logical offset 0)'
          : 'not a kdump-compressed file (no "KDUMP   " signature)',
      );
    }
    if (h.length < DISK_DUMP_HEADER_SIZE) {
      throw new DumpError(`kdump header cut short: file is ${size} bytes, the header needs ${DISK_DUMP_HEADER_SIZE}`);
    }
    const signature = String.fromCharCode(...h.subarray(0, 8)).trimEnd();
    const headerVersion = i32(h, H_VERSION);
    const blockSize = i32(h, H_BLOCK_SIZE);
    const subHdrSize = i32(h, H_SUB_HDR_SIZE);
    const bitmapBlocks = u32(h, H_BITMAP_BLOCKS);
    const status = u32(h, H_STATUS);
    const nrCpus = i32(h, H_NR_CPUS);
    if (headerVersion < 0 || headerVersion > 1000) throw new DumpError(`kdump header: header_version ${headerVersion} is not sane`);
    if (!isPowerOfTwo(blockSize) || blockSize < 512 || blockSize > 65536) {
      throw new DumpError(`kdump header: block_size ${blockSize} is not a power of two between 512 and 65536`);
    }
    if (subHdrSize < 0 || subHdrSize > 65536) throw new DumpError(`kdump header: sub_hdr_size ${subHdrSize} blocks is not sane`);
    if (bitmapBlocks === 0) throw new DumpError('kdump header: bitmap_blocks is 0');
    if (nrCpus < 0 || nrCpus > 65536) this.warnings.push(`kdump header: nr_cpus ${nrCpus} is not sane; ignored`);
    const isKdumpSig = signature === 'KDUMP';
    if (isKdumpSig && headerVersion > 6) {
      this.warnings.push(`kdump header: header_version ${headerVersion} is newer than 6; reading the version 6 fields`);
    }

    // ---- struct kdump_sub_header (kdump only; diskdump's sub header is arch-specific)
    const version = isKdumpSig ? Math.min(headerVersion, 6) : 0;
    const subBytes = SUB_HEADER_SIZE_BY_VERSION[version];
    let sub = new Uint8Array(SUB_HEADER_SIZE_BY_VERSION[6]);
    if (subBytes > 0) {
      if (subHdrSize === 0) throw new DumpError(`kdump header: sub_hdr_size is 0 but header_version ${headerVersion} needs a sub header`);
      if (blockSize + subBytes > size) throw new DumpError(`kdump sub header runs past end of file ${cut(size)}`);
      sub.set(this.file.read(blockSize, subBytes));
    }
    const physBase = u64(sub, 0);
    const dumpLevel = version >= 1 ? i32(sub, 8) : undefined;
    const split = version >= 2 && i32(sub, 12) !== 0;

    let maxMapnr = u32(h, H_MAX_MAPNR);
    if (version >= 6) {
      const m64 = u64(sub, 96);
      if (m64 > BigInt(MAX_MAPNR_LIMIT)) throw new DumpError(`kdump sub header: max_mapnr_64 ${m64} is not sane`);
      if (m64 !== 0n) maxMapnr = Number(m64);
    }
    if (maxMapnr === 0) throw new DumpError('kdump header: max_mapnr is 0');
    if (maxMapnr > MAX_MAPNR_LIMIT) throw new DumpError(`kdump header: max_mapnr ${maxMapnr} is not sane`);

    let startPfn = 0;
    let endPfn = maxMapnr;
    if (split) {
      const s = version >= 6 ? u64(sub, 80) : u64(sub, 16);
      const e = version >= 6 ? u64(sub, 88) : u64(sub, 24);
      if (s > e || e > BigInt(maxMapnr)) throw new DumpError(`kdump sub header: split range pfn ${s}..${e} is outside max_mapnr ${maxMapnr}`);
      startPfn = Number(s);
      endPfn = Number(e);
      this.warnings.push(
        `kdump: this file is one part of a split dump (pfn 0x${startPfn.toString(16)}..0x${endPfn.toString(16)}); other pages are in the other files`,
      );
    }

    // ---- bitmaps and the page_desc table
    const bitmap1Offset = blockSize * (1 + subHdrSize);
    const bitmapTotal = bitmapBlocks * blockSize;
    const half = Math.floor(bitmapTotal / 2);
    this.bitmapBytes = Math.ceil(maxMapnr / 8);
    if (half < this.bitmapBytes) {
      throw new DumpError(`kdump header: bitmap of ${half} bytes is too small for max_mapnr ${maxMapnr}`);
    }
    const descOffset = bitmap1Offset + bitmapTotal;
    if (descOffset > size) throw new DumpError(`kdump bitmap runs past end of file ${cut(size)}`);

    this.pageSize = blockSize;
    this.maxPhys = maxMapnr * blockSize;
    this.incomplete = (status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0;
    if (this.incomplete) {
      this.warnings.push('kdump: the dump is incomplete (DUMP_DH_COMPRESSED_INCOMPLETE): the writer stopped early, later pages are missing');
    }
    this.layout = {
      signature,
      blockSize,
      subHdrSize,
      bitmapBlocks,
      maxMapnr,
      physBase,
      split,
      startPfn,
      endPfn,
      bitmap1Offset,
      bitmap2Offset: bitmap1Offset + half,
      descOffset,
    };

    // ---- notes (v4+) and VMCOREINFO (v3+)
    let notes: ElfNote[] = [];
    if (version >= 4) {
      const off = fileNumber(sub, 48, 'offset_note');
      const len = fileNumber(sub, 56, 'size_note');
      if (len > 0) {
        if (len > MAX_NOTES_SIZE) throw new DumpError(`kdump sub header: size_note ${len} is not sane`);
        if (off + len > size) throw new DumpError(`kdump notes (offset ${off}, ${len} bytes) run past end of file ${cut(size)}`);
        notes = parseNotes(this.file.read(off, len).slice(), this.warnings);
      }
    }
    let vmcoreinfo = vmcoreinfoFromNotes(notes);
    if (vmcoreinfo === null && version >= 3) {
      const off = fileNumber(sub, 32, 'offset_vmcoreinfo');
      const len = fileNumber(sub, 40, 'size_vmcoreinfo');
      if (len > 0) {
        if (len > MAX_NOTES_SIZE) throw new DumpError(`kdump sub header: size_vmcoreinfo ${len} is not sane`);
        if (off + len > size) throw new DumpError(`kdump VMCOREINFO (offset ${off}, ${len} bytes) runs past end of file ${cut(size)}`);
        vmcoreinfo = new TextDecoder('latin1').decode(this.file.read(off, len)).replace(/\0+$/, '');
      }
    }
    if (vmcoreinfo === null) this.warnings.push('kdump: no VMCOREINFO in the dump');
    this.notes = notes;
    this.vmcoreinfo = vmcoreinfo;
    this.prstatus = parsePrStatus(notes);

    const uts = (i: number) => cstr(h, H_UTSNAME + i * UTS_LEN, UTS_LEN);
    this.header = {
      utsname: { sysname: uts(0), nodename: uts(1), release: uts(2), version: uts(3), machine: uts(4), domainname: uts(5) },
      timestamp: Number(i64(h, H_TIMESTAMP)),
      status,
      incomplete: this.incomplete,
      nrCpus: nrCpus >= 0 && nrCpus <= 65536 ? nrCpus : undefined,
      currentCpu: u32(h, H_CURRENT_CPU),
      headerVersion,
      dumpLevel,
    };
    this.compression = this.sampleCompression(status);
  }

  /**
   * The codec of the dump: the DUMP_DH_COMPRESSED_* bits of the first few compressed page
   * descriptors (read straight from the start of the table, no bitmap needed), or the header
   * status bits when none of those is compressed.
   */
  private sampleCompression(status: number): Compression {
    const { descOffset } = this.layout;
    const size = this.file.size;
    let flagsSeen = 0;
    let compressed = 0;
    let sampled = 0;
    // The table ends where page data starts: no descriptor lies at or past the smallest data
    // offset seen so far, so we never read page data as descriptors.
    let tableEnd = size;
    for (let i = 0; compressed < COMPRESSION_SAMPLE && i < 4 * COMPRESSION_SAMPLE; i++) {
      const at = descOffset + i * PAGE_DESC_SIZE;
      if (at + PAGE_DESC_SIZE > tableEnd) break;
      const d = this.file.read(at, PAGE_DESC_SIZE);
      if (d.length < PAGE_DESC_SIZE) break;
      const off = i64(d, 0);
      const len = u32(d, 8);
      const flags = u32(d, 12);
      if (off <= BigInt(at) || off > BigInt(size) || len === 0) continue; // not written or corrupt
      tableEnd = Math.min(tableEnd, Number(off));
      sampled++;
      if (flags & COMPRESSION_FLAGS) {
        flagsSeen |= flags & COMPRESSION_FLAGS;
        compressed++;
      }
    }
    if (!flagsSeen && sampled >= 16 && (status & COMPRESSION_FLAGS)) {
      // the header claims a codec no page uses: trust the pages, say the header is damaged
      this.warnings.push(`kdump header: status 0x${status.toString(16)} names a compression, but the first ${sampled} pages are stored uncompressed (damaged header?)`);
      return 'none';
    }
    return compressionOfFlags(flagsSeen || status);
  }

  // ---------------------------------------------------------------- bitmaps and rank

  private loadBitmap(which: 1 | 2): Uint8Array {
    const off = which === 1 ? this.layout.bitmap1Offset : this.layout.bitmap2Offset;
    let b: Uint8Array;
    try {
      b = this.raw.read(off, this.bitmapBytes);
    } catch (e) {
      throw new DumpError(`kdump: cannot read the ${which === 1 ? '1st' : '2nd'} bitmap (${(e as Error).message})`);
    }
    if (b.length < this.bitmapBytes) throw new DumpError(`kdump bitmap runs past end of file ${cut(this.raw.size)}`);
    return b;
  }

  /** 1st bitmap: pages that exist (RAM, not a hole). */
  private get bm1(): Uint8Array {
    return (this.bitmap1 ??= this.loadBitmap(1));
  }

  /** 2nd bitmap: pages whose data is in the dump. */
  private get bm2(): Uint8Array {
    return (this.bitmap2 ??= this.loadBitmap(2));
  }

  /** Cumulative set-bit counts of the 2nd bitmap, one entry per RANK_CHUNK_BITS pfns. */
  private get ranks(): Uint32Array {
    if (!this.rankTable) {
      const bm = this.bm2;
      const chunks = Math.ceil(bm.length / RANK_CHUNK_BYTES);
      const t = new Uint32Array(chunks + 1);
      let acc = 0;
      for (let c = 0; c < chunks; c++) {
        t[c] = acc;
        const end = Math.min(bm.length, (c + 1) * RANK_CHUNK_BYTES);
        for (let i = c * RANK_CHUNK_BYTES; i < end; i++) acc += POPCOUNT[bm[i]];
      }
      t[chunks] = acc;
      this.rankTable = t;
      this.rankBase = this.rank(this.layout.startPfn);
      this.checkTable();
    }
    return this.rankTable;
  }

  /**
   * The 2nd bitmap and the page_desc table must agree: one descriptor per set bit, and the page
   * data starts where the table ends (makedumpfile and QEMU write the data area, beginning with
   * the shared zero page, right after the last descriptor). The smallest data offset among the
   * first descriptors is that start, or one block past it when no descriptor uses the zero
   * page. When they disagree, a bit was flipped or the table damaged: every page after the
   * damage would silently read a neighbour's descriptor. We cannot always tell where the damage
   * is; a pfn set in the 2nd bitmap but not in the 1st (a page with data that does not exist)
   * locates it, else every page is suspect. Reads of suspect pages still return their bytes but
   * carry a problem.
   */
  private checkTable(): void {
    const { descOffset, blockSize } = this.layout;
    const size = this.file.size;
    const n = this.dumpedPages();
    const expected = descOffset + n * PAGE_DESC_SIZE;
    let min = Infinity;
    for (let i = 0; i < 4 * COMPRESSION_SAMPLE; i++) {
      const at = descOffset + i * PAGE_DESC_SIZE;
      if (at + PAGE_DESC_SIZE > Math.min(size, min)) break;
      const d = this.file.read(at, PAGE_DESC_SIZE);
      if (d.length < PAGE_DESC_SIZE) break;
      const off = i64(d, 0);
      if (off <= BigInt(at) || off > BigInt(size) || u32(d, 8) === 0) continue;
      min = Math.min(min, Number(off));
    }
    this.dataStart = expected;
    // a page with data must exist: a pfn set in the 2nd bitmap but not in the 1st means one of
    // them is damaged, even when the counts still agree (two flips cancelling out)
    const bm1 = this.bm1;
    const bm2 = this.bm2;
    let orphan = -1;
    for (let byte = Math.floor(this.layout.startPfn / 8); byte < bm2.length; byte++) {
      const extra = bm2[byte] & ~bm1[byte];
      if (extra) {
        orphan = byte * 8 + Math.log2(extra & -extra);
        break;
      }
    }
    if (min === Infinity && orphan < 0) return; // no descriptor written (an empty or incomplete dump)
    const gap = min - expected;
    if ((gap === 0 || gap === blockSize) && orphan < 0) return;
    if (gap === 0 || gap === blockSize || min === Infinity) {
      this.untrustedFrom = orphan;
      this.untrustedWhy =
        `kdump: pfn 0x${orphan.toString(16)} has data in the 2nd bitmap but is not a page in the 1st (a damaged bitmap): ` +
        `pages from pfn 0x${orphan.toString(16)} on may show a neighbouring page's data`;
      this.warnings.push(this.untrustedWhy);
      return;
    }
    // the table holds (min - descOffset) / 24 descriptors (or one block less)
    const tableCount = Math.floor((min - descOffset) / PAGE_DESC_SIZE);
    this.dataStart = Math.min(expected, min);
    const from = orphan >= 0 ? orphan : this.layout.startPfn;
    this.untrustedFrom = from;
    this.untrustedWhy =
      `kdump: the 2nd bitmap has ${n} pages with data but the page descriptor table holds about ${tableCount} ` +
      `(page data starts at file offset ${min}, not ${expected}): pages from pfn 0x${from.toString(16)} on may show a neighbouring page's data`;
    this.warnings.push(this.untrustedWhy);
  }

  /** Pfns from this one on cannot be trusted (bitmap/descriptor mismatch); null when all agree. */
  get untrustedFromPfn(): number | null {
    void this.ranks;
    return this.untrustedFrom;
  }

  /** Number of set bits of the 2nd bitmap for pfns below `pfn`. */
  private rank(pfn: number): number {
    const t = this.rankTable!;
    const bm = this.bitmap2!;
    const chunk = Math.floor(pfn / RANK_CHUNK_BITS);
    let n = t[chunk];
    const byte = Math.floor(pfn / 8);
    for (let i = chunk * RANK_CHUNK_BYTES; i < byte; i++) n += POPCOUNT[bm[i]];
    const bit = pfn & 7;
    if (bit) n += POPCOUNT[bm[byte] & ((1 << bit) - 1)];
    return n;
  }

  private static bit(bm: Uint8Array, pfn: number): boolean {
    return (bm[Math.floor(pfn / 8)] & (1 << (pfn & 7))) !== 0;
  }

  /** Number of pages with data in this file (set bits of the 2nd bitmap in its pfn range). */
  dumpedPages(): number {
    const t = this.ranks;
    const end = this.layout.endPfn;
    const total = end >= this.layout.maxMapnr ? t[t.length - 1] : this.rank(end);
    return total - this.rankBase;
  }

  /**
   * The size the file should have: the end of the last dumped page's data (page descriptors are
   * in pfn order, their data in the same order). When the file ends inside the descriptor table
   * the end is unknown: at least the table's end.
   */
  expectedSize(): { bytes: number; atLeast: boolean } | null {
    let n: number;
    try {
      n = this.dumpedPages();
    } catch (e) {
      expectedError(e); // the bitmap cannot be read: the size is unknown
      return null;
    }
    const tableEnd = this.layout.descOffset + n * PAGE_DESC_SIZE;
    if (n === 0) return { bytes: Math.max(tableEnd, this.raw.size), atLeast: false };
    if (tableEnd > this.raw.size) return { bytes: tableEnd, atLeast: true };
    // the last few descriptors (a zero page shares one early data block, so not just the last)
    const k = Math.min(n, 64);
    const d = this.raw.read(tableEnd - k * PAGE_DESC_SIZE, k * PAGE_DESC_SIZE);
    let end = 0;
    for (let i = 0; i + PAGE_DESC_SIZE <= d.length; i += PAGE_DESC_SIZE) {
      const e = Number(i64(d, i)) + u32(d, i + 8);
      if (Number.isSafeInteger(e)) end = Math.max(end, e);
    }
    if (end < tableEnd) return { bytes: tableEnd, atLeast: true };
    return { bytes: end, atLeast: false };
  }

  /** What the dump holds for the page of `paddr`: its data, an excluded page, or nothing. */
  pageState(paddr: number): 'dumped' | 'excluded' | 'no-memory' {
    const pfn = Math.floor(paddr / this.pageSize);
    if (!(pfn >= 0 && pfn < this.layout.maxMapnr)) return 'no-memory';
    if (KdumpDump.bit(this.bm2, pfn)) return pfn >= this.layout.startPfn && pfn < this.layout.endPfn ? 'dumped' : 'excluded';
    return KdumpDump.bit(this.bm1, pfn) ? 'excluded' : 'no-memory';
  }

  // ---------------------------------------------------------------- PhysicalDump

  ranges(): PhysRange[] {
    if (this.rangesCache) return this.rangesCache;
    const bm = this.bm1;
    const n = this.layout.maxMapnr;
    const ps = this.pageSize;
    const out: PhysRange[] = [];
    let runStart = -1;
    let pfn = 0;
    while (pfn < n) {
      const byte = bm[pfn >> 3];
      // whole bytes of 0x00 / 0xff at a byte boundary: skip 8 pfns at once
      if ((pfn & 7) === 0 && pfn + 8 <= n && (byte === 0 || byte === 0xff)) {
        if (byte === 0xff && runStart < 0) runStart = pfn;
        if (byte === 0 && runStart >= 0) {
          out.push({ start: runStart * ps, end: pfn * ps });
          runStart = -1;
        }
        pfn += 8;
        continue;
      }
      const set = (byte & (1 << (pfn & 7))) !== 0;
      if (set && runStart < 0) runStart = pfn;
      if (!set && runStart >= 0) {
        out.push({ start: runStart * ps, end: pfn * ps });
        runStart = -1;
      }
      pfn++;
    }
    if (runStart >= 0) out.push({ start: runStart * ps, end: n * ps });
    return (this.rangesCache = out);
  }

  hasPage(paddr: number): boolean {
    return this.pageState(paddr) === 'dumped';
  }

  readPhys(paddr: number, len: number): Uint8Array {
    if (!Number.isSafeInteger(paddr) || paddr < 0 || !Number.isSafeInteger(len) || len < 0) {
      throw new MemoryError('no-such-memory', BigInt(Number.isSafeInteger(paddr) && paddr >= 0 ? paddr : 0), 'physical', `bad read ${paddr}+${len}`);
    }
    if (paddr + len > this.maxPhys) {
      // checked before allocating: a huge len must not become a RangeError
      throw new MemoryError('no-such-memory', BigInt(Math.max(paddr, this.maxPhys)), 'physical', `read of ${len} bytes runs beyond max_mapnr`);
    }
    const ps = this.pageSize;
    const pfn = Math.floor(paddr / ps);
    const inPage = paddr - pfn * ps;
    void this.ranks; // loads the bitmaps and checks them against the descriptor table
    if (this.untrustedFrom !== null && Math.floor((paddr + Math.max(len, 1) - 1) / ps) >= this.untrustedFrom) {
      noteProblem('kdump:untrusted', this.untrustedWhy);
    }
    if (inPage + len <= ps) return this.page(pfn, paddr).subarray(inPage, inPage + len);
    const out = new Uint8Array(len);
    this.fillPages(paddr, out, true);
    return out;
  }

  copyPhys(paddr: number, dest: Uint8Array): void {
    const len = dest.length;
    if (len <= this.pageSize || !Number.isSafeInteger(paddr) || paddr < 0 || paddr + len > this.maxPhys) {
      dest.set(this.readPhys(paddr, len)); // the checks and errors of readPhys
      return;
    }
    void this.ranks;
    if (this.untrustedFrom !== null && Math.floor((paddr + len - 1) / this.pageSize) >= this.untrustedFrom) noteProblem('kdump:untrusted', this.untrustedWhy);
    this.fillPages(paddr, dest, false);
  }

  /**
   * dest.length bytes from `paddr`, page by page: through the page cache (`keep`), or, for pages
   * it lacks, decoded into dest itself (a whole page) or into one scratch page, and not kept.
   */
  private fillPages(paddr: number, dest: Uint8Array, keep: boolean): void {
    const ps = this.pageSize;
    const len = dest.length;
    let done = 0;
    while (done < len) {
      const a = paddr + done;
      const p = Math.floor(a / ps);
      const o = a - p * ps;
      const n = Math.min(ps - o, len - done);
      const cached = keep ? this.page(p, a) : this.pages.get(p);
      if (cached) dest.set(cached.subarray(o, o + n), done);
      else if (o === 0 && n === ps) this.page(p, a, dest.subarray(done, done + ps));
      else dest.set(this.page(p, a, (this.pageScratch ??= new Uint8Array(ps))).subarray(o, o + n), done);
      done += n;
    }
  }

  /** a page decoded for copyPhys (not cached) */
  private pageScratch?: Uint8Array;
  /** compressed page data read straight from a local file (ByteSource.readInto) */
  private dataScratch?: Uint8Array;

  /**
   * The decompressed contents of page `pfn` (shared with the cache: do not modify); with
   * `into`, decoded into it (pageSize bytes) and not cached.
   */
  private page(pfn: number, addr: number, into?: Uint8Array): Uint8Array {
    const hit = into ? undefined : this.pages.get(pfn);
    if (hit) return hit;
    const fail = (kind: MemoryErrorKind, detail: string): never => {
      throw new MemoryError(kind, BigInt(addr), 'physical', detail);
    };
    const { maxMapnr, startPfn, endPfn, descOffset, blockSize } = this.layout;
    if (pfn >= maxMapnr) fail('no-such-memory', `pfn 0x${pfn.toString(16)} is beyond max_mapnr 0x${maxMapnr.toString(16)}`);
    void this.ranks; // loads the 2nd bitmap and the rank table
    if (!KdumpDump.bit(this.bm2, pfn)) {
      if (KdumpDump.bit(this.bm1, pfn)) fail('not-in-dump', 'excluded from the dump');
      fail('no-such-memory', 'not RAM (a hole in the 1st bitmap)');
    }
    if (pfn < startPfn || pfn >= endPfn) fail('not-in-dump', 'in another file of a split dump');

    const desc = this.descriptorAt(pfn, addr);
    const { descAt, dataLen, flags } = desc;
    if (desc.offset === 0n && dataLen === 0 && flags === 0) {
      // makedumpfile leaves the descriptors of pages it never wrote zero
      if (this.incomplete) {
        noteProblem('kdump:incomplete', 'kdump: the dump is incomplete (DUMP_DH_COMPRESSED_INCOMPLETE): pages the writer never wrote were read');
        fail('not-in-dump', 'page not written: the dump is incomplete');
      }
      // a flattened stream cut before it wrote the descriptor (a hole reads as zeros)
      if (this.flat?.cut && !this.flat.written(descAt, PAGE_DESC_SIZE)) {
        fail('truncated', `page descriptor at file offset ${descAt} never written: the flattened stream ends before it`);
      }
      fail('corrupt', `empty page descriptor at file offset ${descAt}`);
    }
    if (desc.offset < BigInt(Math.max(descOffset, this.dataStart)) || desc.offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      fail('corrupt', `page descriptor at file offset ${descAt} points to offset ${desc.offset}`);
    }
    const size = this.file.size;
    const dataAt = Number(desc.offset);
    const compressed = (flags & COMPRESSION_FLAGS) !== 0;
    if (dataLen === 0 || dataLen > 2 * blockSize || (!compressed && dataLen !== blockSize)) {
      fail('corrupt', `page descriptor at file offset ${descAt}: bad size ${dataLen} (flags 0x${flags.toString(16)})`);
    }
    if (dataAt + dataLen > size) {
      fail('truncated', `page data at file offset ${dataAt}+${dataLen} is past end of file (${size} bytes)`);
    }
    if (this.flat && !this.flat.written(dataAt, dataLen)) {
      // no record wrote these bytes: they would read as a hole's zeros, never shown as the page
      if (this.flat.cut) fail('truncated', `page data at file offset ${dataAt}+${dataLen} never written: the flattened stream ends before it`);
      fail('corrupt', `page data at file offset ${dataAt}+${dataLen} written by no record of the flattened stream`);
    }
    const data = this.pageData(dataAt, dataLen, addr);
    let page: Uint8Array;
    if (compressed) {
      try {
        page = decompressPage(flags, data, blockSize, into);
      } catch (e) {
        if (e instanceof CodecError) fail('corrupt', e.message);
        fail('corrupt', `decompression failed: ${(e as Error).message}`);
      }
    } else if (into) {
      into.set(data);
      page = into;
    } else {
      page = data.slice(); // copy: `data` is the file block cache's or the scratch buffer
    }
    if (!into) this.pages.set(pfn, page!);
    return page!;
  }

  /**
   * A page's stored bytes: from a local file into a reused buffer (they are decoded or copied
   * at once, so no cache keeps a second copy of them), else through the file block cache.
   */
  private pageData(at: number, len: number, addr: number): Uint8Array {
    const direct = this.raw.readInto;
    if (!direct) return this.readFile(at, len, addr);
    const w = this.dataWin;
    if (this.dataScratch && at >= w.at && at + len <= w.at + w.len) {
      w.lastEnd = at + len;
      return this.dataScratch.subarray(at - w.at, at - w.at + len);
    }
    // pages read in file order (a run of memory: the BTF, a struct page array) read ahead, the
    // window doubling up to DATA_AHEAD_MAX; a random page reads just its bytes
    w.ahead = at === w.lastEnd ? Math.min(Math.max(2 * w.ahead, 16 * 1024), DATA_AHEAD_MAX) : 0;
    const want = Math.max(len, Math.min(len + w.ahead, this.file.size - at));
    if (!this.dataScratch || this.dataScratch.length < want) {
      this.dataScratch = new Uint8Array(Math.max(want, 2 * this.layout.blockSize, w.ahead ? DATA_AHEAD_MAX + 2 * this.layout.blockSize : 0));
    }
    const buf = this.dataScratch.subarray(0, want);
    let n: number;
    try {
      n = direct.call(this.raw, at, buf);
    } catch (e) {
      w.len = 0;
      throw new MemoryError('truncated', BigInt(addr), 'physical', (e as Error).message);
    }
    w.at = at;
    w.len = n;
    w.lastEnd = at + len;
    if (n < len) throw new MemoryError('truncated', BigInt(addr), 'physical', `file ends at ${this.file.size} bytes`);
    return buf.subarray(0, len);
  }

  /** the file bytes held in dataScratch (read ahead), and where the last page's data ended */
  private dataWin = { at: 0, len: 0, lastEnd: -1, ahead: 0 };

  /** Read the struct page_desc of a dumped `pfn` (2nd bitmap bit set, inside the split range). */
  private descriptorAt(pfn: number, addr: number): PageDescriptor {
    const descAt = this.layout.descOffset + (this.rank(pfn) - this.rankBase) * PAGE_DESC_SIZE;
    if (descAt + PAGE_DESC_SIZE > this.file.size) {
      throw new MemoryError('truncated', BigInt(addr), 'physical', `page descriptor at file offset ${descAt} is past end of file (${this.file.size} bytes)`);
    }
    const d = this.readFile(descAt, PAGE_DESC_SIZE, addr);
    return { descAt, offset: i64(d, 0), dataLen: u32(d, 8), flags: u32(d, 12), pageFlags: u64(d, 16) };
  }

  /**
   * The struct page_desc of the page holding `paddr` (where its data is in the file, its size
   * and flags), or null when the dump has no data for that page. Throws MemoryError
   * ('truncated') when the descriptor itself lies past the end of the file.
   */
  pageDescriptor(paddr: number): PageDescriptor | null {
    if (this.pageState(paddr) !== 'dumped') return null;
    void this.ranks;
    return this.descriptorAt(Math.floor(paddr / this.pageSize), paddr);
  }

  /** A file read that must return `len` bytes; a short read means the file ends early. */
  private readFile(at: number, len: number, addr: number): Uint8Array {
    let b: Uint8Array;
    try {
      b = this.file.read(at, len);
    } catch (e) {
      throw new MemoryError('truncated', BigInt(addr), 'physical', (e as Error).message);
    }
    if (b.length < len) throw new MemoryError('truncated', BigInt(addr), 'physical', `file ends at ${this.file.size} bytes`);
    return b;
  }

  /** Raw file read statistics and cache behavior (tests, benchmarks). */
  get cacheStats() {
    return { file: this.file.cacheStats, pages: { hits: this.pages.hits, misses: this.pages.misses, bytes: this.pages.bytesUsed } };
  }
}
