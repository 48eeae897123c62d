import { MASK64 } from '../bytes';
import { DumpError } from '../errors';
import { noteProblem } from '../problems';

/**
 * VMCOREINFO: the kernel's own description of itself, written into the dump as a note
 * (kernel/crash_core.c and arch/x86/kernel/crash_core_64.c). Lines are KEY=VALUE:
 * SYMBOL(x)=hex, SIZE(t)=dec, OFFSET(t.m)=dec, LENGTH(x)=dec, NUMBER(x)=dec or 0xhex (signed),
 * and bare keys such as OSRELEASE, PAGESIZE, KERNELOFFSET (hex), BUILD-ID, CRASHTIME.
 */
export class VmcoreInfo {
  readonly raw: string;
  readonly entries = new Map<string, string>();
  /** lines that are not KEY=VALUE in printable ASCII (a damaged note) */
  readonly malformed: string[] = [];

  constructor(text: string) {
    this.raw = text;
    for (const line of text.split('\n')) {
      const i = line.indexOf('=');
      // a line the kernel wrote is KEY=VALUE in printable ASCII: anything else is damage, and
      // the value it held is missing (said once, by the Program, for every answer)
      if (i <= 0 || !/^[A-Za-z0-9_().\-]+$/.test(line.slice(0, i).trim()) || /[^\x20-\x7e]/.test(line.slice(i + 1))) {
        if (line.trim() !== '') this.malformed.push(line);
        if (i <= 0) continue;
      }
      this.entries.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  /** SYMBOL(name): a kernel virtual address. */
  symbol(name: string): bigint | undefined {
    const key = `SYMBOL(${name})`;
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    const h = v.replace(/^0x/i, '');
    if (!/^[0-9a-f]{1,16}$/i.test(h)) throw badValue(key, v, 'a hexadecimal address');
    return BigInt('0x' + h);
  }
  size(name: string): number | undefined {
    return this.num(`SIZE(${name})`);
  }
  offset(name: string): number | undefined {
    return this.num(`OFFSET(${name})`);
  }
  length(name: string): number | undefined {
    return this.num(`LENGTH(${name})`);
  }
  /** NUMBER(name) as a signed 64-bit bigint (decimal, possibly negative, or 0x hex). */
  number(name: string): bigint | undefined {
    const key = `NUMBER(${name})`;
    const v = this.entries.get(key);
    return v === undefined ? undefined : parseIntLike(key, v);
  }

  private num(key: string): number | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    const n = Number(parseIntLike(key, v));
    if (!Number.isSafeInteger(n)) throw badValue(key, v, 'a number');
    return n;
  }

  get osrelease(): string | undefined {
    return this.entries.get('OSRELEASE');
  }
  get pageSize(): number {
    const v = this.entries.get('PAGESIZE');
    if (v === undefined) return 4096;
    const n = Number(/^\d+$/.test(v) ? v : NaN);
    if (!(n >= 512 && n <= 1 << 20 && (n & (n - 1)) === 0)) throw badValue('PAGESIZE', v, 'a power of two page size');
    return n;
  }
  get buildId(): string | undefined {
    return this.entries.get('BUILD-ID');
  }
  /** KASLR offset of the kernel image (KERNELOFFSET=hex), 0 when absent. */
  get kernelOffset(): bigint {
    const v = this.entries.get('KERNELOFFSET');
    if (!v) return 0n;
    if (!/^(0x)?[0-9a-f]{1,16}$/i.test(v)) throw badValue('KERNELOFFSET', v, 'a hexadecimal offset');
    return BigInt('0x' + v.replace(/^0x/i, ''));
  }
  /** CRASHTIME=seconds, added by kdump when the kernel panicked (not present in QEMU dumps). */
  get crashTime(): number | undefined {
    const v = this.entries.get('CRASHTIME');
    if (!v) return undefined;
    return /^\d{1,15}$/.test(v) ? Number(v) : undefined; // malformed: as if absent
  }
}

function parseIntLike(key: string, v: string): bigint {
  const s = v.trim();
  if (/^-?0x[0-9a-f]{1,16}$/i.test(s)) {
    const neg = s.startsWith('-');
    const n = BigInt(neg ? s.slice(1) : s);
    return neg ? -n : BigInt.asIntN(64, n & MASK64);
  }
  if (/^-?\d{1,20}$/.test(s)) return BigInt.asIntN(64, BigInt(s));
  throw badValue(key, v, 'a number');
}

/** A line of VMCOREINFO shown safely (printable ASCII, escapes for the rest), at most 60 characters. */
export function shownLine(v: string): string {
  return [...v.slice(0, 60)].map((c) => (c >= ' ' && c <= '~' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('') + (v.length > 60 ? '...' : '');
}

/** A one-line error naming the VMCOREINFO key and showing its value safely. */
function badValue(key: string, v: string, what: string): DumpError {
  const shown = [...v.slice(0, 40)].map((c) => (c >= ' ' && c <= '~' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('');
  const message = `VMCOREINFO: ${key}=${shown}${v.length > 40 ? '...' : ''} is not ${what} (damaged VMCOREINFO note)`;
  // callers that fall back on a missing value still mark their answer
  noteProblem(`vmcoreinfo:${key}`, message);
  return new DumpError(message);
}
