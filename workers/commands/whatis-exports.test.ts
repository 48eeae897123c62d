import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { ensureExportSymbols, exportTablesRead } from '../kernel/exports';
import { symbolName } from './whatis';

/**
 * The export-table symbols (__kstrtab_*, __kstrtabns_*, __crc_*: read-only data) load only when
 * they could name an address. A kernel text address (a stack's return address) never needs them:
 * named as with them loaded (the whatis oracle's kernel-text rows), without even reading the
 * tables (every entry of __ksymtab) to tell.
 */
describe('kernel text addresses are named without reading the export tables', () => {
  for (const name of SHARED_DUMP_NAMES) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const rows = d!.oracle('whatis.tsv').trim().split('\n').slice(1).map((l) => l.split('\t'));
      const text = rows.filter((r) => r[1] === 'kernel-text').map((r) => BigInt(r[0]));
      expect(text.length).toBeGreaterThan(10);
      const lazy = openDumpFile(d!.file);
      const loaded = openDumpFile(d!.file);
      ensureExportSymbols(loaded);
      expect(loaded.symbols.lookupName('__kstrtab_kfree').length).toBeGreaterThan(0);
      for (const a of text) expect(`${a.toString(16)} ${symbolName(lazy, a)?.text}`).toBe(`${a.toString(16)} ${symbolName(loaded, a)?.text}`);
      expect(exportTablesRead(lazy)).toBe(false);
    });
  }
});
