/**
 * A lazy DWARF 4/5 reader over an ElfImage (a vmlinux read by slices). Nothing is parsed when it
 * is made. On first use it reads .debug_aranges (a few hundred KB) into an address -> unit index;
 * a unit (its DIE tree and its line program) is parsed when an address inside it is asked for,
 * and kept in an LRU with a byte budget. Small string/abbrev/range sections are read whole once;
 * .debug_info, .debug_line and .debug_loclists (tens to hundreds of MB) only by the slices of the
 * units used.
 *
 * What it answers: source lines of an address (line tables), the chain of inlined calls at an
 * address (addr2line -i semantics), and the scopes/variables there (see locals.ts).
 */
import { DumpError, expectedError } from '../../errors';
import { LruCache } from '../../source/lru';
import type { ElfImage, Section } from '../elfimage';
import { Cursor, strAt, type AttrValue } from './cursor';
import { floorIndex } from '../../sorted';
import { AT, FORM, TAG } from './consts';
import { LineTable, parseLineTable } from './line';

/** One attribute's value: numbers, bigints (addresses, data8), strings, blocks, references. */
export type { AttrValue } from './cursor';

interface AttrSpec {
  at: number;
  form: number;
  implicit?: bigint;
}
interface Abbrev {
  tag: number;
  children: boolean;
  specs: AttrSpec[];
}

export interface Range {
  start: bigint;
  end: bigint;
}

/** A compilation unit, its DIEs indexed in flat arrays (attributes decoded on demand). */
export class Unit {
  /** DIE offsets relative to the unit start */
  dieOff!: Int32Array;
  tags!: Uint16Array;
  parent!: Int32Array;
  abbrevOf!: (Abbrev | undefined)[];
  firstChild!: Int32Array;
  nextSibling!: Int32Array;
  count = 0;
  strOffsetsBase = 8;
  addrBase = 8;
  rnglistsBase = 0;
  loclistsBase = 0;
  lowPc = 0n;
  name = '';
  compDir = '';
  stmtList = -1;
  private _lines: LineTable | null | undefined;
  private byOff: Map<number, number> | null = null;

  constructor(
    readonly dwarf: Dwarf,
    /** .debug_info offset of the unit header */
    readonly offset: number,
    /** the unit's bytes, header included */
    readonly buf: Uint8Array,
    readonly version: number,
    readonly unitType: number,
    readonly addrSize: number,
    readonly offSize: number,
    readonly abbrevs: Map<number, Abbrev>,
    readonly dieStart: number,
  ) {}

  get bytes(): number {
    return this.buf.byteLength + this.count * 20;
  }

  /** Index of the DIE at an absolute .debug_info offset, or -1. */
  indexOf(absOff: number): number {
    if (!this.byOff) {
      this.byOff = new Map();
      for (let i = 0; i < this.count; i++) this.byOff.set(this.dieOff[i], i);
    }
    return this.byOff.get(absOff - this.offset) ?? -1;
  }

  contains(absOff: number): boolean {
    return absOff >= this.offset && absOff < this.offset + this.buf.length;
  }

  /** All attributes of DIE i. */
  attrs(i: number): Map<number, AttrValue> {
    const ab = this.abbrevOf[i];
    const out = new Map<number, AttrValue>();
    if (!ab) return out;
    const c = new Cursor(this.buf, this.dieOff[i]);
    c.uleb();
    for (const s of ab.specs) {
      const v = this.dwarf.readForm(c, s.form, this, s.implicit);
      if (v && !out.has(s.at)) out.set(s.at, v);
    }
    return out;
  }

  /** One attribute of DIE i (decodes the DIE's attributes up to it). */
  attr(i: number, at: number): AttrValue | undefined {
    const ab = this.abbrevOf[i];
    if (!ab) return undefined;
    let want = -1;
    for (let k = 0; k < ab.specs.length; k++) if (ab.specs[k].at === at) { want = k; break; }
    if (want < 0) return undefined;
    const c = new Cursor(this.buf, this.dieOff[i]);
    c.uleb();
    for (let k = 0; k < want; k++) this.dwarf.skipForm(c, ab.specs[k].form, this);
    return this.dwarf.readForm(c, ab.specs[want].form, this, ab.specs[want].implicit) ?? undefined;
  }

