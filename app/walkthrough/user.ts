/**
 * The user's own walkthrough ("My walkthrough"): the built-in walkthroughs are files under
 * public/walkthroughs/, this one is kept in localStorage and grows from the Script panel ("add to
 * walkthrough" appends the current script as a script step). It is a Walkthrough like the files
 * (types.ts) and plays in the same dock; its samples are the dumps its steps were added on, by
 * fingerprint (no URL: the user opens that dump, the player waits for it).
 */
import type { Expect, Step, Walkthrough } from './types';

export const USER_WALKTHROUGH_KEY = 'vmcore.walkthrough.user.v1';
export const USER_WALKTHROUGH_ID = 'user';

export function loadUserWalkthrough(): Walkthrough | null {
  try {
    const raw = localStorage.getItem(USER_WALKTHROUGH_KEY);
    if (!raw) return null;
    const w = JSON.parse(raw) as Walkthrough;
    return w && Array.isArray(w.steps) && w.steps.length > 0 ? w : null;
  } catch {
    return null;
  }
}

function save(w: Walkthrough | null): void {
  try {
    if (w) localStorage.setItem(USER_WALKTHROUGH_KEY, JSON.stringify(w));
    else localStorage.removeItem(USER_WALKTHROUGH_KEY);
  } catch {
    /* storage full or denied */
  }
}

export function clearUserWalkthrough(): void {
  save(null);
}

export interface DumpRef {
  fingerprint: string;
  release?: string;
  name: string;
}

/** Append a script step (on `dump`) to the user's walkthrough, creating it; returns the step's number (1-based). */
export function addScriptStep(dump: DumpRef, source: string, expect: Expect | undefined, budgetS?: number): number {
  const key = `dump-${dump.fingerprint}`;
  const w: Walkthrough = loadUserWalkthrough() ?? {
    id: USER_WALKTHROUGH_ID,
    title: 'My walkthrough',
    credit: { title: 'your own steps', source: 'this browser (localStorage)' },
    sample: key,
    samples: {},
    summary: 'Steps you added from the Script panel. Each runs its script on its dump and checks the output.',
    steps: [],
  };
  if (!w.samples[key]) w.samples[key] = { url: '', fingerprint: dump.fingerprint, release: dump.release ?? 'unknown release', about: dump.name };
  const n = w.steps.length + 1;
  const step: Step = {
    title: scriptTitle(source) ?? `script ${n}`,
    narration: `A script added from the Script panel on ${dump.name}.`,
    sample: key,
    script: { source, ...(expect ? { expect } : {}), ...(budgetS ? { budgetS } : {}) },
    checks: [],
  };
  w.steps.push(step);
  save(w);
  return n;
}

/** The script's first line comment, as a step title. */
function scriptTitle(source: string): string | null {
  const m = /^\s*\/\/\s*(.+)$/m.exec(source);
  const first = source.trimStart().split('\n')[0];
  return m && first.startsWith('//') ? m[1].trim().slice(0, 80) : null;
}

/** Lines of a run's output an added step expects (a prefix of the output: enough to catch a change, small in storage). */
export const EXPECT_LINES = 20;

/** The expectation for a script whose run printed `text`: the output starts the same. */
export function expectFromOutput(text: string): Expect {
  const head = text.split('\n').slice(0, EXPECT_LINES).join('\n');
  return head.trim() ? { textIncludes: head } : { ok: true };
}
