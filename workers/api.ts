/**
 * The comlink facade of the engine: the only thing the UI talks to (through workers/worker.ts).
 * One Session per opened dump; several sessions live in one worker (tabs).
 *
 * Everything that crosses the boundary is structured-clone and JSON friendly: addresses are
 * "0x..." strings, sizes and offsets numbers, errors one-line strings (never a stack trace).
 * Byte arrays are transferred, not copied. Callbacks (progress) come in as comlink proxies.
 *
 * Cancellation: the engine is synchronous, so while a command runs the worker does not read its
 * message queue and a `cancel()` message would only be seen after the command ended. The caller
 * therefore passes a shared flag (an Int32Array over a SharedArrayBuffer, available because the
 * app is cross-origin isolated) that it sets itself; commands poll it via ctx.cancel. `cancel()`
 * here still exists for callers without SharedArrayBuffer and for jobs not started yet.
 */
import { transfer } from 'comlink';
import { openProgram } from './engine';
import type { Program, Unavailable } from './kernel/program';
import { runCommandSafe, listCommands, jsonText, jsonTextLines, CommandError, planSplit, runSplitPart, mergeSplit, type CommandContext, type CommandResult, type PartResult } from './commands/registry';
import { evalAddress } from './commands/expr';
import { Cancelled, DumpError, MemoryError, errorMessage, expectedError } from './errors';
import { BlobSource } from './source/blob';
import { HttpRangeSource } from './source/http';
import { WrappedSource, type ByteSource } from './source/bytesource';
import { classifyPointer, slabSpanAt, type PointerKind } from './analysis/pointers';
import { listModules, moduleBtf } from './kernel/modules';
import { openDebugFile } from './kernel/dwarf/module';
import { kernelAddressLayout, rangeOf, type AddressLayout } from './analysis/layout';
import type { WhatisResult } from './commands/whatis';
import { slabGridOf, type KmemCacheJson, type SlabStatesJson } from './commands/kmem';
import { programDts } from './script/dts';
import { initDisassembler } from './analysis/disasm';
import { pageDecoder } from './format/codecs';

export type { Unavailable } from './kernel/program';
// JSON shapes of commands the UI reads (type-only: nothing of the engine is bundled into the UI)
export type { PsRow } from './commands/ps';
export type { BtTaskJson, BtFrameJson } from './commands/bt';
export type { SysJson } from './commands/sys';
export type { OopsJson, OopsReportJson } from './commands/oops';
export type { KmemSRow, KmemCacheJson, SlabJson, SlabStatesJson, SlabGrid } from './commands/kmem';
export type { DisJson, DisInsnJson } from './commands/dis';
export type { EvalJson } from './commands/expr';
export type { ListJson } from './commands/list';
export type { SlabcheckJson, SlabFinding } from './commands/slabcheck';
export type { WhatisResult as WhatisJson } from './commands/whatis';
export type { StacksJson, StackTaskJson, StackFrameJson, HungJson, HungTaskJson } from './commands/stacks';
export type { OverlayJson } from './commands/overlay';
export type { StructLayoutJson } from './commands/struct';
export type { LogRecordJson } from './commands/log';
export type { FlatMember } from './kernel/btf';
export type { AddressLayout, AddressRange } from './analysis/layout';

/** What the UI shows of an opened dump before running any command. */
export interface DumpSummary {
  session: string;
  /** file name or the URL's last path segment */
  name: string;
  /** where it came from: a dropped/picked file or a same-origin URL */
  source: { kind: 'file' } | { kind: 'url'; url: string };
  /** bytes of the dump file */
  size: number;
  /** elf | kdump | kdump-flat */
  format: string;
  /** none | zlib | lzo | snappy | zstd | mixed */
  compression: string;
  /** what decodes its pages here (pageDecoder: native, wasm or JavaScript); null when stored as is */
  decoder: string | null;
  /** short hex identity of the dump (DESIGN.md "Permalink"): same file, same fingerprint */
  fingerprint: string;
  release?: string;
  buildId?: string;
  /** seconds since the epoch, from VMCOREINFO CRASHTIME or the kdump header */
  crashTime?: number;
  /** problems found while opening that did not stop it */
  warnings: string[];
  /** what the engine cannot provide for this dump, with why and what would help */
  unavailable: Unavailable[];
  /** milliseconds the open took, and bytes fetched to do it */
  openMs: number;
  bytesRead: number;
  /** the second inputs in use (a vmlinux, a System.map), each matched to the dump */
  debugFiles?: Array<{ kind: 'vmlinux' | 'system.map' | 'module'; name: string }>;
}

export type OpenResult = { ok: true; summary: DumpSummary } | { ok: false; error: string };

/** Progress of opening a dump: bytes fetched so far of the file's size (opening reads headers only). */
export interface OpenProgress {
  phase: 'connecting' | 'reading headers' | 'identifying';
  bytesRead: number;
  size: number;
}

/** Progress of a long command: done of total units of `what` (e.g. 120 of 172 slab caches). */
export interface JobProgress {
  jobId: string;
  done: number;
  total: number;
  what: string;
}

