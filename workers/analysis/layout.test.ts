/**
 * The kernel address layout against crash's own classification of ~500 sampled addresses per
 * dump (oracle/whatis.tsv): slab objects, direct map, vmemmap pages, vmalloc and stacks, kernel
 * text/data, modules each fall in the matching range; small numbers and negative errnos in none.
 */
import { describe, expect, it } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump } from '../testing/dumps';
import { kernelAddressLayout, rangeOf, type RangeName } from './layout';

const WANT: Record<string, RangeName> = {
  slab: 'direct map',
  'directmap-random': 'direct map',
  task_struct: 'direct map',
  'percpu-instance': 'direct map',
  'vmemmap-page': 'vmemmap',
  vmalloc: 'vmalloc',
  'stack-random': 'vmalloc',
  'stack-frame-sp': 'vmalloc',
  'kernel-text': 'kernel image',
  'kernel-data': 'kernel image',
  'kernel-rodata': 'kernel image',
  'kernel-bss': 'kernel image',
  module: 'modules',
};

describe('kernel address layout', () => {
  for (const name of ['6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr', '5.10-sysrq-lzo', '6.1-sysrq-kaslr']) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}: every sampled address of crash's whatis lands in its range`, () => {
      const prog = openProgram(new NodeFileSource(d!.file));
      const L = kernelAddressLayout(prog);
      expect(L.levels).toBe(4);
      const rows = d!.oracle('whatis.tsv').trim().split('\n').slice(1).map((l) => l.split('\t'));
      let checked = 0;
      const wrong: string[] = [];
      for (const r of rows) {
        const cat = r[1].split(':')[0];
        const want = WANT[cat];
        if (!want) continue;
        const got = rangeOf(L, BigInt(r[0]))?.name ?? 'none';
        // also right: crash's "vmalloc" samples in module memory (modules are vmalloc'ed), the
        // idle task and its stack in the kernel image (init_task), and a kernel whose
        // randomized vmalloc/vmemmap bases are not readable (one span for both)
        const ok =
          got === want ||
          (cat === 'vmalloc' && got === 'modules') ||
          ((cat.startsWith('stack') || cat === 'task_struct') && got === 'kernel image') ||
          ((want === 'vmalloc' || want === 'vmemmap') && got === 'vmalloc or vmemmap');
        if (!ok) wrong.push(`${r[0]} ${cat}: ${got}`);
        checked++;
      }
      expect(checked).toBeGreaterThan(300);
      expect(wrong).toEqual([]);
      // not pointers: small numbers, -ENOSYS, -1, a user address, a non-canonical value
      for (const v of [0x106n, 0xffffffffffffffdan, 0xffffffffffffffffn, 0x7ffd12345678n, 0xffff000000000000n]) {
        expect(rangeOf(L, v), `0x${v.toString(16)}`).toBeNull();
      }
    });
  }
});
