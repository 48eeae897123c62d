import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { openSync, readSync, closeSync, statSync, existsSync } from 'node:fs';
import { HttpRangeSource } from './http';
import { CachedSource } from './cached';
import { NodeFileSource } from './node';
import type { ByteSource } from './bytesource';
import { EngineApi, type OpenResult } from '../api';
import '../commands/index';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { openProgram } from '../kernel/open';
import { runCommand } from '../commands/registry';

/**
 * A dump read by URL (HttpRangeSource: synchronous XHR with Range, as in the engine's workers)
 * against the same file read from disk. Node has no XMLHttpRequest: FakeXhr below answers Range
 * requests from the file the way the app's server does (206 + Content-Range), and logs them.
 */
const requests: { offset: number; length: number }[] = [];
let served = '';

class FakeXhr {
  status = 0;
  response: ArrayBuffer | null = null;
  responseType = '';
  private range = '';
  private contentRange: string | null = null;
  open(method: string, _url: string, async: boolean): void {
    if (method !== 'GET' || async) throw new Error('the engine reads with synchronous GET');
  }
  setRequestHeader(k: string, v: string): void {
    if (k.toLowerCase() === 'range') this.range = v;
  }
  getResponseHeader(k: string): string | null {
    return k.toLowerCase() === 'content-range' ? this.contentRange : null;
  }
  send(): void {
    const size = statSync(served).size;
    const m = /^bytes=(\d+)-(\d+)$/.exec(this.range);
    if (!m) throw new Error(`unexpected Range ${this.range}`);
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), size - 1);
    const buf = new Uint8Array(Math.max(0, end - start + 1));
    const fd = openSync(served, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    requests.push({ offset: start, length: buf.length });
    this.status = 206;
    this.contentRange = `bytes ${start}-${end}/${size}`;
    this.response = buf.buffer;
  }
}

const g = globalThis as unknown as { XMLHttpRequest?: unknown };
let saved: unknown;
beforeAll(() => {
  saved = g.XMLHttpRequest;
  g.XMLHttpRequest = FakeXhr;
});
afterAll(() => {
  g.XMLHttpRequest = saved;
});

/** a small deterministic PRNG (mulberry32) */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const d = sharedDump('6.1-skb-uaf-0x106');

