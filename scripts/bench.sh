#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/ and keeps their output in BUILD/bench.txt.
# Each benchmark prints its figures beside a baseline measured in the same run.
set -euo pipefail
BUILD=${1:-build}
out="$BUILD/bench.txt"
: >"$out"
for b in "$BUILD"/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")" | tee -a "$out"
	"$b" | tee -a "$out"
done
echo "bench: results in $out (copy them into docs/BENCHMARKS.md with the date)"
