/**
 * The runtime of the Script panel's worker. The page (app/panels/Script/runner.ts) starts each run
 * as a dedicated module worker from a `blob:` URL whose module is
 *
 *     import "<this file's URL>";
 *     globalThis.__vmcoreScript(function (prog, args, print, console) { "use strict"; <the script> });
 *
 * so the script is ordinary module code loaded as a worker script: no eval, no new Function, and
 * the app's CSP stays as it is (worker-src 'self' blob:, script-src 'self'; see vite.config.ts).
 * This module is that import: it opens the dump again from the session's own input (the same
 * dropped File, or the same-origin URL; workers/api.ts scriptInput), calls the script with the
 * script API (workers/script/api.ts), streams print() lines to the page in batches as they come,
 * and posts what the script returned or the error with its line. The page stops a run (Cancel, the
 * time budget) by terminating the worker: a `for (;;) {}` never needs to cooperate.
 *
 * The worker has no DOM; it inherits the page's CSP, so it can connect to the app's origin only.
 */
import { openProgram } from './engine';
import { BlobSource } from './source/blob';
import { HttpRangeSource } from './source/http';
import { openDebugInput } from './kernel/debuginfo';
import { scriptProgram, type ScriptProgram } from './script/api';
import { formatValue, plainValue } from './script/format';
import { errorMessage } from './errors';
import type { ScriptEvent, ScriptStart } from './api';

type ScriptFn = (prog: ScriptProgram, args: string[], print: (...v: unknown[]) => void, console: Record<string, unknown>) => unknown;

/** print() lines wait at most this long (or this many) before they go to the page. */
const FLUSH_MS = 50;
const FLUSH_LINES = 500;

const post = (e: ScriptEvent) => (self as unknown as Worker).postMessage(e);

function start(): Promise<ScriptStart> {
  return new Promise((resolve) => {
    self.addEventListener('message', function on(ev: MessageEvent<ScriptStart>) {
      if (ev.data?.type !== 'start') return;
      self.removeEventListener('message', on);
      resolve(ev.data);
    });
    post({ type: 'ready' });
  });
}

/** file line:column of the innermost frame in this worker's module (the script), 1-based script lines. */
export function scriptLocation(stack: unknown, moduleUrl: string, firstLine: number): { line: number; column: number } | null {
  if (typeof stack !== 'string') return null;
  for (const l of stack.split('\n')) {
    const at = l.lastIndexOf(moduleUrl + ':');
    if (at < 0) continue;
    const m = /^:(\d+):(\d+)/.exec(l.slice(at + moduleUrl.length));
    if (!m) continue;
    const line = Number(m[1]) - firstLine + 1;
    if (line >= 1) return { line, column: Number(m[2]) };
  }
  return null;
}

async function run(fn: ScriptFn): Promise<void> {
  const req = await start();
  const t0 = performance.now();
  let sp: ScriptProgram | null = null;
  let pending: string[] = [];
  // the first line goes out at once (opening the dump may take under FLUSH_MS, and a script that
  // prints and then computes for long never returns to the event loop for the interval below);
  // later lines batch for up to FLUSH_MS, flushed by the next print, the interval or the end
  let last = -Infinity;
  const flush = () => {
    if (pending.length) post({ type: 'print', lines: pending });
    pending = [];
    last = performance.now();
  };
  const print = (...vals: unknown[]) => {
    pending.push(vals.map(formatValue).join(' '));
    if (pending.length >= FLUSH_LINES || performance.now() - last >= FLUSH_MS) flush();
  };
  const timer = setInterval(flush, FLUSH_MS);
  try {
    const { dump } = req.input;
    const src = dump.kind === 'file' ? new BlobSource(dump.file, dump.name) : new HttpRangeSource(dump.url);
    const debug = req.input.debug.map((b) => openDebugInput(new BlobSource(b, (b as File).name)));
    sp = scriptProgram(openProgram(src, { debug }));
    post({ type: 'opened', ms: Math.round(performance.now() - t0) });
    const t1 = performance.now();
    const result = fn(sp, [...req.args], print, { log: print, info: print, warn: print, error: print });
    const value = plainValue(result);
    flush();
    post({ type: 'done', ok: true, result: value, problems: [...sp.problems], ms: Math.round(performance.now() - t1) });
  } catch (e) {
    flush();
    const err = e as { name?: string; message?: string; stack?: string };
    const msg = typeof err?.message === 'string' ? `${err.name ?? 'Error'}: ${err.message}` : errorMessage(e);
    const where = scriptLocation(err?.stack, self.location.href, req.firstLine);
    post({ type: 'done', ok: false, error: msg.split('\n')[0], ...(where ?? {}), problems: sp ? [...sp.problems] : [], ms: Math.round(performance.now() - t0) });
  } finally {
    clearInterval(timer);
  }
}

(globalThis as unknown as { __vmcoreScript?: (fn: ScriptFn) => Promise<void> }).__vmcoreScript = run;
