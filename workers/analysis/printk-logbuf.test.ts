import { describe, it, expect } from 'vitest';
import { VmcoreInfo } from '../kernel/vmcoreinfo';
import type { Program } from '../kernel/program';
import { readPrintk, formatLog } from './printk';

/**
 * The variable-length log_buf of Linux 3.5 .. 5.9 (struct printk_log records), chosen because
 * VMCOREINFO names log_buf and describes printk_log (kernel/printk/printk.c
 * log_buf_vmcoreinfo_setup) instead of prb. No pre-5.10 real dump is in ../shared/dumps, so this
 * is a hand-built decoder test: a 256-byte ring with three records, the last one wrapped.
 */
describe('printk log_buf (before 5.10)', () => {
  it('reads records from log_first_idx to log_next_idx, wrapping at a zero-length record', () => {
    const BUF = 0xffff888000100000n;
    const SYMS = { log_buf: 0xffffffff82000000n, log_buf_len: 0xffffffff82000008n, log_first_idx: 0xffffffff82000010n, log_next_idx: 0xffffffff82000014n, log_first_seq: 0xffffffff82000018n };
    const info = new VmcoreInfo(
      [
        ...Object.entries(SYMS).map(([k, v]) => `SYMBOL(${k})=${v.toString(16)}`),
        'SIZE(printk_log)=16',
        'OFFSET(printk_log.ts_nsec)=0',
        'OFFSET(printk_log.len)=8',
        'OFFSET(printk_log.text_len)=10',
        'OFFSET(printk_log.dict_len)=12',
      ].join('\n'),
    );
    const ring = new Uint8Array(256);
    const dv = new DataView(ring.buffer);
    const put = (at: number, ts: bigint, level: number, text: string) => {
      const t = new TextEncoder().encode(text);
      const len = (16 + t.length + 7) & ~7;
      dv.setBigUint64(at, ts, true);
      dv.setUint16(at + 8, len, true);
      dv.setUint16(at + 10, t.length, true);
      ring[at + 14] = 0; // facility
      ring[at + 15] = (level << 5) | 2; // level:3, flags:5 (LOG_NEWLINE)
      ring.set(t, at + 16);
      return at + len;
    };
    // oldest record at 160; the next one does not fit before the end: a zero len there wraps
    const first = 160;
    let end = put(first, 1_000_000_000n, 6, 'Linux version 5.4.0 (old)');
    dv.setUint16(end + 8, 0, true);
    end = put(0, 2_500_000_000n, 4, 'a warning');
    end = put(end, 3_000_000_000n, 0, 'Kernel panic - not syncing: sysrq triggered crash');
    const words = new Map<bigint, number | bigint>([
      [SYMS.log_buf, BUF],
      [SYMS.log_buf_len, 256],
      [SYMS.log_first_idx, first],
      [SYMS.log_next_idx, end],
      [SYMS.log_first_seq, 7n],
    ]);
    const mem = {
      u64: (a: bigint) => BigInt(words.get(a)!),
      u32: (a: bigint) => Number(words.get(a)!),
      read: (a: bigint, n: number) => {
        if (a !== BUF) throw new Error('unexpected read');
        return ring.slice(0, n);
      },
    };
    // a Program reduced to what readPrintk uses (VMCOREINFO, memory, the typed cache)
    const cache = new Map<string, unknown>();
    const prog = {
      info,
      mem,
      cache,
      recall: (k: { name: string }) => cache.get(k.name),
      remember: (k: { name: string }, v: unknown) => (cache.set(k.name, v), v),
    } as unknown as Program;
    const log = readPrintk(prog);
    expect(log.layout).toBe('log_buf');
    expect(log.warnings).toEqual([]);
    expect(log.records.map((r) => [r.seq, r.level, r.text])).toEqual([
      [7, 6, 'Linux version 5.4.0 (old)'],
      [8, 4, 'a warning'],
      [9, 0, 'Kernel panic - not syncing: sysrq triggered crash'],
    ]);
    expect(formatLog(log).split('\n')[2]).toBe('[    3.000000] Kernel panic - not syncing: sysrq triggered crash');
  });
});
