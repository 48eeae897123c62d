/**
 * Whole-system triage in the UI: the Tasks panel (every task grouped by stack; a task opens its
 * backtrace; the D-state view) on 6.1-skb-uaf-0x106 and the System panel (memory, modules with
 * taint flags, run queues) on 6.12-skb-uaf-kaslr, each reached by permalink. Expected values come
 * from the samples' crash oracles.
 */
import type { Page } from '@playwright/test';
import { dropFile, expect, oracle, test } from './fixtures';

const SHOTS = 'test-results/screenshots';

async function open(page: Page, url: string, name: string): Promise<string> {
  await page.goto('/');
  await dropFile(page, url, name);
  await expect(page.getByTestId('panic')).toBeVisible();
  return ((await page.getByTestId('status-fingerprint').textContent()) ?? '').trim();
}

test('Tasks panel: grouped stacks of every task, a task opens its backtrace, the D-state view', async ({ page }) => {
  const ps = JSON.parse(oracle('ps.json')) as Array<{ pid: number; task: string; comm: string; state: string }>;
  const fp = await open(page, '/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib', 'vmcore.kdump-zlib');
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/tasks`);
  const panel = page.getByTestId('tasks-panel');
  await expect(panel.getByTestId('stacks-summary')).toContainText(`${ps.length} tasks`, { timeout: 90_000 });
  // the biggest group first; its counts add up to every task of crash's ps
  const counts = (await panel.getByTestId('group-count').allTextContents()).map(Number);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(ps.length);
  expect(counts[0]).toBe(Math.max(...counts));
  // filter by state through the URL (a permalink), then by a function name
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/tasks?state=RU`);
  await expect(panel.getByTestId('stacks-summary')).toContainText(`${ps.filter((t) => t.state === 'RU').length} tasks`);
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/tasks?q=worker_thread`);
  await expect(panel.getByTestId('stack-group').first()).toContainText('worker_thread');
  await page.screenshot({ path: `${SHOTS}/tasks-grouped.png` });
  // a task of a group opens its stack in the Backtrace panel
  const chip = panel.getByTestId('group-task').first();
  const label = (await chip.textContent())!;
  const pid = Number(label.split(' ')[0]);
  await chip.click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/bt/${pid === 0 ? '0x' : pid}`));
  await expect(page.locator('.btmain')).toContainText('worker_thread', { timeout: 60_000 });
  // the D-state view: crash's ps has no UN task on this dump, and the view says so
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/tasks/hung`);
  const un = ps.filter((t) => t.state === 'UN');
  if (un.length === 0) await expect(page.getByTestId('hung-empty')).toBeVisible({ timeout: 60_000 });
  else await expect(page.getByTestId('hung-task')).toHaveCount(un.length, { timeout: 60_000 });
});

test('System panel on the 6.12 dump: kmem -i, modules with taint flags, run queues', async ({ page }) => {
  const sample = '6.12-skb-uaf-kaslr';
  const fp = await open(page, `/samples/${sample}/vmcore.kdump-zstd`, 'vmcore.kdump-zstd');
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/system`);
  const panel = page.getByTestId('system-panel');
  const kmemI = oracle('kmem-i.txt', sample).split('\n');
  await expect(panel.getByTestId('system-memory')).toContainText(kmemI[1].trim().replace(/\s+/g, ' ').split(' ').slice(0, 3).join(' ').replace('TOTAL MEM', 'TOTAL MEM'), { timeout: 90_000 });
  const memText = (await panel.getByTestId('system-memory').textContent())!;
  for (const l of kmemI.filter((x) => /TOTAL MEM|FREE|SLAB/.test(x))) expect(memText).toContain(l.trim());
  await expect(panel.getByTestId('system-modules')).toContainText('skb_uaf  OE');
  await expect(panel.getByTestId('system-modules')).toContainText(/TAINTED_MASK: [0-9a-f]+ +[A-Z]+/);
  await expect(panel.getByTestId('system-runq')).toContainText('CPU 0 RUNQUEUE:');
  await page.screenshot({ path: `${SHOTS}/system-overview.png` });
  // a section by permalink
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/system/irq`);
  await expect(panel.getByTestId('system-irq')).toContainText('IRQ_DESC/_DATA');
  await expect(panel.getByTestId('system-memory')).toHaveCount(0);
});
