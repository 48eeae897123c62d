/**
 * `sym <addr|name>`: crash's symbol translation.
 *
 *   crash> sym ffffffff817c0b2d
 *   ffffffff817c0b2d (T) skb_release_data+29
 *   crash> sym ffffffffc0201420
 *   ffffffffc0201420 (t) fw_cfg_sysfs_read_raw+16 [qemu_fw_cfg]
 *
 * The offset is decimal, as crash prints it. crash adds the source file and line when it has a
 * vmlinux with debug info; we have none, so that part is never printed. Module symbols: crash 9
 * prints (t)/(T) for module text and (?) for everything else (it keeps no data type for module
 * symbols read from kallsyms); we do the same. `sym -l` lists every symbol (kernel, then each
 * module after a "MODULE START" line), `sym -q <string>` every symbol whose name contains string.
 */
import { TextOut } from './result';
import { demangleKernelSymbol } from '../kernel/rust-demangle';
import { lineAt, crashLine } from '../kernel/dwarf/index';
import { cacheKey, type Program } from '../kernel/program';
import type { Sym, SymHit } from '../kernel/symbols';
import { START_KERNEL_MAP } from '../arch/x86_64';
import { DumpError, MemoryError, expectedError } from '../errors';
import { listModules } from '../kernel/modules';
import { ensureExportSymbols } from '../kernel/exports';
import { CommandError, registerCommand, checkCancel, type CommandResult } from './registry';
import { evalAddress, symbolValue, symbolsMissingWhy } from './expr';

const MODULE_ST_INFO_KEY = cacheKey<Map<string, number>>('sym.module-st-info');
const PERCPU_LINKAGE_KEY = cacheKey<Map<string, number>>('sym.percpu-linkage');
const CLONES_KEY = cacheKey<{ n: number; m: Map<string, Sym[]> }>('sym.clones');


const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

/**
 * The type letter crash shows for a symbol. Module symbols: crash keeps the ELF st_info of the
 * module's symtab and shows 0x02 (local function) as t, 0x12 (global function) as T and
 * anything else as ?. Per-cpu symbols (kallsyms marks them A): d or D as the variable is static
 * or global, which BTF's per-cpu VAR records say (crash reads it from vmlinux's symtab).
 */
export function crashSymType(s: Sym, prog?: Program): string {
  if (s.module) {
    const info = prog ? moduleStInfo(prog).get(`${s.module}|${s.address}|${s.name}`) : undefined;
    if (info !== undefined) return info === 0x02 ? 't' : info === 0x12 ? 'T' : info >= 0x20 && info < 0x7f ? String.fromCharCode(info) : '?';
    return s.type === 't' || s.type === 'T' ? s.type : '?';
  }
  if (s.type === 'A' && prog && s.address < START_KERNEL_MAP) {
    const l = percpuLinkage(prog, s.name);
    if (l !== undefined) return l === 0 ? 'd' : 'D';
  }
  return s.type || '?';
}

/** st_info of every module symbol, keyed "module|address|name" (from mod->kallsyms->symtab). */
function moduleStInfo(prog: Program): Map<string, number> {
  const cached = prog.recall(MODULE_ST_INFO_KEY);
  if (cached) return cached;
  const out = prog.remember(MODULE_ST_INFO_KEY, new Map());
  try {
    const mk = prog.findType('struct mod_kallsyms');
    if (mk === null) return out;
    for (const mod of listModules(prog)) {
      if (!mod.kallsyms) continue;
      try {
        const k = prog.obj(mk, mod.kallsyms);
        const symtab = k.member('symtab').ptr();
        const num = k.member('num_symtab').num();
        const strtab = k.member('strtab').ptr();
        if (num <= 0 || num > 1_000_000) continue;
        const b = prog.mem.read(symtab, num * 24);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let i = 1; i < num; i++) {
          const o = i * 24;
          const value = dv.getBigUint64(o + 8, true);
          if (value === 0n) continue;
          const name = prog.mem.cstring(strtab + BigInt(dv.getUint32(o, true)), 512);
          out.set(`${mod.name}|${value}|${name}`, b[o + 4]);
        }
      } catch (e) {
        if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      }
    }
  } catch (e) {
    if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
  }
  return out;
}

/** BTF linkage (0 static, 1 global) of a per-cpu variable, from the .data..percpu DATASEC. */
function percpuLinkage(prog: Program, name: string): number | undefined {
  let m = prog.recall(PERCPU_LINKAGE_KEY);
  if (!m) {
    m = prog.remember(PERCPU_LINKAGE_KEY, new Map());
    try {
      const btf = prog.btf;
      const ds = btf.findType('.data..percpu', 'datasec');
      if (ds !== null) {
        const t = btf.type(ds);
        if (t.kind === 'datasec') {
          for (const v of t.vars) {
            const vt = btf.type(v.type);
            if (vt.kind === 'var') m.set(vt.name, vt.linkage);
          }
        }
      }
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
    }
  }
  return m.get(name);
}

/**
 * A symbol's name as crash shows it: crash drops GCC's clone suffixes ".isra.N" and ".part.N"
 * (it keeps ".constprop.N" and ".cold"), for kernel and module symbols alike, and demangles Rust.
 */
export function crashSymName(name: string): string {
  const n = name.replace(/(?:\.(?:isra|part)\.\d+)+$/, '');
  // Rust symbols (v0 mangling, `_R...`, also after a `__ksymtab_`-style prefix) demangled as crash shows them
  return n.includes('_R') ? demangleKernelSymbol(n) : n;
}

