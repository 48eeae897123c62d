/**
 * What every panel shares: running its engine command once per dump with loading / error /
 * "not in this engine build" states, and text in which kernel addresses and symbol+offset are
 * links to the Memory panel.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode, type RefObject, type UIEvent } from 'react';
import { activeTab, useApp, type CmdState, type Tab } from '../store';
import { formatHash } from '../permalink';
import { canCancelRunning, type AddressLayout, type RunResult } from '../engine';
import { isPointerText } from '../pointers';

/** Run `line` once for this dump (cached in the store) and return its state. */
export function useCommand(tab: Tab, line: string | null): CmdState | undefined {
  const ensure = useApp((s) => s.ensureCommand);
  const rerun = useApp((s) => s.rerun);
  useEffect(() => {
    if (line) ensure(tab.session, line);
  }, [ensure, tab.session, line]);
  const st = line ? tab.commands[line] : undefined;
  // a part of the engine that loads in the background (the disassembler's wasm) answers "still
  // loading": ask again shortly instead of showing a failure the user would have to retry
  const tries = useRef(0);
  const loading = st?.status === 'done' && !st.result?.ok && /still loading/i.test(st.result?.error ?? '');
  useEffect(() => {
    if (!loading || !line || tries.current >= 40) return;
    tries.current++;
    const t = setTimeout(() => void rerun(tab.session, line), 250);
    return () => clearTimeout(t);
  }, [loading, line, rerun, tab.session, st?.jobId]);
  return st;
}

/** The engine says this command does not exist in this build (as opposed to failing on this dump). */
export function isUnavailable(r: RunResult | undefined): boolean {
  return !!r && !r.ok && /unknown command|not supported in this build|not available in this/i.test(r.error ?? '');
}

export function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, []);
  return <>{(Math.max(0, now - since) / 1000).toFixed(1)} s</>;
}

/** Loading / failed / unavailable states around a command result; children render success. */
export function CommandGate({
  tab,
  state,
  what,
  children,
}: {
  tab: Tab;
  state: CmdState | undefined;
  what: string;
  children: (r: RunResult) => ReactNode;
}) {
  const rerun = useApp((s) => s.rerun);
  const jobs = useApp((s) => s.jobs);
  if (!state || state.status === 'running' || (!state.result?.ok && /still loading/i.test(state.result?.error ?? ''))) {
    const job = state ? jobs[state.jobId] : undefined;
    const p = job?.progress;
    return (
      <div className="state loading" role="status">
        <span className="spinner" aria-hidden /> {what}: running <code>{state?.line}</code>
        {state && (
          <>
            {' '}
            · <Elapsed since={state.startedAt} />
          </>
        )}
        {p && p.total > 0 && (
          <span className="progress-inline">
            <progress max={p.total} value={p.done} /> {p.done}/{p.total} {p.what}
          </span>
        )}
        {job && (
          <button className="link" onClick={job.cancel} title={canCancelRunning ? 'stop now' : 'stops after the current step'}>
            cancel
          </button>
        )}
      </div>
    );
  }
  const r = state.result!;
  if (isUnavailable(r)) {
    return (
      <div className="state unavailable" data-testid="unavailable">
        <b>{what}</b> is not available in this engine build: <code>{r.error}</code>
        <div className="hint">
          The panel will fill in once the engine has <code>{state.line.split(' ')[0]}</code>.{' '}
          <button className="link" onClick={() => rerun(tab.session, state.line)}>
            try again
          </button>
        </div>
      </div>
    );
  }
  if (!r.ok) {
    return (
      <div className="state failed" role="alert">
        <b>{what}</b> failed{r.cancelled ? ' (cancelled)' : ''}: <code>{r.error}</code>{' '}
        <button className="link" onClick={() => rerun(tab.session, state.line)}>
          run again
        </button>
      </div>
    );
  }
  return <>{children(r)}</>;
}

/**
 * Link candidates: 0x-numbers of 8-16 digits, bare 16-digit hex words, symbol+0xoff[/0xlen]. A
 * number is a link only when it is a kernel pointer on this dump (app/pointers.ts: the dump's
 * address ranges, 4- or 5-level; never a negative errno).
 */
export const LINK_RE =
  /\b0x[0-9a-f]{8,16}\b|\b[0-9a-f]{16}\b|\b[A-Za-z_][\w.]*\+0x[0-9a-f]+(?:\/0x[0-9a-f]+)?(?![\w])/gi;

export interface Segment {
  text: string;
  link?: string;
  hl?: boolean;
}

