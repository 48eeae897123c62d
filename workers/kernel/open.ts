/**
 * Opening a dump as a Program with every symbol source of the kernel layer, named here and not
 * registered as a side effect of importing a module: kallsyms (program.ts), the loaded modules'
 * symbols (modules.ts) and the export tables' __kstrtab_/__kstrtabns_/__crc_ symbols (exports.ts).
 */
import type { ByteSource } from '../source/bytesource';
import { Program, type OpenOptions, type SymbolLoader } from './program';
import { loadModuleSymbols } from './modules';
import { loadExportSymbols } from './exports';

/** Every symbol source beyond kallsyms, in the order they are added. */
export const SYMBOL_LOADERS: readonly SymbolLoader[] = [
  { load: loadModuleSymbols, regions: true },
  { load: loadExportSymbols, regions: false },
];

export function openProgram(src: ByteSource, opts: OpenOptions = {}): Program {
  return Program.open(src, opts, SYMBOL_LOADERS);
}
