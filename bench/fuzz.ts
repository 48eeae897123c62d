/**
 * Format-aware fuzzing of the engine on the real dumps (issue 10): seeded, reproducible.
 *
 *   npx tsx bench/fuzz.ts [--cases N] [--seed S] [--dumps a,b] [--jobs J] [--group G] [--out FILE]
 *
 * Each case is a mutated copy of one of ../shared/dumps (header fields, bitmaps, page
 * descriptors, compressed payloads, notes, VMCOREINFO values, truncation, ELF program headers,
 * flattened record headers, kernel data) or a hostile path or command, run through the CLI's
 * own main() (bundled with esbuild) in a child process with a time limit and a V8 heap limit.
 * Children run a group of cases each (starting Node costs more than most cases); a group that
 * hangs or dies is re-run one case per child to name the case. Every case is classified:
 *
 *   hang          the child had to be killed (time limit)
 *   crash         exit by signal, V8 abort ("FATAL ERROR", out of memory) or a code other than 0/1
 *   stack-trace   "    at f (file:line:col)" in any output
 *   js-message    a message that looks like JavaScript, not like the tool (TypeError, "Cannot
 *                 read properties", "bad number NaN", "to a BigInt", "internal error", ...)
 *   memory        peak resident memory above 1 GiB
 *   silent        a command answered (ok) differently from the unmutated dump with no problem in
 *                 its JSON, for a mutation the format can detect (checksum, bitmap/descriptor
 *                 consistency, truncation, headers)
 *   silent-undetectable  the same, for damage the format cannot see (LZO/zstd/snappy payloads,
 *                 raw ELF page bytes, kernel data): counted, not a failure
 *   ok            anything else: unchanged, refused with a one-line error, or flagged
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync, readSync, mkdtempSync, symlinkSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sharedDump, SHARED_DUMPS } from '../workers/testing/dumps';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..');

export const CLASSES = ['hang', 'crash', 'stack-trace', 'js-message', 'memory', 'silent', 'silent-undetectable', 'ok'] as const;
export type Outcome = (typeof CLASSES)[number];

export const FUZZ_DUMPS = [
  '6.1-skb-uaf-0x106', // kdump zlib
  '6.1-bh-scribble', // kdump lzo
  '6.12-skb-uaf-kaslr', // kdump zstd
  '6.1-sysrq-256M-flattened', // flattened kdump zlib
  '6.1-sysrq-kaslr', // ELF
  '5.10-sysrq-lzo', // kdump lzo, 5.10
  '7.2-sysrq-kaslr', // ELF, 7.2
  'kdump-raw', // kdump with uncompressed pages, made by makedumpfile when it is installed (rawKdump)
];

// ------------------------------------------------------------------------------------ PRNG

/** mulberry32: small, seeded, the same numbers on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const int = (r: () => number, n: number) => Math.floor(r() * n);

// ------------------------------------------------------------------------------------ dump layouts

interface Patch {
  at: number;
  bytes: Uint8Array;
}

/** A mutation: byte patches and/or a truncation of a copy of `file`. */
export interface Mutation {
  kind: string;
  detail: string;
  /** whether the format can detect this damage (a silent change is then a failure) */
  detectable: boolean;
  patches: Patch[];
  truncateTo?: number;
}

interface DumpInfo {
  name: string;
  file: string;
  size: number;
  format: 'elf' | 'kdump' | 'flat';
  compression: string;
  /** a slab object address and a symbol for the per-case commands */
  addr: string;
  /** kdump layout */
  kd?: { blockSize: number; bitmap1: number; bitmap2: number; bitmapBytes: number; desc: number; nDesc: number; sub: number };
  /** ELF program headers */
  elf?: { phoff: number; phnum: number; loads: number[]; notes: Array<{ off: number; size: number }>; dataStart: number };
  /** file offset of the VMCOREINFO text (first "OSRELEASE=") */
  vmcoreinfoAt: number;
  /** flattened record header offsets */
  flatRecords?: number[];
  /** physical addresses of task_structs (for kernel-data mutations) */
  taskPhys: number[];
  pageOffset: bigint;
}

function readAt(fd: number, at: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  readSync(fd, b, 0, n, at);
  return b;
}

function findBytes(fd: number, size: number, needle: string, from = 0, to = size): number {
  const nb = Buffer.from(needle, 'latin1');
  const chunk = 1 << 20;
  for (let at = from; at < to; at += chunk - nb.length) {
    const b = readAt(fd, at, Math.min(chunk, size - at));
    const i = b.indexOf(nb);
    if (i >= 0) return at + i;
    if (at + chunk >= to) break;
  }
  return -1;
}

/**
 * An uncompressed kdump file: makedumpfile (Debian package) rewrites the zlib kdump of
 * 6.1-skb-uaf-0x106 with no compression option; null when makedumpfile is not installed. Made
 * once into the test cache directory. (Debian's makedumpfile 1.7.2 is built with snappy and zstd
 * disabled, so no kdump-snappy dump can be made here; -p silently writes pages uncompressed.)
 */
