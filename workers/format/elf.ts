import { DumpError, MemoryError } from '../errors';
import { u16, u32, u64n } from '../bytes';
import type { ByteSource } from '../source/bytesource';
import { parseNotes, parsePrStatus, vmcoreinfoFromNotes } from './notes';
import type { DumpHeaderInfo, ElfNote, PhysicalDump, PhysRange, PrStatus } from './types';

const PT_LOAD = 1;
const PT_NOTE = 4;
const PN_XNUM = 0xffff;

interface Segment {
  paddr: number;
  vaddr: bigint;
  offset: number; // file offset
  filesz: number; // bytes present in the file (may be cut short by truncation)
  memsz: number;
  truncated: boolean;
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
    let phoff: number;
    try {
      phoff = u64n(eh, 32);
    } catch {
      throw new DumpError(`${src.name}: ELF header: program header offset is out of range`);
    }
    const phentsize = u16(eh, 54);
    let phnum = u16(eh, 56);
    if (phnum === PN_XNUM) {
      // The real count is in sh_info of section header 0.
      const shoff = u64n(eh, 40);
      const sh0 = src.read(shoff, 64);
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
    for (let i = 0; i < phnum; i++) {
      const o = i * 56;
      const ptype = u32(ph, o);
      let offset: number, filesz: number, memsz: number, paddr: number;
      try {
        offset = u64n(ph, o + 8);
        paddr = u64n(ph, o + 24);
        filesz = u64n(ph, o + 32);
        memsz = u64n(ph, o + 40);
      } catch {
        this.warnings.push(`program header ${i}: a field is out of range; ignored`);
        continue;
      }
      if (ptype === PT_NOTE) {
        this.promised = Math.max(this.promised, offset + filesz);
        if (offset + filesz > src.size) {
          this.warnings.push(`PT_NOTE ${i} runs past the end of the file; notes may be missing`);
          this.header.incomplete = true;
        }
        const len = Math.max(0, Math.min(filesz, src.size - offset, 64 << 20));
        noteBlobs.push(src.read(offset, len));
      } else if (ptype === PT_LOAD) {
        this.promised = Math.max(this.promised, offset + filesz);
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

  ranges(): PhysRange[] {
    const out: PhysRange[] = [];
    for (const s of this.segs) {
      const last = out[out.length - 1];
      if (last && last.end === s.paddr) last.end = s.paddr + s.memsz;
      else out.push({ start: s.paddr, end: s.paddr + s.memsz });
    }
    return out;
  }

  private find(paddr: number): Segment | null {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segs[mid];
      if (paddr < s.paddr) hi = mid - 1;
      else if (paddr >= s.paddr + s.memsz) lo = mid + 1;
      else return s;
    }
    return null;
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

  private segmentRemain(paddr: number): number {
    const s = this.find(paddr);
    if (!s) throw new MemoryError('no-such-memory', BigInt(paddr), 'physical');
    return s.paddr + s.memsz - paddr;
  }
}
