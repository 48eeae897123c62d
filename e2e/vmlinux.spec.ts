/**
 * A vmlinux / System.map beside a dump in the browser: picked with the dump (opened together), or
 * dropped into an open tab (added to it), read by slices from the File; a file of another kernel
 * build is refused with a one-line reason. Needs Debian's -dbg vmlinux of the sample's kernel
 * (scripts/fetch-dbg.sh 6.1.0-56-amd64); skips without it.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
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
