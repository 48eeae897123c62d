/**
 * BTF (BPF Type Format): parser and type model. Pure: the input is the raw BTF bytes (from the
 * kernel's memory between __start_BTF and __stop_BTF, /sys/kernel/btf/*, or a module's .BTF);
 * nothing here reads dump memory.
 *
 * Format (Documentation/bpf/btf.rst, include/uapi/linux/btf.h): a header {u16 magic 0xeB9F,
 * u8 version 1, u8 flags, u32 hdr_len, u32 type_off, u32 type_len, u32 str_off, u32 str_len}
 * (offsets relative to the end of the header; hdr_len may be larger than 24, extra fields are
 * ignored), a type section of variable-length records {u32 name_off, u32 info, u32 size|type}
 * followed by kind-specific data, and a string section of NUL-terminated names. Type ids start at
 * 1 (0 is void). Split BTF (modules) continues the ids and string offsets of its base.
 *
 * Parsing is one pass that records where each record starts; records are decoded on first use.
 */
import { u16, u32, i32 } from '../bytes';
import { DumpError } from '../errors';
import { arenaOf, type Arena } from './bulk';

export type BtfKind =
  | 'void'
  | 'int'
  | 'ptr'
  | 'array'
  | 'struct'
  | 'union'
  | 'enum'
  | 'fwd'
  | 'typedef'
  | 'volatile'
  | 'const'
  | 'restrict'
  | 'func'
  | 'func_proto'
  | 'var'
  | 'datasec'
  | 'float'
  | 'decl_tag'
  | 'type_tag'
  | 'enum64';

/** BTF_KIND_* numbers, index = kind number. */
export const BTF_KINDS: readonly BtfKind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile',
  'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag',
  'enum64',
];

const K_INT = 1, K_PTR = 2, K_ARRAY = 3, K_STRUCT = 4, K_UNION = 5, K_ENUM = 6, K_FWD = 7,
  K_TYPEDEF = 8, K_VOLATILE = 9, K_CONST = 10, K_RESTRICT = 11, K_FUNC = 12, K_FUNC_PROTO = 13,
  K_VAR = 14, K_DATASEC = 15, K_FLOAT = 16, K_DECL_TAG = 17, K_TYPE_TAG = 18, K_ENUM64 = 19;

export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

interface Base {
  id: number;
  name: string; // '' when anonymous
}
export interface BtfVoid extends Base { kind: 'void' }
export interface BtfInt extends Base {
  kind: 'int';
  size: number;
  /** raw BTF_INT_ENCODING bits: 1 signed, 2 char, 4 bool */
  encoding: number;
  signed: boolean;
  char: boolean;
  bool: boolean;
  /** BTF_INT_OFFSET: bit offset of the value inside the storage (0 for kernel BTF) */
  bitOffset: number;
  /** BTF_INT_BITS: number of value bits */
  bits: number;
}
export interface BtfPtr extends Base { kind: 'ptr'; type: number }
export interface BtfArray extends Base { kind: 'array'; type: number; indexType: number; nelems: number }
export interface BtfMember {
  name: string;
  type: number;
  /** bit offset from the start of the containing struct/union */
  bitOffset: number;
  /** bitfield width in bits; 0 when the member is not a bitfield */
  bitSize: number;
}
export interface BtfComposite extends Base {
  kind: 'struct' | 'union';
  size: number;
  members: BtfMember[];
}
export interface BtfEnumValue { name: string; value: bigint }
export interface BtfEnum extends Base {
  kind: 'enum' | 'enum64';
  size: number;
  signed: boolean;
  values: BtfEnumValue[];
}
export interface BtfFwd extends Base { kind: 'fwd'; union: boolean }
export interface BtfRef extends Base {
  kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
  type: number;
}
export interface BtfFunc extends Base { kind: 'func'; type: number; linkage: number }
export interface BtfParam { name: string; type: number }
export interface BtfFuncProto extends Base {
  kind: 'func_proto';
  /** return type */
  type: number;
  params: BtfParam[];
  variadic: boolean;
}
export interface BtfVar extends Base { kind: 'var'; type: number; linkage: number }
export interface BtfVarSecinfo { type: number; offset: number; size: number }
export interface BtfDatasec extends Base { kind: 'datasec'; size: number; vars: BtfVarSecinfo[] }
export interface BtfFloat extends Base { kind: 'float'; size: number }
export interface BtfDeclTag extends Base { kind: 'decl_tag'; type: number; componentIdx: number }

export type BtfType =
  | BtfVoid | BtfInt | BtfPtr | BtfArray | BtfComposite | BtfEnum | BtfFwd | BtfRef | BtfFunc
  | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

type NameIndex = { ids: Int32Array; hashes: Int32Array; slots: Int32Array };
/** the kinds a bare name prefers to anything else, functions included (findType) */
const STRUCTLIKE = new Set<BtfKind>(['struct', 'union', 'typedef']);

/**
 * A type record's length by kind: 12 + REC_FIXED[kind] + REC_PER_MEMBER[kind] * vlen (the kinds of
 * linux/btf.h; -1: no such kind).
 */
const REC_FIXED = new Int8Array(32).fill(-1);
const REC_PER_MEMBER = new Uint8Array(32);
for (const [k, fixed, per] of [
  [K_INT, 4, 0], [K_PTR, 0, 0], [K_ARRAY, 12, 0], [K_STRUCT, 0, 12], [K_UNION, 0, 12], [K_ENUM, 0, 8],
  [K_FWD, 0, 0], [K_TYPEDEF, 0, 0], [K_VOLATILE, 0, 0], [K_CONST, 0, 0], [K_RESTRICT, 0, 0], [K_FUNC, 0, 0],
  [K_FUNC_PROTO, 0, 8], [K_VAR, 4, 0], [K_DATASEC, 0, 12], [K_FLOAT, 0, 0], [K_DECL_TAG, 4, 0],
  [K_TYPE_TAG, 0, 0], [K_ENUM64, 0, 12],
]) {
  REC_FIXED[k] = fixed;
  REC_PER_MEMBER[k] = per;
}

/** btfArenaBytes' room: a record per this many bytes of BTF data, an enumerator per this many */
const ARENA_DATA_PER_RECORD = 24;
const ARENA_DATA_PER_ENUMERATOR = 128;

/**
 * Bytes of a WebAssembly arena (bulk.ts) for BTF data of `len` bytes: the data first, then room
 * for the record tables, both name indexes and the enumerator index, for kernel BTF as it is (one
 * record per ~43 bytes of data, one enumerator per ~270: room for twice that). Tight on purpose:
 * V8 counts a WebAssembly memory's whole size as external memory, and a larger one brought a
 * full garbage collection into every command. A BTF denser than that gets its tables from the
 * JavaScript loops (an allocation that does not fit says so: Arena.alloc gives null).
 */
export function btfArenaBytes(len: number): number {
  const records = Math.ceil(len / ARENA_DATA_PER_RECORD);
  const enumerators = Math.ceil(len / ARENA_DATA_PER_ENUMERATOR);
  // records: offset and kind (5), two name indexes' ids and hashes (16) and tables (16);
  // enumerators: id, place, hash (12) and table (16)
  return len + 37 * records + 28 * enumerators + 65536;
}

/** memberPath answers kept (paths with array indexes are many: a bound, then start again) */
const MAX_MEMO_PATHS = 8192;

