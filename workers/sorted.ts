/**
 * The one binary search of the engine: every lookup in a sorted table (segments, symbols, line
 * rows, ORC entries, vmap areas, DWARF ranges) asks for the last entry at or below a key.
 */

/**
 * The last index i in [lo, n) of an ascending table with key(i) <= x, or -1 when there is none.
 * `key` is called O(log n) times, so a table can be read lazily (from memory, from a packed array).
 */
export function floorIndex<T extends number | bigint>(n: number, key: (i: number) => T, x: T, lo = 0): number {
  let hi = n - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = lo + ((hi - lo) >> 1);
    if (key(mid) <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/**
 * The entry of a sorted table of disjoint [start, end) ranges that contains x, or null
 * (floorIndex on the starts, then the end checked).
 */
export function containing<E, T extends number | bigint>(table: readonly E[], start: (e: E) => T, end: (e: E) => T, x: T): E | null {
  const i = floorIndex(table.length, (k) => start(table[k]), x);
  return i >= 0 && x < end(table[i]) ? table[i] : null;
}
