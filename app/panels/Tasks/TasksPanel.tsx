/**
 * Tasks: every task grouped by identical kernel stack (`stacks --json`), with counts and states,
 * filtered by name, pid, function, module or state; the D-state view (`hung -t 0 --json`) shows
 * each blocked task's stack and the lock it waits on with the lock's owner. A task opens its
 * backtrace (Backtrace panel); an owner opens its own.
 *
 * URL: `#/<fp>/tasks[?state=UN&q=text]`; `#/<fp>/tasks/hung` is the D-state view.
 */
import { useMemo } from 'react';
import { useApp, type Tab } from '../../store';
import { CommandGate, useCommand } from '../common';
import { resultJson } from '../../results';
import type { HungTaskJson, StackFrameJson, StacksJson, StackTaskJson } from '../../engine';

type GFrame = StackFrameJson;
type GTask = StackTaskJson;
type Group = StacksJson['groups'][number];
type Hung = HungTaskJson;

const frameText = (f: GFrame) => (f.symbol ? `${f.symbol}+${f.offset}${f.module ? ` [${f.module}]` : ''}` : f.pc);

export function TasksPanel({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const hungView = tab.view.arg === 'hung';
  const q = tab.view.params.q ?? '';
  const state = tab.view.params.state ?? '';
  const st = useCommand(tab, hungView ? null : 'stacks --json');
  const hung = useCommand(tab, hungView ? 'hung -t 0 --json' : null);
  const set = (params: Record<string, string>) => navigate({ panel: 'tasks', arg: tab.view.arg, params: { ...tab.view.params, ...params } });
  const openBt = (t: { pid: number; task: string }) => navigate({ panel: 'bt', arg: t.pid === 0 ? t.task : String(t.pid), params: {} });

  return (
    <div className="panel tasks" data-testid="tasks-panel">
      <div className="toolbar">
        <button className={!hungView ? 'on' : ''} onClick={() => navigate({ panel: 'tasks', params: {} })}>
          grouped stacks
        </button>
        <button className={hungView ? 'on' : ''} onClick={() => navigate({ panel: 'tasks', arg: 'hung', params: {} })} data-testid="tasks-hung">
          D state (hung)
        </button>
        {!hungView && (
          <>
            <input
              className="search"
              type="search"
              placeholder="filter: comm, pid, function, module"
              aria-label="filter stacks"
              value={q}
              onChange={(e) => set({ q: e.target.value })}
            />
            <select aria-label="state" value={state} onChange={(e) => set({ state: e.target.value })}>
              <option value="">every state</option>
              {['RU', 'IN', 'UN', 'ID', 'ST', 'TR', 'ZO'].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </>
        )}
      </div>
      <div className="scroll">
        {hungView ? (
          <CommandGate tab={tab} state={hung} what="Tasks in D state (hung -t 0)">
            {(r) => <HungList rows={resultJson(r, 'hung')?.tasks ?? []} openBt={openBt} />}
          </CommandGate>
        ) : (
          <CommandGate tab={tab} state={st} what="Every task's stack, grouped (stacks)">
            {(r) => <Groups groups={resultJson(r, 'stacks')?.groups ?? []} q={q} state={state} openBt={openBt} />}
          </CommandGate>
        )}
      </div>
    </div>
  );
}

function Groups({ groups, q, state, openBt }: { groups: Group[]; q: string; state: string; openBt: (t: GTask) => void }) {
  const f = q.trim().toLowerCase();
  const shown = useMemo(
    () =>
      groups
        .map((g) => ({ ...g, tasks: g.tasks.filter((t) => !state || t.state === state) }))
        .filter((g) => g.tasks.length)
        .filter(
          (g) =>
            !f ||
            g.tasks.some((t) => t.comm.toLowerCase().includes(f) || String(t.pid) === f) ||
            g.frames.some((fr) => (fr.symbol ?? '').toLowerCase().includes(f) || (fr.module ?? '').toLowerCase() === f),
        ),
    [groups, f, state],
  );
  const total = shown.reduce((n, g) => n + g.tasks.length, 0);
  return (
    <div className="stack-groups" style={{ padding: "0 8px" }}>
      <div className="dim" data-testid="stacks-summary">
        {shown.length} distinct stack{shown.length === 1 ? '' : 's'}, {total} task{total === 1 ? '' : 's'}
      </div>
      {shown.map((g, i) => (
        <section key={i} className="stack-group" data-testid="stack-group" style={{ borderTop: '1px solid var(--line, #333)', padding: '6px 0' }}>
          <div>
            <b data-testid="group-count">{g.tasks.length}</b> task{g.tasks.length === 1 ? '' : 's'} ·{' '}
            {Object.entries(g.states)
              .map(([s, n]) => `${s}:${n}`)
              .join(' ')}
          </div>
          <div className="group-tasks" style={{ display: 'flex', flexWrap: 'wrap', gap: 6, margin: '4px 0' }}>
            {g.tasks.slice(0, 200).map((t) => (
              <button key={t.task} className="task-chip" data-testid="group-task" title={t.task} onClick={() => openBt(t)}>
                {t.pid} {t.comm} <span className="dim">{t.state}</span>
              </button>
            ))}
            {g.tasks.length > 200 && <span className="dim">+{g.tasks.length - 200}</span>}
          </div>
          <pre className="frames" style={{ margin: 0 }}>
            {g.frames.map((fr, k) => `#${k} ${frameText(fr)}`).join('\n')}
            {g.stopped ? `\n(${g.stopped})` : ''}
          </pre>
        </section>
      ))}
    </div>
  );
}

function HungList({ rows, openBt }: { rows: Hung[]; openBt: (t: { pid: number; task: string }) => void }) {
  if (!rows.length) return <div className="state empty" data-testid="hung-empty">No task is in D state (TASK_UNINTERRUPTIBLE) in this dump.</div>;
  return (
    <div style={{ padding: '0 8px' }}>
      {rows.map((h) => (
        <section key={h.task} data-testid="hung-task" style={{ borderTop: '1px solid var(--line, #333)', padding: '6px 0' }}>
          <button className="task-chip" onClick={() => openBt(h)}>
            {h.pid} {h.comm}
          </button>{' '}
          <span className="dim">not run for {(Number(h.since_ns) / 1e9).toFixed(1)} s · CPU {h.cpu}</span>
          <pre style={{ margin: '4px 0' }}>{h.frames.map((fr, k) => `#${k} ${frameText(fr)}`).join('\n')}</pre>
          {h.waits.map((w) => (
            <div key={w.lock} data-testid="hung-wait" title={w.how}>
              <div>
                waits on {w.type} <code>{w.lock}</code>
                {w.symbol && (
                  <>
                    {' '}
                    (<code data-testid="lock-symbol">{w.symbol}</code>)
                  </>
                )}{' '}
                in {w.in}
              </div>
              <div>
                owner{' '}
                {w.owner ? (
                  <button className="task-chip" data-testid="lock-owner" onClick={() => openBt(w.owner!)}>
                    {w.owner.pid} {w.owner.comm} <span className="dim">{w.owner.state}</span>
                  </button>
                ) : (
                  <span data-testid="lock-owner-none">none</span>
                )}{' '}
                <span className="dim">
                  owner field <code data-testid="lock-owner-raw">{w.owner_raw}</code>
                </span>
              </div>
              {w.waiters && (
                <div data-testid="lock-waiters">
                  <span className="dim">waiters ({w.waiters.length}):</span>{' '}
                  {w.waiters.map((x) => (
                    <button key={x.task} className="task-chip" onClick={() => openBt(x)}>
                      {x.pid} {x.comm}
                    </button>
                  ))}
                </div>
              )}
            </div>
          ))}
        </section>
      ))}
    </div>
  );
}
