/**
 * The import structure of DESIGN.md, checked: imports only run down the layers
 * (source -> format -> arch -> kernel -> analysis -> commands -> engine -> api -> app/cli), the UI
 * imports the engine only through workers/api.ts, and no files import each other in a circle
 * (type-only imports count: a circle of types is still a circle).
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { ROOT } from './testing/dumps';

/** Layer of a project file (relative path), higher = closer to the user; null = not layered. */
export function layerOf(rel: string): number | null {
  const rules: [RegExp, number][] = [
    [/^workers\/(bytes|errors|problems|sorted)\.ts$/, 0],
    [/^workers\/source\//, 1],
    [/^workers\/format\//, 2],
    [/^workers\/arch\//, 3],
    [/^workers\/kernel\//, 4],
    [/^workers\/analysis\//, 5],
    [/^workers\/commands\//, 6],
    [/^workers\/script\//, 7],
    [/^workers\/engine\.ts$/, 8],
    [/^workers\/(node|api)\.ts$/, 9],
    [/^workers\/(worker|scriptworker)\.ts$/, 10],
    [/^(app|cli)\//, 11],
  ];
  for (const [re, n] of rules) if (re.test(rel)) return n;
  return null;
}

const SOURCE = /\.(ts|tsx|mts)$/;
function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'testing') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (SOURCE.test(name) && !/\.(test|spec)\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative module specifiers a file imports (static, type-only, re-exports and dynamic import()). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) out.push(spec);
  }
  return out;
}

function resolveSpec(fromFile: string, spec: string): string | null {
  const base = resolve(dirname(fromFile), spec);
  for (const cand of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(cand) && statSync(cand).isFile()) return cand;
  }
  return null;
}

function graph(): Map<string, string[]> {
  const files = ['workers', 'app', 'cli'].flatMap((d) => sourceFiles(join(ROOT, d)));
  const g = new Map<string, string[]>();
  for (const f of files) {
    const rel = relative(ROOT, f);
    const deps: string[] = [];
    for (const spec of importsOf(readFileSync(f, 'utf8'))) {
      const target = resolveSpec(f, spec);
      if (target && SOURCE.test(target)) deps.push(relative(ROOT, target));
    }
    g.set(rel, deps);
  }
  return g;
}

/** Every elementary circle's first edge found by DFS (enough to name each one). */
function circles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 1);
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 1) found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...g.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

describe('import structure (DESIGN.md layers)', () => {
  const g = graph();

  it('reads the project (the check is not vacuous)', () => {
    expect(g.size).toBeGreaterThan(50);
    expect(g.get('workers/kernel/program.ts')).toContain('workers/kernel/btf.ts');
    expect(importsOf("import type { A } from './a';\nexport { b } from '../b';\nconst m = await import('./c');")).toEqual(['./a', '../b', './c']);
  });

  it('no import runs up a layer', () => {
    const upward: string[] = [];
    for (const [from, deps] of g) {
      const lf = layerOf(from);
      for (const to of deps) {
        const lt = layerOf(to);
        if (lf !== null && lt !== null && lt > lf) upward.push(`${from} -> ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('the UI reaches the engine only through workers/api.ts', () => {
    const bad: string[] = [];
    for (const [from, deps] of g) {
      if (!from.startsWith('app/')) continue;
      for (const to of deps) if (to.startsWith('workers/') && to !== 'workers/api.ts') bad.push(`${from} -> ${to}`);
    }
    expect(bad).toEqual([]);
  });

  it('no import circle', () => {
    expect(circles(g).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('the checker sees an upward import and a circle when there is one', () => {
    expect(layerOf('workers/analysis/x.ts')! < layerOf('workers/commands/y.ts')!).toBe(true);
    const fake = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['a.ts']],
    ]);
    expect(circles(fake).length).toBe(1);
  });
});
