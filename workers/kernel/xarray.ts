import { MemoryError } from '../errors';
import type { Program } from './program';

/**
 * XArray walking (include/linux/xarray.h, lib/xarray.c; the radix tree and IDR are XArrays): every
 * present entry with its index, in index order, bounded and cycle-checked. Node layout (shift,
 * slots and the chunk size) from BTF. Internal entries are decoded as the kernel does: a node
 * pointer is (node | 2) above 4096, sibling/retry/zero entries are skipped.
 */
export interface XaEntry {
  index: bigint;
  /** the stored pointer (or value entry: odd, see xa_to_value) */
  entry: bigint;
}

export interface XaWalk {
  entries: XaEntry[];
  problem: string | null;
}

const isInternal = (e: bigint) => (e & 3n) === 2n;
const isNode = (e: bigint) => isInternal(e) && e > 4096n;

/** Every present entry of the struct xarray at `xa`. */
export function xaEntries(prog: Program, xa: bigint, limit = 1_000_000): XaWalk {
  const headOff = BigInt(prog.offsetof('struct xarray', 'xa_head'));
  const node = prog.type('struct xa_node');
  const shiftOff = BigInt(prog.offsetof(node, 'shift'));
  const slotsOff = BigInt(prog.offsetof(node, 'slots'));
  const slots = prog.obj(node, 0n).member('slots');
  const chunk = slots.size / 8;
  const h = (v: bigint) => v.toString(16);
  const entries: XaEntry[] = [];
  const seen = new Set<bigint>();
  let problem: string | null = null;
  const visit = (entry: bigint, base: bigint, depth: number): boolean => {
    if (entry === 0n) return true;
    if (!isNode(entry)) {
      if (isInternal(entry)) return true; // sibling, retry or zero entry
      if (entries.length >= limit) {
        problem = `xarray: stopped after ${limit} entries (limit)`;
        return false;
      }
      entries.push({ index: base, entry });
      return true;
    }
    const n = entry - 2n;
    if (!prog.arch.isKernelAddress(n)) {
      problem = `xarray: node pointer ${h(n)} is not a kernel address`;
      return false;
    }
    if (seen.has(n) || depth > 16) {
      problem = `xarray: node ${h(n)} ${seen.has(n) ? 'reached twice (the tree loops)' : 'too deep (corrupt)'}`;
      return false;
    }
    seen.add(n);
    const shift = BigInt(prog.mem.read(n + shiftOff, 1)[0]);
    const b = prog.mem.read(n + slotsOff, chunk * 8);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < chunk; i++) {
      const e = dv.getBigUint64(i * 8, true);
      if (!visit(e, base + (BigInt(i) << shift), depth + 1)) return false;
    }
    return true;
  };
  try {
    visit(prog.mem.u64(xa + headOff), 0n, 0);
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    problem = `xarray: ${e.message}`;
  }
  return { entries, problem };
}
