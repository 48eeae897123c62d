import { Cancelled, DumpError, MemoryError, errorMessage } from '../errors';
import type { Program } from '../kernel/program';
import { collectProblems, currentProblems } from '../problems';
import { finishResult, type CommandResult } from './result';

/**
 * The crash-style command language: one implementation used by the console, the CLI and the
 * tests. A command turns arguments into text (crash's layout) and, where DESIGN.md fixes a shape,
 * JSON. Commands register themselves; workers/commands/index.ts imports them all.
 */
export interface CommandContext {
  prog: Program;
  /** set by the caller to stop a long command; commands check it in their loops */
  cancel?: { cancelled: boolean };
  /** progress of long commands: done of total units */
  progress?: (done: number, total: number, what: string) => void;
  /** the type overlays the user chose for addresses (whatis names members through them) */
  overlays?: Map<string, string>;
  /**
   * Where long commands stream their text while they run (console, CLI stdout): lines given
   * here are not in the result's text (TextOut). Only passed for a bare command: a line with
   * pipe filters or --json gets its text whole.
   */
  emit?: (chunk: string) => void;
}

export type { CommandResult };

export interface Command {
  name: string;
  aliases?: string[];
  summary: string;
  usage: string;
  /** it runs the disassembler (itself, or through the type inference of globals in analysis/vartype.ts):
   *  capstone's wasm loads asynchronously, so a caller that loads it lazily (the CLI) loads it first */
  disassembles?: boolean;
  run(args: string[], ctx: CommandContext): CommandResult;
  /**
   * A long scan that can run as independent parts (ranges of physical memory, groups of
   * caches), each part in its own engine (the browser's scan workers, each with its own Program
   * on the same file), the parts' results merged in order. `run` must give the same answer as
   * `splitRun` with one engine (runSplit below does that for the CLI).
   */
  split?: CommandSplit;
}

/**
 * How a command divides its work. Parts and partial results cross worker boundaries: they are
 * plain JSON-like values (strings, numbers, arrays, objects; no bigint).
 */
export interface CommandSplit {
  /**
   * Words the line must have to run in parts (kmem: `-S` and `--full`); without them it runs
   * whole, where it is (the UI tells a split line by its words before asking any worker).
   */
  only?: string[];
  /** the parts of the work, in order, aiming at about `want` of them (null: not worth splitting) */
  plan(args: string[], ctx: CommandContext, want: number): unknown[] | null;
  /** one part's work */
  part(args: string[], ctx: CommandContext, part: unknown): unknown;
  /** the answer from every part's result, in plan order */
  merge(args: string[], ctx: CommandContext, partials: unknown[]): CommandResult;
}

/** Run a split command in this engine, part after part (the CLI, and the pool's fallback). */
export function runSplit(split: CommandSplit, args: string[], ctx: CommandContext): CommandResult {
  const parts = split.plan(args, ctx, 1) ?? [];
  return split.merge(args, ctx, parts.map((p) => split.part(args, ctx, p)));
}

/** A usage or argument error: shown as one line, CLI exit 1. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

export { Cancelled };
export { jsonText, jsonTextLines, TextOut } from './result';

const commands = new Map<string, Command>();

/** crash 9's command names (help output): never read as a struct name. */
const CRASH_COMMANDS = new Set(
  ('alias ascii bpf bt btop dev dis eval exit extend files foreach fuser gdb help ipcs irq kmem list log mach mod ' +
    'mount net p ps pte ptob ptov q rd repeat runq sbitmap search set sig struct swap sym sys task timer tree union ' +
    'vm vtop waitq whatis wr').split(' '),
);
type Fallback = (name: string, args: string[], ctx: CommandContext) => CommandResult | null;
const fallbacks: Fallback[] = [];

export function registerCommand(cmd: Command): void {
  commands.set(cmd.name, cmd);
  for (const a of cmd.aliases ?? []) commands.set(a, cmd);
}

/** For commands whose name is data (a struct name used as a command, as crash allows). */
export function registerFallback(f: Fallback): void {
  fallbacks.push(f);
}

export function listCommands(): Command[] {
  return [...new Set(commands.values())].sort((a, b) => a.name.localeCompare(b.name));
}

export function getCommand(name: string): Command | undefined {
  return commands.get(name);
}

