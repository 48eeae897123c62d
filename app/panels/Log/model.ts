/**
 * The log panel's data: rows from `log --json` (text as crash prints it, levels from the JSON
 * records when it has them). Pure functions, unit-tested beside.
 */

export interface LogRow {
  text: string;
  /** syslog level 0..7 when known */
  level?: number;
  /** a line a kernel engineer looks for first (panic, BUG, Oops, RIP, Call Trace) */
  hot?: boolean;
}

const LEVEL_NAMES: Record<string, number> = {
  emerg: 0, alert: 1, crit: 2, err: 3, error: 3, warn: 4, warning: 4, notice: 5, info: 6, debug: 7,
};

const HOT_RE = /Kernel panic|BUG:|Oops|general protection fault|Call Trace:|RIP: |unable to handle|WARNING:|Poison overwritten|kernel BUG at|Fatal exception|---\[ end/;

interface Rec {
  text: string;
  level?: number;
}

function toLevel(v: unknown): number | undefined {
  if (typeof v === 'number' && v >= 0 && v <= 7) return v;
  if (typeof v === 'string') {
    if (/^\d$/.test(v)) return Number(v);
    return LEVEL_NAMES[v.toLowerCase().replace(/^kern_/, '')];
  }
  return undefined;
}

function records(json: unknown): Rec[] {
  let arr: unknown = json;
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    arr = o.records ?? o.lines ?? o.log ?? o.entries;
  }
  if (!Array.isArray(arr)) return [];
  const out: Rec[] = [];
  for (const r of arr) {
    if (typeof r === 'string') out.push({ text: r });
    else if (r && typeof r === 'object') {
      const o = r as Record<string, unknown>;
      const text = o.text ?? o.message ?? o.msg ?? o.line ?? '';
      out.push({ text: String(text), level: toLevel(o.level ?? o.loglevel ?? o.lvl ?? o.severity) });
    }
  }
  return out;
}

/** "[    3.717028] text" -> "text" */
function body(line: string): string {
  const m = /^\[\s*\d+\.\d+\]\s?/.exec(line);
  return m ? line.slice(m[0].length) : line;
}

/**
 * Rows from the command's text (authoritative: crash's layout), levels matched from the JSON
 * records in order. Without text, rows come from the records themselves.
 */
export function buildLogRows(text: string, json: unknown): LogRow[] {
  const recs = records(json);
  let lines = text ? text.replace(/\n$/, '').split('\n') : [];
  if (lines.length === 0 && recs.length) lines = recs.flatMap((r) => r.text.replace(/\n$/, '').split('\n'));
  const rows: LogRow[] = lines.map((t) => ({ text: t, hot: HOT_RE.test(t) || undefined }));
  if (recs.some((r) => r.level !== undefined)) {
    if (recs.length === rows.length) {
      recs.forEach((r, i) => (rows[i].level = r.level));
    } else {
      // walk both in order: a record starts at the next row whose body starts with its first line
      let li = 0;
      for (const r of recs) {
        const first = r.text.split('\n')[0].trimEnd();
        if (!first) continue;
        for (let j = li; j < Math.min(rows.length, li + 64); j++) {
          const b = body(rows[j].text).trimEnd();
          if (b === first || b.startsWith(first) || first.startsWith(b)) {
            rows[j].level = r.level;
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
