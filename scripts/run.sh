#!/usr/bin/env bash
# `make run`: runs what exists of the pipeline on embedded defaults.
# Today: the offline randomuser API, then a sample fetch through brook's source client.
# Ctrl-C stops everything cleanly.
set -euo pipefail
BROOK=${1:-build/brook}
DATA=${BROOK_DATA:-./var}
mkdir -p "$DATA"
LOG="$DATA/randomuser.log"

"$BROOK" randomuser 2> >(tee "$LOG" >&2) &
SERVER=$!
stop() {
	trap - INT TERM
	echo
	echo "run: stopping (SIGTERM to the randomuser server)"
	kill -TERM "$SERVER" 2>/dev/null || true
	wait "$SERVER" 2>/dev/null || true
	exit 0
}
trap stop INT TERM

for _ in $(seq 100); do
	grep -q ready "$LOG" 2>/dev/null && break
	if ! kill -0 "$SERVER" 2>/dev/null; then
		echo "run: the randomuser server did not start (see above); is port 8088 free?" >&2
		exit 1
	fi
	sleep 0.1
done
URL=$(grep -o 'http://[^ ]*' "$LOG" | head -1)

echo
echo "run: a sample fetch of 3 users (seed 'brook') through brook's source client:"
"$BROOK" fetch --url "$URL" --results 3 --seed brook --log-level warn |
	/usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    u = json.loads(line)
    print("  %-28s %-6s %-3s %s, %s" % (u["name"]["first"] + " " + u["name"]["last"],
          u["gender"], u["nat"], u["location"]["city"], u["location"]["country"]))'
echo
echo "run: the randomuser API is at $URL — try:"
echo "       curl '${URL}?results=2&seed=demo&nat=gb,fr'"
echo "       $BROOK fetch --results 5 --nat de"
echo "     metrics: ${URL%api/}metrics    Ctrl-C to stop."
wait "$SERVER"
