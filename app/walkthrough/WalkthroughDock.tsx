/**
 * The walkthrough player: a dock on the right of the workbench. A list of walkthroughs; then one
 * walkthrough's credit, summary and what our dump cannot show; its steps (narration, the command,
 * the checks with passed/failed and the actual value, the captured variables) with previous/next.
 * Each step moves the panels to its view; when a step's dump is not open it offers to open the
 * bundled sample.
 */
import { useEffect, useState } from 'react';
import { useApp } from '../store';
import { sampleKeyOf, scriptCheckDescription, tabFor, usePlayer, type StepState } from './store';
import { clearUserWalkthrough, loadUserWalkthrough, USER_WALKTHROUGH_ID } from './user';
import { interpolate } from './checks';
import type { CheckResult, Walkthrough } from './types';
import './walkthrough.css';

export function WalkthroughDock() {
  const open = usePlayer((s) => s.open);
  const setOpen = usePlayer((s) => s.setOpen);
  useEffect(() => {
    document.body.classList.toggle('wt-open', open);
  }, [open]);
  if (!open) {
    return (
      <button className="wt-launch" data-testid="wt-launch" onClick={() => setOpen(true)} title="guided replays of real incidents">
        Walkthroughs
      </button>
    );
  }
  return (
    <aside className="wt-dock" aria-label="walkthroughs" data-testid="wt-dock">
      <Body />
    </aside>
  );
}

function Body() {
  const current = usePlayer((s) => s.current);
  return current ? <Player w={current} /> : <List />;
}

function Header({ title, onBack }: { title: string; onBack?: () => void }) {
  const setOpen = usePlayer((s) => s.setOpen);
  return (
    <div className="wt-head">
      {onBack && (
        <button className="link" onClick={onBack} title="all walkthroughs" data-testid="wt-back">
          ‹ all
        </button>
      )}
      <span className="wt-head-title">{title}</span>
      <button className="link" onClick={() => setOpen(false)} aria-label="close walkthroughs">
        ×
      </button>
    </div>
  );
}

function List() {
  const index = usePlayer((s) => s.index);
  const err = usePlayer((s) => s.indexError ?? s.loadError);
  const choose = usePlayer((s) => s.choose);
  const [mine, setMine] = useState(() => loadUserWalkthrough());
  return (
    <>
      <Header title="Walkthroughs" />
      <div className="wt-scroll">
        <p className="wt-intro">
          Replays of real incident write-ups on small real dumps. Each step moves the panels and checks what it claims against
          the open dump.
        </p>
        {err && <div className="banner error">{err}</div>}
        {!index && !err && <div className="dim">loading…</div>}
        {mine && (
          <div className="wt-mine">
            <button className="wt-item" data-testid="wt-item-user" onClick={() => void choose(USER_WALKTHROUGH_ID)}>
              <span className="wt-item-title">
                {mine.title} ({mine.steps.length} step{mine.steps.length === 1 ? '' : 's'})
              </span>
              <span className="wt-item-sum">{mine.summary}</span>
            </button>
            <button
              className="link small"
              data-testid="wt-user-clear"
              onClick={() => {
                if (!window.confirm('Remove every step of your walkthrough?')) return;
                clearUserWalkthrough();
                setMine(null);
              }}
            >
              remove
            </button>
          </div>
        )}
        {index?.map((e) => (
          <button key={e.id} className="wt-item" data-testid={`wt-item-${e.id}`} onClick={() => void choose(e.id)}>
            <span className="wt-item-title">{e.title}</span>
            <span className="wt-item-sum">{e.summary}</span>
          </button>
        ))}
      </div>
    </>
  );
}

