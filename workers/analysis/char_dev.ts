/**
 * Device numbers (fs/char_dev.c, block/genhd.c, block/bdev.c): the character device majors in
 * chrdevs[] with their cdev and file_operations (cdev_map's probes when the region has no cdev),
 * and the block majors in major_names[] with the gendisk of a block device of that major, as
 * crash's `dev` lists them. Table lengths come from the symbols' extents; every chain is
 * bounded and cycle-checked.
 */
import type { Program } from '../kernel/program';
import { DumpError, MemoryError, expectedError } from '../errors';
import { walkList, describeStop } from '../kernel/list';

export interface CharDev {
  major: number;
  baseminor: number;
  name: string;
  /** struct char_device_struct */
  cds: bigint;
  cdev: bigint;
  fops: bigint;
}

export interface BlockDev {
  major: number;
  name: string;
  gendisk: bigint;
  fops: bigint;
}

/** Entries of the pointer table at symbol `sym`: its extent to the next symbol, at most `max`. */
function tableLength(prog: Program, sym: string, max: number): number {
  const a = prog.symbolAddress(sym);
  if (a === undefined) return 0;
  const next = prog.symbols.nextAddress(a);
  const n = next !== undefined ? Number(next - a) / 8 : max;
  return Math.max(0, Math.min(max, Math.floor(n)));
}

// a major number's hash table has at most 4096 majors (CHRDEV_MAJOR_MAX, BLKDEV_MAJOR_MAX)
const MAX_TABLE = 4096;

function cstr(b: Uint8Array): string {
  const e = b.indexOf(0);
  return new TextDecoder('latin1').decode(e < 0 ? b : b.subarray(0, e));
}

/** cdev_map's probe for dev (MAJOR/MINOR): the cdev its data points to, or 0. */
function cdevFromProbes(prog: Program, major: number, minor: number, problems: string[]): bigint {
  const m = prog.symbolAddress('cdev_map');
  if (m === undefined) return 0n;
  try {
    const map = prog.mem.u64(m);
    const probes = prog.obj('struct kobj_map', map).member('probes');
    const n = Math.floor(probes.size / 8);
    const head = probes.index(major % n).ptr();
    if (!head) return 0n;
    const w = walkList(prog, head, { nextOffset: prog.offsetof('struct probe', 'next'), endAtStart: false, limit: 1 << 20 });
    const stop = describeStop(w, `cdev_map probes[${major % n}]`);
    if (stop) problems.push(stop);
    const minorBits = 20;
    for (const p of w.entries) {
      const o = prog.obj('struct probe', p);
      const dev = o.member('dev').num();
      if (dev >>> minorBits === major && (dev & ((1 << minorBits) - 1)) === minor) return o.member('data').ptr();
    }
  } catch (e) {
    expectedError(e);
    problems.push(`cdev_map: ${(e as Error).message}`);
  }
  return 0n;
}

export function charDevices(prog: Program): { devs: CharDev[]; problems: string[] } {
  const problems: string[] = [];
  const devs: CharDev[] = [];
  const base = prog.symbolAddress('chrdevs');
  if (base === undefined) throw new DumpError('chrdevs: symbol does not exist');
  const n = tableLength(prog, 'chrdevs', MAX_TABLE);
  const nextOff = prog.offsetof('struct char_device_struct', 'next');
  for (let i = 0; i < n; i++) {
    let first: bigint;
    try {
      first = prog.mem.u64(base + BigInt(i * 8));
    } catch (e) {
      expectedError(e);
      problems.push(`chrdevs[${i}] unreadable`);
      continue;
    }
    if (!first) continue;
    const w = walkList(prog, first, { nextOffset: nextOff, endAtStart: false, limit: MAX_TABLE });
    const stop = describeStop(w, `chrdevs[${i}]`);
    if (stop) problems.push(stop);
    for (const c of w.entries) {
      try {
        const o = prog.obj('struct char_device_struct', c);
        const major = o.member('major').num();
        const baseminor = o.member('baseminor').num();
        const nm = o.member('name');
        const name = nm.kind === 'ptr' ? prog.mem.cstring(nm.ptr(), 64) : cstr(nm.bytes());
        let cdev = o.member('cdev').ptr();
        let fops = 0n;
        if (cdev) fops = prog.obj('struct cdev', cdev).member('ops').ptr();
        if (!fops) {
          const pc = cdevFromProbes(prog, major, baseminor, problems);
          if (pc) {
            fops = prog.obj('struct cdev', pc).member('ops').ptr();
            cdev = pc;
          }
        }
        devs.push({ major, baseminor, name, cds: c, cdev: fops ? cdev : 0n, fops });
      } catch (e) {
        if (!(e instanceof MemoryError) && !(e instanceof DumpError)) throw e;
        problems.push(`char_device_struct ${c.toString(16)}: ${e.message}`);
      }
    }
  }
  return { devs, problems };
}

