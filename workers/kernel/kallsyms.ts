import { DumpError } from '../errors';
import { u16, u32, i32, u64 } from '../bytes';
import type { KernelMemory } from './memory';
import type { VmcoreInfo } from './vmcoreinfo';

/**
 * kallsyms read from the dump's own memory (kernel/kallsyms.c, scripts/kallsyms.c), located by
 * the kallsyms entries of VMCOREINFO (Linux >= 6.0).
 *
 * kallsyms_names: per symbol a length (one byte; since 6.1 two bytes when the high bit is set:
 * (b0 & 0x7f) | (b1 << 7)) and that many token indexes; tokens expand through kallsyms_token_index
 * (u16 offsets) into kallsyms_token_table (NUL-terminated strings). The first character of the
 * expansion is the symbol type (T, t, D, ...).
 *
 * Addresses have been encoded three ways, so the encoding is detected from the data, checked
 * against SYMBOL(_stext) of VMCOREINFO:
 *  - kallsyms_addresses[]: absolute 64-bit addresses (!CONFIG_KALLSYMS_BASE_RELATIVE);
 *  - kallsyms_offsets[] + kallsyms_relative_base with CONFIG_KALLSYMS_ABSOLUTE_PERCPU: offsets
 *    >= 0 are absolute (per-cpu symbols), negative ones are relative_base - 1 - offset;
 *  - kallsyms_offsets[] as u32 added to relative_base (or, where relative_base is gone, to the
 *    base implied by _stext).
 */
export interface KallsymsRaw {
  names: string[];
  types: string[];
  /** addresses, index-aligned with names (a typed array: no heap object per symbol) */
  addrs: BigUint64Array;
  encoding: 'absolute' | 'absolute-percpu' | 'relative';
}

export function readKallsyms(mem: KernelMemory, info: VmcoreInfo): KallsymsRaw {
  const namesAddr = info.symbol('kallsyms_names');
  const numAddr = info.symbol('kallsyms_num_syms');
  const tokTable = info.symbol('kallsyms_token_table');
  const tokIndex = info.symbol('kallsyms_token_index');
  const offsetsAddr = info.symbol('kallsyms_offsets');
  const relBaseAddr = info.symbol('kallsyms_relative_base');
  const addressesAddr = info.symbol('kallsyms_addresses');
  if (!namesAddr || !numAddr || !tokTable || !tokIndex || (!offsetsAddr && !addressesAddr)) {
    throw new DumpError(
      'VMCOREINFO has no kallsyms entries (kernels before 6.0 do not export them): kernel symbols unavailable; give a System.map or a vmlinux',
    );
  }
  const num = mem.u32(numAddr);
  if (num === 0 || num > 5_000_000) throw new DumpError(`kallsyms_num_syms is ${num}: kallsyms memory looks corrupt`);

  // token table: 256 tokens
  const index = mem.read(tokIndex, 512);
  const lastTok = u16(index, 255 * 2);
  const table = mem.read(tokTable, lastTok + 256);
  const tokens: string[] = new Array(256);
  const dec = new TextDecoder('latin1');
  for (let t = 0; t < 256; t++) {
    const s = u16(index, t * 2);
    let e = s;
    while (e < table.length && table[e] !== 0) e++;
    tokens[t] = dec.decode(table.subarray(s, e));
  }

  // names: one read up to the token table, which the kernel links after names and markers
  // (scripts/kallsyms.c output order); fall back to chunked reads when it is not after them
  const span = tokTable > namesAddr && tokTable - namesAddr < 64n << 20n ? Number(tokTable - namesAddr) : 0;
  const names: string[] = new Array(num);
  const types: string[] = new Array(num);
  const buf = span ? mem.read(namesAddr, span) : readNamesChunked(mem, namesAddr, num);
  decodeNames(buf, num, tokens, names, types);

  // addresses
  const stext = info.symbol('_stext');
  const stextIdx = names.indexOf('_stext');
  let addrs: BigUint64Array;
  let encoding: KallsymsRaw['encoding'];
  if (addressesAddr && !offsetsAddr) {
    const raw = mem.read(addressesAddr, num * 8);
    addrs = new BigUint64Array(num);
    for (let i = 0; i < num; i++) addrs[i] = u64(raw, i * 8);
    encoding = 'absolute';
  } else {
    const raw = mem.read(offsetsAddr!, num * 4);
    const relBase = relBaseAddr ? mem.u64(relBaseAddr) : undefined;
    const candidates: Array<[KallsymsRaw['encoding'], (i: number) => bigint]> = [];
    if (relBase !== undefined) {
      candidates.push([
        'absolute-percpu',
        (i) => {
          const o = i32(raw, i * 4);
          return o >= 0 ? BigInt(o) : relBase - 1n - BigInt(o);
        },
      ]);
      candidates.push(['relative', (i) => relBase + BigInt(u32(raw, i * 4))]);
    }
    if (stext !== undefined && stextIdx >= 0) {
      const base = stext - BigInt(u32(raw, stextIdx * 4));
      candidates.push(['relative', (i) => base + BigInt(u32(raw, i * 4))]);
    }
    let chosen: [KallsymsRaw['encoding'], (i: number) => bigint] | undefined;
    for (const c of candidates) {
      if (stext !== undefined && stextIdx >= 0 ? c[1](stextIdx) === stext : true) {
        chosen = c;
        break;
      }
    }
    if (!chosen) throw new DumpError('kallsyms: no known address encoding gives _stext its VMCOREINFO address');
    addrs = new BigUint64Array(num);
    for (let i = 0; i < num; i++) addrs[i] = BigInt.asUintN(64, chosen[1](i));
    encoding = chosen[0];
  }
  return { names, types, addrs, encoding };
}

/** Expand every kallsyms_names entry (length byte(s) + token indexes) into names and types. */
function decodeNames(buf: Uint8Array, num: number, tokens: string[], names: string[], types: string[]): void {
  let pos = 0;
  const n = buf.length;
  for (let i = 0; i < num; i++) {
    if (pos >= n) throw new DumpError(`kallsyms_names ends after ${i} of ${num} entries: kallsyms memory looks corrupt`);
    let len = buf[pos++];
    if (len & 0x80) len = (len & 0x7f) | (buf[pos++] << 7);
    if (len === 0 || len > 4096 || pos + len > n) {
      throw new DumpError(`kallsyms_names entry ${i} has length ${len}: kallsyms memory looks corrupt`);
    }
    let s = tokens[buf[pos]];
    for (let k = 1; k < len; k++) s += tokens[buf[pos + k]];
    pos += len;
    types[i] = s.charAt(0);
    names[i] = s.substring(1);
  }
}

/** kallsyms_names when its end is not known: read enough in 256 KiB steps. */
function readNamesChunked(mem: KernelMemory, at: bigint, num: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  let seen = 0;
  let cur: Uint8Array = new Uint8Array(0);
  // walk entries to find the end, reading more as needed
  while (seen < num) {
    if (pos + 2 > total) {
      const more = mem.read(at + BigInt(total), 256 * 1024);
      chunks.push(more);
      total += more.length;
      cur = concat(chunks, total);
      continue;
    }
    let len = cur[pos];
    let hdr = 1;
    if (len & 0x80) {
      len = (len & 0x7f) | (cur[pos + 1] << 7);
      hdr = 2;
    }
    if (pos + hdr + len > total) {
      const more = mem.read(at + BigInt(total), 256 * 1024);
      chunks.push(more);
      total += more.length;
      cur = concat(chunks, total);
      continue;
    }
    pos += hdr + len;
    seen++;
  }
  return cur;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out: Uint8Array = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