function Player({ w }: { w: Walkthrough }) {
  const step = usePlayer((s) => s.step);
  const steps = usePlayer((s) => s.steps);
  const go = usePlayer((s) => s.go);
  const choose = usePlayer((s) => s.choose);
  const restart = usePlayer((s) => s.restart);
  // re-render when dumps open or close (a step may be waiting for one)
  useApp((s) => s.tabs.length);
  const st = steps[step] ?? { status: 'idle' };
  const s = w.steps[step];
  const busy = steps.some((x) => x.status === 'running');
  return (
    <>
      <Header title={w.title} onBack={() => void choose(null)} />
      <div className="wt-scroll">
        {step === 0 && <Intro w={w} />}
        <ol className="wt-dots" aria-label="steps">
          {w.steps.map((x, i) => (
            <li key={i}>
              <button
                className={`wt-dot ${dotClass(steps[i])}${i === step ? ' cur' : ''}`}
                title={`${i + 1}. ${x.title}`}
                aria-label={`step ${i + 1}: ${x.title}`}
                onClick={() => void go(i)}
              >
                {i + 1}
              </button>
            </li>
          ))}
        </ol>
        <section className="wt-step" data-testid="wt-step" data-step={step + 1} data-status={stepStatus(st)}>
          <h3>
            <span className="dim">
              {step + 1}/{w.steps.length}
            </span>{' '}
            {s.title}
          </h3>
          <SampleLine w={w} sampleKey={sampleKeyOf(w, s)} />
          <div className="wt-narr">
            {(Array.isArray(s.narration) ? s.narration : [s.narration]).map((p, i) => (
              <p key={i}>{p}</p>
            ))}
          </div>
          {s.command && st.status === 'done' && <Cmd line={fill(s.command, st.varsAfter)} />}
          {s.script && <ScriptOut source={s.script.source} st={st} />}
          <Checks st={st} total={s.checks.length + (s.script ? 1 : 0)} descriptions={[...(s.script ? [scriptCheckDescription(s)] : []), ...s.checks.map((c) => c.description)]} />
          {st.status === 'done' && <Vars vars={st.varsAfter} />}
        </section>
      </div>
      <div className="wt-foot">
        <button onClick={() => void go(step - 1)} disabled={step === 0 || busy} data-testid="wt-prev">
          ‹ previous
        </button>
        <span className="dim small">
          {countPassed(steps)} of {w.steps.reduce((n, x) => n + x.checks.length + (x.script ? 1 : 0), 0)} checks passed
        </span>
        {step < w.steps.length - 1 ? (
          <button className="primary" onClick={() => void go(step + 1)} disabled={busy} data-testid="wt-next">
            next ›
          </button>
        ) : (
          <button onClick={() => void restart()} disabled={busy} data-testid="wt-restart">
            replay
          </button>
        )}
      </div>
    </>
  );
}

