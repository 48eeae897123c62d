/**
 * Memory: the hex view of kernel virtual memory with a typed struct overlay.
 *
 * URL: `#/<fp>/mem/<address|symbol|expression>?type=<T or A + B>&at=<hex>&off=<hex>&g=<1|2|4|8>&sel=<addr>`
 *  - the arg is where the view opens (the base); `type` is laid over base+at; `off` is the offset
 *    box, from the base (e.g. +0x2c8 from an skb head); `sel` is the cursor.
 * The side pane says what the place is (symbol, whatis), the member the offset falls in, the
 * overlay's members with decoded values (pointers are links, list_heads walk), and the ranked
 * types that fit an untyped object ("Which types fit?", the engine's `overlay`).
 */
import { Fragment, useCallback, useEffect, useRef, useState, type JSX } from 'react';
import { useApp, type Tab } from '../../store';
import { listTypes, readMemory, resolve, setOverlay, type Resolved, type TypeName, type WhatisJson, type OverlayJson } from '../../engine';
import { resultJson } from '../../results';
import { LinkedText } from '../common';
import { HexView, type HexHandle } from './HexView';
import {
  MASK64,
  bareType,
  decodeMember,
  hex,
  memberAt,
  parseOffset,
  pointerTarget,
  shortPath,
  type PlacedMember,
} from './hexmodel';
import { cachedRun, structLayout, useOverlay } from './overlay';
import { isShortcut } from '../../keys';
import { isKernelPointer } from '../../pointers';

type Group = 1 | 2 | 4 | 8;

/** What the arg names: resolve (address, symbol+off), else `eval` (expressions). */
async function locate(session: string, arg: string): Promise<Resolved> {
  const r = await resolve(session, arg);
  if (r.address || !/[+\-*/()<>&|^~ ]|^\d+$/.test(arg)) return r;
  const e = await cachedRun(session, `eval ${arg} --json`);
  const v = resultJson(e, 'eval')?.value;
  if (!v) return { input: arg, error: e.error ?? r.error ?? `${arg}: cannot evaluate` };
  const r2 = await resolve(session, v);
  return { ...r2, input: arg };
}

function offHex(n: number): string {
  return (n < 0 ? '-0x' : '0x') + Math.abs(n).toString(16);
}

