import { cacheKey, type Program } from './program';
import { inInitText, kernelImageLayout } from './layout';

const EXPORTS_LOADED_KEY = cacheKey<true>('sym.exports');
const EXPORT_BOUNDS_KEY = cacheKey<{ lo: bigint; hi: bigint } | null>('sym.exports.bounds');
import type { SymbolTable } from './symbols';
import { DumpError, MemoryError, expectedError } from '../errors';

/**
 * kallsyms leaves out the symbols of the export tables that vmlinux's symtab (and so crash) has:
 * __kstrtab_<sym> (the name string), __kstrtabns_<sym> (the namespace string) and __crc_<sym>
 * (the CRC word). The dump says where they are: each struct kernel_symbol of __ksymtab and
 * __ksymtab_gpl holds place-relative offsets of the name and namespace strings (x86_64:
 * CONFIG_HAVE_ARCH_PREL32_RELOCATIONS), and __kcrctab/__kcrctab_gpl hold one s32 CRC per entry in
 * the same order. Added as local rodata ('r'), as vmlinux has them.
 */
interface ExportTable {
  /** address of entry 0 of __ksymtab / __ksymtab_gpl, and its entries (struct kernel_symbol, 12 bytes) */
  start: bigint;
  entries: DataView;
  count: number;
  /** __kcrctab / __kcrctab_gpl when it has one CRC per entry */
  crcStart: bigint | null;
}

/** The export tables as the dump holds them (the entries read, no string yet); `get` a kernel symbol's address. */
function exportTables(prog: Program, get: (name: string) => bigint | undefined): ExportTable[] {
  const out: ExportTable[] = [];
  for (const [tab, crc] of [
    ['__ksymtab', '__kcrctab'],
    ['__ksymtab_gpl', '__kcrctab_gpl'],
  ]) {
    const start = get(`__start_${tab}`);
    const stop = get(`__stop_${tab}`);
    if (start === undefined || stop === undefined || stop <= start || stop - start > 16n << 20n) continue;
    const n = Number(stop - start) / 12;
    if (!Number.isInteger(n)) continue;
    const cstart = get(`__start_${crc}`);
    const cstop = get(`__stop_${crc}`);
    const withCrc = cstart !== undefined && cstop !== undefined && Number(cstop - cstart) === n * 4;
    let b: Uint8Array;
    try {
      b = prog.mem.read(start, n * 12);
    } catch (e) {
      if (e instanceof MemoryError) continue;
      throw e;
    }
    out.push({ start, entries: new DataView(b.buffer, b.byteOffset, b.byteLength), count: n, crcStart: withCrc ? cstart! : null });
  }
  return out;
}

/** Entry i's name and namespace string addresses (place-relative offsets). */
function entryStrings(x: ExportTable, i: number): [bigint, bigint] {
  const e = x.start + BigInt(i * 12);
  return [
    BigInt.asUintN(64, e + 4n + BigInt(x.entries.getInt32(i * 12 + 4, true))),
    BigInt.asUintN(64, e + 8n + BigInt(x.entries.getInt32(i * 12 + 8, true))),
  ];
}

function addExportSymbols(prog: Program, t: SymbolTable): void {
  for (const x of exportTables(prog, (n) => t.lookupName(n).find((x) => !x.module)?.address)) {
    const strCache = new Map<bigint, string>();
    const str = (a: bigint) => {
      let v = strCache.get(a);
      if (v === undefined) {
        try {
          v = prog.mem.cstring(a, 256);
        } catch (e) {
          expectedError(e);
          v = '';
        }
        strCache.set(a, v);
      }
      return v;
    };
    for (let i = 0; i < x.count; i++) {
      const [nameAt, nsAt] = entryStrings(x, i);
      const name = str(nameAt);
      if (!name || !/^[\w.$]+$/.test(name)) continue;
      t.add({ name: `__kstrtab_${name}`, address: nameAt, type: 'r' });
      t.add({ name: `__kstrtabns_${name}`, address: nsAt, type: 'r' });
      if (x.crcStart !== null) t.add({ name: `__crc_${name}`, address: x.crcStart + BigInt(i * 4), type: 'r' });
    }
  }
}

