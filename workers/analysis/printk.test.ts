import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SHARED_DUMP_NAMES, sharedDump, SKIP_REASON } from '../testing/dumps';
import { NodeFileSource } from '../source/node';
import type { Program } from '../kernel/program';
import { openProgram as openKernel } from '../kernel/open';
import { MemoryError } from '../errors';
import {
  readPrintk,
  formatLog,
  formatRecord,
  formatTimestamp,
  panicMessage,
  ctimeUtc,
  callerString,
  type PrintkRecord,
  type PrintkLog,
} from './printk';

const kdumpReady = existsSync(join(ROOT, 'workers/format/kdump.ts')) && existsSync(join(ROOT, 'workers/engine.ts'));

async function open(file: string): Promise<Program> {
  if (kdumpReady) {
    const { openProgram } = await import('../engine');
    return openProgram(new NodeFileSource(file));
  }
  return openKernel(new NodeFileSource(file));
}

function rec(text: string | Uint8Array, extra: Partial<PrintkRecord> = {}): PrintkRecord {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return {
    seq: 0,
    tsNsec: 3717028123n,
    level: 6,
    facility: 0,
    flags: 0,
    callerId: 1,
    bytes,
    text: new TextDecoder().decode(bytes),
    dataless: false,
    ...extra,
  };
}

describe('crash log formatting', () => {
  it('formats timestamps like crash ([%5lld.%06ld] )', () => {
    expect(formatTimestamp(0n)).toBe('[    0.000000] ');
    expect(formatTimestamp(3717028999n)).toBe('[    3.717028] ');
    expect(formatTimestamp(123456789012345678n)).toBe('[123456789.012345] ');
  });

  it('indents the lines of a multi-line record under the text, prints non-printables as dots', () => {
    expect(formatRecord(rec('a\nb'))).toBe('[    3.717028] a\n               b');
    expect(formatRecord(rec('a\n'))).toBe('[    3.717028] a\n               ');
    expect(formatRecord(rec(new Uint8Array([0x41, 0x09, 0x01, 0xc3, 0xa9, 0x42])))).toBe('[    3.717028] A\t...B');
    expect(formatRecord(rec('x\ny'), { noTimestamps: true })).toBe('x\ny');
    expect(formatRecord(rec('x\ny'), { level: true })).toBe('[    3.717028] <6>x\n                  y');
    expect(formatRecord(rec('x'), { caller: true, callerWidth: 6 })).toBe('[    3.717028] [    T1] x');
    expect(formatRecord(rec('x', { subsystem: 'pci', device: '+pci:0000:00:01.0' }), { dict: true })).toBe(
      '[    3.717028] x\n               SUBSYSTEM=pci\n               DEVICE=+pci:0000:00:01.0',
    );
    // a data-less record is an empty line, as crash prints it
    expect(formatRecord(rec('', { dataless: true }))).toBe('');
  });

  it('names callers and dates like the kernel and crash', () => {
    expect(callerString(120)).toBe('T120');
    expect(callerString(0x80000001)).toBe('C1');
    expect(ctimeUtc(1795298047)).toBe('Sat Nov 21 21:54:07 UTC 2026');
    expect(ctimeUtc(0)).toBe('Thu Jan  1 00:00:00 UTC 1970');
  });

  it('picks the panic line in crash order (exceptions, SysRq, Kernel panic, then the last Oops)', () => {
    const log = (...t: string[]): PrintkLog => ({ layout: 'printk_ringbuffer', warnings: [], records: t.map((x) => rec(x)) });
    expect(panicMessage(log('Oops: 0000 [#1]', 'Kernel panic - not syncing: Fatal exception'))).toBe(
      'Kernel panic - not syncing: Fatal exception',
    );
    expect(panicMessage(log('Oops: 0000 [#1]', 'x', 'Oops: 0002 [#2]'))).toBe('Oops: 0002 [#2]');
    expect(panicMessage(log('SysRq : Trigger a crash', 'Kernel panic - not syncing: x'))).toBe('SysRq : Trigger a crash');
    expect(panicMessage(log('hello'))).toBeNull();
  });
});

