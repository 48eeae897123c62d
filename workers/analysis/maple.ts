/**
 * Maple trees (lib/maple_tree.c, include/linux/maple_tree.h): every entry of a tree, in index
 * order. An encoded node pointer carries the node type in bits 3..6 (enum maple_type, values read
 * from BTF); the root is a node when its low two bits are 2 and it is above 4096 (xa_is_node);
 * leaves (maple_leaf_64, maple_dense) hold entries, range/arange nodes hold children. Pivots bound
 * each slot; a walk stops at the node's maximum. Bounded (depth and count) and cycle-checked.
 */
import type { Program } from '../kernel/program';
import { MemoryError } from '../errors';

export interface MapleEntry {
  index: bigint; // first index the entry covers
  last: bigint;
  entry: bigint;
}

const MAX_DEPTH = 16;

export function mapleEntries(prog: Program, tree: bigint, limit = 1_000_000): { entries: MapleEntry[]; problems: string[] } {
  const problems: string[] = [];
  const entries: MapleEntry[] = [];
  const btf = prog.btf;
  const en = (n: string) => btf.enumerator(n)?.value;
  const DENSE = en('maple_dense');
  const LEAF = en('maple_leaf_64');
  const RANGE = en('maple_range_64');
  const ARANGE = en('maple_arange_64');
  if (LEAF === undefined || RANGE === undefined || ARANGE === undefined) {
    problems.push('no enum maple_type in BTF');
    return { entries, problems };
  }
  const r64 = prog.type('struct maple_range_64');
  const a64 = prog.type('struct maple_arange_64');
  const lay = (t: number) => {
    const piv = btf.memberPath(t, 'pivot')!;
    const slot = btf.memberPath(t, 'slot')!;
    return { pivOff: piv.offset, nPiv: btf.sizeof(piv.type) / 8, slotOff: slot.offset, nSlot: btf.sizeof(slot.type) / 8 };
  };
  const L64 = lay(r64);
  const LA = lay(a64);
  const nodeSlots = btf.sizeof(btf.memberPath(prog.type('struct maple_node'), 'slot')!.type) / 8;
  const seen = new Set<bigint>();
  const isNode = (e: bigint) => (e & 3n) === 2n && e > 4096n;
  const walk = (enode: bigint, min: bigint, max: bigint, depth: number) => {
    if (depth > MAX_DEPTH || entries.length >= limit) return;
    const node = enode & ~0xffn;
    if (seen.has(node)) {
      problems.push(`maple node ${node.toString(16)} seen twice`);
      return;
    }
    seen.add(node);
    const type = (enode >> 3n) & 0xfn;
    const buf = prog.mem.read(node, 256);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const u = (o: number) => dv.getBigUint64(o, true);
    if (type === DENSE) {
      for (let i = 0; i < nodeSlots; i++) {
        const e = u(8 + i * 8);
        if (e) entries.push({ index: min + BigInt(i), last: min + BigInt(i), entry: e });
      }
      return;
    }
    const l = type === ARANGE ? LA : L64;
    const leaf = type === LEAF;
    if (!leaf && type !== RANGE && type !== ARANGE) {
      problems.push(`maple node ${node.toString(16)}: unknown type ${type}`);
      return;
    }
    let lo = min;
    for (let i = 0; i < l.nSlot; i++) {
      const hi = i < l.nPiv ? u(l.pivOff + i * 8) : max;
      const last = i < l.nPiv && (hi === 0n && i > 0) ? max : hi;
      const e = u(l.slotOff + i * 8);
      if (e) {
        if (leaf) entries.push({ index: lo, last, entry: e });
        else walk(e, lo, last, depth + 1); // children are encoded nodes (only the root carries the |2 tag)
      }
      if (last >= max || (i < l.nPiv && hi === 0n && i > 0)) break;
      lo = last + 1n;
    }
  };
  try {
    const root = prog.obj('struct maple_tree', tree).member('ma_root').ptr();
    if (!root) return { entries, problems };
    if (!isNode(root)) entries.push({ index: 0n, last: 0n, entry: root });
    else walk(root, 0n, (1n << 64n) - 1n, 0);
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    problems.push(e.message);
  }
  return { entries, problems };
}
