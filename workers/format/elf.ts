import { DumpError, MemoryError } from '../errors';
import { noteProblem } from '../problems';
import { u16, u32, u64n, ValueTooLarge } from '../bytes';
import type { ByteSource } from '../source/bytesource';
import { parseNotes, parsePrStatus, vmcoreinfoFromNotes } from './notes';
import type { DumpHeaderInfo, ElfNote, PhysicalDump, PhysRange, PrStatus } from './types';
import { containing, floorIndex } from '../sorted';

const PT_LOAD = 1;
const PT_NOTE = 4;
const PN_XNUM = 0xffff;
/** x86_64 physical addresses have at most 52 bits */
const MAX_PHYS_BITS = 52;
const MAX_PHYS = 2 ** MAX_PHYS_BITS;
/** memory a PT_LOAD may claim beyond its file bytes (excluded pages of makedumpfile -E) */
const MAX_UNBACKED = 2 ** 40;

interface Segment {
  paddr: number;
  vaddr: bigint;
  offset: number; // file offset
  filesz: number; // bytes present in the file (may be cut short by truncation)
  memsz: number;
  truncated: boolean;
}

/** Whether [a, b) overlaps a range of the sorted, disjoint list (binary search). */
function overlapsAny(list: Array<[number, number]>, a: number, b: number): boolean {
  // the first range ending after a (the ends ascend too: the ranges are disjoint)
  const i = floorIndex(list.length, (k) => list[k][1], a) + 1;
  return i < list.length && list[i][0] < b;
}

/** Insert [a, b) (known not to overlap) keeping the list sorted. */
function insertRange(list: Array<[number, number]>, a: number, b: number): void {
  // after the last range starting at or before a (none starts at a: they do not overlap)
  list.splice(floorIndex(list.length, (k) => list[k][0], a) + 1, 0, [a, b]);
}

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/**
 * An ELF64 core: kdump's /proc/vmcore (PT_LOADs with virtual and physical addresses) or QEMU's
 * dump-guest-memory output (physical PT_LOADs only, p_vaddr 0, section headers first). Only
 * p_paddr is used here; virtual addresses are the arch layer's business.
 */
export class ElfDump implements PhysicalDump {
  readonly format = 'elf' as const;
  readonly compression = 'none' as const;
  readonly pageSize = 4096;
  readonly notes: ElfNote[] = [];
  readonly prstatus: PrStatus[];
  readonly vmcoreinfo: string | null;
  readonly header: DumpHeaderInfo = {};
  /** end of the furthest segment the program headers describe */
  private promised = 0;
  readonly warnings: string[] = [];
  readonly maxPhys: number;
  private segs: Segment[] = [];

