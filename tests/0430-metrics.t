#!/bin/sh
# --metrics-file: every stage of a running pipeline keeps a Prometheus text
# file of its counters, replaced atomically at each --metrics-interval and
# written once more at exit; promtool and node_exporter's textfile
# collector read them.
. "${0%/*}/lib.sh"
plan 28

PY=python3
M=$T/m
mkdir "$M"
# a label value with a quote, a backslash and a space, escaped in the files
PL='web "1"\'
EPL='web \"1\"\\'

# gen A B: JSON lines A..B, every third one a warning
gen() {
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
		printf "{\"n\":%d,\"lvl\":\"%s\"}\n", i, i % 3 ? "info" : "warn" }'
}
# val FILE FAMILY: the value of FAMILY in the metrics file FILE
val() { sed -n "s/^$2{.*} \([0-9]*\)\$/\1/p" "$1"; }

gen 1 1000 >"$T/app.log"
mkfifo "$T/p1" "$T/p2" "$T/p3"
mo() { echo --metrics-file "$M/$1.prom" --metrics-interval 20ms; }
ltail -F --read-from-head $(mo ltail) --pipeline "$PL" "$T/app.log" \
	>"$T/p1" 2>"$T/ltail.err" &
tp=$!
lparse -f json $(mo lparse) --pipeline "$PL" <"$T/p1" >"$T/p2" \
	2>"$T/lparse.err" &
pp=$!
lgrep -r 'lvl ^warn$' $(mo lgrep) --pipeline "$PL" <"$T/p2" >"$T/p3" \
	2>"$T/lgrep.err" &
gp=$!
lout -f json $(mo lout) --pipeline "$PL" <"$T/p3" >"$T/out" \
	2>"$T/lout.err" &
op=$!
# read every file over and over while the pipeline runs
$PY "$DATA/metrics-read.py" "$M" 120 "$T/stop" >"$T/reads" 2>&1 &
rp=$!

wait_for "test -s $M/ltail.prom && test -s $M/lparse.prom &&
	test -s $M/lgrep.prom && test -s $M/lout.prom" 300
up=$?
check "each stage's metrics file appears while it runs" 'test $up = 0'
# wait_up CMD TENTHS: wait_for, unless the files never came (fail fast)
wait_up() { [ $up = 0 ] && wait_for "$@"; }
# more lines, in bursts, while the reader reads
late=
for k in 1 2 3 4 5; do
	gen $((k * 1000 + 1)) $((k * 1000 + 1000)) >>"$T/app.log"
	wait_up "test \"\$(val $M/lout.prom lkit_events_in_total)\" = \
$(((k + 1) * 1000 / 3))" 300 || late="$late $k"
done
check "lout's file counts the warnings of each burst while it runs" \
	'echo "late bursts:$late"; test -z "$late" &&
	test "$(val $M/lout.prom lkit_events_in_total)" = 2000 &&
	kill -0 $op'
check "ltail's file counts every line while it runs" \
	'wait_up "test \"\$(val $M/ltail.prom lkit_events_out_total)\" = \
6000" 300'
touch "$T/stop"
wait $rp
rrc=$?
check "every read of every file, during the run, parsed as a whole file" \
	'cat "$T/reads"; test $rrc = 0'
check "the files were replaced many times (several values seen in each)" \
	'cat "$T/reads"; awk "/\\.prom/ && \$2 < 2 { bad = 1 }
	/^reads/ && \$2 < 20 { bad = 1 } END { exit bad }" "$T/reads" &&
	test "$(grep -c "\.prom " "$T/reads")" = 4'

kill -TERM $tp
wait $tp; trc=$?
wait $pp; prc=$?
wait $gp; grc=$?
wait $op; orc=$?
check "every stage ends with status 0" \
	'cat $T/*.err; test "$trc $prc $grc $orc" = "0 0 0 0"'
check "no temporary file is left behind" \
	'ls "$M"; test "$(ls "$M" | grep -c tmp)" = 0'
check_out "ltail's final file: 6000 lines read, 6000 events out" \
	'echo $(val $M/ltail.prom lkit_events_in_total) \
	$(val $M/ltail.prom lkit_events_out_total)' "6000 6000"
check "lparse's in is ltail's out, in events and bytes" \
	'test "$(val $M/lparse.prom lkit_events_in_total)" = 6000 &&
	test "$(val $M/lparse.prom lkit_bytes_in_total)" = \
	"$(val $M/ltail.prom lkit_bytes_out_total)"'
check "lgrep's in is lparse's out, in events and bytes" \
	'test "$(val $M/lgrep.prom lkit_events_in_total)" = 6000 &&
	test "$(val $M/lgrep.prom lkit_events_in_total)" = \
	"$(val $M/lparse.prom lkit_events_out_total)" &&
	test "$(val $M/lgrep.prom lkit_bytes_in_total)" = \
	"$(val $M/lparse.prom lkit_bytes_out_total)"'
