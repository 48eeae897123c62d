/**
 * Script: JavaScript over the open dump with the kernel's types (docs/scripting.md). The editor
 * (scriptEditor.ts, Monaco loaded on demand) completes and checks against the dump's kernel.d.ts;
 * Run starts the script in its own worker (runner.ts), Cancel and the time budget terminate that
 * worker. print() lines stream in as they come; the returned value is shown as a table (an array
 * of records) or JSON; addresses in both link into the hex view (a returned kernel object opens
 * there with its type laid over it). The script is kept in localStorage (runs.ts).
 */
import { useEffect, useRef, useState } from 'react';
import { activeTab, useApp, type Tab } from '../../store';
import { kernelDts } from '../../engine';
import { formatHash, type View } from '../../permalink';
import { Elapsed, LinkedText } from '../common';
import type { ScriptEditor } from './scriptEditor';
import { cancelRun, isRunning, loadBudget, loadScript, saveBudget, saveScript, startRun, useRun, MAX_LINES, type RunState } from './runs';

/** Output lines rendered at once (the rest: "show all"). */
const SHOWN_LINES = 2000;
const TABLE_ROWS = 1000;

export function ScriptPanel({ tab }: { tab: Tab }) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<ScriptEditor | null>(null);
  const [editorState, setEditorState] = useState<'loading' | 'ready' | 'failed'>('loading');
  /** 'loading', or what the editor knows (ready, with the time it took), or why not */
  const [types, setTypes] = useState<string>('loading');
  const [budget, setBudget] = useState(loadBudget);
  const run = useRun(tab.session);
  const running = isRunning(run);
  const budgetRef = useRef(budget);
  budgetRef.current = budget;

  const go = () => {
    const ed = editor.current;
    if (!ed) return;
    ed.clearMarks();
    startRun(tab.session, ed.getValue(), budgetRef.current, () => ed.syntaxError());
  };
  const goRef = useRef(go);
  goRef.current = go;

  useEffect(() => {
    let live = true;
    setEditorState('loading');
    void import('./scriptEditor')
      .then((m) => {
        if (!live || !host.current) return;
        editor.current = m.createScriptEditor(host.current, { value: loadScript(), onChange: saveScript, onRun: () => goRef.current() });
        setEditorState('ready');
        editor.current.focus();
        setTypes('loading');
        const t0 = performance.now();
        return kernelDts(tab.session).then(
          async (dts) => {
            if (!live) return;
            m.setKernelTypes(tab.summary.fingerprint, dts);
            // the language service reads them now, not at the first completion (a failure here
            // only means the first completion reads them)
            await m.warmTypes().catch(() => undefined);
            if (live) setTypes(`kernel types from this dump’s BTF (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
          },
          (e: unknown) => live && setTypes(`kernel types unavailable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`),
        );
      })
      .catch(() => live && setEditorState('failed'));
    return () => {
      live = false;
      editor.current?.dispose();
      editor.current = null;
    };
  }, [tab.session, tab.summary.fingerprint]);

  // an error with a line: mark it in the editor
  useEffect(() => {
    if (run?.status === 'failed' && run.line !== undefined) editor.current?.showLine(run.line, run.column, run.error ?? 'error');
  }, [run?.id, run?.status, run?.line, run?.column, run?.error, editorState]);

  return (
    <div className="panel script" data-testid="script-panel">
      <div className="toolbar">
        <button className="primary" onClick={go} disabled={editorState !== 'ready'} title="run the script (Ctrl+Enter)" data-testid="script-run">
          ▶ Run
        </button>
        <button onClick={() => cancelRun(tab.session)} disabled={!running} title="stop the script now (terminates its worker)" data-testid="script-cancel">
          ■ Cancel
        </button>
        <label className="dim small">
          time budget{' '}
          <input
            className="budget"
            type="number"
            min={1}
            max={3600}
            value={budget}
            aria-label="time budget in seconds"
            onChange={(e) => {
              const v = Math.max(1, Math.min(3600, Number(e.target.value) || 1));
              setBudget(v);
              saveBudget(v);
            }}
          />{' '}
          s
        </label>
        <span className="dim small" data-testid="script-types">
          {types === 'loading' ? 'loading kernel types…' : types}
        </span>
        <span className="run-status small" data-testid="script-status">
          <RunStatus run={run} />
        </span>
      </div>
      <div className="script-split">
        <div className="script-editor" ref={host} data-testid="script-editor" style={{ display: editorState === 'ready' ? undefined : 'none' }} />
        {editorState === 'loading' && <div className="script-editor dim pad">loading the editor…</div>}
        {editorState === 'failed' && <div className="script-editor err pad">the editor could not be loaded</div>}
        <div className="script-output scroll" data-testid="script-output">
          {run ? <RunOutput run={run} onLine={(l, c) => editor.current?.showLine(l, c, run.error ?? '')} /> : <p className="dim pad">Run the script (Ctrl+Enter): its print() lines and what it returns show here.</p>}
        </div>
      </div>
    </div>
  );
}

function RunStatus({ run }: { run: RunState | undefined }) {
  if (!run) return null;
  switch (run.status) {
    case 'opening':
      return (
        <span>
          opening the dump in the script worker… <Elapsed since={run.startedAt} />
        </span>
      );
    case 'running':
      return (
        <span>
          running <Elapsed since={run.startedAt} /> (budget {run.budgetS} s)
        </span>
      );
    case 'done':
      return <span className="ok">done in {fmtMs(run.ms)}{run.openMs !== undefined ? ` (dump opened in ${fmtMs(run.openMs)})` : ''}</span>;
    case 'failed':
      return <span className="err">error{run.line !== undefined ? ` at line ${run.line}` : ''}</span>;
    case 'stopped':
      return <span className="warn">stopped</span>;
  }
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function RunOutput({ run, onLine }: { run: RunState; onLine: (line: number, column?: number) => void }) {
  const [all, setAll] = useState(false);
  const shown = all ? run.lines : run.lines.slice(0, SHOWN_LINES);
  return (
    <div className="script-run">
      {run.lines.length > 0 && (
        <pre className="output script-lines" data-testid="script-lines">
          {shown.map((l, i) => (
            <div key={i}>
              <LinkedText text={l} />
            </div>
          ))}
        </pre>
      )}
      {run.lines.length > shown.length && (
        <button className="more" onClick={() => setAll(true)}>
          show all {run.lines.length} lines
        </button>
      )}
      {run.dropped > 0 && (
        <p className="warn pad small">
          {run.dropped} more lines were printed and not kept (the panel keeps {MAX_LINES})
        </p>
      )}
      {run.problems.length > 0 && (
        <div className="pad small" data-testid="script-problems">
          {run.problems.map((p, i) => (
            <div key={i} className="warn">
              problem: {p}
            </div>
          ))}
        </div>
      )}
      {run.status === 'done' && run.hasResult && (
        <div className="script-result" data-testid="script-result">
          <div className="dim small pad">returned</div>
          <ResultView value={run.result} />
        </div>
      )}
      {(run.status === 'failed' || run.status === 'stopped') && (
        <div className="err pad" data-testid="script-error">
          {run.error}
          {run.line !== undefined && (
            <>
              {' '}
              <a href="#" onClick={(e) => { e.preventDefault(); onLine(run.line!, run.column); }}>
                (line {run.line}
                {run.column !== undefined ? `:${run.column}` : ''})
              </a>
            </>
          )}
        </div>
      )}
    </div>
  );
}

/** A returned kernel object (KObject.toJSON): {address, type}. */
function isKObjectJson(v: unknown): v is { address: string; type: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const k = Object.keys(v);
  return k.length === 2 && typeof (v as { address?: unknown }).address === 'string' && typeof (v as { type?: unknown }).type === 'string';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function ResultView({ value }: { value: unknown }) {
  if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) {
    const cols: string[] = [];
    for (const row of value.slice(0, TABLE_ROWS)) for (const k of Object.keys(row)) if (!cols.includes(k)) cols.push(k);
    const rows = value.slice(0, TABLE_ROWS);
    return (
      <>
        <table className="script-table" data-testid="script-table">
          <thead>
            <tr>
              {cols.map((c) => (
                <th key={c}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {cols.map((c) => (
                  <td key={c}>{c in r ? <Cell v={r[c]} row={r} col={c} /> : null}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {value.length > rows.length && <p className="dim small pad">{value.length - rows.length} more rows (return fewer, or print them)</p>}
      </>
    );
  }
  if (isKObjectJson(value)) return <div className="pad"><ObjectLink address={value.address} type={value.type} /></div>;
  return (
    <pre className="output" data-testid="script-json">
      <LinkedText text={typeof value === 'string' ? value : JSON.stringify(value, null, 2)} />
    </pre>
  );
}

function Cell({ v, row, col }: { v: unknown; row: Record<string, unknown>; col: string }) {
  // a table of kernel objects: the address opens the object with its type laid over it
  if (col === 'address' && typeof v === 'string' && typeof row.type === 'string') return <ObjectLink address={v} type={row.type} bare />;
  if (isKObjectJson(v)) return <ObjectLink address={v.address} type={v.type} />;
  if (typeof v === 'string') return <LinkedText text={v} />;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return <>{String(v)}</>;
  return <LinkedText text={JSON.stringify(v)} />;
}

/** A kernel object's address as a link into the hex view, with its struct/union type as the overlay (`bare`: without the type beside it). */
function ObjectLink({ address, type, bare }: { address: string; type: string; bare?: boolean }) {
  const navigate = useApp((s) => s.navigate);
  const fp = useApp((s) => activeTab(s)?.summary.fingerprint ?? '0');
  const composite = /^(struct|union) [\w$]+$/.test(type);
  const view: View = { panel: 'mem', arg: address, params: composite ? { type } : {} };
  return (
    <span className="kobj">
      <a
        className="addr"
        href={formatHash({ fingerprint: fp, view })}
        title={`open ${address} in Memory${composite ? ` as ${type}` : ''}`}
        onClick={(e) => {
          e.preventDefault();
          navigate(view);
        }}
      >
        {address}
      </a>
      {!bare && <span className="dim"> {type}</span>}
    </span>
  );
}
