/**
 * The script API: a small typed object model over Program and Obj (drgn's Program/Object, in
 * JavaScript), for scripts run in Node (`vmcore DUMP --script f.js`) or the console. Member access
 * is by property through a Proxy (`task.comm`, `skb.head`), through pointers as C's `->` (like
 * drgn). Iterators call the analysis helpers the commands use (analysis/list.ts, tasks.ts,
 * slab.ts, unwind.ts): no second copies. Every walk is bounded by those helpers.
 *
 * Names an object answers itself (see KOBJECT_API) shadow C members of the same name: reach those
 * with `.member('name')`.
 */
import { DumpError, MemoryError } from '../errors';
import type { Program } from '../kernel/program';
import { Obj } from '../kernel/object';
import { btfVariable, type BtfVariable } from '../kernel/variables';
import { walkList, describeStop } from '../kernel/list';
import { rbInorder } from '../kernel/rbtree';
import { xaEntries } from '../kernel/xarray';
import { mapleEntries } from '../analysis/maple';
import { forEachTask, taskInfo, findTask, cpus, idleTask, type TaskInfo } from '../analysis/tasks';
import { listCaches, cacheUsage, cacheSlabs, findCache, slabObjectInfo, type SlabCache, type SlabObjects } from '../analysis/slab';
import { unwindTask } from '../analysis/unwind';

/** Properties every script object answers itself (C members of these names: use .member()). */
export const KOBJECT_API = [
  'address', 'typeName', 'byteSize', 'kind', 'member', 'value', 'deref', 'cast', 'at', 'string', 'bytes',
  'isNull', 'toJSON', 'toString', 'valueOf', 'then', 'obj', 'length', 'hasMember', 'members',
] as const;
const API = new Set<string | symbol>(KOBJECT_API);

/** Caps on what value()/toJSON() expand (a struct of arrays of structs stays small). */
const MAX_VALUE_ELEMS = 4096;
const MAX_VALUE_DEPTH = 6;

export type Scalar = number | bigint;

/** A typed kernel object as a script sees it (see the generated kernel.d.ts for member types). */
export interface KObject {
  readonly address: bigint;
  /** the C type ("struct task_struct", "char [16]", "struct mm_struct *") */
  readonly typeName: string;
  readonly byteSize: number;
  /** BTF kind after typedefs: struct, union, int, ptr, array, enum, ... */
  readonly kind: string;
  /** array length (0 for other kinds) */
  readonly length: number;
  /** the engine object (for code that calls analysis helpers directly) */
  readonly obj: Obj;
  member(path: string): KObject;
  hasMember(name: string): boolean;
  /** member names (struct/union, through typedefs and one pointer) */
  members(): string[];
  /** numbers: 1..4 byte integers and enums as number, 8-byte ones and pointers as bigint; arrays and structs as plain JS values (bounded) */
  value(): any;
  deref(): KObject;
  cast(type: string): KObject;
  /** array element or pointer arithmetic */
  at(i: number): KObject;
  string(max?: number): string;
  bytes(n?: number): Uint8Array;
  isNull(): boolean;
  toJSON(): unknown;
  readonly [member: string]: any;
}

export interface ListOptions {
  /** stop after this many entries (default 1,000,000) */
  limit?: number;
}

export interface ScriptFrame {
  level: number;
  pc: bigint;
  sp: bigint;
  symbol: string | null;
  offset: number | null;
  module: string | null;
}

export interface SlabCacheInfo {
  name: string;
  address: bigint;
  objectSize: number;
  size: number;
  /** the struct kmem_cache */
  object: KObject;
}

/** What a script gets as `prog`. */
export class ScriptProgram {
  /** problems met by iterators (list walks that stopped early, unreadable entries) */
  readonly problems: string[] = [];

  constructor(readonly program: Program) {}

  // ---------------------------------------------------------------- objects and types

  /** A typed object at an address: prog.object(addr, 'struct sk_buff'). Pointer types ("struct page *") are accepted. */
  object(address: bigint | number, type: string): KObject {
    return wrap(new Obj(this.program, this.typeId(type), BigInt(address)), this);
  }

  /** A BTF type id from C text: "struct sk_buff", "pid_t", "struct page *", "char *". */
  typeId(type: string): number {
    const t = type.trim();
    const m = /^(.*?)\s*(\*+)$/.exec(t);
    if (!m) return this.program.type(t);
    let id = this.typeId(m[1]);
    for (let i = 0; i < m[2].length; i++) id = this.pointerTo(id);
    return id;
  }

