/**
 * The walkthrough expectation language (public/walkthroughs/README.md), implemented once: the
 * player in the browser and the Node test that replays every walkthrough on its sample dump both
 * use it. A check runs one console command and tests its text and JSON with a few declarative
 * operators; nothing in a walkthrough file is evaluated as code. Checks may capture values
 * (${skb}, ${head}) for the commands of later checks, so a walkthrough replays the reasoning
 * from the dump instead of listing hard-coded addresses.
 *
 * No DOM, no engine imports: pure functions over a RunFn.
 */
import { isPanel } from '../permalink';
import type {
  Capture,
  Check,
  CheckResult,
  CommandOutcome,
  Cond,
  Expect,
  JsonCond,
  RunFn,
  Step,
  StepView,
  Walkthrough,
} from './types';

// ---------------------------------------------------------------------------- variables

/** ${name}, or ${name|filter}: bare (hex without 0x), hex (0x..., from any integer), dec (decimal) */
const VAR = /\$\{([A-Za-z_][\w]*)(?:\|(\w+))?\}/g;
const FILTERS = new Set(['bare', 'hex', 'dec']);

function applyFilter(v: string, filter: string | undefined): string {
  if (!filter) return v;
  if (!FILTERS.has(filter)) throw new Error(`unknown filter |${filter} (bare, hex, dec)`);
  const n = asInteger(v);
  if (n === null) return filter === 'bare' ? v.replace(/^0x/i, '') : v;
  if (filter === 'dec') return n.toString(10);
  const h = (n < 0n ? '-' : '') + (n < 0n ? -n : n).toString(16);
  return filter === 'hex' ? h.replace(/^(-?)/, '$10x') : h;
}

export class MissingVariable extends Error {
  constructor(public readonly names: string[]) {
    super(`needs ${names.map((n) => '${' + n + '}').join(', ')}, captured by an earlier check that has not passed`);
    this.name = 'MissingVariable';
  }
}

/** The ${names} a string uses. */
export function variablesIn(s: string): string[] {
  return [...s.matchAll(VAR)].map((m) => m[1]);
}

/** Fill ${name} from vars; throws MissingVariable naming every unknown one. */
export function interpolate(s: string, vars: Record<string, string>, escape?: (v: string) => string): string {
  const missing = variablesIn(s).filter((n) => !(n in vars));
  if (missing.length) throw new MissingVariable([...new Set(missing)]);
  return s.replace(VAR, (_, n: string, f: string | undefined) => {
    const v = applyFilter(vars[n], f);
    return escape ? escape(v) : v;
  });
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------- paths

type Seg = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'all' };

/** "a.b[0].c", "[0].frames[*].symbol", "candidates[-1]"; '' or '.' is the value itself. */
export function parsePath(path: string): Seg[] {
  const out: Seg[] = [];
  const p = path.trim();
  if (p === '' || p === '.') return out;
  const re = /\s*(?:\.?([A-Za-z_$][\w$-]*)|\[(\*|-?\d+)\]|\["([^"]*)"\])/y;
  let i = 0;
  while (i < p.length) {
    re.lastIndex = i;
    const m = re.exec(p);
    if (!m) throw new Error(`bad path "${path}" at "${p.slice(i)}"`);
    if (m[1] !== undefined) out.push({ kind: 'key', key: m[1] });
    else if (m[2] === '*') out.push({ kind: 'all' });
    else if (m[2] !== undefined) out.push({ kind: 'index', index: Number(m[2]) });
    else out.push({ kind: 'key', key: m[3] });
    i = re.lastIndex;
  }
  return out;
}

/** Every value a path reaches ([*] fans out); absent values are left out. */
export function select(root: unknown, path: string): unknown[] {
  let cur: unknown[] = [root];
  for (const seg of parsePath(path)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if (seg.kind === 'all') {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v as Record<string, unknown>));
      } else if (seg.kind === 'index') {
        if (Array.isArray(v)) {
          const i = seg.index < 0 ? v.length + seg.index : seg.index;
          if (i >= 0 && i < v.length) next.push(v[i]);
        }
      } else if (typeof v === 'object' && !Array.isArray(v) && seg.key in (v as object)) {
        next.push((v as Record<string, unknown>)[seg.key]);
      }
    }
    cur = next.filter((x) => x !== undefined);
  }
  return cur;
}

