/**
 * The engine's Node entry (CLI, tests, benchmarks): the engine plus Node's native codecs and
 * file reads. The browser worker imports workers/engine.ts instead.
 */
import { inflateSync, deflateSync, constants } from 'node:zlib';
import { NodeFileSource } from './source/node';
import { setNativeZlib } from './format/codecs/zlib';
import { setNativeZstd } from './format/codecs/zstd';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openProgram, type Program } from './engine';
import type { OpenOptions } from './kernel/program';

import type { NativeInflate as Inflate } from './format/codecs/zlib';

/**
 * A native codec's self-test: `good` decodes to `page`, a corrupted copy `bad` fails (throws, or
 * at least does not pass as the page), and `good` still decodes afterwards (state was reset).
 */
function passesSelfTest(inflate: Inflate, page: Uint8Array, good: Uint8Array, bad: Uint8Array): boolean {
  const ok = (b: Uint8Array) => b.length === page.length && b.every((v, i) => v === page[i]);
  if (!ok(inflate(good, page.length))) return false;
  let failed = false;
  try {
    failed = !ok(inflate(bad, page.length));
  } catch {
    failed = true; // the test wants a failure; which error it is does not matter
  }
  return failed && ok(inflate(good, page.length));
}

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
    // self-test: a page, a corrupt checksum, then a page again
    const page = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
    const z = deflateSync(page);
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
 * libzstd as wasm (@bokuweb/zstd-wasm 0.0.27's zstd.wasm, instantiated synchronously here: the
 * engine's reads are synchronous) for kdump-zstd pages: several times faster than fzstd, which
 * decodes a page's Huffman and FSE tables in JavaScript. The wasm's exports are Emscripten's
 * minified names of that exact version (its zstd.js maps them), so a self-test (compress a page
 * with it, decompress, compare; a corrupt frame must fail) decides; otherwise fzstd stays.
 */
function wasmZstd(): ((src: Uint8Array, outLen: number) => Uint8Array) | null {
  try {
    const req = createRequire(import.meta.url);
    const main = req.resolve('@bokuweb/zstd-wasm'); // dist/common/index.node.js
    if (JSON.parse(readFileSync(join(dirname(main), '../../package.json'), 'utf8')).version !== '0.0.27') return null;
    const bytes = readFileSync(join(dirname(main), 'zstd.wasm'));
    let memory: WebAssembly.Memory | null = null;
    const fail = () => {
      throw new Error('zstd wasm aborted');
    };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      a: {
        a: fail, // proc_exit
        b: () => undefined, // runtime_keepalive_clear
        c: fail, // abort
        d: () => 0, // setitimer
        e: (size: number) => {
          // emscripten_resize_heap
          const m = memory!;
          const need = Math.ceil((size - m.buffer.byteLength) / 65536);
          try {
            if (need > 0) m.grow(need);
            return 1;
          } catch (e) {
            if (!(e instanceof RangeError)) throw e; // Memory.grow's refusal: the heap cannot grow
            return 0;
          }
        },
      },
    });
    const x = instance.exports as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    memory = x.f as WebAssembly.Memory;
    x.g(); // constructors
    const isError = x.h as (code: number) => number;
    const compress = x.m as (dst: number, cap: number, src: number, len: number, level: number) => number;
    // ZSTD_decompress_usingDict(dctx, ...) with no dictionary: one decompression context for
    // every page (ZSTD_decompress would make and free one per page)
    const dctx = (x.n as () => number)();
    const usingDict = x.q as (dctx: number, dst: number, cap: number, src: number, len: number, dict: number, dlen: number) => number;
    const decompress = (dst: number, cap: number, src: number, len: number) => usingDict(dctx, dst, cap, src, len, 0, 0);
    const malloc = x.s as (n: number) => number;
    let srcPtr = 0;
    let srcCap = 0;
    let dstPtr = 0;
    let dstCap = 0;
    const room = (n: number, out: boolean) => {
      if (out ? n <= dstCap : n <= srcCap) return;
      const cap = Math.max(n, 65536);
      const p = malloc(cap);
      if (!p) throw new Error('zstd wasm: out of memory');
      if (out) [dstPtr, dstCap] = [p, cap];
      else [srcPtr, srcCap] = [p, cap];
    };
    const inflate = (src: Uint8Array, outLen: number): Uint8Array => {
      room(src.length, false);
      room(outLen + 1, true);
      new Uint8Array(memory!.buffer, srcPtr, src.length).set(src);
      const n = decompress(dstPtr, outLen + 1, srcPtr, src.length);
      if (isError(n)) throw new Error('corrupt frame');
      return new Uint8Array(memory!.buffer, dstPtr, n >>> 0).slice();
    };
    // self-test
    const page = new Uint8Array(4096).map((_, i) => (i * 13) & 0xff);
    room(page.length, false);
    room(8192, true);
    new Uint8Array(memory.buffer, srcPtr, page.length).set(page);
    const zn = compress(dstPtr, 8192, srcPtr, page.length, 3);
    if (isError(zn)) return null;
    const frame = new Uint8Array(memory.buffer, dstPtr, zn).slice();
    const bad = frame.slice();
    bad[bad.length >> 1] ^= 0xff;
    bad[(bad.length >> 1) + 1] ^= 0x55;
    return passesSelfTest(inflate, page, frame, bad) ? inflate : null;
  } catch {
    // a probe of a wasm build's minified exports: any throw (a TypeError when a name moved) means
    // it cannot be used, and fzstd serves instead
    return null;
  }
}

let zstdWasm: ReturnType<typeof wasmZstd> | undefined;
setNativeZstd(() => (zstdWasm ??= wasmZstd()));

/** Which page decoders the Node entry installed (tests: the fast ones must be in use). */
export function nodeDecoders(): { zlib: 'reused-handle' | 'inflateSync'; zstd: 'wasm' | 'fzstd' } {
  return { zlib: zlibHandle ? 'reused-handle' : 'inflateSync', zstd: (zstdWasm ??= wasmZstd()) ? 'wasm' : 'fzstd' };
}

/** Open a dump file from disk. */
export function openDumpFile(path: string, opts?: OpenOptions): Program {
  return openProgram(new NodeFileSource(path), opts);
}

export * from './engine';
