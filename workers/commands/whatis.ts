/**
 * `whatis <addr>`: what an address is — which slab object (cache, slab, object start, offset,
 * state, the BTF member at that offset when the object's type is known), or, outside slabs, which
 * kernel symbol, module, task stack, vmalloc area, per-CPU area or page (page cache, buddy-free,
 * reserved...). The same classification backs `kmem <addr>` (kmem.ts), which prints it in crash's
 * layout.
 *
 * Object types: a cache's objects are typed only when the dump vouches for it: a table of
 * dedicated caches (skbuff_head_cache -> sk_buff, dentry, buffer_head, ...) or a cache named after
 * a struct, each checked by size (sizeof(type) <= object_size); kmalloc-* caches are untyped unless
 * the user chose an overlay for the object (ctx.overlays). With slub_debug red zones the object is
 * the pointer after red_left_pad, as the kernel and drgn use it (crash reports the start of the
 * left red zone: that address is given as `slot`, and an address inside the red zone says so).
 */
import { variableDeclaration } from './print';
import { memberInLayout } from '../analysis/overlay';
import { cacheKey, type Program } from '../kernel/program';
import { MemoryError, expectedError } from '../errors';
import { START_KERNEL_MAP } from '../arch/x86_64';
import {
  slabObjectInfo, slabLayout, readTracks, pageToPfn,
  type SlabObjectInfo, type TrackInfo, type SlabCache,
} from '../analysis/slab';
import { stackOwner, taskAt, type TaskInfo } from '../analysis/tasks';
import { describePage, type PageDesc } from '../analysis/page_alloc';
import { findVmapArea, vmCaller } from '../analysis/vmalloc';
import { CommandError, registerCommand, type CommandContext, type CommandResult } from './registry';
import { crashSymName } from './sym';
import { evalAddress } from './expr';
import { ensureExportSymbolsFor } from '../kernel/exports';
import { kernelImageLayout } from '../kernel/layout';

export type WhatisKind = 'slab' | 'symbol' | 'module' | 'stack' | 'vmalloc' | 'percpu' | 'page' | 'struct-page' | 'unmapped' | 'unreadable' | 'user' | 'unknown';

export interface VmapInfo {
  vmap_area: string;
  vm_struct: string;
  start: string;
  end: string;
  size: number;
  caller?: string;
}

export type { PageDesc };

export interface TrackJson {
  kind: 'alloc' | 'free';
  caller: string;
  caller_symbol: string | null;
  cpu: number;
  pid: number;
  when: number;
  age: number | null;
  handle: number;
  stack: Array<{ pc: string; symbol: string | null }>;
  stack_problem?: string;
}

/** The DESIGN.md shape plus details (added fields only). */
export interface WhatisResult {
  address: string;
  kind: WhatisKind;
  /** kind 'unreadable': why the address could not be translated (page table not in the dump, ...) */
  reason?: string;
  cache?: string;
  slab?: string;
  object?: string;
  offset?: number;
  state?: 'allocated' | 'free' | 'cpu-free';
  member_path?: string;
  symbol?: string;
  task?: { task: string; pid: number; comm: string; cpu: number };
  // details
  type?: string;
  type_source?: 'overlay' | 'cache';
  /** crash's object address: the slot start (left red zone) when red_left_pad > 0 */
  slot?: string;
  region?: SlabObjectInfo['region'];
  red_left_pad?: number;
  note?: string;
  /** who holds a free object: slab-freelist, cpu-slab, cpu-sheaf, node-barn (or rcu-sheaf, kfree_rcu pending) */
  free_in?: string;
  tracks?: TrackJson[];
  module?: string;
  vmap?: VmapInfo;
  percpu?: { cpu: number; symbol: string | null };
  page?: PageDesc;
  struct_page_of?: string;
  problems?: string[];
}

// ---------------------------------------------------------------------------- object types

