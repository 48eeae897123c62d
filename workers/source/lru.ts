/**
 * A least-recently-used map with a budget in bytes. Used for raw file blocks, decompressed
 * pages and translations. Map iteration order is insertion order, so re-inserting on hit
 * keeps the oldest entry first.
 */
export class LruCache<K, V> {
  private map = new Map<K, { value: V; size: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly budgetBytes: number,
    private sizeOf: (v: V) => number,
  ) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Whether key is cached (neither counted as a hit or miss nor made recent). */
  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old) {
      this.used -= old.size;
      this.map.delete(key);
    }
    const size = this.sizeOf(value);
    this.map.set(key, { value, size });
    this.used += size;
    while (this.used > this.budgetBytes && this.map.size > 1) {
      const first = this.map.keys().next().value as K;
      const e = this.map.get(first)!;
      this.used -= e.size;
      this.map.delete(first);
    }
  }

  get bytesUsed(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}
