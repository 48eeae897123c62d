/**
 * The engine's Node entry (CLI, tests, benchmarks): the engine plus Node's native codecs and
 * file reads. The browser worker imports workers/engine.ts instead.
 */
import { inflateSync, constants } from 'node:zlib';
import { NodeFileSource } from './source/node';
import { setNativeZlib } from './format/codecs/zlib';
import { setNativeZstd, type ZstdDecoder } from './format/codecs/zstd';
import { zstdWasmDecoder } from './format/codecs/zstd-wasm';
import { compileLzoWasmAgain } from './format/codecs/lzo-wasm';
import { codecTestPage, passesSelfTest, ZLIB_TEST_STREAM } from './format/codecs/selftest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openProgram, type Program } from './engine';
import type { OpenOptions } from './kernel/program';

import type { NativeInflate as Inflate } from './format/codecs/zlib';

const inflateEach: Inflate = (src, outLen) => {
  const b = inflateSync(src, { maxOutputLength: outLen });
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/**
 * One zlib inflate handle reset between pages. zlib.inflateSync builds a stream object per call,
 * which costs as much as inflating a 4 KiB page (a kdump-zlib file is one stream per page, and
 * opening one reads about 1500 pages). Node has no public synchronous API that reuses a handle,
 * so this drives the handle node:zlib itself uses (its writeSync/reset, the same calls
 * zlib.inflateSync makes); it must pass a self-test first, else every page goes through
 * zlib.inflateSync. Errors (bad header, Adler-32 mismatch, truncated stream) come back from
 * zlib as they do through inflateSync; a stream longer than outLen returns outLen + 1 bytes.
 */
function reusedInflate(): Inflate | null {
  try {
    if (/pending-deprecation/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) return null;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const binding = (process as any).binding('zlib');
    const handle = new binding.Zlib(constants.INFLATE);
    const state = new Uint32Array(2); // [avail_out, avail_in] after each write
    let error: string | null = null;
    handle.onerror = (message: string) => {
      error = message;
    };
    handle.init(15, 6, 8, 0, state, () => undefined, undefined);
    // one output buffer reused by calls whose caller copies the page out at once (scratch):
    // a fresh 4 KiB buffer per page is a new allocation the process must fault in
    let reused = Buffer.allocUnsafe(0);
    const inflate: Inflate = (src, outLen, scratch) => {
      error = null;
      if (scratch && reused.length < outLen + 1) reused = Buffer.allocUnsafe(outLen + 1);
      const out = scratch ? reused : Buffer.allocUnsafe(outLen + 1);
      handle.writeSync(constants.Z_FINISH, src, 0, src.length, out, 0, outLen + 1);
      const n = outLen + 1 - state[0];
      handle.reset();
      if (error !== null) throw new Error(error);
      return new Uint8Array(out.buffer, out.byteOffset, n);
    };
    // self-test: a page, a corrupt checksum, then a page again (a stored stream: deflating one
    // here, ~3 ms, cost more than the rest of the test)
    const page = codecTestPage();
    const z = Uint8Array.from(Buffer.from(ZLIB_TEST_STREAM, 'base64'));
    const bad = Uint8Array.from(z);
    bad[bad.length - 1] ^= 1;
    return passesSelfTest(inflate, page, z, bad) ? inflate : null;
  } catch {
    // a probe of node's internal zlib binding: any throw (a TypeError when the binding changed
    // shape) means it cannot be used, and zlib.inflateSync serves instead
    return null;
  }
}

const zlibHandle = reusedInflate();
setNativeZlib(zlibHandle ?? inflateEach);

/**
 * libzstd as wasm for kdump-zstd pages (zstd-wasm.ts): the package's zstd.wasm, compiled here on
 * the first zstd page; null (fzstd) when the package is another version or the file is missing.
 */
function wasmZstd(): ZstdDecoder | null {
  zstdCompiles++;
  try {
    const req = createRequire(import.meta.url);
    const main = req.resolve('@bokuweb/zstd-wasm'); // dist/common/index.node.js
    if (JSON.parse(readFileSync(join(dirname(main), '../../package.json'), 'utf8')).version !== '0.0.27') return null;
    return zstdWasmDecoder(new WebAssembly.Module(readFileSync(join(dirname(main), 'zstd.wasm'))));
  } catch {
    return null; // not installed, or not compilable here
  }
}

let zstdWasm: ZstdDecoder | null | undefined;
let zstdCompiles = 0;
const makeZstd = () => (zstdWasm ??= wasmZstd());
setNativeZstd(makeZstd);

/**
 * Which page decoders the Node entry installed (tests: the fast ones must be in use), and how
 * many times zstd.wasm was compiled.
 */
export function nodeDecoders(): { zlib: 'reused-handle' | 'inflateSync'; zstd: 'wasm' | 'fzstd'; zstdCompiles: number } {
  return { zlib: zlibHandle ? 'reused-handle' : 'inflateSync', zstd: makeZstd() ? 'wasm' : 'fzstd', zstdCompiles };
}

/**
 * Compile the WebAssembly page decoders (zstd, LZO) again at their next page. V8 settles a
 * module's compiler tiers when it compiles it: the CLI's bin keeps a short command's wasm in V8's
 * baseline compiler and lets long work have the optimizing one too (cli/vmcore.cjs), and a
 * command that turned long after its first pages calls this so that the rest of its pages are
 * decoded by a module compiled under the flags of long work.
 */
export function compileWasmDecodersAgain(): void {
  if (zstdWasm) {
    zstdWasm = undefined;
    setNativeZstd(makeZstd);
  }
  compileLzoWasmAgain();
}

/** Open a dump file from disk. */
export function openDumpFile(path: string, opts?: OpenOptions): Program {
  return openProgram(new NodeFileSource(path), opts);
}

export * from './engine';