  hasAttr(i: number, at: number): boolean {
    return !!this.abbrevOf[i]?.specs.some((s) => s.at === at);
  }

  children(i: number): number[] {
    const out: number[] = [];
    for (let c = this.firstChild[i]; c >= 0; c = this.nextSibling[c]) out.push(c);
    return out;
  }

  /** The address ranges of DIE i (low_pc/high_pc or DW_AT_ranges); [] when it has no code. */
  ranges(i: number): Range[] {
    const a = this.attrs(i);
    const low = a.get(AT.low_pc);
    const high = a.get(AT.high_pc);
    if (low && low.k === 'a') {
      if (!high) return [{ start: low.v, end: low.v + 1n }];
      const end = high.k === 'a' ? high.v : low.v + BigInt(high.k === 'u' ? high.v : high.k === 's' ? high.v : 0);
      return [{ start: low.v, end }];
    }
    const r = a.get(AT.ranges);
    if (r && (r.k === 'sec' || r.k === 'u')) return this.dwarf.readRanges(this, r.k === 'sec' ? r : { k: 'sec', v: r.v, form: FORM.sec_offset });
    return [];
  }

  /** The unit's line table (null when it has none). */
  lines(): LineTable | null {
    if (this._lines !== undefined) return this._lines;
    this._lines = this.stmtList < 0 ? null : this.dwarf.lineTable(this);
    return this._lines;
  }
}

const RANGE_END = 0;
/** what scanTopLevel decodes: name, declaration, size, sibling, an enumerator's value */
const SCAN_ATTRS = new Set<number>([AT.name, AT.declaration, AT.byte_size, AT.sibling, AT.const_value, AT.encoding]);

export interface DwarfOptions {
  /** bytes of parsed units and line tables kept (default 96 MiB) */
  budgetBytes?: number;
}

export class Dwarf {
  readonly elf: ElfImage;
  private whole = new Map<string, Uint8Array | null>();
  /** parsed abbreviation tables (one per unit in a kernel: 2000+), within a byte budget */
  private abbrevTables: LruCache<number, Map<number, Abbrev>>;
  private units: LruCache<number, Unit>;
  private lineCache: LruCache<number, LineTable>;
  /** sorted address ranges -> unit offset */
  private arStart: BigUint64Array | null = null;
  private arEnd: BigUint64Array | null = null;
  private arUnit: Float64Array | null = null;
  /** unit header offsets in .debug_info order, as far as scanned */
  private unitOffsets: number[] | null = null;
  readonly stats = { unitsParsed: 0, lineTablesParsed: 0, bytesParsed: 0, bytesScanned: 0 };

  constructor(elf: ElfImage, opts: DwarfOptions = {}) {
    this.elf = elf;
    const budget = opts.budgetBytes ?? 96 << 20;
    this.units = new LruCache(Math.floor(budget * 0.7), (u) => u.bytes);
    this.lineCache = new LruCache(Math.floor(budget * 0.3), (l) => l.bytes);
    this.abbrevTables = new LruCache(Math.max(4 << 20, Math.floor(budget * 0.25)), (t) => {
      let n = 0;
      for (const a of t.values()) n += 64 + a.specs.length * 40;
      return n;
    });
    if (!elf.section('.debug_info')) throw new DumpError(`${elf.src.name}: no DWARF (.debug_info)`);
  }

  static has(elf: ElfImage): boolean {
    return !!elf.section('.debug_info') && !!elf.section('.debug_abbrev');
  }

  private sec(name: string): Section | undefined {
    return this.elf.section(name);
  }

  /** A small section whole (strings, abbrevs, ranges): read once. */
  section(name: string): Uint8Array | null {
    if (this.whole.has(name)) return this.whole.get(name)!;
    const s = this.sec(name);
    const d = s ? this.elf.data(s) : null;
    this.whole.set(name, d);
    return d;
  }

