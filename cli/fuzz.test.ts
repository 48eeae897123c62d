/**
 * A bounded run of the fuzz harness (bench/fuzz.ts) for CI: a fixed seed, a few mutated copies
 * of each dump format present and every hostile path and command, each through the CLI in a
 * child process with a time and heap limit. None may hang, crash, print a stack trace or a
 * JavaScript-looking message, pass 1 GiB, or change an answer silently where the damage is
 * detectable. The full campaign (>= 1000 cases) is `npx tsx bench/fuzz.ts`.
 */
import { describe, expect, it } from 'vitest';
import { campaign } from '../bench/fuzz';
import { sharedDump, SKIP_REASON } from '../workers/testing/dumps';

const DUMPS = ['6.1-skb-uaf-0x106', '6.1-bh-scribble', '6.12-skb-uaf-kaslr', '6.1-sysrq-256M-flattened', '6.1-sysrq-kaslr'].filter((n) => sharedDump(n));
const CASES = Number(process.env.VMCORE_FUZZ_CASES ?? 15);

describe.skipIf(DUMPS.length === 0)(`fuzz harness, seeded (${DUMPS.length ? DUMPS.join(', ') : SKIP_REASON})`, () => {
  it(`${CASES} mutated dumps and the hostile inputs: no hang, crash, stack trace, JS message, >1 GiB or silent change`, { timeout: 1_200_000 }, async () => {
    const r = await campaign({ cases: CASES, seed: 20261204, dumps: DUMPS, jobs: 2, group: 4, timeoutMs: 180_000 });
    const bad = r.results.filter((x) => x.outcome !== 'ok' && x.outcome !== 'silent-undetectable');
    expect(bad.map((x) => `${x.id} ${x.outcome}: ${x.why} (${x.mutation ?? 'hostile'})`)).toEqual([]);
    expect(r.results.length).toBeGreaterThanOrEqual(CASES + 30);
    // every case ran: mutated dumps of each format and the hostile inputs
    expect(Object.keys(r.byKind)).toContain('hostile');
    for (const x of r.results) expect(x.maxRssKb).toBeLessThan(1024 * 1024);
  });
});
