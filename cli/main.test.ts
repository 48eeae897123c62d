/**
 * The CLI contract (DESIGN.md): `vmcore <dump> '<cmd>' [--json]`, `--batch <file> [--json]`, exit 0
 * on success, 1 with a one-line error on bad input; never a hang, never a stack trace. Run as a
 * child process, the way users and scripts run it, on the sample dump the project carries.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readSync, writeSync, closeSync, writeFileSync, rmSync, copyFileSync, truncateSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NodeFileSource } from '../workers/source/node';
import { openProgram } from '../workers/engine';
import { nodeDecoders } from '../workers/node';
import { main } from './main';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE = join(ROOT, 'public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib');
const ZSTD_SAMPLE = join(ROOT, 'public/samples/6.12-skb-uaf-kaslr/vmcore.kdump-zstd');
const CLI = join(ROOT, 'cli/vmcore.cjs');
const TIMEOUT = 90_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function vmcore(args: string[], timeout = TIMEOUT): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  return { code: r.status, stdout: r.stdout ?? '', stderr: stripNpmNoise(r.stderr ?? ''), timedOut };
}

/** npm's own config warnings are not ours. */
function stripNpmNoise(s: string): string {
  return s
    .split('\n')
    .filter((l) => !l.startsWith('npm warn'))
    .join('\n');
}

/** The bad-input contract: no hang, no stack trace; exit 1 with one line, or exit 0 with a result. */
function expectContract(r: Run, what: string): void {
  expect(r.timedOut, `${what}: timed out`).toBe(false);
  expect(r.stderr, `${what}: stack trace in stderr`).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect([0, 1], `${what}: exit ${r.code}; ${r.stderr}`).toContain(r.code);
  if (r.code === 1) {
    const lines = r.stderr.trim().split('\n');
    expect(lines.length, `${what}: more than one line: ${r.stderr}`).toBe(1);
    expect(lines[0]).toMatch(/^vmcore: /);
  } else {
    expect(r.stdout.length + r.stderr.length, `${what}: exit 0 with no output`).toBeGreaterThan(0);
  }
}

const hasSample = existsSync(SAMPLE);

