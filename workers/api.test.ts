import { describe, it, expect } from 'vitest';
import { EngineApi, type OutputChunk, type OpenResult, type SlabGrid, type KmemCacheJson, type SlabStatesJson } from './api';
import { NodeFileSource } from './source/node';
import { openDumpFile } from './node';
import './commands/index';
import { runCommand, registerCommand } from './commands/registry';
import { withLazyJson, jsonText } from './commands/result';
import { sharedDump, SKIP_REASON } from './testing/dumps';

/**
 * Streaming output (the console's path): a long command's lines leave the worker while it runs
 * (onOutput), the first `textLines` of them; the rest stay in the worker for textPage, counted
 * from the start of the output. What arrives, in order, is exactly the text the command gives
 * unstreamed (the CLI's and tests' path), and the worker keeps each line once.
 */
const d = sharedDump('6.1-skb-uaf-0x106');
describe.skipIf(!d)(`streaming console output on 6.1-skb-uaf-0x106 ${d ? '' : SKIP_REASON}`, () => {
  const api = new EngineApi();
  const opened = (api as unknown as { open(make: () => NodeFileSource, source: { kind: 'file' }): OpenResult }).open(() => new NodeFileSource(d!.file), { kind: 'file' });
  const session = opened.ok ? opened.summary.session : '';
  const prog = openDumpFile(d!.file);
  const whole = (line: string) => runCommand({ prog }, line).text.replace(/\n$/, '').split('\n');

  it.each(['sym -l', 'foreach bt', 'kmem -S kmalloc-1k', 'search -m 0xfffffffffffffc00 ' + (d ? d.oracleJson('incident.json').skb.head : '0')])('%s: streamed lines + kept pages = the unstreamed text', (line) => {
    expect(opened.ok).toBe(true);
    const chunks: OutputChunk[] = [];
    const cap = 300;
    const r = api.run(session, line, { jobId: `t-${line}`, textLines: cap, json: false }, undefined, (c) => chunks.push(c));
    expect(r.ok, r.error).toBe(true);
    const want = whole(line);
    const got = chunks.flatMap((c) => c.lines);
    // a short, quick output may come whole with the result (nothing was due to stream yet)
    expect(r.streamed ?? 0).toBe(got.length);
    if (got.length) expect(r.text).toBe('');
    const shown = got.length ? got : r.text.replace(/\n$/, '').split('\n');
    expect(shown).toEqual(want.slice(0, cap));
    if (want.length > cap) {
      expect(chunks.length).toBeGreaterThan(0);
      expect(got.length).toBe(cap);
      expect(r.totalLines).toBe(want.length);
      const rest = api.textPage(session, r.textKey!, cap, want.length);
      expect(rest).toEqual(want.slice(cap));
    } else expect(r.totalLines).toBeUndefined();
  }, 120_000);

  it('a line with a filter or --json is not streamed (it needs the whole text)', () => {
    const chunks: OutputChunk[] = [];
    const r = api.run(session, 'sym -l | head -3', { textLines: 300 }, undefined, (c) => chunks.push(c));
    expect(chunks).toEqual([]);
    expect(r.text.split('\n').length).toBe(4);
    const j = api.run(session, 'foreach bt --json', { textLines: 300 }, undefined, (c) => chunks.push(c));
    expect(chunks).toEqual([]);
    expect(j.text).toMatch(/^\[/);
    // without textLines (not the console) the JSON comes as jsonText beside the text
    expect(api.run(session, 'ps --json', {}).jsonText).toMatch(/^\[/);
  }, 120_000);

  // the console's --json: the JSON is the text, its first lines sent and the rest made again from
  // the result for each page, run whole or in the scan workers' parts; the JSON object stays here
  it.each([false, true])('--json in the console (in parts: %s): the JSON text paged, never whole', (inParts) => {
    const line = 'kmem -S --full kmalloc-1k --json';
    const want = jsonText(runCommand({ prog }, line)).replace(/\n$/, '').split('\n');
    expect(want.length).toBeGreaterThan(1000);
    const cap = 300;
    let r;
    if (inParts) {
      const plan = api.planScan(session, line, 3);
      expect(plan.ok && plan.parts!.length).toBeGreaterThan(1);
      const parts = plan.ok ? plan.parts!.map((p) => api.runPart(session, line, p)) : [];
      r = api.mergeScan(session, line, parts.map((p) => (p.ok ? p.part : new Uint8Array())), { textLines: cap, json: false, jobId: 'json-parts' });
    } else r = api.run(session, line, { textLines: cap, json: false, jobId: 'json-whole' });
    expect(r.ok, r.error).toBe(true);
    expect(r.json).toBeUndefined();
    expect(r.jsonText).toBeUndefined();
    expect(r.text.replace(/\n$/, '').split('\n')).toEqual(want.slice(0, cap));
    expect(r.totalLines).toBe(want.length);
    expect(api.textPage(session, r.textKey!, cap, 500)).toEqual(want.slice(cap, cap + 500));
    expect(api.textPage(session, r.textKey!, want.length - 10, 1000)).toEqual(want.slice(-10));
    // what the worker keeps for the pages is the result, no line of text
    const kept = (api as unknown as { sessions: Map<string, { texts: Map<string, { lines: string[]; json?: unknown }> }> }).sessions.get(session)!.texts.get(r.textKey!)!;
    expect(kept.lines).toEqual([]);
    expect(kept.json).toBeDefined();
  }, 120_000);
});

/**
 * The slab map's path (RunOptions.slabGrid): `kmem -S --full CACHE --states`, run whole or as scan
 * worker parts (each part's result crossing as UTF-8 JSON bytes), comes back as a SlabGrid whose
 * rows and objects are the command's JSON object for object.
 */
describe.skipIf(!d)(`the slab map as typed arrays on 6.1-skb-uaf-0x106 ${d ? '' : SKIP_REASON}`, () => {
  const api = new EngineApi();
  const opened = (api as unknown as { open(make: () => NodeFileSource, source: { kind: 'file' }): OpenResult }).open(() => new NodeFileSource(d!.file), { kind: 'file' });
  const session = opened.ok ? opened.summary.session : '';
  const prog = openDumpFile(d!.file);

  it.each(['kmalloc-1k', 'dentry'])('%s: whole and in parts, every object of the JSON in the grid', (cache) => {
    const line = `kmem -S --full ${cache} --states`;
    const want = runCommand({ prog }, `kmem -S --full ${cache} --json`).json as KmemCacheJson;
    const slabs = [...want.cpus.flatMap((c) => [...(c.slab ? [c.slab] : []), ...c.partial]), ...want.nodes.flatMap((n) => [...n.partial, ...(n.full ?? [])]), ...want.untracked!];
    const whole = api.run(session, line, { slabGrid: true });
    const plan = api.planScan(session, line, 4);
    expect(plan.ok && plan.parts!.length).toBeGreaterThan(1);
    const parts = plan.ok ? plan.parts!.map((p) => api.runPart(session, line, p)) : [];
    for (const p of parts) expect(p.ok && p.part).toBeInstanceOf(Uint8Array);
    const merged = api.mergeScan(session, line, parts.map((p) => (p.ok ? p.part : new Uint8Array())), { slabGrid: true });
    for (const r of [whole, merged]) {
      const g = r.json as SlabGrid;
      expect(g.slab).toBeInstanceOf(BigUint64Array);
      expect(g.rows).toBe(slabs.length);
      const objects: string[] = [];
      const got: string[] = [];
      for (let i = 0; i < g.rows; i++) {
        for (let k = 0; k < g.count[i]; k++) got.push(`0x${(g.first[i] + BigInt(k * g.stride)).toString(16)} ${g.states[g.start[i] + k]}`);
      }
      for (const s of slabs) for (const o of s.objects) objects.push(`${o.addr} ${o.state[0]}`);
      expect(got.sort()).toEqual(objects.sort());
      // rows by address: each row's first object not below the one before
      for (let j = 1; j < g.rows; j++) expect(g.first[g.byAddress[j]] >= g.first[g.byAddress[j - 1]]).toBe(true);
    }
    // without slabGrid the same line gives the command's JSON
    expect((api.run(session, line).json as KmemCacheJson<SlabStatesJson>).info.name).toBe(cache);
  }, 120_000);
});

/** A command's JSON made when read (withLazyJson) is not made for a run that asks for no JSON (a console line without --json). */
describe.skipIf(!d)(`a lazy JSON and RunOptions.json on 6.1-skb-uaf-0x106 ${d ? '' : SKIP_REASON}`, () => {
  it('json: false leaves it unmade; otherwise it is made once and sent', () => {
    let made = 0;
    registerCommand({
      name: 'lazy-json-probe',
      summary: 'test only',
      usage: 'lazy-json-probe',
      run: () => withLazyJson({ text: 'x\n' }, () => ({ made: ++made })),
    });
    const api = new EngineApi();
    const opened = (api as unknown as { open(make: () => NodeFileSource, source: { kind: 'file' }): OpenResult }).open(() => new NodeFileSource(d!.file), { kind: 'file' });
    const session = opened.ok ? opened.summary.session : '';
    const quiet = api.run(session, 'lazy-json-probe', { json: false });
    expect(quiet.ok && quiet.json).toBe(undefined);
    expect(made).toBe(0);
    expect(api.run(session, 'lazy-json-probe').json).toEqual({ made: 1 });
  });
});