export function rawKdump(): string | null {
  const out = join(tmpdir(), 'vmcore-workbench-cache', 'raw_from_6.1-skb-uaf-0x106.kdump');
  if (existsSync(out)) return out;
  const src = sharedDump('6.1-skb-uaf-0x106');
  if (!src) return null;
  try {
    execFileSync('sh', ['-c', 'command -v makedumpfile'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  try {
    mkdirSync(dirname(out), { recursive: true });
    rmSync(out + '.tmp', { force: true });
    execFileSync('makedumpfile', ['-d', '31', src.file, out + '.tmp'], { stdio: 'ignore', timeout: 600_000 });
    execFileSync('mv', [out + '.tmp', out]);
    return out;
  } catch {
    return null;
  }
}

/** Where things are in a dump: enough to aim mutations, from its headers (no engine needed). */
export async function dumpInfo(name: string): Promise<DumpInfo | null> {
  let file: string | null;
  if (name === 'kdump-raw') file = rawKdump();
  else file = sharedDump(name)?.file ?? null;
  if (!file) return null;
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const head = readAt(fd, 0, 4096);
    const sig = head.subarray(0, 16).toString('latin1');
    const vmcoreinfoAt = findBytes(fd, size, 'OSRELEASE=', 0, Math.min(size, 64 << 20));
    const info: DumpInfo = {
      name,
      file,
      size,
      format: sig.startsWith('KDUMP') ? 'kdump' : sig.startsWith('makedumpfile') ? 'flat' : 'elf',
      compression: 'none',
      addr: '',
      vmcoreinfoAt,
      taskPhys: [],
      pageOffset: 0n,
    };
    if (info.format === 'kdump') {
      const blockSize = head.readInt32LE(428);
      const subHdr = head.readInt32LE(432);
      const bitmapBlocks = head.readUInt32LE(436);
      let maxMapnr = head.readUInt32LE(440);
      const sub = readAt(fd, blockSize, 104);
      const m64 = Number(sub.readBigUInt64LE(96));
      if (m64) maxMapnr = m64;
      const bitmap1 = blockSize * (1 + subHdr);
      const half = (bitmapBlocks * blockSize) / 2;
      const desc = bitmap1 + bitmapBlocks * blockSize;
      const bm2 = readAt(fd, bitmap1 + half, Math.ceil(maxMapnr / 8));
      let n = 0;
      for (const x of bm2) for (let v = x; v; v &= v - 1) n++;
      info.kd = { blockSize, bitmap1, bitmap2: bitmap1 + half, bitmapBytes: Math.ceil(maxMapnr / 8), desc, nDesc: n, sub: blockSize };
      let flags = 0;
      for (let i = 0; i < 64 && !(flags & 0x27); i++) flags |= readAt(fd, desc + 24 * i + 12, 4).readUInt32LE(0);
      info.compression = flags & 1 ? 'zlib' : flags & 2 ? 'lzo' : flags & 4 ? 'snappy' : flags & 0x20 ? 'zstd' : 'none';
    } else if (info.format === 'flat') {
      const recs: number[] = [];
      let at = 4096;
      for (let i = 0; i < 200_000 && at + 16 <= size; i++) {
        const h = readAt(fd, at, 16);
        const off = h.readBigInt64BE(0);
        const len = Number(h.readBigInt64BE(8));
        if (off < 0n || len < 0 || len > size) break;
        recs.push(at);
        at += 16 + len;
      }
      info.flatRecords = recs;
      info.compression = 'zlib';
    } else {
      const phoff = Number(head.readBigUInt64LE(32));
      const phnum = head.readUInt16LE(56);
      const ph = readAt(fd, phoff, phnum * 56);
      const loads: number[] = [];
      let dataStart = size;
      const notes: Array<{ off: number; size: number }> = [];
      for (let i = 0; i < phnum; i++) {
        const t = ph.readUInt32LE(i * 56);
        if (t === 1) {
          loads.push(phoff + i * 56);
          dataStart = Math.min(dataStart, Number(ph.readBigUInt64LE(i * 56 + 8)));
        }
        if (t === 4) notes.push({ off: Number(ph.readBigUInt64LE(i * 56 + 8)), size: Number(ph.readBigUInt64LE(i * 56 + 32)) });
      }
      info.elf = { phoff, phnum, loads, notes, dataStart };
    }
    return info;
  } finally {
    closeSync(fd);
  }
}

function le32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
function le64(v: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
}
function be64(v: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, v));
  return b;
}

const EXTREME32 = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 4096, 65536, 3];
const EXTREME64 = [0n, 1n, 2n ** 48n, 2n ** 63n - 1n, 2n ** 64n - 1n, 2n ** 40n, 4096n, 2n ** 32n];
const GARBAGE_VALUES = ['\xff\xfe', 'NaN', '-', '0x', '99999999999999999999999', '1e9', 'zz', '', '-0x8000000000000000', '0xffffffffffffffffff'];

