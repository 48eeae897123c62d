/**
 * Memory: a first hex view of kernel virtual memory. The address (or symbol+off) comes from the
 * URL (`#/<fp>/mem/<addr>?off=2c8`); what it is comes from `resolve` (symbol, whatis when the
 * engine has it); unreadable spans say why (page not in dump, not mapped) instead of zeros.
 * The typed struct overlay, qword pointer links and selection slot in here next.
 */
import { Fragment, useEffect, useState } from 'react';
import { useApp, type Tab } from '../../store';
import { readMemory, resolve, type MemoryBytes, type Resolved } from '../../engine';
import { LinkedText } from '../common';

const WINDOW = 512;
const PER_ROW = 16;

function toBig(s: string): bigint {
  return BigInt(s);
}
function hex(b: bigint, pad = 16): string {
  return b.toString(16).padStart(pad, '0');
}

export function MemoryPanel({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const arg = tab.view.arg ?? '';
  const off = tab.view.params.off;
  const [input, setInput] = useState(arg);
  const [res, setRes] = useState<Resolved | null>(null);
  const [mem, setMem] = useState<MemoryBytes | { error: string } | null>(null);
  const [base, setBase] = useState<bigint | null>(null);

  useEffect(() => {
    setInput(arg);
  }, [arg]);

  useEffect(() => {
    let live = true;
    setRes(null);
    setMem(null);
    setBase(null);
    if (!arg) return;
    void resolve(tab.session, arg).then((r) => {
      if (!live) return;
      setRes(r);
      if (!r.address) return;
      const a = toBig(r.address) + (off ? BigInt('0x' + off.replace(/^0x/i, '')) : 0n);
      // show the line of interest near the top, aligned to a row
      const start = BigInt.asUintN(64, (a & ~0xfn) - 0x40n);
      setBase(start);
      void readMemory(tab.session, '0x' + hex(start), WINDOW).then((m) => live && setMem(m));
    });
    return () => {
      live = false;
    };
  }, [tab.session, arg, off]);

  const go = (target: string) => {
    const t = target.trim();
    if (t) navigate({ panel: 'mem', arg: t, params: {} });
  };
  const page = (delta: number) => {
    if (base === null) return;
    navigate({ panel: 'mem', arg: '0x' + hex(BigInt.asUintN(64, base + 0x40n + BigInt(delta))), params: {} });
  };

  const focus = res?.address ? BigInt.asUintN(64, toBig(res.address) + (off ? BigInt('0x' + off.replace(/^0x/i, '')) : 0n)) : null;

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
          className="search addr-input"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          placeholder="address or symbol+0xoff, e.g. ffff888003a3c000 or skb_release_data+0x11d"
          aria-label="address"
          spellCheck={false}
        />
        <button type="submit">go</button>
        <button type="button" onClick={() => page(-WINDOW)} disabled={base === null} title="previous 512 bytes">
          ◀
        </button>
        <button type="button" onClick={() => page(WINDOW)} disabled={base === null} title="next 512 bytes">
          ▶
        </button>
      </form>
      <div className="scroll">
        {!arg && (
          <div className="state empty">
            Type an address or a symbol, or click an address in the log, a backtrace or the console.
          </div>
        )}
        {arg && !res && <div className="state loading">resolving {arg}…</div>}
        {res?.error && (
          <div className="state failed" role="alert">
            <code>{res.error}</code>
          </div>
        )}
        {res?.address && (
          <div className="resolved">
            <code className="big">{res.address}</code>
            {res.symbol && (
              <span>
                {' '}
                = <b>{res.symbol}</b>
                {res.module && ` [${res.module}]`}
              </span>
            )}
            {off && <span className="dim"> +0x{off.replace(/^0x/i, '')}</span>}
            {res.readable === false && <span className="warn"> · not readable in this dump</span>}
            {res.whatis !== undefined ? (
              <WhatisView w={res.whatis} />
            ) : (
              <div className="dim small">whatis: not available in this engine build yet</div>
            )}
          </div>
        )}
        {mem && 'error' in mem && (
          <div className="state failed">
            <code>{mem.error}</code>
          </div>
        )}
        {mem && !('error' in mem) && <HexRows mem={mem} focus={focus} />}
      </div>
    </div>
  );
}

function flat(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(flat).join(',');
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${flat(x)}`)
      .join(' ');
  return String(v);
}

/** `whatis --json`: one row per top-level field, nested objects on one line. */
function WhatisView({ w }: { w: unknown }) {
  if (!w || typeof w !== 'object') return <div className="small">{flat(w)}</div>;
  const entries = Object.entries(w as Record<string, unknown>).filter(([k]) => k !== 'address');
  return (
    <dl className="kv whatis" data-testid="whatis">
      {entries.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>
            <LinkedText text={flat(v)} />
          </dd>
        </Fragment>
      ))}
    </dl>
  );
}

function HexRows({ mem, focus }: { mem: MemoryBytes; focus: bigint | null }) {
  const start = toBig(mem.address);
  const missing = mem.missing.map((m) => ({ s: toBig(m.start), e: toBig(m.end), reason: m.reason }));
  const why = (a: bigint) => missing.find((m) => a >= m.s && a < m.e)?.reason;
  const rows = [];
  for (let r = 0; r < mem.length; r += PER_ROW) {
    const ra = start + BigInt(r);
    const cells = [];
    let ascii = '';
    for (let i = 0; i < PER_ROW; i++) {
      const a = ra + BigInt(i);
      const w = why(a);
      const b = mem.bytes[r + i];
      const cls = [w ? 'miss' : b === 0 ? 'zero' : '', focus === a ? 'focus' : '', i === 8 ? 'gap' : ''].join(' ');
      cells.push(
        <span key={i} className={cls} title={w}>
          {w ? '··' : b.toString(16).padStart(2, '0')}
        </span>,
      );
      ascii += w ? ' ' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    rows.push(
      <div key={r} className="hexrow">
        <span className="ha">{hex(BigInt.asUintN(64, ra))}</span>
        <span className="hb">{cells}</span>
        <span className="hc">{ascii}</span>
      </div>,
    );
  }
  return (
    <div className="hex" data-testid="hex">
      {mem.missing.length > 0 && (
        <div className="warn small">
          {mem.missing.map((m) => (
            <div key={m.start}>
              {m.start}–{m.end}: {m.reason}
            </div>
          ))}
        </div>
      )}
      {rows}
    </div>
  );
}
