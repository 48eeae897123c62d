import { describe, it, expect } from 'vitest';
import { X86_64, walkTables, probePagingDepth, START_KERNEL_MAP, type ArchInfo } from './x86_64';
import { MemoryError } from '../errors';
import type { PhysicalDump } from '../format/types';

/**
 * Synthetic page tables (no dev dump has la57: every QEMU guest here ran with -cpu max,la57=off),
 * laid out as the kernel builds them: a top table at init_top_pgt's physical place, the kernel
 * image mapped with 2 MiB pages at phys_base, the direct map at page_offset_base.
 */
function tables(l5: boolean) {
  const mem = new Uint8Array(64 << 20);
  const dv = new DataView(mem.buffer);
  const set = (pa: number, v: bigint) => dv.setBigUint64(pa, v, true);
  const P = 0x63n; // present, rw, accessed, dirty
  const PSE = 0x80n;
  const idx = (va: bigint, shift: bigint) => Number((va >> shift) & 0x1ffn);
  let next = 0x100000;
  const alloc = () => ((next += 0x1000), next - 0x1000);
  const top = 0x1000; // init_top_pgt, at START_KERNEL_MAP + 0x1000 with phys_base 0
  // map va -> pa with a page of `size` (4 KiB, 2 MiB)
  const map = (va: bigint, pa: number, size: number) => {
    const shifts = l5 ? [48n, 39n, 30n, 21n, 12n] : [39n, 30n, 21n, 12n];
    let table = top;
    for (const sh of shifts) {
      const e = table + idx(va, sh) * 8;
      if ((sh === 21n && size === 2 << 20) || sh === 12n) {
        set(e, BigInt(pa) | P | (sh === 21n ? PSE : 0n));
        return;
      }
      let v = dv.getBigUint64(e, true);
      if (!(v & 1n)) {
        v = BigInt(alloc()) | P;
        set(e, v);
      }
      table = Number(v & 0x000ffffffffff000n);
    }
  };
  // kernel image: the first 8 MiB of physical memory at START_KERNEL_MAP (phys_base 0)
  for (let o = 0; o < 8 << 20; o += 2 << 20) map(START_KERNEL_MAP + BigInt(o), o, 2 << 20);
  // a direct-map page and a vmalloc page
  const pageOffset = l5 ? 0xff11000000000000n : 0xffff888000000000n;
  map(pageOffset + 0x2345000n, 0x2345000, 4096);
  const vmalloc = l5 ? 0xffa0000000123000n : 0xffffc90000123000n;
  map(vmalloc, 0x3000000, 4096);
  mem.set([0xde, 0xad, 0xbe, 0xef], 0x3000000 + 0x10);
  const phys = {
    maxPhys: mem.length,
    ranges: () => [{ start: 0, end: mem.length }],
    readPhys(pa: number, len: number) {
      if (pa + len > mem.length) throw new MemoryError('unmapped', BigInt(pa), 'physical');
      return mem.subarray(pa, pa + len);
    },
  } as unknown as PhysicalDump;
  return { phys, top, pageOffset, vmalloc };
}

/** VMCOREINFO's facts, with or without NUMBER(pgtable_l5_enabled) */
const info = (l5: boolean | null): ArchInfo => {
  const sym: Record<string, bigint> = { init_top_pgt: START_KERNEL_MAP + 0x1000n, _stext: START_KERNEL_MAP + 0x200000n };
  const num: Record<string, bigint> = { phys_base: 0n, ...(l5 === null ? {} : { pgtable_l5_enabled: l5 ? 1n : 0n }) };
  return { kernelOffset: 0n, number: (k) => num[k], symbol: (n) => sym[n] };
};

describe('x86_64 page walk, 4- and 5-level (synthetic tables)', () => {
  for (const l5 of [false, true]) {
    const t = tables(l5);
    it(`${l5 ? '5' : '4'}-level: the walk names each level and finds the page`, () => {
      const rd = (a: number) => new DataView(t.phys.readPhys(a, 8).slice().buffer).getBigUint64(0, true);
      const tr = walkTables(t.vmalloc + 0x10n, t.top, l5, 0n, rd);
      expect(tr.phys).toBe(0x3000010);
      expect(tr.steps.map((s) => s.level)).toEqual(l5 ? ['PGD', 'P4D', 'PUD', 'PMD', 'PTE'] : ['PGD', 'PUD', 'PMD', 'PTE']);
      const big = walkTables(START_KERNEL_MAP + 0x234567n, t.top, l5, 0n, rd);
      expect(big).toMatchObject({ phys: 0x234567, pageSize: 2 << 20 });
      expect(() => walkTables(t.vmalloc + 0x1000000n, t.top, l5, 0n, rd)).toThrow(/not present/);
    });
    it(`${l5 ? '5' : '4'}-level: detected from VMCOREINFO, and from the tables when VMCOREINFO does not say`, () => {
      expect(probePagingDepth(t.phys, t.top, [START_KERNEL_MAP + 0x1000n, START_KERNEL_MAP + 0x200000n], (va) => Number(va - START_KERNEL_MAP))).toBe(l5 ? 5 : 4);
      for (const declared of [l5, null]) {
        const a = new X86_64(t.phys, info(declared));
        expect(a.l5, `declared ${declared}`).toBe(l5);
        expect(a.vtop(t.vmalloc + 0x10n)).toBe(0x3000010);
        expect(a.vtop(t.pageOffset + 0x2345678n)).toBe(0x2345678);
        // pointer classification follows the paging mode: the la57 direct map is a kernel address
        expect(a.isKernelAddress(t.pageOffset)).toBe(true);
        expect(a.isKernelAddress(0xff11000000000000n)).toBe(l5);
      }
    });
  }
});
