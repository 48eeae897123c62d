/**
 * Kernel types from DWARF for kernels without BTF, made on demand: a Btf (the interface the rest
 * of the engine reads types through; it does not know where a type came from) whose types are
 * converted from the vmlinux's DWARF when they are first asked for, as BTF records (what pahole -J
 * writes).
 *
 * Finding a type by name: the vmlinux has no .debug_names (GCC does not write one), so an index of
 * the named struct/union/enum/typedef/base types at each unit's top level is built by scanning
 * units in .debug_info order (DWARF.scanTopLevel: no DIE tree, DIEs hopped over by DW_AT_sibling),
 * and only as far as a lookup needs: the first complete definition of a name wins (as in BTF
 * dedup; the kernel has one layout per name), so a lookup stops at the first unit that defines it.
 * A name no unit defines, a listing of every struct, or an enumerator not seen yet scan to the end
 * once.
 *
 * Converting: a named type gets an id when it is first referenced (its name, kind and size from
 * the index: a stub), and its members, target or enumerators when it is first read: its unit is
 * parsed (the Dwarf's unit cache has a byte budget) and that one DIE converted; the named types it
 * refers to become stubs in turn, so a lookup converts one type, not its closure. Anonymous types
 * (pointers, qualifiers, arrays, prototypes, anonymous structs and unions) are converted with the
 * type that uses them; pointers, qualifiers, arrays and prototypes are shared by shape. Functions
 * and variables are not converted (symbols come from the symbol table).
 */
import { DumpError } from '../../errors';
import { AT, TAG } from './consts';
import type { Dwarf, Unit, AttrValue } from './dwarf';
import { Btf } from '../btf';

const K = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC_PROTO: 13, FLOAT: 16, ENUM64: 19 };

const info = (kind: number, vlen = 0, kflag = false) => ((kflag ? 1 << 31 : 0) | (kind << 24) | (vlen & 0xffff)) >>> 0;
const num = (v: AttrValue | undefined): number | undefined => (v && (v.k === 'u' || v.k === 's') ? Number(v.v) : undefined);
const str = (v: AttrValue | undefined): string => (v && v.k === 'str' ? v.v : '');

const PREFIX: Record<number, string> = {
  [TAG.structure_type]: 'struct ',
  [TAG.union_type]: 'union ',
  [TAG.enumeration_type]: 'enum ',
  [TAG.typedef]: 'typedef ',
  [TAG.base_type]: 'base ',
};
const KEY_KINDS = ['struct ', 'union ', 'enum ', 'typedef ', 'base '];
const indexed = (tag: number) => PREFIX[tag] !== undefined;

/** Where a named type is defined (the first complete definition in .debug_info order). */
interface Def {
  unit: number;
  die: number;
  tag: number;
  name: string;
  size: number;
  /** DW_AT_encoding of a base type */
  enc: number;
}

export interface DwarfBtfStats {
  /** units scanned for the name index, of `units` */
  unitsScanned: number;
  units: number;
  /** named types indexed so far */
  indexed: number;
  /** types with a complete record (converted), and stubs made (named, not read yet) */
  types: number;
  stubs: number;
  /** units parsed to convert a type */
  unitsConverted: number;
}

/** The Btf of a vmlinux's DWARF, its types converted when first asked for (see the file comment). */
export class DwarfBtf extends Btf {
  private readonly units: number[];
  private nextUnit = 0;
  private readonly defs = new Map<string, Def>();
  /** enumerator name -> key of the first enum defining it */
  private readonly enumerators = new Map<string, string>();
  /** key ("struct sk_buff") -> id */
  private readonly ids = new Map<string, number>();
  /** local index -> key of a named type's id ('' for anonymous) */
  private keys: string[] = [];
  /** interned strings: offset -> string, string -> offset */
  private readonly strAt = new Map<number, string>([[0, '']]);
  private readonly strOff = new Map<string, number>([['', 0]]);
  private strEndOff = 1;
  private dataLen = 0;
  /** anonymous pointer/qualifier/array/prototype types by shape */
  private readonly shapes = new Map<string, number>();
  private readonly unitsConverted = new Set<number>();
  private intId = 0;

