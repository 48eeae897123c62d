/**
 * Console: the crash command language (workers/commands), one line at a time, in a one-line
 * Monaco editor. The transcript is virtualized (transcript.ts: one row per line, only the rows on
 * screen are in the DOM, links made for those only) and each output is capped with "show more",
 * so a 100k-line `sym -l` does not freeze the tab. Monaco (monacoInput.ts: highlighting, Tab completion of commands, type names and
 * symbols, ↑/↓ history). The transcript is kept per dump; output addresses and symbol+off are
 * links to the hex view; a result can be pinned beside the panels. A plain input stands in while
 * Monaco loads (or if it cannot).
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { liveLines, useApp, useLiveTick, type Tab } from '../../store';
import { listCommands, type CommandInfo } from '../../engine';
import { Elapsed, LinkedText, useVirtualRows } from '../common';
import type { CommandLine } from './monacoInput';
import { MORE_STEP, outputText, transcriptRows, type Row } from './transcript';

const ROW_H = 18;
const OVERSCAN = 20;

export function ConsolePanel({ tab }: { tab: Tab }) {
  const run = useApp((s) => s.consoleRun);
  const clear = useApp((s) => s.consoleClear);
  const pin = useApp((s) => s.pin);
  const [cmds, setCmds] = useState<CommandInfo[] | null>(null);
  const [monacoState, setMonacoState] = useState<'loading' | 'ready' | 'failed'>('loading');
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<CommandLine | null>(null);
  const histPos = useRef(-1);
  const draft = useRef('');
  const [plain, setPlain] = useState('');
  const plainRef = useRef('');
  const stick = useRef(true);
  plainRef.current = plain;

  const lines = tab.console.map((e) => e.line);
  const linesRef = useRef(lines);
  linesRef.current = lines;

  const submit = (l: string) => {
    histPos.current = -1;
    stick.current = true; // a new command: follow the end again
    if (l === 'clear') clear(tab.session);
    else void run(tab.session, l);
  };
  const submitRef = useRef(submit);
  submitRef.current = submit;

  const history = (dir: -1 | 1, current: string): string | null => {
    const ls = linesRef.current;
    if (!ls.length) return null;
    let h = histPos.current;
    if (dir < 0) {
      if (h < 0) {
        draft.current = current;
        h = ls.length - 1;
      } else h = Math.max(0, h - 1);
    } else {
      if (h < 0) return null;
      h++;
      if (h >= ls.length) {
        histPos.current = -1;
        return draft.current;
      }
    }
    histPos.current = h;
    return ls[h];
  };

  useEffect(() => {
    void listCommands().then(setCmds);
  }, []);

  useEffect(() => {
    let live = true;
    void import('./monacoInput')
      // a task of its own for the editor: the modules' evaluation (when not preloaded, see index.ts)
      // and the editor's creation are each 100-150 ms; input is handled between them
      .then((m) => new Promise<typeof m>((r) => setTimeout(() => r(m), 0)))
      .then((m) => {
        if (!live || !host.current) return;
        editor.current = m.attachCommandLine(host.current, {
          session: tab.session,
          onRun: (l) => submitRef.current(l),
          onHistory: history,
        });
        // what was typed into the stand-in input while Monaco loaded carries over
        if (plainRef.current) editor.current.setValue(plainRef.current);
        setMonacoState('ready'); // focus moves to it once it is shown (effect below)
      })
      .catch(() => live && setMonacoState('failed'));
    return () => {
      live = false;
      editor.current?.dispose();
      editor.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tab.session]);

  // the command line takes the focus once Monaco is shown (it is display:none until then, and
  // the stand-in input that had the focus goes away)
  useEffect(() => {
    if (monacoState !== 'ready') return;
    const a = document.activeElement;
    if (!a || a === document.body || a.closest('.panelhost') || a.closest('.cmdline')) editor.current?.focus();
  }, [monacoState]);

  const more = useApp((s) => s.consoleMore);
  const liveTick = useLiveTick((s) => s.tick);
  const { rows, width } = useMemo(() => transcriptRows(tab.console, {}, liveLines), [tab.console, liveTick]);
  const scroller = useRef<HTMLDivElement>(null);
  const { first, last, height, setScrollTop, onScroll } = useVirtualRows(scroller, rows.length, ROW_H, OVERSCAN);
  // follow the end while the user is at the end (new commands, results coming in)
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [rows.length, height]);

  const visible = [];
  for (let i = first; i < last; i++) {
    visible.push(
      <TranscriptRow
        key={rowKey(rows[i])}
        row={rows[i]}
        top={i * ROW_H}
        onPin={(e) => pin(tab.session, e.line, outputText(e.result!, e.line))}
        onAgain={(l) => submit(l)}
        onMore={(id, n) => {
          stick.current = false;
          void more(tab.session, id, n);
        }}
      />,
    );
  }

  return (
    <div className="panel console">
      <div
        className="scroll transcript"
        ref={scroller}
        data-testid="transcript"
        onScroll={(e) => {
          onScroll(e);
          const el = e.currentTarget;
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_H;
        }}
        onClick={(e) => {
          if (!(e.target as HTMLElement).closest('a,button,.out') && !window.getSelection()?.toString()) editor.current?.focus();
        }}
      >
        {tab.console.length === 0 && (
          <div className="state empty">
            crash-style commands on this dump, e.g. <code>sys</code>, <code>log</code>, <code>bt</code>, <code>kmem -s</code>,{' '}
            <code>struct sk_buff -o</code>, <code>rd -64 &lt;addr&gt; 8</code>, <code>whatis &lt;addr&gt;</code>,{' '}
            <code>overlay &lt;addr&gt;</code>. <kbd>Tab</kbd> completes commands, struct names, symbols and cache names.
            {cmds && (
              <div className="small">
                This engine build has: {cmds.length ? cmds.map((c) => c.name).join(', ') : 'no commands'}.
              </div>
            )}
          </div>
        )}
        {rows.length > 0 && (
          <div className="tr-inner" style={{ height: rows.length * ROW_H, minWidth: `calc(${width + 4}ch + 24px)` }}>
            {visible}
          </div>
        )}
      </div>
      <div className="toolbar cmdline">
        <span className="prompt">crash&gt;</span>
        <div className="monaco-host" ref={host} data-testid="command-editor" style={{ display: monacoState === 'ready' ? 'block' : 'none' }} />
        {monacoState !== 'ready' && (
          <form
            style={{ flex: 1, display: 'flex' }}
            onSubmit={(ev) => {
              ev.preventDefault();
              const l = plain.trim();
              if (!l) return;
              submit(l);
              setPlain('');
            }}
          >
            <input
              value={plain}
              onChange={(e) => setPlain(e.target.value)}
              spellCheck={false}
              aria-label="command"
              data-autofocus
              autoFocus
              style={{ flex: 1 }}
              placeholder={monacoState === 'loading' ? 'command (editor loading…)' : 'command (↑ history)'}
              onKeyDown={(e) => {
                if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
                  e.preventDefault();
                  const v = history(e.key === 'ArrowUp' ? -1 : 1, plain);
                  if (v !== null) setPlain(v);
                }
              }}
            />
          </form>
        )}
        <RunningJobs session={tab.session} />
      </div>
    </div>
  );
}

/**
 * The dump's running commands with their progress. Its own component: progress reports change
 * `jobs` several times a second during a scan, and only this line must re-render, not the panel.
 */
