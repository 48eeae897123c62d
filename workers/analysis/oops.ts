/**
 * Parser for pasted kernel oops / panic / BUG / WARNING / KASAN / slub_debug reports.
 *
 * Input is whatever the user pastes: a console log, dmesg, a syslog excerpt, a blog post with an
 * oops quoted in it. Line prefixes are stripped (`[    3.71] `, `[  3.7][ T120] `, `<4>`,
 * `Jan 12 03:14:15 host kernel: `, ISO timestamps), lines a web page wrapped are joined again,
 * and every report found is returned, first one first. Text with no report gives an empty list,
 * never an exception.
 *
 * The `Code:` bytes are decoded with disassembly.ts: from the faulting byte forward, and for the
 * bytes before it from the first start offset that decodes cleanly up to exactly the faulting
 * byte (as the kernel's scripts/decodecode does). That needs `await initDisassembler()` once;
 * without it `code.insns` is absent and `code.note` says why.
 */
import { disassemble, disassemblerReady, type Insn } from './disasm';

export type OopsKind =
  | 'null-deref' // BUG: kernel NULL pointer dereference / unable to handle kernel NULL pointer dereference
  | 'paging-request' // BUG: unable to handle page fault / kernel paging request
  | 'general-protection' // general protection fault
  | 'slub' // BUG <cache> (...): Poison overwritten / Redzone overwritten / ...
  | 'kasan' // BUG: KASAN: ...
  | 'bug' // kernel BUG at file:line!
  | 'warning' // WARNING: CPU: N PID: N at file:line func
  | 'oops' // an Oops: line with no BUG line before it
  | 'lockup' // BUG: soft lockup / hard LOCKUP / INFO: task blocked / rcu stall
  | 'bug-other' // any other BUG: line
  | 'panic' // Kernel panic - not syncing with no oops before it (sysrq, hung task panic, ...)
  | 'non-linux'; // a Solaris/illumos panic: recognised, not parsed

/** `foo+0x1d/0x30 [module]` */
export interface Location {
  /** '' when the kernel printed only an address (`? 0xffffffffc020c000`, `RIP: 0033:0x47fbe9`) */
  symbol: string;
  offset: number;
  length: number;
  module?: string;
  address?: bigint;
}

export type TraceContext = 'task' | 'irq' | 'softirq' | 'nmi' | 'exception';

export interface TraceEntry extends Location {
  /** false for `?` entries: a text address found on the stack, not a frame the unwinder proved */
  reliable: boolean;
  context: TraceContext;
  /** the entry as printed, prefix stripped */
  raw: string;
}

export interface CodeInfo {
  bytes: Uint8Array;
  /** index of the byte printed in <..> (or (..)): the first byte of the faulting instruction */
  faultIndex: number;
  /** index where the clean decode of the bytes before the fault starts (bytes before it are cut instructions) */
  startIndex: number;
  /** address of bytes[0] when the report gives the RIP address; otherwise the insns are numbered from the symbol start or from 0 */
  base: 'absolute' | 'symbol' | 'code';
  baseAddress: bigint;
  insns?: Insn[];
  /** the faulting instruction (also marked in `listing`) */
  faulting?: Insn;
  /** one line per instruction, decodecode style, the faulting one marked `<-- trapping instruction` */
  listing?: string;
  note?: string;
}

/** One register dump (RIP line + registers): the fault's, or an entry frame's inside the trace. */
export interface RegsBlock {
  rip?: Location;
  cs?: number;
  user: boolean;
  registers: Record<string, bigint>;
  code?: CodeInfo;
  codeNote?: string;
  context: TraceContext;
}

export interface SlubTrack {
  location: Location;
  age?: number;
  cpu?: number;
  pid?: number;
  stack: Location[];
}

export interface SlubReport {
  cache: string;
  message: string;
  /** `0xA-0xB @offset=N. First byte 0x6 instead of 0x6b` */
  firstByte?: { start: bigint; end: bigint; slabOffset?: number; value: number; expected: number };
  allocated?: SlubTrack;
  freed?: SlubTrack;
  slab?: { address: bigint; objects?: number; used?: number; fp?: bigint | null; flags?: string };
  object?: { address: bigint; slabOffset?: number; fp?: bigint | null };
  /** offset of the first bad byte inside the object (firstByte.start - object.address) */
  badObjectOffset?: number;
  /** the hex dump: Redzone / Object / Padding rows */
  dump: { region: string; address: bigint; bytes: Uint8Array }[];
  fixes: string[];
}

export interface KasanReport {
  bugType: string;
  location?: Location;
  access?: { kind: 'read' | 'write'; size: number; address: bigint; task?: string; pid?: number };
  allocated?: { pid?: number; stack: Location[] };
  freed?: { pid?: number; stack: Location[] };
  object?: { address: bigint; cache?: string; size?: number; offset?: number; region?: string };
}

