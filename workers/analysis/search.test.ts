import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { runCommand, planSplit, runSplitPart, mergeSplit } from '../commands/registry';
import { searchMemory } from './search';
import { walkList } from '../kernel/list';

const skb = sharedDump('6.1-skb-uaf-0x106');
const bh = sharedDump('6.1-bh-scribble');

describe.skipIf(!skb)(`search on 6.1-skb-uaf-0x106 ${skb ? '' : SKIP_REASON}`, () => {
  it('finds the 0x106 written at &skb_shinfo(skb)->frag_list', () => {
    const prog = openDumpFile(skb!.file);
    const inc = skb!.oracleJson('incident.json');
    const r = searchMemory(prog, 0x106n);
    const addrs = r.hits.map((h) => '0x' + h.address.toString(16));
    expect(addrs).toContain(inc.skb.frag_list_addr);
    expect(r.pagesMissing).toBeGreaterThan(0); // a -d 31 dump excludes pages
    const text = runCommand({ prog }, 'search -k 0x106').text;
    expect(text).toContain(`${inc.skb.frag_list_addr.slice(2)}: 0000000000000106`);
    // 32-bit search finds it too, and a mask
    const r32 = searchMemory(prog, 0x106n, { width: 4 });
    expect(r32.hits.map((h) => '0x' + h.address.toString(16))).toContain(inc.skb.frag_list_addr);
  });

  it('split into parts (the scan workers) and merged, gives the whole search: hits, counts, limit cut, filters', () => {
    const prog = openDumpFile(skb!.file);
    const other = openDumpFile(skb!.file); // the parts run in another engine, as in a scan worker
    const whole = (line: string) => runCommand({ prog }, line);
    const parted = (line: string, want: number) => {
      const parts = planSplit({ prog }, line, want)!;
      expect(parts.length).toBeGreaterThan(1);
      // each part in its own engine, as the browser's scan workers do
      const results = parts.map((p) => runSplitPart({ prog: other }, line, JSON.parse(JSON.stringify(p))));
      return mergeSplit({ prog }, line, JSON.parse(JSON.stringify(results)));
    };
    for (const line of ['search -k 0x106', 'search -k 0x106 --json', 'search -w 0 -l 3000 --json', 'search -p -c 0x6b -l 777 | tail 3']) {
      const w = whole(line);
      const p = parted(line, 5);
      expect(p.text).toBe(w.text);
      expect(p.json).toEqual(w.json);
    }
    // the limit falls on the last hit but one, in a later part than the first: the pages counted
    // stop at its hit, as one search does
    const all = (whole('search -k 0x106 --json').json as { hits: { phys: string }[] }).hits;
    expect(all.length).toBeGreaterThan(2);
    const cut = `search -k 0x106 -l ${all.length - 1} --json`;
    const parts = planSplit({ prog }, cut, 64) as { start: number }[];
    const cutPhys = Number(all[all.length - 2].phys);
    expect(parts.filter((p) => p.start <= cutPhys).length - 1).toBeGreaterThan(0);
    const w = whole(cut);
    expect((w.json as { truncated: boolean }).truncated).toBe(true);
    expect(parted(cut, 64).json).toEqual(w.json);
    expect(planSplit({ prog }, 'ps', 4)).toBeNull();
  });

  it('can be cancelled', () => {
    const prog = openDumpFile(skb!.file);
    const cancel = { cancelled: false };
    let calls = 0;
    expect(() =>
      searchMemory(prog, 0x106n, {
        cancel,
        progress: () => {
          if (++calls === 3) cancel.cancelled = true;
        },
      }),
    ).toThrow(/cancelled/);
  });
});

describe.skipIf(!bh)(`list on 6.1-bh-scribble ${bh ? '' : SKIP_REASON}`, () => {
  it('walks the b_this_page ring as crash does, to the scribbled (zeroed) victim', () => {
    const prog = openDumpFile(bh!.file);
    const off = prog.offsetof('buffer_head', 'b_this_page');
    // crash: list -o buffer_head.b_this_page ffff888004c7d000 -> d000, d7b8, d6e8, e000 (the
    // victim, whose zeroed b_this_page ends the walk)
    const ring = walkList(prog, 0xffff888004c7d000n, { nextOffset: off });
    expect(ring.entries.map((e) => e.toString(16))).toEqual(['ffff888004c7d000', 'ffff888004c7d7b8', 'ffff888004c7d6e8', 'ffff888004c7e000']);
    expect(runCommand({ prog }, 'list buffer_head.b_this_page ffff888004c7d000').text.trim().split('\n').pop()).toBe('ffff888004c7e000');
    // the victim's b_this_page was zeroed by the scribble: the walk ends at once, with no error
    const w = walkList(prog, 0xffff888004c7e000n, { nextOffset: off });
    expect(w.entries.map((e) => e.toString(16))).toEqual(['ffff888004c7e000']);
    expect(w.stop.kind).toBe('end');
    expect(prog.mem.u64(0xffff888004c7e000n + BigInt(off))).toBe(0n);
  });

  it('walks init_task.tasks to its end and honours -c', () => {
    const prog = openDumpFile(bh!.file);
    // a list_head whose next points to itself, entered from another node: use init_task.tasks,
    // walking from a node with a fake offset so that the chain loops without hitting the start
    const it = prog.symbolAddress('init_task')!;
    const tasksOff = prog.offsetof('task_struct', 'tasks');
    const w = walkList(prog, it, { nextOffset: tasksOff, embedded: true, checkPrev: true, limit: 100000 });
    expect(w.stop.kind).toBe('end');
    expect(w.entries.length).toBeGreaterThan(10);
    const text = runCommand({ prog }, `list -h -o task_struct.tasks -c 5 ${it.toString(16)}`).text;
    expect(text.trim().split('\n').length).toBe(6); // 5 entries + the limit line
  });
});
