/**
 * The kernel log (kernel/printk/printk_ringbuffer.{c,h}, Linux >= 5.10; the variable-length
 * `log_buf` of 3.5 .. 5.9 as a fallback), read the way crash's `log` reads it.
 *
 * Everything is located and laid out through VMCOREINFO, which the kernel writes precisely so
 * that a dump tool can read the log without debug info (kernel/printk/printk.c,
 * log_buf_vmcoreinfo_setup): SYMBOL(prb) is the address of the `prb` pointer; SIZE/OFFSET of
 * printk_ringbuffer, prb_desc_ring, prb_desc, prb_data_blk_lpos, printk_info, dev_printk_info,
 * prb_data_ring and atomic_long_t give every offset; LENGTH(printk_info_subsystem/device) the
 * dev_info string sizes. No offset of any kernel version is a constant here.
 *
 * The one field VMCOREINFO does not describe is the level. struct printk_info is
 *     u64 seq; u64 ts_nsec; u16 text_len; u8 facility; u8 flags:5; u8 level:3; u32 caller_id; ...
 * so facility is the byte at OFFSET(printk_info.text_len) + 2 (text_len is a u16) and the
 * flags/level byte the one after it (+ 3): flags in its low 5 bits, level in its high 3 bits
 * on little-endian (crash reads `UCHAR(info + OFFSET(printk_info_level)) >> 5`, the same byte).
 * We check the layout with OFFSET(printk_info.caller_id) == text_len + 4 (the u32 that follows,
 * naturally aligned); when that does not hold the level and facility are reported unknown rather
 * than guessed.
 *
 * Every walk is bounded: at most one pass over the descriptor ring (2^count_bits records);
 * ids, states, lpos values and text lengths are checked, and a ring that does not add up
 * yields the records read so far plus warnings, never an exception or a hang.
 */
import { MemoryError, DumpError } from '../errors';
import { u16, u32, u64 } from '../bytes';
import { cacheKey, type Program } from '../kernel/program';
import type { VmcoreInfo } from '../kernel/vmcoreinfo';

const PRINTK_LOG_KEY = cacheKey<PrintkLog>('printk.log');

/** One record of the kernel log. */
export interface PrintkRecord {
  /** printk_info.seq */
  seq: number;
  /** local_clock() at printk time, nanoseconds */
  tsNsec: bigint;
  /** 0..7 (KERN_EMERG..KERN_DEBUG); -1 when the layout check failed */
  level: number;
  /** syslog facility (0 = kernel); -1 when unknown */
  facility: number;
  /** printk_info flags (LOG_NEWLINE = 2, LOG_CONT = 8); -1 when unknown */
  flags: number;
  /** raw caller_id: 0x80000000 set = CPU number, else task pid */
  callerId: number;
  /** the text as the kernel stored it (bytes, no trailing newline) */
  bytes: Uint8Array;
  /** the text decoded as UTF-8 (for JSON and the UI) */
  text: string;
  /** a descriptor without a data block (printk("") or a failed reservation): crash prints an empty line */
  dataless: boolean;
  /** dev_printk_info.subsystem / .device, when set */
  subsystem?: string;
  device?: string;
  /** descriptor id in the ring (prb only) */
  id?: bigint;
  /** something about this record did not add up (shown, not dropped) */
  problem?: string;
}

export interface PrintkLog {
  /** which layout the log was read from */
  layout: 'printk_ringbuffer' | 'log_buf';
  records: PrintkRecord[];
  /** problems with the ring as a whole (corruption, unreadable pages); empty when all is well */
  warnings: string[];
}

export const LOG_NEWLINE = 2;
export const LOG_CONT = 8;
const CALLER_CPU = 0x80000000;

/** "T123" or "C1", as the kernel prints caller ids. */
export function callerString(callerId: number): string {
  return callerId & CALLER_CPU ? `C${callerId & ~CALLER_CPU & 0x7fffffff}` : `T${callerId >>> 0}`;
}

/** Read the kernel log (cached on the Program). Throws DumpError only when the dump names no log. */
export function readPrintk(prog: Program): PrintkLog {
  const cached = prog.recall(PRINTK_LOG_KEY);
  if (cached) return cached;
  let log: PrintkLog;
  if (prog.info.symbol('prb') !== undefined) log = readPrb(prog);
  else if (prog.info.symbol('log_buf') !== undefined && prog.info.size('printk_log') !== undefined)
    log = readLogBuf(prog);
  else
    throw new DumpError(
      'the kernel log cannot be located: VMCOREINFO names neither the printk ring buffer (prb) nor log_buf',
    );
  prog.remember(PRINTK_LOG_KEY, log);
  return log;
}

