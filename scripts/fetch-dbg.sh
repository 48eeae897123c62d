#!/bin/sh
# Fetch Debian's debug vmlinux of a kernel release for the vmlinux/DWARF tests:
#   scripts/fetch-dbg.sh [--modules] 6.1.0-56-amd64 [dir]   (as root, on a Debian with that release in its sources)
# Downloads linux-image-<release>-dbg with apt-get download and unpacks it into <dir>/<release>/
# (default ../dbg next to the checkout, where workers/testing/vmlinux.ts looks), then writes
# <dir>/<release>/.ready. Another run in progress is marked by .downloading; this one waits for it.
# --modules also unpacks the in-tree modules' debug files (usr/lib/debug/lib/modules/<release>/,
# the .ko with DWARF) and writes .modules-ready; out-of-tree modules (the fixtures' skb_uaf,
# bh_scribble) are not in the package.
# Cost measured for 6.1.0-56-amd64 (858 MB .deb): download 9 s, unpack 81 s (2 cores), 3.7 GB on disk.
set -eu
modules=
if [ "${1:-}" = --modules ]; then modules=1; shift; fi
rel=${1:?usage: fetch-dbg.sh [--modules] <kernel release> [dir]}
root=${2:-$(cd "$(dirname "$0")/../.." && pwd)/dbg}
dest=$root/$rel
mkdir -p "$dest"
if [ -e "$dest/.ready" ] && { [ -z "$modules" ] || [ -e "$dest/.modules-ready" ]; }; then echo "$dest: ready"; exit 0; fi
if [ -e "$dest/.downloading" ]; then
  echo "$dest: another download is in progress; waiting"
  while [ -e "$dest/.downloading" ] && [ ! -e "$dest/.ready" ]; do sleep 10; done
  [ -e "$dest/.ready" ] && exit 0
  echo "$dest: the other download stopped without .ready" >&2; exit 1
fi
touch "$dest/.downloading"
trap 'rm -f "$dest/.downloading"' EXIT
cd "$root"
deb=$(ls linux-image-"$rel"-dbg_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  # a release only Debian sid has (7.x) is not in a bookworm host's sources: then download it
  # with the apt of the sid chroot ($CHROOT, the oracle chroot) and move the .deb here
  if ! apt-get download "linux-image-$rel-dbg"; then
    ch=${CHROOT:-/work/chroots/sid}
    [ -d "$ch" ] || { echo "linux-image-$rel-dbg: not in apt's sources and no chroot $ch" >&2; exit 1; }
    tmp=$(mktemp -d "$ch/tmp/fetch-dbg.XXXXXX")
    chroot "$ch" sh -c "cd /tmp/$(basename "$tmp") && apt-get download linux-image-$rel-dbg"
    mv "$tmp"/linux-image-"$rel"-dbg_*.deb .
    rmdir "$tmp"
  fi
  deb=$(ls linux-image-"$rel"-dbg_*.deb | head -1)
fi
# the vmlinux, and the modules' debug files only when asked for (--modules). Newer packages (7.x) ship
# usr/lib/debug/boot/vmlinux-<rel> as a symlink (-> ../lib/modules/<rel>/vmlinux; other packages
# point into a .build-id/ path): extract the link's target too, else the link dangles.
boot=./usr/lib/debug/boot/vmlinux-$rel
want=$boot
target=$(dpkg-deb -c "$deb" | awk -v p="$boot" '$6 == p && $7 == "->" {print $8; exit}')
if [ -n "$target" ]; then
  case $target in
    /*) want="$want .$target" ;;
    *) want="$want $(python3 -c 'import os,sys; print("./" + os.path.normpath(os.path.join(os.path.dirname(sys.argv[1]), sys.argv[2])))' "$boot" "$target")" ;;
  esac
fi
[ -z "$modules" ] || want="$want ./usr/lib/debug/lib/modules/$rel"
# shellcheck disable=SC2086
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" $want
# the vmlinux must be a readable file (not a dangling link) before the directory is marked ready
[ -f "$dest/usr/lib/debug/boot/vmlinux-$rel" ] || { echo "$dest: vmlinux-$rel missing or a dangling link after unpacking" >&2; exit 1; }
[ -z "$modules" ] || touch "$dest/.modules-ready"
touch "$dest/.ready"
echo "$dest: ready"
