/**
 * The LZO1X decoder of lzo.wat, instantiated on first use (synchronously: the engine's reads are
 * synchronous; the module is 1.4 KB, under the size browsers compile synchronously on any thread).
 * lzo.ts turns its error codes into the JavaScript decoder's errors. null where WebAssembly is
 * unavailable or the module fails its self-test; the JavaScript decoder then serves.
 */
import { base64Bytes } from '../../bytes';
import { LZO_WASM_BASE64 } from './lzo-wasm-bytes';

export interface LzoWasm {
  /**
   * Decode src into at most maxOut bytes: the output length (the bytes are output(n)), or an error
   * code (-1 empty input, -2 input overrun, -3 output overrun, -4 back-reference before the start,
   * -5 input after the end marker) with where it stopped in failure().
   */
  decode(src: Uint8Array, maxOut: number): number;
  /** The n bytes the last decode wrote (a view the next decode overwrites). */
  output(n: number): Uint8Array;
  failure(): { ip: number; op: number; dist: number };
}

interface Exports {
  memory: WebAssembly.Memory;
  decode(inLen: number, out: number, maxOut: number): number;
  eip: WebAssembly.Global;
  eop: WebAssembly.Global;
  edist: WebAssembly.Global;
}

/** Bytes the decoder may write past the output's end (it copies 8 at a time). */
const SLACK = 16;

function instantiate(): LzoWasm | null {
  if (typeof WebAssembly !== 'object') return null;
  const ex = new WebAssembly.Instance(new WebAssembly.Module(base64Bytes(LZO_WASM_BASE64)), {}).exports as unknown as Exports;
  let mem = new Uint8Array(ex.memory.buffer);
  let outAt = 0;
  const w: LzoWasm = {
    decode(src, maxOut) {
      outAt = (src.length + 15) & ~15;
      const need = outAt + maxOut + SLACK;
      if (need > mem.length) {
        ex.memory.grow(Math.ceil((need - mem.length) / 65536));
        mem = new Uint8Array(ex.memory.buffer);
      }
      mem.set(src, 0);
      return ex.decode(src.length, outAt, maxOut);
    },
    output: (n) => mem.subarray(outAt, outAt + n),
    failure: () => ({ ip: ex.eip.value as number, op: ex.eop.value as number, dist: ex.edist.value as number }),
  };
  // self-test: 5 literals and the end marker; a back-reference before the start
  const hello = new Uint8Array([22, 104, 101, 108, 108, 111, 0x11, 0, 0]);
  const n = w.decode(hello, 5);
  if (n !== 5 || String.fromCharCode(...w.output(5)) !== 'hello') return null;
  if (w.decode(new Uint8Array([21, 1, 2, 3, 4, 0x7c, 0xff, 0x11, 0, 0]), 100) !== -4 || w.failure().dist !== 2048) return null;
  return w;
}

let instance: LzoWasm | null | undefined;

/** Compile and instantiate the module again at the next use (workers/node.ts compileWasmDecodersAgain says why). */
export function compileLzoWasmAgain(): void {
  if (instance) instance = undefined;
}

/** The WebAssembly decoder, or null when it cannot run here. */
export function lzoWasm(): LzoWasm | null {
  if (instance === undefined) {
    try {
      instance = instantiate();
    } catch {
      // no WebAssembly, a policy that forbids compiling it, or an engine that rejects the module
      instance = null;
    }
  }
  return instance;
}
