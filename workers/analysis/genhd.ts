/**
 * Disks and their in-flight requests (block/genhd.c, block/blk-mq-tag.c, lib/sbitmap.c), as
 * crash's `dev -d` counts them: every device of block_class whose type is disk_type, its
 * gendisk and request_queue, and the requests in flight on the queue: each hardware context's
 * tags (or the tag set's shared tags), every busy bit of their sbitmaps, the request at
 * tags->rqs[bit] counted when it belongs to this queue and its state is MQ_RQ_IN_FLIGHT, as a
 * write when its operation is odd (op_is_write). Enumerator values come from BTF.
 */
import type { Program } from '../kernel/program';
import { DumpError, MemoryError, expectedError } from '../errors';
import { walkList, describeStop } from '../kernel/list';
import { xaEntries } from './xarray';

export interface DiskIo {
  major: number;
  gendisk: bigint;
  name: string;
  queue: bigint;
  read: number;
  write: number;
}


/** block_class's subsys_private: class->p (up to 6.3), else the class_kset entry whose class is block_class. */
function blockSubsys(prog: Program, problems: string[]): bigint | null {
  const bc = prog.symbolAddress('block_class');
  if (bc === undefined) return null;
  if (prog.hasMember('struct class', 'p')) return prog.obj('struct class', bc).member('p').ptr();
  const ks = prog.symbolAddress('class_kset');
  if (ks === undefined) return null;
  const kset = prog.mem.u64(ks);
  const head = prog.obj('struct kset', kset).member('list').address;
  const entryOff = prog.offsetof('struct kobject', 'entry');
  const w = walkList(prog, head, { nextOffset: entryOff, headIsAnchor: true, embedded: true, limit: 4096 });
  const stop = describeStop(w, 'class_kset');
  if (stop) problems.push(stop);
  // kobject is subsys_private.subsys.kobj
  const kobjOff = prog.offsetof('struct subsys_private', 'subsys') + prog.offsetof('struct kset', 'kobj');
  for (const k of w.entries) {
    const sp = k - BigInt(kobjOff);
    if (prog.obj('struct subsys_private', sp).member('class').ptr() === bc) return sp;
  }
  return null;
}

