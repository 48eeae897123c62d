import { describe, it, expect, beforeAll } from 'vitest';
import { NodeFileSource } from '../source/node';
import { openProgram, type Program } from '../engine';
import { runCommand, runCommandSafe } from './registry';
import { allSharedDumps, SKIP_REASON, type SharedDump } from '../testing/dumps';
import { gdbString } from './struct';
import './index';

const dumps = allSharedDumps();

/** Known difference: gdb writes "const struct xattr_handler * const *", the BTF type printer "*const *". */
const gdbConstSpacing = (t: string) => t.replace(/\* const \*/g, '*const *');

describe.skipIf(dumps.length === 0)(`struct -o against crash (${dumps.length} dumps)`, () => {
  for (const d of dumps) {
    describe(d.name, () => {
      let prog: Program;
      beforeAll(() => {
        prog = openProgram(new NodeFileSource(d.file));
      });
      it('every type of oracle/struct-offsets.json: size, member names, paths, offsets and types; the text too', () => {
        const blocks = new Map<string, string>();
        for (const b of d.oracle('struct-offsets.txt').split(/^crash> /m).slice(1)) {
          const [h, ...l] = b.split('\n');
          blocks.set(h.trim(), l.join('\n').replace(/\n+$/, '\n'));
        }
        let n = 0;
        for (const e of d.oracleJson<Array<{ type: string | null; query: string; size: number; members: Array<{ name: string; path: string; offset: number; type: string }> }>>('struct-offsets.json')) {
          if (!e.type) {
            // crash: "invalid data structure reference" (scsi_cmnd: its vmlinux has no DWARF for it);
            // the 6.12 BTF does define it, so we may answer; never with an internal error
            const r = runCommandSafe({ prog }, `struct -o ${e.query.replace(/^struct /, '')}`);
            if (!r.ok) expect(r.error).toMatch(/invalid data structure reference/);
            continue;
          }
          const name = e.type.replace(/^struct /, '');
          const r = runCommand({ prog }, `struct -o ${name}`);
          const j = r.json as { size: number; members: Array<{ name: string; path: string; offset: number; type: string; size: number }> };
          expect(j.size, e.type).toBe(e.size);
          expect(j.members.map((m) => [m.name, m.path, m.offset, gdbConstSpacing(m.type)]), e.type).toEqual(
            e.members.map((m) => [m.name, m.path, m.offset, gdbConstSpacing(m.type)]),
          );
          const tb = blocks.get(`struct -o ${name}`);
          if (tb !== undefined) expect(gdbConstSpacing(r.text), e.type).toBe(gdbConstSpacing(tb));
          n++;
        }
        expect(n).toBeGreaterThan(35);
      });
    });
  }
});

const skbDumps = dumps.filter((d) => d.name === '6.1-skb-uaf-0x106' || d.name === '6.1-skb-uaf-0x106-slubdebug');

/** The output crash printed for `crash> <cmd>` in incident.txt. */
function incidentBlock(d: SharedDump, cmd: string): string {
  const inc = d.oracle('incident.txt');
  const i = inc.indexOf(`crash> ${cmd}\n`);
  if (i < 0) throw new Error(`${cmd} not in incident.txt`);
  return inc.slice(i).split('\n\ncrash>')[0].split('\n').slice(1).join('\n').replace(/\n*$/, '\n');
}

