/**
 * bt's options (-e, -E, -r, -f, -F, -FF, -sx, -x, -T, -t, -c, -v) against crash 9.0.2 on the same
 * dumps: oracle files made by workers/commands/oracles/make.sh from oracles/bt-<dump>.txt (crash
 * 9.0.2 in the Debian sid chroot with the matching -dbg vmlinux), compared line for line.
 *
 * Normalised, and only this, as the dumps' own oracle READMEs (oracle/disagreements.txt) say
 * crash and an ORC unwinder differ:
 * - frames: for the tasks disagreements.txt lists, only the frames whose PC both show are
 *   compared (crash adds stale return addresses, "crash extra: ..."; it misses delay_tsc /
 *   oops_end.cold / vpanic, "drgn PCs missing in crash"), then renumbered; the stack words of
 *   bt -f/-F/-FF are compared word by word (a dropped frame line moves where a row breaks, not a
 *   word);
 * - symbol names of the same address: "Symbol names may differ for the same PC (crash picks the
 *   nearest label ...)": a name (or name+offset) that names its address (the word read from the
 *   dump, or the frame's pc) becomes <sym> on either side, so an alias, a clone suffix crash drops
 *   (walk_ring for walk_ring.isra.0) or crash's own module labels (_MODULE_INIT_START_<mod>) are
 *   the same name, and a name that does not name its address still differs.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openProgram } from '../engine';
import { NodeFileSource } from '../source/node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand } from './registry';
import type { Program } from '../kernel/program';
import { isKernelText } from '../analysis/unwind';
import { debugVmlinux, DBG_SKIP } from '../testing/vmlinux';
import { openDebugInput } from '../kernel/debuginfo';
import './index';

const ORACLES = join(dirname(fileURLToPath(import.meta.url)), 'oracles');
const oracleFile = (dump: string, cmd: string) => join(ORACLES, dump, cmd.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_|_$/g, '') + '.txt');

/** disagreements.txt: for each pid listed in the stack section, the task is compared by common PCs. */
function listedPids(text: string): Set<number> {
  const sec = text.split('== stack traces')[1]?.split('\n== ')[0] ?? '';
  const out = new Set<number>();
  for (const m of sec.matchAll(/^pid (\d+) /gm)) out.add(Number(m[1]));
  return out;
}

