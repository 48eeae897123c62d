/**
 * Whole processes side by side, in one run: vmcore (the built CLI, `node cli/vmcore.cjs`), drgn
 * 0.3.0 and crash 9.0.2 (Debian sid, in a chroot, each with the Debian -dbg vmlinux) doing the same
 * work on the same dump, as a user waits for it: open the dump, then
 *   sys        vmcore `sys`          crash `sys`          drgn uts, cpus, date, every task, memory, panic line
 *   kmem-s     vmcore `kmem -s`      crash `kmem -s`      drgn slab_cache_usage() of every cache
 *   bt-a       vmcore `bt -a`        crash `bt -a`        drgn stack_trace(cpu_curr(cpu)) for every cpu
 *   ps         vmcore `ps`           crash `ps`           drgn for_each_task(): pid, ppid, cpu, state, rss, comm
 *   kmem200    vmcore --batch of 200 `kmem ADDR`, crash the same 200 on stdin, drgn slab_object_info()
 *              (then the symbol) of each; the addresses are the first 200 of the oracle's whatis.tsv
 *   search     vmcore `search -p V`  crash `search -p V`  drgn physical reads of every memblock region;
 *              V = the crashed task's task_struct address (drgn.json), so there are a few hits
 * Each round runs the tools in turn (the order rotates every round: A B C, B C A, C A B), after
 * one warm-up round that is not counted; the table gives medians of wall time (and of CPU time,
 * user + sys, which a busy machine disturbs less) and the ratios vmcore/drgn and vmcore/crash.
 * A tool that cannot do a piece of work (not installed, no vmlinux, cannot open the format, an
 * error in its output) is listed with the reason, never timed.
 *
 *   npx tsx bench/run.ts [--dumps a,b] [--work sys,ps] [--tools vmcore,drgn,crash[,vmcore-ca,vmcore-cold]] [--rounds 5]
 *                        [--crash-rounds 2] [--sid /work/chroots/sid] [--dbg /work/dbg] [--out bench/out]
 *
 * drgn and crash run as `chroot SID drgn|crash ...`; the dump and the vmlinux are hard-linked (or
 * copied) into SID/var/tmp/vmcore-bench/. The vmlinux is looked up as
 * DBG/<release>/usr/lib/debug/boot/vmlinux-<release> (then /usr/lib/debug/boot/ in the chroot).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { sharedDump, ROOT, SHARED_DUMP_NAMES, type SharedDump } from '../workers/testing/dumps';

const ALL_DUMPS: readonly string[] = SHARED_DUMP_NAMES;
const ALL_WORK = ['sys', 'kmem-s', 'bt-a', 'ps', 'kmem200', 'search'] as const;
type Work = (typeof ALL_WORK)[number];
// vmcore-ca: vmcore with NODE_EXTRA_CA_CERTS as this machine sets it (see ENV below); vmcore-cold:
// vmcore without the CLI's code cache (VMCORE_CODE_CACHE=0), as the first run of a command is; not
// run unless named
const ALL_TOOLS = ['vmcore', 'drgn', 'crash', 'vmcore-ca', 'vmcore-cold'] as const;
const EXTRA_TOOLS = ['vmcore-ca', 'vmcore-cold'] as const;
type Tool = (typeof ALL_TOOLS)[number];

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  // the usage is this file's header comment
  const src = readFileSync(new URL(import.meta.url), 'utf8');
  process.stdout.write(src.slice(src.indexOf('/**') + 3, src.indexOf('*/')).replace(/^ \* ?/gm, '') + '\n');
  process.exit(0);
}

