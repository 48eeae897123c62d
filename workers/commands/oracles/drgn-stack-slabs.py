# drgn 0.3.0 oracle for bt -F/-FF where crash cannot look up slab objects (Linux 7.x: crash 9.0.2
# has no SLUB support, "invalid structure member offset: page_first_page"): for every word of the
# kernel stack of the given tasks, the slab cache drgn's slab_object_info() names for it.
# Run: drgn -q -c DUMP -s VMLINUX drgn-stack-slabs.py PID... > <dump>/drgn-stack-slabs.json
import json, sys
from drgn import FaultError
from drgn.helpers.linux.pid import find_task
from drgn.helpers.linux.slab import slab_object_info

out = {}
for pid in map(int, sys.argv[1:]):
    task = find_task(prog, pid)
    base = task.stack.value_()
    size = prog.symbol("__end_init_stack").address - prog.symbol("init_stack").address
    words = {}
    for off in range(0, size, 8):
        try:
            v = prog.read_u64(base + off)
        except FaultError:
            continue
        if v < 0xffff800000000000:
            continue
        try:
            info = slab_object_info(prog, v)
        except (FaultError, ValueError):
            info = None
        if info is not None:
            words["0x%x" % (base + off)] = {"value": "0x%x" % v, "cache": info.slab_cache.name.string_().decode()}
    out[str(pid)] = {"task": "0x%x" % task.value_(), "stack": "0x%x" % base, "slab_words": words}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
