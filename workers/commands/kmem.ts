/**
 * crash's `kmem`, SLUB parts:
 *   kmem -s [cache]        every cache: CACHE OBJSIZE ALLOCATED TOTAL SLABS SSIZE NAME, counted as
 *                          crash counts (per-CPU freelists of every possible CPU count as free)
 *   kmem -S <cache> [--full] [--states]  every listed slab and its objects: allocated "[addr]", free, and
 *                          "(cpu N cache)" for the free objects of a CPU's active slab. SLUB keeps no
 *                          list of full slabs without SLAB_STORE_USER; crash prints "(not tracked)",
 *                          and so do we unless --full asks for a walk of every struct page (as drgn
 *                          does): those slabs are listed in a section of their own, marked as found
 *                          by the page walk.
 *   kmem <addr>            which cache/slab/object (crash's layout), its alloc/free tracks with
 *                          slub_debug=U, and the page line; outside slabs: symbol, task stack,
 *                          vmalloc area, free page, page flags (see whatis.ts).
 * `--json` results: kmem -s: [{name, objsize, allocated, total, slabs, ssize}] (+cache address);
 * kmem -S: {info, cpus, nodes, untracked}, each slab's objects as {addr, slot, state}, or with
 * --states as one letter each from a first address and a stride (SlabStatesJson: a million
 * objects fit); kmem <addr>: whatis's shape.
 */
import type { Program } from '../kernel/program';
import { TextOut, withLazyJson } from './result';
import {
  listCaches, cacheUsage, findCache, cacheSlabs, pageFrameParts,
  type CacheUsage, type SlabObjects, type SlabCache, type ObjectState, type ObjectHolder,
  cpuSheaves, nodeBarns, forEachUntrackedSlab,
} from '../analysis/slab';
import { describeAddress, trackLines, type Described } from './whatis';
import { evalAddress } from './expr';
import { PAGE_HEADER } from './vtop';
import { taskList, taskStateBits, panicTask, type TaskInfo, type TaskStateBits } from '../analysis/tasks';
import { kmemV, kmemI } from './kmeminfo';
import { kmemZ, kmemBigV, kmemF, kmemP } from './kmemzone';
import { CommandError, registerCommand, parseFlags, checkCancel, runSplit, type CommandContext, type CommandResult, type CommandSplit } from './registry';
import { expectedError } from '../errors';
import { readPrintk, sysrqCrash } from '../analysis/printk';

const hx = (v: bigint | number) => v.toString(16);
const padL = (s: string | number, n: number) => String(s).padStart(n);

export const KMEM_S_HEADER = 'CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME';

export function kmemSLine(u: CacheUsage): string {
  return `${hx(u.address).padStart(16, '0')} ${padL(u.objsize, 8)} ${padL(u.allocated, 10)} ${padL(u.total, 9)} ${padL(u.slabs, 6)} ${padL(Math.floor(u.ssize / 1024) + 'k', 6)}  ${u.name}`;
}

const SLAB_HEADER = '  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE';

/**
 * A slab and the states of its objects, small to keep and to pass between workers (a part of
 * `kmem -S --full` finds tens of thousands of slabs on a large dump): the objects are `count`
 * slots every `c.size` bytes from `first`, their states one letter each (STATE_LETTER), notes
 * and holders only where there are any. JSON-like (hex strings, no bigint), as parts must be.
 */
interface PackedSlab {
  slab: string;
  memory: string;
  /** the first object (after red_left_pad), hex */
  first: string;
  count: number;
  section: SlabObjects['section'];
  cpu?: number;
  node?: number;
  /** one letter an object: a allocated, f free, c cpu-free */
  states: string;
  notes?: Record<number, string>;
  holders?: Record<number, ObjectHolder>;
  problems: string[];
  allocated: number;
  free: number;
}

const STATE_LETTER: Record<ObjectState, string> = { allocated: 'a', free: 'f', 'cpu-free': 'c' };
const LETTER_STATE: Record<string, ObjectState> = { a: 'allocated', f: 'free', c: 'cpu-free' };

