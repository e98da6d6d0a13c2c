#!/bin/sh
# lhttp --format elasticsearch: _bulk action lines, --index templates,
# --id-key, --pipeline; a bulk answer read item by item as the bulk API
# documents it: a 429 item is sent again alone, a 400 (mapping) item goes
# to --dead-letter with its reason, never retried; every event counted
. "${0%/*}/lib.sh"
. "$DATA/lhttp-lib.sh"
plan 27

ES="$LH -f elasticsearch --retry-wait 20ms"

srv_start a --es
check_exit "bulk: exit 0" 0 "ev e2 | $ES $U/_bulk"
check_out "an action line, then the document" "show a bodies" \
	'{"index":{}}
{"i":1,"message":"{\"j\": 1}"}
{"index":{}}
{"i":2,"message":"{\"j\": 2}"}
'
check_out "Content-Type: application/x-ndjson" "show a header:content-type" \
	application/x-ndjson
ev --tag app.web e2 | $ES --index 'logs-${tag_parts[1]}-%Y.%m.%d' \
	--id-key i --pipeline geo $U/_bulk
check_out "--index (strftime, \${tag_parts[1]}), --id-key, --pipeline" \
	"show a es-actions | tail -n 2" \
	'{"index":{"_id":"1","_index":"logs-web-2023.11.14","pipeline":"geo"}}
{"index":{"_id":"2","_index":"logs-web-2023.11.14","pipeline":"geo"}}'
ev e1 | lreform kind=audit | $ES --index '${tag}.${record["kind"]}' \
	--id-key '$.missing' $U/_bulk
check_out "--index \${tag}, \${record[\"kind\"]}; no field, no _id" \
	"show a es-actions | tail -n 1" '{"index":{"_index":"t.audit"}}'
check_err "an unknown placeholder: exit 2" 2 \
	"$ES --index 'x-\${foo bar}' $U/_bulk </dev/null" \
	"bad placeholder '\${foo bar}' in --index"
srv_stop a

# the documented partial failure: item 3 rejected once with 429
# (es_rejected_execution_exception), item 5 with 400
# (mapper_parsing_exception), the others 201
srv_start b --es --es-fail 3:429:1 --es-fail 5:400
check_exit "partial failure, --dead-letter: exit 0" 0 \
	"ev e8 | $ES --stats --dead-letter '$T/dl' $U/_bulk 2>'$T/b.err'"
check_out "two requests: all eight, then item 3 alone" "show b es-i" \
	"1 2 3 4 5 6 7 8
3"
check "--stats: 7 accepted, 1 dead-lettered, none lost" \
	"grep -q 'events in 8, out 7, dropped 0,' '$T/b.err' &&
	grep -q 'accepted 7, dead-lettered 1, rejected 0, given up 0, requests 2, failures 1' '$T/b.err'"
check "it says what happened" \
	"grep -q '1 of 8 items rejected, written to $T/dl' '$T/b.err' &&
	grep -q '1 of 8 items failed (429 or 5xx); 1 events, retry in' '$T/b.err'"
check_out "the dead letter: item 5, with the status and the reason" \
	"cat '$T'/dl/lhttp-*.lkit | lout -f single_value --key i; cat '$T'/dl/lhttp-*.lkit | lreform --jq '.lhttp_error | {status, reason}' | lout -f json" \
	'5
{"status":400,"reason":"mapper_parsing_exception: failed to parse field [i] of type [long] in document with id '"'doc5'"'"}'
check_out "and the server's error object whole" \
	"cat '$T'/dl/lhttp-*.lkit | lreform --jq '.lhttp_error.error.caused_by' | lout -f json" \
	'{"type":"illegal_argument_exception","reason":"For input string: \"x\""}'
check_out "the record is kept as it was (lreform -d lhttp_error)" \
	"cat '$T'/dl/lhttp-*.lkit | lreform -d lhttp_error | lout -f json" \
	'{"i":5,"message":"{\"j\": 5}"}'
srv_stop b

# the same without --dead-letter: the 400 item is counted, exit 4
srv_start c --es --es-fail 3:429:1 --es-fail 5:400
check_err "no --dead-letter: exit 4, 1 of 8 not delivered" 4 \
	"ev e8 | $ES --stats $U/_bulk" "1 of 8 events not delivered"
check "--stats: accepted 7, rejected 1" \
	"grep -q 'accepted 7, dead-lettered 0, rejected 1, given up 0' '$T/.err'"
check_out "the 400 item was not sent again" "show c es-i" "1 2 3 4 5 6 7 8
3"
srv_stop c

# an item that is 429 every time: given up when the retries run out
srv_start d --es --es-fail 2:503
check_err "an item 503 for ever, --retry-max-times 2: exit 4" 4 \
	"ev e3 | $ES --stats --retry-max-times 2 $U/_bulk" \
	"1 of 3 events not delivered"
check "--stats: accepted 2, given up 1" \
	"grep -q 'accepted 2, dead-lettered 0, rejected 0, given up 1' '$T/.err'"
check_out "item 2 alone, twice more" "show d es-i" "1 2 3
2
2"
srv_stop d

# a 2xx answer that is not a bulk answer: the whole batch again
srv_start e --es --es-garbage 1
check_exit "an answer that is not JSON: sent again, exit 0" 0 \
	"ev e3 | $ES $U/_bulk 2>'$T/e.err'"
check_out "the whole batch twice" "show e es-i" "1 2 3
1 2 3"
check "said" "grep -q 'the response is not JSON' '$T/e.err'"
srv_stop e

# a whole request refused (400: the bulk body itself): to --dead-letter
srv_start f --status 400 --es
check_exit "the request refused with 400: exit 0 with --dead-letter" 0 \
	"ev e2 | $ES --dead-letter '$T/dl2' $U/_bulk"
check_out "both events in the dead letter, status 400" \
	"cat '$T'/dl2/lhttp-*.lkit | lreform --jq '{i, s: .lhttp_error.status}' | lout -f json" \
	'{"i":1,"s":400}
{"i":2,"s":400}'
srv_stop f

# items counted whatever the batching
srv_start g --es --es-fail 4:429:2 --es-fail 9:409
check_err "batches of 3, a 429 twice and a 409: every event counted" 0 \
	"ev e10 | $ES --batch-records 3 --stats --dead-letter '$T/dl3' $U/_bulk" \
	"accepted 9, dead-lettered 1, rejected 0, given up 0, requests 6, failures 2"
check_out "the requests" "show g es-i" "1 2 3
4 5 6
4
4
7 8 9
10"
check_out "the 409 item dead-lettered" \
	"cat '$T'/dl3/lhttp-*.lkit | lout -f single_value --key i" 9
srv_stop g