  private pointerTo(target: number): number {
    const btf = this.program.btf;
    const p = btf.pointerTo(target);
    if (p === null) throw new DumpError(`the kernel's BTF has no pointer to ${btf.typeName(target)}`);
    return p;
  }

  /** The BTF VAR of a variable (kernel/variables.ts: per-CPU ones from .data..percpu, globals when pahole emitted them), or null. */
  btfVariable(name: string): BtfVariable | null {
    return btfVariable(this.program, name);
  }

  /**
   * A global variable: typed from BTF when the kernel's BTF has a VAR for it, else from `type`
   * (most kernels' BTF describes only per-CPU variables: `prog.var('init_task', 'struct task_struct')`).
   */
  var(name: string, type?: string): KObject {
    const v = btfVariable(this.program, name);
    if (v && v.percpu && type === undefined)
      throw new DumpError(`${name} is a per-CPU variable: use prog.perCpu('${name}', cpu)`);
    const a = this.program.symbolAddress(name);
    if (a === undefined) throw this.program.missingSymbol(name);
    if (type !== undefined) return this.object(a, type);
    if (!v) throw new DumpError(`the kernel's BTF has no type for ${name}: give one, prog.var('${name}', 'struct ...')`);
    return wrap(new Obj(this.program, v.type, a), this);
  }

  /** A per-CPU variable on one CPU (typed from BTF's .data..percpu, else from `type`). */
  perCpu(name: string, cpu: number, type?: string): KObject {
    const v = btfVariable(this.program, name);
    const a = this.program.perCpu(name, cpu);
    if (type !== undefined) return this.object(a, type);
    if (!v) throw new DumpError(`the kernel's BTF has no type for per-CPU ${name}: give one, prog.perCpu('${name}', ${cpu}, 'struct ...')`);
    return wrap(new Obj(this.program, v.type, a), this);
  }

  /** Possible CPUs (0 .. nr_cpu_ids-1). */
  cpus(): number[] {
    return cpus(this.program);
  }

  sizeof(type: string | KObject): number {
    return typeof type === 'string' ? this.program.sizeof(this.typeId(type)) : type.byteSize;
  }

  offsetof(type: string, member: string): number {
    return this.program.offsetof(this.typeId(type), member);
  }

  /** container_of(ptr, type, member): ptr may be an address or an object (its value if a pointer, else its address). */
  containerOf(ptr: bigint | number | KObject, type: string, member: string): KObject {
    const p = typeof ptr === 'object' ? (ptr.kind === 'ptr' ? (ptr.value() as bigint) : ptr.address) : BigInt(ptr);
    return this.object(p - BigInt(this.offsetof(type, member)), type);
  }

  /** Raw bytes of kernel virtual memory (throws on unreadable memory; at most 1 MiB). */
  read(address: bigint | number, n: number): Uint8Array {
    if (!(n >= 0 && n <= 1 << 20)) throw new DumpError(`read: ${n} bytes (at most 1 MiB)`);
    return this.program.mem.read(BigInt(address), n);
  }

  readU64(address: bigint | number): bigint {
    return this.program.mem.u64(BigInt(address));
  }

  /** Like read(), null when unreadable. */
  tryRead(address: bigint | number, n: number): Uint8Array | null {
    try {
      return this.read(address, n);
    } catch (e) {
      if (e instanceof MemoryError) return null;
      throw e;
    }
  }

  // ---------------------------------------------------------------- symbols

  symbolAddress(name: string): bigint | undefined {
    return this.program.symbolAddress(name);
  }

  /** The symbol at or below an address: { name, address, offset, module }, or null. */
  symbol(address: bigint | number): { name: string; address: bigint; offset: number; module: string | null } | null {
    const h = this.program.symbols.lookup(BigInt(address));
    return h ? { name: h.sym.name, address: h.sym.address, offset: h.offset, module: h.sym.module ?? null } : null;
  }

  /** The value of an enumerator constant ("PG_slab", "TASK_COMM_LEN" when an enum defines it). */
  constant(name: string): bigint {
    const e = this.program.btf.enumerator(name);
    if (!e) throw new DumpError(`the kernel's BTF has no enumerator ${name}`);
    return e.value;
  }

  // ---------------------------------------------------------------- helpers (the commands' analyses)

