/**
 * Slab map. All caches: a zoomable treemap (d3-hierarchy + d3-zoom, drawn on canvas) where each
 * cache's area is the memory it holds (`kmem -s`: slabs * slab size), coloured by how full it is;
 * beside it the caches by size. One cache (`#/<fp>/slabs/<cache>?obj=<addr>`): its slabs as rows
 * of objects coloured by state (allocated, free, per-CPU free, corrupt per slabcheck), on a
 * canvas that draws only the rows in view (10k+ slabs stay smooth); clicking an object opens it
 * in the hex view with the cache's type as overlay. slabcheck findings are listed with links to
 * their views; long scans show progress and can be cancelled.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy';
import { select } from 'd3-selection';
import { zoom, zoomIdentity, type ZoomTransform } from 'd3-zoom';
import { scaleLinear } from 'd3-scale';
import { useApp, type Tab } from '../../store';
import { resolve, slabMapLine, type SlabGrid } from '../../engine';
import { CommandGate, LazyDetails, TextOutput, canvasContext, formatBytes, useCommand } from '../common';
import { cacheBytes, cellSize, corruptCells, corruptObjects, locate, maxObjects, objAddr, objNotes, objState, rowLabel, type CacheRow, type CorruptCells, type ObjState } from './model';
import { resultJson } from '../../results';

export function SlabsPanel({ tab }: { tab: Tab }) {
  const cache = tab.view.arg;
  return cache ? <CacheView tab={tab} cache={cache} /> : <AllCaches tab={tab} />;
}

// ----------------------------------------------------------------------------- all caches

function AllCaches({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const st = useCommand(tab, 'kmem -s --json');
  const [find, setFind] = useState('');
  const [checkAll, setCheckAll] = useState(false);
  const open = (name: string) => navigate({ panel: 'slabs', arg: name, params: {} });
  return (
    <div className="panel slabs">
      <div className="toolbar">
        <b>Slab caches</b>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (find.trim()) open(find.trim());
          }}
        >
          <input
            className="search"
            list="cache-names"
            placeholder="open a cache: kmalloc-1k, buffer_head…"
            aria-label="find cache"
            value={find}
            onChange={(e) => setFind(e.target.value)}
          />
        </form>
        <button onClick={() => setCheckAll(true)} disabled={checkAll} title="slabcheck: freelists, counts, list linkage, red zones, poison over every cache">
          check every cache (slabcheck)
        </button>
        <span className="legend">
          <span className="sw" style={{ background: fill(0.05) }} /> empty <span className="sw" style={{ background: fill(0.5) }} /> half{' '}
          <span className="sw" style={{ background: fill(1) }} /> full · area = memory · wheel zooms, drag pans
        </span>
      </div>
      <CommandGate tab={tab} state={st} what="Slab caches (kmem -s)">
        {(r) => {
          const rows = (resultJson(r, 'kmem -s') ?? []).filter((c) => cacheBytes(c) > 0);
          const all: CacheRow[] = resultJson(r, 'kmem -s') ?? [];
          if (all.length === 0) return <div className="state empty">No slab caches in this dump.</div>;
          return (
            <div className="slabbody">
              <datalist id="cache-names">
                {all.map((c) => (
                  <option key={c.name} value={c.name} />
                ))}
              </datalist>
              <div className="slabmain">
                <Treemap rows={rows} onOpen={open} />
                {checkAll && <Findings tab={tab} line="slabcheck --json" />}
              </div>
              <CacheList rows={all} onOpen={open} />
            </div>
          );
        }}
      </CommandGate>
    </div>
  );
}

const fill = scaleLinear<string>().domain([0, 0.5, 1]).range(['#1b3350', '#2f6aa8', '#4fa3e8']).clamp(true);

function CacheList({ rows, onOpen }: { rows: CacheRow[]; onOpen: (n: string) => void }) {
  const [sort, setSort] = useState<'mem' | 'name' | 'objs'>('mem');
  const sorted = useMemo(() => {
    const r = [...rows];
    if (sort === 'mem') r.sort((a, b) => cacheBytes(b) - cacheBytes(a));
    else if (sort === 'objs') r.sort((a, b) => b.allocated - a.allocated);
    else r.sort((a, b) => a.name.localeCompare(b.name));
    return r;
  }, [rows, sort]);
  return (
    <div className="cachelist" data-testid="cache-list">
      <table className="grid">
        <thead>
          <tr>
            <th onClick={() => setSort('name')} className="sortable">cache</th>
            <th className="n sortable" onClick={() => setSort('mem')}>memory</th>
            <th className="n sortable" onClick={() => setSort('objs')}>in use</th>
            <th className="n">objsize</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((c) => (
            <tr key={c.name + (c.cache ?? '')} onClick={() => onOpen(c.name)} className="clickable">
              <td>
                <a
                  href="#"
                  onClick={(e) => {
                    e.preventDefault();
                  }}
                >
                  {c.name}
                </a>
              </td>
              <td className="n">{formatBytes(cacheBytes(c))}</td>
              <td className="n">
                {c.allocated}/{c.total}
              </td>
              <td className="n">{c.objsize}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface TNode {
  name: string;
  value?: number;
  row?: CacheRow;
  children?: TNode[];
}

function Treemap({ rows, onOpen }: { rows: CacheRow[]; onOpen: (n: string) => void }) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 800, h: 500 });
  const [tf, setTf] = useState<ZoomTransform>(zoomIdentity);
  const [hover, setHover] = useState<{ x: number; y: number; row: CacheRow } | null>(null);

  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    setSize({ w: el.clientWidth, h: el.clientHeight });
    return () => ro.disconnect();
  }, []);

  const leaves = useMemo(() => {
    // group kmalloc-* (and dma-/cgroup variants) together, the rest by itself
    const groups = new Map<string, TNode[]>();
    for (const r of rows) {
      const g = /^(dma-|kmalloc-rcl-|kmalloc-cg-)?kmalloc-/.test(r.name) ? 'kmalloc' : 'other';
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push({ name: r.name, value: cacheBytes(r), row: r });
    }
    const root = hierarchy<TNode>({ name: 'all', children: [...groups].map(([name, children]) => ({ name, children })) })
      .sum((d) => d.value ?? 0)
      .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
    treemap<TNode>().tile(treemapSquarify).size([size.w, size.h]).paddingInner(1).paddingTop((d) => (d.depth === 1 ? 14 : 0))(root);
    return root as HierarchyRectangularNode<TNode>;
  }, [rows, size.w, size.h]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const z = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1, 40])
      .translateExtent([
        [0, 0],
        [size.w, size.h],
      ])
      .on('zoom', (e: { transform: ZoomTransform }) => setTf(e.transform));
    const sel = select(c);
    sel.call(z);
    sel.on('dblclick.zoom', null);
    return () => {
      sel.on('.zoom', null);
    };
  }, [size.w, size.h]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const g = canvasContext(c, size.w, size.h);
    g.fillStyle = '#0f1115';
    g.fillRect(0, 0, size.w, size.h);
    g.font = '11px ui-monospace, DejaVu Sans Mono, monospace';
    g.textBaseline = 'top';
    for (const n of leaves.descendants()) {
      if (n.depth === 0) continue;
      const x0 = tf.applyX(n.x0);
      const y0 = tf.applyY(n.y0);
      const x1 = tf.applyX(n.x1);
      const y1 = tf.applyY(n.y1);
      if (x1 < 0 || y1 < 0 || x0 > size.w || y0 > size.h) continue;
      const w = x1 - x0;
      const h = y1 - y0;
      if (n.depth === 1) {
        g.fillStyle = '#161920';
        g.fillRect(x0, y0, w, h);
        g.fillStyle = '#8a91a0';
        if (w > 40) g.fillText(n.data.name === 'kmalloc' ? 'kmalloc-*' : 'dedicated caches', Math.max(x0, 0) + 3, Math.max(y0, 0) + 1);
        continue;
      }
      const r = n.data.row!;
      g.fillStyle = fill(r.total ? r.allocated / r.total : 0);
      g.fillRect(x0, y0, Math.max(0.5, w), Math.max(0.5, h));
      // the label goes in the part on screen: zoomed in, a cache's corner is often off-screen,
      // and a big rectangle without its name is no use
      const vx0 = Math.max(x0, 0);
      const vy0 = Math.max(y0, 0);
      const vw = Math.min(x1, size.w) - vx0;
      const vh = Math.min(y1, size.h) - vy0;
      if (vw > 46 && vh > 14) {
        g.save();
        g.beginPath();
        g.rect(vx0, vy0, vw, vh);
        g.clip();
        g.fillStyle = '#e8ecf2';
        g.fillText(r.name, vx0 + 3, vy0 + 2);
        if (vh > 28) {
          g.fillStyle = '#b8c2d0';
          g.fillText(formatBytes(cacheBytes(r)), vx0 + 3, vy0 + 15);
        }
        g.restore();
      }
    }
  }, [leaves, tf, size.w, size.h]);

  const at = (e: React.MouseEvent): CacheRow | null => {
    const rect = canvas.current!.getBoundingClientRect();
    const [x, y] = tf.invert([e.clientX - rect.left, e.clientY - rect.top]);
    for (const n of leaves.leaves()) if (x >= n.x0 && x < n.x1 && y >= n.y0 && y < n.y1) return n.data.row ?? null;
    return null;
  };

  return (
    <div className="treemap" ref={wrap}>
      <canvas
        ref={canvas}
        style={{ width: size.w, height: size.h }}
        data-testid="treemap"
        aria-label="slab caches treemap"
        onMouseMove={(e) => {
          const r = at(e);
          setHover(r ? { x: e.clientX, y: e.clientY, row: r } : null);
        }}
        onMouseLeave={() => setHover(null)}
        onClick={(e) => {
          if (e.defaultPrevented) return;
          const r = at(e);
          if (r) onOpen(r.name);
        }}
      />
      {tf.k > 1 && (
        <button className="resetzoom" onClick={() => select(canvas.current!).call(zoom<HTMLCanvasElement, unknown>().transform, zoomIdentity)}>
          reset zoom
        </button>
      )}
      {hover && (
        <div className="hovercard" style={{ left: Math.min(hover.x + 12, window.innerWidth - 300), top: hover.y + 14 }}>
          <b>{hover.row.name}</b>
          <div>
            {formatBytes(cacheBytes(hover.row))} in {hover.row.slabs} slabs of {formatBytes(hover.row.ssize)}
          </div>
          <div>
            {hover.row.allocated}/{hover.row.total} objects of {hover.row.objsize} B in use
          </div>
          <div className="dim small">click to open its slabs</div>
        </div>
      )}
    </div>
  );
}

// ----------------------------------------------------------------------------- one cache

const STATE_COLOR: Record<ObjState, string> = {
  allocated: '#3d7bd9',
  free: '#2a2f3a',
  'cpu-free': '#2f6b4a',
  corrupt: '#ff5c5c',
};

function CacheView({ tab, cache }: { tab: Tab; cache: string }) {
  const navigate = useApp((s) => s.navigate);
  const setParams = useApp((s) => s.setParams);
  // each object's state as a letter; its JSON comes as typed arrays (a SlabGrid)
  const mapLine = slabMapLine(cache);
  // the slab map is asked for before its slabcheck: scans take the scan workers in the order they
  // started, and the Findings pane below (a child: its effects run before these) asks for the
  // slabcheck; a layout effect runs before every passive one
  const ensure = useApp((s) => s.ensureCommand);
  useLayoutEffect(() => ensure(tab.session, mapLine), [ensure, tab.session, mapLine]);
  const st = useCommand(tab, mapLine);
  const check = useCommand(tab, `slabcheck ${cache} --json`);
  const findings = useMemo(
    () => resultJson(check?.result, 'slabcheck')?.findings ?? [],
    [check?.result],
  );
  const [opening, setOpening] = useState<string | null>(null);
  const sel = tab.view.params.obj;
  // the rows change with the map and the findings only: a new array on every render (each
  // progress tick of the slabcheck) redrew the whole grid while the scan ran
  const grid = resultJson(st?.result, 'slab map');
  const corrupt = useMemo(() => corruptObjects(findings), [findings]);
  const cells = useMemo(() => (grid?.byAddress ? corruptCells(grid, corrupt) : undefined), [grid, corrupt]);

  const openObject = useCallback(
    async (addr: string) => {
      setOpening(addr);
      setParams({ obj: addr.replace(/^0x/, '') });
      const r = await resolve(tab.session, addr);
      const w = r.whatis;
      const params: Record<string, string> = {};
      if (w?.type) params.type = w.type.replace(/^struct /, '');
      setOpening(null);
      navigate({ panel: 'mem', arg: w?.object ?? addr, params });
    },
    [tab.session, navigate, setParams],
  );

  return (
    <div className="panel slabs">
      <div className="toolbar">
        <button onClick={() => navigate({ panel: 'slabs', params: {} })}>← all caches</button>
        <b data-testid="cache-name">{cache}</b>
        {grid && <CacheInfo info={grid.info} />}
        <span className="legend">
          {(Object.keys(STATE_COLOR) as ObjState[]).map((k) => (
            <span key={k}>
              <span className="sw" style={{ background: STATE_COLOR[k] }} /> {k}
            </span>
          ))}
        </span>
      </div>
      <div className="slabbody">
        <div className="slabmain">
          <CommandGate tab={tab} state={st} what={`Slabs of ${cache} (kmem -S --full)`}>
            {(r) => {
              if (!grid?.byAddress) return <TextOutput text={r.text} />;
              if (grid.rows === 0) return <div className="state empty">{cache} has no slabs.</div>;
              return <ObjectGrid grid={grid} corrupt={cells} selected={sel ? '0x' + sel : null} onOpen={(a) => void openObject(a)} />;
            }}
          </CommandGate>
          {opening && (
            <div className="dim small pad">
              <span className="spinner" /> opening {opening}…
            </div>
          )}
        </div>
        <div className="cacheside">
          <Findings tab={tab} line={`slabcheck ${cache} --json`} />
          {st?.result?.ok && (
            <LazyDetails className="raw pad" summary="as crash prints it (kmem -S)">
              {() => <TextOutput text={st.result!.text} />}
            </LazyDetails>
          )}
        </div>
      </div>
    </div>
  );
}

function CacheInfo({ info: i }: { info: SlabGrid['info'] }) {
  return (
    <span className="dim mono small">
      objsize {i.objsize} · {i.allocated}/{i.total} in use · {i.slabs} slabs of {formatBytes(i.ssize)}
    </span>
  );
}

const ROW_H = 16;
const LABEL_W = 230;

/** Slabs as rows of object cells; only the rows in view are drawn. */
function ObjectGrid({ grid, corrupt, selected, onOpen }: { grid: SlabGrid; corrupt?: CorruptCells; selected: string | null; onOpen: (a: string) => void }) {
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState({ top: 0, w: 800, h: 500 });
  const [hover, setHover] = useState<{ x: number; y: number; i: number; k: number } | null>(null);
  const maxObjs = useMemo(() => maxObjects(grid), [grid]);
  const notes = useMemo(() => objNotes(grid), [grid]);
  const cell = cellSize(maxObjs, view.w - LABEL_W - 16);
  // the selected object's row and index (a binary search over the slabs by address)
  const sel = useMemo(() => (selected ? locate(grid, selected) : null), [grid, selected]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setView((v) => ({ ...v, w: el.clientWidth, h: el.clientHeight })));
    ro.observe(el);
    setView({ top: el.scrollTop, w: el.clientWidth, h: el.clientHeight });
    return () => ro.disconnect();
  }, []);

  // scroll the selected object into view once
  const landed = useRef(false);
  useEffect(() => {
    if (landed.current || !sel || !scroller.current) return;
    landed.current = true;
    scroller.current.scrollTop = Math.max(0, sel.i * ROW_H - view.h / 2);
  }, [sel, view.h]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const g = canvasContext(c, view.w, view.h);
    g.clearRect(0, 0, view.w, view.h);
    g.font = '11px ui-monospace, DejaVu Sans Mono, monospace';
    g.textBaseline = 'middle';
    const first = Math.floor(view.top / ROW_H);
    const last = Math.min(grid.rows, Math.ceil((view.top + view.h) / ROW_H));
    for (let i = first; i < last; i++) {
      const y = i * ROW_H - view.top;
      g.fillStyle = i % 2 ? '#13161c' : '#0f1115';
      g.fillRect(0, y, view.w, ROW_H);
      g.fillStyle = '#8a91a0';
      g.fillText(rowLabel(grid, i), 6, y + ROW_H / 2);
      for (let k = 0; k < grid.count[i]; k++) {
        const x = LABEL_W + k * (cell.w + cell.gap);
        g.fillStyle = STATE_COLOR[objState(grid, i, k, corrupt)] ?? '#555';
        g.fillRect(x, y + 2, cell.w, ROW_H - 4);
      }
      if (sel?.i === i) {
        g.strokeStyle = '#e5c07b';
        g.lineWidth = 2;
        g.strokeRect(LABEL_W + sel.k * (cell.w + cell.gap) - 1, y + 1, cell.w + 2, ROW_H - 2);
      }
    }
  }, [grid, corrupt, view, cell.w, cell.gap, sel]);

  const hit = (e: React.MouseEvent) => {
    const rect = scroller.current!.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top + view.top;
    const i = Math.floor(y / ROW_H);
    if (i < 0 || i >= grid.rows) return null;
    const k = Math.floor((x - LABEL_W) / (cell.w + cell.gap));
    if (x < LABEL_W || k < 0 || k >= grid.count[i]) return null;
    return { i, k };
  };

  return (
    <div
      className="objgrid"
      ref={scroller}
      data-testid="object-grid"
      data-rows={grid.rows}
      data-cell={`${LABEL_W},${cell.w + cell.gap},${ROW_H}`}
      onScroll={(e) => {
        setView((v) => ({ ...v, top: (e.target as HTMLDivElement).scrollTop }));
        setHover(null);
      }}
      onMouseMove={(e) => {
        const h = hit(e);
        setHover(h ? { x: e.clientX, y: e.clientY, ...h } : null);
      }}
      onMouseLeave={() => setHover(null)}
      onClick={(e) => {
        const h = hit(e);
        if (h) onOpen(objAddr(grid, h.i, h.k));
      }}
    >
      <div style={{ height: grid.rows * ROW_H, position: 'relative' }}>
        <canvas ref={canvas} style={{ position: 'sticky', top: 0, width: view.w, height: view.h, display: 'block' }} />
      </div>
      {hover && (
        <div className="hovercard" style={{ left: Math.min(hover.x + 12, window.innerWidth - 320), top: hover.y + 14 }}>
          <b>{objAddr(grid, hover.i, hover.k)}</b> #{hover.k}
          <div>
            {objState(grid, hover.i, hover.k, corrupt)}
            {notes.get(`${hover.i}:${hover.k}`) ? ` (${notes.get(`${hover.i}:${hover.k}`)})` : ''}
          </div>
          <div className="dim small">
            slab 0x{grid.slab[hover.i].toString(16)} · {grid.sections[grid.section[hover.i]]}
          </div>
          <div className="dim small">click to open it in the hex view</div>
        </div>
      )}
    </div>
  );
}