/** Where a member path (memberPath) or an offset (memberAt) lands. */
export interface MemberLocation {
  /** C access path, anonymous struct/union levels dropped: "headers.pkt_type", "frags[2].bv_offset" */
  path: string;
  /** byte offset from the start of the outer type (for a bitfield: the byte holding its first bit) */
  offset: number;
  /** absolute bit offset from the start of the outer type */
  bitOffset: number;
  /** bitfield width; 0 when not a bitfield */
  bitSize: number;
  /** the member's type id */
  type: number;
  /** sizeof the member's type */
  size: number;
}

/** memberAt's answer: the member and how far into it the asked offset is. */
export interface MemberAt extends MemberLocation {
  /** asked offset - offset */
  delta: number;
  /** true when the offset is in padding: path names the innermost aggregate holding the hole */
  padding: boolean;
}

export interface StructInfo {
  id: number;
  name: string;
  kind: 'struct' | 'union';
  size: number;
}

/** Strips the qualifiers that do not change layout. */
const QUAL = new Set([K_CONST, K_VOLATILE, K_RESTRICT, K_TYPE_TAG]);

const INT_NAMES: Record<string, string> = {
  'long unsigned int': 'unsigned long',
  'long int': 'long',
  'short unsigned int': 'unsigned short',
  'short int': 'short',
  'long long unsigned int': 'unsigned long long',
  'long long int': 'long long',
  'unsigned int': 'unsigned int',
  'unsigned char': 'unsigned char',
  'signed char': 'signed char',
  '__int128 unsigned': 'unsigned __int128',
};

/** Check and read the BTF header (data may hold just the header: sections are checked by parseBtf). */
export function parseBtfHeader(data: Uint8Array): BtfHeader {
  if (data.length < 24) throw new DumpError('BTF: too short for a header');
  const magic = u16(data, 0);
  if (magic !== 0xeb9f) {
    if (magic === 0x9feb) throw new DumpError('BTF: big-endian BTF is not supported');
    throw new DumpError(`BTF: bad magic 0x${magic.toString(16)}`);
  }
  const h: BtfHeader = {
    magic,
    version: data[2],
    flags: data[3],
    hdrLen: u32(data, 4),
    typeOff: u32(data, 8),
    typeLen: u32(data, 12),
    strOff: u32(data, 16),
    strLen: u32(data, 20),
  };
  if (h.version !== 1) throw new DumpError(`BTF: unsupported version ${h.version}`);
  if (h.hdrLen < 24 || h.hdrLen > 4096) throw new DumpError(`BTF: bad header length ${h.hdrLen}`);
  return h;
}

/** Bytes of BTF data described by a header (hdr_len + the end of the later section). */
export function btfTotalSize(h: BtfHeader): number {
  return h.hdrLen + Math.max(h.typeOff + h.typeLen, h.strOff + h.strLen);
}

