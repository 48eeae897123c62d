/**
 * The built CLI (scripts/build-cli.mjs -> cli/dist/): what `npx vmcore` runs after `npm ci`.
 * - it is rebuilt when a source is newer than the build (never a stale copy of the engine);
 * - `vmcore --help` loads only a few KB (the engine is a chunk of its own, loaded once there is a
 *   dump to open) and capstone-wasm is never a static import (only dis/oops load it);
 * - it prints what the sources print (tsx) for the same command.
 * The install contract under `npm ci --omit=dev` is scripts/check-omit-dev.sh (CI runs it).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'cli/dist');
const CLI = join(ROOT, 'cli/vmcore.cjs');
const SAMPLE = join(ROOT, 'public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib');
const ZSTD_SAMPLE = join(ROOT, 'public/samples/6.12-skb-uaf-kaslr/vmcore.kdump-zstd');

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
}

function builtAt(): number {
  return JSON.parse(readFileSync(join(DIST, 'inputs.json'), 'utf8')).builtAt;
}

/** The chunks an ES module of cli/dist imports statically, transitively (itself included). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = readFileSync(join(DIST, file), 'utf8');
  for (const m of src.matchAll(/(?:^|[;}\s])import\s*(?:[\w*{][^;]*?from\s*)?["']\.\/([^"']+)["']/g)) staticClosure(m[1], seen);
  return seen;
}

describe('the CLI bundle', () => {
  beforeAll(() => {
    const r = run(['--help']);
    expect(r.status, r.stderr).toBe(0);
  });

  it('is rebuilt when a source file changes', () => {
    const before = builtAt();
    // a newer mtime on one engine source (content unchanged): the next start must rebuild
    const src = join(ROOT, 'workers/errors.ts');
    while (Date.now() <= before + 5) {
      // the build finished this very millisecond: wait for the clock to pass it
    }
    const now = new Date();
    utimesSync(src, now, now);
    const r = run(['--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(builtAt()).toBeGreaterThan(before);
    const inputs: string[] = JSON.parse(readFileSync(join(DIST, 'inputs.json'), 'utf8')).inputs;
    expect(inputs).toContain('workers/errors.ts');
    expect(inputs).toContain('cli/main.ts');
    for (const p of inputs) expect(statSync(join(ROOT, p)).mtimeMs, p).toBeLessThanOrEqual(builtAt() + 1);
  });

  it('loads the engine lazily and capstone only on demand', () => {
    // the module build (`import { open }`): the entry's static imports are small
    const entry = staticClosure('vmcore.mjs');
    const bytes = (files: Iterable<string>) => [...files].reduce((n, f) => n + statSync(join(DIST, f)).size, 0);
    const all = readdirSync(DIST).filter((f) => f.endsWith('.mjs'));
    expect(bytes(all)).toBeGreaterThan(150_000); // the engine is in there
    expect(bytes(entry), `statically loaded by vmcore --help: ${[...entry].join(', ')}`).toBeLessThan(20_000);
    for (const f of all) expect(readFileSync(join(DIST, f), 'utf8'), f).not.toMatch(/from\s*["']capstone-wasm["']/);
    // what the bin runs (the CommonJS build): --help initializes no engine module (none of them
    // loads node:zlib), a command on a dump does; capstone is required only inside a promise
    const probe = (args: string[]) => {
      const code = `import { loadCli } from './cli/built.cjs'; import { Writable } from 'node:stream';
        const sink = new Writable({ write(c, e, cb) { cb(); } });
        const { cli } = await loadCli(); await cli.main(${JSON.stringify(args)}, sink, sink);
        console.log(JSON.stringify({ zlib: process.moduleLoadList.some((m) => / zlib$/.test(m)) }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    expect(probe(['--help']).zlib).toBe(false);
    if (existsSync(SAMPLE)) expect(probe([SAMPLE, 'sys']).zlib).toBe(true);
    const cjs: string = JSON.parse(readFileSync(join(DIST, 'inputs.json'), 'utf8')).cjs;
    const text = readFileSync(join(DIST, cjs), 'utf8');
    const at = [...text.matchAll(/require\("capstone-wasm"\)/g)].map((m) => m.index!);
    expect(at.length).toBeGreaterThan(0);
    for (const i of at) expect(text.slice(Math.max(0, i - 40), i)).toMatch(/Promise\.resolve\(\)\.then\(\(\)=>[\w$]*\($/);
  });

  it.skipIf(!existsSync(SAMPLE))("the bin keeps V8's code cache of its bundle; a refused cache is replaced; output never changes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcore-code-cache-'));
    try {
      const env = { VMCORE_CODE_CACHE: 'report', VMCORE_CODE_CACHE_DIR: dir };
      const plain = run([SAMPLE, 'sys'], { VMCORE_CODE_CACHE: '0' });
      expect(plain.status, plain.stderr).toBe(0);
      const first = run([SAMPLE, 'sys'], env);
      expect(first.stderr).toBe('vmcore: code cache absent\n');
      const cache = readdirSync(dir).find((f) => f.endsWith('.cjs.cache'));
      expect(cache, readdirSync(dir).join(', ')).toBeDefined();
      const size1 = statSync(join(dir, cache!)).size;
      const second = run([SAMPLE, 'sys'], env);
      expect(second.stderr).toBe('vmcore: code cache used\n');
      expect(statSync(join(dir, cache!)).size).toBe(size1); // a command seen before: not written again
      // a command not seen before adds what it compiled
      const bt = run([SAMPLE, 'bt'], env);
      expect(bt.stderr).toBe('vmcore: code cache used\n');
      expect(statSync(join(dir, cache!)).size).toBeGreaterThan(size1);
      expect(JSON.parse(readFileSync(join(dir, `${cache}.json`), 'utf8')).verbs).toEqual(['sys', 'bt']);
      // the same command name with other words runs other code: `kmem -s`, then `kmem ADDR`
      const size2 = statSync(join(dir, cache!)).size;
      expect(run([SAMPLE, 'kmem -s'], env).status).toBe(0);
      const size3 = statSync(join(dir, cache!)).size;
      expect(size3).toBeGreaterThan(size2);
      expect(run([SAMPLE, 'kmem init_task'], env).status).toBe(0);
      expect(statSync(join(dir, cache!)).size).toBeGreaterThan(size3);
      expect(JSON.parse(readFileSync(join(dir, `${cache}.json`), 'utf8')).verbs).toEqual(['sys', 'bt', 'kmem_s', 'kmem_arg']);
      // long work runs under another V8 budget than a short command (cli/vmcore.cjs); the cache is
      // still read and written under one set of flags, so neither refuses what the other wrote
      expect(run([SAMPLE, 'search -p ffffffff81000000'], env).stderr).toBe('vmcore: code cache used\n');
      expect(run([SAMPLE, 'sys'], env).stderr).toBe('vmcore: code cache used\n');
      // garbage in place of the cache: V8 refuses it, the run is right, the cache is made anew
      writeFileSync(join(dir, cache!), Buffer.alloc(size1, 0x5a));
      const bad = run([SAMPLE, 'sys'], env);
      expect(bad.stderr).toBe('vmcore: code cache rejected\n');
      expect(run([SAMPLE, 'sys'], env).stderr).toBe('vmcore: code cache used\n');
      for (const r of [first, second, bad]) expect(r.stdout).toBe(plain.stdout);
      expect(plain.stdout).toMatch(/RELEASE: 6\.1\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // the bin is CommonJS and runs the CommonJS bundle: a command sets up none of Node's ES module
  // loader (fs/promises, readline and a dozen more of Node's modules: 8-12 ms of every command).
  // Nor does a command or a batch read process.stdin (a file or pipe there is opened as a stream:
  // fs/promises, readline's interface, 1.5 ms) or `performance` (perf_hooks, 0.8 ms).
  it.skipIf(!existsSync(SAMPLE))('a command on a dump loads none of Node’s ES module loader, stdin stream or perf_hooks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmcore-modules-'));
    try {
      const report = join(dir, 'report.cjs');
      writeFileSync(report, `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n`);
      const batch = join(dir, 'batch.txt');
      writeFileSync(batch, 'sys\nkmem -s\n');
      for (const args of [[SAMPLE, 'sys'], [SAMPLE, '--batch', batch]]) {
        // stdin a file, as under a script or a scheduler
        const fd = openSync(batch, 'r');
        const r = spawnSync(process.execPath, ['--require', report, CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, stdio: [fd, 'pipe', 'pipe'] });
        closeSync(fd);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/RELEASE: 6\.1\./);
        const loaded: string[] = JSON.parse(/^LOADED (.*)$/m.exec(r.stderr)?.[1] ?? '[]');
        expect(loaded.length).toBeGreaterThan(50);
        expect(loaded.filter((m) => /esm\/(translators|module_job|load)$|internal\/fs\/promises$|readline|perf_hooks$|internal\/fs\/streams$/.test(m)), args.join(' ')).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // the bin keeps a short command's wasm in V8's baseline compiler and gives long work the
  // optimizing one (cli/vmcore.cjs; Node 20's V8 11 only): V8's trace of what it compiled says so
  it.skipIf(!existsSync(ZSTD_SAMPLE) || !process.versions.v8.startsWith('11.'))('wasm: baseline code only for a short command, optimized code for long work (from the start or by the clock)', () => {
    // (a busy machine must not make `sys` long: VMCORE_LONG_AFTER_MS sets the clock's limit)
    const traced = (line: string, longAfterMs = '1000000') => {
      const r = spawnSync(process.execPath, ['--trace-wasm-compilation-times', CLI, ZSTD_SAMPLE, line], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, VMCORE_CODE_CACHE: '0', VMCORE_LONG_AFTER_MS: longAfterMs } });
      expect(r.status, r.stderr).toBe(0);
      return { liftoff: (r.stdout.match(/ using Liftoff/g) ?? []).length, turbofan: (r.stdout.match(/ using TurboFan/g) ?? []).length };
    };
    const short = traced('sys');
    expect(short.liftoff).toBeGreaterThan(10); // zstd pages were decoded by wasm
    expect(short.turbofan).toBe(0);
    expect(traced('search -p ffffffff81000000').turbofan).toBeGreaterThan(0);
    // long by the clock (here from its first read): the decoders are compiled again, optimizable
    expect(traced('sys', '0').turbofan).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync(SAMPLE))("`import { open } from 'vmcore-workbench'` runs the bundle (cli/dist/open.mjs), not tsx", () => {
    const code = `import { open } from 'vmcore-workbench'; const p = await open(${JSON.stringify(SAMPLE)}); console.log(p.task(1).comm.string(), p.tasks().length > 10); p.close();`;
    // a resolve hook that fails any import of tsx: the import must not need it
    const hooks = `data:text/javascript,${encodeURIComponent("export async function resolve(s, c, next) { if (/^tsx(\\/|$)/.test(s)) throw new Error('tsx was loaded'); return next(s, c); }")}`;
    const hook = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)}`;
    const r = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('init true');
    for (const f of staticClosure('open.mjs')) expect(readFileSync(join(DIST, f), 'utf8'), f).not.toMatch(/["']tsx/);
  });

  it.skipIf(!existsSync(SAMPLE))('prints what the sources print', () => {
    for (const cmd of ['sys', 'kmem -s', 'dis panic 4']) {
      const built = run([SAMPLE, cmd]);
      const src = run([SAMPLE, cmd], { VMCORE_FROM_SOURCE: '1' });
      expect(built.status, built.stderr).toBe(0);
      expect(src.status, src.stderr).toBe(0);
      expect(built.stdout.length).toBeGreaterThan(100);
      expect(built.stdout, cmd).toBe(src.stdout);
    }
  });
});
