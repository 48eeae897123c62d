#!/usr/bin/env node
// The Node entry of the engine: `npx vmcore <dump> '<command>' [--json]` (see README).
// It runs the bundle that scripts/build-cli.mjs builds into cli/dist/ (`npm ci` builds it: the
// `prepare` step), rebuilt first when a source is newer, run with V8's code cache (cli/built.mjs).
// VMCORE_FROM_SOURCE=1 runs cli/main.ts through tsx instead (a dev dependency).
import { loadBuilt, loadCli } from './built.mjs';

const argv = process.argv.slice(2);
// usage only: the small module entry (the bundle's code cache would cost more than it saves)
const usage = argv.length === 0 || argv.includes('-h') || argv.includes('--help');
let loaded;
try {
  loaded = usage
    ? { cli: await loadBuilt('vmcore.mjs', new URL('./main.ts', import.meta.url).href), saveCodeCache: () => undefined }
    : await loadCli();
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
}
process.exitCode = await loaded.cli.main(argv);
loaded.saveCodeCache();
