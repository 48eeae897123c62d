/**
 * Scale measurement (logged, not asserted: the machine is shared) on a large dump made with
 * `fixtures/make-dump.sh scale-8g` (8 GiB guest, 3000 extra tasks, makedumpfile -d 31; too big
 * for git: SCALE_DUMP=/path/to/vmcore.kdump-zlib) or `fixtures/make-dump.sh scale-8g-elf` (the
 * same guest as QEMU's unfiltered 8 GiB ELF: SCALE_DUMP=/work/fixtures-out/scale-8g-elf/vmcore.elf) or
 * `fixtures/make-dump.sh scale-16g` (16 GiB, a million empty files: 3.2 million slab objects,
 * SCALE_DUMP=/work/fixtures-out/scale-16g/vmcore.kdump-zlib). In Chromium: drop -> panic summary on screen,
 * then console `ps`, `bt -a`, `kmem -s`, the slab map of the largest cache (Slabs panel: kmem -S
 * --full and slabcheck of it), and a search of all memory; page + workers memory
 * (performance.measureUserAgentSpecificMemory, sampled after each step) and main-thread long tasks.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { Page } from '@playwright/test';
import { expect, longTasks, test, ROOT, watchLongTasks } from './fixtures';
import { pageMemory as memory } from './page-memory';

const DUMP = process.env.SCALE_DUMP ?? '/work/fixtures-out/scale-8g/vmcore.kdump-zlib';
const SHOTS = 'test-results/scale';

test.skip(!existsSync(DUMP), `${DUMP} absent (make it with fixtures/make-dump.sh scale-8g; SCALE_DUMP= names it)`);
test.setTimeout(1_800_000);

const load = () => loadavg()[0].toFixed(1);


async function consoleRun(page: Page, line: string): Promise<{ wall: number; prompt: string }> {
  const tr = page.getByTestId('transcript');
  const ed = page.getByTestId('command-editor');
  await ed.click();
  // one entry in the transcript: its prompt row (with the engine's ms) is the first row
  await page.keyboard.type('clear');
  await page.keyboard.press('Enter');
  const t0 = Date.now();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  await expect(page.locator('footer .job').filter({ hasText: line })).toHaveCount(0, { timeout: 900_000 });
  const wall = Date.now() - t0;
  await tr.evaluate((el) => (el.scrollTop = 0));
  const prompt = (await tr.locator('.trow.prompt').filter({ hasText: line }).first().textContent({ timeout: 30_000 })) ?? '';
  return { wall, prompt: prompt.trim() };
}

test('scale: open, ps, bt -a, kmem -s, slab map of the largest cache, search (logged)', async ({ page, browser }) => {
  // SCALE_TRACE=1: a Chromium performance trace of the whole session (what the long tasks are)
  if (process.env.SCALE_TRACE) {
    await browser.startTracing(page, {
      path: `${SHOTS}/trace.json`,
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'disabled-by-default-v8.cpu_profiler'],
    });
  }
  const kmem = JSON.parse(execFileSync('node', [join(ROOT, 'cli/vmcore.cjs'), DUMP, 'kmem -s --json'], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Array<{
    name: string; total: number; objsize: number; slabs: number; ssize: number;
  }>;
  const rows = Array.isArray(kmem) ? kmem : ((kmem as { result: typeof kmem }).result ?? []);
  const largest = [...rows].sort((a, b) => b.slabs * b.ssize - a.slabs * a.ssize)[0]?.name;
  const out: string[] = [];
  const mem: number[] = [];
  // each step's end by the page's clock, to tell which step a long task fell in
  const marks: Array<{ what: string; at: number }> = [];
  const note = async (what: string) => {
    marks.push({ what: what.replace(/:.*| ->.*/, ''), at: await page.evaluate(() => performance.now()) });
    const m = await memory(page);
    if (m !== null) mem.push(m);
    out.push(`${what}; page+workers ${m === null ? '?' : (m / 2 ** 20).toFixed(0) + ' MiB'}; load ${load()}`);
    console.log(`[scale] ${out[out.length - 1]}`);
  };
  await watchLongTasks(page);
  // when the file is chosen (the input's change event) and when the headline is in the page, by
  // the page's clock: Playwright's setInputFiles of a 50 MB file and its polling are not the app's
  await page.addInitScript(() => {
    const w = window as unknown as { __chosen?: number; __headline?: number };
    document.addEventListener('change', () => (w.__chosen = performance.now()), true);
    const mo = new MutationObserver(() => {
      if (!document.querySelector('[data-testid=panic]')) return;
      w.__headline = performance.now();
      mo.disconnect();
    });
    mo.observe(document, { subtree: true, childList: true });
  });
  await page.goto('/');
  // the clock starts when the file is chosen in a loaded app: the engine worker (started at page
  // load, app/engine.ts warmEngine) is up, as it is by the time a user has picked a file
  await page.locator('html[data-engine=ready]').waitFor({ state: 'attached', timeout: 120_000 });
  const t0 = Date.now();
  await page.getByTestId('file-input').setInputFiles(DUMP);
  await expect(page.getByTestId('panic')).toBeVisible({ timeout: 300_000 });
  const inPage = await page.evaluate(() => {
    const w = window as unknown as { __chosen?: number; __headline?: number };
    return w.__chosen !== undefined && w.__headline !== undefined ? Math.round(w.__headline - w.__chosen) : null;
  });
  await note(`drop -> panic summary on screen ${Date.now() - t0} ms (file chosen -> headline in the page ${inPage ?? '?'} ms)`);
  await page.screenshot({ path: `${SHOTS}/1-summary.png` });
  await page.keyboard.press('6');
  await expect(page.getByTestId('command-editor')).toBeVisible();
  for (const line of ['ps', 'bt -a', 'kmem -s']) {
    const r = await consoleRun(page, line);
    await note(`${line}: ${r.wall} ms Enter -> done (prompt "${r.prompt}")`);
  }
  await page.screenshot({ path: `${SHOTS}/2-console.png` });
  const fp = ((await page.getByTestId('status-fingerprint').textContent()) ?? '').trim();
  const t1 = Date.now();
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/slabs/${largest}`);
  await expect(page.getByTestId('object-grid')).toBeVisible({ timeout: 900_000 });
  const tGrid = Date.now() - t1;
  await expect(page.getByTestId('findings')).toContainText(/no findings|scanned|finding/, { timeout: 900_000 });
  await note(`slab map of ${largest}: object grid ${tGrid} ms, its slabcheck ${Date.now() - t1} ms`);
  await page.screenshot({ path: `${SHOTS}/3-slab-map.png` });
  // the map's text as crash prints it: thousands of lines, drawn a window at a time
  const t2 = Date.now();
  await page.getByText('as crash prints it (kmem -S)').click();
  const raw = page.locator('details.raw').getByTestId('big-text');
  await expect(raw).toBeVisible();
  const rawLines = Number(await raw.getAttribute('data-lines'));
  const inDom = await raw.locator('.textrow').count();
  expect(inDom).toBeLessThan(200);
  expect(rawLines).toBeGreaterThan(inDom);
  await note(`raw text of the map: ${rawLines} lines, ${inDom} in the DOM, shown ${Date.now() - t2} ms after the click`);
  await raw.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await expect(raw.locator('.textrow a.addr').first()).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/3b-slab-map-text.png` });
  await page.keyboard.press('6');
  const r = await consoleRun(page, 'search init_task');
  await note(`search init_task: ${r.wall} ms Enter -> done (prompt "${r.prompt}")`);
  await page.screenshot({ path: `${SHOTS}/4-search.png` });
  const long = await longTasks(page);
  const during = (t: number) => marks.find((m) => t < m.at)?.what ?? 'after the last step';
  const longText = long.map((l) => `${Math.round(l.d)} ms in ${during(l.s)}`).join(', ');
  console.log(`[scale] peak sampled page+workers ${(Math.max(0, ...mem) / 2 ** 20).toFixed(0)} MiB; long tasks ${long.length} (${longText})`);
  if (process.env.SCALE_TRACE) await browser.stopTracing();
  expect(out.length).toBe(7);
});
