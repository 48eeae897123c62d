import { describe, expect, it } from 'vitest';
import {
  ROW_H,
  TOTAL_ROWS,
  WINDOW_ROWS,
  byteClasses,
  coverMap,
  decodeMember,
  groupOrder,
  layoutParts,
  memberAt,
  pagesFor,
  parseOffset,
  placeMembers,
  pointerTarget,
  recenter,
  scrollRows,
  shortPath,
  topRow,
  windowAt,
} from './hexmodel';

describe('scroll window over 2^64', () => {
  it('lands a row near the top and keeps it there when re-centred', () => {
    const row = 0xffff888005ec9800n / 16n;
    const w = windowAt(row, 4);
    expect(topRow(w)).toBe(row - 4n);
    // scroll near the bottom edge of the window: re-centred, same top row
    const near = { base: w.base, scrollTop: (WINDOW_ROWS - 100) * ROW_H + 5 };
    const r = recenter(near, 800)!;
    expect(r).not.toBeNull();
    expect(topRow(r)).toBe(topRow(near));
    expect(r.scrollTop % ROW_H).toBe(5);
  });
  it('clamps at both ends of the address space', () => {
    expect(windowAt(0n).base).toBe(0n);
    const last = windowAt(TOTAL_ROWS - 1n);
    expect(last.base + BigInt(WINDOW_ROWS)).toBe(TOTAL_ROWS);
    expect(recenter({ base: 0n, scrollTop: 0 }, 800)).toBeNull();
  });
  it('scrolls by rows across the window edge', () => {
    let w = windowAt(1000n, 0);
    const t0 = topRow(w);
    for (let i = 0; i < 100; i++) w = scrollRows(w, WINDOW_ROWS / 8, 800);
    expect(topRow(w)).toBe(t0 + BigInt((WINDOW_ROWS / 8) * 100));
    w = scrollRows(w, -1e12, 800);
    expect(topRow(w)).toBe(0n);
  });
  it('pages for rows', () => {
    expect(pagesFor(0xffff888005ec9800n / 16n, 0xffff888005ec9800n / 16n + 300n)).toEqual([
      0xffff888005ec9000n,
      0xffff888005eca000n,
    ]);
  });
});

describe('byte classes', () => {
  it('poison runs with the 0xa5 end, red zones, zeros; a lone 0x6b is a letter', () => {
    const b = Uint8Array.from([0x6b, 0x41, 0x6b, 0x6b, 0x6b, 0x6b, 0xa5, 0xbb, 0xbb, 0xbb, 0xbb, 0, 0, 0xcc, 0xcc]);
    expect(byteClasses(b)).toEqual([
      '', '', 'poison', 'poison', 'poison', 'poison', 'poison', 'redzone', 'redzone', 'redzone', 'redzone', 'zero', 'zero', '', '',
    ]);
  });
  it('groups bytes little-endian', () => {
    expect(groupOrder(8).slice(0, 8)).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
    expect(groupOrder(1).slice(0, 3)).toEqual([0, 1, 2]);
  });
  it('parses offsets', () => {
    expect(parseOffset('+0x2c8')).toBe(0x2c8);
    expect(parseOffset('2c8')).toBe(0x2c8);
    expect(parseOffset('zz')).toBeNull();
  });
});

describe('overlays', () => {
  const shinfo = {
    name: 'struct skb_shared_info',
    size: 320,
    members: [
      { name: 'flags', path: 'flags', type: '__u8', offset: 0, size: 1 },
      { name: 'nr_frags', path: 'nr_frags', type: '__u8', offset: 2, size: 1 },
      { name: 'frag_list', path: 'frag_list', type: 'struct sk_buff *', offset: 8, size: 8 },
      { name: 'u', path: '(union).u', type: 'struct list_head', offset: 16, size: 16 },
      { name: 'v', path: '(union).v', type: 'u64', offset: 16, size: 8 },
    ],
  };
  it('places members at an offset and finds the one covering a byte', () => {
    const parts = layoutParts(['skb_shared_info'], [320], null);
    parts[0].layout = shinfo;
    parts[0].offset = 0x2c0;
    const ms = placeMembers(parts);
    expect(memberAt(ms, 0x2c8)?.name).toBe('frag_list');
    expect(memberAt(ms, 0x2cf)?.name).toBe('frag_list');
    expect(memberAt(ms, 0x2c1)).toBeNull();
    // a union: the smallest alternative covering the byte
    expect(memberAt(ms, 0x2c0 + 16)?.name).toBe('v');
    expect(memberAt(ms, 0x2c0 + 24)?.name).toBe('u');
    const cov = coverMap(ms, 0x400);
    expect(cov[0x2c8]).toBe(2);
    expect(cov[0x2c1]).toBe(-1);
  });
  it('lays out a composite with an unknown trailing part', () => {
    const parts = layoutParts(['struct request', 'PDU (driver command)'], [272, null], 1024);
    expect(parts).toEqual([
      { type: 'struct request', offset: 0, size: 272 },
      { type: 'PDU (driver command)', offset: 272, size: 752, unknown: true },
    ]);
    const ms = placeMembers(parts);
    expect(memberAt(ms, 0x2c8)?.name).toBe('PDU (driver command)');
  });
  it('decodes values and pointer types', () => {
    const b = new Uint8Array(32);
    b.set([0x06, 0x01], 8);
    expect(decodeMember({ type: 'struct sk_buff *', size: 8, at: 8 }, b, 32)).toBe('0x106');
    b[0] = 0xff;
    expect(decodeMember({ type: 'int', size: 4, at: 0 }, b, 32)).toBe('255');
    expect(decodeMember({ type: '__u8', size: 1, at: 0, bit_offset: 4, bit_size: 4 }, b, 32)).toBe('15');
    b.set([0x6c, 0x6f], 16);
    expect(decodeMember({ type: 'char [8]', size: 8, at: 16 }, b, 32)).toBe('"lo"');
    expect(decodeMember({ type: 'int', size: 4, at: 30 }, b, 32)).toBeNull();
    expect(pointerTarget('struct sk_buff *')).toEqual({ kind: 'struct', struct: 'sk_buff' });
    expect(pointerTarget('void (*)(struct sk_buff *)')).toEqual({ kind: 'func' });
    expect(pointerTarget('unsigned int')).toBeNull();
    expect(shortPath('(union).(struct).next')).toBe('next');
  });
});
