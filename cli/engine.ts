/**
 * What the CLI needs of the engine, in one module that cli/main.ts imports lazily (a dynamic
 * import) once it knows it has a dump to open: `vmcore --help` and argument errors
 * load nothing of the engine, and the bundle (scripts/build-cli.mjs) puts all of this in a chunk of
 * its own. The disassembler's wasm is loaded separately, only for commands that disassemble.
 */
export { NodeFileSource } from '../workers/source/node';
export { openProgram } from '../workers/node';
export { runCommand, runCommandSafe } from '../workers/commands/registry';
export { initDisassembler } from '../workers/analysis/disasm';
export { openDebugInput } from '../workers/kernel/debuginfo';

/** Commands that disassemble (capstone's wasm must be loaded before they run; it is not for others). */
const DISASSEMBLING = new Set(['dis', 'oops']);

/** Whether any of these command lines disassembles. */
export function needsDisassembler(lines: string[]): boolean {
  return lines.some((l) => DISASSEMBLING.has(l.trim().split(/\s+/)[0]));
}
