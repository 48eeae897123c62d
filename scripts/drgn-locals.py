# Locals of every frame of one task's stack, as drgn sees them: the oracle of `bt --locals`.
# Run with drgn 0.3.0 (the sid chroot; see workers/kernel/dwarf/testdata/README.md):
#   python3 drgn-locals.py DUMP VMLINUX [MODULE.ko ...] [--pid N]
# Without --pid: the crashed thread. Each frame: level, pc, names, inline, and every
# local/parameter drgn lists: its value in hex (integers and pointers), '<absent>' (optimized out),
# the type for aggregates, or 'err:' and drgn's message.
import drgn, sys, json
args = sys.argv[1:]
pid = None
if '--pid' in args:
    i = args.index('--pid')
    pid = int(args[i + 1])
    del args[i:i + 2]
dump, files = args[0], args[1:]
prog = drgn.Program()
prog.set_core_dump(dump)
prog.load_debug_info(files)
thr = prog.thread(pid) if pid is not None else prog.crashed_thread()
out = []
for i, f in enumerate(thr.stack_trace()):
    # name: drgn's frame name (function, else symbol, else the pc); function: the DWARF
    # function (None where drgn has no debuginfo for the pc)
    fr = {'level': i, 'pc': hex(f.pc), 'name': f.name, 'function': f.function_name, 'inline': f.is_inline, 'locals': {}}
    try:
        names = f.locals()
    except Exception as e:
        names = []
        fr['error'] = str(e)
    for n in names:
        try:
            v = f[n]
            if v.absent_:
                fr['locals'][n] = '<absent>'
                continue
            try:
                val = v.value_()
            except Exception as e:
                fr['locals'][n] = 'addr:' + hex(v.address_) if v.address_ is not None else 'err:' + str(e)[:80]
                continue
            fr['locals'][n] = hex(val) if isinstance(val, int) else str(v.type_)
        except Exception as e:
            fr['locals'][n] = 'err:' + str(e)[:80]
    out.append(fr)
print(json.dumps({'drgn': drgn.__version__, 'dump': dump.rsplit('/', 2)[-2] if '/' in dump else dump, 'pid': thr.tid, 'frames': out}, indent=1))
