/**
 * `sys`: crash's system summary (kernel.c display_sys_stats), computed from the dump alone.
 *
 * How each field is found, and how crash finds it:
 *  - CPUS: crash counts the CPUs whose per-cpu `cpu_number` equals their index
 *    (x86_64_get_smp_cpus), and OFFLINE are those of them not set in `__cpu_online_mask`
 *    (after a panic the other CPUs are stopped and marked offline).
 *  - DATE: the kernel's wall clock when it stopped, `shadow_timekeeper.xtime_sec` (crash's
 *    get_xtime; the kdump header timestamp is not used, so ELF and kdump files of one crash agree);
 *    then `tk_core` (Linux >= 6.13 keeps the shadow there), VMCOREINFO CRASHTIME, and the kdump
 *    header's timestamp.
 *  - UPTIME: `jiffies_64` minus INITIAL_JIFFIES (= (u32)(-300 * HZ)), over HZ, exactly as crash's
 *    get_uptime()/convert_time(). HZ is not in VMCOREINFO, BTF or kallsyms (crash asks gdb for
 *    mq-deadline's `write_expire` = 5 * HZ in the vmlinux debug info). We derive it from the dump:
 *    jiffies count HZ per second since boot, so of the Kconfig choices (100, 250, 300, 1000, and
 *    the other arches' 24..1200) the HZ that makes the jiffies uptime agree with the timekeeper's
 *    CLOCK_MONOTONIC seconds (`ktime_sec`) is the kernel's HZ; the candidates are 25% or more
 *    apart, so a clock agreement within a second or two decides it. Without the timekeeper the
 *    last printk timestamp (local_clock() at the panic) is the reference.
 *  - LOAD AVERAGE: `avenrun[3]`, fixed point with FSHIFT 11, rounded like crash (+ FIXED_1/200).
 *  - TASKS: crash counts every thread in its task table plus each CPU's idle task. We walk
 *    init_task.tasks (the processes) and each one's signal->thread_head (its threads; the
 *    thread_group list on kernels without thread_node), bounded and cycle-checked, then add each
 *    CPU's runqueue idle task. nr_threads + idle tasks is the kernel's own count (JSON, a check).
 *  - NODENAME/RELEASE/VERSION/MACHINE: init_uts_ns (VMCOREINFO); MHz = cpu_khz / 1000 (crash's
 *    x86_64_processor_speed).
 *  - MEMORY: crash sums `node_present_pages` over the online nodes, rounds up to the next GiB
 *    when within 64 MiB of it, and prints it with pages_to_size ("511.5 MB", "2 GB").
 *  - PANIC: the panic line crash's get_panicmsg picks from the log (analysis/printk.ts).
 *
 * Speed: `sys` does not load the symbol table or module symbols. The dozen kernel symbols it
 * needs are looked up in one pass over kallsyms_names (no per-symbol objects), and the kernel's
 * BTF is read from __start_BTF.. __stop_BTF and parsed once (kept on the Program for later
 * commands). Struct offsets come from BTF or VMCOREINFO, never constants.
 *
 * A field the dump cannot give prints "(unknown: reason)"; the command never fails on bad memory.
 */
import { taintLetters, taintedMask } from '../analysis/module';
import { registerCommand, parseFlags, CommandError, type CommandContext } from './registry';
import { DumpError, MemoryError, errorMessage } from '../errors';
import { u64 } from '../bytes';
import type { Program } from '../kernel/program';
import { countTasks, type TaskCount } from '../analysis/tasks';
import { readPrintk, panicMessage, ctimeUtc } from '../analysis/printk';

// ---------------------------------------------------------------------------------------------
// a few kernel symbols without building the whole symbol table

/** The kernel symbols `sys` and `log` need. */
const WANTED = [
  '_stext',
  '__start_BTF',
  '__stop_BTF',
  'jiffies_64',
  'avenrun',
  'init_task',
  'shadow_timekeeper',
  'tk_core',
  'timekeeper_data',
  '__cpu_online_mask',
  'cpu_number',
  'pcpu_hot',
  'runqueues',
  '__per_cpu_offset',
  'nr_cpu_ids',
  'nr_threads',
  'cpu_khz',
  'tainted_mask',
  'pid_max',
];

