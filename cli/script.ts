/**
 * `vmcore DUMP --script file.js [args]`: run a script against the dump's script API
 * (workers/script/api.ts) in a node:vm context with a time budget, and `vmcore DUMP --dts`.
 * The context holds only prog, args, print and console: no require, process, fetch or fs. (node:vm
 * is not a security boundary against a hostile script; it keeps an honest script's globals clean
 * and stops a runaway synchronous loop.)
 */
import { createContext, runInContext } from 'node:vm';
import { readFileSync } from 'node:fs';
import type { Program } from '../workers/kernel/program';
import { scriptProgram } from '../workers/script/api';
import { programDts } from '../workers/script/dts';
import { formatValue, jsonReplacer } from '../workers/script/format';

export { formatValue, jsonReplacer };

export const DEFAULT_SCRIPT_TIMEOUT_MS = 60_000;

export interface ScriptRun {
  ok: boolean;
  /** what the script returned (its last `return`) */
  result?: unknown;
  /** why it failed: the error message, or the time budget */
  error?: string;
  timedOut?: boolean;
  /** what print()/console.log wrote */
  output: string[];
  /** problems the API's walks met */
  problems: string[];
  ms: number;
}

/**
 * Run `code` (a function body: `return` gives the result) with `prog`, `args` and `print`.
 * A synchronous loop longer than `timeoutMs` is stopped by V8 and reported as timedOut.
 */
export function runScript(
  program: Program,
  code: string,
  opts: { args?: string[]; timeoutMs?: number; filename?: string; onPrint?: (line: string) => void } = {},
): ScriptRun {
  const output: string[] = [];
  const print = (...vals: unknown[]) => {
    const line = vals.map(formatValue).join(' ');
    output.push(line);
    opts.onPrint?.(line);
  };
  const prog = scriptProgram(program);
  const ctx = createContext({ prog, args: [...(opts.args ?? [])], print, console: { log: print, error: print, warn: print } });
  const timeout = opts.timeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS;
  const t0 = performance.now();
  try {
    const result = runInContext(`(function () {\n"use strict";\n${code}\n})()`, ctx, {
      filename: opts.filename ?? 'script.js',
      lineOffset: -2,
      timeout,
      breakOnSigint: true,
    });
    return { ok: true, result, output, problems: prog.problems, ms: performance.now() - t0 };
  } catch (e) {
    const ms = performance.now() - t0;
    const code = (e as { code?: string })?.code;
    if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
      return { ok: false, timedOut: true, error: `script stopped after ${timeout} ms: time budget exceeded (a runaway loop?); raise it with --timeout MS`, output, problems: prog.problems, ms };
    if (code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') return { ok: false, error: 'script interrupted (SIGINT)', output, problems: prog.problems, ms };
    const msg = e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e) ? `${(e as Error).name ?? 'Error'}: ${(e as Error).message}` : String(e);
    const where = scriptLocation(e, opts.filename ?? 'script.js');
    return { ok: false, error: where ? `${msg} (${where})` : msg, output, problems: prog.problems, ms };
  }
}

/** file:line:col of the innermost frame of the script in an error's stack, if any. */
function scriptLocation(e: unknown, filename: string): string | null {
  const stack = (e as { stack?: string })?.stack;
  if (typeof stack !== 'string') return null;
  const esc = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`(${esc}:\\d+:\\d+)`).exec(stack);
  return m ? m[1] : null;
}

/** The kernel.d.ts text of a dump. */
export function dumpDts(program: Program): string {
  return programDts(program);
}

/** The CLI's --script: exit code 0 when the script returned, 1 on an error, the time budget or an unreadable file (one line on stderr). */
export function runScriptFile(
  program: Program,
  file: string,
  args: string[],
  opts: { json: boolean; timeoutMs?: number },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  let code: string;
  try {
    code = readFileSync(file, 'utf8');
  } catch (e) {
    err.write(`vmcore: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
    return 1;
  }
  // a shebang line is not JavaScript inside the function body
  if (code.startsWith('#!')) code = '//' + code;
  const r = runScript(program, code, { args, timeoutMs: opts.timeoutMs, filename: file, onPrint: opts.json ? undefined : (l) => out.write(l + '\n') });
  if (opts.json) {
    const doc = r.ok ? { ok: true, result: r.result ?? null, output: r.output, problems: r.problems } : { ok: false, error: r.error, timedOut: !!r.timedOut, output: r.output, problems: r.problems };
    out.write(JSON.stringify(doc, jsonReplacer, 1) + '\n');
  } else {
    if (r.ok && r.result !== undefined) out.write(formatValue(r.result) + '\n');
    if (!r.ok) err.write(`vmcore: ${file}: ${r.error}${r.problems.length ? ` (${r.problems.length} walk problems before)` : ''}\n`);
    else for (const p of r.problems) err.write(`problem: ${p}\n`);
  }
  return r.ok ? 0 : 1;
}

/** The CLI's --dts. */
export function writeDts(program: Program, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  try {
    out.write(dumpDts(program));
    return 0;
  } catch (e) {
    err.write(`vmcore: ${(e as Error).message}\n`);
    return 1;
  }
}