export function MemoryPanel({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const setParams = useApp((s) => s.setParams);
  const arg = tab.view.arg ?? '';
  const p = tab.view.params;
  const type = p.type || undefined;
  const at = parseOffset(p.at) ?? 0;
  const off = parseOffset(p.off);
  const group = ([1, 2, 4, 8].includes(Number(p.g)) ? Number(p.g) : 8) as Group;
  const sel = p.sel ? (() => { try { return BigInt('0x' + p.sel.replace(/^0x/i, '')); } catch { return null; } })() : null;

  const [input, setInput] = useState(arg);
  const [res, setRes] = useState<Resolved | null>(null);
  const [offWhatis, setOffWhatis] = useState<WhatisJson | null>(null);
  const hexRef = useRef<HexHandle>(null);
  const addrInput = useRef<HTMLInputElement>(null);

  useEffect(() => setInput(arg), [arg]);

  useEffect(() => {
    let live = true;
    setRes(null);
    if (!arg) return;
    void locate(tab.session, arg).then((r) => live && setRes(r));
    return () => {
      live = false;
    };
  }, [tab.session, arg]);

  const base = res?.address ? BigInt(res.address) : null;
  const w = res?.whatis ?? null;
  const objStart = w?.kind === 'slab' && w.object ? BigInt(w.object) : null;
  const typeStart = base !== null ? BigInt.asUintN(64, base + BigInt(at)) : null;
  const objSize = useObjectSize(tab, w);
  const ovState = useOverlay(tab.session, type, objSize !== null && objStart !== null && typeStart !== null ? Number(objStart + BigInt(objSize) - typeStart) : null);
  const ov = ovState.status === 'ok' ? ovState.overlay : null;

  // tell the engine (whatis names members through it), then ask whatis about the offset
  useEffect(() => {
    let live = true;
    setOffWhatis(null);
    void (async () => {
      if (type && typeStart !== null) await setOverlay(tab.session, '0x' + hex(typeStart, 1), type);
      if (base !== null && off !== null) {
        const r = await resolve(tab.session, '0x' + hex(BigInt.asUintN(64, base + BigInt(off)), 1));
        if (live) setOffWhatis(r.whatis ?? null);
      }
    })();
    return () => {
      live = false;
    };
  }, [tab.session, type, typeStart, base, off]);

  const focusByte = base !== null && off !== null ? BigInt.asUintN(64, base + BigInt(off)) : null;
  const offMember = ov && focusByte !== null && typeStart !== null ? memberAt(ov.members, Number(focusByte - typeStart)) : null;
  // a typed member is highlighted whole; in an unknown part (a driver PDU) only the word at the offset
  const highlight: [bigint, bigint] | null =
    offMember && typeStart !== null && focusByte !== null
      ? offMember.type.startsWith('(unknown') || offMember.size > 256
        ? [focusByte & ~7n, (focusByte & ~7n) + 8n]
        : [typeStart + BigInt(offMember.at), typeStart + BigInt(offMember.at + Math.max(1, offMember.size))]
      : null;

  const cursor = sel ?? focusByte ?? base;

  // on landing with an offset: show the offset's row too
  useEffect(() => {
    if (focusByte !== null) hexRef.current?.reveal(focusByte);
  }, [focusByte]);

  // after "g ADDR Enter" the hex view takes the keys again once it shows the new address
  const focusHex = useRef(false);
  useEffect(() => {
    if (base !== null && focusHex.current) {
      focusHex.current = false;
      hexRef.current?.focus();
    }
  }, [base]);

  // g from anywhere in the panel (not only from the hex view), outside fields and editors
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'g' || !isShortcut(e)) return;
      e.preventDefault();
      addrInput.current?.focus();
      addrInput.current?.select();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const go = (target: string) => {
    const t = target.trim();
    if (!t) return;
    focusHex.current = true;
    if (t === arg) {
      focusHex.current = false;
      hexRef.current?.focus();
    }
    navigate({ panel: 'mem', arg: t, params: p.g ? { g: p.g } : {} });
  };

  const onCursor = useCallback(
    (a: bigint) => {
      setParams({ sel: hex(a, 1) });
      hexRef.current?.reveal(a);
    },
    [setParams],
  );

  const follow = useCallback(
    (v: bigint, t?: string) => {
      const params: Record<string, string> = {};
      if (p.g) params.g = p.g;
      if (t) params.type = t;
      navigate({ panel: 'mem', arg: '0x' + hex(v, 1), params });
    },
    [navigate, p.g],
  );

  const onKey = (e: React.KeyboardEvent): boolean => {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === 'w') {
      e.preventDefault();
      setParams({ g: String(group === 8 ? 1 : group * 2) });
      return true;
    }
    if ((e.key === 'Home' || e.key === 'End') && cursor !== null) {
      e.preventDefault();
      let s: bigint | null = null;
      let end: bigint | null = null;
      if (ov && typeStart !== null && cursor >= typeStart && cursor < typeStart + BigInt(ov.size)) {
        s = typeStart;
        end = typeStart + BigInt(ov.size);
      } else if (objStart !== null && objSize !== null) {
        s = objStart;
        end = objStart + BigInt(objSize);
      }
      if (s !== null && end !== null) onCursor(e.key === 'Home' ? s : end - 1n);
      return true;
    }
    return false;
  };

  return (
    <div className="panel memory">
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          go(input);
        }}
      >
        <input
          ref={addrInput}
          className="search addr-input"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setInput(arg);
              hexRef.current?.focus();
            }
          }}
          placeholder="g: address, symbol+offset or expression (e.g. init_task+0x10, jiffies)"
          aria-label="address"
          spellCheck={false}
        />
        <button type="submit">go</button>
        <span className="seg" role="group" aria-label="grouping">
          {([1, 2, 4, 8] as Group[]).map((g) => (
            <button
              type="button"
              key={g}
              className={group === g ? 'on' : ''}
              onClick={() => setParams({ g: g === 8 ? undefined : String(g) })}
              title={`${g * 8}-bit words (w cycles)`}
            >
              {g * 8}
            </button>
          ))}
        </span>
        <TypePicker tab={tab} type={type} at={at} onPick={(t, a) => setParams({ type: t || undefined, at: a ? offHex(a).replace(/^0x/, '') : undefined })} />
        <OffsetBox value={off} onChange={(o) => setParams({ off: o === null ? undefined : o.toString(16), sel: undefined })} />
      </form>
      <div className="membody">
        <div className="memhex">
          {!arg && (
            <div className="state empty">
              Type an address, a symbol or an expression (<kbd>g</kbd>), or click an address in the log, a backtrace, the
              slab map or the console.
            </div>
          )}
          {arg && !res && <div className="state loading"><span className="spinner" /> resolving {arg}…</div>}
          {res?.error && (
            <div className="state failed" role="alert">
              <code>{res.error}</code>
            </div>
          )}
          {base !== null && (
            <HexView
              handle={hexRef}
              session={tab.session}
              target={base}
              cursor={cursor}
              group={group}
              overlay={ov && typeStart !== null ? { start: typeStart, ov } : null}
              focusByte={focusByte}
              highlight={highlight}
              onCursor={onCursor}
              onFollow={follow}
              onKey={onKey}
            />
          )}
          <Legend />
        </div>
        <aside className="memside">
          {res?.address && base !== null && (
            <div className="resolved card">
              <code className="big">{res.address}</code>
              {res.symbol && (
                <span>
                  {' '}
                  = <b>{res.symbol}</b>
                  {res.module && ` [${res.module}]`}
                </span>
              )}
              {res.input !== res.address && !res.symbol && <span className="dim"> ({res.input})</span>}
              {res.readable === false && <div className="warn">not readable in this dump</div>}
              {w ? <WhatisView w={w} onOpen={follow} /> : <div className="dim small">whatis: no answer</div>}
              {w?.kind === 'slab' && (
                <div className="actions">
                  {objStart !== null && objStart !== base && (
                    <button type="button" onClick={() => navigate({ panel: 'mem', arg: '0x' + hex(objStart, 1), params: { ...(w.type && !type ? { type: bareType(w.type) } : type ? { type } : {}) } })}>
                      object start
                    </button>
                  )}
                  {w.type && !type && (
                    <button type="button" onClick={() => setParams({ type: bareType(String(w.type)), at: objStart !== null && base !== null && objStart !== base ? offHex(Number(objStart - base)).replace(/^0x/, '') : undefined })}>
                      lay {String(w.type)} over it
                    </button>
                  )}
                  <button type="button" onClick={() => navigate({ panel: 'slabs', arg: String(w.cache), params: objStart !== null ? { obj: hex(objStart, 1) } : {} })}>
                    in the slab map
                  </button>
                </div>
              )}
            </div>
          )}
          {off !== null && base !== null && (
            <div className="card" data-testid="offset-card">
              <h3>
                offset +0x{off.toString(16)} = <code>{hex(BigInt.asUintN(64, base + BigInt(off)))}</code>
              </h3>
              {offMember ? (
                <div data-testid="offset-member">
                  <b className="hlname">
                    {offMember.type.startsWith('(unknown') ? offMember.name : `${offMember.part}.${shortPath(offMember.path) || offMember.name}`}
                  </b>{' '}
                  <span className="dim">{offMember.type}</span>
                  {focusByte !== null && typeStart !== null && Number(focusByte - typeStart) !== offMember.at && (
                    <span className="dim"> +0x{(Number(focusByte - typeStart) - offMember.at).toString(16)} into it</span>
                  )}
                </div>
              ) : ov ? (
                <div className="dim">no member of {ov.type} covers it (padding or past the end)</div>
              ) : (
                <div className="dim">lay a type over the object to name the member (type box, or Which types fit?)</div>
              )}
              {offWhatis?.member_path && (
                <div className="small">
                  whatis: {offWhatis.type ? `${offWhatis.type}.` : ''}
                  {offWhatis.member_path}
                </div>
              )}
            </div>
          )}
          {type && <StructCard tab={tab} state={ovState} start={typeStart} at={at} offMember={offMember} onFollow={follow} />}
          {base !== null && (w?.kind === 'slab' || type) && <FitCard tab={tab} base={base} w={w} off={off} />}
        </aside>
      </div>
    </div>
  );
}