  /** list_for_each_entry: entries of `type` linked through `member` from a list_head (object or address). */
  listForEachEntry(head: KObject | bigint | number, type: string, member: string, opts: ListOptions = {}): KObject[] {
    const h = typeof head === 'object' ? head.address : BigInt(head);
    const w = walkList(this.program, h, { nextOffset: this.offsetof(type, member), headIsAnchor: true, limit: opts.limit });
    const why = describeStop(w);
    if (why) this.problems.push(why);
    return w.entries.map((a) => this.object(a, type));
  }

  /** list_for_each: the list_head nodes of a list (not the head itself). */
  listForEach(head: KObject | bigint | number, opts: ListOptions = {}): KObject[] {
    return this.listForEachEntry(head, 'struct list_head', 'next', opts);
  }

  /** hlist_for_each_entry from an hlist_head (object or address). */
  hlistForEachEntry(head: KObject | bigint | number, type: string, member: string, opts: ListOptions = {}): KObject[] {
    const h = typeof head === 'object' ? head.address : BigInt(head);
    const first = this.program.mem.u64(h);
    if (first === 0n) return [];
    const off = this.offsetof(type, member);
    const w = walkList(this.program, first - BigInt(off), { nextOffset: off, embedded: true, limit: opts.limit });
    const why = describeStop(w);
    if (why) this.problems.push(why);
    return w.entries.map((a) => this.object(a, type));
  }

  /** rbtree_inorder_for_each_entry: entries of `type` linked through its rb_node `member`, in order, from a struct rb_root (object or address). */
  rbtreeInorderForEachEntry(root: KObject | bigint | number, type: string, member: string, opts: ListOptions = {}): KObject[] {
    const r = typeof root === 'object' ? root.address : BigInt(root);
    const off = BigInt(this.offsetof(type, member));
    const w = rbInorder(this.program, r, opts.limit);
    if (w.problem) this.problems.push(w.problem);
    return w.nodes.map((n) => this.object(n - off, type));
  }

  /** xa_for_each: every present entry of a struct xarray (object or address) with its index. */
  xaForEach(xa: KObject | bigint | number, opts: ListOptions = {}): Array<{ index: bigint; entry: bigint }> {
    const w = xaEntries(this.program, typeof xa === 'object' ? xa.address : BigInt(xa), opts.limit);
    if (w.problem) this.problems.push(w.problem);
    return w.entries;
  }

  /** idr_for_each: the IDR's ids (index + idr_base) and pointers. */
  idrForEach(idr: KObject | bigint | number, opts: ListOptions = {}): Array<{ id: bigint; entry: bigint }> {
    const o = typeof idr === 'object' ? idr.cast('struct idr') : this.object(idr, 'struct idr');
    const base = o.hasMember('idr_base') ? BigInt(o.idr_base.value()) : 0n;
    return this.xaForEach(o.idr_rt.address, opts).map((e) => ({ id: e.index + base, entry: e.entry }));
  }

  /**
   * mt_for_each: every entry of a maple tree (struct maple_tree, object or address) with the
   * index range it covers, in index order (analysis/maple.ts, the walker of `tree -t maple` and
   * `vm`): a task's VMAs are `prog.mtForEach(task.mm.mm_mt)`, each entry a vm_area_struct.
   */
  mtForEach(mt: KObject | bigint | number, opts: ListOptions = {}): Array<{ index: bigint; last: bigint; entry: bigint }> {
    const w = mapleEntries(this.program, typeof mt === 'object' ? mt.address : BigInt(mt), opts.limit);
    this.problems.push(...w.problems);
    return w.entries;
  }

  /** for_each_process_thread (analysis/tasks.ts forEachTask): every task on init_task's lists. */
  tasks(): KObject[] {
    return forEachTask(this.program).map((a) => this.object(a, 'struct task_struct'));
  }

  /** Each CPU's idle task (rq->idle; swapper/N), which the task lists do not hold except init_task. */
  idleTasks(): KObject[] {
    const out: KObject[] = [];
    for (const c of this.cpus()) {
      const t = idleTask(this.program, c);
      if (t) out.push(this.object(t, 'struct task_struct'));
    }
    return out;
  }

  /** A task by pid or task_struct address (as ps finds it), or null. */
  task(spec: number | bigint): KObject | null {
    const t = findTask(this.program, spec);
    return t ? this.object(t.task, 'struct task_struct') : null;
  }

