/**
 * The UI's state: opened dumps (tabs), the view of each, command results cached per dump,
 * running jobs, opening progress and errors. The URL mirrors the active tab's view
 * (app/store/url.ts); panels read and navigate through this store only.
 */
import { create } from 'zustand';
import * as engine from '../engine';
import { disposeKeptEditors } from '../keptEditors';
import type { AddressLayout, DumpSummary, JobProgress, OutputChunk, OpenProgress, OpenResult, RunResult } from '../engine';
import { DEFAULT_VIEW, type Permalink, type View } from '../permalink';

export interface CmdState {
  line: string;
  jobId: string;
  status: 'running' | 'done';
  result?: RunResult;
  startedAt: number;
}

export interface Tab {
  session: string;
  summary: DumpSummary;
  view: View;
  /** results of commands run for panels, by command line */
  commands: Record<string, CmdState>;
  /** the console's transcript */
  console: ConsoleEntry[];
  /** results pinned beside the panels */
  pins: Pin[];
  /** the dump's kernel address ranges (arrives just after open): which numbers are pointers */
  layout?: AddressLayout | null;
}

export interface Pin {
  id: number;
  line: string;
  text: string;
}

export interface ConsoleEntry {
  id: number;
  line: string;
  result?: RunResult;
  /** lines the command streamed while it ran (result.streamed of them), in arrival order */
  stream?: string[][];
  /** further pages of a long output (result.totalLines), fetched by "show more" */
  more?: string[][];
  moreError?: string;
}

export interface Opening {
  id: number;
  label: string;
  progress?: OpenProgress;
  startedAt: number;
}

export interface AppError {
  id: number;
  /** what the user tried ("open vmcore.x") */
  context: string;
  /** the engine's one-line message */
  message: string;
}

export interface RunningJob {
  jobId: string;
  session: string;
  line: string;
  startedAt: number;
  progress?: JobProgress;
  cancel(): void;
}

export interface AppState {
  tabs: Tab[];
  /** the session shown, or null for the open page */
  active: string | null;
  opening: Opening[];
  errors: AppError[];
  /** a permalink whose dump is not open yet: applied when a dump with that fingerprint opens */
  wanted: Permalink | null;
  /** one-line notices (e.g. "the link was for another dump") */
  notice: string | null;
  jobs: Record<string, RunningJob>;
  /** set by navigate(): whether the next URL update replaces the history entry */
  replaceUrl: boolean;

  openFile(file: File): Promise<void>;
  /**
   * Dropped or picked files: dumps open in tabs, each with the vmlinux / System.map dropped beside
   * it; a vmlinux / System.map alone is added to the dump of the active tab.
   */
  openFiles(files: File[]): Promise<void>;
  openUrl(url: string): Promise<void>;
  closeTab(session: string): void;
  activate(session: string | null): void;
  navigate(view: View, opts?: { replace?: boolean }): void;
  /** change some params of the active view (search text, selected line), replacing history */
  setParams(params: Record<string, string | undefined>): void;
  /** run a command for a panel once per dump; the result stays cached */
  ensureCommand(session: string, line: string): void;
  /** run again, dropping the cached result */
  rerun(session: string, line: string): Promise<RunResult>;
  /**
   * The result of `line` on this dump from the one cache of engine results in the UI (the tab's
   * `commands`): run once, shared by panels, the hex view's helpers, completion and walkthroughs.
   * A failed result is not kept (the next call runs it again).
   */
  cached(session: string, line: string): Promise<RunResult>;
  /** run a command that is not cached; resolves with the result */
  runCommand(session: string, line: string): Promise<RunResult>;
  /** run a console line and append it to the tab's transcript */
  consoleRun(session: string, line: string): Promise<void>;
  consoleClear(session: string): void;
  /** fetch `count` more lines of a long console output from the engine */
  consoleMore(session: string, id: number, count: number): Promise<void>;
  pin(session: string, line: string, text: string): void;
  unpin(session: string, id: number): void;
  applyPermalink(p: Permalink | null): void;
  dismissError(id: number): void;
  setNotice(n: string | null): void;
  reportError(context: string, message: string): void;
}