function opt(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const DUMPS = opt('dumps', ALL_DUMPS.join(',')).split(',');
const WORK = opt('work', ALL_WORK.join(',')).split(',') as Work[];
const TOOLS = opt('tools', 'vmcore,drgn,crash').split(',') as Tool[];
/**
 * The environment every tool runs in: this machine's, less NODE_EXTRA_CA_CERTS, which its npm
 * proxy needs and a user's shell does not have: with it every Node process reads and parses the
 * whole CA bundle before running a line (+50 ms here). Tool `vmcore-ca` keeps it, to show that.
 */
const CA_VAR = 'NODE_EXTRA_CA_CERTS';
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== CA_VAR));
const ROUNDS = Number(opt('rounds', '5'));
// crash takes 10-30 s a run; fewer rounds of it still alternate with the others
const CRASH_ROUNDS = Number(opt('crash-rounds', String(ROUNDS)));
const SID = opt('sid', '/work/chroots/sid');
const DBG = opt('dbg', '/work/dbg');
const OUT = resolve(ROOT, opt('out', 'bench/out'));
const STAGE = '/var/tmp/vmcore-bench'; // inside the chroot
const TIMEOUT_S = 600;

interface Cmd {
  argv: string[];
  stdin?: string;
  /** the output shows the work was done */
  ok: RegExp;
  /** the output shows it was not (an error the tool printed while exiting 0) */
  bad?: RegExp;
  /** extra environment (on top of ENV) */
  env?: NodeJS.ProcessEnv;
}

interface Sample {
  wall: number;
  cpu: number;
}

/** Run once under bash's `time` (wall, user, sys to the ms from wait4's rusage). */
function timed(c: Cmd): { s: Sample; status: number | null; out: string; err: string } {
  const r = spawnSync(
    'bash',
    ['-c', 'TIMEFORMAT="@@T %3R %3U %3S"; { time "$@" 2>"$ERRF"; } 2>&1', '_', ...c.argv],
    {
      input: c.stdin ?? '',
      encoding: 'utf8',
      maxBuffer: 512 << 20,
      timeout: TIMEOUT_S * 1000,
      env: { ...ENV, ...c.env, ERRF: join(OUT, 'last-stderr.txt') },
    },
  );
  const out = r.stdout ?? '';
  const m = /@@T (\S+) (\S+) (\S+)\s*$/.exec(out);
  const err = existsSync(join(OUT, 'last-stderr.txt')) ? readFileSync(join(OUT, 'last-stderr.txt'), 'utf8') : '';
  if (!m) return { s: { wall: NaN, cpu: NaN }, status: r.status ?? -1, out, err: err || String(r.error ?? 'no timing') };
  return {
    s: { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) },
    status: r.status,
    out: out.slice(0, m.index),
    err,
  };
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l) ?? ''
  ).slice(0, 160);
}

/** A file visible inside the chroot (hard link, else copy); returns its path there. */
function stage(file: string, name: string): string {
  file = realpathSync(file); // Debian's 7.x -dbg ships boot/vmlinux-REL as a symlink: link its target
  const dir = join(SID, STAGE);
  mkdirSync(dir, { recursive: true });
  const dst = join(dir, name);
  const st = statSync(file);
  if (!existsSync(dst) || statSync(dst).size !== st.size) {
    try {
      linkSync(file, dst + '.tmp');
    } catch {
      copyFileSync(file, dst + '.tmp');
    }
    spawnSync('mv', ['-f', dst + '.tmp', dst]);
  }
  return join(STAGE, name);
}

interface Plan {
  dump: SharedDump;
  release: string;
  vmlinux: string | null; // inside the chroot
  whyNoVmlinux?: string;
  addrsFile: string; // host path, also staged
  addrsFileChroot: string | null;
  searchValue: string;
}

function plan(d: SharedDump): Plan {
  const drgn = d.hasOracle('drgn.json') ? d.oracleJson('drgn.json') : null;
  const sysj = d.hasOracle('sys.json') ? d.oracleJson('sys.json') : {};
  const release: string = drgn?.uts?.release ?? sysj.RELEASE ?? '';
  mkdirSync(OUT, { recursive: true });
  const addrs = d
    .oracle('whatis.tsv')
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('0x'))
    .slice(0, 200)
    .map((l) => l.split('\t')[0]);
  const addrsFile = join(OUT, `${d.name}.kmem200.txt`);
  writeFileSync(addrsFile, addrs.map((a) => `kmem ${a}\n`).join(''));
  const searchValue: string = drgn?.crashed_thread?.task ?? drgn?.tasks?.[0]?.task ?? '0xffffffff81000000';
  let vmlinux: string | null = null;
  let whyNoVmlinux: string | undefined;
  const host = join(DBG, release, 'usr/lib/debug/boot', `vmlinux-${release}`);
  if (!existsSync(SID)) whyNoVmlinux = `no chroot at ${SID}`;
  else if (existsSync(join(DBG, release, '.ready')) && existsSync(host)) vmlinux = stage(host, `vmlinux-${release}`);
  else if (existsSync(join(SID, 'usr/lib/debug/boot', `vmlinux-${release}`))) vmlinux = `/usr/lib/debug/boot/vmlinux-${release}`;
  else whyNoVmlinux = `no -dbg vmlinux for ${release} (${join(DBG, release)} not ready)`;
  return { dump: d, release, vmlinux, whyNoVmlinux, addrsFile, addrsFileChroot: null, searchValue };
}

