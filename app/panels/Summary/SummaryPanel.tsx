/**
 * Summary: what happened (panic string), to which kernel, when, on which CPU and task; then the
 * dump itself (file, format, fingerprint) and what the engine could not provide.
 * Sources: `sys --json` (DESIGN.md shape), `bt --json` for the panic task, the open summary.
 */
import type { PsRow } from '../../../workers/api';
import type { ReactNode } from 'react';
import type { Tab } from '../../store';
import { CommandGate, LinkedText, formatBytes, isUnavailable, useCommand } from '../common';

interface SysJson {
  release?: string;
  version?: string;
  machine?: string;
  cpus?: number | string;
  panic?: string;
  crash_time?: string | number;
  uptime?: string | number;
  kaslr_offset?: string;
  page_offset?: string;
  format?: string;
  compression?: string;
  nodename?: string;
  tasks?: number;
  memory?: string | number;
  offline_cpus?: number;
  tainted?: boolean;
  date?: string;
  [k: string]: unknown;
}

interface BtTask {
  task?: string;
  pid?: number;
  comm?: string;
  cpu?: number;
  frames?: { symbol?: string; offset?: number; exception?: unknown; module?: string }[];
}

function fmtTime(v: string | number | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number') return new Date(v * 1000).toUTCString().replace('GMT', 'UTC');
  return v;
}

function fmtUptime(v: string | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  const s = Math.floor(v);
  const d = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${d ? `${d} days, ` : ''}${hh}:${mm}:${ss}`;
}

function Row({ k, children }: { k: string; children: ReactNode }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{children ?? <span className="dim">—</span>}</dd>
    </>
  );
}


/** Without bt: the task running on each CPU (ps's active tasks), the panic one among them. */
function ActiveTasks({ tab, why }: { tab: Tab; why: string }) {
  const ps = useCommand(tab, 'ps --json');
  if (!ps || ps.status === 'running') return <span className="dim">reading tasks…</span>;
  const r = ps.result!;
  if (!r.ok || !Array.isArray(r.json)) {
    return (
      <span className="dim" data-testid="panic-task-unavailable">
        {why}; ps: <code>{r.error ?? 'no JSON'}</code>
      </span>
    );
  }
  const active = (r.json as PsRow[]).filter((t) => t.active).sort((a, b) => a.cpu - b.cpu);
  return (
    <span>
      {active.map((t) => (
        <span key={t.task} className="active-task">
          CPU {t.cpu}: PID {t.pid} <b>{t.comm}</b> <LinkedText text={t.task} />
        </span>
      ))}
      <span className="dim small"> (active tasks from ps; the panic task needs bt: {why})</span>
    </span>
  );
}

function PanicTask({ tab }: { tab: Tab }) {
  const bt = useCommand(tab, 'bt --json');
  if (!bt || bt.status === 'running') return <span className="dim">reading backtrace…</span>;
  const r = bt.result!;
  if (!r.ok) {
    return <ActiveTasks tab={tab} why={isUnavailable(r) ? 'not in this engine build yet' : `bt failed: ${r.error}`} />;
  }
  const tasks = (Array.isArray(r.json) ? r.json : []) as BtTask[];
  const t = tasks[0];
  if (!t) return <span className="dim">bt returned no task</span>;
  const top = t.frames?.find((f) => f.exception) ?? t.frames?.[0];
  return (
    <span>
      CPU {t.cpu ?? '?'} · PID {t.pid ?? '?'} · <b>{t.comm ?? '?'}</b> · task <LinkedText text={t.task ?? '?'} />
      {top?.symbol && (
        <>
          {' '}
          · at <LinkedText text={`${top.symbol}+0x${(top.offset ?? 0).toString(16)}`} />
          {top.module ? ` [${top.module}]` : ''}
        </>
      )}
    </span>
  );
}

export function SummaryPanel({ tab }: { tab: Tab }) {
  const sys = useCommand(tab, 'sys --json');
  const sum = tab.summary;
  return (
    <div className="panel summary scroll">
      <CommandGate tab={tab} state={sys} what="System summary (sys)">
        {(r) => {
          const j = (r.json ?? {}) as SysJson;
          return (
            <>
              <h1 className="panic" data-testid="panic">
                {j.panic ? j.panic.replace(/^"|"$/g, '') : <span className="dim">no panic string in the dump</span>}
              </h1>
              <dl className="kv">
                <Row k="release">{j.release ?? sum.release}</Row>
                <Row k="version">{j.version}</Row>
                <Row k="machine">{j.machine}</Row>
                <Row k="node">{j.nodename}</Row>
                <Row k="cpus">
                  {j.cpus !== undefined ? `${j.cpus}${j.offline_cpus ? ` (${j.offline_cpus} offline)` : ''}` : undefined}
                </Row>
                <Row k="memory">{j.memory !== undefined ? String(j.memory) : undefined}</Row>
                <Row k="crash time">{(j.date as string | undefined) ?? fmtTime(j.crash_time) ?? fmtTime(sum.crashTime)}</Row>
                <Row k="uptime">{fmtUptime(j.uptime as string | number | undefined)}</Row>
                <Row k="tasks">{j.tasks !== undefined ? String(j.tasks) : undefined}</Row>
                <Row k="tainted">{j.tainted === undefined ? undefined : j.tainted ? 'yes' : 'no'}</Row>
                <Row k="kaslr offset">{j.kaslr_offset}</Row>
                <Row k="page offset">{j.page_offset}</Row>
              </dl>
            </>
          );
        }}
      </CommandGate>
      <dl className="kv">
        <Row k="panic task">
          <PanicTask tab={tab} />
        </Row>
      </dl>
      {sys?.result?.ok && sys.result.text && (
        <details className="raw">
          <summary>as crash prints it (sys)</summary>
          <pre className="output">
            <LinkedText text={sys.result.text} />
          </pre>
        </details>
      )}
      <h2>Dump</h2>
      <dl className="kv">
        <Row k="file">{sum.source.kind === 'url' ? sum.source.url : sum.name}</Row>
        <Row k="size">
          {formatBytes(sum.size)} ({sum.size.toLocaleString('en-US')} bytes)
        </Row>
        <Row k="format">
          {sum.format}, {sum.compression}
        </Row>
        <Row k="fingerprint">
          <code data-testid="fingerprint">{sum.fingerprint}</code>
        </Row>
        <Row k="build id">{sum.buildId}</Row>
        <Row k="kernel files">
          {sum.debugFiles?.length ? (
            <span data-testid="debug-files">{sum.debugFiles.map((f) => `${f.name} (${f.kind})`).join(', ')}</span>
          ) : (
            <span className="dim">none: drop a vmlinux or System.map of this build here for its symbols and types</span>
          )}
        </Row>
        <Row k="opened in">
          {sum.openMs} ms, {formatBytes(sum.bytesRead)} read
        </Row>
      </dl>
      {(sum.warnings.length > 0 || sum.unavailable.length > 0) && (
        <>
          <h2>Findings while opening</h2>
          <ul className="findings">
            {sum.warnings.map((w, i) => (
              <li key={'w' + i} className="warn">
                {w}
              </li>
            ))}
            {sum.unavailable.map((u, i) => (
              <li key={'u' + i} className="warn">
                <b>{u.what}</b> unavailable: {u.why}
                {u.remedy && <span className="dim"> — {u.remedy}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
