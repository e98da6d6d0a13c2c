#!/bin/sh
# lrecv --http: --http-204, ndjson= form fields, --add-remote-addr with
# --trust-forwarded-for, --cors-allow-credentials (Fluentd in_http's
# use_204_response, ndjson, X-Forwarded-For, cors_allow_credentials)
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 14

# srv NAME ARGS...: an lrecv with --http; $H is its port
srv() {
	_s=$1
	shift
	lrecv --http 127.0.0.1:0 --port-file "$T/$_s.port" "$@" \
		>"$T/$_s.out" 2>"$T/$_s.err" &
	echo $! >"$T/$_s.pid"
	wait_for "test -s '$T/$_s.port'" || echo "# lrecv $_s did not start"
	H=$(sed -n 's/^http //p' "$T/$_s.port")
}
halt() { kill "$(cat "$T/$1.pid")"; wait "$(cat "$T/$1.pid")"; }
code() { curl -s -o /dev/null -w '%{http_code}\n' "$@"; }
heads() { curl -s -D - -o /dev/null "$@" | tr -d '\r'; }

srv a --http-204 --add-remote-addr
check_out '--http-204: 204 No Content for events' \
	'code -H "Content-Type: application/json" -d "{\"k\":1}" http://127.0.0.1:$H/t.a' 204
check_out '--http-204: with no body' \
	'curl -s -H "Content-Type: application/json" -d "{\"k\":2}" http://127.0.0.1:$H/t.a | wc -c | tr -d " "' 0
check_out 'errors keep their status and text' \
	'curl -s -H "Content-Type: application/json" -d "{" http://127.0.0.1:$H/t.a | cut -c1-15' \
	'400 bad JSON at'
check_out 'ndjson= in an urlencoded form: each line a record' \
	'code --data-urlencode "ndjson={\"n\":1}
{\"n\":2}" http://127.0.0.1:$H/t.nd' 204
check_out 'ndjson= in a multipart form' \
	'code -F "ndjson={\"n\":3}
{\"n\":4}" http://127.0.0.1:$H/t.nd' 204
check_out 'ndjson= in the query string' \
	'code -X POST "http://127.0.0.1:$H/t.nd?ndjson=%7B%22n%22%3A5%7D%0A%7B%22n%22%3A6%7D"' 204
check_out 'without --trust-forwarded-for X-Forwarded-For is ignored' \
	'code -H "X-Forwarded-For: 203.0.113.9" -H "Content-Type: application/json" -d "{\"x\":1}" http://127.0.0.1:$H/t.xff' 204
halt a
check_same 'the records, REMOTE_ADDR the peer' \
	'$PY "$FWD" decode <"$T/a.out" | cut -f2- | grep -v "k.:2"' \
	'printf "%s\t%s\n" t.a "{\"k\":1,\"REMOTE_ADDR\":\"127.0.0.1\"}" \
	  t.nd "{\"n\":1,\"REMOTE_ADDR\":\"127.0.0.1\"}" t.nd "{\"n\":2,\"REMOTE_ADDR\":\"127.0.0.1\"}" \
	  t.nd "{\"n\":3,\"REMOTE_ADDR\":\"127.0.0.1\"}" t.nd "{\"n\":4,\"REMOTE_ADDR\":\"127.0.0.1\"}" \
	  t.nd "{\"n\":5,\"REMOTE_ADDR\":\"127.0.0.1\"}" t.nd "{\"n\":6,\"REMOTE_ADDR\":\"127.0.0.1\"}" \
	  t.xff "{\"x\":1,\"REMOTE_ADDR\":\"127.0.0.1\"}"'

srv b --add-remote-addr --trust-forwarded-for
check_out '--trust-forwarded-for: 200 by default' \
	'code -H "X-Forwarded-For:  203.0.113.9 , 10.0.0.1" -H "Content-Type: application/json" -d "{\"x\":2}" http://127.0.0.1:$H/t.xff' 200
code -H "Content-Type: application/json" -d '{"x":3}' http://127.0.0.1:$H/t.xff >/dev/null
halt b
check_same '--trust-forwarded-for: the first X-Forwarded-For address, else the peer' \
	'$PY "$FWD" decode <"$T/b.out" | cut -f3-' \
	'printf "%s\n" "{\"x\":2,\"REMOTE_ADDR\":\"203.0.113.9\"}" "{\"x\":3,\"REMOTE_ADDR\":\"127.0.0.1\"}"'

srv c --cors-allow-origins https://app.example --cors-allow-credentials
check_same '--cors-allow-credentials: the origin echoed, credentials true' \
	'heads -H "Origin: https://app.example" -H "Content-Type: application/json" -d "{\"c\":1}" http://127.0.0.1:$H/t.c | grep -i "^access-control"' \
	'printf "%s\n" "Access-Control-Allow-Origin: https://app.example" "Access-Control-Allow-Credentials: true"'
check_same 'and on a preflight' \
	'heads -X OPTIONS -H "Origin: https://app.example" -H "Access-Control-Request-Method: POST" http://127.0.0.1:$H/t.c | grep -i "^access-control-allow-\(origin\|credentials\)"' \
	'printf "%s\n" "Access-Control-Allow-Origin: https://app.example" "Access-Control-Allow-Credentials: true"'
halt c
check_err '--cors-allow-credentials with origin *: usage error (never *)' 2 \
	'lrecv --http 127.0.0.1:0 --cors-allow-origins "*" --cors-allow-credentials' \
	'--cors-allow-credentials needs --cors-allow-origins with no *'
check_err '--trust-forwarded-for alone: usage error' 2 \
	'lrecv --http 127.0.0.1:0 --trust-forwarded-for' \
	'--trust-forwarded-for needs --add-remote-addr'
