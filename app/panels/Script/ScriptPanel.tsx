/**
 * Script: JavaScript over the open dump with the kernel's types (docs/scripting.md). The editor
 * (scriptEditor.ts, Monaco loaded on demand) completes and checks against the dump's kernel.d.ts;
 * Run starts the script in its own worker (runner.ts), Cancel and the time budget terminate that
 * worker. print() lines stream in as they come; the returned value is shown as a table (an array
 * of records) or JSON; addresses in both link into the hex view (a returned kernel object opens
 * there with its type laid over it). The script is kept in localStorage (runs.ts); "copy link"
 * puts its source in a permalink (link.ts), which opens with that source in the editor, not run;
 * "add to walkthrough" appends it as a script step of the user's walkthrough (walkthrough/user.ts).
 */
import { useEffect, useRef, useState } from 'react';
import { activeTab, useApp, type Tab } from '../../store';
import { kernelDts } from '../../engine';
import { formatHash, type View } from '../../permalink';
import { usePlayer } from '../../walkthrough/store';
import { addScriptStep, expectFromOutput, USER_WALKTHROUGH_ID } from '../../walkthrough/user';
import { decodeScript, encodeScript, MAX_CODE_CHARS } from './link';
import { outputText } from './runner';
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
  /** a message under the toolbar: the link copied, why there is none, the step added, a link's source loaded */
  const [note, setNote] = useState<{ kind: 'ok' | 'warn' | 'err'; text: string; link?: string; walk?: boolean } | null>(null);
  const navigate = useApp((s) => s.navigate);
  // a permalink's script (`code` param): read once when the editor is made
  const linkCode = useRef<string | undefined>(tab.view.panel === 'script' ? tab.view.params.code : undefined);
  linkCode.current = tab.view.panel === 'script' ? tab.view.params.code : undefined;

  const copyLink = async () => {
    const ed = editor.current;
    if (!ed) return;
    const source = ed.getValue();
    const code = encodeScript(source);
    if (code.length > MAX_CODE_CHARS) {
      setNote({
        kind: 'warn',
        text: `this script is too long for a link: ${code.length} characters compressed, links hold at most ${MAX_CODE_CHARS} (about 20 KB of source); share the file instead`,
      });
      return;
    }
    const link = window.location.origin + window.location.pathname + formatHash({ fingerprint: tab.summary.fingerprint, view: { panel: 'script', params: { code } } });
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      /* clipboard refused: the link is shown to copy by hand */
    }
    setNote({ kind: 'ok', text: `link copied (${link.length} characters; the script’s source only, nothing from the dump):`, link });
  };

  const addToWalkthrough = () => {
    const ed = editor.current;
    if (!ed) return;
    const source = ed.getValue();
    // the last run of this same source, when it succeeded, gives the step its expected output
    const r = run?.status === 'done' && run.code === source ? run : undefined;
    const expect = r ? expectFromOutput(outputText(r.lines, r.result, !!r.hasResult)) : undefined;
    const n = addScriptStep({ fingerprint: tab.summary.fingerprint, release: tab.summary.release ?? undefined, name: tab.summary.name }, source, expect, budgetRef.current);
    setNote({
      kind: 'ok',
      walk: true,
      text: `added as step ${n} of My walkthrough${expect ? ', expecting the output of the last run' : ' (no expected output: run it first to check its output)'}`,
    });
  };

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
        // a link's script goes into the editor, not run: a link must not run code on open (the user reads it, then presses Run)
        let value = loadScript();
        const code = linkCode.current;
        if (code) {
          try {
            value = decodeScript(code);
            setNote({ kind: 'warn', text: 'this script came from a link: read it, then press Run (a link never runs code by itself)' });
          } catch (e) {
            setNote({ kind: 'err', text: `the link’s script could not be read (${e instanceof Error ? e.message : String(e)}): your own script is shown` });
          }
          // the source is in the editor now; the address bar drops it so that edits are not shadowed by a stale link
          navigate({ panel: 'script', params: {} }, { replace: true });
        }
        editor.current = m.createScriptEditor(host.current, { value, onChange: saveScript, onRun: () => goRef.current() });
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
        <button onClick={() => void copyLink()} disabled={editorState !== 'ready'} title="copy a link holding this script’s source (opens in the Script panel, not run)" data-testid="script-copy-link">
          copy link
        </button>
        <button onClick={addToWalkthrough} disabled={editorState !== 'ready'} title="add this script as a step of your walkthrough (with the last run’s output as its check)" data-testid="script-add-step">
          add to walkthrough
        </button>
        <span className="dim small" data-testid="script-types">
          {types === 'loading' ? 'loading kernel types…' : types}
        </span>
        <span className="run-status small" data-testid="script-status">
          <RunStatus run={run} />
        </span>
      </div>
      {note && (
        <div className={`script-note small ${note.kind}`} role="status" data-testid="script-note">
          {note.text}
          {note.link && (
            <>
              {' '}
              <input className="script-link" readOnly value={note.link} onFocus={(e) => e.target.select()} data-testid="script-link" />
            </>
          )}
          {note.walk && (
            <>
              {' '}
              <button
                className="link"
                data-testid="script-open-walkthrough"
                onClick={() => {
                  usePlayer.getState().setOpen(true);
                  void usePlayer.getState().choose(USER_WALKTHROUGH_ID);
                }}
              >
                open it
              </button>
            </>
          )}{' '}
          <button className="link" onClick={() => setNote(null)} aria-label="dismiss">
            ×
          </button>
        </div>
      )}
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
