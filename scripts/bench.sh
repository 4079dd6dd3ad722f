#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/ and keeps their output in BUILD/bench.txt.
# Each benchmark prints its figures beside a baseline measured in the same run.
set -euo pipefail
BUILD=${1:-build}
out="$BUILD/bench.txt"
: >"$out"

# A broker of our own on an ephemeral port, for bench_kafka.
data=$(mktemp -d /tmp/brook-bench-XXXXXX)
broker_log="$data/broker.log"
cleanup() {
	[ -n "${broker_pid:-}" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" || true
	rm -rf "$data"
}
trap cleanup EXIT
"$BUILD/brook" broker --listen 127.0.0.1:0 --data "$data" --set broker.metrics_listen= \
	2>"$broker_log" &
broker_pid=$!
for _ in $(seq 100); do
	grep -q ready "$broker_log" 2>/dev/null && break
	sleep 0.1
done
bootstrap=$(grep -o '127\.0\.0\.1:[0-9]*' "$broker_log" | head -1)

for b in "$BUILD"/bench_*; do
	[ -x "$b" ] || continue
	name=$(basename "$b")
	args=()
	if [ "$name" = bench_kafka ]; then
		args=(--bootstrap "$bootstrap" --compare-mock --broker-pid "$broker_pid")
	fi
	echo "== $name ${args[*]}" | tee -a "$out"
	"$b" "${args[@]}" | tee -a "$out"
done
echo "bench: results in $out (copy them into docs/BENCHMARKS.md with the date)"