/** RunOptions.slabGrid: `kmem -S --states` JSON as a SlabGrid (any other JSON as it is) */
function slabGridJson(j: unknown): unknown {
  const k = j as Partial<KmemCacheJson<SlabStatesJson>> | null;
  const statesForm = (s: SlabStatesJson | null | undefined) => !s || typeof s.states === 'string';
  if (!k || !k.info || !Array.isArray(k.cpus) || !Array.isArray(k.nodes)) return j;
  if (![...k.cpus.map((c) => c.slab), ...(k.untracked ?? [])].every(statesForm)) return j;
  return slabGridOf(k as KmemCacheJson<SlabStatesJson>);
}

/**
 * The command's JSON into the answer as `opts` ask: none with json: false (then a JSON made when
 * read, withLazyJson, is never made: a console line without --json), as a SlabGrid with slabGrid.
 */
function putJson(out: RunResult, r: CommandResult, opts: RunOptions): void {
  if (opts.json === false) return;
  const j = r.json;
  if (j !== undefined) out.json = opts.slabGrid ? slabGridJson(j) : j;
}

export interface RunOptions {
  /** caller-chosen id for cancel(); one is made up when absent */
  jobId?: string;
  /** Int32Array over a SharedArrayBuffer: the caller sets [0] to 1 to cancel */
  cancelFlag?: Int32Array;
  /**
   * false: leave the JSON out of the result (a console line without --json shows text only, and
   * cloning `sym -l`'s 100k JSON rows into the page costs the main thread most of a second)
   */
  json?: boolean;
  /**
   * Send at most this many lines of the text now; the rest stays here and comes in pages with
   * textPage() (the console's "show more"): a 100k-line result never crosses to the page at once.
   */
  textLines?: number;
  /**
   * `kmem -S <cache> --states`: the JSON as the slab map's typed arrays (SlabGrid), which cross to
   * the page in one copy where tens of thousands of slab objects took its main thread
   * hundreds of milliseconds
   */
  slabGrid?: boolean;
}

export interface RunResult {
  jobId: string;
  ok: boolean;
  /** the command's text (crash layout); '' on error */
  text: string;
  /** the command's JSON when it has a JSON shape and `--json` was given (or it always returns one) */
  json?: unknown;
  /** `--json` was on the line: the JSON as text, for the console to show instead of text */
  jsonText?: string;
  /** one-line error message when !ok */
  error?: string;
  /** problems met on the way (damaged memory, broken walks); also in `text` as WARNING lines */
  problems?: string[];
  cancelled?: boolean;
  ms: number;
  /** when the text was cut to RunOptions.textLines: its whole line count, and the key for textPage() */
  totalLines?: number;
  textKey?: string;
  /**
   * lines already sent through run()'s onOutput while the command ran (they are not in `text`,
   * which holds what follows them); textPage() lines are counted from the start of the output
   */
  streamed?: number;
}

/** Lines of a running command's text (run()'s onOutput), in order. */
export interface OutputChunk {
  jobId: string;
  lines: string[];
}

/** A span of the requested range whose bytes could not be read, and why. */
export interface MissingRange {
  start: string;
  end: string; // exclusive
  reason: string;
  kind: string;
}

export interface MemoryBytes {
  address: string;
  length: number;
  /** the bytes; zero where `missing` says the memory could not be read */
  bytes: Uint8Array;
  missing: MissingRange[];
}

/** What an address (or a symbol expression) is, for hover cards and link targets. */
export interface Resolved {
  /** the input as given */
  input: string;
  /** the address it names, "0x..." (absent when it could not be parsed or found) */
  address?: string;
  /** "name+0x1d [module]" of the symbol covering the address */
  symbol?: string;
  module?: string;
  /** `whatis <addr> --json` when that command exists and succeeded */
  whatis?: WhatisResult;
  /** whether one byte at the address can be read */
  readable?: boolean;
  error?: string;
}

export interface CommandInfo {
  name: string;
  aliases: string[];
  summary: string;
  usage: string;
  /** the command runs in parts on the scan workers (search over all memory, slabcheck, kmem -S --full) */
  split: boolean;
  /** words a line of it must have to run in parts (kmem: -S and --full) */
  splitOnly?: string[];
}

export type { PartResult };

/** A split line's parts (scan workers run one each), or why it cannot run. */
export type ScanPlan = { ok: true; parts: unknown[] | null } | { ok: false; error: string };

/**
 * One part's outcome on a scan worker. Its result is UTF-8 JSON (parts are JSON-like), transferred:
 * it passes through the page on its way to the merging worker without being copied or read there
 * (the slabs of a part of a million-object slab map took the page's main thread tens of ms each).
 */
export type PartOutcome = { ok: true; part: Uint8Array } | { ok: false; error: string; cancelled?: boolean };

const partText = new TextEncoder();
const partRead = new TextDecoder();

/** What a kernel-address-looking word in memory points to (the hex view's colours). */
export interface PointerInfo {
  /** byte offset of the 8-byte word from the chunk start */
  off: number;
  value: string;
  /** text: kernel or module code; data: kernel or module data/bss/rodata symbol; slab: a slab
   * object; direct: other direct-map memory; kernel: other mapped kernel memory; bad: looks like
   * a kernel address but cannot be read */
  kind: PointerKind;
  /** "sym+0x1d [mod]" or the slab cache name */
  label?: string;
}

