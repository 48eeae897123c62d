import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in real Chromium (Debian's /usr/bin/chromium: no browser download) against
 * a production build served by `vite preview` (same CSP/COOP/COEP headers and Range middleware
 * as dev, see vite.config.ts), on real sample dumps from public/samples/. Not the dev server:
 * the engine is edited all the time and every save of a worker module reloads a dev page
 * mid-test. One worker: the machine has two cores and each test opens a 17 MB dump.
 */
// E2E_PORT lets several checkouts run their e2e suites side by side on one machine.
const PORT = Number(process.env.E2E_PORT ?? 5173);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  // CI: a test that fails once is run once more and reported as flaky (the timing-bound specs on
  // a shared 2-core machine); locally a failure is a failure
  retries: process.env.CI ? 1 : 0,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1400, height: 860 },
    colorScheme: 'dark',
    // Traces record every network body: with the engine's hundreds of 16 KiB Range reads per
    // opened URL that triples a test's time on this 2-core machine. PWTRACE=1 turns them on.
    trace: process.env.PWTRACE ? 'retain-on-failure' : 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  webServer: {
    command: `npx vite build --logLevel warn && npx vite preview --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
