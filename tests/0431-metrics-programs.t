#!/bin/sh
# --metrics-file: each program's own families beside the common five:
# ltail's files, lines and rotations, lparse's parse failures, lbuffer's
# chunks, retries and dead letters, lforward's, lhttp's and lsyslog's
# requests, retries, per-server availability and latency histograms;
# lkit_events_dropped_total by reason.  promtool checks every file.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 23

# val FILE FAMILY [LABELS]: the value of the series FAMILY{...LABELS}
val() { sed -n "s/^$2{[^}]*${3:-}} \([0-9.e+]*\)\$/\1/p" "$1"; }
pc() { promtool check metrics <"$1"; }

# --- ltail ---
printf 'a\nb\n' >"$T/a.log"
{ echo c; head -c 300 /dev/zero | tr '\0' x; echo; echo d; } >"$T/b.log"
ltail --once --read-from-head --long-lines skip --max-line-size 100 \
	--metrics-file "$T/ltail.prom" "$T/a.log" "$T/b.log" >/dev/null \
	2>"$T/ltail.err"
check 'ltail: promtool accepts its file' 'pc "$T/ltail.prom"'
check_out 'ltail: lines skipped, dropped for it, lines out' \
	'echo $(val "$T/ltail.prom" lkit_lines_skipped_total) \
	$(val "$T/ltail.prom" lkit_events_dropped_total "reason=\"line_too_long\"") \
	$(val "$T/ltail.prom" lkit_events_out_total)' '1 1 4'
check 'ltail: HELP and TYPE of its families' \
	'grep -x "# TYPE lkit_files_watched gauge" "$T/ltail.prom" &&
	grep -x "# TYPE lkit_rotations_total counter" "$T/ltail.prom" &&
	grep -x "# TYPE lkit_lines_split_total counter" "$T/ltail.prom" &&
	grep -q "^# HELP lkit_files_watched " "$T/ltail.prom"'
# following: files watched and a rotation, seen in the file while it runs
ltail -F --read-from-head --metrics-file "$T/tf.prom" \
	--metrics-interval 20ms "$T/a.log" "$T/b.log" >/dev/null \
	2>"$T/tf.err" &
tp=$!
check 'ltail -F: two files watched' \
	'wait_for "test \"\$(val $T/tf.prom lkit_files_watched)\" = 2" 100'
mv "$T/a.log" "$T/a.log.1"
echo e >"$T/a.log"
check 'ltail -F: a rotation counted' \
	'wait_for "test \"\$(val $T/tf.prom lkit_rotations_total)\" = 1" 100'
kill $tp
wait $tp

# --- lparse: parse failures = bad lines ---
printf '{"a":1}\nnot json\n{"b":2}\nbad\n{oops\n' >"$T/mixed.log"
ltail --once --read-from-head "$T/mixed.log" |
	lparse -f json --on-error drop --metrics-file "$T/lparse.prom" \
	>/dev/null 2>"$T/lparse.err"
check 'lparse: promtool accepts its file' 'pc "$T/lparse.prom"'
check_out 'lparse: 3 parse failures, 3 dropped for it, 2 out' \
	'echo $(val "$T/lparse.prom" lkit_parse_failures_total) \
	$(val "$T/lparse.prom" lkit_events_dropped_total "reason=\"parse_failure\"") \
	$(val "$T/lparse.prom" lkit_events_out_total)' '3 3 2'

# --- lbuffer ---
awk 'BEGIN { for (i = 0; i < 10; i++) printf "{\"n\":%d}\n", i }' |
	lcat t >"$T/ten.bin"
lbuffer --dir "$T/buf" --dead-letter-dir "$T/dead" --retry-max-times 0 \
	--retry-wait 10ms --metrics-file "$T/lbuffer.prom" -- false \
	<"$T/ten.bin" 2>"$T/lbuffer.err"
check 'lbuffer: promtool accepts its file' 'pc "$T/lbuffer.prom"'
check_out 'lbuffer: 1 chunk dead-lettered, its 10 events dropped for it' \
	'echo $(val "$T/lbuffer.prom" lkit_chunks_dead_lettered_total) \
	$(val "$T/lbuffer.prom" lkit_events_dropped_total "reason=\"dead_letter\"") \
	$(val "$T/lbuffer.prom" lkit_retries_total)' '1 10 1'
# a chunk held: queued, with its bytes and an age, while the output fails
mkfifo "$T/in"
lbuffer --retry-forever --retry-wait 10s --flush-interval 10ms \
	--metrics-file "$T/lq.prom" --metrics-interval 20ms -- false \
	<"$T/in" 2>"$T/lq.err" &
lp=$!
exec 3>"$T/in"
cat "$T/ten.bin" >&3
check 'lbuffer: a failing chunk stays queued, with its bytes' \
	'wait_for "test \"\$(val $T/lq.prom lkit_chunks_queued)\" = 1" 100 &&
	test "$(val $T/lq.prom lkit_bytes_queued)" = "$(wc -c <"$T/ten.bin" | tr -d " ")"'