export interface OopsReport {
  headline: string;
  kind: OopsKind;
  faultAddress?: bigint;
  /** `Oops: 0000 [#1] SMP PTI` */
  oops?: { errorCode: number; count: number; flags: string[] };
  cpu?: number;
  pid?: number;
  uid?: number;
  comm?: string;
  tainted?: string;
  release?: string;
  hardware?: string;
  rip?: Location;
  cs?: number;
  ss?: number;
  eflags?: bigint;
  /** general-purpose registers of the fault (first kernel-mode register dump): RAX..R15, RSP, RIP?, ORIG_RAX, EFLAGS */
  registers: Record<string, bigint>;
  /** CR0/CR2/CR3/CR4, DR0-7, FS/GS/KNLGS bases, DS/ES/CS selectors, PKRU */
  control: Record<string, bigint>;
  code?: CodeInfo;
  callTrace: TraceEntry[];
  /** every register dump in the report, in order (the fault's and the entry frames inside the trace) */
  regBlocks: RegsBlock[];
  modules: string[];
  lastUnloaded?: string;
  /** `Kernel panic - not syncing: <this>` when the report ends in a panic */
  panic?: string;
  bugAt?: { file: string; line: number };
  slub?: SlubReport;
  kasan?: KasanReport;
  /** free-form lines kept for the reader: #PF details, PGD/P4D, Kernel Offset, sysrq, end trace */
  notes: string[];
  /** 0-based line range of the report in the pasted text */
  lines: [number, number];
}

