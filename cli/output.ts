/**
 * How the CLI writes: output gathered into writes of about 64 KiB, and a result's JSON written in
 * pieces (writeJsonText), never made whole.
 */
import { nowMs, writeJsonText, writeJsonValue } from '../workers/commands/result';
import type { CommandContext, CommandResult } from '../workers/commands/registry';

export interface Coalesced {
  write(s: string): void;
  flush(): void;
}

/**
 * Output gathered into writes of about 64 KiB (a write per line cost 6 ms of a 200-command batch,
 * and a JSON of a million objects is millions of pieces), written at least every 100 ms so that a
 * long batch still shows its progress.
 */
export function coalesced(out: NodeJS.WritableStream): Coalesced {
  let parts: string[] = [];
  let size = 0;
  let last = nowMs();
  const flush = () => {
    if (parts.length) out.write(parts.length === 1 ? parts[0] : parts.join(''));
    parts = [];
    size = 0;
    last = nowMs();
  };
  return {
    write(s) {
      parts.push(s);
      size += s.length;
      if (size >= 65536 || nowMs() - last >= 100) flush();
    },
    flush,
  };
}

/** A result's JSON as jsonText makes it, written in pieces through `w`. */
export function writeResultJson(w: Coalesced, r: Pick<CommandResult, 'text' | 'json' | 'problems'>): void {
  writeJsonText(r, (s) => w.write(s));
}

/** A value as one line of JSON (JSON.stringify, bigints as hex) and a newline, written in pieces through `w`. */
export function writeJsonLine(w: Coalesced, v: unknown): void {
  writeJsonValue(v, (s) => w.write(s), 0);
  w.write('\n');
}

/**
 * A context for a command whose JSON is printed: its text streams into pieces, not kept line by
 * line (a million lines of `kmem -S --full` held as strings were ~200 MB), and `finish` gives the
 * result back with that text only when it has no JSON (its text is then what is printed).
 */
export function textCollected(ctx: CommandContext): { ctx: CommandContext; finish(r: CommandResult): CommandResult } {
  let chunks: string[] = [];
  return {
    ctx: { ...ctx, emit: (chunk) => chunks.push(chunk) },
    finish(r) {
      const streamed = chunks;
      chunks = [];
      if (!streamed.length || r.json !== undefined) return r;
      // the result's own properties as they are (as finishResult keeps them), the whole text
      const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(r)) as CommandResult;
      out.text = streamed.join('') + r.text;
      return out;
    },
  };
}
