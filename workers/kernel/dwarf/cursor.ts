/** A little-endian read cursor over DWARF bytes (LEB128, fixed sizes, C strings). */
import { DumpError } from '../../errors';

export class Cursor {
  constructor(
    readonly b: Uint8Array,
    public pos = 0,
  ) {}

  get end(): number {
    return this.b.length;
  }
  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new DumpError(`DWARF: read past the end of a section (at ${this.pos} + ${n} of ${this.b.length})`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }
  i8(): number {
    const v = this.u8();
    return v >= 0x80 ? v - 0x100 : v;
  }
  u16(): number {
    this.need(2);
    const v = this.b[this.pos] | (this.b[this.pos + 1] << 8);
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.b[this.pos] | (this.b[this.pos + 1] << 8) | (this.b[this.pos + 2] << 16);
    this.pos += 3;
    return v;
  }
  u32(): number {
    this.need(4);
    const p = this.pos;
    const v = (this.b[p] | (this.b[p + 1] << 8) | (this.b[p + 2] << 16) | (this.b[p + 3] << 24)) >>> 0;
    this.pos += 4;
    return v;
  }
  /** a u64 as bigint */
  u64(): bigint {
    const lo = this.u32();
    const hi = this.u32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  /** A DWARF initial length: the unit's length and its offset size (4, or 8 after the 0xffffffff escape of the 64-bit format). */
  initialLength(): { len: number; offSize: 4 | 8 } {
    const len = this.u32();
    return len === 0xffffffff ? { len: this.u64n(), offSize: 8 } : { len, offSize: 4 };
  }

  /** a u64 that must fit a number (section offsets, lengths) */
  u64n(): number {
    const lo = this.u32();
    const hi = this.u32();
    if (hi >= 0x200000) throw new DumpError('DWARF: 64-bit offset too large');
    return hi * 0x100000000 + lo;
  }
  /** an offset of the unit's offset size (4 for 32-bit DWARF, 8 for 64-bit) */
  offset(size: number): number {
    return size === 8 ? this.u64n() : this.u32();
  }
  /** an address of `size` bytes */
  addr(size: number): bigint {
    if (size === 8) return this.u64();
    if (size === 4) return BigInt(this.u32());
    throw new DumpError(`DWARF: address size ${size}`);
  }
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * mul;
      if (!(byte & 0x80)) return result;
      mul *= 128;
      if (mul > 2 ** 63) throw new DumpError('DWARF: LEB128 too long');
    }
  }
  /** unsigned LEB128 as bigint (constants, DW_OP_constu) */
  ulebBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (!(byte & 0x80)) return result;
      if (shift > 70n) throw new DumpError('DWARF: LEB128 too long');
    }
  }
  sleb(): number {
    return Number(this.slebBig());
  }
  slebBig(): bigint {
    let result = 0n;
    let shift = 0n;
    let byte: number;
    do {
      byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (shift > 70n) throw new DumpError('DWARF: LEB128 too long');
    } while (byte & 0x80);
    if (byte & 0x40) result -= 1n << shift;
    return result;
  }
  cstr(): string {
    let e = this.pos;
    const b = this.b;
    while (e < b.length && b[e] !== 0) e++;
    if (e >= b.length) throw new DumpError('DWARF: unterminated string');
    const s = latin1(b, this.pos, e);
    this.pos = e + 1;
    return s;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

export function latin1(b: Uint8Array, s: number, e: number): string {
  if (e - s < 64) {
    let out = '';
    for (let i = s; i < e; i++) out += String.fromCharCode(b[i]);
    return out;
  }
  return new TextDecoder('latin1').decode(b.subarray(s, e));
}

/** A C string at an offset of a string section (.debug_str / .debug_line_str). */
export function strAt(b: Uint8Array, off: number): string {
  if (off >= b.length) throw new DumpError(`DWARF: string offset ${off} past the section`);
  let e = off;
  while (e < b.length && b[e] !== 0) e++;
  return latin1(b, off, e);
}

/** One attribute value as the DWARF reader's readForm returns it. */
export type AttrValue =
  | { k: 'u'; v: number } // constants, offsets, flags, indexes
  | { k: 's'; v: bigint } // sdata, data8, implicit_const (signed-capable)
  | { k: 'a'; v: bigint } // address
  | { k: 'str'; v: string }
  | { k: 'b'; v: Uint8Array; expr: boolean } // block or exprloc
  | { k: 'ref'; v: number } // absolute .debug_info offset
  | { k: 'sec'; v: number; form: number }; // sec_offset, loclistx, rnglistx
