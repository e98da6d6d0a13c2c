#!/bin/sh
# lcat | lbuffer --dir | lforward --ack | lrecv, with lrecv taken down in
# the middle and brought back on the same port: nothing is lost, counted
# at lrecv's output
. "${0%/*}/lib.sh"
plan 7
B=20000         # events per batch

batch() {
	awk -v a="$1" -v n=$B 'BEGIN { for (i = a; i < a + n; i++)
		printf "{\"seq\":\"%07d\"}\n", i }' | lcat app.out
}
count() { cat "$@" | lout --format single_value --key seq 2>/dev/null | wc -l; }

lrecv --listen 127.0.0.1:0 --port-file "$T/port" >"$T/a.out" 2>"$T/a.err" &
ra=$!
wait_for "test -s '$T/port'" || echo "# lrecv did not start"
port=$(cat "$T/port")
mkfifo "$T/in"
lbuffer --dir "$T/buf" --flush-interval 100ms --retry-wait 50ms \
	--retry-max-interval 200ms --retry-forever -- \
	lforward --heartbeat none --ack --retry-max-times 0 127.0.0.1:$port \
	<"$T/in" 2>"$T/lb.err" &
lb=$!
exec 3>"$T/in"

batch 0 >&3
check 'lrecv up: the first batch arrives' \
	'wait_for "[ \$(count \"$T/a.out\") -ge $B ]" 100'
kill $ra
wait $ra
batch $B >&3
check 'lrecv down: the output fails, lbuffer retries' \
	'wait_for "grep -q \"the output failed (exit status 4); retry\" \"$T/lb.err\"" 100'
check 'the chunks wait on disk, --status shows them retrying' \
	'wait_for "lbuffer --dir \"$T/buf\" --status | grep -q retrying" 50'
lrecv --listen "127.0.0.1:$port" >"$T/b.out" 2>"$T/b.err" 3>&- &
rb=$!
batch $((2 * B)) >&3
exec 3>&-
wait $lb
rc=$?
check_out 'lrecv back on the same port: lbuffer delivers all and exits 0' \
	'echo $rc' 0
kill $rb
wait $rb
cat "$T/a.out" "$T/b.out" | lout --format single_value --key seq |
	sort | uniq -c >"$T/counts"
check_out "every one of the $((3 * B)) events arrived" \
	'wc -l <"$T/counts"; head -n 1 "$T/counts" | awk "{print \$2}";
	tail -n 1 "$T/counts" | awk "{print \$2}"' \
	"$((3 * B))
0000000
$(printf '%07d' $((3 * B - 1)))"
dups=$(awk '{ d += $1 - 1 } END { print d + 0 }' "$T/counts")
echo "# $dups duplicates (events lrecv took whose ack was lost)"
check 'each chunk of the second batch waited, then went through' \
	'grep -q "delivered after [0-9]* failures" "$T/lb.err"'
check 'the buffer is empty at the end' \
	'[ -z "$(ls "$T/buf" | grep chunk-)" ]'
