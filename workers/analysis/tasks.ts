/**
 * Tasks (drgn's helpers/linux/pid.py + sched.py, named after the kernel files they mirror:
 * kernel/fork.c's task lists, kernel/sched/core.c's runqueues, fs/proc/array.c's task states).
 *
 * Every walk is bounded and cycle-checked; a bad pointer ends that list and is recorded in
 * `problems`, never an exception out of the helper.
 *
 * What is read, from where:
 * - processes: init_task.tasks (struct list_head of struct task_struct.tasks);
 * - threads of a process: signal->thread_head / task->thread_node (Linux >= 6.6, backported to
 *   6.1 stable) when BTF has them, else task->thread_group (older kernels) — detected from BTF;
 * - idle tasks: per-CPU `runqueues` (struct rq) ->idle; CPU 0's is init_task;
 * - each CPU's current task: rq->curr, and pcpu_hot.current_task (>= 6.2) or the per-CPU
 *   current_task (older), whichever the kernel has;
 * - task state letters: crash's RU/IN/UN/ST/TR/DE/ZO/PA/ID/NE/WA from task->__state (or ->state)
 *   | task->exit_state. The TASK_* bit values are not a BTF enum; the report bits are read from
 *   the kernel's own fs/proc/array.c task_state_array ("R (running)", "S (sleeping)", ...: the
 *   string at index i is bit i-1), and the internal bits that array does not name (TASK_WAKING
 *   0x200, TASK_NOLOAD 0x400, TASK_NEW 0x800, unchanged since 4.14) are include/linux/sched.h's;
 * - the panic task: panic_cpu (atomic_t, set by panic() on the CPU that panics) -> that CPU's
 *   current task; else the kdump header's current CPU; else an active task whose stack holds
 *   a return address into panic/die/oops_end (crash's heuristic).
 */
import { MemoryError, DumpError, expectedError } from '../errors';
import { u32, u64, cstr } from '../bytes';
import { cacheKey, type Program } from '../kernel/program';
import { walkList, listProblem, describeStop } from '../kernel/list';

const TASKS_LAYOUT_KEY = cacheKey<TaskLayout>('tasks.layout');
const TASKS_PROBLEMS_KEY = cacheKey<WalkProblem[]>('tasks.problems');
const TASKS_ALL_KEY = cacheKey<bigint[]>('tasks.all');
const TASKS_ACTIVE_KEY = cacheKey<Map<number, bigint>>('tasks.active');
const TASKS_STATEBITS_KEY = cacheKey<TaskStateBits>('tasks.statebits');
const TASKS_LIST_KEY = cacheKey<TaskInfo[]>('tasks.list');
const TASKS_PANIC_KEY = cacheKey<TaskInfo | null>('tasks.panic');
const TASKS_TOTALPAGES_KEY = cacheKey<number>('tasks.totalpages');
const TASKS_THREADSIZE_KEY = cacheKey<number>('tasks.threadsize');

export const MAX_TASKS = 1_000_000;

/** Offsets of the task_struct members the helpers read (from BTF, once per Program). */
export interface TaskLayout {
  taskT: number;
  tasks: number;
  pid: number;
  tgid: number;
  comm: number;
  commLen: number;
  state: number; // __state or state
  stateSize: number;
  exitState: number;
  realParent: number;
  mm: number;
  stack: number;
  cpu: number | null; // thread_info.cpu or cpu
  onCpu: number | null;
  signal: number;
  /** thread list: signal->thread_head + task->thread_node, or task->thread_group */
  threadHead: number | null;
  threadNode: number | null;
  threadGroup: number | null;
  threadSp: number;
}

