/**
 * The log panel's data: rows from `log --json` (text as crash prints it, levels from the JSON
 * records when it has them). Pure functions, unit-tested beside.
 */
import type { LogRecordJson } from '../../engine';

export interface LogRow {
  text: string;
  /** syslog level 0..7 when known */
  level?: number;
  /** a line a kernel engineer looks for first (panic, BUG, Oops, RIP, Call Trace) */
  hot?: boolean;
}

const HOT_RE = /Kernel panic|BUG:|Oops|general protection fault|Call Trace:|RIP: |unable to handle|WARNING:|Poison overwritten|kernel BUG at|Fatal exception|---\[ end/;

/** What the rows need of a `log --json` record (the engine's LogRecordJson). */
type Rec = Pick<LogRecordJson, 'text' | 'level'>;

/** "[    3.717028] text" -> "text" */
function body(line: string): string {
  const m = /^\[\s*\d+\.\d+\]\s?/.exec(line);
  return m ? line.slice(m[0].length) : line;
}

/**
 * Rows from the command's text (authoritative: crash's layout), levels matched from the JSON
 * records in order. Without text, rows come from the records themselves.
 */
export function buildLogRows(text: string, recs: readonly Rec[] = []): LogRow[] {
  let lines = text ? text.replace(/\n$/, '').split('\n') : [];
  if (lines.length === 0 && recs.length) lines = recs.flatMap((r) => r.text.replace(/\n$/, '').split('\n'));
  const rows: LogRow[] = lines.map((t) => ({ text: t, hot: HOT_RE.test(t) || undefined }));
  if (recs.some((r) => r.level !== null)) {
    if (recs.length === rows.length) {
      recs.forEach((r, i) => (rows[i].level = r.level ?? undefined));
    } else {
      // walk both in order: a record starts at the next row whose body starts with its first line
      let li = 0;
      for (const r of recs) {
        const first = r.text.split('\n')[0].trimEnd();
        if (!first) continue;
        for (let j = li; j < Math.min(rows.length, li + 64); j++) {
          const b = body(rows[j].text).trimEnd();
          if (b === first || b.startsWith(first) || first.startsWith(b)) {
            rows[j].level = r.level ?? undefined;
            li = j + 1;
            break;
          }
        }
      }
      // continuation lines take the level of the record they continue
      let lv: number | undefined;
      for (const r of rows) {
        if (r.level !== undefined) lv = r.level;
        else r.level = lv;
      }
    }
  }
  return rows;
}

/** A search: /regex/flags or a case-insensitive substring. null when empty or invalid. */
export function searchRe(query: string): RegExp | null {
  if (!query) return null;
  const m = /^\/(.+)\/([a-z]*)$/.exec(query);
  if (m) {
    try {
      return new RegExp(m[1], m[2].includes('i') ? 'gi' : 'g' + (m[2] ? '' : 'i'));
    } catch {
      return null;
    }
  }
  return new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
}

export function findMatches(rows: LogRow[], query: string): number[] {
  const re = searchRe(query);
  if (!re) return [];
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    re.lastIndex = 0;
    if (re.test(rows[i].text)) out.push(i);
  }
  return out;
}

export function matchRanges(text: string, query: string): [number, number][] {
  const re = searchRe(query);
  if (!re) return [];
  const out: [number, number][] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m && out.length < 100; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push([m.index, m.index + m[0].length]);
  }
  return out;
}
