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

/**
 * Decompress a raw LZO1X stream (no header) into at most `maxOut` bytes. Returns the output
 * (its length is what the stream produced). Throws CodecError on any malformed input,
 * including output overrun, back-references before the start, missing end marker and
 * trailing input after the end marker.
 */
export function lzo1xDecompress(src: Uint8Array, maxOut: number, dest?: Uint8Array): Uint8Array {
  // into the caller's page when given (a fresh buffer per page is memory the process must fault in)
  const out = dest && dest.length >= maxOut ? dest : new Uint8Array(maxOut);
  const inLen = src.length;
  let ip = 0;
  let op = 0;
  let t = 0;

  const fail = (what: string): never => {
    throw new CodecError(`lzo: ${what} (input byte ${ip} of ${inLen}, output byte ${op})`);
  };
  const needIn = (n: number) => {
    if (inLen - ip < n) fail('input overrun');
  };
  /** The long form of a length: each 0 byte adds 255, the first non-zero byte ends it. */
  const longLength = (): number => {
    let n = 0;
    for (;;) {
      needIn(1);
      const b = src[ip++];
      if (b !== 0) return n + b;
      n += 255;
    }
  };
  const copyLiterals = (n: number) => {
    needIn(n);
    if (maxOut - op < n) fail('output overrun');
    if (n < 32) {
      // most runs are 1-3 bytes: a loop costs less than a subarray and a set
      for (let i = 0; i < n; i++) out[op++] = src[ip++];
      return;
    }
    out.set(src.subarray(ip, ip + n), op);
    ip += n;
    op += n;
  };
  const copyMatch = (dist: number, len: number) => {
    if (dist > op) fail(`back-reference ${dist} before start of output`);
    if (maxOut - op < len) fail('output overrun');
    let m = op - dist;
    if (dist >= len && len >= 32) {
      out.copyWithin(op, m, m + len);
      op += len;
    } else {
      // short or overlapping: byte by byte (an overlapping copy repeats the pattern, as the
      // format intends)
      for (let i = 0; i < len; i++) out[op++] = out[m++];
    }
  };

  if (inLen === 0) fail('empty input');
  let state: State = State.Loop;
  if (src[0] > 17) {
    t = src[ip++] - 17;
    if (t < 4) {
      state = State.MatchNext;
    } else {
      copyLiterals(t);
      state = State.FirstLiteralRun;
    }
  }

  for (;;) {
    switch (state) {
      case State.Loop: {
        needIn(1);
        t = src[ip++];
        if (t >= 16) {
          state = State.Match;
          break;
        }
        if (t === 0) t = 15 + longLength();
        copyLiterals(t + 3);
        state = State.FirstLiteralRun;
        break;
      }
      case State.FirstLiteralRun: {
        needIn(1);
        t = src[ip++];
        if (t >= 16) {
          state = State.Match;
          break;
        }
        needIn(1);
        const dist = 1 + 0x0800 + (t >> 2) + (src[ip++] << 2);
        copyMatch(dist, 3);
        t = src[ip - 2] & 3;
        state = t === 0 ? State.Loop : State.MatchNext;
        break;
      }
      case State.MatchNext: {
        copyLiterals(t);
        needIn(1);
        t = src[ip++];
        state = State.Match;
        break;
      }
      case State.Match: {
        let dist: number;
        let len: number;
        if (t >= 64) {
          // M2
          needIn(1);
          dist = 1 + ((t >> 2) & 7) + (src[ip++] << 3);
          len = (t >> 5) + 1;
        } else if (t >= 32) {
          // M3
          len = t & 31;
          if (len === 0) len = 31 + longLength();
          needIn(2);
          dist = 1 + ((src[ip] | (src[ip + 1] << 8)) >> 2);
          ip += 2;
          len += 2;
        } else if (t >= 16) {
          // M4 (or end of stream)
          dist = (t & 8) << 11;
          len = t & 7;
          if (len === 0) len = 7 + longLength();
          needIn(2);
          dist += (src[ip] | (src[ip + 1] << 8)) >> 2;
          ip += 2;
          if (dist === 0) {
            if (ip !== inLen) fail('input not consumed after end marker');
            return out.subarray(0, op);
          }
          dist += 0x4000;
          len += 2;
        } else {
          // M1 after a match's trailing literals: 2 bytes
          needIn(1);
          dist = 1 + (t >> 2) + (src[ip++] << 2);
          len = 2;
        }
        copyMatch(dist, len);
        t = src[ip - 2] & 3;
        state = t === 0 ? State.Loop : State.MatchNext;
        break;
      }
    }
  }
}