describe.skipIf(skbDumps.length === 0)('struct values against crash (incident.txt of the skb dumps)', () => {
  for (const d of skbDumps) {
    describe(d.name, () => {
      let prog: Program;
      let skb: string;
      let shinfo: string;
      beforeAll(() => {
        prog = openProgram(new NodeFileSource(d.file));
        const facts = d.oracleJson<{ skb: { address: string; shinfo: string } }>('incident.json');
        const inc = d.oracle('incident.txt');
        skb = /crash> sk_buff\.head (\w+)/.exec(inc)![1];
        shinfo = /crash> skb_shared_info\.frag_list (\w+)/.exec(inc)![1];
        expect(facts).toBeTruthy();
      });
      it('struct skb_shared_info -x <shinfo>: line for line', () => {
        expect(runCommand({ prog }, `struct skb_shared_info -x ${shinfo}`).text).toBe(incidentBlock(d, `struct skb_shared_info -x ${shinfo}`));
      });
      it('sk_buff.head, sk_buff.end, skb_shared_info.frag_list (struct name as a command)', () => {
        for (const c of [`sk_buff.head ${skb}`, `sk_buff.end ${skb}`, `skb_shared_info.frag_list ${shinfo}`]) {
          expect(runCommand({ prog }, c).text, c).toBe(incidentBlock(d, c));
        }
        expect(runCommand({ prog }, `struct sk_buff.head,end ${skb}`).text).toBe(
          incidentBlock(d, `sk_buff.head ${skb}`) + incidentBlock(d, `sk_buff.end ${skb}`),
        );
      });
      it('skb_shared_info -xo (layout in hex)', () => {
        expect(runCommand({ prog }, 'skb_shared_info -xo').text).toBe(incidentBlock(d, 'struct skb_shared_info -xo'));
      });
    });
  }
});

describe.skipIf(!dumps.some((d) => d.name === '6.1-skb-uaf-0x106'))('struct printing details (6.1-skb-uaf-0x106)', () => {
  let prog: Program;
  beforeAll(() => {
    prog = openProgram(new NodeFileSource(dumps.find((d) => d.name === '6.1-skb-uaf-0x106')!.file));
  });
  it('strings, function pointers, decimal default, count', () => {
    const t = runCommand({ prog }, 'task_struct.comm,pid,sched_class ffff888006210000').text;
    expect(t).toBe('  comm = "insmod\\000\\000\\000\\000\\000\\000\\000\\000\\000",\n  pid = 120,\n  sched_class = 0xffffffff82415590 <fair_sched_class>,\n');
    const two = runCommand({ prog }, 'struct list_head ffff888005ec9800 2').text;
    expect(two.match(/^struct list_head \{/gm)?.length).toBe(2);
    const j = runCommand({ prog }, 'struct sk_buff.head ffff888005041e00 --json'.replace(' --json', '')).json as { value: unknown };
    expect(j.value).toBeTruthy();
  });
  it('errors: unknown type, unknown member, unreadable address', () => {
    expect(runCommandSafe({ prog }, 'struct no_such_type_xyz').ok).toBe(false);
    expect(runCommandSafe({ prog }, 'struct sk_buff.no_such_member').ok).toBe(false);
    const r = runCommandSafe({ prog }, 'struct sk_buff 0');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).not.toMatch(/internal error/);
    // a name that is no type and no command stays an unknown command
    const u = runCommandSafe({ prog }, 'no_such_command_xyz');
    expect(u.ok).toBe(false);
  });
  it('union and module types', () => {
    expect(runCommand({ prog }, 'union -o bpf_attr').text).toMatch(/^union bpf_attr \{/);
  });
  it('gdb string rules', () => {
    expect(gdbString(new Uint8Array([105, 110, 0, 0]), true)).toBe('"in\\000"');
    expect(gdbString(new Uint8Array(4), true)).toBe('"\\000\\000\\000"');
    expect(gdbString(new Uint8Array([65, 10, 34]), false)).toBe('"A\\n\\""');
  });
});

if (dumps.length === 0) it.skip(SKIP_REASON, () => {});

describe.skipIf(skbDumps.length === 0)('p/x against crash (incident.txt)', () => {
  for (const d of skbDumps) {
    it(d.name, () => {
      const prog = openProgram(new NodeFileSource(d.file));
      const inc = d.oracle('incident.txt');
      for (const m of inc.matchAll(/^crash> (p\/x .+)\n(\$\d+ = .+)$/gm)) {
        expect(runCommand({ prog }, m[1]).text, m[1]).toBe(m[2] + '\n');
      }
    });
  }
});