/** Whether a command line runs the disassembler (see Command.disassembles); `p/x` is print's fallback. */
export function lineDisassembles(line: string): boolean {
  const word = line.trim().split(/\s+/)[0] ?? '';
  return getCommand(word)?.disassembles === true || /^p(rint)?\/[xd]$/.test(word);
}

/** Split a command line into words; quotes group, a backslash escapes (inside quotes). */
export function tokenize(line: string): string[] {
  // no quotes: words between whitespace, as the loop below splits them (a batch of 200 lines is
  // tokenized three times a line, a character at a time, in V8's first tiers)
  if (!line.includes('"') && !line.includes("'")) return line.split(/\s+/).filter((w) => w !== '');
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new CommandError('unterminated quote');
  if (has || cur) out.push(cur);
  return out;
}

export function checkCancel(ctx: CommandContext): void {
  if (ctx.cancel?.cancelled) throw new Cancelled();
}

// ------------------------------------------------------------------ the line language

/** Filters after a pipe: `cmd | grep [-v] [-i] [-w] [-c] PATTERN | head [-n] N | tail [-n] N | count | wc -l`. */
const FILTERS = new Set(['grep', 'egrep', 'head', 'tail', 'count', 'wc']);

export interface ParsedLine {
  /** the command itself, without filters and without --json */
  command: string;
  /** --json appeared somewhere on the line (the text becomes the result's JSON) */
  json: boolean;
  filters: string[][];
}

/**
 * Split a console line into its command, `--json` (anywhere) and pipe filters. A `|` starts a
 * filter only outside quotes and when a filter name follows it, so `eval 1 | 2` stays an
 * expression.
 */
export function parseLine(line: string): ParsedLine {
  const cuts: number[] = [];
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '|' && line[i + 1] !== '|' && line[i - 1] !== '|') {
      const next = /^\s*([A-Za-z]+)/.exec(line.slice(i + 1))?.[1];
      if (next && FILTERS.has(next)) cuts.push(i);
    }
  }
  const parts: string[] = [];
  let from = 0;
  for (const c of cuts) {
    parts.push(line.slice(from, c));
    from = c + 1;
  }
  parts.push(line.slice(from));
  let json = false;
  const strip = (words: string[]) =>
    words.filter((w) => {
      if (w === '--json') {
        json = true;
        return false;
      }
      return true;
    });
  const cmdWords = strip(tokenize(parts[0].trim()));
  const filters = parts.slice(1).map((p) => strip(tokenize(p.trim())));
  return { command: cmdWords.map(quoteWord).join(' '), json, filters };
}

