#!/bin/sh
# Make the crash 9.0.2 oracle files of the triage commands (ps -S, mod -t, runq, irq, timer, ...)
# on the shared dumps, the way ../shared/dumps/*/oracle was made: crash 9.0.2 from a Debian sid
# chroot (crash 9.0.2+~16.3-1), the matching Debian -dbg vmlinux, batch mode
# `crash -s VMLINUX DUMP < cmds` with `set scroll off`, no module objects loaded, each command
# preceded by an `echo @@@ORACLE <cmd>` marker ('|' written %PIPE%: crash pipes echo too); the output is split into <dump>/<name>.txt.
# bt-<dump>.txt: the bt option commands (bt -e/-E/-F/-FF/-T/-r/-c/-v, panic task and sleeping tasks).
# Usage (as root): workers/commands/oracles/make.sh [dump-name ...]
# Needs: /work/chroots/sid (crash installed), /work/dbg/<release>/usr/lib/debug/boot/vmlinux-<release>,
#        ../shared/dumps, xz-decompressed ELF dumps in /tmp/vmcore-workbench-cache.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${CHROOT:-/work/chroots/sid}
DUMPS=${DUMPS:-$(cd "$HERE/../../../../shared/dumps" && pwd)}
CACHE=/tmp/vmcore-workbench-cache
MNT=$ROOT/mnt/triage-oracle-$$
MNTIN=/mnt/triage-oracle-$$
trap 'rm -rf "$MNT"' EXIT
mkdir -p "$MNT"
LIST=${*:-6.1-skb-uaf-0x106 6.12-skb-uaf-kaslr 6.1-bh-scribble 6.1-sysrq-kaslr 7.2-sysrq-kaslr}
for name in $LIST; do
  dir=$DUMPS/$name
  dump=$(ls "$dir"/vmcore.* | head -1)
  case $dump in
    *.xz) dump=$(ls $CACHE/${name}_vmcore.elf.* | head -1) ;;
  esac
  rel=""
  [ -n "$rel" ] || rel=$(awk '/RELEASE:/ {print $2; exit}' "$dir/oracle/sys.txt")
  vmlinux=/work/dbg/$rel/usr/lib/debug/boot/vmlinux-$rel
  [ -f "$vmlinux" ] || { echo "no vmlinux for $rel" >&2; continue; }
  cp "$vmlinux" "$MNT/vmlinux"
  ln -f "$dump" "$MNT/dump" 2>/dev/null || cp "$dump" "$MNT/dump"
  extra=""
  case $name in 7.*) extra="--no_modules" ;; esac
  cmds=$MNT/cmds
  : > "$cmds"
  echo "set scroll off" >> "$cmds"
  while IFS= read -r c; do
    [ -n "$c" ] || continue
    # crash would pipe the marker echo too: the marker spells '|' as %PIPE%
    printf 'echo @@@ORACLE %s\n%s\n' "$(printf '%s' "$c" | sed 's/|/%PIPE%/g')" "$c" >> "$cmds"
  done <<CMDS
$(cat "$HERE/commands.txt"; [ -f "$HERE/commands-$name.txt" ] && cat "$HERE/commands-$name.txt"; [ -f "$HERE/bt-$name.txt" ] && cat "$HERE/bt-$name.txt")
CMDS
  echo "echo @@@ORACLE end" >> "$cmds"
  echo quit >> "$cmds"
  out=$HERE/$name
  mkdir -p "$out"
  chroot "$ROOT" sh -c "crash -s $extra $MNTIN/vmlinux $MNTIN/dump < $MNTIN/cmds" > "$MNT/out.txt" 2>&1 || true
  python3 - "$MNT/out.txt" "$out" <<'PY'
import sys, re, os
text = open(sys.argv[1], errors='replace').read()
parts = re.split(r'^@@@ORACLE (.*)$', text, flags=re.M)
for i in range(1, len(parts) - 1, 2):
    cmd = parts[i].strip().replace('%PIPE%', '|')
    if cmd == 'end':
        continue
    body = parts[i + 1].lstrip('\n')
    fname = re.sub(r'[^A-Za-z0-9_.-]+', '_', cmd).strip('_') + '.txt'
    open(os.path.join(sys.argv[2], fname), 'w').write(body)
PY
  rm -f "$MNT/dump" "$MNT/vmlinux"
  echo "$name: $(ls "$out" | wc -l) files"
done
