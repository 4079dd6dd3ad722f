#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/ and keeps their output in BUILD/bench.txt.
# Each benchmark prints its figures beside a baseline measured in the same run: the
# servers it needs (a brook broker, a brook store, a private PostgreSQL cluster on a unix
# socket) are started here on temporary directories and stopped at the end.
set -euo pipefail
BUILD=${1:-build}
out="$BUILD/bench.txt"
: >"$out"

data=$(mktemp -d /tmp/brook-bench-XXXXXX)
pgdir=$(mktemp -d /tmp/brook-bench-pg-XXXXXX)
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	[ -f "$pgdir/db/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdir/db" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$data" "$pgdir"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: then it runs as the postgres system user.
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start NAME ARGS...: a brook server on an ephemeral port; sets $addr and $pid.
start() {
	local name=$1 log="$data/$1.log"
	shift
	"$BUILD/brook" "$name" --listen 127.0.0.1:0 --data "$data/$name" "$@" 2>"$log" &
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

dsn=
if [ -n "$pgbin" ]; then
	[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
	as_pg "$pgbin/initdb" -D "$pgdir/db" -A trust -U postgres >"$data/initdb.log" 2>&1
	as_pg "$pgbin/pg_ctl" -D "$pgdir/db" -l "$pgdir/log" -w \
		-o "-k $pgdir -c listen_addresses='' -p 5433" start >/dev/null
	dsn="host=$pgdir port=5433 user=postgres dbname=postgres"
else
	echo "bench: PostgreSQL not installed (scripts/deps.sh installs it); no baseline" >&2
fi

for b in "$BUILD"/bench_*; do
	[ -x "$b" ] || continue
	name=$(basename "$b")
	args=()
	case $name in
	bench_kafka) args=(--bootstrap "$bootstrap" --compare-mock --broker-pid "$broker_pid") ;;
	bench_store) args=(--cql "$cql" --store-pid "$store_pid" ${dsn:+--pg "$dsn"}) ;;
	esac
	echo "== $name ${args[*]}" | tee -a "$out"
	"$b" "${args[@]}" | tee -a "$out"
done
echo "bench: results in $out (copy them into docs/BENCHMARKS.md with the date)"