  /** A slice of a big section (.debug_info, .debug_line, .debug_loclists). */
  slice(name: string, off: number, len: number): Uint8Array {
    const s = this.sec(name);
    if (!s) throw new DumpError(`DWARF: no ${name} section`);
    return this.elf.read(s, off, len);
  }

  sectionSize(name: string): number {
    const s = this.sec(name);
    return s ? this.elf.dataSize(s) : 0;
  }

  private abbrevTable(off: number): Map<number, Abbrev> {
    let t = this.abbrevTables.get(off);
    if (t) return t;
    const data = this.section('.debug_abbrev');
    if (!data) throw new DumpError('DWARF: no .debug_abbrev section');
    t = new Map();
    const c = new Cursor(data, off);
    for (;;) {
      const code = c.uleb();
      if (code === 0) break;
      const tag = c.uleb();
      const children = c.u8() === 1;
      const specs: AttrSpec[] = [];
      for (;;) {
        const at = c.uleb();
        const form = c.uleb();
        if (at === 0 && form === 0) break;
        const spec: AttrSpec = { at, form };
        if (form === FORM.implicit_const) spec.implicit = c.slebBig();
        specs.push(spec);
      }
      t.set(code, { tag, children, specs });
    }
    this.abbrevTables.set(off, t);
    return t;
  }

  /** The unit whose header is at a .debug_info offset (parsed, or from the cache). */
  unitAt(off: number, keep = true): Unit {
    const cached = this.units.get(off);
    if (cached) return cached;
    const [u, c] = this.unitShell(off);
    this.parseDies(u, c);
    this.stats.unitsParsed++;
    this.stats.bytesParsed += u.buf.length;
    if (keep) this.units.set(off, u);
    return u;
  }

  /** The SCAN_ATTRS of one DIE (the cursor after its abbrev code), the others skipped. */
  private scanAttrs(c: Cursor, ab: Abbrev, u: Unit): Map<number, AttrValue> {
    const attrs = new Map<number, AttrValue>();
    for (const sp of ab.specs) {
      if (!SCAN_ATTRS.has(sp.at)) {
        this.skipForm(c, sp.form, u);
        continue;
      }
      const v = this.readForm(c, sp.form, u, sp.implicit);
      if (v && !attrs.has(sp.at)) attrs.set(sp.at, v);
    }
    return attrs;
  }

  /** A unit's header and bytes, its DIEs not parsed yet; the cursor is at its first DIE. */
  private unitShell(off: number): [Unit, Cursor] {
    const head = this.slice('.debug_info', off, 24);
    const hc = new Cursor(head);
    const { len, offSize } = hc.initialLength();
    const total = hc.pos + len;
    if (len > 512 << 20) throw new DumpError(`DWARF: unit at 0x${off.toString(16)} is ${len} bytes`);
    const buf = this.slice('.debug_info', off, total);
    if (buf.length < total) throw new DumpError(`DWARF: unit at 0x${off.toString(16)} runs past .debug_info`);
    const c = new Cursor(buf, hc.pos);
    const version = c.u16();
    let unitType = 1;
    let addrSize: number;
    let abbrevOff: number;
    if (version >= 5) {
      unitType = c.u8();
      addrSize = c.u8();
      abbrevOff = c.offset(offSize);
      if (unitType === 4 || unitType === 5) c.skip(8); // skeleton/split: dwo id
      else if (unitType === 2 || unitType === 6) c.skip(8 + offSize); // type units
    } else if (version >= 2) {
      abbrevOff = c.offset(offSize);
      addrSize = c.u8();
    } else throw new DumpError(`DWARF: unit at 0x${off.toString(16)} has version ${version}`);
    const u = new Unit(this, off, buf, version, unitType, addrSize, offSize, this.abbrevTable(abbrevOff), c.pos);
    return [u, c];
  }