// ---------------------------------------------------------------------------------------------
// printk_ringbuffer (Linux >= 5.10)

interface PrbLayout {
  ringSize: number;
  descRing: number;
  textDataRing: number;
  countBits: number;
  descs: number;
  infos: number;
  headId: number;
  tailId: number;
  descSize: number;
  stateVar: number;
  textBlkLpos: number;
  lposBegin: number;
  lposNext: number;
  infoSize: number;
  seq: number;
  tsNsec: number;
  textLen: number;
  callerId: number;
  devInfo?: number;
  subsystem?: number;
  subsystemLen?: number;
  device?: number;
  deviceLen?: number;
  sizeBits: number;
  data: number;
  counter: number;
  /** sizeof(long): the width of state_var, lpos values and a data block's id */
  longSize: number;
}

function need(info: VmcoreInfo, kind: 'size' | 'offset', name: string): number {
  const v = kind === 'size' ? info.size(name) : info.offset(name);
  if (v === undefined) {
    throw new DumpError(`the kernel log cannot be read: VMCOREINFO lacks ${kind === 'size' ? 'SIZE' : 'OFFSET'}(${name})`);
  }
  return v;
}

function prbLayout(info: VmcoreInfo): PrbLayout {
  const longSize = info.size('atomic_long_t') ?? 8;
  return {
    ringSize: need(info, 'size', 'printk_ringbuffer'),
    descRing: need(info, 'offset', 'printk_ringbuffer.desc_ring'),
    textDataRing: need(info, 'offset', 'printk_ringbuffer.text_data_ring'),
    countBits: need(info, 'offset', 'prb_desc_ring.count_bits'),
    descs: need(info, 'offset', 'prb_desc_ring.descs'),
    infos: need(info, 'offset', 'prb_desc_ring.infos'),
    headId: need(info, 'offset', 'prb_desc_ring.head_id'),
    tailId: need(info, 'offset', 'prb_desc_ring.tail_id'),
    descSize: need(info, 'size', 'prb_desc'),
    stateVar: need(info, 'offset', 'prb_desc.state_var'),
    textBlkLpos: need(info, 'offset', 'prb_desc.text_blk_lpos'),
    lposBegin: need(info, 'offset', 'prb_data_blk_lpos.begin'),
    lposNext: need(info, 'offset', 'prb_data_blk_lpos.next'),
    infoSize: need(info, 'size', 'printk_info'),
    seq: need(info, 'offset', 'printk_info.seq'),
    tsNsec: need(info, 'offset', 'printk_info.ts_nsec'),
    textLen: need(info, 'offset', 'printk_info.text_len'),
    callerId: need(info, 'offset', 'printk_info.caller_id'),
    devInfo: info.offset('printk_info.dev_info'),
    subsystem: info.offset('dev_printk_info.subsystem'),
    subsystemLen: info.length('printk_info_subsystem'),
    device: info.offset('dev_printk_info.device'),
    deviceLen: info.length('printk_info_device'),
    sizeBits: need(info, 'offset', 'prb_data_ring.size_bits'),
    data: need(info, 'offset', 'prb_data_ring.data'),
    counter: info.offset('atomic_long_t.counter') ?? 0,
    longSize,
  };
}

function readLong(b: Uint8Array, off: number, size: number): bigint {
  return size === 8 ? u64(b, off) : BigInt(u32(b, off));
}

/**
 * Read `count` fixed-size entries of an array starting at index `first` (mod ringCount), in at
 * most two reads (the range may wrap). Returns a function from ring index to the entry's bytes,
 * or null for an entry whose memory could not be read.
 */
