#!/bin/sh
# lrecv --http (Fluentd in_http) and --metrics, driven by curl
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 20
if ! command -v curl >/dev/null; then
	i=0
	while [ $i -lt 20 ]; do i=$((i + 1)); skip "http $i" "curl not installed"; done
	exit 0
fi

lrecv --http 127.0.0.1:0 --metrics 127.0.0.1:0 --port-file "$T/port" \
	--body-size-limit 4k --cors-allow-origins https://ok.example \
	--add-http-headers --add-remote-addr >"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'"
H=http://127.0.0.1:$(sed -n 's/^http //p' "$T/port")
M=http://127.0.0.1:$(sed -n 's/^metrics //p' "$T/port")
# code ARGS...: curl's HTTP status
code() { curl -s -o "$T/body" -w '%{http_code}\n' "$@"; }
JS='-H Content-Type:application/json'

check_out 'application/json object: 200' 'code $JS -d "{\"a\":1}" $H/t.json' 200
check_out 'a JSON array of records: 200' \
	'code $JS -d "[{\"n\":1},{\"n\":2}]" $H/t.array' 200
check_out 'application/x-ndjson: 200' \
	'printf "{\"l\":1}\n{\"l\":2}\n{\"l\":3}\n" | code -H Content-Type:application/x-ndjson --data-binary @- $H/t.ndjson' 200
$PY -c 'import msgpack, sys; sys.stdout.buffer.write(msgpack.packb([{"m": 1}, {"m": 2}]))' >"$T/mp"
check_out 'application/msgpack: 200' \
	'code -H Content-Type:application/msgpack --data-binary @"$T/mp" $H/t.msgpack' 200
check_out 'form json= parameter, time= query: 200' \
	'code --data-urlencode "json={\"f\":1}" "$H/t/form?time=1502880723.5"' 200
MP=$($PY -c 'import msgpack, urllib.parse; print(urllib.parse.quote(msgpack.packb({"fm": 1})))')
check_out 'form msgpack= parameter: 200' 'code -d "msgpack=$MP" $H/t.formmp' 200
check_out 'multipart json part: 200' 'code -F "json={\"mp\":1}" $H/t.multi' 200
printf '{"g":1,"time":1502880724}' | gzip >"$T/gz"
check_out 'gzip body, record time field: 200' \
	'code $JS -H Content-Encoding:gzip --data-binary @"$T/gz" $H/t.gzip' 200
check_out 'bad JSON: 400' 'code $JS -d "{\"a\":" $H/t.bad' 400
check 'and the body says what is wrong' 'grep -q "400 bad JSON at byte" "$T/body"'
check_out 'a string, not a record: 400' 'code $JS -d "\"x\"" $H/t.bad' 400
head -c 5000 /dev/zero | tr '\0' x | sed 's/.*/{"big":"&"}/' >"$T/big"
check_out 'over --body-size-limit: 413' \
	'code $JS --data-binary @"$T/big" $H/t.big' 413
check 'keep-alive: two requests on one connection' \
	'curl -sv $JS -d "{\"k\":1}" $H/t.keep $H/t.keep 2>&1 | grep -q "Re-using existing connection"'
check_out 'CORS: a listed origin is answered' \
	'curl -s -D - -o /dev/null -H Origin:https://ok.example $JS -d "{\"c\":1}" $H/t.cors | tr -d "\r" | grep -i "^access-control-allow-origin"' \
	'Access-Control-Allow-Origin: https://ok.example'
check_out 'CORS: another origin gets 403' \
	'code -H Origin:https://evil.example $JS -d "{\"c\":2}" $H/t.cors' 403
check 'CORS: preflight OPTIONS allows POST' \
	'curl -s -D - -o /dev/null -X OPTIONS -H Origin:https://ok.example $H/t.cors | grep -qi "access-control-allow-methods: POST"'
check 'metrics: Prometheus text counts the events' \
	'curl -s $M/metrics | grep -qx "lrecv_events_total 15"'
check 'metrics: /api/plugins.json is JSON with emit_records' \
	'curl -s $M/api/plugins.json | $PY -c "import json,sys; assert json.load(sys.stdin)[\"plugins\"][0][\"emit_records\"] == 15"'
kill $pid
wait $pid
$PY "$FWD" decode <"$T/out" | cut -f2- | sed 's/,"HTTP_.*//; s/}$//' >"$T/ev"
check_same 'every record, with its tag' 'cut -f1 "$T/ev" | sort | uniq -c | tr -s " "' \
	'printf " %s\n" "2 t.array" "1 t.cors" "1 t.form" "1 t.formmp" "1 t.gzip" "1 t.json" "2 t.keep" "2 t.msgpack" "1 t.multi" "3 t.ndjson"'
check 'times: time= query and the record time field (removed)' \
	'$PY "$FWD" decode <"$T/out" | grep -q "^1502880723.500000000	t.form	{\"f\":1," &&
	 $PY "$FWD" decode <"$T/out" | grep -q "^1502880724.000000000	t.gzip	{\"g\":1,\"HTTP_"'
