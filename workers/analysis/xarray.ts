/**
 * XArrays and radix trees (lib/xarray.c, include/linux/xarray.h; the radix tree and the IDR are
 * XArrays since 4.20): every present entry in index order. A pointer whose low two bits are 2 is
 * internal: above 4096 a child xa_node (its shift gives the height). The chunk size is the length
 * of xa_node.slots[] (from BTF). Bounded and cycle-checked.
 */
import type { Program } from '../kernel/program';
import { MemoryError } from '../errors';

export interface XaEntry {
  index: bigint;
  entry: bigint;
}

export function xaEntries(prog: Program, xarray: bigint, limit = 1_000_000): { entries: XaEntry[]; problems: string[] } {
  const problems: string[] = [];
  const entries: XaEntry[] = [];
  const nodeT = prog.type('struct xa_node');
  const slots = prog.btf.memberPath(nodeT, 'slots')!;
  const n = prog.btf.sizeof(slots.type) / 8;
  const chunkShift = BigInt(Math.log2(n));
  const shiftOff = BigInt(prog.offsetof(nodeT, 'shift'));
  const isInternalNode = (v: bigint) => (v & 3n) === 2n && v > 4096n;
  const seen = new Set<bigint>();
  const walk = (node: bigint, index: bigint, depth: number) => {
    if (depth > 16 || entries.length >= limit) return;
    if (seen.has(node)) {
      problems.push(`xa_node ${node.toString(16)} seen twice`);
      return;
    }
    seen.add(node);
    const shift = BigInt(prog.mem.read(node + shiftOff, 1)[0]);
    const b = prog.mem.read(node + BigInt(slots.offset), n * 8);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < n; i++) {
      const s = dv.getBigUint64(i * 8, true);
      if (!s) continue;
      const idx = index | (BigInt(i) << shift);
      if (isInternalNode(s) && shift > 0n) walk(s & ~3n, idx, depth + 1);
      else if ((s & 3n) === 2n && s <= 4096n) continue; // sibling / retry entries
      else entries.push({ index: idx, entry: s });
    }
  };
  try {
    const head = prog.obj('struct xarray', xarray).member('xa_head').ptr();
    if (!head) return { entries, problems };
    if (isInternalNode(head)) walk(head & ~3n, 0n, 0);
    else entries.push({ index: 0n, entry: head });
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    problems.push(e.message);
  }
  void chunkShift;
  return { entries, problems };
}
