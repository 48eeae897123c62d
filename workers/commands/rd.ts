/**
 * `rd`: read memory, crash's layout (memory.c display_memory):
 *
 *   crash> rd -64 ffff888005ec9800 4
 *   ffff888005ec9800:  0000000000000000 0000000000000000   ................
 *   ffff888005ec9810:  0000000000000000 0000000000000000   ................
 *
 * Options as crash: -8 -16 -32 -64 (unit, default 64), -s (64/32-bit words that are kernel or
 * module symbols shown as name+offset, no ASCII column), -p (physical address), -a (ASCII
 * strings: with no count, up to the first unprintable byte), -x (no ASCII column), -d / -D (signed
 * / unsigned decimal), -e <end> (read up to an end address), -o <offset> (add to the address).
 * The count is in units; it defaults to 1.
 *
 * A read that fails stops the display where crash's does and says why in crash's words
 * ("rd: page excluded: kernel virtual address: ffffffff83095470  type: "64-bit KVADDR""); when
 * nothing could be read that is the command's error, otherwise the lines read come first and the
 * error follows them (JSON: `error`).
 */
import type { Program } from '../kernel/program';
import { MemoryError } from '../errors';
import { START_KERNEL_MAP } from '../arch/x86_64';
import { CommandError, registerCommand, checkCancel, type CommandResult, type CommandContext } from './registry';
import { evalAddress, parseNumber, checkAddressDigits } from './expr';
import { symbolAt, symOffsetText, ensureExportSymbols } from './sym';

const VADDR_PRLEN = 16;
const ASCII_START: Record<number, number> = { 1: 51 + VADDR_PRLEN, 2: 43 + VADDR_PRLEN, 4: 39 + VADDR_PRLEN, 8: 37 + VADDR_PRLEN };
const PER_LINE: Record<number, number> = { 1: 16, 2: 8, 4: 4, 8: 2 };
/**
 * One rd prints at most this many units (and bytes): the text and the JSON words cost about 50
 * bytes per unit, so a count from a typo or a corrupt length never approaches the 1 GiB budget.
 */
const MAX_UNITS = 1 << 20;
const MAX_BYTES = 8 << 20;
const ASCII_UNLIMITED_MAX = 1 << 20;

export interface RdOptions {
  size: 1 | 2 | 4 | 8;
  symbolic: boolean;
  physical: boolean;
  ascii: boolean;
  noAscii: boolean;
  radix: 'hex' | 'dec' | 'udec';
}

/** crash's readmem error text for a failed read of `addr`. */
export function readErrorText(cmd: string, e: MemoryError, addr: bigint, physical: boolean, readtype: string): string {
  const space = physical ? 'physical address' : 'kernel virtual address';
  const what =
    e.kind === 'not-in-dump'
      ? 'page excluded'
      : e.kind === 'unmapped'
        ? `invalid ${space}`
        : e.kind === 'no-such-memory'
          ? 'seek error'
          : e.kind === 'truncated'
            ? 'read error (dump file truncated)'
            : 'read error (page data corrupt)';
  const where = e.kind === 'unmapped' ? `${addr.toString(16)}` : `${space}: ${addr.toString(16)}`;
  return `${cmd}: ${what}: ${where}  type: "${readtype}"`;
}

interface Chunk {
  bytes: Uint8Array;
  /** set when the read stopped early: the address that failed and why */
  failAt?: bigint;
  error?: MemoryError;
}

/** Read up to len bytes page by page, stopping at the first unreadable page. */
function readUpTo(prog: Program, addr: bigint, len: number, physical: boolean, ctx?: CommandContext): Chunk {
  const out = new Uint8Array(len);
  let pos = 0;
  while (pos < len) {
    if (ctx) checkCancel(ctx);
    const cur = BigInt.asUintN(64, addr + BigInt(pos));
    const n = Math.min(len - pos, 4096 - Number(cur & 0xfffn));
    try {
      const b = physical ? prog.mem.readPhys(Number(cur), n) : prog.mem.read(cur, n);
      out.set(b, pos);
    } catch (e) {
      if (e instanceof MemoryError) return { bytes: out.subarray(0, pos), failAt: cur, error: e };
      throw e;
    }
    pos += n;
  }
  return { bytes: out };
}

