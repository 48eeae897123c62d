/**
 * A dump opened by URL (HTTP Range) from the app's own server over a slow link, in real Chromium.
 *
 * The app is served by its own server in both modes — the Vite dev server and `vite preview` of the
 * production build (bench/preview.ts) — whose Range middleware (vite.config.ts) serves the dumps
 * under public/samples/. A large dump outside the repo is linked in as
 * public/samples/bench-http-range/<name>/vmcore.* for the run (removed after; .gitignore'd).
 * In front of each server runs a latency proxy (below): EVERY request, the app's own assets and
 * each Range read, waits LATENCY ms before it is forwarded, so its first byte comes at least that
 * late (a 20 ms link). The proxy counts the dump's requests and the bytes of their answers.
 *
 * Per run (a fresh browser context: no HTTP cache, new workers), after the app has loaded:
 *  open URL (the open page's URL box) -> panic summary on screen -> the Log panel's first row;
 *  console `ps`, `bt -a`, `kmem -s`; the slab map of the largest cache (Slabs panel: the object
 *  grid, then its slabcheck's findings); console `search init_task` (scan workers);
 * each with wall time, the dump's Range requests and bytes, page + workers memory
 * (performance.measureUserAgentSpecificMemory after the step; peak of the samples) and the load
 * average. The medians over the runs are printed as a Markdown table.
 *
 *   npx tsx bench/http-range.ts [--modes dev,preview] [--dumps scale,dev] [--runs 3] [--latency 20]
 *
 * SCALE_DUMP names the large dump (default /work/fixtures-out/scale-8g/vmcore.kdump-zlib; made by
 * `fixtures/make-dump.sh scale-8g`); it is skipped with the reason when absent. Ports: BENCH_PORT
 * (default 5391) for the dev server, +1 for preview, +10/+11 for their proxies.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';
import { ensurePreview, stopPreview } from './preview';
import { pageMemory as memory } from '../e2e/page-memory';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const MODES = arg('modes', 'dev,preview').split(',') as ('dev' | 'preview')[];
const DUMPS = arg('dumps', 'scale,dev').split(',');
const RUNS = Number(arg('runs', '3'));
const LATENCY = Number(arg('latency', '20'));
const LABEL = arg('label', '');
const STEPS_ONLY = arg('steps', '');
/** --trace FILE: every Range header of the dump, with the step it came in, written to FILE */
const TRACE = arg('trace', '');
const BASE_PORT = Number(process.env.BENCH_PORT ?? 5391);
const SCALE_DUMP = process.env.SCALE_DUMP ?? '/work/fixtures-out/scale-8g/vmcore.kdump-zlib';
const LINK_DIR = join(ROOT, 'public/samples/bench-http-range');

// ------------------------------------------------------------------ latency proxy

interface Counter {
  requests: number;
  bytes: number;
}

/**
 * A reverse proxy to 127.0.0.1:upstream that holds every request `latency` ms before forwarding
 * it (keep-alive to the upstream, so only the added latency is paid). Counts the requests whose
 * path matches `dumpPath` (set per run) and the bytes of their answers. WebSocket upgrades (the
 * dev server's HMR) are piped through as they are.
 */
export function latencyProxy(port: number, upstream: number, latency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const dump: Counter = { requests: 0, bytes: 0 };
  const other: Counter = { requests: 0, bytes: 0 };
  const state = { dumpPath: '', trace: [] as string[] };
  const server = http.createServer((req, res) => {
    const isDump = !!state.dumpPath && (req.url ?? '').split('?')[0] === state.dumpPath;
    const c = isDump ? dump : other;
    c.requests++;
    if (isDump && TRACE) state.trace.push(`${Date.now()} ${req.headers.range ?? 'whole'}`);
    setTimeout(() => {
      const up = http.request(
        { host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers, agent },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.on('data', (d: Buffer) => (c.bytes += d.length));
          ur.pipe(res);
        },
      );
      up.on('error', () => {
        res.statusCode = 502;
        res.end();
      });
      req.pipe(up);
    }, latency);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(upstream, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  return {
    dump,
    other,
    state,
    listen: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r())),
    close: () => {
      server.closeAllConnections();
      server.close();
      agent.destroy();
    },
  };
}

// ------------------------------------------------------------------ servers

