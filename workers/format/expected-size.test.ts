/**
 * A dump's promised size against the file (the summary's "truncated at N of M bytes"): whole
 * real dumps promise exactly their size; a copy cut anywhere after the headers reports the cut
 * and the size it should have had.
 */
import { describe, expect, it } from 'vitest';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import type { ByteSource } from '../source/bytesource';
import { sharedDump } from '../testing/dumps';

/** The first `size` bytes of a source, as if the copy had stopped there. */
function cut(src: ByteSource, size: number): ByteSource {
  return {
    name: src.name,
    size,
    stats: src.stats,
    read: (o, l) => src.read(o, Math.max(0, Math.min(l, size - o))),
  };
}

describe('expected size of a dump file', () => {
  for (const name of ['6.1-skb-uaf-0x106', '6.1-bh-scribble', '6.12-skb-uaf-kaslr', '6.1-sysrq-kaslr']) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}: whole file = promised size; a cut copy promises the whole size`, () => {
      const src = new NodeFileSource(d!.file);
      const whole = openProgram(src).phys.expectedSize?.();
      expect(whole).toEqual({ bytes: src.size, atLeast: false });
      const at = Math.floor(src.size * 0.6);
      const part = openProgram(cut(src, at)).phys.expectedSize?.();
      // the whole size (an ELF core may carry a few bytes after its last segment)
      expect(part!.bytes).toBeLessThanOrEqual(src.size);
      expect(part!.bytes).toBeGreaterThan(src.size - 4096);
      expect(part!.atLeast).toBe(false);
    });
  }
});
