import { MemoryError } from '../errors';
import type { Program } from './program';

/**
 * Red-black tree walking (include/linux/rbtree.h), in order (rb_first .. rb_next), bounded and
 * cycle-checked: corrupt memory is normal input, so a walk ends with a reason instead of looping
 * or throwing. The rb_node layout (rb_left, rb_right) comes from BTF.
 */
export interface RbWalk {
  /** struct rb_node addresses, in order */
  nodes: bigint[];
  /** why the walk stopped early (null when it saw the whole tree) */
  problem: string | null;
}

/** A red-black tree is at most 2 log2(n + 1) deep; deeper than this is corrupt. */
const MAX_DEPTH = 128;

/** In-order nodes of the tree whose struct rb_root is at `root` (rb_root.rb_node is its first word). */
export function rbInorder(prog: Program, root: bigint, limit = 1_000_000): RbWalk {
  const left = BigInt(prog.offsetof('struct rb_node', 'rb_left'));
  const right = BigInt(prog.offsetof('struct rb_node', 'rb_right'));
  const h = (v: bigint) => v.toString(16);
  const nodes: bigint[] = [];
  const seen = new Set<bigint>();
  const stack: bigint[] = [];
  const read = (a: bigint): bigint => prog.mem.u64(a);
  try {
    let cur = read(root);
    for (;;) {
      while (cur !== 0n) {
        if (!prog.arch.isKernelAddress(cur)) return { nodes, problem: `rbtree: node pointer ${h(cur)} is not a kernel address` };
        if (seen.has(cur)) return { nodes, problem: `rbtree: node ${h(cur)} reached twice (the tree loops)` };
        seen.add(cur);
        if (stack.length >= MAX_DEPTH) return { nodes, problem: `rbtree: deeper than ${MAX_DEPTH} at ${h(cur)} (corrupt)` };
        stack.push(cur);
        cur = read(cur + left);
      }
      const n = stack.pop();
      if (n === undefined) return { nodes, problem: null };
      if (nodes.length >= limit) return { nodes, problem: `rbtree: stopped after ${limit} nodes (limit)` };
      nodes.push(n);
      cur = read(n + right);
    }
  } catch (e) {
    if (e instanceof MemoryError) return { nodes, problem: `rbtree: ${e.message}` };
    throw e;
  }
}
