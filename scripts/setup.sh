#!/usr/bin/env bash
# Installs what Hypha needs on Debian 12 (the Swift toolchain must already be on PATH):
# lz4 and zstd headers for CShims, and the tools the end-to-end tests drive
# (util-linux's `logger`, curl, python3, and prometheus for its `promtool`, a real client of the
# Prometheus query API).
set -euo pipefail
need=()
for pkg in liblz4-dev libzstd-dev pkg-config bsdutils curl python3 prometheus; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${need[*]}"
    $sudo apt-get update -qq
    # Only promtool is wanted from prometheus: no recommends (node-exporter), and no service
    # started by the package's postinst: invoke-rc.d asks policy-rc.d, which refuses (101) while
    # this runs unless the machine already has one of its own.
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod 755 "$policy"
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
    [ -z "$policy" ] || $sudo rm -f "$policy"
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift toolchain first" >&2; exit 1; }
