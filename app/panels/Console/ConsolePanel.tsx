/**
 * Console: the crash command language (workers/commands), one line at a time, in a one-line
 * Monaco editor (monacoInput.ts: highlighting, Tab completion of commands, type names and
 * symbols, ↑/↓ history). The transcript is kept per dump; output addresses and symbol+off are
 * links to the hex view; a result can be pinned beside the panels. A plain input stands in while
 * Monaco loads (or if it cannot).
 */
import { useEffect, useRef, useState } from 'react';
import { useApp, type Tab } from '../../store';
import { listCommands, type CommandInfo } from '../../engine';
import { Elapsed, LinkedText } from '../common';
import type { CommandLine } from './monacoInput';

function outputText(r: { text: string; json?: unknown }, line: string): string {
  if (/(^|\s)--json(\s|$)/.test(line) && r.json !== undefined) return JSON.stringify(r.json, null, 1);
  return r.text || (r.json !== undefined ? JSON.stringify(r.json, null, 1) : '');
}

export function ConsolePanel({ tab }: { tab: Tab }) {
  const run = useApp((s) => s.consoleRun);
  const clear = useApp((s) => s.consoleClear);
  const pin = useApp((s) => s.pin);
  const jobs = useApp((s) => s.jobs);
  const [cmds, setCmds] = useState<CommandInfo[] | null>(null);
  const [monacoState, setMonacoState] = useState<'loading' | 'ready' | 'failed'>('loading');
  const end = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<CommandLine | null>(null);
  const histPos = useRef(-1);
  const draft = useRef('');
  const [plain, setPlain] = useState('');

  const lines = tab.console.map((e) => e.line);
  const linesRef = useRef(lines);
  linesRef.current = lines;

  const submit = (l: string) => {
    histPos.current = -1;
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
      .then((m) => {
        if (!live || !host.current) return;
        editor.current = m.createCommandLine(host.current, {
          session: tab.session,
          onRun: (l) => submitRef.current(l),
          onHistory: history,
        });
        setMonacoState('ready');
        editor.current.focus();
      })
      .catch(() => live && setMonacoState('failed'));
    return () => {
      live = false;
      editor.current?.dispose();
      editor.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tab.session]);

  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end' });
  }, [tab.console]);

  const running = Object.values(jobs).filter((j) => j.session === tab.session);

  return (
    <div className="panel console">
      <div className="scroll transcript" data-testid="transcript" onClick={(e) => {
        if (!(e.target as HTMLElement).closest('a,button,pre') && !window.getSelection()?.toString()) editor.current?.focus();
      }}>
        {tab.console.length === 0 && (
          <div className="state empty">
            crash-style commands on this dump, e.g. <code>sys</code>, <code>log</code>, <code>bt</code>, <code>kmem -s</code>,{' '}
            <code>struct sk_buff -o</code>, <code>rd -64 &lt;addr&gt; 8</code>, <code>whatis &lt;addr&gt;</code>,{' '}
            <code>overlay &lt;addr&gt;</code>. <kbd>Tab</kbd> completes commands, struct names and symbols.
            {cmds && (
              <div className="small">
                This engine build has: {cmds.length ? cmds.map((c) => c.name).join(', ') : 'no commands'}.
              </div>
            )}
          </div>
        )}
        {tab.console.map((e) => (
          <div key={e.id} className="entry">
            <div className="prompt">
              crash&gt; {e.line}
              {e.result && (
                <span className="entry-tools">
                  <span className="dim small">{e.result.ms} ms</span>
                  {e.result.ok && (
                    <button className="link" title="pin this result beside the panels" onClick={() => pin(tab.session, e.line, outputText(e.result!, e.line))}>
                      pin
                    </button>
                  )}
                  <button className="link" title="run again" onClick={() => submit(e.line)}>
                    again
                  </button>
                </span>
              )}
            </div>
            {!e.result && <div className="dim pad">running…</div>}
            {e.result && !e.result.ok && <div className="err">{e.result.error}</div>}
            {e.result?.ok && (
              <pre className="output">
                <LinkedText text={outputText(e.result, e.line)} />
              </pre>
            )}
          </div>
        ))}
        <div ref={end} />
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
        {running.map((j) => (
          <span key={j.jobId} className="dim">
            {j.line} · <Elapsed since={j.startedAt} />{' '}
            <button type="button" className="link" onClick={j.cancel}>
              cancel
            </button>
          </span>
        ))}
      </div>
    </div>
  );
}
