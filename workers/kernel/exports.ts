import { cacheKey, type Program } from './program';

const EXPORTS_LOADED_KEY = cacheKey<true>('sym.exports');
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
function addExportSymbols(prog: Program, t: SymbolTable): void {
  const get = (n: string) => t.lookupName(n).find((x) => !x.module)?.address;
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
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
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
    for (let i = 0; i < n; i++) {
      const e = start + BigInt(i * 12);
      const nameAt = BigInt.asUintN(64, e + 4n + BigInt(dv.getInt32(i * 12 + 4, true)));
      const nsAt = BigInt.asUintN(64, e + 8n + BigInt(dv.getInt32(i * 12 + 8, true)));
      const name = str(nameAt);
      if (!name || !/^[\w.$]+$/.test(name)) continue;
      t.add({ name: `__kstrtab_${name}`, address: nameAt, type: 'r' });
      t.add({ name: `__kstrtabns_${name}`, address: nsAt, type: 'r' });
      if (withCrc) t.add({ name: `__crc_${name}`, address: cstart! + BigInt(i * 4), type: 'r' });
    }
  }
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

/** Make sure the export-table symbols are in the table (address lookups do not load deferred symbols). */
export function ensureExportSymbols(prog: Program): void {
  try {
    loadExportSymbols(prog, prog.symbols);
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
}