/** The object's size for an overlay's unknown trailing part: the cache's object size. */
function useObjectSize(tab: Tab, w: WhatisJson | null): number | null {
  const [n, setN] = useState<number | null>(null);
  const cache = w?.kind === 'slab' ? w.cache : undefined;
  useEffect(() => {
    setN(null);
    if (!cache) return;
    let live = true;
    void cachedRun(tab.session, 'kmem -s --json').then((r) => {
      const row = live ? resultJson(r, 'kmem -s')?.find((c) => c.name === cache) : undefined;
      if (row) setN(row.objsize);
    });
    return () => {
      live = false;
    };
  }, [tab.session, cache]);
  return n;
}

function Legend() {
  return (
    <div className="legend hexlegend small">
      <span className="p-text">text</span>
      <span className="p-data">data</span>
      <span className="p-slab">slab ptr</span>
      <span className="p-direct">direct map</span>
      <span className="p-bad">bad ptr</span>
      <span className="poison">poison 6b/a5</span>
      <span className="redzone">redzone bb/cc</span>
      <span className="zero">00</span>
      <span className="free">free object</span>
      <span className="ostart">object start</span>
      <span className="dim">keys: g go · arrows · PgUp/PgDn · Home/End object · Enter follow · w words · ? help</span>
    </div>
  );
}

