/**
 * Timer wheel (kernel/time/timer.c): the pending timer_list entries of each CPU's timer_base, as
 * crash's `timer` lists them: every hlist bucket of timer_base.vectors[], entries with expires,
 * function and time to expiry (expires - jiffies). Bounded and cycle-checked per bucket.
 */
import type { Program } from '../kernel/program';
import { MemoryError, DumpError } from '../errors';

export interface PendingTimer {
  address: bigint;
  expires: bigint;
  function: bigint;
  /** expires - jiffies, signed */
  tte: bigint;
}

export interface TimerBase {
  cpu: number;
  /** index of the base in timer_bases[] (0: BASE_STD/BASE_LOCAL, 1: BASE_DEF/BASE_GLOBAL, ...) */
  index: number;
  address: bigint;
  timers: PendingTimer[];
}

const MAX_PER_BUCKET = 100000;

export function jiffies(prog: Program): bigint {
  const a = prog.symbolAddress('jiffies');
  if (a === undefined) throw new DumpError('no symbol jiffies');
  return prog.mem.u64(a);
}

/** How many timer bases crash shows per CPU: 2 when the kernel has timer migration (NOHZ), else 1. */
export function crashBaseCount(prog: Program): number {
  return prog.symbolAddress('sysctl_timer_migration') !== undefined ? 2 : 1;
}

/** The pending timers of timer_bases[index] on a CPU, sorted by expires (stable). */
export function timerBase(prog: Program, cpu: number, index: number, now: bigint, problems: string[]): TimerBase {
  const baseT = prog.type('struct timer_base');
  const size = BigInt(prog.sizeof(baseT));
  const address = prog.perCpu('timer_bases', cpu) + size * BigInt(index);
  const vec = prog.obj(baseT, address).member('vectors');
  const n = Math.floor(vec.size / 8);
  const tl = prog.type('struct timer_list');
  const entryOff = BigInt(prog.offsetof(tl, 'entry'));
  const timers: PendingTimer[] = [];
  const heads = prog.mem.read(vec.address, n * 8);
  const dv = new DataView(heads.buffer, heads.byteOffset, heads.byteLength);
  for (let i = 0; i < n; i++) {
    let node = dv.getBigUint64(i * 8, true);
    const seen = new Set<bigint>();
    while (node !== 0n && seen.size < MAX_PER_BUCKET) {
      if (seen.has(node)) {
        problems.push(`cpu ${cpu} base ${index} vectors[${i}]: the list loops at ${node.toString(16)}`);
        break;
      }
      seen.add(node);
      const t = node - entryOff;
      try {
        const o = prog.obj(tl, t);
        const expires = o.member('expires').value();
        const fn = o.member('function').ptr();
        timers.push({ address: t, expires, function: fn, tte: BigInt.asIntN(64, expires - now) });
        node = prog.mem.u64(node); // hlist_node.next
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        problems.push(`cpu ${cpu} base ${index} vectors[${i}]: ${e.message}`);
        break;
      }
    }
  }
  timers.sort((a, b) => (a.expires < b.expires ? -1 : a.expires > b.expires ? 1 : 0));
  return { cpu, index, address, timers };
}