export interface OopsParseResult {
  found: boolean;
  reports: OopsReport[];
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Lines

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const PREFIXES: RegExp[] = [
  new RegExp(`^(?:${MONTHS})\\s+\\d+\\s+\\d\\d:\\d\\d:\\d\\d\\s+\\S+\\s+(?:kernel|vmunix)(?:\\[\\d+\\])?:\\s?`), // syslog
  /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+\S+\s+kernel:\s?/, // rsyslog ISO / journalctl -o short-iso
  /^kernel:\s/,
  /^<[0-9a-z]{1,2}>/, // printk level (`<4>`, 2.6's `<d>`)
  /^\[\s*\d+\.\d+\]\s?/, // timestamp
  /^\[\s*[TC]\d+\]\s?/, // caller id (CONFIG_PRINTK_CALLER)
];

interface Line {
  text: string;
  no: number; // 0-based line number of its first physical line
  prefixed: boolean;
  /** the physical line ended in whitespace (a wrapped continuation then starts a new word) */
  space: boolean;
}

function stripPrefix(s: string): { text: string; prefixed: boolean } {
  let prefixed = false;
  let again = true;
  while (again) {
    again = false;
    for (const re of PREFIXES) {
      const m = re.exec(s);
      if (m && m[0].length) {
        s = s.slice(m[0].length);
        prefixed = true;
        again = true;
      }
    }
  }
  return { text: s, prefixed };
}

const HEXBYTES_LINE = /^(?:\s*(?:<[0-9a-f]{2}>|\([0-9a-f]{2}\)|[0-9a-f]{2}))+\s*$/i;
const MODULE_TOKENS = /^(?:\s*[\w-]+(?:\([A-Z+-]+\))?)+\s*(?:\[last unloaded: [\w-]+\])?\s*$/;

/**
 * Strip prefixes and join what a web page or a KERN_CONT printk split: the `Code:` bytes and the
 * `Modules linked in:` list. A wrapped piece has no timestamp in a paste whose other lines have one.
 */
function logicalLines(text: string): Line[] {
  const raw = text.replace(/\r\n?/g, '\n').split('\n');
  const out: Line[] = [];
  const anyPrefixed = raw.some((l) => stripPrefix(l).prefixed);
  for (let i = 0; i < raw.length; i++) {
    // a reader's annotation after the kernel's text (`...=0x6b     //restored`)
    const physical = raw[i].replace(/\t/g, ' ').replace(/\s{2,}\/\/.*$/, '');
    const space = /\s$/.test(physical);
    const { text: t, prefixed } = stripPrefix(physical.replace(/\s+$/, ''));
    const prev = out[out.length - 1];
    if (prev && t.trim()) {
      const pt = prev.text.trimStart();
      const wrapped = anyPrefixed && !prefixed;
      if (pt.startsWith('Code:') && wrapped && HEXBYTES_LINE.test(t)) {
        prev.text += ' ' + t.trim();
        prev.space = space;
        continue;
      }
      if (pt.startsWith('Modules linked in:') && MODULE_TOKENS.test(t) && !/^\s*(Oops|CPU|Hardware|RIP|Call|Code|Pid|Process)\b/.test(t)) {
        // a wrapped line is cut anywhere (mid-word); a KERN_CONT piece starts a new word
        prev.text += wrapped && !prev.space ? t : ' ' + t.trim();
        prev.space = space;
        continue;
      }
    }
    out.push({ text: t, no: i, prefixed, space });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small parsers

const LOC = /([\w.$@]+)\+0x([0-9a-f]+)\/0x([0-9a-f]+)(?:\s+\[([\w-]+)(?:\s+[0-9a-f]+)?\])?/;

function parseLocation(s: string): Location | null {
  const m = LOC.exec(s);
  if (!m) return null;
  const loc: Location = { symbol: m[1], offset: parseInt(m[2], 16), length: parseInt(m[3], 16) };
  if (m[4]) loc.module = m[4];
  return loc;
}

function big(h: string): bigint {
  return BigInt('0x' + h.replace(/^0x/i, ''));
}

const GPR_NAME: Record<string, string> = { R08: 'R8', R09: 'R9' };

/** `RAX: 0000000000000000 RBX: ...`, `RSP: 0018:ffff... EFLAGS: 00010202 ORIG_RAX: ...` */
function parseRegisterLine(s: string): { gpr: Record<string, bigint>; control: Record<string, bigint>; ss?: number; cs?: number } | null {
  const t = s.trim();
  if (!/^(R[A-Z0-9]{1,3}|E[A-Z]{2}|FS|GS|CS|CR[0-4]|DR[0-7]|PKRU|ORIG_RAX):/.test(t)) return null;
  const gpr: Record<string, bigint> = {};
  const control: Record<string, bigint> = {};
  let ss: number | undefined;
  let cs: number | undefined;
  const re = /\b([A-Z][A-Z0-9_]{1,7}):\s*([0-9a-f]{4}:)?([0-9a-f]{1,16})(\([0-9a-f]{4}\))?/gi;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(t))) {
    const name = m[1].toUpperCase();
    const v = big(m[3]);
    n++;
    if (/^(R[A-D]X|R[SD]I|RBP|RSP|R0?[89]|R1[0-5]|RIP|ORIG_RAX|EFLAGS|E[A-D]X|E[SD]I|EBP|ESP|EIP)$/.test(name)) {
      gpr[GPR_NAME[name] ?? name] = v;
      if (name === 'RSP' && m[2]) ss = parseInt(m[2], 16);
    } else if (/^(CS|DS|ES|SS|FS|GS|KNLGS|CR[0-4]|DR[0-7]|PKRU)$/.test(name)) {
      control[name] = v;
      if (name === 'CS') cs = Number(v);
    } else n--;
  }
  if (!n) return null;
  return { gpr, control, ss, cs };
}

function parseCodeBytes(s: string): { bytes: Uint8Array; faultIndex: number } | null {
  const toks = s.trim().split(/\s+/);
  const bytes: number[] = [];
  let fault = -1;
  for (const tok of toks) {
    let m = /^<([0-9a-f]{2})>$/i.exec(tok) ?? /^\(([0-9a-f]{2})\)$/i.exec(tok);
    if (m) {
      if (fault < 0) fault = bytes.length;
      bytes.push(parseInt(m[1], 16));
      continue;
    }
    m = /^([0-9a-f]{2})$/i.exec(tok);
    if (!m) break; // trailing commentary
    bytes.push(parseInt(m[1], 16));
  }
  if (!bytes.length) return null;
  return { bytes: new Uint8Array(bytes), faultIndex: fault };
}

/**
 * Decode `Code:` bytes. The bytes before the marker may begin mid-instruction: try each start
 * offset and keep the first whose decode lands exactly on the faulting byte without `(bad)`.
 */
export function decodeCode(bytes: Uint8Array, faultIndex: number, rip?: Location): CodeInfo {
  const fi = faultIndex < 0 ? 0 : faultIndex;
  let base: CodeInfo['base'] = 'code';
  let baseAddress = 0n;
  if (rip?.address !== undefined) {
    base = 'absolute';
    baseAddress = (rip.address - BigInt(fi)) & ((1n << 64n) - 1n);
  } else if (rip && rip.symbol && rip.offset >= fi) {
    base = 'symbol';
    baseAddress = BigInt(rip.offset - fi);
  }
  const info: CodeInfo = { bytes, faultIndex, startIndex: fi, base, baseAddress };
  if (!disassemblerReady()) {
    info.note = 'disassembler not initialised (await initDisassembler())';
    return info;
  }
  const after = disassemble(bytes.subarray(fi), baseAddress + BigInt(fi));
  let before: Insn[] = [];
  let fallback: { start: number; insns: Insn[] } | null = null;
  for (let s = 0; s < fi; s++) {
    const ins = disassemble(bytes.subarray(s, fi), baseAddress + BigInt(s));
    const end = ins.length ? Number(ins[ins.length - 1].address - baseAddress) + ins[ins.length - 1].size : s;
    if (end !== fi) continue;
    if (!ins.some((i) => i.bad)) {
      before = ins;
      info.startIndex = s;
      fallback = null;
      break;
    }
    if (!fallback) fallback = { start: s, insns: ins };
  }
  if (!before.length && fallback) {
    before = fallback.insns;
    info.startIndex = fallback.start;
  }
  info.insns = [...before, ...after];
  if (faultIndex >= 0) info.faulting = after[0];
  const label = (a: bigint): string => {
    if (base === 'absolute') return a.toString(16);
    if (base === 'symbol') return `${rip!.symbol}+0x${a.toString(16)}`;
    const d = Number(a) - fi;
    return d === 0 ? '0' : d > 0 ? `+0x${d.toString(16)}` : `-0x${(-d).toString(16)}`;
  };
  const rows = info.insns.map((i) => {
    const hexb = [...i.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const mark = faultIndex >= 0 && i === info.faulting ? '\t<-- trapping instruction' : '';
    return `${label(i.address).padStart(base === 'absolute' ? 16 : 6)}:\t${hexb.padEnd(21)}\t${i.text}${mark}`;
  });
  info.listing = rows.join('\n');
  return info;
}

// ---------------------------------------------------------------------------------------------
// Headlines

interface Headline {
  kind: OopsKind;
  headline: string;
  faultAddress?: bigint;
  bugAt?: { file: string; line: number };
  slub?: { cache: string; message: string; tainted?: string };
  kasan?: { bugType: string; location?: Location };
}

function matchHeadline(t: string): Headline | null {
  const s = t.trim();
  let m: RegExpExecArray | null;
  if ((m = /^BUG: (?:unable to handle kernel )?NULL pointer dereference at ([0-9a-f]+)/.exec(s)) ||
      (m = /^BUG: kernel NULL pointer dereference, address: ([0-9a-f]+)/.exec(s)))
    return { kind: 'null-deref', headline: s, faultAddress: big(m[1]) };
  if ((m = /^BUG: unable to handle (?:kernel paging request|page fault for address:?) (?:at )?([0-9a-f]+)/.exec(s)))
    return { kind: 'paging-request', headline: s, faultAddress: big(m[1]) };
  if (/^BUG: unable to handle kernel/.test(s)) return { kind: 'paging-request', headline: s };
  if ((m = /^BUG: KASAN: ([\w-]+)(?: in (.*))?/.exec(s))) {
    const loc = m[2] ? parseLocation(m[2]) : null;
    return { kind: 'kasan', headline: s, kasan: { bugType: m[1], location: loc ?? undefined } };
  }
  if (/^BUG: (soft lockup|workqueue lockup|spinlock lockup)/.test(s) || /^INFO: task .* blocked for more than/.test(s) ||
      /^INFO: rcu_\w+ (self-)?detected stall/.test(s) || /^rcu: INFO: rcu_\w+ (self-)?detected stall/.test(s) || /^(Watchdog detected hard LOCKUP|NMI watchdog: Watchdog detected hard LOCKUP)/.test(s))
    return { kind: 'lockup', headline: s };
  if ((m = /^BUG (\S+) \(((?:Not t|T)ainted[^)]*)\): (.+)$/.exec(s)))
    return { kind: 'slub', headline: s, slub: { cache: m[1], message: m[3].trim(), tainted: m[2].replace(/^Tainted:\s*/, '').trim() } };
  if (/^BUG: /.test(s)) return { kind: 'bug-other', headline: s };
  if ((m = /^(?:------------\[ cut here \]------------\s*)?kernel BUG at ([^:]+):(\d+)!/.exec(s)))
    return { kind: 'bug', headline: s, bugAt: { file: m[1], line: Number(m[2]) } };
  const gp = s.replace(/^(Oops: )+/, '');
  if (/^general protection fault\b/.test(gp)) return { kind: 'general-protection', headline: s };
  if (/^WARNING: (CPU: \d+ PID: \d+ at |at )/.test(s)) {
    m = / at ([^:\s]+):(\d+)/.exec(s);
    return { kind: 'warning', headline: s, bugAt: m ? { file: m[1], line: Number(m[2]) } : undefined };
  }
  if (/^panic\[cpu\d+\]\/thread=[0-9a-f]+: /.test(s)) return { kind: 'non-linux', headline: s };
  return null;
}

// ---------------------------------------------------------------------------------------------
// The parser

type Section = 'header' | 'trace' | 'slub-alloc' | 'slub-free' | 'kasan-alloc' | 'kasan-free' | 'kasan-other' | 'stack' | 'epilogue';

interface State {
  r: OopsReport;
  section: Section;
  context: TraceContext;
  block: RegsBlock | null;
  unknownRun: number;
  ended: boolean; // ---[ end trace: later RIP/Code/register repeats are ignored
}

function newReport(h: Headline, no: number): OopsReport {
  const r: OopsReport = {
    headline: h.headline,
    kind: h.kind,
    registers: {},
    control: {},
    callTrace: [],
    regBlocks: [],
    modules: [],
    notes: [],
    lines: [no, no],
  };
  if (h.faultAddress !== undefined) r.faultAddress = h.faultAddress;
  if (h.bugAt) r.bugAt = h.bugAt;
  if (h.slub) {
    r.slub = { cache: h.slub.cache, message: h.slub.message, dump: [], fixes: [] };
    if (h.slub.tainted && !/^Not tainted/.test(h.slub.tainted)) r.tainted = h.slub.tainted;
  }
  if (h.kasan) r.kasan = { bugType: h.kasan.bugType, location: h.kasan.location };
  if (h.kind === 'non-linux') r.notes.push('not a Linux report (Solaris/illumos panic): not parsed');
  return r;
}

/** Parse every report in `text`; an empty list when nothing is recognised (a throw is a bug). */
export function parseOops(text: string): OopsReport[] {
  return parseAll(text);
}

/** parseOops with a verdict for the `oops` command. */
export function parseOopsResult(text: string): OopsParseResult {
  const reports = parseOops(text);
  if (!reports.length) return { found: false, reports, message: 'no kernel oops, panic, BUG, WARNING or slab report found in the text' };
  const linux = reports.filter((r) => r.kind !== 'non-linux');
  const msg = `${reports.length} report${reports.length > 1 ? 's' : ''} found` + (linux.length < reports.length ? ` (${reports.length - linux.length} not from Linux, not parsed)` : '');
  return { found: true, reports, message: msg };
}

function parseAll(text: string): OopsReport[] {
  const lines = logicalLines(text);
  const reports: OopsReport[] = [];
  let st: State | null = null;

  const close = () => {
    if (st) finishReport(st.r);
    st = null;
  };
  const open = (h: Headline, no: number): State => {
    close();
    const r = newReport(h, no);
    reports.push(r);
    st = { r, section: 'header', context: 'task', block: null, unknownRun: 0, ended: false };
    return st;
  };

  for (const line of lines) {
    const t = line.text.trim();
    if (!t) continue;

    // --- report boundaries
    let h = matchHeadline(t);
    if (!h) {
      // a Solaris/illumos panic (often run together on one line in a web page): say so, parse nothing
      const sol = /panic\[cpu\d+\]\/thread=[0-9a-f]+: (.+?)(?=\s*[0-9a-f]{16}\b|$)/.exec(t);
      if (sol && !(st as State | null)) h = { kind: 'non-linux', headline: sol[0].trim() };
    }
    if (h) {
      const cur = st as State | null;
      // `BUG: ... dereference` then `Oops: ...` is one report; a GP fault line can follow a BUG line
      if (cur && !cur.ended && h.kind === 'general-protection' && cur.r.kind !== 'general-protection' && !cur.r.callTrace.length && cur.r.kind !== 'slub') {
        cur.r.notes.push(t);
        parseOopsLine(cur.r, t);
        cur.r.lines[1] = line.no;
        continue;
      }
      const s = open(h, line.no);
      if (h.kind === 'general-protection') parseOopsLine(s.r, t);
      if (h.kind === 'warning') {
        const m = /^WARNING: CPU: (\d+) PID: (\d+) at \S+ (.*)$/.exec(t);
        if (m) {
          s.r.cpu = Number(m[1]);
          s.r.pid = Number(m[2]);
          const loc = parseLocation(m[3]);
          if (loc) s.r.rip = loc;
        }
      }
      continue;
    }
    let m: RegExpExecArray | null;
    if (/^(Oops: )+/.test(t) && /\[#\d+\]/.test(t)) {
      const cur = st as State | null;
      if (!cur || cur.ended || cur.r.oops || cur.r.callTrace.length || cur.r.kind === 'slub' || cur.r.kind === 'warning') {
        open({ kind: 'oops', headline: t }, line.no);
      }
      parseOopsLine(st!.r, t);
      st!.r.lines[1] = line.no;
      continue;
    }
    if ((m = /^Kernel panic - not syncing:\s*(.*)$/.exec(t))) {
      const cur = st as State | null;
      if (cur && cur.r.panic === undefined && cur.r.kind !== 'panic') {
        cur.r.panic = m[1];
        cur.r.lines[1] = line.no;
        cur.section = 'epilogue';
        cur.ended = true;
      } else {
        const s = open({ kind: 'panic', headline: t }, line.no);
        s.r.panic = m[1];
      }
      continue;
    }
    if (/^---\[ end Kernel panic/.test(t)) {
      if (st) (st as State).r.lines[1] = line.no;
      close();
      continue;
    }
    if (!st) continue;
    const s: State = st;
    if (s.r.kind === 'non-linux') {
      close();
      continue;
    }
    if (consumeLine(s, t)) {
      s.unknownRun = 0;
      s.r.lines[1] = line.no;
    } else if (++s.unknownRun >= 3) {
      // three lines in a row that no report has: the paste went on to something else
      close();
    }
  }
  close();
  return reports;
}

function parseOopsLine(r: OopsReport, t: string): void {
  const m = /:\s*([0-9a-f]{4}) \[#(\d+)\]\s*(.*)$/.exec(t);
  if (m) r.oops = { errorCode: parseInt(m[1], 16), count: Number(m[2]), flags: m[3].split(/\s+/).filter(Boolean) };
  const g = /non-canonical address (0x[0-9a-f]+)/.exec(t);
  if (g && r.faultAddress === undefined) r.faultAddress = big(g[1]);
}

function pushTrace(s: State, loc: Location, reliable: boolean, raw: string): void {
  s.r.callTrace.push({ ...loc, reliable, context: s.context, raw });
}

const CONTEXT_MARK: Record<string, TraceContext> = { IRQ: 'irq', SOFTIRQ: 'softirq', NMI: 'nmi', TASK: 'task', EOI: 'task' };

/** One line inside a report. True when it was recognised (even if only kept as a note). */
function consumeLine(s: State, t: string): boolean {
  const r = s.r;
  let m: RegExpExecArray | null;

  // --- stack context markers: <IRQ> </IRQ> <TASK> </TASK> <NMI> <EOI> <#DF>
  let rest = t;
  let marked = false;
  while ((m = /^<\/?(IRQ|SOFTIRQ|NMI|TASK|EOI|#[A-Z]{2}|[A-Z]{2,3}_?[A-Z]*)>\s*/.exec(rest))) {
    const closing = rest[1] === '/';
    const name = m[1];
    if (closing) s.context = 'task';
    else s.context = CONTEXT_MARK[name] ?? 'exception';
    rest = rest.slice(m[0].length);
    marked = true;
    if (s.section === 'header' || s.section === 'epilogue') s.section = 'trace';
  }
  if (marked && !rest) return true;
  t = rest;

  if (/^---\[ end trace/.test(t)) {
    r.notes.push(t);
    s.ended = true;
    s.section = 'epilogue';
    return true;
  }
  if (s.ended && /^(RIP|Code|RSP|R[A-Z0-9]{2}|FS|CS|CR2|PKRU|DR\d)\b/.test(t)) return true; // the repeat printed after end trace

  // --- who and where
  if ((m = /^CPU: (\d+) (?:UID: (\d+) )?PID: (\d+) Comm: (.+?) (Not tainted|Tainted: ([A-Z][A-Z ]*?))\s+(\d\S*)/.exec(t))) {
    if (r.cpu === undefined || r.kind === 'slub' || r.kind === 'kasan' || r.pid === undefined) {
      r.cpu = Number(m[1]);
      if (m[2] !== undefined) r.uid = Number(m[2]);
      r.pid = Number(m[3]);
      r.comm = m[4];
      if (m[6]) r.tainted = m[6].trim();
      r.release = m[7];
    }
    return true;
  }
  if ((m = /^Pid: (\d+), comm: (\S+)\s+(Not tainted|Tainted: ([A-Z][A-Z ]*?))\s+(\d\S*)/.exec(t))) {
    r.pid = Number(m[1]);
    r.comm = m[2];
    if (m[4]) r.tainted = m[4].trim();
    r.release = m[5];
    return true;
  }
  if ((m = /^Process (\S+) \(pid: (\d+),/.exec(t))) {
    r.comm ??= m[1];
    r.pid ??= Number(m[2]);
    return true;
  }
  if ((m = /^Hardware name: (.+)$/.exec(t))) {
    r.hardware ??= m[1].trim();
    return true;
  }
  if ((m = /^Modules linked in:\s*(.*)$/.exec(t))) {
    let list = m[1];
    const lu = /\[last unloaded: ([^\]]+)\]/.exec(list);
    if (lu) {
      r.lastUnloaded = lu[1].trim();
      list = list.replace(lu[0], '');
    }
    if (!r.modules.length) r.modules = list.split(/\s+/).filter(Boolean).map((x) => x.replace(/\(.*\)$/, ''));
    return true;
  }

  // --- RIP: new `0010:sym+0x1/0x2 [mod]`, user `0033:0x47fbe9`, old `0010:[<addr>]  [<addr>] sym+...`
  if ((m = /^RIP: ([0-9a-f]{4}):(.*)$/.exec(t))) {
    const cs = parseInt(m[1], 16);
    const body = m[2].trim();
    let rip: Location | undefined;
    const old = /^\[<([0-9a-f]+)>\]/.exec(body);
    const loc = parseLocation(body);
    if (loc) rip = loc;
    if (old) (rip ??= { symbol: '', offset: 0, length: 0 }).address = big(old[1]);
    const u = /^(0x[0-9a-f]+)$/.exec(body);
    if (u) rip = { symbol: '', offset: 0, length: 0, address: big(u[1]) };
    const block: RegsBlock = { rip, cs, user: (cs & 3) === 3, registers: {}, context: s.context };
    if (rip?.address !== undefined) block.registers.RIP = rip.address;
    const firstKernel = !block.user && !r.regBlocks.some((b) => !b.user);
    r.regBlocks.push(block);
    s.block = block;
    // the first kernel-mode register dump is the fault's (it overrides an earlier `IP:` line)
    if (firstKernel && rip) {
      r.rip = rip;
      r.cs = cs;
    }
    if (s.section !== 'header') s.section = 'trace';
    return true;
  }
  // end-of-oops summaries: `RIP  [<addr>] sym+0x/0x` + ` RSP <addr>`, `RIP: sym+0x/0x RSP: addr`
  if ((m = /^RIP\s+\[<([0-9a-f]+)>\]\s+(.*)$/.exec(t)) || (m = /^RIP: ()([\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+.*)$/.exec(t))) {
    const loc = parseLocation(m[2]);
    if (loc && m[1]) loc.address = big(m[1]);
    if (loc && !r.rip) r.rip = loc;
    else if (loc && r.rip && r.rip.address === undefined && loc.address !== undefined && loc.symbol === r.rip.symbol) r.rip.address = loc.address;
    const sp = /RSP: ([0-9a-f]+)/.exec(t);
    if (sp && r.registers.RSP === undefined) r.registers.RSP = big(sp[1]);
    return true;
  }
  if (/^RSP <[0-9a-f]+>$/.test(t)) return true;
  if ((m = /^IP: (?:\[<([0-9a-f]+)>\]\s+)?(.*)$/.exec(t))) {
    // 4.x prints `IP: sym+0x/0x` (and older `IP: [<addr>] sym+0x/0x`) right after the BUG line
    const loc = parseLocation(m[2]);
    if (loc) {
      if (m[1]) loc.address = big(m[1]);
      r.rip ??= loc;
    }
    return true;
  }

  if ((m = /^Code: (.*)$/.exec(t))) {
    const block = s.block;
    const body = m[1].trim();
    const parsed = parseCodeBytes(body);
    if (!parsed) {
      if (block) block.codeNote = body;
      else r.notes.push(t);
      return true;
    }
    // after the trace (old kernels print Code: last) it belongs to the fault's register dump
    const target = block ?? r.regBlocks.find((b) => !b.user && !b.code) ?? null;
    const code = decodeCode(parsed.bytes, parsed.faultIndex, target?.rip ?? r.rip);
    if (target) target.code = code;
    if (!r.code && (!target || !target.user)) r.code = code;
    return true;
  }

  const regs = parseRegisterLine(t);
  if (regs && !Object.keys(regs.gpr).length) {
    Object.assign(r.control, regs.control);
    return true;
  }
  if (regs) {
    let block = s.block;
    if (!block) {
      // registers before any RIP line (old kernels print RIP first; crash-style pastes may not)
      block = { user: false, registers: {}, context: s.context };
      r.regBlocks.push(block);
      s.block = block;
    }
    Object.assign(block.registers, regs.gpr);
    if (regs.ss !== undefined && !block.user && r.ss === undefined) r.ss = regs.ss;
    if (block === r.regBlocks.find((b) => !b.user)) {
      Object.assign(r.registers, regs.gpr);
      Object.assign(r.control, regs.control);
      if (regs.gpr.EFLAGS !== undefined) r.eflags = regs.gpr.EFLAGS;
    } else if (Object.keys(regs.control).length && !block.user) Object.assign(r.control, regs.control);
    return true;
  }

  if (/^Call Trace:/.test(t)) {
    s.section = 'trace';
    s.block = null;
    const after = t.slice('Call Trace:'.length).trim();
    if (after) consumeLine(s, after);
    return true;
  }
  if (/^Stack:/.test(t) || /^(?:[0-9a-f]{16}\s*){1,4}$/.test(t)) return true; // old raw stack words

  // --- slub_debug
  if (r.slub && consumeSlub(s, t)) return true;
  // --- KASAN
  if (r.kasan && consumeKasan(s, t)) return true;

  // --- trace entries
  if ((m = /^\[<([0-9a-f]+)>\]\s+(\?\s+)?(.*)$/.exec(t))) {
    const loc = parseLocation(m[3]) ?? { symbol: '', offset: 0, length: 0 };
    loc.address = big(m[1]);
    pushTraceOrStack(s, loc, !m[2], t);
    return true;
  }
  if ((m = /^(\?\s+)?([\w.$@]+\+0x[0-9a-f]+\/0x[0-9a-f]+.*)$/.exec(t))) {
    const loc = parseLocation(m[2]);
    if (loc) {
      pushTraceOrStack(s, loc, !m[1], t);
      return true;
    }
  }
  if ((m = /^(\?\s+)?0x([0-9a-f]+)$/.exec(t))) {
    pushTraceOrStack(s, { symbol: '', offset: 0, length: 0, address: big(m[2]) }, !m[1], t);
    return true;
  }

  // --- lines kept as notes
  if (/^(last sysfs file:|CPU \d+\s*$)/.test(t)) return true;
  if (/^(#PF: |PGD |PUD |P4D |PMD |PTE |Kernel Offset: |sysrq: |SMP |task: |Thread overran|Disabling lock debugging|\[ cut here \]|------------\[ cut here|invalid opcode:|Dumping ftrace|Faulting instruction|note: |---\[ )/.test(t)) {
    r.notes.push(t);
    return true;
  }
  if (/^(CR2|ORIG_RAX|FS|GS|CS|DR\d): /.test(t)) return true;
  return false;
}

function pushTraceOrStack(s: State, loc: Location, reliable: boolean, raw: string): void {
  const slub = s.r.slub;
  const kasan = s.r.kasan;
  if (slub && s.section === 'slub-alloc' && slub.allocated) slub.allocated.stack.push(loc);
  else if (slub && s.section === 'slub-free' && slub.freed) slub.freed.stack.push(loc);
  else if (kasan && s.section === 'kasan-alloc' && kasan.allocated) kasan.allocated.stack.push(loc);
  else if (kasan && s.section === 'kasan-free' && kasan.freed) kasan.freed.stack.push(loc);
  else if (s.section === 'kasan-other') {
    /* aux stacks (workqueue creation, call_rcu): not kept */
  } else {
    if (s.section === 'header') s.section = 'trace';
    pushTrace(s, loc, reliable, raw);
  }
}

function consumeSlub(s: State, t: string): boolean {
  const sl = s.r.slub!;
  let m: RegExpExecArray | null;
  const u = t.replace(/^INFO:\s*/, '');
  if (/^[-=]{20,}$/.test(t)) return true;
  if ((m = /^0x([0-9a-f]+)-0x([0-9a-f]+)(?: @offset=(\d+))?\. First byte 0x([0-9a-f]+) instead of 0x([0-9a-f]+)/.exec(u))) {
    sl.firstByte = { start: big(m[1]), end: big(m[2]), value: parseInt(m[4], 16), expected: parseInt(m[5], 16) };
    if (m[3] !== undefined) sl.firstByte.slabOffset = Number(m[3]);
    return true;
  }
  if ((m = /^(Allocated|Freed) in (\S+(?: \[[\w-]+\])?)(.*)$/.exec(u))) {
    const loc = parseLocation(m[2]) ?? { symbol: m[2].trim(), offset: 0, length: 0 };
    const track: SlubTrack = { location: loc, stack: [] };
    const num = (k: string) => {
      const x = new RegExp(`\\b${k}=(\\d+)`).exec(m![3]);
      return x ? Number(x[1]) : undefined;
    };
    if (num('age') !== undefined) track.age = num('age');
    if (num('cpu') !== undefined) track.cpu = num('cpu');
    if (num('pid') !== undefined) track.pid = num('pid');
    if (m[1] === 'Allocated') {
      sl.allocated = track;
      s.section = 'slub-alloc';
    } else {
      sl.freed = track;
      s.section = 'slub-free';
    }
    return true;
  }
  if ((m = /^Slab 0x([0-9a-f]+) objects=(\d+) used=(\d+) fp=(0x\s*\(null\)|0x[0-9a-f]+|\(null\))(?: flags=(\S+))?/.exec(u))) {
    sl.slab = { address: big(m[1]), objects: Number(m[2]), used: Number(m[3]), fp: /null/.test(m[4]) ? null : big(m[4]) };
    if (m[5]) sl.slab.flags = m[5];
    s.section = 'header';
    return true;
  }
  if ((m = /^Object 0x([0-9a-f]+) @offset=(\d+)(?: fp=(0x[0-9a-f]+|0x\s*\(null\)|\(null\)))?/.exec(u))) {
    sl.object = { address: big(m[1]), slabOffset: Number(m[2]) };
    if (m[3]) sl.object.fp = /null/.test(m[3]) ? null : big(m[3]);
    s.section = 'header';
    return true;
  }
  if ((m = /^(Redzone|Object|Padding|Bytes b4|Track|Freed)\s+([0-9a-f]{8,16}): ((?:[0-9a-f]{2} ?)+)/.exec(t))) {
    const bytes = new Uint8Array(m[3].trim().split(/\s+/).map((x) => parseInt(x, 16)));
    sl.dump.push({ region: m[1], address: big(m[2]), bytes });
    s.section = 'header';
    return true;
  }
  if ((m = /^FIX \S+: (.*)$/.exec(t))) {
    sl.fixes.push(m[1]);
    s.section = 'epilogue';
    return true;
  }
  if (/^(Slab|Object|Redzone|Padding) /.test(u) || /^(Freepointer|Objects remaining|Left Redzone|Wrong object count)/.test(u)) {
    s.r.notes.push(t);
    return true;
  }
  return false;
}

function consumeKasan(s: State, t: string): boolean {
  const k = s.r.kasan!;
  let m: RegExpExecArray | null;
  if (/^={20,}$/.test(t)) {
    if (s.r.callTrace.length || k.access) s.section = 'epilogue';
    return true;
  }
  if ((m = /^(Read|Write) of size (\d+) at addr ([0-9a-f]+) by task (.+?)\/(\d+)/.exec(t))) {
    k.access = { kind: m[1] === 'Read' ? 'read' : 'write', size: Number(m[2]), address: big(m[3]), task: m[4], pid: Number(m[5]) };
    s.r.faultAddress ??= k.access.address;
    s.r.comm ??= m[4];
    s.r.pid ??= Number(m[5]);
    return true;
  }
  if ((m = /^(Allocated|Freed) by task (\d+)(?: on cpu \d+)?(?: at [\d.]+s)?:/.exec(t))) {
    if (m[1] === 'Allocated') {
      k.allocated = { pid: Number(m[2]), stack: [] };
      s.section = 'kasan-alloc';
    } else {
      k.freed = { pid: Number(m[2]), stack: [] };
      s.section = 'kasan-free';
    }
    return true;
  }
  if (/^(Last potentially related work creation|Second to last potentially related work creation|Last call_rcu\(\)|Second to last call_rcu\(\)):/.test(t)) {
    s.section = 'kasan-other';
    return true;
  }
  if ((m = /^The buggy address belongs to the object at ([0-9a-f]+)/.exec(t))) {
    k.object = { ...(k.object ?? {}), address: big(m[1]) };
    s.section = 'epilogue';
    return true;
  }
  if ((m = /^which belongs to the cache (\S+) of size (\d+)/.exec(t))) {
    if (k.object) {
      k.object.cache = m[1];
      k.object.size = Number(m[2]);
    }
    return true;
  }
  if ((m = /^The buggy address is located (\d+) bytes (inside|to the right|to the left) of/.exec(t))) {
    if (k.object) {
      k.object.offset = m[2] === 'inside' ? Number(m[1]) : m[2] === 'to the right' ? (k.object.size ?? 0) + Number(m[1]) : -Number(m[1]);
    }
    return true;
  }
  if ((m = /^(allocated|freed) (\d+)-byte region \[/.exec(t))) {
    if (k.object) k.object.region = m[1];
    return true;
  }
  if (/^(The buggy address belongs to the (physical page|variable)|page:|flags:|raw: |page dumped because|head:|anon flags|Memory state around the buggy address|[>\s]?[0-9a-f]{16}: ([0-9a-f]{2}|fc|fb|fa| |\^)+)/.test(t) || /^\s*\^\s*$/.test(t)) {
    s.section = 'epilogue';
    return true;
  }
  return false;
}

function finishReport(r: OopsReport): void {
  const slub = r.slub;
  if (slub?.firstByte && slub.object) {
    const d = slub.firstByte.start - slub.object.address;
    if (d >= 0n && d < 1n << 24n) slub.badObjectOffset = Number(d);
  }
  // rip without an address: the fault's RIP register, if the dump gave one
  if (r.rip && r.rip.address === undefined && r.registers.RIP !== undefined) r.rip.address = r.registers.RIP;
}
