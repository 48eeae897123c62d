/**
 * Every walkthrough in public/walkthroughs/ replayed on its sample dump through the engine
 * directly (no browser): the same checks, in the same order, with the same variable captures and
 * overlays as the player. Fast, and it catches an engine change that breaks a walkthrough before
 * the Chromium test does (e2e/walkthroughs.spec.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDumpFile, type Program } from '../../workers/node';
import '../../workers/commands/index';
import { runCommandSafe } from '../../workers/commands/registry';
import { fingerprintOf } from '../../workers/api';
import { interpolate, runStep, validateWalkthrough } from './checks';
import { matchSignature } from './signature';
import type { OopsJson } from '../engine';
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
    const path = url.startsWith('fixtures:/') ? join(FIXTURES_OUT, url.slice('fixtures:/'.length)) : join(ROOT, 'public', url);
    o = { prog: openDumpFile(path), overlays: new Map() };
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
      expect(e.signature).toEqual(w.signature);
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
    const r = await playOn(w, null);
    if (r.failures || process.env.WT_VERBOSE) console.log(`${w.id}:\n${r.report.join('\n')}\nvariables: ${JSON.stringify(r.vars)}`);
    expect(r.failures, r.report.filter((l) => l.startsWith('FAIL')).join('\n')).toBe(0);
  }, 120_000);

  // signature-matched runbooks: the walkthrough runs on every dump whose oops/log matches its
  // signature (not only on its own sample), its checks evaluated on that dump: every check runs,
  // and what it captures is that dump's, not the sample's (pass counts are logged)
  it.skipIf(!w.signature)('its signature matches its own sample; on every other matching dump its checks run on that dump', async () => {
    const own = w.samples[w.sample].url;
    const others: string[] = [];
    for (const url of SAMPLE_URLS) {
      const m = signatureOf(url, w);
      if (url === own) expect(m.matched, m.why.join('; ')).toBe(true);
      else if (m.matched) others.push(url);
    }
    const mine = await playOn(w, null);
    for (const url of others) {
      const r = await playOn(w, url);
      console.log(`${w.id} on ${url} (matched by signature): ${r.total - r.failures} of ${r.total} checks pass\n${r.report.filter((l) => l.startsWith('FAIL')).join('\n')}`);
      // every check ran there (a failure is a finding about that dump, reported above)
      expect(r.total).toBe(w.steps.reduce((n, x) => n + x.checks.length, 0));
      const shared = Object.keys(r.vars).filter((k) => k in mine.vars && /^0x[0-9a-f]{9,}$/.test(mine.vars[k]));
      if (shared.length) expect(shared.some((k) => r.vars[k] !== mine.vars[k]), `captured ${shared.join(', ')} equal the sample's`).toBe(true);
    }
    console.log(`${w.id}: signature also matches ${others.length ? others.join(', ') : 'no other bundled dump'}`);
  }, 240_000);
});

function dumpsIn(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => /^vmcore\.(kdump|elf$)/.test(f)).map((f) => `${prefix}/${d.name}/${f}`));
}

/**
 * The bundled samples, and dumps made by the fixtures tooling on other kernel builds when present
 * (../fixtures-out, or VMCORE_FIXTURES_OUT): dumps no walkthrough was written on.
 */
const FIXTURES_OUT = process.env.VMCORE_FIXTURES_OUT ?? join(ROOT, '../fixtures-out');
const SAMPLE_URLS = [...dumpsIn(join(ROOT, 'public/samples'), '/samples'), ...dumpsIn(FIXTURES_OUT, 'fixtures:')];

function signatureOf(url: string, w: Walkthrough) {
  const o = open(url);
  const oops = runCommandSafe({ prog: o.prog, overlays: o.overlays }, 'oops');
  const log = w.signature?.log?.length ? runCommandSafe({ prog: o.prog, overlays: o.overlays }, 'log') : null;
  return matchSignature(w.signature, oops.ok ? (oops.result.json as OopsJson) : undefined, log?.ok ? log.result.text : undefined);
}

/** Play every step (on `onUrl` instead of the walkthrough's main sample when given). */
async function playOn(w: Walkthrough, onUrl: string | null) {
  {
    let vars: Record<string, string> = {};
    const report: string[] = [];
    let failures = 0;
    let total = 0;
    for (const [i, step] of w.steps.entries()) {
      const o = open(onUrl && !step.sample ? onUrl : w.samples[step.sample ?? w.sample].url);
      if (step.overlay) {
        try {
          o.overlays.set(interpolate(step.overlay.address, vars), interpolate(step.overlay.type, vars));
        } catch {
          /* an earlier check failed to capture it: the report says which */
        }
      }
      const run = async (line: string): Promise<CommandOutcome> => {
        const r = runCommandSafe({ prog: o.prog, overlays: o.overlays }, line);
        return r.ok ? { ok: true, text: r.result.text, json: r.result.json } : { ok: false, text: '', error: r.error };
      };
      const r = await runStep(step, vars, run);
      vars = r.vars;
      for (const c of r.checks) {
        total++;
        if (c.status !== 'pass') failures++;
        report.push(`${c.status === 'pass' ? 'ok  ' : 'FAIL'} ${i + 1}. ${step.title} / ${c.description}\n       $ ${c.command}\n       actual: ${c.actual}${c.reason ? `\n       reason: ${c.reason}` : ''}`);
      }
      // what the step shows (view, command) must be fillable once its checks ran
      if (!failures && step.view) for (const v of Object.values(step.view)) if (typeof v === 'string') expect(() => interpolate(v, vars)).not.toThrow();
      if (!failures && step.command) expect(() => interpolate(step.command!, vars)).not.toThrow();
    }
    return { failures, total, vars, report };
  }
}
