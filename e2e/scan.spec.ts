/**
 * Long scans on the scan workers (app/engine.ts's pool) on a real 528 MiB ELF dump (6.1-sysrq-kaslr,
 * QEMU dump-guest-memory, decompressed once by workers/testing/dumps.ts): a search of all memory
 * runs on the scan workers while the console answers another command and the hex view scrolls
 * (the engine worker stays free); its answer is the CLI's `search` for the same value, line for
 * line; Cancel stops a search. Long tasks of the main thread (PerformanceObserver 'longtask') and
 * the search's wall time with 1, 2 and 4 scan workers are logged, not asserted (the machine is
 * shared; on it, at load 10-15 on 2 cores, typing a key into Monaco, mounting a panel, rendering
 * scrolled hex rows, GC and Playwright's own locator queries each take 50-200 ms). Also logged:
 * the long tasks of 1 s while the search runs untouched (no input, no locator polling), the
 * scan's own cost to the main thread. The search of this dump takes 1.2-2.3 s on a fast 2-core
 * machine: the console and the hex view are used at once after it starts, and the typing test
 * queues it five times to keep a scan running through its 4-5 s of input.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import type { Page } from '@playwright/test';
import { expect, longTasks, test, ROOT, watchLongTasks, type LongTask } from './fixtures';
import { sharedDump, SKIP_REASON } from '../workers/testing/dumps';

const dump = sharedDump('6.1-sysrq-kaslr');
const SHOTS = 'test-results/scan';
const VALUE = 'init_task';

test.skip(!dump, `6.1-sysrq-kaslr ${SKIP_REASON}`);
test.describe.configure({ mode: 'serial' });
test.setTimeout(900_000);

async function open(page: Page, workers: number | null): Promise<string> {
  await page.addInitScript((n) => {
    if (n !== null) localStorage.setItem('vmcore.scanWorkers', String(n));
    else localStorage.removeItem('vmcore.scanWorkers');
  }, workers);
  await watchLongTasks(page);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(dump!.file);
  await expect(page.getByTestId('panic')).toBeVisible({ timeout: 120_000 });
  return ((await page.getByTestId('status-fingerprint').textContent()) ?? '').trim();
}

/** Every output line of the transcript's entries (it is virtualized: scroll from the top). */
async function transcriptLines(page: Page): Promise<string[]> {
  const tr = page.getByTestId('transcript');
  await tr.evaluate((el) => (el.scrollTop = 0));
  const seen: string[] = [];
  for (let y = 0; y < 400; y++) {
    for (const t of await tr.locator('.trow.out').allTextContents()) if (!seen.includes(t)) seen.push(t);
    const end = await tr.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2);
    if (end) break;
    await tr.evaluate((el) => (el.scrollTop += el.clientHeight));
  }
  return seen;
}

