#!/usr/bin/env node
/**
 * Builds the CLI bundle: cli/main.ts and the engine it loads -> cli/dist/ (ES modules for Node,
 * no TypeScript compiler at run time). `npm ci` runs this as the `prepare` step; `cli/vmcore.cjs`
 * (the `vmcore` bin) runs it again by itself when a source file is newer than the build, so the
 * bundle is never a stale copy of engine sources that other branches keep changing.
 *
 *   cli/dist/vmcore.mjs       the entry (main and argument parsing only)
 *   cli/dist/open.mjs         `import { open } from 'vmcore-workbench'` (cli/open.ts, via cli/open.mjs)
 *   cli/dist/chunk-*.mjs      the engine, split at cli/main.ts's `await import('./engine')`
 *   cli/dist/vmcore-HASH.cjs  the same CLI as one CommonJS file (HASH: of its content), written inside
 *                             CommonJS's function wrapper, which the `vmcore`
 *                             bin runs through vm.Script with V8's code cache (cli/built.cjs): a
 *                             process then neither parses nor compiles the functions an earlier
 *                             run compiled. The engine's modules still initialize only when a
 *                             command needs them (esbuild's lazy wrappers for import()).
 *   cli/dist/inputs.json      {builtAt, cjs, inputs: [every file that went into the bundle]} for the freshness check
 *
 * esbuild is a runtime dependency (package.json "dependencies") so that `npm ci --omit=dev`
 * can build too. capstone-wasm stays external: it finds its .wasm file next to itself, and it is
 * imported only by commands that disassemble. fflate is replaced by cli/stubs/fflate.ts: Node
 * inflates with its own zlib, and fflate's import alone costs tens of ms.
 */
import { mkdirSync, writeFileSync, renameSync, readdirSync, unlinkSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'cli/dist');
/** vmcore-HASH.cjs is its CommonJS code inside this function (cli/built.cjs runs it) */
export const CJS_WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) {';
export const CJS_WRAPPER_TAIL = '\n})';

/** Build the bundle; returns the list of its inputs (paths relative to the project root). */
export async function buildCli() {
  const esbuild = await import('esbuild');
  const builtAt = Date.now();
  const r = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { vmcore: 'cli/main.ts', open: 'cli/open.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: DIST,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    external: ['capstone-wasm'],
    // Node inflates with node:zlib (workers/node.ts); fflate would only build its tables at start
    alias: { fflate: './cli/stubs/fflate.ts' },
    minify: true,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  // the CLI as one CommonJS file for vm.Script + code cache; import() of capstone-wasm becomes
  // require() (its CommonJS build): a vm.Script cannot import() without an experimental flag
  const cjsOut = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['cli/main.ts'],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    outfile: join(DIST, 'vmcore.cjs'),
    external: ['capstone-wasm'],
    alias: { fflate: './cli/stubs/fflate.ts' },
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__vmcoreImportMetaUrl' },
    banner: { js: "var __vmcoreImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  // written as the function vm.Script compiles (CommonJS's wrapper around the code): the bin passes
  // the file's text as it is, and V8 does not copy half a megabyte of source to join it to a wrapper
  const cjsBytes = Buffer.concat([Buffer.from(CJS_WRAPPER_HEAD), cjsOut.outputFiles[0].contents, Buffer.from(CJS_WRAPPER_TAIL)]);
  const cjs = `vmcore-${createHash('sha256').update(cjsBytes).digest('hex').slice(0, 16)}.cjs`;
  mkdirSync(DIST, { recursive: true });
  writeAtomic(join(DIST, cjs), cjsBytes);
  // chunks first (content-hashed names), the entry last, each by rename: a CLI started meanwhile
  // sees either the old build or the new one, never half of one
  const entries = new Set([join(DIST, 'vmcore.mjs'), join(DIST, 'open.mjs')]);
  const files = [...r.outputFiles].sort((a, b) => (entries.has(a.path) ? 1 : 0) - (entries.has(b.path) ? 1 : 0));
  const keep = new Set(files.map((f) => f.path));
  const inputs = [...Object.keys(r.metafile.inputs), 'package.json', 'scripts/build-cli.mjs'].map((p) =>
    relative(ROOT, resolve(ROOT, p)),
  );
  writeAtomic(join(DIST, 'inputs.json'), JSON.stringify({ builtAt, esbuild: esbuild.version, cjs, inputs }, null, 1) + '\n');
  keep.add(join(DIST, 'inputs.json'));
  keep.add(join(DIST, cjs));
  keep.add(join(DIST, `${cjs}.cache`));
  keep.add(join(DIST, `${cjs}.cache.json`));
  for (const f of files) writeAtomic(f.path, f.contents);
  // drop chunks of earlier builds
  for (const name of readdirSync(DIST)) {
    const p = join(DIST, name);
    if (!keep.has(p) && /^(chunk-.*\.mjs|vmcore-.*\.cjs(\.cache(\.json)?)?)$/.test(name)) {
      try {
        unlinkSync(p);
      } catch {
        // another build removed it first
      }
    }
  }
  return inputs;
}

function writeAtomic(path, data) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t0 = performance.now();
  try {
    const inputs = await buildCli();
    if (!process.argv.includes('--quiet')) {
      console.log(`vmcore CLI built: ${relative(ROOT, DIST)}/vmcore.mjs from ${inputs.length} files in ${Math.round(performance.now() - t0)} ms`);
    }
  } catch (e) {
    console.error(`build-cli: ${e instanceof Error ? e.message : e}`);
    if (!existsSync(join(DIST, 'vmcore.mjs'))) process.exitCode = 1;
  }
}
