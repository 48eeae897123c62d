import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from '../workers/commands/registry';
import { errorMessage } from '../workers/errors';
import { coalesced, textCollected, writeJsonLine, writeResultJson } from './output';
import { nowMs } from '../workers/commands/result';

const USAGE = `usage: vmcore [--vmlinux FILE] [--system-map FILE] [--module-debug KO|DIR] <dump> ['<command>'] [--json]
       vmcore [--vmlinux FILE] [--system-map FILE] <dump> -      (commands from standard input)
       vmcore [--vmlinux FILE] [--system-map FILE] <dump> --batch <file> [--json]
       vmcore --oops <file|-> [--json]      (parse a pasted oops report; no dump needed)
       vmcore <dump> --script <file.js> [args...] [--json] [--timeout MS]
                                           (run a script with prog, args, print; see docs/scripting.md)
       vmcore <dump> --dts > kernel.d.ts   (TypeScript declarations of the dump's kernel types)
Runs one command of the console language (crash-style: sys, log, ps, bt, kmem, struct, rd, sym,
dis, list, search, whatis, eval, ...) on a Linux vmcore; with no command on a terminal, opens a
crash> prompt (history, Tab completion, Ctrl-C cancels a command), else prints "sys";
"vmcore <dump> -" reads commands from standard input, one per line.
--vmlinux / --system-map add the kernel's own files (matched to the dump by build id or
linux_banner; a file of another build is refused): symbols and types where the dump lacks them.
--module-debug FILE.ko|DIR (repeatable) adds modules' DWARF (matched to the loaded module by build
id or srcversion): source lines and locals of module frames in bt -l, dis -l, bt --locals.
"vmcore <dump> help" lists the commands.`;

/** --module-debug arguments: each a .ko, or a directory searched (recursively) for *.ko. */
function moduleInputs(args: string[]): Array<{ path: string; fromDirectory: boolean }> {
  const out: Array<{ path: string; fromDirectory: boolean }> = [];
  for (const a of args) {
    if (!statSync(a).isDirectory()) {
      out.push({ path: a, fromDirectory: false });
      continue;
    }
    const dirs = [a];
    while (dirs.length && out.length < 100_000) {
      const d = dirs.pop()!;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) dirs.push(join(d, e.name));
        else if (/\.ko(\.debug)?$/.test(e.name)) out.push({ path: join(d, e.name), fromDirectory: true });
      }
    }
  }
  return out;
}

let openedDump = false;
/** the first word of every command line run on a dump (which of them the code cache has seen) */
const verbsRun = new Set<string>();
/**
 * A command's shape for the code cache: its name, then its first word's flags ("kmem_s", "bt_a")
 * or "_arg" when that word is an argument ("kmem_arg"): `kmem ADDR` runs other code than `kmem -s`,
 * and a cache written after one of them would otherwise never gain the other's.
 */
const noteVerb = (line: string): void => {
  const [name, next] = line.trim().split(/\s+/);
  if (!name) return;
  const shape = next === undefined || next === '|' ? '' : next.startsWith('-') ? `_${next.replace(/[^a-z]/gi, '').slice(0, 8)}` : '_arg';
  verbsRun.add(shape === '_' ? name : name + shape);
};
/** The commands main() ran (their shapes: noteVerb), for the bin's code cache (cli/built.cjs). */
export function commandVerbs(): string[] {
  return [...verbsRun];
}
/** Whether main() opened a dump (the bin keeps V8's code cache of such a run: cli/built.cjs). */
export function didOpenDump(): boolean {
  return openedDump;
}

/** What the bin (cli/vmcore.cjs) is told while main() runs. */
export interface MainHooks {
  /**
   * The work is long: a script, a prompt, commands from standard input or a command that scans
   * the whole dump (called before it runs), or any work still reading the dump once main() has
   * run `longAfterMs` and the process has used as much CPU time since main() started (called
   * then, from that read: a busy machine stretches the wall time of a short command, not its
   * CPU time). At most once; never for commands that finish in a moment. It may change V8's
   * flags: the WebAssembly page decoders compiled before it are compiled again at their next
   * page (workers/node.ts compileWasmDecodersAgain).
   */
  longWork?(): void;
  /** LONG_AFTER_MS unless given */
  longAfterMs?: number;
}

/**
 * Work past this long after main() starts (wall and CPU time) counts as long
 * (MainHooks.longWork), whatever the command: a command that runs for a second is as long as a
 * scan (`foreach bt` over thousands of tasks), and the commands that finish in a moment end
 * before it.
 */
