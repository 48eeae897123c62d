/**
 * `vtop <address>` and `ptov <physical>`: crash's x86_64 layout.
 *
 *   crash> vtop ffff888005ec8000
 *   VIRTUAL           PHYSICAL
 *   ffff888005ec8000  5ec8000
 *
 *   PGD DIRECTORY: ffffffff82a10000
 *   PAGE DIRECTORY: 4401067
 *      PUD: 4401000 => 4402067
 *      PMD: 4402178 => 6239063
 *      PTE: 6239640 => 8000000005ec8163
 *     PAGE: 5ec8000
 *
 *         PTE         PHYSICAL  FLAGS
 *   8000000005ec8163   5ec8000  (PRESENT|RW|ACCESSED|DIRTY|GLOBAL|NX)
 *
 *         PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS
 *   ffffea000017b200  5ec8000 ffff888004841b00        0  1 fffffc0010200 slab,head
 *
 * The walk is the kernel page tables' (init_top_pgt), entries as read from the dump. The struct
 * page line: the page is vmemmap_base + pfn * sizeof(struct page) (vmemmap_base read from the
 * kernel, or VMCOREINFO's SYMBOL(vmemmap)); its flags, _refcount, mapping and index at BTF's
 * offsets; flag names from the kernel's own pageflag_names table (what crash reads), else from
 * BTF's enum pageflags.
 */
import type { Program } from '../kernel/program';
import type { Translation } from '../arch/x86_64';
import { MemoryError, DumpError } from '../errors';
import { CommandError, registerCommand, type CommandResult } from './registry';
import { evalAddress, checkAddressDigits } from './expr';

const hex = (v: bigint | number) => v.toString(16);

/** crash's mkstring: LJUST/RJUST/CENTER (odd extra goes right for LJUST, left for RJUST). */
function mk(s: string, size: number, how: 'l' | 'r' | 'cl' | 'cr'): string {
  const extra = size - s.length;
  if (extra <= 0) return s;
  if (how === 'l') return s + ' '.repeat(extra);
  if (how === 'r') return ' '.repeat(extra) + s;
  let left = extra >> 1;
  let right = extra >> 1;
  if (extra % 2) {
    if (how === 'cl') right++;
    else left++;
  }
  return ' '.repeat(left) + s + ' '.repeat(right);
}

const PTE_FLAGS: Array<[bigint, string]> = [
  [1n << 0n, 'PRESENT'],
  [1n << 1n, 'RW'],
  [1n << 2n, 'USER'],
  [1n << 3n, 'PWT'],
  [1n << 4n, 'PCD'],
  [1n << 5n, 'ACCESSED'],
  [1n << 6n, 'DIRTY'],
];

/** The PTE flags crash prints: (PRESENT|RW|...|NX). */
export function pteFlagNames(pte: bigint): string[] {
  const out: string[] = [];
  const present = (pte & 1n) !== 0n;
  for (const [bit, name] of PTE_FLAGS) if (pte & bit) out.push(name);
  if (pte & (1n << 7n) && present) out.push('PSE');
  if (pte & (1n << 8n) && !present) out.push('PROTNONE');
  else if (pte & (1n << 8n)) out.push('GLOBAL');
  if (pte & (1n << 63n)) out.push('NX');
  return out;
}

/** Page flag names in the order crash prints them: [mask, name]. */
export function pageFlagTable(prog: Program): Array<[bigint, string]> {
  const key = 'vtop.pageflags';
  const c = prog.cache.get(key) as Array<[bigint, string]> | undefined;
  if (c) return c;
  let out: Array<[bigint, string]> = [];
  // the kernel's pageflag_names[] (struct trace_print_flags {unsigned long mask; const char *name}),
  // ended by {0, NULL}: what crash reads
  const a = prog.symbolAddress('pageflag_names');
  if (a !== undefined) {
    try {
      for (let i = 0; i < 64; i++) {
        const mask = prog.mem.u64(a + BigInt(i * 16));
        const np = prog.mem.u64(a + BigInt(i * 16 + 8));
        if (!np) break;
        const name = prog.mem.cstring(np, 64);
        if (!mask || !/^\w+$/.test(name)) break;
        out.push([mask, name]);
      }
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      out = [];
    }
  }
  if (out.length === 0) {
    try {
      const id = prog.btf.findType('enum pageflags');
      if (id !== null) {
        const t = prog.btf.type(id);
        if (t.kind === 'enum' || t.kind === 'enum64') {
          const nr = t.values.find((v) => v.name === '__NR_PAGEFLAGS')?.value ?? 64n;
          const seen = new Set<bigint>();
          for (const v of t.values) {
            if (!v.name.startsWith('PG_') || v.value >= nr || seen.has(v.value)) continue;
            seen.add(v.value);
            out.push([1n << v.value, v.name.slice(3)]);
          }
        }
      }
    } catch (e) {
      if (!(e instanceof DumpError)) throw e;
    }
  }
  prog.cache.set(key, out);
  return out;
}

