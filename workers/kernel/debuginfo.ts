/**
 * Optional second inputs beside a dump: a vmlinux (ELF with .symtab, .BTF and DWARF) or a
 * System.map. Each is matched to the dump before use (build id, linux_banner, VMCOREINFO's own
 * SYMBOL() addresses) and a mismatch is refused with a one-line reason. They supply what the dump
 * lacks: kernel symbols when kallsyms cannot be read from memory, types when the kernel has no
 * in-memory BTF. Addresses in the files are link-time: kernel-image symbols are relocated by the
 * dump's KASLR offset (VMCOREINFO KERNELOFFSET); per-cpu offsets and absolute symbols are not.
 */
import { DumpError } from '../errors';
import { cstr } from '../bytes';
import type { ByteSource } from '../source/bytesource';
import { CachedSource } from '../source/cached';
import { ElfImage, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, type ElfSymbol } from './elfimage';
import { parseBtf, type Btf } from './btf';
import { Dwarf } from './dwarf/dwarf';
import { DwarfBtf, type DwarfBtfStats } from './dwarf/tobtf';
import type { Sym } from './symbols';

/** __START_KERNEL_map: kernel-image addresses are at or above it. */
const KERNEL_MAP = 0xffffffff80000000n;

/** What a debug input needs of the opened dump to check that it belongs to it. */
export interface DumpIdentity {
  /** VMCOREINFO BUILD-ID (lower-case hex), when the kernel wrote one */
  buildId?: string;
  /** VMCOREINFO OSRELEASE */
  release?: string;
  /** KASLR offset of the kernel image */
  kernelOffset: bigint;
  /** VMCOREINFO SYMBOL(name) entries (already relocated) */
  vmcoreinfoSymbols: Map<string, bigint>;
  /** read a NUL-terminated string of the dump's kernel memory (null when unreadable) */
  readString(addr: bigint, max: number): string | null;
}

export interface DebugInput {
  readonly kind: 'vmlinux' | 'system.map' | 'module';
  readonly name: string;
  /** Throws a DumpError with a one-line reason when the file is not of the dump's kernel. */
  match(dump: DumpIdentity): void;

  /** Kernel symbols at link-time addresses (null: this input has none). */
  linkSymbols(): Sym[] | null;
  /** The kernel's types (null: this input has none). */
  btf(): Btf | null;
}

/** Relocate a link-time kernel address by the KASLR offset (kernel image only). */
export function relocate(addr: bigint, kernelOffset: bigint): bigint {
  return addr >= KERNEL_MAP ? BigInt.asUintN(64, addr + kernelOffset) : addr;
}

/** Check VMCOREINFO's SYMBOL() addresses against a file's symbols: each must agree once relocated. */
function checkVmcoreinfoSymbols(name: string, dump: DumpIdentity, lookup: (s: string) => bigint | undefined): void {
  for (const [sym, addr] of dump.vmcoreinfoSymbols) {
    const a = lookup(sym);
    if (a === undefined) continue;
    // some SYMBOL() entries are pointer values (SYMBOL_ARRAY(mem_section) on SPARSEMEM_EXTREME)
    if (a < KERNEL_MAP || addr < KERNEL_MAP) continue;
    const r = relocate(a, dump.kernelOffset);
    if (r !== addr) {
      throw new DumpError(
        `${name} does not match the dump: ${sym} is at 0x${r.toString(16)} there (KASLR offset applied) but VMCOREINFO says 0x${addr.toString(16)}`,
      );
    }
  }
}

const BANNER_MAX = 512;

/** Check the file's linux_banner against the dump's memory at the same (relocated) address. */
function checkBanner(name: string, dump: DumpIdentity, bannerAddr: bigint | undefined, fileBanner: string | null): boolean {
  if (bannerAddr === undefined) return false;
  const inDump = dump.readString(relocate(bannerAddr, dump.kernelOffset), BANNER_MAX);
  if (inDump === null) return false;
  if (fileBanner !== null) {
    if (fileBanner !== inDump)
      throw new DumpError(`${name} does not match the dump: linux_banner "${oneLine(fileBanner)}" differs from the dump's "${oneLine(inDump)}"`);
    return true;
  }
  if (!inDump.startsWith('Linux version ') || (dump.release && !inDump.startsWith(`Linux version ${dump.release} `)))
    throw new DumpError(`${name} does not match the dump: its linux_banner address holds "${oneLine(inDump).slice(0, 60)}" in the dump`);
  return true;
}

