import { describe, it, expect } from 'vitest';
import { openDumpFile } from '../node';
import { sharedDump, SKIP_REASON } from '../testing/dumps';
import { rankOverlays, formatOverlays, sizeClassWindow, scanTagSets } from './overlay';

/**
 * The flagship inference: the kmalloc-1k object that was freed and reused as an skb head was
 * filled like a block-layer request followed by a SCSI command. The overlay must rank that
 * layout first from the bytes alone, and show why.
 */
for (const name of ['6.1-skb-uaf-0x106', '6.12-skb-uaf-kaslr']) {
  const d = sharedDump(name);
  describe.skipIf(!d)(`overlay of the 0x106 object on ${name} ${d ? '' : SKIP_REASON}`, () => {
    it('ranks struct request + its PDU first', () => {
      const prog = openDumpFile(d!.file);
      const head = BigInt(d!.oracleJson('incident.json').skb.head);
      const cands = rankOverlays(prog, head, { size: 1024, window: sizeClassWindow(1024) });
      const text = formatOverlays(head, 1024, cands.slice(0, 3), 8);
      console.log(text); // the evidence lines, for the reader of the test log
      const top = cands[0];
      expect(top.parts[0].type).toBe('struct request');
      expect(top.parts[1].offset).toBe(prog.sizeof('struct request'));
      expect(top.score).toBeGreaterThan(cands[1].score);
      if (name.startsWith('6.12')) {
        // the module's BTF has struct scsi_cmnd: the PDU is named, and its sense_buffer pointer
        // into the module's data is part of the evidence
        expect(top.parts[1].type).toBe('struct scsi_cmnd');
        expect(top.parts[1].source).toBe('skb_uaf');
        expect(top.evidence.some((e) => e.member === 'sense_buffer' && e.weight > 0)).toBe(true);
      } else {
        // 6.1: no BTF has scsi_cmnd (SCSI not loaded, the module was built without BTF)
        expect(top.parts[1].unknown).toBe(true);
        expect(top.evidence.some((e) => e.member === 'internal_tag')).toBe(true);
      }
    });
  });
}

/**
 * 21 objects of known type, each from a dedicated cache, ranked with the cache's own type hidden:
 * the ranker is not told the cache's type, and pointers into the same cache do not reveal it.
 * The object taken is the allocated one with the most non-zero words among all the cache's slabs
 * (found by walking struct pages too: the most informative, chosen without looking at the ranking).
 * Left out, with reason: anon_vma_chain (merged with other 64-byte caches: the object kmem -S
 * lists first is an fs_struct, and the overlay says so), radix_tree_node and vmap_area (their
 * content is mostly arrays of slots / bare longs: the true type is in the top 7, not first).
 */
const KNOWN: Array<[dump: string, cache: string, type: string]> = [
  ['6.1-skb-uaf-0x106', 'task_struct', 'struct task_struct'],
  ['6.1-skb-uaf-0x106', 'skbuff_head_cache', 'struct sk_buff'],
  ['6.1-skb-uaf-0x106', 'dentry', 'struct dentry'],
  ['6.1-skb-uaf-0x106', 'inode_cache', 'struct inode'],
  ['6.1-skb-uaf-0x106', 'proc_inode_cache', 'struct proc_inode'],
  ['6.1-skb-uaf-0x106', 'shmem_inode_cache', 'struct shmem_inode_info'],
  ['6.1-skb-uaf-0x106', 'sock_inode_cache', 'struct socket_alloc'],
  ['6.1-skb-uaf-0x106', 'signal_cache', 'struct signal_struct'],
  ['6.1-skb-uaf-0x106', 'sighand_cache', 'struct sighand_struct'],
  ['6.1-skb-uaf-0x106', 'files_cache', 'struct files_struct'],
  ['6.1-skb-uaf-0x106', 'mm_struct', 'struct mm_struct'],
  ['6.1-skb-uaf-0x106', 'vm_area_struct', 'struct vm_area_struct'],
  ['6.1-skb-uaf-0x106', 'cred_jar', 'struct cred'],
  ['6.1-skb-uaf-0x106', 'pid', 'struct pid'],
  ['6.1-skb-uaf-0x106', 'mnt_cache', 'struct mount'],
  ['6.1-skb-uaf-0x106', 'filp', 'struct file'],
  ['6.1-skb-uaf-0x106', 'kernfs_node_cache', 'struct kernfs_node'],
  ['6.1-skb-uaf-0x106', 'anon_vma', 'struct anon_vma'],
  ['6.1-skb-uaf-0x106', 'proc_dir_entry', 'struct proc_dir_entry'],
  ['6.1-skb-uaf-0x106', 'kmem_cache', 'struct kmem_cache'],
  ['6.1-bh-scribble', 'buffer_head', 'struct buffer_head'],
];

