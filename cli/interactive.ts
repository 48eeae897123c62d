/**
 * The interactive CLI: `vmcore DUMP` on a terminal opens a `crash> ` prompt (node:readline) with
 * history (kept in ~/.vmcore_history), Tab completion of commands, types, members and symbols,
 * and Ctrl-C cancelling a long command; `vmcore DUMP -` reads commands from standard input, one
 * per line, like `crash -i`.
 *
 * Ctrl-C during a command: the engine is synchronous, so the event loop (and readline's SIGINT)
 * cannot run until the command returns. readline keeps the terminal in raw mode, where Ctrl-C is
 * the byte 0x03 rather than a signal; the command's cancel check polls a non-blocking handle on
 * /dev/tty (at most every 50 ms) and cancels when it reads that byte. Other keys typed meanwhile
 * are handed back to readline.
 */
import { createInterface, type Interface } from 'node:readline';
import { openSync, readSync, closeSync, readFileSync, appendFileSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { listCommands, runCommandSafe, type CommandContext } from '../workers/commands/registry';
import { coalesced, writeJsonLine, writeResultJson } from './output';

const HISTORY_MAX = 1000;

function historyFile(): string {
  return process.env.VMCORE_HISTORY ?? join(homedir(), '.vmcore_history');
}

function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), 'utf8').split('\n').filter(Boolean).slice(-HISTORY_MAX).reverse();
  } catch {
    return [];
  }
}

function saveHistory(line: string): void {
  try {
    appendFileSync(historyFile(), line + '\n');
  } catch {
    /* no writable home: history stays in memory */
  }
}

/** Commands whose argument is a type (struct/union names, "type.member"). */
const TYPE_COMMANDS = new Set(['struct', 'union', 'whatis', 'overlay', 'ptype']);

/** Completions for a line (readline's completer): commands, types, type.member, symbols. */
export function complete(ctx: CommandContext, line: string): [string[], string] {
  const m = /(\S*)$/.exec(line)!;
  const word = m[1];
  const before = line.slice(0, line.length - word.length);
  const first = before.trim().split(/\s+/)[0] ?? '';
  const names = new Set<string>();
  for (const c of listCommands()) {
    names.add(c.name);
    for (const a of c.aliases ?? []) names.add(a);
  }
  // first word: a command (or a struct name used as a command)
  if (!before.trim() || /\|\s*$/.test(before)) {
    const hits = [...names].filter((n) => n.startsWith(word)).sort();
    if (hits.length === 1) return [[hits[0] + ' '], word];
    if (hits.length) return [hits, word];
  }
  let btfNames: string[] = [];
  try {
    btfNames = ctx.prog.hasBtf ? ctx.prog.btf.structNames() : [];
  } catch {
    btfNames = [];
  }
  // type.member[.member]: members of the type (through nested members)
  const dot = /^(?:\(?\s*(?:struct|union)?\s*)?([A-Za-z_]\w*)((?:\.\w+)*)\.(\w*)$/.exec(word);
  if (dot && ctx.prog.hasBtf) {
    const btf = ctx.prog.btf;
    const id = btf.findType(`struct ${dot[1]}`) ?? btf.findType(`union ${dot[1]}`) ?? btf.findType(dot[1]);
    if (id !== null) {
      let t = id;
      const path = dot[2].split('.').filter(Boolean);
      for (const p of path) {
        const loc = btf.memberPath(t, p);
        if (!loc) return [[], word];
        t = loc.type;
      }
      const prefix = word.slice(0, word.length - dot[3].length);
      const members = new Set<string>();
      const collect = (tid: number, depth: number) => {
        for (const mb of btf.members(tid)) {
          if (mb.name) members.add(mb.name);
          else if (depth < 8) collect(mb.type, depth + 1);
        }
      };
      collect(t, 0);
      return [[...members].filter((n) => n.startsWith(dot[3])).sort().map((n) => prefix + n), word];
    }
  }
  if (TYPE_COMMANDS.has(first) || /\(\s*(struct|union)\s+$/.test(before) || /^(struct|union)$/.test(before.trim().split(/\s+/).pop() ?? '')) {
    const hits = btfNames.filter((n) => n.startsWith(word)).slice(0, 200);
    if (hits.length || TYPE_COMMANDS.has(first)) return [hits, word];
  }
  // symbols (kernel and modules)
  if (word.length >= 1) {
    try {
      const syms = ctx.prog.symbols.complete(word, 200);
      return [syms, word];
    } catch {
      return [[], word];
    }
  }
  return [[], word];
}

/** A cancel flag whose check polls the terminal for Ctrl-C (0x03) while a command runs. */
class TtyCancel {
  private fd: number | null = null;
  private last = 0;
  private hit = false;
  /** keys typed during the command, given back to readline afterwards */
  typed = '';

  start(): void {
    this.hit = false;
    this.typed = '';
    this.last = 0;
    try {
      this.fd = openSync('/dev/tty', constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      this.fd = null;
    }
  }

  stop(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  get cancelled(): boolean {
    if (this.hit || this.fd === null) return this.hit;
    const now = Date.now();
    if (now - this.last < 50) return false;
    this.last = now;
    const b = Buffer.alloc(64);
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.fd, b, 0, b.length, null);
      } catch {
        break; // EAGAIN: nothing typed
      }
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        if (b[i] === 0x03) this.hit = true;
        else this.typed += String.fromCharCode(b[i]);
      }
    }
    return this.hit;
  }
}