/** A slab page run overlapping a chunk: enough to draw object boundaries and states. */
export interface SlabSpan {
  cache: string;
  /** struct slab address */
  slab: string;
  /** start and end (exclusive) of the slab's memory */
  memory: string;
  end: string;
  /** stride of objects (s->size) and the object size the user asked for (s->object_size) */
  size: number;
  objsize: number;
  redLeftPad: number;
  /** state per object index (slot i starts at memory + i * size) */
  states: ('allocated' | 'free' | 'cpu-free')[];
}

export interface MemoryChunk extends MemoryBytes {
  pointers: PointerInfo[];
  slabs: SlabSpan[];
}

/** The dump file's size against what its headers promise (null: the format cannot tell cheaply). */
export interface FileCheck {
  size: number;
  expected: number | null;
  /** the file ends before the headers that give the whole size: at least `expected` */
  atLeast: boolean;
  truncated: boolean;
}

export interface TypeName {
  /** "sk_buff" (no "struct ") */
  name: string;
  kind: 'struct' | 'union';
  size: number;
  /** vmlinux or the module whose BTF has it */
  source: string;
}

/**
 * What the Script panel's worker (workers/scriptworker.ts) opens: the same input as the session
 * (the dropped File itself, or the same-origin URL) with the session's vmlinux/System.map. Blobs
 * are handles to local files (structured-cloned, never read here): nothing leaves the machine.
 */
export interface ScriptInput {
  dump: { kind: 'file'; file: Blob; name: string } | { kind: 'url'; url: string };
  debug: Blob[];
}

/** Page -> script worker: run the script (its first line is line `firstLine` of the worker's module). */
export interface ScriptStart {
  type: 'start';
  input: ScriptInput;
  args: string[];
  firstLine: number;
}

/** Script worker -> page. */
export type ScriptEvent =
  | { type: 'ready' }
  | { type: 'opened'; ms: number }
  /** print()/console.log lines, in batches as they come */
  | { type: 'print'; lines: string[] }
  /** `result`: what the script returned, as JSON data (bigints as "0x..." strings; KObjects as {address, type}) */
  | { type: 'done'; ok: true; result?: unknown; problems: string[]; ms: number }
  /** `line`/`column`: where in the script (1-based), when the error's stack says */
  | { type: 'done'; ok: false; error: string; line?: number; column?: number; problems: string[]; ms: number };

const MAX_READ = 1 << 20;
const MAX_TYPES = 400;

interface Session {
  id: string;
  prog: Program;
  summary: DumpSummary;
  overlays: Map<string, string>;
  /** type names for the picker and completion (vmlinux + module BTF), built once */
  types?: TypeName[];
  /** how to open the dump again (adding a vmlinux / System.map re-opens it with them) */
  reopen?: { make: () => ByteSource; source: DumpSummary['source']; debug: Blob[]; input: ScriptInput['dump'] };
  /** kernel.d.ts of the dump, made once when the Script panel asks */
  dts?: string;
  /** long command texts kept for textPage(), by job id (the last few) */
  texts: Map<string, KeptText>;
}

/**
 * A long output kept for textPage(): its lines from line `from` on, or (a `--json` line in the
 * console) the result its JSON's lines are made again from.
 */
interface KeptText {
  from: number;
  lines: string[];
  json?: CommandResult;
}

/** Keep an output for textPage(), the last few of a session only. */
function keepText(s: Session, key: string, kept: KeptText): void {
  s.texts.set(key, kept);
  while (s.texts.size > 8) s.texts.delete(s.texts.keys().next().value as string);
}

/** Counts what the engine fetches while opening, for the progress bar. */
class CountingSource extends WrappedSource {
  private last = 0;
  constructor(
    inner: ByteSource,
    private report?: (bytesRead: number) => void,
  ) {
    super(inner);
  }
  read(offset: number, length: number): Uint8Array {
    const r = this.inner.read(offset, length);
    const now = Date.now();
    if (this.report && now - this.last > 100) {
      this.last = now;
      this.report(this.inner.stats.bytesRead);
    }
    return r;
  }
  stopReporting(): void {
    this.report = undefined;
  }
}

/** 64-bit FNV-1a over byte chunks, as 16 hex digits (sync: no crypto.subtle needed, works off secure contexts). */
function fnv1a64(chunks: Uint8Array[]): string {
  let h = 0xcbf29ce484222325n;
  const P = 0x100000001b3n;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) {
      h ^= BigInt(c[i]);
      h = BigInt.asUintN(64, h * P);
    }
  }
  return h.toString(16).padStart(16, '0');
}

/**
 * The dump's identity (DESIGN.md): its size, VMCOREINFO BUILD-ID (or the release when there is
 * none), the crash time, and the first header bytes, hashed to 8 hex digits. The same file
 * opened from disk or from a URL gets the same fingerprint; a different dump of the same kernel
 * differs by crash time, size and header.
 */
export function fingerprintOf(prog: Program): string {
  const enc = new TextEncoder();
  const info = prog.info;
  const crash = info.crashTime ?? prog.phys.header.timestamp ?? '';
  const ident = `${prog.src.size}|${info.buildId ?? info.osrelease ?? ''}|${crash}`;
  const head = prog.src.read(0, Math.min(512, prog.src.size));
  return fnv1a64([enc.encode(ident), head]).slice(0, 8);
}

function hex(a: bigint): string {
  return '0x' + BigInt.asUintN(64, a).toString(16);
}