  constructor(private readonly dwarf: Dwarf) {
    // an empty BTF (header, no types, the empty string): types are added as they are made
    const h = new Uint8Array(25);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, 0xeb9f, true);
    h[2] = 1;
    dv.setUint32(4, 24, true);
    dv.setUint32(20, 1, true);
    super(h);
    this.units = dwarf.allUnitOffsets();
    this.data = new Uint8Array(1 << 16);
    this.recOff = new Uint32Array(1024);
    this.recKind = new Uint8Array(1024);
    this.stub = new Uint8Array(1024);
    this.decoded = new Map();
    this.n = 0;
  }

  get stats(): DwarfBtfStats {
    let stubs = 0;
    for (let i = 0; i < this.n; i++) if (this.stub![i]) stubs++;
    return { unitsScanned: this.nextUnit, units: this.units.length, indexed: this.defs.size, types: this.n - stubs, stubs, unitsConverted: this.unitsConverted.size };
  }

  // ------------------------------------------------------------ the name index

  /** Scan the next unit into the index; false when every unit is scanned. */
  private scanNext(): boolean {
    if (this.nextUnit >= this.units.length) return false;
    const off = this.units[this.nextUnit++];
    let enumKey: string | null = null; // the enum whose enumerators are being read
    let enumDef: Def | null = null;
    let enumNames: string[] = [];
    const endEnum = () => {
      if (enumDef) {
        // an anonymous enum is known by its first enumerator
        const key = enumKey ?? (enumNames.length ? `enum #${enumNames[0]}` : null);
        if (key && !this.defs.has(key)) {
          this.defs.set(key, enumDef);
          for (const e of enumNames) if (!this.enumerators.has(e)) this.enumerators.set(e, key);
        }
      }
      enumKey = null;
      enumDef = null;
      enumNames = [];
    };
    try {
      this.dwarf.scanTopLevel(
        off,
        indexed,
        (tag, die, a) => {
          endEnum();
          const name = str(a.get(AT.name));
          if (num(a.get(AT.declaration))) return false;
          const def: Def = { unit: off, die, tag, name, size: num(a.get(AT.byte_size)) ?? 0, enc: num(a.get(AT.encoding)) ?? 0 };
          if (tag === TAG.enumeration_type) {
            const key = name ? 'enum ' + name : null;
            if (key && this.defs.has(key)) return false;
            enumKey = key;
            enumDef = def;
            return true; // read its enumerators
          }
          if (!name) return false; // anonymous struct/union/typedef at top level: reached through a typedef
          const key = PREFIX[tag] + name;
          if (!this.defs.has(key)) this.defs.set(key, def);
          return false;
        },
        (tag, a) => {
          if (tag === TAG.enumerator) enumNames.push(str(a.get(AT.name)));
        },
      );
    } catch (e) {
      if (!(e instanceof DumpError)) throw e; // a damaged unit: its types are not indexed
    }
    endEnum();
    return true;
  }

  /** Where a key is defined, scanning on until it is found or every unit is scanned. */
  private locate(key: string): Def | undefined {
    for (;;) {
      const d = this.defs.get(key);
      if (d || !this.scanNext()) return d;
    }
  }

  /** Scan until one of the keys is defined (or the end). */
  private locateAny(keys: string[]): void {
    while (!keys.some((k) => this.defs.has(k)) && this.scanNext()) {
      /* scanning */
    }
  }

  // ------------------------------------------------------------ records

  private intern(s: string): number {
    if (!s) return 0;
    let o = this.strOff.get(s);
    if (o !== undefined) return o;
    o = this.strEndOff;
    this.strOff.set(s, o);
    this.strAt.set(o, s);
    this.strEndOff += s.length + 1;
    return o;
  }

  override str(off: number): string {
    const s = this.strAt.get(off);
    if (s === undefined) throw new DumpError(`BTF (from DWARF): string offset ${off} out of range`);
    return s;
  }

  private grow(): number {
    const i = this.n;
    if (i === this.recOff.length) {
      const cap = i * 2;
      const r = new Uint32Array(cap); r.set(this.recOff); this.recOff = r;
      const k = new Uint8Array(cap); k.set(this.recKind); this.recKind = k;
      const s = new Uint8Array(cap); s.set(this.stub!); this.stub = s;
    }
    this.n++;
    this.keys[i] = '';
    return i;
  }

  private write(i: number, rec: number[], stub: number): void {
    const bytes = rec.length * 4;
    if (this.dataLen + bytes > this.data.length) {
      const d = new Uint8Array(Math.max(this.data.length * 2, this.dataLen + bytes));
      d.set(this.data.subarray(0, this.dataLen));
      this.data = d;
    }
    const dv = new DataView(this.data.buffer, this.data.byteOffset + this.dataLen, bytes);
    for (let k = 0; k < rec.length; k++) dv.setUint32(k * 4, rec[k] >>> 0, true);
    this.recOff[i] = this.dataLen;
    this.recKind[i] = (rec[1] >>> 24) & 0x1f;
    this.stub![i] = stub;
    this.decoded.delete(i);
    this.dataLen += bytes;
  }

  /** A new id whose record is written later in the same conversion. */
  private reserve(): number {
    const i = this.grow();
    this.stub![i] = 2;
    return this.startId + i;
  }

  private fill(id: number, rec: number[]): void {
    this.write(id - this.startId, rec, 0);
  }

  /** The id of a named type (a stub until it is read). */
  private idFor(key: string, declTag: number): number {
    const have = this.ids.get(key);
    if (have !== undefined) {
      // first referenced where it was only declared, found since: its kind and size are known now
      const hi = have - this.startId;
      const def = this.stub![hi] === 2 ? this.defs.get(key) : undefined;
      if (def) this.stubRecord(hi, def);
      return have;
    }
    const i = this.grow();
    const id = this.startId + i;
    this.ids.set(key, id);
    this.keys[i] = key;
    const def = this.defs.get(key);
    const name = key.slice(key.indexOf(' ') + 1);
    if (!def) {
      // only declared so far: its kind is known when it is found (or not: a forward declaration)
      this.write(i, [this.intern(name), info(K.FWD, 0, declTag === TAG.union_type), 0], 2);
      return id;
    }
    this.stubRecord(i, def);
    return id;
  }

  /** A named type's stub from its index entry: name, kind, size (a base type is complete from it). */
  private stubRecord(i: number, def: Def): void {
    if (def.tag === TAG.base_type) {
      this.write(i, this.baseRecord(def), 0);
      return;
    }
    const kind = def.tag === TAG.structure_type ? K.STRUCT : def.tag === TAG.union_type ? K.UNION : def.tag === TAG.enumeration_type ? K.ENUM : K.TYPEDEF;
    this.write(i, [this.intern(def.name), info(kind), def.tag === TAG.typedef ? 0 : def.size || (kind === K.ENUM ? 4 : 0)], 1);
  }

  private baseRecord(def: { name: string; size: number; enc: number }): number[] {
    if (def.enc === 4) return [this.intern(def.name), info(K.FLOAT), def.size];
    let e = 0;
    if (def.enc === 5 || def.enc === 6) e = 1; // signed
    if (def.enc === 6 || def.enc === 8) e |= 2; // char
    if (def.enc === 2) e = 4; // bool
    return [this.intern(def.name), info(K.INT), def.size, ((e << 24) | (def.size * 8)) >>> 0];
  }

  /** Make a stub's record complete: convert its definition (or say it is only declared). */
  protected override materialize(i: number): void {
    const key = this.keys[i];
    if (!key) throw new DumpError(`BTF (from DWARF): type ${this.startId + i} was never written`);
    const def = this.locate(key);
    if (!def) {
      this.stub![i] = 0; // the FWD record written when it was first referenced
      this.decoded.delete(i);
      return;
    }
    const id = this.startId + i;
    let u: Unit;
    let die: number;
    try {
      u = this.dwarf.unitAt(def.unit);
      die = u.indexOf(def.die);
      if (die < 0) throw new DumpError(`DWARF: no DIE at 0x${def.die.toString(16)}`);
    } catch (e) {
      if (!(e instanceof DumpError)) throw e;
      // a damaged unit: the type stays incomplete, said as a forward declaration
      this.write(i, [this.intern(def.name), info(K.FWD, 0, def.tag === TAG.union_type), 0], 0);
      return;
    }
    this.unitsConverted.add(def.unit);
    new UnitConverter(this, u).make(die, id);
  }

  // ------------------------------------------------------------ for UnitConverter

  /** @internal */ _key(tag: number, name: string): string | null {
    const p = PREFIX[tag];
    return p && name ? p + name : null;
  }
  /** @internal */ _named(key: string, tag: number, isDecl: boolean): number | null {
    if (this.ids.has(key) || this.defs.has(key) || isDecl) return this.idFor(key, tag);
    return null;
  }
  /** @internal */ _claim(key: string, id: number): void {
    if (!this.ids.has(key)) this.ids.set(key, id);
  }
  /** @internal */ _reserve(): number {
    return this.reserve();
  }
  /** @internal */ _fill(id: number, rec: number[]): void {
    this.fill(id, rec);
  }
  /** @internal */ _intern(s: string): number {
    return this.intern(s);
  }
  /** @internal */ _shape(shape: string): { id: number; fresh: boolean } {
    const have = this.shapes.get(shape);
    if (have !== undefined) return { id: have, fresh: false };
    const id = this.reserve();
    this.shapes.set(shape, id);
    return { id, fresh: true };
  }
  /** @internal */ _base(def: { name: string; size: number; enc: number }): number[] {
    return this.baseRecord(def);
  }
  /** @internal an unsigned int for array index types */ _int(): number {
    if (this.intId) return this.intId;
    const known = this.locate('base unsigned int') ? this.idFor('base unsigned int', TAG.base_type) : 0;
    if (known) return (this.intId = known);
    this.intId = this.reserve();
    this.fill(this.intId, [this.intern('unsigned int'), info(K.INT), 4, 32]);
    return this.intId;
  }

  // ------------------------------------------------------------ lookups (the Btf interface)

  protected override makePointer(target: number): number {
    const s = this._shape(`p${target}`);
    if (s.fresh) this.fill(s.id, [0, info(K.PTR), target]);
    return s.id;
  }

  /** (Btf.findType asks here: the types come from the DWARF index, functions or not) */
  protected override typesNamed(name: string): number[] {
    return this.findTypes(name);
  }

  override findTypes(name: string): number[] {
    const n = name.trim();
    const keys = KEY_KINDS.map((p) => p + n);
    this.locateAny(keys);
    const out: number[] = [];
    for (const k of keys) {
      if (this.defs.has(k)) out.push(this.idFor(k, 0));
      else {
        const id = this.ids.get(k); // only declared: a forward declaration
        if (id !== undefined) out.push(id);
      }
    }
    return out.sort((a, b) => a - b);
  }

  override findType(name: string, kind?: Parameters<Btf['findType']>[1]): number | null {
    const m = /^(struct|union|enum)\s+(.+)$/.exec(name.trim().replace(/\s+/g, ' '));
    if (m) this.locate(`${m[1]} ${m[2]}`);
    else if (kind === 'struct' || kind === 'union' || kind === 'typedef') this.locate(`${kind} ${name.trim()}`);
    else if (kind === 'enum' || kind === 'enum64') this.locate(`enum ${name.trim()}`);
    return super.findType(name, kind);
  }

  override enumerator(name: string): { type: number; value: bigint } | null {
    while (!this.enumerators.has(name) && this.scanNext()) {
      /* scanning */
    }
    const key = this.enumerators.get(name);
    if (!key) return null;
    const id = this.idFor(key, TAG.enumeration_type);
    const t = this.type(id);
    if (t.kind !== 'enum' && t.kind !== 'enum64') return null;
    const v = t.values.find((x) => x.name === name);
    return v ? { type: id, value: v.value } : null;
  }

  /** Every struct and union: the whole index is scanned first (once). */
  override *structs(): ReturnType<Btf['structs']> {
    while (this.scanNext()) {
      /* scanning */
    }
    for (const [k, d] of this.defs) if (d.tag === TAG.structure_type || d.tag === TAG.union_type) this.idFor(k, d.tag);
    yield* super.structs();
  }
}

