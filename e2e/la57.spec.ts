/**
 * Pointers on a real 5-level-paging dump (fixtures/dumps/6.1-la57-hung-locks: Debian 6.1, la57,
 * KASLR: direct map at 0xff189f67..., stacks in vmalloc at 0xff46c184..., vmemmap at 0xffa3125e...).
 * Numbers are links when they lie in the dump's own address ranges (api.layout() ->
 * workers/analysis/layout.ts), not by a 0xffff prefix: the summary's panic task opens its
 * backtrace; in the Memory view with a task_struct overlay the pointer members (stack, mm,
 * active_mm, parent, tasks.next) are links and following one lands where crash says (oracle/
 * rd.json, ps.json: crash 9.0.2 on this dump); RAX = -ENOSYS and small integers are not links;
 * the backtrace's stack addresses and the console's addresses (ps, kmem ADDR) are links.
 * Screenshots: test-results/screenshots/la57-*.png.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, ROOT, test } from './fixtures';

const DIR = join(ROOT, 'fixtures/dumps/6.1-la57-hung-locks');
const DUMP = join(DIR, 'vmcore.kdump-zlib');
const SHOTS = 'test-results/screenshots';

test.skip(!existsSync(DUMP), 'fixtures/dumps/6.1-la57-hung-locks absent');
test.describe.configure({ mode: 'serial' });

interface PsRow { pid: number; ppid: number; cpu: number; task: string; comm: string; active: boolean }
const orc = (f: string) => JSON.parse(readFileSync(join(DIR, 'oracle', f), 'utf8'));
const ps = (existsSync(DUMP) ? orc('ps.json') : []) as PsRow[];
const drgn = existsSync(DUMP) ? orc('drgn.json') : { crashed_thread: {} };
const rd = (existsSync(DUMP) ? orc('rd.json') : []) as Array<{ what: string; address: string; words: string[] }>;
/** crash's bt -a / foreach bt: "#n [SP] fn at PC" lines of one PID */
function btSps(file: string, pid: number): string[] {
  const txt = readFileSync(join(DIR, 'oracle', file), 'utf8');
  const blocks = txt.split(/\n(?=PID: )/);
  const b = blocks.find((x) => new RegExp(`^PID: ${pid}\\s`).test(x.replace(/^@@@ORACLE[^\n]*\n/, ''))) ?? '';
  return [...b.matchAll(/#\s*\d+ \[([0-9a-f]{16})\]/g)].map((m) => m[1]);
}
const bare = (h: string) => BigInt(h).toString(16).padStart(16, '0');

async function open(page: Page): Promise<string> {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(DUMP);
  await expect(page.getByTestId('headline')).toBeVisible({ timeout: 60_000 });
  return ((await page.getByTestId('status-fingerprint').textContent()) ?? '').trim();
}

async function go(page: Page, fp: string, view: string): Promise<void> {
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/${view}`);
}

/** the value cell of a struct card member */
const member = (page: Page, name: string): Locator => page.getByTestId('struct-card').locator(`[data-member="${name}"] .mv`).first();

test('summary: the panic task (khungtaskd, a 5-level kernel thread) opens its backtrace', async ({ page }) => {
  const crashed = drgn.crashed_thread as { tid: number; task: string; comm: string };
  const fp = await open(page);
  const link = page.getByTestId('panic-task');
  await expect(link).toContainText(`PID ${crashed.tid} ${crashed.comm}`);
  await page.screenshot({ path: `${SHOTS}/la57-summary.png`, fullPage: true });
  await link.click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/bt(/${crashed.tid})?$`));
  const frames = page.getByTestId('frames');
  await expect(frames).toContainText('watchdog', { timeout: 60_000 });
  // the frames' stack addresses (vmalloc, 0xff46...) are crash's and are links
  const sps = btSps('bt-a.txt', crashed.tid);
  expect(sps.length).toBeGreaterThan(2);
  for (const sp of sps) await expect(frames.getByRole('link', { name: new RegExp(`^(0x)?${sp}$`) }).first()).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/la57-panic-task-bt.png` });
  // following one opens the stack there
  await frames.getByRole('link', { name: new RegExp(`^(0x)?${sps[0]}$`) }).first().click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/(0x)?${sps[0]}`));
});