async function consoleType(page: Page, line: string): Promise<void> {
  const ed = page.getByTestId('command-editor');
  await ed.click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

const searchJob = (page: Page) => page.locator('footer .job').filter({ hasText: `search ${VALUE}` });

test('a search of all memory runs on the scan workers: the console and the hex view answer meanwhile; same answer as the CLI; cancel', async ({ page }) => {
  const cli = execFileSync('node', [join(ROOT, 'cli/vmcore.cjs'), dump!.file, `search ${VALUE}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const want = cli.replace(/\n$/, '').split('\n');
  expect(want.length).toBeGreaterThan(3);
  const fp = await open(page, null);
  await page.keyboard.press('6');
  await expect(page.getByTestId('command-editor')).toBeVisible();
  const before = (await longTasks(page)).length;
  const t0 = Date.now();
  await consoleType(page, `search ${VALUE}`);
  await expect(searchJob(page)).toBeVisible();
  // the engine worker is free: another command answers while the search runs (at once: the
  // search takes 1.8 s on a fast 2-core machine, 3-20 s on slower or loaded ones)
  await consoleType(page, 'sym init_task');
  const tr = page.getByTestId('transcript');
  await expect(tr.locator('.trow.out').filter({ hasText: /\(D\) init_task/ }).first()).toBeVisible({ timeout: 20_000 });
  await expect(searchJob(page), 'the search still runs when sym answered').toBeVisible();
  await expect(searchJob(page)).toContainText(/\d+\/\d+ pages/);
  await page.screenshot({ path: `${SHOTS}/1-console-during-search.png` });
  // the hex view reads and scrolls meanwhile
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/mem/init_task`);
  const hex = page.getByTestId('hex');
  await expect(hex.locator('.hr:not(.loading)').first()).toBeVisible({ timeout: 20_000 });
  const firstRow = await hex.locator('.hr:not(.loading)').first().textContent();
  await hex.hover();
  for (let i = 0; i < 8; i++) await page.mouse.wheel(0, 600);
  await expect(hex.locator('.hr:not(.loading)').first()).not.toHaveText(firstRow ?? '', { timeout: 20_000 });
  await expect(hex.locator('.hr.loading')).toHaveCount(0, { timeout: 20_000 });
  const scrolledWhileRunning = await searchJob(page).isVisible();
  await page.screenshot({ path: `${SHOTS}/2-hex-during-search.png` });
  // the scan alone: 1 s of the search running with no input and no locator polling (Playwright's
  // own DOM queries run on the page's main thread and show up as long tasks on a loaded machine);
  // logged, with whether the search still ran all through it (when it has not ended yet)
  const quiet0 = await page.evaluate(() => performance.now());
  await page.waitForTimeout(1000);
  const quiet = await page.evaluate((t0) => {
    const w = window as unknown as { __long: LongTask[] };
    return { long: w.__long.filter((l) => l.s >= t0).map((l) => Math.round(l.d)), t1: performance.now() };
  }, quiet0);
  const quietRunning = await searchJob(page).isVisible();
  // back to the console: the search's answer is the CLI's, line for line
  await page.keyboard.press('6');
  await expect(searchJob(page)).toHaveCount(0, { timeout: 600_000 });
  const wall = Date.now() - t0;
  const during = (await longTasks(page)).slice(before);
  const lines = await transcriptLines(page);
  const got = lines.filter((l) => /^[0-9a-f]+: [0-9a-f]+$|pages not in the dump|^search: /.test(l));
  expect(got).toEqual(want);
  await page.screenshot({ path: `${SHOTS}/3-search-done.png` });
  const long = await longTasks(page);
  console.log(
    `[scan] default pool (${await page.evaluate(() => navigator.hardwareConcurrency)} hardware threads): search ${VALUE} ${want.length} lines, ` +
      `${wall} ms from Enter to done; hex scrolled while it ran: ${scrolledWhileRunning}; main-thread long tasks while it ran ` +
      `(typing, sym, hex view, scrolling): ${during.length}${during.length ? ` (${during.map((l) => Math.round(l.d)).join(', ')} ms)` : ''}; over the session: ${long.length}` +
      ` (longest ${Math.round(Math.max(0, ...long.map((l) => l.d)))} ms); ` +
      `in ${Math.round(quiet.t1 - quiet0)} ms of the search running untouched${quietRunning ? '' : ' (it had ended)'}: ${quiet.long.length}${quiet.long.length ? ` (${quiet.long.join(', ')} ms)` : ''}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
  );

  // cancel: a search (of a value found nowhere: all memory is read) stops and says so
  await consoleType(page, 'search 0x1234567890abcdef');
  const job = page.locator('footer .job').filter({ hasText: 'search 0x1234567890abcdef' });
  await expect(job).toBeVisible();
  await expect(job).toContainText(/\d+\/\d+ pages/, { timeout: 60_000 });
  await job.getByRole('button', { name: 'cancel' }).click();
  await expect(job).toHaveCount(0, { timeout: 30_000 });
  await expect(tr.locator('.trow').filter({ hasText: 'cancelled' }).last()).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/4-cancelled.png` });
});

/** A main-thread task of the Chromium trace: its wall time and the CPU time its thread got (ms). */
interface TraceTask {
  wall: number;
  cpu: number;
  what: string;
}

/**
 * The renderer main thread's tasks over 50 ms (wall) in a Chromium trace, with their CPU time and
 * what ran in them (the trace's top events by time), longest first.
 */
function mainThreadLongTasks(trace: Buffer, until?: string): TraceTask[] {
  type Ev = { ph: string; name: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; args?: { name?: string; data?: { type?: string; functionName?: string } } };
  const raw = JSON.parse(trace.toString('utf8')) as { traceEvents: Ev[] } | Ev[];
  const ev = Array.isArray(raw) ? raw : raw.traceEvents;
  const key = (e: Ev) => `${e.pid}:${e.tid}`;
  const mains = new Set(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map(key));
  const count = new Map<string, number>();
  for (const e of ev) if (e.ph === 'X' && e.name === 'RunTask' && mains.has(key(e))) count.set(key(e), (count.get(key(e)) ?? 0) + 1);
  const main = [...count].sort((a, b) => b[1] - a[1])[0]?.[0];
  const on = ev.filter((e) => e.ph === 'X' && key(e) === main);
  // tasks that started before the page's performance mark `until` (when the scan ended)
  const end = until ? ev.find((e) => e.name === until)?.ts ?? Infinity : Infinity;
  return on
    .filter((e) => e.name === 'RunTask' && (e.dur ?? 0) > 50_000 && e.ts < end)
    .map((t) => {
      const inside = on.filter((e) => e !== t && e.ts >= t.ts && e.ts + (e.dur ?? 0) <= t.ts + (t.dur ?? 0) && e.name !== 'ThreadControllerImpl::RunTask');
      const by = new Map<string, number>();
      for (const e of inside) {
        const k = e.name + (e.args?.data?.type ? `:${e.args.data.type}` : '');
        by.set(k, (by.get(k) ?? 0) + (e.tdur ?? 0));
      }
      const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, us]) => `${k} ${Math.round(us / 1000)}`);
      return { wall: Math.round((t.dur ?? 0) / 1000), cpu: Math.round((t.tdur ?? 0) / 1000), what: top.join(', ') };
    })
    .sort((a, b) => b.wall - a.wall);
}

