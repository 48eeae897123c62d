# The drgn side of bench/run.ts: the same work as one vmcore command, with drgn's own helpers.
# Run by drgn (which has already opened the dump and loaded the vmlinux's debug info):
#   drgn -q -c DUMP -s VMLINUX bench/drgn_work.py WORK [ARG]
# WORK: sys | kmem-s | bt-a | ps | kmem-addrs FILE | search VALUE
# Prints what it found, so the bench can check the work was done (and not an error).
import sys

from drgn import FaultError, Object
from drgn.helpers.linux.cpumask import for_each_online_cpu, for_each_possible_cpu
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import cpu_curr, task_cpu, task_state_to_char
from drgn.helpers.linux.slab import for_each_slab_cache, slab_cache_usage, slab_object_info
from drgn.helpers.linux.printk import get_printk_records

prog = globals()["prog"]
work = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else None
out = sys.stdout.write


def cstr(a):
    return a.string_().decode(errors="replace")


if work == "sys":
    # crash's sys: uts, cpus, date, uptime, load average, tasks (every thread), memory, panic string
    uts = prog["init_uts_ns"].name
    for f in ("nodename", "release", "version", "machine"):
        out(f"{f.upper():>12}: {cstr(getattr(uts, f))}\n")
    possible = sum(1 for _ in for_each_possible_cpu(prog))
    online = sum(1 for _ in for_each_online_cpu(prog))
    out(f"        CPUS: {possible} [OFFLINE: {possible - online}]\n")
    try:
        tk = prog["tk_core"].timekeeper
    except (KeyError, LookupError):
        # 6.17+: struct tk_data timekeeper_data[], the core one at TIMEKEEPER_CORE
        tk = prog["timekeeper_data"][prog["TIMEKEEPER_CORE"].value_()].timekeeper
    out(f"        DATE: {tk.xtime_sec.value_()}\n")
    out(f"     JIFFIES: {prog['jiffies_64'].value_()}\n")
    out("LOAD AVERAGE: " + ", ".join(str(prog["avenrun"][i].value_()) for i in range(3)) + "\n")
    out(f"       TASKS: {sum(1 for _ in for_each_task(prog))}\n")
    out(f"      MEMORY: {prog['_totalram_pages'].counter.value_() * 4096}\n")
    panic = ""
    for r in get_printk_records(prog):
        t = r.text.decode(errors="replace")
        if "Kernel panic" in t or t.startswith("sysrq: Trigger a crash"):
            panic = t
    out(f"       PANIC: {panic!r}\n")

elif work == "kmem-s":
    for cache in for_each_slab_cache(prog):
        u = slab_cache_usage(cache)
        out(
            f"{cache.value_():x} {cstr(cache.name):<20} {cache.object_size.value_():>8} "
            f"{u.active_objs:>10} {u.num_objs:>10} {u.num_slabs:>6}\n"
        )

elif work == "bt-a":
    for cpu in for_each_possible_cpu(prog):
        task = cpu_curr(prog, cpu)
        out(f"PID: {task.pid.value_()} TASK: {task.value_():x} CPU: {cpu} COMMAND: {cstr(task.comm)!r}\n")
        try:
            out(str(prog.stack_trace(task)) + "\n\n")
        except Exception as e:  # an unwinding error is a result too
            out(f"bt: {e}\n\n")

elif work == "ps":
    for task in for_each_task(prog):
        rss = 0
        mm = task.mm
        if mm:
            try:
                rs = mm.rss_stat
                if rs.type_.type_name() == "struct mm_rss_stat":
                    rss = sum(rs.count[i].counter.value_() for i in range(len(rs.count)))
                else:  # percpu_counter array (6.2+)
                    rss = sum(rs[i].count.value_() for i in range(len(rs)))
            except (LookupError, FaultError):
                pass
        out(
            f"{task.pid.value_():>7} {task.real_parent.pid.value_():>7} {task_cpu(task):>3} "
            f"{task.value_():x} {task_state_to_char(task)} {rss:>6} {cstr(task.comm)}\n"
        )

elif work == "kmem-addrs":
    addrs = [int(l.split()[-1], 16) for l in open(arg) if l.strip()]
    for a in addrs:
        try:
            info = slab_object_info(prog, a)
        except (FaultError, ValueError) as e:
            info = None
            out(f"{a:x}: {e}\n")
        if info is not None:
            state = "allocated" if info.allocated else "free"
            out(f"{a:x}: {cstr(info.slab_cache.name)} {info.address:x} {state}\n")
            continue
        try:
            s = prog.symbol(a)
            out(f"{a:x}: {s.name}+{a - s.address}\n")
        except LookupError:
            out(f"{a:x}: ?\n")

elif work == "search":
    # every RAM page the dump holds (memblock's memory regions), physical reads in 1 MiB chunks,
    # 8-byte aligned matches, as `search -p VALUE`
    value = int(arg, 0).to_bytes(8, "little")
    mb = prog["memblock"].memory
    hits = 0
    missing = 0
    chunk = 1 << 20
    for i in range(mb.cnt.value_()):
        base = mb.regions[i].base.value_()
        end = base + mb.regions[i].size.value_()
        a = base
        while a < end:
            n = min(chunk, end - a)
            try:
                blocks = [(a, prog.read(a, n, True))]
            except FaultError:
                blocks = []
                for p in range(a, a + n, 4096):
                    try:
                        blocks.append((p, prog.read(p, 4096, True)))
                    except FaultError:
                        missing += 1
            for start, data in blocks:
                j = data.find(value)
                while j >= 0:
                    if j % 8 == 0:
                        out(f"{start + j:x}: {int.from_bytes(value, 'little'):016x}\n")
                        hits += 1
                    j = data.find(value, j + 1)
            a += n
    out(f"hits {hits} pages missing {missing}\n")

else:
    sys.exit(f"unknown work {work}")
