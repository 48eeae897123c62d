import { describe, expect, it } from 'vitest';
import { decodeScript, encodeScript } from './link';

describe('script links', () => {
  it('round-trips source (unicode, long) and compresses', () => {
    const src = "// ünïcode ✓\nfor (const t of prog.tasks()) print(t.pid.value(), t.comm.string());\n".repeat(50);
    const code = encodeScript(src);
    expect(code).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(code.length).toBeLessThan(src.length / 4);
    expect(decodeScript(code)).toBe(src);
  });
  it('rejects a damaged link instead of giving wrong source', () => {
    const code = encodeScript('return prog.tasks().length;');
    expect(() => decodeScript(code.slice(0, code.length - 6))).toThrow();
    expect(() => decodeScript('a b')).toThrow();
  });
});
