/**
 * Kernel tables in a WebAssembly memory, and bulk.wat's loops over them (bulk.wat says why: one
 * pass over 100k+ entries, run once, is several times faster as WebAssembly than as JavaScript
 * still in V8's first tiers). The BTF and the kallsyms name index read their tables straight into
 * an Arena (no copy: the fresh memory is touched once either way) and call these; where
 * WebAssembly cannot run, or a loop reports a problem, their JavaScript does the same work.
 */
import { base64Bytes } from '../bytes';
import { BULK_WASM_BASE64 } from './bulk-wasm-bytes';

export interface BulkFunctions {
  btf_scan(off: number, end: number, recOff: number, recKind: number, cap: number, fixed: number, per: number): number;
  btf_names(recOff: number, recKind: number, n: number, funcs: number, skip: number, str: number, strLen: number, ids: number, hashes: number, startId: number): number;
  ks_parse(buf: number, len: number, num: number, at: number, lens: number): number;
  ks_seqs(seqs: number, num: number, seen: number): number;
  ks_hash(buf: number, at: number, lens: number, num: number, pw: number, hv: number, hvTail: number, out: number): void;
  ks_buckets(hashes: number, num: number, shift: number, start: number, order: number): void;
  ks_addresses(raw: number, num: number, base: bigint, percpu: number, out: number): void;
  u64_sorted(p: number, n: number): number;
  u64_range(p: number, n: number, min: bigint, out: number): void;
  btf_enums(recOff: number, recKind: number, n: number, str: number, strLen: number, ids: number, at: number, hashes: number, startId: number, cap: number): number;
  hash_slots(hashes: number, m: number, slots: number, mask: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

function bulkModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(base64Bytes(BULK_WASM_BASE64));
    } catch {
      // no WebAssembly here (or a policy against compiling it): the JavaScript loops serve
      compiled = null;
    }
  }
  return compiled;
}

/**
 * A WebAssembly memory of a fixed size (it never grows, so views of it stay valid), allocated
 * from the bottom up and never freed (it is garbage with the tables it holds), with bulk.wat's
 * functions working on it. Offsets are byte offsets into the memory.
 */
export class Arena {
  readonly fn: BulkFunctions;
  readonly buffer: ArrayBuffer;
  private top = 0;

  constructor(module: WebAssembly.Module, bytes: number) {
    const pages = Math.max(1, Math.ceil(bytes / 65536));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.fn = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as BulkFunctions;
    this.buffer = memory.buffer;
  }

  /** n bytes at an offset aligned to `align`; null when the arena has no room. */
  alloc(n: number, align = 8): number | null {
    const at = Math.ceil(this.top / align) * align;
    if (at + n > this.buffer.byteLength) return null;
    this.top = at + n;
    return at;
  }

  u8(at: number, n: number): Uint8Array {
    return new Uint8Array(this.buffer, at, n);
  }
  i8(at: number, n: number): Int8Array {
    return new Int8Array(this.buffer, at, n);
  }
  u16(at: number, n: number): Uint16Array {
    return new Uint16Array(this.buffer, at, n);
  }
  u32(at: number, n: number): Uint32Array {
    return new Uint32Array(this.buffer, at, n);
  }
  i32(at: number, n: number): Int32Array {
    return new Int32Array(this.buffer, at, n);
  }
}

const arenas = new WeakMap<ArrayBuffer, Arena>();

/** An arena of `bytes` bytes, or null where WebAssembly cannot run. */
export function newArena(bytes: number): Arena | null {
  const m = bulkModule();
  if (!m) return null;
  try {
    const a = new Arena(m, bytes);
    arenas.set(a.buffer, a);
    return a;
  } catch {
    // a memory that large refused (RangeError): the JavaScript loops serve
    return null;
  }
}

/** The arena a view lies in (its tables can be worked on by bulk.wat), or null. */
export function arenaOf(view: ArrayBufferView): Arena | null {
  return arenas.get(view.buffer as ArrayBuffer) ?? null;
}

/** Whether bulk.wat compiles and runs here (tests: it must, in Node and the browser). */
export function bulkAvailable(): boolean {
  return bulkModule() !== null;
}