/** One seeded mutation for this dump. */
export function mutate(d: DumpInfo, r: () => number): Mutation {
  const fd = openSync(d.file, 'r');
  try {
    const kinds: string[] = ['truncate', 'vmcoreinfo-value', 'note-header', 'random-header-bytes'];
    if (d.kd) kinds.push('kdump-header', 'kdump-subheader', 'bitmap2-flip', 'bitmap2-flip', 'bitmap2-flip', 'bitmap1-flip', 'descriptor', 'descriptor', 'payload', 'payload');
    if (d.elf) kinds.push('elf-phnum', 'elf-phdr', 'elf-phdr', 'elf-phdr', 'kernel-data', 'kernel-data', 'page-bytes');
    if (d.flatRecords) kinds.push('flat-record', 'flat-record', 'flat-payload', 'flat-payload');
    const kind = pick(r, kinds);
    const m: Mutation = { kind, detail: '', detectable: true, patches: [] };
    const patch = (at: number, bytes: Uint8Array) => m.patches.push({ at, bytes });
    switch (kind) {
      case 'truncate': {
        // mostly in the data area, sometimes in the headers
        const at = r() < 0.8 ? Math.floor(d.size * (0.3 + 0.7 * r())) : int(r, Math.min(d.size, 1 << 20));
        m.truncateTo = at;
        m.detail = `cut at ${at} of ${d.size}`;
        break;
      }
      case 'vmcoreinfo-value': {
        if (d.vmcoreinfoAt < 0) return mutate(d, r);
        const text = readAt(fd, d.vmcoreinfoAt, 4096).toString('latin1');
        const lines: Array<{ at: number; key: string; vlen: number }> = [];
        let pos = 0;
        for (const line of text.split('\n')) {
          const i = line.indexOf('=');
          if (i > 0 && pos + line.length < 4000) lines.push({ at: d.vmcoreinfoAt + pos + i + 1, key: line.slice(0, i), vlen: line.length - i - 1 });
          pos += line.length + 1;
        }
        const l = pick(r, lines);
        const g = Buffer.from(pick(r, GARBAGE_VALUES).padEnd(l.vlen, ' ').slice(0, l.vlen), 'latin1');
        patch(l.at, g);
        m.detail = `${l.key}=${JSON.stringify(g.toString('latin1'))}`;
        // detectable only when the value is no longer well formed: a number cut to another valid
        // number ("0x" -> "0"), or text keys (OSRELEASE, BUILD-ID), read as a plausible value
        const numeric = /^(SYMBOL|NUMBER|SIZE|OFFSET|LENGTH)\(|^(PAGESIZE|KERNELOFFSET)$/.test(l.key);
        m.detectable = numeric && !/^-?(0x)?[0-9a-f]+$/i.test(g.toString('latin1').trim());
        break;
      }
      case 'note-header': {
        // the namesz/descsz of the first note header (before VMCOREINFO)
        let at: number;
        if (d.elf) at = d.elf.notes[0]?.off ?? 0;
        else if (d.kd) {
          const sub = readAt(fd, d.kd.sub, 64);
          at = Number(sub.readBigUInt64LE(48));
        } else return mutate(d, r);
        const field = int(r, 2) * 4;
        const v = pick(r, [0xffffffff, 0x10000, 4097, 0x7fffffff, int(r, 1 << 20)]);
        patch(at + field, le32(v));
        m.detail = `first note ${field ? 'descsz' : 'namesz'} = ${v}`;
        break;
      }
      case 'random-header-bytes': {
        const n = 1 + int(r, 8);
        // headers only: below the page descriptors (kdump), the first page data (ELF)
        const lim = Math.min(d.size, d.kd ? d.kd.desc : d.elf ? d.elf.dataStart : 4096);
        for (let i = 0; i < n; i++) patch(int(r, lim), Uint8Array.of(int(r, 256)));
        m.detail = `${n} random bytes below offset ${lim}: ${m.patches.map((p) => `${p.at}=0x${p.bytes[0].toString(16)}`).join(' ')}`;
        break;
      }
      case 'kdump-header': {
        const fields: Array<[string, number]> = [['header_version', 8], ['status', 424], ['block_size', 428], ['sub_hdr_size', 432], ['bitmap_blocks', 436], ['max_mapnr', 440], ['nr_cpus', 460]];
        const [f, off] = pick(r, fields);
        const v = r() < 0.5 ? pick(r, EXTREME32) : int(r, 2 ** 32);
        patch(off, le32(v));
        m.detail = `${f} = ${v}`;
        break;
      }
      case 'kdump-subheader': {
        const fields: Array<[string, number]> = [['phys_base', 0], ['offset_vmcoreinfo', 32], ['size_vmcoreinfo', 40], ['offset_note', 48], ['size_note', 56], ['max_mapnr_64', 96]];
        const [f, off] = pick(r, fields);
        const v = r() < 0.5 ? pick(r, EXTREME64) : BigInt(int(r, d.size * 2));
        patch(d.kd!.sub + off, le64(v));
        m.detail = `${f} = ${v}`;
        break;
      }
      case 'bitmap2-flip':
      case 'bitmap1-flip': {
        const base = kind === 'bitmap2-flip' ? d.kd!.bitmap2 : d.kd!.bitmap1;
        const byte = int(r, d.kd!.bitmapBytes);
        const bit = int(r, 8);
        const old = readAt(fd, base + byte, 1)[0];
        patch(base + byte, Uint8Array.of(old ^ (1 << bit)));
        m.detail = `pfn 0x${(byte * 8 + bit).toString(16)} ${(old >> bit) & 1 ? 'cleared' : 'set'}`;
        // a flipped bit of the 1st bitmap only moves a page between "hole" and "excluded"
        m.detectable = kind === 'bitmap2-flip';
        break;
      }
      case 'descriptor': {
        const i = int(r, d.kd!.nDesc);
        const at = d.kd!.desc + i * 24;
        const field = pick(r, ['offset', 'size', 'flags']);
        if (field === 'offset') patch(at, le64(r() < 0.5 ? pick(r, EXTREME64) : BigInt(int(r, d.size * 2))));
        else if (field === 'size') patch(at + 8, le32(r() < 0.5 ? pick(r, EXTREME32) : int(r, 8192)));
        else patch(at + 12, le32(pick(r, [0, 1, 2, 4, 0x20, 0xff, 0x80000000])));
        m.detail = `page_desc ${i} ${field}`;
        break;
      }
      case 'payload': {
        const i = int(r, d.kd!.nDesc);
        const desc = readAt(fd, d.kd!.desc + i * 24, 24);
        const off = Number(desc.readBigInt64LE(0));
        const len = desc.readUInt32LE(8);
        const flags = desc.readUInt32LE(12);
        if (len < 2 || off + len > d.size) return mutate(d, r);
        const at = off + int(r, len);
        patch(at, Uint8Array.of(readAt(fd, at, 1)[0] ^ (1 + int(r, 255))));
        m.detail = `page_desc ${i} payload byte ${at - off}/${len} (flags 0x${flags.toString(16)})`;
        // zlib streams end with an adler32; LZO, snappy and makedumpfile's zstd frames carry no
        // checksum; an uncompressed page has none either
        m.detectable = (flags & 1) !== 0;
        break;
      }
      case 'flat-record': {
        const at = pick(r, d.flatRecords!.slice(0, Math.max(1, d.flatRecords!.length)));
        const field = int(r, 2) * 8;
        const v = r() < 0.5 ? pick(r, EXTREME64) : BigInt(int(r, d.size * 4));
        patch(at + field, be64(v));
        m.detail = `record at ${at}: ${field ? 'size' : 'offset'} = ${v}`;
        break;
      }
      case 'flat-payload': {
        const at = 4096 + int(r, d.size - 4096);
        patch(at, Uint8Array.of(readAt(fd, at, 1)[0] ^ 0xff));
        m.detail = `byte ${at}`;
        m.detectable = false; // may hit a record header, a page descriptor or a zlib stream; judged by hand
        break;
      }
      case 'elf-phnum': {
        const v = pick(r, [0, 1, 65534, 0xffff, d.elf!.phnum + 1, 2, 1000]);
        patch(56, Uint8Array.of(v & 0xff, v >> 8));
        m.detail = `e_phnum = ${v}`;
        break;
      }
      case 'elf-phdr': {
        const at = pick(r, d.elf!.loads);
        const fields: Array<[string, number]> = [['p_offset', 8], ['p_paddr', 24], ['p_filesz', 32], ['p_memsz', 40]];
        const [f, off] = pick(r, fields);
        const v = r() < 0.6 ? pick(r, EXTREME64) : BigInt(int(r, d.size * 2));
        patch(at + off, le64(v));
        m.detail = `PT_LOAD at ${at}: ${f} = 0x${v.toString(16)}`;
        break;
      }
      case 'kernel-data':
      case 'page-bytes': {
        // kernel-data: a task_struct's first bytes (pointers the walks follow); page-bytes:
        // anywhere. Raw ELF pages carry no checksum: nothing at the format layer can see this.
        const loads = d.elf!.loads.map((a) => {
          const h = readAt(fd, a, 56);
          return { off: Number(h.readBigUInt64LE(8)), paddr: Number(h.readBigUInt64LE(24)), size: Number(h.readBigUInt64LE(32)) };
        });
        let at = -1;
        if (kind === 'kernel-data' && d.taskPhys.length) {
          const pa = pick(r, d.taskPhys) + int(r, 3000);
          const l = loads.find((x) => pa >= x.paddr && pa < x.paddr + x.size);
          if (l) at = l.off + (pa - l.paddr);
        }
        if (at < 0) {
          const l = pick(r, loads);
          at = l.off + int(r, l.size);
        }
        const n = 1 + int(r, 16);
        const bytes = new Uint8Array(n);
        for (let i = 0; i < n; i++) bytes[i] = int(r, 256);
        patch(at, bytes);
        m.detail = `${n} bytes at file offset ${at}`;
        m.detectable = false;
        break;
      }
    }
    return m;
  } finally {
    closeSync(fd);
  }
}

/** Write the mutated copy. */
export function applyMutation(src: string, m: Mutation, out: string): void {
  copyFileSync(src, out);
  const fd = openSync(out, 'r+');
  try {
    for (const p of m.patches) writeSync(fd, p.bytes, 0, p.bytes.length, p.at);
  } finally {
    closeSync(fd);
  }
  if (m.truncateTo !== undefined) truncateSync(out, m.truncateTo);
}

// ------------------------------------------------------------------------------------ running

/** One bundle per harness process: two campaigns side by side never swap each other's code. */
export const CHILD_BUNDLE = join(ROOT, `node_modules/.cache/vmcore-fuzz/child-${process.pid}.mjs`);

/** Bundle the CLI's main() with esbuild (fast start, no TypeScript at run time). */
export function buildChild(): string {
  mkdirSync(dirname(CHILD_BUNDLE), { recursive: true });
  process.once('exit', () => rmSync(CHILD_BUNDLE, { force: true }));
  const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
  execFileSync(esbuild, [join(ROOT, 'bench/fuzz-child.ts'), '--bundle', '--platform=node', '--format=esm', '--target=node20', '--external:capstone-wasm', `--outfile=${CHILD_BUNDLE}`, '--log-level=error'], { cwd: ROOT });
  return CHILD_BUNDLE;
}

export interface CaseSpec {
  id: string;
  /** argv of main(): dump path, then a command or --batch FILE --json */
  argv: string[];
  dump: string;
  mutation?: Mutation;
  baseline?: Map<string, string>;
  /** time limit of this case run alone (ms) */
  timeoutMs: number;
}

export interface CaseResult {
  id: string;
  outcome: Outcome;
  why: string;
  ms: number;
  maxRssKb: number;
  exit: number | string;
  mutation?: string;
}

const JS_LOOKING = [
  /\b(TypeError|RangeError|SyntaxError|ReferenceError|EvalError|AggregateError)\b/,
  /Cannot (read|set) propert/,
  /is not a function/,
  /\bundefined\b/,
  /\bNaN\b/,
  /to a BigInt/,
  /Maximum call stack/,
  /Invalid array length/,
  /Array buffer allocation failed/,
  /\binternal error\b/,
  /\[object Object\]/,
  /bad number/,
  /Unexpected token/,
];
const STACK = /^\s+at .+(\(|:\d+:\d+)/m;
const GIB_KB = 1024 * 1024;

interface BatchLine {
  command: string;
  ok: boolean;
  result?: unknown;
  error?: string;
  problems?: string[];
}

/** Does a JSON result carry a problem mark anywhere (problems arrays, problem/warning fields)? */
function hasProblemMark(l: BatchLine): boolean {
  if (l.problems?.length) return true;
  const s = JSON.stringify(l.result ?? '');
  return /"problems?":\s*(\[\s*[^\]\s]|")/.test(s) || /"(task_problems|unknown|error)":/.test(s);
}

function classify(spec: CaseSpec, stdout: string, stderr: string, exit: number | string, ms: number, maxRss: number, killed: boolean): CaseResult {
  const res = (outcome: Outcome, why: string): CaseResult => ({ id: spec.id, outcome, why, ms, maxRssKb: maxRss, exit, mutation: spec.mutation ? `${spec.mutation.kind}: ${spec.mutation.detail}` : undefined });
  const all = stdout + '\n' + stderr;
  if (killed) return res('hang', `killed after ${ms} ms`);
  if (typeof exit === 'string' || (exit !== 0 && exit !== 1) || /FATAL ERROR|Allocation failed|JavaScript heap out of memory/.test(stderr)) {
    return res('crash', `exit ${exit}: ${stderr.split('\n').find((l) => l.trim()) ?? ''}`.slice(0, 300));
  }
  if (STACK.test(all)) return res('stack-trace', (all.match(STACK) ?? [''])[0].slice(0, 200));
  // messages: stderr lines and JSON errors/problems
  const messages: string[] = stderr.split('\n').filter((l) => l.trim() && !l.startsWith('@@fuzz'));
  const lines: BatchLine[] = [];
  for (const l of stdout.split('\n')) {
    if (!l.startsWith('{"command"')) continue;
    try {
      const b = JSON.parse(l) as BatchLine;
      lines.push(b);
      if (b.error) messages.push(b.error);
      for (const p of b.problems ?? []) messages.push(p);
    } catch {
      /* a text line */
    }
  }
  if (!spec.argv.includes('--json')) messages.push(...stdout.split('\n').filter((l) => /error|warning|cannot|invalid/i.test(l)).slice(0, 50));
  // what the user typed comes back in messages ("invalid address: NaN"): not the tool's words
  const typed = spec.argv.slice(1).join(' ').split(/\s+/).filter((w) => w.length > 1 && !w.startsWith('-') && !w.includes('/'));
  // a malformed VMCOREINFO value is quoted by the message that names its key ("NUMBER(x)=NaN is
  // not a number"): the injected value is input too
  const injected = spec.mutation?.kind === 'vmcoreinfo-value' ? /="(.*)"$/.exec(spec.mutation.detail)?.[1] : undefined;
  if (injected) typed.push(...JSON.parse(`"${injected}"`).trim().split(/\s+/).filter((w: string) => w.length > 1));
  for (const m0 of messages) {
    let m = m0;
    for (const w of typed) m = m.split(w).join('<input>');
    for (const re of JS_LOOKING) if (re.test(m)) return res('js-message', m0.slice(0, 300));
    if (m.includes('\n')) return res('js-message', `multi-line message: ${m.slice(0, 200)}`);
  }
  if (maxRss > GIB_KB) return res('memory', `peak ${Math.round(maxRss / 1024)} MiB`);
  if (spec.baseline) {
    const changed: string[] = [];
    for (const l of lines) {
      if (!l.ok) continue;
      const base = spec.baseline.get(l.command);
      if (base === undefined) continue;
      const now = JSON.stringify(l.result);
      if (now !== base && !hasProblemMark(l)) {
        let i = 0;
        while (i < now.length && now[i] === base[i]) i++;
        changed.push(`${l.command} [${base.slice(Math.max(0, i - 40), i + 40)} -> ${now.slice(Math.max(0, i - 40), i + 40)}]`);
      }
    }
    if (changed.length) {
      const det = spec.mutation?.detectable ?? true;
      return res(det ? 'silent' : 'silent-undetectable', `answer changed with no problem mark: ${changed.join('; ')}`.slice(0, 600));
    }
  }
  return res('ok', exit === 1 ? (messages[0] ?? '').slice(0, 200) : '');
}

/** Run a group of cases in one child; resolves with what it reported and which case it was on. */
function runChild(bundle: string, cases: CaseSpec[], timeoutMs: number): Promise<{ results: Map<string, { stdout: string; stderr: string; exit: number; ms: number; rss: number }>; killed: boolean; dead: boolean; stderr: string; signal?: string }> {
  return new Promise((resolvePromise) => {
    const jobFile = join(tmpdir(), `vmcore-fuzz-job-${process.pid}-${cases[0].id}.json`);
    writeFileSync(jobFile, JSON.stringify(cases.map((c) => ({ id: c.id, argv: c.argv }))));
    const child = spawn(process.execPath, ['--max-old-space-size=1024', '--expose-gc', bundle, '--fuzz-group', jobFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err.length < 1 << 20 ? (err += b) : undefined));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(jobFile, { force: true });
      const results = new Map<string, { stdout: string; stderr: string; exit: number; ms: number; rss: number }>();
      for (const l of out.split('\n')) {
        if (!l.startsWith('@@case ')) continue;
        try {
          const r = JSON.parse(l.slice(7));
          results.set(r.id, r);
        } catch {
          /* cut short */
        }
      }
      resolvePromise({ results, killed, dead: !killed && (code !== 0 || signal !== null), stderr: err, signal: signal ?? (code !== 0 ? String(code) : undefined) });
    });
  });
}

/** Run cases in groups; a group that hangs or dies is re-run one case per child. */
export async function runCases(bundle: string, cases: CaseSpec[], opts: { group?: number; jobs?: number; onResult?: (r: CaseResult) => void; prepare?: (c: CaseSpec) => void; cleanup?: (c: CaseSpec) => void } = {}): Promise<CaseResult[]> {
  const group = opts.group ?? 8;
  const groups: CaseSpec[][] = [];
  for (let i = 0; i < cases.length; i += group) groups.push(cases.slice(i, i + group));
  const out: CaseResult[] = [];
  const done = (r: CaseResult) => {
    out.push(r);
    opts.onResult?.(r);
  };
  const runGroup = async (g: CaseSpec[]) => {
    for (const c of g) opts.prepare?.(c);
    try {
      const limit = g.reduce((n, c) => n + c.timeoutMs, 0);
      const r = await runChild(bundle, g, limit);
      const redo: CaseSpec[] = [];
      for (const c of g) {
        const got = r.results.get(c.id);
        if (got) done(classify(c, got.stdout, got.stderr, got.exit, got.ms, got.rss, false));
        else redo.push(c);
      }
      for (const c of redo) {
        if (g.length === 1) {
          done(classify(c, '', r.stderr, r.killed ? 'killed' : `signal/exit ${r.signal}`, c.timeoutMs, 0, r.killed));
          continue;
        }
        const one = await runChild(bundle, [c], c.timeoutMs);
        const got = one.results.get(c.id);
        if (got) done(classify(c, got.stdout, got.stderr, got.exit, got.ms, got.rss, false));
        else done(classify(c, '', one.stderr, one.killed ? 'killed' : `signal/exit ${one.signal}`, c.timeoutMs, 0, one.killed));
      }
    } finally {
      for (const c of g) opts.cleanup?.(c);
    }
  };
  const jobs = opts.jobs ?? 2;
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < groups.length) await runGroup(groups[next++]);
    }),
  );
  return out;
}