function packSlab(s: SlabObjects): PackedSlab {
  let states = '';
  let notes: Record<number, string> | undefined;
  let holders: Record<number, ObjectHolder> | undefined;
  for (let i = 0; i < s.objects.length; i++) {
    states += STATE_LETTER[s.states[i]];
    if (s.notes[i]) (notes ??= {})[i] = s.notes[i];
    if (s.holders[i]) (holders ??= {})[i] = s.holders[i]!;
  }
  return {
    slab: hx(s.slab.address),
    memory: hx(s.slab.memory),
    first: s.objects.length ? hx(s.objects[0]) : hx(s.slab.memory),
    count: s.objects.length,
    section: s.section,
    ...(s.cpu !== undefined ? { cpu: s.cpu } : {}),
    ...(s.node !== undefined ? { node: s.node } : {}),
    states,
    ...(notes ? { notes } : {}),
    ...(holders ? { holders } : {}),
    problems: s.problems,
    allocated: s.allocated,
    free: s.free,
  };
}

function slabLine(s: PackedSlab, node = 0): string {
  return `  ${s.slab}  ${s.memory} ${padL(s.node ?? node, 5)} ${padL(s.count, 6)} ${padL(s.allocated, 10)} ${padL(s.free, 5)}`;
}

/** A slab's lines with its objects; crash prints object addresses without red_left_pad (the slot start). */
function pushSlabObjects(L: TextOut, c: SlabCache, s: PackedSlab): void {
  L.push(SLAB_HEADER, slabLine(s), '  FREE / [ALLOCATED]');
  let slot = BigInt('0x' + s.first) - BigInt(c.redLeftPad);
  const size = BigInt(c.size);
  for (let i = 0; i < s.count; i++, slot += size) {
    if (s.states[i] === 'a') L.line(`  [${hx(slot)}]`);
    else L.line(`   ${hx(slot)}  ${s.notes?.[i] ? `(${s.notes[i]})` : ''}`);
  }
}

function kmemS(ctx: CommandContext, name?: string): CommandResult {
  const prog = ctx.prog;
  const { caches, problems } = listCaches(prog);
  const sel = name ? caches.filter((c) => c.name === name || '0x' + hx(c.address) === name || hx(c.address) === name) : caches;
  if (name && !sel.length) throw new CommandError(`kmem: invalid slab cache: ${name}`);
  const lines = [KMEM_S_HEADER];
  const json: KmemSRow[] = [];
  sel.forEach((c, i) => {
    if (i % 16 === 0) {
      checkCancel(ctx);
      ctx.progress?.(i, sel.length, 'kmem -s');
    }
    const u = cacheUsage(prog, c);
    lines.push(kmemSLine(u));
    json.push({
      name: u.name,
      objsize: u.objsize,
      allocated: u.allocated,
      total: u.total,
      slabs: u.slabs,
      ssize: u.ssize,
      cache: '0x' + hx(u.address),
      ...(u.problems.length ? { problems: u.problems } : {}),
    });
  });
  ctx.progress?.(sel.length, sel.length, 'kmem -s');
  for (const p of problems) lines.push(`kmem: ${p.message}`);
  // the same problems in the JSON (per cache ones are in each cache's entry and said here once)
  const all = [...problems.map((p) => `kmem: ${p.message}`), ...(json as Array<{ name: string; problems?: string[] }>).flatMap((c) => (c.problems ?? []).map((p) => `kmem: ${c.name}: ${p}`))];
  return { text: lines.join('\n') + '\n', json, problems: all };
}

/** One slab of `kmem -S <cache> --json`: its objects and their states. */
export interface SlabJson {
  slab: string;
  memory: string;
  section: string;
  cpu?: number;
  total: number;
  allocated: number;
  free: number;
  objects: { addr: string; slot: string; state: ObjectState; note?: string; free_in?: ObjectHolder }[];
  problems?: unknown[];
}

/**
 * One slab of `kmem -S <cache> --states --json`: object i is at first + i * stride, its state the
 * letter states[i] (a allocated, f free, c cpu-free); notes and free_in (ObjectHolder) by index.
 */
export interface SlabStatesJson extends Omit<SlabJson, 'objects'> {
  first: string;
  stride: number;
  states: string;
  notes?: Record<number, string>;
  free_in?: Record<number, ObjectHolder>;
}