/**
 * Addresses of kernel symbols (VMCOREINFO, then the Program's kallsyms name index, which builds
 * no symbol table). Missing symbols are absent from the map.
 */
export function kernelSymbols(prog: Program, names: readonly string[] = WANTED): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const n of names) {
    const v = prog.kernelSymbolAddress(n);
    if (v !== undefined) out.set(n, v);
  }
  return out;
}

/** The Program's BTF (read from __start_BTF..__stop_BTF through the name index). */
export function ensureBtf(prog: Program): void {
  prog.btf;
}

// ---------------------------------------------------------------------------------------------
// the summary

/** A value, or why the dump cannot give it. */
export type Field<T> = { ok: true; value: T } | { ok: false; why: string };

function field<T>(f: () => T): Field<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof MemoryError || e instanceof DumpError) return { ok: false, why: e.message };
    return { ok: false, why: `internal error: ${errorMessage(e)}` };
  }
}

function text<T>(f: Field<T>, show: (v: T) => string = String): string {
  return f.ok ? show(f.value) : `(unknown: ${f.why})`;
}

function val<T>(f: Field<T>): T | null {
  return f.ok ? f.value : null;
}

export interface Uptime {
  seconds: number;
  jiffies: bigint;
  hz: number;
  /** how HZ was found */
  hzSource: string;
}

export interface SysInfo {
  dumpfile: string;
  partial: boolean;
  tainted: Field<boolean>;
  cpus: Field<{ cpus: number; online: number; offline: number }>;
  crashTime: Field<{ seconds: number; source: string }>;
  uptime: Field<Uptime>;
  loadAverage: Field<[number, number, number]>;
  tasks: Field<TaskCount>;
  uts: Field<{ sysname: string; nodename: string; release: string; version: string; machine: string; domainname: string }>;
  mhz: Field<number>;
  memory: Field<{ bytes: number; text: string }>;
  panic: Field<string>;
}

const HZ_CANDIDATES = [24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 1000, 1024, 1200];

/** crash's get_uptime(): jiffies_64 since boot, INITIAL_JIFFIES = (u32)(-300 * HZ) removed. */
export function uptimeJiffies(jiffies64: bigint, hz: number): bigint {
  const M64 = (1n << 64n) - 1n;
  const wrappedHi = jiffies64 & 0xffffffff00000000n;
  if (wrappedHi) {
    const wrapped = wrappedHi - 0x100000000n;
    return (((jiffies64 & 0xffffffffn) | wrapped) + BigInt(300 * hz)) & M64;
  }
  const initial = BigInt.asUintN(32, BigInt(-300 * hz));
  return (jiffies64 - initial) & M64;
}

/** crash's convert_time(): "[N days, ]HH:MM:SS". */
export function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  let t = seconds % 86400;
  const h = Math.floor(t / 3600);
  t %= 3600;
  const m = Math.floor(t / 60);
  const s = t % 60;
  const p = (x: number) => String(x).padStart(2, '0');
  return `${days ? `${days} days, ` : ''}${p(h)}:${p(m)}:${p(s)}`;
}

/** crash's get_loadavg() rounding of avenrun[] (FSHIFT 11). */
export function formatLoad(avenrun: readonly number[]): string {
  const FIXED_1 = 1 << 11;
  return avenrun
    .map((x) => {
      const a = x + FIXED_1 / 200;
      const int = Math.floor(a / FIXED_1);
      const frac = Math.floor(((a & (FIXED_1 - 1)) * 100) / FIXED_1);
      return `${int}.${String(frac).padStart(2, '0')}`;
    })
    .join(', ');
}

/**
 * crash's pages_to_size(): "%.1f GB" / "%.1f MB" / "%ld KB", with ".0 " removed. printf rounds
 * the exact binary value, ties to even; done here in integers so the last digit matches.
 */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0';
  const G = 1n << 30n;
  const M = 1n << 20n;
  const b = BigInt(Math.round(bytes));
  const oneDecimal = (unit: bigint, suffix: string) => {
    const q = (b * 10n) / unit;
    const r = (b * 10n) % unit;
    let tenths = q;
    if (r * 2n > unit || (r * 2n === unit && q % 2n === 1n)) tenths++;
    const s = `${tenths / 10n}.${tenths % 10n} ${suffix}`;
    return s.replace('.0 ', ' ');
  };
  if (b >= G) return oneDecimal(G, 'GB');
  if (b >= M) return oneDecimal(M, 'MB');
  return `${b / 1024n} KB`;
}

