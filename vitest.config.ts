import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['workers/**/*.test.ts', 'cli/**/*.test.ts', 'app/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real dumps are big: run files in a few forks, not one per core of a big machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
