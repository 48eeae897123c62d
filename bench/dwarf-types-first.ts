/**
 * One process: open the dump with its vmlinux as if neither had BTF (the dump's BTF hidden, the
 * vmlinux's .BTF ignored), so kernel types come from DWARF, and run the first `struct sk_buff -o`
 * (or the command given). For whole-process timing and peak memory from outside:
 *   node --import tsx bench/dwarf-types-first.ts [dump] [vmlinux] ['command']
 */
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDumpFile } from '../workers/node';
import { NodeFileSource } from '../workers/source/node';
import { Vmlinux } from '../workers/kernel/debuginfo';
import { runCommand } from '../workers/commands/registry';
import '../workers/commands/index';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dump = process.argv[2] ?? resolve(ROOT, '../shared/dumps/6.1-skb-uaf-0x106/vmcore.kdump-zlib');
const vmlinux = process.argv[3] ?? resolve(ROOT, '../dbg/6.1.0-56-amd64/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64');
const line = process.argv[4] ?? 'struct sk_buff -o';
const t0 = performance.now();
const vm = new Vmlinux(new NodeFileSource(vmlinux), { withoutBtf: true });
const prog = openDumpFile(dump, { debug: [vm], hide: { btf: true } });
let text: string;
try {
  text = runCommand({ prog }, line).text;
} catch (e) {
  text = String(e); // a name no unit defines: the whole index was scanned to say so
}
const ms = Math.round(performance.now() - t0);
process.stdout.write(text.split('\n').slice(0, 3).join('\n') + '\n');
console.log(JSON.stringify({ line, ms, rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), types: vm.btfFromDwarfStats }));
