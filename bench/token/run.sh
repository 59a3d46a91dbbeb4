#!/usr/bin/env bash
# Measures `tokentop token NAME` on a valid session with the keyring backend,
# side by side with the floor: a minimal Go program that reads the same
# keyring item and prints its access token (bench/token/floor).
#
# Needs a Secret Service; on a desktop session it uses yours (the session is
# created under a throwaway name and removed afterwards), in CI or a headless
# box run it inside a private one:
#
#   .ci/with-keyring bench/token/run.sh [RUNS]      # default 200 runs each
#
# Uses hyperfine when installed, else a shell loop. Prints mean wall time per
# run for both and the ratio (target: tokentop <= 1.5x floor).
set -euo pipefail

runs="${1:-200}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d -t tokentop-bench.XXXXXX)"
name="bench-$$"
cleanup() {
	"$work/tokentop" forget "$name" >/dev/null 2>&1 ||
		secret-tool clear service tokentop username "${account:-$name}" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && go build -o "$work/tokentop" . && go build -o "$work/floor" ./bench/token/floor &&
	go build -o "$work/issue" ./bench/token/issue)

export TOKENTOP_CONFIG_DIR="$work/config" TOKENTOP_STORAGE=keyring NO_COLOR=1

# A pair issued by an in-process emulator with a 24h access token: the
# session stays far outside its refresh window, so `token` never needs the
# network (the endpoint below is never contacted).
"$work/issue" | "$work/tokentop" import "$name" --oauth-url http://127.0.0.1:9 --api-url http://127.0.0.1:9/v3
# The keyring item's account is the config dir's identity and the name.
account="$(cat "$TOKENTOP_CONFIG_DIR/store-id")/$name"
tok="$("$work/tokentop" token "$name")"
floor="$("$work/floor" "$account")"
if [[ "$tok" != "$floor" ]]; then
	echo "tokentop token and the floor program print different tokens" >&2
	exit 1
fi

echo "$(nproc) CPUs, $(uname -sr), $runs runs each, session $name (keyring)" >&2

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/h.json" \
		-n floor "$work/floor $account" \
		-n "tokentop token" "$work/tokentop token $name" >&2
	python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
f, t = r["floor"], r["tokentop token"]
print("floor           mean %.2f ms  median %.2f ms" % (f["mean"] * 1e3, f["median"] * 1e3))
print("tokentop token  mean %.2f ms  median %.2f ms" % (t["mean"] * 1e3, t["median"] * 1e3))
print("ratio (mean)    %.2fx   (median) %.2fx" % (t["mean"] / f["mean"], t["median"] / f["median"]))
PY
	exit 0
fi

for ((i = 0; i < 10; i++)); do "$work/floor" "$account" >/dev/null; "$work/tokentop" token "$name" >/dev/null; done

# No hyperfine: time $runs back-to-back runs of each, alternating in rounds
# of 20 so drift in machine load hits both alike.
now_ns() { date +%s%N; }
total_floor=0
total_token=0
done_runs=0
while ((done_runs < runs)); do
	n=$((runs - done_runs < 20 ? runs - done_runs : 20))
	t0=$(now_ns)
	for ((i = 0; i < n; i++)); do "$work/floor" "$account" >/dev/null; done
	t1=$(now_ns)
	for ((i = 0; i < n; i++)); do "$work/tokentop" token "$name" >/dev/null; done
	t2=$(now_ns)
	total_floor=$((total_floor + t1 - t0))
	total_token=$((total_token + t2 - t1))
	done_runs=$((done_runs + n))
done
awk -v f="$total_floor" -v t="$total_token" -v n="$runs" 'BEGIN {
	printf "floor           mean %.2f ms\n", f / n / 1e6
	printf "tokentop token  mean %.2f ms\n", t / n / 1e6
	printf "ratio           %.2fx\n", t / f
}'