function quoteWord(w: string): string {
  return w === '' || /[\s"'\\]/.test(w) ? `"${w.replace(/(["\\])/g, '\\$1')}"` : w;
}

function filterError(msg: string): never {
  throw new CommandError(msg);
}

/** Apply one pipe filter to a result: to the text lines, and to a JSON array's elements. */
export function applyFilter(r: CommandResult, words: string[]): CommandResult {
  const [name, ...args] = words;
  const lines = r.text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const arr = Array.isArray(r.json) ? (r.json as unknown[]) : null;
  const out = (ls: string[], json: unknown) => ({ text: ls.length ? ls.join('\n') + '\n' : '', json });
  if (name === 'grep' || name === 'egrep') {
    let invert = false, icase = false, word = false, countOnly = false;
    const pats: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-e') pats.push(args[++i] ?? filterError('grep: -e needs a pattern'));
      else if (/^-[viwcE]+$/.test(a)) {
        for (const f of a.slice(1)) {
          if (f === 'v') invert = true;
          else if (f === 'i') icase = true;
          else if (f === 'w') word = true;
          else if (f === 'c') countOnly = true;
        }
      } else pats.push(a);
    }
    if (!pats.length) filterError('usage: cmd | grep [-v] [-i] [-w] [-c] PATTERN');
    let re: RegExp;
    try {
      re = new RegExp(pats.map((p) => (word ? `\\b(?:${p})\\b` : `(?:${p})`)).join('|'), icase ? 'i' : '');
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      filterError(`grep: invalid pattern: ${pats.join(' ')}`);
    }
    const keep = (s: string) => re.test(s) !== invert;
    const kept = lines.filter(keep);
    const json = arr ? arr.filter((e) => keep(JSON.stringify(e))) : r.json;
    if (countOnly) return { text: `${kept.length}\n`, json: { count: kept.length } };
    return out(kept, json);
  }
  if (name === 'head' || name === 'tail') {
    let n = 10;
    const num = args.find((a) => /^-?\d+$/.test(a));
    if (num) n = Math.abs(Number(num));
    else if (args.length && args[0] !== '-n') filterError(`usage: cmd | ${name} [-n] N`);
    const ls = name === 'head' ? lines.slice(0, n) : lines.slice(Math.max(0, lines.length - n));
    const json = arr ? (name === 'head' ? arr.slice(0, n) : arr.slice(Math.max(0, arr.length - n))) : r.json;
    return out(ls, json);
  }
  if (name === 'count' || (name === 'wc' && (args.length === 0 || args[0] === '-l'))) {
    const n = arr && r.text === '' ? arr.length : lines.length;
    return { text: `${n}\n`, json: { count: n, ...(arr ? { items: arr.length } : {}) } };
  }
  filterError(`${name}: unknown filter (grep, head, tail, count, wc -l)`);
}

/**
 * Run one console line: the command, then the pipe filters in order (on the text lines and on a
 * JSON array's elements); `--json` anywhere marks the result asJson (callers print jsonText()). Errors come back as thrown CommandError / DumpError / Cancelled.
 */
export function runCommand(ctx: CommandContext, line: string): CommandResult {
  if (!line.includes('|') && !line.includes('--json')) return runBare(ctx, line);
  const p = parseLine(line);
  // filters and --json need the whole text: no streaming
  return applyLine(p, runBare(p.filters.length || p.json ? { ...ctx, emit: undefined } : ctx, p.command));
}

/** The filters and `--json` of a parsed line, applied to its command's result. */
function applyLine(p: ParsedLine, r: CommandResult): CommandResult {
  const problems = r.problems;
  for (const f of p.filters) {
    if (!f.length) throw new CommandError('empty filter after "|"');
    r = applyFilter(r, f);
  }
  // a filter keeps lines, never the problems: they stay with the answer (text and JSON)
  if (p.filters.length && problems?.length) r = finishResult({ ...r, problems }, []);
  return p.json ? { ...r, asJson: true } : r;
}

// ------------------------------------------------------------------ split commands (scan workers)

/** A line whose command can run in parts: its command words, or null. */
function splitOf(line: string): { p: ParsedLine; split: CommandSplit; args: string[] } | null {
  const p = parseLine(line);
  const [name, ...args] = tokenize(p.command.trim());
  const split = name ? commands.get(name)?.split : undefined;
  if (split?.only && !split.only.every((w) => args.includes(w))) return null;
  return split ? { p, split, args } : null;
}

/** Whether `line` runs a command that can be split into parts (no dump needed to tell). */
export function isSplitLine(line: string): boolean {
  return splitOf(line) !== null;
}

/** One part's result and the problems met while computing it. */
export interface PartResult {
  value: unknown;
  problems: string[];
}

/**
 * The parts of a split line's work (about `want`), or null when the line's command does not split
 * or this invocation is not worth it (then run it whole). Argument errors throw as runCommand's do.
 */
export function planSplit(ctx: CommandContext, line: string, want: number): unknown[] | null {
  const s = splitOf(line);
  if (!s) return null;
  return s.split.plan(s.args, ctx, Math.max(1, Math.floor(want)));
}

/** One part of a split line, with the problems it met (they join the merged answer). */
export function runSplitPart(ctx: CommandContext, line: string, part: unknown): PartResult {
  const s = splitOf(line);
  if (!s) throw new CommandError(`${line}: not a command that runs in parts`);
  const { value, problems } = collectProblems(() => s.split.part(s.args, ctx, part));
  return { value, problems };
}

/**
 * The answer of a split line from its parts' results (in plan order): the command's merge, every
 * part's problems (counts of the same problem added up), then the line's filters and `--json`,
 * exactly as runCommand would give for the whole line.
 */
export function mergeSplit(ctx: CommandContext, line: string, parts: PartResult[]): CommandResult {
  const s = splitOf(line);
  if (!s) throw new CommandError(`${line}: not a command that runs in parts`);
  const { value, problems } = collectProblems(() => s.split.merge(s.args, ctx, parts.map((x) => x.value)));
  const r = finishResult(value, [...(ctx.prog?.phys?.warnings ?? []), ...sumProblems(parts.flatMap((x) => x.problems)), ...problems]);
  if (!line.includes('|') && !line.includes('--json')) return r;
  return applyLine(s.p, r);
}

/** "X (3 times)" and "X (2 times)" from two parts are "X (5 times)". */
function sumProblems(list: string[]): string[] {
  const counts = new Map<string, number>();
  for (const p of list) {
    const m = / \((\d+) times\)$/.exec(p);
    const bare = m ? p.slice(0, m.index) : p;
    counts.set(bare, (counts.get(bare) ?? 0) + (m ? Number(m[1]) : 1));
  }
  return [...counts].map(([b, n]) => (n > 1 ? `${b} (${n} times)` : b));
}

/** Run one command (no pipes). */
export function runBare(ctx: CommandContext, line: string): CommandResult {
  const words = tokenize(line.trim());
  if (words.length === 0) return { text: '' };
  const [name, ...args] = words;
  const { value, problems } = collectProblems(() => {
    try {
      return dispatch(ctx, name, args);
    } catch (e) {
      throw withCause(e, currentProblems());
    }
  });
  // damage the format layer found in the dump's headers concerns every answer
  return finishResult(value, [...(ctx.prog?.phys?.warnings ?? []), ...problems]);
}

/**
 * A command that failed after meeting damage says so in its one-line error ("no init_task
 * symbol (kernel symbols unreadable: ...)"), so the cause is not lost with the result.
 */
function withCause(e: unknown, problems: string[]): unknown {
  if (!problems.length) return e;
  const cause = problems[0].replace(/ \(\d+ times\)$/, '');
  // an error that already names the unreadable symbol table needs no second mention
  if (cause.startsWith('kernel symbols') && e instanceof Error && /kernel symbols (unavailable|unreadable|are unreadable)/.test(e.message)) return e;
  if (e instanceof CommandError && !e.message.includes(cause)) return new CommandError(`${e.message} (${cause})`);
  if (e instanceof DumpError && !e.message.includes(cause)) return new DumpError(`${e.message} (${cause})`);
  return e;
}

function dispatch(ctx: CommandContext, name: string, args: string[]): CommandResult {
  const cmd = commands.get(name);
  if (cmd) return cmd.run(args, ctx);
  // crash takes a struct name as a command only when it is not a crash command: `net` and
  // `mount` are commands there, never `struct net` / `struct mount`
  if (CRASH_COMMANDS.has(name)) throw new CommandError(`${name}: crash's "${name}" command is not available here yet (try "help")`);
  for (const f of fallbacks) {
    const r = f(name, args, ctx);
    if (r) return r;
  }
  throw new CommandError(`${name}: unknown command (try "help")`);
}

/** Like runCommand, but never throws: an error becomes {ok: false, error}. */
export function runCommandSafe(
  ctx: CommandContext,
  line: string,
): { ok: true; result: CommandResult } | { ok: false; error: string } {
  try {
    return { ok: true, result: runCommand(ctx, line) };
  } catch (e) {
    if (e instanceof CommandError || e instanceof DumpError || e instanceof MemoryError || e instanceof Cancelled) {
      return { ok: false, error: e.message };
    }
    return { ok: false, error: `internal error: ${errorMessage(e)}` };
  }
}

/** Parse "-x -o" style flags: returns flags set and remaining positional args. */
export function parseFlags(
  args: string[],
  spec: { bool?: string[]; value?: string[] },
): { flags: Set<string>; values: Map<string, string>; rest: string[] } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const rest: string[] = [];
  const bool = new Set(spec.bool ?? []);
  const value = new Set(spec.value ?? []);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      if (value.has(a)) {
        if (i + 1 >= args.length) throw new CommandError(`option ${a} needs a value`);
        values.set(a, args[++i]);
        continue;
      }
      if (bool.has(a)) {
        flags.add(a);
        continue;
      }
      // combined short flags: -xo
      const letters = a.slice(1).split('');
      if (letters.every((l) => bool.has('-' + l))) {
        letters.forEach((l) => flags.add('-' + l));
        continue;
      }
      throw new CommandError(`unknown option ${a}`);
    }
    rest.push(a);
  }
  return { flags, values, rest };
}