function oneLine(s: string): string {
  return s.replace(/\s+$/, '').replace(/\n/g, ' ');
}

/** nm's letter for an ELF symbol (T t D d B b R r A a W w V v), '' for symbols nm does not list. */
export function nmType(img: ElfImage, s: ElfSymbol): string {
  if (s.type === 4 || s.shndx === 0 || (s.name === '' && s.type !== 3)) return ''; // file, undefined
  const weak = s.bind === 2;
  if (s.shndx === 0xfff1) return s.bind === 0 ? 'a' : 'A';
  const sec = img.sections[s.shndx];
  if (!sec) return '';
  if (weak) return s.type === 1 ? 'V' : 'W';
  let c: string;
  if (sec.type === SHT_NOBITS) c = 'b';
  else if (sec.flags & SHF_EXECINSTR) c = 't';
  else if (sec.flags & SHF_WRITE) c = 'd';
  else if (sec.flags & SHF_ALLOC) c = 'r';
  else c = 'n';
  return s.bind === 0 ? c : c.toUpperCase();
}

/** A vmlinux ELF file (with or without debug info): symbols, .BTF, build id, linux_banner. */
export class Vmlinux implements DebugInput {
  readonly kind = 'vmlinux' as const;
  readonly name: string;
  readonly elf: ElfImage;
  private _syms: Sym[] | null = null;
  private _byName: Map<string, bigint> | null = null;
  private _btf: Btf | null | undefined;

  /**
   * `opts.withoutBtf`: tests: behave as if the file had no .BTF section (a kernel built without
   * CONFIG_DEBUG_INFO_BTF), so types come from DWARF.
   */
  constructor(src: ByteSource, private opts: { withoutBtf?: boolean } = {}) {
    this.name = src.name;
    // slices of a big file: a small block cache over the raw reads (symbol tables, line programs)
    const cached = src instanceof CachedSource ? src : new CachedSource(src, src.preferredBlockSize ?? 64 * 1024, 32 << 20);
    this.elf = new ElfImage(cached);
    if (this.elf.type !== 2 && this.elf.type !== 3) throw new DumpError(`${this.name}: not a vmlinux (ELF type ${this.elf.type}, expected an executable)`);
    if (this.elf.machine !== 62) throw new DumpError(`${this.name}: not an x86_64 vmlinux (ELF machine ${this.elf.machine})`);
    if (!this.elf.section('.symtab') && !this.elf.section('.BTF') && !this.elf.section('.debug_info'))
      throw new DumpError(`${this.name}: has no symbol table, no .BTF and no DWARF; nothing to use`);
  }

  get buildId(): string | undefined {
    return this.elf.buildId();
  }

  /** A symbol's link-time address from .symtab. */
  symbolAddress(name: string): bigint | undefined {
    if (!this._byName) {
      this._byName = new Map();
      for (const s of this.linkSymbols()) if (!this._byName.has(s.name)) this._byName.set(s.name, s.address);
    }
    return this._byName.get(name);
  }

  /** The linux_banner string as the file holds it (null when it has no such symbol or bytes). */
  banner(): string | null {
    const a = this.symbolAddress('linux_banner');
    if (a === undefined) return null;
    const b = this.elf.readAddress(a, BANNER_MAX);
    return b ? cstr(b) : null;
  }

  match(dump: DumpIdentity): void {
    const id = this.buildId;
    if (id && dump.buildId) {
      if (id.toLowerCase() !== dump.buildId.toLowerCase())
        throw new DumpError(`${this.name} does not match the dump: build id ${id} differs from the dump's ${dump.buildId.toLowerCase()} (VMCOREINFO BUILD-ID)`);
      return;
    }
    const banner = this.banner();
    if (!checkBanner(this.name, dump, this.symbolAddress('linux_banner'), banner)) {
      // neither build id nor a readable banner: the release inside the file's banner, and
      // VMCOREINFO's symbol addresses, must agree
      if (banner && dump.release && !banner.startsWith(`Linux version ${dump.release} `))
        throw new DumpError(`${this.name} does not match the dump: it is "${oneLine(banner).slice(0, 60)}", the dump is ${dump.release}`);
      if (!banner && dump.vmcoreinfoSymbols.size === 0)
        throw new DumpError(`${this.name}: cannot tell whether it matches the dump (no build id, no readable linux_banner)`);
    }
    checkVmcoreinfoSymbols(this.name, dump, (s) => this.symbolAddress(s));
  }

