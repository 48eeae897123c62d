import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initDisassembler } from './disasm';
import { parseOops, parseOopsResult, type OopsReport, type Location } from './oops';
import { SHARED_DUMPS, ROOT } from '../testing/dumps';

const INCIDENTS = process.env.VMCORE_INCIDENTS ?? resolve(ROOT, '../shared/incidents');
const incident = (f: string) => join(INCIDENTS, f);
const haveIncidents = existsSync(incident('aacraid-0x106-at-0x2c8.txt'));
const loc = (l: Location) => `${l.symbol}+0x${l.offset.toString(16)}/0x${l.length.toString(16)}${l.module ? ` [${l.module}]` : ''}`;
const traceText = (r: OopsReport) => r.callTrace.map((e) => (e.reliable ? '' : '? ') + (e.symbol ? loc(e) : '0x' + e.address!.toString(16)));

beforeAll(async () => {
  await initDisassembler();
});

describe.skipIf(!haveIncidents)('the aacraid write-up (4.14 oops, wrapped lines, slub_debug report in syslog form)', () => {
  let reports: OopsReport[] = [];
  beforeAll(() => {
    reports = parseOops(readFileSync(incident('aacraid-0x106-at-0x2c8.txt'), 'utf8'));
  });

  it('finds the oops first, the quoted headline, then the Poison overwritten report', () => {
    expect(reports.map((r) => r.kind)).toEqual(['null-deref', 'null-deref', 'slub']);
  });

  it('parses the oops header, registers and trace as the text shows them', () => {
    const r = reports[0];
    expect(r.headline).toBe('BUG: unable to handle kernel NULL pointer dereference at 0000000000000106');
    expect(r.faultAddress).toBe(0x106n);
    expect(r.oops).toEqual({ errorCode: 0, count: 1, flags: ['SMP', 'PTI'] });
    expect([r.cpu, r.pid, r.comm, r.tainted, r.release]).toEqual([28, 180, 'ksoftirqd/28', 'G OE', '4.14.0-generic']);
    expect(r.hardware).toBe('New H3C Technologies Co., Ltd. UIS R390X G2/RS32M2C9S, BIOS 1.01.23 09/07/2018');
    expect(r.rip).toEqual({ symbol: 'skb_release_data', offset: 0xa3, length: 0x170 });
    expect([r.cs, r.ss, r.eflags]).toEqual([0x10, 0x18, 0x10206n]);
    expect(r.registers).toEqual({
      RSP: 0xffffabb086977cb8n, EFLAGS: 0x10206n,
      RAX: 0n, RBX: 0n, RCX: 1n, RDX: 2n, RSI: 0x40n, RDI: 0x106n,
      RBP: 0xffffabb086977cd8n, R8: 0n, R9: 0xffffffffb4f711c1n,
      R10: 0xffffdd858089de00n, R11: 0xffffffffb4c3a380n, R12: 0xffff9612a277cef0n,
      R13: 0xffff9611b2a3f100n, R14: 0xffff9612a277cec0n, R15: 0xffff9612b08c3540n,
    });
    expect(r.control.CR2).toBe(0x106n);
    expect(r.control.CR3).toBe(0x16c960a003n);
    expect(r.control.GS).toBe(0xffff9612bfc80000n);
    expect(r.control.DR6).toBe(0xfffe0ff0n);
    expect(traceText(r)).toEqual([
      'skb_release_all+0x24/0x30',
      'napi_consume_skb+0x54/0x110',
      'ixgbe_poll+0x7d7/0x14a0 [ixgbe]',
      '? insert_work+0x69/0x70',
      '? __queue_work+0x119/0x410',
      '? __switch_to_asm+0x40/0x70',
      '? call_timer_fn+0x35/0x140',
      'net_rx_action+0x140/0x3a0',
      '__do_softirq+0xe4/0x2c5',
      'run_ksoftirqd+0x22/0x60',
      'smpboot_thread_fn+0xfc/0x170',
      'kthread+0x128/0x140',
      '? sort_range+0x30/0x30',
      '? kthread_create_on_node+0x70/0x70',
      'ret_from_fork+0x35/0x40',
    ]);
    expect(r.callTrace.every((e) => e.context === 'task')).toBe(true);
  });

  it('joins the Modules linked in: list the page wrapped mid-word and its KERN_CONT continuation', () => {
    const m = reports[0].modules;
    expect(m.slice(0, 3)).toEqual(['sctp_diag', 'sctp', 'dccp_diag']);
    expect(m).toContain('garp');
    expect(m).toContain('stp');
    expect(m).toContain('libcrc32c'); // `libcrc32` + wrapped `c`
    expect(m).toContain('libiscsi');
    expect(m).toContain('shpchp');
    expect(m).toContain('aacraid');
    expect(m).toContain('lpc_ich'); // from the timestamped continuation line
    expect(m[m.length - 1]).toBe('devlink');
    expect(m).toHaveLength(118);
  });

  it('decodes the wrapped Code: line with `mov (%rdi),%rbx` as the faulting instruction', () => {
    const c = reports[0].code!;
    expect(c.bytes).toHaveLength(64);
    expect(c.faultIndex).toBe(43);
    expect(c.faulting!.text).toBe('mov    (%rdi),%rbx');
    expect([...c.faulting!.bytes]).toEqual([0x48, 0x8b, 0x1f]);
    // numbered from the symbol: the fault is at skb_release_data+0xa3
    expect(c.base).toBe('symbol');
    expect(c.faulting!.address).toBe(0xa3n);
    const lines = c.listing!.split('\n');
    const marked = lines.filter((l) => l.includes('<-- trapping instruction'));
    expect(marked).toEqual(['skb_release_data+0xa3:\t48 8b 1f             \tmov    (%rdi),%rbx\t<-- trapping instruction']);
    // the decode of the bytes before the fault lands exactly on it
    const texts = c.insns!.map((i) => i.text);
    expect(texts.slice(texts.indexOf('mov    (%rdi),%rbx') - 3, texts.indexOf('mov    (%rdi),%rbx') + 2)).toEqual([
      'mov    0x8(%r14),%rdi',
      'test   %rdi,%rdi',
      'je     0xb3',
      'mov    (%rdi),%rbx',
      'call   0xfffffffffffff5a0',
    ]);
    expect(c.insns!.some((i) => i.bad)).toBe(false);
  });

  it('parses the slub_debug Poison overwritten report (syslog prefixes, reader annotations)', () => {
    const r = reports[2];
    expect(r.headline).toBe('BUG kmalloc-1024 (Tainted: G    B      OE  ): Poison overwritten');
    const s = r.slub!;
    expect([s.cache, s.message]).toEqual(['kmalloc-1024', 'Poison overwritten']);
    expect(s.firstByte).toEqual({ start: 0xffff9561784602d0n, end: 0xffff9561784602d3n, value: 0x06, expected: 0x6b });
    expect(s.object).toEqual({ address: 0xffff956178460008n, slabOffset: 8, fp: 0xffff956178461fe8n });
    expect(s.badObjectOffset).toBe(0x2c8); // the write-up's "0x106 at offset 0x2c8"
    expect(s.slab).toEqual({ address: 0xffffdf1680e11800n, objects: 24, used: 24, fp: null, flags: '0x17ffffc0008100' });
    expect(loc(s.allocated!.location)).toBe('alloc_request_size+0x2b/0x70');
    expect([s.allocated!.age, s.allocated!.cpu, s.allocated!.pid]).toEqual([36, 1, 3011]);
    expect(s.allocated!.stack.map(loc).slice(0, 3)).toEqual(['__slab_alloc+0x1c/0x30', '__kmalloc_node+0xb7/0x2a0', 'alloc_request_size+0x2b/0x70']);
    expect(s.allocated!.stack).toHaveLength(11);
    expect(loc(s.freed!.location)).toBe('__blk_put_request+0xb7/0x190');
    expect([s.freed!.cpu, s.freed!.pid]).toEqual([3, 0]);
    expect(s.freed!.stack.map(loc)).toEqual([
      '__blk_put_request+0xb7/0x190', 'scsi_end_request+0xf7/0x1e0', 'scsi_io_completion+0x237/0x650', 'blk_done_softirq+0x8e/0xc0',
      '__do_softirq+0xde/0x2b3', 'irq_exit+0xae/0xb0', 'start_secondary+0x1ac/0x200', 'secondary_startup_64+0xa5/0xb0',
    ]);
    // the object row holding the overwritten bytes
    const row = s.dump.find((d) => d.address === 0xffff9561784602c8n)!;
    expect([...row.bytes.subarray(8, 12)]).toEqual([0x06, 0x01, 0x00, 0x00]);
    expect(s.fixes).toEqual(['Restoring 0xffff9561784602d0-0xffff9561784602d3=0x6b', 'Marking all objects used']);
    expect([r.cpu, r.pid, r.comm]).toEqual([0, 0, 'swapper/0']);
    // the trace: IRQ part, then the interrupted idle task after its register dump
    expect(r.callTrace[0]).toMatchObject({ symbol: 'dump_stack', offset: 0x5c, length: 0x85, reliable: true, context: 'irq' });
    expect(r.callTrace.find((e) => e.symbol === 'queue_userspace_packet')).toMatchObject({ module: 'openvswitch', context: 'irq' });
    expect(r.callTrace.filter((e) => e.context === 'task').map(loc)).toEqual([
      'do_idle+0x181/0x1e0', 'cpu_startup_entry+0x6f/0x80', 'start_kernel+0x4db/0x4fb', 'secondary_startup_64+0xa5/0xb0',
    ]);
    expect(r.callTrace.filter((e) => !e.reliable)).toHaveLength(24);
    expect(loc(r.rip!)).toBe('cpuidle_enter_state+0xa2/0x2e0');
    expect(r.registers.ORIG_RAX).toBe(0xffffffffffffffb4n);
    expect(r.registers.R15).toBe(0x33f2ced8b4bfn);
  });
});