function unitValue(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

const asciiChar = (c: number) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.');

/** The symbol text crash's `rd -s` shows for a value, or null (value_to_symstr, decimal offsets). */
function symbolic(prog: Program, v: bigint): string | null {
  if (v < START_KERNEL_MAP) return null; // per-cpu offsets are not in crash's symbol range
  const hit = symbolAt(prog, v);
  if (!hit) return null;
  return symOffsetText({ sym: { ...hit.sym, module: undefined }, offset: hit.offset });
}

/** Format the units of `bytes` read at `addr` the way display_memory does (no trailing newline handling). */
export function formatRd(prog: Program, addr: bigint, bytes: Uint8Array, o: RdOptions): string {
  const size = o.size;
  const count = Math.floor(bytes.length / size);
  const perLine = PER_LINE[size];
  const hex = o.radix === 'hex';
  const asciiEndline = hex && !o.symbolic && !o.noAscii;
  let out = '';
  let linelen = 0;
  let chars = '';
  for (let i = 0; i < count; i++) {
    const a = addr + BigInt(i * size);
    if (i % perLine === 0) {
      if (i) {
        if (asciiEndline) out += '  ' + chars;
        out += '\n';
      }
      out += a.toString(16).padStart(VADDR_PRLEN, ' ') + ':  ';
      linelen = VADDR_PRLEN + 3;
      chars = '';
    }
    const v = unitValue(bytes, i * size, size);
    let cell: string | null = null;
    if (o.symbolic && hex && (size === 8 || size === 4)) {
      const s = symbolic(prog, v);
      if (s) cell = s.padEnd(size === 8 ? 16 : 16, ' ') + ' ';
    }
    if (cell === null) {
      if (hex) cell = v.toString(16).padStart(size * 2, '0') + ' ';
      else if (o.radix === 'dec') {
        const sv = BigInt.asIntN(size * 8, v).toString();
        cell = (size === 8 ? sv.padStart(15) : size === 4 ? sv.padStart(12) : size === 2 ? sv.padStart(5) : sv.padStart(3)) + ' ';
      } else {
        const uv = v.toString();
        cell = (size === 8 ? uv.padStart(20) : size === 4 ? uv.padStart(12) : size === 2 ? uv.padStart(5) : uv.padStart(3)) + ' ';
      }
    }
    out += cell;
    linelen += cell.length;
    for (let j = 0; j < size; j++) chars += asciiChar(bytes[i * size + j]);
  }
  if (asciiEndline && chars) {
    const pad = ASCII_START[size] - linelen;
    if (pad > 0) out += ' '.repeat(pad);
    out += '  ' + chars;
  }
  return count ? out + '\n' : '';
}

/** `rd -a`: printable runs, 60 per line, each line starting with its address. */
function formatAscii(addr: bigint, bytes: Uint8Array, unlimited: boolean): string {
  let out = '';
  let a = 0;
  let displayed = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c >= 0x20 && c < 0x7f) {
      if (a % 60 === 0) {
        if (displayed && i) out += '\n';
        out += (addr + BigInt(i)).toString(16).padStart(VADDR_PRLEN, ' ') + ':  ';
      }
      out += String.fromCharCode(c);
      displayed++;
      a++;
    } else {
      if (unlimited) break;
      a = 0;
    }
  }
  return displayed ? out + '\n' : '';
}

