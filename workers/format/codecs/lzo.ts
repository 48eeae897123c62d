/**
 * LZO1X decompressor with the semantics of liblzo2's lzo1x_decompress_safe: every read of the
 * input and every write (and back-reference) of the output is bounds-checked, errors throw a
 * CodecError, and every step consumes at least one input byte, so it always terminates.
 * It decodes what lzo1x_1_compress and lzo1x_999_compress write (one stream format).
 *
 * The stream is a sequence of instructions; the first byte of each selects its kind:
 *   0..15   after a match with no trailing literals: a literal run (length 3+, or long form when 0)
 *           directly after a literal run: a 3-byte match at distance 0x801 + (t>>2) + (next<<2)
 *           after 1..3 trailing literals: a 2-byte match at distance 1 + (t>>2) + (next<<2)
 *   16..31  M4: distance 0x4000 + ((t&8)<<11) + (LE16>>2), length 2 + (t&7 or long form);
 *           distance 0x4000 with the extra bits 0 is the end-of-stream marker (0x11 0x00 0x00)
 *   32..63  M3: distance 1 + (LE16>>2), length 2 + (t&31 or long form)
 *   64..255 M2: distance 1 + ((t>>2)&7) + (next<<3), length (t>>5)+1
 * The low 2 bits of the instruction's last-but-one byte give 0..3 literals copied after a match.
 * A first byte > 17 is a special start: a literal run of (byte - 17) bytes.
 */
import { CodecError } from './errors';
import { lzoWasm } from './lzo-wasm';

const enum State {
  /** expecting an instruction where a literal run is allowed */
  Loop,
  /** right after a literal run: 0..15 means a 3-byte match with the M1 long distance */
  FirstLiteralRun,
  /** dispatch on the instruction byte `t` */
  Match,
  /** copy `t` (1..3) trailing literals, then read an instruction */
  MatchNext,
}

function fail(what: string, ip: number, inLen: number, op: number): never {
  throw new CodecError(`lzo: ${what} (input byte ${ip} of ${inLen}, output byte ${op})`);
}

/**
 * Where the long form of a length that starts at `ip` ends: its first non-zero byte (each 0 byte
 * before it adds 255 to the length, the non-zero byte itself ends it).
 */
function longLengthEnd(src: Uint8Array, ip: number, op: number): number {
  while (ip < src.length && src[ip] === 0) ip++;
  if (ip >= src.length) fail('input overrun', ip, src.length, op);
  return ip;
}

/**
 * Decompress a raw LZO1X stream (no header) into at most `maxOut` bytes. Returns the output
 * (its length is what the stream produced). Throws CodecError on any malformed input,
 * including output overrun, back-references before the start, missing end marker and
 * trailing input after the end marker.
 *
 * Decoded by lzo.wat's WebAssembly where it runs (2.4x the pages per second of the JavaScript
 * below once both are compiled, and no slow first pages); the same bytes and the same errors,
 * which lzo-wasm.test.ts checks on every LZO page of the real dumps and corrupted copies.
 */
export function lzo1xDecompress(src: Uint8Array, maxOut: number, dest?: Uint8Array): Uint8Array {
  const w = lzoWasm();
  if (!w) return lzo1xDecompressJs(src, maxOut, dest);
  const n = w.decode(src, maxOut);
  if (n < 0) {
    const { ip, op, dist } = w.failure();
    const what =
      n === -1 ? 'empty input'
      : n === -2 ? 'input overrun'
      : n === -3 ? 'output overrun'
      : n === -4 ? `back-reference ${dist} before start of output`
      : 'input not consumed after end marker';
    fail(what, ip, src.length, op);
  }
  if (dest && dest.length >= maxOut) {
    dest.set(w.output(n));
    return dest.subarray(0, n);
  }
  return w.output(n).slice();
}

/**
 * The same decoder in JavaScript (where WebAssembly cannot run, and the reference the
 * WebAssembly is tested against).
 *
 * One function with no closures over the positions: `ip` and `op` stay in registers (helpers
 * that shared them kept them in a heap context, read and written on every byte: 1.45x slower).
 */