function ringReader(
  prog: Program,
  base: bigint,
  entrySize: number,
  ringCount: number,
  first: number,
  count: number,
  unreadable: { n: number },
): (idx: number) => Uint8Array | null {
  const chunks: { start: number; end: number; data: Uint8Array | null }[] = [];
  const addChunk = (start: number, n: number) => {
    let data: Uint8Array | null = null;
    try {
      data = prog.mem.read(base + BigInt(start * entrySize), n * entrySize);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
    }
    chunks.push({ start, end: start + n, data });
  };
  const n1 = Math.min(count, ringCount - first);
  addChunk(first, n1);
  if (count > n1) addChunk(0, count - n1);
  return (idx: number) => {
    for (const c of chunks) {
      if (idx >= c.start && idx < c.end) {
        if (c.data) return c.data.subarray((idx - c.start) * entrySize, (idx - c.start + 1) * entrySize);
        break;
      }
    }
    // a chunk that could not be read as a whole: read this entry alone
    try {
      return prog.mem.read(base + BigInt(idx * entrySize), entrySize);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      unreadable.n++;
      return null;
    }
  };
}

function decodeUtf8(b: Uint8Array): string {
  return new TextDecoder('utf-8').decode(b);
}

function cstrAt(b: Uint8Array, off: number, max: number): string {
  let e = off;
  const lim = Math.min(b.length, off + max);
  while (e < lim && b[e] !== 0) e++;
  return decodeUtf8(b.subarray(off, e));
}

