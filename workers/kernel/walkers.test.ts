/**
 * The rbtree and xarray walkers on damaged memory: a real dump's tree with one pointer rewritten
 * (a loop, a wild pointer) ends with a reason, never loops or throws.
 */
import { describe, it, expect } from 'vitest';
import { sharedDump } from '../testing/dumps';
import { openDumpFile } from '../node';
import type { Program } from './program';
import { rbInorder } from './rbtree';
import { xaEntries } from './xarray';

const d = sharedDump('6.1-sysrq-kaslr');

/** Rewrite the 8 bytes at `at` in every read of the program's memory. */
function patchU64(prog: Program, at: bigint, value: bigint): void {
  const orig = prog.mem.read.bind(prog.mem);
  prog.mem.read = (va: bigint, len: number) => {
    const b = orig(va, len);
    if (at + 8n <= va || at >= va + BigInt(len)) return b;
    const out = b.slice();
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigUint64(0, value, true);
    for (let i = 0; i < 8; i++) {
      const o = Number(at - va) + i;
      if (o >= 0 && o < len) out[o] = v[i];
    }
    return out;
  };
}

describe.skipIf(!d)('walkers on damaged memory (6.1-sysrq-kaslr)', () => {
  it('rbtree: a child pointing back up is a loop, a wild pointer is reported', () => {
    const prog = openDumpFile(d!.file);
    const root = prog.symbolAddress('vmap_area_root')!;
    const whole = rbInorder(prog, root);
    expect(whole.problem).toBeNull();
    expect(whole.nodes.length).toBeGreaterThan(20);
    const top = prog.mem.u64(root);
    const left = BigInt(prog.offsetof('struct rb_node', 'rb_left'));
    // the leftmost node's rb_left -> the root node: the walk comes round
    let n = top;
    while (prog.mem.u64(n + left) !== 0n) n = prog.mem.u64(n + left);
    patchU64(prog, n + left, top);
    const loop = rbInorder(prog, root);
    expect(loop.problem).toMatch(/reached twice/);
    const prog2 = openDumpFile(d!.file);
    patchU64(prog2, n + left, 0x1234n);
    expect(rbInorder(prog2, root).problem).toMatch(/not a kernel address/);
  });

  it('xarray: a slot pointing at its own node is a loop', () => {
    const prog = openDumpFile(d!.file);
    const ns = prog.symbolAddress('init_pid_ns')!;
    const xa = ns + BigInt(prog.offsetof('struct pid_namespace', 'idr.idr_rt'));
    const whole = xaEntries(prog, xa);
    expect(whole.problem).toBeNull();
    expect(whole.entries.length).toBeGreaterThan(40);
    const head = prog.mem.u64(xa + BigInt(prog.offsetof('struct xarray', 'xa_head')));
    expect(head & 3n).toBe(2n); // a node (more than one pid)
    const node = head - 2n;
    const slots = node + BigInt(prog.offsetof('struct xa_node', 'slots'));
    // find a NULL slot of the top node and point it at the node itself
    let i = 0;
    while (prog.mem.u64(slots + BigInt(i * 8)) !== 0n) i++;
    patchU64(prog, slots + BigInt(i * 8), head);
    const loop = xaEntries(prog, xa);
    expect(loop.problem).toMatch(/reached twice/);
  });
});
