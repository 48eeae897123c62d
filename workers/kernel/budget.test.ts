import { describe, it, expect } from 'vitest';
import { statSync } from 'node:fs';
import { NodeFileSource } from '../source/node';
import { openProgram } from '../node';
import { runCommand } from '../commands/registry';
import { sharedDump, SKIP_REASON } from '../testing/dumps';

/**
 * Issue: "Opening a 512 MiB dump and printing sys reads under 8 MiB of the file", asserted with
 * the byte counter. The ELF dump is the one whose file is the whole 512 MiB of RAM; the kdump
 * files are checked too (their pages are compressed, so the same reads cost fewer file bytes).
 */
for (const name of ['6.1-sysrq-kaslr', '6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr']) {
  const d = sharedDump(name);
  describe.skipIf(!d)(`open + sys on ${name} ${d ? '' : SKIP_REASON}`, () => {
    it('reads under 8 MiB of the file', () => {
      const src = new NodeFileSource(d!.file);
      const prog = openProgram(src);
      const text = runCommand({ prog }, 'sys').text;
      expect(text).toMatch(/RELEASE: \S+/);
      const read = src.stats.bytesRead;
      console.log(`${name}: ${(statSync(d!.file).size / 2 ** 20).toFixed(0)} MiB file, ${(read / 2 ** 20).toFixed(2)} MiB read for open + sys`);
      expect(read).toBeLessThan(8 * 2 ** 20);
    });
  });
}
