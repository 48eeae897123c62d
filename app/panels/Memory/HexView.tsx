/**
 * The virtualized hex view: only the visible rows are in the DOM; the scroll window (hexmodel.ts)
 * maps the native scrollbar onto 2^64 addresses. Bytes come from the per-dump ChunkCache, a few
 * pages per frame. Colours: pointers by what they point to (text, data, slab, direct map, bad),
 * SLUB poison and red zones, zero runs, slab object boundaries and free objects, the struct
 * overlay's member bands, the offset box's member, the cursor. Unreadable memory shows '··' and
 * the reason. A row's bytes are runs of cells (one span per run of a group's bytes with the same
 * classes, the byte under the pointer found from its place in the run), so a scroll lays out and
 * paints a few boxes a row, not sixteen.
 */
import { memo, useCallback, useEffect, useImperativeHandle, useLayoutEffect, useMemo, useReducer, useRef, useState, type Ref } from 'react';
import { resolve, type Resolved } from '../../engine';
import { chunkCache, type Chunk } from './chunks';
import { useElementHeight } from '../common';
import {
  PAGE,
  ROW_BYTES,
  ROW_H,
  WINDOW_ROWS,
  byteClasses,
  groupOrder,
  hex,
  pagesFor,
  recenter,
  scrollRows,
  shortPath,
  topRow,
  windowAt,
  type ByteClass,
  type ScrollWindow,
} from './hexmodel';
import type { Overlay } from './overlay';

export interface HexHandle {
  /** scroll so that `addr` is visible (near the top when it is off screen) */
  reveal(addr: bigint, force?: boolean): void;
  focus(): void;
  /** visible rows */
  rows(): number;
}

export interface HexProps {
  session: string;
  /** the address the view was opened at (landing) */
  target: bigint;
  cursor: bigint | null;
  group: 1 | 2 | 4 | 8;
  overlay: { start: bigint; ov: Overlay } | null;
  /** the offset box's byte and the member covering it: [start, end) */
  focusByte: bigint | null;
  highlight: [bigint, bigint] | null;
  onCursor(a: bigint): void;
  onFollow(value: bigint, type?: string): void;
  onKey?(e: React.KeyboardEvent): boolean;
  handle?: Ref<HexHandle>;
}

interface Hover {
  x: number;
  y: number;
  addr: bigint;
  ptr?: { kind: string; label?: string; value: string };
  member?: string;
  missing?: string;
  obj?: string;
}

const classCache = new WeakMap<Chunk, ByteClass[]>();
function classesOf(c: Chunk): ByteClass[] {
  let v = classCache.get(c);
  if (!v) {
    v = byteClasses(c.bytes);
    for (const m of c.missing) for (let i = m.s; i < m.e; i++) v[i] = '';
    classCache.set(c, v);
  }
  return v;
}

const resolveCache = new Map<string, Promise<Resolved>>();
function cachedResolve(session: string, value: string): Promise<Resolved> {
  const k = session + ' ' + value;
  let p = resolveCache.get(k);
  if (!p) {
    p = resolve(session, value);
    resolveCache.set(k, p);
    if (resolveCache.size > 2000) resolveCache.delete(resolveCache.keys().next().value!);
  }
  return p;
}

