#!/usr/bin/env bash
# `make run`: runs what exists of the pipeline on embedded defaults.
# Today: the offline randomuser API and the Kafka-protocol broker; a sample batch of users
# is fetched through brook's source client and produced to the broker's users_created
# topic. Ctrl-C stops everything cleanly.
set -euo pipefail
BROOK=${1:-build/brook}
DATA=${BROOK_DATA:-./var}
mkdir -p "$DATA"
PIDS=()

# stop [CODE]: SIGTERM every server, wait for them, exit CODE (0).
stop() {
	trap - INT TERM
	echo
	echo "run: stopping (SIGTERM to every server)"
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	exit "${1:-0}"
}
trap "stop 0" INT TERM
trap 'rc=$?; [ $rc -ne 0 ] && stop $rc' EXIT # a failing step still stops the servers

# start NAME ARGS...: runs `brook NAME ARGS` with its log in $DATA/NAME.log (also shown),
# and waits for its ready line.
start() {
	local name=$1 log="$DATA/$1.log"
	shift
	rm -f "$log"
	"$BROOK" "$name" "$@" 2> >(tee "$log" >&2) &
	local pid=$!
	PIDS+=("$pid")
	for _ in $(seq 300); do
		grep -q ready "$log" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "run: brook $name did not start (see above); is its port free?" >&2
			stop 1
		fi
		sleep 0.1
	done
	echo "run: brook $name printed no ready line in 30 s" >&2
	stop 1
}

start randomuser
start broker --data "$DATA"
URL=$(grep -o 'http://[^ ]*' "$DATA/randomuser.log" | head -1)
BOOTSTRAP=$("$BROOK" config show | sed -n 's/^kafka.bootstrap: "\(.*\)".*/\1/p')

echo
echo "run: a sample of 5 users (seed 'brook') through brook's source client, into the"
echo "     broker's users_created topic:"
"$BROOK" fetch --url "$URL" --results 5 --seed brook --log-level warn >"$DATA/sample.jsonl"
kcat -b "$BOOTSTRAP" -P -t users_created <"$DATA/sample.jsonl"
kcat -b "$BOOTSTRAP" -C -t users_created -e -q -o -5 -f '%o\t%s\n' |
	/usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    off, rec = line.split("\t", 1)
    u = json.loads(rec)
    print("  offset %-5s %-26s %-6s %-3s %s, %s" % (off, u["name"]["first"] + " " +
          u["name"]["last"], u["gender"], u["nat"], u["location"]["city"],
          u["location"]["country"]))'
echo
echo "run: brook is up — try:"
echo "       curl '${URL}?results=2&seed=demo&nat=gb,fr'     # the randomuser API"
echo "       kcat -b $BOOTSTRAP -L                          # the broker, with any Kafka client"
echo "       kcat -b $BOOTSTRAP -C -t users_created -e"
echo "       $BROOK fetch --results 5 --nat de"
echo "     metrics: ${URL%api/}metrics and http://127.0.0.1:9308/metrics    Ctrl-C to stop."
wait
