/**
 * Kernel types from DWARF for kernels without BTF: every named struct, union, enum, typedef and
 * base type of the vmlinux's DWARF, encoded as BTF (what pahole -J does), so that the rest of the
 * engine reads them through the same Btf interface and does not know where a type came from.
 *
 * One pass over every unit (each parsed, converted, then dropped from the unit cache's budget):
 * the first complete definition of a name wins (the kernel has one layout per name; BTF dedup
 * does the same). Anonymous types are converted where they are used. Functions and variables are
 * not converted (symbols come from the symbol table).
 */
import { DumpError } from '../../errors';
import { AT, TAG } from './consts';
import type { Dwarf, Unit, AttrValue } from './dwarf';
import { parseBtf, type Btf } from '../btf';

const K = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC_PROTO: 13, FLOAT: 16, ENUM64: 19 };

class Writer {
  private strs = new Uint8Array(1 << 20);
  private strLen = 1;
  private strIndex = new Map<string, number>([['', 0]]);
  count = 0; // types written (ids are 1..count)

  str(s: string): number {
    if (!s) return 0;
    let o = this.strIndex.get(s);
    if (o !== undefined) return o;
    o = this.strLen;
    if (this.strLen + s.length + 1 > this.strs.length) {
      const n = new Uint8Array(this.strs.length * 2 + s.length);
      n.set(this.strs);
      this.strs = n;
    }
    for (let i = 0; i < s.length; i++) this.strs[this.strLen++] = s.charCodeAt(i) & 0xff;
    this.strs[this.strLen++] = 0;
    this.strIndex.set(s, o);
    return o;
  }

  /** Reserve a type id; its record is written by fill() later (records must be in id order). */
  records: Array<Uint32Array | null> = [];
  /** structural dedup of unnamed types: "kind:target[:extra]" -> id */
  readonly shapes = new Map<string, number>();
  reserve(): number {
    this.records.push(null);
    return ++this.count;
  }
  fill(id: number, rec: number[]): void {
    this.records[id - 1] = Uint32Array.from(rec, (x) => x >>> 0);
  }

  bytes(): Uint8Array {
    let words = 0;
    for (const r of this.records) {
      if (!r) throw new DumpError('DWARF to BTF: a type was reserved but never written');
      words += r.length;
    }
    const typeLen = words * 4;
    const strLen = this.strLen;
    const out = new Uint8Array(24 + typeLen + strLen);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    out[3] = 0;
    dv.setUint32(4, 24, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true);
    dv.setUint32(20, strLen, true);
    let o = 24;
    for (const r of this.records) for (let i = 0; i < r!.length; i++, o += 4) dv.setUint32(o, r![i], true);
    this.records = [];
    out.set(this.strs.subarray(0, strLen), 24 + typeLen);
    return out;
  }
}

const info = (kind: number, vlen = 0, kflag = false) => ((kflag ? 1 << 31 : 0) | (kind << 24) | (vlen & 0xffff)) >>> 0;
const num = (v: AttrValue | undefined): number | undefined => (v && (v.k === 'u' || v.k === 's') ? Number(v.v) : undefined);
const str = (v: AttrValue | undefined): string => (v && v.k === 'str' ? v.v : '');

export interface DwarfBtfStats {
  units: number;
  types: number;
  ms: number;
}