function WhatisView({ w, onOpen }: { w: WhatisJson; onOpen: (a: bigint, t?: string) => void }) {
  const rows: [string, string | JSX.Element][] = [];
  rows.push(['kind', w.kind ?? '?']);
  if (w.cache) rows.push(['cache', w.cache]);
  if (w.object)
    rows.push([
      'object',
      <a
        href="#"
        onClick={(e) => {
          e.preventDefault();
          onOpen(BigInt(w.object!), w.type ? bareType(w.type) : undefined);
        }}
      >
        {w.object}
      </a>,
    ]);
  if (w.offset !== undefined) rows.push(['offset', `+0x${Number(w.offset).toString(16)} (${w.offset})`]);
  if (w.state) rows.push(['state', w.state]);
  if (w.region && w.region !== 'object') rows.push(['region', w.region]);
  if (w.type) rows.push(['type', `${w.type}${w.type_source ? ` (${String(w.type_source)})` : ''}`]);
  if (w.member_path) rows.push(['member', w.member_path]);
  if (w.symbol) rows.push(['symbol', w.symbol]);
  if (w.task) rows.push(['task', `PID ${w.task.pid} ${w.task.comm} ${w.task.task} CPU ${w.task.cpu}`]);
  if (w.note !== undefined) rows.push(['note', w.note]);
  if (w.problems !== undefined) rows.push(['problems', w.problems.join('; ')]);
  return (
    <dl className="kv whatis" data-testid="whatis">
      {rows.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd className={k === 'state' ? 'st-' + String(v) : ''}>{typeof v === 'string' ? <LinkedText text={v} /> : v}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

function OffsetBox({ value, onChange }: { value: number | null; onChange: (o: number | null) => void }) {
  const [v, setV] = useState(value !== null ? '0x' + value.toString(16) : '');
  useEffect(() => setV(value !== null ? '0x' + value.toString(16) : ''), [value]);
  const bad = v.trim() !== '' && parseOffset(v) === null;
  return (
    <label className="offbox" title="offset from the address: highlights the member that covers it">
      +
      <input
        value={v}
        aria-label="offset"
        placeholder="0x2c8"
        spellCheck={false}
        className={bad ? 'bad' : ''}
        onChange={(e) => setV(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            onChange(v.trim() ? parseOffset(v) : null);
          }
        }}
        onBlur={() => {
          const o = v.trim() ? parseOffset(v) : null;
          if (!bad && o !== value) onChange(o);
        }}
      />
    </label>
  );
}

/** A searchable list of the dump's struct and union types (kernel and module BTF). */
function TypePicker({ tab, type, at, onPick }: { tab: Tab; type: string | undefined; at: number; onPick: (t: string | null, at: number) => void }) {
  const [q, setQ] = useState(type ?? '');
  const [atText, setAtText] = useState(at ? '0x' + at.toString(16) : '');
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<TypeName[] | null>(null);
  const [idx, setIdx] = useState(0);
  useEffect(() => setQ(type ?? ''), [type]);
  useEffect(() => setAtText(at ? '0x' + at.toString(16) : ''), [at]);
  useEffect(() => {
    if (!open) return;
    let live = true;
    const t = setTimeout(() => {
      void listTypes(tab.session, q.includes('+') ? '' : q, 60).then((l) => {
        if (live) {
          setList(l);
          setIdx(0);
        }
      });
    }, 100);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [tab.session, q, open]);
  const pick = (name: string | null) => {
    setOpen(false);
    onPick(name, parseOffset(atText) ?? 0);
  };
  return (
    <span className="typepicker">
      <input
        value={q}
        aria-label="type"
        placeholder="type: sk_buff, skb_shared_info…"
        spellCheck={false}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setIdx((i) => Math.min((list?.length ?? 1) - 1, i + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setIdx((i) => Math.max(0, i - 1));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            const exact = list?.find((t) => t.name === bareType(q));
            if (q.includes('+')) pick(q.trim());
            else if (!q.trim()) pick(null);
            else pick(exact ? exact.name : list?.[idx]?.name ?? q.trim());
          } else if (e.key === 'Escape') setOpen(false);
        }}
      />
      <label title="where the type starts, from the address (e.g. skb->end for skb_shared_info)">
        at +
        <input
          className="at"
          value={atText}
          aria-label="type offset"
          placeholder="0"
          spellCheck={false}
          onChange={(e) => setAtText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              if (type || q.trim()) onPick(type ?? q.trim(), parseOffset(atText) ?? 0);
            }
          }}
        />
      </label>
      {type && (
        <button type="button" className="link" onClick={() => pick(null)} title="remove the overlay">
          ×
        </button>
      )}
      {open && list && (
        <div className="dropdown" role="listbox" data-testid="type-list">
          {list.length === 0 && <div className="dim">no struct or union named like “{q}”</div>}
          {list.map((t, i) => (
            <div
              key={t.kind + t.name + t.source}
              role="option"
              aria-selected={i === idx}
              className={i === idx ? 'on' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(t.kind === 'union' ? `union ${t.name}` : t.name);
              }}
            >
              <span>
                {t.kind === 'union' ? 'union ' : ''}
                {t.name}
              </span>
              <span className="dim">
                {t.size} B{t.source !== 'vmlinux' ? ` · ${t.source}` : ''}
              </span>
            </div>
          ))}
        </div>
      )}
    </span>
  );
}