/** Dedicated caches and the struct they hold (a hint: verified by size before use). */
const CACHE_TYPES: Record<string, string> = {
  skbuff_head_cache: 'sk_buff',
  skbuff_small_head: '',
  skbuff_fclone_cache: 'sk_buff_fclones',
  task_struct: 'task_struct',
  dentry: 'dentry',
  inode_cache: 'inode',
  ext4_inode_cache: 'ext4_inode_info',
  shmem_inode_cache: 'shmem_inode_info',
  proc_inode_cache: 'proc_inode',
  sock_inode_cache: 'socket_alloc',
  buffer_head: 'buffer_head',
  vm_area_struct: 'vm_area_struct',
  mm_struct: 'mm_struct',
  files_cache: 'files_struct',
  fs_cache: 'fs_struct',
  signal_cache: 'signal_struct',
  sighand_cache: 'sighand_struct',
  cred_jar: 'cred',
  filp: 'file',
  anon_vma: 'anon_vma',
  anon_vma_chain: 'anon_vma_chain',
  kernfs_node_cache: 'kernfs_node',
  pid: 'pid',
  radix_tree_node: 'xa_node',
  nsproxy: 'nsproxy',
  uts_namespace: 'uts_namespace',
  'biovec-max': '',
  bio_integrity_payload: '',
  request_queue: 'request_queue',
  blkdev_ioc: 'io_context',
  sigqueue: 'sigqueue',
  UNIX: 'unix_sock',
  TCP: 'tcp_sock',
  UDP: 'udp_sock',
  RAW: 'raw_sock',
  TCPv6: 'tcp6_sock',
  UDPv6: 'udp6_sock',
  RAWv6: 'raw6_sock',
  mnt_cache: 'mount',
  ext4_groupinfo_4k: 'ext4_group_info',
  jbd2_journal_head: 'journal_head',
  fsnotify_mark_connector: 'fsnotify_mark_connector',
  eventpoll_epi: 'epitem',
  eventpoll_pwq: 'eppoll_entry',
  seq_file: 'seq_file',
  'kmem_cache': 'kmem_cache',
  kmem_cache_node: 'kmem_cache_node',
};

/** The struct type of a cache's objects, when the dump vouches for it; null otherwise. */
export function cacheObjectType(prog: Program, c: SlabCache): number | null {
  if (/^(kmalloc|dma-kmalloc|kmalloc-cg|kmalloc-rcl|size-)/.test(c.name)) return null;
  return prog.memo(cacheKey<number | null>('whatis.ctype.' + c.address.toString(16)), () => {
    const tryType = (name: string, lower: number) => {
      if (!name) return null;
      const t = prog.btf.findType(name, 'struct');
      if (t === null) return null;
      const sz = prog.btf.sizeof(t);
      return sz > 0 && sz <= c.objectSize && sz >= lower ? t : null;
    };
    const hint = CACHE_TYPES[c.name];
    if (hint !== undefined) return tryType(hint, 1);
    // a cache named after a struct (with a size close to it)
    return tryType(c.name, Math.ceil(c.objectSize / 2));
  });
}

