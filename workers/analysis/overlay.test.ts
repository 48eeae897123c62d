import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { rankOverlays, formatOverlays, sizeClassWindow } from './overlay';

/**
 * The flagship inference: the kmalloc-1k object that was freed and reused as an skb head was
 * filled like a block-layer request followed by a SCSI command. The overlay must rank that
 * layout first from the bytes alone, and show why.
 */
for (const name of ['6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr']) {
  const d = sharedDump(name);
  describe.skipIf(!d)(`overlay of the 0x106 object on ${name} ${d ? '' : SKIP_REASON}`, () => {
    it('ranks struct request + its PDU first', () => {
      const prog = openDumpFile(d!.file);
      const head = BigInt(d!.oracleJson('incident.json').skb.head);
      const cands = rankOverlays(prog, head, { size: 1024, window: sizeClassWindow(1024) });
      const text = formatOverlays(head, 1024, cands.slice(0, 3), 8);
      console.log(text); // the evidence lines, for the reader of the test log
      const top = cands[0];
      expect(top.parts[0].type).toBe('struct request');
      expect(top.parts[1].offset).toBe(prog.sizeof('struct request'));
      expect(top.score).toBeGreaterThan(cands[1].score);
      if (name.startsWith('6.12')) {
        // the module's BTF has struct scsi_cmnd: the PDU is named, and its sense_buffer pointer
        // into the module's data is part of the evidence
        expect(top.parts[1].type).toBe('struct scsi_cmnd');
        expect(top.parts[1].source).toBe('skb_uaf');
        expect(top.evidence.some((e) => e.member === 'sense_buffer' && e.weight > 0)).toBe(true);
      } else {
        // 6.1: no BTF has scsi_cmnd (SCSI not loaded, the module was built without BTF)
        expect(top.parts[1].unknown).toBe(true);
        expect(top.evidence.some((e) => e.member === 'internal_tag')).toBe(true);
      }
    });
  });
}