check 'lbuffer: the oldest chunk ages' \
	'wait_for "awk \"\\\$2 > 0.1 { ok = 1 } END { exit !ok }\" $T/lq.prom" 100 ||
	grep oldest $T/lq.prom'
check 'lbuffer: the retry counted' \
	'test "$(val $T/lq.prom lkit_retries_total)" -ge 1'
exec 3>&-
kill $lp
wait $lp

# --- lforward: a dead server and a live lrecv ---
lrecv_start fwd
live=$port
dead=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
lforward --ack --heartbeat none --flush-interval 10ms \
	--metrics-file "$T/lforward.prom" 127.0.0.1:$dead 127.0.0.1:$live \
	<"$T/ten.bin" 2>"$T/lforward.err"
frc=$?
check 'lforward: delivers, promtool accepts its file' \
	'cat "$T/lforward.err"; test $frc = 0 && pc "$T/lforward.prom"'
check_out 'lforward: server_up 0 for the dead server, 1 for lrecv' \
	'echo $(val "$T/lforward.prom" lkit_server_up "server=\"127.0.0.1:$dead\"") \
	$(val "$T/lforward.prom" lkit_server_up "server=\"127.0.0.1:$live\"")' '0 1'
check_out 'lforward: 1 request, 1 retry, nothing given up' \
	'echo $(val "$T/lforward.prom" lkit_requests_total) \
	$(val "$T/lforward.prom" lkit_retries_total) \
	$(val "$T/lforward.prom" lkit_events_given_up_total)' '1 1 0'
check 'lforward: the ack latency histogram counts the acked request' \
	'grep -x "# TYPE lkit_ack_latency_seconds histogram" "$T/lforward.prom" &&
	test "$(val "$T/lforward.prom" lkit_ack_latency_seconds_count)" = 1 &&
	test "$(val "$T/lforward.prom" lkit_ack_latency_seconds_bucket "le=\"+Inf\"")" = 1'
lrecv_stop fwd
lforward --heartbeat none --retry-max-times 0 --retry-wait 10ms \
	--metrics-file "$T/lfdead.prom" 127.0.0.1:$dead <"$T/ten.bin" \
	2>"$T/lfdead.err"
check_out 'lforward: events given up, dropped for it' \
	'echo $(val "$T/lfdead.prom" lkit_events_given_up_total) \
	$(val "$T/lfdead.prom" lkit_events_dropped_total "reason=\"given_up\"")' '10 10'

# --- lhttp and lsyslog into lrecv ---
lrecv_start in --http 127.0.0.1:0 --syslog tcp:127.0.0.1:0
hp=$(sed -n 's/^http //p' "$T/in.port")
sp=$(sed -n 's/^syslog-tcp //p' "$T/in.port")
lhttp --metrics-file "$T/lhttp.prom" "http://127.0.0.1:$hp/t.h" \
	<"$T/ten.bin" 2>"$T/lhttp.err"
check 'lhttp: promtool accepts its file' 'pc "$T/lhttp.prom"'
check_out 'lhttp: 1 request, server up, 1 response timed' \
	'echo $(val "$T/lhttp.prom" lkit_requests_total) \
	$(val "$T/lhttp.prom" lkit_server_up "server=\"127.0.0.1:$hp\"") \
	$(val "$T/lhttp.prom" lkit_response_latency_seconds_count)' '1 1 1'
lsyslog --metrics-file "$T/lsyslog.prom" "tcp:127.0.0.1:$sp" \
	<"$T/ten.bin" 2>"$T/lsyslog.err"
check 'lsyslog: promtool accepts its file' 'pc "$T/lsyslog.prom"'
check_out 'lsyslog: 1 connection, server up, 10 out' \
	'echo $(val "$T/lsyslog.prom" lkit_connections_total) \
	$(val "$T/lsyslog.prom" lkit_server_up "server=\"tcp:127.0.0.1:$sp\"") \
	$(val "$T/lsyslog.prom" lkit_events_out_total)' '1 1 10'
lrecv_stop in

# no label per file path or tag: bounded series in every file
check 'no series is labelled with a path or a tag' \
	'! grep -h "^lkit_" "$T"/*.prom | grep -e "\.log" -e "t\.h" -e "tag="'
check 'every family of every file has HELP and TYPE' \
	'for f in "$T"/*.prom; do
	awk "/^# HELP/ { h[\$3] = 1 } /^# TYPE/ { t[\$3] = 1 }
	/^[a-z]/ { n = \$1; sub(/\\{.*/, \"\", n); sub(/_(bucket|sum|count)\$/, \"\", n);
	if (!(n in h) || !(n in t)) { print FILENAME, n; bad = 1 } }
	END { exit bad }" "$f" || exit 1; done'