/** The overlay's members, values decoded from the bytes; pointers link; list_heads walk. */
function StructCard({
  tab,
  state,
  start,
  at,
  offMember,
  onFollow,
}: {
  tab: Tab;
  state: ReturnType<typeof useOverlay>;
  start: bigint | null;
  at: number;
  offMember: PlacedMember | null;
  onFollow: (a: bigint, t?: string) => void;
}) {
  const [bytes, setBytes] = useState<{ b: Uint8Array; n: number } | null>(null);
  const layout = tab.layout;
  const [expanded, setExpanded] = useState<Record<number, PlacedMember[] | 'loading' | string>>({});
  const [walk, setWalk] = useState<{ title: string; entries?: string[]; error?: string; type: string } | null>(null);
  const ov = state.status === 'ok' ? state.overlay : null;
  const listRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setBytes(null);
    setExpanded({});
    setWalk(null);
    if (!ov || start === null) return;
    let live = true;
    const n = Math.min(ov.size || 0, 1 << 16);
    void readMemory(tab.session, '0x' + hex(start, 1), n).then((m) => {
      if (!live || 'error' in m) return;
      // missing spans read as zeros: mark what is readable
      let avail = m.length;
      if (m.missing.length) avail = Math.max(0, Number(BigInt(m.missing[0].start) - start));
      setBytes({ b: m.bytes, n: avail });
    });
    return () => {
      live = false;
    };
  }, [tab.session, ov, start]);

  useEffect(() => {
    if (!offMember) return;
    // scroll the member list only (not the side pane: the offset card stays in view)
    const list = listRef.current;
    const el = list?.querySelector('.mrow.hl') as HTMLElement | null;
    if (list && el) list.scrollTop = Math.max(0, el.offsetTop - list.clientHeight / 2);
  }, [offMember, bytes]);

  if (state.status === 'loading') return <div className="card state loading">laying the type over…</div>;
  if (state.status === 'error') {
    return (
      <div className="card state failed" role="alert">
        <code>{state.error}</code>
      </div>
    );
  }
  if (!ov || start === null) return null;

  const expand = async (m: PlacedMember) => {
    if (expanded[m.index]) {
      const n = { ...expanded };
      delete n[m.index];
      setExpanded(n);
      return;
    }
    setExpanded((e) => ({ ...e, [m.index]: 'loading' }));
    const l = await structLayout(tab.session, m.type);
    setExpanded((e) => ({
      ...e,
      [m.index]: 'error' in l ? l.error : l.members.map((c, i) => ({ ...c, index: 100000 + i, at: m.at + c.offset, part: m.part, depth: m.depth + 1, path: m.path + '.' + c.path })),
    }));
  };

  const walkList = async (m: PlacedMember) => {
    const part = ov.parts.find((p) => p.layout && bareType(p.type) === m.part);
    if (!part) return;
    const structAddr = start + BigInt(part.offset);
    const line = `list -h -o ${m.part}.${shortPath(m.path)} -c 200 0x${hex(structAddr, 1)} --json`;
    setWalk({ title: line, type: m.part });
    const r = await cachedRun(tab.session, line);
    const j = resultJson(r, 'list');
    setWalk({ title: line, type: m.part, entries: j?.entries, error: r.ok ? (j?.message ?? undefined) : r.error });
  };

  const rows: JSX.Element[] = [];
  // skb->head, for the skb_shinfo() jump beside skb->end
  const headMember = ov.members.find((x) => x.part === 'sk_buff' && shortPath(x.path) === 'head');
  const headVal = headMember && bytes ? decodeMember(headMember, bytes.b, bytes.n) : null;
  const skbHead = headVal && /^0x/.test(headVal) ? BigInt(headVal) : null;
  const renderMember = (m: PlacedMember, depth: number) => {
    const val = bytes ? decodeMember(m, bytes.b, bytes.n) : null;
    const pt = pointerTarget(m.type);
    const isList = /^struct list_head$/.test(m.type.trim()) || /^struct hlist_node$/.test(m.type.trim());
    const composite = /^(struct|union)\s+\w+$/.test(m.type.trim()) && m.size > 0;
    const hl = offMember && (offMember.index === m.index || (offMember.at === m.at && offMember.size === m.size && offMember.name === m.name));
    const addr = start + BigInt(m.at);
    let valueEl: JSX.Element | string | null = isList && bytes && m.at + 16 <= bytes.n ? null : val;
    if (val && pt && pt.kind !== 'func' && /^0x/.test(val)) {
      const v = BigInt(val);
      // a pointer member: a link when it points into the dump's kernel ranges, marked bad when
      // it is neither NULL nor a kernel address (frag_list = 0x106)
      if (v !== 0n && !isKernelPointer(v, layout))
        valueEl = (
          <span className="badptr" title="not NULL and not a kernel address on this dump: a bad pointer" data-testid="bad-pointer">
            {val} <span className="badge bad">bad pointer</span>
          </span>
        );
      else if (v !== 0n)
        valueEl = (
          <a
            href="#"
            className="addr"
            onClick={(e) => {
              e.preventDefault();
              onFollow(v, pt.struct);
            }}
            title={pt.struct ? `open as struct ${pt.struct}` : 'open'}
          >
            {val}
          </a>
        );
    } else if (val && pt?.kind === 'func' && /^0x/.test(val) && BigInt(val) !== 0n) {
      valueEl = <FuncPtr session={tab.session} value={val} onOpen={() => onFollow(BigInt(val))} />;
    } else if (val && /^\d+$/.test(val) && !pt && Number(val) >= 10) {
      // integers beside hex offsets: decimal and hex
      valueEl = (
        <>
          {val} <span className="dim">(0x{Number(val).toString(16)})</span>
          {m.part === 'sk_buff' && shortPath(m.path) === 'end' && skbHead !== null && (
            <>
              {' '}
              <a
                href="#"
                className="addr"
                data-testid="skb-shinfo"
                title="skb_shinfo(skb) = skb->head + skb->end: open it as struct skb_shared_info"
                onClick={(e) => {
                  e.preventDefault();
                  onFollow(BigInt.asUintN(64, skbHead + BigInt(val)), 'skb_shared_info');
                }}
              >
                skb_shinfo() →
              </a>
            </>
          )}
        </>
      );
    }
    rows.push(
      <div
        key={m.index + ':' + m.path + ':' + depth}
        className={'mrow' + (hl ? ' hl' : '') + ` band${m.index % 6}`}
        style={{ paddingLeft: 4 + depth * 14 }}
        data-member={shortPath(m.path) || m.name}
      >
        <span className="mo" title={`0x${hex(addr)}`}>
          +0x{m.at.toString(16)}
        </span>
        <span className="mn">
          {composite && (
            <button type="button" className="link tw" onClick={() => void expand(m)} aria-label={`expand ${m.name}`}>
              {expanded[m.index] ? '▾' : '▸'}
            </button>
          )}
          {shortPath(m.path) || m.name}
          {m.bit_size !== undefined && <span className="dim">:{m.bit_size}</span>}
        </span>
        <span className="mt dim" title={m.type}>
          {m.type}
        </span>
        <span className="mv">
          {valueEl ?? (isList && bytes ? null : <span className="dim">{m.size > 16 ? `${m.size} B` : bytes ? '—' : '…'}</span>)}
          {isList && bytes && valueEl === null && (
            <ListActions m={m} bytes={bytes} start={start} partOff={ov.parts.find((x) => bareType(x.type) === m.part)?.offset ?? 0} onFollow={onFollow} onWalk={() => void walkList(m)} />
          )}
        </span>
      </div>,
    );
    const ex = expanded[m.index];
    if (ex === 'loading') rows.push(<div key={m.index + 'l'} className="mrow dim" style={{ paddingLeft: 18 + depth * 14 }}>…</div>);
    else if (typeof ex === 'string') rows.push(<div key={m.index + 'e'} className="mrow err">{ex}</div>);
    else if (ex) for (const c of ex) renderMember(c, depth + 1);
  };
  for (const m of ov.members) renderMember(m, 0);

  return (
    <div className="card structcard" data-testid="struct-card">
      <h3>
        {ov.parts.map((p, i) => (
          <span key={i}>
            {i > 0 && ' + '}
            <b>{p.type}</b> <span className="dim">({p.size} B at +0x{(at + p.offset).toString(16)})</span>
          </span>
        ))}{' '}
        @ <code>{hex(start)}</code>
      </h3>
      <div className="mlist" ref={listRef}>
        {rows}
      </div>
      {walk && (
        <div className="walk">
          <div className="dim small">
            <code>{walk.title}</code>
          </div>
          {!walk.entries && !walk.error && <div className="dim">walking…</div>}
          {walk.error && <div className="warn small">{walk.error}</div>}
          {walk.entries && (
            <ol className="entries">
              {walk.entries.map((e, i) => (
                <li key={i}>
                  <a
                    href="#"
                    className="addr"
                    onClick={(ev) => {
                      ev.preventDefault();
                      onFollow(BigInt(e), walk.type);
                    }}
                  >
                    {e}
                  </a>
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </div>
  );
}

function FuncPtr({ session, value, onOpen }: { session: string; value: string; onOpen: () => void }) {
  const [s, setS] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void resolve(session, value).then((r) => live && setS(r.symbol ?? null));
    return () => {
      live = false;
    };
  }, [session, value]);
  return (
    <a
      href="#"
      className="addr"
      onClick={(e) => {
        e.preventDefault();
        onOpen();
      }}
    >
      {value}
      {s ? ` <${s}>` : ''}
    </a>
  );
}

/** A list_head member: its next/prev, container_of(next) as the same type, and a walk. */
function ListActions({
  m,
  bytes,
  start,
  partOff,
  onFollow,
  onWalk,
}: {
  m: PlacedMember;
  bytes: { b: Uint8Array; n: number };
  start: bigint;
  partOff: number;
  onFollow: (a: bigint, t?: string) => void;
  onWalk: () => void;
}) {
  if (m.at + 16 > bytes.n) return null;
  const dv = new DataView(bytes.b.buffer, bytes.b.byteOffset, bytes.b.byteLength);
  const next = dv.getBigUint64(m.at, true);
  const prev = dv.getBigUint64(m.at + 8, true);
  const self = start + BigInt(m.at);
  const empty = next === self;
  // container_of(next, <part type>, member): the next entry, assuming a list of the same type
  const inPart = BigInt(m.at - partOff);
  const containerOf = (p: bigint) => BigInt.asUintN(64, p - inPart) & MASK64;
  return (
    <span className="listacts">
      {next === 0n ? (
        <span className="dim">not linked (next is NULL)</span>
      ) : empty ? (
        <span className="dim">empty (points to itself)</span>
      ) : (
        <>
          <span className="small">next </span>
          <a href="#" className="addr" onClick={(e) => { e.preventDefault(); onFollow(next); }}>
            {'0x' + next.toString(16)}
          </a>
          <span className="small"> prev </span>
          <a href="#" className="addr" onClick={(e) => { e.preventDefault(); onFollow(prev); }}>
            {'0x' + prev.toString(16)}
          </a>{' '}
          <button type="button" className="link" title={`container_of(next, ${m.part}, ${shortPath(m.path)})`} onClick={() => onFollow(containerOf(next), m.part)}>
            next {m.part} →
          </button>
          <button type="button" className="link" onClick={onWalk} title={`list -h -o ${m.part}.${shortPath(m.path)}`}>
            walk
          </button>
        </>
      )}
    </span>
  );
}

type Candidate = OverlayJson['candidates'][number];

type FitJson = OverlayJson;
type FitReferrer = NonNullable<OverlayJson['referrers']>[number];

/**
 * Who points into the object (the overlay's referrer scan): members of typed slab objects first
 * (they are evidence: sk_buff.head, a struct request * ...), then stacks, variables and other
 * memory folded; the parts left out of the scoring; "undecided" when only sizes ranked.
 */
function FitReferrers({ json, onOpen }: { json: FitJson; onOpen(r: FitReferrer): void }) {
  const refs = json.referrers ?? [];
  const typed = refs.filter((r) => r.member);
  const other = refs.filter((r) => !r.member);
  const item = (r: FitReferrer) => (
    <li key={r.address} className={r.pointee ? 'typed' : ''}>
      <button type="button" className="link mono" onClick={() => onOpen(r)}>
        {r.address.replace(/^0x/, '')}
      </button>{' '}
      {r.text}
    </li>
  );
  return (
    <div className="referrers small" data-testid="referrers">
      {json.undecided && <div className="warn" data-testid="undecided">No layout has member or referrer evidence: the ranking below is by size alone.</div>}
      <b>Pointed to by</b> {refs.length === 0 && <span className="dim">nothing found in the dump's memory</span>}
      <ul>{typed.map(item)}</ul>
      {other.length > 0 && (
        <details>
          <summary className="dim">
            {other.length}
            {json.referrers_truncated ? '+' : ''} more: stacks, variables, other memory
          </summary>
          <ul>{other.map(item)}</ul>
        </details>
      )}
      {json.not_scored?.map((n, i) => (
        <div key={i} className="dim">
          not scored: +0x{n.offset.toString(16)}..+0x{(n.offset + n.size).toString(16)} {n.why}
        </div>
      ))}
    </div>
  );
}

/** "Which types fit?": the engine's `overlay <object>` ranking, each usable as the overlay. */
function FitCard({ tab, base, w, off }: { tab: Tab; base: bigint; w: WhatisJson | null; off: number | null }) {
  const navigate = useApp((s) => s.navigate);
  const runCommand = useApp((s) => s.runCommand);
  const jobs = useApp((s) => s.jobs);
  const [st, setSt] = useState<{ line: string; jobId?: string; cands?: Candidate[]; error?: string; json?: FitJson } | null>(null);
  const obj = w?.kind === 'slab' && w.object ? BigInt(w.object) : base;
  useEffect(() => setSt(null), [base]);
  const run = () => {
    const line = `overlay 0x${hex(obj, 1)} --json`;
    setSt({ line });
    void runCommand(tab.session, line).then((r) => {
      const j = resultJson(r, 'overlay');
      setSt({ line, cands: j?.candidates, json: j, error: r.ok ? undefined : r.error });
    });
  };
  const running = st && !st.cands && !st.error;
  const job = running ? Object.values(jobs).find((j) => j.line === st.line && j.session === tab.session) : undefined;
  const use = (c: Candidate) => {
    const params: Record<string, string> = { type: c.name.replace(/^struct /, '') };
    if (off !== null) params.off = (off + Number(base - obj)).toString(16);
    navigate({ panel: 'mem', arg: '0x' + hex(obj, 1), params });
  };
  return (
    <div className="card fitcard">
      <h3>
        <button type="button" onClick={run} disabled={!!running} data-testid="which-types">
          Which types fit?
        </button>{' '}
        <span className="dim small">rank BTF types (and request + PDU) for the object at {hex(obj)}</span>
      </h3>
      {running && (
        <div className="dim">
          <span className="spinner" /> overlay: {job?.progress ? `${job.progress.what} ${Math.round((100 * job.progress.done) / Math.max(1, job.progress.total))}%` : 'scoring types…'}{' '}
          {job && (
            <button type="button" className="link" onClick={job.cancel}>
              cancel
            </button>
          )}
        </div>
      )}
      {st?.error && <div className="err">{st.error}</div>}
      {st?.json?.referrers && <FitReferrers json={st.json} onOpen={(r) => navigate({ panel: 'mem', arg: r.object ?? r.address, params: r.type ? { type: r.type.replace(/^struct /, '') } : {} })} />}
      {st?.cands && st.cands.length === 0 && <div className="dim">no type fits</div>}
      {st?.cands && (
        <ol className="cands" data-testid="candidates">
          {st.cands.map((c) => (
            <li key={c.name}>
              <div>
                <b>{c.name}</b> <span className="dim">score {c.score.toFixed(2)}</span>{' '}
                <button type="button" className="link" onClick={() => use(c)}>
                  use
                </button>
              </div>
              <div className="parts small">
                {c.parts.map((p, i) => (
                  <span key={i} className={'part' + (p.unknown ? ' unknown' : '')}>
                    +0x{p.offset.toString(16)} {p.type} ({p.size} B{p.source !== 'vmlinux' && p.source !== 'unknown' ? `, ${p.source}` : ''})
                  </span>
                ))}
              </div>
              <ul className="evidence small">
                {c.evidence.slice(0, 6).map((e, i) => (
                  <li key={i} className={e.weight < 0 ? 'neg' : ''}>
                    {e.weight >= 0 ? '+' : '−'}
                    {Math.abs(e.weight).toFixed(1)} +0x{e.offset.toString(16)} {e.text}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

