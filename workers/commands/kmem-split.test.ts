/**
 * `kmem -S <cache> --full` in parts (the browser's scan workers: each part walks the struct pages
 * of a range of page frames in its own engine, the merge prints them after the cache's lists):
 * text and JSON equal the whole command's, on every shared dump, and its slabs are those drgn
 * lists for the cache (kmem-S-drgn.json: drgn's for_each_slab page walk, see the dumps' READMEs).
 * The 8 GiB scale dump (fixtures/make-dump.sh scale-8g; SCALE_DUMP= names it) is checked for
 * split = whole when it is on this machine.
 */
import { existsSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { Cancelled } from '../errors';
import { runCommand, planSplit, runSplitPart, mergeSplit, isSplitLine } from './registry';
import type { KmemCacheJson, SlabJson, SlabStatesJson } from './kmem';
import type { Program } from '../kernel/program';

/** The line run in `want` parts, each in `other` (another engine on the same file), merged in `prog`. */
function parted(prog: Program, other: Program, line: string, want: number) {
  const parts = planSplit({ prog }, line, want)!;
  expect(parts.length).toBeGreaterThan(1);
  const results = parts.map((p) => runSplitPart({ prog: other }, line, JSON.parse(JSON.stringify(p))));
  return mergeSplit({ prog }, line, JSON.parse(JSON.stringify(results)));
}

/** `kmem -S --states --json` written out object by object, as `kmem -S --json` gives it */
function expandStates(j: KmemCacheJson<SlabStatesJson>): KmemCacheJson {
  const pad = BigInt(j.info.red_left_pad);
  const state = { a: 'allocated', f: 'free', c: 'cpu-free' } as const;
  const slab = (s: SlabStatesJson | null): SlabJson | null => {
    if (!s) return null;
    const { first, stride, states, notes, free_in, problems, ...head } = s;
    const objects = [...states].map((l, i) => {
      const a = BigInt(first) + BigInt(i * stride);
      return { addr: '0x' + a.toString(16), slot: '0x' + (a - pad).toString(16), state: state[l as keyof typeof state], ...(notes?.[i] ? { note: notes[i] } : {}), ...(free_in?.[i] ? { free_in: free_in[i] } : {}) };
    });
    expect(objects.length).toBe(s.total);
    expect(stride).toBe(j.info.size);
    return { ...head, objects, ...(problems ? { problems } : {}) };
  };
  const all = (l: SlabStatesJson[]) => l.map((s) => slab(s)!);
  return {
    ...j,
    cpus: j.cpus.map((c) => ({ ...c, slab: slab(c.slab), partial: all(c.partial) })),
    nodes: j.nodes.map((n) => ({ ...n, partial: all(n.partial), full: n.full ? all(n.full) : null })),
    untracked: j.untracked ? all(j.untracked) : null,
  };
}

/** drgn's state letters: A allocated, anything free F (drgn's C and B are kinds of free). */
const states = (s: SlabJson) => s.objects.map((o) => (o.state === 'allocated' ? 'A' : 'F')).join('');

describe('kmem -S --full split into parts = the whole command, and drgn', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d || !d.hasOracle('kmem-S-drgn.json'))(`${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const prog = openDumpFile(d!.file);
      const other = openDumpFile(d!.file);
      const drgn = d!.oracleJson<Record<string, { slabs: { slab: string; states: string }[] }>>('kmem-S-drgn.json');
      let untracked = 0;
      for (const cname of Object.keys(drgn)) {
        if (!runCommand({ prog }, `kmem -s ${cname}`).text.includes(cname)) continue;
        const line = `kmem -S --full ${cname}`;
        const whole = runCommand({ prog }, line);
        const split = parted(prog, other, line, 7);
        expect(split.text, cname).toBe(whole.text);
        const wj = runCommand({ prog }, line + ' --json').json as KmemCacheJson;
        const sj = parted(prog, other, line + ' --json', 5).json as KmemCacheJson;
        expect(sj, cname).toEqual(wj);
        // --states: the same slabs, each object a letter from `first` every `stride` bytes
        const cj = parted(prog, other, line + ' --states --json', 3).json as KmemCacheJson<SlabStatesJson>;
        expect(expandStates(cj), cname).toEqual(wj);
        // the slabs are drgn's, object by object
        const all = new Map<string, string>();
        for (const c of sj.cpus) for (const s of [...(c.slab ? [c.slab] : []), ...c.partial]) all.set(s.slab, states(s));
        for (const n of sj.nodes) for (const s of [...n.partial, ...(n.full ?? [])]) all.set(s.slab, states(s));
        for (const s of sj.untracked!) all.set(s.slab, states(s));
        untracked += sj.untracked!.length;
        expect(all.size, cname).toBe(drgn[cname].slabs.length);
        for (const s of drgn[cname].slabs) expect(`${cname} ${s.slab} ${all.get(s.slab)}`).toBe(`${cname} ${s.slab} ${s.states.replace(/[CB]/g, 'F')}`);
      }
      // only SLAB_STORE_USER caches list their full slabs: elsewhere the page walk finds them
      if (!/slubdebug/.test(name)) expect(untracked).toBeGreaterThan(0);
    }, 300_000);
  }

  it('only kmem -S --full splits; a wrong cache fails before any part; a part stops when cancelled', () => {
    expect(isSplitLine('kmem -S --full dentry')).toBe(true);
    expect(isSplitLine('kmem -S dentry')).toBe(false);
    expect(isSplitLine('kmem -s')).toBe(false);
    expect(isSplitLine('kmem ffff888100000000')).toBe(false);
    const d = sharedDump('6.1-skb-uaf-0x106');
    if (!d) return;
    const prog = openDumpFile(d.file);
    expect(planSplit({ prog }, 'kmem -s', 4)).toBeNull();
    expect(() => planSplit({ prog }, 'kmem -S --full no_such_cache', 4)).toThrow(/invalid slab cache/);
    const parts = planSplit({ prog }, 'kmem -S --full dentry', 4)!;
    expect(() => runSplitPart({ prog, cancel: { cancelled: true } }, 'kmem -S --full dentry', parts[0])).toThrow(Cancelled);
  });
});

const SCALE = process.env.SCALE_DUMP ?? '/work/fixtures-out/scale-8g/vmcore.kdump-zlib';
describe.skipIf(!existsSync(SCALE))(`kmem -S --full on the 8 GiB scale dump${existsSync(SCALE) ? '' : ` (${SCALE} absent: fixtures/make-dump.sh scale-8g)`}`, () => {
  it('task_struct (its largest cache by slab memory) split in 12 parts = the whole command', () => {
    const prog = openDumpFile(SCALE);
    const other = openDumpFile(SCALE);
    const line = 'kmem -S --full task_struct --json';
    const whole = runCommand({ prog }, line);
    const split = parted(prog, other, line, 12);
    expect(split.text).toBe(whole.text);
    expect((split.json as KmemCacheJson).untracked!.length).toBeGreaterThan(900);
  }, 600_000);
});
