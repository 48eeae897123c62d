import { describe, expect, it } from 'vitest';
import {
  asInteger,
  captureValue,
  evaluateExpect,
  interpolate,
  meets,
  MissingVariable,
  parsePath,
  resolveView,
  runCheck,
  runStep,
  select,
  validateWalkthrough,
} from './checks';
import type { CommandOutcome, RunFn, Step, Walkthrough } from './types';
import { registerPanelIds } from '../permalink';

registerPanelIds(['summary', 'log', 'mem', 'bt', 'slabs', 'console']);

const BT: CommandOutcome = {
  ok: true,
  text: 'PID: 120  TASK: ffff888006210000\n    [exception RIP: skb_release_data+285]\n',
  json: [
    {
      pid: 120,
      frames: [
        { level: 0, symbol: 'delay_tsc', exception: null },
        { level: 5, symbol: 'skb_release_data', offset: 285, exception: { RIP: '0xffffffff817c0c2d', RDI: '0x106', R13: '0xffff888005041e00' } },
        { level: 6, symbol: 'kfree_skb_reason', exception: null },
      ],
    },
  ],
};
const id = (s: string) => s;

describe('paths', () => {
  it('parses keys, indices, wildcards and quoted keys', () => {
    expect(parsePath('[0].frames[*].exception.R13')).toEqual([
      { kind: 'index', index: 0 },
      { kind: 'key', key: 'frames' },
      { kind: 'all' },
      { kind: 'key', key: 'exception' },
      { kind: 'key', key: 'R13' },
    ]);
    expect(parsePath('a["x y"][-1]')).toEqual([
      { kind: 'key', key: 'a' },
      { kind: 'key', key: 'x y' },
      { kind: 'index', index: -1 },
    ]);
    expect(parsePath('')).toEqual([]);
    expect(() => parsePath('a..b')).toThrow(/bad path/);
    expect(() => parsePath('a[x]')).toThrow(/bad path/);
  });
  it('selects through arrays and leaves absent values out', () => {
    expect(select(BT.json, '[0].frames[*].exception.R13')).toEqual(['0xffff888005041e00']);
    expect(select(BT.json, '[0].frames[-1].symbol')).toEqual(['kfree_skb_reason']);
    expect(select(BT.json, '[0].frames[9].symbol')).toEqual([]);
    expect(select(BT.json, '[0].nothing.deeper')).toEqual([]);
    expect(select({ a: 1 }, '.')).toEqual([{ a: 1 }]);
  });
});

describe('conditions', () => {
  it('compares integers whatever their spelling', () => {
    expect(asInteger('0x2c0')).toBe(704n);
    expect(asInteger('704')).toBe(704n);
    expect(asInteger(704)).toBe(704n);
    expect(asInteger('-0x10')).toBe(-16n);
    expect(asInteger('kmalloc-1k')).toBeNull();
    expect(meets('0x106', { equals: 262 })).toBe(true);
    expect(meets(704, { equals: '0x2c0' })).toBe(true);
    expect(meets('kmalloc-1k', { equals: 'kmalloc-1k' })).toBe(true);
    expect(meets('kmalloc-1k', { equals: 'kmalloc-2k' })).toBe(false);
    expect(meets(0, { equals: null })).toBe(false);
    expect(meets(null, { equals: null })).toBe(true);
  });
  it('matches, oneOf, includes, exists and ranges', () => {
    expect(meets('struct request + PDU (driver command)', { matches: '^struct request \\+' })).toBe(true);
    expect(meets('Struct', { matches: '^struct', flags: 'i' })).toBe(true);
    expect(meets('allocated', { oneOf: ['free', 'allocated'] })).toBe(true);
    expect(meets('cpu-free', { oneOf: ['free', 'allocated'] })).toBe(false);
    expect(meets('abc', { includes: 'b' })).toBe(true);
    expect(meets(undefined, { exists: false })).toBe(true);
    expect(meets(null, { exists: true })).toBe(false);
    expect(meets(5, { gte: 5, lt: '0x6' })).toBe(true);
    expect(meets(5, { gt: 5 })).toBe(false);
    expect(meets('x', { gte: 1 })).toBe(false);
    // every operator given must hold
    expect(meets('0x106', { equals: '0x106', matches: '^0x2' })).toBe(false);
  });
});

