#!/usr/bin/env bash
# `make run`: the whole pipeline on built-in defaults, under `brook up` (the supervisor:
# PostgreSQL, randomuser, broker, store, registry, scheduler, connector, stream
# processor). Once it is ready, the demo DAG (user_automation_demo: 1,000 users staged
# every minute) is unpaused so users keep flowing from the API into Cassandra's
# spark_streams.created_users while you look around. Ctrl-C stops everything cleanly.
#
# Environment: BROOK_DATA (default ./var), and anything `brook up` reads (BROOK_<KEY>).
set -euo pipefail
BROOK=${1:-build/brook}
DATA=${BROOK_DATA:-./var}
mkdir -p "$DATA"
chmod 755 "$DATA" 2>/dev/null || true # PostgreSQL runs as user postgres when we are root

# Ctrl-C reaches `brook up` too (same process group); it stops the parts in reverse
# order. This script only waits for it.
trap '' INT
"$BROOK" up --data "$DATA" &
up=$!
trap 'kill -TERM $up 2>/dev/null || true' TERM

# The supervisor prints its endpoint table on stdout once every part is ready; wait for
# the scheduler to answer, then unpause the demo DAG.
for _ in $(seq 600); do
	if ! kill -0 "$up" 2>/dev/null; then
		wait "$up"
		exit $?
	fi
	if "$BROOK" dags list --data "$DATA" --log-level error >/dev/null 2>&1; then
		"$BROOK" dags unpause user_automation_demo --data "$DATA" --log-level warn
		cat <<EOF

run: users flow every minute (user_automation_demo). Look around in another terminal:
       $BROOK cql -e 'SELECT first_name, last_name, email FROM spark_streams.created_users LIMIT 5'
       $BROOK psql --data $DATA -c 'SELECT count(*) FROM staging.raw_users'
       kcat -b 127.0.0.1:9092 -L                       # the broker, with any Kafka client
       curl -s http://127.0.0.1:8083/connectors/users/status   # the connector
       curl -s http://127.0.0.1:8081/subjects           # the Schema Registry
       curl -s http://127.0.0.1:9310/metrics | grep brook_stream_records   # the stream job
       $BROOK dags trigger user_automation_demo --conf '{"max_records": 5000}' --wait
       open http://127.0.0.1:8080/                       # the scheduler's grid
     Ctrl-C stops the pipeline.
EOF
		break
	fi
	sleep 0.5
done
wait "$up"