/**
 * Parse raw BTF. With `base`, `data` is split BTF (a module's): its ids continue after the base's
 * last id, and string offsets at or above the base's string length index the split's strings.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function parseBtf(data: Uint8Array, base?: Btf): Btf {
  return new Btf(data, base);
}

export class Btf {
  readonly header: BtfHeader;
  readonly base: Btf | null;
  /** the first id this BTF defines (1 for vmlinux BTF, base.count for split BTF) */
  readonly startId: number;
  /** ids are < count (count = number of ids including void, and of the base's types) */
  get count(): number {
    return this.startId + this.n;
  }
  /** string offset of this BTF's first string (base's string length for split BTF) */
  readonly strStart: number;

  protected data: Uint8Array;
  /** the string section, as bytes (a name becomes a string when asked for) */
  protected strBytes: Uint8Array;
  /** strings made so far, by offset into strBytes */
  private strMade = new Map<number, string>();
  /** record offsets (into data) of local types, index = id - startId */
  protected recOff: Uint32Array = new Uint32Array(0);
  protected recKind: Uint8Array = new Uint8Array(0);
  /** types decoded so far, by index (a Map: a kernel's BTF has ~130k types, a command decodes a few hundred) */
  protected decoded = new Map<number, BtfType>();
  /** number of local types */
  protected n = 0;
  /**
   * Types made on demand (DwarfBtf): per local type, 0 = its record is complete, 1 = only its
   * name, kind and size are (the rest is made by materialize()), 2 = not even its kind.
   */
  protected stub: Uint8Array | null = null;
  /**
   * by-name indexes of the named types: their ids, name hashes, and an open-addressing table; one
   * of every kind but functions, and one of the functions (~80% of a kernel's named records, and
   * rarely asked for: built on the first lookup that needs them)
   */
  private nameIndex: NameIndex | null = null;
  private funcIndex: NameIndex | null = null;
  /** by-name index of every enumerator: its enum's id, its place in the enum, name hashes, table */
  private enumIndex: { ids: Int32Array; at: Int32Array; hashes: Int32Array; slots: Int32Array } | null = null;
  private readonly sizeCache = new Map<number, number>();

  constructor(data: Uint8Array, base?: Btf) {
    this.data = data;
    this.base = base ?? null;
    const h = (this.header = parseBtfHeader(data));
    if (h.hdrLen > data.length) throw new DumpError('BTF: truncated header');
    const body = data.length - h.hdrLen;
    if (h.typeOff + h.typeLen > body || h.strOff + h.strLen > body)
      throw new DumpError('BTF: type or string section runs past the end of the data');
    this.startId = base ? base.count : 1;
    this.strStart = base ? base.strEnd : 0;
    const strBase = h.hdrLen + h.strOff;
    this.strBytes = data.subarray(strBase, strBase + h.strLen);
    if (h.strLen > 0 && this.strBytes[0] !== 0 && !base)
      throw new DumpError('BTF: string section does not start with an empty string');

    let off = h.hdrLen + h.typeOff;
    const end = off + h.typeLen;
    if (this.scanInArena(off, end)) return;
    let cap = Math.max(16, Math.ceil(h.typeLen / 12));
    if (cap > 1 << 16) cap = Math.ceil(h.typeLen / 24); // kernel BTF averages ~28 bytes a record
    let recOff = new Uint32Array(cap);
    let recKind = new Uint8Array(cap);
    let n = 0;
    // aligned data (a whole read of memory is): info words through one 32-bit view
    const words = LITTLE_ENDIAN && data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, (data.byteLength >>> 2)) : null;
    while (off < end) {
      if (off + 12 > end) throw new DumpError(`BTF: truncated type record at ${off}`);
      const info = words !== null && (off & 3) === 0 ? words[(off >>> 2) + 1] : u32(data, off + 4);
      const kind = (info >>> 24) & 0x1f;
      // a table, not a switch: this loop runs once per record (100k+) while the code is still cold
      const fixed = REC_FIXED[kind];
      if (fixed < 0) throw new DumpError(`BTF: unknown kind ${kind} for type ${this.startId + n}`);
      const len = 12 + fixed + REC_PER_MEMBER[kind] * (info & 0xffff);
      if (off + len > end) throw new DumpError(`BTF: truncated type record for type ${this.startId + n}`);
      if (n === cap) {
        cap *= 2;
        const r2 = new Uint32Array(cap); r2.set(recOff); recOff = r2;
        const k2 = new Uint8Array(cap); k2.set(recKind); recKind = k2;
      }
      recOff[n] = off;
      recKind[n] = kind;
      n++;
      off += len;
    }
    this.recOff = recOff.subarray(0, n);
    this.recKind = recKind.subarray(0, n);
    this.n = n;
  }

  /**
   * The record scan as WebAssembly, when the data lies at the start of an arena (Program reads the
   * kernel's BTF into one): false when it does not, or the scan found a problem (the JavaScript
   * scan then runs and names it).
   */
  private scanInArena(off: number, end: number): boolean {
    const ar = arenaOf(this.data);
    if (!ar || this.data.byteOffset !== 0) return false;
    const cap = Math.min(Math.floor((end - off) / 12) + 1, Math.ceil(this.data.length / ARENA_DATA_PER_RECORD));
    const ro = ar.alloc(4 * cap, 4);
    const rk = ar.alloc(cap, 1);
    const tf = ar.alloc(32, 1);
    const tp = ar.alloc(32, 1);
    if (ro === null || rk === null || tf === null || tp === null) return false;
    ar.i8(tf, 32).set(REC_FIXED);
    ar.u8(tp, 32).set(REC_PER_MEMBER);
    const n = ar.fn.btf_scan(off, end, ro, rk, cap, tf, tp);
    if (n < 0) return false;
    this.recOff = ar.u32(ro, n);
    this.recKind = ar.u8(rk, n);
    this.n = n;
    return true;
  }

  /** One past the last string offset of this BTF (where a split BTF's strings start). */
  get strEnd(): number {
    return this.strStart + this.header.strLen;
  }

  /** Number of types defined by this BTF alone (not counting the base). */
  get localCount(): number {
    return this.n;
  }

  /** A pointer type to `target` made now, where types are made on demand (null: this BTF is as read). */
  protected makePointer(_target: number): number | null {
    return null;
  }

  /**
   * Ids of every type of a kind that is never named-on-demand (datasec, var, func, ptr...), without
   * making the types of a BTF made on demand (their stubs are named structs, unions, enums, typedefs).
   */
  *idsOfKind(kind: BtfKind): IterableIterator<number> {
    const want = BTF_KINDS.indexOf(kind);
    for (let id = 1; id < this.count; id++) {
      const o = this.owner(id);
      const i = id - o.startId;
      if (o.stub !== null && o.stub[i] !== 0) continue;
      if (o.recKind[i] === want) yield id;
    }
  }

  /** pointer types by target (pointers are not named: found by scanning; extended as types are made) */
  private ptrIndex: { idx: Map<number, number>; upTo: number } | null = null;

  /**
   * A pointer type to `target` (through typedefs/qualifiers: a pointer to the resolved type when
   * there is no pointer to target itself), or null when this BTF has none.
   */
  pointerTo(target: number): number | null {
    const ent = (this.ptrIndex ??= { idx: new Map(), upTo: 1 });
    const idx = ent.idx;
    for (let id = ent.upTo; id < this.count; id++) {
      ent.upTo = id + 1;
      const o = this.owner(id);
      const i = id - o.startId;
      if (o.stub !== null && o.stub[i] !== 0) continue; // a named type made on demand: never a pointer
      if (o.recKind[i] !== K_PTR) continue;
      const t = this.sizeOrType(id);
      if (!idx.has(t)) idx.set(t, id);
    }
    let id = idx.get(target);
    if (id === undefined) {
      const r = this.resolve(target);
      id = idx.get(r);
      if (id === undefined) for (const [t, p] of idx) if (this.resolve(t) === r) return p;
    }
    return id ?? this.makePointer(target);
  }

  /** Complete local type i's record (types made on demand: see `stub`). */
  protected materialize(i: number): void {
    throw new DumpError(`BTF: type ${this.startId + i} is incomplete`);
  }

  /** The string at a BTF string offset ('' for 0). */
  str(off: number): string {
    if (off < this.strStart) return this.base ? this.base.str(off) : '';
    const o = off - this.strStart;
    const made = this.strMade.get(o);
    if (made !== undefined) return made;
    const b = this.strBytes;
    if (o >= b.length) throw new DumpError(`BTF: string offset ${off} out of range`);
    let e = b.indexOf(0, o);
    if (e < 0) e = b.length;
    // latin1, one char per byte (kernel names are ASCII), in slices that spread arguments safely
    let s = '';
    for (let i = o; i < e; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, Math.min(e, i + 4096)) as unknown as number[]);
    this.strMade.set(o, s);
    return s;
  }

  /** True when id names a type (0, void, included). */
  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.count;
  }

  private owner(id: number): Btf {
    if (id >= this.startId) return this;
    if (this.base && id > 0) return this.base.owner(id);
    return this;
  }

  /** The kind of a type without decoding it. */
  kind(id: number): BtfKind {
    return BTF_KINDS[this.kindNo(id)];
  }

  private kindNo(id: number): number {
    if (id === 0) return 0;
    if (id < this.startId) {
      if (!this.base) throw new DumpError(`BTF: no type ${id}`);
      return this.base.kindNo(id);
    }
    const i = id - this.startId;
    if (i >= this.n) throw new DumpError(`BTF: no type ${id}`);
    if (this.stub !== null && this.stub[i] === 2) this.materialize(i);
    return this.recKind[i];
  }

  /** name of a type without decoding its members ('' when anonymous). */
  name(id: number): string {
    if (id === 0) return 'void';
    const o = this.owner(id);
    if (o !== this) return o.name(id);
    const i = id - this.startId;
    if (i >= this.n) throw new DumpError(`BTF: no type ${id}`);
    return this.str(u32(this.data, this.recOff[i]));
  }

  /** The raw size_or_type field of a record. */
  private sizeOrType(id: number): number {
    const o = this.owner(id);
    const i = id - o.startId;
    if (o.stub !== null && o.stub[i] !== 0) o.materialize(i);
    return u32(o.data, o.recOff[i] + 8);
  }

  /** Decode one type (cached). */
  type(id: number): BtfType {
    if (id === 0) return { id: 0, kind: 'void', name: 'void' };
    const o = this.owner(id);
    if (o !== this) return o.type(id);
    const i = id - this.startId;
    if (!(i >= 0 && i < this.n)) throw new DumpError(`BTF: no type ${id}`);
    if (this.stub !== null && this.stub[i] !== 0) this.materialize(i);
    let t = this.decoded.get(i);
    if (t === undefined) this.decoded.set(i, (t = this.decode(id, this.recOff[i])));
    return t;
  }

  private decode(id: number, off: number): BtfType {
    const d = this.data;
    const name = this.str(u32(d, off));
    const info = u32(d, off + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = (info >>> 31) === 1;
    const st = u32(d, off + 8);
    const p = off + 12;
    switch (kind) {
      case K_INT: {
        const v = u32(d, p);
        const enc = (v >>> 24) & 0x0f;
        return {
          id, kind: 'int', name, size: st, encoding: enc, signed: (enc & 1) !== 0,
          char: (enc & 2) !== 0, bool: (enc & 4) !== 0, bitOffset: (v >>> 16) & 0xff, bits: v & 0xff,
        };
      }
      case K_PTR: return { id, kind: 'ptr', name, type: st };
      case K_ARRAY:
        return { id, kind: 'array', name, type: u32(d, p), indexType: u32(d, p + 4), nelems: u32(d, p + 8) };
      case K_STRUCT: case K_UNION: {
        const members: BtfMember[] = new Array(vlen);
        for (let k = 0; k < vlen; k++) {
          const m = p + 12 * k;
          const mtype = u32(d, m + 4);
          const raw = u32(d, m + 8);
          let bitOffset = kflag ? raw & 0xffffff : raw;
          let bitSize = kflag ? raw >>> 24 : 0;
          if (!kflag) {
            // old encoding: bitfield width and offset live in the INT type
            const r = this.resolve(mtype);
            if (this.kindNo(r) === K_INT) {
              const t = this.type(r) as BtfInt;
              if (t.bits !== t.size * 8 || t.bitOffset !== 0) {
                bitSize = t.bits;
                bitOffset += t.bitOffset;
              }
            }
          }
          members[k] = { name: this.str(u32(d, m)), type: mtype, bitOffset, bitSize };
        }
        return { id, kind: kind === K_STRUCT ? 'struct' : 'union', name, size: st, members };
      }
      case K_ENUM: {
        const values: BtfEnumValue[] = new Array(vlen);
        for (let k = 0; k < vlen; k++) {
          const m = p + 8 * k;
          values[k] = { name: this.str(u32(d, m)), value: BigInt(kflag ? i32(d, m + 4) : u32(d, m + 4)) };
        }
        return { id, kind: 'enum', name, size: st, signed: kflag, values };
      }
      case K_ENUM64: {
        const values: BtfEnumValue[] = new Array(vlen);
        for (let k = 0; k < vlen; k++) {
          const m = p + 12 * k;
          const v = (BigInt(u32(d, m + 8)) << 32n) | BigInt(u32(d, m + 4));
          values[k] = { name: this.str(u32(d, m)), value: kflag ? BigInt.asIntN(64, v) : v };
        }
        return { id, kind: 'enum64', name, size: st, signed: kflag, values };
      }
      case K_FWD: return { id, kind: 'fwd', name, union: kflag };
      case K_TYPEDEF: return { id, kind: 'typedef', name, type: st };
      case K_VOLATILE: return { id, kind: 'volatile', name, type: st };
      case K_CONST: return { id, kind: 'const', name, type: st };
      case K_RESTRICT: return { id, kind: 'restrict', name, type: st };
      case K_TYPE_TAG: return { id, kind: 'type_tag', name, type: st };
      case K_FUNC: return { id, kind: 'func', name, type: st, linkage: vlen };
      case K_FUNC_PROTO: {
        const params: BtfParam[] = [];
        let variadic = false;
        for (let k = 0; k < vlen; k++) {
          const m = p + 8 * k;
          const t = u32(d, m + 4);
          const pn = this.str(u32(d, m));
          if (t === 0 && k === vlen - 1 && pn === '') variadic = true;
          else params.push({ name: pn, type: t });
        }
        return { id, kind: 'func_proto', name, type: st, params, variadic };
      }
      case K_VAR: return { id, kind: 'var', name, type: st, linkage: u32(d, p) };
      case K_DATASEC: {
        const vars: BtfVarSecinfo[] = new Array(vlen);
        for (let k = 0; k < vlen; k++) {
          const m = p + 12 * k;
          vars[k] = { type: u32(d, m), offset: u32(d, m + 4), size: u32(d, m + 8) };
        }
        return { id, kind: 'datasec', name, size: st, vars };
      }
      case K_FLOAT: return { id, kind: 'float', name, size: st };
      case K_DECL_TAG: return { id, kind: 'decl_tag', name, type: st, componentIdx: i32(d, p) };
    }
    throw new DumpError(`BTF: unknown kind ${kind} for type ${id}`);
  }

  // ---------------------------------------------------------------- lookup by name

  /** nameHash of the string at offset `no`, hashed where it lies in this BTF's own strings (no string made). */
  private strNameHash(no: number): number {
    const b = this.strBytes;
    if (no < this.strStart) return nameHash(this.str(no));
    let h = 0;
    for (let c = no - this.strStart; c < b.length; c++) {
      const ch = b[c];
      if (ch === 0) break;
      h = (Math.imul(h, 0x01000193) + ch) | 0;
    }
    return h;
  }

  /**
   * Hash the names of the named types (functions only, or every kind but functions) where they lie
   * in the string section (no string per type: a kernel's BTF has 100k+ records, most of them
   * functions) into an open-addressing table; a lookup hashes the query and compares names along
   * its chain only.
   */
  private buildNameIndex(funcs: boolean): NameIndex {
    const inArena = this.nameHashesInArena(funcs);
    if (inArena) return inArena;
    const d = this.data;
    const n = this.n;
    const ids = new Int32Array(n);
    const hashes = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const k = this.recKind[i];
      if ((k === K_FUNC) !== funcs) continue;
      if (k === K_VOLATILE || k === K_CONST || k === K_RESTRICT || k === K_PTR || k === K_ARRAY ||
        k === K_FUNC_PROTO || k === K_TYPE_TAG || k === K_DECL_TAG) continue;
      const no = u32(d, this.recOff[i]);
      if (no === 0) continue;
      const h = this.strNameHash(no);
      ids[m] = this.startId + i;
      hashes[m] = h;
      m++;
    }
    // in id order, so along a chain equal names come lowest id first
    return { ids: ids.subarray(0, m), hashes: hashes.subarray(0, m), slots: hashSlots(hashes, m) };
  }

  /** buildNameIndex's ids and hashes from bulk.wat, where the records and strings lie in an arena. */
  private nameHashesInArena(funcs: boolean): NameIndex | null {
    if (!this.inArena()) return null;
    const ar = arenaOf(this.data)!;
    const ids = ar.alloc(4 * this.n, 4);
    const hashes = ar.alloc(4 * this.n, 4);
    const skip = ar.alloc(32, 1);
    if (ids === null || hashes === null || skip === null) return null;
    const sk = ar.u8(skip, 32);
    for (const k of [K_VOLATILE, K_CONST, K_RESTRICT, K_PTR, K_ARRAY, K_FUNC_PROTO, K_TYPE_TAG, K_DECL_TAG]) sk[k] = 1;
    const m = ar.fn.btf_names(this.recOff.byteOffset, this.recKind.byteOffset, this.n, funcs ? 1 : 0, skip,
      this.strBytes.byteOffset, this.strBytes.length, ids, hashes, this.startId);
    const slots = arenaSlots(ar, hashes, m);
    return slots && { ids: ar.i32(ids, m), hashes: ar.i32(hashes, m), slots };
  }

  /** buildEnumIndex by bulk.wat, where the records and strings lie in an arena. */
  private enumsInArena(): { ids: Int32Array; at: Int32Array; hashes: Int32Array; slots: Int32Array } | null {
    if (!this.inArena()) return null;
    const ar = arenaOf(this.data)!;
    const cap = Math.min(Math.floor(this.header.typeLen / 8) + 1, Math.ceil(this.data.length / ARENA_DATA_PER_ENUMERATOR));
    const ids = ar.alloc(4 * cap, 4);
    const at = ar.alloc(4 * cap, 4);
    const hashes = ar.alloc(4 * cap, 4);
    if (ids === null || at === null || hashes === null) return null;
    const m = ar.fn.btf_enums(this.recOff.byteOffset, this.recKind.byteOffset, this.n, this.strBytes.byteOffset,
      this.strBytes.length, ids, at, hashes, this.startId, cap);
    if (m < 0) return null;
    const slots = arenaSlots(ar, hashes, m);
    return slots && { ids: ar.i32(ids, m), at: ar.i32(at, m), hashes: ar.i32(hashes, m), slots };
  }

  /** Whether the records and strings lie in an arena bulk.wat can work on (the kernel's own BTF). */
  private inArena(): boolean {
    const ar = arenaOf(this.data);
    if (!ar || this.base || this.stub !== null || this.strStart !== 0) return false;
    return this.recOff.buffer === ar.buffer && this.recKind.buffer === ar.buffer && this.strBytes.buffer === ar.buffer;
  }

  private lookupIndex(idx: NameIndex, name: string, h: number, out: number[]): void {
    const mask = idx.slots.length - 1;
    for (let x = mixHash(h) & mask; idx.slots[x] !== 0; x = (x + 1) & mask) {
      const j = idx.slots[x] - 1;
      if (idx.hashes[j] === h && this.name(idx.ids[j]) === name) out.push(idx.ids[j]);
    }
  }

  /** Every named type (not ptr/array/qualifier) with this exact name, lowest id first. */
  findTypes(name: string): number[] {
    return this.typesNamed(name, true);
  }

  /** findTypes, without the functions unless `funcs` (their index is built on first need). */
  protected typesNamed(name: string, funcs: boolean): number[] {
    const h = nameHash(name);
    const own: number[] = [];
    this.lookupIndex((this.nameIndex ??= this.buildNameIndex(false)), name, h, own);
    if (funcs) {
      const n = own.length;
      this.lookupIndex((this.funcIndex ??= this.buildNameIndex(true)), name, h, own);
      if (own.length > n && n > 0) own.sort((a, b) => a - b);
    }
    if (!this.base) return own;
    const inBase = this.base.typesNamed(name, funcs);
    return inBase.length ? (own.length ? [...inBase, ...own] : inBase) : own;
  }

  /**
   * A type by name. "struct X", "union X", "enum X" select the kind; a bare name resolves a
   * struct, then a union, then a typedef, then anything else (enum, int, float, func, var...).
   * A complete definition is preferred over a forward declaration. `kind` restricts the search
   * ("enum" also matches enum64). Returns the type id or null.
   */
  findType(name: string, kind?: BtfKind): number | null {
    let n = name.trim().replace(/\s+/g, ' ');
    let want: BtfKind[] | null = kind ? (kind === 'enum' || kind === 'enum64' ? ['enum', 'enum64'] : [kind]) : null;
    const m = /^(struct|union|enum)\s+(.+)$/.exec(n);
    if (m) {
      n = m[2];
      const k = m[1] as BtfKind;
      if (want && !want.includes(k) && !(k === 'enum' && want.includes('enum64'))) return null;
      want = k === 'enum' ? ['enum', 'enum64'] : [k];
    }
    // functions only when they could be the answer: asked for, or no struct, union or typedef
    // has the name (a bare name prefers those)
    let all = this.typesNamed(n, false);
    const needFuncs = want ? want.includes('func') : !all.some((id) => STRUCTLIKE.has(this.kind(id)));
    if (needFuncs) all = this.typesNamed(n, true);
    if (all.length === 0) {
      if (n === 'void' && (!want || want.includes('void'))) return 0;
      return null;
    }
    const order: BtfKind[][] = want
      ? [want]
      : [['struct'], ['union'], ['typedef'], ['enum', 'enum64', 'int', 'float', 'func', 'var', 'datasec']];
    for (const kinds of order) {
      for (const id of all) if (kinds.includes(this.kind(id))) return id;
    }
    // only forward declarations: take one matching the wanted kind
    for (const id of all) {
      if (this.kind(id) !== 'fwd') continue;
      if (!want) return id;
      const u = (this.type(id) as BtfFwd).union;
      if (want.includes(u ? 'union' : 'struct') || want.includes('fwd')) return id;
    }
    return null;
  }

  /** Every struct and union with a name (complete definitions only). */
  *structs(): IterableIterator<StructInfo> {
    if (this.base) yield* this.base.structs();
    for (let i = 0; i < this.n; i++) {
      if (this.stub !== null && this.stub[i] === 2) continue; // not known to be one
      const k = this.recKind[i];
      if (k !== K_STRUCT && k !== K_UNION) continue;
      const no = u32(this.data, this.recOff[i]);
      if (no === 0) continue;
      yield {
        id: this.startId + i,
        name: this.str(no),
        kind: k === K_STRUCT ? 'struct' : 'union',
        size: u32(this.data, this.recOff[i] + 8),
      };
    }
  }

  /** Sorted, de-duplicated names of every struct and union ("sk_buff", not "struct sk_buff"). */
  structNames(): string[] {
    const s = new Set<string>();
    for (const t of this.structs()) s.add(t.name);
    return [...s].sort();
  }

  /** An enumerator constant by name (e.g. "PG_slab"), with the enum type that defines it. */
  enumerator(name: string): { type: number; value: bigint } | null {
    const inBase = this.base?.enumerator(name);
    if (inBase) return inBase;
    const idx = (this.enumIndex ??= this.buildEnumIndex());
    const h = nameHash(name);
    const mask = idx.slots.length - 1;
    // in (id, place) order along a chain: the first enumerator of that name wins
    for (let x = mixHash(h) & mask; idx.slots[x] !== 0; x = (x + 1) & mask) {
      const j = idx.slots[x] - 1;
      if (idx.hashes[j] !== h) continue;
      const v = (this.type(idx.ids[j]) as BtfEnum).values[idx.at[j]];
      if (v && v.name === name) return { type: idx.ids[j], value: v.value };
    }
    return null;
  }

  /** Hash every enumerator's name where it lies (enum and enum64 records are decoded only on a hit). */
  private buildEnumIndex(): { ids: Int32Array; at: Int32Array; hashes: Int32Array; slots: Int32Array } {
    const inArena = this.enumsInArena();
    if (inArena) return inArena;
    const d = this.data;
    let total = 0;
    for (let i = 0; i < this.n; i++) {
      const k = this.recKind[i];
      if (k === K_ENUM || k === K_ENUM64) total += u32(d, this.recOff[i] + 4) & 0xffff;
    }
    const ids = new Int32Array(total);
    const at = new Int32Array(total);
    const hashes = new Int32Array(total);
    let m = 0;
    for (let i = 0; i < this.n; i++) {
      const k = this.recKind[i];
      if (k !== K_ENUM && k !== K_ENUM64) continue;
      const off = this.recOff[i];
      const vlen = u32(d, off + 4) & 0xffff;
      const stride = k === K_ENUM ? 8 : 12;
      for (let v = 0; v < vlen; v++) {
        ids[m] = this.startId + i;
        at[m] = v;
        hashes[m] = this.strNameHash(u32(d, off + 12 + v * stride));
        m++;
      }
    }
    return { ids, at, hashes, slots: hashSlots(hashes, m) };
  }

  /** The enumerator named for a value of an enum type (through typedefs), or null. */
  enumName(id: number, value: bigint | number): string | null {
    const t = this.type(this.resolve(id));
    if (t.kind !== 'enum' && t.kind !== 'enum64') return null;
    const v = normEnumValue(t, value);
    for (const e of t.values) if (normEnumValue(t, e.value) === v) return e.name;
    return null;
  }

  /**
   * Names for a value read as flags: exact match first; otherwise the enumerators whose single-bit
   * (or multi-bit) values are all set in value, plus a hex remainder ("A|B|0x40"). null when not an enum.
   */
  enumFlags(id: number, value: bigint | number): string[] | null {
    const t = this.type(this.resolve(id));
    if (t.kind !== 'enum' && t.kind !== 'enum64') return null;
    const exact = this.enumName(id, value);
    if (exact !== null) return [exact];
    let rest = normEnumValue(t, value);
    const out: string[] = [];
    for (const e of t.values) {
      const ev = normEnumValue(t, e.value);
      if (ev !== 0n && (rest & ev) === ev) {
        out.push(e.name);
        rest &= ~ev;
      }
    }
    if (rest !== 0n) out.push('0x' + rest.toString(16));
    return out;
  }

  // ---------------------------------------------------------------- type algebra

  /** Skip typedef, const, volatile, restrict and type_tag. */
  resolve(id: number): number {
    for (let n = 0; n < 64; n++) {
      const k = this.kindNo(id);
      if (k === K_TYPEDEF || QUAL.has(k)) id = this.sizeOrType(id);
      else return id;
    }
    throw new DumpError(`BTF: typedef chain too long at type ${id}`);
  }

  /** Skip const, volatile, restrict and type_tag but keep typedefs. */
  unqualified(id: number): number {
    for (let n = 0; n < 64 && QUAL.has(this.kindNo(id)); n++) id = this.sizeOrType(id);
    return id;
  }

  /**
   * sizeof: arrays are nelems * element size, pointers 8, enums/ints/structs their size,
   * typedef and qualifier chains followed. void and functions are 1 (as GNU C and gdb);
   * a forward declaration is 0 (incomplete).
   */
  sizeof(id: number): number {
    const c = this.sizeCache.get(id);
    if (c !== undefined) return c;
    const r = this.resolve(id);
    let s: number;
    switch (this.kindNo(r)) {
      case 0: case K_FUNC: case K_FUNC_PROTO: s = 1; break;
      case K_PTR: s = 8; break;
      case K_FWD: s = 0; break;
      case K_ARRAY: {
        const a = this.type(r) as BtfArray;
        s = a.nelems === 0 ? 0 : a.nelems * this.sizeof(a.type);
        break;
      }
      case K_VAR: s = this.sizeof(this.sizeOrType(r)); break;
      case K_DECL_TAG: s = 0; break;
      default: s = this.sizeOrType(r); // int, struct, union, enum, enum64, float, datasec
    }
    this.sizeCache.set(id, s);
    return s;
  }

  /** True for struct and union (after typedefs/qualifiers). */
  isComposite(id: number): boolean {
    const k = this.kindNo(this.resolve(id));
    return k === K_STRUCT || k === K_UNION;
  }

  /** Direct members of a struct/union (through typedefs); [] for other kinds. */
  members(id: number): BtfMember[] {
    const t = this.type(this.resolve(id));
    return t.kind === 'struct' || t.kind === 'union' ? t.members : [];
  }

  // ---------------------------------------------------------------- C text

  /** C text of a type, as gdb/crash print it: "struct sk_buff *", "unsigned char [48]", "void (*)(struct sk_buff *)". */
  typeName(id: number, opts?: DeclOptions): string {
    return this.declaration(id, '', opts);
  }

  /**
   * A C declaration of `name` with type id: "struct list_head *next", "unsigned char cb[48]",
   * "void (*destructor)(struct sk_buff *)", and with opts.bitSize "unsigned int len : 4".
   * opts.flexible prints a zero-length array as "[]" (a flexible array member) instead of "[0]".
   */
  declaration(id: number, name: string, opts?: DeclOptions): string {
    let s = this.declarator(id, name, opts?.flexible ?? false, 0);
    if (opts?.bitSize) s += ` : ${opts.bitSize}`;
    return s;
  }

  private declarator(id: number, inner: string, flexible: boolean, depth: number): string {
    if (depth > 64) return `<loop ${id}>` + (inner ? ' ' + inner : '');
    const t = this.type(id);
    switch (t.kind) {
      case 'ptr': {
        const target = this.unqualified(t.type);
        const tk = this.kind(target);
        const d = '*' + inner;
        return this.declarator(t.type, tk === 'array' || tk === 'func_proto' ? `(${d})` : d, false, depth + 1);
      }
      case 'array': {
        const dim = t.nelems === 0 && flexible ? '[]' : `[${t.nelems}]`;
        return this.declarator(t.type, inner + dim, false, depth + 1);
      }
      case 'func_proto': {
        const ps = t.params.map((p) => this.typeName(p.type));
        if (t.variadic) ps.push('...');
        return this.declarator(t.type, `${inner}(${ps.length ? ps.join(', ') : 'void'})`, false, depth + 1);
      }
      case 'func':
        return this.declarator(t.type, inner || t.name, false, depth + 1);
      case 'const': case 'volatile': case 'restrict': {
        const q = t.kind;
        const target = this.unqualified(t.type);
        if (this.kind(target) === 'ptr') {
          // qualifier of the pointer itself: "char *const p"
          return this.declarator(t.type, inner ? `${q} ${inner}` : q, false, depth + 1);
        }
        // qualifier of the base type: "const struct cred *"
        const base = this.declarator(t.type, inner, flexible, depth + 1);
        return `${q} ${base}`;
      }
      case 'type_tag':
        return this.declarator(t.type, inner, flexible, depth + 1);
      default: {
        const b = this.baseName(t);
        return inner ? `${b} ${inner}` : b;
      }
    }
  }

  /** Name of a non-derived type: "struct sk_buff", "struct {...}", "enum {A, B}", "unsigned long". */
  private baseName(t: BtfType): string {
    switch (t.kind) {
      case 'void': return 'void';
      case 'int': return INT_NAMES[t.name] ?? t.name;
      case 'struct': case 'union': return t.name ? `${t.kind} ${t.name}` : `${t.kind} {...}`;
      case 'enum': case 'enum64':
        return t.name ? `enum ${t.name}` : `enum {${t.values.map((v) => v.name).join(', ')}}`;
      case 'fwd': return `${t.union ? 'union' : 'struct'} ${t.name}`;
      case 'var': case 'datasec': case 'decl_tag': return t.name;
      default: return t.name;
    }
  }

  // ---------------------------------------------------------------- members by path / offset

  /**
   * Find a member by name in a struct/union, looking through anonymous struct/union members as C
   * does. Returns the chain of members (anonymous levels included) and the absolute bit offset.
   */
  findMember(id: number, name: string): { chain: BtfMember[]; bitOffset: number; member: BtfMember } | null {
    return this.findMemberIn(this.resolve(id), name, 0, 0);
  }

  private findMemberIn(rid: number, name: string, bitBase: number, depth: number):
    { chain: BtfMember[]; bitOffset: number; member: BtfMember } | null {
    if (depth > 32) return null;
    const t = this.type(rid);
    if (t.kind !== 'struct' && t.kind !== 'union') return null;
    for (const m of t.members) {
      if (m.name === name) return { chain: [m], bitOffset: bitBase + m.bitOffset, member: m };
      if (m.name === '') {
        const r = this.resolve(m.type);
        const sub = this.findMemberIn(r, name, bitBase + m.bitOffset, depth + 1);
        if (sub) return { chain: [m, ...sub.chain], bitOffset: sub.bitOffset, member: sub.member };
      }
    }
    return null;
  }

  /**
   * Resolve "a.b.c" (also "frags[1].bv_len", "->" accepted as "." since no memory is read) from a
   * struct/union type, through anonymous members and arrays. null when a step does not exist.
   */
  memberPath(id: number, path: string): MemberLocation | null {
    // memoized: Obj.member and offsetof ask the same few paths of the same types again and again
    // (kmem on 200 addresses asked ~40k times); the answers are shared, callers never modify them
    let byPath = this.paths.get(id);
    if (!byPath) this.paths.set(id, (byPath = new Map()));
    let loc = byPath.get(path);
    if (loc === undefined) {
      if (++this.pathCount > MAX_MEMO_PATHS) {
        this.paths.clear();
        this.pathCount = 1;
        this.paths.set(id, byPath);
        byPath.clear();
      }
      loc = this.resolvePath(id, path);
      byPath.set(path, loc);
    }
    return loc;
  }

  private paths = new Map<number, Map<string, MemberLocation | null>>();
  private pathCount = 0;

  private resolvePath(id: number, path: string): MemberLocation | null {
    const toks = tokenizePath(path);
    if (!toks) return null;
    let cur = id;
    let bit = 0;
    let bitSize = 0;
    const out: string[] = [];
    for (const tok of toks) {
      if (typeof tok === 'number') {
        const r = this.resolve(cur);
        const t = this.type(r);
        if (t.kind !== 'array') return null;
        if (t.nelems > 0 && tok >= t.nelems) return null;
        bit += tok * this.sizeof(t.type) * 8;
        cur = t.type;
        bitSize = 0;
        out.push(`[${tok}]`);
      } else {
        if (bitSize) return null;
        const f = this.findMember(cur, tok);
        if (!f) return null;
        bit += f.bitOffset;
        bitSize = f.member.bitSize;
        cur = f.member.type;
        out.push(out.length ? `.${tok}` : tok);
      }
    }
    return { path: out.join(''), offset: Math.floor(bit / 8), bitOffset: bit, bitSize, type: cur, size: this.sizeof(cur) };
  }

  /**
   * The deepest member covering byte `offset` of a type: descends structs, unions (first covering
   * member in declaration order), anonymous members (not named in the path) and arrays
   * ("frags[2].bv_offset"). A scalar, pointer or named-less leaf stops the descent. In padding,
   * returns the innermost aggregate holding the hole with padding=true; null at top-level padding
   * or outside the type.
   */
  memberAt(id: number, offset: number): MemberAt | null {
    if (offset < 0 || offset >= Math.max(1, this.sizeof(id))) return null;
    let cur = this.resolve(id);
    let base = 0; // byte offset of cur
    let path = '';
    let last: MemberLocation | null = null;
    for (let depth = 0; depth < 64; depth++) {
      const t = this.type(cur);
      if (t.kind === 'array') {
        const esz = this.sizeof(t.type);
        if (esz <= 0) break;
        const i = Math.floor((offset - base) / esz);
        if (t.nelems > 0 && i >= t.nelems) break;
        path += `[${i}]`;
        base += i * esz;
        last = { path, offset: base, bitOffset: base * 8, bitSize: 0, type: t.type, size: esz };
        cur = this.resolve(t.type);
        continue;
      }
      if (t.kind !== 'struct' && t.kind !== 'union') break;
      let hit: BtfMember | null = null;
      for (const m of t.members) {
        const mStart = base * 8 + m.bitOffset;
        if (m.bitSize) {
          const b0 = Math.floor(mStart / 8), b1 = Math.floor((mStart + m.bitSize - 1) / 8);
          if (offset >= b0 && offset <= b1) { hit = m; break; }
        } else {
          const s = Math.floor(mStart / 8);
          const z = this.sizeof(m.type);
          if (offset >= s && offset < s + z) { hit = m; break; }
        }
      }
      if (!hit) {
        if (!last) return null;
        return { ...last, delta: offset - last.offset, padding: true };
      }
      const mBit = base * 8 + hit.bitOffset;
      if (hit.name) path += (path ? '.' : '') + hit.name;
      if (hit.bitSize) {
        const sz = this.sizeof(hit.type);
        const o = Math.floor(mBit / 8);
        return { path, offset: o, bitOffset: mBit, bitSize: hit.bitSize, type: hit.type, size: sz, delta: offset - o, padding: false };
      }
      base = Math.floor(mBit / 8);
      if (hit.name) last = { path, offset: base, bitOffset: mBit, bitSize: 0, type: hit.type, size: this.sizeof(hit.type) };
      cur = this.resolve(hit.type);
    }
    if (!last) return null;
    return { ...last, delta: offset - last.offset, padding: false };
  }

  /** Visit the members of a struct/union in layout order, like crash's `struct -o`. See walkLayout. */
  walk(id: number, visit: (item: LayoutItem) => void): void {
    walkLayout(this, id, visit);
  }

  /** The layout as a list (see walkLayout). */
  layout(id: number): LayoutItem[] {
    const out: LayoutItem[] = [];
    walkLayout(this, id, (it) => out.push(it));
    return out;
  }

  /**
   * The flattened member list that crash's `struct -o` prints, as the `struct -o --json` shape:
   * every member with nested anonymous members in place, absolute byte offsets, sizes (the size of
   * the member's type, as crash), type text, and bitfield position. A named member whose type is
   * an anonymous struct/union (`struct {...} elv`) is listed, followed by its own members when
   * crash can name them from the top (crash prints no offset for the others); `all` lists them all.
   */
  flatten(id: number, opts?: { all?: boolean }): FlatStruct {
    const r = this.resolve(id);
    const t = this.type(r);
    if (t.kind !== 'struct' && t.kind !== 'union') throw new DumpError(`${this.typeName(id)} is not a struct or union`);
    const members: FlatMember[] = [];
    walkLayout(this, id, (it) => {
      if (it.event === 'close') return;
      if (it.event === 'open' && !it.name) return;
      if (!it.addressable && !opts?.all) return;
      const m: FlatMember = { name: it.path, path: it.crashPath, type: it.typeText, offset: it.offset, size: it.size };
      if (it.bitSize) {
        m.bit_offset = it.bitOffset - it.offset * 8;
        m.bit_size = it.bitSize;
      }
      members.push(m);
    });
    return { name: this.typeName(r), kind: t.kind, size: t.size, members };
  }
}

