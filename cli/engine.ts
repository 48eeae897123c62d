/**
 * What the CLI needs of the engine, in one module that cli/main.ts imports lazily (a dynamic
 * import) once it knows it has a dump to open: `vmcore --help` and argument errors
 * load nothing of the engine, and the bundle (scripts/build-cli.mjs) puts all of this in a chunk of
 * its own. The disassembler's wasm is loaded separately, only for commands that disassemble.
 */
export { NodeFileSource } from '../workers/source/node';
export { openProgram, compileWasmDecodersAgain } from '../workers/node';
export { runCommand, runCommandSafe } from '../workers/commands/registry';
import { isSplitLine, lineDisassembles } from '../workers/commands/registry';
export { initDisassembler } from '../workers/analysis/disasm';
export { openDebugInput } from '../workers/kernel/debuginfo';
export { attachModuleDebug } from '../workers/kernel/dwarf/module';

/** Whether any of these command lines runs the disassembler (capstone's wasm is loaded only then). */
export function needsDisassembler(lines: string[]): boolean {
  return lines.some(lineDisassembles);
}

/**
 * Whether any of these command lines scans the whole dump (a command that runs in parts in the
 * browser's scan workers: search, slabcheck, kmem -S --full).
 */
export function scansWholeDump(lines: string[]): boolean {
  return lines.some(isSplitLine);
}
