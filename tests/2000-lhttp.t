#!/bin/sh
# lhttp: the bodies it sends (ndjson, json, msgpack), headers, auth, gzip,
# batching limits, keep-alive, workers, flushing, signals, usage errors;
# the server is tests/data/lhttp-server.py (http.server, not lkit's code)
. "${0%/*}/lib.sh"
. "$DATA/lhttp-lib.sh"
plan 48

J1='{"i":1,"message":"{\"j\": 1}"}'
J2='{"i":2,"message":"{\"j\": 2}"}'
J3='{"i":3,"message":"{\"j\": 3}"}'

srv_start a
check_exit "ndjson: exit 0" 0 "ev e3 | $LH $U/in"
check_out "one POST to the URL's path" "show a methods; show a paths" "POST
/in"
check_out "the records, one JSON line each" "show a ndjson" "$J1
$J2
$J3"
check_out "Content-Type: application/x-ndjson" "show a header:content-type" \
	application/x-ndjson
check_out "a User-Agent, no Expect: 100-continue" \
	"show a header:user-agent | cut -d' ' -f2; show a header:expect" \
	"(lkit)
-"
srv_stop a

srv_start b
check_exit "--format json: exit 0" 0 "ev e2 | $LH -f json $U/"
check_out "json: one array per request" "show b json" "[$J1,$J2]"
check_out "json: Content-Type: application/json" "show b header:content-type" \
	application/json
srv_stop b

srv_start c
check_exit "--format msgpack: exit 0" 0 "ev e2 | $LH --format msgpack $U/"
check_out "msgpack: the records, maps back to back" "show c msgpack" "$J1
$J2"
check_out "msgpack: Content-Type: application/x-msgpack" \
	"show c header:content-type" application/x-msgpack
srv_stop c

srv_start d
ev e1 | $LH -H 'X-A: 1' --header 'X-Trace-Id:  two words' \
	-H 'Content-Type: text/plain' --method PUT $U/h
check_out "--header: each sent" "show d header:x-a; show d header:x-trace-id" \
	"1
two words"
check_out "--header Content-Type replaces ours" "show d header:content-type" \
	text/plain
check_out "--method PUT" "show d methods" PUT
srv_stop d

srv_start e --user u:p4ss
check_exit "--user: the server takes it, exit 0" 0 "ev e1 | $LH -u u:p4ss $U/"
check_exit "a wrong password: 401, exit 4" 4 \
	"ev e2 | $LH -u u:bad $U/ 2>'$T/e.err'"
check_out "401 is not retried" "show e statuses" "200 401"
check "it says so" "grep -q 'HTTP 401, 2 events rejected' '$T/e.err' &&
	grep -q '2 of 2 events not delivered' '$T/e.err'"
srv_stop e

srv_start f
ev e1 | $LH --bearer s3cr3t $U/
check_out "--bearer: Authorization: Bearer" "show f header:authorization" \
	"Bearer s3cr3t"
srv_stop f

# --bearer-file, read again on SIGHUP
srv_start g
printf 'tok-1\n' >"$T/tok"
mkfifo "$T/in1"
lhttp --bearer-file "$T/tok" $U/ <"$T/in1" 2>"$T/g.err" &
lp=$!
exec 3>"$T/in1"
ev e1 >&3
wait_for "test \"\$(show g requests)\" = 1"
printf 'tok-2\n' >"$T/tok"
kill -HUP $lp
ev --first 2 e1 >&3
exec 3>&-
reap $lp
check_out "--bearer-file: the token, then the new one after SIGHUP" \
	"show g header:authorization" "Bearer tok-1
Bearer tok-2"
srv_stop g

srv_start h
check_exit "--compress gzip: exit 0" 0 "ev e3 | $LH --compress gzip $U/"
check_out "gzip: Content-Encoding: gzip, the body gzip'd" \
	"show h header:content-encoding; show h gzip" "gzip
1"
check_out "gzip: the records inside" "show h ndjson" "$J1
$J2
$J3"
srv_stop h

srv_start i
ev e1 | $LH --tag-key tag --time-key ts --utc \
	--time-format '%Y-%m-%dT%H:%M:%S.%LZ' $U/
ev e1 | $LH --time-key ts --time-type unixtime $U/
ev e1 | $LH --time-key ts $U/
ev e1 | lreform tag=old | $LH --tag-key tag $U/
check_out "--time-key, --tag-key, --time-format, --time-type (as lout)" \
	"show i ndjson" '{"i":1,"message":"{\"j\": 1}","tag":"t","ts":"2023-11-14T22:13:21.000Z"}
{"i":1,"message":"{\"j\": 1}","ts":1700000001}
{"i":1,"message":"{\"j\": 1}","ts":1700000001.0}
{"i":1,"message":"{\"j\": 1}","tag":"t"}'
srv_stop i