export interface DeclOptions {
  bitSize?: number;
  flexible?: boolean;
}

export interface FlatMember {
  /** C access path from the top, anonymous levels dropped ("headers.pkt_type") */
  name: string;
  /** same with "(union)"/"(struct)" for the anonymous levels ("(union).headers.pkt_type") */
  path: string;
  /** type text as crash prints it ("char [48]", "struct {...}") */
  type: string;
  /** absolute byte offset (bitfields: the byte holding the first bit) */
  offset: number;
  /** sizeof the member's type (a bitfield: its declared type's size) */
  size: number;
  /** bitfields only: first bit inside the byte at offset (0..7) */
  bit_offset?: number;
  /** bitfields only: width in bits */
  bit_size?: number;
}

export interface FlatStruct {
  /** "struct sk_buff" */
  name: string;
  kind: 'struct' | 'union';
  size: number;
  members: FlatMember[];
}

/**
 * One line of a struct layout, in the order crash's `struct -o` prints them.
 * - member: a member printed on one line (scalars, pointers, arrays, named structs, bitfields)
 * - open:   the start of a member whose type is an anonymous struct/union, printed inline
 *           ("union {"); name is '' for an anonymous member, the member name otherwise
 * - close:  its end ("};" or "} headers;")
 */
export interface LayoutItem {
  event: 'member' | 'open' | 'close';
  /** nesting depth: 0 for direct members of the top type */
  depth: number;
  /** member name ('' for anonymous struct/union members) */
  name: string;
  /** C access path from the top type ("headers.pkt_type"); '' for anonymous levels */
  path: string;
  /** path with "(union)"/"(struct)" for anonymous levels */
  crashPath: string;
  /** member type id */
  type: number;
  /** type text ("struct sk_buff *", "char [48]", "struct {...}") */
  typeText: string;
  /** the line's C text without the trailing ';': "struct sk_buff *next", "union {", "} headers" */
  text: string;
  /** 'struct' | 'union' for open/close */
  keyword?: 'struct' | 'union';
  /** absolute byte offset of the member (bitfields: byte of the first bit) */
  offset: number;
  /** absolute bit offset */
  bitOffset: number;
  /** bitfield width, 0 if not a bitfield */
  bitSize: number;
  /** sizeof the member's type */
  size: number;
  /**
   * crash prints an offset on this line: its name reaches a member from the top type through
   * anonymous members only (members inside `struct {...} name` are not reachable unless another
   * reachable member has the same name). Anonymous open/close lines are not addressable.
   */
  addressable: boolean;
  /** the member is the last one of its struct and a zero-length array (flexible array member) */
  flexible: boolean;
}

