/**
 * bulk.wat against the JavaScript loops it stands in for, on real kernels' tables: the BTF record
 * scan and name indexes (every name of the kernel's BTF looked up, with and without a kind), and
 * the kallsyms name index (every symbol's name looked up); damaged tables fall back to the
 * JavaScript, which names the damage. Runs on the dumps the project carries (CI) and on every
 * dump of ../shared/dumps present.
 */
import { describe, expect, it } from 'vitest';
import { openDumpFile } from '../node';
import { allSharedDumps, sharedDump } from '../testing/dumps';
import { Btf, btfArenaBytes, type BtfKind } from './btf';
import { arenaOf, bulkAvailable, newArena } from './bulk';
import { KallsymsNameIndex } from './kallsyms';
import { SymbolTable } from './symbols';
import { addImageRegions } from './program';
import { outcomeOf } from '../testing/outcome';

const names = [...new Set([...allSharedDumps().map((d) => d.name), '6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr'])];
const dumps = names.map((n) => sharedDump(n)).filter((d) => d !== null);

/** The same data in an arena, as Program places the kernel's BTF. */
function inArena(data: Uint8Array): Uint8Array {
  const ar = newArena(btfArenaBytes(data.length))!;
  const view = ar.u8(ar.alloc(data.length)!, data.length);
  view.set(data);
  return view;
}

const errorOf = outcomeOf;

