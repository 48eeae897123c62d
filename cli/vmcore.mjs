#!/usr/bin/env node
// The Node entry of the engine: `npx vmcore <dump> '<command>' [--json]` (see README).
// It runs the bundle that scripts/build-cli.mjs builds into cli/dist/ (`npm ci` builds it: the
// `prepare` step). When a source file is newer than that build (an edit, a merge, a checkout) it
// builds again first (~1 s, once), so what runs is always the sources of this checkout.
// VMCORE_FROM_SOURCE=1 runs cli/main.ts through tsx instead (a dev dependency).
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const dist = new URL('cli/dist/', root);

/** Whether cli/dist/ was built after the last change of every file that went into it. */
function fresh() {
  let meta;
  try {
    meta = JSON.parse(readFileSync(new URL('inputs.json', dist), 'utf8'));
    statSync(new URL('vmcore.mjs', dist));
  } catch {
    return false;
  }
  for (const p of meta.inputs) {
    try {
      if (statSync(new URL(p, root)).mtimeMs > meta.builtAt) return false;
    } catch {
      return false; // an input is gone: build again
    }
  }
  return true;
}

async function fromSource() {
  const { register } = await import('tsx/esm/api');
  register();
  return import('./main.ts');
}

let cli;
if (process.env.VMCORE_FROM_SOURCE === '1') cli = await fromSource();
else {
  if (!fresh()) {
    try {
      const { buildCli } = await import('../scripts/build-cli.mjs');
      await buildCli();
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      try {
        statSync(new URL('vmcore.mjs', dist));
        process.stderr.write(`vmcore: warning: could not rebuild cli/dist (${why}); running the previous build\n`);
      } catch {
        try {
          cli = await fromSource();
        } catch {
          process.stderr.write(`vmcore: the CLI is not built and cannot be (${why}); run npm ci\n`);
          process.exit(1);
        }
      }
    }
  }
  cli ??= await import('./dist/vmcore.mjs');
}
process.exitCode = await cli.main(process.argv.slice(2));
