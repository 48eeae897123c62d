import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import '../commands/index';
import { runCommandSafe } from '../commands/registry';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { findReferrers, skbShinfo } from './referrers';
import { cacheStructType } from '../commands/overlay';

/**
 * Who points into the reused kmalloc-1k object of the 0x106 incident: the skb crash names (R13 of
 * the exception frame) must be found as `sk_buff.head` at skb + offsetof(sk_buff, head) (crash's
 * struct -o), and its shared info at head + end (crash's skb->end); the overlay leaves that part
 * and (with slub_debug) the free poison out of the scoring and says when nothing else decides.
 */
for (const name of ['6.1-skb-uaf-0x106', '6.1-skb-uaf-0x106-slubdebug']) {
  const d = sharedDump(name);
  describe.skipIf(!d)(`referrers of the 0x106 object on ${name} ${d ? '' : SKIP_REASON}`, () => {
    const inc = d ? d.oracleJson('incident.json').skb : null;
    const offs = d ? (d.oracleJson('struct-offsets.json') as Array<{ type: string; members: Array<{ name: string; offset: number }> }>) : [];
    const skOff = (m: string) => offs.find((t) => t.type === 'struct sk_buff')!.members.find((x) => x.name === m)!.offset;

    it('finds sk_buff.head and sk_buff.data of the crashing skb, typed from BTF, with progress', () => {
      const prog = openDumpFile(d!.file);
      const head = BigInt(inc.head);
      const progress: number[] = [];
      const scan = findReferrers(prog, head, 1024, { cacheType: (c) => cacheStructType(prog, c), progress: (done) => progress.push(done) });
      const skb = BigInt(inc.skb);
      const viaHead = scan.referrers.find((r) => r.address === skb + BigInt(skOff('head')));
      expect(viaHead, scan.referrers.map((r) => r.text).join('\n')).toBeDefined();
      expect(viaHead!.kind).toBe('slab');
      expect(viaHead!.object).toBe(skb);
      expect(viaHead!.type).toBe('struct sk_buff');
      expect(viaHead!.member).toBe('head');
      expect(viaHead!.delta).toBe(0);
      expect(viaHead!.text).toMatch(/^sk_buff\.head of /);
      const viaData = scan.referrers.find((r) => r.address === skb + BigInt(skOff('data')));
      expect(viaData?.member).toBe('data');
      // the panic task's stack holds the head too (skb_release_data's frame)
      expect(scan.referrers.some((r) => r.kind === 'stack' && r.task?.pid === d!.oracleJson('incident.json').panic_task.pid)).toBe(true);
      expect(progress.length).toBeGreaterThan(0);
      // a cancelled scan stops (another span: the one above is remembered)
      expect(() => findReferrers(prog, head, 512, { cancel: { cancelled: true } })).toThrow(/cancel/i);
      // the same object asked again is answered from memory
      expect(findReferrers(prog, head, 1024, { cacheType: (c) => cacheStructType(prog, c) })).toBe(scan);
      const si = skbShinfo(prog, skb)!;
      expect(si.head).toBe(head);
      expect(si.address).toBe(BigInt(inc.shinfo));
    });

    it('overlay shows the referrers and leaves the skb_shared_info part out of the scoring', () => {
      const prog = openDumpFile(d!.file);
      const r = runCommandSafe({ prog }, `overlay ${inc.head}`);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const j = r.result.json as { referrers: Array<{ member?: string; object?: string }>; not_scored: Array<{ offset: number; size: number; why: string }>; undecided: boolean; candidates: Array<{ name: string }> };
      expect(j.referrers.some((x) => x.member === 'head' && x.object === inc.skb)).toBe(true);
      expect(r.result.text).toContain(`sk_buff.head of ${inc.skb.replace(/^0x/, '')}`);
      expect(j.not_scored.some((n) => n.offset === inc.end && /skb_shared_info/.test(n.why))).toBe(true);
      if (name.endsWith('slubdebug')) {
        // the object still holds the free poison everywhere the skb did not write: no type is
        // supported by its bytes, and the result says so instead of ranking noise
        expect(j.not_scored.some((n) => /free poison/.test(n.why))).toBe(true);
        expect(j.undecided).toBe(true);
        expect(r.result.text).toMatch(/undecided: no layout has member or referrer evidence/);
      } else {
        expect(j.undecided).toBe(false);
        expect(j.candidates[0].name).toMatch(/^struct request \+ /);
      }
    }, 60_000);
  });
}
