import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SAMPLE = '6.1-skb-uaf-0x106';
export const SAMPLE_URL = `/samples/${SAMPLE}/vmcore.kdump-zlib`;
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function oracle(file: string, sample = SAMPLE): string {
  return readFileSync(join(ROOT, 'public/samples', sample, 'oracle', file), 'utf8');
}

function isLocal(url: string): boolean {
  if (/^(data|blob|about|chrome-extension|chrome):/.test(url)) return true;
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
  } catch {
    return false;
  }
}

/**
 * Every test fails if the page (or its workers) tries to reach anything but the local server:
 * the dump never leaves the machine. Off-machine requests are aborted and recorded.
 */
export const test = base.extend<{ offMachine: string[] }>({
  offMachine: [
    async ({ context, page }, use) => {
      const seen: string[] = [];
      await context.route('**/*', (route) => {
        const u = route.request().url();
        if (isLocal(u)) return route.continue();
        seen.push(u);
        return route.abort('blockedbyclient');
      });
      page.on('request', (r) => {
        if (!isLocal(r.url())) seen.push(r.url());
      });
      page.on('pageerror', (e) => console.log('[pageerror]', e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') console.log('[console]', m.text());
      });
      await use(seen);
      expect(seen, 'requests that left the machine').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** A main-thread task of over 50 ms (PerformanceObserver 'longtask'): start and duration, page clock. */
export interface LongTask {
  s: number;
  d: number;
}

/** Record the page's long tasks from its first script on (before page.goto); read them with longTasks(). */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __long: { s: number; d: number }[] };
    w.__long = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) w.__long.push({ s: e.startTime, d: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** The long tasks recorded since watchLongTasks, those starting at or after `since` (page clock). */
export async function longTasks(page: Page, since = 0): Promise<LongTask[]> {
  const all = await page.evaluate(() => (window as unknown as { __long: LongTask[] }).__long);
  return all.filter((l) => l.s >= since);
}

/**
 * The bytes the hex view's cell runs under `cells` show: a run is one span of consecutive cells
 * with the same classes (data-n of them).
 */
export async function hexByteCount(cells: Locator): Promise<number> {
  return cells.evaluateAll((els) => els.reduce((n, el) => n + Number((el as HTMLElement).dataset.n ?? 1), 0));
}

/** Drop a file the way a user does: a real drop event whose DataTransfer holds a File. */
export async function dropFile(page: Page, url: string, name: string, overlayShot?: string): Promise<void> {
  await page.evaluate(
    async ({ url, name }) => {
      const blob = await (await fetch(url)).blob();
      const file = new File([blob], name, { type: 'application/octet-stream' });
      const dt = new DataTransfer();
      dt.items.add(file);
      (window as unknown as { __dt: DataTransfer }).__dt = dt;
      const target = document.querySelector('.app') ?? document.body;
      for (const type of ['dragenter', 'dragover']) {
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
      }
    },
    { url, name },
  );
  if (overlayShot) {
    await expect(page.getByTestId('drop-overlay')).toBeVisible();
    await page.screenshot({ path: overlayShot });
  }
  await page.evaluate(() => {
    const dt = (window as unknown as { __dt: DataTransfer }).__dt;
    const target = document.querySelector('.app') ?? document.body;
    target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
  });
}