/**
 * Walk a struct/union in declaration order, descending into members whose type is an anonymous
 * struct/union (or an array of one) and reporting each line crash's `struct -o` would print.
 * Reusable for value printing: offsets are absolute from the start of the top type.
 */
export function walkLayout(btf: Btf, id: number, visit: (item: LayoutItem) => void): void {
  const top = btf.resolve(id);
  const tt = btf.type(top);
  if (tt.kind !== 'struct' && tt.kind !== 'union') throw new DumpError(`${btf.typeName(id)} is not a struct or union`);

  const rec = (comp: BtfComposite, bitBase: number, depth: number, path: string, crashPath: string, inNamed: boolean) => {
    if (depth > 32) return;
    const n = comp.members.length;
    comp.members.forEach((m, idx) => {
      const bit = bitBase + m.bitOffset;
      const offset = Math.floor(bit / 8);
      const inline = inlineComposite(btf, m.type, m.name === '');
      const p = m.name ? (path ? `${path}.${m.name}` : m.name) : path;
      const seg = m.name || (inline ? `(${inline.comp.kind})` : '');
      const cp = crashPath ? `${crashPath}.${seg}` : seg;
      const flexible = comp.kind === 'struct' && idx === n - 1 && isZeroArray(btf, m.type);
      const addressable = m.name ? !inNamed || btf.findMember(top, m.name) !== null : false;
      const size = btf.sizeof(m.type);
      if (inline) {
        const kw = inline.comp.kind;
        const typeText = btf.typeName(m.type, { flexible });
        visit({
          event: 'open', depth, name: m.name, path: p, crashPath: cp, type: m.type, typeText,
          text: `${kw}${inline.comp.name ? ' ' + inline.comp.name : ''} {`, keyword: kw, offset, bitOffset: bit, bitSize: 0, size, addressable, flexible,
        });
        rec(inline.comp, bit, depth + 1, p, cp, inNamed || m.name !== '');
        const decl = m.name ? ' ' + inline.suffix(m.name, flexible) : '';
        visit({
          event: 'close', depth, name: m.name, path: p, crashPath: cp, type: m.type, typeText,
          text: `}${decl}`, keyword: kw, offset, bitOffset: bit, bitSize: 0, size, addressable, flexible,
        });
        return;
      }
      visit({
        event: 'member', depth, name: m.name, path: p, crashPath: cp, type: m.type,
        typeText: btf.typeName(m.type, { flexible }),
        text: btf.declaration(m.type, m.name, { bitSize: m.bitSize, flexible }),
        offset, bitOffset: bit, bitSize: m.bitSize, size, addressable, flexible,
      });
    });
  };
  rec(tt, 0, 0, '', '', false);
}