function readPrb(prog: Program): PrintkLog {
  const warnings: string[] = [];
  const records: PrintkRecord[] = [];
  const L = prbLayout(prog.info);
  const mem = prog.mem;
  const W = L.longSize;
  const idBits = BigInt(W * 8 - 2);
  const ID_MASK = (1n << idBits) - 1n;

  const prbPtrAddr = prog.info.symbol('prb')!;
  let prbAddr: bigint;
  let rb: Uint8Array;
  try {
    prbAddr = mem.u64(prbPtrAddr);
    rb = mem.read(prbAddr, L.ringSize);
  } catch (e) {
    if (e instanceof MemoryError) {
      return { layout: 'printk_ringbuffer', records, warnings: [`cannot read the printk ring buffer: ${e.message}`] };
    }
    throw e;
  }
  const dr = L.descRing;
  const countBits = u32(rb, dr + L.countBits);
  const tdr = L.textDataRing;
  const sizeBits = u32(rb, tdr + L.sizeBits);
  if (countBits < 1 || countBits > 26 || sizeBits < 4 || sizeBits > 31) {
    return {
      layout: 'printk_ringbuffer',
      records,
      warnings: [`printk ring buffer at 0x${prbAddr.toString(16)} is corrupt (count_bits ${countBits}, size_bits ${sizeBits})`],
    };
  }
  const ringCount = 2 ** countBits;
  const dataSize = 2 ** sizeBits;
  const descsAddr = u64(rb, dr + L.descs);
  const infosAddr = u64(rb, dr + L.infos);
  const dataAddr = u64(rb, tdr + L.data);
  const headId = readLong(rb, dr + L.headId + L.counter, W) & ID_MASK;
  const tailId = readLong(rb, dr + L.tailId + L.counter, W) & ID_MASK;

  // The live window is tail_id .. head_id (inclusive), at most one ring's worth.
  let span = (headId - tailId) & ID_MASK;
  let firstId = tailId;
  if (span >= BigInt(ringCount)) {
    warnings.push(
      `printk ring buffer: tail_id ${tailId} and head_id ${headId} are ${span} apart in a ring of ${ringCount} descriptors; showing the last ${ringCount}`,
    );
    span = BigInt(ringCount - 1);
    firstId = (headId - span) & ID_MASK;
  }
  const n = Number(span) + 1;
  const firstIdx = Number(firstId % BigInt(ringCount));
  const unreadable = { n: 0 };
  const descAt = ringReader(prog, descsAddr, L.descSize, ringCount, firstIdx, n, unreadable);
  const infoAt = ringReader(prog, infosAddr, L.infoSize, ringCount, firstIdx, n, unreadable);

  // the text data ring, read block by block (a young ring is mostly unused; the page cache
  // below makes neighbouring blocks cheap)
  const dataBytes = (off: number, len: number): Uint8Array | null => {
    try {
      return mem.read(dataAddr + BigInt(off), len);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      return null;
    }
  };

  const levelOk = L.callerId === L.textLen + 4;
  if (!levelOk) {
    warnings.push(
      `printk_info layout differs from the known one (caller_id at ${L.callerId}, text_len at ${L.textLen}): levels and facilities unknown`,
    );
  }
  const SIZE = BigInt(dataSize);
  const wraps = (lpos: bigint) => lpos >> BigInt(sizeBits);
  let missed = 0;
  let badBlocks = 0;
  let prevSeq = -1;
  for (let k = 0; k < n; k++) {
    const id = (firstId + BigInt(k)) & ID_MASK;
    const idx = Number(id % BigInt(ringCount));
    const desc = descAt(idx);
    const info = infoAt(idx);
    if (!desc || !info) continue;
    const stateVar = readLong(desc, L.stateVar + L.counter, W);
    const state = Number((stateVar >> idBits) & 3n);
    // desc_miss (another id owns the slot), desc_reserved (being written), desc_reusable: skipped as crash does
    if ((stateVar & ID_MASK) !== id) {
      missed++;
      continue;
    }
    if (state !== 1 && state !== 2) continue; // committed or finalized only

    const seq = Number(u64(info, L.seq));
    const tsNsec = u64(info, L.tsNsec);
    let textLen = u16(info, L.textLen);
    const callerId = u32(info, L.callerId);
    const facility = levelOk ? info[L.textLen + 2] : -1;
    const lf = levelOk ? info[L.textLen + 3] : -1;
    const rec: PrintkRecord = {
      seq,
      tsNsec,
      level: lf < 0 ? -1 : lf >> 5,
      facility,
      flags: lf < 0 ? -1 : lf & 0x1f,
      callerId,
      bytes: new Uint8Array(0),
      text: '',
      dataless: false,
      id,
    };
    if (L.devInfo !== undefined && L.devInfo + 1 <= info.length) {
      if (L.subsystem !== undefined) {
        const s = cstrAt(info, L.devInfo + L.subsystem, L.subsystemLen ?? 16);
        if (s) rec.subsystem = s;
      }
      if (L.device !== undefined) {
        const s = cstrAt(info, L.devInfo + L.device, L.deviceLen ?? 48);
        if (s) rec.device = s;
      }
    }
    if (prevSeq >= 0 && seq !== prevSeq + 1) rec.problem = `sequence jumps from ${prevSeq} to ${seq}`;
    prevSeq = seq;

    const beginLpos = readLong(desc, L.textBlkLpos + L.lposBegin, W);
    const nextLpos = readLong(desc, L.textBlkLpos + L.lposNext, W);
    let begin = Number(beginLpos % SIZE);
    const next = Number(nextLpos % SIZE);
    if (begin === next) {
      // data-less block (NO_LPOS / FAILED_LPOS): crash prints an empty line
      rec.dataless = true;
      records.push(rec);
      continue;
    }
    // the kernel's own validity rules (get_data): same wrap and begin < next, or one wrap behind
    const regular = wraps(beginLpos) === wraps(nextLpos) && beginLpos < nextLpos;
    const wrapping = wraps(beginLpos + SIZE) === wraps(nextLpos);
    if ((!regular && !wrapping) || beginLpos % BigInt(W) !== 0n || nextLpos % BigInt(W) !== 0n) {
      rec.problem = `bad data block lpos ${beginLpos}..${nextLpos}`;
      badBlocks++;
    }
    const blockStart = begin > next ? 0 : begin; // a wrapping block's data is at the ring's start
    begin = blockStart + W; // skip the data block's id
    if (begin > next) {
      rec.problem ??= `data block ${beginLpos}..${nextLpos} too small for its id`;
      rec.dataless = true;
      records.push(rec);
      continue;
    }
    if (next - begin < textLen) {
      rec.problem ??= `text_len ${textLen} exceeds the data block (${next - begin} bytes)`;
      textLen = next - begin;
    }
    const blkId = dataBytes(blockStart, W);
    if (!blkId) {
      rec.problem = 'text not in the dump';
      rec.dataless = true;
      records.push(rec);
      continue;
    }
    const storedId = readLong(blkId, 0, W) & ID_MASK;
    if (storedId !== id) rec.problem ??= `data block holds id ${storedId}, not ${id} (overwritten)`;
    const t = dataBytes(begin, textLen);
    if (!t) {
      rec.problem = 'text not in the dump';
      rec.dataless = true;
      records.push(rec);
      continue;
    }
    rec.bytes = t.slice();
    rec.text = decodeUtf8(rec.bytes);
    records.push(rec);
  }
  if (unreadable.n) warnings.push(`printk ring buffer: ${unreadable.n} descriptor(s) not in the dump`);
  if (badBlocks) warnings.push(`printk ring buffer: ${badBlocks} record(s) with an invalid data block position`);
  if (missed > 1) warnings.push(`printk ring buffer: ${missed} descriptor(s) between tail and head belong to another id`);
  return { layout: 'printk_ringbuffer', records, warnings };
}