function readLongs(prog: Program, addr: bigint, n: number): bigint[] {
  const b = prog.mem.read(addr, n * 8);
  return Array.from({ length: n }, (_, i) => u64(b, i * 8));
}

function popcount(b: Uint8Array): number {
  let n = 0;
  for (const x of b) {
    let v = x;
    while (v) {
      n += v & 1;
      v >>= 1;
    }
  }
  return n;
}

function sym(prog: Program, name: string): bigint {
  const a = kernelSymbols(prog).get(name) ?? kernelSymbols(prog, [name]).get(name);
  if (a === undefined) {
    const why = prog.symbolsMissingWhy();
    throw new DumpError(why ? `${name} unknown: kernel symbols unavailable` : `the kernel has no symbol ${name}`);
  }
  return a;
}

/** What the engine could not read that `sys` depends on (kernel symbols, BTF): what, why, remedy. */
function missingPieces(prog: Program): Array<{ what: string; why: string; remedy?: string }> {
  return prog.unavailable.filter((u) => u.what === 'kernel symbols' || u.what === 'kernel types (BTF)');
}

/** The per-CPU offsets of `cpus` CPUs, from Program.perCpuOffsets; what is missing is said. */
function perCpuOffsets(prog: Program, cpus: number): bigint[] {
  const offs = prog.perCpuOffsets();
  if (offs.length >= cpus) return offs;
  sym(prog, '__per_cpu_offset'); // throws why the table is unknown
  throw new DumpError(`__per_cpu_offset: ${offs.length} offsets for ${cpus} CPUs`);
}

function nrCpuIds(prog: Program): number {
  const n = prog.mem.u32(sym(prog, 'nr_cpu_ids'));
  if (n < 1 || n > 65536) throw new DumpError(`nr_cpu_ids is ${n}`);
  return n;
}

/** crash's CPU count (x86_64_get_smp_cpus) and the online ones (get_cpus_online). */
function countCpus(prog: Program): { cpus: number; online: number; offline: number } {
  const nr = nrCpuIds(prog);
  const offsets = perCpuOffsets(prog, nr);
  // per-cpu cpu_number (Linux >= 6.2 x86 keeps it in pcpu_hot.cpu_number)
  let cpuNumber = kernelSymbols(prog).get('cpu_number');
  if (cpuNumber === undefined) {
    const hot = kernelSymbols(prog).get('pcpu_hot');
    if (hot !== undefined) {
      try {
        ensureBtf(prog);
        cpuNumber = hot + BigInt(prog.offsetof('pcpu_hot', 'cpu_number'));
      } catch (e) {
        if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
      }
    }
  }
  let cpus = 0;
  if (cpuNumber !== undefined) {
    for (let i = 0; i < nr; i++) {
      let n: number;
      try {
        n = prog.mem.i32(BigInt.asUintN(64, cpuNumber + offsets[i]));
      } catch (e) {
        if (e instanceof MemoryError) break;
        throw e;
      }
      if (n !== i) break;
      cpus++;
    }
  }
  if (cpus === 0) cpus = nr;
  const mask = sym(prog, '__cpu_online_mask');
  const bits = prog.mem.read(mask, Math.ceil(cpus / 8));
  let online = 0;
  for (let i = 0; i < cpus; i++) if (bits[i >> 3] & (1 << (i & 7))) online++;
  // bits above the counted CPUs (crash counts the whole mask): none on a sane kernel
  if (cpus % 8) online += popcount(new Uint8Array([bits[bits.length - 1] >> (cpus % 8)]));
  return { cpus, online, offline: cpus - online };
}

