/**
 * The hex view's pure model: a scroll window over the whole 64-bit address space, byte classes
 * (poison, red zone, zero runs), value grouping, and struct overlay layouts. No DOM, no React:
 * unit-tested in hexmodel.test.ts.
 *
 * Scrolling 2^64 bytes: a browser cannot make an element 2^60 rows tall (Chromium stops at about
 * 2^25 px). The view keeps a window of WINDOW_ROWS rows that starts at `base` (a bigint row
 * number); the native scrollbar moves inside the window, and when the top gets near either edge
 * the window is moved (re-centred) so that the same row stays under the same pixel. So the
 * scrollbar is a local one (a few hundred KiB around the place); jumps go through `g`.
 */
import type { FlatMember } from '../../../workers/api';

export const ROW_BYTES = 16;
export const ROW_H = 18;
export const WINDOW_ROWS = 32768; // 512 KiB of rows, 590k px
export const TOTAL_ROWS = 1n << 60n; // 2^64 / 16
export const PAGE = 4096;

export const MASK64 = (1n << 64n) - 1n;

export function hex(b: bigint, pad = 16): string {
  return BigInt.asUintN(64, b).toString(16).padStart(pad, '0');
}

export function parseHexAddress(s: string): bigint | null {
  const t = s.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,16}$/.test(t)) return null;
  return BigInt('0x' + t);
}

export function parseOffset(s: string | undefined): number | null {
  if (!s) return null;
  const t = s.trim().toLowerCase().replace(/^\+/, '');
  if (/^0x[0-9a-f]+$/.test(t) || /^[0-9a-f]+$/.test(t)) return parseInt(t.replace(/^0x/, ''), 16);
  return null;
}

export interface ScrollWindow {
  /** first row of the window */
  base: bigint;
  /** scrollTop inside the window, px */
  scrollTop: number;
}

export function clampBase(b: bigint): bigint {
  const max = TOTAL_ROWS - BigInt(WINDOW_ROWS);
  if (b < 0n) return 0n;
  if (b > max) return max;
  return b;
}

/** The first visible row. */
export function topRow(w: ScrollWindow): bigint {
  return w.base + BigInt(Math.floor(w.scrollTop / ROW_H));
}

/** A window showing `row` `context` rows below the top. */
export function windowAt(row: bigint, context = 4): ScrollWindow {
  const top = row - BigInt(context) < 0n ? 0n : row - BigInt(context);
  const base = clampBase(top - BigInt(WINDOW_ROWS / 2));
  return { base, scrollTop: Number(top - base) * ROW_H };
}

/**
 * Move the window when the top is within a quarter of either edge (and not at the ends of the
 * address space): same row under the same pixel.
 */
export function recenter(w: ScrollWindow, viewportPx: number): ScrollWindow | null {
  const maxTop = WINDOW_ROWS * ROW_H - viewportPx;
  const low = WINDOW_ROWS * ROW_H * 0.25;
  const high = maxTop - WINDOW_ROWS * ROW_H * 0.25;
  if (w.scrollTop >= low && w.scrollTop <= high) return null;
  const sub = w.scrollTop % ROW_H;
  const top = topRow(w);
  const base = clampBase(top - BigInt(WINDOW_ROWS / 2));
  if (base === w.base) return null;
  return { base, scrollTop: Number(top - base) * ROW_H + sub };
}

/** Scroll by whole rows (keys), moving the window when needed. */
export function scrollRows(w: ScrollWindow, rows: number, viewportPx: number): ScrollWindow {
  let top = topRow(w) + BigInt(Math.trunc(rows));
  if (top < 0n) top = 0n;
  if (top > TOTAL_ROWS - 1n) top = TOTAL_ROWS - 1n;
  const local = top - w.base;
  if (local >= 0n && local < BigInt(WINDOW_ROWS) - BigInt(Math.ceil(viewportPx / ROW_H))) {
    return { base: w.base, scrollTop: Number(local) * ROW_H };
  }
  const base = clampBase(top - BigInt(WINDOW_ROWS / 2));
  return { base, scrollTop: Number(top - base) * ROW_H };
}

/** Page-aligned chunk addresses covering rows [first, last). */
export function pagesFor(firstRow: bigint, lastRow: bigint): bigint[] {
  const a = (firstRow * BigInt(ROW_BYTES)) & ~BigInt(PAGE - 1);
  const end = lastRow * BigInt(ROW_BYTES);
  const out: bigint[] = [];
  for (let p = a; p < end && out.length < 64; p += BigInt(PAGE)) out.push(p & MASK64);
  return out;
}

// ------------------------------------------------------------------------------ byte classes