/** `kmem -S <cache> --json` (S: SlabStatesJson with --states) */
export interface KmemCacheJson<S = SlabJson> {
  info: { cache: string; name: string; objsize: number; allocated: number; total: number; slabs: number; ssize: number; size: number; red_left_pad: number };
  cpus: { cpu: number; kmem_cache_cpu: string; slab: S | null; partial: S[]; problems: unknown[] }[];
  nodes: { node: number; kmem_cache_node: string; nr_slabs: number | null; nr_partial: number; partial: S[]; full: S[] | null }[];
  untracked: S[] | null;
}

/** One row of `kmem -s --json` (DESIGN.md shape). */
export interface KmemSRow {
  name: string;
  objsize: number;
  allocated: number;
  total: number;
  slabs: number;
  ssize: number;
  cache: string;
  problems?: unknown[];
}

/**
 * A slab in `kmem -S --json`: each object as {addr, slot, state}, or with `--states` the objects as
 * one letter each (`states`, from `first` every `stride` bytes; notes and holders by index), which
 * is what a map of a million objects can hold.
 */
function soJson(c: SlabCache, s: PackedSlab, compact: boolean): SlabJson | SlabStatesJson {
  const head = {
    slab: '0x' + s.slab,
    memory: '0x' + s.memory,
    section: s.section,
    ...(s.cpu !== undefined ? { cpu: s.cpu } : {}),
    total: s.count,
    allocated: s.allocated,
    free: s.free,
  };
  const tail = s.problems.length ? { problems: s.problems } : {};
  if (compact) {
    return { ...head, first: '0x' + s.first, stride: c.size, states: s.states, ...(s.notes ? { notes: s.notes } : {}), ...(s.holders ? { free_in: s.holders } : {}), ...tail };
  }
  // each object's JSON is made when the slab's `objects` is read, and not kept: the CLI writes a
  // cache of a million objects slab by slab (writeJsonText), never holding them all
  const objects = (): SlabJson['objects'] => {
    const out: SlabJson['objects'] = [];
    const pad = BigInt(c.redLeftPad);
    const size = BigInt(c.size);
    let o = BigInt('0x' + s.first);
    for (let i = 0; i < s.count; i++, o += size) {
      out.push({
        addr: '0x' + hx(o),
        slot: '0x' + hx(o - pad),
        state: LETTER_STATE[s.states[i]] as SlabJson['objects'][number]['state'],
        ...(s.notes?.[i] ? { note: s.notes[i] } : {}),
        ...(s.holders?.[i] ? { free_in: s.holders[i] } : {}),
      });
    }
    return out;
  };
  const j = Object.defineProperty({ ...head }, 'objects', { get: objects, enumerable: true, configurable: true }) as SlabJson;
  return Object.assign(j, tail);
}

function bigSCache(ctx: CommandContext, name: string): SlabCache {
  const prog = ctx.prog;
  const c = findCache(prog, name) ?? (/^(0x)?[0-9a-f]+$/i.test(name) ? findCache(prog, BigInt(name.startsWith('0x') ? name : '0x' + name)) : null);
  if (!c) throw new CommandError(`kmem: invalid slab cache: ${name}`);
  return c;
}

/**
 * `kmem -S <cache>`; with `untracked` (--full), the slabs found by walking every struct page, in
 * page frame order (made by the parts of `kmemSplit`). With `compact` (--states) the JSON gives each
 * object's state as a letter.
 */