/** Converts DIEs of one unit into a DwarfBtf's records. */
class UnitConverter {
  /** DIE index -> id, this conversion */
  private readonly local = new Map<number, number>();
  constructor(
    private readonly b: DwarfBtf,
    private readonly u: Unit,
  ) {}

  /** Write the complete record of named DIE i into id (a stub). */
  make(i: number, id: number): void {
    this.local.set(i, id);
    this.build(i, id);
  }

  private refOf(i: number, a?: Map<number, AttrValue>): number {
    const r = (a ?? this.u.attrs(i)).get(AT.type);
    if (!r || r.k !== 'ref') return 0; // void
    const t = this.u.dwarf.deref(this.u, r.v);
    if (!t) return 0;
    if (t[0] !== this.u) return new UnitConverter(this.b, t[0]).conv(t[1]); // across units (LTO)
    return this.conv(t[1]);
  }

  /** The id of DIE i: a named type's id (a stub until read), an anonymous type made now. */
  conv(i: number): number {
    const have = this.local.get(i);
    if (have !== undefined) return have;
    const u = this.u;
    const tag = u.tags[i];
    const a = u.attrs(i);
    const key = this.b._key(tag, str(a.get(AT.name)));
    if (key) {
      const id = this.b._named(key, tag, !!num(a.get(AT.declaration)));
      if (id !== null) {
        this.local.set(i, id);
        return id;
      }
      // a named type no unit's top level defines (declared inside a function): made here
      const nid = this.b._reserve();
      this.local.set(i, nid);
      this.b._claim(key, nid);
      this.build(i, nid);
      return nid;
    }
    switch (tag) {
      case TAG.structure_type:
      case TAG.union_type:
      case TAG.enumeration_type:
      case TAG.typedef:
      case TAG.base_type: {
        const id = this.b._reserve();
        this.local.set(i, id);
        this.build(i, id);
        return id;
      }
      case TAG.pointer_type: {
        const target = this.refOf(i, a);
        return this.shaped(i, `p${target}`, () => [0, info(K.PTR), target]);
      }
      case TAG.const_type:
      case TAG.volatile_type:
      case TAG.restrict_type:
      case TAG.atomic_type: {
        const kind = tag === TAG.const_type ? K.CONST : tag === TAG.restrict_type ? K.RESTRICT : K.VOLATILE;
        const target = this.refOf(i, a);
        return this.shaped(i, `q${kind}:${target}`, () => [0, info(kind), target]);
      }
      case TAG.array_type: {
        // int a[2][3]: nested BTF arrays, outermost dimension first
        const dims: number[] = [];
        for (const c of u.children(i)) {
          if (u.tags[c] !== TAG.subrange_type) continue;
          const ca = u.attrs(c);
          const cnt = num(ca.get(AT.count));
          const ub = num(ca.get(AT.upper_bound));
          dims.push(cnt ?? (ub !== undefined ? ub + 1 : 0));
        }
        if (!dims.length) dims.push(0);
        const elem = this.refOf(i, a);
        const s = this.b._shape(`a${elem}:${dims.join(',')}`);
        this.local.set(i, s.id);
        if (!s.fresh) return s.id;
        const idx = this.b._int();
        const ids: number[] = [s.id];
        for (let k = 1; k < dims.length; k++) ids.push(this.b._reserve());
        let inner = elem;
        for (let k = dims.length - 1; k >= 0; k--) {
          this.b._fill(ids[k], [0, info(K.ARRAY), 0, inner, idx, dims[k]]);
          inner = ids[k];
        }
        return s.id;
      }
      case TAG.subroutine_type: {
        const params: number[] = [];
        let n = 0;
        for (const c of u.children(i)) {
          if (u.tags[c] === TAG.formal_parameter) {
            params.push(0, this.refOf(c));
            n++;
          } else if (u.tags[c] === TAG.unspecified_parameters) {
            params.push(0, 0);
            n++;
          }
        }
        const ret = this.refOf(i, a);
        return this.shaped(i, `s${ret}:${params.join(',')}`, () => [0, info(K.FUNC_PROTO, n), ret, ...params]);
      }
      default:
        // unspecified_type and others: void
        this.local.set(i, 0);
        return 0;
    }
  }

