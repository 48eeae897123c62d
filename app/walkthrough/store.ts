/**
 * The walkthrough player's state (a small zustand store of its own beside the app's): which
 * walkthrough, which step, each step's check results and the variables they captured. It drives
 * the app only through the app store's public actions (activate, navigate, consoleRun, openUrl,
 * runCommand) and the engine's setOverlay, so the panels move exactly as a user's clicks would.
 *
 * Replay: variables flow from step to step, so showing step N first runs the checks of the steps
 * before it that have not run yet (quietly, in order), then N's. A step whose dump is not open
 * waits for it ("open the sample").
 */
import { create } from 'zustand';
import { useApp, type Tab } from '../store';
import { setOverlay } from '../engine';
import { evaluateExpect, interpolate, resolveView, runStep } from './checks';
import { runScriptToEnd } from '../panels/Script/runner';
import { loadUserWalkthrough, USER_WALKTHROUGH_ID } from './user';
import type { CheckResult, CommandOutcome, SampleRef, Step, Walkthrough, WalkthroughIndexEntry } from './types';

/** What a script step's run gave (shown in the step). */
export interface ScriptStepOutput {
  ok: boolean;
  text: string;
  error?: string;
  problems: string[];
  ms: number;
}

/** The description of a script step's check (the first of the step's results). */
export function scriptCheckDescription(step: Step): string {
  return step.script?.expect ? 'the script runs and its output is as expected' : 'the script runs without an error';
}

export type StepState =
  | { status: 'idle' }
  | { status: 'needs-dump'; sample: string }
  | { status: 'running'; checks: CheckResult[]; script?: ScriptStepOutput }
  | { status: 'done'; checks: CheckResult[]; passed: boolean; varsAfter: Record<string, string>; script?: ScriptStepOutput };

export interface PlayerState {
  open: boolean;
  index: WalkthroughIndexEntry[] | null;
  indexError: string | null;
  current: Walkthrough | null;
  loadError: string | null;
  step: number;
  steps: StepState[];
  /** bumps when the walkthrough is (re)started: late results of an old run are dropped */
  run: number;

  setOpen(open: boolean): void;
  loadIndex(): Promise<void>;
  choose(id: string | null, bind?: (w: Walkthrough) => Walkthrough, boundName?: string): Promise<void>;
  /**
   * Play walkthrough `id` on an open dump whose signature matched (not its own sample): the
   * walkthrough's main sample is bound to that dump, every check runs on it.
   */
  playOn(id: string, session: string): Promise<void>;
  /** the dump the current walkthrough was bound to by playOn (its name), when not its own sample */
  boundTo: string | null;
  go(step: number): Promise<void>;
  restart(): Promise<void>;
  openSample(key: string): Promise<void>;
}

const BASE = '/walkthroughs/';

async function fetchJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** The open tab holding a sample (by fingerprint). */
export function tabFor(sample: SampleRef | undefined): Tab | undefined {
  if (!sample) return undefined;
  return useApp.getState().tabs.find((t) => t.summary.fingerprint === sample.fingerprint);
}

export function sampleKeyOf(w: Walkthrough, step: Step): string {
  return step.sample ?? w.sample;
}

/** Variables available before step i (what the steps before it captured). */
function varsBefore(steps: StepState[], i: number): Record<string, string> | null {
  if (i === 0) return {};
  const prev = steps[i - 1];
  return prev.status === 'done' ? prev.varsAfter : null;
}

