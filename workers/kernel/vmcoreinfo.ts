import { MASK64 } from '../bytes';

/**
 * VMCOREINFO: the kernel's own description of itself, written into the dump as a note
 * (kernel/crash_core.c and arch/x86/kernel/crash_core_64.c). Lines are KEY=VALUE:
 * SYMBOL(x)=hex, SIZE(t)=dec, OFFSET(t.m)=dec, LENGTH(x)=dec, NUMBER(x)=dec or 0xhex (signed),
 * and bare keys such as OSRELEASE, PAGESIZE, KERNELOFFSET (hex), BUILD-ID, CRASHTIME.
 */
export class VmcoreInfo {
  readonly raw: string;
  readonly entries = new Map<string, string>();

  constructor(text: string) {
    this.raw = text;
    for (const line of text.split('\n')) {
      const i = line.indexOf('=');
      if (i <= 0) continue;
      this.entries.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  /** SYMBOL(name): a kernel virtual address. */
  symbol(name: string): bigint | undefined {
    const v = this.entries.get(`SYMBOL(${name})`);
    return v === undefined ? undefined : BigInt('0x' + v.replace(/^0x/i, ''));
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
    const v = this.entries.get(`NUMBER(${name})`);
    return v === undefined ? undefined : parseIntLike(v);
  }

  private num(key: string): number | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    const n = Number(parseIntLike(v));
    return Number.isFinite(n) ? n : undefined;
  }

  get osrelease(): string | undefined {
    return this.entries.get('OSRELEASE');
  }
  get pageSize(): number {
    return Number(this.entries.get('PAGESIZE') ?? 4096);
  }
  get buildId(): string | undefined {
    return this.entries.get('BUILD-ID');
  }
  /** KASLR offset of the kernel image (KERNELOFFSET=hex), 0 when absent. */
  get kernelOffset(): bigint {
    const v = this.entries.get('KERNELOFFSET');
    return v ? BigInt('0x' + v) : 0n;
  }
  /** CRASHTIME=seconds, added by kdump when the kernel panicked (not present in QEMU dumps). */
  get crashTime(): number | undefined {
    const v = this.entries.get('CRASHTIME');
    return v ? Number(v) : undefined;
  }
}

function parseIntLike(v: string): bigint {
  const s = v.trim();
  if (/^-?0x[0-9a-f]+$/i.test(s)) {
    const neg = s.startsWith('-');
    const n = BigInt(neg ? s.slice(1) : s);
    return neg ? -n : BigInt.asIntN(64, n & MASK64);
  }
  if (/^-?\d+$/.test(s)) return BigInt(s);
  throw new Error(`bad number ${v}`);
}
