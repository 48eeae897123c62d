import { describe, expect, it } from 'vitest';
import { cacheBytes, cellSize, corruptCells, corruptObjects, locate, maxObjects, objAddr, objNotes, objState, rowLabel } from './model';
import { slabGridOf, type KmemCacheJson, type SlabStatesJson } from '../../../workers/commands/kmem';

describe('slab map model', () => {
  it('sizes caches by slabs * slab size', () => {
    expect(cacheBytes({ name: 'kmalloc-1k', objsize: 1024, allocated: 252, total: 272, slabs: 17, ssize: 16384 })).toBe(17 * 16384);
    expect(cacheBytes({ name: 'x', objsize: 64, allocated: 0, total: 10, slabs: 0, ssize: 4096 })).toBe(640);
  });
  it('orders slabs, gives each object its address and state, and marks corrupt objects', () => {
    // kmem -S --states: objects every `stride` bytes from `first`, a letter each; 8 bytes of red zone before each
    const slab = (s: string, memory: string, section: string, first: string, states: string, notes?: Record<number, string>) =>
      ({ slab: s, memory, section, total: states.length, allocated: 0, free: 0, first, stride: 24, states, ...(notes ? { notes } : {}) });
    const j: KmemCacheJson<SlabStatesJson> = {
      info: { cache: '0xc', name: 'c', objsize: 16, allocated: 3, total: 4, slabs: 2, ssize: 4096, size: 24, red_left_pad: 8 },
      cpus: [{ cpu: 0, kmem_cache_cpu: '0xd', slab: slab('0xa', '0x2000', 'cpu', '0x2008', 'ac', { 1: 'cpu 0 cache' }), partial: [], problems: [] }],
      nodes: [{ node: 0, kmem_cache_node: '0xe', nr_slabs: 1, nr_partial: 0, partial: [], full: null }],
      untracked: [slab('0xb', '0x1000', 'pagewalk', '0x1008', 'aaf')],
    };
    // the engine's typed-array form (RunOptions.slabGrid), as the panel gets it
    const g = slabGridOf(j);
    expect(g.rows).toBe(2);
    expect([0, 1].map((i) => rowLabel(g, i))).toEqual(['2000 cpu 0', '1000 full']);
    expect(maxObjects(g)).toBe(3);
    // a finding names an object (0x1020), another an address in the red zone before object 2 (0x1038 - 8)
    const cells = corruptCells(g, corruptObjects([{ object: '0x1020' }, { address: '0x1030' }, { address: '0x9000' }]));
    expect([0, 1, 2].map((k) => objState(g, 1, k, cells))).toEqual(['allocated', 'corrupt', 'corrupt']);
    expect([0, 1, 2].map((k) => objState(g, 1, k))).toEqual(['allocated', 'allocated', 'free']);
    expect([0, 1, 2].map((k) => objAddr(g, 1, k))).toEqual(['0x1008', '0x1020', '0x1038']);
    expect(objState(g, 0, 1)).toBe('cpu-free');
    expect(objNotes(g).get('0:1')).toBe('cpu 0 cache');
    // an object's address, or any address in its slot, finds its row and index; outside, none
    expect(locate(g, '0x2020')).toEqual({ i: 0, k: 1 });
    expect(locate(g, '2000')).toEqual({ i: 0, k: 0 });
    expect(locate(g, '0x1000')).toEqual({ i: 1, k: 0 });
    expect(locate(g, '0x1047')).toEqual({ i: 1, k: 2 });
    expect(locate(g, '0x1048')).toBeNull();
    expect(locate(g, '0xfff')).toBeNull();
    expect(locate(g, 'zz')).toBeNull();
  });
  it('cell sizes', () => {
    expect(cellSize(16, 800)).toEqual({ w: 14, gap: 1 });
    expect(cellSize(512, 800)).toEqual({ w: 3, gap: 0 });
  });
});