  constructor(private src: ByteSource) {
    const eh = src.read(0, 64);
    if (eh.length < 64 || !isElf(eh)) throw new DumpError(`${src.name}: not an ELF file`);
    if (eh[4] !== 2) throw new DumpError(`${src.name}: ELF class ${eh[4]} is not ELF64`);
    if (eh[5] !== 1) throw new DumpError(`${src.name}: big-endian ELF is not supported (x86_64 dumps are little-endian)`);
    const type = u16(eh, 16);
    const machine = u16(eh, 18);
    if (type !== 4) throw new DumpError(`${src.name}: ELF type ${type} is not a core file (ET_CORE)`);
    if (machine !== 62) throw new DumpError(`${src.name}: ELF machine ${machine} is not x86_64 (62)`);
    const headerOffset = (at: number, what: string): number => {
      try {
        return u64n(eh, at);
      } catch (e) {
        if (!(e instanceof ValueTooLarge)) throw e;
        throw new DumpError(`${src.name}: ELF header: ${what} offset is out of range`);
      }
    };
    const phoff = headerOffset(32, 'program header');
    const phentsize = u16(eh, 54);
    let phnum = u16(eh, 56);
    if (phnum === PN_XNUM) {
      // The real count is in sh_info of section header 0.
      const shoff = headerOffset(40, 'section header');
      const sh0 = shoff + 64 <= src.size ? src.read(shoff, 64) : new Uint8Array(0);
      if (sh0.length < 64) throw new DumpError(`${src.name}: ELF section header 0 is past the end of the file`);
      phnum = u32(sh0, 44);
    }
    if (phentsize !== 56) throw new DumpError(`${src.name}: ELF header: program header size ${phentsize}, expected 56`);
    if (phnum === 0 || phnum > 1_000_000) throw new DumpError(`${src.name}: ELF header: ${phnum} program headers`);
    if (phoff + phnum * 56 > src.size) {
      throw new DumpError(`${src.name}: program headers run past the end of the file (truncated at ${src.size} bytes?)`);
    }
    const ph = src.read(phoff, phnum * 56);
    const noteBlobs: Uint8Array[] = [];
    /** file ranges [offset, offset+filesz) of the PT_LOADs kept so far: must not overlap */
    const fileRanges: Array<[number, number]> = [];
    let noteBytes = 0;
    /** lowest file offset of segment bytes seen so far: the header table cannot run into it */
    let firstData = Infinity;
    let badFields = 0;
    for (let i = 0; i < phnum; i++) {
      const o = i * 56;
      if (phoff + o + 56 > firstData) {
        // e_phnum claims more headers than fit before the segments' bytes: the rest is data
        this.warnings.push(
          `ELF header: e_phnum ${phnum} program headers would run into segment data at file offset ${firstData}; only the first ${i} are used (corrupt header)`,
        );
        this.header.incomplete = true;
        break;
      }
      const ptype = u32(ph, o);
      let offset: number, filesz: number, memsz: number, paddr: number;
      try {
        offset = u64n(ph, o + 8);
        paddr = u64n(ph, o + 24);
        filesz = u64n(ph, o + 32);
        memsz = u64n(ph, o + 40);
      } catch (e) {
        if (!(e instanceof ValueTooLarge)) throw e;
        if (++badFields <= 8) this.warnings.push(`program header ${i}: a field is out of range; ignored`);
        continue;
      }
      if ((ptype === PT_LOAD || ptype === PT_NOTE) && filesz > 0 && offset > phoff) firstData = Math.min(firstData, offset);
      if (ptype === PT_NOTE) {
        this.promised = Math.max(this.promised, offset + filesz);
        if (offset + filesz > src.size) {
          this.warnings.push(`PT_NOTE ${i} runs past the end of the file; notes may be missing`);
          this.header.incomplete = true;
        }
        const len = Math.max(0, Math.min(filesz, src.size - offset, (64 << 20) - noteBytes));
        noteBytes += len;
        if (len > 0) noteBlobs.push(src.read(offset, len));
      } else if (ptype === PT_LOAD) {
        this.promised = Math.max(this.promised, offset + filesz);
        // Bounds from what the file proves: a segment's memory beyond its file bytes is at most
        // MAX_PHYS, and two segments never share file bytes (a corrupt header that repeats the
        // same bytes many times would otherwise multiply the memory every scan walks).
        if (paddr + Math.max(memsz, filesz) > MAX_PHYS || filesz > MAX_PHYS) {
          this.warnings.push(
            `PT_LOAD ${i}: physical range 0x${paddr.toString(16)} + 0x${Math.max(memsz, filesz).toString(16)} is beyond the ${MAX_PHYS_BITS}-bit physical address space; ignored (corrupt program header)`,
          );
          this.header.incomplete = true;
          continue;
        }
        const fend = Math.min(offset + filesz, src.size);
        if (filesz > 0 && overlapsAny(fileRanges, offset, fend)) {
          if (++badFields <= 8) this.warnings.push(`PT_LOAD ${i} (physical 0x${paddr.toString(16)}): its file bytes overlap another segment's; ignored (corrupt program header)`);
          this.header.incomplete = true;
          continue;
        }
        if (memsz > filesz && memsz - filesz > MAX_UNBACKED) {
          this.warnings.push(
            `PT_LOAD ${i} (physical 0x${paddr.toString(16)}): memory size 0x${memsz.toString(16)} exceeds its file size 0x${filesz.toString(16)} by more than ${MAX_UNBACKED / 2 ** 30} GiB; only the bytes in the file are used (corrupt program header?)`,
          );
          memsz = filesz;
        }
        if (filesz > 0 && fend > offset) insertRange(fileRanges, offset, fend);
        let truncated = false;
        let fsz = filesz;
        if (offset + filesz > src.size) {
          truncated = true;
          fsz = Math.max(0, src.size - offset);
          this.header.incomplete = true;
          this.warnings.push(
            `PT_LOAD ${i} (physical 0x${paddr.toString(16)}-0x${(paddr + memsz).toString(16)}) ends past the end of the file: the dump is truncated; ${
              filesz - fsz
            } bytes of it are missing`,
          );
        }
        const vaddr = (BigInt(u32(ph, o + 20)) << 32n) | BigInt(u32(ph, o + 16));
        this.segs.push({ paddr, vaddr, offset, filesz: fsz, memsz: Math.max(memsz, filesz), truncated });
      }
    }
    for (const b of noteBlobs) this.notes.push(...parseNotes(b, this.warnings));
    if (this.segs.length === 0) throw new DumpError(`${src.name}: ELF core has no PT_LOAD segments (no memory in it)`);
    // kdump's /proc/vmcore also maps the kernel text a second time (a PT_LOAD whose physical
    // range duplicates part of RAM): keep the first segment covering each address.
    this.segs.sort((a, b) => a.paddr - b.paddr || b.memsz - a.memsz);
    const merged: Segment[] = [];
    for (const s of this.segs) {
      const last = merged[merged.length - 1];
      if (last && s.paddr < last.paddr + last.memsz && s.paddr >= last.paddr + last.filesz && s.filesz > 0) {
        // the earlier segment's memory beyond its file bytes overlaps one that has the bytes:
        // the bytes win (a p_memsz too large must not hide real memory)
        this.warnings.push(
          `PT_LOAD at physical 0x${last.paddr.toString(16)}: p_memsz 0x${last.memsz.toString(16)} overlaps the next segment at 0x${s.paddr.toString(16)}; cut there (corrupt program header?)`,
        );
        last.memsz = s.paddr - last.paddr;
      }
      if (last && s.paddr < last.paddr + last.memsz) {
        if (s.paddr + s.memsz <= last.paddr + last.memsz) continue; // fully covered
        // partial overlap: trim the new segment's front
        const cut = last.paddr + last.memsz - s.paddr;
        merged.push({
          ...s,
          paddr: s.paddr + cut,
          offset: s.offset + cut,
          filesz: Math.max(0, s.filesz - cut),
          memsz: s.memsz - cut,
        });
        continue;
      }
      merged.push(s);
    }
    this.segs = merged;
    this.maxPhys = Math.max(...this.segs.map((s) => s.paddr + s.memsz));
    this.vmcoreinfo = vmcoreinfoFromNotes(this.notes);
    this.prstatus = parsePrStatus(this.notes);
  }

