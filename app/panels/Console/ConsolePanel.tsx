/**
 * Console: the crash command language, one line at a time, with history (↑/↓) and the
 * transcript kept per dump. Output addresses are links. Next: Monaco input with completion of
 * commands, symbols and struct names.
 */
import { useEffect, useRef, useState } from 'react';
import { useApp, type Tab } from '../../store';
import { listCommands, type CommandInfo } from '../../engine';
import { Elapsed, LinkedText } from '../common';

export function ConsolePanel({ tab }: { tab: Tab }) {
  const run = useApp((s) => s.consoleRun);
  const clear = useApp((s) => s.consoleClear);
  const jobs = useApp((s) => s.jobs);
  const [line, setLine] = useState('');
  const [hist, setHist] = useState(-1);
  const [cmds, setCmds] = useState<CommandInfo[] | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    void listCommands().then(setCmds);
    input.current?.focus();
  }, []);
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end' });
  }, [tab.console]);

  const lines = tab.console.map((e) => e.line);
  const running = Object.values(jobs).filter((j) => j.session === tab.session);

  return (
    <div className="panel console">
      <div className="scroll transcript">
        {tab.console.length === 0 && (
          <div className="state empty">
            crash-style commands on this dump, e.g. <code>sys</code>, <code>log</code>, <code>bt</code>,{' '}
            <code>kmem -s</code>, <code>struct sk_buff -o</code>, <code>rd -64 &lt;addr&gt; 8</code>.
            {cmds && (
              <div className="small">
                This engine build has: {cmds.length ? cmds.map((c) => c.name).join(', ') : 'no commands'}.
              </div>
            )}
          </div>
        )}
        {tab.console.map((e) => (
          <div key={e.id} className="entry">
            <div className="prompt">crash&gt; {e.line}</div>
            {!e.result && (
              <div className="dim">
                running…
              </div>
            )}
            {e.result && !e.result.ok && <div className="err">{e.result.error}</div>}
            {e.result?.ok && (
              <pre className="output">
                <LinkedText text={e.result.text || (e.result.json !== undefined ? JSON.stringify(e.result.json, null, 1) : '')} />
              </pre>
            )}
          </div>
        ))}
        <div ref={end} />
      </div>
      <form
        className="toolbar cmdline"
        onSubmit={(ev) => {
          ev.preventDefault();
          const l = line.trim();
          if (!l) return;
          if (l === 'clear') clear(tab.session);
          else void run(tab.session, l);
          setLine('');
          setHist(-1);
        }}
      >
        <span className="prompt">crash&gt;</span>
        <input
          ref={input}
          value={line}
          onChange={(e) => setLine(e.target.value)}
          spellCheck={false}
          aria-label="command"
          placeholder="command (↑ history, 'clear', 'help')"
          onKeyDown={(e) => {
            if (e.key === 'ArrowUp' && lines.length) {
              e.preventDefault();
              const h = hist < 0 ? lines.length - 1 : Math.max(0, hist - 1);
              setHist(h);
              setLine(lines[h]);
            } else if (e.key === 'ArrowDown' && hist >= 0) {
              e.preventDefault();
              const h = hist + 1;
              if (h >= lines.length) {
                setHist(-1);
                setLine('');
              } else {
                setHist(h);
                setLine(lines[h]);
              }
            }
          }}
        />
        {running.map((j) => (
          <span key={j.jobId} className="dim">
            {j.line} · <Elapsed since={j.startedAt} />{' '}
            <button type="button" className="link" onClick={j.cancel}>
              cancel
            </button>
          </span>
        ))}
      </form>
    </div>
  );
}
