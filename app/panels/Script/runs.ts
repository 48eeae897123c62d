/**
 * The Script panel's state that outlives the panel: the script text (localStorage, so nothing is
 * lost on reload or when the tab closes) and each dump's last run (kept while the app runs, so
 * following an address into the hex view and coming back shows the same output; a run goes on
 * while another panel is shown).
 */
import { useSyncExternalStore } from 'react';
import { runScript, type RunEvent, type ScriptRun } from './runner';

export const SCRIPT_KEY = 'vmcore.script.v1';
export const BUDGET_KEY = 'vmcore.script.budget.v1';

/** Lines of output kept per run (the rest is counted, not kept: a runaway print loop stays small). */
export const MAX_LINES = 20_000;

export const EXAMPLE = `// A script is a JavaScript function body over the open dump: \`prog\` is the dump
// (types from its BTF: type \`task.\` for task_struct's members), print() writes a line,
// what it returns is shown below (addresses link into the hex view). Ctrl+Enter runs it.
for (const task of prog.tasks()) {
  print(task.pid.value(), task.comm.string());
}
return prog.tasks().slice(0, 5);
`;

export function loadScript(): string {
  try {
    return localStorage.getItem(SCRIPT_KEY) ?? EXAMPLE;
  } catch {
    return EXAMPLE;
  }
}

export function saveScript(text: string): void {
  try {
    localStorage.setItem(SCRIPT_KEY, text);
  } catch {
    /* storage full or denied: the editor keeps the text */
  }
}

export function loadBudget(): number {
  const n = Number(globalThis.localStorage?.getItem(BUDGET_KEY));
  return Number.isFinite(n) && n >= 1 ? n : 30;
}

export function saveBudget(seconds: number): void {
  try {
    localStorage.setItem(BUDGET_KEY, String(seconds));
  } catch {
    /* ignore */
  }
}

export interface RunState {
  id: number;
  status: 'opening' | 'running' | 'done' | 'failed' | 'stopped';
  startedAt: number;
  lines: string[];
  /** lines printed beyond MAX_LINES */
  dropped: number;
  openMs?: number;
  ms?: number;
  result?: unknown;
  hasResult?: boolean;
  error?: string;
  line?: number;
  column?: number;
  problems: string[];
  budgetS: number;
  /** the source that ran */
  code: string;
}

const runs = new Map<string, RunState>();
const active = new Map<string, ScriptRun>();
const listeners = new Set<() => void>();
let nextId = 1;

function emit(): void {
  for (const l of listeners) l();
}

function update(session: string, f: (r: RunState) => RunState): void {
  const r = runs.get(session);
  if (r) runs.set(session, f(r));
  emit();
}

export function useRun(session: string): RunState | undefined {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => runs.get(session),
  );
}

/** Where a script that did not load is wrong (the worker's load error has no details). */
export type SyntaxCheck = () => Promise<{ line: number; column: number; message: string } | null>;

export function startRun(session: string, code: string, budgetS: number, syntaxCheck?: SyntaxCheck): void {
  active.get(session)?.cancel();
  const id = nextId++;
  runs.set(session, { id, status: 'opening', startedAt: performance.now(), lines: [], dropped: 0, problems: [], budgetS, code });
  emit();
  const mine = (f: (r: RunState) => RunState) => update(session, (r) => (r.id === id ? f(r) : r));
  const run = runScript(session, code, budgetS * 1000, (e: RunEvent) => {
    switch (e.type) {
      case 'ready':
        return;
      case 'opened':
        return mine((r) => ({ ...r, status: 'running', openMs: e.ms, startedAt: performance.now() }));
      case 'print':
        return mine((r) => {
          const room = Math.max(0, MAX_LINES - r.lines.length);
          return { ...r, lines: room ? r.lines.concat(e.lines.slice(0, room)) : r.lines, dropped: r.dropped + Math.max(0, e.lines.length - room) };
        });
      case 'done':
        if (active.get(session) === run) active.delete(session);
        if (!e.ok && e.loadFailed && syntaxCheck) {
          void syntaxCheck().then(
            (s) => s && mine((r) => ({ ...r, error: `SyntaxError: ${s.message}`, line: s.line, column: s.column })),
            () => undefined,
          );
        }
        return mine((r) =>
          e.ok
            ? { ...r, status: 'done', ms: e.ms, result: e.result, hasResult: e.result !== undefined, problems: e.problems }
            : { ...r, status: 'failed', ms: e.ms, error: e.error, line: e.line, column: e.column, problems: e.problems },
        );
      case 'stopped':
        if (active.get(session) === run) active.delete(session);
        return mine((r) => ({
          ...r,
          status: 'stopped',
          ms: e.ms,
          error:
            e.reason === 'budget'
              ? `stopped after ${r.budgetS} s: the time budget ran out (a runaway loop?); the worker was terminated`
              : `cancelled after ${(e.ms / 1000).toFixed(1)} s: the worker was terminated`,
        }));
    }
  });
  active.set(session, run);
}

export function cancelRun(session: string): void {
  active.get(session)?.cancel();
}

export function isRunning(r: RunState | undefined): boolean {
  return r?.status === 'opening' || r?.status === 'running';
}