function kmemBigS(ctx: CommandContext, name: string, untracked: PackedSlab[] | null, compact: boolean): CommandResult {
  const prog = ctx.prog;
  const c = bigSCache(ctx, name);
  const u = cacheUsage(prog, c);
  const list = cacheSlabs(prog, c);
  checkCancel(ctx);
  const cpus = list.cpus.map((cp) => ({ ...cp, slab: cp.slab ? packSlab(cp.slab) : null, partial: cp.partial.map(packSlab) }));
  const nodes = list.nodes.map((n) => ({ node: n.node, partial: n.partial.map(packSlab), full: n.full ? n.full.map(packSlab) : null }));
  // the text streams out as it is made (console, CLI); the JSON below is whole
  const L = new TextOut(ctx.emit);
  L.push(KMEM_S_HEADER, kmemSLine(u));
  const cpuSlabCount = new Map<number, number>();
  for (const cp of cpus) {
    L.push(`CPU ${cp.cpu} KMEM_CACHE_CPU:`, `  ${hx(cp.kcc)}`, `CPU ${cp.cpu} SLAB:`);
    if (!cp.slab) L.push('  (empty)');
    else {
      cpuSlabCount.set(cp.slab.node ?? 0, (cpuSlabCount.get(cp.slab.node ?? 0) ?? 0) + 1);
      pushSlabObjects(L, c, cp.slab);
    }
    L.push(`CPU ${cp.cpu} PARTIAL:`);
    if (!cp.partial.length) L.push('  (empty)');
    for (const p of cp.partial) pushSlabObjects(L, c, p);
    for (const pr of cp.problems) L.push(`  kmem: ${pr}`);
  }
  // 6.18+: the objects each CPU holds in its sheaves, and the full sheaves of each node's barn
  // (crash 9.0.2 lists neither; the layout follows its per-CPU sections)
  const sheaves = cpuSheaves(prog, c);
  const barns = nodeBarns(prog, c);
  const sheafLine = (o: bigint, note: string) => `   ${hx(o - BigInt(c.redLeftPad))}  (${note})`;
  for (const sh of sheaves) {
    L.push(`CPU ${sh.cpu} SHEAF ${sh.which.toUpperCase()}: ${hx(sh.sheaf)}  OBJECTS: ${sh.objects.length}${sh.which === 'rcu_free' ? '  (kfree_rcu pending: allocated)' : ''}`);
    for (const o of sh.objects) L.push(sheafLine(o, sh.which === 'rcu_free' ? `cpu ${sh.cpu} rcu_free sheaf` : `cpu ${sh.cpu} sheaf`));
  }
  for (const b of barns) {
    L.push(`NODE ${b.node} BARN: ${hx(b.barn)}  FULL SHEAF OBJECTS: ${b.objects.length}`);
    for (const o of b.objects) L.push(sheafLine(o, `node ${b.node} barn`));
    if (b.problem) L.push(`  kmem: ${b.problem}`);
  }
  L.push('KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU');
  for (const n of list.nodes) {
    L.push(`${hx(n.node.address)} ${padL(n.node.node, 5)} ${padL(n.node.nrSlabs ?? 0, 6)} ${padL(n.node.nrPartial, 8)} ${padL(cpuSlabCount.get(n.node.node) ?? 0, 8)}`);
  }
  for (const n of nodes) {
    L.push(`NODE ${n.node.node} PARTIAL:`);
    if (!n.partial.length) L.push('  (empty)');
    else L.push(SLAB_HEADER, ...n.partial.map((s) => slabLine(s, n.node.node)));
    if (n.node.partial.problem) L.push(`  kmem: partial list: ${n.node.partial.problem.message}`);
    L.push(`NODE ${n.node.node} FULL:`);
    if (!n.full) L.push('  (not tracked)');
    else if (!n.full.length) L.push('  (empty)');
    else L.push(SLAB_HEADER, ...n.full.map((s) => slabLine(s, n.node.node)));
    if (n.node.full?.problem) L.push(`  kmem: full list: ${n.node.full.problem.message}`);
  }
  if (untracked) {
    L.push('', `FULL SLABS NOT TRACKED BY SLUB (found by walking every struct page): ${untracked.length}`);
    for (const s of untracked) pushSlabObjects(L, c, s);
  }
  L.push(''); // crash ends kmem -S with an empty line
  const sj = (p: PackedSlab) => soJson(c, p, compact);
  // the JSON (an object for each object without --states) only when it is read
  return withLazyJson({ text: L.done() }, (): KmemCacheJson<SlabJson | SlabStatesJson> => ({
    info: { cache: '0x' + hx(c.address), name: c.name, objsize: u.objsize, allocated: u.allocated, total: u.total, slabs: u.slabs, ssize: u.ssize, size: c.size, red_left_pad: c.redLeftPad },
    cpus: cpus.map((cp) => ({ cpu: cp.cpu, kmem_cache_cpu: '0x' + hx(cp.kcc), slab: cp.slab ? sj(cp.slab) : null, partial: cp.partial.map(sj), problems: cp.problems })),
    nodes: nodes.map((n) => ({
      node: n.node.node,
      kmem_cache_node: '0x' + hx(n.node.address),
      nr_slabs: n.node.nrSlabs,
      nr_partial: n.node.nrPartial,
      partial: n.partial.map(sj),
      full: n.full ? n.full.map(sj) : null,
    })),
    untracked: untracked ? untracked.map(sj) : null,
    ...(sheaves.length || barns.length
      ? {
          sheaves: sheaves.map((sh) => ({ cpu: sh.cpu, which: sh.which, sheaf: '0x' + hx(sh.sheaf), objects: sh.objects.map((o) => '0x' + hx(o)) })),
          barns: barns.map((b) => ({ node: b.node, barn: '0x' + hx(b.barn), objects: b.objects.map((o) => '0x' + hx(o)), ...(b.problem ? { problems: [b.problem] } : {}) })),
        }
      : {}),
  }));
}

