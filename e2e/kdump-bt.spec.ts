/**
 * The Backtrace panel on a dump the kernel wrote itself (kexec -p capture kernel + makedumpfile:
 * fixtures/dumps/6.1-kdump-kexec-skb-uaf): the crashing CPU's frames from machine_kexec down to the
 * page fault's exception frame, and the other CPU's NMI-stack frames (crash_nmi_callback ...
 * end_repeat_nmi), as crash 9.0.2 shows them (oracle/bt-a.txt).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, ROOT } from './fixtures';

const DUMP = join(ROOT, 'fixtures/dumps/6.1-kdump-kexec-skb-uaf/vmcore.kdump-zlib');

test.skip(!existsSync(DUMP), `${DUMP} absent`);

test('kdump: bt shows machine_kexec .. asm_exc_page_fault above the exception frame, and the NMI stack of the other CPU', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([DUMP]);
  await expect(page.getByTestId('panic')).toBeVisible();
  await page.getByRole('navigation', { name: 'panels' }).getByText('Backtrace').click();
  const frames = page.getByTestId('frames');
  for (const fn of ['machine_kexec', '__crash_kexec', 'crash_kexec', 'oops_end', 'page_fault_oops', 'exc_page_fault', 'asm_exc_page_fault', 'skb_release_data+0x11d', 'kfree_skb_reason']) {
    await expect(frames).toContainText(fn);
  }
  await expect(frames.locator('tr.frame').first()).toContainText('0xffffc900003d3a88');
  await page.screenshot({ path: 'test-results/kdump-bt-panic.png' });
  // the other CPU: its idle task, stopped by the crash NMI
  await page.getByTestId('tasks').locator('.task', { hasText: 'swapper/1' }).first().click();
  for (const fn of ['crash_nmi_callback', 'default_do_nmi', 'exc_nmi', 'end_repeat_nmi', 'native_safe_halt+0xb', 'NMI exception stack', 'amd_e400_idle']) {
    await expect(frames).toContainText(fn);
  }
  await page.screenshot({ path: 'test-results/kdump-bt-nmi.png' });
  // bt -a as crash prints it: the stack-switch marker
  await page.getByRole('button', { name: 'every CPU (bt -a)' }).click();
  await expect(page.locator('pre.output').first()).toContainText('--- <NMI exception stack> ---');
});
