/**
 * A module's debuginfo: its .ko with DWARF, a second input beside the dump (--module-debug).
 * A .ko is relocatable (ET_REL): its .debug_* sections hold offsets and addresses that only
 * become right once their relocations (.rela.debug_info, .rela.debug_line, ...) are applied
 * against where each section landed in the dump's kernel. The loaded module says where
 * (struct module's sect_attrs: one address per section, as /sys/module/NAME/sections/ shows).
 * The .ko is matched to the loaded module by build id (.note.gnu.build-id against the note the
 * module keeps in memory, notes_attrs), else by srcversion; a mismatch is refused in one line.
 * After relocation the DWARF speaks run-time addresses: no KASLR arithmetic for module frames.
 */
import { DumpError, MemoryError } from '../../errors';
import { u32, u64, cstr } from '../../bytes';
import type { ByteSource, ReadStats } from '../../source/bytesource';
import { ElfImage, SHF_ALLOC, SHF_EXECINSTR, SHT_NOTE, type Section } from '../elfimage';
import { openDebugInput, type DebugInput, type DumpIdentity } from '../debuginfo';
import type { Program } from '../program';
import { listModules, type ModuleInfo } from '../modules';
import { Dwarf } from './dwarf';

const SHT_RELA = 4;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const R_X86_64_64 = 1;
const R_X86_64_PC32 = 2;
const R_X86_64_32 = 10;
const R_X86_64_32S = 11;
const R_X86_64_PC64 = 24;
const MAX_KO = 512 << 20;

/** A byte array as a ByteSource (the relocated copy of a .ko). */
class ArraySource implements ByteSource {
  readonly stats: ReadStats = { bytesRead: 0, reads: 0 };
  constructor(
    readonly name: string,
    private readonly buf: Uint8Array,
  ) {}
  get size(): number {
    return this.buf.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.buf.subarray(Math.min(offset, this.buf.length), Math.min(offset + length, this.buf.length));
  }
}

/** The .modinfo key=value strings of a .ko. */
function modinfo(elf: ElfImage): Map<string, string> {
  const out = new Map<string, string>();
  const s = elf.section('.modinfo');
  if (!s) return out;
  const b = elf.data(s);
  let o = 0;
  while (o < b.length) {
    let e = o;
    while (e < b.length && b[e] !== 0) e++;
    const kv = cstr(b, o, e - o);
    const i = kv.indexOf('=');
    if (i > 0 && !out.has(kv.slice(0, i))) out.set(kv.slice(0, i), kv.slice(i + 1));
    o = e + 1;
  }
  return out;
}

/** NT_GNU_BUILD_ID of a notes blob, lower-case hex. */
function noteBuildId(b: Uint8Array): string | undefined {
  let o = 0;
  while (o + 12 <= b.length) {
    const namesz = u32(b, o);
    const descsz = u32(b, o + 4);
    const type = u32(b, o + 8);
    const desc = o + 12 + ((namesz + 3) & ~3);
    if (desc + descsz > b.length) return undefined;
    if (cstr(b, o + 12, namesz) === 'GNU' && type === 3)
      return Array.from(b.subarray(desc, desc + descsz), (x) => x.toString(16).padStart(2, '0')).join('');
    o = desc + ((descsz + 3) & ~3);
  }
  return undefined;
}

/** Where each section of a loaded module landed (sect_attrs), by section name. */
export function moduleSectionAddresses(prog: Program, mod: ModuleInfo, maxSections: number): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const modT = prog.type('struct module');
  if (!prog.btf.memberPath(modT, 'sect_attrs')) return out;
  const sa = prog.obj(modT, mod.address).member('sect_attrs').ptr();
  if (!sa) return out;
  const attrsT = prog.findType('struct module_sect_attrs');
  if (attrsT === null) return out;
  const attrs = prog.obj(attrsT, sa);
  const nameOf = (a: bigint) => prog.mem.cstring(a, 128);
  const attrT = prog.findType('struct module_sect_attr');
  if (attrT !== null && prog.btf.memberPath(attrT, 'address') && prog.btf.memberPath(attrsT, 'nsections')) {
    // <= 6.13: struct module_sect_attr { struct bin_attribute battr; unsigned long address; }
    const n = attrs.member('nsections').num();
    if (n < 0 || n > maxSections) throw new DumpError(`module ${mod.name}: sect_attrs says ${n} sections, its .ko has ${maxSections}`);
    const size = prog.sizeof(attrT);
    const first = sa + BigInt(prog.offsetof(attrsT, 'attrs'));
    for (let i = 0; i < n; i++) {
      const a = prog.obj(attrT, first + BigInt(i * size));
      out.set(nameOf(a.member('battr.attr.name').ptr()), a.member('address').ptr());
    }
  } else if (prog.btf.memberPath(attrsT, 'grp.bin_attrs')) {
    // later kernels: the address is the bin_attribute's private; the group's NULL-ended list
    const list = attrs.member('grp.bin_attrs').ptr();
    const ba = prog.type('struct bin_attribute');
    for (let i = 0; i < maxSections; i++) {
      const p = u64(prog.mem.read(list + BigInt(i * 8), 8), 0);
      if (!p) break;
      const a = prog.obj(ba, p);
      out.set(nameOf(a.member('attr.name').ptr()), a.member('private').ptr());
    }
  }
  return out;
}