// ---------------------------------------------------------------------------- values

/** An integer view of a value: numbers, bigints, "0x..." hex and decimal strings. */
export function asInteger(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^-?0x[0-9a-f]+$/i.test(t)) return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
    if (/^-?\d+$/.test(t)) return BigInt(t);
  }
  return null;
}

/** A value as the user reads it. */
export function show(v: unknown, max = 160): string {
  let s: string;
  if (v === undefined) s = '(absent)';
  else if (typeof v === 'string') s = v;
  else if (typeof v === 'bigint') s = '0x' + v.toString(16);
  else s = JSON.stringify(v) ?? String(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  const ia = asInteger(a);
  const ib = asInteger(b);
  if (ia !== null && ib !== null) return ia === ib;
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  return show(a, Infinity) === show(b, Infinity);
}

const COND_KEYS = new Set(['equals', 'notEquals', 'matches', 'flags', 'oneOf', 'includes', 'exists', 'gte', 'lte', 'gt', 'lt']);

type Fill = (s: string, regex?: boolean) => string;

function fillValue(v: unknown, fill: Fill): unknown {
  return typeof v === 'string' ? fill(v) : v;
}

/** Whether one value meets a condition (every operator given). */
export function meets(v: unknown, c: Cond, fill: Fill = (s) => s): boolean {
  const present = v !== undefined && v !== null;
  if (c.exists !== undefined && c.exists !== present) return false;
  if ('equals' in c && !valuesEqual(v ?? null, fillValue(c.equals, fill))) return false;
  if ('notEquals' in c && valuesEqual(v ?? null, fillValue(c.notEquals, fill))) return false;
  if (c.oneOf && !c.oneOf.some((o) => valuesEqual(v ?? null, fillValue(o, fill)))) return false;
  if (c.matches !== undefined) {
    if (!present) return false;
    if (!new RegExp(fill(c.matches, true), c.flags ?? '').test(show(v, Infinity))) return false;
  }
  if (c.includes !== undefined && (!present || !show(v, Infinity).includes(fill(c.includes)))) return false;
  for (const op of ['gte', 'lte', 'gt', 'lt'] as const) {
    if (c[op] === undefined) continue;
    const a = asInteger(v);
    const b = asInteger(fillValue(c[op], fill));
    if (a === null || b === null) return false;
    if (op === 'gte' && !(a >= b)) return false;
    if (op === 'lte' && !(a <= b)) return false;
    if (op === 'gt' && !(a > b)) return false;
    if (op === 'lt' && !(a < b)) return false;
  }
  return true;
}

/** A path condition holds when some value at the path meets it (exists:false: none present). */
function jsonCondHolds(json: unknown, jc: JsonCond, fill: Fill): { ok: boolean; actual: string } {
  const vals = select(json, jc.path);
  const actual = vals.length === 0 ? '(absent)' : vals.length === 1 ? show(vals[0]) : show(vals);
  if (vals.length === 0) return { ok: meets(undefined, jc, fill), actual };
  if (jc.exists === false) return { ok: vals.every((v) => v === null), actual };
  return { ok: vals.some((v) => meets(v, jc, fill)), actual };
}

/** Elements of the arrays a path reaches (a non-array value counts as one element). */
function elements(json: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  for (const v of select(json, path)) {
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return out;
}

function elementMeets(el: unknown, where: Record<string, Cond>, fill: Fill): boolean {
  return Object.entries(where).every(([p, c]) => {
    const vals = select(el, p);
    if (vals.length === 0) return meets(undefined, c, fill);
    return vals.some((v) => meets(v, c, fill));
  });
}

/** "check = zeroed-head; object = 0x..." for the fields a where tested (what the user wants to see). */
function whereValues(el: unknown, where: Record<string, Cond>): string {
  const parts = Object.keys(where).map((p) => {
    const v = select(el, p);
    return `${p === '' || p === '.' ? 'value' : p} = ${v.length === 0 ? '(absent)' : show(v[0], 60)}`;
  });
  return show(parts.join('; '), 160);
}

function describeWhere(where: Record<string, Cond>): string {
  return Object.entries(where)
    .map(([p, c]) => `${p || '.'} ${Object.entries(c).map(([k, v]) => `${k} ${show(v, 60)}`).join(' ')}`)
    .join(', ');
}

// ---------------------------------------------------------------------------- checks

function list<T>(x: T | T[] | undefined): T[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

function firstLines(text: string, n = 2): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const s = lines.slice(0, n).join(' ⏎ ');
  return show(s || '(no text)', 160);
}

/**
 * Test one command outcome against an expectation. Returns the first failure (with the actual
 * value) or a pass with the most telling actual value.
 */
export function evaluateExpect(out: CommandOutcome, e: Expect, fill: Fill): { ok: boolean; actual: string; reason?: string } {
  const wantOk = e.ok ?? true;
  if (!out.ok) {
    if (wantOk) return { ok: false, actual: `error: ${out.error ?? 'unknown'}`, reason: 'the command failed' };
    if (e.error && !meets(out.error ?? '', e.error, fill)) return { ok: false, actual: `error: ${out.error}`, reason: 'not the expected error' };
    return { ok: true, actual: `error: ${out.error}` };
  }
  if (!wantOk) return { ok: false, actual: firstLines(out.text), reason: 'the command succeeded; an error was expected' };
  let actual = '';
  const flags = e.flags ?? '';
  for (const re of list(e.textMatches)) {
    const m = new RegExp(fill(re, true), flags).exec(out.text);
    if (!m) return { ok: false, actual: firstLines(out.text), reason: `the text does not match /${fill(re, true)}/` };
    actual ||= show(m[0].trim(), 160);
  }
  for (const re of list(e.textNotMatches)) {
    const m = new RegExp(fill(re, true), flags).exec(out.text);
    if (m) return { ok: false, actual: show(m[0].trim()), reason: `the text matches /${fill(re, true)}/` };
  }
  for (const s of list(e.textIncludes)) {
    const t = fill(s);
    if (!out.text.includes(t)) return { ok: false, actual: firstLines(out.text), reason: `the text does not contain "${t}"` };
    actual ||= show(t);
  }
  const needsJson = list(e.json).length + list(e.jsonSome).length > 0;
  if (needsJson && out.json === undefined) return { ok: false, actual: firstLines(out.text), reason: 'the command gave no JSON' };
  for (const jc of list(e.json)) {
    const r = jsonCondHolds(out.json, jc, fill);
    if (!r.ok) return { ok: false, actual: `${jc.path} = ${r.actual}`, reason: `${jc.path}: ${condText(jc, fill)}` };
    if (!actual || actual.length < 3) actual = `${jc.path} = ${r.actual}`;
    else if (actual.length < 80) actual += `; ${jc.path} = ${r.actual}`;
  }
  for (const js of list(e.jsonSome)) {
    const els = elements(out.json, js.path);
    const hits = els.filter((el) => elementMeets(el, js.where, fill));
    const countOk = js.count ? meets(hits.length, js.count, fill) : hits.length > 0;
    if (!countOk) {
      return {
        ok: false,
        actual: `${hits.length} of ${els.length} element(s) of ${js.path}`,
        reason: `${js.path}: ${js.count ? `count ${condText(js.count, fill)}` : 'no element'} with ${describeWhere(js.where)}`,
      };
    }
    actual ||= hits.length ? `${hits.length} of ${els.length} in ${js.path}: ${whereValues(hits[0], js.where)}` : `0 of ${els.length} in ${js.path}`;
  }
  return { ok: true, actual: actual || firstLines(out.text) };
}

function condText(c: Cond, fill: Fill): string {
  return Object.entries(c)
    .filter(([k]) => k !== 'path' && k !== 'flags')
    .map(([k, v]) => `${k} ${typeof v === 'string' ? fill(v, k === 'matches') : show(v, 80)}`)
    .join(', ');
}

/** The value a capture takes from an outcome, or null. */
export function captureValue(out: CommandOutcome, cap: Capture, fill: Fill): string | null {
  if ('text' in cap) {
    const m = new RegExp(fill(cap.text, true), cap.flags ?? '').exec(out.text);
    const g = m?.[cap.group ?? 1];
    return g === undefined ? null : (cap.prefix ?? '') + g;
  }
  if (out.json === undefined) return null;
  let bases: unknown[] = [out.json];
  if (cap.from !== undefined) {
    bases = elements(out.json, cap.from);
    if (cap.where) bases = bases.filter((el) => elementMeets(el, cap.where!, fill));
  }
  for (const b of bases) {
    for (const v of select(b, cap.json)) {
      if (v === null || v === undefined) continue;
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  return null;
}

/** The values a tryEach iterates: a captured JSON object's values or array's elements, in order. */
export function tryEachValues(spec: { in: string }, vars: Record<string, string>): string[] {
  let v: unknown;
  try {
    v = JSON.parse(interpolate(spec.in, vars));
  } catch (e) {
    if (e instanceof MissingVariable) throw e;
    return [];
  }
  const vals = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
  return vals.filter((x) => x !== null && x !== undefined && typeof x !== 'object').map(String);
}

/** Run one check: interpolate, run, evaluate, capture (once per value with tryEach). Never throws. */
export async function runCheck(check: Check, vars: Record<string, string>, run: RunFn): Promise<CheckResult> {
  if (!check.tryEach) return runCheckOnce(check, vars, run);
  const spec = check.tryEach;
  let values: string[];
  try {
    values = tryEachValues(spec, vars);
  } catch (e) {
    return { description: check.description, command: check.command, captured: {}, status: 'error', actual: '—', reason: e instanceof Error ? e.message : String(e) };
  }
  let last: CheckResult | null = null;
  for (const v of values) {
    const r = await runCheckOnce(check, { ...vars, [spec.var]: v }, run);
    if (r.status === 'pass') return r;
    last = r;
  }
  return {
    description: check.description,
    command: last?.command ?? check.command,
    captured: {},
    status: 'fail',
    actual: last?.actual ?? '—',
    reason: `none of the ${values.length} value(s) of ${spec.in} meets it${last?.reason ? ` (last: ${last.reason})` : ''}`,
  };
}

async function runCheckOnce(check: Check, vars: Record<string, string>, run: RunFn): Promise<CheckResult> {
  const base = { description: check.description, captured: {} as Record<string, string> };
  let command = check.command;
  try {
    command = interpolate(check.command, vars);
  } catch (e) {
    return { ...base, command, status: 'error', actual: '—', reason: e instanceof Error ? e.message : String(e) };
  }
  const fill: Fill = (s, regex) => interpolate(s, vars, regex ? escapeRegex : undefined);
  let out: CommandOutcome;
  try {
    out = await run(command);
  } catch (e) {
    out = { ok: false, text: '', error: e instanceof Error ? e.message : String(e) };
  }
  let r: { ok: boolean; actual: string; reason?: string };
  try {
    r = evaluateExpect(out, check.expect, fill);
  } catch (e) {
    return { ...base, command, status: 'error', actual: '—', reason: e instanceof Error ? e.message : String(e) };
  }
  if (!r.ok) return { ...base, command, status: 'fail', actual: r.actual, reason: r.reason };
  const captured: Record<string, string> = {};
  for (const [name, cap] of Object.entries(check.capture ?? {})) {
    let v: string | null = null;
    try {
      v = captureValue(out, cap, fill);
    } catch {
      v = null;
    }
    if (v === null) return { ...base, command, status: 'fail', actual: r.actual, reason: `could not capture \${${name}}`, captured };
    captured[name] = v;
  }
  return { ...base, command, status: 'pass', actual: r.actual, captured };
}

export interface StepResult {
  checks: CheckResult[];
  /** the variables after the step (input + what it captured) */
  vars: Record<string, string>;
  passed: boolean;
}

/** Run a step's checks in order; each sees what the earlier ones captured. */
export async function runStep(step: Step, vars: Record<string, string>, run: RunFn, onCheck?: (i: number, r: CheckResult) => void): Promise<StepResult> {
  const v = { ...vars };
  const checks: CheckResult[] = [];
  for (let i = 0; i < step.checks.length; i++) {
    const r = await runCheck(step.checks[i], v, run);
    Object.assign(v, r.captured);
    checks.push(r);
    onCheck?.(i, r);
  }
  return { checks, vars: v, passed: checks.every((c) => c.status === 'pass') };
}

// ---------------------------------------------------------------------------- views

export interface ResolvedView {
  panel: string;
  arg?: string;
  params: Record<string, string>;
  /** a console command to run (console views) */
  command?: string;
}

/** A step's view with variables filled in: aliases (address, task, cache) become the arg. */
export function resolveView(view: StepView, vars: Record<string, string>): ResolvedView {
  const fill = (s: string) => interpolate(s, vars);
  const out: ResolvedView = { panel: view.panel, params: {} };
  for (const [k, raw] of Object.entries(view)) {
    if (k === 'panel' || raw === undefined) continue;
    if (k === 'params' && typeof raw === 'object') {
      for (const [pk, pv] of Object.entries(raw)) out.params[pk] = fill(pv);
      continue;
    }
    if (typeof raw !== 'string') continue;
    const v = fill(raw);
    if (k === 'arg' || k === 'address' || k === 'task' || k === 'cache') out.arg = v;
    else if (k === 'command') out.command = v;
    else out.params[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------- validation

const EXPECT_KEYS = new Set(['ok', 'textMatches', 'textNotMatches', 'textIncludes', 'flags', 'json', 'jsonSome', 'error']);

function checkCond(c: unknown, where: string, errs: string[], extra: string[] = []): void {
  if (typeof c !== 'object' || c === null) {
    errs.push(`${where}: a condition object is needed`);
    return;
  }
  for (const k of Object.keys(c)) if (!COND_KEYS.has(k) && !extra.includes(k)) errs.push(`${where}: unknown operator "${k}"`);
  const m = (c as Cond).matches;
  if (m !== undefined) tryRegex(m.replace(VAR, 'x'), where, errs);
}

function tryRegex(re: string, where: string, errs: string[]): void {
  try {
    new RegExp(re);
  } catch (e) {
    errs.push(`${where}: bad regex /${re}/: ${e instanceof Error ? e.message : e}`);
  }
}

function tryPath(p: string, where: string, errs: string[]): void {
  try {
    parsePath(p);
  } catch (e) {
    errs.push(`${where}: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * Structural errors of a walkthrough: unknown operators (a typo would make a check pass
 * vacuously), bad regexes and paths, variables used before any check captures them, views
 * naming panels the app does not have, samples not declared.
 */
export function validateWalkthrough(w: Walkthrough): string[] {
  const errs: string[] = [];
  for (const k of ['id', 'title', 'summary', 'sample'] as const) if (typeof w[k] !== 'string' || !w[k]) errs.push(`${k} is missing`);
  if (!w.credit?.title || !w.credit?.source) errs.push('credit needs a title and a source');
  if (!w.samples || !w.samples[w.sample]) errs.push(`sample "${w.sample}" is not in samples`);
  for (const [k, s] of Object.entries(w.samples ?? {})) {
    if (!/^\/samples\/[\w.+-]+\/vmcore\.[\w-]+$/.test(s.url)) errs.push(`samples.${k}.url "${s.url}" is not a bundled sample URL`);
    if (!/^[0-9a-f]{8}$/.test(s.fingerprint)) errs.push(`samples.${k}.fingerprint "${s.fingerprint}" is not 8 hex digits`);
  }
  if (!Array.isArray(w.steps) || w.steps.length === 0) errs.push('no steps');
  const known = new Set<string>();
  (w.steps ?? []).forEach((s, si) => {
    const at = `step ${si + 1} (${s.title})`;
    if (!s.title) errs.push(`step ${si + 1}: no title`);
    const narr = Array.isArray(s.narration) ? s.narration : [s.narration];
    if (!narr.length || narr.some((p) => typeof p !== 'string' || !p.trim())) errs.push(`${at}: narration is empty`);
    if (s.sample !== undefined && !w.samples?.[s.sample]) errs.push(`${at}: sample "${s.sample}" is not in samples`);
    const uses = (str: string | undefined, what: string) => {
      if (!str) return;
      for (const m of str.matchAll(VAR)) if (m[2] && !FILTERS.has(m[2])) errs.push(`${at}: ${what} uses an unknown filter |${m[2]}`);
      for (const n of variablesIn(str)) if (!known.has(n)) errs.push(`${at}: ${what} uses \${${n}} before it is captured`);
    };
    if (s.overlay) {
      uses(s.overlay.address, 'overlay.address');
      uses(s.overlay.type, 'overlay.type');
    }
    if (s.script !== undefined) {
      if (typeof s.script.source !== 'string' || !s.script.source.trim()) errs.push(`${at}: script without source`);
      const e = s.script.expect;
      if (e) {
        for (const k of Object.keys(e)) if (!EXPECT_KEYS.has(k)) errs.push(`${at} script: unknown expectation "${k}"`);
        for (const re of [...list(e.textMatches), ...list(e.textNotMatches)]) tryRegex(re.replace(VAR, 'x'), `${at} script`, errs);
      }
    }
    if (!Array.isArray(s.checks) || (s.checks.length === 0 && !s.script)) errs.push(`${at}: no checks`);
    (s.checks ?? []).forEach((c, ci) => {
      const cat = `${at} check ${ci + 1}`;
      if (!c.description) errs.push(`${cat}: no description`);
      if (!c.command) errs.push(`${cat}: no command`);
      // tryEach's variable exists inside this check only
      const scoped = c.tryEach && !known.has(c.tryEach.var) ? c.tryEach.var : null;
      if (c.tryEach) {
        uses(c.tryEach.in, 'tryEach.in');
        if (!/^[A-Za-z_]\w*$/.test(c.tryEach.var ?? '')) errs.push(`${cat}: bad tryEach variable "${c.tryEach.var}"`);
        if (variablesIn(c.tryEach.in ?? '').length === 0) errs.push(`${cat}: tryEach.in names no captured variable`);
        known.add(c.tryEach.var);
      }
      uses(c.command, 'command');
      const e = c.expect;
      if (!e || typeof e !== 'object') {
        errs.push(`${cat}: no expect`);
        if (scoped) known.delete(scoped);
        return;
      }
      for (const k of Object.keys(e)) if (!EXPECT_KEYS.has(k)) errs.push(`${cat}: unknown expectation "${k}"`);
      const hasTest = e.textMatches || e.textIncludes || e.json || e.jsonSome || e.ok === false || e.textNotMatches;
      if (!hasTest) errs.push(`${cat}: the expectation tests nothing`);
      for (const re of [...list(e.textMatches), ...list(e.textNotMatches)]) {
        tryRegex(re.replace(VAR, 'x'), cat, errs);
        uses(re, 'expect');
      }
      for (const jc of list(e.json)) {
        if (typeof jc.path !== 'string') errs.push(`${cat}: json condition without a path`);
        else tryPath(jc.path, cat, errs);
        checkCond(jc, cat, errs, ['path']);
        for (const v of Object.values(jc)) if (typeof v === 'string') uses(v, 'expect');
      }
      for (const js of list(e.jsonSome)) {
        tryPath(js.path, cat, errs);
        if (!js.where || typeof js.where !== 'object') errs.push(`${cat}: jsonSome without where`);
        for (const [p, c] of Object.entries(js.where ?? {})) {
          tryPath(p, cat, errs);
          checkCond(c, `${cat} where ${p}`, errs);
        }
        if (js.count) checkCond(js.count, `${cat} count`, errs);
      }
      if (e.error) checkCond(e.error, `${cat} error`, errs);
      for (const [name, cap] of Object.entries(c.capture ?? {})) {
        if (!/^[A-Za-z_]\w*$/.test(name)) errs.push(`${cat}: bad variable name "${name}"`);
        if ('text' in cap) tryRegex(cap.text.replace(VAR, 'x'), `${cat} capture ${name}`, errs);
        else if ('json' in cap) {
          tryPath(cap.json, `${cat} capture ${name}`, errs);
          if (cap.from) tryPath(cap.from, `${cat} capture ${name}`, errs);
          for (const [p, cc] of Object.entries(cap.where ?? {})) {
            tryPath(p, `${cat} capture ${name}`, errs);
            checkCond(cc, `${cat} capture ${name} where ${p}`, errs);
          }
        } else errs.push(`${cat}: capture ${name} needs json or text`);
      }
      if (scoped) known.delete(scoped);
      for (const name of Object.keys(c.capture ?? {})) known.add(name);
    });
    // the view and the step's command are shown after its checks ran: they may use what they captured
    uses(s.command, 'step command');
    if (s.view) {
      if (!isPanel(s.view.panel)) errs.push(`${at}: view panel "${s.view.panel}" is not a panel of the app`);
      for (const [k, v] of Object.entries(s.view)) {
        if (typeof v === 'string') uses(v, `view.${k}`);
        else if (k === 'params' && v && typeof v === 'object') for (const pv of Object.values(v)) uses(pv, 'view.params');
      }
    }
  });
  return errs;
}
