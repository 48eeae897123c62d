/**
 * The shape of a walkthrough file (public/walkthroughs/<id>.json; the format and the expectation
 * language are documented in public/walkthroughs/README.md). Data: its checks are interpreted by
 * checks.ts; the one exception is a step's `script`, run in the Script panel's sandboxed worker.
 */

/** A bundled sample dump a walkthrough plays on. */
export interface SampleRef {
  /** same-origin URL of the dump, e.g. /samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib */
  url: string;
  /** the dump's fingerprint (workers/api.ts fingerprintOf): how the player recognises it when open */
  fingerprint: string;
  /** the kernel release, shown to the user */
  release: string;
  /** one line: what the dump is */
  about?: string;
}

export interface Credit {
  /** the original write-up's title, as it gives it */
  title: string;
  /** an English rendering when the title is in another language */
  titleEnglish?: string;
  author?: string;
  /** where it was published (site, blog) */
  source: string;
  url?: string;
  date?: string;
  /** a language note, a translation note, ... */
  note?: string;
}

/**
 * A view of the app (a permalink state). `panel` is one of the app's panels; `arg` is the panel's
 * place (address for mem, pid for bt, cache for slabs); other keys become view params. The
 * aliases `address`, `task` and `cache` mean `arg`; `command` (console) is run in the console.
 * Strings may use ${var}.
 */
export interface StepView {
  panel: string;
  arg?: string;
  address?: string;
  task?: string;
  cache?: string;
  command?: string;
  params?: Record<string, string>;
  [param: string]: string | Record<string, string> | undefined;
}

/** One condition on a value (several given: all must hold). */
export interface Cond {
  /** same value; numbers and "0x..." / decimal strings compare as integers */
  equals?: string | number | boolean | null;
  notEquals?: string | number | boolean | null;
  /** a regular expression (JavaScript syntax, no flags but `flags`) tested on the value as text */
  matches?: string;
  flags?: string;
  /** equals one of these */
  oneOf?: Array<string | number | boolean | null>;
  /** the value as text contains this */
  includes?: string;
  /** present and not null (true), or absent/null (false) */
  exists?: boolean;
  /** integer comparisons */
  gte?: string | number;
  lte?: string | number;
  gt?: string | number;
  lt?: string | number;
}

export interface JsonCond extends Cond {
  /** a path into the command's JSON: a.b[0].c, [*] for any element, [-1] for the last */
  path: string;
}

export interface JsonSome {
  /** an array (or several, with [*]) whose elements are tested */
  path: string;
  /** conditions on each element, by path inside the element ('' or '.' = the element itself) */
  where: Record<string, Cond>;
  /** how many elements must match (default: at least 1) */
  count?: Cond;
}

export interface Expect {
  /** the command must succeed (default true); `false` expects an error (then `error` conditions apply) */
  ok?: boolean;
  /** regex(es) the text must match */
  textMatches?: string | string[];
  /** regex the text must not match */
  textNotMatches?: string | string[];
  /** substring(s) the text must contain */
  textIncludes?: string | string[];
  flags?: string;
  json?: JsonCond | JsonCond[];
  jsonSome?: JsonSome | JsonSome[];
  /** conditions on the one-line error (with ok: false) */
  error?: Cond;
}

/** Where a captured variable comes from. */
export type Capture =
  | {
      /** path into the JSON (on the element found by `from`/`where` when given) */
      json: string;
      /** an array path; with `where`, the first element meeting it is the base of `json` */
      from?: string;
      where?: Record<string, Cond>;
    }
  | {
      /** a regex on the text; the variable is group `group` (default 1) of the first match */
      text: string;
      group?: number;
      flags?: string;
      /** prepended to the captured text (e.g. "0x" for crash's bare hex) */
      prefix?: string;
    };

export interface Check {
  description: string;
  command: string;
  expect: Expect;
  /** variables this check captures for later commands (${name}); only when it passes */
  capture?: Record<string, Capture>;
  /**
   * Run the check once per value of a captured JSON object or array (`in`, e.g. "${regs}" = the
   * exception frame's registers), with the value in ${var}; it passes on the first value that
   * meets `expect` (and captures from that run). Finds "the register that holds the skb" on any
   * build instead of naming the sample's register.
   */
  tryEach?: { var: string; in: string };
}

/**
 * A script step (issue 14): JavaScript run on the step's dump in the Script panel's worker (the
 * same sandbox: no DOM, no network, a time budget), its print() lines and returned value shown in
 * the step. `expect` tests that output with the expectation language of checks (the text is the
 * printed lines, then the returned value as JSON; `json` is the returned value).
 */
export interface ScriptStep {
  source: string;
  expect?: Expect;
  /** time budget in seconds (default 30) */
  budgetS?: number;
}

export interface Step {
  title: string;
  /** our own words; paragraphs as an array */
  narration: string | string[];
  view?: StepView;
  /** the command the step is about (shown; run in the console when the view is the console) */
  command?: string;
  /** another sample for this step (a key of the walkthrough's `samples`) */
  sample?: string;
  /** choose a struct overlay for an address before the checks run (whatis names members through it) */
  overlay?: { address: string; type: string };
  /** a script to run on the step's dump (its output and check shown with the step) */
  script?: ScriptStep;
  /** console checks; a script step may have none */
  checks: Check[];
}

/**
 * The incident's signature: a dump matches when every given part matches (regular expressions).
 * `oops` is matched against the oops the kernel logged (`oops --json`: the report that ended in
 * the panic): its headline, the faulting function (RIP's symbol) and CR2; `log` lines against the
 * kernel log. A walkthrough with a signature runs on any dump that matches, its checks evaluated
 * on that dump; without one it plays on its own samples only.
 */
export interface Signature {
  oops?: { headline?: string; rip?: string; cr2?: string };
  log?: string[];
}

export interface Walkthrough {
  id: string;
  title: string;
  credit: Credit;
  /** the key (in `samples`) of the dump it plays on */
  sample: string;
  samples: Record<string, SampleRef>;
  signature?: Signature;
  summary: string;
  /** what our dump cannot show of the original incident, said plainly */
  differences?: string[];
  steps: Step[];
}

export interface WalkthroughIndexEntry {
  id: string;
  title: string;
  sample: string;
  summary: string;
  /** the walkthrough's signature, copied here so that a dump is matched without loading every file */
  signature?: Signature;
}

/** What a command run returns (workers/api.ts RunResult, or the engine's result in Node). */
export interface CommandOutcome {
  ok: boolean;
  text: string;
  json?: unknown;
  error?: string;
}

export type RunFn = (line: string) => Promise<CommandOutcome>;

export type CheckStatus = 'pass' | 'fail' | 'error';

export interface CheckResult {
  description: string;
  /** the command as run (variables filled in) */
  command: string;
  status: CheckStatus;
  /** short text of what was found (the actual value), for the user */
  actual: string;
  /** why it failed */
  reason?: string;
  /** variables captured by this check */
  captured: Record<string, string>;
}
