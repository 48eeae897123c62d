/**
 * The UI's handle on the engine worker: creates workers/worker.ts once, wraps it with comlink,
 * and adds what only the main thread can do (progress proxies, shared cancel flags, resolving
 * URLs against the page). Panels never talk to the worker directly; they go through the store.
 */
import { proxy, wrap, type Remote } from 'comlink';
import type {
  AddressLayout,
  CommandInfo,
  FileCheck,
  EngineApi,
  JobProgress,
  OutputChunk,
  MemoryBytes,
  MemoryChunk,
  OpenProgress,
  OpenResult,
  Resolved,
  RunResult,
  ScriptInput,
  TypeName,
} from '../workers/api';
// the Script panel's worker runtime: bundled as a worker entry, imported by each run's blob: module
import scriptRuntime from '../workers/scriptworker.ts?worker&url';

export type {
  AddressLayout,
  AddressRange,
  BtFrameJson,
  BtTaskJson,
  DisJson,
  DisInsnJson,
  EvalJson,
  ListJson,
  SlabcheckJson,
  SlabFinding,
  WhatisJson,
  StacksJson,
  StackTaskJson,
  StackFrameJson,
  HungJson,
  HungTaskJson,
  OverlayJson,
  StructLayoutJson,
  LogRecordJson,
  FileCheck,
  KmemCacheJson,
  KmemSRow,
  OopsJson,
  OopsReportJson,
  PsRow,
  SlabJson,
  SysJson,
  MemoryChunk,
  PointerInfo,
  SlabSpan,
  TypeName,
  CommandInfo,
  DumpSummary,
  JobProgress,
  OutputChunk,
  MemoryBytes,
  MissingRange,
  OpenProgress,
  OpenResult,
  Resolved,
  RunResult,
  ScriptEvent,
  ScriptInput,
  ScriptStart,
  Unavailable,
} from '../workers/api';

let remote: Remote<EngineApi> | null = null;
let crashListeners: ((msg: string) => void)[] = [];

function api(): Remote<EngineApi> {
  if (remote) return remote;
  const w = new Worker(new URL('../workers/worker.ts', import.meta.url), { type: 'module', name: 'vmcore-engine' });
  w.addEventListener('error', (e) => {
    const msg = `the engine worker stopped: ${e.message || 'failed to load'}`;
    for (const l of crashListeners) l(msg);
  });
  remote = wrap<EngineApi>(w);
  return remote;
}

export function onEngineCrash(l: (msg: string) => void): void {
  crashListeners.push(l);
}

function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] || 'unknown error';
}

