/**
 * The engine's Node entry (CLI, tests, benchmarks): the engine plus Node's native codecs and
 * file reads. The browser worker imports workers/engine.ts instead.
 */
import { inflateSync } from 'node:zlib';
import { NodeFileSource } from './source/node';
import { setNativeZlib } from './format/codecs/zlib';
import { openProgram, type Program } from './engine';
import type { OpenOptions } from './kernel/program';

setNativeZlib((src, outLen) => {
  const b = inflateSync(src, { maxOutputLength: outLen });
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
});

/** Open a dump file from disk. */
export function openDumpFile(path: string, opts?: OpenOptions): Program {
  return openProgram(new NodeFileSource(path), opts);
}

export * from './engine';
