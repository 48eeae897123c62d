# drgn 0.3.0 cross-check of where crash 9.0.2 is wrong on the 7.2-sysrq-kaslr dump (oracles/README.md,
# "crash errors on 7.2"). Run inside the Debian sid chroot:
#   drgn -q -c DUMP -s vmlinux-7.2.13+deb14-amd64 drgn-crash-errors.py > 7.2-sysrq-kaslr/drgn-crash-errors.txt
# Every line is "key = value"; triage.test.ts reads the values its named exceptions rely on.
import datetime
from drgn.helpers.linux.mapletree import mtree_load
from drgn.helpers.linux.percpu import per_cpu


def has(name):
    try:
        prog[name]
        return True
    except (KeyError, LookupError):
        return False


def out(key, value):
    print(f"{key} = {value}")


# irq: crash's x86_64 machdep takes nr_irqs from the symbol nr_irqs and falls back to 224 without it
for n in ("nr_irqs", "total_nr_irqs"):
    out(f"symbol {n}", "present" if has(n) else "absent")
nr = int(prog["total_nr_irqs"])
out("total_nr_irqs", nr)
descs = [i for i in range(nr) if mtree_load(prog["sparse_irqs"].address_of_(), i).value_() != 0]
out("irqs with an irq_desc", " ".join(map(str, descs)))
out("irqs >= 224 with an irq_desc", len([i for i in descs if i >= 224]))

# kmem -i: the swap lines
for s in ("swapper_spaces", "swapper_space", "nr_swapfiles", "total_swap_pages", "swap_info"):
    out(f"symbol {s}", "present" if has(s) else "absent")
out("nr_swapfiles", int(prog["nr_swapfiles"]))
out("total_swap_pages", int(prog["total_swap_pages"]))

# log -T: wall-clock time of boot = xtime_sec - uptime; Linux 7.2 has timekeeper_data[], no tk_core
for s in ("tk_core", "timekeeper_data", "shadow_timekeeper"):
    out(f"symbol {s}", "present" if has(s) else "absent")
tk = prog["timekeeper_data"][0].timekeeper
out("timekeeper_data[0].timekeeper.xtime_sec", int(tk.xtime_sec))
out("xtime_sec as UTC", datetime.datetime.fromtimestamp(int(tk.xtime_sec), datetime.timezone.utc).isoformat())

# p runqueues:0: rq->scx.local_dsq.pcpu points into .smp_locks, where only zero-sized linker symbols are
p = per_cpu(prog["runqueues"], 0).scx.local_dsq.pcpu
out("runqueues:0 scx.local_dsq.pcpu", hex(p.value_()))
try:
    sym = prog.symbol(p.value_())
    out("symbol at scx.local_dsq.pcpu", f"{sym.name} {hex(sym.address)} size {sym.size}")
except LookupError:
    out("symbol at scx.local_dsq.pcpu", "none")
for s in ("__init_end", "__smp_locks", "__smp_locks_end"):
    sy = prog.symbol(s)
    out(f"symbol {s}", f"{hex(sy.address)} size {sy.size}")
