/**
 * Summary: what happened, said first. A truncated file says so before anything else ("truncated
 * at N of M bytes"); then the oops as the kernel reported it, parsed from the dump's own log
 * (`oops --json`: headline, RIP, CR2, the registers, the call trace); the panic task (a link to its
 * backtrace); the walkthroughs whose incident signature matches this dump; the system facts of
 * `sys --json`, every unknown one said in words with the reason the engine gives; the dump itself.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { Tab } from '../../store';
import { useApp, SUMMARY_HEADLINE } from '../../store';
import { fileCheck, type FileCheck, type OopsReportJson, type SysJson } from '../../engine';
import { resultJson } from '../../results';
import { formatHash } from '../../permalink';
import { CommandGate, LinkedText, formatBytes, useCommand } from '../common';
import { MatchingWalkthroughs } from '../../walkthrough/MatchingWalkthroughs';

/** Crash times before 1973 are no times: an unset clock (0 = 1970-01-01) is "unknown". */
const PLAUSIBLE_EPOCH = 100_000_000;

function fmtTime(v: number | null | undefined): string | undefined {
  if (v === undefined || v === null || v < PLAUSIBLE_EPOCH) return undefined;
  return new Date(v * 1000).toUTCString().replace('GMT', 'UTC');
}

function Row({ k, children, why }: { k: string; children: ReactNode; why?: string }) {
  const empty = children === undefined || children === null || children === '';
  return (
    <>
      <dt>{k}</dt>
      <dd>{empty ? <span className="dim unknown">unknown{why ? `: ${why}` : ''}</span> : children}</dd>
    </>
  );
}

function Truncated({ tab }: { tab: Tab }) {
  const [fc, setFc] = useState<FileCheck | null>(null);
  useEffect(() => {
    let live = true;
    void fileCheck(tab.session).then((r) => live && setFc(r));
    return () => {
      live = false;
    };
  }, [tab.session]);
  if (!fc?.truncated || fc.expected === null) return null;
  const pct = ((fc.size / fc.expected) * 100).toFixed(1);
  return (
    <div className="banner error truncated" role="alert" data-testid="truncated">
      <b>
        This dump is truncated at {fc.size.toLocaleString('en-US')} of {fc.atLeast ? 'at least ' : ''}
        {fc.expected.toLocaleString('en-US')} bytes
      </b>{' '}
      ({pct}% of the file; {formatBytes(fc.expected - fc.size)} missing). Memory that was in the missing part cannot be
      read: what needs it is listed as unknown below, with the reason. Copy the whole file again if you can.
    </div>
  );
}

/** The report to headline: the one that ended in the panic, else the first. */
function mainReport(reports: OopsReportJson[]): OopsReportJson | undefined {
  return reports.find((r) => r.panic) ?? reports[0];
}

function loc(l: { symbol?: string; offset?: number; length?: number; module?: string } | undefined): string | undefined {
  if (!l?.symbol) return undefined;
  return `${l.symbol}+0x${(l.offset ?? 0).toString(16)}${l.length ? `/0x${l.length.toString(16)}` : ''}${l.module ? ` [${l.module}]` : ''}`;
}

