import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync, mkdirSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseBtf, parseBtfHeader, btfTotalSize, Btf, type BtfComposite, type BtfEnum, type BtfFuncProto } from './btf';
import { formatStructLayout } from './btf-format';
import { sharedDump, SKIP_REASON } from '../testing/dumps';

// ------------------------------------------------------------------ a tiny BTF writer (unit tests only)

class BtfWriter {
  private strs: string[] = [''];
  private strOff = new Map<string, number>([['', 0]]);
  private strLen = 1;
  private recs: number[][] = [];
  constructor(private readonly strBase = 0, private readonly idBase = 1, private readonly leadingNul = true) {
    if (!leadingNul) {
      this.strs = [];
      this.strOff = new Map();
      this.strLen = 0;
    }
  }
  s(name: string): number {
    if (name === '' && this.leadingNul) return 0;
    let o = this.strOff.get(name);
    if (o === undefined) {
      o = this.strBase + this.strLen;
      this.strOff.set(name, o);
      this.strs.push(name);
      this.strLen += name.length + 1;
    }
    return o;
  }
  add(words: number[]): number {
    this.recs.push(words);
    return this.idBase + this.recs.length - 1;
  }
  info(kind: number, vlen = 0, kflag = false): number {
    return ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
  }
  int(name: string, size: number, enc: number, bits = size * 8): number {
    return this.add([this.s(name), this.info(1), size, (enc << 24) | bits]);
  }
  ref(kind: number, name: string, type: number): number {
    return this.add([this.s(name), this.info(kind), type]);
  }
  array(type: number, n: number, index: number): number {
    return this.add([0, this.info(3), 0, type, index, n]);
  }
  comp(union: boolean, name: string, size: number, members: [string, number, number, number?][]): number {
    const kflag = members.some((m) => m[3]);
    const w = [this.s(name), this.info(union ? 5 : 4, members.length, kflag), size];
    for (const [n, t, bit, bs] of members) w.push(this.s(n), t, kflag ? ((bs ?? 0) << 24) | bit : bit);
    return this.add(w);
  }
  enum(name: string, size: number, signed: boolean, vals: [string, number][]): number {
    const w = [this.s(name), this.info(6, vals.length, signed), size];
    for (const [n, v] of vals) w.push(this.s(n), v >>> 0);
    return this.add(w);
  }
  enum64(name: string, signed: boolean, vals: [string, bigint][]): number {
    const w = [this.s(name), this.info(19, vals.length, signed), 8];
    for (const [n, v] of vals) {
      const u = BigInt.asUintN(64, v);
      w.push(this.s(n), Number(u & 0xffffffffn), Number(u >> 32n));
    }
    return this.add(w);
  }
  proto(ret: number, params: [string, number][]): number {
    const w = [0, this.info(13, params.length), ret];
    for (const [n, t] of params) w.push(this.s(n), t);
    return this.add(w);
  }
  build(hdrLen = 24): Uint8Array {
    const types = this.recs.flat();
    const typeLen = types.length * 4;
    const strBytes = new TextEncoder().encode(this.strs.map((x) => x + '\0').join(''));
    const out = new Uint8Array(hdrLen + typeLen + strBytes.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    dv.setUint32(4, hdrLen, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true);
    dv.setUint32(20, strBytes.length, true);
    for (let i = 24; i < hdrLen; i += 4) dv.setUint32(i, 0xdeadbeef, true); // extra header fields
    types.forEach((v, i) => dv.setUint32(hdrLen + i * 4, v >>> 0, true));
    out.set(strBytes, hdrLen + typeLen);
    return out;
  }
}

function tinyBtf(hdrLen = 24) {
  const w = new BtfWriter();
  const ids: Record<string, number> = {};
  ids.int = w.int('int', 4, 1);
  ids.uint = w.int('unsigned int', 4, 0);
  ids.ulong = w.int('long unsigned int', 8, 0);
  ids.char = w.int('char', 1, 2);
  ids.bool = w.int('_Bool', 1, 4);
  ids.fwdNode = w.add([w.s('node'), w.info(7), 0]); // struct node; (forward)
  ids.node = w.comp(false, 'node', 16, [
    ['next', 0, 0],
    ['val', ids.int, 64],
  ]);
  ids.nodePtr = w.ref(2, '', ids.node);
  ids.cnode = w.ref(10, '', ids.node); // const struct node
  ids.cnodePtr = w.ref(2, '', ids.cnode);
  ids.charArr = w.array(ids.char, 16, ids.int);
  ids.zeroArr = w.array(ids.ulong, 0, ids.int);
  ids.proto = w.proto(0, [['', ids.nodePtr]]);
  ids.protoPtr = w.ref(2, '', ids.proto);
  ids.proto2 = w.proto(ids.int, [['a', ids.int], ['', 0]]); // variadic
  ids.proto2Ptr = w.ref(2, '', ids.proto2);
  ids.u32 = w.ref(8, 'u32', ids.uint);
  ids.vu32 = w.ref(9, '', ids.u32);
  ids.anonStruct = w.comp(false, '', 16, [
    ['a', ids.nodePtr, 0],
    ['b', ids.u32, 64],
  ]);
  ids.anonUnion = w.comp(true, '', 16, [
    ['', ids.anonStruct, 0],
    ['lst', ids.nodePtr, 0],
  ]);
  ids.named = w.comp(false, '', 8, [
    ['x', ids.int, 0],
    ['y', ids.int, 32],
  ]);
  ids.color = w.enum('color', 4, false, [['RED', 0], ['GREEN', 1], ['BLUE', 4]]);
  ids.sgn = w.enum('sgn', 4, true, [['NEG', -1], ['POS', 1]]);
  ids.big = w.enum64('big', false, [['HUGE', 0xffff_0000_0000_0001n]]);
  ids.anonEnum = w.enum('', 4, false, [['AE_A', 0], ['AE_B', 1]]);
  ids.flt = w.add([w.s('double'), w.info(16), 8]);
  ids.func = w.ref(12, 'do_thing', ids.proto);
  ids.bfArr = w.array(ids.named, 2, ids.int);
  ids.top = w.comp(false, 'top', 104, [
    ['', ids.anonUnion, 0],
    ['name', ids.charArr, 128],
    ['flags', ids.uint, 256, 3],
    ['more', ids.uint, 259, 5],
    ['vol', ids.vu32, 288],
    ['cb', ids.protoPtr, 320],
    ['vf', ids.proto2Ptr, 384],
    ['col', ids.color, 448],
    ['pt', ids.named, 480],
    ['pts', ids.bfArr, 544],
    ['st', ids.anonEnum, 672, 8],
    ['cn', ids.cnodePtr, 704],
    ['tail', ids.zeroArr, 832],
  ]);
  ids.ut = w.comp(true, 'ut', 8, [['i', ids.int, 0], ['l', ids.ulong, 0]]);
  ids.tdTop = w.ref(8, 'top_t', ids.top);
  ids.var = w.add([w.s('some_var'), w.info(14), ids.int, 1]);
  ids.datasec = w.add([w.s('.data'), w.info(15, 1), 4, ids.var, 0, 4]);
  ids.declTag = w.add([w.s('tag'), w.info(17), ids.top, 0xffffffff]);
  ids.typeTag = w.add([w.s('user'), w.info(18), ids.int]);
  ids.restrict = w.ref(11, '', ids.nodePtr);
  return { data: w.build(hdrLen), ids };
}

describe('BTF parser (hand-built)', () => {
  for (const hdrLen of [24, 32]) {
    it(`parses every kind (hdr_len ${hdrLen})`, () => {
      const { data, ids } = tinyBtf(hdrLen);
      const h = parseBtfHeader(data);
      expect(h.hdrLen).toBe(hdrLen);
      expect(btfTotalSize(h)).toBe(data.length);
      const b = parseBtf(data);
      expect(b.count).toBe(ids.restrict + 1);
      expect(b.type(ids.int)).toMatchObject({ kind: 'int', size: 4, signed: true, bits: 32 });
      expect(b.type(ids.char)).toMatchObject({ kind: 'int', char: true, signed: false });
      expect(b.type(ids.bool)).toMatchObject({ kind: 'int', bool: true });
      expect(b.type(ids.fwdNode)).toMatchObject({ kind: 'fwd', name: 'node', union: false });
      expect(b.type(ids.charArr)).toMatchObject({ kind: 'array', nelems: 16, type: ids.char });
      const top = b.type(ids.top) as BtfComposite;
      expect(top.members[2]).toEqual({ name: 'flags', type: ids.uint, bitOffset: 256, bitSize: 3 });
      expect(top.members[3]).toEqual({ name: 'more', type: ids.uint, bitOffset: 259, bitSize: 5 });
      expect((b.type(ids.sgn) as BtfEnum).values).toEqual([{ name: 'NEG', value: -1n }, { name: 'POS', value: 1n }]);
      expect((b.type(ids.big) as BtfEnum).values[0].value).toBe(0xffff_0000_0000_0001n);
      expect((b.type(ids.proto2) as BtfFuncProto).variadic).toBe(true);
      expect(b.type(ids.flt)).toMatchObject({ kind: 'float', size: 8 });
      expect(b.type(ids.var)).toMatchObject({ kind: 'var', name: 'some_var', linkage: 1 });
      expect(b.type(ids.datasec)).toMatchObject({ kind: 'datasec', vars: [{ type: ids.var, offset: 0, size: 4 }] });
      expect(b.type(ids.declTag)).toMatchObject({ kind: 'decl_tag', componentIdx: -1 });
      expect(b.type(ids.typeTag)).toMatchObject({ kind: 'type_tag', type: ids.int });
      expect(b.type(ids.func)).toMatchObject({ kind: 'func', name: 'do_thing' });
    });
  }

  it('rejects bad input with a DumpError', () => {
    const { data } = tinyBtf();
    expect(() => parseBtf(data.subarray(0, 10))).toThrow(/too short/);
    const bad = data.slice();
    bad[0] = 0;
    expect(() => parseBtf(bad)).toThrow(/magic/);
    expect(() => parseBtf(data.subarray(0, data.length - 5))).toThrow(/past the end/);
  });

  it('type model: findType, resolve, sizeof, names and declarations', () => {
    const { data, ids } = tinyBtf();
    const b = parseBtf(data);
    expect(b.findType('node')).toBe(ids.node); // complete definition over the forward one
    expect(b.findType('struct node')).toBe(ids.node);
    expect(b.findType('union node')).toBeNull();
    expect(b.findType('enum color')).toBe(ids.color);
    expect(b.findType('big', 'enum')).toBe(ids.big);
    expect(b.findType('top_t')).toBe(ids.tdTop);
    expect(b.findType('nope')).toBeNull();
    expect(b.resolve(ids.vu32)).toBe(ids.uint);
    expect(b.resolve(ids.tdTop)).toBe(ids.top);
    expect(b.sizeof(ids.tdTop)).toBe(104);
    expect(b.sizeof(ids.charArr)).toBe(16);
    expect(b.sizeof(ids.bfArr)).toBe(16);
    expect(b.sizeof(ids.nodePtr)).toBe(8);
    expect(b.sizeof(ids.color)).toBe(4);
    expect(b.typeName(ids.nodePtr)).toBe('struct node *');
    expect(b.typeName(ids.cnodePtr)).toBe('const struct node *');
    expect(b.typeName(ids.charArr)).toBe('char [16]');
    expect(b.typeName(ids.protoPtr)).toBe('void (*)(struct node *)');
    expect(b.typeName(ids.proto2Ptr)).toBe('int (*)(int, ...)');
    expect(b.typeName(ids.anonEnum)).toBe('enum {AE_A, AE_B}');
    expect(b.typeName(ids.anonUnion)).toBe('union {...}');
    expect(b.typeName(ids.ulong)).toBe('unsigned long');
    expect(b.typeName(ids.restrict)).toBe('struct node *restrict');
    expect(b.declaration(ids.charArr, 'name')).toBe('char name[16]');
    expect(b.declaration(ids.protoPtr, 'cb')).toBe('void (*cb)(struct node *)');
    expect(b.declaration(ids.uint, 'flags', { bitSize: 3 })).toBe('unsigned int flags : 3');
    expect(b.declaration(ids.zeroArr, 'tail', { flexible: true })).toBe('unsigned long tail[]');
    expect(b.declaration(ids.zeroArr, 'tail')).toBe('unsigned long tail[0]');
    expect(b.declaration(ids.func, '')).toBe('void do_thing(struct node *)');
    expect(b.enumName(ids.color, 4)).toBe('BLUE');
    expect(b.enumName(ids.sgn, 0xffffffffn)).toBe('NEG');
    expect(b.enumName(ids.sgn, -1)).toBe('NEG');
    expect(b.enumName(ids.color, 3)).toBeNull();
    expect(b.enumFlags(ids.color, 5)).toEqual(['GREEN', 'BLUE']);
    expect(b.enumFlags(ids.color, 0x41)).toEqual(['GREEN', '0x40']);
    expect(b.enumerator('HUGE')).toEqual({ type: ids.big, value: 0xffff_0000_0000_0001n });
    expect(b.structNames()).toEqual(['node', 'top', 'ut']);
  });

  it('members, memberPath, memberAt and flatten through anonymous members', () => {
    const { data, ids } = tinyBtf();
    const b = parseBtf(data);
    expect(b.memberPath(ids.top, 'a')).toMatchObject({ offset: 0, type: ids.nodePtr, size: 8 });
    expect(b.memberPath(ids.top, 'b')).toMatchObject({ offset: 8, type: ids.u32 });
    expect(b.memberPath(ids.top, 'lst')).toMatchObject({ offset: 0 });
    expect(b.memberPath(ids.top, 'more')).toMatchObject({ offset: 32, bitOffset: 259, bitSize: 5 });
    expect(b.memberPath(ids.top, 'pts[1].y')).toMatchObject({ offset: 80, path: 'pts[1].y' });
    expect(b.memberPath(ids.top, 'pts[2]')).toBeNull();
    expect(b.memberPath(ids.top, 'pt.z')).toBeNull();
    expect(b.memberPath(ids.tdTop, 'name[3]')).toMatchObject({ offset: 19, type: ids.char });
    expect(b.memberAt(ids.top, 10)).toMatchObject({ path: 'b', offset: 8, delta: 2 });
    expect(b.memberAt(ids.top, 12)).toBeNull(); // padding in anonymous levels only
    expect(b.memberAt(ids.top, 20)).toMatchObject({ path: 'name[4]', offset: 20 });
    expect(b.memberAt(ids.top, 32)).toMatchObject({ path: 'flags', bitSize: 3, offset: 32, bitOffset: 256 });
    expect(b.memberAt(ids.top, 33)).toBeNull(); // padding after the bitfields
    expect(b.memberAt(ids.top, 76)).toMatchObject({ path: 'pts[1].x', offset: 76 });
    expect(b.memberAt(ids.top, 34)).toBeNull(); // top-level padding after the bitfields
    expect(b.memberAt(ids.top, 104)).toBeNull();
    const f = b.flatten(ids.top);
    expect(f.name).toBe('struct top');
    expect(f.members.map((m) => m.name)).toEqual(['a', 'b', 'lst', 'name', 'flags', 'more', 'vol', 'cb', 'vf', 'col', 'pt', 'pts', 'st', 'cn', 'tail']);
    expect(f.members.find((m) => m.name === 'more')).toEqual({ name: 'more', path: 'more', type: 'unsigned int', offset: 32, size: 4, bit_offset: 3, bit_size: 5 });
    expect(f.members.find((m) => m.name === 'b')?.path).toBe('(union).(struct).b');
    expect(f.members.find((m) => m.name === 'tail')?.type).toBe('unsigned long []');
    expect(formatStructLayout(b, ids.top)).toBe(
      [
        'struct top {',
        '        union {',
        '            struct {',
        '    [0]         struct node *a;',
        '    [8]         u32 b;',
        '            };',
        '    [0]     struct node *lst;',
        '        };',
        '   [16] char name[16];',
        '   [32] unsigned int flags : 3;',
        '   [32] unsigned int more : 5;',
        '   [36] volatile u32 vol;',
        '   [40] void (*cb)(struct node *);',
        '   [48] int (*vf)(int, ...);',
        '   [56] enum color col;',
        '        struct {',
        '            int x;',
        '            int y;',
        '   [60] } pt;',
        '        struct {',
        '            int x;',
        '            int y;',
        '   [68] } pts[2];',
        '   [84] enum {AE_A, AE_B} st : 8;',
        '   [88] const struct node *cn;',
        '  [104] unsigned long tail[];',
        '}',
        'SIZE: 104',
      ].join('\n'),
    );
    expect(b.flatten(ids.top, { all: true }).members.map((m) => m.name)).toContain('pts.y');
  });

  it('split BTF continues ids and string offsets of its base', () => {
    const { data, ids } = tinyBtf();
    const base = parseBtf(data);
    const w = new BtfWriter(base.strEnd, base.count, false);
    const mod = w.comp(false, 'mod_thing', 24, [
      ['owner', ids.nodePtr, 0],
      ['name', ids.charArr, 64],
    ]);
    const modPtr = w.ref(2, '', mod);
    const split = parseBtf(w.build(), base);
    expect(split.startId).toBe(base.count);
    expect(mod).toBe(base.count);
    expect(split.count).toBe(base.count + 2);
    expect(split.findType('mod_thing')).toBe(mod);
    expect(split.findType('node')).toBe(ids.node);
    expect(split.typeName(modPtr)).toBe('struct mod_thing *');
    expect(split.typeName(ids.charArr)).toBe('char [16]');
    expect(split.memberPath(mod, 'name')).toMatchObject({ offset: 8, size: 16 });
    expect(split.structNames()).toContain('mod_thing');
    expect(split.structNames()).toContain('node');
  });
});

// ------------------------------------------------------------------ this machine's kernel BTF

const SYS_BTF = '/sys/kernel/btf/vmlinux';
const hasSysBtf = existsSync(SYS_BTF);

describe.skipIf(!hasSysBtf)(`local kernel BTF (${SYS_BTF}${hasSysBtf ? '' : ' absent'})`, () => {
  let btf: Btf;
  let data: Uint8Array;
  beforeAll(() => {
    data = new Uint8Array(readFileSync(SYS_BTF));
  });

  // (speed is measured by the benchmarks, not asserted here: a loaded CI machine is no clock)
  it('parses ~100k types', () => {
    btf = parseBtf(data);
    const id = btf.findType('task_struct');
    expect(id).not.toBeNull();
    expect(btf.count).toBeGreaterThan(50_000);
  });

  it('decodes every type and names it', () => {
    btf ??= parseBtf(data);
    const kinds = new Set<string>();
    for (let id = 1; id < btf.count; id++) {
      const t = btf.type(id);
      kinds.add(t.kind);
      if (t.kind !== 'func' && t.kind !== 'datasec' && t.kind !== 'var' && t.kind !== 'decl_tag') btf.typeName(id);
      btf.sizeof(id);
    }
    for (const k of ['int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const', 'func', 'func_proto', 'var', 'datasec'])
      expect(kinds.has(k), k).toBe(true);
  });

  it('answers the common questions about sk_buff', () => {
    btf ??= parseBtf(data);
    const skb = btf.findType('sk_buff')!;
    expect(btf.kind(skb)).toBe('struct');
    expect(btf.memberPath(skb, 'next')).toMatchObject({ offset: 0 });
    expect(btf.typeName(btf.memberPath(skb, 'next')!.type)).toBe('struct sk_buff *');
    expect(btf.memberPath(skb, 'cb')!.size).toBe(48);
    const shinfo = btf.findType('struct skb_shared_info')!;
    const fl = btf.memberPath(shinfo, 'frag_list')!;
    expect(btf.memberAt(shinfo, fl.offset + 3)).toMatchObject({ path: 'frag_list', offset: fl.offset, delta: 3 });
    const frags = btf.memberPath(shinfo, 'frags')!;
    const esz = btf.sizeof(btf.type(btf.resolve(frags.type)).kind === 'array' ? (btf.type(btf.resolve(frags.type)) as any).type : 0);
    expect(btf.memberAt(shinfo, frags.offset + 2 * esz)!.path).toMatch(/^frags\[2\]\./);
    const list = btf.findType('list_head')!;
    expect(btf.declaration(btf.members(list)[0].type, 'next')).toBe('struct list_head *next');
    // every struct's flattened members stay inside the struct
    let n = 0;
    for (const s of btf.structs()) {
      if (n++ > 5000) break;
      const ms = btf.flatten(s.id).members;
      const flex = ms.filter((m) => m.type.endsWith('[]')).map((m) => m.name + '.');
      for (const m of ms) {
        if (flex.some((f) => m.name.startsWith(f))) continue; // inside a flexible array's element 0
        expect(m.offset + (m.type.endsWith('[]') ? 0 : m.bit_size ? 0 : m.size), `${s.name}.${m.name}`).toBeLessThanOrEqual(s.size);
      }
    }
  });
});

// ------------------------------------------------------------------ the 6.1 dumps' BTF vs crash

/**
 * Dev-only: the BTF of the 6.1 kernel, cut from the raw ELF vmcore. The kernel image is physically
 * contiguous, so vmlinux's .BTF is contiguous in the file: find the header (9f eb 01 00, hdr_len
 * 0x18) and take hdr_len + str_off + str_len bytes. Several candidates exist (module BTF, stale
 * copies); the largest that parses and defines sk_buff is vmlinux's. Cached in tmpdir.
 */
function extract61Btf(): { vmlinux: Uint8Array; modules: Uint8Array[] } | null {
  const dump = sharedDump('6.1-sysrq-kaslr');
  if (!dump) return null;
  const cacheDir = join(tmpdir(), 'vmcore-workbench-cache');
  mkdirSync(cacheDir, { recursive: true });
  const cache = join(cacheDir, 'btf-6.1-sysrq-kaslr.json');
  if (existsSync(cache)) {
    const c = JSON.parse(readFileSync(cache, 'utf8')) as { vmlinux: string; modules: string[] };
    return { vmlinux: Buffer.from(c.vmlinux, 'base64'), modules: c.modules.map((m) => Buffer.from(m, 'base64')) };
  }
  const fd = openSync(dump.file, 'r');
  try {
    const size = fstatSync(fd).size;
    const magic = Buffer.from([0x9f, 0xeb, 0x01, 0x00, 0x18, 0x00, 0x00, 0x00]);
    const chunk = Buffer.alloc(64 << 20);
    const hits: number[] = [];
    for (let pos = 0; pos < size; pos += chunk.length - 8) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      let i = chunk.subarray(0, n).indexOf(magic);
      while (i >= 0) {
        if (!hits.includes(pos + i)) hits.push(pos + i);
        i = chunk.subarray(0, n).indexOf(magic, i + 1);
      }
      if (n < chunk.length) break;
    }
    const blobs: Uint8Array[] = [];
    for (const at of hits) {
      const hb = Buffer.alloc(24);
      readSync(fd, hb, 0, 24, at);
      try {
        const total = btfTotalSize(parseBtfHeader(new Uint8Array(hb.buffer, hb.byteOffset, 24).slice()));
        if (total > 64 << 20) continue;
        const b = Buffer.alloc(total);
        readSync(fd, b, 0, total, at);
        blobs.push(new Uint8Array(b));
      } catch {
        /* not a header */
      }
    }
    let vmlinux: Uint8Array | null = null;
    for (const b of blobs.sort((x, y) => y.length - x.length)) {
      try {
        if (parseBtf(b).findType('sk_buff') !== null) { vmlinux = b; break; }
      } catch { /* not BTF */ }
    }
    if (!vmlinux) return null;
    const base = parseBtf(vmlinux);
    const btfStructs = base.structNames().length;
    const modules: Uint8Array[] = [];
    for (const b of blobs) {
      if (b === vmlinux || b.length === vmlinux.length) continue;
      try {
        const s = parseBtf(b, base);
        if (s.structNames().length > btfStructs) modules.push(b);
      } catch { /* not split BTF of this base */ }
    }
    writeFileSync(cache, JSON.stringify({
      vmlinux: Buffer.from(vmlinux).toString('base64'),
      modules: modules.map((m) => Buffer.from(m).toString('base64')),
    }));
    return { vmlinux, modules };
  } finally {
    closeSync(fd);
  }
}

