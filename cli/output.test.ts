import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { coalesced, textCollected, writeResultJson } from './output';
import { openDumpFile } from '../workers/node';
import '../workers/commands/index';
import { runCommand, jsonText, type CommandResult } from '../workers/commands/registry';

const SAMPLE = new URL('../public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib', import.meta.url).pathname;

describe('textCollected', () => {
  it('gives back the whole text of a result without JSON, and keeps none of it for one with JSON', () => {
    const tc = textCollected({ prog: null as never });
    tc.ctx.emit!('a\n');
    tc.ctx.emit!('b\n');
    expect(tc.finish({ text: 'c\n', problems: ['p'] })).toEqual({ text: 'a\nb\nc\n', problems: ['p'] });
    tc.ctx.emit!('x\n');
    const withJson: CommandResult = { text: 'y\n', json: { k: 1 } };
    expect(tc.finish(withJson)).toBe(withJson);
    // nothing left over from the earlier command
    expect(tc.finish({ text: 'z\n' }).text).toBe('z\n');
  });

  it.skipIf(!existsSync(SAMPLE))('a streamed command (kmem -S --full) has the JSON it has unstreamed, written in pieces as jsonText', () => {
    const prog = openDumpFile(SAMPLE);
    const whole = runCommand({ prog }, 'kmem -S --full kmalloc-1k');
    const tc = textCollected({ prog });
    const streamed = tc.finish(runCommand(tc.ctx, 'kmem -S --full kmalloc-1k'));
    // the text went out in pieces: what stayed is the tail
    expect(streamed.text.length).toBeLessThan(whole.text.length);
    const sink = new PassThrough();
    let printed = '';
    sink.on('data', (b: Buffer) => (printed += b.toString()));
    const w = coalesced(sink);
    writeResultJson(w, streamed);
    w.flush();
    expect(printed.length).toBeGreaterThan(10_000);
    expect(printed).toBe(jsonText(whole));
  }, 60_000);
});