export function HexView(props: HexProps) {
  const { session, target, cursor, group, overlay, focusByte, highlight } = props;
  const cache = useMemo(() => chunkCache(session), [session]);
  const scroller = useRef<HTMLDivElement>(null);
  const height = useElementHeight(scroller);
  const [win, setWin] = useState<ScrollWindow>(() => windowAt(target / BigInt(ROW_BYTES)));
  const winRef = useRef(win);
  winRef.current = win;
  const [, bump] = useReducer((x: number) => x + 1, 0);
  const [hover, setHover] = useState<Hover | null>(null);
  const [hoverRes, setHoverRes] = useState<Resolved | null>(null);
  const pendingScroll = useRef<number | null>(null);

  useEffect(() => cache.subscribe(bump), [cache]);

  const visibleRows = Math.max(1, Math.floor(height / ROW_H));

  // The scroll position is set at once, while the rows on screen are still the laid-out ones (a
  // cheap layout), not after React has put the new rows in (setting scrollTop then lays them all
  // out inside the key's task: 15-30 ms of a PageDown's). React commits the rows in the same task,
  // before any frame; their layout and paint fall to the frame's own task.
  const applyWin = useCallback((w: ScrollWindow) => {
    const el = scroller.current;
    if (el) {
      el.scrollTop = w.scrollTop;
      pendingScroll.current = null;
    } else pendingScroll.current = w.scrollTop;
    setWin(w);
  }, []);

  // land on the target when it changes
  useEffect(() => {
    applyWin(windowAt(target / BigInt(ROW_BYTES), 4));
  }, [target, applyWin]);

  useImperativeHandle(
    props.handle,
    () => ({
      reveal(addr: bigint, force = false) {
        const w = winRef.current;
        const row = addr / BigInt(ROW_BYTES);
        const top = topRow(w);
        const vis = BigInt(Math.max(1, Math.floor((scroller.current?.clientHeight ?? 600) / ROW_H)) - 1);
        if (!force && row >= top && row < top + vis) return;
        if (!force && row === top + vis) return applyWin(scrollRows(w, 1, scroller.current?.clientHeight ?? 600));
        if (!force && row === top - 1n) return applyWin(scrollRows(w, -1, scroller.current?.clientHeight ?? 600));
        applyWin(windowAt(row, 4));
      },
      focus() {
        scroller.current?.focus();
      },
      rows() {
        return Math.max(1, Math.floor((scroller.current?.clientHeight ?? 600) / ROW_H));
      },
    }),
    [applyWin],
  );

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (pendingScroll.current !== null) {
      el.scrollTop = pendingScroll.current;
      pendingScroll.current = null;
    }
  });


  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const w = { base: winRef.current.base, scrollTop: el.scrollTop };
    const r = recenter(w, el.clientHeight);
    if (r) applyWin(r);
    else setWin(w);
    setHover(null);
  };

  const first = topRow(win);
  const overscan = 6;
  const firstRow = first - BigInt(overscan) < win.base ? win.base : first - BigInt(overscan);
  const lastRow = first + BigInt(visibleRows + overscan);
  const pages = pagesFor(first, first + BigInt(visibleRows + 1));
  // then the overscan rows, then a page on each side (prefetch for scrolling; visible first)
  const around = [
    ...pagesFor(firstRow, lastRow),
    BigInt.asUintN(64, (pages[pages.length - 1] ?? 0n) + BigInt(PAGE)),
    BigInt.asUintN(64, (pages[pages.length - 1] ?? 0n) + BigInt(2 * PAGE)),
    BigInt.asUintN(64, (pages[0] ?? 0n) - BigInt(PAGE)),
  ];
  const extra = around.filter((p, i) => !pages.includes(p) && around.indexOf(p) === i);
  useEffect(() => {
    cache.want([...pages, ...extra]);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cache, pages.join(','), extra.join(',')]);

  const order = useMemo(() => groupOrder(group), [group]);

  const rows = [];
  for (let r = firstRow; r < lastRow; r++) {
    const addr = r * BigInt(ROW_BYTES);
    const page = addr & ~BigInt(PAGE - 1);
    const chunk = cache.peek(page);
    const rowEnd = addr + BigInt(ROW_BYTES);
    const cur = cursor !== null && cursor >= addr && cursor < rowEnd ? Number(cursor - addr) : -1;
    const foc = focusByte !== null && focusByte >= addr && focusByte < rowEnd ? Number(focusByte - addr) : -1;
    const hl = highlight && highlight[0] < rowEnd && highlight[1] > addr ? `${Number(highlight[0] - addr)}:${Number(highlight[1] - addr)}` : '';
    const ovStart = overlay ? overlay.start : null;
    const ovRel = ovStart !== null && overlay && addr + BigInt(ROW_BYTES) > ovStart && addr < ovStart + BigInt(overlay.ov.size) ? Number(addr - ovStart) : null;
    rows.push(
      <Row
        key={addr.toString()}
        addr={addr}
        top={Number(r - win.base) * ROW_H}
        chunk={chunk}
        order={order}
        group={group}
        cur={cur}
        foc={foc}
        hl={hl}
        ov={ovRel !== null ? overlay!.ov : null}
        ovRel={ovRel}
      />,
    );
  }

  /** the byte under the pointer: a cell run's display position, from its share of the run's width */
  const byteAt = (el: HTMLElement | null, clientX: number): { addr: bigint } | null => {
    const b = el?.closest('[data-k]') as HTMLElement | null;
    const row = b?.closest('[data-r]') as HTMLElement | null;
    if (!b || !row) return null;
    const n = Number(b.dataset.n ?? 1);
    const r = b.getBoundingClientRect();
    const j = n > 1 && r.width > 0 ? Math.min(n - 1, Math.max(0, Math.floor(((clientX - r.left) * n) / r.width))) : 0;
    return { addr: BigInt('0x' + row.dataset.r) + BigInt(order[Number(b.dataset.k) + j]) };
  };

  const infoAt = (a: bigint) => {
    const page = a & ~BigInt(PAGE - 1);
    const c = cache.peek(page);
    const o = Number(a - page);
    const word = o & ~7;
    const ptr = c?.pointers.get(word);
    const missing = c?.missing.find((m) => o >= m.s && o < m.e)?.reason;
    let member: string | undefined;
    if (overlay) {
      const rel = Number(a - overlay.start);
      if (rel >= 0 && rel < overlay.ov.cover.length) {
        const i = overlay.ov.cover[rel];
        if (i >= 0) {
          const m = overlay.ov.members[i];
          member = `${m.part}.${shortPath(m.path)} (${m.type}) +0x${(rel - m.at).toString(16)}`;
        }
      }
    }
    let obj: string | undefined;
    for (const s of c?.slabs ?? []) {
      const ms = BigInt(s.memory);
      if (a < ms || a >= BigInt(s.end)) continue;
      const d = Number(a - ms);
      const idx = Math.floor(d / s.size);
      if (idx < s.states.length) obj = `${s.cache} #${idx} ${s.states[idx]} +0x${(d - idx * s.size - s.redLeftPad).toString(16)}`;
    }
    return { ptr, missing, member, obj, wordAddr: page + BigInt(word) };
  };

  const onMove = (e: React.MouseEvent) => {
    const b = byteAt(e.target as HTMLElement, e.clientX);
    if (!b) {
      if (hover) setHover(null);
      return;
    }
    if (hover && hover.addr === b.addr) return;
    const i = infoAt(b.addr);
    setHover({ x: e.clientX, y: e.clientY, addr: b.addr, ptr: i.ptr, member: i.member, missing: i.missing, obj: i.obj });
  };

  useEffect(() => {
    setHoverRes(null);
    if (!hover?.ptr) return;
    let live = true;
    const t = setTimeout(() => {
      void cachedResolve(session, hover.ptr!.value).then((r) => live && setHoverRes(r));
    }, 60);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [session, hover?.ptr?.value, hover]);

  const onClick = (e: React.MouseEvent) => {
    const b = byteAt(e.target as HTMLElement, e.clientX);
    if (!b) return;
    const i = infoAt(b.addr);
    if (i.ptr && (e.target as HTMLElement).classList.contains('ptr') && i.ptr.kind !== 'bad') {
      let type: string | undefined;
      if (overlay && i.member) {
        const rel = Number(b.addr - overlay.start);
        const m = overlay.ov.members[overlay.ov.cover[rel]];
        const t = m && /^(?:const\s+)?struct\s+(\w+)\s*\*$/.exec(m.type);
        if (t && m.at % 8 === 0 && Number(i.wordAddr - overlay.start) === m.at) type = t[1];
      }
      props.onFollow(BigInt(i.ptr.value), type);
      return;
    }
    props.onCursor(b.addr);
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (props.onKey?.(e)) return;
    const h = scroller.current?.clientHeight ?? 600;
    const c = cursor ?? target;
    const move = (d: bigint) => {
      e.preventDefault();
      const n = BigInt.asUintN(64, c + d);
      props.onCursor(n);
    };
    switch (e.key) {
      case 'ArrowLeft':
        return move(-1n);
      case 'ArrowRight':
        return move(1n);
      case 'ArrowUp':
        return move(-BigInt(ROW_BYTES));
      case 'ArrowDown':
        return move(BigInt(ROW_BYTES));
      case 'PageDown':
        e.preventDefault();
        props.onCursor(BigInt.asUintN(64, c + BigInt(ROW_BYTES * (visibleRows - 1))));
        applyWin(scrollRows(winRef.current, visibleRows - 1, h));
        return;
      case 'PageUp':
        e.preventDefault();
        props.onCursor(BigInt.asUintN(64, c - BigInt(ROW_BYTES * (visibleRows - 1))));
        applyWin(scrollRows(winRef.current, -(visibleRows - 1), h));
        return;
      case 'Enter': {
        const i = infoAt(c);
        if (i.ptr && i.ptr.kind !== 'bad') {
          e.preventDefault();
          props.onFollow(BigInt(i.ptr.value));
        }
        return;
      }
    }
  };

  return (
    <div className="hexwrap">
      <div
        className="hexscroll"
        ref={scroller}
        tabIndex={0}
        data-autofocus
        onScroll={onScroll}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
        onClick={onClick}
        onKeyDown={onKeyDown}
        data-testid="hex"
        aria-label="hex view"
        role="grid"
      >
        <div className="hexinner" style={{ height: WINDOW_ROWS * ROW_H }}>
          {rows}
        </div>
      </div>
      {hover && (hover.ptr || hover.missing || hover.member || hover.obj) && (
        <HoverCard hover={hover} res={hoverRes} />
      )}
    </div>
  );
}

