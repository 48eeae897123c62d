/**
 * Memory of an opened -dbg vmlinux in real Chromium (Debian's /usr/bin/chromium), against the
 * production build (`vite preview`, started here when nothing answers on the port): pick the
 * sample dump with Debian's vmlinux-6.1.0-56-amd64 (0.6 GB, read by slices from the File), then
 * run what reads its DWARF: the Backtrace panel (bt --json with source lines and inlined calls),
 * the panic frame's variables (bt --locals), and `bt -l` and `struct sk_buff -o` in the console.
 * Prints the JS heap of the page and of the engine's worker after each step, from
 * performance.measureUserAgentSpecificMemory() (the page is cross-origin isolated), and the same
 * for the dump alone (no vmlinux) as the baseline.
 *
 *   npx tsx bench/vmlinux-browser.ts [vmlinux]      (E2E_PORT / BENCH_PORT: the preview port)
 */
import { chromium, type Page } from '@playwright/test';
import { ensurePreview, stopPreview } from './preview';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PORT = Number(process.env.BENCH_PORT ?? process.env.E2E_PORT ?? 5173);
const BASE = `http://127.0.0.1:${PORT}`;
const REL = '6.1.0-56-amd64';
const VMLINUX = process.argv[2] ?? fileURLToPath(new URL(`../../dbg/${REL}/usr/lib/debug/boot/vmlinux-${REL}`, import.meta.url));
const DUMP = fileURLToPath(new URL('../public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib', import.meta.url));


interface Mem {
  page: number;
  worker: number;
  total: number;
}

/** JS heap of the page's window and its dedicated workers (bytes). */
async function measure(page: Page): Promise<Mem> {
  // the browser side as plain JS text: tsx would wrap named functions in __name() helpers
  const r = (await page.evaluate(`(async () => {
    const m = await performance.measureUserAgentSpecificMemory();
    return { bytes: m.bytes, breakdown: m.breakdown.map((b) => ({ bytes: b.bytes, types: b.types, scope: b.attribution.map((a) => a.scope) })) };
  })()`)) as { bytes: number; breakdown: Array<{ bytes: number; types: string[]; scope: string[] }> };
  let worker = 0;
  let win = 0;
  for (const b of r.breakdown) {
    if (b.scope.includes('DedicatedWorkerGlobalScope')) worker += b.bytes;
    else if (b.scope.includes('Window')) win += b.bytes;
  }
  return { page: win, worker, total: r.bytes };
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

async function run(page: Page, files: string[], label: string): Promise<Array<[string, Mem]>> {
  const out: Array<[string, Mem]> = [];
  await page.goto(BASE + '/');
  if (!(await page.evaluate('crossOriginIsolated'))) throw new Error('the page is not cross-origin isolated: measureUserAgentSpecificMemory is unavailable');
  await page.getByTestId('file-input').setInputFiles(files);
  await page.getByTestId('panic').waitFor({ timeout: 120_000 });
  out.push([`${label}: opened`, await measure(page)]);
  await page.getByRole('navigation', { name: 'panels' }).getByText('Backtrace').click();
  await page.locator('table.frames tr.frame').first().waitFor({ timeout: 120_000 });
  if (files.length > 1) await page.getByTestId('frame-var').first().waitFor({ timeout: 120_000 });
  out.push([`${label}: Backtrace panel (bt, bt --locals)`, await measure(page)]);
  await page.getByRole('navigation', { name: 'panels' }).getByText('Console').click();
  const ed = page.getByTestId('command-editor');
  await ed.waitFor();
  const prompts = page.getByTestId('transcript').locator('.trow.prompt');
  // each command's last line: the syscall entry frame of the panic task, the struct's size
  for (const [cmd, end] of [
    ['bt -l', 'entry_SYSCALL_64'],
    ['struct sk_buff -o', 'SIZE: '],
  ]) {
    const before = await prompts.count();
    await ed.click();
    await page.keyboard.type(cmd);
    await page.keyboard.press('Escape'); // close the completion list: Enter runs the line as typed
    await page.keyboard.press('Enter');
    for (let k = 0; k < 240 && (await prompts.count()) <= before; k++) await page.waitForTimeout(500);
    const tr = page.getByTestId('transcript');
    for (let k = 0; k < 240; k++) {
      const t = await tr.innerText();
      if (t.slice(t.lastIndexOf(`crash> ${cmd}`)).includes(end)) break;
      await page.waitForTimeout(500);
    }
    await page.waitForTimeout(1000);
  }
  out.push([`${label}: + bt -l, struct sk_buff -o`, await measure(page)]);
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(VMLINUX)) throw new Error(`${VMLINUX} absent (scripts/fetch-dbg.sh ${REL})`);
  const server = await ensurePreview(BASE, PORT);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--enable-blink-features=ForceEagerMeasureMemory'],
  });
  try {
    const rows: Array<[string, Mem]> = [];
    for (const [files, label] of [
      [[DUMP], 'dump alone'],
      [[DUMP, VMLINUX], 'dump + vmlinux'],
    ] as const) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
      page.on('pageerror', (e) => console.log('[pageerror]', e.message));
      rows.push(...(await run(page, [...files], label)));
      await page.close();
    }
    console.log(`${'step'.padEnd(48)} ${'page'.padStart(10)} ${'worker'.padStart(10)} ${'total'.padStart(10)}`);
    for (const [k, m] of rows) console.log(`${k.padEnd(48)} ${mib(m.page).padStart(10)} ${mib(m.worker).padStart(10)} ${mib(m.total).padStart(10)}`);
  } finally {
    await browser.close();
    stopPreview(server);
  }
}

void main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
