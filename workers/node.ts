/**
 * The engine's Node entry (CLI, tests, benchmarks): the engine plus Node's native codecs and
 * file reads. The browser worker imports workers/engine.ts instead.
 */
import { inflateSync, deflateSync, constants } from 'node:zlib';
import { NodeFileSource } from './source/node';
import { setNativeZlib } from './format/codecs/zlib';
import { openProgram, type Program } from './engine';
import type { OpenOptions } from './kernel/program';

type Inflate = (src: Uint8Array, outLen: number) => Uint8Array;

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
    const inflate: Inflate = (src, outLen) => {
      error = null;
      const out = Buffer.allocUnsafe(outLen + 1);
      handle.writeSync(constants.Z_FINISH, src, 0, src.length, out, 0, outLen + 1);
      const n = outLen + 1 - state[0];
      handle.reset();
      if (error !== null) throw new Error(error);
      return new Uint8Array(out.buffer, out.byteOffset, n);
    };
    // self-test: a page, a corrupt checksum, then a page again
    const page = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
    const z = deflateSync(page);
    const ok = (b: Uint8Array) => b.length === page.length && b.every((v, i) => v === page[i]);
    if (!ok(inflate(z, 4096))) return null;
    const bad = Uint8Array.from(z);
    bad[bad.length - 1] ^= 1;
    let threw = false;
    try {
      inflate(bad, 4096);
    } catch {
      threw = true;
    }
    if (!threw || !ok(inflate(z, 4096))) return null;
    return inflate;
  } catch {
    return null;
  }
}

setNativeZlib(reusedInflate() ?? inflateEach);

/** Open a dump file from disk. */
export function openDumpFile(path: string, opts?: OpenOptions): Program {
  return openProgram(new NodeFileSource(path), opts);
}

export * from './engine';