registerCommand({
  name: 'rd',
  summary: 'read memory: words with an ASCII column, symbols (-s), physical (-p), strings (-a)',
  usage: 'rd [-8|-16|-32|-64] [-s] [-p] [-a] [-x] [-d|-D] [-o offset] [-e end] <address|symbol|expression> [count]',
  run(args, ctx): CommandResult {
    const prog = ctx.prog;
    const o: RdOptions = { size: 8, symbolic: false, physical: false, ascii: false, noAscii: false, radix: 'hex' };
    let end: bigint | undefined;
    let offset = 0n;
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-8') o.size = 1;
      else if (a === '-16') o.size = 2;
      else if (a === '-32') o.size = 4;
      else if (a === '-64') o.size = 8;
      else if (a === '-e' || a === '-o') {
        const v = args[++i];
        if (v === undefined) throw new CommandError(`rd: ${a} needs a value`);
        if (a === '-e') end = evalAddress(prog, v);
        else {
          const n = parseNumber(v);
          if (n === null) throw new CommandError(`rd: invalid offset: ${v}`);
          offset = n;
        }
      } else if (/^-[spaxdDS]+$/.test(a)) {
        for (const f of a.slice(1)) {
          if (f === 's' || f === 'S') o.symbolic = true;
          else if (f === 'p') o.physical = true;
          else if (f === 'a') o.ascii = true;
          else if (f === 'x') o.noAscii = true;
          else if (f === 'd') o.radix = 'dec';
          else if (f === 'D') o.radix = 'udec';
        }
      } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new CommandError(`rd: invalid option: ${a}`);
      else rest.push(a);
    }
    if (rest.length === 0) throw new CommandError('usage: rd [-8|-16|-32|-64] [-s] [-p] [-a] <address|symbol> [count]');
    if (o.symbolic && o.size !== 8 && o.size !== 4) throw new CommandError(`rd: -s option is only allowed with 64-bit display`);
    if (o.symbolic) ensureExportSymbols(prog);
    // the address is one argument; a count may follow ("rd ffff... 32")
    let countArg: string | undefined;
    let addrText = rest.join(' ');
    if (rest.length > 1 && parseNumber(rest[rest.length - 1]) !== null && !/[-+*/%&|^<>(]$/.test(rest[rest.length - 2])) {
      countArg = rest[rest.length - 1];
      addrText = rest.slice(0, -1).join(' ');
    }
    checkAddressDigits('rd', addrText);
    const addr = BigInt.asUintN(64, evalAddress(prog, addrText) + offset);
    const unit = o.ascii ? 1 : o.size;
    let count: number;
    let unlimited = false;
    if (countArg !== undefined) {
      const n = parseNumber(countArg);
      if (n === null || n <= 0n) throw new CommandError(`rd: invalid count request: ${countArg}`);
      count = Number(n);
    } else if (end !== undefined) {
      if (end <= addr) throw new CommandError(`rd: invalid ending address: ${end.toString(16)}`);
      count = Math.max(1, Number((end - addr) / BigInt(unit)));
    } else if (o.ascii) {
      unlimited = true;
      count = ASCII_UNLIMITED_MAX;
    } else count = 1;
    const maxCount = Math.min(MAX_UNITS, MAX_BYTES / unit);
    if (!Number.isSafeInteger(count) || count > maxCount) {
      throw new CommandError(`rd: count too large: ${countArg ?? count} (at most ${maxCount} ${unit * 8}-bit units per command; read larger ranges in parts)`);
    }

    const readtype = o.ascii ? 'ascii' : `${unit * 8}-bit ${o.physical ? 'PHYSADDR' : 'KVADDR'}`;
    let chunk: Chunk;
    if (unlimited) {
      // read page by page until a NUL or unprintable byte
      const parts: Uint8Array[] = [];
      let total = 0;
      chunk = { bytes: new Uint8Array(0) };
      while (total < count) {
        const cur = addr + BigInt(total);
        const n = Math.min(count - total, 4096 - Number(cur & 0xfffn));
        const c = readUpTo(prog, cur, n, o.physical, ctx);
        parts.push(c.bytes);
        total += c.bytes.length;
        if (c.error) {
          chunk = { bytes: new Uint8Array(0), failAt: c.failAt, error: c.error };
          break;
        }
        if (c.bytes.some((x) => x < 0x20 || x >= 0x7f)) break;
      }
      const all = new Uint8Array(total);
      let p = 0;
      for (const b of parts) {
        all.set(b, p);
        p += b.length;
      }
      chunk = { ...chunk, bytes: all };
    } else chunk = readUpTo(prog, addr, count * unit, o.physical, ctx);

    const usable = chunk.bytes.subarray(0, chunk.bytes.length - (chunk.bytes.length % unit));
    if (chunk.error && usable.length === 0) {
      throw new CommandError(readErrorText('rd', chunk.error, chunk.failAt!, o.physical, readtype));
    }
    let text = o.ascii ? formatAscii(addr, usable, unlimited) : formatRd(prog, addr, usable, o);
    const width = unit * 2;
    const words: string[] = [];
    if (!o.ascii) for (let i = 0; i + unit <= usable.length; i += unit) words.push('0x' + unitValue(usable, i, unit).toString(16).padStart(width, '0'));
    const json: Record<string, unknown> = { address: '0x' + addr.toString(16), words };
    if (o.ascii) json.string = new TextDecoder('latin1').decode(usable);
    if (o.physical) json.physical = true;
    if (chunk.error) {
      const msg = readErrorText('rd', chunk.error, chunk.failAt!, o.physical, readtype);
      text += msg + '\n';
      json.error = msg;
    }
    return { text, json };
  },
});