/**
 * A member type printed inline: an anonymous struct/union, possibly inside arrays; or, for an
 * unnamed member, a named one (`struct freelist_counters;` embedded with -fms-extensions, Linux
 * 6.19+: its members are reached as the outer struct's, and crash prints it inline by name).
 */
function inlineComposite(btf: Btf, type: number, unnamedMember = false):
  { comp: BtfComposite; suffix: (name: string, flexible: boolean) => string } | null {
  let t = btf.unqualified(type);
  const dims: number[] = [];
  for (let i = 0; i < 8 && btf.kind(t) === 'array'; i++) {
    const a = btf.type(t) as BtfArray;
    dims.push(a.nelems);
    t = btf.unqualified(a.type);
  }
  const k = btf.kind(t);
  if (k !== 'struct' && k !== 'union') return null;
  const c = btf.type(t) as BtfComposite;
  if (c.name !== '' && !(unnamedMember && dims.length === 0)) return null;
  return {
    comp: c,
    suffix: (name, flexible) => name + dims.map((d, i) => (d === 0 && flexible && i === 0 ? '[]' : `[${d}]`)).join(''),
  };
}

function isZeroArray(btf: Btf, type: number): boolean {
  const t = btf.unqualified(type);
  return btf.kind(t) === 'array' && (btf.type(t) as BtfArray).nelems === 0;
}