/** The GNU build id note a loaded module keeps (notes_attrs), or undefined. */
function moduleBuildId(prog: Program, mod: ModuleInfo): string | undefined {
  const modT = prog.type('struct module');
  if (!prog.btf.memberPath(modT, 'notes_attrs')) return undefined;
  const na = prog.obj(modT, mod.address).member('notes_attrs').ptr();
  const nt = prog.findType('struct module_notes_attrs');
  if (!na || nt === null) return undefined;
  const notes = prog.obj(nt, na);
  const n = notes.member('notes').num();
  const ba = prog.type('struct bin_attribute');
  const size = prog.sizeof(ba);
  const first = na + BigInt(prog.offsetof(nt, 'attrs'));
  for (let i = 0; i < Math.min(n, 64); i++) {
    const a = prog.obj(ba, first + BigInt(i * size));
    const len = a.member('size').num();
    if (len <= 0 || len > 4096) continue;
    const id = noteBuildId(prog.mem.read(a.member('private').ptr(), len));
    if (id) return id;
  }
  return undefined;
}

/** A module .ko with DWARF, bound to the loaded module of the same build once attached. */
export class ModuleDebug implements DebugInput {
  readonly kind = 'module' as const;
  readonly name: string;
  private readonly raw: Uint8Array;
  private readonly elf: ElfImage;
  /** the loaded module's name, from .modinfo */
  readonly module: string;
  private bound: { dwarf: Dwarf; text: Array<{ start: bigint; end: bigint }>; relocations: number; skipped: number } | null = null;

