#!/bin/sh
# lrecv --metrics: /api/v1/health is 200 while lrecv takes and passes on
# events, 503 while its stdout takes nothing; /metrics serves the lkit_
# families of --metrics-file (promtool accepts both); /api/plugins.json
# stays for monitor_agent users.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 14

mkfifo "$T/fifo"
# the reader of lrecv's stdout, stopped and continued at will
cat "$T/fifo" >"$T/out" &
cp=$!
lrecv --http 127.0.0.1:0 --metrics 127.0.0.1:0 --port-file "$T/port" \
	--metrics-file "$T/m.prom" --metrics-interval 50ms --pipeline agg \
	>"$T/fifo" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'"
H=http://127.0.0.1:$(sed -n 's/^http //p' "$T/port")
M=http://127.0.0.1:$(sed -n 's/^metrics //p' "$T/port")
# code URL: the HTTP status of a GET (a 5s bound)
code() { curl -s -m 5 -o "$T/body" -w '%{http_code}\n' "$1"; }
# val FILE FAMILY: the value of FAMILY in FILE
val() { sed -n "s/^$2{.*} \([0-9.e+]*\)\$/\1/p" "$1"; }

check_out 'health: 200 while stdout takes events' 'code $M/api/v1/health' 200
printf '{"a":1}\n{"a":2}\n{"a":3}\n' | curl -s -m 5 -o /dev/null \
	-H Content-Type:application/x-ndjson --data-binary @- $H/t.small
check 'metrics: promtool check metrics accepts /metrics' \
	'curl -s -m 5 $M/metrics >"$T/scrape" && promtool check metrics <"$T/scrape"'
check 'metrics: the lkit_ names of the file, with program and pipeline' \
	'grep -x "lkit_events_out_total{program=\"lrecv\",pipeline=\"agg\"} 3" "$T/scrape" &&
	grep -x "lkit_connections_open{program=\"lrecv\",pipeline=\"agg\"} 1" "$T/scrape" &&
	grep -q "^lkit_acks_total{" "$T/scrape" &&
	grep -q "^lkit_bad_requests_total{" "$T/scrape" &&
	grep -q "^lkit_connections_refused_total{" "$T/scrape" &&
	grep -x "lkit_healthy{program=\"lrecv\",pipeline=\"agg\"} 1" "$T/scrape"'
check 'metrics: the older lrecv_ names are still served' \
	'grep -x "lrecv_events_total 3" "$T/scrape"'
check 'metrics: /api/plugins.json still counts the events' \
	'curl -s -m 5 $M/api/plugins.json | $PY -c "import json,sys; assert json.load(sys.stdin)[\"plugins\"][0][\"emit_records\"] == 3"'
check '--metrics-file: written while lrecv runs, accepted by promtool' \
	'wait_for "test \"\$(val $T/m.prom lkit_events_out_total)\" = 3" 50 &&
	promtool check metrics <"$T/m.prom"'

# stop the reader, then send more than lrecv holds for stdout (8M)
kill -STOP $cp
$PY -c 'import sys
line = "{\"m\":\"" + "x" * 1000 + "\"}\n"
sys.stdout.write(line * 10000)' >"$T/big"
curl -s -m 60 -o /dev/null -H Content-Type:application/x-ndjson \
	--data-binary @"$T/big" $H/t.big &
bp=$!
check 'health: 503 while stdout takes nothing' \
	'wait_for "test \"\$(code $M/api/v1/health)\" = 503" 100 &&
	cat "$T/body"; grep -q "stdout" "$T/body"'
check 'metrics: served while stalled, promtool accepts them, lkit_healthy 0' \
	'curl -s -m 5 $M/metrics >"$T/stalled" &&
	promtool check metrics <"$T/stalled" &&
	grep -x "lkit_healthy{program=\"lrecv\",pipeline=\"agg\"} 0" "$T/stalled"'
check '--metrics-file says it too: lkit_healthy 0' \
	'wait_for "test \"\$(val $T/m.prom lkit_healthy)\" = 0" 50'
kill -CONT $cp
check 'health: 200 again once stdout drains' \
	'wait_for "test \"\$(code $M/api/v1/health)\" = 200" 100'
wait $bp
check 'every event got through' \
	'wait_for "test \"\$(val $T/m.prom lkit_events_out_total)\" = 10003" 100'
check_out 'another path is 404' 'code $M/api/v1/nothing' 404

kill $pid
wait $pid
rc=$?
wait $cp
check 'lrecv ends with status 0' 'cat "$T/err"; test $rc = 0'
check 'the file at exit holds the final counts' \
	'promtool check metrics <"$T/m.prom" &&
	test "$(val $T/m.prom lkit_events_out_total)" = 10003 &&
	test "$(val $T/m.prom lkit_connections_open)" = 0'