describe('expectations', () => {
  it('text regexes and substrings, with the matched text as the actual value', () => {
    const out = { ok: true, text: '  frag_list = 0x106,\n' };
    expect(evaluateExpect(out, { textMatches: 'frag_list = 0x106\\b' }, id)).toEqual({ ok: true, actual: 'frag_list = 0x106' });
    const bad = evaluateExpect(out, { textMatches: 'frag_list = 0x0\\b' }, id);
    expect(bad.ok).toBe(false);
    expect(bad.actual).toBe('frag_list = 0x106,');
    expect(evaluateExpect(out, { textIncludes: '0x106', textNotMatches: 'NULL' }, id).ok).toBe(true);
    expect(evaluateExpect(out, { textNotMatches: '0x1' }, id).ok).toBe(false);
  });
  it('json paths: some value at a wildcard path must meet the condition', () => {
    expect(evaluateExpect(BT, { json: { path: '[0].frames[*].symbol', equals: 'skb_release_data' } }, id).ok).toBe(true);
    const r = evaluateExpect(BT, { json: { path: '[0].pid', equals: 121 } }, id);
    expect(r).toMatchObject({ ok: false, actual: '[0].pid = 120' });
    expect(evaluateExpect(BT, { json: { path: '[0].frames[1].exception.RSI', exists: false } }, id).ok).toBe(true);
  });
  it('jsonSome: one element meets every where condition', () => {
    const where = { 'exception.RIP': { exists: true }, symbol: { equals: 'skb_release_data' } };
    expect(evaluateExpect(BT, { jsonSome: { path: '[0].frames', where } }, id)).toEqual({
      ok: true,
      actual: '1 of 3 in [0].frames: exception.RIP = 0xffffffff817c0c2d; symbol = skb_release_data',
    });
    const r = evaluateExpect(BT, { jsonSome: { path: '[0].frames', where: { 'exception.RIP': { exists: true }, symbol: { equals: 'kfree_skb_reason' } } } }, id);
    expect(r.ok).toBe(false);
    expect(r.actual).toBe('0 of 3 element(s) of [0].frames');
    expect(evaluateExpect(BT, { jsonSome: { path: '[0].frames', where: { exception: { exists: false } }, count: { equals: 2 } } }, id).ok).toBe(true);
  });
  it('a failed command fails the check with its error, unless an error is expected', () => {
    const err = { ok: false, text: '', error: 'struct: invalid data structure reference: scsi_cmnd' };
    expect(evaluateExpect(err, { textMatches: 'x' }, id)).toMatchObject({ ok: false, actual: 'error: struct: invalid data structure reference: scsi_cmnd' });
    expect(evaluateExpect(err, { ok: false, error: { matches: 'scsi_cmnd' } }, id).ok).toBe(true);
    expect(evaluateExpect({ ok: true, text: 'x' }, { ok: false }, id).ok).toBe(false);
  });
  it('no JSON where JSON is tested is a failure, not a pass', () => {
    expect(evaluateExpect({ ok: true, text: 'x' }, { json: { path: 'a', exists: false } }, id).ok).toBe(false);
  });
});