function Intro({ w }: { w: Walkthrough }) {
  const c = w.credit;
  return (
    <div className="wt-intro" data-testid="wt-intro">
      {w.id !== USER_WALKTHROUGH_ID && <div className="wt-credit" data-testid="wt-credit">
        After <i>{c.url ? <a href={c.url} target="_blank" rel="noreferrer noopener">{c.titleEnglish ?? c.title}</a> : (c.titleEnglish ?? c.title)}</i>
        {c.titleEnglish && <> ({c.title})</>}
        {c.author && <> by {c.author}</>}, {c.source}
        {c.date && <>, {c.date}</>}.{c.note && <span className="dim"> {c.note}</span>}
      </div>}
      <p>{w.summary}</p>
      {w.differences && w.differences.length > 0 && (
        <details className="wt-diff">
          <summary>What our dump cannot show ({w.differences.length})</summary>
          <ul>
            {w.differences.map((d, i) => (
              <li key={i}>{d}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function SampleLine({ w, sampleKey }: { w: Walkthrough; sampleKey: string }) {
  const sample = w.samples[sampleKey];
  const openSample = usePlayer((s) => s.openSample);
  const opening = useApp((s) => s.opening.some((o) => o.label === sample?.url));
  const tab = tabFor(sample);
  const bound = usePlayer((s) => s.boundTo);
  if (!sample) return null;
  if (tab) {
    const multi = Object.keys(w.samples).length > 1;
    if (bound && sampleKey === w.sample) {
      return (
        <div className="wt-sample small" data-testid="wt-bound">
          on <b>{bound}</b> ({tab.summary.fingerprint}, {sample.release}): not this walkthrough's sample; its oops matches the
          incident's signature, and every check below runs on it
        </div>
      );
    }
    return multi ? (
      <div className="wt-sample dim small">
        on <code>{sample.release}</code> ({tab.summary.name}, {tab.summary.fingerprint})
      </div>
    ) : null;
  }
  if (!sample.url) {
    return (
      <div className="wt-needs" data-testid="wt-needs-dump">
        This step plays on the dump <b>{sample.about ?? sample.fingerprint}</b> ({sample.release}, fingerprint {sample.fingerprint}): open it to play
        the step.
      </div>
    );
  }
  return (
    <div className="wt-needs" data-testid="wt-needs-dump">
      This step plays on the sample dump <code>{sample.url.split('/')[2]}</code> ({sample.release}): {sample.about}.{' '}
      <button className="primary" disabled={opening} onClick={() => void openSample(sampleKey)} data-testid="wt-open-sample">
        {opening ? 'opening…' : 'open it'}
      </button>
    </div>
  );
}

/** A script step: its source (folded) and what its run printed and returned. */
function ScriptOut({ source, st }: { source: string; st: StepState }) {
  const out = st.status === 'running' || st.status === 'done' ? st.script : undefined;
  return (
    <div className="wt-script" data-testid="wt-script">
      <details>
        <summary className="small">script ({source.trimEnd().split('\n').length} lines)</summary>
        <pre className="wt-script-src">{source}</pre>
      </details>
      {!out && st.status === 'running' && <div className="dim small">running the script…</div>}
      {out && (
        <>
          <pre className="wt-script-out" data-testid="wt-script-output">
            {out.text.split('\n').slice(0, 200).join('\n')}
            {out.text.split('\n').length > 200 ? `\n… ${out.text.split('\n').length - 200} more lines` : ''}
          </pre>
          {out.error && <div className="err small">{out.error}</div>}
          {out.problems.map((p, i) => (
            <div key={i} className="warn small">
              problem: {p}
            </div>
          ))}
          <div className="dim small">ran in {out.ms} ms in the script worker</div>
        </>
      )}
    </div>
  );
}

function Cmd({ line }: { line: string }) {
  return (
    <div className="wt-cmd">
      <span className="dim">crash&gt;</span> <code>{line}</code>
    </div>
  );
}

function Checks({ st, total, descriptions }: { st: StepState; total: number; descriptions: string[] }) {
  const results: CheckResult[] = st.status === 'running' || st.status === 'done' ? st.checks : [];
  return (
    <ul className="wt-checks" aria-label="checks">
      {descriptions.slice(0, total).map((d, i) => {
        const r = results[i];
        const status = r ? r.status : st.status === 'running' ? 'running' : 'pending';
        return (
          <li key={i} className={`wt-check ${status}`} data-testid="wt-check" data-status={status}>
            <span className="wt-mark" aria-label={status}>
              {status === 'pass' ? '✓' : status === 'fail' || status === 'error' ? '✗' : status === 'running' ? '…' : '·'}
            </span>
            <div className="wt-check-body">
              <div>{d}</div>
              {r && (
                <div className="wt-actual">
                  <code title={r.command}>{r.actual}</code>
                  {r.reason && <div className="wt-reason">expected: {r.reason}</div>}
                </div>
              )}
            </div>
          </li>
        );
      })}
    </ul>
  );
}

function Vars({ vars }: { vars: Record<string, string> }) {
  const names = Object.keys(vars);
  if (!names.length) return null;
  return (
    <details className="wt-vars" open>
      <summary>captured from the dump ({names.length})</summary>
      <table>
        <tbody>
          {names.map((n) => (
            <tr key={n}>
              <td className="dim">{n}</td>
              <td>
                <code>{vars[n]}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function fill(s: string, vars: Record<string, string>): string {
  try {
    return interpolate(s, vars);
  } catch {
    return s;
  }
}

function stepStatus(s: StepState | undefined): string {
  if (!s) return 'idle';
  if (s.status === 'done') return s.passed ? 'passed' : 'failed';
  return s.status;
}

function dotClass(s: StepState | undefined): string {
  return stepStatus(s);
}

function countPassed(steps: StepState[]): number {
  let n = 0;
  for (const s of steps) if (s.status === 'done' || s.status === 'running') n += s.checks.filter((c) => c.status === 'pass').length;
  return n;
}