  /**
   * The top-level DIEs of a unit without building its DIE tree (the cheap pass of a name index):
   * `visit(tag, offset, attrs)` is called for each child of the unit DIE whose tag `wanted` holds,
   * with the attributes a name index needs decoded (SCAN_ATTRS); when it returns true and
   * `children` is given, `children(tag, attrs)` for each of its children (one level). Other DIEs
   * are hopped over (DW_AT_sibling when there is one).
   */
  scanTopLevel(
    off: number,
    wanted: (tag: number) => boolean,
    visit: (tag: number, dieOff: number, attrs: Map<number, AttrValue>) => boolean,
    children?: (tag: number, attrs: Map<number, AttrValue>) => void,
  ): void {
    const [u, c] = this.unitShell(off);
    this.stats.bytesScanned += u.buf.length;
    // the unit DIE: bases for strx/addrx forms
    const code0 = c.uleb();
    const ab0 = u.abbrevs.get(code0);
    if (!ab0) throw new DumpError(`DWARF: unit at 0x${off.toString(16)}: unknown abbrev ${code0}`);
    for (const sp of ab0.specs) {
      const v = this.readForm(c, sp.form, u, sp.implicit);
      if (!v) continue;
      const n = v.k === 'u' || v.k === 'sec' ? v.v : undefined;
      if (sp.at === AT.str_offsets_base && n !== undefined) u.strOffsetsBase = n;
      else if (sp.at === AT.addr_base && n !== undefined) u.addrBase = n;
    }
    if (!ab0.children) return;
    let depth = 1; // inside the unit DIE
    while (c.pos < c.end && depth > 0) {
      const at = c.pos;
      const code = c.uleb();
      if (code === 0) {
        depth--;
        continue;
      }
      const ab = u.abbrevs.get(code);
      if (!ab) throw new DumpError(`DWARF: unit at 0x${off.toString(16)}: unknown abbrev ${code} at +0x${at.toString(16)}`);
      if (depth === 1 && wanted(ab.tag)) {
        const attrs = this.scanAttrs(c, ab, u);
        const more = visit(ab.tag, off + at, attrs);
        if (!ab.children) continue;
        if (more && children) {
          // one level of children decoded; deeper ones skipped
          let d = 1;
          while (c.pos < c.end && d > 0) {
            const cc = c.uleb();
            if (cc === 0) {
              d--;
              continue;
            }
            const cab = u.abbrevs.get(cc);
            if (!cab) throw new DumpError(`DWARF: unit at 0x${off.toString(16)}: unknown abbrev ${cc}`);
            if (d === 1) children(cab.tag, this.scanAttrs(c, cab, u));
            else for (const sp of cab.specs) this.skipForm(c, sp.form, u);
            if (cab.children) d++;
          }
          continue;
        }
        const sib = attrs.get(AT.sibling);
        if (sib && sib.k === 'ref' && sib.v > off + at) {
          c.pos = sib.v - off;
          continue;
        }
        depth++;
        continue;
      }
      // hop over: DW_AT_sibling when the DIE has one, else through its children
      let sibling = -1;
      for (const sp of ab.specs) {
        if (sp.at === AT.sibling && ab.children) {
          const v = this.readForm(c, sp.form, u, sp.implicit);
          if (v && v.k === 'ref') sibling = v.v - off;
        } else this.skipForm(c, sp.form, u);
      }
      if (!ab.children) continue;
      if (sibling > c.pos) c.pos = sibling;
      else depth++;
    }
  }

