/**
 * Every walkthrough in public/walkthroughs/ plays to its end in Chromium, on its bundled sample
 * dump(s) opened through the player's own "open it" button (HTTP Range from this origin), with
 * every check green; each step lands the app on its view (panel, in the right dump's tab).
 * Screenshots of a few steps go to test-results/screenshots/walkthrough-*.png.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { dropFile, expect, ROOT, test } from './fixtures';
import type { Walkthrough, WalkthroughIndexEntry } from '../app/walkthrough/types';

const DIR = join(ROOT, 'public/walkthroughs');
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as WalkthroughIndexEntry[];
const load = (id: string) => JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as Walkthrough;
const SHOTS = 'test-results/screenshots';

/** steps worth a picture: walkthrough id -> step numbers (1-based) */
const SHOOT: Record<string, number[]> = {
  'aacraid-0x106': [1, 2, 6, 8, 9, 10],
  'aacraid-0x106-6.12': [9],
  'megaraid-sas-buffer-head': [3, 5],
  'swiotlb-unmap-after-free': [2],
  'illumos-kmem-deadbeef': [5],
  'mpt2sas-sas2ircu': [4],
};

/**
 * How the main dump gets opened: 'button' = the player's own "open it" (HTTP Range from the
 * bundled URL); 'drop' = dropped as a file first, as a user with the dump on disk would (much
 * faster for the whole-memory scans of search and slabcheck than thousands of Range requests).
 */
const OPEN: Record<string, 'button' | 'drop'> = {
  'aacraid-0x106-6.12': 'drop',
  'megaraid-sas-buffer-head': 'drop',
  'swiotlb-unmap-after-free': 'drop',
  'illumos-kmem-deadbeef': 'drop',
};

test.describe.configure({ mode: 'serial' });

test('the player lists every walkthrough with its summary', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('wt-launch').click();
  for (const e of index) await expect(page.getByTestId(`wt-item-${e.id}`)).toContainText(e.title);
  await page.screenshot({ path: `${SHOTS}/walkthrough-list.png` });
});

async function waitStep(page: Page, n: number, done = /^(passed|failed|needs-dump)$/): Promise<string> {
  const step = page.getByTestId('wt-step');
  await expect(step).toHaveAttribute('data-step', String(n));
  await expect(step).toHaveAttribute('data-status', done, { timeout: 120_000 });
  return (await step.getAttribute('data-status')) ?? '';
}

for (const entry of index) {
  test(`walkthrough ${entry.id} plays to its end with every check green`, async ({ page }) => {
    test.setTimeout(240_000);
    const w = load(entry.id);
    await page.goto('/');
    if (OPEN[w.id] === 'drop') {
      const main = w.samples[w.sample];
      await dropFile(page, main.url, main.url.split('/').pop()!);
      await expect(page.getByTestId('status-fingerprint')).toHaveText(main.fingerprint, { timeout: 60_000 });
    }
    await page.getByTestId('wt-launch').click();
    await page.getByTestId(`wt-item-${w.id}`).click();
    await expect(page.getByTestId('wt-credit')).toContainText(w.credit.titleEnglish ?? w.credit.title);
    const total = w.steps.reduce((n, s) => n + s.checks.length, 0);

    let t0 = Date.now();
    for (const [i, s] of w.steps.entries()) {
      const n = i + 1;
      let status = await waitStep(page, n);
      if (status === 'needs-dump') {
        // the step's dump is not open: the player offers the bundled sample
        await expect(page.getByTestId('wt-needs-dump')).toBeVisible();
        await page.getByTestId('wt-open-sample').click();
        status = await waitStep(page, n, /^(passed|failed)$/);
      }
      const checks = page.getByTestId('wt-step').getByTestId('wt-check');
      await expect(checks).toHaveCount(s.checks.length);
      if (status !== 'passed') {
        const failed = await page.getByTestId('wt-step').locator('.wt-check:not(.pass)').allInnerTexts();
        throw new Error(`${w.id} step ${n} (${s.title}): ${failed.join(' | ')}`);
      }
      for (let k = 0; k < s.checks.length; k++) await expect(checks.nth(k)).toHaveAttribute('data-status', 'pass');
      // the panels moved to the step's view, in the tab of the step's dump
      if (s.view) {
        const fp = w.samples[s.sample ?? w.sample].fingerprint;
        await expect(page).toHaveURL(new RegExp(`#/${fp}/${s.view.panel}(/|\\?|$)`));
        await expect(page.getByTestId('status-fingerprint')).toHaveText(fp);
      }
      if (SHOOT[w.id]?.includes(n)) {
        await page.waitForTimeout(400); // let the panel draw
        await page.screenshot({ path: `${SHOTS}/walkthrough-${w.id}-${String(n).padStart(2, '0')}.png` });
      }
      if (process.env.WT_TIMES) console.log(`${w.id} step ${n}: ${Date.now() - t0} ms`);
      t0 = Date.now();
      if (n < w.steps.length) await page.getByTestId('wt-next').click();
    }
    await expect(page.getByText(`${total} of ${total} checks passed`)).toBeVisible();
    await expect(page.getByTestId('wt-restart')).toBeVisible();
  });
}
