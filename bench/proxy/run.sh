#!/usr/bin/env bash
# Measures `tokentop proxy` against the emulator, side by side with direct
# requests (see bench/proxy/main.go for what is measured and how), in two
# placements in one run:
#
#   shared  bench (client and upstream) and proxy on every CPU: latency,
#           throughput, the transfers and the soak;
#   split   bench on CPU 0, the proxy alone on CPU 1 (machines with 2 CPUs
#           or more): latency and throughput again, the fair comparison on
#           a small machine (main.go says why).
#
#   bench/proxy/run.sh [FLAGS]     # e.g. -soak 60s -ttl 10s -size 209715200
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d -t tokentop-proxy-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/tokentop" . && go build -o "$work/bench" ./bench/proxy)
cpus="$(nproc)"
echo "== shared: bench (client + upstream) and proxy on all $cpus CPUs =="
"$work/bench" -bin "$work/tokentop" "$@"
if [ "$cpus" -ge 2 ] && command -v taskset >/dev/null; then
	echo
	echo "== split: bench (client + upstream) on CPU 0, proxy alone on CPU 1 =="
	taskset -c 0 "$work/bench" -bin "$work/tokentop" "$@" -proxy-cpu 1 -soak 0 -size 0
else
	echo
	echo "== split: skipped (needs 2 CPUs and taskset) =="
fi
