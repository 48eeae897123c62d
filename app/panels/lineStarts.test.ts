import { describe, expect, it } from 'vitest';
import { lineStarts } from './common';

/** A long text's lines found by offset (BigText) are its lines as split() gives them. */
describe('lineStarts', () => {
  const lines = (t: string) => {
    const s = lineStarts(t);
    return Array.from({ length: s.length - 1 }, (_, i) => t.slice(s[i], s[i + 1] - 1));
  };
  it.each(['a\nb', 'a\nb\n', 'a\n\nb\n', '\n', 'one', '', 'x\n\n'])('%j', (t) => {
    expect(lines(t)).toEqual(t.replace(/\n$/, '').split('\n'));
  });
  it('a million lines', () => {
    const t = Array.from({ length: 1_000_000 }, (_, i) => `  [ffff8881${i.toString(16).padStart(8, '0')}]`).join('\n') + '\n';
    const s = lineStarts(t);
    expect(s.length - 1).toBe(1_000_000);
    expect(t.slice(s[123456], s[123457] - 1)).toBe(`  [ffff8881${(123456).toString(16).padStart(8, '0')}]`);
  });
});
