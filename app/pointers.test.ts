import { describe, expect, it } from 'vitest';
import { isKernelPointer, isPointerText } from './pointers';
import { segments } from './panels/common';
import type { AddressLayout } from './engine';

/** A 5-level (la57) layout as analysis/layout.ts gives it for a randomized kernel. */
const L5: AddressLayout = {
  levels: 5,
  notes: [],
  ranges: [
    { name: 'direct map', start: '0xff4e690000000000', end: '0xff4e690040000000' },
    { name: 'vmalloc', start: '0xff5c000000000000', end: '0xff8f200000000000' },
    { name: 'vmemmap', start: '0xffd4000000000000', end: '0xffd4000001000000' },
    { name: 'kernel image', start: '0xffffffff80000000', end: '0xffffffffc0000000' },
    { name: 'modules', start: '0xffffffffc0000000', end: '0xffffffffff000000' },
  ],
};

describe('kernel pointers from the dump layout', () => {
  it('5-level direct map and stacks are pointers; errno, user, small values are not', () => {
    expect(isKernelPointer(0xff4e690002a4c000n, L5)).toBe(true);
    expect(isKernelPointer(0xff5c1a2b40003f00n, L5)).toBe(true);
    expect(isKernelPointer(0xffffffffffffffdan, L5)).toBe(false); // -ENOSYS
    expect(isKernelPointer(0xffffffffffffffdan, null)).toBe(false);
    expect(isKernelPointer(0x106n, L5)).toBe(false);
    expect(isKernelPointer(0x7ffc00001000n, L5)).toBe(false);
    expect(isKernelPointer(0xffff888000000000n, L5)).toBe(false); // the 4-level base: not mapped here
    expect(isPointerText('ff4e690002a4c000', L5)).toBe(true);
  });
  it('links in text follow the layout', () => {
    const t = 'stack 0xff4e690002a4c000  RAX: ffffffffffffffda  RBX: 0000000000000106 task ff4e690002a4c000';
    const links = segments(t, [], L5).filter((s) => s.link).map((s) => s.link);
    expect(links).toEqual(['0xff4e690002a4c000', 'ff4e690002a4c000']);
  });
});
