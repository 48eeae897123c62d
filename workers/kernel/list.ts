import { MemoryError } from '../errors';
import type { Program } from './program';

/**
 * Linked-list walking (include/linux/list.h and plain `next` chains), bounded and cycle-checked:
 * corrupt memory is the normal input, so a walk ends with a reason instead of looping or throwing.
 * The one walker of the engine: every list walk (slab caches and slabs, tasks, modules, `list`)
 * goes through walkList, and reports how it stopped with listProblem / describeStop.
 */
export interface ListWalk {
  /** entry addresses in order (the address of the containing object, or of the node) */
  entries: bigint[];
  /** why the walk stopped: 'end' (NULL or back at the head) or what went wrong */
  stop:
    | { kind: 'end' }
    | { kind: 'cycle'; at: bigint; first: number }
    | { kind: 'unreadable'; at: bigint; error: string }
    | { kind: 'bad-pointer'; at: bigint; value: bigint }
    | { kind: 'limit'; at: bigint; limit: number }
    | { kind: 'broken-link'; at: bigint; prev: bigint; expected: bigint };
}

export interface WalkOptions {
  /** byte offset of the next pointer inside each entry */
  nextOffset: number;
  /** the start is a list head that is not itself an entry (crash's -H) */
  headIsAnchor?: boolean;
  /**
   * next pointers point at the next entry's list_head member (include/linux/list.h), not at the
   * entry itself: entries are pointer - nextOffset. Plain `next` chains (b_this_page) are false.
   */
  embedded?: boolean;
  /** also check node->next->prev == node (a list_head at nextOffset, prev at nextOffset+8) */
  checkPrev?: boolean;
  limit?: number;
  /**
   * a plain chain (not embedded, no anchor) that comes back to its first entry ends there (true,
   * the default, as crash's list does); false reports it as a cycle (a chain that must end in NULL)
   */
  endAtStart?: boolean;
}

/**
 * Follow next pointers from `start` (the address of an entry, or of the anchor list_head with
 * headIsAnchor). An entry's address is its next pointer's address minus nextOffset. Stops at
 * NULL, at the start again (circular lists), at a repeated entry, or at unreadable memory.
 */
export function walkList(prog: Program, start: bigint, opts: WalkOptions): ListWalk {
  const limit = opts.limit ?? 1_000_000;
  const off = BigInt(opts.nextOffset);
  const embedded = opts.embedded || opts.headIsAnchor;
  // the address the walk ends at when it comes round: the anchor, or the first entry's node
  const entryOf = (p: bigint) => (embedded ? p - off : p);
  const nodeOf = (entry: bigint) => entry + off;
  const entries: bigint[] = [];
  const seen = new Map<bigint, number>();
  let node: bigint;
  let endAt: bigint;
  if (opts.headIsAnchor) {
    node = start;
    endAt = start;
  } else {
    entries.push(start);
    seen.set(start, 0);
    node = nodeOf(start);
    endAt = embedded ? node : opts.endAtStart === false ? 0n : start;
  }
  for (;;) {
    let next: bigint;
    try {
      next = prog.mem.u64(node);
    } catch (e) {
      if (e instanceof MemoryError) return { entries, stop: { kind: 'unreadable', at: node, error: e.message } };
      throw e;
    }
    if (next === 0n || next === endAt) return { entries, stop: { kind: 'end' } };
    if (!prog.arch.isKernelAddress(next)) return { entries, stop: { kind: 'bad-pointer', at: node, value: next } };
    if (opts.checkPrev && embedded) {
      const prev = prog.mem.tryRead(next + 8n, 8);
      if (prev) {
        const p = new DataView(prev.buffer, prev.byteOffset, 8).getBigUint64(0, true);
        if (p !== node) return { entries, stop: { kind: 'broken-link', at: next, prev: p, expected: node } };
      }
    }
    const entry = entryOf(next);
    const first = seen.get(entry);
    if (first !== undefined) return { entries, stop: { kind: 'cycle', at: entry, first } };
    if (entries.length >= limit) return { entries, stop: { kind: 'limit', at: entry, limit } };
    seen.set(entry, entries.length);
    entries.push(entry);
    node = nodeOf(entry);
  }
}

/** A walk's problem, the one shape every list walk reports: where it stopped and why. */
export interface ListProblem {
  at: bigint;
  message: string;
}

/** Why a walk stopped early, in words prefixed by `where` (which list; '' for none), or null at a clean end. */
export function describeStop(w: ListWalk, where = 'list'): string | null {
  const h = (v: bigint) => v.toString(16);
  where = where ? `${where}: ` : '';
  switch (w.stop.kind) {
    case 'end':
      return null;
    case 'cycle':
      return `${where}duplicate list entry: ${h(w.stop.at)} (entry ${w.stop.first} again: the list loops back)`;
    case 'unreadable':
      return `${where}stopped at ${h(w.stop.at)}: ${w.stop.error}`;
    case 'bad-pointer':
      return `${where}next pointer at ${h(w.stop.at)} is ${h(w.stop.value)}, not a kernel address`;
    case 'limit':
      return `${where}stopped after ${w.stop.limit} entries (limit)`;
    case 'broken-link':
      return `${where}${h(w.stop.at)}->prev is ${h(w.stop.prev)}, expected ${h(w.stop.expected)} (broken linkage)`;
  }
}

/** The walk's problem (null when it ended cleanly). */
export function listProblem(w: ListWalk, where = 'list'): ListProblem | null {
  const message = describeStop(w, where);
  return message === null ? null : { at: w.stop.kind === 'end' ? 0n : w.stop.at, message };
}