async function up(base: string): Promise<boolean> {
  try {
    return (await fetch(base + '/')).ok;
  } catch {
    return false;
  }
}

async function startDev(port: number): Promise<ChildProcess> {
  const p = spawn('npx', ['vite', '--port', String(port), '--strictPort', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'ignore', detached: true });
  for (let i = 0; i < 240; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (await up(`http://127.0.0.1:${port}`)) return p;
  }
  throw new Error('vite dev server did not start');
}

// ------------------------------------------------------------------ dumps

interface Dump {
  name: string;
  url: string;
  file: string;
  largest: string;
}

function largestCache(file: string): string {
  const out = execFileSync('node', [join(ROOT, 'cli/vmcore.cjs'), file, 'kmem -s --json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const j = JSON.parse(out) as unknown;
  const rows = (Array.isArray(j) ? j : ((j as { result?: unknown[] }).result ?? [])) as { name: string; slabs: number; ssize: number }[];
  const best = [...rows].sort((a, b) => b.slabs * b.ssize - a.slabs * a.ssize)[0];
  if (!best) throw new Error(`${file}: kmem -s gave no caches`);
  return best.name;
}

function dumps(): Dump[] {
  const out: Dump[] = [];
  rmSync(LINK_DIR, { recursive: true, force: true });
  for (const d of DUMPS) {
    if (d === 'scale') {
      if (!existsSync(SCALE_DUMP)) {
        console.log(`skipped: the large dump ${SCALE_DUMP} is absent (fixtures/make-dump.sh scale-8g; SCALE_DUMP= names it)`);
        continue;
      }
      const dir = join(LINK_DIR, 'scale-8g');
      mkdirSync(dir, { recursive: true });
      symlinkSync(SCALE_DUMP, join(dir, basename(SCALE_DUMP)));
      out.push({ name: 'scale-8g', url: `/samples/bench-http-range/scale-8g/${basename(SCALE_DUMP)}`, file: SCALE_DUMP, largest: '' });
    } else {
      const name = d === 'dev' ? '6.1-skb-uaf-0x106' : d;
      const f = readdirSync(join(ROOT, 'public/samples', name)).find((x) => x.startsWith('vmcore.'));
      if (!f) throw new Error(`no vmcore.* in public/samples/${name}`);
      out.push({ name, url: `/samples/${name}/${f}`, file: join(ROOT, 'public/samples', name, f), largest: '' });
    }
  }
  for (const d of out) d.largest = largestCache(d.file);
  return out;
}

// ------------------------------------------------------------------ one run

interface Step {
  step: string;
  ms: number;
  requests: number;
  bytes: number;
  memMiB: number | null;
  load: number;
  note?: string;
  /** the dump's requests and bytes after the step was done, before the next one started */
  afterRequests: number;
  afterBytes: number;
}


async function consoleRun(page: Page, line: string): Promise<string> {
  const ed = page.getByTestId('command-editor');
  await ed.click();
  await page.keyboard.type('clear');
  await page.keyboard.press('Enter');
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  await page.locator('footer .job').filter({ hasText: line }).first().waitFor({ state: 'detached', timeout: 1_800_000 });
  const tr = page.getByTestId('transcript');
  await tr.evaluate((el) => (el.scrollTop = 0));
  return ((await tr.locator('.trow.prompt').filter({ hasText: line }).first().textContent({ timeout: 30_000 })) ?? '').trim();
}

async function run(browser: Browser, base: string, proxy: ReturnType<typeof latencyProxy>, dump: Dump): Promise<Step[]> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 860 }, colorScheme: 'dark' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log('  [pageerror]', e.message));
  const steps: Step[] = [];
  try {
    await page.goto(base + '/');
    // the dev server sometimes leaves a first page blank (a dependency re-optimisation after the
    // warm-up): load it once more before calling the run failed (the load is not timed)
    await page
      .getByRole('textbox', { name: 'dump URL' })
      .waitFor({ timeout: 60_000 })
      .catch(async () => {
        console.log('  the app did not come up in 60 s: loading it again');
        await page.goto(base + '/');
        await page.getByRole('textbox', { name: 'dump URL' }).waitFor({ timeout: 120_000 });
      });
    proxy.state.dumpPath = dump.url;
    // requests made after a step was done (work it left running: the summary's other parts after
    // the panic shows) until the next step starts are that step's `after` figures
    let closeAfter: () => void = () => undefined;
    const step = async (name: string, f: () => Promise<string | void>) => {
      closeAfter();
      if (STEPS_ONLY && !STEPS_ONLY.split(',').some((s) => name.startsWith(s)) && !name.startsWith('open')) return;
      proxy.state.trace.push(`# ${name}`);
      const r0 = proxy.dump.requests;
      const b0 = proxy.dump.bytes;
      const t0 = Date.now();
      const note = await f();
      const ms = Date.now() - t0;
      const s: Step = { step: name, ms, requests: proxy.dump.requests - r0, bytes: proxy.dump.bytes - b0, memMiB: null, load: loadavg()[0], afterRequests: 0, afterBytes: 0 };
      const ra = proxy.dump.requests;
      const ba = proxy.dump.bytes;
      const m = await memory(page);
      s.memMiB = m === null ? null : m / 2 ** 20;
      if (note) s.note = note;
      steps.push(s);
      closeAfter = () => {
        s.afterRequests = proxy.dump.requests - ra;
        s.afterBytes = proxy.dump.bytes - ba;
        if (s.afterRequests) console.log(`    after ${name}: +${s.afterRequests} req, +${(s.afterBytes / 2 ** 20).toFixed(1)} MiB`);
        closeAfter = () => undefined;
      };
      console.log(
        `  ${name}: ${ms} ms, ${s.requests} req, ${(s.bytes / 2 ** 20).toFixed(1)} MiB, mem ${s.memMiB?.toFixed(0) ?? '?'} MiB, load ${s.load.toFixed(1)}${note ? ` (${note})` : ''}`,
      );
    };
    await step('open URL -> panic summary', async () => {
      await page.getByRole('textbox', { name: 'dump URL' }).fill(dump.url);
      await page.getByRole('button', { name: 'open URL' }).click();
      await page.getByTestId('panic').first().waitFor({ timeout: 600_000 });
    });
    await step('open -> Log panel rows', async () => {
      await page.getByRole('navigation', { name: 'panels' }).getByText('Log').click();
      await page.getByTestId('log-scroll').locator('.row').first().waitFor({ timeout: 600_000 });
    });
    await page.getByRole('navigation', { name: 'panels' }).getByText('Console').click();
    await page.getByTestId('command-editor').waitFor({ timeout: 300_000 });
    for (const line of ['ps', 'bt -a', 'kmem -s']) await step(line, () => consoleRun(page, line));
    const fp = ((await page.getByTestId('status-fingerprint').textContent()) ?? '').trim();
    await step(`slab map of ${dump.largest}`, async () => {
      await page.evaluate((h) => (window.location.hash = h), `#/${fp}/slabs/${dump.largest}`);
      await page.getByTestId('object-grid').waitFor({ timeout: 1_800_000 });
      const grid = Date.now();
      await page.getByTestId('findings').filter({ hasText: /no findings|scanned|finding/ }).waitFor({ timeout: 1_800_000 });
      return `grid then slabcheck +${Date.now() - grid} ms`;
    });
    await page.getByRole('navigation', { name: 'panels' }).getByText('Console').click();
    await step('search init_task', () => consoleRun(page, 'search init_task'));
    await page.waitForTimeout(2000);
    closeAfter();
  } catch (e) {
    // a failed step ends this run, not the bench: the steps so far are kept
    const shot = join(ROOT, `test-results/http-range-failed-${Date.now()}.png`);
    await page.screenshot({ path: shot }).catch(() => undefined);
    console.log(`  run failed after ${steps.length} steps: ${(e as Error).message.split('\n')[0]} (screenshot ${shot})`);
  } finally {
    proxy.state.dumpPath = '';
    await ctx.close();
  }
  return steps;
}

