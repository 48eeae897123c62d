/**
 * The importable entry (`import { open } from 'vmcore-workbench'`, package.json "exports"): open a
 * dump file and get the script API (workers/script/api.ts), the same `prog` a `--script` gets.
 */
import { NodeFileSource } from '../workers/source/node';
import { openProgram } from '../workers/node';
import { scriptProgram, type ScriptProgram } from '../workers/script/api';
import { programDts } from '../workers/script/dts';
import { initDisassembler } from '../workers/analysis/disasm';
import { runCommand } from '../workers/commands/registry';

export interface OpenedDump extends ScriptProgram {
  /** run a console command (crash-style), its text and JSON */
  command(line: string): { text: string; json?: unknown };
  /** the kernel.d.ts of this dump */
  dts(): string;
  close(): void;
}

/** Open a dump file (kdump, flattened or ELF vmcore). Throws a DumpError with one line saying why. */
export async function open(path: string): Promise<OpenedDump> {
  await initDisassembler().catch(() => undefined);
  const src = new NodeFileSource(path);
  let prog;
  try {
    prog = openProgram(src);
  } catch (e) {
    src.close();
    throw e;
  }
  const sp = scriptProgram(prog) as OpenedDump;
  sp.command = (line: string) => {
    const r = runCommand({ prog }, line);
    return { text: r.text, json: r.json };
  };
  sp.dts = () => programDts(prog);
  sp.close = () => src.close();
  return sp;
}
