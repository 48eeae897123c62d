/**
 * The audit backlog (kernel/audit.c): audit records queued in the kernel and not yet read by
 * auditd, as crash's `log -a` prints them. Each queue is an sk_buff_head of netlink messages
 * (struct nlmsghdr, then the record's text). Queues by kernel: audit_hold_queue,
 * audit_retry_queue, audit_queue (4.11+), or audit_skb_hold_queue, audit_skb_queue before.
 * Each walk is bounded by the queue's qlen and cycle-checked.
 */
import type { Program } from '../kernel/program';
import { MemoryError, DumpError } from '../errors';
import { walkList, describeStop } from '../kernel/list';

export interface AuditRecord {
  queue: string;
  skb: bigint;
  type: number;
  text: string;
}

export interface AuditBacklog {
  /** false when the kernel has none of the queues (crash: option not supported) */
  supported: boolean;
  records: AuditRecord[];
  problems: string[];
}

const NLMSG_ALIGNTO = 4;

export function auditBacklog(prog: Program): AuditBacklog {
  const queues = prog.symbolAddress('audit_skb_queue') !== undefined
    ? ['audit_skb_hold_queue', 'audit_skb_queue']
    : prog.symbolAddress('audit_queue') !== undefined
      ? ['audit_hold_queue', 'audit_retry_queue', 'audit_queue']
      : null;
  if (!queues) return { supported: false, records: [], problems: [] };
  const records: AuditRecord[] = [];
  const problems: string[] = [];
  const qlenOff = prog.offsetof('struct sk_buff_head', 'qlen');
  const nextOff = prog.offsetof('struct sk_buff', 'next');
  const nlSize = prog.sizeof('struct nlmsghdr');
  const nlHdr = Math.ceil(nlSize / NLMSG_ALIGNTO) * NLMSG_ALIGNTO;
  const typeOff = prog.offsetof('struct nlmsghdr', 'nlmsg_type');
  for (const q of queues) {
    const head = prog.symbolAddress(q);
    if (head === undefined) continue;
    let qlen: number;
    try {
      qlen = prog.mem.u32(head + BigInt(qlenOff));
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`${q}: qlen unreadable: ${e.message}`);
      continue;
    }
    if (!qlen) continue;
    const w = walkList(prog, head, { nextOffset: nextOff, headIsAnchor: true, limit: qlen });
    const stop = describeStop(w, q);
    if (stop) problems.push(stop);
    else if (w.entries.length !== qlen) problems.push(`${q}: ${w.entries.length} sk_buffs on the list, qlen says ${qlen}`);
    for (const skb of w.entries) {
      try {
        const s = prog.obj('struct sk_buff', skb);
        const len = s.member('len').num();
        const data = s.member('data').ptr();
        if (!data) {
          problems.push(`${q}: sk_buff ${skb.toString(16)}: data is NULL`);
          continue;
        }
        const type = prog.mem.u16(data + BigInt(typeOff));
        const n = Math.max(0, Math.min(len - nlHdr, 1 << 20));
        const bytes = prog.mem.read(data + BigInt(nlHdr), n);
        let end = bytes.indexOf(0);
        if (end < 0) end = bytes.length;
        records.push({ queue: q, skb, type, text: new TextDecoder('latin1').decode(bytes.subarray(0, end)) });
      } catch (e) {
        if (!(e instanceof MemoryError) && !(e instanceof DumpError)) throw e;
        problems.push(`${q}: sk_buff ${skb.toString(16)}: ${(e as Error).message}`);
      }
    }
  }
  return { supported: true, records, problems };
}
