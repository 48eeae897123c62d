/**
 * A damaged view of a real dump for tests: byte patches and a truncation over a ByteSource,
 * without copying the file (the ELF dumps are 550 MB). The fuzz harness (bench/fuzz.ts) writes
 * real mutated files; regression tests use this to replay one recipe each.
 */
import { newStats, type ByteSource, type ReadStats } from '../source/bytesource';
import type { PhysicalDump } from '../format/types';

export interface BytePatch {
  at: number;
  bytes: Uint8Array;
}

export class PatchedSource implements ByteSource {
  readonly size: number;
  readonly stats: ReadStats = newStats();
  constructor(
    private inner: ByteSource,
    private patches: BytePatch[],
    truncateTo?: number,
  ) {
    this.size = truncateTo === undefined ? inner.size : Math.min(inner.size, truncateTo);
  }
  get name(): string {
    return this.inner.name;
  }
  get preferredBlockSize(): number | undefined {
    return this.inner.preferredBlockSize;
  }
  read(offset: number, length: number): Uint8Array {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    const b = this.inner.read(offset, end - offset);
    let out: Uint8Array | null = null;
    for (const p of this.patches) {
      const s = Math.max(offset, p.at);
      const e = Math.min(end, p.at + p.bytes.length);
      if (e <= s) continue;
      out ??= b.slice();
      out.set(p.bytes.subarray(s - p.at, e - p.at), s - offset);
    }
    return out ?? b;
  }
}

export const le32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
export const le64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
};
export const le16 = (v: number): Uint8Array => Uint8Array.of(v & 0xff, (v >> 8) & 0xff);

/**
 * The dump with physical [pa, pa+len) read as zeros, by every read path (readPhys, and copyPhys
 * that large reads take past the page cache): an in-memory overlay over the real dump.
 */
export function zeroedPhys(phys: PhysicalDump, pa: number, len: number): PhysicalDump {
  const zero = (a: number, b: Uint8Array): void => {
    const s = Math.max(a, pa);
    const e = Math.min(a + b.length, pa + len);
    if (e > s) b.fill(0, s - a, e - a);
  };
  return new Proxy(phys, {
    get(target, prop) {
      if (prop === 'readPhys') {
        return (a: number, n: number) => {
          const b = target.readPhys(a, n);
          if (a + n <= pa || a >= pa + len) return b;
          const out = b.slice();
          zero(a, out);
          return out;
        };
      }
      if (prop === 'copyPhys' && target.copyPhys) {
        return (a: number, dest: Uint8Array) => {
          target.copyPhys!(a, dest);
          zero(a, dest);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
