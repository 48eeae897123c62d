/**
 * Typed kernel variables from BTF (drgn's Program.variable(), reduced): the kernel's BTF carries a
 * VAR entry for every per-CPU variable (DATASEC ".data..percpu", pahole's default) and, when
 * pahole ran with global_var, for every global too (DATASECs ".data", ".bss", ".rodata", ...).
 * A VAR names its type; the symbol (VMCOREINFO or kallsyms) gives its address. Per-CPU variables
 * are offsets into each CPU's area: address on a CPU = symbol + __per_cpu_offset[cpu].
 *
 * Globals with no VAR entry get a type only by inference from the code that uses them
 * (analysis/vartype.ts); this module answers what BTF says and nothing more.
 */
import type { Btf } from './btf';
import { cacheKey, type Program } from './program';

const VARIABLES_INDEX_KEY = cacheKey<VarIndex>('variables.index');

export interface BtfVariable {
  name: string;
  /** type id of the variable's value (the VAR's type) */
  type: number;
  /** true for a per-CPU variable (DATASEC .data..percpu) */
  percpu: boolean;
  /** the DATASEC that holds it */
  section: string;
}

interface VarIndex {
  byName: Map<string, BtfVariable>;
  /** per-CPU variables by value type id (struct rq -> runqueues) */
  byType: Map<number, BtfVariable[]>;
}

function index(prog: Program): VarIndex {
  const cached = prog.recall(VARIABLES_INDEX_KEY);
  if (cached) return cached;
  const btf = prog.btf;
  const byName = new Map<string, BtfVariable>();
  const byType = new Map<number, BtfVariable[]>();
  for (const id of btf.idsOfKind('datasec')) {
    const ds = btf.type(id);
    if (ds.kind !== 'datasec') continue;
    const percpu = ds.name === '.data..percpu';
    for (const v of ds.vars) {
      const vt = btf.type(v.type);
      if (vt.kind !== 'var') continue;
      const bv: BtfVariable = { name: vt.name, type: vt.type, percpu, section: ds.name };
      if (!byName.has(vt.name)) byName.set(vt.name, bv);
      const r = btf.resolve(vt.type);
      const l = byType.get(r);
      if (l) l.push(bv);
      else byType.set(r, [bv]);
    }
  }
  const idx = { byName, byType };
  prog.remember(VARIABLES_INDEX_KEY, idx);
  return idx;
}

/** The BTF VAR of a kernel variable by name, or null (no BTF, or BTF has no VAR for it). */
export function btfVariable(prog: Program, name: string): BtfVariable | null {
  if (!prog.hasBtf) return null;
  return index(prog).byName.get(name) ?? null;
}

/** Every variable with a BTF VAR entry (per-CPU ones included). */
export function btfVariables(prog: Program): BtfVariable[] {
  if (!prog.hasBtf) return [];
  return [...index(prog).byName.values()];
}

/** The per-CPU variables whose value has this (resolved) type: struct rq -> [runqueues]. */
export function perCpuVariablesOfType(prog: Program, btf: Btf, type: number): BtfVariable[] {
  if (btf !== prog.btf) return [];
  return (index(prog).byType.get(btf.resolve(type)) ?? []).filter((v) => v.percpu);
}

/** The address of a per-CPU variable on one CPU (symbol + __per_cpu_offset[cpu]). */
export function perCpuAddress(prog: Program, name: string, cpu: number): bigint {
  return prog.perCpu(name, cpu);
}

/** CPU numbers 0..nr_cpu_ids-1 that have a per-CPU area. */
export function possibleCpus(prog: Program): number[] {
  return prog.perCpuOffsets().map((_, i) => i);
}