/** SLUB poison: POISON_FREE 0x6b runs ended by POISON_END 0xa5; red zones 0xbb (inactive) / 0xcc (active). */
export type ByteClass = '' | 'zero' | 'poison' | 'redzone';

/**
 * Classes of each byte of a buffer: poison and red-zone bytes count only in runs of at least 4
 * (a lone 0x6b is the letter 'k'); 0xa5 right after a poison run is its end marker.
 */
export function byteClasses(b: Uint8Array): ByteClass[] {
  const out: ByteClass[] = new Array(b.length).fill('');
  let i = 0;
  while (i < b.length) {
    const v = b[i];
    let j = i + 1;
    while (j < b.length && b[j] === v) j++;
    const run = j - i;
    if (v === 0) for (let k = i; k < j; k++) out[k] = 'zero';
    else if (v === 0x6b && run >= 4) {
      for (let k = i; k < j; k++) out[k] = 'poison';
      if (j < b.length && b[j] === 0xa5) out[j] = 'poison';
    } else if ((v === 0xbb || v === 0xcc) && run >= 4) for (let k = i; k < j; k++) out[k] = 'redzone';
    else if (v === 0xa5 && run >= 4) for (let k = i; k < j; k++) out[k] = 'poison';
    i = j;
  }
  return out;
}

/** Little-endian unsigned value of `size` bytes at `o`. */
export function readLE(b: Uint8Array, o: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i] ?? 0);
  return v;
}

// ------------------------------------------------------------------------------ overlays

/** A member of `struct -o --json` (btf.flatten). */
export type Member = FlatMember;

export interface StructLayout {
  name: string;
  size: number;
  members: Member[];
}

/** A part of an overlay: a typed struct at an offset from the overlay start, or an unknown span. */
export interface OverlayPart {
  type: string;
  offset: number;
  size: number;
  unknown?: boolean;
  layout?: StructLayout;
}

/** A member placed in the view: offset from the overlay start, the part it belongs to. */
export interface PlacedMember extends Member {
  /** index in the flat list (colour) */
  index: number;
  /** offset from the overlay start */
  at: number;
  part: string;
  depth: number;
}

/** The readable path of a member: "(union).(struct).next" -> "next" (anonymous levels dropped). */
export function shortPath(p: string): string {
  return p
    .split('.')
    .filter((x) => !/^\((union|struct)\)$/.test(x))
    .join('.');
}