  private parseDies(u: Unit, c: Cursor): void {
    let cap = 256;
    let offs = new Int32Array(cap);
    let tags = new Uint16Array(cap);
    let parents = new Int32Array(cap);
    const abbrevOf: (Abbrev | undefined)[] = [];
    const stack: number[] = [];
    let n = 0;
    while (c.pos < c.end) {
      const at = c.pos;
      const code = c.uleb();
      if (code === 0) {
        stack.pop();
        if (stack.length === 0 && n > 0) break;
        continue;
      }
      const ab = u.abbrevs.get(code);
      if (!ab) throw new DumpError(`DWARF: unit at 0x${u.offset.toString(16)}: unknown abbrev ${code} at +0x${at.toString(16)}`);
      if (n === cap) {
        cap *= 2;
        const o2 = new Int32Array(cap); o2.set(offs); offs = o2;
        const t2 = new Uint16Array(cap); t2.set(tags); tags = t2;
        const p2 = new Int32Array(cap); p2.set(parents); parents = p2;
      }
      offs[n] = at;
      tags[n] = ab.tag;
      parents[n] = stack.length ? stack[stack.length - 1] : -1;
      abbrevOf.push(ab);
      for (const s of ab.specs) this.skipForm(c, s.form, u);
      if (ab.children) stack.push(n);
      n++;
      if (n === 1) {
        // the unit DIE: bases for strx/addrx/rnglistx, its name, comp_dir, line program
        u.count = 1;
        u.dieOff = offs; u.tags = tags; u.parent = parents; u.abbrevOf = abbrevOf;
        const a = u.attrs(0);
        const get = (k: number) => a.get(k);
        const num = (v: AttrValue | undefined) => (v && (v.k === 'u' || v.k === 'sec') ? v.v : undefined);
        u.strOffsetsBase = num(get(AT.str_offsets_base)) ?? 8;
        u.addrBase = num(get(AT.addr_base)) ?? 8;
        u.rnglistsBase = num(get(AT.rnglists_base)) ?? 0;
        u.loclistsBase = num(get(AT.loclists_base)) ?? 0;
        const lo = get(AT.low_pc);
        u.lowPc = lo && lo.k === 'a' ? lo.v : 0n;
        const nm = get(AT.name);
        u.name = nm && nm.k === 'str' ? nm.v : '';
        const cd = get(AT.comp_dir);
        u.compDir = cd && cd.k === 'str' ? cd.v : '';
        u.stmtList = num(get(AT.stmt_list)) ?? -1;
        if (!ab.children) break;
      }
    }
    u.count = n;
    u.dieOff = offs.subarray(0, n);
    u.tags = tags.subarray(0, n);
    u.parent = parents.subarray(0, n);
    u.abbrevOf = abbrevOf;
    const first = new Int32Array(n).fill(-1);
    const next = new Int32Array(n).fill(-1);
    const last = new Int32Array(n).fill(-1);
    for (let i = 1; i < n; i++) {
      const p = parents[i];
      if (p < 0) continue;
      if (first[p] < 0) first[p] = i;
      else next[last[p]] = i;
      last[p] = i;
    }
    u.firstChild = first;
    u.nextSibling = next;
  }

  private strOffset(u: Unit, index: number): string {
    const so = this.section('.debug_str_offsets');
    if (!so) throw new DumpError('DWARF: strx form without .debug_str_offsets');
    const c = new Cursor(so, u.strOffsetsBase + index * u.offSize);
    return this.str(c.offset(u.offSize));
  }

  str(off: number): string {
    const s = this.section('.debug_str');
    if (!s) throw new DumpError('DWARF: strp form without .debug_str');
    return strAt(s, off);
  }

  lineStr(off: number): string {
    const s = this.section('.debug_line_str');
    if (!s) throw new DumpError('DWARF: line_strp form without .debug_line_str');
    return strAt(s, off);
  }

  addrx(u: Unit, index: number): bigint {
    const a = this.section('.debug_addr');
    if (!a) throw new DumpError('DWARF: addrx form without .debug_addr');
    return new Cursor(a, u.addrBase + index * u.addrSize).addr(u.addrSize);
  }

