#!/usr/bin/env node
// The Node entry of the engine: `npx vmcore <dump> '<command>' [--json]` (see README).
// It runs the bundle that scripts/build-cli.mjs builds into cli/dist/ (`npm ci` builds it: the
// `prepare` step), rebuilt first when a source is newer (cli/built.mjs).
// VMCORE_FROM_SOURCE=1 runs cli/main.ts through tsx instead (a dev dependency).
import { loadBuilt } from './built.mjs';

let cli;
try {
  cli = await loadBuilt('vmcore.mjs', new URL('./main.ts', import.meta.url).href);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