/** The lowest and highest address an export-table symbol can have (no string read), or null: none. */
function exportBounds(prog: Program): { lo: bigint; hi: bigint } | null {
  const known = prog.recall(EXPORT_BOUNDS_KEY);
  if (known !== undefined) return known;
  let b: { lo: bigint; hi: bigint } | null = null;
  try {
    const widen = (a: bigint) => {
      if (!b) b = { lo: a, hi: a };
      else if (a < b.lo) b.lo = a;
      else if (a > b.hi) b.hi = a;
    };
    // kallsyms alone: a name missing from the table must not load the deferred symbols
    for (const x of exportTables(prog, (n) => prog.kernelSymbolAddress(n))) {
      if (!x.count) continue;
      // as numbers relative to the table (a BigInt per entry made this cost more than the lookup it saves)
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < x.count; i++) {
        const name = i * 12 + 4 + x.entries.getInt32(i * 12 + 4, true);
        const ns = i * 12 + 8 + x.entries.getInt32(i * 12 + 8, true);
        lo = Math.min(lo, name, ns);
        hi = Math.max(hi, name, ns);
      }
      widen(BigInt.asUintN(64, x.start + BigInt(lo)));
      widen(BigInt.asUintN(64, x.start + BigInt(hi)));
      if (x.crcStart !== null) {
        widen(x.crcStart);
        widen(x.crcStart + BigInt((x.count - 1) * 4));
      }
    }
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  prog.remember(EXPORT_BOUNDS_KEY, b);
  return b;
}

/** The export-table symbols, added once per program (Program loads them with the symbol table). */
export function loadExportSymbols(prog: Program, t: SymbolTable): void {
  if (prog.recall(EXPORTS_LOADED_KEY)) return;
  prog.remember(EXPORTS_LOADED_KEY, true);
  try {
    addExportSymbols(prog, t);
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
}

/** Whether this program has read the export tables (their bounds, or their symbols). */
export function exportTablesRead(prog: Program): boolean {
  return prog.recall(EXPORTS_LOADED_KEY) === true || prog.recall(EXPORT_BOUNDS_KEY) !== undefined;
}

/** Make sure the export-table symbols are in the table (address lookups do not load deferred symbols). */
export function ensureExportSymbols(prog: Program): void {
  try {
    loadExportSymbols(prog, prog.symbols);
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
}


/**
 * Load the export-table symbols only when they could name `addr`: when it lies among them, or
 * past the last of them with no kernel symbol in between (the export symbols would then be its
 * nearest below). A lookup elsewhere answers the same without them, and loading them reads
 * every export's name string.
 */
export function ensureExportSymbolsFor(prog: Program, addr: bigint): void {
  if (prog.recall(EXPORTS_LOADED_KEY)) return;
  // the export tables are read-only data, which the kernel's linker script places after its text
  // and before _end: an address below _etext (a stack's return address, a direct-map address)
  // has none of theirs below it, and one at or past _end (a module's) has _end nearer below it
  // than any of theirs; their bounds are then not worked out (that reads every entry of __ksymtab)
  const { textEnd: etext, end } = kernelImageLayout(prog);
  if (etext !== undefined && addr < etext) return;
  if (end !== undefined && etext !== undefined && end > etext && addr >= end) return;
  // the init text (boot code: the return addresses of a boot-time allocation's track) holds no
  // export table, and kallsyms names its code (from _sinittext on), which is nearer below
  if (inInitText(prog, addr)) return;
  const b = exportBounds(prog);
  if (!b || addr < b.lo) return;
  if (addr > b.hi) {
    let hit;
    try {
      hit = prog.symbols.lookup(addr);
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      return;
    }
    if (hit && hit.sym.address > b.hi) return;
  }
  ensureExportSymbols(prog);
}
