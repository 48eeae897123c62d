/**
 * The Tasks panel's D-state view on a dump made for it (fixtures/dumps/6.1-la57-hung-locks: 5-level
 * paging, kthreads and a `cat` blocked in D state on a mutex and an rw_semaphore whose owners
 * sleep holding them). Every D-state task of crash's ps is listed with the lock it waits on, the
 * lock's owner and wait list as drgn 0.3.0's mutex_owner()/rwsem_owner() and the lock's wait_list
 * give them (oracle/drgn.json "locks"); the owner opens its own backtrace.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, ROOT } from './fixtures';

const DIR = join(ROOT, 'fixtures/dumps/6.1-la57-hung-locks');
const DUMP = join(DIR, 'vmcore.kdump-zlib');
const SHOT = 'test-results/tasks-hung-la57.png';

test.skip(!existsSync(DUMP), `fixtures/dumps/6.1-la57-hung-locks absent`);

test('D-state view: each blocked task, the mutex/rwsem it waits on, the owner (drgn) and the waiters; the owner opens its bt', async ({ page }) => {
  const ps = JSON.parse(readFileSync(join(DIR, 'oracle/ps.json'), 'utf8')) as Array<{ pid: number; task: string; comm: string; state: string }>;
  const locks = JSON.parse(readFileSync(join(DIR, 'oracle/drgn.json'), 'utf8')).locks as Array<{
    symbol: string; type: string; address: string; owner_counter: string; owner: string; owner_pid: number; owner_comm: string;
    waiters: Array<{ pid: number; task: string; comm: string }>;
  }>;
  const un = ps.filter((t) => t.state === 'UN');
  expect(un.length).toBe(5);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(DUMP);
  await expect(page.getByTestId('panic')).toBeVisible({ timeout: 60_000 });
  const fp = ((await page.getByTestId('status-fingerprint').textContent()) ?? '').trim();
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/tasks/hung`);
  const panel = page.getByTestId('tasks-panel');
  await expect(panel.getByTestId('hung-task')).toHaveCount(un.length, { timeout: 90_000 });
  for (const l of locks) {
    for (const w of l.waiters) {
      const row = panel.getByTestId('hung-task').filter({ hasText: `${w.pid} ${w.comm}` }).first();
      const wait = row.getByTestId('hung-wait');
      await expect(wait).toContainText(`waits on ${l.type} ${l.address}`);
      await expect(wait.getByTestId('lock-symbol')).toHaveText(`${l.symbol} [hung_locks]`);
      await expect(wait.getByTestId('lock-owner')).toContainText(`${l.owner_pid} ${l.owner_comm}`);
      await expect(wait.getByTestId('lock-owner-raw')).toHaveText(l.owner_counter);
      await expect(wait.getByTestId('lock-waiters')).toContainText(l.waiters.map((x) => `${x.pid} ${x.comm}`).join(''));
    }
  }
  await page.screenshot({ path: SHOT, fullPage: true });
  // the mutex owner opens its own stack: it sleeps (S) in the module's owner_fn holding the lock
  const m = locks.find((l) => l.type === 'struct mutex')!;
  await panel.getByTestId('lock-owner').filter({ hasText: `${m.owner_pid} ${m.owner_comm}` }).first().click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/bt/${m.owner_pid}`));
  await expect(page.locator('.btmain')).toContainText('owner_fn', { timeout: 60_000 });
  await page.screenshot({ path: 'test-results/tasks-hung-la57-owner-bt.png' });
});