function HoverCard({ hover, res }: { hover: Hover; res: Resolved | null }) {
  const w = res?.whatis;
  const left = Math.min(hover.x + 14, window.innerWidth - 460);
  const top = hover.y + 18 + 160 > window.innerHeight ? hover.y - 150 : hover.y + 18;
  return (
    <div className="hovercard" style={{ left, top }} data-testid="hover-card" role="tooltip">
      <div className="dim">{hex(hover.addr)}</div>
      {hover.ptr && (
        <div>
          <span className={'pk p-' + hover.ptr.kind}>{hover.ptr.kind}</span> pointer <code>{hover.ptr.value}</code>
          {hover.ptr.label && (
            <div>
              → <b>{hover.ptr.label}</b>
            </div>
          )}
          {res?.symbol && res.symbol !== hover.ptr.label && (
            <div>
              → <b>{res.symbol}</b>
              {res.module ? ` [${res.module}]` : ''}
            </div>
          )}
          {w && w.kind === 'slab' && (
            <div className="small">
              {String(w.cache)} object {String(w.object)} +{String(w.offset)} · {String(w.state)}
              {w.type ? ` · ${String(w.type)}${w.member_path ? '.' + String(w.member_path) : ''}` : ''}
            </div>
          )}
          {w && w.kind !== 'slab' && w.kind !== 'symbol' && (
            <div className="small">
              {String(w.kind)}
              {w.task ? ` · task ${JSON.stringify(w.task)}` : ''}
            </div>
          )}
          {res?.readable === false && <div className="warn small">not readable in this dump</div>}
          <div className="dim small">click to follow · Enter at the cursor</div>
        </div>
      )}
      {hover.obj && <div className="small">in {hover.obj}</div>}
      {hover.member && <div className="small">member {hover.member}</div>}
      {hover.missing && <div className="warn small">{hover.missing}</div>}
    </div>
  );
}

