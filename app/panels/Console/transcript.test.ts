import { describe, expect, it } from 'vitest';
import { FIRST_CAP, transcriptRows } from './transcript';

describe('console transcript rows', () => {
  const big = Array.from({ length: 100_000 }, (_, i) => `ffffffff8100${i.toString(16).padStart(4, '0')} (T) f${i}`).join('\n');
  const entries = [
    { id: 1, line: 'sym -l', result: { jobId: 'a', ok: true, text: big + '\n', ms: 1 } },
    { id: 2, line: 'bogus', result: { jobId: 'b', ok: false, text: '', error: 'unknown command', ms: 0 } },
    { id: 3, line: 'sys' },
  ];
  it('a cut output (the engine keeps the rest) ends in a show-more row; pages fetched later follow', () => {
    const first = big.split('\n').slice(0, FIRST_CAP).join('\n') + '\n';
    const cutEntries = [{ id: 1, line: 'sym -l', result: { jobId: 'a', ok: true, text: first, ms: 1, totalLines: 100_000, textKey: 'a' } }];
    let r = transcriptRows(cutEntries);
    expect(r.rows.filter((x) => x.kind === 'line')).toHaveLength(FIRST_CAP);
    expect(r.rows.find((x) => x.kind === 'more')).toMatchObject({ shown: FIRST_CAP, total: 100_000 });
    r = transcriptRows([{ ...cutEntries[0], more: [big.split('\n').slice(FIRST_CAP)] }]);
    expect(r.rows.filter((x) => x.kind === 'line')).toHaveLength(100_000);
    expect(r.rows.some((x) => x.kind === 'more')).toBe(false);
  });
  it('caps a big output with a show-more row, errors and running rows', () => {
    const { rows, width } = transcriptRows(entries, { 1: FIRST_CAP });
    const lines = rows.filter((r) => r.kind === 'line' && r.entry.id === 1);
    expect(lines).toHaveLength(FIRST_CAP);
    const more = rows.find((r) => r.kind === 'more');
    expect(more).toMatchObject({ shown: FIRST_CAP, total: 100_000 });
    expect(rows.some((r) => r.kind === 'error' && r.text === 'unknown command')).toBe(true);
    expect(rows.some((r) => r.kind === 'running' && r.entry.id === 3)).toBe(true);
    expect(width).toBeGreaterThan(20);
  });
  it('shows more when unfolded', () => {
    const { rows } = transcriptRows(entries);
    expect(rows.filter((r) => r.kind === 'line').length).toBe(100_000);
    expect(rows.some((r) => r.kind === 'more')).toBe(false);
  });
});
