/**
 * libzstd compiled to wasm (@bokuweb/zstd-wasm 0.0.27's zstd.wasm) as the zstd page decoder:
 * about ten times the pages per second of fzstd, which decodes each page's Huffman and FSE tables
 * in JavaScript. The Node entry (workers/node.ts) compiles the package's file; the browser's
 * workers fetch it as an asset (workers/worker.ts). Instantiated synchronously (the engine's
 * reads are synchronous) from a compiled module.
 *
 * The module's exports are Emscripten's minified names of that exact version (its zstd.js maps
 * them), so a self-test decides: a stored libzstd frame must decode to its page and a corrupted
 * copy must fail; otherwise null, and fzstd stays.
 */
import { codecTestPage, passesSelfTest, ZSTD_TEST_FRAME } from './selftest';
import { base64Bytes } from '../../bytes';
import type { ZstdDecoder } from './zstd';

export function zstdWasmDecoder(module: WebAssembly.Module): ZstdDecoder | null {
  try {
    let memory: WebAssembly.Memory | null = null;
    const fail = () => {
      throw new Error('zstd wasm aborted');
    };
    const instance = new WebAssembly.Instance(module, {
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
    // ZSTD_decompress_usingDict(dctx, ...) with no dictionary: one decompression context for
    // every page (ZSTD_decompress would make and free one per page)
    const dctx = (x.n as () => number)();
    const usingDict = x.q as (dctx: number, dst: number, cap: number, src: number, len: number, dict: number, dlen: number) => number;
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
    const decode: ZstdDecoder = (src, outLen, dest) => {
      room(src.length, false);
      room(outLen + 1, true);
      new Uint8Array(memory!.buffer, srcPtr, src.length).set(src);
      const n = usingDict(dctx, dstPtr, outLen + 1, srcPtr, src.length, 0, 0);
      if (isError(n)) throw new Error('corrupt frame');
      const out = new Uint8Array(memory!.buffer, dstPtr, n >>> 0);
      if (dest && out.length === dest.length) {
        dest.set(out); // straight into the caller's page: no copy of our own per page
        return dest;
      }
      return out.slice();
    };
    const page = codecTestPage();
    const frame = base64Bytes(ZSTD_TEST_FRAME);
    const bad = frame.slice();
    bad[bad.length >> 1] ^= 0xff;
    bad[(bad.length >> 1) + 1] ^= 0x55;
    return passesSelfTest((src, n) => decode(src, n), page, frame, bad) ? decode : null;
  } catch {
    // a wasm build's minified exports: any throw (a TypeError when a name moved) means it cannot
    // be used, and fzstd serves instead
    return null;
  }
}