// ------------------------------------------------------------------ main

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function main(): Promise<void> {
  const list = dumps();
  const procs: ChildProcess[] = [];
  const proxies: ReturnType<typeof latencyProxy>[] = [];
  let preview: ChildProcess | null = null;
  let browser: Browser | null = null;
  const results: { mode: string; dump: string; runs: Step[][] }[] = [];
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--enable-blink-features=ForceEagerMeasureMemory'],
    });
    for (const mode of MODES) {
      const port = mode === 'dev' ? BASE_PORT : BASE_PORT + 1;
      if (mode === 'dev') procs.push(await startDev(port));
      else preview = await ensurePreview(`http://127.0.0.1:${port}`, port);
      const proxy = latencyProxy(port + 10, port, LATENCY);
      await proxy.listen();
      proxies.push(proxy);
      const base = `http://127.0.0.1:${port + 10}`;
      // warm up (dev: dependency optimisation and the first transform of every module, the
      // engine worker's included) without timing it: load the page and open the small dump,
      // again until it works (a first dev start may re-optimise and reload mid-way)
      for (let tries = 1; ; tries++) {
        const ctx = await browser.newContext();
        const p = await ctx.newPage();
        try {
          await p.goto(base + '/');
          await p.getByRole('textbox', { name: 'dump URL' }).fill('/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib', { timeout: 180_000 });
          await p.getByRole('button', { name: 'open URL' }).click();
          await p.getByTestId('panic').first().waitFor({ timeout: 180_000 });
          break;
        } catch (e) {
          if (tries >= 3) throw e;
          console.log(`warm-up ${tries} failed (${(e as Error).message.split('\n')[0]}); again`);
        } finally {
          await ctx.close();
        }
      }
      for (const dump of list) {
        const r = { mode, dump: dump.name, runs: [] as Step[][] };
        results.push(r);
        for (let i = 0; i < RUNS; i++) {
          console.log(`[${mode}] ${dump.name} run ${i + 1}/${RUNS} (latency ${LATENCY} ms per request)`);
          r.runs.push(await run(browser, base, proxy, dump));
          writeFileSync(join(ROOT, 'bench/out/http-range-partial.json'), JSON.stringify(results));
        }
      }
    }
  } finally {
    await browser?.close();
    for (const p of proxies) p.close();
    for (const p of procs) if (p.pid) try { process.kill(-p.pid); } catch { /* gone */ }
    stopPreview(preview);
    rmSync(LINK_DIR, { recursive: true, force: true });
  }
  const lines: string[] = [];
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  lines.push(`HTTP Range, ${LATENCY} ms added per request, medians of ${RUNS} runs, ${when} UTC${LABEL ? ` — ${LABEL}` : ''}`);
  lines.push('');
  lines.push('| mode | dump | step | wall (median, runs) | Range requests (+ after the step) | MiB transferred (+ after) | page+workers MiB | load avg |');
  lines.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const names = [...new Set(r.runs.flatMap((x) => x.map((s) => s.step)))];
    for (const n of names) {
      const ss = r.runs.map((x) => x.find((s) => s.step === n)).filter((s): s is Step => !!s);
      const ms = ss.map((s) => s.ms);
      const mem = ss.map((s) => s.memMiB).filter((m): m is number => m !== null);
      lines.push(
        `| ${r.mode} | ${r.dump} | ${n} | ${(median(ms) / 1000).toFixed(2)} s (${ms.map((m) => (m / 1000).toFixed(1)).join(', ')}) | ${median(ss.map((s) => s.requests))} (+${median(ss.map((s) => s.afterRequests))}) | ${(median(ss.map((s) => s.bytes)) / 2 ** 20).toFixed(1)} (+${(median(ss.map((s) => s.afterBytes)) / 2 ** 20).toFixed(1)}) | ${mem.length ? median(mem).toFixed(0) : '?'} | ${ss.map((s) => s.load.toFixed(1)).join(', ')} |`,
      );
    }
    const peaks = r.runs.map((x) => Math.max(0, ...x.map((s) => s.memMiB ?? 0)));
    const total = r.runs.map((x) => x.reduce((a, s) => a + s.requests + s.afterRequests, 0));
    const bytes = r.runs.map((x) => x.reduce((a, s) => a + s.bytes + s.afterBytes, 0));
    lines.push(
      `| ${r.mode} | ${r.dump} | all steps | | ${median(total)} | ${(median(bytes) / 2 ** 20).toFixed(1)} | peak ${median(peaks).toFixed(0)} | |`,
    );
  }
  if (TRACE) writeFileSync(TRACE, proxies.flatMap((p) => p.state.trace).join('\n') + '\n');
  const text = lines.join('\n');
  console.log('\n' + text);
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  writeFileSync(join(ROOT, `bench/out/http-range-${Date.now()}.md`), text + '\n\n' + JSON.stringify(results) + '\n');
}

if (process.argv[1]?.endsWith("http-range.ts")) void main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
