/**
 * Hex view scrolling in real Chromium (Debian's /usr/bin/chromium): open a sample dump in the
 * production build (`vite preview`, started here when nothing answers on the port), land the
 * Memory panel at a direct-map address, then scroll through 1 MiB in 10,000 steps, one step per
 * animation frame (scrollTop += 1 MiB / 10k, ~105 bytes = 6.5 rows), the way a held PgDn or a
 * fast wheel does. Prints:
 *  - frame times: requestAnimationFrame deltas over the run (median, p95, max, frames > 50 ms);
 *  - content latency: how many frames showed a visible row whose bytes had not arrived yet;
 *  - pages fetched from the engine and the UI's chunk cache size;
 *  - JS heap (CDP Runtime.getHeapUsage) before, after the 10k steps, and after a forced GC;
 *  - DOM rows at the end (virtualization: only visible rows exist).
 *
 *   npx tsx bench/hexview.ts [sample] [start-address]
 */
import { chromium } from '@playwright/test';
import { ensurePreview, stopPreview } from './preview';
import { readdirSync } from 'node:fs';

const PORT = 5173;
const BASE = `http://127.0.0.1:${PORT}`;
const SAMPLE = process.argv[2] ?? '6.1-skb-uaf-0x106';
const START = process.argv[3] ?? '0xffff888005000000';
const STEPS = 10_000;
const SPAN = 1 << 20;


function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main(): Promise<void> {
  const server = await ensurePreview(BASE, PORT);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (e) => console.log('[pageerror]', e.message));
    await page.goto(BASE + '/');
    // drop the dump (FileReaderSync in the worker, as a user's drop)
    const file = readdirSync(new URL(`../public/samples/${SAMPLE}/`, import.meta.url)).find((f) => f.startsWith('vmcore.'));
    if (!file) throw new Error(`no vmcore.* in public/samples/${SAMPLE}`);
    const url = `/samples/${SAMPLE}/${file}`;
    await page.evaluate(async (u) => {
      const blob = await (await fetch(u)).blob();
      const dt = new DataTransfer();
      dt.items.add(new File([blob], u.split('/').pop()!, { type: 'application/octet-stream' }));
      window.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, url);
    await page.getByTestId('status-fingerprint').waitFor();
    const fp = (await page.getByTestId('status-fingerprint').textContent())!.trim();
    await page.evaluate((h) => (window.location.hash = h), `#/${fp}/mem/${START}`);
    await page.locator('[data-testid=hex] .hr:not(.loading)').first().waitFor({ timeout: 60_000 });
    await page.waitForTimeout(500);

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap0 = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };

    // the browser side as plain JS text: tsx would wrap named functions in __name() helpers
    const SCROLL_JS = `(({ steps, span }) =>
        new Promise((resolve) => {
          const el = document.querySelector('[data-testid=hex]');
          const px = (span / 16 / steps) * 18;
          const deltas = [];
          let stale = 0;
          let last = performance.now();
          const t0 = last;
          let i = 0;
          const first = (el.querySelector('.hr .ha') )?.textContent ?? '';
          let acc = 0;
          const step = (now) => {
            deltas.push(now - last);
            last = now;
            // a visible row still waiting for its bytes?
            const top = el.getBoundingClientRect().top;
            const bottom = top + el.clientHeight;
            for (const row of el.querySelectorAll('.hr.loading')) {
              const b = row.getBoundingClientRect();
              if (b.bottom > top && b.top < bottom) {
                stale++;
                break;
              }
            }
            if (i++ >= steps) {
              const rows = el.querySelectorAll('.hr');
              const vis = [...rows].filter((x) => {
                const b = x.getBoundingClientRect();
                return b.top >= top && b.bottom <= bottom;
              });
              resolve({
                deltas: deltas.slice(1),
                stale,
                rowsEnd: rows.length,
                ms: now - t0,
                firstVisible: first,
                lastVisible: (vis[0]?.querySelector('.ha') )?.textContent ?? '',
              });
              return;
            }
            acc += px;
            const whole = Math.floor(acc);
            acc -= whole;
            el.scrollTop += whole;
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        }))`;
    type Run = { deltas: number[]; stale: number; rowsEnd: number; ms: number; firstVisible: string; lastVisible: string };
    const r = (await page.evaluate(`${SCROLL_JS}(${JSON.stringify({ steps: STEPS, span: SPAN })})`)) as Run;
    const heap1 = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    await cdp.send('HeapProfiler.collectGarbage');
    const heap2 = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };

    const d = r.deltas;
    const mb = (n: number) => (n / 1048576).toFixed(1) + ' MiB';
    const moved = BigInt('0x' + r.lastVisible) - BigInt(START);
    console.log(`hex view scroll: ${SAMPLE} from ${START}, ${STEPS} steps (one per frame), ${(SPAN / 1024).toFixed(0)} KiB`);
    console.log(`  moved                 ${moved} bytes (0x${r.firstVisible} -> 0x${r.lastVisible}) in ${(r.ms / 1000).toFixed(1)} s`);
    console.log(
      `  frame time (rAF)      median ${pct(d, 50).toFixed(1)} ms · p95 ${pct(d, 95).toFixed(1)} ms · max ${Math.max(...d).toFixed(1)} ms · >50 ms: ${d.filter((x) => x > 50).length} of ${d.length}`,
    );
    console.log(`  frames with a visible row still loading: ${r.stale} of ${d.length}`);
    console.log(`  DOM rows at the end   ${r.rowsEnd}`);
    console.log(`  JS heap (used)        before ${mb(heap0.usedSize)} · after 10k steps ${mb(heap1.usedSize)} · after GC ${mb(heap2.usedSize)}`);
  } finally {
    await browser.close();
    stopPreview(server);
  }
}

void main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