  /** Skip one attribute value. */
  skipForm(c: Cursor, form: number, u: Unit): void {
    switch (form) {
      case FORM.addr: c.skip(u.addrSize); return;
      case FORM.data1: case FORM.ref1: case FORM.flag: case FORM.strx1: case FORM.addrx1: c.skip(1); return;
      case FORM.data2: case FORM.ref2: case FORM.strx2: case FORM.addrx2: c.skip(2); return;
      case FORM.strx3: case FORM.addrx3: c.skip(3); return;
      case FORM.data4: case FORM.ref4: case FORM.ref_sup4: case FORM.strx4: case FORM.addrx4: c.skip(4); return;
      case FORM.data8: case FORM.ref8: case FORM.ref_sig8: case FORM.ref_sup8: c.skip(8); return;
      case FORM.data16: c.skip(16); return;
      case FORM.string: c.cstr(); return;
      case FORM.block: case FORM.exprloc: c.skip(c.uleb()); return;
      case FORM.block1: c.skip(c.u8()); return;
      case FORM.block2: c.skip(c.u16()); return;
      case FORM.block4: c.skip(c.u32()); return;
      case FORM.sdata: c.slebBig(); return;
      case FORM.udata: case FORM.ref_udata: case FORM.strx: case FORM.addrx: case FORM.loclistx: case FORM.rnglistx:
      case FORM.GNU_addr_index: case FORM.GNU_str_index:
        c.uleb(); return;
      case FORM.strp: case FORM.line_strp: case FORM.sec_offset: case FORM.strp_sup: case FORM.GNU_ref_alt: case FORM.GNU_strp_alt:
        c.skip(u.offSize); return;
      case FORM.ref_addr: c.skip(u.version <= 2 ? u.addrSize : u.offSize); return;
      case FORM.flag_present: case FORM.implicit_const: return;
      case FORM.indirect: this.skipForm(c, c.uleb(), u); return;
      default:
        throw new DumpError(`DWARF: unknown attribute form 0x${form.toString(16)} in unit at 0x${u.offset.toString(16)}`);
    }
  }

  /** Read one attribute value (null for forms whose value is of no use here). */
  readForm(c: Cursor, form: number, u: Unit, implicit?: bigint): AttrValue | null {
    switch (form) {
      case FORM.addr: return { k: 'a', v: c.addr(u.addrSize) };
      case FORM.addrx: case FORM.GNU_addr_index: return { k: 'a', v: this.addrx(u, c.uleb()) };
      case FORM.addrx1: return { k: 'a', v: this.addrx(u, c.u8()) };
      case FORM.addrx2: return { k: 'a', v: this.addrx(u, c.u16()) };
      case FORM.addrx3: return { k: 'a', v: this.addrx(u, c.u24()) };
      case FORM.addrx4: return { k: 'a', v: this.addrx(u, c.u32()) };
      case FORM.data1: return { k: 'u', v: c.u8() };
      case FORM.data2: return { k: 'u', v: c.u16() };
      case FORM.data4: return { k: 'u', v: c.u32() };
      case FORM.data8: return { k: 's', v: c.u64() };
      case FORM.data16: c.skip(16); return null;
      case FORM.sdata: return { k: 's', v: c.slebBig() };
      case FORM.udata: return { k: 'u', v: c.uleb() };
      case FORM.implicit_const: return { k: 's', v: implicit ?? 0n };
      case FORM.flag: return { k: 'u', v: c.u8() };
      case FORM.flag_present: return { k: 'u', v: 1 };
      case FORM.string: return { k: 'str', v: c.cstr() };
      case FORM.strp: return { k: 'str', v: this.str(c.offset(u.offSize)) };
      case FORM.line_strp: return { k: 'str', v: this.lineStr(c.offset(u.offSize)) };
      case FORM.strx: case FORM.GNU_str_index: return { k: 'str', v: this.strOffset(u, c.uleb()) };
      case FORM.strx1: return { k: 'str', v: this.strOffset(u, c.u8()) };
      case FORM.strx2: return { k: 'str', v: this.strOffset(u, c.u16()) };
      case FORM.strx3: return { k: 'str', v: this.strOffset(u, c.u24()) };
      case FORM.strx4: return { k: 'str', v: this.strOffset(u, c.u32()) };
      case FORM.ref1: return { k: 'ref', v: u.offset + c.u8() };
      case FORM.ref2: return { k: 'ref', v: u.offset + c.u16() };
      case FORM.ref4: return { k: 'ref', v: u.offset + c.u32() };
      case FORM.ref8: return { k: 'ref', v: u.offset + c.u64n() };
      case FORM.ref_udata: return { k: 'ref', v: u.offset + c.uleb() };
      case FORM.ref_addr: return { k: 'ref', v: u.version <= 2 ? Number(c.addr(u.addrSize)) : c.offset(u.offSize) };
      case FORM.sec_offset: return { k: 'sec', v: c.offset(u.offSize), form };
      case FORM.loclistx: case FORM.rnglistx: return { k: 'sec', v: c.uleb(), form };
      case FORM.exprloc: case FORM.block: { const n = c.uleb(); return { k: 'b', v: c.bytes(n), expr: form === FORM.exprloc }; }
      case FORM.block1: return { k: 'b', v: c.bytes(c.u8()), expr: false };
      case FORM.block2: return { k: 'b', v: c.bytes(c.u16()), expr: false };
      case FORM.block4: return { k: 'b', v: c.bytes(c.u32()), expr: false };
      default:
        this.skipForm(c, form, u);
        return null;
    }
  }