test('task_struct overlay: stack, mm, active_mm, parent, tasks.next are links and land where crash says; pid is not', async ({ page }) => {
  const fp = await open(page);
  const init = ps.find((t) => t.pid === 1)!;
  const parent = ps.find((t) => t.pid === init.ppid && t.cpu === 0)!; // swapper/0 = init_task (kernel image)
  const next = ps.find((t) => t.pid === 2)!; // kthreadd: the next on the tasks list after init
  const words = rd.find((r) => BigInt(r.address) === BigInt(init.task))!.words;
  await go(page, fp, `mem/${init.task}?type=task_struct`);
  const card = page.getByTestId('struct-card');
  await expect(card).toContainText('task_struct', { timeout: 60_000 });

  // stack: a vmalloc address (0xff46...), equal to crash's rd word at its offset
  const stack = member(page, 'stack');
  const stackLink = stack.getByRole('link');
  await expect(stackLink).toHaveCount(1);
  const off = parseInt(((await card.locator('[data-member="stack"] .mo').first().textContent()) ?? '').replace('+0x', ''), 16);
  const want = words[off / 8];
  expect(want, `crash rd has task_struct+0x${off.toString(16)}`).toBeTruthy();
  expect(BigInt((await stackLink.textContent())!.trim())).toBe(BigInt(want));
  // the stack holds every SP crash's bt prints for init
  const sps = btSps('bt-foreach-s.txt', 1).map((s) => BigInt('0x' + s));
  expect(sps.length).toBeGreaterThan(2);
  for (const sp of sps) expect(sp >= BigInt(want) && sp < BigInt(want) + 0x10000n).toBe(true);

  // mm and active_mm: direct-map pointers (init is a user process: mm == active_mm)
  for (const m of ['mm', 'active_mm']) await expect(member(page, m).getByRole('link')).toHaveCount(1);
  const mm = (await member(page, 'mm').getByRole('link').textContent())!.trim();
  expect(mm).toMatch(/^0xff/);
  expect(await member(page, 'active_mm').getByRole('link').textContent()).toBe(mm);
  // small integers are not links
  for (const m of ['pid', 'tgid', 'prio']) {
    await expect(member(page, m)).toBeVisible();
    await expect(member(page, m).getByRole('link')).toHaveCount(0);
  }
  await expect(member(page, 'pid')).toContainText('1');
  await page.screenshot({ path: `${SHOTS}/la57-task_struct.png` });

  // parent: init_task in the kernel image (ps: init's PPID 0 = swapper/0); following it lands there as a task_struct
  const par = member(page, 'parent').getByRole('link');
  await expect(par).toHaveText(new RegExp(`^0x${BigInt(parent.task).toString(16)}$`));
  await par.click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/0x${BigInt(parent.task).toString(16)}.*type=task_struct`));
  await expect(member(page, 'comm')).toContainText('swapper');
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`mem/${init.task}`));

  // tasks.next: the next task's tasks member; container_of lands on kthreadd (ps: PID 2)
  const tasks = page.getByTestId('struct-card').locator('[data-member="tasks"] .mv').first();
  await expect(tasks.getByRole('link').first()).toBeVisible();
  const nextPtr = BigInt((await tasks.getByRole('link').first().textContent())!.trim());
  const tasksOff = BigInt(parseInt(((await card.locator('[data-member="tasks"] .mo').first().textContent()) ?? '').replace('+0x', ''), 16));
  expect(nextPtr).toBe(BigInt(next.task) + tasksOff);
  await tasks.getByRole('link').first().click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/0x${nextPtr.toString(16)}`));
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`mem/${init.task}`));
  await page.getByTestId('struct-card').locator('[data-member="tasks"]').first().getByRole('button', { name: /next task_struct/ }).click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/0x${BigInt(next.task).toString(16)}.*type=task_struct`));
  await expect(member(page, 'pid')).toContainText('2');
  await expect(member(page, 'comm')).toContainText('kthreadd');

  // stack: following it lands on the stack page
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`mem/${init.task}`));
  await member(page, 'stack').getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/0x${BigInt(want).toString(16)}`));
  // mm: lands on the mm_struct (its owner is init)
  await page.goBack();
  await member(page, 'mm').getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/${mm}.*type=mm_struct`));
  await expect(member(page, 'owner').getByRole('link')).toHaveText(new RegExp(`^0x${BigInt(init.task).toString(16)}$`));
  await page.screenshot({ path: `${SHOTS}/la57-mm_struct.png` });
});

test('backtrace of init: user RAX = -ENOSYS and user addresses are not links; kernel stack addresses are', async ({ page }) => {
  const fp = await open(page);
  await go(page, fp, 'bt/1');
  const frames = page.getByTestId('frames');
  await expect(frames).toContainText('do_syscall_64', { timeout: 60_000 });
  const sps = btSps('bt-foreach-s.txt', 1);
  for (const sp of sps) await expect(frames.getByRole('link', { name: new RegExp(`^(0x)?${sp}$`) }).first()).toBeVisible();
  const regs = frames.getByTestId('registers').last();
  await expect(regs).toContainText('ffffffffffffffda');
  await expect(regs.getByRole('link', { name: 'ffffffffffffffda' })).toHaveCount(0);
  await expect(regs.getByRole('link', { name: /^00007ff/ })).toHaveCount(0);
  await expect(regs.getByRole('link')).toHaveCount(0); // a user-mode frame: no register holds a kernel address
  await page.screenshot({ path: `${SHOTS}/la57-bt-init.png` });
});

test('console: ps task addresses and kmem ADDR addresses are links and follow', async ({ page }) => {
  const fp = await open(page);
  await page.keyboard.press('6');
  await expect(page).toHaveURL(new RegExp(`#/${fp}/console$`));
  await expect.poll(() => page.evaluate(() => !!document.activeElement?.closest('[data-testid=command-editor]'))).toBe(true);
  const tr = page.getByTestId('transcript');
  await page.keyboard.type('ps');
  await page.keyboard.press('Enter');
  const init = ps.find((t) => t.pid === 1)!;
  // the transcript is virtualized and scrolled to the end: the last tasks of crash's ps are on screen
  const tail = [...ps].sort((a, b) => a.pid - b.pid).slice(-3);
  for (const t of tail) await expect(tr.getByRole('link', { name: bare(t.task) })).toHaveCount(1, { timeout: 60_000 });
  // PIDs, %MEM, sizes are not links
  await expect(tr.getByRole('link', { name: /^\d{1,6}$/ })).toHaveCount(0);
  await page.getByTestId('command-editor').click();
  await page.keyboard.type(`kmem ${bare(init.task)}`);
  await page.keyboard.press('Enter');
  // crash's kmem ADDR: cache, slab, memory (direct map), vmemmap page: all links
  const kmem = readFileSync(join(DIR, 'oracle/kmem-addr.txt'), 'utf8').split('@@@ORACLE').find((b) => b.startsWith(` kmem ${bare(init.task)}`))!;
  const addrs = [...new Set([...kmem.matchAll(/\b(ff[0-9a-f]{14})\b/g)].map((m) => m[1]))];
  expect(addrs.length).toBeGreaterThanOrEqual(4);
  const last = tr.locator('.trow.out');
  for (const a of addrs) await expect(last.getByRole('link', { name: a }).first()).toBeVisible({ timeout: 60_000 });
  await page.screenshot({ path: `${SHOTS}/la57-console.png` });
  // the slab page in vmemmap (0xffa3...) follows to itself
  const vm = addrs.find((a) => a.startsWith('ffa'))!;
  expect(vm).toBeTruthy();
  await last.getByRole('link', { name: vm }).first().click();
  await expect(page).toHaveURL(new RegExp(`#/${fp}/mem/0x${vm}`));
});
