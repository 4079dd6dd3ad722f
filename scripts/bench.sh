#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/ and keeps their output in BUILD/bench.txt.
# Each benchmark prints its figures beside a baseline measured in the same run: the
# servers it needs (a brook broker, a brook store, brook's private PostgreSQL cluster)
# are started here on temporary directories and stopped at the end.
set -euo pipefail
BUILD=${1:-build}
out="$BUILD/bench.txt"
: >"$out"

data=$(mktemp -d /tmp/brook-bench-XXXXXX)
chmod 755 "$data" # PostgreSQL runs as user postgres when we are root: it must get in
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$data"
}
trap cleanup EXIT

# start NAME ARGS...: a brook server (on an ephemeral port unless ARGS give --listen);
# sets $addr and $pid.
start() {
	local name=$1 log="$data/$1.log" listen=(--listen 127.0.0.1:0)
	shift
	[[ " $* " == *" --listen "* ]] && listen=()
	addr=
	"$BUILD/brook" "$name" "${listen[@]}" --data "$data/$name" "$@" 2>"$log" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do
		grep -q ready "$log" 2>/dev/null && break
		sleep 0.1
	done
	addr=$(grep -o '127\.0\.0\.1:[0-9]*' "$log" | head -1)
}

start broker --set broker.metrics_listen=
bootstrap=$addr broker_pid=$pid
start store --set store.metrics_listen=
cql=$addr store_pid=$pid

# brook's private PostgreSQL cluster (`brook postgres`) as the store's baseline.
pgport=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dsn=
if start postgres --listen "127.0.0.1:$pgport" && [ -n "$addr" ]; then
	dsn=$("$BUILD/brook" postgres --data "$data/postgres" --print-dsn)
else
	echo "bench: brook postgres did not start (see $data/postgres.log); no baseline" >&2
fi

for b in "$BUILD"/bench_*; do
	[ -x "$b" ] || continue
	name=$(basename "$b")
	args=()
	case $name in
	bench_kafka) args=(--bootstrap "$bootstrap" --compare-mock --broker-pid "$broker_pid") ;;
	bench_store) args=(--cql "$cql" --store-pid "$store_pid" ${dsn:+--pg "$dsn"}) ;;
	bench_staging) args=(${dsn:+--pg "$dsn"}) ;;
	bench_scheduler) args=(${dsn:+--pg "$dsn"}) ;;
	bench_cdc) args=(--bootstrap "$bootstrap" ${dsn:+--pg "$dsn"}) ;;
	esac
	echo "== $name ${args[*]}" | tee -a "$out"
	"$b" "${args[@]}" | tee -a "$out"
done
# The whole pipeline under `brook up` (its own ports and data dir), beside the reference
# tutorial's Python consumer.
echo "== bench_pipeline" | tee -a "$out"
BROOK_BIN="$BUILD/brook" /usr/bin/python3 bench/bench_pipeline.py | tee -a "$out"
echo "bench: results in $out (copy them into docs/BENCHMARKS.md with the date)"