  /** PT_LOAD virtual addresses, when the ELF has them (kdump's /proc/vmcore). */
  get hasVirtualAddresses(): boolean {
    return this.segs.some((s) => s.vaddr !== 0n);
  }

  expectedSize(): { bytes: number; atLeast: boolean } {
    return { bytes: Math.max(this.promised, this.src.size), atLeast: false };
  }

  /**
   * The physical ranges with bytes in the file (what scans walk: their length is bounded by the
   * file size, whatever the program headers claim). Memory a segment claims beyond its file
   * bytes (excluded pages, or lost to truncation) still reads as 'not-in-dump' / 'truncated'.
   */
  ranges(): PhysRange[] {
    const out: PhysRange[] = [];
    let lost = 0;
    for (const s of this.segs) {
      if (s.truncated) lost += s.memsz - s.filesz;
      if (s.filesz <= 0) continue;
      const end = s.paddr + Math.min(s.filesz, s.memsz);
      const last = out[out.length - 1];
      if (last && last.end === s.paddr) last.end = end;
      else out.push({ start: s.paddr, end });
    }
    if (lost > 0) {
      noteProblem('elf:truncated', `the ELF dump is truncated: ${lost} bytes of memory its program headers describe are past the end of the file and were not seen`);
    }
    return out;
  }

  private find(paddr: number): Segment | null {
    // the segments are sorted and disjoint (merged in the constructor)
    return containing(this.segs, (s) => s.paddr, (s) => s.paddr + s.memsz, paddr);
  }

  hasPage(paddr: number): boolean {
    const s = this.find(paddr);
    if (!s) return false;
    const pageStart = paddr - (paddr % this.pageSize);
    return pageStart - s.paddr + this.pageSize <= s.filesz || paddr - s.paddr < s.filesz;
  }

  readPhys(paddr: number, len: number): Uint8Array {
    const s = this.find(paddr);
    if (!s) throw new MemoryError('no-such-memory', BigInt(paddr), 'physical');
    const rel = paddr - s.paddr;
    if (rel + len <= s.filesz) return this.src.read(s.offset + rel, len);
    if (rel >= s.filesz) {
      if (!s.truncated) {
        noteProblem(
          'elf:memsz',
          `physical 0x${paddr.toString(16)} is in a PT_LOAD's memory beyond its file bytes (p_memsz 0x${s.memsz.toString(16)} > p_filesz 0x${s.filesz.toString(16)}): read as not in the dump`,
        );
      }
      throw new MemoryError(s.truncated ? 'truncated' : 'not-in-dump', BigInt(paddr), 'physical');
    }
    if (rel + len <= s.memsz) {
      // the read starts in the file part and runs into the missing part
      throw new MemoryError(s.truncated ? 'truncated' : 'not-in-dump', BigInt(s.paddr + s.filesz), 'physical');
    }
    // spans into the next segment
    const out = new Uint8Array(len);
    let pos = 0;
    while (pos < len) {
      const n = Math.min(len - pos, this.segmentRemain(paddr + pos));
      out.set(this.readPhys(paddr + pos, n), pos);
      pos += n;
    }
    return out;
  }

  copyPhys(paddr: number, dest: Uint8Array): void {
    const s = this.find(paddr);
    const rel = s ? paddr - s.paddr : 0;
    // inside one segment's file bytes, from a local file: straight into dest, past the block cache
    if (s && this.src.readInto && rel + dest.length <= s.filesz && this.src.readInto(s.offset + rel, dest) === dest.length) return;
    dest.set(this.readPhys(paddr, dest.length));
  }

  private segmentRemain(paddr: number): number {
    const s = this.find(paddr);
    if (!s) throw new MemoryError('no-such-memory', BigInt(paddr), 'physical');
    return s.paddr + s.memsz - paddr;
  }
}
