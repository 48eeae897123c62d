/**
 * The UI's handle on the engine worker: creates workers/worker.ts once, wraps it with comlink,
 * and adds what only the main thread can do (progress proxies, shared cancel flags, resolving
 * URLs against the page). Panels never talk to the worker directly; they go through the store.
 */
import { proxy, transfer, wrap, type Remote } from 'comlink';
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
  SlabStatesJson,
  SlabGrid,
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

/**
 * Start the engine worker now (page load), not when the first dump is picked: its module and
 * the disassembler's wasm load while the user chooses a file, and the first dump's summary does
 * not wait behind them. Resolves when the worker is ready (the page marks it on <html
 * data-engine="ready">).
 */
export async function warmEngine(): Promise<void> {
  // the command list too: which lines run on the scan workers (runJob then routes without a turn)
  void splitCommandNames();
  try {
    await api().warm();
  } catch {
    /* a worker that cannot load reports itself through onEngineCrash */
  }
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
    const r = await api().openFile(file, onProgress ? proxy(onProgress) : undefined, debugFiles);
    if (r.ok) sources.set(r.summary.session, { kind: 'file', file, debug: debugFiles });
    return r;
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
}

/** Add a vmlinux / System.map / module .ko to an open dump (matched to it; refused in one line otherwise). */
export async function addFiles(session: string, files: File[]): Promise<OpenResult> {
  try {
    const r = await api().addFiles(session, files);
    const src = sources.get(session);
    if (r.ok && src?.kind === 'file') {
      // the scan workers open the dump again with the files, on their next scan
      dropScanSessions(session);
      sources.set(session, { ...src, debug: [...src.debug, ...files] });
    }
    return r;
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
}

/** A kernel's own file rather than a dump, told by its name: vmlinux*, System.map*, *.debug, a module's *.ko. */
export function isDebugFileName(name: string): boolean {
  return /^vmlinux|^System\.map|\.debug$|\.ko$/i.test(name);
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
    const r = await api().openUrl(c.url, onProgress ? proxy(onProgress) : undefined);
    if (r.ok) sources.set(r.summary.session, { kind: 'url', url: c.url });
    return r;
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
}

export async function closeSession(session: string): Promise<void> {
  dropScanSessions(session);
  sources.delete(session);
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

/**
 * The Slabs panel's map of one cache: `kmem -S --full` with each object's state as a letter; panels
 * get its JSON as the engine's SlabGrid (typed arrays: a million objects cross to the page in one
 * copy), which runJob asks for whenever this line runs.
 */
export function slabMapLine(cache: string): string {
  return `kmem -S --full ${cache} --states`;
}

export function isSlabMapLine(line: string): boolean {
  return /^kmem -S --full \S+ --states$/.test(line);
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
  // the slab map's JSON comes as typed arrays (slabMapLine above)
  const slabGrid = isSlabMapLine(line) && opts.json !== false;
  const flag = canCancelRunning ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
  const scan: ScanState = { cancelled: false, running: [] };
  const result = (async (): Promise<RunResult> => {
    try {
      // a split scan (search, slabcheck) runs on the scan workers: its answer comes whole, not streamed
      // (no await when the split commands are known: the line goes to the engine in this turn,
      // ahead of what the next render asks)
      if (sources.has(session) && (splitKnown ? splitsBy(splitKnown, line) : await isSplitLine(line))) {
        const r = await runScan(session, line, jobId, flag, scan, onProgress, { ...opts, slabGrid });
        if (r) return r;
      }
      return await api().run(
        session,
        line,
        { jobId, cancelFlag: flag, json: opts.json, textLines: opts.textLines, slabGrid },
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
      scan.cancelled = true;
      if (flag) Atomics.store(flag, 0, 1);
      void api().cancel(session, jobId).catch(() => undefined);
      for (const r of scan.running) void r.w.api.cancel(r.session, r.partId).catch(() => undefined);
    },
  };
}

// ------------------------------------------------------------------ scan workers

/**
 * Long scans (a search of all memory) do not run on the engine worker, which stays free for the
 * panels, the console and the hex view: they run on scan workers, each with its own Session on
 * the same File (a File is cloned to a worker, not copied; each reads it synchronously with
 * FileReaderSync) or URL, opened on the first scan of a dump. The engine plans the parts (ranges
 * of physical memory), the workers take them in turn, and one worker merges their results in
 * plan order into the answer the engine worker would give. Cancel sets the job's shared flag,
 * which every part polls.
 */
interface ScanWorker {
  name: string;
  api: Remote<EngineApi>;
  /** dump session here -> that worker's session for the same dump */
  sessions: Map<string, Promise<string>>;
  /** a part is running here; scans waiting for the worker, by start order */
  busy: boolean;
  waiting: { order: number; grant: () => void }[];
}

/**
 * Scans share the workers part by part, the scan that started first before the others (the
 * Slabs panel asks for its slab map and then its slabcheck: the map's parts go first instead of
 * alternating with the slabcheck's, so the map does not wait for both on a one-worker pool).
 */
let scanOrder = 0;
function takeWorker(w: ScanWorker, order: number): Promise<void> {
  if (!w.busy) {
    w.busy = true;
    return Promise.resolve();
  }
  return new Promise((grant) => w.waiting.push({ order, grant }));
}
function freeWorker(w: ScanWorker): void {
  // a turn later: the scan that just finished a part asks for its next one first, and the worker
  // goes to whichever waiting scan started first
  queueMicrotask(() => {
    w.waiting.sort((a, b) => a.order - b.order);
    const next = w.waiting.shift();
    if (next) next.grant();
    else w.busy = false;
  });
}

interface ScanState {
  cancelled: boolean;
  running: { w: ScanWorker; session: string; partId: string }[];
}

type DumpSource = { kind: 'file'; file: File; debug: File[] } | { kind: 'url'; url: string };
const sources = new Map<string, DumpSource>();
let scanPool: ScanWorker[] | null = null;
/** texts of merged scans kept on a scan worker, by textKey, for textPage() */
const scanTexts = new Map<string, { w: ScanWorker; session: string }>();
/** parts per scan worker: smaller parts balance uneven pages (holes, compressed pages) */
const PARTS_PER_WORKER = 4;
const MAX_SCAN_WORKERS = 4;

/**
 * How many scan workers: one per hardware thread but one (the engine worker keeps one), at
 * least one, at most MAX_SCAN_WORKERS (each holds its own Program: tens of MiB). localStorage
 * `vmcore.scanWorkers` overrides it (measurements of 1 against N).
 */
export function scanWorkerCount(): number {
  let forced = NaN;
  try {
    forced = Number(globalThis.localStorage?.getItem('vmcore.scanWorkers') ?? NaN);
  } catch {
    /* no storage */
  }
  if (Number.isInteger(forced) && forced >= 1) return Math.min(forced, 16);
  const hc = navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(MAX_SCAN_WORKERS, hc - 1));
}

const SCAN_CACHE_BYTES = 64 << 20;

function scanWorkers(): ScanWorker[] {
  if (scanPool) return scanPool;
  scanPool = [];
  for (let i = 0; i < scanWorkerCount(); i++) {
    const name = `vmcore-scan-${i + 1}`;
    const w = new Worker(new URL('../workers/worker.ts', import.meta.url), { type: 'module', name });
    const api = wrap<EngineApi>(w);
    // a scan reads what it scans once: 64 MiB of blocks per scan worker, whatever the medium asks
    // for (a URL asks the engine worker for 128 MiB; one per hardware thread would multiply it)
    void api.limitCache(SCAN_CACHE_BYTES);
    scanPool.push({ name, api, sessions: new Map(), busy: false, waiting: [] });
  }
  return scanPool;
}

function dropScanSessions(session: string): void {
  for (const w of scanPool ?? []) {
    const s = w.sessions.get(session);
    if (!s) continue;
    w.sessions.delete(session);
    void s.then((id) => w.api.close(id)).catch(() => undefined);
  }
}

/** The scan worker's session for a dump, opened there on first use. */
function scanSession(w: ScanWorker, session: string): Promise<string> {
  let p = w.sessions.get(session);
  if (p) return p;
  const src = sources.get(session);
  if (!src) return Promise.reject(new Error(`no open dump ${session}`));
  p = (async () => {
    // the zstd wasm first (fetched as the worker starts): a zstd dump's pages would otherwise go
    // through fzstd, several times slower, until it is in
    await w.api.ready();
    const r = src.kind === 'file' ? await w.api.openFile(src.file, undefined, src.debug) : await w.api.openUrl(src.url);
    if (!r.ok) throw new Error(`${w.name} could not open the dump: ${r.error}`);
    return r.summary.session;
  })();
  p.catch(() => w.sessions.delete(session));
  w.sessions.set(session, p);
  return p;
}

/** split command name -> the words a line of it needs to run in parts ([]: none) */
type SplitNames = Map<string, string[]>;
let splitNames: Promise<SplitNames> | null = null;
/** the names once known: runJob then sends a line to the engine without waiting a turn */
let splitKnown: SplitNames | null = null;
function splitCommandNames(): Promise<SplitNames> {
  splitNames ??= api()
    .commands()
    .then((cs) => (splitKnown = new Map(cs.filter((c) => c.split).flatMap((c) => [c.name, ...c.aliases].map((n) => [n, c.splitOnly ?? []])))));
  return splitNames;
}

/** Whether the line runs in parts, by its words (the engine's CommandInfo.split and splitOnly). */
function splitsBy(names: SplitNames, line: string): boolean {
  const words = line.split('|')[0].trim().split(/\s+/);
  const first = words.find((w) => w !== '--json');
  const only = first !== undefined ? names.get(first) : undefined;
  return only !== undefined && only.every((w) => words.includes(w));
}

/** Whether the line's command runs in parts (asked of the engine once: `CommandInfo.split`). */
async function isSplitLine(line: string): Promise<boolean> {
  return splitsBy(await splitCommandNames(), line);
}

/**
 * Run a split line on the scan workers. null: it does not split here (no parts, or a scan worker
 * could not open the dump): the caller runs it on the engine worker.
 */
async function runScan(
  session: string,
  line: string,
  jobId: string,
  flag: Int32Array | undefined,
  state: ScanState,
  onProgress: ((p: JobProgress) => void) | undefined,
  opts: { json?: boolean; textLines?: number; slabGrid?: boolean },
): Promise<RunResult | null> {
  const t0 = performance.now();
  const order = scanOrder++;
  const workers = scanWorkers();
  let ids: string[];
  try {
    ids = await Promise.all(workers.map((w) => scanSession(w, session)));
  } catch (e) {
    console.warn(`scan workers unavailable, running on the engine worker: ${oneLine(e)}`);
    return null;
  }
  const failed = (error: string, cancelled = false): RunResult => ({ jobId, ok: false, text: '', error, cancelled, ms: Math.round(performance.now() - t0) });
  if (state.cancelled) return failed('cancelled', true);
  const plan = await workers[0].api.planScan(ids[0], line, workers.length * PARTS_PER_WORKER);
  if (!plan.ok) return failed(plan.error);
  if (!plan.parts) return null;
  const parts = plan.parts;
  const results: Uint8Array[] = new Array(parts.length);
  const done = new Array<number>(parts.length).fill(0);
  const totals = new Array<number>(parts.length).fill(0);
  let what = 'parts';
  let lastReport = 0;
  const report = (force = false) => {
    if (!onProgress) return;
    const now = performance.now();
    if (!force && now - lastReport < 250) return; // each report re-renders the status bar and the panel
    lastReport = now;
    const known = totals.filter((t) => t > 0);
    // parts not started yet count as the average of those that have
    const total = known.length ? Math.round((known.reduce((a, b) => a + b, 0) / known.length) * parts.length) : parts.length;
    const d = known.length ? done.reduce((a, b) => a + b, 0) : results.filter(Boolean).length;
    onProgress({ jobId, done: Math.min(d, total), total, what });
  };
  let next = 0;
  let received = 0;
  // the worker that merges keeps itself for the merge when the last part ends there: released, it
  // would go to another scan's part first (the Slabs panel's slabcheck), and the merge would wait
  // for that part (a map of a million objects waited 8.5 s for it)
  let held = false;
  const failure: { v: { error: string; cancelled?: boolean } | null } = { v: null };
  await Promise.all(
    workers.map(async (w, wi) => {
      while (!failure.v && !state.cancelled) {
        const i = next++;
        if (i >= parts.length) return;
        const partId = `${jobId}.${i}`;
        const running = { w, session: ids[wi], partId };
        state.running.push(running);
        const progress = onProgress
          ? proxy((p: JobProgress) => {
              done[i] = p.done;
              totals[i] = p.total;
              what = p.what;
              report();
            })
          : undefined;
        await takeWorker(w, order);
        let out: Awaited<ReturnType<typeof w.api.runPart>>;
        let keep = false;
        try {
          out = await w.api.runPart(ids[wi], line, parts[i], { jobId: partId, cancelFlag: flag }, progress);
          keep = out.ok && w === workers[0] && received + 1 === parts.length && !state.cancelled;
        } finally {
          if (!keep) freeWorker(w);
        }
        held ||= keep;
        state.running.splice(state.running.indexOf(running), 1);
        if (!out.ok) {
          failure.v ??= out;
          if (flag) Atomics.store(flag, 0, 1);
          // the other parts stop too: the line has failed
          for (const r of state.running) void r.w.api.cancel(r.session, r.partId).catch(() => undefined);
          return;
        }
        results[i] = out.part;
        received++;
        done[i] = totals[i] || done[i];
        report(true);
      }
    }),
  );
  if (state.cancelled || failure.v) {
    if (held) freeWorker(workers[0]);
    return state.cancelled ? failed('cancelled', true) : failed(failure.v!.error, failure.v!.cancelled);
  }
  // the merge takes its worker as a part does, ahead of the scans that started later
  if (!held) await takeWorker(workers[0], order);
  let r: RunResult;
  try {
    // the parts' results are bytes the page passes on unread (transferred, not copied)
    r = await workers[0].api.mergeScan(ids[0], line, transfer(results, results.map((b) => b.buffer)), { jobId, json: opts.json, textLines: opts.textLines, slabGrid: opts.slabGrid });
  } finally {
    freeWorker(workers[0]);
  }
  if (r.textKey) scanTexts.set(r.textKey, { w: workers[0], session: ids[0] });
  return { ...r, ms: Math.round(performance.now() - t0) };
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
    const kept = scanTexts.get(key);
    if (kept) return await kept.w.api.textPage(kept.session, key, from, count);
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
