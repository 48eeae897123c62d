import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { ensureExportSymbols, exportTablesRead } from '../kernel/exports';
import { symbolName } from './whatis';

/**
 * The export-table symbols (__kstrtab_*, __kstrtabns_*, __crc_*: read-only data) load only when
 * they could name an address. An address below _etext (a stack's return address, a slab object)
 * or at or past _end (a module's) never needs them: every such address of the whatis oracle (its
 * kernel-text, module, slab, vmalloc, stack, per-cpu rows) is named as with them loaded, without
 * even reading the tables (every entry of __ksymtab) to tell.
 */
describe("addresses outside the kernel image's data are named without reading the export tables", () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const rows = d!.oracle('whatis.tsv').trim().split('\n').slice(1).map((l) => l.split('\t'));
      const lazy = openDumpFile(d!.file);
      const loaded = openDumpFile(d!.file);
      const etext = lazy.kernelSymbolAddress('_etext')!;
      const end = lazy.kernelSymbolAddress('_end')!;
      expect(end).toBeGreaterThan(etext);
      const outside = rows.filter((r) => r[0].startsWith('0x')).map((r) => [BigInt(r[0]), r[1]] as const).filter(([a]) => a < etext || a >= end);
      expect(outside.filter(([, c]) => c === 'kernel-text').length).toBeGreaterThan(10);
      expect(outside.filter(([, c]) => c.startsWith('slab')).length).toBeGreaterThan(10);
      ensureExportSymbols(loaded);
      expect(loaded.symbols.lookupName('__kstrtab_kfree').length).toBeGreaterThan(0);
      const named = (p: typeof lazy, a: bigint) => `${a.toString(16)} ${symbolName(p, a)?.text}`;
      for (const [a] of outside) expect(named(lazy, a)).toBe(named(loaded, a));
      expect(exportTablesRead(lazy)).toBe(false);
    });
  }
});
