import { describe, it, expect, beforeAll } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram, type Program } from '../engine';
import { runCommand, runCommandSafe } from './registry';
import { allSharedDumps, SKIP_REASON } from '../testing/dumps';
import './index';

const dumps = allSharedDumps();
const PAGE_HDR = '\n      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS';

describe.skipIf(dumps.length === 0)(`vtop against crash (${dumps.length} dumps)`, () => {
  for (const d of dumps) {
    describe(d.name, () => {
      let prog: Program;
      beforeAll(() => {
        prog = openProgram(new NodeFileSource(d.file));
      });
      it('every vtop of oracle/vtop.txt: VIRTUAL/PHYSICAL, the walk, the PTE flags and the struct page line', () => {
        const blocks = d.oracle('vtop.txt').split(/^crash> /m).slice(1);
        expect(blocks.length).toBeGreaterThan(30);
        for (const b of blocks) {
          const [head, ...lines] = b.split('\n');
          const addr = head.split(/\s+/)[1];
          const exp = lines.join('\n').replace(/\n+$/, '\n');
          // crash's errors are its output too (a 17-digit address: "input string too large")
          const r = runCommandSafe({ prog }, `vtop ${addr}`);
          const got = r.ok ? r.result.text : `${r.error}\n`;
          const i = exp.indexOf(PAGE_HDR);
          const j = got.indexOf(PAGE_HDR);
          // the walk part, then the page part, so a failure says which
          expect(got.slice(0, j < 0 ? undefined : j), `${head} (walk)`).toBe(exp.slice(0, i < 0 ? undefined : i));
          expect(got, `${head} (page)`).toBe(exp);
        }
      });
      it('ptov is vtop backwards in the direct map', () => {
        const j = runCommand({ prog }, `ptov 5ec8000`).json as { virtual: string; physical: string };
        expect(j.physical).toBe('0x5ec8000');
        expect((runCommand({ prog }, `vtop ${j.virtual}`).json as { physical: string }).physical).toBe('0x5ec8000');
      });
      it('an unmapped address is shown, not thrown', () => {
        const r = runCommand({ prog }, 'vtop 0');
        expect(r.text).toMatch(/\(not mapped\)/);
        expect((r.json as { physical: unknown }).physical).toBeNull();
      });
    });
  }
});

if (dumps.length === 0) it.skip(SKIP_REASON, () => {});