function normEnumValue(t: BtfEnum, v: bigint | number): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  const bits = BigInt(Math.max(1, t.size) * 8);
  return BigInt.asUintN(Number(bits), b);
}

/** "a.b[2].c" -> ['a', 'b', 2, 'c']; null on a syntax error. */
function tokenizePath(path: string): (string | number)[] | null {
  const out: (string | number)[] = [];
  const re = /\s*(?:(->|\.)|\[\s*(0x[0-9a-fA-F]+|\d+)\s*\]|([A-Za-z_$][\w$]*))/y;
  let i = 0;
  let expectName = true;
  const s = path.trim();
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return null;
    i = re.lastIndex;
    if (m[1]) {
      if (expectName) return null;
      expectName = true;
    } else if (m[2] !== undefined) {
      out.push(Number(m[2]));
      expectName = false;
    } else {
      if (!expectName) return null;
      out.push(m[3]);
      expectName = false;
    }
  }
  if (expectName && out.length) return null;
  return out;
}

/** The polynomial hash of a type name (h = h * P + c, mod 2^32) used by the by-name index. */
function nameHash(s: string): number {
  let h = 0;
  for (let c = 0; c < s.length; c++) h = (Math.imul(h, 0x01000193) + s.charCodeAt(c)) | 0;
  return h;
}

