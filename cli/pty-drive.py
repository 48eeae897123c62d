#!/usr/bin/env python3
"""Drive `vmcore DUMP` in a pseudo-terminal (used by cli/interactive.test.ts).

Usage: pty-drive.py NODE CLI DUMP HISTFILE
Prints one JSON object: what the prompt showed after each step."""
import json, os, pty, select, sys, time

node, cli, dump, hist = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.environ['VMCORE_HISTORY'] = hist
    os.environ['TERM'] = 'xterm'
    os.execv(node, [node, cli, dump])

buf = b''
def read_until(pat, timeout):
    global buf
    end = time.time() + timeout
    while time.time() < end:
        if pat.encode() in buf:
            i = buf.index(pat.encode()) + len(pat)
            out, buf = buf[:i], buf[i:]
            return out.decode('utf8', 'replace'), True
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                break
    out, buf = buf, b''
    return out.decode('utf8', 'replace'), False

res = {}
res['start'], res['prompt'] = read_until('crash> ', 120)
os.write(fd, b'mod -t\r')
res['mod'], _ = read_until('crash> ', 60)
# history: arrow up runs the previous command again
os.write(fd, b'\x1b[A\r')
a, _ = read_until('\r\n', 60)
b, _ = read_until('crash> ', 60)
res['history'] = a + b
# completion: a command, a member, a type
os.write(fd, b'stru\t')
res['complete_cmd'], _ = read_until('struct ', 20)
os.write(fd, b'skb_shared_info.frag_l\t')
res['complete_member'], _ = read_until('frag_list', 20)
os.write(fd, b' -o\r')
res['member_out'], _ = read_until('crash> ', 60)
os.write(fd, b'p init_ta\t')
res['complete_symbol'], _ = read_until('init_task', 20)
os.write(fd, b'\x15')  # Ctrl-U: drop the line
read_until('crash> ', 2)
# Ctrl-C cancels a long command and the prompt comes back
os.write(fd, b'search -k 0x1122334455667788\r')
time.sleep(0.15)  # the search of this 550 MB ELF takes ~0.4 s here: Ctrl-C well inside it
t0 = time.time()
os.write(fd, b'\x03')
res['cancel'], res['cancel_prompt'] = read_until('crash> ', 30)
res['cancel_seconds'] = time.time() - t0
os.write(fd, b'sys -t\r')
res['after_cancel'], _ = read_until('crash> ', 60)
os.write(fd, b'quit\r')
res['quit'], _ = read_until('\n', 10)
try:
    _, status = os.waitpid(pid, 0)
    res['exit'] = os.waitstatus_to_exitcode(status)
except ChildProcessError:
    res['exit'] = None
print(json.dumps(res))