check "lout's in is lgrep's out: the 2000 warnings" \
	'test "$(val $M/lgrep.prom lkit_events_out_total)" = 2000 &&
	test "$(val $M/lout.prom lkit_events_in_total)" = 2000 &&
	test "$(val $M/lout.prom lkit_bytes_in_total)" = \
	"$(val $M/lgrep.prom lkit_bytes_out_total)"'
check "lout's out is what it wrote" \
	'test "$(wc -l <"$T/out")" = 2000 &&
	test "$(val $M/lout.prom lkit_bytes_out_total)" = \
	"$(wc -c <"$T/out" | tr -d " ")"'
check "nothing dropped, said in every file" \
	'for p in ltail lparse lgrep lout; do
	test "$(val $M/$p.prom lkit_events_dropped_total | sort -u)" = 0 ||
	exit 1; done'
check "HELP and TYPE for every family, program and escaped pipeline labels" \
	'for p in ltail lparse lgrep lout; do
	test "$(grep -c "^# HELP lkit_\(events\|bytes\)_" $M/$p.prom)" = 5 &&
	test "$(grep -c "^# TYPE lkit_\(events\|bytes\)_.*_total counter\$" \
	$M/$p.prom)" = 5 &&
	test "$(grep "^lkit_\(events\|bytes\)_" $M/$p.prom |
	grep -cF "{program=\"$p\",pipeline=\"$EPL\"")" -ge 5 ||
	exit 1; done'
for p in ltail lparse lgrep lout; do
	check "promtool check metrics accepts $p's file" \
		'promtool check metrics <"$M/$p.prom"'
done

# node_exporter's textfile collector, nothing else, reads the directory
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory "$M" \
	--web.listen-address "127.0.0.1:$port" >"$T/ne.log" 2>&1 &
np=$!
wait_for "curl -sf http://127.0.0.1:$port/metrics >$T/scrape" 100
check "node_exporter reads the files without a scrape error" \
	'grep "^node_textfile_scrape_error 0\$" "$T/scrape"'
check "node_exporter serves the lkit_ series of every stage" \
	'for p in ltail lparse lgrep lout; do
	grep -F "lkit_events_in_total{pipeline=\"$EPL\",program=\"$p\"} " \
	"$T/scrape" || exit 1; done &&
	grep -F "lkit_events_out_total{pipeline=\"$EPL\",program=\"lgrep\"} 2000" \
	"$T/scrape"'
kill $np
wait $np 2>/dev/null

# a short run: the file holds the final values, written at exit
check_out "a program that ends at once writes its final values" \
	'echo "{\"a\":1}" | lcat t --metrics-file "$T/lcat.prom" >/dev/null &&
	echo $(val "$T/lcat.prom" lkit_events_out_total) \
	$(grep -c "pipeline=\"\"" "$T/lcat.prom")' "1 5"
# the other stages: each file holds its final counts
awk 'BEGIN { for (i = 0; i < 10; i++) printf "{\"n\":%d}\n", i }' |
	lcat t >"$T/ten.bin"
check_out "lreform writes its final counts" \
	'lreform a=1 --metrics-file "$T/lreform.prom" <"$T/ten.bin" >/dev/null &&
	promtool check metrics <"$T/lreform.prom" &&
	echo $(val "$T/lreform.prom" lkit_events_in_total) \
	$(val "$T/lreform.prom" lkit_events_out_total)' "10 10"
check_out "lbuffer writes its final counts" \
	'lbuffer --metrics-file "$T/lbuffer.prom" <"$T/ten.bin" >/dev/null &&
	promtool check metrics <"$T/lbuffer.prom" &&
	echo $(val "$T/lbuffer.prom" lkit_events_in_total) \
	$(val "$T/lbuffer.prom" lkit_bytes_in_total)' "10 $(wc -c <"$T/ten.bin")"
lrecv_start fwd
check_out "lforward writes its final counts" \
	'lforward --heartbeat none --metrics-file "$T/lforward.prom" \
	--pipeline fw 127.0.0.1:$port <"$T/ten.bin" &&
	promtool check metrics <"$T/lforward.prom" &&
	echo $(val "$T/lforward.prom" lkit_events_in_total) \
	$(grep -c "^lkit_[a-z_]*{program=\"lforward\",pipeline=\"fw\"" \
	"$T/lforward.prom" | awk "{ print (\$1 >= 5) }")' "10 1"
lrecv_stop fwd
sleep 5 | lgrep -r 'a b' --metrics-file "$T/start.prom" >/dev/null &
sp=$!
check "with the default 10s interval, the first file comes at start" \
	'wait_for "test -s $T/start.prom" 30'
kill $sp
wait $sp
check_exit "--metrics-interval 0 is a usage error" 2 \
	'lgrep --metrics-interval 0 </dev/null'
check_err "an unwritable metrics file is said once, the data still flows" 0 \
	'echo "{\"a\":1}" | lcat t --metrics-file "$T/no/such/dir/x.prom" |
	lout >/dev/null' "unable to write $T/no/such/dir/x.prom"
check_out "lhttp names its label option --metrics-pipeline" \
	'lhttp --help | grep -c -e "--metrics-pipeline NAME" -e "--metrics-file FILE"' 2