function print(out: NodeJS.WritableStream, s: string): void {
  out.write(s === '' || s.endsWith('\n') ? s : s + '\n');
}

/** Run one line and print its result (or error) the way the prompt does; long commands stream as they run. */
function runAndPrint(ctx: CommandContext, line: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream): boolean {
  const r = runCommandSafe({ ...ctx, emit: (chunk) => out.write(chunk) }, line);
  if (r.ok && r.result.asJson) {
    const w = coalesced(out);
    writeResultJson(w, r.result);
    w.flush();
  } else if (r.ok) print(out, r.result.text);
  else err.write(`${r.error}\n`);
  return r.ok;
}

/** `vmcore DUMP` on a terminal: the crash> prompt. Resolves with the exit code. */
export function interactive(ctx: CommandContext, input: NodeJS.ReadStream = process.stdin, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  return new Promise((resolve) => {
    const cancel = new TtyCancel();
    const rl: Interface = createInterface({
      input,
      output: out,
      prompt: 'crash> ',
      terminal: true,
      historySize: HISTORY_MAX,
      completer: (line: string) => complete(ctx, line),
    });
    const hist = (rl as unknown as { history: string[] }).history;
    if (Array.isArray(hist)) hist.push(...loadHistory());
    rl.on('SIGINT', () => {
      // Ctrl-C at the prompt: drop the line, as a shell does
      out.write('^C\n');
      rl.write(null, { ctrl: true, name: 'u' });
      rl.prompt();
    });
    rl.on('line', (raw) => {
      const line = raw.trim();
      if (line === 'q' || line === 'quit' || line === 'exit') {
        rl.close();
        return;
      }
      if (line) {
        saveHistory(line);
        cancel.start();
        try {
          runAndPrint({ ...ctx, cancel }, line, out, process.stderr);
        } finally {
          cancel.stop();
        }
        if (cancel.typed) rl.write(cancel.typed.replace(/[\r\n]+$/, ''));
      }
      rl.prompt();
    });
    rl.on('close', () => {
      out.write('\n');
      resolve(0);
    });
    rl.prompt();
  });
}

/** `vmcore DUMP -`: one command per line of standard input (crash -i). Exit 1 if any failed. */
export async function fromStdin(ctx: CommandContext, json: boolean, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  let failed = false;
  for await (const raw of rl) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line === 'q' || line === 'quit' || line === 'exit') break;
    if (json) {
      const r = runCommandSafe(ctx, line);
      const w = coalesced(out);
      writeJsonLine(w, r.ok ? { command: line, ok: true, result: r.result.json ?? r.result.text } : { command: line, ok: false, error: r.error });
      w.flush();
      if (!r.ok) failed = true;
    } else if (!runAndPrint(ctx, line, out, err)) failed = true;
  }
  return failed ? 1 : 0;
}
