#!/bin/sh
# lbuffer killed with -9 at 20 random points of a 1,000,000-event run and
# restarted each time: every event is delivered at least once, through
# lforward --ack to lrecv, and the duplicates stay within the chunks that
# were in flight at the kills.
#
# The input resumes as a producer with a position file would: after each
# kill, at the event after the highest one stored in the buffer or already
# delivered (the buffer keeps its input in order, so what it stored is a
# prefix).  Events it had read but not yet stored die with it, as bytes in
# a pipe do, and are sent again.  LBUFFER_CRASH_EVENTS sets the count.
. "${0%/*}/lib.sh"
plan 7
N=${LBUFFER_CRASH_EVENTS:-1000000}
R=2000          # events per chunk
KILLS=20

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "{\"seq\":\"%07d\"}\n", i }' | lcat t >"$T/ev.bin"
S=$(($(wc -c <"$T/ev.bin") / N))
check "$N events of $S bytes each" '[ $((S * N)) = "$(wc -c <"$T/ev.bin")" ]'

lrecv --listen 127.0.0.1:0 --port-file "$T/port" >"$T/recv.out" \
	2>"$T/recv.err" &
rpid=$!
wait_for "test -s '$T/port'" || echo "# lrecv did not start"
port=$(cat "$T/port")
: >"$T/pids"
OUT="echo \$\$ >>'$T/pids'; exec lforward --heartbeat none --ack \
	--retry-max-times 0 127.0.0.1:$port"
# a small --total-limit-size: input paced by delivery, so kills also land
# while blocks are written
LB="lbuffer --dir $T/buf --chunk-limit-records $R --total-limit-size 256k
	--flush-interval 50ms --retry-wait 50ms --retry-max-interval 200ms
	--retry-forever"

# seqs FILE...: the seq of every event in the streams, one a line
seqs() {
	cat "$@" | lout --format single_value --key seq --skip-invalid 2>/dev/null
}
# resume_at: 1 + the highest seq stored (a copy of the buffer, dumped by
# lbuffer itself) or delivered
resume_at() {
	rm -rf "$T/snap"
	cp -r "$T/buf" "$T/snap"
	lbuffer --dir "$T/snap" </dev/null >"$T/snap.out" 2>/dev/null
	seqs "$T/snap.out" "$T/recv.out" |
		awk 'BEGIN { m = -1 } { if ($1 + 0 > m) m = $1 + 0 } END { print m + 1 }'
}

k=0 i=0 hit=0 t0=$(date +%s)
while [ $i -lt $KILLS ] && [ "$k" -lt "$N" ]; do
	i=$((i + 1))
	tail -c +$((k * S + 1)) "$T/ev.bin" | $LB -- sh -c "$OUT" \
		2>>"$T/lb.err" &
	lb=$!
	# a random kill point, 20 to 120 ms in; not an assertion
	sleep "$(awk -v s="$i$$" 'BEGIN { srand(s); printf "%.3f", 0.02 + rand() * 0.1 }')"
	kill -9 $lb 2>/dev/null && hit=$((hit + 1))
	wait $lb 2>/dev/null
	k=$(resume_at)
	echo "# kill $i: resume at event $k"
done
tail -c +$((k * S + 1)) "$T/ev.bin" | $LB -- sh -c "$OUT" 2>>"$T/lb.err"
rc=$?
check_out "the last run, not killed, exits 0" 'echo $rc' 0
# lforwards started before a kill finish on their own
check 'every output command ended' \
	'wait_for "for p in \$(cat $T/pids); do kill -0 \$p 2>/dev/null && exit 1; done; exit 0" 300'
kill $rpid
wait $rpid
seqs "$T/recv.out" | sort | uniq -c >"$T/counts"
distinct=$(wc -l <"$T/counts")
dups=$(awk '{ d += $1 - 1 } END { print d + 0 }' "$T/counts")
torn=$(grep -c 'torn last block' "$T/lb.err")
echo "# $hit kills hit a running lbuffer in $(($(date +%s) - t0))s;" \
	"$dups duplicates; $torn torn blocks cut"
check_out "every one of the $N events was delivered" \
	'echo $distinct; head -n 1 "$T/counts" | awk "{print \$2}"; tail -n 1 "$T/counts" | awk "{print \$2}"' \
	"$N
0000000
$(printf '%07d' $((N - 1)))"
check "duplicates ($dups) are at most the chunks in flight ($hit x $R)" \
	'[ "$dups" -le $((hit * R)) ]'
check 'the buffer is empty at the end, nothing quarantined' \
	'[ -z "$(ls "$T/buf" | grep chunk-)" ] && [ ! -d "$T/buf/quarantine" ]'
# a kill during a block write leaves a torn block, cut at the next start
# with "N events lost": those were never stored, and the input resumes
# before them
check 'nothing was given up' \
	'! grep -v "torn last block cut" "$T/lb.err" | grep -q "moved to\|lost"'
