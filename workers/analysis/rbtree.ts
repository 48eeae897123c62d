/**
 * Red-black trees (lib/rbtree.c, include/linux/rbtree.h): in-order walk of an rb_root from the
 * leftmost node with rb_next, as the kernel and crash do. A node is {__rb_parent_color,
 * rb_right, rb_left} (offsets from BTF). Bounded; a node seen twice or unreadable ends the walk
 * with a problem.
 */
import type { Program } from '../kernel/program';
import { MemoryError } from '../errors';

export interface RbWalk {
  nodes: bigint[];
  problems: string[];
}

export function rbWalk(prog: Program, root: bigint, limit = 1_000_000): RbWalk {
  const nodeT = prog.type('struct rb_node');
  const offRight = BigInt(prog.offsetof(nodeT, 'rb_right'));
  const offLeft = BigInt(prog.offsetof(nodeT, 'rb_left'));
  const offPc = BigInt(prog.offsetof(nodeT, '__rb_parent_color'));
  const nodes: bigint[] = [];
  const problems: string[] = [];
  const seen = new Set<bigint>();
  const u64 = (a: bigint) => prog.mem.u64(a);
  const parent = (n: bigint) => u64(n + offPc) & ~3n;
  try {
    // rb_first
    let n = u64(root); // rb_root.rb_node
    if (n === 0n) return { nodes, problems };
    for (let d = 0; d < 256; d++) {
      const l = u64(n + offLeft);
      if (!l) break;
      n = l;
    }
    while (n && nodes.length < limit) {
      if (seen.has(n)) {
        problems.push(`rb_node ${n.toString(16)} seen twice: the tree loops`);
        break;
      }
      seen.add(n);
      nodes.push(n);
      // rb_next
      const r = u64(n + offRight);
      if (r) {
        n = r;
        for (let d = 0; d < 256; d++) {
          const l = u64(n + offLeft);
          if (!l) break;
          n = l;
        }
        continue;
      }
      let p = parent(n);
      let cur = n;
      let steps = 0;
      while (p && cur === u64(p + offRight) && steps++ < 256) {
        cur = p;
        p = parent(p);
      }
      n = p;
    }
    if (nodes.length >= limit) problems.push(`stopped after ${limit} nodes`);
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    problems.push(e.message);
  }
  return { nodes, problems };
}

/** Pre-order walk (node, left subtree, right subtree): the order crash's `tree -t rbtree` prints. */
export function rbPreorder(prog: Program, root: bigint, limit = 1_000_000): RbWalk {
  const nodeT = prog.type('struct rb_node');
  const offRight = BigInt(prog.offsetof(nodeT, 'rb_right'));
  const offLeft = BigInt(prog.offsetof(nodeT, 'rb_left'));
  const nodes: bigint[] = [];
  const problems: string[] = [];
  const seen = new Set<bigint>();
  const stack: Array<{ n: bigint; d: number }> = [];
  try {
    const r = prog.mem.u64(root);
    if (r) stack.push({ n: r, d: 0 });
    while (stack.length && nodes.length < limit) {
      const { n, d } = stack.pop()!;
      if (seen.has(n)) {
        problems.push(`duplicate tree entry: ${n.toString(16)}`);
        break;
      }
      seen.add(n);
      nodes.push(n);
      if (d > 256) continue;
      const right = prog.mem.u64(n + offRight);
      const left = prog.mem.u64(n + offLeft);
      if (right) stack.push({ n: right, d: d + 1 });
      if (left) stack.push({ n: left, d: d + 1 });
    }
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    problems.push(e.message);
  }
  return { nodes, problems };
}
