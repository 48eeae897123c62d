import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON, crashSlubFailed } from '../testing/dumps';
import {
  listCaches, cacheUsage, findCache, cacheSlabs, slabObjectInfo, freelistMode, decodeFreePointer, swab64,
  readTracks, headFromCompoundWord, type SlabCache, type SlabObjects,
  SLAB_FPMODE_SAMPLES_KEY,
} from './slab';

/** drgn's kmem-S-drgn.json letters: A allocated, F free (slab freelist), C cpu-free (CPU freelist or sheaf), B free in a node barn's sheaf. */
function drgnStates(so: SlabObjects): string {
  return so.states.map((s, i) => (s === 'allocated' ? 'A' : s === 'cpu-free' ? 'C' : so.notes[i].includes('barn') ? 'B' : 'F')).join('');
}

describe('free pointer decoding (mm/slub.c freelist_ptr_decode)', () => {
  const c = { random: 0x1122334455667788n } as SlabCache;
  it('swab64', () => expect(swab64(0x0102030405060708n)).toBe(0x0807060504030201n));
  it('hardened with swab (5.7+) and without (older) and plain', () => {
    const addr = 0xffff888005ec8400n;
    const next = 0xffff888005ec8c00n;
    const stored = next ^ c.random! ^ swab64(addr);
    expect(decodeFreePointer('hardened-swab', c, addr, stored)).toBe(next);
    expect(decodeFreePointer('hardened', c, addr, next ^ c.random! ^ addr)).toBe(next);
    expect(decodeFreePointer('plain', c, addr, next)).toBe(next);
  });
});

describe('compound_head(): the tail word as a head pointer or (7.x compound_info) a mask', () => {
  const head = 0xfffffbf3c0048f00n;
  const tail = head + 3n * 64n;
  it('head | 1 (compound_head, and compound_info without a power-of-2 struct page)', () => {
    expect(headFromCompoundWord(tail, head | 1n, 64)).toBe(head);
    expect(headFromCompoundWord(0xffffea0000170040n, 0xffffea0000170001n, 64)).toBe(0xffffea0000170000n);
  });
  it('a mask: tail & info (values from 7.2-sysrq-kaslr: an order-2 kmalloc-1k slab)', () => {
    expect(headFromCompoundWord(0xfffffbf3c0048fc0n, 0xffffffffffffff01n, 64)).toBe(head);
  });
  it('not a tail, or nonsense: the page itself', () => {
    expect(headFromCompoundWord(tail, 0n, 64)).toBe(tail);
    expect(headFromCompoundWord(tail, 0x4141414141414141n, 64)).toBe(tail);
    expect(headFromCompoundWord(tail, 0xffffffffffffff01n, 72)).toBe(tail); // no mask form without a power-of-2 struct page
  });
});

