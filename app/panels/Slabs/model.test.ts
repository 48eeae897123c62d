import { describe, expect, it } from 'vitest';
import { cacheBytes, cellSize, corruptObjects, slabRows, type KmemSJson } from './model';

describe('slab map model', () => {
  it('sizes caches by slabs * slab size', () => {
    expect(cacheBytes({ name: 'kmalloc-1k', objsize: 1024, allocated: 252, total: 272, slabs: 17, ssize: 16384 })).toBe(17 * 16384);
    expect(cacheBytes({ name: 'x', objsize: 64, allocated: 0, total: 10, slabs: 0, ssize: 4096 })).toBe(640);
  });
  it('orders slabs and marks corrupt objects', () => {
    const obj = (a: string, state: 'allocated' | 'free' | 'cpu-free' = 'allocated') => ({ addr: a, slot: a, state });
    const slab = (s: string, memory: string, section: string, objects: ReturnType<typeof obj>[]) => ({ slab: s, memory, section, total: objects.length, allocated: 0, free: 0, objects });
    const j: KmemSJson = {
      info: { cache: '0xc', name: 'c', objsize: 8, allocated: 3, total: 4, slabs: 2, ssize: 4096, size: 8, red_left_pad: 0 },
      cpus: [{ cpu: 0, kmem_cache_cpu: '0xd', slab: slab('0xa', '0x1000', 'cpu', [obj('0x1000'), obj('0x1008', 'cpu-free')]), partial: [], problems: [] }],
      nodes: [{ node: 0, kmem_cache_node: '0xe', nr_slabs: 1, nr_partial: 0, partial: [], full: null }],
      untracked: [slab('0xb', '0x2000', 'pagewalk', [obj('0x2000'), obj('0x2008')])],
    };
    const rows = slabRows(j, corruptObjects([{ object: '0x2008' }]));
    expect(rows.map((r) => r.section)).toEqual(['cpu 0', 'full']);
    expect(rows[1].objects.map((o) => o.state)).toEqual(['allocated', 'corrupt']);
    expect(rows[0].objects[1].state).toBe('cpu-free');
  });
  it('cell sizes', () => {
    expect(cellSize(16, 800)).toEqual({ w: 14, gap: 1 });
    expect(cellSize(512, 800)).toEqual({ w: 3, gap: 0 });
  });
});
