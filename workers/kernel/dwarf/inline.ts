/**
 * Source locations of an address with its inlined calls, as `addr2line -i -f` prints them:
 * innermost function first, with the address's own line; then each caller that the previous one
 * was inlined into, with the line of the inlined call (DW_AT_call_file / DW_AT_call_line of the
 * DW_TAG_inlined_subroutine). The last entry is the real (out-of-line) function.
 */
import { AT, TAG } from './consts';
import type { Dwarf, Unit, Range } from './dwarf';

export interface SourceFrame {
  /** function name (DW_AT_name, following abstract_origin); null when DWARF has none */
  function: string | null;
  file: string | null;
  line: number;
  column: number;
  /** true for a call inlined into the next entry */
  inlined: boolean;
  /** the DIE of the function or inlined call (for locals) */
  die?: { unit: Unit; index: number };
}

function inRanges(rs: Range[], pc: bigint): boolean {
  for (const r of rs) if (pc >= r.start && pc < r.end) return true;
  return false;
}

/**
 * The chain of scopes covering pc: [subprogram, inlined_subroutine..., ] outermost first, with the
 * lexical blocks in between (they hold locals). Empty when no subprogram covers pc.
 */
export function scopesAt(u: Unit, pc: bigint): number[] {
  const chain: number[] = [];
  let found = -1;
  for (const f of functionIndex(u)) {
    if (inRanges(f.ranges, pc)) {
      found = f.index;
      break;
    }
  }
  if (found < 0) return chain;
  chain.push(found);
  // descend: inlined subroutines and lexical blocks that cover pc
  let cur = found;
  for (let depth = 0; depth < 256; depth++) {
    let next = -1;
    for (let c = u.firstChild[cur]; c >= 0; c = u.nextSibling[c]) {
      const tag = u.tags[c];
      if (tag !== TAG.inlined_subroutine && tag !== TAG.lexical_block) continue;
      const rs = u.ranges(c);
      if (rs.length === 0 ? tag === TAG.lexical_block : inRanges(rs, pc)) {
        // a lexical block without ranges is transparent only if something inside covers pc
        if (rs.length === 0 && !coversInside(u, c, pc)) continue;
        next = c;
        break;
      }
    }
    if (next < 0) break;
    chain.push(next);
    cur = next;
  }
  return chain;
}

/** Every subprogram with code in a unit and its ranges, built once per unit. */
function functionIndex(u: Unit): Array<{ index: number; ranges: Range[] }> {
  const cached = fnIndex.get(u);
  if (cached) return cached;
  const out: Array<{ index: number; ranges: Range[] }> = [];
  for (let i = 1; i < u.count; i++) {
    if (u.tags[i] !== TAG.subprogram) continue;
    if (!u.hasAttr(i, AT.low_pc) && !u.hasAttr(i, AT.ranges)) continue;
    const rs = u.ranges(i);
    if (rs.length) out.push({ index: i, ranges: rs });
  }
  fnIndex.set(u, out);
  return out;
}
const fnIndex = new WeakMap<Unit, Array<{ index: number; ranges: Range[] }>>();

function coversInside(u: Unit, i: number, pc: bigint, depth = 0): boolean {
  if (depth > 64) return false;
  for (let c = u.firstChild[i]; c >= 0; c = u.nextSibling[c]) {
    const tag = u.tags[c];
    if (tag !== TAG.inlined_subroutine && tag !== TAG.lexical_block) continue;
    const rs = u.ranges(c);
    if (rs.length ? inRanges(rs, pc) : coversInside(u, c, pc, depth + 1)) return true;
  }
  return false;
}

/** addr2line -i -f for one address (null when no unit covers it). */
export function sourceFrames(d: Dwarf, pc: bigint): SourceFrame[] | null {
  const u = d.unitFor(pc);
  if (!u) return null;
  const lines = u.lines();
  const loc = lines?.lookup(pc) ?? null;
  const chain = scopesAt(u, pc).filter((i) => u.tags[i] !== TAG.lexical_block);
  if (chain.length === 0) {
    return [{ function: null, file: loc?.file ?? null, line: loc?.line ?? 0, column: loc?.column ?? 0, inlined: false }];
  }
  const out: SourceFrame[] = [];
  let file: string | null = loc?.file ?? null;
  let line = loc?.line ?? 0;
  let column = loc?.column ?? 0;
  for (let k = chain.length - 1; k >= 0; k--) {
    const i = chain[k];
    out.push({ function: d.dieName(u, i), file, line, column, inlined: k > 0, die: { unit: u, index: i } });
    if (k > 0) {
      // the caller's location: where this inlined call was made
      const a = u.attrs(i);
      const cf = a.get(AT.call_file);
      const cl = a.get(AT.call_line);
      const fileIdx = cf && (cf.k === 'u' || cf.k === 's') ? Number(cf.v) : -1;
      file = fileIdx >= 0 && lines ? lines.fileName(fileIdx) : null;
      line = cl && (cl.k === 'u' || cl.k === 's') ? Number(cl.v) : 0;
      column = 0;
    }
  }
  return out;
}
