import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { jsonText, withLazyJson, finishResult, writeJsonText, writeJsonValue } from './result';
import { openDumpFile } from '../node';
import './index';
import { runCommand } from './registry';
import type { KmemCacheJson } from './kmem';

/** withLazyJson makes a result's JSON only when it is read, and keeps it lazy through finishResult (a result with problems). */
describe('withLazyJson', () => {
  it('makes the JSON once, when first read, and finishResult keeps it lazy', () => {
    let made = 0;
    const r = withLazyJson({ text: 'x\n' }, () => {
      made++;
      return { a: 1 };
    });
    const f = finishResult(r, ['a page was unreadable']);
    expect(made).toBe(0);
    expect(f.text).toBe('x\nWARNING: a page was unreadable\n');
    expect(f.problems).toEqual(['a page was unreadable']);
    expect(f.json).toEqual({ a: 1 });
    expect(f.json).toEqual({ a: 1 });
    expect(made).toBe(1);
    expect(JSON.parse(jsonText(f))).toEqual({ a: 1, problems: ['a page was unreadable'] });
  });
});

/**
 * kmem -S builds its JSON (an object per slab object) only when it is read, and each slab's
 * objects only when that slab's `objects` is read: the CLI's text of a cache of a million objects
 * holds none of them (scale-16g: 342 MB of RSS against 554 MB when they were built), its JSON
 * holds a slab's at a time while JSON.stringify reads them (648 MB against 905 MB).
 */
const SAMPLE = new URL('../../public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib', import.meta.url).pathname;
describe.skipIf(!existsSync(SAMPLE))('kmem -S: its JSON made when read', () => {
  it('the result and each slab have accessors; read, they are the objects the text lists', () => {
    const prog = openDumpFile(SAMPLE);
    const r = runCommand({ prog }, 'kmem -S --full kmalloc-1k');
    expect(typeof Object.getOwnPropertyDescriptor(r, 'json')?.get).toBe('function');
    const j = r.json as KmemCacheJson;
    const slab = j.untracked![0];
    expect(typeof Object.getOwnPropertyDescriptor(slab, 'objects')?.get).toBe('function');
    expect(slab.objects.length).toBe(slab.total);
    // every object of the JSON is a line of the text ([slot] when allocated)
    const parsed = JSON.parse(jsonText(r)) as KmemCacheJson;
    for (const s of parsed.untracked!) for (const o of s.objects) expect(r.text).toContain(o.state === 'allocated' ? `[${o.slot.slice(2)}]` : o.slot.slice(2));
  }, 60_000);
});

/** writeJsonText: jsonText's characters in pieces, never the whole JSON at once. */
describe('writeJsonText', () => {
  const hex = (_: string, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v);
  const pieces = (v: unknown, indent: 0 | 1) => {
    const out: string[] = [];
    writeJsonValue(v, (s) => out.push(s), indent);
    return out;
  };
  it('writes what JSON.stringify writes, a piece at a time', () => {
    const lazy = Object.defineProperty({ a: 1 }, 'objects', { get: () => [{ x: 1n }, { y: 'two\nlines' }], enumerable: true });
    const values: unknown[] = [
      1, 'a "quoted"\nstring', null, true, 12345678901234567890n, undefined, [], {}, [[]], [{}], { a: [] }, { a: {} },
      { nested: { deeper: { list: [1, 2, { k: [3, 4n] }], empty: [] } }, s: 'x' },
      [1, undefined, () => 0, Symbol('s'), { u: undefined, f: () => 0, n: NaN, i: -Infinity, d: new Date(0) }],
      { lazy, more: [lazy, { ok: [lazy] }] },
      { 2: 'b', 1: 'a', z: { '\u00e9\n': [null] } },
      { arr: new Array(3), sparse: [1, , 3] }, // eslint-disable-line no-sparse-arrays
    ];
    for (const v of values) {
      for (const indent of [0, 1] as const) {
        expect(pieces(v, indent).join(''), JSON.stringify(v, hex)).toBe(JSON.stringify(v, hex, indent || undefined) ?? 'undefined');
      }
    }
    // a cycle fails as JSON.stringify fails on it (not by overflowing the stack), also through a
    // part JSON.stringify writes whole
    const cyc: Record<string, unknown> = { a: [{ b: 1 }] };
    (cyc.a as unknown[]).push(cyc);
    expect(() => pieces(cyc, 1)).toThrow(TypeError);
    const cyc2: Record<string, unknown> = { a: { list: [{ x: 1 }] } };
    ((cyc2.a as { list: unknown[] }).list[0] as Record<string, unknown>).up = cyc2;
    expect(() => pieces(cyc2, 1)).toThrow(TypeError);
    // a container of containers is walked: more than one piece
    expect(pieces({ nested: { a: [1] }, b: [{ c: 1 }] }, 1).length).toBeGreaterThan(3);
    // a problem-carrying result: jsonText's text
    const r = { text: 'x', json: { list: [{ a: 1 }, { b: [2] }] }, problems: ['a page was unreadable'] };
    const out: string[] = [];
    writeJsonText(r, (s) => out.push(s));
    expect(out.join('')).toBe(jsonText(r));
  });

  it('holds a slab of a million-object cache at a time, not the cache', () => {
    // 50000 slabs of 20 objects made when read, as kmem -S --full's JSON: ~60 MB of text
    const slabs = Array.from({ length: 50_000 }, (_, i) =>
      Object.defineProperty({ slab: '0x' + (0xffffea0000000000n + BigInt(i) * 64n).toString(16), total: 20 }, 'objects', {
        enumerable: true,
        get: () => Array.from({ length: 20 }, (_, k) => ({ addr: '0x' + (0xffff888100000000n + BigInt(i * 20 + k) * 784n).toString(16), state: k % 3 ? 'allocated' : 'free' })),
      }),
    );
    const r = { text: '', json: { info: { name: 'big' }, untracked: slabs } };
    globalThis.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let total = 0;
    let n = 0;
    writeJsonText(r, (s) => {
      total += s.length;
      if (++n % 20_000 === 0 || s.length > 65536) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    });
    expect(total).toBeGreaterThan(60e6);
    // the whole JSON as one string would be 60 MB of heap on its own
    expect(peak).toBeLessThan(40e6);
  }, 60_000);
});

/** The CLI's JSON of real commands, written in pieces, is jsonText's. */
describe.skipIf(!existsSync(SAMPLE))('writeJsonText on a real dump', () => {
  it('kmem -S --full, kmem -s, ps, bt -a, sys, log: the same characters as jsonText', () => {
    const prog = openDumpFile(SAMPLE);
    for (const line of ['kmem -S --full kmalloc-1k', 'kmem -S --states kmalloc-1k', 'kmem -s', 'ps', 'bt -a', 'sys', 'log', 'kmem ffff888004f326c8']) {
      const r = runCommand({ prog }, line);
      const out: string[] = [];
      writeJsonText(r, (s) => out.push(s));
      const whole = jsonText(r);
      expect(whole.length, line).toBeGreaterThan(100);
      expect(out.join(''), line).toBe(whole);
    }
  }, 120_000);
});