/** The gendisks of the block devices (blockdev_superblock's inodes: bdev_inode.bdev.bd_disk). */
export function blockDeviceDisks(prog: Program, problems: string[]): bigint[] {
  const a = prog.symbolAddress('blockdev_superblock');
  if (a === undefined) return [];
  try {
    const sb = prog.mem.u64(a);
    const head = prog.obj('struct super_block', sb).member('s_inodes').address;
    const w = walkList(prog, head, { nextOffset: prog.offsetof('struct inode', 'i_sb_list'), headIsAnchor: true, embedded: true, limit: 1 << 20 });
    const stop = describeStop(w, 'blockdev_superblock s_inodes');
    if (stop) problems.push(stop);
    // I_BDEV(inode): struct bdev_inode { struct block_device bdev; struct inode vfs_inode; }
    const vfs = prog.offsetof('struct bdev_inode', 'vfs_inode');
    const bdOff = prog.offsetof('struct bdev_inode', 'bdev');
    const out: bigint[] = [];
    for (const ino of w.entries) {
      const bdev = ino - BigInt(vfs) + BigInt(bdOff);
      try {
        const disk = prog.obj('struct block_device', bdev).member('bd_disk').ptr();
        if (disk && !out.includes(disk)) out.push(disk);
      } catch (e) {
        expectedError(e);
        problems.push(`block_device ${bdev.toString(16)}: unreadable`);
      }
    }
    return out;
  } catch (e) {
    expectedError(e);
    problems.push(`blockdev_superblock: ${(e as Error).message}`);
    return [];
  }
}

export function blockDevices(prog: Program): { devs: BlockDev[]; problems: string[] } {
  const problems: string[] = [];
  const devs: BlockDev[] = [];
  const base = prog.symbolAddress('major_names');
  if (base === undefined) throw new DumpError('major_names: symbol does not exist');
  const n = tableLength(prog, 'major_names', MAX_TABLE);
  const disks = blockDeviceDisks(prog, problems);
  // crash lists the first blk_major_name of each hash slot
  for (let i = 0; i < n; i++) {
    try {
      const p = prog.mem.u64(base + BigInt(i * 8));
      if (!p) continue;
      const o = prog.obj('struct blk_major_name', p);
      const major = o.member('major').num();
      const name = cstr(o.member('name').bytes());
      let gendisk = 0n;
      let fops = 0n;
      for (const d of disks) {
        try {
          const g = prog.obj('struct gendisk', d);
          if (g.member('major').num() !== major) continue;
          const f = g.member('fops').ptr();
          if (f) {
            gendisk = d;
            fops = f;
            break;
          }
        } catch (e) {
          expectedError(e);
          problems.push(`gendisk ${d.toString(16)}: unreadable`);
        }
      }
      devs.push({ major, name, gendisk, fops });
    } catch (e) {
      expectedError(e);
      problems.push(`major_names[${i}]: ${(e as Error).message}`);
    }
  }
  return { devs, problems };
}
