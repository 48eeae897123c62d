/**
 * One script run: a dedicated module worker made from a `blob:` URL whose module imports the
 * script runtime (workers/scriptworker.ts, a same-origin bundled file) and calls the script as a
 * function body. The script is code loaded as a worker script, never eval'd: the page keeps its
 * CSP (script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:, vite.config.ts), and the
 * worker inherits it (no DOM, connections to the app's own origin only). Cancel and the time
 * budget terminate the worker, so a `for (;;) {}` stops at once and the page never waits on it.
 */
import { scriptInput, scriptRuntimeUrl, type ScriptEvent, type ScriptStart } from '../../engine';

/** The module text around the script: the script's line 1 is module line SCRIPT_FIRST_LINE. */
export function scriptModule(runtimeUrl: string, code: string): { text: string; firstLine: number } {
  const head = [
    `import ${JSON.stringify(runtimeUrl)};`,
    'const __vmcoreRun = globalThis.__vmcoreScript; delete globalThis.__vmcoreScript;',
    '__vmcoreRun(function (prog, args, print, console) { "use strict";',
  ];
  // a shebang or a trailing line comment must not swallow the closing brace
  const body = code.startsWith('#!') ? '//' + code : code;
  return { text: `${head.join('\n')}\n${body}\n});\n`, firstLine: head.length + 1 };
}

export type RunEvent =
  | Exclude<ScriptEvent, { type: 'done' }>
  /** loadFailed: the worker's module did not load (a syntax error: Chromium's error event says no more) */
  | (Extract<ScriptEvent, { type: 'done' }> & { loadFailed?: boolean })
  | { type: 'stopped'; reason: 'cancelled' | 'budget'; ms: number };

export interface ScriptRun {
  cancel(): void;
}

/**
 * Start `code` on the dump of `session`. Events come to `onEvent` until one `done` or `stopped`.
 * `budgetMs` counts from the moment the dump is open in the worker (the script's own time).
 */
export function runScript(session: string, code: string, budgetMs: number, onEvent: (e: RunEvent) => void, args: string[] = []): ScriptRun {
  const { text, firstLine } = scriptModule(scriptRuntimeUrl(), code);
  const url = URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
  let worker: Worker | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  let startedAt = performance.now();
  const finish = () => {
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    worker?.terminate();
    worker = null;
    URL.revokeObjectURL(url);
  };
  const stop = (reason: 'cancelled' | 'budget') => {
    if (finished) return;
    finish();
    onEvent({ type: 'stopped', reason, ms: Math.round(performance.now() - startedAt) });
  };
  void scriptInput(session).then(
    (input) => {
      if (finished) return;
      worker = new Worker(url, { type: 'module', name: 'vmcore-script' });
      worker.onmessage = (ev: MessageEvent<ScriptEvent>) => {
        if (finished) return;
        const e = ev.data;
        if (e.type === 'ready') {
          const start: ScriptStart = { type: 'start', input, args, firstLine };
          worker?.postMessage(start);
          return;
        }
        if (e.type === 'opened') {
          startedAt = performance.now();
          timer = setTimeout(() => stop('budget'), budgetMs);
        }
        if (e.type === 'done') finish();
        onEvent(e);
      };
      // a syntax error in the script fails the module: the error event says where
      worker.onerror = (ev: ErrorEvent) => {
        if (finished) return;
        ev.preventDefault();
        finish();
        const line = ev.lineno ? ev.lineno - firstLine + 1 : undefined;
        onEvent({
          type: 'done',
          ok: false,
          error: (ev.message || 'the script could not be loaded (a syntax error?)').replace(/^Uncaught /, ''),
          ...(line !== undefined && line >= 1 ? { line, column: ev.colno || undefined } : {}),
          problems: [],
          ms: 0,
          loadFailed: true,
        });
      };
    },
    (e: unknown) => {
      if (finished) return;
      finish();
      onEvent({ type: 'done', ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e), problems: [], ms: 0 });
    },
  );
  return { cancel: () => stop('cancelled') };
}

/** A run's output as one text: the printed lines, then the returned value as JSON (what a walkthrough's script check tests). */
export function outputText(lines: readonly string[], result: unknown, hasResult: boolean): string {
  const parts = [...lines];
  if (hasResult) parts.push(typeof result === 'string' ? result : JSON.stringify(result, null, 2));
  return parts.join('\n');
}

export interface ScriptOutcome {
  ok: boolean;
  text: string;
  json?: unknown;
  error?: string;
  problems: string[];
  ms: number;
}

/** Run `code` to the end (or its budget) and collect what it printed and returned. */
export function runScriptToEnd(session: string, code: string, budgetMs: number): Promise<ScriptOutcome> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    runScript(session, code, budgetMs, (e) => {
      if (e.type === 'print') {
        for (const l of e.lines) if (lines.length < 20_000) lines.push(l);
      } else if (e.type === 'done') {
        const has = e.ok && e.result !== undefined;
        resolve({
          ok: e.ok,
          text: outputText(lines, e.ok ? e.result : undefined, has),
          json: e.ok ? e.result : undefined,
          error: e.ok ? undefined : `${e.error ?? 'error'}${e.line !== undefined ? ` (line ${e.line})` : ''}`,
          problems: e.problems,
          ms: e.ms,
        });
      } else if (e.type === 'stopped') {
        resolve({ ok: false, text: lines.join('\n'), error: e.reason === 'budget' ? 'the time budget ran out' : 'cancelled', problems: [], ms: e.ms });
      }
    });
  });
}
