#!/usr/bin/env bash
# CI check of the install contract: on a fresh clone of this commit, `npm ci --omit=dev` (no dev
# dependencies: no tsx, no TypeScript, no Vite) builds the CLI bundle in its `prepare` step and
# `npx vmcore SAMPLE sys` runs. Usage: bash scripts/check-omit-dev.sh [clone-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$(mktemp -d /tmp/vmcore-omit-dev.XXXXXX)}"
sample=public/samples/6.1-skb-uaf-0x106/vmcore.kdump-zlib
rm -rf "$dir/clone"
git clone -q "$root" "$dir/clone"
cd "$dir/clone"
git -c advice.detachedHead=false checkout -q "$(git -C "$root" rev-parse HEAD)"
npm ci --omit=dev --no-audit --no-fund --prefer-offline >"$dir/npm-ci.log" 2>&1 || { tail -20 "$dir/npm-ci.log"; exit 1; }
fail() { echo "check-omit-dev: $*" >&2; exit 1; }
[ ! -e node_modules/tsx ] || fail "node_modules/tsx exists: dev dependencies were installed"
[ -f cli/dist/vmcore.mjs ] || fail "npm ci did not build cli/dist/vmcore.mjs"
out="$(npx --no-install vmcore "$sample" sys 2>"$dir/stderr")" || { cat "$dir/stderr" >&2; fail "npx vmcore $sample sys failed"; }
[ ! -s "$dir/stderr" ] || { cat "$dir/stderr" >&2; fail "npx vmcore wrote to stderr"; }
echo "$out" | grep -q 'RELEASE: 6.1.0-56-amd64' || { echo "$out" >&2; fail "sys did not print the release"; }
json="$(npx --no-install vmcore "$sample" 'kmem -s' --json)" || fail "kmem -s --json failed"
echo "$json" | grep -q '"name": "kmalloc-1k"' || fail "kmem -s --json has no kmalloc-1k"
dis="$(npx --no-install vmcore "$sample" 'dis panic 2')" || fail "dis failed (capstone-wasm missing at run time?)"
echo "$dis" | grep -q '<panic>:' || fail "dis printed no instruction"
imp="$(node --input-type=module -e "import { open } from 'vmcore-workbench'; const p = await open('$sample'); console.log(p.task(1).comm.string()); p.close();" 2>&1)" || { echo "$imp" >&2; fail "import { open } from 'vmcore-workbench' failed"; }
[ "$imp" = init ] || { echo "$imp" >&2; fail "import { open } from 'vmcore-workbench': task 1 is not init"; }
echo "check-omit-dev: ok (npm ci --omit=dev, npx vmcore sys / kmem -s --json / dis, import { open } on a fresh clone of $(git rev-parse --short HEAD))"
[ -n "${1:-}" ] || rm -rf "$dir"
