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

// 5-level paging (la57): every base moves (direct map 0xff11... and randomized, vmalloc, vmemmap);
// the addresses are the ones crash translated in the dump's oracle (vtop.json: one of each kind,
// named from crash's own ps, mod, kmem -v, kmem -s and vtop's struct page), and the stack frames
// of crash's bt (bt-dstate.txt: vmalloc'ed stacks).
describe('kernel address layout, 5-level paging', () => {
  const d = sharedDump('6.1-la57-hung-locks');
  it.skipIf(!d)(`6.1-la57-hung-locks: levels 5, each kind of address in its range${d ? '' : ' (dump absent)'}`, () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const L = kernelAddressLayout(prog);
    expect(L.levels).toBe(5);
    const want: Array<[RegExp, RangeName]> = [
      [/direct map|slab object/, 'direct map'],
      [/kernel image/, 'kernel image'],
      [/module space/, 'modules'],
      [/vmalloc/, 'vmalloc'],
      [/vmemmap/, 'vmemmap'],
    ];
    const rows = d!.oracleJson<Array<{ what: string; address: string; paddr: string | null }>>('vtop.json');
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const r of rows) {
      expect(r.paddr, r.what).not.toBeNull();
      const w = want.find(([re]) => re.test(r.what));
      expect(w, r.what).toBeDefined();
      expect(`${r.what}: ${rangeOf(L, BigInt(r.address))?.name}`).toBe(`${r.what}: ${w![1]}`);
    }
    const sps = [...d!.oracle('bt-dstate.txt').matchAll(/^ *#\d+ \[([0-9a-f]{16})\]/gm)].map((m) => BigInt('0x' + m[1]));
    expect(sps.length).toBeGreaterThan(20);
    for (const sp of sps) expect(rangeOf(L, sp)?.name, sp.toString(16)).toBe('vmalloc');
    for (const v of [0x106n, 0xffffffffffffffdan, 0x7ffd12345678n, 0xffff000000000000n]) expect(rangeOf(L, v), `0x${v.toString(16)}`).toBeNull();
  });
});