export function lzo1xDecompressJs(src: Uint8Array, maxOut: number, dest?: Uint8Array): Uint8Array {
  // into the caller's page when given (a fresh buffer per page is memory the process must fault in)
  const out = dest && dest.length >= maxOut ? dest : new Uint8Array(maxOut);
  const inLen = src.length;
  let ip = 0;
  let op = 0;
  let t = 0;

  if (inLen === 0) fail('empty input', ip, inLen, op);
  let state: State = State.Loop;
  if (src[0] > 17) {
    t = src[ip++] - 17;
    if (t < 4) {
      state = State.MatchNext;
    } else {
      if (inLen - ip < t) fail('input overrun', ip, inLen, op);
      if (maxOut - op < t) fail('output overrun', ip, inLen, op);
      for (let i = 0; i < t; i++) out[op++] = src[ip++];
      state = State.FirstLiteralRun;
    }
  }

  for (;;) {
    if (state === State.Loop || state === State.FirstLiteralRun) {
      if (ip >= inLen) fail('input overrun', ip, inLen, op);
      t = src[ip++];
      if (t < 16) {
        if (state === State.Loop) {
          // a literal run of t + 3 bytes (t = 0: the long form, each 0 byte adding 255)
          if (t === 0) {
            const e = longLengthEnd(src, ip, op);
            t = 15 + 255 * (e - ip) + src[e];
            ip = e + 1;
          }
          const n = t + 3;
          if (inLen - ip < n) fail('input overrun', ip, inLen, op);
          if (maxOut - op < n) fail('output overrun', ip, inLen, op);
          if (n < 32) {
            // most runs are short: a loop costs less than a subarray and a set
            for (let i = 0; i < n; i++) out[op++] = src[ip++];
          } else {
            out.set(src.subarray(ip, ip + n), op);
            ip += n;
            op += n;
          }
          state = State.FirstLiteralRun;
          continue;
        }
        // right after a literal run: a 3-byte match at distance 0x801 + (t >> 2) + (next << 2)
        if (ip >= inLen) fail('input overrun', ip, inLen, op);
        const dist = 1 + 0x0800 + (t >> 2) + (src[ip++] << 2);
        if (dist > op) fail(`back-reference ${dist} before start of output`, ip, inLen, op);
        if (maxOut - op < 3) fail('output overrun', ip, inLen, op);
        const m = op - dist;
        out[op] = out[m];
        out[op + 1] = out[m + 1];
        out[op + 2] = out[m + 2];
        op += 3;
        t = src[ip - 2] & 3;
        state = t === 0 ? State.Loop : State.MatchNext;
        continue;
      }
      state = State.Match;
    }
    if (state === State.MatchNext) {
      // 1..3 literals after a match, then an instruction
      if (inLen - ip < t) fail('input overrun', ip, inLen, op);
      if (maxOut - op < t) fail('output overrun', ip, inLen, op);
      for (let i = 0; i < t; i++) out[op++] = src[ip++];
      if (ip >= inLen) fail('input overrun', ip, inLen, op);
      t = src[ip++];
    }
    // State.Match: dispatch on t
    let dist: number;
    let len: number;
    if (t >= 64) {
      // M2
      if (ip >= inLen) fail('input overrun', ip, inLen, op);
      dist = 1 + ((t >> 2) & 7) + (src[ip++] << 3);
      len = (t >> 5) + 1;
    } else if (t >= 32) {
      // M3
      len = t & 31;
      if (len === 0) {
        const e = longLengthEnd(src, ip, op);
        len = 31 + 255 * (e - ip) + src[e];
        ip = e + 1;
      }
      if (inLen - ip < 2) fail('input overrun', ip, inLen, op);
      dist = 1 + ((src[ip] | (src[ip + 1] << 8)) >> 2);
      ip += 2;
      len += 2;
    } else if (t >= 16) {
      // M4 (or end of stream)
      dist = (t & 8) << 11;
      len = t & 7;
      if (len === 0) {
        const e = longLengthEnd(src, ip, op);
        len = 7 + 255 * (e - ip) + src[e];
        ip = e + 1;
      }
      if (inLen - ip < 2) fail('input overrun', ip, inLen, op);
      dist += (src[ip] | (src[ip + 1] << 8)) >> 2;
      ip += 2;
      if (dist === 0) {
        if (ip !== inLen) fail('input not consumed after end marker', ip, inLen, op);
        return out.subarray(0, op);
      }
      dist += 0x4000;
      len += 2;
    } else {
      // M1 after a match's trailing literals: 2 bytes
      if (ip >= inLen) fail('input overrun', ip, inLen, op);
      dist = 1 + (t >> 2) + (src[ip++] << 2);
      len = 2;
    }
    if (dist > op) fail(`back-reference ${dist} before start of output`, ip, inLen, op);
    if (maxOut - op < len) fail('output overrun', ip, inLen, op);
    let m = op - dist;
    if (dist >= len && len >= 32) {
      out.copyWithin(op, m, m + len);
      op += len;
    } else {
      // short or overlapping: byte by byte (an overlapping copy repeats the pattern, as the
      // format intends)
      for (let i = 0; i < len; i++) out[op++] = out[m++];
    }
    t = src[ip - 2] & 3;
    state = t === 0 ? State.Loop : State.MatchNext;
  }
}
