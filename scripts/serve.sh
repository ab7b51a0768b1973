#!/usr/bin/env bash
# The README's start command: install what is missing, build in release mode, and start
# `hypha serve` on the embedded default (data under ./hypha-data, loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product hypha
exec .build/release/hypha serve --data ./hypha-data --bind 127.0.0.1 "$@"