/**
 * Split `text` into segments: links (addresses, symbol+off) and highlighted ranges. One pass over
 * the cut points (the links come in text order and do not overlap; highlights are counted in and
 * out), so a text with 10k addresses costs 10k steps, not 10k squared (a task of 1.3 s in the
 * slab view of an 8 GiB dump when each piece searched every link).
 */
export function segments(text: string, highlight: [number, number][] = [], layout?: AddressLayout | null): Segment[] {
  const links: [number, number][] = [];
  LINK_RE.lastIndex = 0;
  for (let m = LINK_RE.exec(text); m; m = LINK_RE.exec(text)) {
    const v = m[0];
    // numbers are links only when they are kernel pointers on this dump (physical ranges,
    // registers holding small values, sizes, -errno are not)
    if (!v.includes('+') && !isPointerText(v, layout)) continue;
    links.push([m.index, m.index + v.length]);
  }
  const hls = highlight.filter(([x, y]) => x < y);
  if (links.length === 0 && hls.length === 0) return [{ text }];
  const cuts = new Set<number>([0, text.length]);
  for (const [a, b] of links) cuts.add(a).add(b);
  for (const [a, b] of hls) cuts.add(a).add(b);
  const pts = [...cuts].sort((a, b) => a - b);
  const starts = hls.map(([x]) => x).sort((a, b) => a - b);
  const ends = hls.map(([, y]) => y).sort((a, b) => a - b);
  const out: Segment[] = [];
  let li = 0;
  let si = 0;
  let ei = 0;
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i];
    const b = pts[i + 1];
    // every link and highlight edge is a cut: a piece [a, b) is inside a range iff a is
    while (li < links.length && links[li][1] <= a) li++;
    const l = li < links.length && links[li][0] <= a ? links[li] : undefined;
    while (si < starts.length && starts[si] <= a) si++;
    while (ei < ends.length && ends[ei] <= a) ei++;
    out.push({ text: text.slice(a, b), link: l ? text.slice(l[0], l[1]) : undefined, hl: si > ei });
  }
  return out;
}

/** A link target in the Memory panel's terms: bare hex gets 0x; symbol/len drops the /len. */
export function linkTarget(s: string): string {
  if (/^[0-9a-f]{16}$/i.test(s)) return '0x' + s.toLowerCase();
  return s.replace(/\/0x[0-9a-f]+$/i, '');
}

/** Text with address and symbol links (and optional highlights). */
export function LinkedText({ text, highlight }: { text: string; highlight?: [number, number][] }) {
  const navigate = useApp((s) => s.navigate);
  const fp = useApp((s) => activeTab(s)?.summary.fingerprint ?? '0');
  const layout = useApp((s) => activeTab(s)?.layout);
  const segs = segments(text, highlight, layout);
  const nodes: ReactNode[] = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s.link) {
      const link = s.link;
      const parts: Segment[] = [s];
      while (i + 1 < segs.length && segs[i + 1].link === link) parts.push(segs[++i]);
      const target = linkTarget(link);
      nodes.push(
        <a
          key={i}
          className="addr"
          href={formatHash({ fingerprint: fp, view: { panel: 'mem', arg: target, params: {} } })}
          title={`open ${target} in Memory`}
          onClick={(e) => {
            e.preventDefault();
            navigate({ panel: 'mem', arg: target, params: {} });
          }}
        >
          {parts.map((p, k) => (p.hl ? <mark key={k}>{p.text}</mark> : p.text))}
        </a>,
      );
    } else nodes.push(s.hl ? <mark key={i}>{s.text}</mark> : s.text);
  }
  return <>{nodes}</>;
}

/** Run `f` when the page is idle (at the latest after `timeoutMs`; at once where there is no requestIdleCallback). */
export function whenIdle(f: () => void, timeoutMs = 10_000): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => f(), { timeout: timeoutMs });
  else setTimeout(f, 0);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/**
 * A canvas's 2D context for drawing w x h CSS pixels at the device pixel ratio. The backing store
 * is resized only when the size changes: assigning width or height, even the same value,
 * reallocates and clears it (most of a redraw's cost when the slab map redraws for new data).
 */
export function canvasContext(c: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const pw = Math.round(w * dpr);
  const ph = Math.round(h * dpr);
  if (c.width !== pw) c.width = pw;
  if (c.height !== ph) c.height = ph;
  const g = c.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  return g;
}

/** Texts longer than this many lines are drawn a window of rows at a time (BigText). */
export const BIG_TEXT_LINES = 1000;
const BIG_ROW_H = 16;
const BIG_OVERSCAN = 30;