describe('variables', () => {
  it('interpolates and names every missing variable', () => {
    expect(interpolate('eval ${head} + ${end}', { head: '0xffff888005ec9800', end: '704' })).toBe('eval 0xffff888005ec9800 + 704');
    expect(interpolate('${a|bare} ${a|dec} ${b|hex} ${c|bare}', { a: '0x2c8', b: '712', c: 'kmalloc-1k' })).toBe('2c8 712 0x2c8 kmalloc-1k');
    expect(() => interpolate('${a|nope}', { a: '1' })).toThrow(/unknown filter/);
    expect(() => interpolate('x ${a} ${b} ${a}', {})).toThrow(MissingVariable);
    expect(() => interpolate('x ${a} ${b}', {})).toThrow('needs ${a}, ${b}');
  });
  it('captures from JSON (first element meeting where) and from text', () => {
    const fill = id;
    expect(captureValue(BT, { json: 'exception.R13', from: '[0].frames', where: { symbol: { equals: 'skb_release_data' } } }, fill)).toBe('0xffff888005041e00');
    expect(captureValue(BT, { json: '[0].pid' }, fill)).toBe('120');
    expect(captureValue(BT, { json: '[0].frames[*].exception.R13' }, fill)).toBe('0xffff888005041e00');
    expect(captureValue({ ok: true, text: '  head = 0xffff888005ec9800 "",' }, { text: 'head = (0x[0-9a-f]+)' }, fill)).toBe('0xffff888005ec9800');
    expect(captureValue({ ok: true, text: 'hexadecimal: ffff888005ec9ac0' }, { text: 'hexadecimal: ([0-9a-f]+)', prefix: '0x' }, fill)).toBe('0xffff888005ec9ac0');
    expect(captureValue({ ok: true, text: 'nothing' }, { text: 'head = (0x[0-9a-f]+)' }, fill)).toBeNull();
  });
  it('runCheck runs the interpolated command and captures only on a pass', async () => {
    const seen: string[] = [];
    const run: RunFn = async (line) => {
      seen.push(line);
      return { ok: true, text: '  frag_list = 0x106,', json: { value: { frag_list: '0x106' } } };
    };
    const r = await runCheck(
      {
        description: 'frag_list reads 0x106',
        command: 'skb_shared_info.frag_list ${shinfo}',
        expect: { json: { path: 'value.frag_list', equals: '0x106' } },
        capture: { bad: { json: 'value.frag_list' } },
      },
      { shinfo: '0xffff888005ec9ac0' },
      run,
    );
    expect(seen).toEqual(['skb_shared_info.frag_list 0xffff888005ec9ac0']);
    expect(r).toMatchObject({ status: 'pass', actual: 'value.frag_list = 0x106', captured: { bad: '0x106' } });
    const f = await runCheck({ description: 'd', command: 'x ${nope}', expect: { textMatches: '.' } }, {}, run);
    expect(f.status).toBe('error');
    expect(f.reason).toMatch(/needs \$\{nope\}/);
    const g = await runCheck({ description: 'd', command: 'x', expect: { textMatches: 'frag_list = 0x0\\b' }, capture: { v: { text: '(0x\\d+)' } } }, {}, run);
    expect(g).toMatchObject({ status: 'fail', captured: {} });
  });
  it('tryEach runs the check per value of a captured object and passes on the first that meets it', async () => {
    const seen: string[] = [];
    const objs: Record<string, unknown> = { '0xffff99f955231000': { cache: 'skbuff_head_cache', object: '0xffff99f955231000', offset: 0 } };
    const run: RunFn = async (line) => {
      seen.push(line);
      const a = line.split(' ')[1];
      return objs[a] ? { ok: true, text: '', json: objs[a] } : { ok: false, text: '', error: `whatis: ${a}: not a slab object` };
    };
    const check = {
      description: 'a register holds the skb',
      command: 'whatis ${reg}',
      tryEach: { var: 'reg', in: '${regs}' },
      expect: { json: [{ path: 'cache', equals: 'skbuff_head_cache' }, { path: 'offset', equals: 0 }] },
      capture: { skb: { json: 'object' } },
    };
    const regs = JSON.stringify({ RBX: '0x106', RBP: '0xffff99f955231000', R13: '0x2c8' });
    const r = await runCheck(check, { regs }, run);
    expect(seen).toEqual(['whatis 0x106', 'whatis 0xffff99f955231000']);
    expect(r).toMatchObject({ status: 'pass', command: 'whatis 0xffff99f955231000', captured: { skb: '0xffff99f955231000' } });
    const none = await runCheck(check, { regs: JSON.stringify({ RBX: '0x106', R13: '0x2c8' }) }, run);
    expect(none.status).toBe('fail');
    expect(none.reason).toMatch(/none of the 2 value\(s\) of \$\{regs\}/);
    expect((await runCheck(check, {}, run)).status).toBe('error');
  });
  it('a regex with a variable matches the value literally', async () => {
    const run: RunFn = async () => ({ ok: true, text: 'object 0xffff888005ec9800 of kmalloc-1k' });
    const ok = await runCheck({ description: 'd', command: 'whatis', expect: { textMatches: 'object ${obj} of' } }, { obj: '0xffff888005ec9800' }, run);
    expect(ok.status).toBe('pass');
    const no = await runCheck({ description: 'd', command: 'whatis', expect: { textMatches: 'object ${obj} of' } }, { obj: '0x.+' }, run);
    expect(no.status).toBe('fail');
  });
  it('runStep chains captures from check to check', async () => {
    const mem: Record<string, CommandOutcome> = {
      bt: BT,
      'sk_buff.head 0xffff888005041e00': { ok: true, text: '  head = 0xffff888005ec9800 "",' },
    };
    const run: RunFn = async (l) => mem[l] ?? { ok: false, text: '', error: `${l}: unknown` };
    const step: Step = {
      title: 't',
      narration: 'n',
      checks: [
        { description: 'skb', command: 'bt', expect: { textMatches: 'exception RIP' }, capture: { skb: { json: '[0].frames[*].exception.R13' } } },
        { description: 'head', command: 'sk_buff.head ${skb}', expect: { textMatches: 'head = 0x' }, capture: { head: { text: 'head = (0x[0-9a-f]+)' } } },
      ],
    };
    const r = await runStep(step, {}, run);
    expect(r.passed).toBe(true);
    expect(r.vars).toEqual({ skb: '0xffff888005041e00', head: '0xffff888005ec9800' });
  });
});