/** A part of `kmem -S <cache> --full`'s page walk: the struct pages of page frames [start, end). */
interface KmemFullPart {
  start: number;
  end: number;
}

/** The slabs of the cache a part's page walk found (those no list holds). */
interface KmemFullPartial {
  slabs: PackedSlab[];
}

const KMEM_FLAGS = ['-s', '-S', '--full', '--states', '-v', '-i', '-z', '-V', '-f', '-p'];

/** `kmem -S <cache> --full [--states]` (the only kmem line that splits): the cache's name, else null. */
function fullSlabsArgs(args: string[]): string | null {
  const { flags, rest } = parseFlags(args.filter((a) => a !== '--json'), { bool: KMEM_FLAGS });
  if (!flags.has('-S') || !flags.has('--full') || flags.size !== 2 + (flags.has('--states') ? 1 : 0)) return null;
  if (!rest[0]) throw new CommandError('usage: kmem -S <cache> [--full] [--states]');
  return rest[0];
}

/** `kmem -S --states`: the JSON gives object states as letters */
const statesOnly = (args: string[]) => args.includes('--states');

/**
 * `kmem -S <cache> --full` in parts: the walk of every struct page (the long part: all of the
 * memory map) runs as page frame ranges on the scan workers; the merge walks the cache's lists
 * and prints the page walk's slabs after them in page frame order, as the whole command does.
 * A part gives its slabs packed (states as letters), however the line asked for them.
 */
const kmemSplit: CommandSplit = {
  only: ['-S', '--full'],
  plan: (args, ctx, want) => {
    const name = fullSlabsArgs(args);
    if (name === null) return null;
    bigSCache(ctx, name); // a wrong name fails before any part runs
    return pageFrameParts(ctx.prog, want);
  },
  part: (args, ctx, part): KmemFullPartial => {
    const c = bigSCache(ctx, fullSlabsArgs(args)!);
    const p = part as KmemFullPart;
    const slabs: PackedSlab[] = [];
    forEachUntrackedSlab(ctx.prog, c, (s) => slabs.push(packSlab(s)), {
      pfnStart: p.start,
      pfnEnd: p.end,
      onProgress: (d, t) => ctx.progress?.(d, t, 'walking struct pages'),
      cancelled: () => !!ctx.cancel?.cancelled,
    });
    checkCancel(ctx);
    return { slabs };
  },
  merge: (args, ctx, partials) => kmemBigS(ctx, fullSlabsArgs(args)!, (partials as KmemFullPartial[]).flatMap((p) => p.slabs), statesOnly(args)),
};

function pageLines(d: Described): string[] {
  const p = d.json.page;
  if (!p) return [];
  const flags = p.flags.replace(/^0x/, '');
  return [
    PAGE_HEADER,
    `${p.page.replace(/^0x/, '')} ${padL(p.physical.replace(/^0x/, ''), 8)} ${padL(p.mapping.replace(/^0x/, ''), 16)} ${padL(p.index.replace(/^0x/, ''), 8)} ${padL(p.count, 2)} ${flags}${p.flag_names.length ? ' ' + p.flag_names.join(',') : ''}`,
  ];
}

function vmapLines(d: Described): string[] {
  const v = d.json.vmap;
  if (!v) return [];
  return [
    '   VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE',
    `${v.vmap_area.replace(/^0x/, '')}  ${v.vm_struct.replace(/^0x/, '')}  ${v.start.replace(/^0x/, '')} - ${v.end.replace(/^0x/, '')}  ${padL(v.size, 7)}`,
  ];
}