/** Base of the struct page array (CONFIG_SPARSEMEM_VMEMMAP), or null. */
export function vmemmapBase(prog: Program): bigint | null {
  const v = prog.symbolAddress('vmemmap_base');
  if (v !== undefined) {
    try {
      return prog.mem.u64(v);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
    }
  }
  return prog.info.symbol('vmemmap') ?? null;
}

export interface PageInfo {
  page: bigint;
  phys: number;
  flags: bigint;
  count: number;
  mapping: bigint;
  index: bigint;
  names: string[];
}

function fieldOffset(prog: Program, member: string, vmcoreinfo: string): number | null {
  const o = prog.info.offset(vmcoreinfo);
  if (o !== undefined) return o;
  try {
    return prog.offsetof('struct page', member);
  } catch (e) {
    if (e instanceof DumpError) return null;
    throw e;
  }
}

/** The struct page of a physical address, as crash's page line shows it; null when unreadable. */
export function pageInfo(prog: Program, phys: number): PageInfo | null {
  const base = vmemmapBase(prog);
  if (base === null) return null;
  let size = prog.info.size('page');
  if (size === undefined) {
    try {
      size = prog.sizeof('struct page');
    } catch {
      return null;
    }
  }
  const pfn = BigInt(Math.floor(phys / 4096));
  const page = base + pfn * BigInt(size);
  const oFlags = fieldOffset(prog, 'flags', 'page.flags');
  const oCount = fieldOffset(prog, '_refcount', 'page._refcount');
  const oMapping = fieldOffset(prog, 'mapping', 'page.mapping');
  // page.index became page.__folio_index (6.16+)
  const oIndex = fieldOffset(prog, 'index', 'page.index') ?? fieldOffset(prog, '__folio_index', 'page.index');
  if (oFlags === null || oCount === null || oMapping === null) return null;
  try {
    const flags = prog.mem.u64(page + BigInt(oFlags));
    const count = prog.mem.i32(page + BigInt(oCount));
    const mapping = prog.mem.u64(page + BigInt(oMapping));
    const index = oIndex === null ? 0n : prog.mem.u64(page + BigInt(oIndex));
    const names = pageFlagTable(prog)
      .filter(([m]) => (flags & m) !== 0n)
      .map(([, n]) => n);
    return { page, phys: Number(pfn) * 4096, flags, count, mapping, index, names };
  } catch (e) {
    if (e instanceof MemoryError) return null;
    throw e;
  }
}

export const PAGE_HEADER = '      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS';

/** One line of crash's mem_map display. */
export function pageLine(p: PageInfo): string {
  const names = p.names.length ? ' ' + p.names.join(',') : '';
  return (
    `${hex(p.page).padStart(16, '0')} ${mk(hex(p.phys), 8, 'r')} ${mk(hex(p.mapping), 16, 'r')} ` +
    `${mk(hex(p.index), 8, 'r')} ${String(p.count).padStart(2)} ${hex(p.flags)}${names}`
  );
}

function header(): string {
  return `${mk('VIRTUAL', 16, 'l')}  ${mk('PHYSICAL', 16, 'l')}`;
}

/** The page-table lines of a walk (crash's x86_64 kvtop verbose output). */
function walkLines(prog: Program, steps: Translation['steps'], pgdPhys: number): string[] {
  const out: string[] = [];
  const pgdVirt = prog.info.symbol('init_top_pgt') ?? prog.info.symbol('swapper_pg_dir') ?? prog.arch.ptov(pgdPhys) ?? BigInt(pgdPhys);
  out.push(`PGD DIRECTORY: ${hex(pgdVirt)}`);
  for (const s of steps) {
    if (s.level === 'PGD') out.push(`PAGE DIRECTORY: ${hex(s.value)}`);
    else out.push(`${s.level.padStart(6)}: ${hex(s.entryAddr)} => ${hex(s.value)}`);
  }
  return out;
}

interface VtopResult {
  text: string;
  json: Record<string, unknown>;
}