const OK: Record<Work, { vmcore: RegExp; crash: RegExp; drgn: RegExp }> = {
  sys: { vmcore: /RELEASE: \S/, crash: /RELEASE: \S/, drgn: /RELEASE: \S/ },
  'kmem-s': { vmcore: /kmalloc-64/, crash: /kmalloc-64/, drgn: /kmalloc-64/ },
  'bt-a': { vmcore: /#0 /, crash: /#0 /, drgn: /#0 /},
  ps: { vmcore: /\bPID\b[\s\S]*\n.*\n.*\n/, crash: /\bPID\b[\s\S]*\n.*\n.*\n/, drgn: /\n.*\n.*\n/ },
  kmem200: { vmcore: /\S/, crash: /\S/, drgn: /\S/ },
  search: { vmcore: /^[0-9a-f]+: [0-9a-f]{16}$/m, crash: /^[0-9a-f]+: [0-9a-f]{16} ?$/m, drgn: /^[0-9a-f]+: [0-9a-f]{16}$/m },
};
// crash exits 0 after a failed command; these are its errors for the work above
const CRASH_BAD = /^(kmem|bt|ps|sys|search): .*(invalid|cannot|not supported|unavailable|no such)|^crash: /m;

function command(p: Plan, tool: Tool, work: Work): Cmd | string {
  const file = p.dump.file;
  if (tool === 'vmcore-ca') {
    const c = command(p, 'vmcore', work);
    if (typeof c === 'string') return c;
    if (process.env[CA_VAR] === undefined) return `${CA_VAR} is not set on this machine`;
    return { ...c, env: { [CA_VAR]: process.env[CA_VAR] } };
  }
  if (tool === 'vmcore-cold') {
    const c = command(p, 'vmcore', work);
    return typeof c === 'string' ? c : { ...c, env: { VMCORE_CODE_CACHE: '0' } };
  }
  if (tool === 'vmcore') {
    const base = [process.execPath, join(ROOT, 'cli/vmcore.cjs'), file];
    const ok = OK[work].vmcore;
    switch (work) {
      case 'sys':
        return { argv: [...base, 'sys'], ok };
      case 'kmem-s':
        return { argv: [...base, 'kmem -s'], ok };
      case 'bt-a':
        return { argv: [...base, 'bt -a'], ok };
      case 'ps':
        return { argv: [...base, 'ps'], ok };
      case 'kmem200':
        return { argv: [...base, '--batch', p.addrsFile], ok };
      case 'search':
        return { argv: [...base, `search -p ${p.searchValue}`], ok };
    }
  }
  if (!existsSync(SID)) return `no Debian sid chroot at ${SID}`;
  if (!p.vmlinux) return p.whyNoVmlinux ?? 'no vmlinux';
  const dumpIn = stage(file, `${p.dump.name}-${basename(file)}`);
  if (tool === 'crash') {
    if (!existsSync(join(SID, 'usr/bin/crash'))) return `crash is not installed in ${SID}`;
    // crash 9.0.2 stops at start-up on Linux 7.x unless told not to load modules (the dumps' READMEs)
    const argv = ['chroot', SID, 'crash', '-s', ...(/^7\./.test(p.release) ? ['--no_modules'] : []), p.vmlinux, dumpIn];
    const lines: Record<Work, string> = {
      sys: 'sys',
      'kmem-s': 'kmem -s',
      'bt-a': 'bt -a',
      ps: 'ps',
      kmem200: readFileSync(p.addrsFile, 'utf8').trimEnd(),
      search: `search -p ${p.searchValue.replace(/^0x/, '')}`,
    };
    return { argv, stdin: `set scroll off\n${lines[work]}\nquit\n`, ok: OK[work].crash, bad: CRASH_BAD };
  }
  if (!existsSync(join(SID, 'usr/bin/drgn'))) return `drgn is not installed in ${SID}`;
  const script = stage(join(ROOT, 'bench/drgn_work.py'), 'drgn_work.py');
  const argv = ['chroot', SID, 'drgn', '-q', '-c', dumpIn, '-s', p.vmlinux, script];
  const ok = OK[work].drgn;
  switch (work) {
    case 'kmem200': {
      const addrs = stage(p.addrsFile, basename(p.addrsFile));
      return { argv: [...argv, 'kmem-addrs', addrs], ok };
    }
    case 'search':
      return { argv: [...argv, 'search', p.searchValue], ok };
    default:
      return { argv: [...argv, work], ok };
  }
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

interface Row {
  dump: string;
  work: Work;
  med: Partial<Record<Tool, Sample>>;
  runs: Partial<Record<Tool, Sample[]>>;
  skipped: Partial<Record<Tool, string>>;
}

function check(c: Cmd, r: ReturnType<typeof timed>): string | null {
  if (r.status !== 0) return `exit ${r.status}: ${firstLine(r.err || r.out)}`;
  if (c.bad) {
    const m = c.bad.exec(r.out);
    if (m) return firstLine(r.out.slice(m.index));
  }
  if (!c.ok.test(r.out)) return `output lacks ${c.ok}: ${firstLine(r.err || r.out)}`;
  return null;
}

function main(): void {
  mkdirSync(OUT, { recursive: true });
  // the CLI bundle as npm ci builds it (rebuilt here if a source is newer, so that is not timed)
  const pre = spawnSync(process.execPath, [join(ROOT, 'cli/vmcore.cjs'), '--help'], { encoding: 'utf8' });
  if (pre.status !== 0) throw new Error(`vmcore --help failed: ${pre.stderr}`);
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const name of DUMPS) {
    const d = sharedDump(name);
    if (!d) {
      notes.push(`${name}: dump not found (../shared/dumps or public/samples)`);
      continue;
    }
    const p = plan(d);
    for (const work of WORK) {
      const row: Row = { dump: name, work, med: {}, runs: {}, skipped: {} };
      const cmds = new Map<Tool, Cmd>();
      for (const tool of TOOLS) {
        if (tool !== 'vmcore' && TOOLS.includes('vmcore') && !cmds.has('vmcore')) {
          row.skipped[tool] = 'not timed: vmcore could not do this work here (nothing to compare with)';
          continue;
        }
        const c = command(p, tool, work);
        if (typeof c === 'string') {
          row.skipped[tool] = c;
          continue;
        }
        // warm-up (page cache, compile caches), and the check that the work is done
        const r = timed(c);
        const why = check(c, r);
        if (why) {
          row.skipped[tool] = why;
          writeFileSync(join(OUT, `${name}.${work}.${tool}.failed.txt`), `$ ${c.argv.join(' ')}\n${r.out}\n--- stderr\n${r.err}`);
          continue;
        }
        writeFileSync(join(OUT, `${name}.${work}.${tool}.txt`), r.out);
        cmds.set(tool, c);
        row.runs[tool] = [];
      }
      const order = [...cmds.keys()];
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < order.length; k++) {
          const tool = order[(k + round) % order.length];
          if (tool === 'crash' && round >= CRASH_ROUNDS) continue;
          const r = timed(cmds.get(tool)!);
          if (r.status === 0) row.runs[tool]!.push(r.s);
        }
      }
      for (const tool of order) {
        const rs = row.runs[tool]!;
        row.med[tool] = { wall: median(rs.map((s) => s.wall)), cpu: median(rs.map((s) => s.cpu)) };
      }
      rows.push(row);
      process.stderr.write(`${fmtRow(row)}\n`);
    }
  }
  const table = render(rows, notes);
  console.log(table);
  writeFileSync(join(OUT, 'results.json'), JSON.stringify({ date: new Date().toISOString(), machine: machine(), rounds: ROUNDS, rows, notes }, null, 1));
  writeFileSync(join(OUT, 'table.md'), table);
}

