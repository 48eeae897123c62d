/**
 * Every walkthrough in public/walkthroughs/ replayed on its sample dump through the engine
 * directly (no browser): the same checks, in the same order, with the same variable captures and
 * overlays as the player. Fast, and it catches an engine change that breaks a walkthrough before
 * the Chromium test does (e2e/walkthroughs.spec.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDumpFile, type Program } from '../../workers/node';
import '../../workers/commands/index';
import { runCommandSafe } from '../../workers/commands/registry';
import { fingerprintOf } from '../../workers/api';
import { interpolate, runStep, validateWalkthrough } from './checks';
// the app's panel ids (views must name one)
import '../panels';
import type { CommandOutcome, Walkthrough, WalkthroughIndexEntry } from './types';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, 'public/walkthroughs');

const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'index.json');
const walkthroughs: Walkthrough[] = files.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Walkthrough);
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as WalkthroughIndexEntry[];

interface Opened {
  prog: Program;
  overlays: Map<string, string>;
}
const opened = new Map<string, Opened>();
function open(url: string): Opened {
  let o = opened.get(url);
  if (!o) {
    o = { prog: openDumpFile(join(ROOT, 'public', url)), overlays: new Map() };
    opened.set(url, o);
  }
  return o;
}

describe('walkthrough files', () => {
  it('the index lists every walkthrough, in order, with its title and sample', () => {
    expect(index.map((e) => e.id).sort()).toEqual(walkthroughs.map((w) => w.id).sort());
    for (const e of index) {
      const w = walkthroughs.find((x) => x.id === e.id)!;
      expect(e.title).toBe(w.title);
      expect(e.sample).toBe(w.sample);
    }
  });
  it.each(files)('%s is well-formed and named after its id', (f) => {
    const w = walkthroughs[files.indexOf(f)];
    expect(f).toBe(`${w.id}.json`);
    expect(validateWalkthrough(w)).toEqual([]);
  });
});

describe.each(walkthroughs.map((w) => [w.id, w] as const))('walkthrough %s', (_id, w) => {
  it('its samples are the bundled dumps it names (fingerprint and release)', () => {
    for (const s of Object.values(w.samples)) {
      const o = open(s.url);
      expect(fingerprintOf(o.prog)).toBe(s.fingerprint);
      expect(o.prog.info.osrelease).toBe(s.release);
    }
  });

  it('plays to its end with every check green', async () => {
    let vars: Record<string, string> = {};
    const report: string[] = [];
    let failures = 0;
    for (const [i, step] of w.steps.entries()) {
      const o = open(w.samples[step.sample ?? w.sample].url);
      if (step.overlay) o.overlays.set(interpolate(step.overlay.address, vars), interpolate(step.overlay.type, vars));
      const run = async (line: string): Promise<CommandOutcome> => {
        const r = runCommandSafe({ prog: o.prog, overlays: o.overlays }, line);
        return r.ok ? { ok: true, text: r.result.text, json: r.result.json } : { ok: false, text: '', error: r.error };
      };
      const r = await runStep(step, vars, run);
      vars = r.vars;
      for (const c of r.checks) {
        if (c.status !== 'pass') failures++;
        report.push(`${c.status === 'pass' ? 'ok  ' : 'FAIL'} ${i + 1}. ${step.title} / ${c.description}\n       $ ${c.command}\n       actual: ${c.actual}${c.reason ? `\n       reason: ${c.reason}` : ''}`);
      }
      // what the step shows (view, command) must be fillable once its checks ran
      if (step.view) for (const v of Object.values(step.view)) if (typeof v === 'string') expect(() => interpolate(v, vars)).not.toThrow();
      if (step.command) expect(() => interpolate(step.command!, vars)).not.toThrow();
    }
    if (failures || process.env.WT_VERBOSE) console.log(`${w.id}:\n${report.join('\n')}\nvariables: ${JSON.stringify(vars)}`);
    expect(failures, report.filter((l) => l.startsWith('FAIL')).join('\n')).toBe(0);
  }, 120_000);
});