function taskLines(prog: Program, d: Described): string[] {
  const t = d.task;
  if (!t) return [];
  // crash numbers the tasks that share a PID (the per-CPU idle tasks of PID 0): "(1 of 2)"
  let nth = '';
  try {
    const same = taskList(prog).filter((x) => x.pid === t.pid);
    if (same.length > 1) nth = `  (${same.findIndex((x) => x.task === t.task) + 1} of ${same.length})`;
  } catch (e) {
    expectedError(e);
  }
  return [
    `    PID: ${t.pid}`,
    `COMMAND: "${t.comm}"`,
    `   TASK: ${hx(t.task)}${nth}  [THREAD_INFO: ${hx(t.task)}]`,
    `    CPU: ${t.cpu}`,
    `  STATE: ${stateNames(prog, t)}`,
  ];
}

const STATE_NAMES: Array<[keyof TaskStateBits, string]> = [
  ['INTERRUPTIBLE', 'TASK_INTERRUPTIBLE'], ['UNINTERRUPTIBLE', 'TASK_UNINTERRUPTIBLE'], ['STOPPED', '__TASK_STOPPED'],
  ['TRACED', '__TASK_TRACED'], ['EXIT_DEAD', 'EXIT_DEAD'], ['EXIT_ZOMBIE', 'EXIT_ZOMBIE'], ['PARKED', 'TASK_PARKED'],
  ['DEAD', 'TASK_DEAD'], ['WAKEKILL', 'TASK_WAKEKILL'], ['WAKING', 'TASK_WAKING'], ['NOLOAD', 'TASK_NOLOAD'], ['NEW', 'TASK_NEW'],
];

/** crash's STATE line: the state bits by name ("TASK_UNINTERRUPTIBLE|TASK_NOLOAD "), or TASK_RUNNING. */
function stateNames(prog: Program, t: TaskInfo): string {
  let bits: TaskStateBits;
  try {
    bits = taskStateBits(prog);
  } catch (e) {
    expectedError(e);
    return t.state;
  }
  if (t.stateValue === 0) {
    let panic: TaskInfo | null = null;
    try {
      panic = panicTask(prog);
    } catch (e) {
      expectedError(e);
      /* unknown */
    }
    let sysrq = false;
    if (panic?.task === t.task) {
      try {
        sysrq = sysrqCrash(readPrintk(prog));
      } catch (e) {
        expectedError(e);
      }
    }
    return 'TASK_RUNNING' + (panic?.task === t.task ? (sysrq ? ' (SYSRQ)' : ' (PANIC)') : t.active ? ' (ACTIVE)' : ' ');
  }
  const names = STATE_NAMES.filter(([k]) => bits[k] && (t.stateValue & (bits[k] as number)) !== 0)
    .sort((a, b) => (bits[a[0]] as number) - (bits[b[0]] as number))
    .map(([, n]) => n);
  return names.join('|') + ' ';
}