function fmt(s: Sample | undefined, k: 'wall' | 'cpu'): string {
  return s ? s[k].toFixed(2) : '—';
}
function ratio(a: Sample | undefined, b: Sample | undefined, k: 'wall' | 'cpu'): string {
  return a && b ? (a[k] / b[k]).toFixed(2) + 'x' : '—';
}
function fmtRow(r: Row): string {
  return `${r.dump} ${r.work}: ${TOOLS.map((t) => `${t} ${fmt(r.med[t], 'wall')}s/${fmt(r.med[t], 'cpu')}s`).join('  ')}  v/d ${ratio(r.med.vmcore, r.med.drgn, 'wall')} v/c ${ratio(r.med.vmcore, r.med.crash, 'wall')}`;
}

function machine(): string {
  const c = cpus();
  const node = process.version;
  const tool = (argv: string[]) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    return r.status === 0 ? firstLine(r.stdout || r.stderr) : null;
  };
  const drgn = existsSync(SID) ? tool(['chroot', SID, 'drgn', '--version']) : null;
  const crash = existsSync(SID) ? tool(['chroot', SID, 'dpkg-query', '-W', '-f', '${Version}', 'crash']) : null;
  return `${c.length} x ${c[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${node}, ${drgn ?? 'drgn: n/a'}, crash ${crash ?? 'n/a'}`;
}