  private shaped(i: number, shape: string, rec: () => number[]): number {
    const s = this.b._shape(shape);
    this.local.set(i, s.id);
    if (s.fresh) this.b._fill(s.id, rec());
    return s.id;
  }

  /** The record of a struct, union, enum, typedef or base type DIE, written into id. */
  private build(i: number, id: number): void {
    const u = this.u;
    const b = this.b;
    const tag = u.tags[i];
    const a = u.attrs(i);
    const name = str(a.get(AT.name));
    const size = num(a.get(AT.byte_size)) ?? 0;
    switch (tag) {
      case TAG.base_type:
        b._fill(id, b._base({ name, size, enc: num(a.get(AT.encoding)) ?? 0 }));
        return;
      case TAG.structure_type:
      case TAG.union_type: {
        const kind = tag === TAG.structure_type ? K.STRUCT : K.UNION;
        if (num(a.get(AT.declaration))) {
          b._fill(id, [b._intern(name), info(K.FWD, 0, kind === K.UNION), 0]);
          return;
        }
        const rows: Array<[number, number, number, number]> = []; // name, type, bitoffset, bitsize
        let bitfields = false;
        for (const c of u.children(i)) {
          if (u.tags[c] !== TAG.member) continue;
          const ma = u.attrs(c);
          const mt = this.refOf(c, ma);
          const dml = ma.get(AT.data_member_location);
          let bitOff = (num(dml) ?? 0) * 8;
          const dbo = num(ma.get(AT.data_bit_offset));
          if (dbo !== undefined) bitOff = dbo;
          const bitSize = num(ma.get(AT.bit_size)) ?? 0;
          const oldBitOff = num(ma.get(AT.bit_offset)); // DWARF 2-4: from the top of the storage unit
          if (oldBitOff !== undefined && bitSize) {
            const storage = num(ma.get(AT.byte_size)) ?? 0;
            bitOff = (num(dml) ?? 0) * 8 + storage * 8 - oldBitOff - bitSize;
          }
          if (bitSize) bitfields = true;
          rows.push([b._intern(str(ma.get(AT.name))), mt, bitOff, bitSize]);
        }
        const members: number[] = [];
        for (const [nm, mt, bo, bs] of rows) members.push(nm, mt, bitfields ? ((bs << 24) | bo) >>> 0 : bo);
        b._fill(id, [b._intern(name), info(kind, rows.length, bitfields), size, ...members]);
        return;
      }
      case TAG.enumeration_type: {
        const vals: Array<[number, bigint]> = [];
        let signed = false;
        for (const c of u.children(i)) {
          if (u.tags[c] !== TAG.enumerator) continue;
          const ea = u.attrs(c);
          const cv = ea.get(AT.const_value);
          let v = 0n;
          if (cv && cv.k === 's') {
            v = cv.v;
            if (v < 0n) signed = true;
          } else if (cv && cv.k === 'u') v = BigInt(cv.v);
          vals.push([b._intern(str(ea.get(AT.name))), v]);
        }
        const big = size > 4 || vals.some(([, v]) => v > 0xffffffffn || v < -0x80000000n);
        const rec = [b._intern(name), info(big ? K.ENUM64 : K.ENUM, vals.length, signed), size || 4];
        for (const [nm, v] of vals) {
          if (big) {
            const u64 = BigInt.asUintN(64, v);
            rec.push(nm, Number(u64 & 0xffffffffn), Number(u64 >> 32n));
          } else rec.push(nm, Number(BigInt.asUintN(32, v)));
        }
        b._fill(id, rec);
        return;
      }
      case TAG.typedef:
        b._fill(id, [b._intern(name), info(K.TYPEDEF), this.refOf(i, a)]);
        return;
    }
    throw new DumpError(`DWARF to BTF: DIE tag 0x${tag.toString(16)} is not a named type`);
  }
}
