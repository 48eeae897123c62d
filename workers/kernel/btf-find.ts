import { DumpError, expectedError } from '../errors';
import { u32 } from '../bytes';
import { START_KERNEL_MAP } from '../arch/x86_64';
import type { KernelMemory } from './memory';
import type { VmcoreInfo } from './vmcoreinfo';
import { parseBtfHeader, btfTotalSize } from './btf';
import { rodataStart, readSome } from './kallsyms-find';

/**
 * The kernel's BTF found without __start_BTF/__stop_BTF (kernel symbols unavailable): the .BTF
 * section sits in the image's read-only data (include/asm-generic/vmlinux.lds.h puts it in
 * RO_DATA), so scan that for a BTF header (magic 0xeB9F, version 1, hdr_len 24, the type section
 * first and the string section right after it) whose string section begins with the empty
 * string and ends with a NUL, and which names struct task_struct. Bounded: from the start of
 * the read-only data to init_uts_ns (in .data) or 256 MiB.
 */
export interface BtfLocation {
  start: bigint;
  len: number;
  how: string;
}

const LIMIT = 256n << 20n;

export function findBtfInMemory(mem: KernelMemory, info: VmcoreInfo): BtfLocation {
  const stext = info.symbol('_stext');
  if (stext === undefined || stext < START_KERNEL_MAP) throw new DumpError('VMCOREINFO has no SYMBOL(_stext) to find the kernel image by');
  const from = rodataStart(mem, stext);
  const uts = info.symbol('init_uts_ns');
  const to = uts !== undefined && uts > from && uts - from < LIMIT ? uts : from + LIMIT;
  const CH = 64 * 1024;
  let missing = 0;
  let candidates = 0;
  for (let va = from; va < to; va += BigInt(CH)) {
    const b = readSome(mem, va, CH + 24);
    if (!b) {
      if (++missing > 64) break;
      continue;
    }
    missing = 0;
    for (let i = 0; i < CH; i += 4) {
      // 9f eb 01 00 18 00 00 00 00 00 00 00: magic, version 1, flags 0, hdr_len 24, type_off 0
      if (b[i] !== 0x9f || b[i + 1] !== 0xeb || b[i + 2] !== 1 || b[i + 3] !== 0 || u32(b, i + 4) !== 24 || u32(b, i + 8) !== 0) continue;
      candidates++;
      const at = va + BigInt(i);
      const loc = check(mem, at);
      if (loc) return loc;
    }
  }
  throw new DumpError(
    `no BTF in the kernel's read-only data 0x${from.toString(16)}..0x${to.toString(16)} (${candidates} header-like candidates rejected)`,
  );
}

function check(mem: KernelMemory, at: bigint): BtfLocation | null {
  const hb = mem.tryRead(at, 24);
  if (!hb) return null;
  let h;
  try {
    h = parseBtfHeader(hb);
  } catch (e) {
    expectedError(e); // not a BTF header here
    return null;
  }
  if (h.typeLen === 0 || h.strLen === 0 || h.strOff !== h.typeLen) return null;
  const len = btfTotalSize(h);
  if (len > 256 << 20) return null;
  const strStart = at + BigInt(h.hdrLen + h.strOff);
  const first = mem.tryRead(strStart, 1);
  const last = mem.tryRead(strStart + BigInt(h.strLen - 1), 1);
  if (!first || !last || first[0] !== 0 || last[0] !== 0) return null;
  // a kernel's BTF names task_struct
  const strs = mem.tryRead(strStart, h.strLen);
  if (!strs || indexOfName(strs, 'task_struct') < 0) return null;
  return { start: at, len, how: `found by scanning the read-only data (BTF header at 0x${at.toString(16)}, ${len} bytes)` };
}

function indexOfName(b: Uint8Array, name: string): number {
  const pat = Array.from('\0' + name + '\0', (c) => c.charCodeAt(0));
  outer: for (let i = 0; i + pat.length <= b.length; i++) {
    for (let k = 0; k < pat.length; k++) if (b[i + k] !== pat[k]) continue outer;
    return i;
  }
  return -1;
}
