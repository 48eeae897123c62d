/**
 * An ELF64 object file (a vmlinux, a module .ko) read lazily through a ByteSource: opening reads
 * the ELF header and the section headers only; a section's bytes are read when asked for, by
 * slices (a Debian -dbg vmlinux is 0.5-1 GB and may be a File in a browser worker).
 * SHF_COMPRESSED sections (zlib or zstd, Elf64_Chdr) are decompressed whole on first use.
 */
import { DumpError } from '../errors';
import { u16, u32, u64, u64n, cstr } from '../bytes';
import type { ByteSource } from '../source/bytesource';
import { zlibDecompress, zstdDecompress } from '../format/codecs/index';

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_COMPRESSED = 0x800;
const ELFCOMPRESS_ZLIB = 1;
const ELFCOMPRESS_ZSTD = 2;

export interface Section {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  /** sh_info: for SHT_RELA, the section it relocates */
  info: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  shndx: number;
}

export class ElfImage {
  readonly src: ByteSource;
  readonly type: number;
  readonly machine: number;
  readonly sections: Section[] = [];
  private byName = new Map<string, Section>();
  private decompressed = new Map<number, Uint8Array>();

  constructor(src: ByteSource) {
    this.src = src;
    const eh = src.read(0, 64);
    if (eh.length < 64 || eh[0] !== 0x7f || eh[1] !== 0x45 || eh[2] !== 0x4c || eh[3] !== 0x46)
      throw new DumpError(`${src.name}: not an ELF file`);
    if (eh[4] !== 2 || eh[5] !== 1) throw new DumpError(`${src.name}: not a little-endian ELF64 file`);
    this.type = u16(eh, 16);
    this.machine = u16(eh, 18);
    const shoff = u64n(eh, 40);
    const shentsize = u16(eh, 58);
    let shnum = u16(eh, 60);
    let shstrndx = u16(eh, 62);
    if (shoff === 0) throw new DumpError(`${src.name}: ELF file has no section headers`);
    if (shentsize !== 64) throw new DumpError(`${src.name}: ELF section header size ${shentsize}, expected 64`);
    if (shnum === 0 || shstrndx === 0xffff) {
      const sh0 = src.read(shoff, 64);
      if (shnum === 0) shnum = u64n(sh0, 32);
      if (shstrndx === 0xffff) shstrndx = u32(sh0, 40);
    }
    if (shnum > 1_000_000 || shoff + shnum * 64 > src.size)
      throw new DumpError(`${src.name}: section headers run past the end of the file (truncated?)`);
    const sh = src.read(shoff, shnum * 64);
    const raw: Omit<Section, 'name'>[] = [];
    const nameOffs: number[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = i * 64;
      nameOffs.push(u32(sh, o));
      raw.push({
        index: i,
        type: u32(sh, o + 4),
        flags: Number(u64(sh, o + 8) & 0xffffffffn),
        addr: u64(sh, o + 16),
        offset: u64n(sh, o + 24),
        size: u64n(sh, o + 32),
        link: u32(sh, o + 40),
        info: u32(sh, o + 44),
        entsize: u64n(sh, o + 56),
      });
    }
    const strs = raw[shstrndx];
    const names = strs ? src.read(strs.offset, strs.size) : new Uint8Array(0);
    for (let i = 0; i < shnum; i++) {
      const s: Section = { ...raw[i], name: cstr(names, nameOffs[i]) };
      this.sections.push(s);
      if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    }
  }

  section(name: string): Section | undefined {
    return this.byName.get(name);
  }

  /** Size of a section's contents (uncompressed size for SHF_COMPRESSED sections). */
  dataSize(s: Section): number {
    if (!(s.flags & SHF_COMPRESSED)) return s.type === SHT_NOBITS ? 0 : s.size;
    const ch = this.src.read(s.offset, 24);
    return u64n(ch, 8);
  }

  /** Whether reading a slice of the section costs a whole decompression. */
  isCompressed(s: Section): boolean {
    return (s.flags & SHF_COMPRESSED) !== 0;
  }