/** Symbols whose names carry a clone suffix, by their stripped name (built once per dump). */
function cloneIndex(prog: Program): Map<string, Sym[]> {
  const all = prog.symbols.all();
  const c = prog.recall(CLONES_KEY);
  if (c && c.n === all.length) return c.m;
  const m = new Map<string, Sym[]>();
  for (const x of all) {
    if (!x.name.includes('.isra.') && !x.name.includes('.part.')) continue;
    const k = crashSymName(x.name);
    if (k === x.name) continue;
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  prog.remember(CLONES_KEY, { n: all.length, m });
  return m;
}

/** "name+off [module]" with a decimal offset (crash's value_to_symstr at radix 10). */
export function symOffsetText(hit: SymHit): string {
  return `${crashSymName(hit.sym.name)}${hit.offset ? `+${hit.offset}` : ''}${hit.sym.module ? ` [${hit.sym.module}]` : ''}`;
}

/** The symbol covering an address, or null (crash: "sym: invalid address"). */
export function symbolAt(prog: Program, addr: bigint): SymHit | null {
  ensureExportSymbols(prog);
  try {
    return prog.symbols.lookup(addr);
  } catch (e) {
    expectedError(e);
    return null;
  }
}

function lineFor(prog: Program, addr: bigint, hit: SymHit): string {
  // with a vmlinux's DWARF, crash adds the source line of a code address
  const src = lineAt(prog, addr);
  return `${hex16(addr)} (${crashSymType(hit.sym, prog)}) ${symOffsetText(hit)}${src ? ' ' + crashLine(src) : ''}`;
}

function jsonFor(prog: Program, addr: bigint, hit: SymHit): Record<string, unknown> {
  const j: Record<string, unknown> = {
    address: '0x' + addr.toString(16),
    symbol: crashSymName(hit.sym.name),
    offset: hit.offset,
    type: crashSymType(hit.sym, prog),
  };
  if (hit.sym.module) j.module = hit.sym.module;
  const src = lineAt(prog, addr);
  if (src) j.source = src;
  return j;
}

function symOne(prog: Program, arg: string): { text: string; json: unknown } {
  ensureExportSymbols(prog);
  // A name: crash prints the symbol's own line (every symbol of that name).
  if (/^[A-Za-z_.$]/.test(arg) && !/[-+*/%&|^~()<>\s]/.test(arg)) {
    const m = /^([\w-]+):(.+)$/.exec(arg);
    let syms: Sym[] = [];
    try {
      syms = m ? prog.symbols.lookupName(m[2]).filter((s) => s.module === m[1]) : prog.symbols.lookupName(arg);
    } catch (e) {
      expectedError(e);
      /* symbols unavailable */
    }
    if (!syms.length && !m) {
      // crash knows clones by their stripped names: "walk_ring" for walk_ring.isra.0
      syms = cloneIndex(prog).get(arg) ?? [];
    }
    if (syms.length) {
      const s = syms[0];
      const hit = { sym: s, offset: 0 };
      return { text: lineFor(prog, s.address, hit), json: jsonFor(prog, s.address, hit) };
    }
    const v = symbolValue(prog, arg);
    if (v !== undefined) {
      const hit = symbolAt(prog, v);
      if (hit) return { text: lineFor(prog, v, hit), json: jsonFor(prog, v, hit) };
    }
    if (!/^[0-9a-fA-F]+$/.test(arg)) throw new CommandError(`sym: ${arg}: symbol not found${symbolsMissingWhy(prog)}`);
  }
  const addr = evalAddress(prog, arg);
  const hit = symbolAt(prog, addr);
  if (!hit) throw new CommandError(`sym: invalid address: ${addr.toString(16)}${symbolsMissingWhy(prog)}`);
  return { text: lineFor(prog, addr, hit), json: jsonFor(prog, addr, hit) };
}

registerCommand({
  name: 'sym',
  summary: 'translate a symbol to its address or an address to its symbol+offset',
  usage: 'sym <address|symbol|expression> ... | sym -l | sym -q <string>',
  run(args, ctx): CommandResult {
    const prog = ctx.prog;
    if (args[0] === '-l' || args[0] === '-q') {
      const q = args[0] === '-q' ? args[1] : undefined;
      if (args[0] === '-q' && !q) throw new CommandError('sym: -q needs a string');
      const lines = new TextOut(ctx.emit);
      const json: unknown[] = [];
      let lastMod: string | undefined;
      const all = prog.symbols.all();
      // kernel symbols first (in address order), then each module's
      const kernel = all.filter((s) => !s.module && (s.address >= START_KERNEL_MAP || q !== undefined));
      const mods = all.filter((s) => s.module);
      let n = 0;
      for (const s of [...kernel, ...mods]) {
        if (++n % 4096 === 0) {
          checkCancel(ctx);
          ctx.progress?.(n, all.length, 'symbols');
        }
        if (q !== undefined && !s.name.includes(q)) continue;
        if (q === undefined && s.module && s.module !== lastMod) {
          lines.line(`${hex16(s.address)} MODULE START: ${s.module}`);
          lastMod = s.module;
        }
        lines.line(`${hex16(s.address)} (${crashSymType(s, prog)}) ${crashSymName(s.name)}${q !== undefined && s.module ? ` [${s.module}]` : ''}`);
        json.push({ address: '0x' + s.address.toString(16), symbol: crashSymName(s.name), type: crashSymType(s, prog), ...(s.module ? { module: s.module } : {}) });
      }
      return { text: lines.done(), json };
    }
    if (args.length === 0) throw new CommandError('usage: sym <address|symbol> ...');
    // crash takes several arguments; an expression with spaces is one argument when quoted
    const outs = args.map((a) => symOne(prog, a));
    return {
      text: outs.map((o) => o.text).join('\n') + '\n',
      json: outs.length === 1 ? outs[0].json : outs.map((o) => o.json),
    };
  },
});
