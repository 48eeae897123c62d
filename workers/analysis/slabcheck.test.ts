import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { slabCheck } from './slabcheck';
import { runCommand, planSplit, runSplitPart, mergeSplit } from '../commands/registry';

describe('slabcheck on the incident dumps', () => {
  const sd = sharedDump('6.1-skb-uaf-0x106-slubdebug');
  it.skipIf(!sd)(`slub_debug: the overwrite the kernel's report names${sd ? '' : ` (${SKIP_REASON})`}`, () => {
    const prog = openDumpFile(sd!.file);
    const r = slabCheck(prog, { cache: 'kmalloc-1k' });
    // log: "0xffff88800664e6c8-0xffff88800664e6cb @offset=26312. First byte 0x6 instead of 0x6b"
    const rep = r.findings.find((f) => f.check === 'kernel-report')!;
    expect(rep).toMatchObject({ severity: 'error', cache: 'kmalloc-1k', address: '0xffff88800664e6c8', object: '0xffff88800664e400', slab: '0xffffea0000199200' });
    expect(rep.message).toContain('first byte 0x6 instead of 0x6b');
    expect(rep.view).toEqual({ panel: 'mem', address: '0xffff88800664e6c8' });
    // in memory: the object SLUB restored and "marked used" is free in fact (poison + inactive red zones)
    const used = r.findings.filter((f) => f.check === 'poison-in-use' && f.severity === 'warning').map((f) => f.object);
    expect(used).toContain('0xffff88800664e400');
    expect(r.findings.filter((f) => f.severity === 'error' && f.check !== 'kernel-report')).toEqual([]);
  }, 120_000);

  const bh = sharedDump('6.1-bh-scribble');
  it.skipIf(!bh)('bh-scribble: the zeroed buffer_head slab page head', () => {
    const prog = openDumpFile(bh!.file);
    let progress = 0;
    const r = slabCheck(prog, { onProgress: () => progress++ });
    expect(progress).toBeGreaterThan(0);
    const z = r.findings.find((f) => f.check === 'zeroed-head')!;
    expect(z).toMatchObject({ severity: 'error', cache: 'buffer_head', object: '0xffff888004c7e000', slab: '0xffffea0000131f80' });
    expect(z.message).toMatch(/b_state, b_this_page, b_page/);
    expect(z.view).toEqual({ panel: 'mem', address: '0xffff888004c7e000', type: 'buffer_head' });
    // the other members of the broken ring are reported too, and nothing outside buffer_head
    expect(r.findings.every((f) => f.cache === 'buffer_head')).toBe(true);
  }, 120_000);

  it.skipIf(!bh)('split into parts of page frames (the scan workers) and merged, gives the whole scan', () => {
    const prog = openDumpFile(bh!.file);
    const other = openDumpFile(bh!.file); // the parts run in another engine, as in a scan worker
    for (const line of ['slabcheck --json', 'slabcheck buffer_head']) {
      const whole = runCommand({ prog }, line);
      const parts = planSplit({ prog }, line, 6)!;
      expect(parts.length).toBeGreaterThan(3);
      const results = parts.map((p) => runSplitPart({ prog: other }, line, JSON.parse(JSON.stringify(p))));
      const merged = mergeSplit({ prog }, line, JSON.parse(JSON.stringify(results)));
      expect(merged.text).toBe(whole.text);
      expect(merged.json).toEqual(whole.json);
      expect(whole.text).toMatch(/zeroed|b_this_page/);
    }
    // the zeroed head's slab lies in one part: the others find nothing of it
    const line = 'slabcheck buffer_head';
    const withIt = planSplit({ prog }, line, 6)!.map((p) => runSplitPart({ prog: other }, line, p)).filter((r) => JSON.stringify(r.value).includes('zeroed-head'));
    expect(withIt.length).toBe(1);
  }, 300_000);

  const clean = sharedDump('6.1-sysrq-kaslr');
  it.skipIf(!clean)('a clean dump has no findings; cancel stops the scan', () => {
    const prog = openDumpFile(clean!.file);
    const t = runCommand({ prog }, 'slabcheck');
    expect((t.json as any).findings).toEqual([]);
    let n = 0;
    const r = slabCheck(prog, { cancelled: () => ++n > 3 });
    expect(r.cancelled).toBe(true);
  }, 120_000);
});