  constructor(src: ByteSource) {
    this.name = src.name;
    if (src.size > MAX_KO) throw new DumpError(`${this.name}: ${src.size} bytes is past the ${MAX_KO >> 20} MiB budget for a module`);
    this.raw = src.read(0, src.size).slice();
    this.elf = new ElfImage(new ArraySource(src.name, this.raw));
    if (this.elf.type !== 1) throw new DumpError(`${this.name}: not a kernel module (ELF type ${this.elf.type}, expected relocatable)`);
    if (this.elf.machine !== 62) throw new DumpError(`${this.name}: not an x86_64 module (ELF machine ${this.elf.machine})`);
    if (!Dwarf.has(this.elf)) throw new DumpError(`${this.name}: the module has no DWARF (.debug_info); nothing to use`);
    const name = modinfo(this.elf).get('name') ?? this.name.replace(/^.*\//, '').replace(/\.ko(\..*)?$/, '').replace(/-/g, '_');
    this.module = name;
  }

  get buildId(): string | undefined {
    return this.elf.buildId();
  }

  /** Nothing to check against the kernel image: the module is matched when bound (attach). */
  match(_dump: DumpIdentity): void {}

  linkSymbols(): null {
    return null;
  }

  btf(): null {
    return null;
  }

  /**
   * Find the loaded module this .ko is, check it is the same build, apply the debug sections'
   * relocations at the module's section addresses. Throws a one-line DumpError when it is not loaded
   * or not the same build.
   */
  attach(prog: Program): void {
    const mod = listModules(prog).find((m) => m.name === this.module);
    if (!mod) throw new DumpError(`${this.name}: module ${this.module} is not loaded in the dump`);
    const mine = this.buildId;
    let theirs: string | undefined;
    try {
      theirs = moduleBuildId(prog, mod);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
    }
    if (mine && theirs) {
      if (mine !== theirs) throw new DumpError(`${this.name} does not match the dump: build id ${mine} differs from loaded ${this.module}'s ${theirs}`);
    } else {
      const sv = modinfo(this.elf).get('srcversion');
      const modT = prog.type('struct module');
      const loaded = prog.btf.memberPath(modT, 'srcversion') ? prog.obj(modT, mod.address).try((o) => o.member('srcversion').string(64)) : null;
      if (!sv || !loaded) throw new DumpError(`${this.name}: cannot tell whether it is the loaded ${this.module} (no build id note and no srcversion to compare)`);
      if (sv !== loaded) throw new DumpError(`${this.name} does not match the dump: srcversion ${sv} differs from loaded ${this.module}'s ${loaded}`);
    }
    let addrs: Map<string, bigint>;
    try {
      addrs = moduleSectionAddresses(prog, mod, this.elf.sections.length);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      throw new DumpError(`${this.name}: the section addresses of loaded ${this.module} are unreadable (${e.message})`);
    }
    if (!addrs.size) throw new DumpError(`${this.name}: the dump does not say where ${this.module}'s sections are (no sect_attrs)`);
    const base = (s: Section | undefined): bigint | undefined => {
      if (!s) return undefined;
      if (!(s.flags & SHF_ALLOC)) return 0n; // .debug_str etc.: offsets within the section
      return addrs.get(s.name);
    };
    const syms = this.elf.symbols();
    let relocations = 0;
    let skipped = 0;
    for (const rs of this.elf.sections) {
      if (rs.type !== SHT_RELA) continue;
      const target = this.elf.sections[rs.info];
      if (!target || target.flags & SHF_ALLOC || !/^\.debug_/.test(target.name)) continue;
      if (this.elf.isCompressed(target)) throw new DumpError(`${this.name}: ${target.name} is compressed; relocating compressed debug sections is not supported`);
      const data = this.elf.data(rs);
      for (let o = 0; o + 24 <= data.length; o += 24) {
        const off = Number(u64(data, o));
        const info = u64(data, o + 8);
        const type = Number(info & 0xffffffffn);
        const symIdx = Number(info >> 32n);
        const addend = BigInt.asIntN(64, u64(data, o + 16));
        const sym = syms[symIdx - 1];
        let s: bigint | undefined;
        if (!sym) s = 0n;
        else if (sym.shndx === SHN_ABS) s = sym.value;
        else if (sym.shndx === SHN_UNDEF) s = sym.name ? prog.symbols.address(sym.name) : undefined;
        else {
          const b = base(this.elf.sections[sym.shndx]);
          s = b === undefined ? undefined : b + sym.value;
        }
        if (s === undefined) {
          skipped++; // a section the kernel did not keep (or a symbol it does not know): left 0
          continue;
        }
        const at = target.offset + off;
        const v = s + addend;
        if (type === R_X86_64_64) putLe(this.raw, at, BigInt.asUintN(64, v), 8);
        else if (type === R_X86_64_32 || type === R_X86_64_32S) putLe(this.raw, at, BigInt.asUintN(32, v), 4);
        else if (type === R_X86_64_PC32) putLe(this.raw, at, BigInt.asUintN(32, v - (base(target) ?? 0n) - BigInt(off)), 4);
        else if (type === R_X86_64_PC64) putLe(this.raw, at, BigInt.asUintN(64, v - (base(target) ?? 0n) - BigInt(off)), 8);
        else {
          skipped++;
          continue;
        }
        relocations++;
      }
    }
    const text: Array<{ start: bigint; end: bigint }> = [];
    for (const s of this.elf.sections) {
      const a = s.flags & SHF_EXECINSTR ? addrs.get(s.name) : undefined;
      if (a !== undefined && s.size) text.push({ start: a, end: a + BigInt(s.size) });
    }
    this.bound = { dwarf: new Dwarf(this.elf, { budgetBytes: 8 << 20 }), text, relocations, skipped };
  }

  /** The relocated DWARF (run-time addresses), once attached. */
  get dwarf(): Dwarf | null {
    return this.bound?.dwarf ?? null;
  }

  /** Whether a run-time address is in this module's text (any executable section it loaded). */
  containsText(addr: bigint): boolean {
    return !!this.bound?.text.some((r) => addr >= r.start && addr < r.end);
  }

  get stats(): { relocations: number; skipped: number } | null {
    return this.bound ? { relocations: this.bound.relocations, skipped: this.bound.skipped } : null;
  }

  /** Build-id notes of the file (tests). */
  notes(): Section[] {
    return this.elf.sections.filter((s) => s.type === SHT_NOTE);
  }
}

function putLe(b: Uint8Array, at: number, v: bigint, n: number): void {
  for (let i = 0; i < n; i++) {
    b[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** The module name a .ko file name stands for (dashes are underscores in the kernel's name). */
export function moduleNameOfFile(path: string): string {
  return path.replace(/^.*[\\/]/, '').replace(/\.ko(\.debug)?$/, '').replace(/-/g, '_');
}

/**
 * Bind module .ko files to a Program: `files` given one by one must each match a loaded module
 * (else the one-line refusal is thrown); `fromDirectory` ones (a tree of .ko, e.g. Debian's
 * /usr/lib/debug/lib/modules/REL) are opened only when their file name is a loaded module's.
 */
export function attachModuleDebug(
  prog: Program,
  files: Array<{ path: string; fromDirectory: boolean; open: () => ByteSource }>,
): ModuleDebug[] {
  if (files.length === 0) return []; // no module list walk (it reads every module) when none was given
  const loaded = new Set(listModules(prog).map((m) => m.name));
  const out: ModuleDebug[] = [];
  for (const f of files) {
    if (f.fromDirectory && !loaded.has(moduleNameOfFile(f.path))) continue;
    const m = new ModuleDebug(f.open());
    prog.attachDebug(m);
    out.push(m);
  }
  return out;
}

/** A second input by its first bytes: a module .ko (ELF ET_REL), else a vmlinux or a System.map. */
export function openDebugFile(src: ByteSource): DebugInput {
  const h = src.read(0, 18);
  if (h.length === 18 && h[0] === 0x7f && h[1] === 0x45 && h[2] === 0x4c && h[3] === 0x46 && h[16] === 1 && h[17] === 0) return new ModuleDebug(src);
  return openDebugInput(src);
}
