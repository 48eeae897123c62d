/**
 * The console transcript as rows of one line each, for a virtualized view: a prompt row per
 * command, then its output lines (up to a cap per entry, with a "show more" row), or its error,
 * or "running". Splitting a result into lines happens once per result (WeakMap), so a 100k-line
 * `sym -l` costs one split, and rendering costs only the rows on screen.
 */
import type { RunResult } from '../../engine';
import type { ConsoleEntry } from '../../store';

/** Lines of one entry shown before "show more" (the engine sends those), and how many more each click fetches. */
export { CONSOLE_FIRST_LINES as FIRST_CAP } from '../../store';
export const MORE_STEP = 20000;

export type Row =
  | { kind: 'prompt'; entry: ConsoleEntry }
  | { kind: 'line'; entry: ConsoleEntry; text: string; n: number }
  | { kind: 'more'; entry: ConsoleEntry; shown: number; total: number }
  | { kind: 'error'; entry: ConsoleEntry; text: string }
  | { kind: 'running'; entry: ConsoleEntry }
  | { kind: 'gap'; entry: ConsoleEntry };

export function outputText(r: { text: string; json?: unknown }, line: string): string {
  if (/(^|\s)--json(\s|$)/.test(line) && r.json !== undefined) return JSON.stringify(r.json, null, 1);
  return r.text || (r.json !== undefined ? JSON.stringify(r.json, null, 1) : '');
}

const split = new WeakMap<RunResult, { lines: string[]; width: number }>();

/** The result's output lines and the longest line's length (for the horizontal scroll width). */
export function resultLines(r: RunResult, line: string): { lines: string[]; width: number } {
  let hit = split.get(r);
  if (!hit) {
    const t = outputText(r, line).replace(/\n$/, '');
    const lines = t === '' ? [] : t.split('\n');
    let width = 0;
    for (const l of lines) if (l.length > width) width = l.length;
    hit = { lines, width };
    split.set(r, hit);
  }
  return hit;
}

/**
 * Rows of the transcript. A long output arrives cut (result.totalLines): its first lines, then
 * the pages fetched by "show more" (entry.more), then a "more" row while lines remain. `shown`
 * can cap an entry further (lines already here).
 */
export function transcriptRows(entries: ConsoleEntry[], shown: Record<number, number> = {}, live?: Map<number, string[][]>): { rows: Row[]; width: number } {
  const rows: Row[] = [];
  let width = 0;
  for (const entry of entries) {
    rows.push({ kind: 'prompt', entry });
    width = Math.max(width, entry.line.length + 8);
    const r = entry.result;
    // lines streamed while the command ran come first (they are not in the result's text)
    const chunks = entry.stream ?? (entry.result ? undefined : live?.get(entry.id));
    const streamed = chunks?.length ? ([] as string[]).concat(...chunks) : [];
    for (const l of streamed) if (l.length > width) width = l.length;
    if (!r || !r.ok) {
      const cap = Math.min(streamed.length, shown[entry.id] ?? streamed.length);
      for (let i = 0; i < cap; i++) rows.push({ kind: 'line', entry, text: streamed[i], n: i });
    }
    if (!r) rows.push({ kind: 'running', entry });
    else if (!r.ok) rows.push({ kind: 'error', entry, text: r.error ?? 'failed' });
    else {
      const first = resultLines(r, entry.line);
      width = Math.max(width, first.width);
      const lines = streamed.length || entry.more?.length ? streamed.concat(first.lines, ...(entry.more ?? [])) : first.lines;
      for (const c of entry.more ?? []) for (const l of c) if (l.length > width) width = l.length;
      const total = Math.max(r.totalLines ?? lines.length, lines.length);
      const cap = Math.min(lines.length, shown[entry.id] ?? lines.length);
      for (let i = 0; i < cap; i++) rows.push({ kind: 'line', entry, text: lines[i], n: i });
      if (cap < total) rows.push({ kind: 'more', entry, shown: cap, total });
    }
    rows.push({ kind: 'gap', entry });
  }
  return { rows, width };
}
