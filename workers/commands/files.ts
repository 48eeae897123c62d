/**
 * `mount`, `files [pid|task]` and `net`: crash's filesys.c / net.c layouts over analysis/fs.ts and analysis/net.ts. The mount
 * namespace is the current context's (the panic task, as crash starts), files default to it too.
 */
import { mountList, taskFiles } from '../analysis/fs';
import { netDevices } from '../analysis/net';
import { taskVmas } from '../analysis/mm';
import { taskRssPages, taskVmPages } from '../analysis/tasks';
import { btHeader, perTaskResult, tasksOrContext } from './bt';
import { registerCommand } from './registry';
import { center } from './columns';

const hex = (v: bigint) => '0x' + v.toString(16);

registerCommand({
  name: 'mount',
  summary: "the mounts of the current task's mount namespace: mount, super block, type, device, directory",
  usage: 'mount [pid|task]',
  run(args, ctx) {
    const prog = ctx.prog;
    const task = tasksOrContext(prog, args.slice(0, 1))[0];
    const { mounts, problems } = mountList(prog, task.task);
    const devlen = 'DEVNAME'.length + 2;
    const lines = [`${center('MOUNT', 16)} ${center('SUPERBLK', 16)} ${'TYPE'.padEnd(6)} ${'DEVNAME'.padEnd(devlen)} DIRNAME`];
    for (const m of mounts) {
      let b = `${m.type.padEnd(6)} ${m.devname.padEnd(devlen)} `;
      while (b.length > 17 && b[b.length - 2] === ' ') b = b.slice(0, -1);
      lines.push(`${m.mount.toString(16).padStart(16)} ${m.superblock.toString(16).padStart(16)} ${b}${m.dirname.padEnd(10)}`);
    }
    for (const p of problems) lines.push(`mount: ${p}`);
    return {
      text: lines.join('\n') + '\n',
      json: { mounts: mounts.map((m) => ({ mount: hex(m.mount), superblock: hex(m.superblock), type: m.type, devname: m.devname, dirname: m.dirname })), problems },
    };
  },
});

registerCommand({
  name: 'files',
  summary: "a task's root, cwd and open files (fd, file, dentry, inode, type, path)",
  usage: 'files [pid|task]',
  run(args, ctx) {
    const prog = ctx.prog;
    return perTaskResult(tasksOrContext(prog, args), (t) => {
      const f = taskFiles(prog, t.task);
      const lines = [btHeader(t)];
      if (f.root !== null || f.cwd !== null) lines.push(`ROOT: ${f.root ?? ''}    CWD: ${f.cwd ?? ''}`);
      if (!f.files.length) lines.push('No open files');
      else {
        lines.push(` FD ${center('FILE', 16)} ${center('DENTRY', 16)} ${center('INODE', 16)} TYPE PATH`);
        for (const x of f.files) {
          lines.push(`${String(x.fd).padStart(3)} ${x.file.toString(16).padStart(16)} ${x.dentry.toString(16).padStart(16)} ${x.inode.toString(16).padStart(16)} ${x.type.padEnd(4)} ${x.path}`);
        }
      }
      for (const p of f.problems) lines.push(`files: ${p}`);
      return {
        text: lines.join('\n') + '\n',
        json: { pid: t.pid, task: hex(t.task), root: f.root, cwd: f.cwd, files: f.files.map((x) => ({ fd: x.fd, file: hex(x.file), dentry: hex(x.dentry), inode: hex(x.inode), type: x.type, path: x.path })), problems: f.problems },
      };
    });
  },
});

registerCommand({
  name: 'net',
  summary: "network devices of the current task's namespace with their IPv4 and IPv6 addresses",
  usage: 'net [pid|task]',
  run(args, ctx) {
    const prog = ctx.prog;
    const task = tasksOrContext(prog, args.slice(0, 1))[0];
    const { devices, problems } = netDevices(prog, task.task);
    const lines = [`${center('NET_DEVICE', 16)}  NAME       IP ADDRESS(ES)`];
    for (const d of devices) lines.push(`${center(d.address.toString(16), 16)}  ${d.name.padEnd(10)} ${[...d.ipv4, ...d.ipv6].join(', ')}`);
    for (const p of problems) lines.push(`net: ${p}`);
    return { text: lines.join('\n') + '\n', json: { devices: devices.map((d) => ({ net_device: hex(d.address), name: d.name, ipv4: d.ipv4, ipv6: d.ipv6 })), problems } };
  },
});

registerCommand({
  name: 'vm',
  summary: "a task's address space: mm_struct, page directory, RSS, total VM and every VMA (start, end, flags, file)",
  usage: 'vm [pid|task]',
  run(args, ctx) {
    const prog = ctx.prog;
    return perTaskResult(tasksOrContext(prog, args), (t) => {
      const lines = [btHeader(t)];
      if (!t.mm) {
        lines.push(`       MM               PGD          RSS    TOTAL_VM`);
        lines.push(`       0                0          0k      0k     `);
        return { text: lines.join('\n') + '\n', json: { pid: t.pid, task: hex(t.task), mm: null, vmas: [] } };
      }
      const pgd = prog.obj('struct mm_struct', t.mm).member('pgd').ptr();
      const rss = taskRssPages(prog, t) * 4;
      const total = taskVmPages(prog, t) * 4;
      lines.push(`       MM               PGD          RSS    TOTAL_VM`);
      lines.push(`${t.mm.toString(16)}  ${pgd.toString(16)}  ${center(`${rss}k`, 6)}  ${center(`${total}k`, 8)}`);
      const { vmas, problems } = taskVmas(prog, t.mm);
      lines.push('      VMA           START       END     FLAGS FILE');
      for (const v of vmas) lines.push(`${center(v.vma.toString(16), 16)} ${v.start.toString(16).padStart(10)} ${v.end.toString(16).padStart(10)} ${v.flags.toString(16).padStart(6)} ${v.file}`);
      for (const p of problems) lines.push(`vm: ${p}`);
      return {
        text: lines.join('\n') + '\n',
        json: { pid: t.pid, task: hex(t.task), mm: hex(t.mm), pgd: hex(pgd), rss_kb: rss, total_vm_kb: total, vmas: vmas.map((v) => ({ vma: hex(v.vma), start: hex(v.start), end: hex(v.end), flags: hex(v.flags), file: v.file })), problems },
      };
    });
  },
});
