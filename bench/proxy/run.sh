#!/usr/bin/env bash
# Measures `tokentop proxy` against the emulator, side by side with direct
# requests (see bench/proxy/main.go for what is measured and how):
#
#   bench/proxy/run.sh [FLAGS]     # e.g. -soak 60s -ttl 10s -size 209715200
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d -t tokentop-proxy-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/tokentop" . && go build -o "$work/bench" ./bench/proxy)
"$work/bench" -bin "$work/tokentop" "$@"
