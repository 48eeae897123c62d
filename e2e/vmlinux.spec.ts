/**
 * A vmlinux / System.map beside a dump in the browser: picked with the dump (opened together), or
 * dropped into an open tab (added to it), read by slices from the File; a file of another kernel
 * build is refused with a one-line reason. Needs Debian's -dbg vmlinux of the sample's kernel
 * (scripts/fetch-dbg.sh 6.1.0-56-amd64); skips without it.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { expect, test, ROOT, SAMPLE } from './fixtures';

const REL = '6.1.0-56-amd64';
const DBG = process.env.VMCORE_DBG_DIR ?? join(ROOT, '../dbg');
const VMLINUX = join(DBG, REL, 'usr/lib/debug/boot', `vmlinux-${REL}`);
const READY = existsSync(join(DBG, REL, '.ready')) && existsSync(VMLINUX);
const DUMP = join(ROOT, 'public/samples', SAMPLE, 'vmcore.kdump-zlib');
const OTHER = join(ROOT, '../shared/dumps/6.12-skb-uaf-kaslr/vmcore.kdump-zstd');

/** A System.map of the vmlinux (nm -n), named as Debian names it. */
function systemMap(): string {
  const dir = join(tmpdir(), 'vmcore-workbench-cache', `sysmap-${statSync(VMLINUX).size}`);
  const out = join(dir, `System.map-${REL}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `nm -n "$1" > "$2.tmp" && mv "$2.tmp" "$2"`, 'sh', VMLINUX, out]);
  }
  return out;
}

test.skip(!READY, `no debug vmlinux in ${DBG}/${REL} (scripts/fetch-dbg.sh ${REL})`);

test('a dump picked together with its vmlinux: the vmlinux is matched and used', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([DUMP, VMLINUX]);
  await expect(page.getByTestId('debug-files')).toHaveText(`vmlinux-${REL} (vmlinux)`);
  await expect(page.getByRole('tab', { name: /vmcore\.kdump-zlib/ })).toHaveCount(1);
  await expect(page.getByTestId('panic')).toHaveText('Kernel panic - not syncing: Fatal exception');
  await page.getByText('as crash prints it (sys)').click();
  await expect(page.locator('pre.output')).toContainText(`KERNEL: vmlinux-${REL}`);
  // the Backtrace panel shows the calls inlined at the faulting RIP and each frame's source line
  await page.getByRole('navigation', { name: 'panels' }).getByText('Backtrace').click();
  const inl = page.getByTestId('inlined-frame');
  await expect(inl.first()).toContainText('(inlined)');
  await expect(inl.filter({ hasText: 'kfree_skb_list_reason' })).toContainText('net/core/skbuff.c:901');
  await expect(page.getByTestId('frame-source').first()).toContainText(/\.[ch]:\d+$/);
  await page.screenshot({ path: 'test-results/screenshots/vmlinux-backtrace-inlined.png' });
});

test('a System.map dropped into an open tab is added; a vmlinux of another build is refused', async ({ page }) => {
  test.skip(!existsSync(OTHER), `${OTHER} absent`);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([DUMP]);
  await expect(page.getByTestId('panic')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles([systemMap()]);
  await expect(page.getByTestId('debug-files')).toHaveText(`System.map-${REL} (system.map)`);
  // another kernel's dump with this vmlinux: refused in one line, no tab
  await page.getByTestId('file-input').setInputFiles([OTHER, VMLINUX]);
  await expect(page.getByTestId('error')).toContainText(`vmlinux-${REL} does not match the dump: build id`);
  await expect(page.getByRole('tab', { name: /vmcore\.kdump-zstd/ })).toHaveCount(0);
});

test('the panic frame\'s parameters and locals equal drgn\'s; a struct pointer expands and opens typed in the hex view', async ({ page }) => {
  // drgn 0.3.0's stack_trace()[i].locals() on this dump (the bt --locals test's oracle)
  const { frames: drgn } = JSON.parse(readFileSync(join(ROOT, 'workers/kernel/dwarf/testdata/drgn-0.3.0-locals-6.1-skb-uaf-0x106.json'), 'utf8')) as {
    frames: Array<{ pc: string; name: string; locals: Record<string, string> }>;
  };
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([DUMP, VMLINUX]);
  await expect(page.getByTestId('panic')).toBeVisible();
  await page.getByRole('navigation', { name: 'panels' }).getByText('Backtrace').click();
  // the exception frame is chosen first: skb_release_data at the faulting RIP
  const vars = page.getByTestId('frame-vars');
  await expect(vars).toContainText('Variables of skb_release_data');
  const rows = vars.getByTestId('frame-var');
  await expect(rows.first()).toBeVisible();
  const pc = await page.locator('table.frames tr.frame.on:not(.inlined) td').nth(2).innerText();
  const want = drgn.filter((f) => f.pc === pc.trim());
  expect(want.map((f) => f.name)).toEqual(['kfree_skb_list_reason', 'kfree_skb_list', 'skb_release_data']);
  await expect(vars.getByTestId('var-scope')).toHaveText(['kfree_skb_list_reason (inlined)', 'kfree_skb_list (inlined)', 'skb_release_data']);
  const shown: string[] = [];
  for (const r of await rows.all()) shown.push(`${await r.getAttribute('data-fn')}.${await r.getAttribute('data-name')} = ${(await r.getByTestId('var-value').innerText()).trim()}`);
  const expected = want.flatMap((f) => Object.entries(f.locals).map(([k, v]) => `${f.name}.${k} = ${v === '<absent>' ? 'optimized out' : v}`));
  expect(shown).toEqual(expected);
  await page.screenshot({ path: 'test-results/frame-vars-panic.png' });
  // skb (struct sk_buff *) expands as the typed object, and opens in the hex view with the overlay
  const skbRow = vars.locator('tr[data-fn="skb_release_data"][data-name="skb"]');
  await skbRow.getByRole('button').click();
  await expect(vars.getByTestId('typed-object')).toContainText('struct sk_buff {');
  await page.screenshot({ path: 'test-results/frame-vars-expanded.png' });
  // a caller frame: page_fault_oops's registers come from .debug_frame; its struct stack_info
  // lives on the stack (a value at an address) and expands as the typed object
  await page.locator('table.frames tr.frame', { hasText: 'page_fault_oops+' }).click();
  await expect(vars).toContainText('Variables of page_fault_oops');
  const pfo = drgn.find((f) => f.name === 'page_fault_oops')!;
  await expect(vars.locator('tr[data-name="address"]').getByTestId('var-value')).toHaveText(pfo.locals.address);
  await expect(vars.locator('tr[data-name="regs"]').getByTestId('var-value')).toHaveText(pfo.locals.regs);
  const info = vars.locator('tr[data-fn="page_fault_oops"][data-name="info"]');
  await info.getByRole('button').click();
  await expect(vars.getByTestId('typed-object')).toContainText('struct stack_info {');
  await page.screenshot({ path: 'test-results/frame-vars-caller.png' });
  await page.locator('table.frames tr.frame.exc', { hasText: 'skb_release_data+' }).click();
  await skbRow.getByRole('link', { name: '0xffff888005041e00' }).click();
  await expect(page).toHaveURL(/\/mem\/0xffff888005041e00\?type=sk_buff/);
  await expect(page.getByText('laying the type over')).toHaveCount(0);
  await expect(page.getByText('resolving 0xffff888005041e00')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/frame-vars-to-hex.png' });
});

test('a module .ko dropped with the dump and the vmlinux: module frames get source lines and variables', async ({ page }) => {
  const dir = join(ROOT, 'fixtures/dumps/6.1-la57-hung-locks');
  const dump = join(dir, 'vmcore.kdump-zlib');
  const ko = join(dir, 'hung_locks.ko');
  test.skip(!existsSync(dump), 'fixtures/dumps/6.1-la57-hung-locks absent');
  // the line of waiter_fn's call (pid 118) as addr2line reads the .ko (the module test checks every frame)
  const { frames: drgn } = JSON.parse(readFileSync(join(ROOT, 'workers/kernel/dwarf/testdata/drgn-0.3.0-locals-6.1-la57-hung-locks-118.json'), 'utf8')) as {
    frames: Array<{ pc: string; name: string; locals: Record<string, string> }>;
  };
  const wf = drgn.find((f) => f.name === 'waiter_fn')!;
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([dump, VMLINUX, ko]);
  await expect(page.getByTestId('panic')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('debug-files')).toHaveText(`vmlinux-${REL} (vmlinux), hung_locks.ko (module)`);
  const fp = ((await page.getByTestId('status-fingerprint').textContent()) ?? '').trim();
  await page.evaluate((h) => (window.location.hash = h), `#/${fp}/bt/118`);
  const row = page.locator('table.frames tr.frame', { hasText: 'waiter_fn+' });
  await expect(row).toBeVisible({ timeout: 60_000 });
  await expect(row.getByTestId('frame-source')).toContainText(/hung_locks\.c:\d+$/);
  await row.click();
  const vars = page.getByTestId('frame-vars');
  await expect(vars).toContainText('Variables of waiter_fn');
  await expect(vars.getByTestId('frame-var')).toHaveCount(Object.keys(wf.locals).length);
  await expect(vars.locator('tr[data-fn="waiter_fn"][data-name="arg"]')).toBeVisible();
  await page.screenshot({ path: 'test-results/module-debug-waiter-fn.png' });
});