// ------------------------------------------------------------------------------------ the campaign

/** The commands every mutated dump runs (cheap ones; slabcheck where the hang was). */
export function caseCommands(d: DumpInfo, m?: Mutation): string[] {
  const c = ['sys', 'ps', 'log', `kmem ${d.addr}`, `whatis ${d.addr}`, `rd -64 ${d.addr} 8`, 'sym schedule'];
  if (m && (m.kind === 'elf-phdr' || m.kind === 'elf-phnum')) c.push('slabcheck');
  return c;
}

/** Hostile paths and commands (not mutated dumps). */
export function hostileCases(dir: string, good: DumpInfo, timeoutMs: number): CaseSpec[] {
  const cases: CaseSpec[] = [];
  const add = (id: string, argv: string[]) => cases.push({ id: `hostile-${id}`, argv, dump: argv[0], timeoutMs });
  const fifo = join(dir, 'fifo');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    /* no mkfifo */
  }
  const loop = join(dir, 'loop');
  try {
    symlinkSync(loop, loop);
  } catch {
    /* exists */
  }
  writeFileSync(join(dir, 'empty'), '');
  const rand = rng(7);
  writeFileSync(join(dir, 'random'), Uint8Array.from({ length: 1 << 20 }, () => int(rand, 256)));
  writeFileSync(join(dir, 'kdump-sig'), Buffer.from('KDUMP   '));
  const elfHead = readFileSync(good.file).subarray(0, 64);
  writeFileSync(join(dir, 'elf-head'), elfHead);
  writeFileSync(join(dir, 'flat-sig'), Buffer.concat([Buffer.from('makedumpfile'), Buffer.alloc(4096 - 12)]));
  mkdirSync(join(dir, 'adir'), { recursive: true });
  for (const [id, p] of Object.entries({ fifo, loop, empty: join(dir, 'empty'), random: join(dir, 'random'), 'kdump-sig': join(dir, 'kdump-sig'), 'elf-head': join(dir, 'elf-head'), 'flat-sig': join(dir, 'flat-sig'), dir: join(dir, 'adir'), missing: join(dir, 'nope'), devzero: '/dev/zero', devnull: '/dev/null', long: '/tmp/' + 'x'.repeat(5000), newline: join(dir, 'a\nb') })) {
    add(id, [p, 'sys']);
  }
  const a = good.addr;
  const cmds = [
    `rd -8 ${a} 67108864`, `rd -64 ${a} 8388608`, `search -l 100000000 0`, `search -l NaN 0`, `search -l -5 0`, `rd -64 ${a} 1048576`, `rd -8 ${a} 1048576`,
    `rd -a ${a}`, `rd -64 0 10`, `rd -64 ffffffffffffffff 4`, `rd -p 0 99999999999999999999`, `kmem 0`, `whatis ffffffffffffffff`, `kmem NaN`, `whatis -1`,
    'struct task_struct 0', `list ${a}`, 'eval 1/0', 'eval 99999999999999999999999999*99999999999', 'sym ' + 'a'.repeat(10000), 'dis schedule 100000000',
    'ps 999999999999999999999', 'bt 99999999', 'log -T', `struct task_struct ${a} -o`, 'kmem -S nosuchcache', 'search -e 0 -s ffffffffffffffff 0', 'rd -e 0 ffff888000000000',
  ];
  cmds.forEach((c, i) => add(`cmd${i}`, [good.file, c, '--json']));
  return cases;
}

