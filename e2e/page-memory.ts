import type { Page } from '@playwright/test';

/**
 * Bytes the page and its workers hold (performance.measureUserAgentSpecificMemory, which needs a
 * cross-origin isolated page), or null when Chromium cannot say within a minute. Used by the
 * scale spec and bench/http-range.ts.
 */
export async function pageMemory(page: Page): Promise<number | null> {
  return page.evaluate(async () => {
    const p = performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> };
    if (!p.measureUserAgentSpecificMemory || !crossOriginIsolated) return null;
    const late = new Promise<null>((r) => setTimeout(() => r(null), 60_000));
    return Promise.race([p.measureUserAgentSpecificMemory().then((m) => m.bytes), late]);
  });
}