export const usePlayer = create<PlayerState>()((set, get) => {
  function setStep(i: number, s: StepState): void {
    set((st) => ({ steps: st.steps.map((x, j) => (j === i ? s : x)) }));
  }

  /** Run step i's checks on its dump (the previous steps must be done). Returns false when it cannot run yet. */
  async function runOne(i: number, run: number): Promise<boolean> {
    const w = get().current;
    if (!w) return false;
    const step = w.steps[i];
    const key = sampleKeyOf(w, step);
    const tab = tabFor(w.samples[key]);
    if (!tab) {
      setStep(i, { status: 'needs-dump', sample: key });
      return false;
    }
    const before = varsBefore(get().steps, i);
    if (!before) return false;
    if (step.overlay) {
      try {
        await setOverlay(tab.session, interpolate(step.overlay.address, before), interpolate(step.overlay.type, before));
      } catch {
        /* a check below will show what is missing */
      }
    }
    setStep(i, { status: 'running', checks: [] });
    // a script step: its script runs first, in the Script panel's worker, on this step's dump
    let script: ScriptStepOutput | undefined;
    const pre: CheckResult[] = [];
    if (step.script) {
      const out = await runScriptToEnd(tab.session, step.script.source, (step.script.budgetS ?? 30) * 1000);
      if (get().run !== run) return false;
      script = { ok: out.ok, text: out.text, error: out.error, problems: out.problems, ms: out.ms };
      const base = { description: scriptCheckDescription(step), command: 'script', captured: {} };
      let r: CheckResult;
      try {
        const e = evaluateExpect(out, step.script.expect ?? { ok: true }, (x) => x); // literal: a script's output may hold "${"
        r = { ...base, status: e.ok ? 'pass' : 'fail', actual: e.actual, reason: e.reason };
      } catch (e) {
        r = { ...base, status: 'error', actual: '—', reason: e instanceof Error ? e.message : String(e) };
      }
      pre.push(r);
      setStep(i, { status: 'running', checks: [r], script });
    }
    const app = useApp.getState();
    // checks of one step often test the same output twice (log, overlay, slabcheck): run each line once
    const memo = new Map<string, Promise<CommandOutcome>>();
    const result = await runStep(
      step,
      before,
      (line) => {
        let p = memo.get(line);
        if (!p) {
          p = app.runCommand(tab.session, line).then((r) => ({ ok: r.ok, text: r.text, json: r.json, error: r.error }));
          memo.set(line, p);
        }
        return p;
      },
      (_k, _r) => {
        if (get().run !== run) return;
        const cur = get().steps[i];
        if (cur.status === 'running') setStep(i, { status: 'running', checks: [...cur.checks, _r], script });
      },
    );
    if (get().run !== run) return false;
    const checks = [...pre, ...result.checks];
    setStep(i, { status: 'done', checks, passed: checks.every((c) => c.status === 'pass'), varsAfter: result.vars, script });
    return true;
  }

  /** Move the app to step i's view (its dump's tab, its panel and place). */
  function show(i: number): void {
    const w = get().current;
    const s = get().steps[i];
    if (!w || s.status !== 'done') return;
    const step = w.steps[i];
    const tab = tabFor(w.samples[sampleKeyOf(w, step)]);
    if (!tab || !step.view) return;
    let v;
    try {
      v = resolveView(step.view, s.varsAfter);
    } catch {
      return; // a variable is missing: the failed check says which
    }
    const app = useApp.getState();
    if (app.active !== tab.session) app.activate(tab.session);
    app.navigate({ panel: v.panel as Tab['view']['panel'], arg: v.arg, params: v.params });
    if (v.panel === 'console' && v.command) {
      const t = useApp.getState().tabs.find((x) => x.session === tab.session);
      const last = t?.console[t.console.length - 1];
      if (last?.line !== v.command) void app.consoleRun(tab.session, v.command);
    }
  }

  return {
    open: false,
    index: null,
    indexError: null,
    current: null,
    loadError: null,
    step: 0,
    steps: [],
    run: 0,
    boundTo: null,

    setOpen(open) {
      set({ open });
      if (open && !get().index) void get().loadIndex();
    },

    async loadIndex() {
      try {
        set({ index: await fetchJson<WalkthroughIndexEntry[]>(BASE + 'index.json'), indexError: null });
      } catch (e) {
        set({ indexError: e instanceof Error ? e.message : String(e) });
      }
    },

    async playOn(id, session) {
      const tab = useApp.getState().tabs.find((t) => t.session === session);
      if (!tab) return;
      set({ open: true });
      if (!get().index) void get().loadIndex();
      await get().choose(id, (w) => {
        const main = w.samples[w.sample];
        if (main.fingerprint === tab.summary.fingerprint) return w;
        const bound = {
          ...main,
          fingerprint: tab.summary.fingerprint,
          release: tab.summary.release ?? 'unknown release',
          about: `${tab.summary.name}, matched by the incident's signature`,
        };
        return { ...w, samples: { ...w.samples, [w.sample]: bound } };
      }, tab.summary.name);
    },

    async choose(id, bind?: (w: Walkthrough) => Walkthrough, boundName?: string) {
      if (id === null) {
        set((s) => ({ current: null, steps: [], step: 0, run: s.run + 1, loadError: null, boundTo: null }));
        return;
      }
      try {
        let file: Walkthrough;
        if (id === USER_WALKTHROUGH_ID) {
          const u = loadUserWalkthrough();
          if (!u) throw new Error('your walkthrough has no steps yet: add a script from the Script panel');
          file = u;
        } else file = await fetchJson<Walkthrough>(`${BASE}${encodeURIComponent(id)}.json`);
        const w = bind ? bind(file) : file;
        const boundTo = w !== file ? (boundName ?? null) : null;
        set((s) => ({ current: w, boundTo, step: 0, steps: w.steps.map(() => ({ status: 'idle' })), run: s.run + 1, loadError: null }));
        await get().go(0);
      } catch (e) {
        set({ loadError: e instanceof Error ? e.message : String(e) });
      }
    },

    async go(n) {
      const w = get().current;
      if (!w) return;
      const target = Math.max(0, Math.min(w.steps.length - 1, n));
      set({ step: target });
      const run = get().run;
      for (let i = 0; i <= target; i++) {
        if (get().run !== run || get().step !== target) return;
        const s = get().steps[i];
        if (s.status === 'done' || s.status === 'running') {
          if (s.status === 'running') return;
          continue;
        }
        const ok = await runOne(i, run);
        if (!ok) {
          // an earlier step waits for its dump: show that step so the user can open it
          if (i < target && get().steps[i].status === 'needs-dump') set({ step: i });
          return;
        }
      }
      if (get().run === run && get().step === target) show(target);
    },

    async restart() {
      const w = get().current;
      if (!w) return;
      set((s) => ({ steps: w.steps.map(() => ({ status: 'idle' })), step: 0, run: s.run + 1 }));
      await get().go(0);
    },

    async openSample(key) {
      const w = get().current;
      const sample = w?.samples[key];
      if (!w || !sample || !sample.url) return;
      const existing = tabFor(sample);
      if (!existing) await useApp.getState().openUrl(sample.url);
      const tab = tabFor(sample);
      if (!tab) return; // the app shows the open error
      // steps that waited for this dump can run now
      set((s) => ({ steps: s.steps.map((x) => (x.status === 'needs-dump' ? { status: 'idle' } : x)) }));
      await get().go(get().step);
    },
  };
});