export function taskLayout(prog: Program): TaskLayout {
  const c = prog.recall(TASKS_LAYOUT_KEY);
  if (c) return c;
  const t = prog.type('struct task_struct');
  const off = (m: string) => prog.offsetof(t, m);
  const opt = (m: string) => (prog.btf.memberPath(t, m) ? prog.offsetof(t, m) : null);
  const stateName = prog.btf.memberPath(t, '__state') ? '__state' : 'state';
  const st = prog.obj(t, 0n).member(stateName);
  const sigT = prog.findType('struct signal_struct');
  const threadHead = sigT !== null && prog.btf.memberPath(sigT, 'thread_head') ? prog.offsetof(sigT, 'thread_head') : null;
  const l: TaskLayout = {
    taskT: t,
    tasks: off('tasks'),
    pid: off('pid'),
    tgid: off('tgid'),
    comm: off('comm'),
    commLen: prog.obj(t, 0n).member('comm').size,
    state: off(stateName),
    stateSize: st.size,
    exitState: off('exit_state'),
    realParent: off('real_parent'),
    mm: off('mm'),
    stack: off('stack'),
    cpu: opt('thread_info.cpu') ?? opt('cpu'),
    onCpu: opt('on_cpu'),
    signal: off('signal'),
    threadHead,
    threadNode: threadHead !== null ? opt('thread_node') : null,
    threadGroup: opt('thread_group'),
    threadSp: off('thread.sp'),
  };
  prog.remember(TASKS_LAYOUT_KEY, l);
  return l;
}

/** A problem met while walking (bad pointer, loop): shown to the user, never thrown. */
export interface WalkProblem {
  where: string;
  address: bigint;
  why: string;
}

function problems(prog: Program): WalkProblem[] {
  let p = prog.recall(TASKS_PROBLEMS_KEY);
  if (!p) prog.remember(TASKS_PROBLEMS_KEY, (p = []));
  return p;
}

/**
 * f(i) for i from n - 1 down to 0, with the problems each call records kept in the order of i.
 * For a pass over every task right after one that read them in order: going backwards, it first
 * reads the tasks read last, still in the caches; in the same order, each task's pages would have
 * been evicted by the time it came round again once the tasks outgrow the caches (`ps` of
 * 3061 tasks in an 8 GiB ELF by URL, 96 MiB of blocks cached: 1185 Range requests in the walk's
 * order, 456 with the thread lists read backwards).
 */
function backwards<T>(prog: Program, n: number, f: (i: number) => T): T[] {
  const out = new Array<T>(n);
  const p = problems(prog);
  const noted: WalkProblem[][] = [];
  for (let i = n - 1; i >= 0; i--) {
    const before = p.length;
    out[i] = f(i);
    if (p.length > before) noted[i] = p.splice(before);
  }
  for (const x of noted) if (x) p.push(...x);
  return out;
}

/** Problems recorded by the task walks so far. */
export function taskWalkProblems(prog: Program): readonly WalkProblem[] {
  return problems(prog);
}

/** The task walks' problems as one line each (for a command's `problems`). */
export function taskWalkProblemLines(prog: Program): string[] {
  return problems(prog).map((p) => `task walk: ${p.where}${p.address ? ` at 0x${p.address.toString(16)}` : ''}: ${p.why}; the task list may be incomplete`);
}

/**
 * Walk a circular list_head starting at `head` (not itself an entry): the entry node addresses.
 * Bounded by `max` and cycle-checked; a read failure ends the walk with a problem.
 */
export function listNodes(prog: Program, head: bigint, where: string, max = MAX_TASKS): bigint[] {
  const walk = walkList(prog, head, { nextOffset: 0, headIsAnchor: true, limit: max });
  const problem = listProblem(walk, '');
  if (problem) problems(prog).push({ where, address: problem.at, why: problem.message });
  return walk.entries;
}

/** init_task's address (struct task_struct *). */
export function initTask(prog: Program): bigint {
  const a = prog.symbolAddress('init_task');
  if (a === undefined) throw prog.missingSymbol('init_task');
  return a;
}

/** The group leaders: init_task.tasks (kernel/fork.c, for_each_process). init_task first. */
export function forEachProcess(prog: Program): bigint[] {
  const l = taskLayout(prog);
  const init = initTask(prog);
  const off = BigInt(l.tasks);
  return [init, ...listNodes(prog, init + off, 'init_task.tasks').map((n) => n - off)];
}

