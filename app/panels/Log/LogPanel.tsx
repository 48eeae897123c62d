/**
 * Log: the kernel log line for line as crash's `log` prints it, virtualized (only the visible
 * rows are in the DOM: a log can have 100k lines), with search (substring, or /regex/), match
 * count and next/prev, level colours (from `log --json` records), and addresses / symbol+off
 * as links to the Memory panel. The search text and the selected line live in the URL.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApp, type Tab } from '../../store';
import { CommandGate, LinkedText, useCommand, useVirtualRows } from '../common';
import { buildLogRows, findMatches, matchRanges, type LogRow } from './model';
import { resultJson } from '../../results';
import { isShortcut } from '../../keys';

const ROW_H = 18;
const OVERSCAN = 20;

export function LogPanel({ tab }: { tab: Tab }) {
  const log = useCommand(tab, 'log --json');
  return (
    <div className="panel log">
      <CommandGate tab={tab} state={log} what="Kernel log (log)">
        {(r) => <LogView tab={tab} rows={buildLogRows(r.text, resultJson(r, 'log'))} />}
      </CommandGate>
    </div>
  );
}

function LogView({ tab, rows }: { tab: Tab; rows: LogRow[] }) {
  const setParams = useApp((s) => s.setParams);
  const q = tab.view.params.q ?? '';
  const selected = tab.view.params.line ? Number(tab.view.params.line) - 1 : -1;
  const [query, setQuery] = useState(q);
  const [cur, setCur] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const { first, last, onScroll } = useVirtualRows(scroller, rows.length, ROW_H, OVERSCAN);

  // the URL may change the query (back/forward)
  useEffect(() => {
    setQuery(q);
  }, [q]);

  const matches = useMemo(() => findMatches(rows, query), [rows, query]);
  const maxLen = useMemo(() => rows.reduce((m, r) => Math.max(m, r.text.length), 0), [rows]);


  const scrollToRow = useCallback(
    (i: number) => {
      const el = scroller.current;
      if (!el) return;
      const top = i * ROW_H;
      if (top < el.scrollTop + ROW_H || top > el.scrollTop + el.clientHeight - 2 * ROW_H) {
        el.scrollTop = Math.max(0, top - el.clientHeight / 2);
      }
    },
    [],
  );

  // land on the selected line of a permalink
  // (the selected line, else the first match of the search), the current match being that line
  const landed = useRef(false);
  useEffect(() => {
    if (landed.current || rows.length === 0) return;
    landed.current = true;
    const k = selected >= 0 ? matches.indexOf(selected) : 0;
    if (k > 0) setCur(k);
    const target = selected >= 0 ? selected : (matches[0] ?? -1);
    if (target >= 0) scrollToRow(target);
  }, [rows.length, selected, matches, scrollToRow]);

  const go = (dir: 1 | -1) => {
    if (matches.length === 0) return;
    const n = (((matches.length ? cur + dir : 0) % matches.length) + matches.length) % matches.length;
    setCur(n);
    setParams({ line: String(matches[n] + 1) });
    scrollToRow(matches[n]);
  };

  const onQuery = (v: string) => {
    setQuery(v);
    setCur(0);
    const m = findMatches(rows, v);
    setParams({ q: v || undefined, line: m.length ? String(m[0] + 1) : undefined });
    if (m.length) scrollToRow(m[0]);
  };

  // "/" focuses the search box, like less
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && isShortcut(e)) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const matchSet = useMemo(() => new Set(matches), [matches]);
  const curRow = matches.length ? matches[Math.min(cur, matches.length - 1)] : -1;
  const gutter = String(rows.length).length;

  const visible = [];
  for (let i = first; i < last; i++) {
    const row = rows[i];
    const cls = ['row', `lv${row.level ?? 'x'}`];
    if (row.hot) cls.push('hot');
    if (i === selected) cls.push('selected');
    if (i === curRow && query) cls.push('current');
    visible.push(
      <div
        key={i}
        className={cls.join(' ')}
        style={{ top: i * ROW_H }}
        data-line={i + 1}
        onClick={(e) => {
          if ((e.target as HTMLElement).closest('a')) return;
          setParams({ line: String(i + 1) });
        }}
      >
        <span className="ln">{String(i + 1).padStart(gutter, ' ')}</span>
        <span className="tx">
          <LinkedText text={row.text} highlight={matchSet.has(i) ? matchRanges(row.text, query) : undefined} />
        </span>
      </div>,
    );
  }

  return (
    <>
      <div className="toolbar">
        <input
          ref={input}
          className="search"
          type="search"
          placeholder="search the log  ( / ;  /regex/ )"
          aria-label="search the log"
          value={query}
          spellCheck={false}
          onChange={(e) => onQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              go(e.shiftKey ? -1 : 1);
            } else if (e.key === 'Escape') onQuery('');
          }}
        />
        <span className="count" data-testid="match-count">
          {query ? (matches.length ? `${Math.min(cur, matches.length - 1) + 1} / ${matches.length}` : 'no match') : `${rows.length} lines`}
        </span>
        <button onClick={() => go(-1)} disabled={!matches.length} title="previous match (Shift+Enter)">
          ↑
        </button>
        <button onClick={() => go(1)} disabled={!matches.length} title="next match (Enter)">
          ↓
        </button>
        <span className="legend">
          <span className="lv0">emerg–err</span> <span className="lv4">warn</span> <span className="lv5">notice</span>{' '}
          <span className="lv6">info</span> <span className="lv7">debug</span>
        </span>
      </div>
      {rows.length === 0 ? (
        <div className="state empty">The log is empty.</div>
      ) : (
        <div
          className="log-scroll"
          ref={scroller}
          tabIndex={0}
          data-autofocus
          aria-label="kernel log"
          data-testid="log-scroll"
          onScroll={onScroll}
        >
          <div className="log-inner" style={{ height: rows.length * ROW_H, minWidth: `calc(${maxLen + gutter + 3}ch)` }}>
            {visible}
          </div>
        </div>
      )}
    </>
  );
}