let nextId = 1;

/** The summary's first request (its headline: the oops as logged); the store sends it on open. */
export const SUMMARY_HEADLINE = 'oops -n --json';

/** Lines console commands streamed so far, by console entry id, while they run (ConsolePanel reads them on useLiveTick). */
export const liveLines = new Map<number, string[][]>();
export const useLiveTick = create<{ tick: number }>()(() => ({ tick: 0 }));
/** lines of a console output sent at once; the rest comes with "show more" (engine textPage) */
export const CONSOLE_FIRST_LINES = 2000;
/** results of commands still running, by session + line (so callers of cached() share one run) */
const inflight = new Map<string, Promise<RunResult>>();

export const useApp = create<AppState>()((set, get) => {
  /** Change one tab; `extra` goes into the same update (the URL sync sees both at once). */
  function updateTab(session: string, f: (t: Tab) => Tab, extra: Partial<AppState> = {}): void {
    set((s) => {
      let changed = false;
      const tabs = s.tabs.map((t) => {
        if (t.session !== session) return t;
        const n = f(t);
        if (n !== t) changed = true;
        return n;
      });
      // an update that changes no tab leaves `tabs` as it was (no panel re-renders for nothing)
      return changed ? { ...extra, tabs } : extra;
    });
  }

  async function doOpen(label: string, run: (p: (p: OpenProgress) => void) => Promise<OpenResult>): Promise<void> {
    const id = nextId++;
    set((s) => ({ opening: [...s.opening, { id, label, startedAt: Date.now() }] }));
    const onProgress = (p: OpenProgress) =>
      set((s) => ({ opening: s.opening.map((o) => (o.id === id ? { ...o, progress: p } : o)) }));
    const r = await run(onProgress);
    set((s) => ({ opening: s.opening.filter((o) => o.id !== id) }));
    if (!r.ok) {
      get().reportError('cannot open', r.error);
      return;
    }
    const summary = r.summary;
    const existing = get().tabs.find((t) => t.summary.fingerprint === summary.fingerprint);
    if (existing) {
      // the same dump twice: keep one tab
      void engine.closeSession(summary.session);
      get().activate(existing.session);
      return;
    }
    const wanted = get().wanted;
    let view = DEFAULT_VIEW;
    let notice: string | null = null;
    if (wanted) {
      if (wanted.fingerprint === summary.fingerprint) view = wanted.view;
      else
        notice = `The link was for dump ${wanted.fingerprint}; ${summary.name} is ${summary.fingerprint}, a different dump. Showing its summary.`;
    }
    set((s) => ({
      tabs: [...s.tabs, { session: summary.session, summary, view, commands: {}, console: [], pins: [] }],
      active: summary.session,
      wanted: null,
      notice,
      replaceUrl: wanted !== null,
    }));
    // the summary's headline is asked for now, before React renders the new tab: the engine
    // answers it while the page paints (the panel's own request then finds it running)
    if (view.panel === DEFAULT_VIEW.panel) get().ensureCommand(summary.session, SUMMARY_HEADLINE);
    // the address layout (which numbers are links) after the first view's commands: the engine
    // runs one request at a time, and the summary's headline must not wait behind it
    setTimeout(() => {
      void engine.addressLayout(summary.session).then((layout) => updateTab(summary.session, (t) => ({ ...t, layout })));
    }, 50);
  }

  function startCommand(session: string, line: string, opts: { json?: boolean; textLines?: number; onOutput?: (c: OutputChunk) => void } = {}): engine.Job {
    // progress lives on the running job only (read through `jobs` by the status bar, the console
    // and CommandGate): putting it on the tab would give every panel a new `tab` per report and
    // re-render the open panel (hex view, transcript) several times a second while a scan runs
    const job = engine.runJob(session, line, (p) => {
      set((s) => (s.jobs[p.jobId] ? { jobs: { ...s.jobs, [p.jobId]: { ...s.jobs[p.jobId], progress: p } } } : s));
    }, opts);
    set((s) => ({
      jobs: { ...s.jobs, [job.jobId]: { jobId: job.jobId, session, line, startedAt: Date.now(), cancel: job.cancel } },
    }));
    void job.result.then(() =>
      set((s) => {
        const jobs = { ...s.jobs };
        delete jobs[job.jobId];
        return { jobs };
      }),
    );
    return job;
  }

  return {
    tabs: [],
    active: null,
    opening: [],
    errors: [],
    wanted: null,
    notice: null,
    jobs: {},
    replaceUrl: false,

    openFile: (file) => doOpen(file.name, (p) => engine.openFile(file, p)),
    async openFiles(files) {
      const debug = files.filter((f) => engine.isDebugFileName(f.name));
      const dumps = files.filter((f) => !engine.isDebugFileName(f.name));
      if (dumps.length) {
        await Promise.all(dumps.map((f) => doOpen(f.name, (p) => engine.openFile(f, p, debug))));
        return;
      }
      const a = get().active;
      if (!a || !debug.length) {
        if (debug.length) get().reportError('cannot open', `${debug[0].name}: a vmlinux or System.map goes with a dump: drop it together with the dump, or into an open dump's tab`);
        return;
      }
      const r = await engine.addFiles(a, debug);
      if (!r.ok) {
        get().reportError('cannot add', r.error);
        return;
      }
      // the dump was opened again with the files: results computed without them are dropped
      updateTab(a, (t) => ({ ...t, summary: r.summary, commands: {} }));
      set({ notice: `${debug.map((f) => f.name).join(', ')} added to ${r.summary.name}` });
    },
    openUrl: (url) => doOpen(url, (p) => engine.openUrl(url, p)),

    closeTab(session) {
      void engine.closeSession(session);
      disposeKeptEditors(session);
      for (const j of Object.values(get().jobs)) if (j.session === session) j.cancel();
      set((s) => {
        const i = s.tabs.findIndex((t) => t.session === session);
        const tabs = s.tabs.filter((t) => t.session !== session);
        let active = s.active;
        if (active === session) active = tabs.length ? tabs[Math.max(0, i - 1)].session : null;
        return { tabs, active, replaceUrl: false };
      });
    },

    activate(session) {
      set({ active: session, replaceUrl: false, notice: null });
    },

    navigate(view, opts) {
      const a = get().active;
      if (!a) return;
      updateTab(a, (t) => ({ ...t, view }), { replaceUrl: opts?.replace ?? false });
    },

    setParams(params) {
      const a = get().active;
      if (!a) return;
      updateTab(a, (t) => {
        const p = { ...t.view.params };
        for (const [k, v] of Object.entries(params)) {
          if (v === undefined || v === '') delete p[k];
          else p[k] = v;
        }
        return { ...t, view: { ...t.view, params: p } };
      }, { replaceUrl: true });
    },

    ensureCommand(session, line) {
      const t = get().tabs.find((x) => x.session === session);
      if (!t || t.commands[line]) return;
      get().rerun(session, line);
    },

    rerun(session, line) {
      const job = startCommand(session, line);
      const key = session + '\0' + line;
      inflight.set(key, job.result);
      updateTab(session, (t) => ({
        ...t,
        commands: { ...t.commands, [line]: { line, jobId: job.jobId, status: 'running', startedAt: Date.now() } },
      }));
      void job.result.then((result) => {
        if (inflight.get(key) === job.result) inflight.delete(key);
        updateTab(session, (t) => {
          const c = t.commands[line];
          if (!c || c.jobId !== job.jobId) return t;
          return { ...t, commands: { ...t.commands, [line]: { ...c, status: 'done', result } } };
        });
      });
      return job.result;
    },

    cached(session, line) {
      const t = get().tabs.find((x) => x.session === session);
      if (!t) return engine.runJob(session, line).result;
      const c = t.commands[line];
      if (c?.status === 'done' && c.result?.ok) return Promise.resolve(c.result);
      const p = inflight.get(session + '\0' + line);
      if (p && c?.status === 'running') return p;
      return get().rerun(session, line);
    },

    runCommand(session, line) {
      return startCommand(session, line).result;
    },

    async consoleRun(session, line) {
      const id = nextId++;
      updateTab(session, (t) => ({ ...t, console: [...t.console.slice(-199), { id, line }] }));
      // the transcript shows text; a line with --json gets its JSON as that text, in pages like
      // any long text (workers/api.ts putText): the JSON object itself never crosses over
      // long commands stream their lines while they run: kept beside the store (liveLines) so a
      // chunk re-renders the transcript only, not every panel; they join the entry with the result
      let got = 0;
      let wake: (() => void) | null = null;
      const onOutput = (c: OutputChunk) => {
        const l = liveLines.get(id) ?? [];
        l.push(c.lines);
        liveLines.set(id, l);
        got += c.lines.length;
        useLiveTick.setState((s) => ({ tick: s.tick + 1 }));
        wake?.();
      };
      const result = await startCommand(session, line, { json: false, textLines: CONSOLE_FIRST_LINES, onOutput }).result;
      // the chunks come over their own message port: the result can overtake the last of them
      const deadline = Date.now() + 5000;
      while (got < (result.streamed ?? 0) && Date.now() < deadline) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
        wake = null;
      }
      const stream = liveLines.get(id);
      liveLines.delete(id);
      updateTab(session, (t) => ({ ...t, console: t.console.map((e) => (e.id === id ? { ...e, result, ...(stream ? { stream } : {}) } : e)) }));
    },

    async consoleMore(session, id, count) {
      const t = get().tabs.find((x) => x.session === session);
      const e = t?.console.find((x) => x.id === id);
      if (!e?.result?.textKey) return;
      const have = (e.result.streamed ?? 0) + e.result.text.split('\n').length - 1 + (e.more ?? []).reduce((n, c) => n + c.length, 0);
      const page = await engine.textPage(session, e.result.textKey, have, count);
      updateTab(session, (x) => ({
        ...x,
        console: x.console.map((c) => (c.id !== id ? c : 'error' in page ? { ...c, moreError: page.error } : { ...c, more: [...(c.more ?? []), page] })),
      }));
    },

    consoleClear(session) {
      updateTab(session, (t) => ({ ...t, console: [] }));
    },

    pin(session, line, text) {
      updateTab(session, (t) => (t.pins.some((p) => p.line === line && p.text === text) ? t : { ...t, pins: [...t.pins.slice(-7), { id: nextId++, line, text }] }));
    },

    unpin(session, id) {
      updateTab(session, (t) => ({ ...t, pins: t.pins.filter((p) => p.id !== id) }));
    },

    applyPermalink(p) {
      if (!p) {
        set({ active: null, wanted: null, replaceUrl: true });
        return;
      }
      const t = get().tabs.find((x) => x.summary.fingerprint === p.fingerprint);
      if (t) {
        updateTab(t.session, (x) => ({ ...x, view: p.view }), { active: t.session, wanted: null, replaceUrl: true });
      } else {
        set({ active: null, wanted: p, replaceUrl: true });
      }
    },

    dismissError(id) {
      set((s) => ({ errors: s.errors.filter((e) => e.id !== id) }));
    },
    setNotice(n) {
      set({ notice: n });
    },
    reportError(context, message) {
      set((s) => ({ errors: [...s.errors.slice(-4), { id: nextId++, context, message }] }));
    },
  };
});

export function activeTab(s: AppState): Tab | undefined {
  return s.active ? s.tabs.find((t) => t.session === s.active) : undefined;
}

/** The hash the state should show. */
export function stateHash(s: AppState, format: (p: Permalink) => string): string {
  const t = activeTab(s);
  if (t) return format({ fingerprint: t.summary.fingerprint, view: t.view });
  if (s.wanted) return format(s.wanted);
  return '';
}