/** Threads of the process whose leader is `leader` (for_each_thread), leader included. */
export function forEachThread(prog: Program, leader: bigint): bigint[] {
  const l = taskLayout(prog);
  if (l.threadHead !== null && l.threadNode !== null) {
    try {
      const sig = prog.mem.u64(leader + BigInt(l.signal));
      if (sig) {
        const off = BigInt(l.threadNode);
        const r = listNodes(prog, sig + BigInt(l.threadHead), `signal->thread_head of task 0x${leader.toString(16)}`).map((n) => n - off);
        if (r.length) return r;
      }
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems(prog).push({ where: 'task->signal', address: leader, why: e.message });
    }
  }
  if (l.threadGroup !== null) {
    const off = BigInt(l.threadGroup);
    return [leader, ...listNodes(prog, leader + off, `thread_group of task 0x${leader.toString(16)}`).map((n) => n - off)];
  }
  return [leader];
}

/** Every thread of every process (for_each_process_thread), init_task (swapper/0) first. */
export function forEachTask(prog: Program): bigint[] {
  const cached = prog.recall(TASKS_ALL_KEY);
  if (cached) return cached;
  const seen = new Set<bigint>();
  const out: bigint[] = [];
  const procs = forEachProcess(prog);
  const threads = backwards(prog, procs.length, (i) => forEachThread(prog, procs[i]));
  for (const ts of threads) {
    for (const t of ts) {
      if (seen.has(t)) continue;
      seen.add(t);
      out.push(t);
      if (out.length >= MAX_TASKS) break;
    }
  }
  prog.remember(TASKS_ALL_KEY, out);
  return out;
}

/** Possible CPUs that have a per-CPU area (0 .. nr_cpu_ids-1). */
export function cpus(prog: Program): number[] {
  const n = prog.perCpuOffsets().length || prog.nrCpuIds();
  return Array.from({ length: n }, (_, i) => i);
}

/** &runqueues on `cpu` (struct rq *). */
export function cpuRq(prog: Program, cpu: number): bigint {
  return prog.perCpu('runqueues', cpu);
}

/** rq->idle of `cpu` (the idle task, swapper/N), or null. */
export function idleTask(prog: Program, cpu: number): bigint | null {
  try {
    return prog.obj('struct rq', cpuRq(prog, cpu)).member('idle').ptr() || null;
  } catch (e) {
    if (e instanceof MemoryError || e instanceof DumpError) return cpu === 0 ? initTask(prog) : null;
    throw e;
  }
}

/** rq->curr of `cpu` (the task the scheduler last switched to there), or null. */
export function rqCurr(prog: Program, cpu: number): bigint | null {
  try {
    return prog.obj('struct rq', cpuRq(prog, cpu)).member('curr').ptr() || null;
  } catch (e) {
    if (e instanceof MemoryError || e instanceof DumpError) return null;
    throw e;
  }
}

