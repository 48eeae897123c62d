import { describe, it, expect, beforeAll } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram, type Program } from '../engine';
import { runCommand, runCommandSafe } from './registry';
import { allSharedDumps, SKIP_REASON } from '../testing/dumps';
import './index';

const dumps = allSharedDumps();

/** oracle rd.txt: "crash> rd -64 ADDR 32    # category" blocks, keyed by address */
function rdBlocks(txt: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const b of txt.split(/^crash> /m).slice(1)) {
    const [head, ...lines] = b.split('\n');
    m.set(head.split(/\s+/)[2], lines.join('\n').replace(/\n+$/, '\n'));
  }
  return m;
}

describe.skipIf(dumps.length === 0)(`rd against crash (${dumps.length} dumps)`, () => {
  for (const d of dumps) {
    describe(d.name, () => {
      let prog: Program;
      beforeAll(() => {
        prog = openProgram(new NodeFileSource(d.file));
      });
      it('rd -64 ADDR 32: words and text equal crash for every oracle address', () => {
        const blocks = rdBlocks(d.oracle('rd.txt'));
        for (const e of d.oracleJson<Array<{ address: string; words: string[] }>>('rd.json')) {
          const a = e.address.slice(2);
          const r = runCommandSafe({ prog }, `rd -64 ${a} 32`);
          if (e.words.length === 0) {
            // crash printed nothing (the page was left out of the dump): we say so in one line
            expect(r.ok).toBe(false);
            if (!r.ok) expect(r.error).toMatch(/^rd: (page excluded|invalid kernel virtual address|seek error|input string too large)/);
            continue;
          }
          expect(r.ok, `${a}: ${r.ok ? '' : r.error}`).toBe(true);
          if (!r.ok) continue;
          expect((r.result.json as { words: string[] }).words, a).toEqual(e.words);
          expect(r.result.text, a).toBe(blocks.get(a));
        }
      });
    });
  }
});

describe.skipIf(!dumps.some((d) => d.name === '6.1-skb-uaf-0x106'))('rd options (6.1-skb-uaf-0x106)', () => {
  let prog: Program;
  beforeAll(() => {
    prog = openProgram(new NodeFileSource(dumps.find((d) => d.name === '6.1-skb-uaf-0x106')!.file));
  });
  it('the incident block: rd ffff888005ec9800 128', () => {
    const inc = dumps.find((d) => d.name === '6.1-skb-uaf-0x106')!.oracle('incident.txt');
    const start = inc.indexOf('crash> rd ffff888005ec9800 128\n');
    const block = inc.slice(start).split('\n').slice(1, 65).join('\n') + '\n';
    expect(runCommand({ prog }, 'rd ffff888005ec9800 128').text).toBe(block);
  });
  it('units, partial lines and the ASCII column position', () => {
    expect(runCommand({ prog }, 'rd -8 ffff888005ec9a00 20').text).toBe(
      'ffff888005ec9a00:  6b ef 65 09 fa 85 c2 6e 00 94 20 c0 ff ff ff ff   k.e....n.. .....\n' +
        'ffff888005ec9a10:  00 00 00 00                                       ....\n',
    );
    expect(runCommand({ prog }, 'rd -32 ffff888005ec9a00 7').text).toBe(
      'ffff888005ec9a00:  0965ef6b 6ec285fa c0209400 ffffffff   k.e....n.. .....\n' +
        'ffff888005ec9a10:  00000000 00000000 00000000            ............\n',
    );
    expect(runCommand({ prog }, 'rd -16 ffff888005ec9a00 2').json).toEqual({ address: '0xffff888005ec9a00', words: ['0xef6b', '0x0965'] });
  });
  it('-s names kernel and module text', () => {
    const t = runCommand({ prog }, 'rd -s ffff888005ec8000 2').text;
    expect(t).toBe('ffff888005ec8000:  skcipher_free_instance_simple skcipher_setkey_simple \n');
  });
  it('-a, -p, symbols and expressions as addresses', () => {
    expect(runCommand({ prog }, 'rd -a linux_banner').text).toMatch(/^ffffffff[0-9a-f]{8}:  Linux version 6\.1\.0-56-amd64 /);
    const v = runCommand({ prog }, 'rd ffff888005ec9a00').json as { words: string[] };
    expect((runCommand({ prog }, 'rd -p 5ec9a00').json as { words: string[] }).words).toEqual(v.words);
    expect(runCommand({ prog }, 'rd -p 5ec9a00').text).toMatch(/^ {9}5ec9a00:  /);
    expect((runCommand({ prog }, 'rd ffff888005ec9800+0x200 1').json as { words: string[] }).words).toEqual(v.words);
  });
  it('errors are one line in crash words', () => {
    const r = runCommandSafe({ prog }, 'rd 0 2');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe('rd: invalid kernel virtual address: 0  type: "64-bit KVADDR"');
    const r2 = runCommandSafe({ prog }, 'rd no_such_symbol_here');
    expect(r2.ok).toBe(false);
  });
});

if (dumps.length === 0) it.skip(SKIP_REASON, () => {});