function RunningJobs({ session }: { session: string }) {
  const jobs = useApp((s) => s.jobs);
  const running = Object.values(jobs).filter((j) => j.session === session);
  return (
    <>
      {running.map((j) => (
        <span key={j.jobId} className="dim">
          {j.line} · <Elapsed since={j.startedAt} />
          {j.progress && j.progress.total > 0 ? ` · ${j.progress.what} ${Math.min(100, Math.round((100 * j.progress.done) / j.progress.total))}%` : ''}{' '}
          <button type="button" className="link" onClick={j.cancel} data-testid="console-cancel">
            cancel
          </button>
        </span>
      ))}
    </>
  );
}

function rowKey(r: Row): string {
  return r.kind === 'line' ? `${r.entry.id}:${r.n}` : `${r.entry.id}:${r.kind}`;
}

/** One row of the transcript: a prompt (with pin / again), an output line, show more, an error. */
function TranscriptRow({
  row,
  top,
  onPin,
  onAgain,
  onMore,
}: {
  row: Row;
  top: number;
  onPin(e: Row['entry']): void;
  onAgain(line: string): void;
  onMore(id: number, n: number): void;
}) {
  const style = { top, height: ROW_H };
  const e = row.entry;
  switch (row.kind) {
    case 'prompt':
      return (
        <div className="trow prompt" style={style} data-entry={e.id}>
          crash&gt; {e.line}
          {e.result && (
            <span className="entry-tools">
              <span className="dim small">{e.result.ms} ms</span>
              {e.result.ok && (
                <button className="link" title="pin this result beside the panels" onClick={() => onPin(e)}>
                  pin
                </button>
              )}
              <button className="link" title="run again" onClick={() => onAgain(e.line)}>
                again
              </button>
            </span>
          )}
        </div>
      );
    case 'line':
      return (
        <div className="trow out" style={style} data-entry={e.id}>
          <LinkedText text={row.text} />
        </div>
      );
    case 'more':
      return (
        <div className="trow more" style={style} data-entry={e.id} data-testid="show-more">
          <span className="dim">
            {(row.total - row.shown).toLocaleString('en-US')} more lines ({row.shown.toLocaleString('en-US')} of{' '}
            {row.total.toLocaleString('en-US')} shown){' '}
          </span>
          <button className="link" onClick={() => onMore(e.id, MORE_STEP)}>
            show {Math.min(MORE_STEP, row.total - row.shown).toLocaleString('en-US')} more
          </button>{' '}
          <button className="link" onClick={() => onMore(e.id, row.total - row.shown)}>
            show all
          </button>
          {e.moreError && <span className="err"> {e.moreError}</span>}
        </div>
      );
    case 'error':
      return (
        <div className="trow err" style={style} data-entry={e.id} title={row.text}>
          {row.text}
        </div>
      );
    case 'running':
      return (
        <div className="trow dim" style={style} data-entry={e.id} data-testid="console-running">
          running…{liveLines.get(e.id)?.length ? ` (${liveLines.get(e.id)!.reduce((n, c) => n + c.length, 0).toLocaleString('en-US')} lines so far)` : ''}
        </div>
      );
    default:
      return null;
  }
}
