// Loads an entry of the CLI bundle (cli/dist/, built by scripts/build-cli.mjs), building it again
// first when a source file is newer than the build (~1 s, once), so what runs is always the
// sources of this checkout. Used by the `vmcore` bin (cli/vmcore.cjs) and by
// `import { open } from 'vmcore-workbench'` (cli/open.mjs): neither needs tsx at run time.
// VMCORE_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (a dev dependency).
// CommonJS, as the bin is: a process whose entry is an ES module first sets up Node's ES module
// loader (fs/promises, readline and a dozen more of Node's own modules), 8-12 ms of every command
// (README, CLI).
'use strict';
const { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const root = pathToFileURL(join(__dirname, '..', '/'));
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
async function loadBuilt(entry, source) {
  if (process.env.VMCORE_FROM_SOURCE === '1') return fromSource(source);
  return (await ensureBuilt(entry, source)) ?? import(new URL(entry, dist).href);
}

/**
 * The CLI for the `vmcore` bin: `{ cli, saveCodeCache }`. It runs cli/dist/vmcore-HASH.cjs (the
 * whole CLI as one CommonJS file, HASH of its content) through vm.Script with V8's code cache
 * (vmcore-HASH.cjs.cache beside it), so a process neither parses nor compiles what an earlier run
 * compiled; the ES module build when that file is missing. saveCodeCache() writes the cache after
 * a run that opened a dump when there was none or V8 refused it (another Node); a directory it
 * cannot write to (an installed package) just means no cache; it is written again after the
 * first run of each command shape (`kmem_s`, `kmem_arg`: cli/main.ts's noteVerb;
 * vmcore-HASH.cjs.cache.json lists them), so it grows to cover the commands in use. VMCORE_CODE_CACHE_DIR puts it elsewhere; VMCORE_CODE_CACHE=0 turns it off;
 * VMCORE_CODE_CACHE=report says on stderr whether V8 took it.
 */
async function loadCli() {
  const source = new URL('cli/main.ts', root).href;
  const none = () => undefined;
  if (process.env.VMCORE_FROM_SOURCE === '1') return { cli: await fromSource(source), saveCodeCache: none };
  const fallback = await ensureBuilt('vmcore.mjs', source);
  if (fallback) return { cli: fallback, saveCodeCache: none };
  let name;
  try {
    name = JSON.parse(readFileSync(new URL('inputs.json', dist), 'utf8')).cjs;
  } catch {
    // no build record: the module build below
  }
  let src;
  const file = typeof name === 'string' && /^vmcore-[0-9a-f]+\.cjs$/.test(name) ? fileURLToPath(new URL(name, dist)) : null;
  try {
    if (file) src = readFileSync(file, 'utf8');
  } catch {
    // removed meanwhile: the module build
  }
  if (!file || src === undefined) return { cli: await import(new URL('vmcore.mjs', dist).href), saveCodeCache: none };
  const mode = process.env.VMCORE_CODE_CACHE;
  const useCache = mode !== '0';
  const cacheDir = process.env.VMCORE_CODE_CACHE_DIR;
  const cacheFile = cacheDir ? join(cacheDir, `${name}.cache`) : `${file}.cache`;
  let cachedData;
  if (useCache) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // none yet
    }
  }
  // the build writes the function whole (scripts/build-cli.mjs); a file without it is wrapped here
  const head = '(function (exports, require, module, __filename, __dirname) {';
  const script = new Script(src.startsWith(head) ? src : `${head}${src}\n})`, { filename: file, cachedData });
  if (mode === 'report') {
    process.stderr.write(`vmcore: code cache ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'absent'}\n`);
  }
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  const cli = mod.exports;
  const saveCodeCache = () => {
    if (!useCache || !cli.didOpenDump?.()) return;
    // the cache a run writes holds what it compiled plus what it was given: written again once
    // for each command not seen before, it grows to what the commands in use need
    const seenFile = `${cacheFile}.json`;
    const anew = !cachedData || script.cachedDataRejected;
    let seen = [];
    try {
      if (!anew) seen = JSON.parse(readFileSync(seenFile, 'utf8')).verbs ?? [];
    } catch {
      // none: every command is new
    }
    const verbs = (cli.commandVerbs?.() ?? []).filter((v) => /^[a-z][\w-]{0,31}$/i.test(v));
    const added = verbs.filter((v) => !seen.includes(v));
    if (!anew && added.length === 0) return;
    const write = (path, data) => {
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, data);
        renameSync(tmp, path); // readers see the whole file or the previous one
      } catch {
        try {
          unlinkSync(tmp);
        } catch {
          // never written
        }
      }
    };
    write(cacheFile, script.createCachedData());
    write(seenFile, JSON.stringify({ verbs: [...seen, ...added].slice(0, 200) }) + '\n');
  };
  return { cli, saveCodeCache };
}

/** Build cli/dist/ again when a source is newer; a module from source when it cannot and there is no build. */
async function ensureBuilt(entry, source) {
  if (!fresh(entry)) {
    try {
      const { buildCli } = await import(new URL('scripts/build-cli.mjs', root).href);
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
  return null;
}

module.exports = { loadBuilt, loadCli };