describe.each(SHARED_DUMP_NAMES.map((n) => [n]))('printk on %s', (name) => {
  const d = sharedDump(name);
  const usable = d !== null && (kdumpReady || d.file.endsWith('.elf') || /vmcore\.elf\.\d+$/.test(d.file));
  it.skipIf(!usable)(`log equals crash's log line for line${d ? '' : ` (${SKIP_REASON})`}`, async () => {
    const p = await open(d!.file);
    const log = readPrintk(p);
    expect(log.warnings).toEqual([]);
    const want = d!.oracle('log.txt').replace(/\n$/, '').split('\n');
    const got = formatLog(log).split('\n');
    for (let i = 0; i < Math.max(want.length, got.length); i++) expect(got[i], `line ${i + 1}`).toBe(want[i]);
  });

  it.skipIf(!usable || !d?.hasOracle('drgn.json'))('records agree with drgn (seq, timestamp, level, text)', async () => {
    const p = await open(d!.file);
    const log = readPrintk(p);
    const drgn = d!.oracleJson<{ printk: Array<{ seq: number; timestamp_ns: number; level: number; text: string; caller_tid: number | null; caller_cpu: number | null }> }>(
      'drgn.json',
    ).printk;
    expect(log.records.length).toBe(drgn.length);
    log.records.forEach((r, i) => {
      const g = drgn[i];
      expect(r.seq).toBe(g.seq);
      expect(Number(r.tsNsec)).toBe(g.timestamp_ns);
      expect(r.level).toBe(g.level);
      expect(r.text).toBe(g.text);
      expect(callerString(r.callerId)).toBe(g.caller_cpu !== null ? `C${g.caller_cpu}` : `T${g.caller_tid}`);
    });
  });
});

describe('a corrupt ring gives what it can read and a warning, never a hang', () => {
  const d = sharedDump('6.1-sysrq-kaslr');
  const run = (patch: (p: Program, read: (va: bigint, len: number) => Uint8Array) => (va: bigint, len: number) => Uint8Array) => {
    const p = openKernel(new NodeFileSource(d!.file));
    const orig = p.mem.read.bind(p.mem);
    p.mem.read = patch(p, orig);
    return readPrintk(p);
  };
  const ringLayout = (p: Program) => {
    const prb = p.mem.u64(p.info.symbol('prb')!);
    return {
      prb,
      head: prb + BigInt(p.info.offset('printk_ringbuffer.desc_ring')! + p.info.offset('prb_desc_ring.head_id')!),
      tail: prb + BigInt(p.info.offset('printk_ringbuffer.desc_ring')! + p.info.offset('prb_desc_ring.tail_id')!),
      descs: p.mem.u64(prb + BigInt(p.info.offset('printk_ringbuffer.desc_ring')! + p.info.offset('prb_desc_ring.descs')!)),
      data: p.mem.u64(prb + BigInt(p.info.offset('printk_ringbuffer.text_data_ring')! + p.info.offset('prb_data_ring.data')!)),
    };
  };
  const poke = (b: Uint8Array, at: number, v: bigint) => {
    const c = b.slice();
    new DataView(c.buffer).setBigUint64(at, BigInt.asUintN(64, v), true);
    return c;
  };

  it.skipIf(!d)('tail and head a whole ring apart: the last ring of records and a warning', () => {
    const log = run((p, read) => {
      const L = ringLayout(p);
      return (va, len) => {
        const b = read(va, len);
        if (va === L.prb) return poke(b, Number(L.tail - L.prb), 5n); // tail far behind head
        return b;
      };
    });
    expect(log.warnings.join('\n')).toMatch(/apart in a ring of/);
    expect(log.records.length).toBeGreaterThan(300);
  });

  it.skipIf(!d)('a bad data block position marks the record, the others stay', () => {
    const log = run((p, read) => {
      const L = ringLayout(p);
      const descSize = p.info.size('prb_desc')!;
      const lpos = p.info.offset('prb_desc.text_blk_lpos')! + p.info.offset('prb_data_blk_lpos.begin')!;
      const target = L.descs + BigInt(5 * descSize + lpos); // record 5's begin
      return (va, len) => {
        const b = read(va, len);
        if (va <= target && target + 8n <= va + BigInt(len)) return poke(b, Number(target - va), 0x7777_0003n);
        return b;
      };
    });
    expect(log.records.length).toBe(409);
    expect(log.records.filter((r) => r.problem).length).toBeGreaterThanOrEqual(1);
    expect(log.records[0].text).toMatch(/^Linux version/);
  });

  it.skipIf(!d)('an unreadable text ring: records without text, a warning-free descriptor walk', () => {
    const log = run((p, read) => {
      const L = ringLayout(p);
      return (va, len) => {
        if (va >= L.data && va < L.data + (1n << 20n)) throw new MemoryError('not-in-dump', va, 'virtual');
        return read(va, len);
      };
    });
    expect(log.records.length).toBe(409);
    expect(log.records.every((r) => r.problem === 'text not in the dump')).toBe(true);
  });

  it.skipIf(!d)('an unreadable ring buffer: no records, one warning', () => {
    const log = run((p, read) => {
      const prb = p.mem.u64(p.info.symbol('prb')!);
      return (va, len) => {
        if (va === prb) throw new MemoryError('not-in-dump', va, 'virtual');
        return read(va, len);
      };
    });
    expect(log.records).toEqual([]);
    expect(log.warnings[0]).toMatch(/cannot read the printk ring buffer/);
  });
});