  /**
   * `length` bytes of a section at `offset` within it (short at its end). Uncompressed sections
   * are read from the file by slices; compressed ones are inflated once and kept.
   */
  read(s: Section, offset: number, length: number): Uint8Array {
    if (s.type === SHT_NOBITS) return new Uint8Array(0);
    if (s.flags & SHF_COMPRESSED) {
      const all = this.whole(s);
      return all.subarray(Math.min(offset, all.length), Math.min(offset + length, all.length));
    }
    const n = Math.max(0, Math.min(length, s.size - offset));
    return this.src.read(s.offset + offset, n);
  }

  /** A whole section (small ones: .BTF, .symtab, notes; or a compressed one). */
  data(s: Section): Uint8Array {
    if (s.flags & SHF_COMPRESSED) return this.whole(s);
    return this.read(s, 0, s.size);
  }

  private whole(s: Section): Uint8Array {
    const c = this.decompressed.get(s.index);
    if (c) return c;
    const raw = this.src.read(s.offset, s.size);
    if (raw.length < 24) throw new DumpError(`${this.src.name}: section ${s.name}: truncated compression header`);
    const type = u32(raw, 0);
    const size = u64n(raw, 8);
    if (size > 1 << 30) throw new DumpError(`${this.src.name}: section ${s.name}: ${size} bytes uncompressed is past the 1 GiB budget`);
    let out: Uint8Array;
    if (type === ELFCOMPRESS_ZLIB) out = zlibDecompress(raw.subarray(24), size);
    else if (type === ELFCOMPRESS_ZSTD) out = zstdDecompress(raw.subarray(24), size);
    else throw new DumpError(`${this.src.name}: section ${s.name}: unknown compression type ${type}`);
    this.decompressed.set(s.index, out);
    return out;
  }

  /** The GNU build id (NT_GNU_BUILD_ID in any SHT_NOTE section), lower-case hex. */
  buildId(): string | undefined {
    for (const s of this.sections) {
      if (s.type !== SHT_NOTE || s.size > 1 << 20) continue;
      const b = this.data(s);
      let o = 0;
      while (o + 12 <= b.length) {
        const namesz = u32(b, o);
        const descsz = u32(b, o + 4);
        const type = u32(b, o + 8);
        const name = cstr(b, o + 12, namesz);
        const desc = o + 12 + ((namesz + 3) & ~3);
        if (name === 'GNU' && type === 3 && desc + descsz <= b.length) {
          return Array.from(b.subarray(desc, desc + descsz), (x) => x.toString(16).padStart(2, '0')).join('');
        }
        o = desc + ((descsz + 3) & ~3);
      }
    }
    return undefined;
  }

  /** The section holding a link-time address (allocated sections only). */
  sectionAt(addr: bigint): Section | undefined {
    return this.sections.find((s) => s.flags & SHF_ALLOC && s.addr !== 0n && addr >= s.addr && addr < s.addr + BigInt(s.size));
  }

  /** Bytes at a link-time virtual address (from the file's allocated section contents). */
  readAddress(addr: bigint, length: number): Uint8Array | null {
    const s = this.sectionAt(addr);
    if (!s || s.type === SHT_NOBITS) return null;
    return this.read(s, Number(addr - s.addr), length);
  }

  /** Every symbol of .symtab (read once, on demand). */
  symbols(): ElfSymbol[] {
    const st = this.section('.symtab');
    if (!st) return [];
    const strs = this.sections[st.link];
    const data = this.data(st);
    const names = strs ? this.data(strs) : new Uint8Array(0);
    const dec = new TextDecoder('latin1');
    const out: ElfSymbol[] = [];
    for (let o = 24; o + 24 <= data.length; o += 24) {
      const nameOff = u32(data, o);
      let e = nameOff;
      while (e < names.length && names[e] !== 0) e++;
      const info = data[o + 4];
      out.push({
        name: dec.decode(names.subarray(nameOff, e)),
        value: u64(data, o + 8),
        size: u64n(data, o + 16),
        type: info & 0xf,
        bind: info >> 4,
        shndx: u16(data, o + 6),
      });
    }
    return out;
  }
}