/** Convert the DWARF's types to BTF (see the file comment). */
export function btfFromDwarf(d: Dwarf, onProgress?: (done: number, total: number) => void): { btf: Btf; stats: DwarfBtfStats } {
  const t0 = performance.now();
  const w = new Writer();
  const named = new Map<string, number>(); // "struct sk_buff" -> id
  const units = d.allUnitOffsets();
  let voidPtr = 0;

  for (let ui = 0; ui < units.length; ui++) {
    if (onProgress && ui % 64 === 0) onProgress(ui, units.length);
    let u: Unit;
    try {
      u = d.unitAt(units[ui], false);
    } catch (e) {
      if (e instanceof DumpError) continue;
      throw e;
    }
    const local = new Map<number, number>(); // DIE index -> BTF id (this unit)

    const key = (tag: number, name: string): string | null => {
      if (!name) return null;
      switch (tag) {
        case TAG.structure_type: return 'struct ' + name;
        case TAG.union_type: return 'union ' + name;
        case TAG.enumeration_type: return 'enum ' + name;
        case TAG.typedef: return 'typedef ' + name;
        case TAG.base_type: return 'base ' + name;
        default: return null;
      }
    };

    const refOf = (i: number, a?: Map<number, AttrValue>): number => {
      const r = (a ?? u.attrs(i)).get(AT.type);
      if (!r || r.k !== 'ref') return 0; // void
      const t = d.deref(u, r.v);
      if (!t) return 0;
      if (t[0] !== u) return 0; // across units (LTO) is not expected in a kernel build
      return conv(t[1]);
    };

    /** An anonymous type by its shape: the id made for that shape already, or a new one to fill. */
    const byShape = (i: number, shape: string): { id: number; fresh: boolean } => {
      const have = w.shapes.get(shape);
      if (have !== undefined) {
        local.set(i, have);
        return { id: have, fresh: false };
      }
      const id = w.reserve();
      local.set(i, id);
      w.shapes.set(shape, id);
      return { id, fresh: true };
    };

    const conv = (i: number): number => {
      const have = local.get(i);
      if (have !== undefined) return have;
      const tag = u.tags[i];
      const a = u.attrs(i);
      const name = str(a.get(AT.name));
      const isDecl = !!num(a.get(AT.declaration));
      const k = key(tag, name);
      if (k && !isDecl) {
        const id = named.get(k);
        if (id !== undefined) {
          local.set(i, id);
          return id;
        }
      }
      const size = num(a.get(AT.byte_size)) ?? 0;
      switch (tag) {
        case TAG.base_type: {
          const id = w.reserve();
          local.set(i, id);
          if (k) named.set(k, id);
          const enc = num(a.get(0x3e)) ?? 0;
          if (enc === 4) w.fill(id, [w.str(name), info(K.FLOAT), size]);
          else {
            let e = 0;
            if (enc === 5 || enc === 6) e = 1; // signed
            if (enc === 6 || enc === 8) e |= 2; // char
            if (enc === 2) e = 4; // bool
            w.fill(id, [w.str(name), info(K.INT), size, ((e << 24) | (size * 8)) >>> 0]);
          }
          return id;
        }
        case TAG.structure_type:
        case TAG.union_type: {
          const kind = tag === TAG.structure_type ? K.STRUCT : K.UNION;
          if (isDecl) {
            // a forward declaration: the complete one (if any unit has it) is found by name
            const full = k ? named.get(k) : undefined;
            if (full !== undefined) return full;
            const shape = `f${kind}:${name}`;
            const have2 = name ? w.shapes.get(shape) : undefined;
            if (have2 !== undefined) {
              local.set(i, have2);
              return have2;
            }
            const id = w.reserve();
            local.set(i, id);
            if (name) w.shapes.set(shape, id);
            w.fill(id, [w.str(name), info(K.FWD, 0, kind === K.UNION), 0]);
            return id;
          }
          const id = w.reserve();
          local.set(i, id);
          if (k) named.set(k, id);
          const members: number[] = [];
          let n = 0;
          let bitfields = false;
          const rows: Array<[number, number, number, number]> = []; // name, type, bitoffset, bitsize
          for (const c of u.children(i)) {
            if (u.tags[c] !== TAG.member) continue;
            const ma = u.attrs(c);
            const mt = refOf(c, ma);
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
            rows.push([w.str(str(ma.get(AT.name))), mt, bitOff, bitSize]);
            n++;
          }
          for (const [nm, mt, bo, bs] of rows) members.push(nm, mt, bitfields ? ((bs << 24) | bo) >>> 0 : bo);
          w.fill(id, [w.str(name), info(kind, n, bitfields), size, ...members]);
          return id;
        }
        case TAG.enumeration_type: {
          if (isDecl) {
            const full = k ? named.get(k) : undefined;
            if (full !== undefined) return full;
          }
          const id = w.reserve();
          local.set(i, id);
          if (k && !isDecl) named.set(k, id);
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
            vals.push([w.str(str(ea.get(AT.name))), v]);
          }
          const big = size > 4 || vals.some(([, v]) => v > 0xffffffffn || v < -0x80000000n);
          const rec = [w.str(name), info(big ? K.ENUM64 : K.ENUM, vals.length, signed), size || 4];
          for (const [nm, v] of vals) {
            if (big) {
              const u64 = BigInt.asUintN(64, v);
              rec.push(nm, Number(u64 & 0xffffffffn), Number(u64 >> 32n));
            } else rec.push(nm, Number(BigInt.asUintN(32, v)));
          }
          w.fill(id, rec);
          return id;
        }
        case TAG.typedef: {
          const id = w.reserve();
          local.set(i, id);
          if (k) named.set(k, id);
          w.fill(id, [w.str(name), info(K.TYPEDEF), refOf(i, a)]);
          return id;
        }
        case TAG.pointer_type: {
          // the target first (a struct's members may point back at it: named types get ids first)
          const target = refOf(i, a);
          const shape = `p${target}`;
          const { id, fresh } = byShape(i, shape);
          if (!fresh) return id;
          w.fill(id, [0, info(K.PTR), target]);
          return id;
        }
        case TAG.const_type:
        case TAG.volatile_type:
        case TAG.restrict_type:
        case TAG.atomic_type: {
          const kind = tag === TAG.const_type ? K.CONST : tag === TAG.volatile_type ? K.VOLATILE : tag === TAG.restrict_type ? K.RESTRICT : K.VOLATILE;
          const target = refOf(i, a);
          const shape = `q${kind}:${target}`;
          const { id, fresh } = byShape(i, shape);
          if (!fresh) return id;
          w.fill(id, [0, info(kind), target]);
          return id;
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
          const elem = refOf(i, a);
          const shape = `a${elem}:${dims.join(',')}`;
          const { id, fresh } = byShape(i, shape);
          if (!fresh) return id;
          let inner = elem;
          const ids: number[] = [id];
          for (let k2 = 1; k2 < dims.length; k2++) ids.push(w.reserve());
          for (let k2 = dims.length - 1; k2 >= 0; k2--) {
            w.fill(ids[k2], [0, info(K.ARRAY), 0, inner, intType(), dims[k2]]);
            inner = ids[k2];
          }
          return id;
        }
        case TAG.subroutine_type: {
          const params: number[] = [];
          let n = 0;
          for (const c of u.children(i)) {
            if (u.tags[c] === TAG.formal_parameter) {
              params.push(0, refOf(c));
              n++;
            } else if (u.tags[c] === TAG.unspecified_parameters) {
              params.push(0, 0);
              n++;
            }
          }
          const ret = refOf(i, a);
          const shape = `s${ret}:${params.join(',')}`;
          const { id, fresh } = byShape(i, shape);
          if (!fresh) return id;
          w.fill(id, [0, info(K.FUNC_PROTO, n), ret, ...params]);
          return id;
        }
        default: {
          // unspecified_type and others: void
          local.set(i, 0);
          return 0;
        }
      }
    };

    let intId = 0;
    const intType = (): number => {
      if (intId) return intId;
      const known = named.get('base unsigned int') ?? named.get('base int');
      if (known) return (intId = known);
      intId = w.reserve();
      named.set('base unsigned int', intId);
      w.fill(intId, [w.str('unsigned int'), info(K.INT), 4, 32]);
      return intId;
    };

    // every named type at the unit's top level (and nested in functions is not needed)
    for (let c = u.firstChild[0]; c >= 0; c = u.nextSibling[c]) {
      const tag = u.tags[c];
      if (tag === TAG.structure_type || tag === TAG.union_type || tag === TAG.enumeration_type || tag === TAG.typedef || tag === TAG.base_type) {
        const k = key(tag, str(u.attr(c, AT.name)));
        if (k && named.has(k) && !local.has(c)) continue;
        conv(c);
      }
    }
    void voidPtr;
  }
  // forward declarations whose definition came in a later unit: point them at it where possible
  const bytes = w.bytes();
  const btf = parseBtf(bytes);
  return { btf, stats: { units: units.length, types: w.count, ms: Math.round(performance.now() - t0) } };
}
