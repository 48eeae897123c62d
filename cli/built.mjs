// Loads an entry of the CLI bundle (cli/dist/, built by scripts/build-cli.mjs), building it again
// first when a source file is newer than the build (~1 s, once), so what runs is always the
// sources of this checkout. Used by the `vmcore` bin (cli/vmcore.mjs) and by
// `import { open } from 'vmcore-workbench'` (cli/open.mjs): neither needs tsx at run time.
// VMCORE_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (a dev dependency).
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const dist = new URL('cli/dist/', root);

/** Whether cli/dist/ was built after the last change of every file that went into it. */
function fresh(entry) {
  let meta;
  try {
    meta = JSON.parse(readFileSync(new URL('inputs.json', dist), 'utf8'));
    statSync(new URL(entry, dist));
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

async function fromSource(source) {
  const { register } = await import('tsx/esm/api');
  register();
  return import(source);
}

/** The module of `entry` ('vmcore.mjs', 'open.mjs') in cli/dist/, or of `source` (a .ts beside this file) from source. */
export async function loadBuilt(entry, source) {
  if (process.env.VMCORE_FROM_SOURCE === '1') return fromSource(source);
  if (!fresh(entry)) {
    try {
      const { buildCli } = await import('../scripts/build-cli.mjs');
      await buildCli();
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      try {
        statSync(new URL(entry, dist));
        process.stderr.write(`vmcore: warning: could not rebuild cli/dist (${why}); running the previous build\n`);
      } catch {
        try {
          return await fromSource(source);
        } catch {
          throw new Error(`vmcore: the CLI is not built and cannot be (${why}); run npm ci`);
        }
      }
    }
  }
  return import(new URL(entry, dist).href);
}