# batching limits; keep-alive: every request on one connection
srv_start j
ev e5 | $LH --batch-records 2 $U/
check_out "--batch-records 2: requests of 2, 2 and 1" "show j sizes" "2 2 1"
check_out "keep-alive: the three requests on one connection" "show j conns" 1
srv_stop j
srv_start k
ev e5 | $LH --batch-size 70 $U/
ev e2 | $LH --batch-size 10 $U/
check_out "--batch-size 70 (31 bytes an event): 2, 2, 1; one bigger goes alone" \
	"show k sizes" "2 2 1 1 1"
check_out "every event sent once" "show k ndjson | wc -l" 7
srv_stop k

# --workers: requests in flight at once, each on its connection
srv_start l --delay-ms 500
check_exit "--workers 3: exit 0" 0 "ev e6 | $LH --workers 3 --batch-records 1 $U/"
check_out "--workers 3: three requests at once, six in all" \
	"show l inflight; show l requests" "3
6"
srv_stop l

# stdin idle and no request in flight: what is held goes at once
srv_start m
mkfifo "$T/in2"
lhttp --flush-interval 1h $U/ <"$T/in2" 2>"$T/m.err" &
lp=$!
exec 3>"$T/in2"
ev e2 >&3
check "stdin idle: sent while stdin stays open (--flush-interval 1h)" \
	"wait_for \"test \\\"\\\$(show m requests)\\\" = 1\""
ev --first 3 e1 >&3
wait_for "test \"\$(show m requests)\" = 2"
kill -TERM $lp
reap $lp
rc=$?
exec 3>&-
check_out "SIGTERM: exit 0, every event delivered" \
	"echo $rc; show m sizes" "0
2 1"
srv_stop m

srv_start n
check_err "--stats: events in, out, accepted, requests" 0 \
	"ev e3 | $LH --stats $U/" \
	"events in 3, out 3, dropped 0, bytes in"
check "--stats: accepted 3, dead-lettered 0, rejected 0, given up 0, requests 1" \
	"grep -q 'accepted 3, dead-lettered 0, rejected 0, given up 0, requests 1, failures 0' '$T/.err'"
printf '\301' >"$T/bad"
check_err "bad input: exit 3, said" 3 "{ ev e2; cat '$T/bad'; } | $LH $U/" \
	"stdin: byte"
check_out "the events before it were delivered" "show n requests; show n sizes" \
	"2
3 2"
srv_stop n

check_err "no URL: exit 2" 2 "lhttp </dev/null" "lhttp: no URL given"
check_err "ftp:// URL: exit 2" 2 "lhttp ftp://x/ </dev/null" "bad URL 'ftp://x/'"
check_err "two URLs: exit 2" 2 "lhttp http://a/ http://b/ </dev/null" \
	"unexpected operand 'http://b/'"
check_err "an unknown format: exit 2" 2 "lhttp -f xml http://a/ </dev/null" \
	"bad value 'xml' for --format: ndjson, json, msgpack or elasticsearch"
check_err "an unknown method: exit 2, the choices named" 2 \
	"lhttp --method get http://a/ </dev/null" \
	"bad value 'get' for --method: POST or PUT"
check_err "--index without --format elasticsearch: exit 2" 2 \
	"lhttp --index i http://a/ </dev/null" "need --format elasticsearch"
check_err "--tls-ca with http://: exit 2" 2 \
	"lhttp --tls-ca /etc/hostname http://a/ </dev/null" "need an https:// URL"
check_err "--user without a colon: exit 2" 2 "lhttp -u bob http://a/ </dev/null" \
	"want USER:PASSWORD"
check_err "--user and --bearer: exit 2" 2 \
	"lhttp -u a:b --bearer t http://a/ </dev/null" "exclude each other"
check_err "--workers 0: exit 2" 2 "lhttp --workers 0 http://a/ </dev/null" \
	"bad number '0' for --workers"
check_err "a --header without a colon: exit 2" 2 \
	"lhttp -H NoColon http://a/ </dev/null" "bad --header 'NoColon'"
check_err "a --bearer-file that cannot be read: exit 2" 2 \
	"lhttp --bearer-file '$T/none' http://a/ </dev/null" \
	"unable to read --bearer-file"