// ---------------------------------------------------------------------------------------------
// variable-length log_buf (Linux 3.5 .. 5.9), when VMCOREINFO describes printk_log

function readLogBuf(prog: Program): PrintkLog {
  const info = prog.info;
  const mem = prog.mem;
  const warnings: string[] = [];
  const records: PrintkRecord[] = [];
  const size = need(info, 'size', 'printk_log');
  const oTs = need(info, 'offset', 'printk_log.ts_nsec');
  const oLen = need(info, 'offset', 'printk_log.len');
  const oTextLen = need(info, 'offset', 'printk_log.text_len');
  // struct printk_log: u64 ts_nsec; u16 len, text_len, dict_len; u8 facility; u8 flags:5, level:3
  const oDictLen = info.offset('printk_log.dict_len') ?? oTextLen + 2;
  const oFacility = oDictLen + 2;
  try {
    const buf = mem.u64(info.symbol('log_buf')!);
    const bufLen = mem.u32(info.symbol('log_buf_len')!);
    const firstIdx = mem.u32(info.symbol('log_first_idx')!);
    const nextIdx = mem.u32(info.symbol('log_next_idx')!);
    const firstSeqSym = info.symbol('log_first_seq');
    let seq = firstSeqSym !== undefined ? Number(mem.u64(firstSeqSym)) : 0;
    if (bufLen === 0 || bufLen > 1 << 30) throw new DumpError(`log_buf_len ${bufLen} is not plausible`);
    const all = mem.read(buf, bufLen);
    let idx = firstIdx;
    let wrapped = false;
    for (let guard = 0; guard < bufLen / size + 2; guard++) {
      if (idx === nextIdx && (guard > 0 || firstIdx === nextIdx)) break;
      if (idx + size > bufLen) {
        idx = 0;
        continue;
      }
      const len = u16(all, idx + oLen);
      if (len === 0) {
        // a zero len marks the end of the buffer: wrap to the start
        if (wrapped) break;
        wrapped = true;
        idx = 0;
        continue;
      }
      if (idx + len > bufLen || len < size) {
        warnings.push(`log_buf: bad record length ${len} at index ${idx}`);
        break;
      }
      const textLen = Math.min(u16(all, idx + oTextLen), len - size);
      const lf = all[idx + oFacility + 1];
      const bytes = all.slice(idx + size, idx + size + textLen);
      records.push({
        seq: seq++,
        tsNsec: u64(all, idx + oTs),
        level: lf >> 5,
        facility: all[idx + oFacility],
        flags: lf & 0x1f,
        callerId: 0,
        bytes,
        text: decodeUtf8(bytes),
        dataless: textLen === 0,
      });
      idx += len;
    }
  } catch (e) {
    if (e instanceof MemoryError || e instanceof DumpError) warnings.push(`cannot read log_buf: ${e.message}`);
    else throw e;
  }
  return { layout: 'log_buf', records, warnings };
}

// ---------------------------------------------------------------------------------------------
// crash's `log` layout

export interface LogFormat {
  /** -t: no timestamps */
  noTimestamps?: boolean;
  /** -m: the level as "<N>" */
  level?: boolean;
  /** -c: the caller id "[   T123] " */
  caller?: boolean;
  /** width of the caller field (crash: 6 when pid_max <= 99999, 7 when <= 999999, else 8) */
  callerWidth?: number;
  /** -d: SUBSYSTEM= and DEVICE= lines */
  dict?: boolean;
  /** -T: human-readable time; boot time in seconds since the epoch */
  bootEpoch?: number;
}

/** "[    3.717028] " */
export function formatTimestamp(tsNsec: bigint): string {
  const sec = tsNsec / 1000000000n;
  const usec = (tsNsec % 1000000000n) / 1000n;
  return `[${sec.toString().padStart(5, ' ')}.${usec.toString().padStart(6, '0')}] `;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) in UTC with the zone, as crash prints dates: "Sat Nov 21 21:54:07 UTC 2026". */
export function ctimeUtc(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  if (Number.isNaN(d.getTime())) return `(invalid time ${epochSeconds})`;
  const p2 = (x: number) => String(x).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}