/** The timekeeper's wall-clock seconds and CLOCK_MONOTONIC seconds. */
function timekeeper(prog: Program): { xtimeSec: bigint; ktimeSec: bigint | null; source: string } {
  ensureBtf(prog);
  const tk = prog.type('timekeeper');
  const oXtime = prog.offsetof(tk, 'xtime_sec');
  const oKtime = prog.hasMember('timekeeper', 'ktime_sec') ? prog.offsetof(tk, 'ktime_sec') : null;
  const read = (addr: bigint, source: string) => ({
    xtimeSec: BigInt.asIntN(64, prog.mem.u64(addr + BigInt(oXtime))),
    ktimeSec: oKtime === null ? null : BigInt.asIntN(64, prog.mem.u64(addr + BigInt(oKtime))),
    source,
  });
  const syms = kernelSymbols(prog);
  const shadow = syms.get('shadow_timekeeper');
  if (shadow !== undefined) return read(shadow, 'shadow_timekeeper.xtime_sec');
  const core = syms.get('tk_core');
  if (core !== undefined) {
    // Linux >= 6.13: struct tk_data { ...; struct timekeeper timekeeper; struct timekeeper shadow_timekeeper; }
    if (prog.findType('tk_data') !== null) {
      const m = prog.hasMember('tk_data', 'shadow_timekeeper') ? 'shadow_timekeeper' : 'timekeeper';
      return read(core + BigInt(prog.offsetof('tk_data', m)), `tk_core.${m}.xtime_sec`);
    }
  }
  // Linux >= 6.17 (auxiliary clocks): struct tk_data timekeeper_data[], tk_core being element
  // TIMEKEEPER_CORE (the enumerator's value from BTF)
  const arr = syms.get('timekeeper_data');
  if (arr !== undefined && prog.findType('tk_data') !== null) {
    const idx = prog.btf.enumerator('TIMEKEEPER_CORE')?.value ?? 0n;
    const m = prog.hasMember('tk_data', 'shadow_timekeeper') ? 'shadow_timekeeper' : 'timekeeper';
    const at = arr + idx * BigInt(prog.sizeof('tk_data')) + BigInt(prog.offsetof('tk_data', m));
    return read(at, `timekeeper_data[${idx}].${m}.xtime_sec`);
  }
  if (prog.symbolsMissingWhy()) throw new DumpError('shadow_timekeeper unknown: kernel symbols unavailable');
  throw new DumpError('the kernel has no shadow_timekeeper, tk_core or timekeeper_data');
}

function crashTime(prog: Program): { seconds: number; source: string } {
  let why = '';
  try {
    const tk = timekeeper(prog);
    if (tk.xtimeSec > 0n) return { seconds: Number(tk.xtimeSec), source: tk.source };
    why = `${tk.source} is ${tk.xtimeSec}`;
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
    why = e.message;
  }
  const ct = prog.info.crashTime;
  if (ct) return { seconds: ct, source: 'VMCOREINFO CRASHTIME' };
  const ts = prog.phys.header.timestamp;
  if (ts) return { seconds: ts, source: 'dump header timestamp' };
  throw new DumpError(`no clock in the dump (${why})`);
}

