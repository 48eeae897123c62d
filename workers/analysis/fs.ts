/**
 * Files and mounts (fs/namespace.c, fs/d_path.c, fs/file.c): a dentry's path through the mount
 * tree, a mount namespace's mounts, and a task's root, cwd and open files, as crash's `mount` and
 * `files` read them. Every walk is bounded.
 */
import type { Program } from '../kernel/program';
import { MemoryError, DumpError } from '../errors';
import { rbWalk } from './rbtree';
import { walkList, describeStop } from './list';

const MAX_DEPTH = 4096;

function dentryName(prog: Program, dentry: bigint): string {
  const o = prog.obj('struct dentry', dentry);
  return o.member('d_name').member('name').string(256);
}

/**
 * The path of `dentry` seen through `vfsmnt` (a struct vfsmount *, the `mnt` member of a struct
 * mount), crossing mount points up to the namespace root: crash's get_pathname(dentry, .., 1, vfsmnt).
 */
export function dPath(prog: Program, dentry: bigint, vfsmnt: bigint): string {
  const mntOff = BigInt(prog.offsetof('struct mount', 'mnt'));
  const parts: string[] = [];
  let mount = vfsmnt ? vfsmnt - mntOff : 0n;
  for (let i = 0; i < MAX_DEPTH; i++) {
    if (mount) {
      const mo = prog.obj('struct mount', mount);
      const root = mo.member('mnt').member('mnt_root').ptr();
      if (dentry === root) {
        const parent = mo.member('mnt_parent').ptr();
        if (!parent || parent === mount) break;
        dentry = mo.member('mnt_mountpoint').ptr();
        mount = parent;
        continue;
      }
    }
    const parentD = prog.obj('struct dentry', dentry).member('d_parent').ptr();
    if (!parentD || parentD === dentry) break;
    parts.unshift(dentryName(prog, dentry));
    dentry = parentD;
  }
  return '/' + parts.join('/');
}

export interface MountInfo {
  mount: bigint;
  superblock: bigint;
  type: string;
  devname: string;
  dirname: string;
}

/** The mounts of a task's mount namespace (nsproxy->mnt_ns): its rb-tree on 6.8+, else its list. */
export function mountList(prog: Program, task: bigint): { mounts: MountInfo[]; problems: string[] } {
  const problems: string[] = [];
  const t = prog.obj('struct task_struct', task);
  const nsproxy = t.member('nsproxy').ptr();
  if (!nsproxy) throw new DumpError(`task ${task.toString(16)} has no nsproxy`);
  const ns = prog.obj('struct nsproxy', nsproxy).member('mnt_ns').ptr();
  const nsT = prog.type('struct mnt_namespace');
  const nso = prog.obj(nsT, ns);
  let addrs: bigint[];
  if (prog.btf.memberPath(nsT, 'mounts') && prog.hasMember('struct mount', 'mnt_node')) {
    const w = rbWalk(prog, nso.member('mounts').address, 100000);
    problems.push(...w.problems);
    const off = BigInt(prog.offsetof('struct mount', 'mnt_node'));
    addrs = w.nodes.map((n) => n - off);
  } else {
    const root = nso.member('root').ptr();
    const listOff = prog.offsetof('struct mount', 'mnt_list');
    const head = nso.member('list').address;
    const w = walkList(prog, head, { nextOffset: listOff, headIsAnchor: true, limit: 100000 });
    addrs = w.entries;
    const why = describeStop(w);
    if (why) problems.push(`mount list: ${why}`);
    void root;
  }
  const mounts: MountInfo[] = [];
  for (const m of addrs) {
    try {
      const mo = prog.obj('struct mount', m);
      const sb = mo.member('mnt').member('mnt_sb').ptr();
      if (!sb) continue; // a cursor
      const fst = prog.obj('struct super_block', sb).member('s_type').ptr();
      const type = prog.obj('struct file_system_type', fst).member('name').string(64);
      const devname = mo.member('mnt_devname').try((x) => x.string(256)) ?? '(unknown)';
      const parent = mo.member('mnt_parent').ptr();
      const mp = mo.member('mnt_mountpoint').ptr();
      const dirname = dPath(prog, mp, parent + BigInt(prog.offsetof('struct mount', 'mnt')));
      mounts.push({ mount: m, superblock: sb, type, devname, dirname });
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`mount ${m.toString(16)}: ${e.message}`);
    }
  }
  return { mounts, problems };
}

export interface OpenFile {
  fd: number;
  file: bigint;
  dentry: bigint;
  inode: bigint;
  type: string;
  path: string;
}

/** crash's file type names from the inode mode (S_IFMT). */
export function inodeType(mode: number): string {
  switch (mode & 0o170000) {
    case 0o140000: return 'SOCK';
    case 0o120000: return 'LNK';
    case 0o100000: return 'REG';
    case 0o060000: return 'BLK';
    case 0o040000: return 'DIR';
    case 0o020000: return 'CHR';
    case 0o010000: return 'FIFO';
    default: return 'UNKN';
  }
}

export interface TaskFiles {
  root: string | null;
  cwd: string | null;
  files: OpenFile[];
  problems: string[];
}

/** A task's root and cwd (fs_struct) and its open files (files_struct->fdt, open_fds bitmap). */
export function taskFiles(prog: Program, task: bigint, maxFds = 1 << 20): TaskFiles {
  const problems: string[] = [];
  const t = prog.obj('struct task_struct', task);
  let root: string | null = null;
  let cwd: string | null = null;
  const fs = t.member('fs').ptr();
  if (fs) {
    const f = prog.obj('struct fs_struct', fs);
    const path = (m: string) => {
      const p = f.member(m);
      const d = p.member('dentry').ptr();
      return d ? dPath(prog, d, p.member('mnt').ptr()) : null;
    };
    try {
      root = path('root');
      cwd = path('pwd');
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`fs_struct: ${e.message}`);
    }
  }
  const files: OpenFile[] = [];
  const fsa = t.member('files').ptr();
  if (fsa) {
    const fdt = prog.obj('struct files_struct', fsa).member('fdt').deref();
    const max = Math.min(fdt.member('max_fds').num(), maxFds);
    const fdArr = fdt.member('fd').ptr();
    const openFds = fdt.member('open_fds').ptr();
    const bits = prog.mem.read(openFds, Math.ceil(max / 8));
    const fileT = prog.type('struct file');
    for (let i = 0; i < max; i++) {
      if (!(bits[i >> 3] & (1 << (i & 7)))) continue;
      try {
        const file = prog.mem.u64(fdArr + BigInt(i * 8));
        if (!file) continue;
        const fo = prog.obj(fileT, file);
        const fp = fo.member('f_path');
        const dentry = fp.member('dentry').ptr();
        if (!dentry) continue;
        const inode = prog.obj('struct dentry', dentry).member('d_inode').ptr();
        if (!inode) continue;
        const mode = prog.obj('struct inode', inode).member('i_mode').num();
        const path = dPath(prog, dentry, fp.member('mnt').ptr());
        files.push({ fd: i, file, dentry, inode, type: inodeType(mode), path });
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
        problems.push(`fd ${i}: ${e.message}`);
      }
    }
  }
  return { root, cwd, files, problems };
}