describe('views', () => {
  it('aliases become the arg, the rest params; variables are filled', () => {
    expect(resolveView({ panel: 'mem', address: '${shinfo}', type: 'skb_shared_info', off: '8' }, { shinfo: '0xffff888005ec9ac0' })).toEqual({
      panel: 'mem',
      arg: '0xffff888005ec9ac0',
      params: { type: 'skb_shared_info', off: '8' },
    });
    expect(resolveView({ panel: 'console', command: 'overlay ${head}' }, { head: '0x1' })).toEqual({ panel: 'console', params: {}, command: 'overlay 0x1' });
    expect(resolveView({ panel: 'log', params: { q: 'Poison overwritten' } }, {})).toEqual({ panel: 'log', params: { q: 'Poison overwritten' } });
  });
});

describe('validation', () => {
  const base: Walkthrough = {
    id: 'x',
    title: 'x',
    credit: { title: 't', source: 's' },
    sample: 'a',
    samples: { a: { url: '/samples/a/vmcore.kdump-zlib', fingerprint: '0123abcd', release: '6.1' } },
    summary: 's',
    steps: [
      {
        title: 'one',
        narration: 'n',
        view: { panel: 'mem', address: '${skb}' },
        checks: [{ description: 'd', command: 'bt', expect: { textMatches: 'x' }, capture: { skb: { text: '(x)' } } }],
      },
    ],
  };
  it('accepts a well-formed walkthrough (a view may use what its own step captured)', () => {
    expect(validateWalkthrough(base)).toEqual([]);
  });
  it('reports typos that would make a check pass vacuously, and variables used too early', () => {
    const w = structuredClone(base);
    w.steps[0].checks.push({ description: 'd', command: 'x ${later}', expect: { json: { path: 'a', equal: 1 } as never } });
    w.steps[0].checks.push({ description: 'd', command: 'x', expect: { textMatch: 'a' } as never });
    w.steps[0].view = { panel: 'nope' };
    const errs = validateWalkthrough(w);
    expect(errs.join('\n')).toMatch(/unknown operator "equal"/);
    expect(errs.join('\n')).toMatch(/unknown expectation "textMatch"/);
    expect(errs.join('\n')).toMatch(/uses \$\{later\} before it is captured/);
    expect(errs.join('\n')).toMatch(/panel "nope"/);
  });
  it('a script step needs source, may have no console checks, and its expectation is checked for typos', () => {
    const w = structuredClone(base);
    w.steps.push({ title: 'two', narration: 'n', script: { source: 'return 1;', expect: { textIncludes: '1' } }, checks: [] });
    expect(validateWalkthrough(w)).toEqual([]);
    w.steps.push({ title: 'three', narration: 'n', script: { source: ' ', expect: { textMatch: 'a' } as never }, checks: [] });
    w.steps.push({ title: 'four', narration: 'n', checks: [] });
    const errs = validateWalkthrough(w).join('\n');
    expect(errs).toMatch(/step 3 \(three\): script without source/);
    expect(errs).toMatch(/step 3 \(three\) script: unknown expectation "textMatch"/);
    expect(errs).toMatch(/step 4 \(four\): no checks/);
    expect(errs).not.toMatch(/step 2/);
  });
});