  /** DW_AT_ranges of a unit: .debug_rnglists (DWARF 5) or .debug_ranges (DWARF 4). */
  readRanges(u: Unit, r: { k: 'sec'; v: number; form: number }): Range[] {
    const out: Range[] = [];
    if (u.version >= 5) {
      const rl = this.section('.debug_rnglists');
      if (!rl) return out;
      let off = r.v;
      if (r.form === FORM.rnglistx) off = u.rnglistsBase + new Cursor(rl, u.rnglistsBase + r.v * u.offSize).offset(u.offSize);
      const c = new Cursor(rl, off);
      let base = u.lowPc;
      for (let guard = 0; guard < 1 << 20; guard++) {
        const kind = c.u8();
        if (kind === RANGE_END) break;
        switch (kind) {
          case 1: base = this.addrx(u, c.uleb()); break; // base_addressx
          case 2: { const s = this.addrx(u, c.uleb()); const e = this.addrx(u, c.uleb()); out.push({ start: s, end: e }); break; }
          case 3: { const s = this.addrx(u, c.uleb()); out.push({ start: s, end: s + BigInt(c.uleb()) }); break; }
          case 4: { const s = BigInt(c.uleb()); const e = BigInt(c.uleb()); out.push({ start: base + s, end: base + e }); break; }
          case 5: base = c.addr(u.addrSize); break;
          case 6: { const s = c.addr(u.addrSize); out.push({ start: s, end: c.addr(u.addrSize) }); break; }
          case 7: { const s = c.addr(u.addrSize); out.push({ start: s, end: s + BigInt(c.uleb()) }); break; }
          default: throw new DumpError(`DWARF: unknown range list entry ${kind}`);
        }
      }
    } else {
      const rg = this.section('.debug_ranges');
      if (!rg) return out;
      const c = new Cursor(rg, r.v);
      let base = u.lowPc;
      const max = u.addrSize === 8 ? 0xffffffffffffffffn : 0xffffffffn;
      for (let guard = 0; guard < 1 << 20; guard++) {
        const s = c.addr(u.addrSize);
        const e = c.addr(u.addrSize);
        if (s === 0n && e === 0n) break;
        if (s === max) base = e;
        else out.push({ start: base + s, end: base + e });
      }
    }
    return out.filter((x) => x.end > x.start);
  }

  /** The line table of a unit, parsed on first use and kept within the budget. */
  lineTable(u: Unit): LineTable | null {
    const cached = this.lineCache.get(u.stmtList);
    if (cached) return cached;
    const size = this.sectionSize('.debug_line');
    if (u.stmtList >= size) return null;
    const t = parseLineTable(this, u, u.stmtList);
    this.stats.lineTablesParsed++;
    this.lineCache.set(u.stmtList, t);
    return t;
  }