async function baselineFor(bundle: string, d: DumpInfo, cmdFile: string, cmds: string[], timeoutMs: number): Promise<Map<string, string>> {
  writeFileSync(cmdFile, cmds.join('\n') + '\n');
  const r = await runChild(bundle, [{ id: `base-${d.name}`, argv: [d.file, '--batch', cmdFile, '--json'], dump: d.file, timeoutMs }], timeoutMs * 3);
  const got = r.results.get(`base-${d.name}`);
  const m = new Map<string, string>();
  for (const l of (got?.stdout ?? '').split('\n')) {
    if (!l.startsWith('{"command"')) continue;
    const b = JSON.parse(l) as BatchLine;
    if (b.ok) m.set(b.command, JSON.stringify(b.result));
  }
  return m;
}

/** Aim a few fields from the unmutated dump: a slab object address and the tasks' physical pages. */
export async function aim(bundle: string, d: DumpInfo, dir: string, timeoutMs: number): Promise<void> {
  const f = join(dir, `aim-${d.name}`);
  writeFileSync(f, 'sys\nps\n');
  const r = await runChild(bundle, [{ id: 'aim', argv: [d.file, '--batch', f, '--json'], dump: d.file, timeoutMs }], timeoutMs * 3);
  const lines = (r.results.get('aim')?.stdout ?? '').split('\n').filter((l) => l.startsWith('{'));
  const sys = lines.map((l) => JSON.parse(l)).find((x) => x.command === 'sys');
  const ps = lines.map((l) => JSON.parse(l)).find((x) => x.command === 'ps');
  d.pageOffset = BigInt(sys?.result?.page_offset ?? '0xffff888000000000');
  const tasks: string[] = (ps?.result ?? []).map((t: { task: string }) => t.task).filter((t: string) => BigInt(t) >= d.pageOffset && BigInt(t) < 0xffffc00000000000n);
  d.taskPhys = tasks.map((t) => Number(BigInt(t) - d.pageOffset));
  // a task_struct in the direct map: slab memory of every kernel
  d.addr = tasks.length ? tasks[Math.min(5, tasks.length - 1)].slice(2) : 'ffffffff81000000';
}