// crash's kmem -s / kmem -S and drgn's slab_object_info on the same dumps are the reference
describe('SLUB analysis equals crash and drgn on every shared dump', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const prog = openDumpFile(d!.file);
      // the mode is decided from the data; these kernels swab (CONFIG_SLAB_FREELIST_HARDENED, 5.7+)
      expect(freelistMode(prog)).toBe('hardened-swab');
      expect(prog.recall(SLAB_FPMODE_SAMPLES_KEY)).toBeGreaterThanOrEqual(8); // decided from real freelists
      // kmem -s: every cache, every number
      const { caches, problems } = listCaches(prog);
      expect(problems).toEqual([]);
      if (crashSlubFailed(d!)) {
        // crash has no SLUB support on this kernel (crashSlubFailed): drgn is the oracle. kmem -s:
        // every cache, in list order, with drgn's counts over all possible CPUs
        const drgn = d!.oracleJson('drgn.json').slab_caches as any[];
        expect(drgn.length).toBeGreaterThan(100);
        const got = caches.map((c) => {
          const u = cacheUsage(prog, c);
          expect(u.problems, c.name).toEqual([]);
          return { cache: '0x' + c.address.toString(16), name: u.name, objsize: u.objsize, allocated: u.allocated, total: u.total, slabs: u.slabs };
        });
        expect(got).toEqual(drgn.map((x) => ({ cache: x.address, name: x.name, objsize: x.object_size, allocated: x.allocated_all_cpus, total: x.node_total_objects, slabs: x.node_nr_slabs })));
        // kmem -S with a page walk: every slab drgn lists, every object's state (A/F/C/B)
        const S = d!.oracleJson<Record<string, any>>('kmem-S-drgn.json');
        for (const [cname, v] of Object.entries(S)) {
          const c = findCache(prog, cname)!;
          const l = cacheSlabs(prog, c, { walkPages: true });
          const all = new Map<string, string>();
          const add = (so: SlabObjects) => all.set('0x' + so.slab.address.toString(16), drgnStates(so));
          for (const cp of l.cpus) {
            if (cp.slab) add(cp.slab);
            cp.partial.forEach(add);
          }
          l.nodes.forEach((n) => n.partial.forEach(add));
          l.untracked!.forEach(add);
          expect(all.size, cname).toBe(v.slabs.length);
          for (const s of v.slabs) expect(`${cname} ${s.slab} ${all.get(s.slab)}`).toBe(`${cname} ${s.slab} ${s.states}`);
        }
      } else {
      const want = d!.oracleJson<any[]>('kmem-s.json');
      const got = caches.map((c) => {
        const u = cacheUsage(prog, c);
        return { cache: '0x' + c.address.toString(16), name: u.name, objsize: u.objsize, allocated: u.allocated, total: u.total, slabs: u.slabs, ssize: u.ssize };
      });
      expect(got).toEqual(want);
      // kmem -S: every object crash lists, by state
      const S = d!.oracleJson<Record<string, any>>('kmem-S.json');
      for (const [cname, v] of Object.entries(S)) {
        const c = findCache(prog, cname)!;
        const ours = new Map<string, string>();
        const l = cacheSlabs(prog, c);
        const add = (so: { objects: bigint[]; states: string[] }) => so.objects.forEach((o, i) => ours.set('0x' + (o - BigInt(c.redLeftPad)).toString(16), so.states[i]));
        for (const cp of l.cpus) {
          if (cp.slab) add(cp.slab);
          cp.partial.forEach(add);
        }
        l.nodes.forEach((n) => n.partial.forEach(add));
        for (const s of v.slabs) for (const o of s.objects) expect(`${cname} ${o.addr} ${ours.get(o.addr)}`).toBe(`${cname} ${o.addr} ${o.state}`);
      }
      }
      // drgn's slab_object_info (object after red_left_pad, like the kernel) with all CPUs' freelists
      if (d!.hasOracle('drgn.json')) {
        for (const x of d!.oracleJson('drgn.json').slab_object_info as any[]) {
          const i = slabObjectInfo(prog, BigInt(x.address));
          if (!x.slab) {
            expect(i, x.address).toBeNull();
            continue;
          }
          expect({ a: x.address, cache: i?.cache.name, slab: i && '0x' + i.slab.address.toString(16), object: i && '0x' + i.object.toString(16), offset: i?.offset, allocated: i?.state === 'allocated' }).toEqual({
            a: x.address, cache: x.cache, slab: x.slab_addr, object: x.object, offset: x.offset, allocated: x.allocated_all_cpus,
          });
        }
      }
    }, 120_000);
  }

  // drgn walks every struct page: the full slabs crash cannot list
  const dbg = sharedDump('6.1-skb-uaf-0x106');
  it.skipIf(!dbg)('kmem -S with a page walk finds every slab drgn lists', () => {
    const prog = openDumpFile(dbg!.file);
    const drgn = dbg!.oracleJson<Record<string, any>>('kmem-S-drgn.json');
    for (const [cname, v] of Object.entries(drgn)) {
      const c = findCache(prog, cname)!;
      const l = cacheSlabs(prog, c, { walkPages: true });
      const all = new Map<string, string>();
      const add = (so: { slab: { address: bigint }; states: string[] }) => all.set('0x' + so.slab.address.toString(16), so.states.map((s) => (s === 'allocated' ? 'A' : 'F')).join(''));
      for (const cp of l.cpus) {
        if (cp.slab) add(cp.slab);
        cp.partial.forEach(add);
      }
      l.nodes.forEach((n) => n.partial.forEach(add));
      l.untracked!.forEach(add);
      expect(all.size, cname).toBe(v.slabs.length);
      // drgn: A allocated, F free, C cpu-free (only CPU-freelist ones); compare allocated vs not
      for (const s of v.slabs) expect(`${cname} ${s.slab} ${all.get(s.slab)}`).toBe(`${cname} ${s.slab} ${s.states.replace(/[CB]/g, 'F')}`);
    }
  }, 120_000);

  // slub_debug=U: the tracks name what the kernel's "Poison overwritten" report names
  const sd = sharedDump('6.1-skb-uaf-0x106-slubdebug');
  it.skipIf(!sd)('slub_debug tracks of the poisoned object name skb_uaf_init and the stack depot stacks', () => {
    const prog = openDumpFile(sd!.file);
    const i = slabObjectInfo(prog, 0xffff88800664e6c8n)!;
    expect(i.cache.name).toBe('kmalloc-1k');
    expect(i.object).toBe(0xffff88800664e400n); // the kernel's object (after the 1024-byte red zone)
    expect(i.slot).toBe(0xffff88800664e000n); // crash's object address
    expect(i.offset).toBe(0x2c8);
    const t = readTracks(prog, i.cache, i.object)!;
    const sym = (a: bigint) => prog.symbols.lookup(a)!;
    expect(t.map((x) => [x.kind, x.cpu, x.pid])).toEqual([['alloc', 1, 119], ['free', 1, 119]]);
    expect(Number(t[0].addr - sym(t[0].addr).sym.address)).toBe(0x4d);
    expect(Number(t[1].addr - sym(t[1].addr).sym.address)).toBe(0x79);
    expect(sym(t[0].addr).sym.module).toBe('skb_uaf');
    const names = (s: bigint[]) => s.map((a) => sym(a).sym.name);
    expect(names(t[0].stack)).toEqual(expect.arrayContaining(['kmalloc_trace', 'do_one_initcall', 'do_init_module', '__do_sys_finit_module', 'do_syscall_64']));
    expect(names(t[1].stack)[0]).toBe('do_one_initcall');
  }, 120_000);
});
