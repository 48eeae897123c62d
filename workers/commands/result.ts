/**
 * The one place where a command's problems join its answer (runCommand calls finishResult):
 * problems the command reported itself (CommandResult.problems) and those the engine noted
 * while it ran (workers/problems.ts: damaged pages, truncated reads, broken walks) become
 * `problems` of the result, a "WARNING:" line of the text for each the text does not already
 * say, and a `problems` member of the JSON (jsonWithProblems). So text and JSON always carry
 * the same problems, for every command.
 */
/** What a command returns. */
export interface CommandResult {
  text: string;
  json?: unknown;
  /**
   * What went wrong on the way (damaged memory, a broken walk, a partial answer), one line each.
   * runCommand adds what the engine noted while the command ran and puts every problem in the
   * text too (commands/result.ts); the CLI and the api put them in the JSON.
   */
  problems?: string[];
  /** `--json` was on the line: show the JSON (jsonText) rather than the text */
  asJson?: boolean;
}

/**
 * A result whose JSON is made when it is first read (then kept): a command whose JSON is large
 * (`kmem -S --full` of a cache of a million objects: a million JSON objects) costs nothing for it
 * when only its text is wanted (the CLI without --json, a console line). Spreading the result
 * (`{...r}`) reads it, as any reader does.
 */
export function withLazyJson(r: Omit<CommandResult, 'json'>, make: () => unknown): CommandResult {
  let made = false;
  let json: unknown;
  return Object.defineProperty({ ...r } as CommandResult, 'json', {
    enumerable: true,
    configurable: true,
    get() {
      if (!made) {
        json = make();
        made = true;
      }
      return json;
    },
    set(v: unknown) {
      json = v;
      made = true;
    },
  });
}

/**
 * A command's text, line by line. With a stream sink (CommandContext.emit: the console and the
 * CLI) lines leave in batches while the command runs (every `batch` lines or 50 ms) and are not
 * kept; done() returns what was not sent yet, which becomes the result's text. Without a sink it
 * keeps every line and done() returns the whole text, as before. The JSON is built whole either way.
 */
export class TextOut {
  private buf: string[] = [];
  private last = 0;
  sent = 0;
  constructor(
    private emit?: (chunk: string) => void,
    private batch = 256,
  ) {
    this.last = nowMs();
  }
  line(s: string): void {
    this.buf.push(s);
    if (this.emit && (this.buf.length >= this.batch || nowMs() - this.last > 50)) this.flush();
  }
  /** lines, as Array.push */
  push(...lines: string[]): void {
    for (const l of lines) this.line(l);
  }
  /** several lines at once ("a\nb\n") */
  text(s: string): void {
    if (s === '') return;
    for (const l of s.replace(/\n$/, '').split('\n')) this.line(l);
  }
  flush(): void {
    if (!this.emit || this.buf.length === 0) return;
    this.emit(this.buf.join('\n') + '\n');
    this.sent += this.buf.length;
    this.buf = [];
    this.last = nowMs();
  }
  /** the text not sent yet (all of it without a sink) */
  done(): string {
    const t = this.buf.length ? this.buf.join('\n') + '\n' : '';
    this.buf = [];
    return t;
  }
}

/**
 * Milliseconds of a monotonic clock. Node's process.hrtime where it exists: Node loads its
 * perf_hooks (0.8 ms of a CLI run) the first time anything reads `performance`.
 */
export const nowMs: () => number =
  typeof process !== 'undefined' && typeof process.hrtime?.bigint === 'function'
    ? () => Number(process.hrtime.bigint()) / 1e6
    : () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The parts of a CommandResult this file needs. */
type ResultLike = Pick<CommandResult, 'text' | 'json' | 'problems'>;

export function finishResult<R extends ResultLike>(r: R, collected: string[]): R {
  const all: string[] = [];
  const bare = (p: string) => p.replace(/ \(\d+ times\)$/, '');
  for (const p of [...(r.problems ?? []), ...collected]) {
    if (!p) continue;
    const i = all.findIndex((q) => bare(q) === bare(p));
    if (i < 0) all.push(p);
    else if (p.length > all[i].length) all[i] = p; // keep the one that says how often
  }
  if (all.length === 0) return r;
  let text = r.text;
  const missing = all.filter((p) => !text.includes(p));
  if (missing.length) {
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    text += missing.map((p) => `WARNING: ${p}\n`).join('');
  }
  // the result's own properties as they are (a lazy JSON stays lazy: withLazyJson)
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(r)) as R;
  out.text = text;
  out.problems = all;
  return out;
}

/**
 * The JSON of a result as the CLI prints it. Without problems: the command's JSON as is (the
 * shapes of DESIGN.md). With problems: an object gets a `problems` member (strings added to one
 * it already has); an array or a text answer is wrapped as {result, problems}.
 */
export function jsonWithProblems(r: ResultLike): unknown {
  const body = r.json ?? r.text;
  const problems = r.problems ?? [];
  if (problems.length === 0) return body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const o = body as Record<string, unknown>;
    const had = Array.isArray(o.problems) ? (o.problems as unknown[]) : [];
    const merged = [...had];
    for (const p of problems) if (!had.some((h) => h === p || (typeof h === 'object' && h !== null && JSON.stringify(h).includes(JSON.stringify(p).slice(1, -1))))) merged.push(p);
    return { ...o, problems: merged };
  }
  return { result: body, problems };
}