/** The size of hashSlots' table for m entries (a power of two, at most half full). */
function slotCount(m: number): number {
  let size = 1024;
  while (size < m * 2) size <<= 1;
  return size;
}

/**
 * An open-addressing table (linear probing, power-of-two size, at most half full) of entry index + 1
 * by the first m hashes, filled in entry order; lookups probe from mixHash(h) & (size - 1).
 */
function hashSlots(hashes: ArrayLike<number>, m: number): Int32Array {
  const size = slotCount(m);
  const slots = new Int32Array(size);
  const mask = size - 1;
  for (let j = 0; j < m; j++) {
    let x = mixHash(hashes[j]) & mask;
    while (slots[x] !== 0) x = (x + 1) & mask;
    slots[x] = j + 1;
  }
  return slots;
}

/** hashSlots by bulk.wat, for m hashes at an arena offset; null when the arena has no room. */
function arenaSlots(ar: Arena, hashes: number, m: number): Int32Array | null {
  const size = slotCount(m);
  const slots = ar.alloc(4 * size, 4);
  if (slots === null) return null;
  ar.fn.hash_slots(hashes, m, slots, size - 1);
  return ar.i32(slots, size);
}

/** Spread a hash's bits over a table index. */
function mixHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 16;
  return h >>> 0;
}
