/**
 * Large reads (BTF, kallsyms tables) go past the physical page cache (PhysicalDump.copyPhys, the
 * kdump reader decoding straight into the caller's buffer, compressed bytes read into a reused
 * buffer): they must give the same bytes as page-by-page reads, fail at the same virtual address
 * with the same error, and leave the page cache as it was. On the real dumps of every format.
 */
import { describe, expect, it } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram } from '../node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { MemoryError } from '../errors';
import { setNativeZlib } from '../format/codecs/zlib';
import type { KdumpDump } from '../format/kdump';

const DUMPS = ['6.1-skb-uaf-0x106', '6.1-bh-scribble', '6.12-skb-uaf-kaslr', '6.1-sysrq-256M-flattened', '5.10-sysrq-lzo', '6.1-sysrq-kaslr', '7.2-sysrq-kaslr'];
/** made with makedumpfile -d 31: free pages are left out, so RAM has holes (the flattened one is -d 1) */
const WITH_HOLES = new Set(['6.1-skb-uaf-0x106', '6.1-bh-scribble', '6.12-skb-uaf-kaslr', '5.10-sysrq-lzo']);

/** The same range read in 4 KiB pieces: each below the bulk size, so through the page cache. */
function pageByPage(read: (va: bigint, n: number) => Uint8Array, va: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let pos = 0; pos < len; ) {
    const n = Math.min(len - pos, 4096 - Number((va + BigInt(pos)) & 0xfffn));
    out.set(read(va + BigInt(pos), n), pos);
    pos += n;
  }
  return out;
}

function failure(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MemoryError) return e.message;
    throw e;
  }
  return 'no error';
}

for (const name of DUMPS) {
  const d = sharedDump(name);
  describe.skipIf(!d)(`bulk reads: ${name}${d ? '' : ` (skipped: ${SKIP_REASON})`}`, () => {
    const open = () => openProgram(new NodeFileSource(d!.file));

    it('the BTF section read whole equals it read page by page, and the page cache does not grow', () => {
      const prog = open();
      const start = prog.symbolAddress('__start_BTF')!;
      const len = Number(prog.symbolAddress('__stop_BTF')! - start);
      expect(len).toBeGreaterThan(1 << 20);
      const stats = () => (prog.phys as Partial<KdumpDump>).cacheStats?.pages.bytes ?? 0;
      const before = stats();
      const whole = prog.mem.read(start, len);
      if (prog.phys.format.startsWith('kdump')) expect(stats()).toBe(before);
      const other = open();
      expect(Buffer.from(pageByPage((a, n) => other.mem.read(a, n), start, len)).equals(Buffer.from(whole))).toBe(true);
    });

    it.skipIf(!WITH_HOLES.has(name))('a large read over a page the dump lacks fails where the page-by-page read fails', () => {
      const prog = open();
      // a direct-map run of 64 pages whose 33rd page is not in the dump
      const phys = prog.phys;
      let hole = -1;
      for (const r of phys.ranges()) {
        for (let pa = r.start + 64 * 4096; pa + 32 * 4096 < r.end && hole < 0; pa += 4096) {
          if (!phys.hasPage(pa) && phys.hasPage(pa - 4096)) hole = pa;
        }
        if (hole >= 0) break;
      }
      expect(hole, 'a missing page inside RAM').toBeGreaterThan(0);
      const va = prog.arch.pageOffset! + BigInt(hole - 32 * 4096) + 8n;
      const len = 64 * 4096;
      const bulk = failure(() => prog.mem.read(va, len));
      const paged = failure(() => pageByPage((a, n) => open().mem.read(a, n), va, len));
      expect(bulk).toMatch(/^virtual address/);
      expect(bulk).toBe(paged);
    });

    it('pages decoded into the caller buffer equal cached pages (native inflate and the fallback)', () => {
      const prog = open();
      const start = prog.symbolAddress('__start_BTF')!;
      const want = prog.mem.read(start, 256 * 1024);
      const native = setNativeZlib(null); // fflate: decodes into the destination itself
      try {
        const again = open().mem.read(start, 256 * 1024);
        expect(Buffer.from(again).equals(Buffer.from(want))).toBe(true);
      } finally {
        setNativeZlib(native);
      }
    });
  });
}