export function vtop(prog: Program, va: bigint): VtopResult {
  va = BigInt.asUintN(64, va);
  let tr: Translation | null = null;
  let err: MemoryError | null = null;
  try {
    tr = prog.arch.walk(va);
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    err = e;
  }
  const lines: string[] = [header()];
  const json: Record<string, unknown> = { virtual: '0x' + hex(va) };
  if (!tr) {
    lines.push(`${mk(hex(va), 16, 'l')}  (not mapped)`, '');
    // show the entries read up to the one that is not present
    const steps = partialWalk(prog, va);
    lines.push(...walkLines(prog, steps, prog.arch.pgdPhys));
    json.physical = null;
    json.error = err?.message;
    json.steps = steps.map((s) => ({ level: s.level, entry: '0x' + hex(s.entryAddr), value: '0x' + hex(s.value) }));
    return { text: lines.join('\n') + '\n', json };
  }
  lines.push(`${mk(hex(va), 16, 'l')}  ${mk(hex(tr.phys), 16, 'l')}`, '');
  lines.push(...walkLines(prog, tr.steps, tr.pgd));
  const last = tr.steps[tr.steps.length - 1];
  const pageBase = tr.phys - (tr.phys % tr.pageSize);
  const big = tr.pageSize === 1 << 30 ? '  (1GB)' : tr.pageSize === 1 << 21 ? '  (2MB)' : '';
  lines.push(`  PAGE: ${hex(pageBase)}${big}`, '');
  const ptebuf = hex(last.value);
  const physbuf = hex(pageBase);
  const len1 = Math.max(ptebuf.length, 3);
  const len2 = Math.max(physbuf.length, 8);
  lines.push(`${mk('PTE', len1, 'cl')}  ${mk('PHYSICAL', len2, 'cl')}  FLAGS`);
  lines.push(`${mk(ptebuf, len1, 'cr')}  ${mk(physbuf, len2, 'cr')}  (${pteFlagNames(last.value).join('|')})`);
  json.physical = '0x' + hex(tr.phys);
  json.page_size = tr.pageSize;
  json.pgd = '0x' + hex(tr.pgd);
  json.steps = tr.steps.map((s) => ({ level: s.level, entry: '0x' + hex(s.entryAddr), value: '0x' + hex(s.value) }));
  json.flags = pteFlagNames(last.value);
  const p = pageInfo(prog, tr.phys);
  if (p) {
    lines.push('', PAGE_HEADER, pageLine(p));
    json.page = {
      address: '0x' + hex(p.page),
      physical: '0x' + hex(p.phys),
      mapping: '0x' + hex(p.mapping),
      index: '0x' + hex(p.index),
      count: p.count,
      flags: '0x' + hex(p.flags),
      flag_names: p.names,
    };
  }
  return { text: lines.join('\n') + '\n', json };
}

/** The entries of a walk that stops at a non-present entry (walk() throws there). */
function partialWalk(prog: Program, va: bigint): Translation['steps'] {
  const steps: Translation['steps'] = [];
  const levels: Array<[Translation['steps'][number]['level'], bigint]> = prog.arch.l5
    ? [['PGD', 48n], ['P4D', 39n], ['PUD', 30n], ['PMD', 21n], ['PTE', 12n]]
    : [['PGD', 39n], ['PUD', 30n], ['PMD', 21n], ['PTE', 12n]];
  let table = BigInt(prog.arch.pgdPhys);
  for (const [level, shift] of levels) {
    const entryAddr = Number(table + ((va >> shift) & 0x1ffn) * 8n);
    let value: bigint;
    try {
      const b = prog.phys.readPhys(entryAddr, 8);
      value = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    } catch (e) {
      if (e instanceof MemoryError) break;
      throw e;
    }
    steps.push({ level, entryAddr, value });
    if (!(value & 1n) || ((level === 'PUD' || level === 'PMD') && value & 0x80n)) break;
    table = value & 0x000ffffffffff000n & ~prog.arch.smeMask;
  }
  return steps;
}

registerCommand({
  name: 'vtop',
  summary: 'kernel virtual to physical: the page-table walk, PTE flags and the struct page',
  usage: 'vtop <address|symbol|expression> ...',
  run(args, ctx): CommandResult {
    const rest = args.filter((a) => !/^-[kuc]$/.test(a));
    if (rest.length === 0) throw new CommandError('usage: vtop <address>');
    const out = rest.map((a) => {
      checkAddressDigits('vtop', a);
      return vtop(ctx.prog, evalAddress(ctx.prog, a));
    });
    return { text: out.map((o) => o.text).join('\n'), json: out.length === 1 ? out[0].json : out.map((o) => o.json) };
  },
});

registerCommand({
  name: 'ptov',
  summary: 'physical to kernel virtual (direct map)',
  usage: 'ptov <physical address> ...',
  run(args, ctx): CommandResult {
    if (args.length === 0) throw new CommandError('usage: ptov <physical address>');
    const lines = [header()];
    const json: unknown[] = [];
    for (const a of args) {
      const pa = evalAddress(ctx.prog, a);
      const va = ctx.prog.arch.ptov(Number(pa));
      if (va === null) throw new CommandError('ptov: the direct map base (page_offset_base) is unknown for this dump');
      lines.push(`${mk(hex(va), 16, 'l')}  ${mk(hex(pa), 16, 'l')}`);
      json.push({ virtual: '0x' + hex(va), physical: '0x' + hex(pa) });
    }
    return { text: lines.join('\n') + '\n', json: json.length === 1 ? json[0] : json };
  },
});