/**
 * A panel's output as crash prints it, with links. A long one (`kmem -S --full` of a cache with
 * thousands of slabs, `foreach bt`) is virtualized: only the rows in view are in the DOM.
 */
export function TextOutput({ text }: { text: string }) {
  // index only a text long enough to be worth it (a line of crash output is rarely under 8 characters)
  const starts = useMemo(() => (text.length > BIG_TEXT_LINES * 8 ? lineStarts(text) : null), [text]);
  if (!starts || starts.length - 1 <= BIG_TEXT_LINES) {
    return (
      <pre className="output">
        <LinkedText text={text} />
      </pre>
    );
  }
  return <BigText text={text} starts={starts} />;
}

/**
 * Where each line of a text starts, and at [lines] where the last one ends + 1, found without
 * splitting the text: a million-line text is not a million strings (splitting the 1.16M lines of
 * a slab map's text took 180 ms of the page's main thread, most of it the garbage collector).
 */
export function lineStarts(text: string): Uint32Array {
  const body = text.endsWith('\n') ? text.length - 1 : text.length;
  let n = 1;
  for (let p = text.indexOf('\n'); p >= 0 && p < body; p = text.indexOf('\n', p + 1)) n++;
  const starts = new Uint32Array(n + 1);
  let i = 1;
  for (let p = text.indexOf('\n'); p >= 0 && p < body; p = text.indexOf('\n', p + 1)) starts[i++] = p + 1;
  starts[n] = body + 1;
  return starts;
}

function BigText({ text, starts }: { text: string; starts: Uint32Array }) {
  const scroller = useRef<HTMLPreElement>(null);
  const count = starts.length - 1;
  const { first, last, onScroll } = useVirtualRows(scroller, count, BIG_ROW_H, BIG_OVERSCAN);
  const width = useMemo(() => {
    let m = 0;
    for (let i = 0; i < count; i++) m = Math.max(m, starts[i + 1] - starts[i] - 1);
    return m;
  }, [starts, count]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={i} className="textrow" style={{ top: i * BIG_ROW_H, height: BIG_ROW_H, lineHeight: `${BIG_ROW_H}px` }}>
        <LinkedText text={text.slice(starts[i], starts[i + 1] - 1)} />
      </div>,
    );
  }
  return (
    <pre className="output bigtext" ref={scroller} data-testid="big-text" data-lines={count} onScroll={onScroll}>
      <div style={{ height: count * BIG_ROW_H, minWidth: `${width}ch`, position: 'relative' }}>{rows}</div>
    </pre>
  );
}

/** A <details> whose content is rendered only once it is opened (a long raw text costs nothing closed). */
export function LazyDetails({ summary, className, children }: { summary: ReactNode; className?: string; children: () => ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <details className={className} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{summary}</summary>
      {open && children()}
    </details>
  );
}

/**
 * The client height of a scrolling element, kept current by a ResizeObserver (virtualized lists).
 * Read only in the observer's callback, which runs after the frame's layout: reading it when the
 * panel mounts (a layout effect) forced a layout of the whole new panel inside the task that
 * rendered it (20-40 ms more in one main-thread task, measured in e2e/scan.spec.ts's trace).
 */
export function useElementHeight(ref: RefObject<HTMLElement | null>, initial = 600): number {
  const [height, setHeight] = useState(initial);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return height;
}

/**
 * The window of a virtualized list (the Log panel, the console's transcript, a long text): rows
 * [first, last) of `count`, each `rowH` pixels tall, are the ones in view of `scroller` plus
 * `overscan` on either side. Give `onScroll` to the scroller; `setScrollTop` after moving it
 * from code; `height` is the scroller's client height.
 */
export function useVirtualRows(
  scroller: RefObject<HTMLElement | null>,
  count: number,
  rowH: number,
  overscan: number,
): { first: number; last: number; height: number; setScrollTop: (top: number) => void; onScroll: (e: UIEvent<HTMLElement>) => void } {
  const height = useElementHeight(scroller);
  const [scrollTop, setScrollTop] = useState(0);
  const onScroll = useCallback((e: UIEvent<HTMLElement>) => setScrollTop(e.currentTarget.scrollTop), []);
  return {
    first: Math.max(0, Math.floor(scrollTop / rowH) - overscan),
    last: Math.min(count, Math.ceil((scrollTop + height) / rowH) + overscan),
    height,
    setScrollTop,
    onScroll,
  };
}