/** An address or symbol expression (commands/expr.ts's evalAddress, the one address parser), or null. */
function parseAddress(prog: Program, s: string): bigint | null {
  try {
    return evalAddress(prog, s);
  } catch (e) {
    if (e instanceof CommandError) return null;
    throw e;
  }
}

function oneLine(e: unknown): string {
  if (e instanceof DumpError || e instanceof MemoryError) return e.message;
  return `internal error: ${errorMessage(e)}`;
}

/** What a worker loads at start-up besides the disassembler (the zstd wasm: workers/worker.ts); warm() waits for it too. */
const warmups: Promise<unknown>[] = [];
export function warmAlso(p: Promise<unknown>): void {
  warmups.push(p.catch(() => undefined));
}

export class EngineApi {
  private sessions = new Map<string, Session>();
  private nextSession = 1;
  private nextJob = 1;
  private cancelled = new Set<string>();
  /** the most a dump's block cache may hold here (ByteSource.cacheBytes), when limited */
  private maxCacheBytes?: number;

  /**
   * Limit the block cache of every dump opened here from now on to `bytes` (a scan worker: it
   * reads what it scans once, and there are as many of them as hardware threads, so a URL's
   * larger cache on each would multiply; the engine worker keeps what the medium asks for).
   */
  limitCache(bytes: number): void {
    this.maxCacheBytes = bytes > 0 ? bytes : undefined;
  }

  /** A dropped or picked file (read with FileReaderSync: the file is never copied into memory). */
  openFile(file: File, onProgress?: (p: OpenProgress) => void, debugFiles: File[] = []): OpenResult {
    return this.open(() => new BlobSource(file, file.name), { kind: 'file' }, { kind: 'file', file, name: file.name }, onProgress, debugFiles);
  }

  /**
   * Add a vmlinux or System.map (dropped next to a dump or into its open tab) to an open dump:
   * it is matched to the dump (build id / linux_banner) and refused with a one-line reason when
   * it belongs to another kernel build; when accepted the dump is opened again with it and the
   * session keeps its id (views and caches of the old one are dropped). Read by slices
   * (FileReaderSync), never whole.
   */
  addFiles(session: string, files: File[]): OpenResult {
    const s = this.sessions.get(session);
    if (!s?.reopen) return { ok: false, error: `no open dump ${session}` };
    const r = this.open(s.reopen.make, s.reopen.source, s.reopen.input, undefined, [...s.reopen.debug, ...files], session);
    return r;
  }

  /**
   * A same-origin URL read with HTTP Range (the app's CSP allows connections to its own origin
   * only; see vite.config.ts). The caller passes an absolute URL.
   */
  openUrl(url: string, onProgress?: (p: OpenProgress) => void): OpenResult {
    if (!URL.canParse(url, self.location.href)) return { ok: false, error: `${url}: not a URL` };
    const abs = new URL(url, self.location.href);
    if (abs.origin !== self.location.origin) {
      return {
        ok: false,
        error: `${abs.href}: dumps are read from this app's own origin only (${self.location.origin}); serve the dump from it (or proxy it there) or drop the file on the page`,
      };
    }
    onProgress?.({ phase: 'connecting', bytesRead: 0, size: 0 });
    return this.open(() => new HttpRangeSource(abs.href), { kind: 'url', url: abs.pathname + abs.search }, { kind: 'url', url: abs.href }, onProgress);
  }

  private open(
    make: () => ByteSource,
    source: DumpSummary['source'],
    /** what a script worker opens (scriptInput) */
    input: ScriptInput['dump'],
    onProgress?: (p: OpenProgress) => void,
    debugFiles: Blob[] = [],
    replace?: string,
  ): OpenResult {
    const t0 = performance.now();
    let counting: CountingSource | undefined;
    try {
      const raw = make();
      const size = raw.size;
      counting = new CountingSource(raw, (bytesRead) =>
        onProgress?.({ phase: 'reading headers', bytesRead, size }),
      );
      onProgress?.({ phase: 'reading headers', bytesRead: 0, size });
      const debug = debugFiles.map((f) => openDebugFile(new BlobSource(f, (f as File).name)));
      const prog = openProgram(counting, { debug, maxCacheBytes: this.maxCacheBytes });
      onProgress?.({ phase: 'identifying', bytesRead: raw.stats.bytesRead, size });
      const fingerprint = fingerprintOf(prog);
      counting.stopReporting();
      const id = replace ?? `s${this.nextSession++}`;
      const summary: DumpSummary = {
        session: id,
        name: raw.name,
        source,
        size,
        format: prog.phys.format,
        compression: prog.phys.compression,
        decoder: pageDecoder(prog.phys.compression),
        fingerprint,
        release: prog.info.osrelease,
        buildId: prog.info.buildId,
        crashTime: prog.info.crashTime ?? prog.phys.header.timestamp,
        warnings: [...prog.phys.warnings],
        unavailable: [...prog.unavailable],
        openMs: Math.round(performance.now() - t0),
        bytesRead: raw.stats.bytesRead,
        debugFiles: prog.debug.map((d) => ({ kind: d.kind, name: d.name })),
      };
      this.sessions.set(id, {
        id,
        prog,
        summary,
        overlays: new Map(),
        reopen: { make, source, debug: debugFiles, input },
        texts: new Map(),
      });
      return { ok: true, summary };
    } catch (e) {
      counting?.stopReporting();
      return { ok: false, error: oneLine(e) };
    }
  }