interface RowProps {
  addr: bigint;
  top: number;
  chunk: Chunk | undefined;
  order: number[];
  group: number;
  cur: number;
  foc: number;
  hl: string;
  ov: Overlay | null;
  ovRel: number | null;
}

const BANDS = 6;

const Row = memo(function Row({ addr, top, chunk, order, group, cur, foc, hl, ov, ovRel }: RowProps) {
  const ah = hex(addr);
  if (!chunk) {
    return (
      <div className="hr loading" style={{ top }}>
        <span className="ha">{ah}</span>
        <span className="hb dim">{'··'.repeat(ROW_BYTES / 2) + '  ' + '··'.repeat(ROW_BYTES / 2)}</span>
      </div>
    );
  }
  const base = Number(addr - chunk.page);
  const classes = classesOf(chunk);
  const bytes = chunk.bytes;
  let hlA = -1;
  let hlB = -1;
  if (hl) [hlA, hlB] = hl.split(':').map(Number);
  const miss: (string | null)[] = [];
  let missReason: string | null = null;
  for (let i = 0; i < ROW_BYTES; i++) {
    const o = base + i;
    const m = chunk.missing.find((x) => o >= x.s && o < x.e);
    miss.push(m ? m.reason : null);
    if (m && !missReason) missReason = m.reason;
  }
  // slab: object boundaries and states
  const objStart: number[] = [];
  const free: boolean[] = new Array(ROW_BYTES).fill(false);
  const inSlab: boolean[] = new Array(ROW_BYTES).fill(false);
  const meta: boolean[] = new Array(ROW_BYTES).fill(false);
  const notes: string[] = [];
  for (const s of chunk.slabs) {
    const ms = BigInt(s.memory);
    const me = BigInt(s.end);
    if (addr + BigInt(ROW_BYTES) <= ms || addr >= me) continue;
    for (let i = 0; i < ROW_BYTES; i++) {
      const a = addr + BigInt(i);
      if (a < ms || a >= me) continue;
      const d = Number(a - ms);
      const idx = Math.floor(d / s.size);
      const inSlot = d - idx * s.size;
      inSlab[i] = true;
      if (idx >= s.states.length) {
        meta[i] = true;
        continue;
      }
      if (inSlot === s.redLeftPad) {
        objStart.push(i);
        notes.push(`${s.cache} #${idx} ${s.states[idx]}`);
      }
      if (s.states[idx] !== 'allocated') free[i] = true;
      if (inSlot < s.redLeftPad || inSlot >= s.redLeftPad + s.objsize) meta[i] = true;
    }
  }
  // overlay members starting in this row
  const band: number[] = new Array(ROW_BYTES).fill(-1);
  const mstart: boolean[] = new Array(ROW_BYTES).fill(false);
  if (ov && ovRel !== null) {
    const names: string[] = [];
    for (let i = 0; i < ROW_BYTES; i++) {
      const rel = ovRel + i;
      if (rel < 0 || rel >= ov.cover.length) continue;
      const mi = ov.cover[rel];
      band[i] = mi;
      if (mi >= 0 && ov.members[mi].at === rel) {
        mstart[i] = true;
        names.push(shortPath(ov.members[mi].path) || ov.members[mi].name);
      }
    }
    if (names.length) notes.push(names.length > 3 ? `${names.slice(0, 3).join(' ')} +${names.length - 3}` : names.join(' '));
  }
  // the reason once per run (where it starts, and every 0x100 bytes), without the address
  if (missReason) {
    const startsRun = chunk.missing.some((m) => m.s >= base && m.s < base + ROW_BYTES);
    if (startsRun || (addr & 0xffn) === 0n) notes.push(missReason.replace(/^virtual address 0x[0-9a-f]+:\s*/i, ''));
    else notes.push('·');
  }

  // cells in display order; a run of cells of one group with the same classes is one span (a
  // row is 2-6 spans, not 16: a scroll or PageDown lays out and paints a quarter of the boxes)
  const cells: React.ReactElement[] = [];
  let ascii = '';
  let runK = 0;
  let runCls = '';
  let runText = '';
  let runLow = 0;
  const flush = (end: number) => {
    if (end === runK) return;
    cells.push(
      <span key={runK} className={runCls} data-k={runK} data-n={end - runK} data-a={hex(addr + BigInt(runLow))}>
        {runText}
      </span>,
    );
  };
  for (let k = 0; k < ROW_BYTES; k++) {
    const i = order[k];
    const o = base + i;
    const b = bytes[o];
    const word = o & ~7;
    const ptr = group >= 1 ? chunk.pointers.get(word) : undefined;
    const cls = ['hb1'];
    if (k % group === 0 && k > 0) cls.push(k === 8 ? 'g8' : 'g');
    if (miss[i]) cls.push('miss');
    else {
      if (ptr) cls.push('ptr', 'p-' + ptr.kind);
      // SLUB poison and red zones mean something inside slabs only (0xcc is int3 padding in text)
      else if (classes[o] && (classes[o] === 'zero' || inSlab[i])) cls.push(classes[o]);
    }
    if (free[i]) cls.push('free');
    if (meta[i]) cls.push('meta');
    // boundaries at a group's first address mark the group's first (leftmost) cell
    const lead = group > 1 && k % group === 0;
    if ((lead && objStart.includes(k)) || (objStart.includes(i) && (group === 1 || i % group !== 0))) cls.push('ostart');
    if (band[i] >= 0) cls.push('band' + (band[i] % BANDS));
    if ((lead && mstart[k]) || (mstart[i] && (group === 1 || i % group !== 0))) cls.push('mstart');
    if (i >= hlA && i < hlB) cls.push('hl');
    if (i === foc) cls.push('focus');
    if (i === cur) cls.push('cur');
    const c = cls.join(' ');
    const text = miss[i] ? '··' : b < 16 ? '0' + b.toString(16) : b.toString(16);
    if (k > 0 && k % group !== 0 && c === runCls) {
      runText += text;
      runLow = Math.min(runLow, i);
      continue;
    }
    flush(k);
    runK = k;
    runCls = c;
    runText = text;
    runLow = i;
  }
  flush(ROW_BYTES);
  for (let i = 0; i < ROW_BYTES; i++) {
    const b = bytes[base + i];
    ascii += miss[i] ? ' ' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  return (
    <div className={'hr' + (objStart.length ? ' orow' : '') + (missReason ? ' missrow' : '')} style={{ top }} data-r={ah}>
      <span className="ha">{ah}</span>
      <span className="hb">{cells}</span>
      <span className="hc">{ascii}</span>
      <span className="hn" title={notes.join(' · ')}>
        {notes.join(' · ')}
      </span>
    </div>
  );
});
