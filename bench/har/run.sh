#!/usr/bin/env bash
# Measures `tokentop har analyze` and `tokentop har sanitize` against
# `jq -c . FILE` on synthetic HARs of 50 MB and 500 MB (bench/har/gen: most
# of each file is response bodies). Prints wall time, MB/s and peak RSS for
# each. Target: each tokentop command at least 2x faster than jq on the same
# file in the same run, with peak RSS under 100 MiB whatever the size.
#
#   bench/har/run.sh [SIZES_MB...]     # default: 50 500
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d -t tokentop-har-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
command -v jq >/dev/null || { echo "needs jq (apt-get install -y jq)" >&2; exit 1; }

(cd "$root" && go build -o "$work/tokentop" . && go build -o "$work/gen" ./bench/har/gen)

measure() { # label file cmd...
	local label=$1 file=$2
	shift 2
	local out
	/usr/bin/time -o "$work/time" -f '%e %M' "$@" >/dev/null 2>"$work/stderr" ||
		{ echo "  $label failed:" >&2; cat "$work/stderr" >&2; }
	out=$(tail -1 "$work/time")
	local secs=${out% *} kib=${out#* }
	local mb
	mb=$(awk -v b="$(stat -c %s "$file")" 'BEGIN{printf "%.1f", b/1048576}')
	awk -v l="$label" -v s="$secs" -v k="$kib" -v m="$mb" \
		'BEGIN{printf "  %-10s %7.2f s  %7.1f MB/s  peak RSS %7.1f MiB\n", l, s, m/(s>0?s:0.01), k/1024}'
}

for size in "${@:-50 500}"; do
	for s in $size; do
		f="$work/$s.har"
		"$work/gen" -mb "$s" >"$f"
		echo "$s MB HAR ($(stat -c %s "$f") bytes):"
		measure "jq -c ." "$f" jq -c . "$f"
		measure "analyze" "$f" "$work/tokentop" har analyze "$f"
		measure "sanitize" "$f" "$work/tokentop" har sanitize "$f"
		rm -f "$f"
	done
done