  /** The summary again, with what became unavailable since (lazy parts fail on first use). */
  summary(session: string): DumpSummary {
    const s = this.get(session);
    return { ...s.summary, unavailable: [...s.prog.unavailable], warnings: [...s.prog.phys.warnings] };
  }

  /** What the Script panel's worker opens to run a script on this dump (ScriptInput). */
  scriptInput(session: string): ScriptInput {
    const s = this.get(session);
    if (!s.reopen) throw new DumpError(`dump ${session} cannot be opened again for a script`);
    return { dump: s.reopen.input, debug: [...s.reopen.debug] };
  }

  /** The dump's kernel.d.ts (workers/script/dts.ts): TypeScript declarations of its BTF, for the Script editor. */
  dts(session: string): string {
    const s = this.get(session);
    s.dts ??= programDts(s.prog);
    return s.dts;
  }

  close(session: string): void {
    this.sessions.delete(session);
  }

  /**
   * Run one console command line (crash language). Never throws. `onProgress` is a separate
   * argument because comlink proxies only top-level arguments.
   */
  run(session: string, line: string, opts: RunOptions = {}, onProgress?: (p: JobProgress) => void, onOutput?: (c: OutputChunk) => void): RunResult {
    const jobId = opts.jobId ?? `j${this.nextJob++}`;
    const t0 = performance.now();
    const s = this.sessions.get(session);
    if (!s) return { jobId, ok: false, text: '', error: `no open dump ${session} (it was closed)`, ms: 0 };
    if (this.cancelled.delete(jobId)) return { jobId, ok: false, text: '', error: 'cancelled', cancelled: true, ms: 0 };
    const ctx = this.context(s, jobId, opts.cancelFlag, onProgress);
    // streaming (the console): lines go out while the command runs, the first `textLines` of
    // them; the rest stays here for textPage (each line is kept once, on one side)
    const cap = opts.textLines ?? Number.MAX_SAFE_INTEGER;
    let sent = 0;
    let kept: string[] = [];
    let pending: string[] = [];
    let lastSend = 0;
    const send = (force: boolean) => {
      if (!onOutput || !pending.length) return;
      const t = performance.now();
      if (!force && t - lastSend < 50 && pending.length < 2000) return;
      lastSend = t;
      void onOutput({ jobId, lines: pending });
      pending = [];
    };
    const take = (chunk: string) => {
      const lines = chunk.replace(/\n$/, '').split('\n');
      for (const l of lines) {
        if (sent < cap) {
          pending.push(l);
          sent++;
        } else kept.push(l);
      }
      send(false);
    };
    if (onOutput) ctx.emit = take;
    // every command's JSON comes back unless opts.json is false; `--json` on the line (handled by
    // the registry) makes its JSON the text to show (putText)
    const r = runCommandSafe(ctx, line);
    this.cancelled.delete(jobId);
    const ms = Math.round(performance.now() - t0);
    if (r.ok && onOutput && (sent > 0 || kept.length > 0)) {
      // a streamed command: its remaining text (and WARNING lines) follow the streamed lines
      if (r.result.text) take(r.result.text);
      send(true);
      const out: RunResult = { jobId, ok: true, text: '', ms, streamed: sent };
      if (kept.length) {
        out.totalLines = sent + kept.length;
        out.textKey = jobId;
        keepText(s, jobId, { from: sent, lines: kept });
        kept = [];
      }
      return this.answer(s, out, r.result, opts, true);
    }
    send(true);
    if (r.ok) {
      return this.answer(s, { jobId, ok: true, text: r.result.text, ms, ...(sent ? { streamed: sent } : {}) }, r.result, opts);
    }
    return { jobId, ok: false, text: '', error: r.error, cancelled: r.error === 'cancelled', ms };
  }

  /** What a command sees: the dump, the cancel flag (shared or by job id), throttled progress. */
  private context(s: Session, jobId: string, flag: Int32Array | undefined, onProgress?: (p: JobProgress) => void): CommandContext {
    const cancelledSet = this.cancelled;
    const cancel = {
      get cancelled(): boolean {
        return (flag !== undefined && Atomics.load(flag, 0) !== 0) || cancelledSet.has(jobId);
      },
      set cancelled(v: boolean) {
        if (v) cancelledSet.add(jobId);
      },
    };
    let last = 0;
    return {
      prog: s.prog,
      cancel,
      overlays: s.overlays,
      progress: onProgress
        ? (done, total, what) => {
            const now = performance.now();
            if (now - last < 100 && done < total) return;
            last = now;
            void onProgress({ jobId, done, total, what });
          }
        : undefined,
    };
  }

  /**
   * The parts of a split command line (search over all memory, slabcheck), about `want` of them,
   * for the scan workers; parts: null when the line does not split (run it with run()). Never throws.
   */
  planScan(session: string, line: string, want: number): ScanPlan {
    const s = this.sessions.get(session);
    if (!s) return { ok: false, error: `no open dump ${session} (it was closed)` };
    return this.guard(() => ({ ok: true as const, parts: planSplit({ prog: s.prog, overlays: s.overlays }, line, want) }));
  }

