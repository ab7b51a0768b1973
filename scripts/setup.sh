#!/usr/bin/env bash
# Installs what Hypha needs on Debian 12 (the Swift toolchain must already be on PATH):
# lz4 and zstd headers for CShims, and the tools the end-to-end tests drive
# (util-linux's `logger`, curl, python3).
set -euo pipefail
need=()
for pkg in liblz4-dev libzstd-dev pkg-config bsdutils curl python3; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift toolchain first" >&2; exit 1; }