/** The gendisks of block_class's disk devices, in the class's order. */
export function listDisks(prog: Program, problems: string[]): bigint[] {
  const sp = blockSubsys(prog, problems);
  const diskType = prog.symbolAddress('disk_type');
  if (sp === null || diskType === undefined) throw new DumpError('no block_class / disk_type: cannot list disks');
  const head = prog.obj('struct subsys_private', sp).member('klist_devices').member('k_list').address;
  const nodeOff = prog.offsetof('struct klist_node', 'n_node');
  const w = walkList(prog, head, { nextOffset: nodeOff, headIsAnchor: true, embedded: true, limit: 1 << 20 });
  const stop = describeStop(w, 'block_class devices');
  if (stop) problems.push(stop);
  const knode = prog.offsetof('struct device_private', 'knode_class');
  const out: bigint[] = [];
  for (const kn of w.entries) {
    try {
      const dp = kn - BigInt(knode);
      const dev = prog.obj('struct device_private', dp).member('device').ptr();
      if (prog.obj('struct device', dev).member('type').ptr() !== diskType) continue;
      // 5.11+: the device is part0's bd_device; before: gendisk.part0.__dev
      let disk: bigint;
      if (prog.hasMember('struct block_device', 'bd_device')) {
        const bdev = dev - BigInt(prog.offsetof('struct block_device', 'bd_device'));
        disk = prog.obj('struct block_device', bdev).member('bd_disk').ptr();
      } else disk = dev - BigInt(prog.offsetof('struct gendisk', 'part0') + prog.offsetof('struct hd_struct', '__dev'));
      out.push(disk);
    } catch (e) {
      expectedError(e);
      problems.push(`block_class device at ${kn.toString(16)}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Busy bits of a struct sbitmap (word & ~cleared), bounded by its depth. */
function sbitmapBits(prog: Program, sb: bigint): number[] {
  const s = prog.obj('struct sbitmap', sb);
  const depth = s.member('depth').num();
  const shift = s.member('shift').num();
  const mapNr = s.member('map_nr').num();
  const map = s.member('map').ptr();
  const wordT = prog.type('struct sbitmap_word');
  const wsize = prog.sizeof(wordT);
  const hasCleared = prog.hasMember('struct sbitmap_word', 'cleared');
  const out: number[] = [];
  if (shift > 6 || mapNr > 1 << 16) throw new DumpError(`sbitmap ${sb.toString(16)}: implausible shift ${shift} / map_nr ${mapNr}`);
  for (let i = 0; i < mapNr; i++) {
    const w = prog.obj(wordT, map + BigInt(i * wsize));
    let word = w.member('word').value();
    if (hasCleared) word &= ~w.member('cleared').value();
    const bits = Math.min(1 << shift, depth - (i << shift));
    for (let b = 0; b < bits; b++) if ((word >> BigInt(b)) & 1n) out.push((i << shift) + b);
  }
  return out;
}

/** Requests in flight on queue q: [reads, writes]. */
export function queueInFlight(prog: Program, q: bigint, problems: string[]): { read: number; write: number } {
  const res = { read: 0, write: 0 };
  const inFlight = Number(prog.btf.enumerator('MQ_RQ_IN_FLIGHT')?.value ?? -1n);
  const opBits = Number(prog.btf.enumerator('__REQ_FAILFAST_DEV')?.value ?? 8n);
  const opMask = (1 << opBits) - 1;
  const rq = prog.obj('struct request_queue', q);
  let hctxs: bigint[];
  if (prog.hasMember('struct request_queue', 'hctx_table')) {
    const x = xaEntries(prog, rq.member('hctx_table').address, 4096);
    problems.push(...x.problems);
    hctxs = x.entries.map((e) => e.entry);
  } else {
    const n = rq.member('nr_hw_queues').num();
    const arr = rq.member('queue_hw_ctx').ptr();
    hctxs = [];
    for (let i = 0; i < Math.min(n, 4096); i++) hctxs.push(prog.mem.u64(arr + BigInt(i * 8)));
  }
  const tagsT = prog.type('struct blk_mq_tags');
  const ptrTags = prog.btf.type(prog.obj(tagsT, 0n).member('bitmap_tags').type).kind === 'ptr';
  const sbOff = prog.offsetof('struct sbitmap_queue', 'sb');
  const forTags = (tags: bigint) => {
    const t = prog.obj(tagsT, tags);
    const nrReserved = t.member('nr_reserved_tags').num();
    const rqs = t.member('rqs').ptr();
    const each = (member: string, reserved: boolean) => {
      const sbq = ptrTags ? t.member(member).ptr() : t.member(member).address;
      for (let bit of sbitmapBits(prog, sbq + BigInt(sbOff))) {
        if (!reserved) bit += nrReserved;
        const r = prog.mem.u64(rqs + BigInt(bit * 8));
        if (!prog.arch.isKernelAddress(r)) continue;
        const o = prog.obj('struct request', r);
        if (o.member('q').ptr() !== q || o.member('state').num() !== inFlight) continue;
        if ((o.member('cmd_flags').num() & opMask) & 1) res.write++;
        else res.read++;
      }
    };
    if (nrReserved) each('breserved_tags', true);
    each('bitmap_tags', false);
  };
  try {
    const set = rq.member('tag_set').ptr();
    const shared = Number(prog.btf.enumerator('BLK_MQ_F_TAG_HCTX_SHARED')?.value ?? 0n);
    if (set && shared && prog.hasMember('struct blk_mq_tag_set', 'shared_tags') && prog.obj('struct blk_mq_tag_set', set).member('flags').num() & shared) {
      forTags(prog.obj('struct blk_mq_tag_set', set).member('shared_tags').ptr());
      return res;
    }
    for (const h of hctxs) forTags(prog.obj('struct blk_mq_hw_ctx', h).member('tags').ptr());
  } catch (e) {
    if (!(e instanceof MemoryError) && !(e instanceof DumpError)) throw e;
    problems.push(`request_queue ${q.toString(16)}: in-flight count partial: ${e.message}`);
  }
  return res;
}

/** Every disk with its in-flight reads and writes (crash's dev -d). */
export function diskIo(prog: Program): { disks: DiskIo[]; problems: string[] } {
  const problems: string[] = [];
  const disks: DiskIo[] = [];
  for (const d of listDisks(prog, problems)) {
    try {
      const g = prog.obj('struct gendisk', d);
      const name = g.member('disk_name').string(32);
      const queue = g.member('queue').ptr();
      const io = queue ? queueInFlight(prog, queue, problems) : { read: 0, write: 0 };
      disks.push({ major: g.member('major').num(), gendisk: d, name, queue, ...io });
    } catch (e) {
      expectedError(e);
      problems.push(`gendisk ${d.toString(16)}: ${(e as Error).message}`);
    }
  }
  return { disks, problems };
}
