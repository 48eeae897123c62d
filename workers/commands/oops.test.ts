import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openDumpFile } from '../node';
import { runCommand } from './registry';
import { initDisassembler } from '../analysis/disasm';
import { sharedDump, SKIP_REASON, ROOT, SHARED_DUMPS } from '../testing/dumps';

const d = sharedDump('6.1-skb-uaf-0x106');
const aacraid = join(SHARED_DUMPS, '..', 'incidents', 'aacraid-0x106-at-0x2c8.txt');

describe.skipIf(!d)(`oops command on 6.1-skb-uaf-0x106 ${d ? '' : SKIP_REASON}`, () => {
  it("parses the dump's own oops and checks it against the dump", async () => {
    await initDisassembler();
    const prog = openDumpFile(d!.file);
    const r = runCommand({ prog }, 'oops');
    const inc = d!.oracleJson('incident.json');
    expect(r.text).toContain('BUG: kernel NULL pointer dereference, address: 0000000000000106');
    expect(r.text).toMatch(/mov {4}\(%rbx\),%rbx\t<-- trapping instruction/);
    expect(r.text).toContain(`RIP skb_release_data+0x11d is ${inc.exception_registers.RIP} in this dump`);
    expect(r.text).toContain('Code: bytes equal the kernel text at RIP');
    expect(r.text).toContain('skb_uaf_init+0x299/0x1000 [skb_uaf]');
    const j = r.json as { reports: Array<{ registers: Record<string, string> }> };
    expect(j.reports[0].registers.R13).toBe(inc.exception_registers.R13);
  });

  it.skipIf(!existsSync(aacraid))('says a pasted oops from another kernel does not match this dump', async () => {
    await initDisassembler();
    const prog = openDumpFile(d!.file);
    const text = readFileSync(aacraid, 'utf8');
    const first = text.slice(text.indexOf('BUG: unable to handle kernel NULL pointer'));
    const quoted = "'" + first.slice(0, 6000).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
    const r = runCommand({ prog }, `oops ${quoted}`);
    expect(r.text).toContain('skb_release_data+0xa3');
    expect(r.text).toMatch(/mov {4}\(%rdi\),%rbx\t<-- trapping instruction/);
    expect(r.text).toMatch(/function length differs|Code: bytes differ/);
  });
});

describe.skipIf(!existsSync(aacraid))('vmcore --oops without a dump', () => {
  it('parses the aacraid write-up and marks mov (%rdi),%rbx', () => {
    const out = execFileSync('node', [join(ROOT, 'cli/vmcore.cjs'), '--oops', aacraid], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/RIP: skb_release_data\+0xa3\/0x170/);
    expect(out).toMatch(/mov {4}\(%rdi\),%rbx\t<-- trapping instruction/);
  });
});