interface OracleMember { name: string; path: string; offset: number; type: string; bits?: number }
interface OracleEntry { query: string; type: string | null; kind?: string; size?: number; members?: OracleMember[]; error?: string }

const dump61 = sharedDump('6.1-sysrq-kaslr');

describe.skipIf(!dump61)(`6.1 kernel BTF from the dump vs crash${dump61 ? '' : ` (${SKIP_REASON})`}`, () => {
  let btf: Btf;
  let modules: Uint8Array[] = [];
  let oracle: OracleEntry[];
  let oracleText: Map<string, string>;
  beforeAll(() => {
    const x = extract61Btf();
    if (!x) throw new Error('no BTF found in the 6.1-sysrq-kaslr vmcore');
    btf = parseBtf(x.vmlinux);
    modules = x.modules;
    oracle = dump61!.oracleJson<OracleEntry[]>('struct-offsets.json');
    oracleText = new Map();
    for (const block of dump61!.oracle('struct-offsets.txt').split(/^crash> /m).slice(1)) {
      const nl = block.indexOf('\n');
      const q = block.slice(0, nl).replace(/^struct -o /, '').trim();
      oracleText.set(q, block.slice(nl + 1).replace(/\s+$/, ''));
    }
  }, 600_000);

  it('finds the vmlinux BTF and a module split BTF on top of it', () => {
    expect(btf.count).toBeGreaterThan(50_000);
    expect(btf.findType('sk_buff')).not.toBeNull();
    expect(modules.length).toBeGreaterThan(0);
    for (const m of modules) {
      const s = parseBtf(m, btf);
      expect(s.startId).toBe(btf.count);
      for (let id = s.startId; id < s.count; id++) {
        const t = s.type(id);
        if (t.kind === 'struct' || t.kind === 'union') {
          for (const mm of t.members) expect(() => s.typeName(mm.type)).not.toThrow();
        }
      }
    }
    // qemu_fw_cfg's module BTF: its struct points into vmlinux types
    const fw = modules.map((m) => parseBtf(m, btf)).find((s) => s.findType('fw_cfg_sysfs_entry') !== null);
    expect(fw).toBeDefined();
    const id = fw!.findType('fw_cfg_sysfs_entry')!;
    expect(id).toBeGreaterThanOrEqual(btf.count);
    expect(fw!.flatten(id).members.some((m) => m.type === 'struct kobject')).toBe(true);
    expect(fw!.findType('list_head')).toBe(btf.findType('list_head'));
  });

  it('flatten matches crash struct -o (struct-offsets.json) for every type', () => {
    const problems: string[] = [];
    for (const e of oracle) {
      const id = btf.findType(e.query);
      if (e.error) {
        if (id !== null && btf.isComposite(id)) problems.push(`${e.query}: crash says ${e.error}, we found it`);
        continue;
      }
      if (id === null) { problems.push(`${e.query}: not found`); continue; }
      const f = btf.flatten(id);
      if (f.name !== e.type) problems.push(`${e.query}: name ${f.name} != ${e.type}`);
      if (f.size !== e.size) problems.push(`${e.query}: size ${f.size} != ${e.size}`);
      const ours = f.members.map((m) => ({ name: m.name, path: m.path, offset: m.offset, type: m.type, ...(m.bit_size ? { bits: m.bit_size } : {}) }));
      const theirs = e.members!;
      if (ours.length !== theirs.length) problems.push(`${e.query}: ${ours.length} members != ${theirs.length}`);
      for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
        const a = JSON.stringify(ours[i]), b = JSON.stringify(theirs[i]);
        if (a !== b) { problems.push(`${e.query}[${i}]: ${a} != ${b}`); break; }
      }
      // sizes: crash's member size is the size of its type
      for (const m of f.members) {
        if (m.type.endsWith('*')) expect(m.size).toBe(8);
      }
    }
    expect(problems).toEqual([]);
  });

  it('formatStructLayout matches crash struct -o text line by line for every type', () => {
    const problems: string[] = [];
    for (const [q, text] of oracleText) {
      const id = btf.findType(q);
      if (text.startsWith('struct: invalid data structure reference')) {
        if (id !== null && btf.isComposite(id)) problems.push(`${q}: found, crash did not`);
        continue;
      }
      if (id === null) { problems.push(`${q}: not found`); continue; }
      const ours = formatStructLayout(btf, id, { offsets: true }).split('\n');
      const theirs = text.split('\n');
      for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
        if (ours[i] !== theirs[i]) { problems.push(`${q} line ${i + 1}:\n  ours:  ${ours[i]}\n  crash: ${theirs[i]}`); break; }
      }
    }
    expect(problems.join('\n')).toBe('');
  });

  it('struct -xo skb_shared_info matches incident.txt', () => {
    const skbDump = sharedDump('6.1-skb-uaf-0x106');
    if (!skbDump?.hasOracle('incident.txt')) return;
    const inc = skbDump.oracle('incident.txt');
    const start = inc.indexOf('crash> struct skb_shared_info -xo\n');
    expect(start).toBeGreaterThanOrEqual(0);
    const block = inc.slice(start).split('\n').slice(1);
    const end = block.findIndex((l) => l.startsWith('SIZE:'));
    const theirs = block.slice(0, end + 1).join('\n');
    const ours = formatStructLayout(btf, btf.findType('skb_shared_info')!, { hex: true });
    expect(ours).toBe(theirs);
  });

  it('memberAt and memberPath agree with crash offsets', () => {
    const skb = btf.findType('sk_buff')!;
    expect(btf.memberPath(skb, 'next')).toMatchObject({ offset: 0 });
    expect(btf.memberPath(skb, 'destructor')).toMatchObject({ offset: 96 });
    expect(btf.memberPath(skb, 'headers.csum_offset')).toMatchObject({ offset: 138 });
    expect(btf.memberPath(skb, 'csum_offset')).toMatchObject({ offset: 138 });
    expect(btf.memberAt(skb, 138)).toMatchObject({ path: 'csum', offset: 136, delta: 2 }); // first union member wins
    const shinfo = btf.findType('skb_shared_info')!;
    expect(btf.memberAt(shinfo, 8)).toMatchObject({ path: 'frag_list', offset: 8 });
    expect(btf.memberAt(shinfo, 48 + 2 * 16 + 8)).toMatchObject({ path: 'frags[2].bv_len', offset: 88 });
    expect(btf.memberAt(shinfo, 48 + 2 * 16 + 12)).toMatchObject({ path: 'frags[2].bv_offset', offset: 92 });
    expect(btf.memberPath(shinfo, 'frags[1].bv_len')).toMatchObject({ offset: 72 });
    const req = btf.findType('request')!;
    expect(btf.memberPath(req, 'elv.priv[1]')).toMatchObject({ offset: 192 + 16 });
    // the aacraid use-after-free offset: 0x2c8 into a kmalloc-1k object
    const task = btf.findType('task_struct')!;
    expect(btf.memberAt(task, 2976 + 5)).toMatchObject({ path: 'comm[5]', offset: 2981 });
  });
});
