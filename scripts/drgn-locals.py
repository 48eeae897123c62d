import drgn, sys, json
from drgn.helpers.linux.pid import find_task
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
out = []
thr = prog.crashed_thread()
tr = thr.stack_trace()
for i, f in enumerate(tr):
    fr = {'level': i, 'pc': hex(f.pc), 'name': f.name, 'inline': f.is_inline, 'locals': {}}
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
            else:
                try:
                    fr['locals'][n] = hex(v.value_()) if isinstance(v.value_(), int) else str(v.type_)
                except Exception as e:
                    fr['locals'][n] = 'addr:' + hex(v.address_) if v.address_ is not None else 'err:' + str(e)[:60]
        except Exception as e:
            fr['locals'][n] = 'err:' + str(e)[:80]
    out.append(fr)
print(json.dumps(out, indent=1))
