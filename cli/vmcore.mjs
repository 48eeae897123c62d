#!/usr/bin/env node
// The Node entry of the engine: `npx vmcore <dump> '<command>' [--json]` (see README).
// It runs the bundle that scripts/build-cli.mjs builds into cli/dist/ (`npm ci` builds it: the
// `prepare` step), rebuilt first when a source is newer, run with V8's code cache (cli/built.mjs).
// VMCORE_FROM_SOURCE=1 runs cli/main.ts through tsx instead (a dev dependency).
import { setFlagsFromString } from 'node:v8';
import { loadBuilt, loadCli } from './built.mjs';

// V8 optimizes a function once it has run through a budget of bytecode. A command that finishes in
// a few hundred milliseconds exits before most of that compiling pays back: at 15 times V8 11's
// default budget (67584) the same commands take 3-24% less CPU (measured: README, Benchmarks).
// Long work (a script, a prompt, standard input, a scan of the whole dump, any command still
// reading the dump 300 ms in: main()'s longWork) goes back to the default, where the hot loops are
// optimized early. The budget is raised before
// the bundle is compiled and is raised again before its code cache is written, so V8 (whose
// cache records the flags) always reads the cache under the flags it was written with. A budget
// given on the command line is left alone.
const SHORT_WORK = '--interrupt-budget=1000000';
const LONG_WORK = '--interrupt-budget=67584';
const ownBudget = !process.execArgv.some((a) => a.startsWith('--interrupt-budget'));
if (ownBudget) setFlagsFromString(SHORT_WORK);

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
const hooks = ownBudget ? { longWork: () => setFlagsFromString(LONG_WORK) } : {};
process.exitCode = await loaded.cli.main(argv, undefined, undefined, hooks);
if (ownBudget) setFlagsFromString(SHORT_WORK);
loaded.saveCodeCache();
