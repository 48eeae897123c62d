import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { jsonText, withLazyJson, finishResult } from './result';
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
