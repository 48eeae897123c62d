import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { spawn } from 'node:child_process';
import { main } from './main';
import { openDumpFile } from '../workers/node';
import '../workers/commands/index';
import { runCommand, jsonText } from '../workers/commands/registry';

/**
 * `vmcore DUMP 'foreach bt'` streams: the text reaches stdout in several writes while the command
 * runs (the first long before the last), and what arrives is exactly the unstreamed text; with
 * --json the JSON is written once, whole. A reader that stops early (| head -1) ends the CLI
 * quietly (exit 0, no EPIPE trace).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE = join(ROOT, 'public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib');

class Recorder extends Writable {
  writes: { at: number; text: string }[] = [];
  _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.writes.push({ at: performance.now(), text: chunk.toString() });
    cb();
  }
}

describe.skipIf(!existsSync(SAMPLE))('CLI streaming output on the sample dump', () => {
  it.each(['foreach bt', 'sym -l'])('%s: several writes while it runs, together the unstreamed text', async (line) => {
    const out = new Recorder();
    const err = new Recorder();
    const code = await main([SAMPLE, line], out as unknown as typeof process.stdout, err as unknown as typeof process.stderr);
    expect(code).toBe(0);
    expect(out.writes.length).toBeGreaterThan(1);
    const want = runCommand({ prog: openDumpFile(SAMPLE) }, line).text;
    expect(out.writes.map((w) => w.text).join('')).toBe(want.endsWith('\n') ? want : want + '\n');
  }, 120_000);

  // the JSON in writes of 64 KiB (cli/output.ts writeJsonText: never one string of it all), and
  // nothing of the command's text, which streams without --json
  it('--json is the JSON alone, in writes of 64 KiB', async () => {
    const out = new Recorder();
    const code = await main([SAMPLE, 'foreach bt', '--json'], out as unknown as typeof process.stdout, new Recorder() as unknown as typeof process.stderr);
    expect(code).toBe(0);
    const all = out.writes.map((w) => w.text).join('');
    expect(JSON.parse(all)).toBeInstanceOf(Array);
    expect(all).toBe(jsonText(runCommand({ prog: openDumpFile(SAMPLE) }, 'foreach bt')));
    expect(all).not.toMatch(/^PID: /m);
    expect(out.writes.length).toBeGreaterThan(1);
    for (const w of out.writes.slice(0, -1)) expect(w.text.length).toBeGreaterThanOrEqual(65536);
  }, 120_000);

  // every way of giving commands writes through the same stdout: each ends quietly. The batch and
  // standard input write 'sym -l' twice (~3 MB), more than a pipe holds before its reader is gone
  const BATCH = join(mkdtempSync(join(tmpdir(), 'vmcore-stream-')), 'batch.txt');
  writeFileSync(BATCH, 'sym -l\nsym -l\n');
  it.each([
    ['a command', ['sym -l'], ''],
    ['--batch', ['--batch', BATCH], ''],
    ['standard input', ['-'], 'sym -l\nsym -l\n'],
  ])('| head -1 (%s): the CLI ends quietly once its reader is gone', async (_what, args, stdin) => {
    const r = await new Promise<{ code: number | null; stderr: string; first: string }>((done) => {
      const p = spawn(process.execPath, [join(ROOT, 'cli/vmcore.cjs'), SAMPLE, ...args], { cwd: ROOT });
      p.stdin.on('error', () => undefined);
      p.stdin.end(stdin);
      let first = '';
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.stdout.once('data', (d) => {
        first = String(d).split('\n')[0];
        p.stdout.destroy(); // the reader goes away, as head does
      });
      p.on('close', (code) => done({ code, stderr, first }));
    });
    // a batch heads each command's output with its prompt line, as crash's does
    expect(r.first).toMatch(args[0] === '--batch' ? /^crash> sym -l$/ : /^ffffffff[0-9a-f]{8} \([A-Za-z]\) \S+/);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.code).toBe(0);
  }, 120_000);
});