  /** The stack trace of a task (analysis/unwind.ts, the unwinder bt uses). */
  stackTrace(task: KObject | bigint | number): ScriptFrame[] {
    const a = typeof task === 'object' ? (task.kind === 'ptr' ? (task.value() as bigint) : task.address) : BigInt(task);
    const info: TaskInfo = findTask(this.program, a) ?? taskInfo(this.program, a);
    const u = unwindTask(this.program, info);
    if (u.stopped) this.problems.push(`task 0x${a.toString(16)}: ${u.stopped}`);
    return u.frames.map((f) => ({
      level: f.level,
      pc: f.pc,
      sp: f.sp,
      symbol: f.sym?.sym.name ?? null,
      offset: f.sym ? f.sym.offset : null,
      module: f.sym?.sym.module ?? null,
    }));
  }

  /** Every slab cache on slab_caches (analysis/slab.ts listCaches). */
  slabCaches(): SlabCacheInfo[] {
    const r = listCaches(this.program);
    for (const p of r.problems) this.problems.push(p.message);
    return r.caches.map((c) => this.cacheInfo(c));
  }

  private cacheInfo(c: SlabCache): SlabCacheInfo {
    return { name: c.name, address: c.address, objectSize: c.objectSize, size: c.size, object: this.object(c.address, 'struct kmem_cache') };
  }

  private findCache(cache: string | bigint | SlabCacheInfo): SlabCache {
    const spec = typeof cache === 'object' ? cache.address : cache;
    const c = findCache(this.program, spec);
    if (!c) throw new DumpError(`no slab cache ${typeof spec === 'bigint' ? '0x' + spec.toString(16) : spec}`);
    return c;
  }

  /** crash's kmem -s numbers of a cache (every possible CPU's free objects count as free). */
  slabCacheUsage(cache: string | bigint | SlabCacheInfo): { allocated: number; total: number; slabs: number; objsize: number; ssize: number } {
    const u = cacheUsage(this.program, this.findCache(cache));
    for (const p of u.problems) this.problems.push(`${u.name}: ${p}`);
    return { allocated: u.allocated, total: u.total, slabs: u.slabs, objsize: u.objsize, ssize: u.ssize };
  }

  /**
   * Objects of a cache's slabs with their state (allocated / free / cpu-free): the slabs SLUB
   * lists, plus with `walkPages` the full slabs found by walking every struct page (slower).
   */
  slabObjects(cache: string | bigint | SlabCacheInfo, opts: { walkPages?: boolean; allocatedOnly?: boolean } = {}): Array<{ address: bigint; state: string; slab: bigint }> {
    const l = cacheSlabs(this.program, this.findCache(cache), { walkPages: opts.walkPages });
    const all: SlabObjects[] = [
      ...l.cpus.flatMap((c) => [...(c.slab ? [c.slab] : []), ...c.partial]),
      ...l.nodes.flatMap((n) => [...n.partial, ...(n.full ?? [])]),
      ...(l.untracked ?? []),
    ];
    const out: Array<{ address: bigint; state: string; slab: bigint }> = [];
    for (const so of all) {
      for (const p of so.problems) this.problems.push(p);
      so.objects.forEach((o, i) => {
        if (!opts.allocatedOnly || so.states[i] === 'allocated') out.push({ address: o, state: so.states[i], slab: so.slab.address });
      });
    }
    return out;
  }

  /** What slab object an address is in (kmem ADDR), or null. */
  slabObjectInfo(address: bigint | number): { cache: string; object: bigint; offset: number; allocated: boolean } | null {
    const i = slabObjectInfo(this.program, BigInt(address));
    if (!i || i.object === null) return null;
    return { cache: i.cache.name, object: i.object, offset: Number(BigInt(address) - i.object), allocated: i.state === 'allocated' };
  }
}

// -------------------------------------------------------------------- objects

function wrap(o: Obj, sp: ScriptProgram): KObject {
  const target = new KObj(o, sp);
  return new Proxy(target, {
    get(t, prop) {
      // the API first, then C members (so a member named like a private field or an Object
      // method, e.g. pt_regs.sp or .constructor, is the member), then what objects inherit
      if (typeof prop === 'symbol' || API.has(prop)) {
        // run on the target (its #private fields), not on the proxy
        const v = Reflect.get(t, prop, t);
        return typeof v === 'function' ? v.bind(t) : v;
      }
      if (/^\d+$/.test(prop)) return t.at(Number(prop));
      if (t.hasMember(prop)) return t.member(prop);
      return undefined;
    },
    has(t, prop) {
      return typeof prop === 'string' && (API.has(prop) || t.hasMember(prop));
    },
  }) as unknown as KObject;
}

