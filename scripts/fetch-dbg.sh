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
  apt-get download "linux-image-$rel-dbg"
  deb=$(ls linux-image-"$rel"-dbg_*.deb | head -1)
fi
# the vmlinux; the modules' debug files only when asked for (--modules)
if [ -n "$modules" ]; then
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" "./usr/lib/debug/boot/vmlinux-$rel" "./usr/lib/debug/lib/modules/$rel"
  touch "$dest/.modules-ready"
else
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" "./usr/lib/debug/boot/vmlinux-$rel"
fi
touch "$dest/.ready"
echo "$dest: ready"
