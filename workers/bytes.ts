/** Little-endian helpers over Uint8Array. Addresses are bigint; sizes and offsets are number. */
export function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
export function u8(b: Uint8Array, o: number): number {
  return b[o];
}
export function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
export function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
export function i32(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}
export function u64(b: Uint8Array, o: number): bigint {
  return (BigInt(u32(b, o + 4)) << 32n) | BigInt(u32(b, o));
}
export function i64(b: Uint8Array, o: number): bigint {
  return BigInt.asIntN(64, u64(b, o));
}
/** u64 as a number; throws if it does not fit in 53 bits (file offsets, sizes). */
/** u64n's refusal of a value that a JS number cannot hold exactly (input, not a bug). */
export class ValueTooLarge extends RangeError {
  constructor(o: number) {
    super(`64-bit value too large at offset ${o}`);
    this.name = 'ValueTooLarge';
  }
}

export function u64n(b: Uint8Array, o: number): number {
  const hi = u32(b, o + 4);
  if (hi >= 0x200000) throw new ValueTooLarge(o);
  return hi * 0x100000000 + u32(b, o);
}
export function cstr(b: Uint8Array, o = 0, max = b.length - o): string {
  let e = o;
  const lim = Math.min(b.length, o + max);
  while (e < lim && b[e] !== 0) e++;
  return new TextDecoder('latin1').decode(b.subarray(o, e));
}
export function hex(v: bigint | number, width = 0): string {
  const s = v.toString(16);
  return width ? s.padStart(width, '0') : s;
}
export function hex0x(v: bigint | number): string {
  return '0x' + v.toString(16);
}
export const MASK64 = (1n << 64n) - 1n;

/** The bytes a base64 string encodes (atob: the browser's and Node's alike). */
export function base64Bytes(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
