/**
 * A task's address space (mm/mmap.c, include/linux/mm_types.h): its mm_struct, page tables and
 * VMAs in address order, from the maple tree (mm->mm_mt, Linux >= 6.1) or the mmap list
 * (vm_next) before, as crash's `vm` lists them.
 */
import type { Program } from '../kernel/program';
import { DumpError, MemoryError } from '../errors';
import { mapleEntries } from './maple';
import { dPath } from './fs';

export interface Vma {
  vma: bigint;
  start: bigint;
  end: bigint;
  flags: bigint;
  file: string;
}

export function taskVmas(prog: Program, mm: bigint, limit = 1_000_000): { vmas: Vma[]; problems: string[] } {
  const problems: string[] = [];
  const vmaT = prog.type('struct vm_area_struct');
  const addrs: bigint[] = [];
  if (prog.hasMember('struct mm_struct', 'mm_mt')) {
    const r = mapleEntries(prog, prog.obj('struct mm_struct', mm).member('mm_mt').address, limit);
    problems.push(...r.problems);
    for (const e of r.entries) if ((e.entry & 3n) === 0n) addrs.push(e.entry);
  } else {
    let v = prog.obj('struct mm_struct', mm).member('mmap').ptr();
    const seen = new Set<bigint>();
    while (v && addrs.length < limit) {
      if (seen.has(v)) {
        problems.push(`vm_next loops at ${v.toString(16)}`);
        break;
      }
      seen.add(v);
      addrs.push(v);
      v = prog.obj(vmaT, v).member('vm_next').ptr();
    }
  }
  const vmas: Vma[] = [];
  for (const a of new Set(addrs)) {
    try {
      const o = prog.obj(vmaT, a);
      if (o.member('vm_mm').ptr() !== mm) {
        problems.push(`vma ${a.toString(16)} belongs to another mm`);
        continue;
      }
      const f = o.member('vm_file').ptr();
      let file = '';
      if (f) {
        const fp = prog.obj('struct file', f).member('f_path');
        file = dPath(prog, fp.member('dentry').ptr(), fp.member('mnt').ptr());
      }
      vmas.push({ vma: a, start: o.member('vm_start').value(), end: o.member('vm_end').value(), flags: o.member('vm_flags').value(), file });
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`vma ${a.toString(16)}: ${e.message}`);
    }
  }
  vmas.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  return { vmas, problems };
}

/** A read of user memory that stopped: the user address it could not read, and why. */
export interface UserReadFailure {
  at: bigint;
  reason: string;
}

/**
 * Read `len` bytes of a process's user memory at `va` through its own page tables (mm->pgd),
 * a page at a time, as crash's uvtop + readmem do. makedumpfile -d 8 (and 31) leaves user pages
 * out of the dump: the read then fails at the first missing page, with the reason.
 */
export function readUser(prog: Program, mm: bigint, va: bigint, len: number): { bytes: Uint8Array } | { failed: UserReadFailure } {
  let pgdPhys: number;
  try {
    pgdPhys = prog.arch.vtop(prog.obj('struct mm_struct', mm).member('pgd').ptr());
  } catch (e) {
    if (!(e instanceof MemoryError) && !(e instanceof DumpError)) throw e;
    return { failed: { at: va, reason: `mm ${mm.toString(16)}: page table unreadable: ${(e as Error).message}` } };
  }
  const page = BigInt(prog.info.pageSize);
  const out = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const a = va + BigInt(done);
    const cnt = Math.min(len - done, Number(page - (a % page)));
    try {
      const tr = prog.arch.walk(a, pgdPhys);
      out.set(prog.phys.readPhys(tr.phys, cnt), done);
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      return { failed: { at: a, reason: e.message } };
    }
    done += cnt;
  }
  return { bytes: out };
}
