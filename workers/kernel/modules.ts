import { DumpError, MemoryError } from '../errors';
import { u32, u64, u16, cstr } from '../bytes';
import { cacheKey, type Program } from './program';
import type { SymbolTable } from './symbols';
import { walkList, listProblem } from './list';
import { parseBtf, type Btf } from './btf';

const MODULES_KEY = cacheKey<ModuleInfo[]>('modules');

/** A loaded module (struct module), as read from the `modules` list. */
export interface ModuleInfo {
  name: string;
  address: bigint;
  /** memory regions of the module: text, data, rodata, init... [start, end) */
  regions: Array<{ start: bigint; end: bigint; kind: string }>;
  /** struct mod_kallsyms * (the full table while the module initializes, core symbols after) */
  kallsyms: bigint;
  numSyms: number;
  btfData?: bigint;
  btfSize?: number;
  state?: number;
}

const MAX_MODULES = 10000;

/** Walk the `modules` list (kernel/module). Bounded and cycle-checked. */
export function listModules(prog: Program): ModuleInfo[] {
  const cached = prog.recall(MODULES_KEY);
  if (cached) return cached;
  const out: ModuleInfo[] = [];
  prog.remember(MODULES_KEY, out);
  const head = prog.symbols.address('modules');
  if (head === undefined || !prog.hasBtf) return out;
  const btf = prog.btf;
  const modT = prog.type('struct module');
  const listOff = BigInt(prog.offsetof(modT, 'list'));
  const walk = walkList(prog, head, { nextOffset: Number(listOff), headIsAnchor: true, limit: MAX_MODULES });
  const stop = listProblem(walk, 'modules list');
  if (stop) prog.unavailable.push({ what: 'modules list', why: stop.message });
  for (const addr of walk.entries) {
    const m = prog.obj(modT, addr);
    try {
      const name = m.member('name').string(64);
      const regions: ModuleInfo['regions'] = [];
      if (btf.memberPath(modT, 'mem')) {
        // Linux >= 6.4: struct module_memory mem[MOD_MEM_NUM_TYPES]
        const mem = m.member('mem');
        const n = Math.floor(mem.size / prog.sizeof('struct module_memory'));
        const kinds = ['text', 'data', 'rodata', 'ro_after_init', 'init_text', 'init_data', 'init_rodata'];
        for (let i = 0; i < n; i++) {
          const e = mem.index(i);
          const base = e.member('base').ptr();
          const size = e.member('size').num();
          if (base && size) regions.push({ start: base, end: base + BigInt(size), kind: kinds[i] ?? `mem${i}` });
        }
      } else {
        for (const [member, kind] of [
          ['core_layout', 'core'],
          ['init_layout', 'init'],
        ] as const) {
          if (!btf.memberPath(modT, member)) continue;
          const l = m.member(member);
          const base = l.member('base').ptr();
          const size = l.member('size').num();
          if (base && size) regions.push({ start: base, end: base + BigInt(size), kind });
        }
      }
      const ks = m.member('kallsyms').ptr();
      const info: ModuleInfo = { name, address: addr, regions, kallsyms: ks, numSyms: 0 };
      if (btf.memberPath(modT, 'btf_data')) {
        info.btfData = m.member('btf_data').ptr();
        info.btfSize = m.member('btf_data_size').num();
      }
      if (btf.memberPath(modT, 'state')) info.state = m.member('state').num();
      out.push(info);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      prog.unavailable.push({ what: `module at 0x${addr.toString(16)}`, why: e.message });
    }
  }
  return out;
}

/** Add each module's ELF symbols (mod->kallsyms->symtab/strtab/typetab) to the table. */
export function loadModuleSymbols(prog: Program, table: SymbolTable): void {
  let mods: ModuleInfo[];
  try {
    mods = listModules(prog);
  } catch (e) {
    if (e instanceof DumpError || e instanceof MemoryError) {
      prog.unavailable.push({ what: 'module symbols', why: e.message });
      return;
    }
    throw e;
  }
  if (mods.length === 0) return;
  const mk = prog.findType('struct mod_kallsyms');
  for (const mod of mods) {
    for (const r of mod.regions) table.addRegion(r.start, r.end, mod.name);
    if (!mod.kallsyms || mk === null) continue;
    try {
      const k = prog.obj(mk, mod.kallsyms);
      const symtab = k.member('symtab').ptr();
      const num = k.member('num_symtab').num();
      const strtab = k.member('strtab').ptr();
      const typetab = prog.btf.memberPath(mk, 'typetab') ? k.member('typetab').ptr() : 0n;
      if (num <= 0 || num > 1_000_000) continue;
      mod.numSyms = num;
      const syms = prog.mem.read(symtab, num * 24);
      const types = typetab ? prog.mem.tryRead(typetab, num) : null;
      // strtab size is unknown: read names one by one through a small cache of pages
      for (let i = 1; i < num; i++) {
        const o = i * 24;
        const nameOff = u32(syms, o);
        const shndx = u16(syms, o + 6);
        const value = u64(syms, o + 8);
        if (shndx === 0 || value === 0n) continue; // undefined symbols
        const name = readStr(prog, strtab + BigInt(nameOff));
        if (!name) continue;
        const type = types ? String.fromCharCode(types[i]) : '?';
        table.add({ name, address: value, type, module: mod.name });
      }
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      prog.unavailable.push({ what: `symbols of module ${mod.name}`, why: e.message });
    }
  }
}

function readStr(prog: Program, addr: bigint): string {
  const b = prog.mem.tryRead(addr, Math.min(256, 4096 - Number(addr & 0xfffn)));
  if (!b) return '';
  const z = b.indexOf(0);
  if (z >= 0) return cstr(b, 0, z);
  return prog.mem.cstring(addr, 512);
}

/** A module's split BTF on top of the kernel's (CONFIG_DEBUG_INFO_BTF_MODULES), or null. */
export function moduleBtf(prog: Program, name: string): Btf | null {
  const key = cacheKey<Btf | null>(`btf.module.${name}`);
  const cached = prog.recall(key);
  if (cached !== undefined) return cached;
  let out: Btf | null = null;
  const mod = listModules(prog).find((m) => m.name === name);
  const parse = (addr: bigint, size: number) => {
    if (!addr || size <= 0 || size > 64 << 20) return null;
    try {
      return parseBtf(prog.mem.read(addr, size), prog.btf);
    } catch (e) {
      if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      return null;
    }
  };
  // While a module initializes, mod->btf_data still points at its .BTF; after that the kernel
  // keeps the parsed copy on the btf_modules list (kernel/bpf/btf.c: struct btf_module).
  if (mod?.btfData && mod.btfSize) out = parse(mod.btfData, mod.btfSize);
  if (!out && mod) {
    const head = prog.symbols.address('btf_modules');
    const bm = prog.findType('struct btf_module');
    const bt = prog.findType('struct btf');
    if (head !== undefined && bm !== null && bt !== null) {
      const walk = walkList(prog, head, { nextOffset: prog.offsetof(bm, 'list'), headIsAnchor: true, limit: MAX_MODULES });
      for (const entry of walk.entries) {
        const e = prog.obj(bm, entry);
        const ok = e.try((o) => o.member('module').ptr() === mod.address);
        if (ok) {
          const b = e.try((o) => o.member('btf').deref());
          if (b) out = b.try((o) => parse(o.member('data').ptr(), o.member('data_size').num())) ?? null;
          break;
        }
      }
    }
  }
  prog.remember(key, out);
  return out;
}