function Findings({ tab, line }: { tab: Tab; line: string }) {
  const navigate = useApp((s) => s.navigate);
  const st = useCommand(tab, line);
  return (
    <div className="findings-card card" data-testid="findings">
      <h3>
        slabcheck <span className="dim small">freelists, counts, list linkage, red zones, poison</span>
      </h3>
      <CommandGate tab={tab} state={st} what={line.replace(/ --json$/, '')}>
        {(r) => {
          const j = resultJson(r, 'slabcheck');
          const fs = j?.findings ?? [];
          return (
            <>
              {j?.scanned && (
                <div className="dim small">
                  scanned {j.scanned.caches} cache(s), {j.scanned.slabs} slabs, {j.scanned.objects} objects{j.truncated ? ' (truncated)' : ''}
                </div>
              )}
              {fs.length === 0 ? (
                <div className="ok small">no findings</div>
              ) : (
                <ul className="flist">
                  {fs.map((f, i) => (
                    <li key={i} className={'sev-' + f.severity}>
                      <span className="badge">{f.check}</span>{' '}
                      {f.view?.address ? (
                        <a
                          href="#"
                          onClick={(e) => {
                            e.preventDefault();
                            const v = f.view;
                            navigate({ panel: 'mem', arg: v.address, params: v.type ? { type: v.type } : {} });
                          }}
                        >
                          {f.message}
                        </a>
                      ) : (
                        f.message
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </>
          );
        }}
      </CommandGate>
    </div>
  );
}