describe('bulk.wat', () => {
  it('compiles and runs here', () => {
    expect(bulkAvailable()).toBe(true);
  });

  it('ks_seqs: 1 for a table naming every entry once, 0 for a repeat or an entry out of range', () => {
    const num = 1000;
    const ar = newArena(8 * num + 65536)!;
    const at = ar.alloc(3 * num, 1)!;
    const seen = ar.alloc(num, 1)!;
    const t = ar.u8(at, 3 * num);
    const put = (k: number, x: number) => t.set([x >> 16, (x >> 8) & 0xff, x & 0xff], 3 * k);
    // a permutation with 3-byte values past 0xffff
    const perm = Array.from({ length: num }, (_, k) => (k * 7919) % num);
    perm.forEach((x, k) => put(k, x));
    expect(ar.fn.ks_seqs(at, num, seen)).toBe(1);
    expect(ar.fn.ks_seqs(at, num, seen)).toBe(1); // its scratch is cleared each call
    put(500, perm[499]);
    expect(ar.fn.ks_seqs(at, num, seen)).toBe(0);
    put(500, num);
    expect(ar.fn.ks_seqs(at, num, seen)).toBe(0);
    put(500, 0x10000 + perm[500]);
    expect(ar.fn.ks_seqs(at, num, seen)).toBe(0);
    put(500, perm[500]);
    expect(ar.fn.ks_seqs(at, num, seen)).toBe(1);
  });

  it('there are dumps to compare on', () => {
    expect(dumps.length).toBeGreaterThanOrEqual(2); // the project carries four
  });

  for (const d of dumps) {
    it(`${d.name}: the kernel's BTF is scanned and indexed by bulk.wat, with the JavaScript's records and answers`, () => {
      const prog = openDumpFile(d.file);
      const wasm = prog.btf as unknown as { data: Uint8Array; recOff: Uint32Array; recKind: Uint8Array; n: number; str(o: number): string };
      expect(arenaOf(wasm.recOff)).not.toBeNull(); // Program read it into an arena; the scan ran there
      const js = new Btf(wasm.data.slice()) as unknown as typeof wasm;
      expect(arenaOf(js.recOff)).toBeNull();
      expect(wasm.n).toBe(js.n);
      expect(Buffer.compare(Buffer.from(wasm.recOff.buffer, wasm.recOff.byteOffset, wasm.recOff.byteLength), Buffer.from(js.recOff.buffer, js.recOff.byteOffset, js.recOff.byteLength))).toBe(0);
      expect(Buffer.compare(Buffer.from(wasm.recKind), Buffer.from(js.recKind))).toBe(0);
      const all = new Set<string>();
      const dv = new DataView(js.data.buffer, js.data.byteOffset, js.data.byteLength);
      for (let i = 0; i < js.n; i++) {
        const no = dv.getUint32(js.recOff[i], true);
        if (no) all.add(js.str(no));
      }
      const a = prog.btf;
      const b = js as unknown as Btf;
      const kinds: Array<BtfKind | undefined> = [undefined, 'struct', 'union', 'typedef', 'enum', 'func', 'var', 'fwd'];
      const differ: string[] = [];
      for (const n of all) {
        if (a.findTypes(n).join() !== b.findTypes(n).join()) differ.push(`findTypes ${n}`);
        for (const k of kinds) if (a.findType(n, k) !== b.findType(n, k)) differ.push(`findType ${n} ${k}`);
      }
      // every enumerator by name (the enumerator index)
      let enumerators = 0;
      const big = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
      for (let i = 0; i < js.n; i++) {
        if (js.recKind[i] !== 6 && js.recKind[i] !== 19) continue;
        const t = b.type(i + 1);
        if (t.kind !== 'enum' && t.kind !== 'enum64') continue;
        for (const v of t.values) {
          enumerators++;
          if (big(a.enumerator(v.name)) !== big(b.enumerator(v.name))) differ.push(`enumerator ${v.name}`);
        }
      }
      expect(differ.slice(0, 5)).toEqual([]);
      expect(all.size).toBeGreaterThan(40000);
      expect(enumerators).toBeGreaterThan(10000);
      expect(arenaOf((prog.btf as unknown as { enumIndex: { slots: Int32Array } }).enumIndex.slots)).not.toBeNull();
    });

    it(`${d.name}: the kallsyms name index by bulk.wat gives every name the JavaScript's entries`, () => {
      const prog = openDumpFile(d.file);
      const p = prog as unknown as { mem: ConstructorParameters<typeof KallsymsNameIndex>[0]; info: ConstructorParameters<typeof KallsymsNameIndex>[1] };
      const wasm = new KallsymsNameIndex(p.mem, p.info, { hashOnly: true });
      const other = openDumpFile(d.file) as unknown as typeof p; // its own names, read without an arena
      const js = new KallsymsNameIndex(other.mem, other.info, { hashOnly: true, js: true });
      const w = wasm as unknown as { order: Uint32Array; at: Uint32Array };
      expect(arenaOf(w.order)).not.toBeNull();
      expect(arenaOf(w.at)).not.toBeNull();
      expect(arenaOf((js as unknown as { order: Uint32Array }).order)).toBeNull();
      let differ = 0;
      for (let i = 0; i < js.count; i++) {
        const n = js.name(i);
        if (wasm.name(i) !== n || wasm.indexes(n).join() !== js.indexes(n).join()) differ++;
      }
      expect(differ).toBe(0);
      expect(wasm.indexes('no_such_symbol_zz')).toEqual([]);

      // addresses, their order and the kernel image's range: an address table made by bulk.wat
      // in an arena against the JavaScript's
      const a = wasm.addresses();
      const b = js.addresses();
      expect(arenaOf(a)).not.toBeNull();
      expect(arenaOf(b)).toBeNull();
      expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(0);
      const ta = new SymbolTable();
      const tb = new SymbolTable();
      ta.setKernel(wasm, a);
      addImageRegions(ta, a);
      tb.setKernel(js, b);
      addImageRegions(tb, b);
      const hit = (t: SymbolTable, x: bigint) => {
        const h = t.lookup(x);
        return h ? `${h.sym.name}+${h.offset}` : '-';
      };
      // the same order found (u64_sorted), and the same kernel image region (u64_range)
      expect((ta as unknown as { korder: unknown }).korder === null).toBe((tb as unknown as { korder: unknown }).korder === null);
      expect(JSON.stringify((ta as unknown as { regions: unknown }).regions, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))).toBe(
        JSON.stringify((tb as unknown as { regions: unknown }).regions, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v)),
      );
      let lookups = 0;
      for (let i = 0; i < a.length; i += 7) {
        for (const x of [a[i], a[i] + 1n, a[i] - 1n]) {
          lookups++;
          if (hit(ta, x) !== hit(tb, x)) differ++;
        }
      }
      expect(differ).toBe(0);
      expect(lookups).toBeGreaterThan(30000);
    });
  }

  it('a damaged BTF record table fails as the JavaScript scan fails (the same error)', () => {
    const d = dumps[0];
    const data = (openDumpFile(d.file).btf as unknown as { data: Uint8Array }).data.slice();
    const hdrLen = new DataView(data.buffer).getUint32(4, true);
    const typeOff = new DataView(data.buffer).getUint32(8, true);
    // the 1000th record's kind set to 31 (no such kind)
    const probe = new Btf(data.slice()) as unknown as { recOff: Uint32Array };
    const off = probe.recOff[999];
    data[off + 7] = (data[off + 7] & 0xe0) | 31;
    const js = errorOf(() => new Btf(data.slice()));
    expect(js).toMatch(/^DumpError: BTF: unknown kind 31 for type 1000/);
    expect(errorOf(() => new Btf(inArena(data)))).toBe(js);
    // and cut inside a record
    const cut = data.slice(0, off + 5);
    new DataView(cut.buffer).setUint32(12, off + 5 - hdrLen - typeOff, true); // type_len to the cut
    new DataView(cut.buffer).setUint32(16, 0, true); // str_off
    new DataView(cut.buffer).setUint32(20, 0, true); // str_len
    expect(errorOf(() => new Btf(inArena(cut)))).toBe(errorOf(() => new Btf(cut.slice())));
  });
});
