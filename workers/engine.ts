/**
 * The engine's entry: every dump format registered, every command loaded. The CLI, the worker
 * api, tests and benchmarks open dumps through here.
 */
import type { ByteSource } from './source/bytesource';
import { Program, registerFormats, type OpenOptions } from './kernel/program';
import { openProgram as openWithSymbols, SYMBOL_LOADERS } from './kernel/open';
import { openKdump } from './format/kdump';
import { openFlattened } from './format/flattened';
import './commands/index';

registerFormats({ openKdump: (src) => openKdump(src), openFlattened: (src) => openFlattened(src) });

export function openProgram(src: ByteSource, opts?: OpenOptions): Program {
  return openWithSymbols(src, opts);
}

export { Program, SYMBOL_LOADERS };
