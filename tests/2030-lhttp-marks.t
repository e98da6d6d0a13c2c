#!/bin/sh
# lhttp is a sink of end-to-end marks: a mark goes back to its producer
# once the server accepted every event before it (2xx; for a bulk request
# every item accepted or written to --dead-letter), never when one was
# given up or rejected with nowhere to go; marks never go on the wire.
# The producer is tests/data/marks.py (python3-msgpack, not lkit's code).
. "${0%/*}/lib.sh"
. "$DATA/lhttp-lib.sh"
plan 18

R="--retry-wait 20ms"

srv_start a
check_exit "accepted: exit 0" 0 \
	"$M run --report '$T/r1' e3 m w e2 m -- $LH $R $U/"
check_out "both marks back, the first before the input ended" \
	"cat '$T/r1'" "returned 1 2"
check_out "the server got the events only" "show a ndjson | wc -l" 5
check_err "--stats counts the marks" 0 \
	"$M run --report '$T/r2' e2 m e2 m -- $LH $R --stats $U/" \
	"marks in 2, returned"
check_out "a mark with nothing before it comes back too" \
	"$M run --report '$T/r3' m w e1 m -- $LH $R $U/ && cat '$T/r3'" \
	"returned 1 2"
srv_stop a

# retried, then accepted: back once accepted
srv_start b --status 503,503,200
check_out "503, 503, 200: the mark back after the 200" \
	"$M run --report '$T/r4' e3 m -- $LH $R $U/ && cat '$T/r4'" \
	"returned 1"
check_out "three requests" "show b statuses" "503 503 200"
srv_stop b

# never accepted: no mark back
srv_start c --status 503
check_exit "503 for ever: exit 4" 4 \
	"$M run --report '$T/r5' e3 m -- $LH $R --retry-max-times 1 $U/"
check_out "no mark back" "cat '$T/r5'" "returned none"
srv_stop c
srv_start d --status 400
check_exit "400 with no --dead-letter: exit 4" 4 \
	"$M run --report '$T/r6' e3 m -- $LH $R $U/"
check_out "no mark back" "cat '$T/r6'" "returned none"
check_exit "400 with --dead-letter: exit 0" 0 \
	"$M run --report '$T/r7' e3 m -- $LH $R --dead-letter '$T/dl' $U/"
check_out "the mark back: every event is in the dead letter" "cat '$T/r7'" \
	"returned 1"
srv_stop d

# a batch given up stops its marks and the later ones, not the earlier
srv_start e --status 200,503
check_exit "the first batch accepted, the second never: exit 4" 4 \
	"$M run --report '$T/r8' e2 m e2 m -- $LH $R --retry-max-times 1 $U/"
check_out "only the first mark back" "cat '$T/r8'" "returned 1"
srv_stop e

# bulk: the mark waits for the 429 item, a 400 item dead-lettered
srv_start f --es --es-fail 2:429:2 --es-fail 3:400
check_out "bulk: back once item 2 went through and item 3 was dead-lettered" \
	"$M run --report '$T/r9' e4 m -- $LH $R -f elasticsearch \
	 --dead-letter '$T/dl2' $U/_bulk && cat '$T/r9'" "returned 1"
check_out "the requests" "show f es-i" "1 2 3 4
2
2"
srv_stop f
srv_start g --es --es-fail 3:400
check_out "bulk, a 400 item and no --dead-letter: no mark back" \
	"$M run --report '$T/r10' e4 m -- $LH $R -f elasticsearch $U/_bulk;
	 cat '$T/r10'" "returned none"
srv_stop g
