#!/usr/bin/env bash
# `make run`: runs what exists of the pipeline on embedded defaults.
# Today: the offline randomuser API, the Kafka-protocol broker, the Schema Registry, the
# CQL store, brook's private PostgreSQL and the scheduler. The scheduler's demo DAG (user_automation_demo)
# is unpaused: every minute it stages 1,000 users from the API in staging.raw_users.
# A sample batch of users is also fetched through brook's source client, produced to
# the broker's users_created topic, and written with `brook cql` into
# spark_streams.created_users. Ctrl-C stops everything cleanly.
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
start registry
start store --data "$DATA"
start postgres --data "$DATA"
start scheduler --data "$DATA"
"$BROOK" dags unpause user_automation_demo --log-level warn
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
echo "run: the same users into the store's spark_streams.created_users (the reference"
echo "     pipeline's table), with brook cql:"
/usr/bin/python3 - "$DATA/sample.jsonl" >"$DATA/sample.cql" <<'PY'
import json, sys, uuid
def q(s):
    return "'" + str(s).replace("'", "''") + "'"
print("CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
      "{'class': 'SimpleStrategy', 'replication_factor': '1'};")
print("CREATE TABLE IF NOT EXISTS spark_streams.created_users (id UUID PRIMARY KEY, "
      "first_name TEXT, last_name TEXT, gender TEXT, address TEXT, post_code TEXT, "
      "email TEXT, username TEXT, dob TEXT, registered_date TEXT, phone TEXT, picture TEXT);")
for line in open(sys.argv[1]):
    u = json.loads(line)
    loc = u["location"]
    addr = "%s %s, %s, %s, %s" % (loc["street"]["number"], loc["street"]["name"],
                                  loc["city"], loc["state"], loc["country"])
    vals = [str(uuid.uuid5(uuid.NAMESPACE_URL, u["login"]["uuid"])), q(u["name"]["first"]),
            q(u["name"]["last"]), q(u["gender"]), q(addr), q(loc["postcode"]), q(u["email"]),
            q(u["login"]["username"]), q(u["dob"]["date"]), q(u["registered"]["date"]),
            q(u["phone"]), q(u["picture"]["medium"])]
    print("INSERT INTO spark_streams.created_users (id, first_name, last_name, gender, "
          "address, post_code, email, username, dob, registered_date, phone, picture) "
          "VALUES (%s);" % ", ".join(vals))
PY
CQL_HOST=$(grep -o '127\.0\.0\.1:[0-9]*' "$DATA/store.log" | head -1)
"$BROOK" cql --host "$CQL_HOST" -f "$DATA/sample.cql" --log-level warn
"$BROOK" cql --host "$CQL_HOST" --log-level warn \
	-e "SELECT first_name, last_name, post_code, email FROM spark_streams.created_users"
echo
echo "run: brook is up — try:"
echo "       curl '${URL}?results=2&seed=demo&nat=gb,fr'     # the randomuser API"
echo "       kcat -b $BOOTSTRAP -L                          # the broker, with any Kafka client"
echo "       kcat -b $BOOTSTRAP -C -t users_created -e"
echo "       curl http://127.0.0.1:8081/subjects             # the Schema Registry"
echo "       $BROOK fetch --results 5 --nat de"
echo "       $BROOK cql -e 'SELECT * FROM spark_streams.created_users'   # the store"
echo "       $BROOK dags runs user_automation_demo           # the scheduler's runs"
echo "       $BROOK dags trigger user_automation_demo --conf '{\"max_records\": 3000}' --wait"
echo "       $BROOK psql --data $DATA -c 'SELECT count(*) FROM staging.raw_users'"
echo "       open http://127.0.0.1:8080/                      # the scheduler's grid"
echo "     metrics: ${URL%api/}metrics, http://127.0.0.1:9308/metrics (broker),"
echo "              http://127.0.0.1:9309/metrics (store)      Ctrl-C to stop."
wait