  linkSymbols(): Sym[] {
    if (this._syms) return this._syms;
    const out: Sym[] = [];
    for (const s of this.elf.symbols()) {
      const t = nmType(this.elf, s);
      // section symbols (named after their section) and .L labels too: crash lists them from
      // the vmlinux's symtab, and names addresses after them
      if (!t || t === 'a' || t === 'n') continue;
      const name = s.type === 3 ? this.elf.sections[s.shndx]?.name : s.name;
      if (name) out.push({ name, address: s.value, type: t });
    }
    this._syms = out;
    return out;
  }

  /** Kernel types: the .BTF section, else from DWARF, each type converted when first asked for. */
  btf(): Btf | null {
    if (this._btf !== undefined) return this._btf;
    const s = this.opts.withoutBtf ? undefined : this.elf.section('.BTF');
    if (s) this._btf = parseBtf(this.elf.data(s));
    else if (Dwarf.has(this.elf)) this._btf = new DwarfBtf(new Dwarf(this.elf, { budgetBytes: 16 << 20 }));
    else this._btf = null;
    return this._btf;
  }

  /** how far the DWARF -> BTF conversion went (when types come from DWARF) */
  get btfFromDwarfStats(): DwarfBtfStats | undefined {
    return this._btf instanceof DwarfBtf ? this._btf.stats : undefined;
  }
}

/** A System.map (`nm -n vmlinux` format: "ffffffff81000000 T _text"). */
export class SystemMap implements DebugInput {
  readonly kind = 'system.map' as const;
  readonly name: string;
  private syms: Sym[] = [];
  private byName = new Map<string, bigint>();

  constructor(src: ByteSource) {
    this.name = src.name;
    if (src.size > 256 << 20) throw new DumpError(`${this.name}: ${src.size} bytes is too big for a System.map`);
    const text = new TextDecoder('latin1').decode(src.read(0, src.size));
    let bad = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      const m = /^([0-9a-fA-F]{8,16})\s+([A-Za-z?])\s+(\S+)/.exec(line);
      if (!m) {
        if (++bad > 10 && this.syms.length < bad) break;
        continue;
      }
      const s: Sym = { name: m[3], address: BigInt('0x' + m[1]), type: m[2] };
      this.syms.push(s);
      if (!this.byName.has(s.name)) this.byName.set(s.name, s.address);
    }
    if (this.syms.length < 100 || bad > this.syms.length)
      throw new DumpError(`${this.name}: not a System.map (expected lines like "ffffffff81000000 T _text")`);
  }

  match(dump: DumpIdentity): void {
    const banner = this.byName.get('linux_banner');
    const checked = checkBanner(this.name, dump, banner, null);
    if (!checked && dump.vmcoreinfoSymbols.size === 0)
      throw new DumpError(`${this.name}: cannot tell whether it matches the dump (its linux_banner is not readable in the dump)`);
    checkVmcoreinfoSymbols(this.name, dump, (s) => this.byName.get(s));
  }

  linkSymbols(): Sym[] {
    return this.syms;
  }

  btf(): null {
    return null;
  }
}

/** A vmlinux or a System.map, told apart by the file's first bytes (a module .ko: dwarf/module.ts openDebugFile). */
export function openDebugInput(src: ByteSource): DebugInput {
  const head = src.read(0, 4);
  if (head.length === 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return new Vmlinux(src);
  return new SystemMap(src);
}

/** The dump's identity as debug inputs check it. */
export function dumpIdentity(
  info: { buildId?: string; osrelease?: string; kernelOffset: bigint; entries: Map<string, string> },
  readString: (addr: bigint, max: number) => string | null,
): DumpIdentity {
  const syms = new Map<string, bigint>();
  for (const [k, v] of info.entries) {
    const m = /^SYMBOL\((.+)\)$/.exec(k);
    if (m) syms.set(m[1], BigInt('0x' + v.replace(/^0x/i, '')));
  }
  return { buildId: info.buildId, release: info.osrelease, kernelOffset: info.kernelOffset, vmcoreinfoSymbols: syms, readString };
}

