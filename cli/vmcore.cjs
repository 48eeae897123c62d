#!/usr/bin/env node
// The Node entry of the engine: `npx vmcore <dump> '<command>' [--json]` (see README).
// It runs the bundle that scripts/build-cli.mjs builds into cli/dist/ (`npm ci` builds it: the
// `prepare` step), rebuilt first when a source is newer, run with V8's code cache (cli/built.cjs).
// VMCORE_FROM_SOURCE=1 runs cli/main.ts through tsx instead (a dev dependency). CommonJS: an ES
// module entry would cost every command Node's ES module loader first (cli/built.cjs).
'use strict';
const { setFlagsFromString } = require('node:v8');
const { pathToFileURL } = require('node:url');
const { join } = require('node:path');
const { loadBuilt, loadCli } = require('./built.cjs');

// V8 optimizes a function once it has run through a budget of bytecode. A command that finishes in
// a few hundred milliseconds exits before most of that compiling pays back: at 15 times V8 11's
// default budget (67584) the same commands take 3-24% less CPU (measured: README, Benchmarks).
// The same goes for WebAssembly: libzstd's sequence decoder is one function of 23 KB, which V8's
// optimizing compiler takes 65-105 ms and 15 MB of fresh memory to compile while a short command
// decodes its few thousand zstd pages with the baseline code anyway; short work keeps wasm in the
// baseline compiler (--liftoff-only: 6.12's sys 0.70x the CPU, 4.5k fewer page faults).
// Long work (a script, a prompt, standard input, a scan of the whole dump, any command still
// reading the dump after 300 ms of wall and CPU time: main()'s longWork) goes back to the defaults, where the hot loops
// are optimized early; main() then has the wasm page decoders compiled again, as V8 settles a
// module's tiers when it compiles it. --liftoff-only turns wasm tier-up off by implication, so
// long work turns it on again by name, and V8's cache of compiled modules is off (else the new
// module of the same bytes would be the old one). The flags are set before the bundle is compiled
// and set again before its code cache is written, so V8 (whose cache records the flags) always
// reads the cache under the flags it was written with. Flags of these kinds given on node's
// command line are left alone. The wasm flags are the ones V8 11 (Node 20) has, where they were
// measured; V8 prints an error for a flag it does not know, so other versions are not given them.
const V8_11 = process.versions.v8.startsWith('11.');
const SHORT_WORK = ['--interrupt-budget=1000000', ...(V8_11 ? ['--liftoff-only', '--no-wasm-native-module-cache-enabled'] : [])];
const LONG_WORK = ['--interrupt-budget=67584', ...(V8_11 ? ['--no-liftoff-only', '--wasm-tier-up', '--wasm-dynamic-tiering'] : [])];
const ownFlags = !process.execArgv.some((a) => /^--(no-)?(interrupt-budget|liftoff|wasm-tier-up|wasm-dynamic-tiering|wasm-native-module-cache)/.test(a));
const setFlags = (flags) => flags.forEach((f) => setFlagsFromString(f));
if (ownFlags) setFlags(SHORT_WORK);

async function run() {
  const argv = process.argv.slice(2);
  // usage only: the small module entry (the bundle's code cache would cost more than it saves)
  const usage = argv.length === 0 || argv.includes('-h') || argv.includes('--help');
  let loaded;
  try {
    loaded = usage
      ? { cli: await loadBuilt('vmcore.mjs', pathToFileURL(join(__dirname, 'main.ts')).href), saveCodeCache: () => undefined }
      : await loadCli();
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  }
  // VMCORE_LONG_AFTER_MS moves the 300 ms after which a command counts as long (tests pin it)
  const longAfterEnv = process.env.VMCORE_LONG_AFTER_MS;
  const longAfterMs = longAfterEnv && Number(longAfterEnv) >= 0 ? Number(longAfterEnv) : undefined;
  const hooks = ownFlags ? { longWork: () => setFlags(LONG_WORK), longAfterMs } : {};
  process.exitCode = await loaded.cli.main(argv, undefined, undefined, hooks);
  if (ownFlags) setFlags(SHORT_WORK);
  loaded.saveCodeCache();
}

void run();