/** One record as crash's `log` prints it (possibly several lines; no trailing newline). */
export function formatRecord(r: PrintkRecord, f: LogFormat = {}): string {
  if (r.dataless && r.bytes.length === 0 && !r.problem) return '';
  let prefix = '';
  if (!f.noTimestamps) {
    if (f.bootEpoch !== undefined) prefix += `[${ctimeUtc(f.bootEpoch + Number(r.tsNsec / 1000000000n))}] `;
    else prefix += formatTimestamp(r.tsNsec);
  }
  if (f.caller) prefix += `[${callerString(r.callerId).padStart(f.callerWidth ?? 8, ' ')}] `;
  if (f.level) prefix += `<${r.level < 0 ? '?' : r.level.toString(16)}>`;
  const indent = ' '.repeat(prefix.length);
  let out = prefix;
  const b = r.bytes;
  let run = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x0a) {
      out += run + '\n' + indent;
      run = '';
    } else if ((c >= 0x20 && c <= 0x7e) || (c >= 0x09 && c <= 0x0d)) run += String.fromCharCode(c);
    else run += '.';
  }
  out += run;
  if (f.dict) {
    if (r.subsystem) out += `\n${indent}SUBSYSTEM=${r.subsystem}`;
    if (r.device) out += `\n${indent}DEVICE=${r.device}`;
  }
  return out;
}

/** The whole log as crash prints it, one line per record (multi-line records indented). */
export function formatLog(log: PrintkLog, f: LogFormat = {}): string {
  const lines = log.records.map((r) => formatRecord(r, f));
  for (const w of log.warnings) lines.push(`log: WARNING: ${w}`);
  return lines.join('\n');
}

/**
 * Whether the log says the crash was asked for with sysrq-c: the handler's own line, in any of the
 * spellings kernels have printed ("SysRq : Trigger a crash", "sysrq: Trigger a crash" since 5.x,
 * "SysRq : Crash" of old kernels). crash then calls the panic task's state TASK_RUNNING (SYSRQ).
 */
export function sysrqCrash(log: PrintkLog): boolean {
  const needles = ['SysRq : Crash', 'SysRq : Trigger a crash', 'sysrq: Trigger a crash'];
  return log.records.some((r) => needles.some((n) => r.text.includes(n)));
}

/**
 * The panic message as crash's `sys` finds it (task.c get_panicmsg): the log is printed without
 * timestamps and searched line by line, one pattern group at a time, in crash's order:
 * exception lines ("general protection fault: ", "double fault: ", ...), then a SysRq crash
 * trigger, then "Kernel panic", then "[Hardware Error]: ", "Bad mode in ", and last the Oops/BUG
 * lines, where crash keeps the LAST matching line. The whole line is returned, as crash shows it.
 * Null when the log names no panic.
 */
export function panicMessage(log: PrintkLog): string | null {
  const lines: string[] = [];
  // only records holding a needle are formatted (a needle is printable ASCII: formatting keeps it)
  for (const r of log.records) {
    if (!PANIC_NEEDLES.some((n) => r.text.includes(n))) continue;
    for (const l of formatRecord(r, { noTimestamps: true }).split('\n')) lines.push(l);
  }
  const first = (needles: string[]): string | null => {
    for (const l of lines) if (needles.some((n) => l.includes(n))) return l;
    return null;
  };
  const last = (needles: string[]): string | null => {
    let found: string | null = null;
    for (const l of lines) if (needles.some((n) => l.includes(n))) found = l;
    return found;
  };
  const [a, b, c, d, e, f] = PANIC_ORDER;
  return first(a) ?? first(b) ?? first(c) ?? first(d) ?? first(e) ?? last(f);
}

/** crash's panic-message search: the first line with a needle of each group in turn (the last group: its last line) */
const PANIC_ORDER = [
  ['general protection fault: ', 'double fault: ', 'divide error: ', 'stack segment: '],
  ['SysRq : Netdump', 'SysRq : Crash', 'SysRq : Trigger a crash'],
  ['Kernel panic: ', 'Kernel panic - '],
  ['[Hardware Error]: '],
  ['Bad mode in '],
  [
    'Oops: ',
    'Kernel BUG at',
    'kernel BUG at',
    'Unable to handle kernel paging request',
    'Unable to handle kernel NULL pointer dereference',
    'BUG: unable to handle kernel ',
  ],
];
const PANIC_NEEDLES = PANIC_ORDER.flat();