describe.skipIf(!hasSample)('vmcore CLI on the sample dump', () => {
  it('sym panic --json', () => {
    const r = vmcore([SAMPLE, 'sym panic', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ symbol: 'panic', type: 'T', offset: 0 });
    expect(j.address).toMatch(/^0x[0-9a-f]+$/);
  });
  it('text commands: sym, rd, eval, vtop, struct', () => {
    const r = vmcore([SAMPLE, 'sym ffffffff817c0c2d']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ffffffff817c0c2d (t) skb_release_data+285\n');
    const e = vmcore([SAMPLE, 'eval 0xffff888005ec9800 + 0x2c0']);
    expect(e.stdout.split('\n')[0]).toBe('hexadecimal: ffff888005ec9ac0  ');
    const s = vmcore([SAMPLE, 'skb_shared_info.frag_list ffff888005ec9ac0']);
    expect(s.stdout).toBe('  frag_list = 0x106,\n');
  });
  it('whatis of a global is typed by inference, which disassembles: the CLI loads capstone for it', () => {
    // crash: "struct mm_struct init_mm;"; without the disassembler the CLI printed only the symbol line
    const r = vmcore([SAMPLE, 'whatis init_mm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('struct mm_struct init_mm;');
  });
  it('rd -64 --json words', () => {
    const r = vmcore([SAMPLE, 'rd -64 ffff888005ec9ac0 2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ address: '0xffff888005ec9ac0', words: ['0x0000000000000000', '0x0000000000000106'] });
  });
  it('--batch --json: one JSON object per command per line, errors included, exit 1 when one failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcore-cli-'));
    try {
      const file = join(dir, 'cmds.txt');
      writeFileSync(file, ['# a comment', 'sym panic', 'eval 1+1', 'rd ffff888005ec9ac0 2', 'no_such_command_xyz', 'vtop ffff888005ec9800', ''].join('\n'));
      const r = vmcore([SAMPLE, '--batch', file, '--json']);
      // a failed command of a batch is a JSON line, not an exit with a message
      expect(r.timedOut).toBe(false);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.code).toBe(1);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.command, l.ok])).toEqual([
        ['sym panic', true],
        ['eval 1+1', true],
        ['rd ffff888005ec9ac0 2', true],
        ['no_such_command_xyz', false],
        ['vtop ffff888005ec9800', true],
      ]);
      expect(lines[0].result).toMatchObject({ symbol: 'panic' });
      expect(lines[1].result).toMatchObject({ value: '0x2', decimal: '2' });
      expect(lines[3].error).toMatch(/unknown command/);
      expect(lines[4].result.physical).toBe('0x5ec9800');
      // text batch: crash's -i style transcript
      writeFileSync(file, 'sym panic\neval 2\n');
      const t = vmcore([SAMPLE, '--batch', file]);
      expect(t.code, t.stderr).toBe(0);
      expect(t.stdout).toMatch(/^crash> sym panic\n[0-9a-f]{16} \(T\) panic\n\ncrash> eval 2\nhexadecimal: 2  \n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('bad commands are one line, exit 1', () => {
    for (const c of ['no_such_command_xyz', 'rd', 'rd 0', 'sym no_such_symbol_xyz', 'struct no_such_type_xyz', 'eval 1/0', 'eval (1']) {
      const r = vmcore([SAMPLE, c]);
      expectContract(r, c);
      expect(r.code, c).toBe(1);
    }
  });
});

describe.skipIf(!hasSample)('main() tells the bin when the work is long (cli/vmcore.cjs sets V8 budget by it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcore-long-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sink = () => ({ text: '', write(c: string | Uint8Array) { this.text += String(c); return true; } });
  // by kind of work (no clock: a slow machine must not make a short command long), or by the clock
  const longWork = async (args: string[], longAfterMs = 1e9): Promise<number> => {
    let calls = 0;
    const out = sink();
    const err = sink();
    const code = await main([SAMPLE, ...args], out as unknown as typeof process.stdout, err as unknown as typeof process.stderr, { longWork: () => calls++, longAfterMs });
    expect(code, `${args.join(' ')}: ${err.text}`).toBe(0);
    return calls;
  };
  it('one command or a batch of short ones: not long; a scan of the whole dump or a script: long', async () => {
    expect(await longWork(['sys'])).toBe(0);
    expect(await longWork(['kmem -s'])).toBe(0);
    expect(await longWork(['search -p ffffffff81000000'])).toBe(1);
    writeFileSync(join(dir, 'short.txt'), 'sym panic\nkmem -s\n');
    expect(await longWork(['--batch', join(dir, 'short.txt')])).toBe(0);
    writeFileSync(join(dir, 'scan.txt'), 'sym panic\nslabcheck\n');
    expect(await longWork(['--batch', join(dir, 'scan.txt')])).toBe(1);
    writeFileSync(join(dir, 'pid.js'), 'print(String(prog.tasks().length));\n');
    expect(await longWork(['--script', join(dir, 'pid.js')])).toBe(1);
  }, TIMEOUT);
  it('work still reading the dump past the time given is long too, and is told once', async () => {
    expect(await longWork(['ps'], 0)).toBe(1);
    expect(await longWork(['search -p ffffffff81000000'], 0)).toBe(1);
  }, TIMEOUT);
  it.skipIf(!existsSync(ZSTD_SAMPLE))('once told, the wasm page decoders compiled before are compiled again (under the flags the hook set)', async () => {
    const count = () => nodeDecoders().zstdCompiles; // (compiles the zstd decoder when there is none)
    const run = async (args: string[], longAfterMs: number) => {
      let told = 0;
      const code = await main([ZSTD_SAMPLE, ...args], sink() as unknown as typeof process.stdout, sink() as unknown as typeof process.stderr, { longWork: () => told++, longAfterMs });
      expect(code).toBe(0);
      return told;
    };
    const c0 = count();
    expect(await run(['sys'], 1e9)).toBe(0);
    expect(count()).toBe(c0); // a short command keeps the decoder it has
    expect(await run(['ps'], 0)).toBe(1); // long from its first read, when the decoder existed
    expect(count()).toBe(c0 + 1);
  }, TIMEOUT);
});

describe('vmcore CLI bad input', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmcore-bad-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a missing file', () => {
    const r = vmcore([join(dir, 'no-such-dump'), 'sym panic']);
    expectContract(r, 'missing');
    expect(r.code).toBe(1);
  });
  it('a file that is no dump (package.json)', () => {
    const r = vmcore([join(ROOT, 'package.json'), 'sym panic']);
    expectContract(r, 'package.json');
    expect(r.code).toBe(1);
  });
  it('an empty file, a directory', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    for (const f of [empty, dir]) {
      const r = vmcore([f]);
      expectContract(r, f);
      expect(r.code).toBe(1);
    }
  });

  describe.skipIf(!hasSample)('a kdump file truncated or corrupted', () => {
    // the sample's layout, from its own header
    let blockSize = 0;
    let subHdrSize = 0;
    let bitmapBlocks = 0;
    let descStart = 0;
    let dataStart = 0;
    let size = 0;
    beforeAll(() => {
      const fd = openSync(SAMPLE, 'r');
      const h = Buffer.alloc(512);
      readSync(fd, h, 0, 512, 0);
      expect(h.subarray(0, 8).toString('latin1')).toBe('KDUMP   ');
      blockSize = h.readInt32LE(428);
      subHdrSize = h.readInt32LE(432);
      bitmapBlocks = h.readUInt32LE(436);
      descStart = blockSize * (1 + subHdrSize + bitmapBlocks);
      const d = Buffer.alloc(24);
      readSync(fd, d, 0, 24, descStart);
      dataStart = Number(d.readBigUInt64LE(0));
      closeSync(fd);
      size = statSync(SAMPLE).size;
      expect(dataStart).toBeGreaterThan(descStart);
    });

    const cuts: Array<[string, () => number]> = [
      ['inside the main header', () => 100],
      ['at the end of the header block', () => blockSize - 8],
      ['inside the sub header', () => blockSize + 64],
      ['at the start of the bitmaps', () => blockSize * (1 + subHdrSize) + 16],
      ['in the middle of the bitmaps', () => blockSize * (1 + subHdrSize) + Math.floor((bitmapBlocks * blockSize) / 2)],
      ['at the start of the page descriptors', () => descStart + 12],
      ['in the middle of the page descriptors', () => descStart + Math.floor((dataStart - descStart) / 2)],
      ['at the start of the page data', () => dataStart + 100],
      ['in the middle of the page data', () => dataStart + Math.floor((size - dataStart) / 2)],
      ['just before the end', () => size - 1000],
    ];
    for (const [where, at] of cuts) {
      it(`truncated ${where}`, () => {
        const f = join(dir, `trunc-${at()}.kdump`);
        copyFileSync(SAMPLE, f);
        truncateSync(f, at());
        // a command that reads memory (kallsyms) and the default (sys)
        for (const args of [[f, 'sym panic'], [f, 'rd -a linux_banner']]) {
          const r = vmcore(args);
          expectContract(r, `${where}: ${args[1]}`);
          if (r.code === 0) {
            // a partial result must say so (or be right); an error must name what is missing
            expect(r.stdout).not.toMatch(/internal error/);
          }
        }
        rmSync(f, { force: true });
      });
    }

    const corrupt: Array<[string, (b: Buffer) => void]> = [
      ['a bad signature', (b) => b.write('XDUMP   ', 0, 'latin1')],
      ['block_size 3', (b) => b.writeInt32LE(3, 428)],
      ['bitmap_blocks past the end of the file', (b) => b.writeUInt32LE(0x7fffffff, 436)],
      ['max_mapnr huge', (b) => b.writeUInt32LE(0xffffffff, 440)],
      ['sub_hdr_size huge', (b) => b.writeInt32LE(60000, 432)],
    ];
    for (const [what, patch] of corrupt) {
      it(`a header with ${what}`, () => {
        const f = join(dir, 'corrupt.kdump');
        copyFileSync(SAMPLE, f);
        const fd = openSync(f, 'r+');
        const h = Buffer.alloc(512);
        readSync(fd, h, 0, 512, 0);
        patch(h);
        writeSync(fd, h, 0, 512, 0);
        closeSync(fd);
        const r = vmcore([f, 'sym panic']);
        expectContract(r, what);
        rmSync(f, { force: true });
      });
    }
  });

  describe.skipIf(!hasSample)('an ELF vmcore whose PT_LOAD runs past the end of the file', () => {
    it('built from the sample: its VMCOREINFO note, one PT_LOAD of 512 MiB with a few KiB present', () => {
      const prog = openProgram(new NodeFileSource(SAMPLE));
      const info = Buffer.from(prog.phys.vmcoreinfo!, 'latin1');
      // ELF64 header + 2 program headers + the VMCOREINFO note + 8 KiB of "memory"
      const note = elfNote('VMCOREINFO', 0, info);
      const phoff = 64;
      const noteOff = phoff + 2 * 56;
      const loadOff = align(noteOff + note.length, 4096);
      const present = 8192;
      const ehdr = Buffer.alloc(64);
      ehdr.write('\x7fELF', 0, 'latin1');
      ehdr[4] = 2; // ELFCLASS64
      ehdr[5] = 1; // little-endian
      ehdr[6] = 1; // EV_CURRENT
      ehdr.writeUInt16LE(4, 16); // ET_CORE
      ehdr.writeUInt16LE(62, 18); // EM_X86_64
      ehdr.writeUInt32LE(1, 20);
      ehdr.writeBigUInt64LE(BigInt(phoff), 32);
      ehdr.writeUInt16LE(64, 52);
      ehdr.writeUInt16LE(56, 54);
      ehdr.writeUInt16LE(2, 56);
      const ph = Buffer.alloc(112);
      ph.writeUInt32LE(4, 0); // PT_NOTE
      ph.writeBigUInt64LE(BigInt(noteOff), 8);
      ph.writeBigUInt64LE(BigInt(note.length), 32);
      ph.writeBigUInt64LE(BigInt(note.length), 40);
      ph.writeUInt32LE(1, 56); // PT_LOAD
      ph.writeUInt32LE(7, 60);
      ph.writeBigUInt64LE(BigInt(loadOff), 64);
      ph.writeBigUInt64LE(0xffff888000000000n, 72); // p_vaddr
      ph.writeBigUInt64LE(0n, 80); // p_paddr
      ph.writeBigUInt64LE(512n << 20n, 88); // p_filesz: far past the end of the file
      ph.writeBigUInt64LE(512n << 20n, 96);
      const mem = Buffer.alloc(present);
      const f = join(dir, 'short.elf');
      writeFileSync(f, Buffer.concat([ehdr, ph, note, Buffer.alloc(loadOff - noteOff - note.length), mem]));
      for (const c of ['sym panic', 'rd -a linux_banner', 'vtop ffff888000001000']) {
        const r = vmcore([f, c]);
        expectContract(r, `short ELF: ${c}`);
      }
      // the same ELF cut inside its program headers
      const g = join(dir, 'cut.elf');
      copyFileSync(f, g);
      truncateSync(g, phoff + 60);
      const r = vmcore([g, 'sym panic']);
      expectContract(r, 'ELF cut in its program headers');
      expect(r.code).toBe(1);
    });
  });
});

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function elfNote(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(name + '\0', 'latin1');
  const h = Buffer.alloc(12);
  h.writeUInt32LE(n.length, 0);
  h.writeUInt32LE(desc.length, 4);
  h.writeUInt32LE(type, 8);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(align(b.length, 4) - b.length)]);
  return Buffer.concat([h, pad(n), pad(desc)]);
}
