import { describe, expect, it } from 'vitest';
import { LINK_RE, segments, type Segment } from './common';
import { isPointerText } from '../pointers';

/** The definition: each piece between cut points, in the link and the highlights that hold it. */
function reference(text: string, highlight: [number, number][]): Segment[] {
  const links: [number, number][] = [];
  const re = new RegExp(LINK_RE.source, LINK_RE.flags);
  for (let m = re.exec(text); m; m = re.exec(text)) if (m[0].includes('+') || isPointerText(m[0], null)) links.push([m.index, m.index + m[0].length]);
  const hls = highlight.filter(([x, y]) => x < y);
  if (links.length === 0 && hls.length === 0) return [{ text }];
  const pts = [...new Set([0, text.length, ...links.flat(), ...hls.flat()])].sort((a, b) => a - b);
  const out: Segment[] = [];
  for (let i = 0; i + 1 < pts.length; i++) {
    const [a, b] = [pts[i], pts[i + 1]];
    const l = links.find(([x, y]) => a >= x && b <= y);
    out.push({ text: text.slice(a, b), link: l ? text.slice(l[0], l[1]) : undefined, hl: hls.some(([x, y]) => a >= x && b <= y) });
  }
  return out;
}

describe('segments: links and highlights of a text', () => {
  it('matches the definition on texts with adjacent links, overlapping and empty highlights', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const words = ['ffff888004c99000', '0xffffffff81000000', 'skb_release_data+0x1d/0x120', 'RAX:', '0000000000000106', ' ', '\n', 'task', 'ffffea0000132640'];
    for (let k = 0; k < 200; k++) {
      let text = '';
      for (let w = rnd(30); w >= 0; w--) text += words[rnd(words.length)] + (rnd(3) ? ' ' : '');
      const hl: [number, number][] = [];
      for (let h = rnd(4); h > 0; h--) {
        const a = rnd(text.length + 1);
        hl.push([a, Math.min(text.length, a + rnd(40))]);
      }
      if (rnd(5) === 0) hl.push([5, 2]); // backwards: ignored
      const got = segments(text, hl, null);
      expect(got.map((s) => s.text).join('')).toBe(text);
      expect(got).toEqual(reference(text, hl));
    }
  });

  it('a text of 20k addresses: every one a link, in order', () => {
    const addrs = Array.from({ length: 20000 }, (_, i) => (0xffff888000000000n + BigInt(i) * 0x40n).toString(16));
    const text = addrs.map((a) => `  ${a}  (cpu 0 cache)`).join('\n');
    const links = segments(text, [[0, 20]], null).filter((s) => s.link).map((s) => s.link);
    expect(new Set(links).size).toBe(20000);
    expect([...new Set(links)]).toEqual(addrs);
  });
});