export async function openFile(file: File, onProgress?: (p: OpenProgress) => void, debugFiles: File[] = []): Promise<OpenResult> {
  try {
    return await api().openFile(file, onProgress ? proxy(onProgress) : undefined, debugFiles);
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
}

/** Add a vmlinux / System.map to an open dump (matched to it; refused in one line otherwise). */
export async function addFiles(session: string, files: File[]): Promise<OpenResult> {
  try {
    return await api().addFiles(session, files);
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
}

/** A kernel's own file rather than a dump, told by its name: vmlinux*, System.map*, *.debug. */
export function isDebugFileName(name: string): boolean {
  return /^vmlinux|^System\.map|\.debug$/i.test(name);
}

/**
 * Where a user-typed URL points, and whether the app may read it. Dumps are read from the app's
 * own origin only (the CSP's connect-src 'self', see vite.config.ts).
 */
export function checkDumpUrl(input: string): { ok: true; url: string } | { ok: false; error: string } {
  let u: URL;
  try {
    u = new URL(input.trim(), window.location.href);
  } catch {
    return { ok: false, error: `${input}: not a URL` };
  }
  if (u.origin !== window.location.origin) {
    return {
      ok: false,
      error: `${u.origin} is another origin: this app reads dumps from ${window.location.origin} only (so memory never leaves for elsewhere). Serve or proxy the dump under this origin with HTTP Range support, or drop the file on the page.`,
    };
  }
  return { ok: true, url: u.href };
}

export async function openUrl(input: string, onProgress?: (p: OpenProgress) => void): Promise<OpenResult> {
  const c = checkDumpUrl(input);
  if (!c.ok) return c;
  try {
    return await api().openUrl(c.url, onProgress ? proxy(onProgress) : undefined);
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
}

export async function closeSession(session: string): Promise<void> {
  try {
    await api().close(session);
  } catch {
    /* the worker may be gone */
  }
}

export interface Job {
  jobId: string;
  line: string;
  result: Promise<RunResult>;
  /** stops the command at its next check (immediately if SharedArrayBuffer is available) */
  cancel(): void;
}

let jobCounter = 1;
/** Shared flags need cross-origin isolation (COOP/COEP headers, see vite.config.ts). */
export const canCancelRunning = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated === true;

export function runJob(
  session: string,
  line: string,
  onProgress?: (p: JobProgress) => void,
  opts: { json?: boolean; textLines?: number; onOutput?: (c: OutputChunk) => void } = {},
): Job {
  const jobId = `ui${jobCounter++}`;
  const flag = canCancelRunning ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
  const result = (async (): Promise<RunResult> => {
    try {
      return await api().run(
        session,
        line,
        { jobId, cancelFlag: flag, json: opts.json, textLines: opts.textLines },
        onProgress ? proxy(onProgress) : undefined,
        opts.onOutput ? proxy(opts.onOutput) : undefined,
      );
    } catch (e) {
      return { jobId, ok: false, text: '', error: oneLine(e), ms: 0 };
    }
  })();
  return {
    jobId,
    line,
    result,
    cancel() {
      if (flag) Atomics.store(flag, 0, 1);
      void api().cancel(session, jobId);
    },
  };
}

export async function readMemory(session: string, address: string, length: number): Promise<MemoryBytes | { error: string }> {
  try {
    return await api().readMemory(session, address, length);
  } catch (e) {
    return { error: oneLine(e) };
  }
}

export async function resolve(session: string, input: string): Promise<Resolved> {
  try {
    return await api().resolve(session, input);
  } catch (e) {
    return { input, error: oneLine(e) };
  }
}

export async function listCommands(): Promise<CommandInfo[]> {
  try {
    return await api().commands();
  } catch {
    return [];
  }
}

/** Bytes of one hex-view chunk with pointer classes and slab spans. */
export async function readChunk(session: string, address: string, length: number): Promise<MemoryChunk | { error: string }> {
  try {
    return await api().readChunk(session, address, length);
  } catch (e) {
    return { error: oneLine(e) };
  }
}

/** Struct/union names for the type picker and completion. */
export async function listTypes(session: string, query: string, limit = 100): Promise<TypeName[]> {
  try {
    return await api().types(session, query, limit);
  } catch {
    return [];
  }
}

/** Symbol names starting with prefix. */
export async function completeSymbols(session: string, prefix: string, limit = 50): Promise<string[]> {
  try {
    return await api().symbols(session, prefix, limit);
  } catch {
    return [];
  }
}

/** Tell the engine which type the user laid over an object (whatis names members through it). */
export async function setOverlay(session: string, address: string, type: string | null): Promise<void> {
  try {
    await api().setOverlay(session, address, type);
  } catch {
    /* the session may be closed */
  }
}

/** The dump's kernel address ranges (which numbers are pointers); null when the engine cannot tell. */
export async function addressLayout(session: string): Promise<AddressLayout | null> {
  try {
    return await api().layout(session);
  } catch {
    return null;
  }
}

/** The dump file's size against what its headers promise (is it truncated?). */
export async function fileCheck(session: string): Promise<FileCheck | null> {
  try {
    return await api().fileCheck(session);
  } catch {
    return null;
  }
}

/** More lines of a long console output kept by the engine (RunResult.textKey). */
export async function textPage(session: string, key: string, from: number, count: number): Promise<string[] | { error: string }> {
  try {
    return await api().textPage(session, key, from, count);
  } catch (e) {
    return { error: oneLine(e) };
  }
}

/** What a script run opens: the session's own dump input (workers/api.ts scriptInput). */
export async function scriptInput(session: string): Promise<ScriptInput> {
  return api().scriptInput(session);
}

/** The dump's kernel.d.ts (generated from its BTF in the engine worker, once per dump). */
export async function kernelDts(session: string): Promise<string> {
  return api().dts(session);
}

/** Absolute URL of the script worker runtime (workers/scriptworker.ts), for a blob: module to import. */
export function scriptRuntimeUrl(): string {
  return new URL(scriptRuntime, self.location.href).href;
}