function render(rows: Row[], notes: string[]): string {
  const out: string[] = [];
  out.push(
    `Whole processes, ${ROUNDS} rounds (crash: ${Math.min(ROUNDS, CRASH_ROUNDS)}) after a warm-up, tools alternating (order rotating each round); medians in seconds, wall and CPU (user+sys).`,
  );
  out.push(`${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${machine()}`);
  if (process.env[CA_VAR] !== undefined) out.push(`${CA_VAR} (set here for the npm proxy) is unset for every tool${TOOLS.includes('vmcore-ca') ? '; vmcore-ca is vmcore with it' : ''}.`);
  out.push('');
  const extra = EXTRA_TOOLS.filter((t) => TOOLS.includes(t));
  out.push(
    `| dump | work | vmcore wall | drgn wall | crash wall | vmcore/drgn | vmcore/crash | vmcore cpu | drgn cpu | crash cpu | cpu vmcore/drgn |` +
      extra.map((t) => ` ${t} wall | ${t} cpu | ${t}/drgn |`).join(''),
  );
  out.push(`| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${' ---: | ---: | ---: |'.repeat(extra.length)}`);
  for (const r of rows) {
    out.push(
      `| ${r.dump} | ${r.work} | ${fmt(r.med.vmcore, 'wall')} | ${fmt(r.med.drgn, 'wall')} | ${fmt(r.med.crash, 'wall')} | ${ratio(r.med.vmcore, r.med.drgn, 'wall')} | ${ratio(r.med.vmcore, r.med.crash, 'wall')} | ${fmt(r.med.vmcore, 'cpu')} | ${fmt(r.med.drgn, 'cpu')} | ${fmt(r.med.crash, 'cpu')} | ${ratio(r.med.vmcore, r.med.drgn, 'cpu')} |` +
        extra.map((t) => ` ${fmt(r.med[t], 'wall')} | ${fmt(r.med[t], 'cpu')} | ${ratio(r.med[t], r.med.drgn, 'wall')} |`).join(''),
    );
  }
  const skipped = rows.flatMap((r) => Object.entries(r.skipped).map(([t, why]) => `- ${r.dump} ${r.work}: ${t} not run: ${why}`));
  if (skipped.length || notes.length) {
    out.push('');
    out.push('Not run:');
    out.push(...notes.map((n) => `- ${n}`), ...dedupe(skipped));
  }
  return out.join('\n') + '\n';
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

main();