describe.skipIf(!haveIncidents)('write-ups without a Linux oops', () => {
  it('illumos: recognised as a non-Linux panic, nothing parsed', () => {
    const res = parseOopsResult(readFileSync(incident('illumos-kmem-deadbeef.txt'), 'utf8'));
    expect(res.found).toBe(true);
    expect(res.reports).toHaveLength(1);
    expect(res.reports[0].kind).toBe('non-linux');
    expect(res.reports[0].headline).toBe('panic[cpu0]/thread=ffffff0004cc1c40: kernel heap corruption detected');
    expect(res.message).toMatch(/not from Linux/);
  });
  for (const f of ['megaraid-sas-buffer-head-slab.txt', 'swiotlb-unmap-after-free.txt', 'mpt2sas-sas2ircu-segfault.txt']) {
    it(`${f}: nothing found, no exception`, () => {
      const res = parseOopsResult(readFileSync(incident(f), 'utf8'));
      expect(res.found).toBe(false);
      expect(res.reports).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The console logs of our dumps, against what crash says about the same dumps

const console_ = (d: string) => join(SHARED_DUMPS, d, 'console.log');
const haveDumps = existsSync(console_('6.1-skb-uaf-0x106'));

describe.skipIf(!haveDumps)('console logs of the shared dumps', () => {
  for (const d of ['6.1-skb-uaf-0x106', '6.1-skb-uaf-0x106-slubdebug', '6.1-bh-scribble', '6.12-skb-uaf-kaslr']) {
    it(`${d}: the oops registers are crash's exception-frame registers`, () => {
      const reports = parseOops(readFileSync(console_(d), 'utf8'));
      const r = reports.find((x) => x.kind === 'null-deref')!;
      const oracle = JSON.parse(readFileSync(join(SHARED_DUMPS, d, 'oracle/incident.json'), 'utf8'));
      const want: Record<string, string> = oracle.exception_registers;
      for (const reg of ['RSP', 'RAX', 'RBX', 'RCX', 'RDX', 'RSI', 'RDI', 'RBP', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15']) {
        expect(r.registers[reg], reg).toBe(BigInt(want[reg]));
      }
      expect(r.eflags).toBe(BigInt(want.RFLAGS));
      expect(r.cs).toBe(Number(want.CS));
      expect(r.ss).toBe(Number(want.SS));
      expect(r.pid).toBe(oracle.panic_task.pid);
      expect(r.comm).toBe(oracle.panic_task.comm);
      expect(r.cpu).toBe(oracle.panic_task.cpu);
      expect(r.panic).toBe('Fatal exception');
      // the user-mode entry frame is a register dump of its own, not the fault's
      const user = r.regBlocks.find((b) => b.user)!;
      expect(user.rip!.address).toBe(0x47fbe9n);
      expect(user.registers.ORIG_RAX).toBe(0x139n);
      expect(user.code!.faulting!.text).toBe('cmp    $0xfffffffffffff001,%rax');
    });
  }

  it('6.1-skb-uaf-0x106: RIP, Code and trace', () => {
    const [r] = parseOops(readFileSync(console_('6.1-skb-uaf-0x106'), 'utf8'));
    expect(r.headline).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000106');
    expect(r.notes).toContain('#PF: supervisor read access in kernel mode');
    expect(r.oops).toEqual({ errorCode: 0, count: 1, flags: ['PREEMPT', 'SMP', 'NOPTI'] });
    expect([r.tainted, r.release]).toEqual(['G           OE', '6.1.0-56-amd64']);
    expect(loc(r.rip!)).toBe('skb_release_data+0x11d/0x1b0');
    // crash: 0xffffffff817c0c2d <skb_release_data+285>:	mov    (%rbx),%rbx
    expect(r.code!.faulting!.text).toBe('mov    (%rbx),%rbx');
    expect(r.code!.faulting!.address).toBe(0x11dn);
    const t = r.code!.insns!.map((i) => i.text);
    const k = t.indexOf('mov    (%rbx),%rbx');
    expect(t.slice(k, k + 5)).toEqual(['mov    (%rbx),%rbx', 'mov    $0x1,%esi', 'call   0xfffffffffffff790', 'test   %rbx,%rbx', 'jne    0x11a']); // crash: jne 0xffffffff817c0c2a <skb_release_data+282>
    expect(traceText(r)).toEqual([
      'kfree_skb_reason+0x3e/0xd0',
      'skb_uaf_init+0x299/0x1000 [skb_uaf]',
      '? 0xffffffffc020c000',
      'do_one_initcall+0x59/0x220',
      'do_init_module+0x4a/0x1f0',
      '__do_sys_finit_module+0xac/0x120',
      'do_syscall_64+0x5d/0xb0',
      '? kmem_cache_free+0x15/0x310',
      '? do_sys_openat2+0x9b/0x170',
      '? exit_to_user_mode_prepare+0x44/0x240',
      '? syscall_exit_to_user_mode+0x1e/0x40',
      '? do_syscall_64+0x69/0xb0',
      '? do_user_addr_fault+0x1b0/0x570',
      '? exit_to_user_mode_prepare+0x44/0x240',
      'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
    ]);
    expect(r.modules).toEqual(['skb_uaf', 'qemu_fw_cfg']);
    expect(r.control.CR2).toBe(0x106n);
    expect(r.control.PKRU).toBe(0x55555554n);
  });

  it('6.12-skb-uaf-kaslr: `Oops: Oops:`, UID, the fault in kfree_skb_list_reason', () => {
    const [r] = parseOops(readFileSync(console_('6.12-skb-uaf-kaslr'), 'utf8'));
    expect(r.uid).toBe(0);
    expect(r.oops!.count).toBe(1);
    expect(loc(r.rip!)).toBe('kfree_skb_list_reason+0x8a/0x210');
    // crash: 0xffffffffa841a47a <kfree_skb_list_reason+138>:	mov    0x0(%rbp),%rbp
    expect(r.code!.faulting!.text).toBe('mov    0x0(%rbp),%rbp');
    expect(r.callTrace[3]).toMatchObject({ symbol: '__pfx_skb_uaf_init', module: 'skb_uaf', reliable: false });
  });

  it('6.1-bh-scribble: a module RIP and `Code: Unable to access opcode bytes`', () => {
    const [r] = parseOops(readFileSync(console_('6.1-bh-scribble'), 'utf8'));
    expect(r.rip).toEqual({ symbol: 'walk_ring.isra.0', offset: 0xc, length: 0xffb, module: 'bh_scribble' });
    expect(r.code).toBeUndefined();
    expect(r.regBlocks[0].codeNote).toBe('Unable to access opcode bytes at 0xffffffffc0206fe7.');
    expect(r.faultAddress).toBe(0x60n);
  });

  it('6.1-skb-uaf-0x106-slubdebug: the Poison overwritten report, then the oops', () => {
    const reports = parseOops(readFileSync(console_('6.1-skb-uaf-0x106-slubdebug'), 'utf8'));
    expect(reports.map((r) => r.kind)).toEqual(['slub', 'null-deref']);
    const s = reports[0].slub!;
    expect([s.cache, s.message]).toEqual(['kmalloc-1k', 'Poison overwritten']);
    expect(s.firstByte).toEqual({ start: 0xffff88800664e6c8n, end: 0xffff88800664e6cbn, slabOffset: 26312, value: 6, expected: 0x6b });
    expect(s.object).toEqual({ address: 0xffff88800664e400n, slabOffset: 25600, fp: 0xffff88800664d800n });
    expect(s.badObjectOffset).toBe(0x2c8);
    expect(s.slab!.objects).toBe(10);
    expect(s.slab!.used).toBe(7);
    expect(loc(s.allocated!.location)).toBe('skb_uaf_init+0x4d/0x1000 [skb_uaf]');
    expect(s.allocated!.stack.map(loc)[0]).toBe('kmalloc_trace+0x26/0x90');
    expect(s.freed!.stack).toHaveLength(5);
    expect(s.dump.filter((d) => d.region === 'Object').length).toBe(64);
    expect(reports[0].callTrace[1]).toMatchObject({ symbol: 'check_bytes_and_report.cold', context: 'task' });
    expect(reports[0].rip).toBeUndefined(); // only the user-mode entry frame has registers
    expect(reports[1].registers.RSP).toBe(0xffffc900004239e8n);
  });

  it('6.1-sysrq-kaslr: a sysrq panic with no oops', () => {
    const [r] = parseOops(readFileSync(console_('6.1-sysrq-kaslr'), 'utf8'));
    expect(r.kind).toBe('panic');
    expect(r.panic).toBe('sysrq triggered crash');
    expect([r.cpu, r.pid, r.comm, r.tainted]).toEqual([1, 1, 'init', undefined]);
    expect(r.callTrace.slice(0, 4).map((e) => e.symbol)).toEqual(['dump_stack_lvl', 'panic', '_printk', 'sysrq_handle_crash']);
    expect(r.notes).toContain('Kernel Offset: 0x22e00000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)');
  });
});

// ---------------------------------------------------------------------------------------------
// Older and other formats (hand-written in the kernels' exact layouts)

const OLD = `<1>BUG: unable to handle kernel NULL pointer dereference at 0000000000000106
<1>IP: [<ffffffff8145d9dc>] skb_release_data+0x6c/0x110
<4>PGD 0 
<4>Oops: 0000 [#1] SMP 
<4>last sysfs file: /sys/devices/system/cpu/cpu31/cache/index2/shared_cpu_map
<4>CPU 3 
<4>Modules linked in: aacraid(U) ixgbe dca mdio [last unloaded: scsi_wait_scan]
<4>
<4>Pid: 0, comm: swapper Not tainted 2.6.32-279.el6.x86_64 #1 Dell Inc. PowerEdge R720/0X6H47
<4>RIP: 0010:[<ffffffff8145d9dc>]  [<ffffffff8145d9dc>] skb_release_data+0x6c/0x110
<4>RSP: 0018:ffff8801ed5e3b48  EFLAGS: 00010202
<4>RAX: 0000000000000000 RBX: 0000000000000106 RCX: 0000000000000001
<4>RDX: 0000000000000002 RSI: 0000000000000040 RDI: 0000000000000106
<4>RBP: ffff8801ed5e3b68 R08: 0000000000000000 R09: ffffffff8145d6c2
<4>R10: 0000000000000000 R11: 0000000000000000 R12: ffff88042b0f6ef0
<4>R13: ffff88042b0f6e80 R14: ffff88042b0f6ec0 R15: 0000000000000000
<4>FS:  0000000000000000(0000) GS:ffff8801ed5e0000(0000) knlGS:0000000000000000
<4>CS:  0010 DS: 0018 ES: 0018 CR0: 000000008005003b
<4>CR2: 0000000000000106 CR3: 0000000001a85000 CR4: 00000000000406e0
<4>DR0: 0000000000000000 DR1: 0000000000000000 DR2: 0000000000000000
<4>DR3: 0000000000000000 DR6: 00000000ffff0ff0 DR7: 0000000000000400
<4>Process swapper (pid: 0, threadinfo ffff88042e4f0000, task ffff88042e4ee080)
<4>Stack:
<4> ffff8801ed5e3b68 ffff88042b0f6e80 ffff88042b0f6e80 0000000000000000
<d> ffff8801ed5e3b88 ffffffff8145d6c2 ffff8801ed5e3b88 ffff88042b0f6e80
<4>Call Trace:
<4> <IRQ> 
<4> [<ffffffff8145d6c2>] __kfree_skb+0x22/0xa0
<4> [<ffffffff8145d7e2>] ? kfree_skb+0x42/0x90
<4> [<ffffffffa01b2c3e>] ixgbe_clean_rx_irq+0x31e/0x880 [ixgbe]
<4> <EOI> 
<4> [<ffffffff81009fc6>] ? cpu_idle+0xb6/0x110
<4>Code: 45 fa 0f 1f 44 00 00 f0 ff 4f 1c 75 05 e8 06 5a a6 ff 41 0f b6 46 02 83 c3 01 49 83 c4 10 39 d8 7f ce 49 8b 7e 08 48 85 ff 74 10 <48> 8b 1f e8 f5 f4 ff ff 48 85 db 48 89 df 75 f0 
<1>RIP  [<ffffffff8145d9dc>] skb_release_data+0x6c/0x110
<4> RSP <ffff8801ed5e3b48>
<4>CR2: 0000000000000106
`;

describe('older formats', () => {
  it('2.6-era oops: two-bracket RIP, Pid:/Process lines, <IRQ>/<EOI> and [<addr>] trace entries', () => {
    const [r, ...more] = parseOops(OLD);
    expect(more).toEqual([]);
    expect(r.kind).toBe('null-deref');
    expect([r.pid, r.comm, r.tainted, r.release]).toEqual([0, 'swapper', undefined, '2.6.32-279.el6.x86_64']);
    expect(r.rip).toEqual({ symbol: 'skb_release_data', offset: 0x6c, length: 0x110, address: 0xffffffff8145d9dcn });
    expect(r.registers.RBX).toBe(0x106n);
    expect(r.registers.R12).toBe(0xffff88042b0f6ef0n);
    expect(r.modules).toEqual(['aacraid', 'ixgbe', 'dca', 'mdio']);
    expect(r.lastUnloaded).toBe('scsi_wait_scan');
    expect(r.callTrace.map((e) => [e.symbol, e.address, e.reliable, e.context, e.module])).toEqual([
      ['__kfree_skb', 0xffffffff8145d6c2n, true, 'irq', undefined],
      ['kfree_skb', 0xffffffff8145d7e2n, false, 'irq', undefined],
      ['ixgbe_clean_rx_irq', 0xffffffffa01b2c3en, true, 'irq', 'ixgbe'],
      ['cpu_idle', 0xffffffff81009fc6n, false, 'task', undefined],
    ]);
    // the RIP address is known: the Code: bytes get real addresses
    const c = r.code!;
    expect(c.base).toBe('absolute');
    expect(c.faulting!.address).toBe(0xffffffff8145d9dcn);
    expect(c.faulting!.text).toBe('mov    (%rdi),%rbx');
    expect(c.insns!.find((i) => i.text.startsWith('je '))!.text).toBe('je     0xffffffff8145d9ec');
  });

  it('syslog prefixes, a new-style general protection fault and a second report', () => {
    const text = [
      'Jan 12 03:14:15 host kernel: [ 1234.567890] general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI',
      'Jan 12 03:14:15 host kernel: [ 1234.567891] CPU: 2 PID: 77 Comm: kworker/2:1 Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2',
      'Jan 12 03:14:15 host kernel: [ 1234.567892] RIP: 0010:__list_del_entry_valid+0x25/0xc0',
      'Jan 12 03:14:15 host kernel: [ 1234.567893] Code: Unable to access opcode bytes at 0xffffffff81234567.',
      'Jan 12 03:14:15 host kernel: [ 1234.567894] RSP: 0018:ffffc900001f3e08 EFLAGS: 00010246',
      'Jan 12 03:14:15 host kernel: [ 1234.567895] RAX: dead000000000122 RBX: ffff888004a1c000 RCX: 0000000000000000',
      'Jan 12 03:14:15 host kernel: [ 1234.567896] Call Trace:',
      'Jan 12 03:14:15 host kernel: [ 1234.567897]  <TASK>',
      'Jan 12 03:14:15 host kernel: [ 1234.567898]  list_del+0x9/0x20 [mymod]',
      'Jan 12 03:14:15 host kernel: [ 1234.567899]  </TASK>',
      'some unrelated line',
      '<4>[ 1300.000001] WARNING: CPU: 0 PID: 1 at net/core/skbuff.c:123 skb_panic+0x10/0x20',
      '<4>[ 1300.000002] Call Trace:',
      '<4>[ 1300.000003]  foo+0x1/0x2',
    ].join('\n');
    const rs = parseOops(text);
    expect(rs.map((r) => r.kind)).toEqual(['general-protection', 'warning']);
    expect(rs[0].faultAddress).toBe(0xdead000000000122n);
    expect(rs[0].oops!.flags).toEqual(['PREEMPT', 'SMP', 'NOPTI']);
    expect([rs[0].cpu, rs[0].pid, rs[0].comm, rs[0].tainted]).toEqual([2, 77, 'kworker/2:1', undefined]);
    expect(rs[0].registers.RAX).toBe(0xdead000000000122n);
    expect(traceText(rs[0])).toEqual(['list_del+0x9/0x20 [mymod]']);
    expect(rs[1].bugAt).toEqual({ file: 'net/core/skbuff.c', line: 123 });
    expect([rs[1].cpu, rs[1].pid]).toEqual([0, 1]);
    expect(loc(rs[1].rip!)).toBe('skb_panic+0x10/0x20');
    expect(traceText(rs[1])).toEqual(['foo+0x1/0x2']);
  });

  it('KASAN report: access, allocation and free stacks, the object', () => {
    const text = `==================================================================
BUG: KASAN: slab-use-after-free in skb_release_data+0x2f0/0x310
Read of size 8 at addr ffff888005ec9ac8 by task insmod/120

CPU: 0 PID: 120 Comm: insmod Tainted: G           OE      6.1.0 #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 kasan_report+0xb9/0xf0
 skb_release_data+0x2f0/0x310
 </TASK>

Allocated by task 120:
 kasan_save_stack+0x22/0x40
 __kmalloc+0x4a/0x90

Freed by task 120:
 kasan_save_stack+0x22/0x40
 kfree+0x8c/0x120

The buggy address belongs to the object at ffff888005ec9800
 which belongs to the cache kmalloc-1k of size 1024
The buggy address is located 712 bytes inside of
 1024-byte region [ffff888005ec9800, ffff888005ec9c00)
==================================================================`;
    const [r] = parseOops(text);
    expect(r.kind).toBe('kasan');
    const k = r.kasan!;
    expect(k.bugType).toBe('slab-use-after-free');
    expect(loc(k.location!)).toBe('skb_release_data+0x2f0/0x310');
    expect(k.access).toEqual({ kind: 'read', size: 8, address: 0xffff888005ec9ac8n, task: 'insmod', pid: 120 });
    expect(k.allocated!.stack.map((l) => l.symbol)).toEqual(['kasan_save_stack', '__kmalloc']);
    expect(k.freed!.stack.map((l) => l.symbol)).toEqual(['kasan_save_stack', 'kfree']);
    expect(k.object).toMatchObject({ address: 0xffff888005ec9800n, cache: 'kmalloc-1k', size: 1024, offset: 712 });
    expect(traceText(r)).toEqual(['dump_stack_lvl+0x44/0x5c', 'kasan_report+0xb9/0xf0', 'skb_release_data+0x2f0/0x310']);
  });

  it('unknown text, empty text and binary junk: nothing found, never an exception', () => {
    expect(parseOops('')).toEqual([]);
    expect(parseOops('hello\nworld\nRAX: 1234')).toEqual([]);
    expect(parseOops(String.fromCharCode(...Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)))).toEqual([]);
    const r = parseOopsResult('nothing to see');
    expect(r.found).toBe(false);
    expect(r.message).toMatch(/no kernel oops/);
    // a truncated oops still gives what it has
    const [t] = parseOops('BUG: kernel NULL pointer dereference, address: 0000000000000008\nRIP: 0010:foo+0x1/0x2\nCode: 48 8b <');
    expect(loc(t.rip!)).toBe('foo+0x1/0x2');
    expect(t.code?.faulting).toBeUndefined();
  });
});
