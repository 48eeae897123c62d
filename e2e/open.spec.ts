/**
 * Opening real dumps in the browser: drop, URL (HTTP Range), errors, permalinks. The expected
 * text comes from the oracle bundle (what crash printed for the same file).
 */
import { dropFile, expect, oracle, SAMPLE_URL, test } from './fixtures';

const SHOTS = 'test-results/screenshots';
const logLines = oracle('log.txt').replace(/\n$/, '').split('\n');
const FIRST = logLines[0];
const LAST = logLines[logLines.length - 1];
const PANIC = 'Kernel panic - not syncing: Fatal exception';

test.describe.configure({ mode: 'serial' });

test('landing page offers the sample, a picker and open-by-URL', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Open a Linux crash dump' })).toBeVisible();
  await expect(page.getByTestId('open-sample')).toBeVisible();
  // every bundled sample is offered
  for (const name of ['6.1-skb-uaf-0x106-slubdebug', '6.1-bh-scribble', '6.12-skb-uaf-kaslr']) {
    await expect(page.getByTestId(`open-sample-${name}`)).toBeVisible();
  }
  await expect(page.getByRole('button', { name: 'choose a file…' })).toBeVisible();
  // the page is cross-origin isolated: running commands can be cancelled at once
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  await page.screenshot({ path: `${SHOTS}/01-landing.png` });
});

test('drop a real dump: panic string, fingerprint, log first/last line, search', async ({ page }) => {
  await page.goto('/');
  await dropFile(page, SAMPLE_URL, 'vmcore.kdump-zlib', `${SHOTS}/02-drop-overlay.png`);

  // summary
  await expect(page.getByRole('tab', { name: /vmcore\.kdump-zlib/ })).toBeVisible();
  const fp = (await page.getByTestId('status-fingerprint').textContent()) ?? '';
  expect(fp).toMatch(/^[0-9a-f]{8}$/);
  await expect(page.getByTestId('panic')).toHaveText(PANIC);
  await expect(page).toHaveURL(new RegExp(`#/${fp}/summary$`));
  await page.screenshot({ path: `${SHOTS}/03-summary.png` });

  // log: first line at the top, last line at the bottom, as crash prints them
  await page.getByRole('navigation', { name: 'panels' }).getByText('Log').click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/log$`));
  const rows = page.getByTestId('log-scroll');
  await expect(rows.locator('.row').first().locator('.tx')).toHaveText(FIRST);
  // virtualized: far fewer rows in the DOM than lines in the log
  expect(await rows.locator('.row').count()).toBeLessThan(Math.min(logLines.length, 200));
  await expect(page.getByTestId('match-count')).toHaveText(`${logLines.length} lines`);
  await page.screenshot({ path: `${SHOTS}/04-log-top.png` });
  await rows.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(rows.locator('.row').last().locator('.tx')).toHaveText(LAST);
  await page.screenshot({ path: `${SHOTS}/05-log-bottom.png` });

  // search: count, next/prev, the current match row holds the text
  const search = page.getByRole('searchbox', { name: 'search the log' });
  await search.fill('skb_release_data');
  const expected = logLines.filter((l) => l.toLowerCase().includes('skb_release_data')).length;
  expect(expected).toBeGreaterThan(0);
  await expect(page.getByTestId('match-count')).toHaveText(`1 / ${expected}`);
  await expect(rows.locator('.row.current .tx')).toContainText('skb_release_data');
  await search.press('Enter');
  await expect(page.getByTestId('match-count')).toHaveText(`${expected > 1 ? 2 : 1} / ${expected}`);
  await expect(page).toHaveURL(/\/log\?line=\d+&q=skb_release_data$/);
  await page.screenshot({ path: `${SHOTS}/06-log-search.png` });

  // a symbol+offset in the log is a link to the Memory panel
  await rows.locator('.row.current a.addr').first().click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/skb_release_data\\+0x`));
  await expect(page.locator('.resolved')).toContainText('skb_release_data');
  await expect(page.getByTestId('hex')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/07-memory.png` });

  // browser back returns to the log search
  await page.goBack();
  await expect(page).toHaveURL(/\/log\?line=\d+&q=skb_release_data$/);
  await expect(search).toHaveValue('skb_release_data');
});

test("the summary names each sample's page decoder: libzstd as wasm for zstd, zlib pages through fflate", async ({ page }) => {
  await page.goto('/');
  // the worker fetches and compiles libzstd's wasm at start-up (html data-engine="ready" once in)
  await expect(page.locator('html[data-engine="ready"]')).toHaveCount(1, { timeout: 30_000 });
  await dropFile(page, '/samples/6.12-skb-uaf-kaslr/vmcore.kdump-zstd', 'vmcore.kdump-zstd');
  await expect(page.getByTestId('panic')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('page-decoder')).toHaveText(' (pages decoded by libzstd (wasm))');
  await page.screenshot({ path: `${SHOTS}/summary-zstd-decoder.png` });
  await dropFile(page, SAMPLE_URL, 'vmcore.kdump-zlib');
  await expect(page.getByRole('tab', { name: /vmcore\.kdump-zlib/ })).toBeVisible();
  await expect(page.getByTestId('page-decoder')).toHaveText(' (pages decoded by fflate (JavaScript))');
});

test('the bundled sample over HTTP Range has the same fingerprint; a permalink lands on its view', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('open-sample').click();
  await expect(page.getByTestId('panic')).toHaveText(PANIC);
  const fp = (await page.getByTestId('status-fingerprint').textContent()) ?? '';
  // the same file dropped in another page has the same fingerprint
  const other = await page.context().newPage();
  await other.goto('/');
  await dropFile(other, SAMPLE_URL, 'vmcore.kdump-zlib');
  await expect(other.getByTestId('status-fingerprint')).toHaveText(fp);
  await other.close();

  // a permalink with ?src= opens the dump by URL and lands on the search
  await page.goto(`/?src=${SAMPLE_URL}#/${fp}/log?q=Fatal%20exception`);
  await expect(page.getByTestId('match-count')).toHaveText(/^1 \/ \d+$/);
  await expect(page.getByTestId('log-scroll').locator('.row.current .tx')).toContainText('Fatal exception');
  await page.screenshot({ path: `${SHOTS}/08-permalink.png` });
});

test('errors are one line from the engine, never a stack trace', async ({ page }) => {
  await page.goto('/');
  await dropFile(page, `/samples/6.1-skb-uaf-0x106/oracle/log.txt`, 'log.txt');
  const err = page.getByTestId('error');
  await expect(err).toContainText('log.txt: not a vmcore');
  expect((await err.textContent())!.split('\n')).toHaveLength(1);
  await expect(err).not.toContainText(/\bat \S+:\d+:\d+/);

  // another origin is refused before any request is made
  await page.getByRole('textbox', { name: 'dump URL' }).fill('https://example.com/vmcore');
  await page.getByRole('button', { name: 'open URL' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'another origin' })).toBeVisible();

  // a permalink without its dump asks for it
  await page.goto('/#/0123abcd/mem/ffff888003a3c000');
  await expect(page.getByTestId('wanted')).toContainText('0123abcd');
  await page.screenshot({ path: `${SHOTS}/09-errors.png` });
});
