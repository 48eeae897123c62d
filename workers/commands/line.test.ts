import { describe, it, expect } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand, parseLine, applyFilter, tokenize } from './registry';
import './index';

describe('the line language: pipes, --json anywhere', () => {
  it('splits words at any whitespace; quotes group and escape; an empty quoted word is a word', () => {
    expect(tokenize('  kmem\t-s   kmalloc-1k \n')).toEqual(['kmem', '-s', 'kmalloc-1k']);
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' \t ')).toEqual([]);
    expect(tokenize('a\\b c')).toEqual(['a\\b', 'c']); // outside quotes a backslash is a character
    expect(tokenize('grep "a  b" \'c\\\'d\' ""')).toEqual(['grep', 'a  b', "c'd", '']);
    expect(tokenize('x"y z"w')).toEqual(['xy zw']);
    expect(() => tokenize('echo "open')).toThrow(/unterminated quote/);
  });
  it('parses filters only after a pipe followed by a filter name', () => {
    expect(parseLine('kmem -s | grep kmalloc | head 3')).toEqual({ command: 'kmem -s', json: false, filters: [['grep', 'kmalloc'], ['head', '3']] });
    expect(parseLine('eval 1 | 2').filters).toEqual([]);
    expect(parseLine('ps --json | grep bash')).toEqual({ command: 'ps', json: true, filters: [['grep', 'bash']] });
    expect(parseLine('log | grep "a | b"').filters).toEqual([['grep', 'a | b']]);
  });
  it('filters text lines and JSON array elements', () => {
    const r = { text: 'a 1\nb 2\nc 3\n', json: [{ n: 'a' }, { n: 'b' }, { n: 'c' }] };
    expect(applyFilter(r, ['grep', '-v', 'b'])).toEqual({ text: 'a 1\nc 3\n', json: [{ n: 'a' }, { n: 'c' }] });
    expect(applyFilter(r, ['head', '-n', '2']).text).toBe('a 1\nb 2\n');
    expect(applyFilter(r, ['tail', '1']).json).toEqual([{ n: 'c' }]);
    expect(applyFilter(r, ['count']).text).toBe('3\n');
    expect(applyFilter(r, ['grep', '-c', '[ab]']).text).toBe('2\n');
    expect(() => applyFilter(r, ['sort'])).toThrow(/unknown filter/);
  });
});

const name = '6.1-skb-uaf-0x106';
const d = sharedDump(name);
describe.skipIf(!d)(`on ${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
  it('kmem -s | grep, ps | count, --json anywhere', () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const all = runCommand({ prog }, 'kmem -s');
    const g = runCommand({ prog }, 'kmem -s | grep kmalloc-1k');
    expect(g.text).toBe(all.text.split('\n').filter((l) => l.includes('kmalloc-1k')).join('\n') + '\n');
    expect((g.json as any[]).map((c) => c.name)).toEqual(['dma-kmalloc-1k', 'kmalloc-1k']);
    expect((runCommand({ prog }, 'kmem -s | grep -w ^kmalloc-1k').json as any[]).length).toBeLessThanOrEqual(1);
    const ps = d!.oracleJson<any[]>('ps.json');
    expect(runCommand({ prog }, 'ps | count').text).toBe(`${ps.length + 1}\n`); // + the header line
    const j = runCommand({ prog }, 'ps --json | grep insmod');
    expect(j.asJson).toBe(true);
    expect((j.json as any[]).map((t) => t.comm)).toEqual(ps.filter((t) => t.comm.includes('insmod')).map((t) => t.comm));
    expect(runCommand({ prog }, '--json sys').asJson).toBe(true);
  }, 60_000);

  it('net and mount are crash commands, never the struct of that name', () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    for (const c of ['net', 'mount']) {
      let text = '';
      try {
        text = runCommand({ prog }, c).text;
      } catch (e) {
        expect((e as Error).message).toMatch(new RegExp(`^${c}: crash's|${c}`));
        continue;
      }
      expect(text).not.toMatch(/^struct (net|mount) \{/);
    }
  });

  // crash's `foreach bt -s` (oracle/bt-foreach-s.txt): every task that is not running on a CPU
  // has the same block; the running ones differ by unwinder (crash's heuristic vs ORC, README)
  it('foreach bt -s equals crash for every sleeping task; foreach UN / name / pid select', () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const r = runCommand({ prog }, 'foreach bt -s');
    const blocks = (t: string) => t.trimEnd().split(/\n\n(?=PID:)/);
    const got = blocks(r.text);
    const want = blocks(d!.oracle('bt-foreach-s.txt'));
    expect(got.map((b) => b.split('\n')[0])).toEqual(want.map((b) => b.split('\n')[0]));
    const ps = d!.oracleJson<any[]>('ps.json');
    const active = new Set(ps.filter((t) => t.active).map((t) => t.task.slice(2)));
    want.forEach((b, i) => {
      const task = /TASK: ([0-9a-f]+)/.exec(b)![1];
      if (!active.has(task)) expect(got[i], b.split('\n')[0]).toBe(b);
    });
    const un = ps.filter((t) => t.state === 'UN');
    const ru = runCommand({ prog }, 'foreach RU bt').text;
    expect((ru.match(/^PID:/gm) ?? []).length).toBe(ps.filter((t) => t.state === 'RU').length);
    if (un.length) expect((runCommand({ prog }, 'foreach UN bt').text.match(/^PID:/gm) ?? []).length).toBe(un.length);
    expect(runCommand({ prog }, 'foreach 1 bt').text).toMatch(/^PID: 1 /);
    expect(runCommand({ prog }, 'foreach insmod bt').text).toMatch(/COMMAND: "insmod"/);
  }, 120_000);
});