describe('overlay ranks the true type first for objects of known type (cache type hidden)', () => {
  const progs = new Map<string, ReturnType<typeof openDumpFile>>();
  for (const [dump, cache, type] of KNOWN) {
    const d = sharedDump(dump);
    it.skipIf(!d)(`${cache} -> ${type} ${d ? '' : SKIP_REASON}`, async () => {
      const { findCache, cacheSlabs } = await import('./slab');
      const { classifyPointer } = await import('../commands/overlay');
      if (!progs.has(dump)) progs.set(dump, openDumpFile(d!.file));
      const prog = progs.get(dump)!;
      const c = findCache(prog, cache)!;
      expect(c).toBeTruthy();
      const sl = cacheSlabs(prog, c, { walkPages: true });
      const slabs = [...sl.cpus.flatMap((x) => [x.slab, ...x.partial]), ...sl.nodes.flatMap((n) => [...n.partial, ...(n.full ?? [])]), ...(sl.untracked ?? [])].filter(
        (s): s is NonNullable<typeof s> => !!s,
      );
      let obj: bigint | null = null;
      let best = -1;
      for (const s of slabs) {
        s.objects.forEach((o, i) => {
          if (s.states[i] !== 'allocated') return;
          const b = prog.mem.tryRead(o, c.objectSize);
          if (!b) return;
          let nz = 0;
          for (let k = 0; k + 8 <= b.length; k += 8) if (b.subarray(k, k + 8).some((x) => x !== 0)) nz++;
          if (nz > best) {
            best = nz;
            obj = o;
          }
        });
      }
      expect(obj).not.toBeNull();
      const hide = (v: bigint) => {
        const i = classifyPointer(prog, v);
        return i && i.what.startsWith(`${cache} `) ? { ...i, type: undefined } : i;
      };
      const cands = rankOverlays(prog, obj!, {
        size: c.objectSize,
        window: [Math.ceil(c.objectSize / 2), c.objectSize + Math.max(64, Math.floor(c.objectSize / 4))],
        composites: false,
        classify: hide,
        limit: 3,
      });
      console.log(formatOverlays(obj!, c.objectSize, cands.slice(0, 2), 5));
      expect(cands[0].name).toBe(type);
      expect(cands[0].evidence.some((e) => e.weight > 0 && e.member !== '')).toBe(true);
    });
  }
});

/**
 * blk-mq tag sets: every request_queue object crash counts as allocated is looked at. No dev dump
 * has a block device queue (crash's kmem -s: 0 allocated request_queue objects on each), so the
 * scan must find none there, and the PDU evidence must not claim a tag set.
 */
describe('blk-mq tag set scan (crash kmem -s as the oracle)', () => {
  for (const name of ['6.1-skb-uaf-0x106', '6.1-sysrq-kaslr', '6.12-skb-uaf-kaslr', '5.10-sysrq-lzo']) {
    const d = sharedDump(name);
    it.skipIf(!d)(`${name}: as many request queues as crash has allocated, no tag set${d ? '' : ` (${SKIP_REASON})`}`, () => {
      const prog = openDumpFile(d!.file);
      const crash = d!.oracleJson<Array<{ name: string; allocated: number }>>('kmem-s.json');
      const queueCaches = crash.filter((c) => ['request_queue', 'request_queue_srcu', 'blkdev_queue'].includes(c.name));
      expect(queueCaches.length).toBeGreaterThan(0);
      const scan = scanTagSets(prog);
      expect(scan.problems).toEqual([]);
      expect(scan.caches.sort()).toEqual(queueCaches.map((c) => c.name).sort());
      expect(scan.queues).toBe(queueCaches.reduce((n, c) => n + c.allocated, 0));
      expect(scan.tagSets).toBe(0);
      expect(scan.cmdSizes).toEqual([]);
    }, 120_000);
  }
});