function uptime(prog: Program): Uptime {
  const j64 = prog.mem.u64(sym(prog, 'jiffies_64'));
  let ref: number | null = null;
  let refName = '';
  try {
    const tk = timekeeper(prog);
    if (tk.ktimeSec !== null && tk.ktimeSec >= 0n) {
      ref = Number(tk.ktimeSec);
      refName = 'the timekeeper\'s CLOCK_MONOTONIC seconds (ktime_sec)';
    }
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  if (ref === null) {
    try {
      const log = readPrintk(prog);
      const last = log.records[log.records.length - 1];
      if (last) {
        ref = Number(last.tsNsec / 1000000000n);
        refName = 'the last printk timestamp';
      }
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
    }
  }
  if (ref === null) throw new DumpError('HZ unknown: no clock in the dump to compare jiffies with');
  let best: { hz: number; secs: number; err: number } | null = null;
  for (const hz of HZ_CANDIDATES) {
    const j = uptimeJiffies(j64, hz);
    const secs = Number(j / BigInt(hz));
    const err = Math.abs(secs - ref);
    if (!best || err < best.err) best = { hz, secs, err };
  }
  if (!best || best.err > Math.max(2, ref * 0.1)) {
    throw new DumpError(`HZ unknown: no HZ makes jiffies_64 ${j64} agree with ${refName} (${ref} s)`);
  }
  return {
    seconds: best.secs,
    jiffies: uptimeJiffies(j64, best.hz),
    hz: best.hz,
    hzSource: `jiffies_64 agrees with ${refName} at HZ=${best.hz}`,
  };
}

function loadAverage(prog: Program): [number, number, number] {
  const v = readLongs(prog, sym(prog, 'avenrun'), 3).map((x) => Number(x));
  return [v[0], v[1], v[2]];
}


const UTS_FIELDS = ['sysname', 'nodename', 'release', 'version', 'machine', 'domainname'] as const;

function utsname(prog: Program): SysInfo['uts'] extends Field<infer T> ? T : never {
  const a = prog.info.symbol('init_uts_ns');
  if (a === undefined) throw new DumpError('VMCOREINFO has no init_uts_ns');
  // OFFSET(uts_namespace.name) is in VMCOREINFO since 6.0; before, BTF says where name is
  let nameOff = prog.info.offset('uts_namespace.name');
  // struct new_utsname is uapi (6 x char[__NEW_UTS_LEN + 1]); BTF confirms it when present
  let offs = UTS_FIELDS.map((_, i) => i * 65);
  let len = 65;
  try {
    ensureBtf(prog);
    nameOff ??= prog.offsetof('uts_namespace', 'name');
    offs = UTS_FIELDS.map((f) => prog.offsetof('new_utsname', f));
    len = prog.sizeof('new_utsname') / UTS_FIELDS.length;
  } catch (e) {
    if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
  }
  const base = a + BigInt(nameOff ?? 0);
  const b = prog.mem.read(base, offs[offs.length - 1] + len);
  const s = (o: number) => {
    let e = o;
    while (e < o + len && b[e] !== 0) e++;
    return new TextDecoder('utf-8').decode(b.subarray(o, e));
  };
  return {
    sysname: s(offs[0]),
    nodename: s(offs[1]),
    release: s(offs[2]),
    version: s(offs[3]),
    machine: s(offs[4]),
    domainname: s(offs[5]),
  };
}

/** crash's get_memory_size(): present pages of the online nodes, rounded up near a GiB. */
function memorySize(prog: Program): { bytes: number; text: string } {
  ensureBtf(prog);
  const oPresent = BigInt(prog.offsetof('pglist_data', 'node_present_pages'));
  const page = BigInt(prog.info.pageSize);
  let pages = 0n;
  const nodeData = prog.info.symbol('node_data');
  if (nodeData !== undefined) {
    const maxNodes = prog.info.length('node_data') ?? 1;
    const onlineAddr = prog.info.symbol('node_online_map');
    const maskBytes = prog.info.size('nodemask_t') ?? Math.ceil(maxNodes / 8);
    const online = onlineAddr !== undefined ? prog.mem.read(onlineAddr, maskBytes) : null;
    let nodes = 0;
    for (let n = 0; n < maxNodes; n++) {
      if (online && !(online[n >> 3] & (1 << (n & 7)))) continue;
      const pgdat = prog.mem.u64(nodeData + BigInt(n * 8));
      if (!pgdat) continue;
      pages += prog.mem.u64(pgdat + oPresent);
      nodes++;
    }
    if (!nodes) throw new DumpError('no online node in node_online_map');
  } else {
    const contig = sym(prog, 'contig_page_data');
    pages = prog.mem.u64(contig + oPresent);
  }
  let total = pages * page;
  const GIG = 1n << 30n;
  const nextGig = ((total + GIG - 1n) / GIG) * GIG;
  if (nextGig - total <= 64n << 20n) total = nextGig;
  const bytes = Number(total);
  return { bytes, text: formatSize(bytes) };
}

/** Everything `sys` shows. */
export function systemInfo(prog: Program): SysInfo {
  const h = prog.phys.header;
  const partial = (prog.phys.format !== 'elf' && (h.headerVersion ?? 1) >= 1 && (h.dumpLevel ?? 0) > 0) || !!h.incomplete;
  const cpus = field(() => countCpus(prog));
  return {
    dumpfile: prog.src.name,
    partial,
    tainted: field(() => prog.mem.u64(sym(prog, 'tainted_mask')) !== 0n),
    cpus,
    crashTime: field(() => crashTime(prog)),
    uptime: field(() => uptime(prog)),
    loadAverage: field(() => loadAverage(prog)),
    tasks: field(() => {
      if (!cpus.ok) throw new DumpError(`CPUs unknown: ${cpus.why}`);
      return countTasks(prog, cpus.value.cpus, () => perCpuOffsets(prog, cpus.value.cpus));
    }),
    uts: field(() => utsname(prog)),
    mhz: field(() => {
      const khz = prog.mem.u32(sym(prog, 'cpu_khz'));
      if (!khz) throw new DumpError('cpu_khz is 0');
      return Math.floor(khz / 1000);
    }),
    memory: field(() => memorySize(prog)),
    panic: field(() => {
      const log = readPrintk(prog);
      if (!log.records.length && log.warnings.length) throw new DumpError(log.warnings[0]);
      return panicMessage(log) ?? '';
    }),
  };
}

/** crash's `sys` text. */
export function formatSys(s: SysInfo, prog: Program): string {
  const lines: Array<[string, string]> = [];
  const tainted = s.tainted.ok && s.tainted.value ? '  [TAINTED]' : '';
  const map = prog.debug.find((d) => d.kind === 'system.map');
  const vml = prog.debug.find((d) => d.kind === 'vmlinux');
  if (map) lines.push(['SYSTEM MAP', map.name]);
  lines.push(['KERNEL', `${vml ? vml.name : map ? '(none: the dump and its System.map)' : '(none: reading the dump alone)'}${tainted}`]);
  lines.push(['DUMPFILE', `${s.dumpfile}${s.partial ? '  [PARTIAL DUMP]' : ''}`]);
  lines.push(['CPUS', text(s.cpus, (c) => `${c.cpus}${c.offline ? ` [OFFLINE: ${c.offline}]` : ''}`)]);
  lines.push(['DATE', text(s.crashTime, (t) => ctimeUtc(t.seconds))]);
  lines.push(['UPTIME', text(s.uptime, (u) => formatUptime(u.seconds))]);
  lines.push(['LOAD AVERAGE', text(s.loadAverage, formatLoad)]);
  lines.push(['TASKS', text(s.tasks, (t) => String(t.tasks))]);
  const uts = s.uts;
  lines.push(['NODENAME', text(uts, (u) => u.nodename)]);
  // VMCOREINFO's OSRELEASE says the release even when init_uts_ns cannot be read
  lines.push(['RELEASE', uts.ok || !prog.info.osrelease ? text(uts, (u) => u.release) : `${prog.info.osrelease}  (from VMCOREINFO; init_uts_ns: ${uts.why})`]);
  lines.push(['VERSION', text(uts, (u) => u.version)]);
  const machine = uts.ok ? uts.value.machine : prog.phys.header.utsname?.machine || 'x86_64';
  lines.push(['MACHINE', `${machine}  (${s.mhz.ok ? `${s.mhz.value} Mhz` : 'unknown Mhz'})`]);
  lines.push(['MEMORY', text(s.memory, (m) => m.text)]);
  lines.push([
    'PANIC',
    text(s.panic, (p) => `"${p}"${p.includes('Oops: ') ? ' (check log for details)' : ''}`),
  ]);
  const notes = missingPieces(prog).map((u) => `  (${u.what} unavailable: ${u.why}${u.remedy ? `; ${u.remedy}` : ''})`);
  return lines.map(([k, v]) => `${k.padStart(12, ' ')}: ${v}`).concat(notes).join('\n') + '\n';
}

function hex(v: bigint | null | undefined): string | null {
  return v === null || v === undefined ? null : '0x' + v.toString(16);
}

/** `sys --json`: the DESIGN.md shape plus the other fields; null = unknown, `unknown` says why. */
export interface SysJson {
  release: string | null;
  version: string | null;
  machine: string | null;
  cpus: number | null;
  panic: string | null;
  crash_time: number | null;
  kaslr_offset: string | null;
  page_offset: string | null;
  format: string;
  compression: string;
  dumpfile: string;
  partial: boolean;
  offline_cpus: number | null;
  date: string | null;
  date_source: string | null;
  uptime: string | null;
  uptime_seconds: number | null;
  hz: number | null;
  hz_source: string | null;
  load_average: string | null;
  tasks: number | null;
  tasks_kernel_count: number | null;
  task_problems?: unknown[];
  /** taint flags by letter (crash's sys -t), null when unreadable */
  tainted_flags?: string | null;
  nodename: string | null;
  mhz: number | null;
  memory: string | null;
  memory_bytes: number | null;
  tainted: boolean | null;
  /** field -> why it is unknown (null above) */
  unknown?: Record<string, string>;
  /** what the engine lacks for this dump (kernel symbols, BTF) and why */
  missing?: ReturnType<typeof missingPieces>;
}

/** `sys --json` (DESIGN.md shape, plus the other fields). */
export function sysJson(s: SysInfo, prog: Program): SysJson {
  const unknown: Record<string, string> = {};
  const note = <T>(name: string, f: Field<T>): T | null => {
    if (!f.ok) unknown[name] = f.why;
    return val(f);
  };
  const uts = note('uts', s.uts);
  const cpus = note('cpus', s.cpus);
  const ct = note('crash_time', s.crashTime);
  const up = note('uptime', s.uptime);
  const la = note('load_average', s.loadAverage);
  const tasks = note('tasks', s.tasks);
  const mem = note('memory', s.memory);
  const mhz = note('mhz', s.mhz);
  const panic = note('panic', s.panic);
  const tainted = note('tainted', s.tainted);
  return {
    release: uts?.release ?? prog.info.osrelease ?? null,
    version: uts?.version ?? null,
    machine: uts?.machine ?? null,
    cpus: cpus?.cpus ?? null,
    panic,
    crash_time: ct?.seconds ?? null,
    kaslr_offset: hex(prog.info.kernelOffset),
    page_offset: hex(prog.arch.pageOffset),
    format: prog.phys.format,
    compression: prog.phys.compression,
    dumpfile: s.dumpfile,
    partial: s.partial,
    offline_cpus: cpus?.offline ?? null,
    date: ct ? ctimeUtc(ct.seconds) : null,
    date_source: ct?.source ?? null,
    uptime: up ? formatUptime(up.seconds) : null,
    uptime_seconds: up?.seconds ?? null,
    hz: up?.hz ?? null,
    hz_source: up?.hzSource ?? null,
    load_average: la ? formatLoad(la) : null,
    tasks: tasks?.tasks ?? null,
    tasks_kernel_count: tasks?.kernelCount ?? null,
    task_problems: tasks?.problems.length ? tasks.problems : undefined,
    nodename: uts?.nodename ?? null,
    mhz,
    memory: mem?.text ?? null,
    memory_bytes: mem?.bytes ?? null,
    tainted,
    unknown: Object.keys(unknown).length ? unknown : undefined,
    missing: missingPieces(prog).length ? missingPieces(prog) : undefined,
  };
}

registerCommand({
  name: 'sys',
  summary: 'system data: kernel release, CPUs, date, uptime, tasks, memory, panic string',
  usage: 'sys [--json]',
  run(args: string[], ctx: CommandContext) {
    const { flags, rest } = parseFlags(args, { bool: ['--json', '-t'] });
    if (rest.length) throw new CommandError(`sys: unsupported argument ${rest[0]} (sys, sys -t)`);
    if (flags.has('-t')) {
      // crash's sys -t: the taint mask and its letters (kernel/panic.c taint_flags[])
      const mask = taintedMask(ctx.prog);
      const letters = taintLetters(ctx.prog, mask);
      return { text: `TAINTED_MASK: ${mask.toString(16)}  ${letters}\n`, json: { tainted_mask: '0x' + mask.toString(16), flags: letters } };
    }
    const s = systemInfo(ctx.prog);
    const json: SysJson = sysJson(s, ctx.prog);
    try {
      // the flags by name, not just "tainted: yes"
      json.tainted_flags = taintLetters(ctx.prog, taintedMask(ctx.prog));
    } catch (e) {
      if (!(e instanceof DumpError || e instanceof MemoryError)) throw e;
      json.tainted_flags = null;
    }
    // what the format layer found wrong while opening, and walks that broke: the numbers above
    // are then partial, and the text and JSON say so
    const problems = [...ctx.prog.phys.warnings, ...(s.tasks.ok ? s.tasks.value.problems : [])];
    return { text: formatSys(s, ctx.prog), json, problems };
  },
});

