#!/usr/bin/env bash
# Installs the system packages the tests need on a fresh Debian machine of this kind:
# Debian's Chromium (Playwright drives it; browser downloads do not work here), xz-utils (one
# shared dump is .xz), python3-lzo (liblzo2 reference output for the LZO decoder test).
# Run as root (CI and the dev machines are); without root it only reports what is missing.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
/usr/bin/python3 -c 'import lzo' >/dev/null 2>&1 || missing+=(python3-lzo)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-tools: missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "ensure-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
