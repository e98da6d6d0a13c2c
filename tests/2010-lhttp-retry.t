#!/bin/sh
# lhttp retries 429, 5xx and connection errors with the --retry-* options
# (as lforward does), never another 4xx; a rejected batch goes to
# --dead-letter; when the retries run out it exits 4 with the count
. "${0%/*}/lib.sh"
. "$DATA/lhttp-lib.sh"
plan 27

RW="--retry-wait 20ms"

srv_start a --status 503,503,200
check_exit "503, 503, then 200: exit 0" 0 "ev e3 | $LH $RW $U/ 2>'$T/a.err'"
check_out "three requests: 503 503 200" "show a statuses" "503 503 200"
check_out "each the whole batch" "show a sizes" "3 3 3"
check "each failure said, with the wait" \
	"test \$(grep -c 'HTTP 503: {\"status\":503}; 3 events, retry in' '$T/a.err') = 2"
srv_stop a

srv_start b --status 429,500,502,200
check_err "429, 500, 502, then 200: exit 0, --stats counts the failures" 0 \
	"ev e2 | $LH $RW --stats $U/" \
	"accepted 2, dead-lettered 0, rejected 0, given up 0, requests 1, failures 3"
check_out "four requests" "show b statuses" "429 500 502 200"
srv_stop b

# the wait doubles up to --retry-max-interval
srv_start c --status 503,503,503,503,200
check_exit "--retry-max-interval: exit 0" 0 \
	"ev e1 | $LH --retry-wait 20ms --retry-max-interval 50ms $U/ 2>'$T/c.err'"
check_out "the waits: 20, 40, 50, 50 ms" \
	"sed -n 's/.*retry in \([0-9]*\) ms/\1/p' '$T/c.err' | paste -sd' '" \
	"20 40 50 50"
srv_stop c

srv_start d --status 400
check_err "400: not retried, exit 4 with the count" 4 \
	"ev e3 | $LH $RW --stats $U/" "3 of 3 events not delivered"
check "--stats: rejected 3" "grep -q 'rejected 3, given up 0' '$T/.err'"
check_out "one request" "show d requests" 1
srv_stop d

srv_start e --status 400
check_exit "400 with --dead-letter: exit 0" 0 \
	"ev e3 | $LH $RW --dead-letter '$T/dl' $U/ 2>'$T/e.err'"
check "it says where they went" \
	"grep -q 'HTTP 400, 3 events rejected and written to $T/dl' '$T/e.err'"
check_out "the dead letters: the events, with the status and the body" \
	"cat '$T'/dl/lhttp-*.lkit | lout -f json" \
	'{"i":1,"message":"{\"j\": 1}","lhttp_error":{"status":400,"reason":"{\"status\":400}"}}
{"i":2,"message":"{\"j\": 2}","lhttp_error":{"status":400,"reason":"{\"status\":400}"}}
{"i":3,"message":"{\"j\": 3}","lhttp_error":{"status":400,"reason":"{\"status\":400}"}}'
check_out "tags and times kept" "cat '$T'/dl/lhttp-*.lkit | lout | cut -d' ' -f1-4" \
	"2023-11-14 22:13:21.000000000 +0000 t:
2023-11-14 22:13:22.000000000 +0000 t:
2023-11-14 22:13:23.000000000 +0000 t:"
check_out "one request" "show e requests" 1
check "--dead-letter a/b: the directory and its parents are made" \
	"ev e3 | $LH $RW --dead-letter '$T/dl2/a/b' $U/ 2>/dev/null &&
	test \$(cat '$T'/dl2/a/b/lhttp-*.lkit | lout | wc -l) = 3"
srv_stop e

# one batch of three rejected: the others delivered, the count says 2
srv_start f --status 200,404,200
check_err "batches of 2: 200, 404, 200: exit 4, 2 of 5 not delivered" 4 \
	"ev e5 | $LH --batch-records 2 $U/" "2 of 5 events not delivered"
srv_stop f

srv_start g --status 503
check_err "503 for ever, --retry-max-times 2: exit 4 with the count" 4 \
	"ev e4 | $LH $RW --retry-max-times 2 --stats $U/" \
	"4 of 4 events not delivered"
check "it says why" "grep -q 'giving up 4 events: retries exhausted' '$T/.err'"
check "--stats: given up 4, failures 3" \
	"grep -q 'given up 4, requests 0, failures 3' '$T/.err'"
check_out "three requests" "show g requests" 3
check_err "--retry-timeout 200ms: exit 4" 4 \
	"ev e2 | $LH $RW --retry-timeout 200ms $U/" "2 of 2 events not delivered"
srv_stop g

srv_start s --delay-ms 3000
check_err "an answer slower than --timeout: a failure, exit 4" 4 \
	"ev e1 | $LH --timeout 300ms --retry-max-times 0 $U/" "timed out"
srv_stop s

check_err "nobody listening: exit 4, said" 4 \
	"ev e2 | $LH $RW --retry-max-times 1 http://127.0.0.1:1/" \
	"unable to send: "
check "and the count" "grep -q '2 of 2 events not delivered' '$T/.err'"

# a server that comes back before the retries run out gets everything
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkfifo "$T/in"
$LH --retry-wait 50ms --retry-max-interval 50ms --retry-max-times 400 \
	http://127.0.0.1:$port/ <"$T/in" 2>"$T/h.err" &
lp=$!
exec 3>"$T/in"
ev e3 >&3
exec 3>&-
wait_for "grep -q 'unable to send' '$T/h.err'"
rm -f "$T/h.port"
$PY "$SRV" serve "$T/h.port" "$T/h.log" --port $port >/dev/null 2>&1 &
echo $! >"$T/h.pid"
wait $lp
rc=$?
check_out "a server back within the retries: exit 0, all delivered" \
	"echo $rc; show h sizes" "0
3"
srv_stop h
