/**
 * Where tests find real dumps: ../shared/dumps (the oracle set, may be absent on a fresh clone)
 * and public/samples (small real dumps carried by the project). Tests that need a dump call
 * `sharedDump(name)` and skip with the reason when it is absent.
 */
import { existsSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');
export const SHARED_DUMPS = process.env.VMCORE_SHARED_DUMPS ?? resolve(ROOT, '../shared/dumps');
export const SAMPLES = join(ROOT, 'public/samples');
/** Real dumps the project carries only as test data (not offered by the UI): fixtures/dumps/<name>/. */
export const FIXTURE_DUMPS = join(ROOT, 'fixtures/dumps');

/** The dumps in fixtures/dumps (made by fixtures/make-dump.sh; oracle bundles from fixtures/lib/oracle.py). */
export const FIXTURE_DUMP_NAMES = [
  '5.4-sysrq-kaslr',
  '5.10-skb-uaf-kaslr',
  '6.1-kdump-kexec-skb-uaf',
  '6.1-la57-hung-locks',
  '6.1-disk-io',
  '7.2-skb-uaf-kaslr',
] as const;

export const SHARED_DUMP_NAMES = [
  '6.1-skb-uaf-0x106',
  '6.1-skb-uaf-0x106-slubdebug',
  '6.1-bh-scribble',
  '6.1-sysrq-kaslr',
  '6.1-sysrq-256M-flattened',
  '6.12-skb-uaf-kaslr',
  '5.10-sysrq-lzo',
  '7.2-sysrq-kaslr',
] as const;

export interface SharedDump {
  name: string;
  dir: string;
  /** path to a dump file the engine can open (an .xz is decompressed once into a cache dir) */
  file: string;
  oracle(file: string): string;
  oracleJson<T = any>(file: string): T;
  hasOracle(file: string): boolean;
  /** the crash version that made the oracle ("9.0.2"; "8.0.2" for 5.10-sysrq-lzo), from oracle/README.md */
  crashVersion: string | null;
}

/** The dump file inside a shared dump folder. */
function dumpFileIn(dir: string): string | null {
  for (const f of ['vmcore.kdump-zlib', 'vmcore.kdump-lzo', 'vmcore.kdump-zstd', 'vmcore.kdump-snappy', 'vmcore.kdump-flat', 'vmcore.elf', 'vmcore.elf.xz']) {
    if (existsSync(join(dir, f))) return join(dir, f);
  }
  return null;
}

/** Decompress an .xz dump once into a cache dir (tests only; the engine reads plain files). */
function unxz(path: string): string {
  const cacheDir = join(tmpdir(), 'vmcore-workbench-cache');
  mkdirSync(cacheDir, { recursive: true });
  const st = statSync(path);
  const out = join(cacheDir, `${path.split('/').slice(-2).join('_').replace(/\.xz$/, '')}.${st.size}`);
  if (!existsSync(out)) {
    execFileSync('sh', ['-c', `xz -dc "$1" > "$2.tmp" && mv "$2.tmp" "$2"`, 'sh', path, out], { stdio: 'inherit' });
  }
  return out;
}

/**
 * The dump `name` with its oracle: from ../shared/dumps, else from the copy the project carries in
 * public/samples/<name>/ (four of the six), else from fixtures/dumps/<name>/ (test-only dumps);
 * null when none has it.
 */
export function sharedDump(name: string): SharedDump | null {
  let dir = join(SHARED_DUMPS, name);
  if (!existsSync(dir)) dir = join(SAMPLES, name);
  if (!existsSync(dir)) dir = join(FIXTURE_DUMPS, name);
  if (!existsSync(dir)) return null;
  let file = dumpFileIn(dir);
  if (!file) return null;
  if (file.endsWith('.xz')) file = unxz(file);
  return {
    name,
    dir,
    file,
    oracle: (f) => readFileSync(join(dir, 'oracle', f), 'utf8'),
    oracleJson: (f) => JSON.parse(readFileSync(join(dir, 'oracle', f), 'utf8')),
    hasOracle: (f) => existsSync(join(dir, 'oracle', f)),
    crashVersion: oracleCrashVersion(dir),
  };
}

function oracleCrashVersion(dir: string): string | null {
  const f = join(dir, 'oracle', 'README.md');
  if (!existsSync(f)) return null;
  return /^- crash: crash (\d+\.\d+\.\d+)/m.exec(readFileSync(f, 'utf8'))?.[1] ?? null;
}

/** Every shared dump present, for tests that run on each. */
export function allSharedDumps(): SharedDump[] {
  return SHARED_DUMP_NAMES.map(sharedDump).filter((d): d is SharedDump => d !== null);
}

/**
 * crash's SLUB commands failed on this dump: crash 9.0.2 has no SLUB support on Linux 7.x (its
 * kmem-s.txt holds "kmem: invalid structure member offset: kmem_cache_local_node", kmem-S-*.txt
 * "-S not supported", whatis.tsv an error per slab address; see the dump's README). Tests then
 * compare slab facts with drgn 0.3.0's instead: drgn.json slab_caches (allocated_all_cpus, as crash
 * counts) and slab_object_info, kmem-S-drgn.json.
 */
export function crashSlubFailed(d: SharedDump): boolean {
  return d.hasOracle('kmem-s.txt') && /^kmem: invalid structure member offset/.test(d.oracle('kmem-s.txt'));
}

export const SKIP_REASON = `dump not found in ${SHARED_DUMPS} (set VMCORE_SHARED_DUMPS) nor in public/samples nor fixtures/dumps`;
