/**
 * What a vmlinux second input costs in Node (DESIGN.md: opening must stay fast):
 *   npx tsx bench/vmlinux.ts [dump] [vmlinux]
 * Prints, each in its own fresh process: opening the dump alone vs with the vmlinux (headers,
 * build id match), the first `sys`, the first `bt -l` (aranges index + the units of the panic
 * task's frames), `bt --locals`, and the types-from-DWARF pass (for kernels without BTF); bytes read
 * from the vmlinux and the process's peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolve, dirname } from 'node:path';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dump = process.argv[2] ?? resolve(ROOT, '../shared/dumps/6.1-skb-uaf-0x106/vmcore.kdump-zlib');
const vmlinux = process.argv[3] ?? resolve(ROOT, '../dbg/6.1.0-56-amd64/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64');

const child = `
import { openDumpFile } from '${ROOT}/workers/node';
import { NodeFileSource } from '${ROOT}/workers/source/node';
import { Vmlinux } from '${ROOT}/workers/kernel/debuginfo';
import { runCommand } from '${ROOT}/workers/commands/registry';
import '${ROOT}/workers/commands/index';
const [mode, dump, vml] = process.argv.slice(1);
const t = () => performance.now();
let t0 = t();
const src = mode === 'alone' ? null : new NodeFileSource(vml);
const vm = src ? new Vmlinux(src, { withoutBtf: mode === 'dwarf-types' }) : null;
const prog = openDumpFile(dump, { debug: vm ? [vm] : [], hide: mode === 'dwarf-types' ? { btf: true } : {} });
const out = { mode, open_ms: +(t() - t0).toFixed(1) };
if (mode === 'dwarf-types') { t0 = t(); prog.btf; out.types_from_dwarf_ms = +(t() - t0).toFixed(0); }
t0 = t(); runCommand({ prog }, 'sys'); out.first_sys_ms = +(t() - t0).toFixed(0);
if (mode === 'dwarf-types') { /* types measured above */ }
else if (vm) {
  t0 = t(); runCommand({ prog }, 'bt -l'); out.first_bt_l_ms = +(t() - t0).toFixed(0);
  t0 = t(); runCommand({ prog }, 'bt --locals'); out.bt_locals_ms = +(t() - t0).toFixed(0);
} else { t0 = t(); runCommand({ prog }, 'bt'); out.first_bt_ms = +(t() - t0).toFixed(0); }
if (src) out.vmlinux_bytes_read = src.stats.bytesRead;
out.rss_mb = +(process.resourceUsage().maxRSS / 1024).toFixed(0);
console.log(JSON.stringify(out));
`;

for (const mode of ['alone', 'vmlinux', 'dwarf-types']) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, mode, dump, vmlinux], { cwd: ROOT, encoding: 'utf8' });
  process.stdout.write(r.stdout || r.stderr.split('\n').slice(0, 5).join('\n') + '\n');
}