test('while a search runs, typing in the console and scrolling and typing in the hex view make no main-thread task over 50 ms', async ({ page, browser }) => {
  const fp = await open(page, null);
  // the hex view at init_task, and where it is on the page (no DOM queries in the measured part)
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/mem/init_task`);
  const hex = page.getByTestId('hex');
  await expect(hex.locator('.hr:not(.loading)').first()).toBeVisible({ timeout: 20_000 });
  const box = (await hex.boundingBox())!;
  await page.keyboard.press('6');
  await expect(page.getByTestId('command-editor')).toBeVisible();
  // the same search five times (the pool takes them one after the other): the input below lasts
  // about 4 s, and one search of this dump takes 1.2-1.8 s on a fast 2-core machine
  for (let i = 0; i < 5; i++) await consoleType(page, `search ${VALUE}`);
  await expect(searchJob(page).first()).toBeVisible();
  // the page marks when the last search's job leaves the status bar: only what ran before counts
  await page.evaluate((line) => {
    const w = window as unknown as { __scanEnd?: number };
    const running = () => [...document.querySelectorAll('footer .job')].some((j) => j.textContent?.includes(line));
    const mo = new MutationObserver(() => {
      if (running()) return;
      w.__scanEnd = performance.now();
      performance.mark('vmcore-scan-ended');
      mo.disconnect();
    });
    mo.observe(document.body, { subtree: true, childList: true, characterData: true });
  }, `search ${VALUE}`);
  // measured: input as a user gives it (CDP input events), no Playwright locator polling (its DOM
  // queries run on the page's main thread); the trace gives each task's wall and CPU time
  await browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing'] });
  const t0 = await page.evaluate(() => performance.now());
  await page.keyboard.type('sym init_task');
  await page.keyboard.press('Enter');
  await page.keyboard.type('struct task_struct.pid init_task');
  await page.keyboard.press('Enter');
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/mem/init_task`);
  await page.waitForTimeout(500);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 12; i++) {
    await page.mouse.wheel(0, 400);
    await page.waitForTimeout(60);
  }
  await page.mouse.click(box.x + box.width / 2, box.y + 40);
  for (const k of ['ArrowDown', 'ArrowDown', 'PageDown', 'ArrowRight', 'PageDown', 'ArrowUp', 'PageUp']) {
    await page.keyboard.press(k);
    await page.waitForTimeout(60);
  }
  await page.waitForTimeout(500);
  const trace = await browser.stopTracing();
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(`${SHOTS}/input-during-search.trace.json`, trace); // chrome://tracing, DevTools Performance
  const { t1, scanEnd } = await page.evaluate(() => ({ t1: performance.now(), scanEnd: (window as unknown as { __scanEnd?: number }).__scanEnd }));
  const until = scanEnd ?? t1;
  const ranThrough = scanEnd === undefined;
  const long = (await longTasks(page, t0)).filter((l) => l.s < until);
  const tasks = mainThreadLongTasks(trace, 'vmcore-scan-ended');
  const load = loadavg();
  const cores = cpus().length;
  console.log(
    `[scan] ${Math.round(until - t0)} ms of typing in the console, scrolling and keys in the hex view while the search ran${ranThrough ? '' : ` (it ended ${Math.round(t1 - until)} ms before the input did)`}: ` +
      `long tasks (PerformanceObserver) ${long.length}${long.length ? ` (${long.map((l) => Math.round(l.d)).join(', ')} ms)` : ''}; ` +
      `trace: main-thread tasks over 50 ms wall ${tasks.length}${tasks.length ? ` [${tasks.map((t) => `${t.wall} ms wall/${t.cpu} ms CPU: ${t.what}`).join('; ')}]` : ''}; ` +
      `load ${load.map((x) => x.toFixed(1)).join(' ')} on ${cores} cores`,
  );
  expect(until - t0, 'ms of input while the search ran').toBeGreaterThan(3000);
  // the app's own work: no task of the main thread that takes over 50 ms of CPU
  expect(tasks.filter((t) => t.cpu > 50), 'main-thread tasks over 50 ms of CPU').toEqual([]);
  // and over 50 ms of wall time: logged, not asserted. On 2 cores the scan worker, the engine
  // worker and Chromium's own threads share them, and a task that waits for a core counts as long
  // however little the app does in it (CI at load < 2 saw 3 such tasks while the CPU check held);
  // the CPU check above is the app's part.
  console.log(`[scan] main-thread tasks over 50 ms of wall time: ${long.length ? long.map((l) => Math.round(l.d)).join(', ') + ' ms' : 'none'}; load ${load[0].toFixed(1)}, ${cores} cores`);
  await expect(searchJob(page)).toHaveCount(0, { timeout: 600_000 });
});

for (const n of [1, 2, 4]) {
  test(`search wall time with ${n} scan worker(s) (logged, not asserted)`, async ({ page }) => {
    await open(page, n);
    await page.keyboard.press('6');
    await expect(page.getByTestId('command-editor')).toBeVisible();
    const before = (await longTasks(page)).length;
    const load0 = loadavg()[0];
    const t0 = Date.now();
    await consoleType(page, `search ${VALUE}`);
    await expect(searchJob(page)).toBeVisible();
    await expect(searchJob(page)).toHaveCount(0, { timeout: 600_000 });
    const wall = Date.now() - t0;
    const prompt = await page.getByTestId('transcript').locator('.trow.prompt').filter({ hasText: `search ${VALUE}` }).last().textContent();
    const long = (await longTasks(page)).slice(before);
    console.log(
      `[scan] ${n} scan worker(s): search ${VALUE} ${wall} ms from Enter to done (prompt: ${prompt?.trim()}); ` +
        `long tasks during it: ${long.length}${long.length ? ` (${long.map((l) => Math.round(l.d)).join(', ')} ms)` : ''}; ` +
        `load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`,
    );
  });
}
