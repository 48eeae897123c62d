/**
 * Which numbers are kernel pointers, from the dump's own address layout (workers/analysis/
 * layout.ts via the engine: direct map, vmalloc, vmemmap, kernel image, modules, for 4- or
 * 5-level paging), not from a 0xffff prefix. Before the layout has arrived (it is asked right
 * after open) a value is a pointer when it is in the canonical kernel half of either paging mode
 * and is not a negative errno (-4095..-1, e.g. RAX = -ENOSYS = 0xffffffffffffffda).
 */
import type { AddressLayout } from './engine';

const ERRNO_MIN = 0xfffffffffffff001n;

export function isKernelPointer(v: bigint, layout: AddressLayout | null | undefined): boolean {
  if (v >= ERRNO_MIN) return false;
  if (layout) {
    for (const r of layout.ranges) if (v >= BigInt(r.start) && v < BigInt(r.end)) return true;
    return false;
  }
  return v >= 0xff00000000000000n;
}

/** The same for a "0x..." or bare-hex string (false when it is not a number). */
export function isPointerText(s: string, layout: AddressLayout | null | undefined): boolean {
  const t = s.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,16}$/.test(t)) return false;
  return isKernelPointer(BigInt('0x' + t), layout);
}