  /** One part of a split line (on a scan worker: its own Program on the same file). Never throws. */
  runPart(session: string, line: string, part: unknown, opts: RunOptions = {}, onProgress?: (p: JobProgress) => void): PartOutcome {
    const s = this.sessions.get(session);
    if (!s) return { ok: false, error: `no open dump ${session} (it was closed)` };
    const jobId = opts.jobId ?? `j${this.nextJob++}`;
    if (this.cancelled.delete(jobId)) return { ok: false, error: 'cancelled', cancelled: true };
    const ctx = this.context(s, jobId, opts.cancelFlag, onProgress);
    const r = this.guard(() => ({ ok: true as const, part: partText.encode(JSON.stringify(runSplitPart(ctx, line, part))) }));
    this.cancelled.delete(jobId);
    return r.ok ? transfer(r, [r.part.buffer]) : r;
  }

  /**
   * The answer of a split line from its parts' results, in plan order, as run() gives it for the
   * whole line without streaming (text kept for textPage() here when cut to textLines).
   */
  mergeScan(session: string, line: string, packed: Array<Uint8Array | PartResult>, opts: RunOptions = {}): RunResult {
    const jobId = opts.jobId ?? `j${this.nextJob++}`;
    const t0 = performance.now();
    const s = this.sessions.get(session);
    if (!s) return { jobId, ok: false, text: '', error: `no open dump ${session} (it was closed)`, ms: 0 };
    const parts = packed.map((p): PartResult => (p instanceof Uint8Array ? JSON.parse(partRead.decode(p)) : p));
    const r = this.guard(() => ({ ok: true as const, result: mergeSplit({ prog: s.prog, overlays: s.overlays }, line, parts) }));
    const ms = Math.round(performance.now() - t0);
    if (!r.ok) return { jobId, ok: false, text: '', error: r.error, cancelled: r.cancelled, ms };
    return this.answer(s, { jobId, ok: true, text: r.result.text, ms }, r.result, opts);
  }

