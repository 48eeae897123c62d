#!/usr/bin/env node
// The Node entry of the engine: `npx vmcore <dump> '<command>' [--json]` (see README).
// It runs the bundle that scripts/build-cli.mjs builds into cli/dist/ (`npm ci` builds it: the
// `prepare` step), rebuilt first when a source is newer, run with V8's code cache (cli/built.mjs).
// VMCORE_FROM_SOURCE=1 runs cli/main.ts through tsx instead (a dev dependency).
import { loadCli } from './built.mjs';

let loaded;
try {
  loaded = await loadCli();
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
}
process.exitCode = await loaded.cli.main(process.argv.slice(2));
loaded.saveCodeCache();
