#!/usr/bin/env bash
# Measures `tokentop token NAME` on a valid session with --storage etcd over
# the cluster .ci/with-etcd starts (3 members on loopback), beside the same
# command on the keyring when a Secret Service is at hand:
#
#   .ci/with-etcd bench/etcd/token.sh [RUNS]        # default 100 runs
#
# A run reads the record and the secrets (two etcd round trips) and
# decrypts the pair with the team identity (a file here).
set -euo pipefail

runs="${1:-100}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d -t tokentop-bench-etcd.XXXXXX)"
trap 'rm -rf "$work"' EXIT
: "${TOKENTOP_TEST_ETCD_ENDPOINTS:?run inside .ci/with-etcd}"

(cd "$root" && go build -tags etcd -o "$work/tokentop" . && go build -o "$work/issue" ./bench/token/issue)
export TOKENTOP_CONFIG_DIR="$work/config" TOKENTOP_STORAGE=etcd NO_COLOR=1 \
	TOKENTOP_ETCD_ENDPOINTS="$TOKENTOP_TEST_ETCD_ENDPOINTS" TOKENTOP_ETCD_PREFIX="/bench-$$" \
	TOKENTOP_TEAM_IDENTITY="$work/team.key"
"$work/tokentop" team init 2>/dev/null
"$work/issue" | "$work/tokentop" import bench --keep-alive --oauth-url http://127.0.0.1:9 --api-url http://127.0.0.1:9/v3 >/dev/null 2>&1
"$work/tokentop" token bench >/dev/null
echo "$(nproc) CPUs, $(uname -sr), $runs runs, etcd $(etcd --version | head -1)" >&2
hyperfine -N --warmup 10 --runs "$runs" -n "token (etcd, 3 members)" "$work/tokentop token bench" 2>&1 | grep -E "Benchmark|Time|Range"
etcdctl --endpoints "$TOKENTOP_TEST_ETCD_ENDPOINTS" del --prefix "/bench-$$/" >/dev/null
