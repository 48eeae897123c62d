/**
 * The engine's entry: every dump format registered, every command loaded. The CLI, the worker
 * api, tests and benchmarks open dumps through here.
 */
import type { ByteSource } from './source/bytesource';
import { Program, registerFormats, type OpenOptions } from './kernel/program';
import { openKdump } from './format/kdump';
import { openFlattened } from './format/flattened';
import './kernel/modules';
import './commands/index';

registerFormats({ openKdump: (src) => openKdump(src), openFlattened: (src) => openFlattened(src) });

export function openProgram(src: ByteSource, opts?: OpenOptions): Program {
  return Program.open(src, opts);
}

export { Program };
