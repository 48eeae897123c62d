import { describe, expect, it } from 'vitest';
import { buildLogRows, findMatches, matchRanges } from './model';

const TEXT = `[    0.000000] Linux version 6.1.0
[    3.717028] Kernel panic - not syncing: Fatal exception
[    3.717028] Kernel Offset: disabled
`;

describe('log model', () => {
  it('takes rows from text and levels from records', () => {
    const rows = buildLogRows(TEXT, [
      { text: 'Linux version 6.1.0', level: 5 },
      { text: 'Kernel panic - not syncing: Fatal exception', level: 0 },
      { text: 'Kernel Offset: disabled', level: 0 },
    ]);
    expect(rows.map((r) => r.level)).toEqual([5, 0, 0]);
    expect(rows[1].hot).toBe(true);
  });
  it('matches multi-line records in order', () => {
    const rows = buildLogRows('[ 1.0] a\n b-cont\n[ 2.0] c\n', [
      { text: 'a\n b-cont', level: 4 },
      { text: 'c', level: 6 },
    ]);
    expect(rows.map((r) => r.level)).toEqual([4, 4, 6]);
  });
  it('works without json', () => {
    expect(buildLogRows(TEXT, undefined)).toHaveLength(3);
  });
  it('searches substrings and regexes', () => {
    const rows = buildLogRows(TEXT, undefined);
    expect(findMatches(rows, 'kernel')).toEqual([1, 2]);
    expect(findMatches(rows, '/^\\[ +0\\./')).toEqual([0]);
    expect(findMatches(rows, '/[/')).toEqual([]);
    expect(matchRanges('a.b a.b', 'a.b')).toEqual([
      [0, 3],
      [4, 7],
    ]);
  });
});

import { segments } from '../common';
describe('log links', () => {
  it('links kernel addresses and symbol+off only', () => {
    const links = (t: string) => segments(t).filter((s) => s.link).map((s) => s.link);
    expect(links('BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable')).toEqual([]);
    expect(links('RIP: 0010:skb_release_data+0x11d/0x1b0')).toEqual(['skb_release_data+0x11d/0x1b0']);
    expect(links('RSP: 0018:ffffc90000443b90 EFLAGS: 00000206')).toEqual(['ffffc90000443b90']);
    expect(links('? 0xffffffffc020c000')).toEqual(['0xffffffffc020c000']);
  });
});