class KObj {
  readonly #sp: ScriptProgram;
  constructor(
    readonly obj: Obj,
    sp: ScriptProgram,
  ) {
    this.#sp = sp;
  }

  get address(): bigint {
    return this.obj.address;
  }
  get typeName(): string {
    return this.obj.typeName;
  }
  get byteSize(): number {
    return this.obj.size;
  }
  get kind(): string {
    return this.obj.kind;
  }
  get length(): number {
    const t = this.obj.btf.type(this.obj.rtype);
    return t.kind === 'array' ? t.nelems : 0;
  }

  /** the struct/union this object is or points to (C's `.` and `->`), or null */
  #composite(): Obj | null {
    const btf = this.obj.btf;
    if (btf.isComposite(this.obj.type)) return this.obj;
    const t = btf.type(this.obj.rtype);
    if (t.kind === 'ptr' && btf.isComposite(t.type)) return this.obj.deref();
    return null;
  }

  hasMember(name: string): boolean {
    const btf = this.obj.btf;
    let id = this.obj.type;
    const t = btf.type(this.obj.rtype);
    if (t.kind === 'ptr') id = t.type;
    return btf.isComposite(id) && btf.findMember(id, name) !== null;
  }

  members(): string[] {
    const btf = this.obj.btf;
    let id = this.obj.type;
    const t = btf.type(this.obj.rtype);
    if (t.kind === 'ptr') id = t.type;
    const out: string[] = [];
    const rec = (rid: number, depth: number) => {
      for (const m of btf.members(rid)) {
        if (m.name) out.push(m.name);
        else if (depth < 8) rec(m.type, depth + 1);
      }
    };
    rec(id, 0);
    return out;
  }

  member(path: string): KObject {
    const c = this.#composite();
    if (!c) throw new DumpError(`${this.typeName} is not a struct or union (or a pointer to one): no member ${path}`);
    return wrap(c.member(path), this.#sp);
  }

  deref(): KObject {
    return wrap(this.obj.deref(), this.#sp);
  }

  cast(type: string): KObject {
    return wrap(new Obj(this.obj.prog, this.#sp.typeId(type), this.obj.address), this.#sp);
  }

  at(i: number): KObject {
    return wrap(this.obj.index(i), this.#sp);
  }

  string(max = 4096): string {
    return this.obj.string(max);
  }

  bytes(n = this.obj.size): Uint8Array {
    return this.obj.bytes(n);
  }

  isNull(): boolean {
    return this.obj.kind === 'ptr' && this.obj.ptr() === 0n;
  }

  value(): any {
    return valueOf(this.obj, 0, { n: 0 });
  }

  toJSON(): unknown {
    return { address: '0x' + this.address.toString(16), type: this.typeName };
  }

  toString(): string {
    return `(${this.typeName})0x${this.address.toString(16)}`;
  }
}

/** A plain JS value of an object: numbers, bigints, arrays, records (bounded). */
function valueOf(o: Obj, depth: number, budget: { n: number }): any {
  const btf = o.btf;
  const t = btf.type(o.rtype);
  if (++budget.n > MAX_VALUE_ELEMS) throw new DumpError(`value(): more than ${MAX_VALUE_ELEMS} elements; read members instead`);
  switch (t.kind) {
    case 'int':
    case 'enum':
    case 'enum64': {
      const v = o.value();
      return o.size > 4 && !o.bitSize ? v : Number(v);
    }
    case 'ptr':
      return o.value();
    case 'array': {
      if (depth >= MAX_VALUE_DEPTH) throw new DumpError('value(): nested too deep');
      const out: any[] = [];
      for (let i = 0; i < t.nelems; i++) out.push(valueOf(o.index(i), depth + 1, budget));
      return out;
    }
    case 'struct':
    case 'union': {
      if (depth >= MAX_VALUE_DEPTH) throw new DumpError('value(): nested too deep');
      const out: Record<string, any> = {};
      for (const m of t.members) {
        if (m.name) out[m.name] = valueOf(o.member(m.name), depth + 1, budget);
        else Object.assign(out, valueOf(new Obj(o.prog, m.type, o.address + BigInt(Math.floor(m.bitOffset / 8))), depth + 1, budget));
      }
      return out;
    }
    case 'float': {
      const b = o.bytes();
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return o.size === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true);
    }
    default:
      throw new DumpError(`value(): cannot read ${o.typeName}`);
  }
}

/** The API for a Program. */
export function scriptProgram(prog: Program): ScriptProgram {
  return new ScriptProgram(prog);
}