  /** Errors of the engine as {ok: false, error} (command errors, damaged dumps, cancel). */
  private guard<T extends { ok: true }>(fn: () => T): T | { ok: false; error: string; cancelled?: boolean } {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Cancelled) return { ok: false, error: 'cancelled', cancelled: true };
      if (e instanceof CommandError || e instanceof DumpError || e instanceof MemoryError) return { ok: false, error: e.message };
      return { ok: false, error: `internal error: ${errorMessage(e)}` };
    }
  }

  /**
   * A finished command's answer: its text (putText; not when it was streamed already), its JSON as
   * `opts` ask (putJson), its problems.
   */
  private answer(s: Session, out: RunResult, r: CommandResult, opts: RunOptions, textSent = false): RunResult {
    if (!textSent) this.putText(s, out, r, opts);
    putJson(out, r, opts);
    if (r.problems?.length) out.problems = r.problems;
    return out;
  }

  /**
   * A finished command's text into its answer, cut to RunOptions.textLines. A line with `--json`
   * also has the JSON as text (jsonText); with textLines (the console) that JSON is the text, its
   * first lines sent and the rest made again from the result for textPage(): the JSON of a cache
   * of a million objects is never one string, here or in the page.
   */
  private putText(s: Session, out: RunResult, r: CommandResult, opts: RunOptions): void {
    if (r.asJson && opts.textLines !== undefined) {
      const { lines, total } = jsonTextLines(r, 0, opts.textLines, true);
      out.text = lines.length ? lines.join('\n') + '\n' : '';
      if (total !== null && total > lines.length) {
        out.totalLines = total;
        out.textKey = out.jobId;
        keepText(s, out.jobId, { from: 0, lines: [], json: r });
      }
      return;
    }
    if (opts.textLines !== undefined) this.cutText(s, out, opts.textLines);
    if (r.asJson) out.jsonText = jsonText(r);
  }

  /** Keep a long text here and send its first `n` lines (the rest by textPage). */
  private cutText(s: Session, out: RunResult, n: number): void {
    let pos = -1;
    let count = 0;
    const t = out.text;
    while (count < n && (pos = t.indexOf('\n', pos + 1)) >= 0) count++;
    if (pos < 0 || pos >= t.length - 1) return; // it fits
    const lines = t.replace(/\n$/, '').split('\n');
    out.totalLines = lines.length;
    out.textKey = out.jobId;
    out.text = t.slice(0, pos + 1);
    keepText(s, out.jobId, { from: 0, lines });
  }

  /** Lines [from, from + count) of a text kept by a run with textLines (the console's "show more"). */
  textPage(session: string, key: string, from: number, count: number): string[] {
    const kept = this.get(session).texts.get(key);
    if (!kept) throw new Error('that output is no longer kept: run the command again');
    if (kept.json) return jsonTextLines(kept.json, Math.max(0, from), Math.max(0, Math.min(count, 200_000))).lines;
    const i = Math.max(0, from - kept.from);
    return kept.lines.slice(i, i + Math.max(0, Math.min(count, 200_000)));
  }

  /** Ask a job to stop (seen by the job only if it has not started yet or between commands). */
  cancel(_session: string, jobId: string): void {
    this.cancelled.add(jobId);
  }

  /**
   * Bytes of kernel virtual memory for the hex view. Never throws for unreadable memory: those
   * spans come back in `missing` with the reason (page not in dump, not mapped, ...).
   */
  readMemory(session: string, address: string, length: number): MemoryBytes {
    const s = this.get(session);
    const start = parseAddress(s.prog, address);
    if (start === null) throw new Error(`${address}: not an address`);
    const len = Math.max(0, Math.min(MAX_READ, Math.floor(length)));
    const bytes = new Uint8Array(len);
    const missing: MissingRange[] = [];
    let pos = 0;
    while (pos < len) {
      const cur = BigInt.asUintN(64, start + BigInt(pos));
      const n = Math.min(len - pos, 4096 - Number(cur & 0xfffn));
      try {
        bytes.set(s.prog.mem.read(cur, n), pos);
      } catch (e) {
        const kind = e instanceof MemoryError ? e.kind : 'error';
        const reason = e instanceof MemoryError ? e.message : oneLine(e);
        const prev = missing[missing.length - 1];
        if (prev && prev.kind === kind && prev.end === hex(cur)) prev.end = hex(cur + BigInt(n));
        else missing.push({ start: hex(cur), end: hex(cur + BigInt(n)), reason, kind });
      }
      pos += n;
    }
    return transfer({ address: hex(start), length: len, bytes, missing }, [bytes.buffer]);
  }

  /**
   * What an address or symbol expression is: "0xffff...", "ffff...", "name", "name+0x1d",
   * "name+0x1d/0x170", "module:name". Never throws.
   */
  resolve(session: string, input: string): Resolved {
    const out: Resolved = { input };
    const s = this.sessions.get(session);
    if (!s) return { ...out, error: `no open dump ${session}` };
    try {
      let addr = parseAddress(s.prog, input);
      if (addr === null) {
        // "name+0x1d/0x170 [module]" and "module:name" as backtraces and sym print them
        const m = /^\s*([\w.$:-]+?)(?:\+(0x[0-9a-f]+|\d+))?(?:\/(?:0x[0-9a-f]+|\d+))?\s*(?:\[[\w-]+\])?\s*$/i.exec(input);
        if (!m) return { ...out, error: `${input}: not an address or symbol` };
        const base = s.prog.anySymbolAddress(m[1]);
        if (base === undefined) return { ...out, error: `${m[1]}: no such symbol` };
        addr = base + (m[2] ? BigInt(m[2]) : 0n);
      }
      out.address = hex(addr);
      const hit = s.prog.symbols.lookup(addr);
      if (hit) {
        out.symbol = `${hit.sym.name}${hit.offset ? `+0x${hit.offset.toString(16)}` : ''}`;
        if (hit.sym.module) out.module = hit.sym.module;
      }
      out.readable = s.prog.mem.readable(addr);
      const w = runCommandSafe({ prog: s.prog, overlays: s.overlays }, `whatis ${out.address} --json`);
      // the registry's results are untyped; whatis's JSON is its WhatisResult (commands/whatis.ts)
      if (w.ok && w.result.json !== undefined) out.whatis = w.result.json as WhatisResult;
      return out;
    } catch (e) {
      return { ...out, error: oneLine(e) };
    }
  }

  /**
   * Resolves once this worker has loaded (its module parsed) and the disassembler's wasm is in:
   * the app asks at page load, so neither is paid after the user picks a dump (the first
   * command would otherwise wait behind them). true when the disassembler loaded.
   */
  async warm(): Promise<boolean> {
    await this.ready();
    try {
      await initDisassembler();
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once what the worker loads at start-up (the zstd wasm) is in: scan workers wait for it before opening a dump. */
  async ready(): Promise<void> {
    await Promise.all(warmups);
  }

  /** The commands this engine build has (the console's help and completion). */
  commands(): CommandInfo[] {
    return listCommands().map((c) => ({ name: c.name, aliases: c.aliases ?? [], summary: c.summary, usage: c.usage, split: !!c.split, ...(c.split?.only ? { splitOnly: c.split.only } : {}) }));
  }

  /**
   * Struct overlays the user chose (whatis names members through them). The key is the object
   * address as "0x..." lowercase (whatis also accepts bare and zero-padded hex); a composite
   * layout is "struct request + PDU (driver command)".
   */
  setOverlay(session: string, address: string, type: string | null): void {
    const s = this.get(session);
    const a = parseAddress(s.prog, address);
    const key = a === null ? address : hex(a);
    if (type) s.overlays.set(key, type);
    else s.overlays.delete(key);
  }

  /** The overlays set on this session, address -> type. */
  overlays(session: string): Record<string, string> {
    return Object.fromEntries(this.get(session).overlays);
  }

  /**
   * Struct and union names from the kernel's BTF and the modules' BTF, for the type picker and
   * completion: names starting with `query` first, then names containing it; at most `limit`.
   */
  types(session: string, query: string, limit = 100): TypeName[] {
    const s = this.get(session);
    if (!s.types) {
      const out: TypeName[] = [];
      const seen = new Set<string>();
      if (s.prog.hasBtf) {
        for (const t of s.prog.btf.structs()) {
          const k = t.kind + ' ' + t.name;
          if (seen.has(k)) continue;
          seen.add(k);
          out.push({ name: t.name, kind: t.kind, size: t.size, source: 'vmlinux' });
        }
        try {
          for (const m of listModules(s.prog)) {
            const b = moduleBtf(s.prog, m.name);
            if (!b) continue;
            for (const t of b.structs()) {
              const k = t.kind + ' ' + t.name;
              if (seen.has(k)) continue;
              seen.add(k);
              out.push({ name: t.name, kind: t.kind, size: t.size, source: m.name });
            }
          }
        } catch (e) {
          expectedError(e);
          /* module BTF is a bonus */
        }
      }
      out.sort((a, b) => a.name.localeCompare(b.name));
      s.types = out;
    }
    const q = query.trim().replace(/^(struct|union)\s+/, '').toLowerCase();
    const n = Math.max(1, Math.min(MAX_TYPES, limit));
    if (!q) return s.types.slice(0, n);
    const pre: TypeName[] = [];
    const sub: TypeName[] = [];
    for (const t of s.types) {
      const l = t.name.toLowerCase();
      if (l === q) pre.unshift(t);
      else if (l.startsWith(q)) pre.push(t);
      else if (sub.length < n && l.includes(q)) sub.push(t);
      if (pre.length >= n) break;
    }
    return [...pre, ...sub].slice(0, n);
  }

  /**
   * The kernel's address ranges on this dump (direct map, vmalloc, vmemmap, text, modules; 4- or
   * 5-level): the UI links a number only when it falls in one. Asked after open, not during it.
   */
  layout(session: string): AddressLayout {
    return kernelAddressLayout(this.get(session).prog);
  }

  /**
   * Whether the file is whole: its size and the size its headers promise. A truncated copy is
   * the first thing the summary says ("truncated at N of M bytes"); asked after open (kdump reads
   * its page bitmap for it).
   */
  fileCheck(session: string): FileCheck {
    const s = this.get(session);
    const size = s.prog.src.size;
    let e: { bytes: number; atLeast: boolean } | null = null;
    try {
      e = s.prog.phys.expectedSize?.() ?? null;
    } catch (err) {
      expectedError(err);
      e = null;
    }
    return { size, expected: e?.bytes ?? null, atLeast: e?.atLeast ?? false, truncated: e !== null && e.bytes > size };
  }

  /** Symbol names starting with `prefix` (console completion), at most `limit`. */
  symbols(session: string, prefix: string, limit = 50): string[] {
    const s = this.get(session);
    if (!prefix) return [];
    try {
      return s.prog.symbols.complete(prefix, Math.max(1, Math.min(500, limit)));
    } catch (e) {
      expectedError(e);
      return [];
    }
  }

  /**
   * Bytes for the hex view plus what it colours: every aligned 8-byte word that looks like a
   * kernel address, classified (text, data, slab, direct map, unreadable), and the slabs the
   * range overlaps (object stride and per-object state, for boundaries). One call per page.
   */
  readChunk(session: string, address: string, length: number): MemoryChunk {
    const s = this.get(session);
    const m = this.readMemory(session, address, Math.min(length, 64 * 1024));
    const start = BigInt(m.address);
    const pointers: PointerInfo[] = [];
    const slabs: SlabSpan[] = [];
    const missingAt = (o: number) => {
      const a = start + BigInt(o);
      return m.missing.some((x) => a >= BigInt(x.start) && a < BigInt(x.end));
    };
    const dv = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    const first = Number((8n - (start & 7n)) & 7n);
    // instruction bytes are no pointers: kernel and module text gets no pointer colours
    let isText = false;
    try {
      const hit = s.prog.symbols.lookup(start);
      isText = !!hit && /^[tTwW]$/.test(hit.sym.type);
    } catch (e) {
      expectedError(e);
      isText = false;
    }
    let layout: AddressLayout | null = null;
    try {
      layout = kernelAddressLayout(s.prog);
    } catch (e) {
      expectedError(e);
      layout = null;
    }
    for (let o = first; !isText && o + 8 <= m.length; o += 8) {
      const v = dv.getBigUint64(o, true);
      // a pointer is a value in one of the dump's kernel ranges (not a 0xffff prefix: 5-level
      // kernels use 0xff11..., and -ENOSYS is 0xffffffffffffffda)
      if (layout ? rangeOf(layout, v) === null : !s.prog.arch.isKernelAddress(v) || v >= 0xfffffffffffff000n) continue;
      if (missingAt(o)) continue;
      pointers.push({ off: o, value: hex(v), ...classifyPointer(s.prog, v) });
    }
    // slab spans
    const end = start + BigInt(m.length);
    let a = start & ~0xfffn;
    let guard = 0;
    while (a < end && guard++ < 32) {
      let next = a + 0x1000n;
      try {
        const sp = slabSpanAt(s.prog, a);
        const span: SlabSpan | null = sp && { ...sp, slab: hex(sp.slab), memory: hex(sp.memory), end: hex(sp.end) };
        if (span) {
          slabs.push(span);
          next = BigInt(span.end) > a ? (BigInt(span.end) + 0xfffn) & ~0xfffn : next;
        }
      } catch (e) {
        if (!(e instanceof MemoryError || e instanceof DumpError)) throw e; // not a slab
      }
      a = next;
    }
    return transfer({ ...m, pointers, slabs }, [m.bytes.buffer]);
  }

  private get(session: string): Session {
    const s = this.sessions.get(session);
    if (!s) throw new Error(`no open dump ${session} (it was closed)`);
    return s;
  }
}