  /** address -> unit from .debug_aranges, or from every unit's ranges when it is missing. */
  private buildAddressIndex(): void {
    const entries: Array<{ s: bigint; e: bigint; u: number }> = [];
    const ar = this.section('.debug_aranges');
    if (ar) {
      const c = new Cursor(ar);
      while (c.pos + 4 <= c.end) {
        const start = c.pos;
        const { len, offSize } = c.initialLength();
        const next = c.pos + len;
        c.u16(); // version
        const unit = c.offset(offSize);
        const addrSize = c.u8();
        c.u8(); // segment selector size
        const tupleSize = addrSize * 2;
        // tuples start at a multiple of the tuple size from the set's start
        const first = start + Math.ceil((c.pos - start) / tupleSize) * tupleSize;
        c.pos = first;
        while (c.pos + tupleSize <= next) {
          const s = c.addr(addrSize);
          const l = c.addr(addrSize);
          if (s === 0n && l === 0n) break;
          if (l > 0n) entries.push({ s, e: s + l, u: unit });
        }
        c.pos = next;
      }
    }
    if (!entries.length) {
      for (const off of this.allUnitOffsets()) {
        const u = this.unitHeaderOnly(off);
        for (const r of u) entries.push({ s: r.start, e: r.end, u: off });
      }
    }
    entries.sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
    this.arStart = new BigUint64Array(entries.map((x) => x.s));
    this.arEnd = new BigUint64Array(entries.map((x) => x.e));
    this.arUnit = new Float64Array(entries.map((x) => x.u));
  }

  /** The ranges of a unit's top DIE (for units without aranges). */
  private unitHeaderOnly(off: number): Range[] {
    try {
      const u = this.unitAt(off);
      return u.ranges(0);
    } catch (e) {
      expectedError(e); // a malformed unit has no ranges
      return [];
    }
  }

  /** Offsets of every unit header (hops over unit lengths: one small read per unit). */
  allUnitOffsets(): number[] {
    if (this.unitOffsets) return this.unitOffsets;
    const out: number[] = [];
    const size = this.sectionSize('.debug_info');
    let off = 0;
    while (off + 11 <= size && out.length < 1 << 20) {
      const h = new Cursor(this.slice('.debug_info', off, 12));
      const { len } = h.initialLength();
      out.push(off);
      off += h.pos + len;
    }
    this.unitOffsets = out;
    return out;
  }

  /** The unit whose code covers an address (null: no DWARF for it). */
  unitFor(pc: bigint): Unit | null {
    if (!this.arStart) this.buildAddressIndex();
    const s = this.arStart!;
    const ans = floorIndex(s.length, (i) => s[i], pc);
    // ranges may nest or overlap slightly: look back a few for one that covers pc
    for (let i = ans; i >= 0 && i > ans - 8; i--) {
      if (pc >= s[i] && pc < this.arEnd![i]) return this.unitAt(this.arUnit![i]);
    }
    return null;
  }

  /** The unit holding a .debug_info offset (for DW_FORM_ref_addr across units). */
  unitContaining(absOff: number): Unit | null {
    const offs = this.allUnitOffsets();
    const ans = floorIndex(offs.length, (i) => offs[i], absOff);
    return ans < 0 ? null : this.unitAt(offs[ans]);
  }

  /** Follow a reference to a DIE: [unit, index] (null when it cannot be read). */
  deref(from: Unit, absOff: number): [Unit, number] | null {
    const u = from.contains(absOff) ? from : this.unitContaining(absOff);
    if (!u) return null;
    const i = u.indexOf(absOff);
    return i < 0 ? null : [u, i];
  }

  /** A DIE's name, following abstract_origin / specification (the function an inlined call is of). */
  dieName(u: Unit, i: number): string | null {
    let cu = u;
    let ci = i;
    for (let hop = 0; hop < 8; hop++) {
      const a = cu.attrs(ci);
      const n = a.get(AT.name) ?? a.get(AT.linkage_name);
      if (n && n.k === 'str') return n.v;
      const ref = a.get(AT.abstract_origin) ?? a.get(AT.specification);
      if (!ref || ref.k !== 'ref') return null;
      const d = this.deref(cu, ref.v);
      if (!d) return null;
      [cu, ci] = d;
    }
    return null;
  }
}

export { TAG, AT };