/** The per-CPU `current` pointer: pcpu_hot.current_task (>= 6.2) or current_task, or null. */
export function perCpuCurrent(prog: Program, cpu: number): bigint | null {
  try {
    if (prog.symbolAddress('pcpu_hot') !== undefined && prog.findType('struct pcpu_hot') !== null) {
      const a = prog.perCpu('pcpu_hot', cpu) + BigInt(prog.offsetof('struct pcpu_hot', 'current_task'));
      return prog.mem.u64(a) || null;
    }
    if (prog.symbolAddress('current_task') !== undefined) return prog.mem.u64(prog.perCpu('current_task', cpu)) || null;
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  return null;
}

/**
 * Each CPU's active task as crash marks it (">"): rq->curr, which agrees with the per-CPU current
 * pointer except in the middle of a context switch; falls back to the per-CPU pointer.
 */
export function activeTasks(prog: Program): Map<number, bigint> {
  const cached = prog.recall(TASKS_ACTIVE_KEY);
  if (cached) return cached;
  const m = new Map<number, bigint>();
  for (const cpu of cpus(prog)) {
    const t = rqCurr(prog, cpu) ?? perCpuCurrent(prog, cpu);
    if (t) m.set(cpu, t);
  }
  prog.remember(TASKS_ACTIVE_KEY, m);
  return m;
}

export interface TaskInfo {
  task: bigint;
  pid: number;
  tgid: number;
  ppid: number;
  cpu: number;
  comm: string;
  /** raw __state | exit_state */
  stateValue: number;
  /** crash's two letters */
  state: string;
  mm: bigint;
  /** kernel thread (no mm) */
  kthread: boolean;
  /** the active task of its CPU */
  active: boolean;
  /** an idle task (swapper/N) */
  idle: boolean;
  stack: bigint;
}

/** Task state bits as the kernel defines them (see the file comment for where they come from). */
export interface TaskStateBits {
  INTERRUPTIBLE: number;
  UNINTERRUPTIBLE: number;
  STOPPED: number;
  TRACED: number;
  EXIT_DEAD: number;
  EXIT_ZOMBIE: number;
  PARKED: number;
  DEAD: number;
  WAKEKILL: number;
  WAKING: number;
  NOLOAD: number;
  NEW: number;
  /** the letters of task_state_array, as read */
  letters: string;
}

export function taskStateBits(prog: Program): TaskStateBits {
  const c = prog.recall(TASKS_STATEBITS_KEY);
  if (c) return c;
  // include/linux/sched.h since 4.14 (the defaults when task_state_array cannot be read)
  const bits: TaskStateBits = {
    INTERRUPTIBLE: 0x1,
    UNINTERRUPTIBLE: 0x2,
    STOPPED: 0x4,
    TRACED: 0x8,
    EXIT_DEAD: 0x10,
    EXIT_ZOMBIE: 0x20,
    PARKED: 0x40,
    DEAD: 0x80,
    WAKEKILL: 0x100,
    WAKING: 0x200,
    NOLOAD: 0x400,
    NEW: 0x800,
    letters: '',
  };
  const arr = prog.symbolAddress('task_state_array');
  if (arr !== undefined) {
    let letters = '';
    for (let i = 0; i < 16; i++) {
      const p = prog.mem.tryRead(arr + BigInt(i * 8), 8);
      if (!p) break;
      const ptr = u64(p, 0);
      const s = ptr ? prog.mem.tryRead(ptr, 2) : null;
      if (!s || s[1] !== 0x20 || !/[A-Za-z]/.test(String.fromCharCode(s[0]))) break;
      letters += String.fromCharCode(s[0]);
    }
    // "R (running)" is index 0 (no bit); the string at index i is bit 1 << (i - 1)
    const bit = (ch: string) => {
      const i = letters.indexOf(ch);
      return i > 0 ? 1 << (i - 1) : 0;
    };
    if (letters.startsWith('R')) {
      bits.letters = letters;
      bits.INTERRUPTIBLE = bit('S') || bits.INTERRUPTIBLE;
      bits.UNINTERRUPTIBLE = bit('D') || bits.UNINTERRUPTIBLE;
      bits.STOPPED = bit('T') || bits.STOPPED;
      bits.TRACED = bit('t') || bits.TRACED;
      bits.EXIT_DEAD = bit('X') || bits.EXIT_DEAD;
      bits.EXIT_ZOMBIE = bit('Z') || bits.EXIT_ZOMBIE;
      bits.PARKED = bit('P') || bits.PARKED;
    }
  }
  prog.remember(TASKS_STATEBITS_KEY, bits);
  return bits;
}

/** crash's state letters for a raw __state | exit_state value (crash task.c task_state_string). */
export function stateLetters(v: number, b: TaskStateBits): string {
  if (v === 0) return 'RU';
  if (v & b.INTERRUPTIBLE) return 'IN';
  if (v & b.UNINTERRUPTIBLE) return v & b.NOLOAD ? 'ID' : 'UN';
  if (v & b.EXIT_ZOMBIE) return 'ZO';
  if (v & b.STOPPED) return 'ST';
  if (v & b.TRACED) return 'TR';
  if (v & b.EXIT_DEAD) return 'DE';
  if (v & b.DEAD) return 'DE';
  if (v & b.WAKING) return 'WA';
  if (v & b.PARKED) return 'PA';
  if (v & b.NEW) return 'NE';
  return '??';
}

/** Read the ps facts of one task. Throws MemoryError when the task_struct is unreadable. */
export function taskInfo(prog: Program, task: bigint, opts: { idle?: boolean } = {}): TaskInfo {
  const l = taskLayout(prog);
  const end = Math.max(l.comm + l.commLen, l.realParent + 8, l.mm + 8, l.state + 8, l.exitState + 4, l.pid + 4, l.tgid + 4, (l.cpu ?? 0) + 4, l.stack + 8);
  const b = prog.mem.read(task, end);
  const stateRaw = l.stateSize === 8 ? Number(u64(b, l.state) & 0xffffffffn) : u32(b, l.state);
  const exitState = u32(b, l.exitState);
  const parent = u64(b, l.realParent);
  let ppid = 0;
  if (parent) {
    const pb = prog.mem.tryRead(parent + BigInt(l.pid), 4);
    if (pb) ppid = u32(pb, 0) | 0;
  }
  const mm = u64(b, l.mm);
  const v = (stateRaw | exitState) >>> 0;
  const pid = u32(b, l.pid) | 0;
  return {
    task,
    pid,
    tgid: u32(b, l.tgid) | 0,
    ppid,
    cpu: l.cpu !== null ? u32(b, l.cpu) : 0,
    comm: cstr(b, l.comm, l.commLen),
    stateValue: v,
    state: stateLetters(v, taskStateBits(prog)),
    mm,
    kthread: mm === 0n,
    active: false,
    idle: !!opts.idle,
    stack: u64(b, l.stack),
  };
}

/**
 * The task list as crash's ps shows it: every CPU's idle task (pid 0, by CPU), then every other
 * thread by pid; `active` marks each CPU's current task.
 */
export function taskList(prog: Program): TaskInfo[] {
  const cached = prog.recall(TASKS_LIST_KEY);
  if (cached) return cached;
  const active = new Set(activeTasks(prog).values());
  const out: TaskInfo[] = [];
  const seen = new Set<bigint>();
  for (const cpu of cpus(prog)) {
    const t = idleTask(prog, cpu);
    if (!t) {
      problems(prog).push({ where: `idle task of cpu ${cpu}`, address: 0n, why: 'runqueue unreadable; swapper of this cpu not listed' });
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    try {
      const info = taskInfo(prog, t, { idle: true });
      info.cpu = cpu;
      // crash shows PPID 0 for every idle task (swapper/N's real_parent is init_task or pid 1)
      info.ppid = 0;
      out.push(info);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems(prog).push({ where: `idle task of cpu ${cpu}`, address: t, why: e.message });
    }
  }
  const rest: TaskInfo[] = [];
  for (const t of forEachTask(prog)) {
    if (seen.has(t)) continue;
    seen.add(t);
    try {
      rest.push(taskInfo(prog, t));
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems(prog).push({ where: 'task_struct', address: t, why: e.message });
    }
  }
  rest.sort((a, b) => a.pid - b.pid || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
  out.push(...rest);
  for (const t of out) t.active = active.has(t.task);
  const activeCpus = activeTasks(prog);
  for (const cpu of cpus(prog)) {
    if (!activeCpus.has(cpu)) problems(prog).push({ where: `active task of cpu ${cpu}`, address: 0n, why: 'rq->curr and the per-cpu current pointer are unreadable; no task marked active' });
  }
  prog.remember(TASKS_LIST_KEY, out);
  return out;
}

/** Find a task by pid (the first thread with it; pid 0 gives CPU 0's idle task) or by address. */
export function findTask(prog: Program, spec: bigint | number): TaskInfo | null {
  const list = taskList(prog);
  if (typeof spec === 'number') return list.find((t) => t.pid === spec) ?? null;
  const hit = list.find((t) => t.task === spec);
  if (hit) return hit;
  return null;
}

/** The CPU that called panic(): panic_cpu (atomic_t; -1 when no panic), else the kdump header's. */
export function panicCpu(prog: Program): number | null {
  const a = prog.symbolAddress('panic_cpu');
  if (a !== undefined) {
    const b = prog.mem.tryRead(a, 4);
    if (b) {
      const v = u32(b, 0) | 0;
      if (v >= 0 && v < Math.max(prog.nrCpuIds(), 1)) return v;
    }
  }
  const h = prog.phys.header.currentCpu;
  if (h !== undefined && h >= 0 && h < prog.nrCpuIds() && prog.phys.format !== 'elf') return h;
  return null;
}

/**
 * The panic task (crash's "context at startup"): the current task of the CPU that panicked;
 * when no CPU is recorded, the active task whose stack holds a return address into
 * panic/die/oops_end; null when there is no sign of a panic.
 */
export function panicTask(prog: Program): TaskInfo | null {
  return prog.memo(TASKS_PANIC_KEY, () => findPanicTask(prog));
}

function findPanicTask(prog: Program): TaskInfo | null {
  let out: TaskInfo | null = null;
  const cpu = panicCpu(prog);
  const list = taskList(prog);
  if (cpu !== null) {
    const t = activeTasks(prog).get(cpu) ?? perCpuCurrent(prog, cpu);
    if (t) out = list.find((x) => x.task === t) ?? null;
  }
  if (!out) {
    const names = ['panic', 'vpanic', 'die', 'oops_end', 'crash_kexec', '__crash_kexec'];
    const ranges: Array<[bigint, bigint]> = [];
    for (const n of names) {
      const s = prog.symbols.address(n);
      const e = s !== undefined ? prog.symbols.nextAddress(s) : undefined;
      if (s !== undefined && e !== undefined) ranges.push([s, e]);
    }
    for (const t of list.filter((x) => x.active)) {
      const words = prog.mem.tryRead(t.stack, 16384);
      if (!words) continue;
      for (let o = 0; o + 8 <= words.length && !out; o += 8) {
        const w = u64(words, o);
        if (ranges.some(([s, e]) => w > s && w < e)) out = t;
      }
      if (out) break;
    }
  }
  return out;
}

/** The mm counters that make a task's RSS (the kernel's get_mm_rss(): file + anon + shmem). */
export const RSS_COUNTERS = ['MM_FILEPAGES', 'MM_ANONPAGES', 'MM_SHMEMPAGES'] as const;

/** Resident pages of a task's mm as crash counts them (file + anon + shmem; `counters` picks a subset), or 0. */
export function taskRssPages(prog: Program, t: TaskInfo, counters: readonly (typeof RSS_COUNTERS)[number][] = RSS_COUNTERS): number {
  if (!t.mm) return 0;
  try {
    const mmT = prog.type('struct mm_struct');
    const rss = prog.obj(mmT, t.mm).member('rss_stat');
    const idx = counters.map((n) => Number(prog.btf.enumerator(n)?.value ?? BigInt([0, 1, 3][RSS_COUNTERS.indexOf(n)])));
    let total = 0n;
    const rt = prog.btf.type(rss.rtype);
    if (rt.kind === 'array') {
      // Linux >= 6.2: struct percpu_counter rss_stat[NR_MM_COUNTERS]: count + per-CPU deltas
      const offs = prog.perCpuOffsets();
      for (const i of idx) {
        const pc = rss.index(i);
        let v = pc.member('count').value();
        const counters = pc.member('counters').ptr();
        if (counters) for (const o of offs) {
          const b = prog.mem.tryRead(BigInt.asUintN(64, counters + o), 4);
          if (b) v += BigInt(u32(b, 0) | 0);
        }
        total += v;
      }
    } else {
      // struct mm_rss_stat { atomic_long_t count[NR_MM_COUNTERS]; }
      const cnt = rss.member('count');
      for (const i of idx) total += cnt.index(i).member('counter').value();
      // SPLIT_RSS_COUNTING: each thread keeps unsynced deltas in task->rss_stat
      const tt = prog.type('struct task_struct');
      if (prog.btf.memberPath(tt, 'rss_stat')) {
        for (const th of taskList(prog)) {
          if (th.mm !== t.mm) continue;
          const c = prog.obj(tt, th.task).member('rss_stat.count');
          for (const i of idx) total += c.index(i).value();
        }
      }
    }
    return total > 0n ? Number(total) : 0;
  } catch (e) {
    if (e instanceof MemoryError || e instanceof DumpError) return 0;
    throw e;
  }
}

/** mm->total_vm in pages, or 0. */
export function taskVmPages(prog: Program, t: TaskInfo): number {
  if (!t.mm) return 0;
  try {
    return prog.obj('struct mm_struct', t.mm).member('total_vm').num();
  } catch (e) {
    if (e instanceof MemoryError || e instanceof DumpError) return 0;
    throw e;
  }
}

/** Total pages of memory as crash's %MEM divides by: the nodes' spanned pages (pgdat->node_spanned_pages). */
export function totalPages(prog: Program): number {
  const c = prog.recall(TASKS_TOTALPAGES_KEY);
  if (c !== undefined) return c;
  let total = 0;
  try {
    const pg = prog.findType('struct pglist_data');
    const nd = prog.symbolAddress('node_data');
    const contig = prog.symbolAddress('contig_page_data');
    if (pg !== null && nd !== undefined) {
      const n = Math.max(1, prog.nrCpuIds());
      for (let i = 0; i < Math.max(n, 64); i++) {
        const b = prog.mem.tryRead(nd + BigInt(i * 8), 8);
        if (!b) break;
        const p = u64(b, 0);
        if (!p) continue;
        total += prog.obj(pg, p).member('node_spanned_pages').num();
      }
    } else if (pg !== null && contig !== undefined) {
      total = prog.obj(pg, contig).member('node_spanned_pages').num();
    }
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  if (!total) {
    const a = prog.symbolAddress('_totalram_pages');
    const b = a !== undefined ? prog.mem.tryRead(a, 8) : null;
    if (b) total = Number(u64(b, 0));
  }
  prog.remember(TASKS_TOTALPAGES_KEY, total);
  return total;
}

/** The task's kernel stack range [stack, stack + THREAD_SIZE). */
export function threadSize(prog: Program): number {
  const c = prog.recall(TASKS_THREADSIZE_KEY);
  if (c !== undefined) return c;
  let size = 16384; // x86_64 THREAD_SIZE without KASAN (PAGE_SIZE << 2)
  const s = prog.symbolAddress('init_stack');
  const e = prog.symbolAddress('__end_init_stack');
  if (s !== undefined && e !== undefined && e > s && e - s <= 0x10000n) size = Number(e - s);
  prog.remember(TASKS_THREADSIZE_KEY, size);
  return size;
}

/** The task whose kernel stack holds addr (workers/analysis/tasks.ts). */
export function stackOwner(prog: Program, addr: bigint): TaskInfo | null {
  let list: TaskInfo[];
  try {
    list = taskList(prog);
  } catch (e) {
    expectedError(e);
    return null;
  }
  const size = BigInt(threadSize(prog));
  for (const t of list) if (t.stack && addr >= t.stack && addr < t.stack + size) return t;
  return null;
}

/** The task whose task_struct is at addr. */
export function taskAt(prog: Program, addr: bigint): TaskInfo | null {
  try {
    return taskList(prog).find((t) => t.task === addr) ?? null;
  } catch (e) {
    expectedError(e);
    return null;
  }
}

/** Tasks counted the way crash's sys counts them. */
export interface TaskCount {
  /** threads on the task lists plus the idle tasks: crash's TASKS */
  tasks: number;
  threads: number;
  idle: number;
  /** the kernel's nr_threads + idle tasks, a check of the walk */
  kernelCount?: number;
  problems: string[];
}

/**
 * Count the tasks as crash's sys does (TASKS): walk init_task.tasks and each process's threads
 * (signal->thread_head, or the thread_group list on kernels without thread_node), bounded and
 * cycle-checked, then add each CPU's idle task (rq->idle) not already seen. `perCpuOffsets`: the
 * per-CPU offsets of the `cpus` CPUs (read when the idle tasks are counted).
 */
export function countTasks(prog: Program, cpus: number, perCpuOffsets: () => readonly bigint[]): TaskCount {
  prog.btf; // the walk needs BTF: say so (DumpError) rather than guess
  const sym = (name: string): bigint => {
    const a = prog.kernelSymbolAddress(name);
    if (a === undefined) throw new DumpError(prog.symbolsMissingWhy() ? `${name} unknown: kernel symbols unavailable` : `the kernel has no symbol ${name}`);
    return a;
  };
  const problems: string[] = [];
  const init = sym('init_task');
  const oTasks = BigInt(prog.offsetof('task_struct', 'tasks'));
  const useThreadNode = prog.hasMember('task_struct', 'thread_node') && prog.hasMember('signal_struct', 'thread_head');
  const oSignal = BigInt(prog.offsetof('task_struct', 'signal'));
  const oNode = BigInt(prog.offsetof('task_struct', useThreadNode ? 'thread_node' : 'thread_group'));
  const oHead = useThreadNode ? BigInt(prog.offsetof('signal_struct', 'thread_head')) : 0n;
  const LIMIT = 1 << 22;
  const seen = new Set<bigint>();
  const mem = prog.mem;

  /** the entries of a list_head ring starting at `head` (exclusive), as container addresses */
  const ring = (head: bigint, off: bigint, includeHead: boolean, what: string): bigint[] => {
    const walk = includeHead
      ? walkList(prog, head - off, { nextOffset: Number(off), embedded: true, limit: LIMIT })
      : walkList(prog, head, { nextOffset: Number(off), headIsAnchor: true, limit: LIMIT });
    const why = describeStop(walk, what);
    if (why) problems.push(why);
    return walk.entries;
  };

  const processes = ring(init + oTasks, oTasks, true, 'init_task.tasks');
  for (const t of processes) {
    seen.add(t);
    let head: bigint;
    let includeHead = false;
    try {
      if (useThreadNode) {
        head = mem.u64(t + oSignal) + oHead;
        // a single-threaded process: its thread_node's next and prev are both the signal's
        // thread_head; known without reading the signal_struct (one less page per process)
        const node = mem.read(t + oNode, 16);
        if (u64(node, 0) === head && u64(node, 8) === head) continue;
      } else {
        head = t + oNode;
        includeHead = true;
      }
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`task 0x${t.toString(16)}: cannot read its signal_struct`);
      continue;
    }
    for (const th of ring(head, oNode, includeHead, `threads of 0x${t.toString(16)}`)) seen.add(th);
  }
  const threads = seen.size;

  // each CPU's idle task (swapper/N): rq->idle; CPU 0's is init_task itself
  let idle = 0;
  try {
    const rq = sym('runqueues');
    const offsets = perCpuOffsets();
    const oIdle = BigInt(prog.offsetof('rq', 'idle'));
    for (let c = 0; c < cpus; c++) {
      try {
        const t = mem.u64(BigInt.asUintN(64, rq + offsets[c]) + oIdle);
        if (t && !seen.has(t)) {
          seen.add(t);
          idle++;
        }
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        problems.push(`cpu ${c}: cannot read its runqueue`);
      }
    }
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
    problems.push(`idle tasks: ${e.message}`);
  }
  let kernelCount: number | undefined;
  const nt = prog.kernelSymbolAddress('nr_threads');
  if (nt !== undefined) {
    try {
      // nr_threads counts every thread but the idle ones (init_task included among those)
      kernelCount = prog.mem.i32(nt) + cpus;
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
    }
  }
  return { tasks: seen.size, threads, idle, kernelCount, problems };
}