function overlayType(ctx: CommandContext, addrs: bigint[]): string | null {
  if (!ctx.overlays) return null;
  for (const a of addrs) {
    const h = a.toString(16);
    for (const k of [h, '0x' + h, h.padStart(16, '0')]) {
      const t = ctx.overlays.get(k);
      if (t) return t;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------- symbols

/** "name+off" with a preference among aliases for the one the kernel prints (not init_module). */
export function symbolName(prog: Program, addr: bigint, decimal = false): { text: string; type: string; module?: string } | null {
  let hit;
  try {
    // the export-table symbols (__kstrtab_*, loaded on demand) first when they could be the
    // answer, so it does not depend on whether `sym` ran before
    ensureExportSymbolsFor(prog, addr);
    hit = prog.symbols.lookup(addr);
  } catch (e) {
    expectedError(e);
    return null;
  }
  if (!hit) return null;
  let sym = hit.sym;
  if (/^(init_module|cleanup_module|__pfx_)/.test(sym.name)) {
    const alts = prog.symbols.at(sym.address).filter((s) => s.module === sym.module && !/^(init_module|cleanup_module|__this_module)$/.test(s.name) && !s.name.startsWith('__pfx_'));
    if (alts.length) sym = alts[0];
  }
  const off = hit.offset ? `+${decimal ? hit.offset : '0x' + hit.offset.toString(16)}` : '';
  // crash keeps no data type for module symbols read from kallsyms: (?) unless text
  const type = sym.module && !/^[tT]$/.test(sym.type) ? '?' : sym.type;
  return { text: crashSymName(sym.name) + off, type, module: sym.module };
}

function symWithModule(prog: Program, a: bigint): string {
  const s = symbolName(prog, a);
  if (!s) return '0x' + a.toString(16);
  return s.module ? `${s.text} [${s.module}]` : s.text;
}

// ---------------------------------------------------------------------------- pages

// ---------------------------------------------------------------------------- vmalloc

function findVmap(prog: Program, addr: bigint): VmapInfo | null {
  const a = findVmapArea(prog, addr);
  if (!a) return null;
  const info: VmapInfo = { vmap_area: '0x' + a.area.toString(16), vm_struct: '0x' + a.vm.toString(16), start: '0x' + a.start.toString(16), end: '0x' + a.end.toString(16), size: Number(a.end - a.start) };
  const caller = vmCaller(prog, a);
  if (caller) info.caller = symWithModule(prog, caller);
  return info;
}

// ---------------------------------------------------------------------------- tasks

// ---------------------------------------------------------------------------- classification

export function trackJson(prog: Program, t: TrackInfo): TrackJson {
  const caller = symbolName(prog, t.addr);
  return {
    kind: t.kind,
    caller: '0x' + t.addr.toString(16),
    caller_symbol: caller ? (caller.module ? `${caller.text} [${caller.module}]` : caller.text) : null,
    cpu: t.cpu,
    pid: t.pid,
    when: Number(t.when),
    age: t.age === null ? null : Number(t.age),
    handle: t.handle,
    stack: t.stack.map((pc) => {
      const s = symbolName(prog, pc);
      return { pc: '0x' + pc.toString(16), symbol: s ? (s.module ? `${s.text} [${s.module}]` : s.text) : null };
    }),
    ...(t.stackProblem ? { stack_problem: t.stackProblem } : {}),
  };
}

export interface Described {
  json: WhatisResult;
  slab: SlabObjectInfo | null;
  task: TaskInfo | null;
  translated: boolean;
}

/** Classify an address (the engine of whatis and kmem <addr>). Never throws on bad memory. */
export function describeAddress(ctx: CommandContext, addr: bigint): Described {
  const prog = ctx.prog;
  const r: WhatisResult = { address: '0x' + addr.toString(16), kind: 'unknown' };
  const out: Described = { json: r, slab: null, task: null, translated: false };
  if (addr < 0x8000000000000000n) {
    r.kind = addr < 0x800000000000n ? 'user' : 'unknown';
    return out;
  }
  let pa: number | null = null;
  let unreadable: string | null = null;
  try {
    pa = prog.arch.vtop(addr);
    out.translated = true;
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    pa = null;
    // "not mapped" only when the page tables say so; a page table we cannot read (not in the
    // dump, truncated, corrupt) leaves the question open
    if (e.kind !== 'unmapped') unreadable = e.message;
  }
  const kend = kernelImageLayout(prog).end;
  const inImage = addr >= START_KERNEL_MAP && (kend === undefined || addr < kend);
  // kernel image: a symbol
  if (inImage) {
    const s = symbolName(prog, addr, true);
    if (s && !s.module) {
      r.kind = 'symbol';
      r.symbol = `${s.text} (${s.type})`;
      const t = stackOwner(prog, addr);
      if (t) setTask(r, out, t);
      else {
        const tk = taskAt(prog, addr);
        if (tk) setTask(r, out, tk);
      }
      if (pa !== null) r.page = describePage(prog, pa) ?? undefined;
      return out;
    }
  }
  if (pa === null) {
    r.kind = unreadable ? 'unreadable' : 'unmapped';
    if (unreadable) r.reason = unreadable;
    const s = addr >= START_KERNEL_MAP ? symbolName(prog, addr, true) : null;
    if (s) {
      r.symbol = `${s.text} (${s.type})`;
      if (s.module) r.module = s.module;
    }
    const v = findVmap(prog, addr);
    if (v) r.vmap = v;
    const t = stackOwner(prog, addr);
    if (t) setTask(r, out, t);
    return out;
  }
  // slab object
  const so = slabObjectInfo(prog, addr);
  if (so) {
    out.slab = so;
    r.kind = 'slab';
    r.cache = so.cache.name;
    r.slab = '0x' + so.slab.address.toString(16);
    r.object = '0x' + so.object.toString(16);
    r.offset = so.offset;
    r.state = so.state;
    if (so.note) r.note = so.note;
    if (so.holder) r.free_in = so.holder;
    if (so.cache.redLeftPad) {
      r.slot = '0x' + so.slot.toString(16);
      r.red_left_pad = so.cache.redLeftPad;
    }
    r.region = so.region;
    const ov = overlayType(ctx, [so.object, so.slot]);
    let tid: number | null = null;
    if (ov && (ov.includes('+') || prog.btf.findType(ov.replace(/^struct\s+/, ''), 'struct') === null)) {
      // a composite layout ("struct request + struct scsi_cmnd") or a type from a module's BTF
      const m = memberInLayout(prog, ov, so.offset);
      r.type = ov;
      r.type_source = 'overlay';
      r.member_path = m.path;
    } else if (ov) {
      tid = prog.btf.findType(ov.replace(/^struct\s+/, ''), 'struct') ?? prog.btf.findType(ov);
      if (tid !== null) r.type_source = 'overlay';
    }
    if (tid === null && r.type_source !== 'overlay') {
      tid = cacheObjectType(prog, so.cache);
      if (tid !== null) r.type_source = 'cache';
    }
    if (tid !== null) {
      r.type = prog.btf.typeName(tid);
      if (so.offset >= 0 && so.offset < prog.btf.sizeof(tid)) {
        const m = prog.btf.memberAt(tid, so.offset);
        if (m) r.member_path = m.padding ? `${m.path || '(padding)'} (padding)` : m.delta ? `${m.path}+${m.delta}` : m.path;
      }
    }
    const tr = readTracks(prog, so.cache, so.object);
    if (tr) r.tracks = tr.map((t) => trackJson(prog, t));
    if (so.problems.length) r.problems = so.problems;
    if (/^task_struct$/.test(so.cache.name)) {
      const t = taskAt(prog, so.object);
      if (t) setTask(r, out, t);
    }
    r.page = describePage(prog, pa, { inSlab: true }) ?? undefined;
    return out;
  }
  // module
  const s = addr >= START_KERNEL_MAP ? symbolName(prog, addr, true) : null;
  if (s && s.module) {
    r.kind = 'module';
    r.symbol = `${s.text} (${s.type})`;
    r.module = s.module;
    const v = findVmap(prog, addr);
    if (v) r.vmap = v;
    r.page = describePage(prog, pa) ?? undefined;
    return out;
  }
  // vmalloc / stacks
  const v = findVmap(prog, addr);
  if (v) {
    r.vmap = v;
    const t = stackOwner(prog, addr);
    r.kind = t ? 'stack' : 'vmalloc';
    if (t) setTask(r, out, t);
    r.page = describePage(prog, pa) ?? undefined;
    return out;
  }
  // struct page array
  const L = slabLayout(prog);
  if (addr >= L.vmemmap && addr < L.vmemmap + BigInt(Math.ceil(prog.phys.maxPhys / prog.info.pageSize) + 1) * BigInt(L.pageSize)) {
    const pageAddr = addr - ((addr - L.vmemmap) % BigInt(L.pageSize));
    const pfn = pageToPfn(prog, pageAddr);
    r.kind = 'struct-page';
    if (pfn !== null) r.struct_page_of = '0x' + (BigInt(pfn) * BigInt(prog.info.pageSize)).toString(16);
    // a struct page address describes that page (as crash does); inside one, the page holding it
    r.page = describePage(prog, pageAddr === addr && pfn !== null ? pfn * prog.info.pageSize : pa) ?? undefined;
    if (r.page?.buddy) r.state = 'free';
    return out;
  }
  const area = prog.perCpuAreaOf(addr);
  if (area) {
    const symbol = symbolName(prog, area.percpu)?.text ?? null;
    r.kind = 'percpu';
    r.percpu = { cpu: area.cpu, symbol };
    if (symbol) r.symbol = symbol;
  } else r.kind = 'page';
  const t = stackOwner(prog, addr);
  if (t) {
    r.kind = 'stack';
    setTask(r, out, t);
  }
  r.page = describePage(prog, pa) ?? undefined;
  if (r.kind === 'page' && r.page?.buddy) r.state = 'free';
  return out;
}

function setTask(r: WhatisResult, out: Described, t: TaskInfo): void {
  out.task = t;
  r.task = { task: '0x' + t.task.toString(16), pid: t.pid, comm: t.comm, cpu: t.cpu };
}

// ---------------------------------------------------------------------------- text

export function whatisText(prog: Program, d: Described): string {
  const r = d.json;
  const a = r.address.replace(/^0x/, '');
  const lines: string[] = [];
  switch (r.kind) {
    case 'slab': {
      const so = d.slab!;
      const head = `${a}: ${r.state} object ${r.object} of ${r.cache}` + (r.offset ? `, offset ${r.offset < 0 ? '-' : ''}0x${Math.abs(r.offset).toString(16)} (${r.offset})` : '');
      lines.push(head + (r.note ? ` (${r.note})` : ''));
      if (so.cache.redLeftPad) {
        lines.push(`  slot ${r.slot} (left red zone of ${so.cache.redLeftPad} bytes; crash reports this address), object ${r.object}`);
      }
      if (r.region && r.region !== 'object') lines.push(`  in the object's ${r.region.replace('-', ' ')}`);
      lines.push(`  slab ${r.slab} (memory 0x${so.slab.memory.toString(16)}, ${so.slab.objects} objects, ${so.slabAllocated} allocated)  object size ${so.cache.objectSize}, stride ${so.cache.size}`);
      if (r.type) lines.push(`  type ${r.type} (${r.type_source === 'overlay' ? 'overlay' : 'dedicated cache'})` + (r.member_path ? `: ${r.member_path}` : ''));
      else lines.push(`  type unknown (${so.cache.name} holds objects of any type; choose an overlay)`);
      if (r.task) lines.push(`  task ${r.task.task} pid ${r.task.pid} "${r.task.comm}"`);
      for (const t of r.tracks ?? []) lines.push(...trackLines(t));
      for (const p of r.problems ?? []) lines.push(`  problem: ${p}`);
      break;
    }
    case 'symbol':
      lines.push(`${a}: kernel symbol ${r.symbol}` + (r.task ? `, in the stack of pid ${r.task.pid} "${r.task.comm}" (task ${r.task.task})` : ''));
      break;
    case 'module':
      lines.push(`${a}: module ${r.module}: ${r.symbol}`);
      if (r.vmap) lines.push(`  vmap area ${r.vmap.start}-${r.vmap.end} (${r.vmap.size} bytes)`);
      break;
    case 'stack':
      lines.push(`${a}: kernel stack of pid ${r.task!.pid} "${r.task!.comm}" (task ${r.task!.task}, cpu ${r.task!.cpu})`);
      if (r.vmap) lines.push(`  vmap area ${r.vmap.start}-${r.vmap.end} (${r.vmap.size} bytes)`);
      break;
    case 'vmalloc':
      lines.push(`${a}: vmalloc area ${r.vmap!.start}-${r.vmap!.end} (${r.vmap!.size} bytes)` + (r.vmap!.caller ? `, allocated by ${r.vmap!.caller}` : ''));
      break;
    case 'percpu':
      lines.push(`${a}: per-CPU area of cpu ${r.percpu!.cpu}` + (r.percpu!.symbol ? `: ${r.percpu!.symbol}` : ''));
      break;
    case 'struct-page':
      lines.push(`${a}: struct page` + (r.struct_page_of ? ` of physical ${r.struct_page_of}` : '') + ' (vmemmap)');
      break;
    case 'unreadable':
      lines.push(`${a}: cannot translate: ${r.reason}` + (r.symbol ? `; ${r.symbol}${r.module ? ` [${r.module}]` : ''}` : ''));
      break;
    case 'unmapped':
      lines.push(`${a}: not mapped (no page-table translation)` + (r.symbol ? `; ${r.symbol}${r.module ? ` [${r.module}]` : ''}` : '') + (r.task ? `; in the stack range of pid ${r.task.pid} "${r.task.comm}"` : ''));
      break;
    case 'user':
      lines.push(`${a}: user-space address`);
      break;
    case 'page':
      lines.push(`${a}: ${r.page?.buddy ? `free page (buddy block of order ${r.page.buddy.order} at ${r.page.buddy.head})` : `page ${r.page?.page ?? '?'}` + (r.page?.flag_names.length ? ` [${r.page.flag_names.join(',')}]` : '')}`);
      break;
    default:
      lines.push(`${a}: unknown`);
  }
  return lines.join('\n') + '\n';
}

export function trackLines(t: TrackJson): string[] {
  const head = `  ${t.kind === 'alloc' ? 'Allocated' : 'Freed'} in ${t.caller_symbol ?? t.caller} age=${t.age ?? '?'} cpu=${t.cpu} pid=${t.pid}`;
  const out = [head];
  for (const f of t.stack) out.push(`   ${f.symbol ?? f.pc}`);
  if (t.stack_problem) out.push(`   (stack: ${t.stack_problem})`);
  return out;
}

registerCommand({
  name: 'whatis',
  disassembles: true,
  summary: 'what an address is: slab object (cache, offset, state, member), symbol, stack, vmalloc, page',
  usage: 'whatis <address> | whatis <variable>',
  run(args: string[], ctx: CommandContext): CommandResult {
    const words = args.filter((a) => a !== '--json');
    if (words.length !== 1) throw new CommandError('usage: whatis <address>');
    // crash's `whatis SYMBOL`: the variable's declaration (print.ts: BTF VAR or inferred type)
    const decl = /^[A-Za-z_]\w*$/.test(words[0]) && !/^[0-9a-f]+$/i.test(words[0]) ? variableDeclaration(ctx.prog, words[0]) : null;
    if (decl) return decl;
    const addr = evalAddress(ctx.prog, words[0]);
    const d = describeAddress(ctx, addr);
    return { text: whatisText(ctx.prog, d), json: d.json };
  },
});

