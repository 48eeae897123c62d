import { Cancelled, DumpError, MemoryError, errorMessage } from '../errors';
import type { Program } from '../kernel/program';
import { collectProblems, currentProblems } from '../problems';
import { finishResult } from './result';

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
}

export interface CommandResult {
  text: string;
  json?: unknown;
  /**
   * What went wrong on the way (damaged memory, a broken walk, a partial answer), one line each.
   * runCommand adds what the engine noted while the command ran and puts every problem in the
   * text too (commands/result.ts); the CLI and the api put them in the JSON.
   */
  problems?: string[];
}

export interface Command {
  name: string;
  aliases?: string[];
  summary: string;
  usage: string;
  run(args: string[], ctx: CommandContext): CommandResult;
}

/** A usage or argument error: shown as one line, CLI exit 1. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

export { Cancelled };

const commands = new Map<string, Command>();
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

/** Split a command line into words; quotes group, a backslash escapes. */
export function tokenize(line: string): string[] {
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

/** Run one command line. Errors come back as thrown CommandError / DumpError / Cancelled. */
export function runCommand(ctx: CommandContext, line: string): CommandResult {
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
  if (e instanceof CommandError && !e.message.includes(cause)) return new CommandError(`${e.message} (${cause})`);
  if (e instanceof DumpError && !e.message.includes(cause)) return new DumpError(`${e.message} (${cause})`);
  return e;
}

function dispatch(ctx: CommandContext, name: string, args: string[]): CommandResult {
  const cmd = commands.get(name);
  if (cmd) return cmd.run(args, ctx);
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
