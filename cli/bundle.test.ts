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
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'cli/dist');
const CLI = join(ROOT, 'cli/vmcore.mjs');
const SAMPLE = join(ROOT, 'public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib');

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
    const entry = staticClosure('vmcore.mjs');
    const bytes = (files: Iterable<string>) => [...files].reduce((n, f) => n + statSync(join(DIST, f)).size, 0);
    const all = readdirSync(DIST).filter((f) => f.endsWith('.mjs'));
    expect(bytes(all)).toBeGreaterThan(150_000); // the engine is in there
    expect(bytes(entry), `statically loaded by vmcore --help: ${[...entry].join(', ')}`).toBeLessThan(20_000);
    for (const f of all) expect(readFileSync(join(DIST, f), 'utf8'), f).not.toMatch(/from\s*["']capstone-wasm["']/);
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