/** JSON.stringify's replacer of every JSON the CLI and console print: a bigint as hex */
const hexBigints = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? '0x' + v.toString(16) : v);

/** The JSON of a result as the CLI and console print it (the text when a command has no JSON shape), problems included. */
export function jsonText(r: ResultLike): string {
  return JSON.stringify(jsonWithProblems(r), hexBigints, 1) + '\n';
}

/**
 * jsonText's characters (or, with `indent` 0, JSON.stringify's one line), handed to `write` a
 * piece at a time and never made whole: the JSON of `kmem -S --full` on a cache of millions of
 * objects is hundreds of megabytes as one string (V8 refuses a string past 512 MiB), and the
 * objects of each slab are made when its `objects` is read (withLazyJson, kmem.ts) and dropped
 * once written. Objects and arrays are walked here down to the innermost ones, which
 * JSON.stringify writes whole: those whose members are all plain values, and those with a member
 * made when read (a getter: a slab's objects). The same characters as jsonText.
 */
export function writeJsonText(r: ResultLike, write: (piece: string) => void, indent: 0 | 1 = 1): void {
  writeJsonValue(jsonWithProblems(r), write, indent);
  if (indent) write('\n');
}

/** writeJsonText stopped: the lines asked for are made */
const enoughLines = Symbol('enough lines');

/**
 * Lines [from, from + count) of jsonText(r), without their newlines, made by writeJsonText as it
 * walks and kept only in that range: a JSON of millions of lines is paged without ever being
 * whole (the console's "show more"). With `total` the walk goes on to the end to count every
 * line (`total`); else it stops once the range is made (`total` null).
 */
export function jsonTextLines(r: ResultLike, from: number, count: number, total = false): { lines: string[]; total: number | null } {
  const end = from + count;
  const lines: string[] = [];
  let cur: string[] = [];
  let line = 0;
  try {
    writeJsonText(r, (piece) => {
      let at = 0;
      for (;;) {
        const nl = piece.indexOf('\n', at);
        if (line >= from && line < end) cur.push(nl < 0 ? piece.slice(at) : piece.slice(at, nl));
        if (nl < 0) return;
        if (line >= from && line < end) {
          lines.push(cur.join(''));
          cur = [];
        }
        line++;
        at = nl + 1;
        if (line >= end && !total) throw enoughLines;
      }
    });
  } catch (e) {
    if (e !== enoughLines) throw e;
    return { lines, total: null };
  }
  // jsonText ends with a newline: no line after it
  return { lines, total: line };
}

/** `value` as JSON.stringify(value, hexBigints, indent) writes it, in pieces (writeJsonText). */
export function writeJsonValue(value: unknown, write: (piece: string) => void, indent: 0 | 1 = 1): void {
  const top = hexBigints('', value);
  if (walked(top)) writeWalked(top, write, indent, 0, new Set());
  else write(JSON.stringify(top, hexBigints, indent || undefined) ?? 'undefined');
}

/** Whether writeJsonValue walks a value (a container holding containers, none made when read). */
function walked(v: unknown): v is object {
  if (v === null || typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(v)) return v.some((x) => x !== null && typeof x === 'object');
  const d = Object.getOwnPropertyDescriptors(v);
  let nested = false;
  for (const k in d) {
    if (!d[k].enumerable) continue;
    if (d[k].get) return false;
    const x = d[k].value;
    if (x !== null && typeof x === 'object') nested = true;
  }
  return nested;
}

/** `open`: the containers being written around this one (a cycle fails as in JSON.stringify, not by overflowing the stack). */
function writeWalked(v: object, write: (piece: string) => void, indent: 0 | 1, depth: number, open: Set<object>): void {
  if (open.has(v)) throw new TypeError('Converting circular structure to JSON');
  open.add(v);
  try {
    writeContainer(v, write, indent, depth, open);
  } finally {
    open.delete(v);
  }
}

function writeContainer(v: object, write: (piece: string) => void, indent: 0 | 1, depth: number, open: Set<object>): void {
  const nl = indent ? '\n' + ' '.repeat(depth + 1) : '';
  const end = indent ? '\n' + ' '.repeat(depth) : '';
  // a member or element as JSON.stringify writes it at this depth: its own lines indented
  const piece = (x: unknown): void => {
    if (walked(x)) writeWalked(x, write, indent, depth + 1, open);
    else {
      const s = JSON.stringify(x, hexBigints, indent || undefined);
      write(indent && s.includes('\n') ? s.replace(/\n/g, nl) : s);
    }
  };
  if (Array.isArray(v)) {
    if (v.length === 0) return write('[]');
    write('[');
    for (let i = 0; i < v.length; i++) {
      write((i ? ',' : '') + nl);
      const x = hexBigints(String(i), v[i]);
      // what JSON.stringify writes as null in an array
      piece(x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : x);
    }
    return write(end + ']');
  }
  let first = true;
  write('{');
  for (const k of Object.keys(v)) {
    const x = hexBigints(k, (v as Record<string, unknown>)[k]);
    // members JSON.stringify leaves out
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    write((first ? '' : ',') + nl + JSON.stringify(k) + (indent ? ': ' : ':'));
    first = false;
    piece(x);
  }
  write(first ? '}' : end + '}');
}