/** `kmem <addr>` in crash's layout (with the tracks and red-zone notes crash does not print). */
export function kmemAddressText(ctx: CommandContext, d: Described): string {
  const prog = ctx.prog;
  const r = d.json;
  const a = r.address.replace(/^0x/, '');
  const L: string[] = [];
  const blank = () => {
    if (L.length && L[L.length - 1] !== '') L.push('');
  };
  if (r.kind === 'slab' && d.slab) {
    const so = d.slab;
    const u = cacheUsage(prog, so.cache);
    L.push(KMEM_S_HEADER, kmemSLine(u));
    L.push(SLAB_HEADER);
    L.push(`  ${hx(so.slab.address)}  ${hx(so.slab.memory)} ${padL(0, 5)} ${padL(so.slab.objects, 6)} ${padL(so.slabAllocated, 10)} ${padL(so.slabFree, 5)}`);
    L.push('  FREE / [ALLOCATED]');
    // crash's object address is the slot (left red zone included); the kernel's is after red_left_pad
    const slot = hx(so.slot);
    L.push(so.state === 'allocated' ? `  [${slot}]` : `   ${slot}  ${so.note ? `(${so.note})` : ''}`);
    if (d.task) {
      blank();
      L.push(...taskLines(prog, d));
    }
    blank();
    L.push(...pageLines(d));
    // beyond crash: the kernel's object pointer, the type and member, the slub_debug tracks
    const extra: string[] = [];
    if (so.cache.redLeftPad) {
      extra.push(`  object ${hx(so.object)} (after the ${so.cache.redLeftPad}-byte left red zone at ${slot}), offset ${so.offset}${so.region !== 'object' ? `, in the ${so.region.replace('-', ' ')}` : ''}`);
    }
    if (r.type) extra.push(`  type: ${r.type}${r.member_path ? `  member: ${r.member_path}` : ''}`);
    for (const t of r.tracks ?? []) if (t.caller !== '0x0') extra.push(...trackLines(t));
    if (extra.length) {
      blank();
      L.push(...extra);
    }
  } else if (r.kind === 'unreadable') {
    L.push(`WARNING: cannot make virtual-to-physical translation: ${a}: ${r.reason}`);
    if (r.symbol) L.push(`  (${r.symbol}${r.module ? ` [${r.module}]` : ''})`);
  } else if (r.kind === 'unmapped') {
    L.push(`WARNING: cannot make virtual-to-physical translation: ${a}`, `${a}: kernel virtual address not found in mem map`);
    if (r.symbol) L.push(`  (${r.symbol}${r.module ? ` [${r.module}]` : ''})`);
    if (d.task) L.push(`  (within the kernel stack range of pid ${d.task.pid} "${d.task.comm}")`);
  } else if (r.kind === 'user') {
    throw new CommandError(`kmem: ${a}: user-space address (kmem looks at kernel memory)`);
  } else {
    if (r.kind === 'symbol' || r.kind === 'module') {
      L.push(`${a} ${r.kind === 'module' ? `(${r.symbol!.replace(/^(.*) \((.)\)$/, '$2) $1')} [${r.module}]` : `(${r.symbol!.replace(/^(.*) \((.)\)$/, '$2) $1')}`}`);
      blank();
      // a task_struct in the kernel image (init_task, the boot CPU's idle task): crash shows the task
      if (d.task && d.task.task === BigInt(r.address)) {
        L.push(...taskLines(prog, d));
        blank();
      }
    }
    if (r.page?.buddy && r.page.zone) {
      const z = r.page.zone;
      L.push('ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR');
      L.push(`${padL(z.index, 3)}   ${z.name.padEnd(7)} ${padL(z.size, 7)} ${padL(z.free, 7)}  ${z.mem_map.replace(/^0x/, '')} ${padL(z.start_paddr.replace(/^0x/, ''), 10)} ${padL(z.start_mapnr, 12)}   `);
      L.push('AREA    SIZE  FREE_AREA_STRUCT');
      L.push(`${padL(r.page.buddy.order, 3)} ${padL((4 << r.page.buddy.order) + 'k', 8)}  ${z.free_area.replace(/^0x/, '')}  `);
      L.push(`${r.page.buddy.head.replace(/^0x/, '')}  (${a} is ${ordinal(r.page.buddy.nth)} of ${1 << r.page.buddy.order} pages)`);
      blank();
    }
    if (d.task && r.kind !== 'symbol') {
      L.push(...taskLines(prog, d));
      blank();
    }
    if (r.vmap) {
      L.push(...vmapLines(d));
      blank();
    }
    if (r.kind === 'percpu') {
      L.push(`${a}: per-cpu area of cpu ${r.percpu!.cpu}${r.percpu!.symbol ? ` (${r.percpu!.symbol})` : ''}`);
      blank();
    }
    L.push(...pageLines(d));
  }
  while (L.length && L[L.length - 1] === '') L.pop();
  return L.join('\n') + '\n';
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${s}`;
}

registerCommand({
  name: 'kmem',
  summary: 'slab caches (-s), a cache\'s slabs and objects (-S), memory usage (-i), vmalloc (-v), zones (-z), VM counters (-V), free lists (-f), page structs (-p), or what an address is (crash\'s kmem)',
  usage: 'kmem -s [cache] | kmem -S <cache> [--full] [--states] | kmem -v | kmem -i | kmem -z | kmem -V | kmem -f | kmem -p [address] | kmem <address>',
  split: kmemSplit,
  run(args: string[], ctx: CommandContext): CommandResult {
    const { flags, rest } = parseFlags(args.filter((a) => a !== '--json'), { bool: KMEM_FLAGS });
    if (flags.has('--states') && !flags.has('-S')) throw new CommandError('kmem: --states goes with -S');
    if (flags.has('-z')) return kmemZ(ctx);
    if (flags.has('-V')) return kmemBigV(ctx);
    if (flags.has('-f')) return kmemF(ctx);
    if (flags.has('-p')) return kmemP(ctx, rest[0], args.includes('--json'));
    if (flags.has('-v')) return kmemV(ctx);
    if (flags.has('-i')) return kmemI(ctx);
    if (flags.has('-s')) return kmemS(ctx, rest[0]);
    if (flags.has('-S')) {
      if (!rest[0]) throw new CommandError('usage: kmem -S <cache> [--full] [--states]');
      // --full: the same parts the scan workers run, here one after the other
      return flags.has('--full') ? runSplit(kmemSplit, args, ctx) : kmemBigS(ctx, rest[0], null, statesOnly(args));
    }
    if (rest.length !== 1) throw new CommandError('usage: kmem -s [cache] | kmem -S <cache> [--full] | kmem <address>');
    const addr = evalAddress(ctx.prog, rest[0]);
    const d = describeAddress(ctx, addr);
    return { text: kmemAddressText(ctx, d), json: d.json };
  },
});


/**
 * `kmem -S <cache> --states` as the slab map draws it: one row a slab in a stable order (CPU slabs,
 * CPU partial, node partial, node full, then the page walk's), as typed arrays and one string of
 * state letters. A cache of a million objects is tens of thousands of slabs: as JSON objects
 * their copy into the page took the page's main thread hundreds of milliseconds; typed arrays
 * are copied whole.
 */
export interface SlabGrid {
  info: KmemCacheJson['info'];
  rows: number;
  /** each row's struct slab, its memory, its first object (after red_left_pad) */
  slab: BigUint64Array;
  memory: BigUint64Array;
  first: BigUint64Array;
  stride: number;
  /** objects in each row, and where its letters start in `states` */
  count: Uint32Array;
  start: Uint32Array;
  /** one letter an object (a allocated, f free, c cpu-free) */
  states: string;
  /** each row's section, an index into `sections` ('cpu 0', 'node 0 partial', 'full', ...) */
  section: Uint16Array;
  sections: string[];
  /** rows in order of their first object's address (for finding an address's object) */
  byAddress: Uint32Array;
  /** notes of objects: [row, index, note] */
  notes: Array<[number, number, string]>;
}

export function slabGridOf(j: KmemCacheJson<SlabStatesJson>): SlabGrid {
  const rows: Array<{ s: SlabStatesJson; section: string }> = [];
  const seen = new Set<string>();
  const add = (s: SlabStatesJson | null | undefined, section: string) => {
    if (!s || seen.has(s.slab)) return;
    seen.add(s.slab);
    rows.push({ s, section });
  };
  for (const c of j.cpus) add(c.slab, `cpu ${c.cpu}`);
  for (const c of j.cpus) for (const s of c.partial) add(s, `cpu ${c.cpu} partial`);
  for (const n of j.nodes) for (const s of n.partial) add(s, `node ${n.node} partial`);
  for (const n of j.nodes) for (const s of n.full ?? []) add(s, `node ${n.node} full`);
  for (const s of j.untracked ?? []) add(s, 'full');
  const n = rows.length;
  const g: SlabGrid = {
    info: j.info,
    rows: n,
    slab: new BigUint64Array(n),
    memory: new BigUint64Array(n),
    first: new BigUint64Array(n),
    stride: j.info.size,
    count: new Uint32Array(n),
    start: new Uint32Array(n),
    states: '',
    section: new Uint16Array(n),
    sections: [],
    byAddress: new Uint32Array(n),
    notes: [],
  };
  const sectionIndex = new Map<string, number>();
  const letters: string[] = [];
  let at = 0;
  rows.forEach(({ s, section }, i) => {
    g.slab[i] = BigInt(s.slab);
    g.memory[i] = BigInt(s.memory);
    g.first[i] = BigInt(s.first);
    g.count[i] = s.states.length;
    g.start[i] = at;
    at += s.states.length;
    letters.push(s.states);
    let si = sectionIndex.get(section);
    if (si === undefined) sectionIndex.set(section, (si = g.sections.push(section) - 1));
    g.section[i] = si;
    for (const [k, note] of Object.entries(s.notes ?? {})) if (note) g.notes.push([i, Number(k), note]);
  });
  g.states = letters.join('');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (g.first[a] < g.first[b] ? -1 : g.first[a] > g.first[b] ? 1 : 0));
  g.byAddress.set(order);
  return g;
}