/** "struct request + PDU (driver command)" -> ["struct request", "PDU (driver command)"] */
export function compositeNames(type: string): string[] {
  return type
    .split('+')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Whether a part name is a BTF type (vs "PDU (driver command)"). */
export function isTypeName(s: string): boolean {
  return /^((struct|union)\s+)?[A-Za-z_]\w*$/.test(s.trim());
}

export function bareType(s: string): string {
  return s.trim().replace(/^(struct|union)\s+/, '');
}

/**
 * Parts laid out one after the other, 8-byte aligned (as the engine's partsFromName); an unknown
 * part (no BTF type) takes the rest (`total` bytes, the object's size, when known).
 */
export function layoutParts(names: string[], sizes: (number | null)[], total: number | null): OverlayPart[] {
  const out: OverlayPart[] = [];
  let off = 0;
  for (let i = 0; i < names.length; i++) {
    const sz = sizes[i];
    if (sz === null || !isTypeName(names[i])) {
      out.push({ type: names[i], offset: off, size: total !== null && total > off ? total - off : 0, unknown: true });
      break;
    }
    out.push({ type: names[i], offset: off, size: sz });
    off += Math.ceil(sz / 8) * 8;
  }
  return out;
}

/** Members of every known part, placed; unknown parts as one pseudo-member. */
export function placeMembers(parts: OverlayPart[]): PlacedMember[] {
  const out: PlacedMember[] = [];
  for (const p of parts) {
    const partName = bareType(p.type);
    if (p.unknown || !p.layout) {
      out.push({ name: p.type, path: p.type, type: p.unknown ? '(unknown: no BTF type)' : p.type, offset: p.offset, size: p.size, index: out.length, at: p.offset, part: partName, depth: 0 });
      continue;
    }
    for (const m of p.layout.members) {
      out.push({ ...m, index: out.length, at: p.offset + m.offset, part: partName, depth: 0 });
    }
  }
  return out;
}

/**
 * The innermost member covering byte `off` (from the overlay start): the first member in
 * declaration order among the smallest ones covering it (unions: the first alternative). Zero-
 * size markers never cover. Bitfields cover their byte.
 */
export function memberAt(members: PlacedMember[], off: number): PlacedMember | null {
  let best: PlacedMember | null = null;
  for (const m of members) {
    if (m.size <= 0) continue;
    if (off < m.at || off >= m.at + m.size) continue;
    if (!best || m.size < best.size) best = m;
  }
  return best;
}

/** For each byte offset in [0, size), the index of the member that covers it (-1: padding). */
export function coverMap(members: PlacedMember[], size: number): Int32Array {
  const cover = new Int32Array(Math.max(0, size)).fill(-1);
  const best = new Int32Array(Math.max(0, size)).fill(0x7fffffff);
  for (const m of members) {
    if (m.size <= 0) continue;
    const a = Math.max(0, m.at);
    const e = Math.min(size, m.at + m.size);
    for (let o = a; o < e; o++) {
      if (m.size < best[o]) {
        best[o] = m.size;
        cover[o] = m.index;
      }
    }
  }
  return cover;
}

/** Is this a pointer type ("struct sk_buff *", "void *", not "void (*)(...)" function pointers)? */
export function pointerTarget(type: string): { kind: 'struct' | 'void' | 'func' | 'other'; struct?: string } | null {
  const t = type.trim();
  if (/\(\*\)/.test(t)) return { kind: 'func' };
  const m = /^(?:const\s+|volatile\s+)*(struct|union)\s+(\w+)\s*\*$/.exec(t);
  if (m) return { kind: 'struct', struct: m[2] };
  if (/\*$/.test(t)) return /^(const\s+)?void\s*\*$/.test(t) ? { kind: 'void' } : { kind: 'other' };
  return null;
}

/** Decode a member's value from the bytes of the overlay (b[0] = overlay start). */
export function decodeMember(m: { type: string; size: number; at: number; bit_offset?: number; bit_size?: number }, b: Uint8Array, avail: number): string | null {
  if (m.size <= 0) return '';
  if (m.at < 0 || m.at + m.size > avail) return null;
  const t = m.type.trim();
  if (m.bit_size !== undefined) {
    const raw = readLE(b, m.at, m.size);
    const v = (raw >> BigInt(m.bit_offset ?? 0)) & ((1n << BigInt(m.bit_size)) - 1n);
    return v.toString(10);
  }
  if (pointerTarget(t) || /^(unsigned long|u64|__u64|uintptr_t|phys_addr_t|dma_addr_t|atomic_long_t|long)$/.test(t)) {
    if (m.size === 8) return '0x' + readLE(b, m.at, 8).toString(16);
  }
  const arr = /^(?:const\s+)?(?:unsigned\s+)?(char|__u8|u8|s8|__s8)\s*\[(\d+)\]$/.exec(t);
  if (arr) {
    const bytes = b.subarray(m.at, m.at + m.size);
    let end = bytes.indexOf(0);
    if (end < 0) end = bytes.length;
    const printable = bytes.subarray(0, end).every((c) => c >= 0x20 && c < 0x7f);
    if (printable && end > 0) return JSON.stringify(new TextDecoder().decode(bytes.subarray(0, end)));
    return hexBytes(bytes, 16);
  }
  if ([1, 2, 4, 8].includes(m.size) && !/^(struct|union)\s/.test(t) && !/\[/.test(t)) {
    const v = readLE(b, m.at, m.size);
    const signed = /^(int|long|short|s8|s16|s32|s64|__s\d+|char|signed|long long|ktime_t|time64_t)$/.test(t);
    if (signed) {
      const sv = BigInt.asIntN(m.size * 8, v);
      return sv < 0n || sv < 65536n ? sv.toString(10) : `${sv} (0x${v.toString(16)})`;
    }
    if (/bool/.test(t)) return v ? 'true' : 'false';
    return v < 65536n ? v.toString(10) : '0x' + v.toString(16);
  }
  if (t === 'atomic_t' || t === 'refcount_t' || t === 'atomic_long_t') {
    return BigInt.asIntN(m.size * 8, readLE(b, m.at, Math.min(8, m.size))).toString(10);
  }
  if (m.size <= 16) return hexBytes(b.subarray(m.at, m.at + m.size), 16);
  return null;
}

function hexBytes(b: Uint8Array, max: number): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(b.length, max); i++) parts.push(b[i].toString(16).padStart(2, '0'));
  return parts.join(' ') + (b.length > max ? ' …' : '');
}

/** Value order of bytes inside a group (little-endian: the highest address first). */
export function groupOrder(group: number): number[] {
  const out: number[] = [];
  for (let g = 0; g < ROW_BYTES; g += group) for (let i = group - 1; i >= 0; i--) out.push(g + i);
  return out;
}
