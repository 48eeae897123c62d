import { MemoryError } from '../errors';
import { u16, u32, u64, cstr } from '../bytes';
import type { PhysicalDump } from '../format/types';
import type { X86_64 } from '../arch/x86_64';

/** reads of at least this many bytes go past the physical page cache (PhysicalDump.copyPhys) */
const BULK_READ = 64 * 1024;

/**
 * Kernel virtual memory: reads by virtual address through the arch translation and the physical
 * dump. Reads crossing pages translate each page. Every failure is a MemoryError naming the
 * virtual address that failed.
 */
export class KernelMemory {
  constructor(
    readonly phys: PhysicalDump,
    readonly arch: X86_64,
  ) {}

  read(va: bigint, len: number, into?: Uint8Array): Uint8Array {
    va = BigInt.asUintN(64, va);
    const off = Number(va & 0xfffn);
    if (off + len <= 4096 && !into) return this.readPage(va, len);
    // into: the caller's buffer of len bytes (a table that must lie in a WebAssembly memory)
    const out = into ?? new Uint8Array(len);
    // a large one-off read (BTF, kallsyms tables, scans) goes past the physical page cache
    const bulk = len >= BULK_READ && this.phys.copyPhys ? this.phys.copyPhys.bind(this.phys) : null;
    let pos = 0;
    while (pos < len) {
      // pages that follow each other in physical memory too (the direct map, vmemmap's and the
      // kernel image's large pages) are one read of the dump: a browser File pays per read
      const cur = va + BigInt(pos);
      const first = Math.min(len - pos, 4096 - Number(cur & 0xfffn));
      const pa = this.arch.vtop(cur);
      let n = first;
      while (pos + n < len) {
        let npa: number;
        try {
          npa = this.arch.vtop(cur + BigInt(n));
        } catch (e) {
          if (e instanceof MemoryError) break; // read up to here; that page throws on its own turn
          throw e;
        }
        if (npa !== pa + n) break;
        n += Math.min(len - pos - n, 4096);
      }
      if (n > first) {
        try {
          if (bulk) bulk(pa, out.subarray(pos, pos + n));
          else out.set(this.phys.readPhys(pa, n), pos);
          pos += n;
          continue;
        } catch (e) {
          if (!(e instanceof MemoryError)) throw e;
          // a page of the run is missing: page by page below, each failure named as before
        }
      }
      for (const end = pos + n; pos < end; ) {
        const at = va + BigInt(pos);
        const one = Math.min(end - pos, 4096 - Number(at & 0xfffn));
        out.set(this.readPage(at, one), pos);
        pos += one;
      }
    }
    return out;
  }

  private readPage(va: bigint, len: number): Uint8Array {
    const pa = this.arch.vtop(va);
    try {
      return this.phys.readPhys(pa, len);
    } catch (e) {
      if (e instanceof MemoryError && e.space === 'physical') {
        throw new MemoryError(e.kind, va, 'virtual', `physical 0x${pa.toString(16)}`);
      }
      throw e;
    }
  }

  /** Like read, but returns null instead of throwing a MemoryError. */
  tryRead(va: bigint, len: number): Uint8Array | null {
    try {
      return this.read(va, len);
    } catch (e) {
      if (e instanceof MemoryError) return null;
      throw e;
    }
  }

  readable(va: bigint): boolean {
    return this.tryRead(va, 1) !== null;
  }

  u64(va: bigint): bigint {
    return u64(this.read(va, 8), 0);
  }
  u32(va: bigint): number {
    return u32(this.read(va, 4), 0);
  }
  u16(va: bigint): number {
    return u16(this.read(va, 2), 0);
  }
  u8(va: bigint): number {
    return this.read(va, 1)[0];
  }
  i32(va: bigint): number {
    return this.u32(va) | 0;
  }
  /** A NUL-terminated string of at most `max` bytes (stops at the first unreadable page). */
  cstring(va: bigint, max = 4096): string {
    let s = '';
    let pos = 0;
    while (pos < max) {
      const cur = va + BigInt(pos);
      const n = Math.min(max - pos, 4096 - Number(cur & 0xfffn));
      const b = pos === 0 ? this.read(cur, n) : this.tryRead(cur, n);
      if (!b) break;
      const z = b.indexOf(0);
      s += cstr(b, 0, z < 0 ? n : z);
      if (z >= 0) break;
      pos += n;
    }
    return s;
  }

  /** Read physical memory (for `rd -p` and page structures). */
  readPhys(pa: number, len: number): Uint8Array {
    return this.phys.readPhys(pa, len);
  }
}