describe.skipIf(!d)(`HTTP Range source on 6.1-skb-uaf-0x106 ${d ? '' : SKIP_REASON}`, () => {
  const open = (): { http: HttpRangeSource; cached: CachedSource; file: NodeFileSource } => {
    served = d!.file;
    requests.length = 0;
    const http = new HttpRangeSource('http://127.0.0.1/dump');
    return { http, cached: new CachedSource(http, http.preferredBlockSize, 64 << 20), file: new NodeFileSource(d!.file) };
  };

  it('the size probe brings the first block: the header read costs no second request', () => {
    const { cached, file } = open();
    expect(cached.size).toBe(file.size);
    expect(requests).toEqual([{ offset: 0, length: 256 * 1024 }]);
    expect(cached.read(0, 4096)).toEqual(file.read(0, 4096));
    expect(requests.length).toBe(1);
  });

  it('random reads give the file bytes, one block each (no read-ahead off a sequential run)', () => {
    const { cached, file } = open();
    const r = rng(7);
    const bs = 256 * 1024;
    const blocks = Math.ceil(file.size / bs);
    // blocks far apart: none continues another's run
    const picks = [...new Set(Array.from({ length: 12 }, () => 3 * Math.floor((r() * blocks) / 3)))];
    const before = requests.length;
    for (const b of picks) {
      const off = b * bs + Math.floor(r() * (bs - 100));
      expect(cached.read(off, 100)).toEqual(file.read(off, 100));
    }
    const fetched = requests.slice(before);
    expect(fetched.length).toBeLessThanOrEqual(picks.length);
    for (const q of fetched) expect(q.length).toBeLessThanOrEqual(bs);
  });

  it('a sequential scan through the file reads ahead: few requests, same bytes, each byte fetched once', () => {
    const { cached, file } = open();
    const step = 4096;
    for (let off = 0; off < file.size; off += step) {
      const a = cached.read(off, step);
      const b = file.read(off, step);
      if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new Error(`bytes differ at ${off}`);
    }
    const bs = 256 * 1024;
    const blocks = Math.ceil(file.size / bs);
    // without read-ahead: one request per block (66 for this 17 MB file); with 4 MiB windows
    // after a doubling ramp: about blocks / 16 + log2(16)
    expect(requests.length).toBeLessThan(blocks / 4);
    expect(requests.reduce((a, q) => a + q.length, 0)).toBe(file.size);
    // no byte twice
    const sorted = [...requests].sort((x, y) => x.offset - y.offset);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].offset).toBeGreaterThanOrEqual(sorted[i - 1].offset + sorted[i - 1].length);
  });

  it('a miss more than two blocks past a run is a random read: one block, no window of read-ahead', () => {
    const { cached, file } = open();
    const bs = 256 * 1024;
    const at = (b: number) => {
      const before = requests.length;
      expect(cached.read(b * bs + 8, 64)).toEqual(file.read(b * bs + 8, 64));
      return requests.slice(before).map((q) => q.length / bs);
    };
    // a run: 10, then 11 (2 blocks), then 13 (4 blocks, 13-16): the stream's end is block 17
    expect([at(10), at(11), at(13)]).toEqual([[1], [2], [4]]);
    // 3 blocks on (a walk over objects spread through memory): its block alone
    expect(at(20)).toEqual([1]);
    // a block skipped (a scan that passes one by): the run goes on, with a doubled window
    expect(at(22)).toEqual([2]);
  });

  it("the program's cache over a URL holds 128 MiB (a file's 64), and a scan worker's at most what limitCache says", () => {
    served = d!.file;
    const budget = (api: EngineApi, make: () => ByteSource) => {
      const r = (api as unknown as { open(make: () => ByteSource, source: { kind: string; url?: string }): OpenResult }).open(make, { kind: 'url', url: '/dump' });
      if (!r.ok) throw new Error(r.error);
      const prog = (api as unknown as { sessions: Map<string, { prog: { src: CachedSource } }> }).sessions.get(r.summary.session)!.prog;
      return prog.src.cacheStats.budget;
    };
    const engine = new EngineApi();
    expect(budget(engine, () => new HttpRangeSource('http://127.0.0.1/dump'))).toBe(128 << 20);
    expect(budget(engine, () => new NodeFileSource(d!.file))).toBe(64 << 20);
    const scan = new EngineApi();
    scan.limitCache(48 << 20);
    expect(budget(scan, () => new HttpRangeSource('http://127.0.0.1/dump'))).toBe(48 << 20);
    expect(budget(scan, () => new NodeFileSource(d!.file))).toBe(48 << 20);
  });

  it('commands give the same output from the URL as from the file (ps, bt -a, kmem -s, kmem -S, search, the split search)', () => {
    served = d!.file;
    const api = new EngineApi();
    const openWith = (make: () => ByteSource, kind: 'file' | 'url') =>
      (api as unknown as { open(make: () => ByteSource, source: { kind: string; url?: string }): OpenResult }).open(make, kind === 'url' ? { kind, url: '/dump' } : { kind });
    const f = openWith(() => new NodeFileSource(d!.file), 'file');
    requests.length = 0;
    const u = openWith(() => new HttpRangeSource('http://127.0.0.1/dump'), 'url');
    expect(f.ok && u.ok).toBe(true);
    if (!f.ok || !u.ok) return;
    expect(requests.length).toBeGreaterThan(0);
    expect(u.summary.fingerprint).toBe(f.summary.fingerprint);
    const kmem = api.run(f.summary.session, 'kmem -s --json');
    const rows = kmem.json as { name: string; slabs: number; ssize: number }[];
    const largest = [...rows].sort((a, b) => b.slabs * b.ssize - a.slabs * a.ssize)[0].name;
    for (const line of ['ps', 'bt -a', 'kmem -s', `kmem -S ${largest}`, 'search init_task', 'log']) {
      const a = api.run(f.summary.session, line);
      const b = api.run(u.summary.session, line);
      expect(a.ok, a.error).toBe(true);
      expect(b.text, line).toBe(a.text);
      expect(b.problems ?? [], line).toEqual(a.problems ?? []);
    }
    // the scan workers' path: parts run on the URL session, merged, equal to the file's whole run
    const line = 'search init_task';
    const plan = api.planScan(u.summary.session, line, 4);
    expect(plan.ok && plan.parts && plan.parts.length > 1).toBe(true);
    if (!plan.ok || !plan.parts) return;
    const parts: Uint8Array[] = plan.parts.map((p) => {
      const r = api.runPart(u.summary.session, line, p);
      if (!r.ok) throw new Error(r.error);
      return r.part;
    });
    expect(api.mergeScan(u.summary.session, line, parts).text).toBe(api.run(f.summary.session, line).text);
  }, 300_000);
});

/**
 * The unfiltered 8 GiB ELF of fixtures/make-dump.sh scale-8g-elf (3061 tasks; not in git:
 * SCALE_ELF_DUMP names it) by URL. Every page of it is in the file, so the tasks' pages are
 * spread through 8 GiB, and each 256 KiB block a miss fetches holds few of them: `sys` counts
 * the tasks, `ps` then reads them again. Before, with 64 MiB of blocks cached and misses near a
 * run read ahead, `ps` after `sys` made 1022 requests for 639 MiB.
 */
const ELF = process.env.SCALE_ELF_DUMP ?? '/work/fixtures-out/scale-8g-elf/vmcore.elf';
const noElf = existsSync(ELF) ? '' : `${ELF} absent (fixtures/make-dump.sh scale-8g-elf makes it; SCALE_ELF_DUMP= names it)`;

describe.skipIf(!!noElf)(`HTTP Range source on the 8 GiB ELF${noElf ? ` (skipped: ${noElf})` : ''}`, () => {
  it('ps after sys re-fetches little: the cache over a URL holds 128 MiB, and the same lines as from the file', () => {
    served = ELF;
    requests.length = 0;
    const url = openProgram(new HttpRangeSource('http://127.0.0.1/elf'));
    const local = openProgram(new NodeFileSource(ELF));
    runCommand({ prog: url }, 'sys');
    const before = requests.length;
    const ps = runCommand({ prog: url }, 'ps').text;
    expect(requests.length - before).toBeLessThan(150);
    expect(ps).toBe(runCommand({ prog: local }, 'ps').text);
    expect(ps.split('\n').length).toBeGreaterThan(3000);
  }, 300_000);

  it('with less cached than the tasks span, the thread lists are read backwards: ps makes half the requests of a walk in order', () => {
    served = ELF;
    requests.length = 0;
    const url = openProgram(new HttpRangeSource('http://127.0.0.1/elf'), { cacheBytes: 96 << 20 });
    runCommand({ prog: url }, 'ps');
    // 456 backwards, 1185 when every pass went in the walk's order (measured 2026-12-05)
    expect(requests.length).toBeLessThan(700);
  }, 300_000);
});
