/**
 * Interrupt descriptors (kernel/irq/irqdesc.c): irq_desc by number from the sparse-IRQ store
 * (the sparse_irqs maple tree since 6.5, the irq_desc_tree radix tree / xarray before, or the
 * irq_desc[] array without SPARSE_IRQ) and each descriptor's irqaction chain with its names.
 */
import type { Program } from '../kernel/program';
import { MemoryError, DumpError } from '../errors';
import { mapleEntries } from './maple';
import { xaEntries } from './xarray';

export interface IrqAction {
  action: bigint;
  name: string;
}

export interface IrqInfo {
  irq: number;
  desc: bigint | null;
  actions: IrqAction[];
}

export function nrIrqs(prog: Program): number {
  // kernel/irq/irqdesc.c: nr_irqs, renamed total_nr_irqs in 6.13
  const a = prog.symbolAddress('nr_irqs') ?? prog.symbolAddress('total_nr_irqs');
  if (a === undefined) throw new DumpError('no symbol nr_irqs or total_nr_irqs');
  return prog.mem.u32(a);
}

/** irq number -> irq_desc address. */
export function irqDescs(prog: Program, problems: string[]): Map<number, bigint> {
  const out = new Map<number, bigint>();
  const maple = prog.symbolAddress('sparse_irqs');
  if (maple !== undefined && prog.findType('struct maple_tree') !== null) {
    const r = mapleEntries(prog, maple);
    problems.push(...r.problems);
    for (const e of r.entries) for (let i = e.index; i <= e.last && i < e.index + 65536n; i++) out.set(Number(i), e.entry);
    return out;
  }
  const tree = prog.symbolAddress('irq_desc_tree');
  if (tree !== undefined) {
    const r = xaEntries(prog, tree);
    problems.push(...r.problems);
    for (const e of r.entries) out.set(Number(e.index), e.entry);
    return out;
  }
  const arr = prog.symbolAddress('irq_desc');
  if (arr !== undefined) {
    const size = BigInt(prog.sizeof('struct irq_desc'));
    const n = nrIrqs(prog);
    for (let i = 0; i < n; i++) out.set(i, arr + size * BigInt(i));
    return out;
  }
  throw new DumpError('no sparse_irqs, irq_desc_tree or irq_desc: cannot find the interrupt descriptors');
}

export function irqList(prog: Program): { irqs: IrqInfo[]; problems: string[] } {
  const problems: string[] = [];
  const descs = irqDescs(prog, problems);
  const n = nrIrqs(prog);
  const irqs: IrqInfo[] = [];
  for (let i = 0; i < n; i++) {
    const desc = descs.get(i) ?? null;
    const actions: IrqAction[] = [];
    if (desc) {
      try {
        let a = prog.obj('struct irq_desc', desc).member('action').ptr();
        const seen = new Set<bigint>();
        while (a && !seen.has(a) && seen.size < 256) {
          seen.add(a);
          const o = prog.obj('struct irqaction', a);
          actions.push({ action: a, name: o.member('name').try((x) => x.string(64)) ?? '' });
          a = o.member('next').ptr();
        }
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        problems.push(`irq ${i}: ${e.message}`);
      }
    }
    irqs.push({ irq: i, desc, actions });
  }
  return { irqs, problems };
}