export interface CampaignOptions {
  cases: number;
  seed: number;
  dumps?: string[];
  jobs?: number;
  group?: number;
  timeoutMs?: number;
  hostile?: boolean;
  onResult?: (r: CaseResult) => void;
  log?: (s: string) => void;
}

export async function campaign(o: CampaignOptions): Promise<{ results: CaseResult[]; counts: Record<Outcome, number>; byKind: Record<string, Record<string, number>>; dumps: string[] }> {
  const log = o.log ?? (() => undefined);
  const bundle = buildChild();
  const timeoutMs = o.timeoutMs ?? 120_000;
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vmcore-fuzz-'));
  try {
    const infos: DumpInfo[] = [];
    for (const n of o.dumps ?? FUZZ_DUMPS) {
      const d = await dumpInfo(n);
      if (!d) {
        log(`fuzz: dump ${n} not available (${n === 'kdump-raw' ? 'makedumpfile not installed?' : SHARED_DUMPS}); skipped`);
        continue;
      }
      await aim(bundle, d, work, timeoutMs);
      infos.push(d);
    }
    if (!infos.length) throw new Error(`no dumps found in ${SHARED_DUMPS}`);
    const r = rng(o.seed);
    const cases: CaseSpec[] = [];
    const baselines = new Map<string, Map<string, string>>();
    const cmdFiles = new Map<string, string>();
    for (const d of infos) {
      for (const withSlab of [false, true]) {
        const cmds = caseCommands(d, withSlab ? ({ kind: 'elf-phdr' } as Mutation) : undefined);
        const f = join(work, `cmds-${d.name}-${withSlab ? 1 : 0}`);
        cmdFiles.set(`${d.name}-${withSlab ? 1 : 0}`, f);
        baselines.set(`${d.name}-${withSlab ? 1 : 0}`, await baselineFor(bundle, d, f, cmds, timeoutMs));
      }
      log(`fuzz: ${d.name} (${d.format}, ${d.compression}): baseline of ${baselines.get(`${d.name}-0`)!.size} commands, address ${d.addr}`);
    }
    for (let i = 0; i < o.cases; i++) {
      const d = infos[i % infos.length];
      const m = mutate(d, r);
      const withSlab = m.kind === 'elf-phdr' || m.kind === 'elf-phnum';
      // same base name as the original: answers that name the file compare equal
      const file = join(work, `case${i}`, d.file.split('/').pop()!);
      cases.push({
        id: `${i}`,
        argv: [file, '--batch', cmdFiles.get(`${d.name}-${withSlab ? 1 : 0}`)!, '--json'],
        dump: d.file,
        mutation: m,
        baseline: baselines.get(`${d.name}-${withSlab ? 1 : 0}`),
        timeoutMs,
      });
    }
    if (o.hostile !== false) {
      const hdir = join(work, 'hostile');
      mkdirSync(hdir, { recursive: true });
      cases.push(...hostileCases(hdir, infos[0], timeoutMs));
    }
    const source = new Map(cases.map((c) => [c.id, c.dump]));
    const results = await runCases(bundle, cases, {
      group: o.group ?? 6,
      jobs: o.jobs ?? 2,
      onResult: o.onResult,
      prepare: (c) => {
        if (!c.mutation) return;
        mkdirSync(dirname(c.argv[0]), { recursive: true });
        applyMutation(source.get(c.id)!, c.mutation, c.argv[0]);
      },
      cleanup: (c) => c.mutation && rmSync(dirname(c.argv[0]), { recursive: true, force: true }),
    });
    const counts = Object.fromEntries(CLASSES.map((k) => [k, 0])) as Record<Outcome, number>;
    const byKind: Record<string, Record<string, number>> = {};
    for (const x of results) {
      counts[x.outcome]++;
      const k = x.mutation ? x.mutation.split(':')[0] : 'hostile';
      (byKind[k] ??= {})[x.outcome] = (byKind[k][x.outcome] ?? 0) + 1;
    }
    return { results, counts, byKind, dumps: infos.map((d) => `${d.name} (${d.format}, ${d.compression})`) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------ CLI

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string, def: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : def;
  };
  const cases = Number(arg('--cases', '1000'));
  const seed = Number(arg('--seed', '20261204'));
  const dumps = process.argv.includes('--dumps') ? arg('--dumps', '').split(',') : undefined;
  const outFile = arg('--out', join(ROOT, 'bench/out/fuzz.json'));
  const t0 = Date.now();
  let n = 0;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile + 'l', '');
  const res = await campaign({
    cases,
    seed,
    dumps,
    jobs: Number(arg('--jobs', '2')),
    group: Number(arg('--group', '6')),
    timeoutMs: Number(arg('--timeout', '120000')),
    log: (s) => console.log(s),
    onResult: (r) => {
      n++;
      appendFileSync(outFile + 'l', JSON.stringify(r) + '\n'); // results as they come (a cut-off run keeps them)
      if (r.outcome !== 'ok') console.log(`[${n}] ${r.id} ${r.outcome}: ${r.why} (${r.mutation ?? ''})`);
      else if (n % 50 === 0) console.log(`[${n}] ... ${Math.round((Date.now() - t0) / 1000)} s`);
    },
  });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ seed, cases, dumps: res.dumps, counts: res.counts, byKind: res.byKind, seconds: Math.round((Date.now() - t0) / 1000), results: res.results }, null, 1));
  console.log(`fuzz: seed ${seed}, ${res.results.length} cases in ${Math.round((Date.now() - t0) / 1000)} s on ${res.dumps.join(', ')}`);
  console.log('outcomes:', JSON.stringify(res.counts));
  console.log('by mutation:', JSON.stringify(res.byKind, null, 1));
  console.log(`max peak RSS: ${Math.round(Math.max(...res.results.map((r) => r.maxRssKb)) / 1024)} MiB`);
}