const REG_ORDER = ['RIP', 'RSP', 'EFLAGS', 'RAX', 'RBX', 'RCX', 'RDX', 'RSI', 'RDI', 'RBP', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15', 'ORIG_RAX'];

function Oops({ tab, sys }: { tab: Tab; sys: SysJson | undefined }) {
  // -n: the report as logged, without the checks against memory (those cost a symbol table; the
  // console's `oops` has them): the headline is the first thing the user waits for
  const st = useCommand(tab, SUMMARY_HEADLINE);
  const navigate = useApp((s) => s.navigate);
  const fp = tab.summary.fingerprint;
  if (!st || st.status === 'running') return <div className="dim">reading the oops from the log…</div>;
  const j = resultJson(st.result, 'oops');
  const rep = j?.found ? mainReport(j.reports) : undefined;
  if (!rep) {
    const why = !st.result?.ok ? st.result?.error : j?.message;
    return (
      <>
        <h1 className="panic" data-testid="panic">
          {sys?.panic ? sys.panic.replace(/^"|"$/g, '') : <span className="dim">no panic string in the dump{sys?.unknown?.panic ? `: ${sys.unknown.panic}` : ''}</span>}
        </h1>
        <div className="dim small" data-testid="no-oops">
          No oops report in the kernel log{why ? `: ${why}` : ''}.
        </div>
        <MatchingWalkthroughs tab={tab} />
      </>
    );
  }
  const regs = { ...rep.registers };
  const rip = loc(rep.rip);
  const cr2 = rep.control?.CR2 ?? rep.faultAddress;
  const panicLine = rep.panic ? `Kernel panic - not syncing: ${rep.panic}` : sys?.panic?.replace(/^"|"$/g, '');
  const btView = { panel: 'bt', params: {} };
  const trace = rep.callTrace ?? [];
  return (
    <>
      <h1 className="panic headline" data-testid="headline">
        {rep.headline}
      </h1>
      {panicLine && (
        <div className="panic-line" data-testid="panic">
          {panicLine}
        </div>
      )}
      <dl className="kv oops-kv">
        <Row k="RIP">{rip ? <span data-testid="rip"><LinkedText text={rip} /></span> : undefined}</Row>
        {cr2 !== undefined && <Row k="CR2 (fault address)"><code data-testid="cr2">{cr2}</code></Row>}
        {rep.notes?.filter((n) => n.startsWith('#PF')).map((n) => <Row key={n} k="fault">{n}</Row>)}
        <Row k="panic task">
          {rep.pid !== undefined ? (
            <a
              href={formatHash({ fingerprint: fp, view: btView })}
              className="addr"
              data-testid="panic-task"
              title="open its backtrace"
              onClick={(e) => {
                e.preventDefault();
                navigate(btView);
              }}
            >
              PID {rep.pid} {rep.comm ?? ''}
            </a>
          ) : undefined}
          {rep.cpu !== undefined && <span className="dim"> on CPU {rep.cpu}</span>}
          {rep.tainted && <span className="dim"> · tainted {rep.tainted.trim()}</span>}
        </Row>
        {rep.modules?.length > 0 && <Row k="modules">{rep.modules.join(' ')}</Row>}
      </dl>
      <MatchingWalkthroughs tab={tab} />
      <h2>Registers</h2>
      <div className="regs sum-regs" data-testid="summary-registers">
        {REG_ORDER.filter((k) => regs[k] !== undefined).map((k) => (
          <span key={k} className="reg">
            <span className="rk">{k}</span> <LinkedText text={regs[k].replace(/^0x/, '').padStart(16, '0')} />
          </span>
        ))}
      </div>
      {trace.length > 0 && (
        <>
          <h2>Call trace (as the kernel printed it)</h2>
          <ol className="calltrace" data-testid="call-trace">
            {trace.map((t, i) => (
              <li key={i} className={t.reliable ? '' : 'dim'} title={t.reliable ? undefined : "'?': a stale return address on the stack, not a frame"}>
                {t.reliable ? '' : '? '}
                <LinkedText text={t.symbol ? `${t.symbol}+0x${t.offset.toString(16)}/0x${t.length.toString(16)}` : (t.address ?? t.raw)} />
                {t.module ? <span className="dim"> [{t.module}]</span> : null}
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

export function SummaryPanel({ tab }: { tab: Tab }) {
  const sys = useCommand(tab, 'sys --json');
  const sum = tab.summary;
  const j = resultJson(sys?.result, 'sys');
  const why = (f: string) => j?.unknown?.[f];
  return (
    <div className="panel summary scroll" data-autofocus tabIndex={-1}>
      <Truncated tab={tab} />
      <Oops tab={tab} sys={j} />
      <h2>System</h2>
      <CommandGate tab={tab} state={sys} what="System summary (sys)">
        {() => (
          <dl className="kv">
            <Row k="release" why={why('uts')}>{j?.release ?? sum.release}</Row>
            <Row k="version" why={why('uts')}>{j?.version}</Row>
            <Row k="machine" why={why('uts')}>{j?.machine}</Row>
            <Row k="node" why={why('uts')}>{j?.nodename}</Row>
            <Row k="cpus" why={why('cpus')}>
              {j?.cpus !== null && j?.cpus !== undefined ? `${j.cpus}${j.offline_cpus ? ` (${j.offline_cpus} offline)` : ''}` : undefined}
            </Row>
            <Row k="memory" why={why('memory')}>{j?.memory ?? undefined}</Row>
            <Row k="crash time" why={why('crash_time') ?? (j?.crash_time !== null && j?.crash_time !== undefined ? 'the dump\'s clock is not set' : undefined)}>
              {fmtTime(j?.crash_time) ?? fmtTime(sum.crashTime)}
            </Row>
            <Row k="uptime" why={why('uptime')}>{j?.uptime ?? undefined}</Row>
            <Row k="tasks" why={why('tasks')}>{j?.tasks !== null && j?.tasks !== undefined ? String(j.tasks) : undefined}</Row>
            <Row k="tainted" why={why('tainted')}>{j?.tainted === null || j?.tainted === undefined ? undefined : j.tainted ? 'yes' : 'no'}</Row>
            <Row k="kaslr offset">{j?.kaslr_offset ?? undefined}</Row>
            <Row k="page offset">{j?.page_offset ?? undefined}</Row>
          </dl>
        )}
      </CommandGate>
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
          {sum.decoder ? <span data-testid="page-decoder"> (pages decoded by {sum.decoder})</span> : null}
        </Row>
        <Row k="fingerprint">
          <code data-testid="fingerprint">{sum.fingerprint}</code>
        </Row>
        <Row k="build id">{sum.buildId}</Row>
        <Row k="kernel files">
          {sum.debugFiles?.length ? (
            <span data-testid="debug-files">{sum.debugFiles.map((f) => `${f.name} (${f.kind})`).join(', ')}</span>
          ) : (
            <span className="dim">none: drop a vmlinux or System.map of this build here for its symbols and types (and a module's .ko for its source lines and variables)</span>
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