const FRAME = /^( ?#\d+|#\d+) \[([0-9a-f]+)\] (\S+) at ([0-9a-f]+)(.*)$/;
const TEXT = /^  \[([0-9a-f]+)\] (\S+) at ([0-9a-f]+)(.*)$/;
const WORDS = /^    ([0-9a-f]+): (.*)$/;
const RAW = /^([0-9a-f]{16}):  (.*)$/;

/** a name without compiler clone suffixes (crash stores module kallsyms without them) */
const bare = (n: string) => n.replace(/(\.(isra|part|constprop|cold|llvm)(\.\d+)?)+$/, '');

/**
 * Whether `tok` (name, or name+offset decimal or 0x hex) names the address v: a symbol of that
 * name (or of that name without a clone suffix) at v - offset, or, without an offset, the symbol
 * holding v (or v - 1, for a return address); crash's own module labels
 * (_MODULE_INIT_START_<mod>, _MODULE_INIT_TEXT_START_<mod>, ...: no kernel symbols) name an
 * address in that module.
 */
function names(prog: Program, tok: string, v: bigint): boolean {
  const m = /^([A-Za-z_.$][\w.$]*?)(?:\+(0x[0-9a-f]+|\d+))?$/.exec(tok);
  if (!m) return false;
  const [, name, o] = m;
  const lbl = /^_MODULE_\w*?START_(\w+)$/.exec(name);
  if (lbl) return prog.symbols.lookup(v)?.sym.module === lbl[1];
  const ok = (addr: bigint) => prog.symbols.at(addr).some((x) => x.name === name || bare(x.name) === bare(name));
  if (o !== undefined) return ok(v - BigInt(o));
  for (const p of [v, v - 1n]) {
    const h = prog.symbols.lookup(p);
    if (h && ok(h.sym.address)) return true;
  }
  return false;
}

/**
 * Normalise one bt output: frame lines of tasks listed in disagreements.txt whose pc the other side
 * lacks are dropped (and the rest renumbered); a symbol name that names its address (see names())
 * becomes <sym>; the stack words become one entry per word, a symbol word <sym> when it names the
 * word read from the dump at that stack address.
 */
function normalise(prog: Program, text: string, keepPcs: Set<string> | null, listed: Set<number>): string[] {
  const out: string[] = [];
  let pid = -1;
  let level = 0;
  let seenKept = false;
  let skipWords = false;
  let skipLines = 0;
  let dropSource = false;
  const lines = text.trimEnd().split('\n');
  const text0 = prog.symbolAddress('_text')!;
  const end = prog.symbolAddress('_end')!;
  for (const [i, line] of lines.entries()) {
    if (skipLines > 0) {
      skipLines--;
      continue;
    }
    const h = /^PID: (\d+) /.exec(line);
    if (h) {
      pid = Number(h[1]);
      level = 0;
      dropSource = false;
      seenKept = false;
      skipWords = false;
      out.push(line);
      continue;
    }
    // a register block whose RIP only one side shows (the CPU's PRSTATUS registers crash did not use)
    const b = /^ {4}\[exception RIP: /.test(line) ? /^ {4}RIP: ([0-9a-f]{16})/.exec(lines[i + 1] ?? '') : null;
    if (b && listed.has(pid) && keepPcs && !keepPcs.has(`${pid}:${BigInt('0x' + b[1]).toString(16)}`)) {
      skipLines = 7;
      continue;
    }
    // bt -l: the source line of a dropped frame goes with it
    if (dropSource && /^ {4}\S+: \d+$/.test(line) && !WORDS.test(line)) continue;
    let m = FRAME.exec(line);
    if (m) {
      const pc = BigInt('0x' + m[4]);
      if (listed.has(pid) && keepPcs && !keepPcs.has(`${pid}:${m[4]}`)) {
        // the stack words of frames below the first frame both show belong to no frame of the other side
        if (!seenKept) skipWords = true;
        dropSource = true;
        continue;
      }
      dropSource = false;
      seenKept = true;
      skipWords = false;
      const name = names(prog, m[3], pc) ? '<sym>' : m[3];
      out.push(`#${listed.has(pid) ? level : m[1].trim().slice(1)} [${m[2]}] ${name} at ${m[4]}${m[5]}`);
      level++;
      continue;
    }
    m = TEXT.exec(line);
    if (m) {
      const pc = BigInt('0x' + m[3]);
      // crash 9.0.2 on Linux 7.2 lists data objects (nist_p384_p, init_pid_ns, psi_system) as text
      if (!isKernelText(prog, pc)) continue;
      out.push(`  [${m[1]}] ${names(prog, m[2], pc) ? '<sym>' : m[2]} at ${m[3]}${m[4]}`);
      continue;
    }
    m = WORDS.exec(line) ?? RAW.exec(line);
    if (m) {
      if (skipWords) continue;
      let a = BigInt('0x' + m[1]);
      for (const tok of m[2].trim().split(/ +/)) {
        const v = prog.mem.u64(a);
        const isName = !/^[0-9a-f]{16}$/.test(tok) && !tok.startsWith('[');
        let shown = isName && names(prog, tok, v) ? '<sym>' : tok;
        // crash names absolute symbols too (the dump README: xen_elfnote_phys32_entry_value, an
        // absolute symbol crash lists that is no kernel address): no symbol of ours, no kernel address
        const bareName = tok.replace(/\+.*$/, '');
        if (isName && shown === tok && prog.symbols.address(bareName) === undefined && (v < text0 || v > end)) shown = v.toString(16).padStart(16, '0');
        out.push(`  ${a.toString(16)}: ${shown}`);
        a += 8n;
      }
      continue;
    }
    out.push(line);
  }
  return out;
}

/** "pid:pc" of every frame line (with the PID header it is under). */
function framePcs(text: string): Set<string> {
  const out = new Set<string>();
  let pid = -1;
  for (const line of text.split('\n')) {
    const h = /^PID: (\d+) /.exec(line);
    if (h) pid = Number(h[1]);
    const m = FRAME.exec(line);
    if (m) out.add(`${pid}:${m[4]}`);
    const r = /^ {4}RIP: ([0-9a-f]{16})/.exec(line);
    if (r) out.add(`${pid}:${BigInt('0x' + r[1]).toString(16)}`);
  }
  return out;
}

function both(ourPcs: Set<string>, crashPcs: Set<string>): Set<string> {
  return new Set([...ourPcs].filter((x) => crashPcs.has(x)));
}

/**
 * bt -F/-FF where crash cannot name slab objects: every stack word drgn's slab_object_info() puts in
 * a slab cache (oracles/<dump>/drgn-stack-slabs.json, made by drgn-stack-slabs.py) is shown as that
 * cache, and nothing else is; symbol words name their word; with every word read back as hex, the
 * output is crash's bt -f (normalised as above).
 */
function checkWithDrgn(prog: Program, dump: string, cmd: string, listed: Set<number>) {
  const drgn = JSON.parse(readFileSync(join(ORACLES, dump, 'drgn-stack-slabs.json'), 'utf8')) as Record<string, { slab_words: Record<string, { value: string; cache: string }> }>;
  const got = runCommand({ prog }, cmd).text;
  const ff = cmd.startsWith('bt -FF');
  let pid = -1;
  let named = 0;
  const asHex: string[] = [];
  for (const line of got.trimEnd().split('\n')) {
    const h = /^PID: (\d+) /.exec(line);
    if (h) pid = Number(h[1]);
    const m = WORDS.exec(line);
    if (!m) {
      asHex.push(line);
      continue;
    }
    let a = BigInt('0x' + m[1]);
    const toks: string[] = [];
    for (const tok of m[2].trim().split(/ +/)) {
      const v = prog.mem.u64(a);
      const want = drgn[String(pid)]?.slab_words['0x' + a.toString(16)];
      const sym = !/^[0-9a-f]{16}$/.test(tok) && !tok.startsWith('[');
      if (!sym) expect(tok, `${cmd}: word at ${a.toString(16)}`).toBe(want ? (ff ? `[${v.toString(16)}:${want.cache}]` : `[${want.cache}]`) : v.toString(16).padStart(16, '0'));
      if (want && !sym) named++;
      // a symbol word names its word (the symbol naming itself is compared with crash on 6.x)
      if (sym) expect(names(prog, tok, v), `${cmd}: ${tok} at ${a.toString(16)}`).toBe(true);
      toks.push(v.toString(16).padStart(16, '0'));
      a += 8n;
    }
    asHex.push(`    ${m[1]}: ${toks.join(' ')} `);
  }
  expect(named, `${cmd}: slab words named`).toBeGreaterThan(0);
  const f = readFileSync(oracleFile(dump, cmd.replace(/^bt -FF?/, 'bt -f')), 'utf8');
  const keep = both(framePcs(asHex.join('\n')), framePcs(f));
  expect(normalise(prog, asHex.join('\n'), keep, listed)).toEqual(normalise(prog, f, keep, listed));
}

for (const name of ['6.1-skb-uaf-0x106', '6.1-bh-scribble', '6.12-skb-uaf-kaslr', '7.2-sysrq-kaslr']) {
  const d = sharedDump(name);
  const list = join(ORACLES, `bt-${name}.txt`);
  const cmds = existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter(Boolean) : [];
  let prog: Program | null = null;
  const P = () => (prog ??= openProgram(new NodeFileSource(d!.file)));
  describe.skipIf(!d || !cmds.length)(`bt options on ${name} vs crash 9.0.2${d ? (cmds.length ? '' : ' (no oracle list)') : ` (${SKIP_REASON})`}`, () => {
    for (const cmd of cmds) {
      const raw = existsSync(oracleFile(name, cmd)) ? readFileSync(oracleFile(name, cmd), 'utf8') : '';
      const slabFailed = /^-FF? ?/.test(cmd.slice(3)) && /^bt: invalid structure member offset: page_first_page/.test(raw);
      it(`${cmd}${slabFailed ? ' (crash has no SLUB support here: slab names from drgn 0.3.0, layout from crash bt -f)' : ''}`, () => {
        const listed = listedPids(d!.oracle('disagreements.txt'));
        if (slabFailed) return checkWithDrgn(P(), name, cmd, listed);
        const want = raw;
        expect(want.trim(), `crash failed on ${cmd}`).not.toMatch(/^bt: /);
        const got = runCommand({ prog: P() }, cmd).text;
        const keep = both(framePcs(got), framePcs(want));
        expect(normalise(P(), got, keep, listed)).toEqual(normalise(P(), want, keep, listed));
      }, 120_000);
    }
  });
}

// bt -l with the kernel's -dbg vmlinux (crash reads its DWARF line table): ours equals crash's
for (const name of ['6.1-skb-uaf-0x106', '6.1-bh-scribble', '6.12-skb-uaf-kaslr', '7.2-sysrq-kaslr']) {
  const d = sharedDump(name);
  const rel = d ? /RELEASE: (\S+)/.exec(d.oracle('sys.txt'))?.[1] ?? '' : '';
  const vmlinux = rel ? debugVmlinux(rel) : null;
  const f = oracleFile(name, 'bt -l');
  const why = !d ? SKIP_REASON : !vmlinux ? DBG_SKIP(rel) : !existsSync(f) ? 'no crash bt -l oracle' : '';
  it.skipIf(!!why)(`bt -l on ${name} with its -dbg vmlinux = crash 9.0.2${why ? ` (${why})` : ''}`, () => {
    const prog = openProgram(new NodeFileSource(d!.file), { debug: [openDebugInput(new NodeFileSource(vmlinux!))] });
    const want = readFileSync(f, 'utf8');
    const got = runCommand({ prog }, 'bt -l').text;
    expect(got.split('\n').filter((l) => /^ {4}\S+: \d+$/.test(l)).length).toBeGreaterThan(5);
    const listed = listedPids(d!.oracle('disagreements.txt'));
    const keep = both(framePcs(got), framePcs(want));
    expect(normalise(prog, got, keep, listed)).toEqual(normalise(prog, want, keep, listed));
  }, 300_000);
}
