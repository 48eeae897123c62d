import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { ensureExportSymbols, exportTablesRead } from '../kernel/exports';
import { inInitText, kernelImageLayout } from '../kernel/layout';
import { symbolName } from './whatis';

/**
 * The export-table symbols (__kstrtab_*, __kstrtabns_*, __crc_*: read-only data) load only when
 * they could name an address. An address below _etext (a stack's return address, a slab object)
 * or at or past _end (a module's) never needs them: every such address of the whatis oracle (its
 * kernel-text, module, slab, vmalloc, stack, per-cpu rows) is named as with them loaded, without
 * even reading the tables (every entry of __ksymtab) to tell. Nor does the init text, past them
 * (the return addresses of boot-time allocations in slub_debug tracks).
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
      // the init text: its bounds, its functions, and addresses spread through it
      const { initTextStart: s, initTextEnd: e } = kernelImageLayout(lazy);
      expect(s).toBeGreaterThan(etext);
      expect(e).toBeGreaterThan(s!);
      const init = ['start_kernel', 'kmem_cache_init'].map((n) => lazy.kernelSymbolAddress(n)).filter((a) => a !== undefined);
      expect(init.length).toBe(2);
      for (let k = 0n; k < 16n; k++) init.push(s! + ((e! - s!) * k) / 16n + 5n);
      init.push(e! - 1n);
      for (const a of init) {
        expect(inInitText(lazy, a), a.toString(16)).toBe(true);
        expect(named(lazy, a)).toBe(named(loaded, a));
      }
      expect(exportTablesRead(lazy)).toBe(false);
    });
  }
});