const LONG_AFTER_MS = 300;

/** Milliseconds of CPU time (user and system, every thread) the process has used since `then`. */
function cpuMsSince(then: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(then);
  return (d.user + d.system) / 1000;
}

/** Returns the exit code. Never prints a stack trace. */
export async function main(argv: string[], out = process.stdout, err = process.stderr, hooks: MainHooks = {}): Promise<number> {
  const started = nowMs();
  const cpuAtStart = process.cpuUsage();
  const longAfter = hooks.longAfterMs ?? LONG_AFTER_MS;
  let toldLong = false;
  /** the engine's, once it is loaded */
  let compileWasmAgain: (() => void) | undefined;
  const longWork = () => {
    if (toldLong) return;
    toldLong = true;
    if (!hooks.longWork) return;
    hooks.longWork();
    // the hook may change V8's flags: wasm page decoders compiled before it are compiled again
    compileWasmAgain?.();
  };
  let json = false;
  let batch: string | undefined;
  let oopsFile: string | undefined;
  const debugFiles: string[] = [];
  const moduleFiles: string[] = [];
  let script: string | undefined;
  const scriptArgs: string[] = [];
  let timeoutMs: number | undefined;
  let dts = false;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--dts') dts = true;
    else if (a === '--timeout') {
      timeoutMs = Number(argv[++i]);
      if (!(timeoutMs > 0)) {
        err.write('vmcore: --timeout needs a number of milliseconds\n');
        return 1;
      }
    } else if (a === '--script') {
      script = argv[++i];
      if (!script) {
        err.write('vmcore: --script needs a file\n');
        return 1;
      }
      // the words after the script file are its args (--json / --timeout still apply to vmcore)
      for (i++; i < argv.length; i++) {
        if (argv[i] === '--json') json = true;
        else if (argv[i] === '--timeout') timeoutMs = Number(argv[++i]);
        else scriptArgs.push(argv[i]);
      }
    } else if (a === '--batch') {
      batch = argv[++i];
      if (!batch) {
        err.write('vmcore: --batch needs a file\n');
        return 1;
      }
    } else if (a === '--oops') {
      oopsFile = argv[++i];
      if (!oopsFile) {
        err.write('vmcore: --oops needs a file (or - for standard input)\n');
        return 1;
      }
    } else if (a === '--vmlinux' || a === '--system-map') {
      const f = argv[++i];
      if (!f) {
        err.write(`vmcore: ${a} needs a file\n`);
        return 1;
      }
      debugFiles.push(f);
    } else if (a === '--module-debug') {
      const f = argv[++i];
      if (!f) {
        err.write(`vmcore: ${a} needs a module .ko (or a directory of them)\n`);
        return 1;
      }
      moduleFiles.push(f);
    } else if (a === '-h' || a === '--help') {
      out.write(USAGE + '\n');
      return 0;
    } else pos.push(a);
  }
  if (oopsFile !== undefined) return oopsOnly(oopsFile, json, out, err);
  if (pos.length === 0) {
    err.write(USAGE + '\n');
    return 1;
  }
  const [dump, ...cmdWords] = pos;
  // the engine is loaded only now (--help and usage errors do without it)
  const { NodeFileSource, openProgram, runCommand, runCommandSafe, initDisassembler, needsDisassembler, scansWholeDump, openDebugInput, attachModuleDebug, compileWasmDecodersAgain } = await import('./engine');
  compileWasmAgain = compileWasmDecodersAgain;
  let batchLines: string[] | undefined;
  if (batch !== undefined) {
    try {
      batchLines = readFileSync(batch, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    } catch (e) {
      err.write(`vmcore: ${batch}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(e)}\n`);
      return 1;
    }
  }
  const fromStdin = cmdWords.length === 1 && cmdWords[0] === '-';
  const atPrompt = cmdWords.length === 0 && batch === undefined && out === process.stdout && process.stdout.isTTY && process.stdin.isTTY;
  const line = cmdWords.length ? cmdWords.join(' ') : 'sys';
  // work known to be long is told so before the dump is opened, which then runs under its flags too
  if (script !== undefined || fromStdin || atPrompt || (!dts && scansWholeDump(batchLines ?? [line]))) longWork();
  let ctx: CommandContext;
  try {
    const debug = debugFiles.map((f) => openDebugInput(new NodeFileSource(f)));
    // the dump's reads are where any long command spends its time: the clock is read there
    class TimedFileSource extends NodeFileSource {
      override readInto(offset: number, dest: Uint8Array): number {
        if (!toldLong && nowMs() - started > longAfter && cpuMsSince(cpuAtStart) > longAfter) longWork();
        return super.readInto(offset, dest);
      }
    }
    const prog = openProgram(new TimedFileSource(dump), { debug });
    attachModuleDebug(prog, moduleInputs(moduleFiles).map((m) => ({ ...m, open: () => new NodeFileSource(m.path) })));
    ctx = { prog };
    openedDump = true;
  } catch (e) {
    err.write(`vmcore: ${errorMessage(e)}\n`);
    return 1;
  }
  // a reader that stops early (| head) ends us quietly, whatever writes: a command, a batch, a
  // script, commands from standard input
  if (out === process.stdout) process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : undefined));
  if (script !== undefined || dts) {
    const { runScriptFile, writeDts } = await import('./script');
    if (script !== undefined) await initDisassembler().catch(() => undefined);
    return script !== undefined ? runScriptFile(ctx.prog, script, scriptArgs, { json, timeoutMs }, out, err) : writeDts(ctx.prog, out, err);
  }
  if (batchLines !== undefined) {
    const lines = batchLines;
    // capstone's wasm loads asynchronously, once, and only for commands that disassemble
    if (needsDisassembler(lines)) await initDisassembler().catch(() => undefined);
    let failed = false;
    const w = coalesced(out);
    for (const line of lines) {
      noteVerb(line);
      const tc = json ? textCollected(ctx) : null;
      const r0 = runCommandSafe(tc?.ctx ?? ctx, line);
      const r = tc && r0.ok ? { ...r0, result: tc.finish(r0.result) } : r0;
      if (json) {
        writeJsonLine(
          w,
          r.ok
            ? { command: line, ok: true, result: r.result.json ?? r.result.text, ...(r.result.problems?.length ? { problems: r.result.problems } : {}) }
            : { command: line, ok: false, error: r.error },
        );
      } else {
        w.write(`crash> ${line}\n`);
        if (r.ok && r.result.asJson) writeResultJson(w, r.result);
        else w.write(r.ok ? ensureNl(r.result.text) : `${r.error}\n`);
        w.write('\n');
      }
      if (!r.ok) failed = true;
    }
    w.flush();
    return failed ? 1 : 0;
  }
  // commands typed at a prompt or read from stdin are not known in advance: load the disassembler
  if (atPrompt || fromStdin) await initDisassembler().catch(() => undefined);
  if (fromStdin) {
    const { fromStdin: run } = await import('./interactive');
    return run(ctx, json, out, err);
  }
  if (atPrompt) {
    const { interactive } = await import('./interactive');
    return interactive(ctx);
  }
  if (needsDisassembler([line])) await initDisassembler().catch(() => undefined);
  try {
    // long commands stream their text to stdout while they run; with --json it streams into pieces,
    // printed only when the command has no JSON (textCollected), and the JSON is written in pieces
    noteVerb(line);
    const tc = json ? textCollected(ctx) : null;
    const r0 = runCommand(tc?.ctx ?? { ...ctx, emit: (chunk) => out.write(chunk) }, line);
    const r = tc ? tc.finish(r0) : r0;
    if (json || r.asJson) {
      const w = coalesced(out);
      writeResultJson(w, r);
      w.flush();
    } else out.write(ensureNl(r.text));
    return 0;
  } catch (e) {
    err.write(`vmcore: ${errorMessage(e)}\n`);
    return 1;
  }
}

function ensureNl(s: string): string {
  return s === '' || s.endsWith('\n') ? s : s + '\n';
}

/** `vmcore --oops FILE`: parse an oops / panic / KASAN / slub_debug report with no dump. */
async function oopsOnly(file: string, json: boolean, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    err.write(`vmcore: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(e)}\n`);
    return 1;
  }
  const { initDisassembler } = await import('./engine');
  await initDisassembler().catch(() => undefined);
  const { parseOopsResult } = await import('../workers/analysis/oops');
  const { formatReport } = await import('../workers/commands/oops');
  const r = parseOopsResult(text);
  if (json) {
    out.write(JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v instanceof Uint8Array ? Array.from(v) : v), 1) + '\n');
  } else if (!r.found) {
    out.write(`oops: ${r.message}\n`);
  } else {
    r.reports.forEach((rep, i) => out.write((i ? '\n' : '') + formatReport(rep, i, r.reports.length).join('\n') + '\n'));
  }
  return r.found ? 0 : 1;
}
