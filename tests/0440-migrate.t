#!/bin/sh
# lkit-migrate(7): the page is there and lint-clean, names every parameter
# of in_tail and every parser, uses only options the programs have, and
# every example in it runs.  An example is the .Bd -literal block after a
# line '.\" example: NAME'; it is taken out of the page as it is (roff
# escapes undone), its paths moved into a temporary directory and its
# servers onto free loopback ports, run on the inputs of tests/data/migrate
# and its output checked, so an edited example that breaks fails here.
. "${0%/*}/lib.sh"
top=$(cd "$TESTS_DIR/.." && pwd)
PAGE=$top/man/lkit-migrate.7
IN=$DATA/migrate
PY=/usr/bin/python3
# the examples the page must have, each run below
names="td-agent multiline tail apache csv transform grep buffer forward \
secondary in_forward in_http monitor metrics out_file copy route"
plan 40

cd "$T" || exit 1
# the examples started in the background are killed, group and all, if
# the test ends early
trap 'for f in "$T"/*/pg; do
	test -f "$f" && kill -KILL "-$(cat "$f")" 2>/dev/null; done
	for f in "$T"/*.pid; do test -f "$f" && kill "$(cat "$f")" 2>/dev/null; done
	_cleanup' EXIT
mkdir -m 700 run
export XDG_RUNTIME_DIR=$T/run
host=$(uname -n)

check "man/lkit-migrate.7 exists" "test -s '$PAGE'"
if command -v mandoc >/dev/null; then
	check "man/lkit-migrate.7 passes mandoc -Tlint -W warning" \
		"test -s '$PAGE' && mandoc -Tlint -W warning '$PAGE' >$T/lint 2>&1 &&
		 ! test -s $T/lint || { cat $T/lint; exit 1; }"
else
	check "mandoc is installed (tests/deps.sh)" false
fi

# listed PARAM...: the page has a table row (.It Cm PARAM) for each
listed() {
	for p in "$@"; do
		grep -Eq "^\.It Cm ([^ ]+ )?$p( |\$)|^\.It Cm .*, $p( |\$)|^\.It Cm [^ ]+ , Cm $p( |\$)" \
			"$PAGE" || { echo "no row for $p"; exit 1; }
	done
}
check "every parameter of in_tail has a row" \
	"listed tag path path_timezone exclude_path follow_inodes \
	refresh_interval limit_recently_modified skip_refresh_on_startup \
	read_from_head encoding from_encoding read_lines_limit \
	read_bytes_limit_per_second max_line_size multiline_flush_interval \
	pos_file pos_file_compaction_interval '<parse>' format path_key \
	rotate_wait enable_watch_timer enable_stat_watcher \
	open_on_every_update emit_unmatched_lines \
	ignore_repeated_permission_error '<group>'"
check "every parser has a row" \
	"listed regexp apache2 apache apache_error nginx syslog ltsv csv tsv \
	json msgpack none multiline multi_format"
check "out_forward's <server>, weight, standby and <secondary> have rows" \
	"listed '<server> host' '<server> weight' '<server> standby' \
	'<secondary>' require_ack_response heartbeat_type"

# every long option the page names is one some lkit program has
tools=$(make -s -C "$top" --no-print-directory \
	--eval '_lkit_tools: ; @echo $(TOOLS)' _lkit_tools 2>/dev/null)
for t in $tools; do "$t" --help; done 2>/dev/null |
	grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$T/known"
page_opts() {
	{
		grep -oE 'Fl -[a-z][a-z0-9-]*' "$PAGE" | sed 's/^Fl /-/'
		grep -oE -- '--[a-z][a-z0-9-]*' "$PAGE"
	} | sort -u
}
check "every option the page names is in some program's --help" \
	"test -s '$PAGE' && test -s $T/known || exit 1
	 page_opts | comm -23 - $T/known >$T/unknown
	 ! test -s $T/unknown || { echo unknown:; cat $T/unknown; exit 1; }"
check_same "the page has exactly the examples this test runs" \
	"sed -n 's/^\.\\\\\" example: //p' '$PAGE' | sort" \
	"printf '%s\n' $names | sort"

# block NAME [KIND]: the text of the example (or KIND) NAME, roff escapes
# undone
block() {
	awk -v n="${2:-example}: $1" '
		$0 == ".\\\" " n { want = 1; next }
		want && /^\.Bd / { inb = 1; next }
		inb && /^\.Ed$/ { exit }
		inb { print }
	' "$PAGE" | sed -e 's/\\&//g' -e "s/\\\\(aq/'/g" -e 's/\\-/-/g' \
		-e 's/\\e/\\/g'
}
# free ports, not listened on, for the servers the examples start
set -- $($PY -c 'import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
P_FWD=$1 P_HTTP=$2 P_MON=$3 P_DEAD=$4
P1=$P_DEAD P2=$P_DEAD P3=$P_DEAD P4=$P_DEAD
# example NAME: DIR=$T/NAME with log/ (the inputs), state/, out/, fifo/,
# and DIR/ex.sh, the example with its paths and servers moved there
example() {
	_d=$T/$1
	mkdir -p "$_d/log" "$_d/state" "$_d/out" "$_d/fifo"
	block "$1" | sed -e "s#/var/log/app/#$_d/log/#g" \
		-e "s#/var/lib/lkit/#$_d/state/#g" -e "s#/var/log/lkit/#$_d/out/#g" \
		-e "s#/run/lkit/#$_d/fifo/#g" \
		-e "s#agg1:24224#127.0.0.1:$P1#g" -e "s#agg2:24224#127.0.0.1:$P2#g" \
		-e "s#agg3:24224#127.0.0.1:$P3#g" \
		-e "s#backup:24224#127.0.0.1:$P4#g" \
		-e "s#0\.0\.0\.0:24224#127.0.0.1:$P_FWD#g" \
		-e "s#0\.0\.0\.0:9880#127.0.0.1:$P_HTTP#g" \
		-e "s#127\.0\.0\.1:24220#127.0.0.1:$P_MON#g" >"$_d/ex.sh"
	test -s "$_d/ex.sh" || { echo "# no example $1 in the page"; return 1; }
	# nothing outside the temporary directory
	! grep -Eq '/var/|/run/|agg[0-9]|backup:' "$_d/ex.sh" ||
		{ echo "# example $1 names a place outside the test"; return 1; }
}
# run NAME: the example, to its end (at most 60 s), in its directory
run() {
	(cd "$T/$1" && timeout 60 sh ex.sh >out.txt 2>err.txt)
	echo $? >"$T/$1/rc"
	sed 's/^/# stderr: /' "$T/$1/err.txt" | head -n 5
}
# start NAME: the example in the background, in a process group of its
# own; stop NAME: SIGTERM to that group, as systemctl stop sends it, and
# the exit status of its pipeline in DIR/rc (the shell running it waits
# for the pipeline to end)
start() {
	(cd "$T/$1" && exec setsid sh -c 'trap : TERM; . ./ex.sh' \
		>out.txt 2>err.txt) &
	echo $! >"$T/$1/pg"
}
stop() {
	_pg=$(cat "$T/$1/pg")
	kill -TERM "-$_pg" 2>/dev/null
	wait_for "! kill -0 $_pg" 300 || kill -KILL "-$_pg" 2>/dev/null
	wait "$_pg"
	echo $? >"$T/$1/rc"
	rm -f "$T/$1/pg"
}
rc() { cat "$T/$1/rc"; }
# srv_stop NAME: lrecv_stop, and its pid forgotten
srv_stop() { lrecv_stop "$1"; rm -f "$T/$1.pid"; }
# events FILE: the number of events in an event stream
events() { lout -f json <"$1" | wc -l; }

# --- the td-agent example: the configuration and its pipeline -------------
conf_rx() { block td-agent.conf conf | sed -n 's/^ *expression \/\(.*\)\/$/\1/p'; }
check "td-agent: the configuration tails, transforms and prints, with the pipeline's regex" \
	"block td-agent.conf conf >$T/conf && grep -q '@type tail' $T/conf &&
	 grep -q '@type record_transformer' $T/conf &&
	 grep -q '@type stdout' $T/conf && test -n \"\$(conf_rx)\" &&
	 block td-agent | grep -qF -- \"--regex '\$(conf_rx)'\""
# --- the td-agent example: follows the file, prints out_stdout lines ------
d=$T/td-agent
if example td-agent; then
	cp "$IN/test.log" "$d/log/test.log"
	start td-agent
	wait_for "test \$(wc -l <$d/out.txt) -ge 3" 100
	printf '%s\n' '2017-08-18 19:39:40,123 - [ERROR] disk full' \
		>>"$d/log/test.log"
	wait_for "test \$(wc -l <$d/out.txt) -ge 4" 100
	# the position moves once lout has written the line (end to end)
	wait_for "cut -f2 $d/state/td-agent.pos |
		grep -qx \$(printf %016x \$(wc -c <$d/log/test.log))" 100
	stop td-agent
fi
check_out "td-agent: every line, and one appended later, printed" \
	"wc -l <$d/out.txt" 4
check_out "td-agent: the line td-agent prints" "head -n 1 $d/out.txt" \
	"2017-08-18 19:39:39.148000000 +0000 public.test-service1: {\"level\":\"INFO\",\"msg\":\"request done request_id=12348\",\"hostname\":\"$host\",\"phase\":\"alpha\"}"
check_out "td-agent: stops with 0 at SIGTERM, its position at the end" \
	"echo \$(rc td-agent) \$(cut -f2 $d/state/td-agent.pos)" \
	"0 $(printf '%016x' "$(wc -c <"$d/log/test.log")")"

# --- multiline -----------------------------------------------------------
d=$T/multiline
example multiline && cp "$IN/java.log" "$d/log/" && run multiline
check_out "multiline: two events, the stack trace joined" \
	"cat $d/out.txt" \
	'{"level":"ERROR","msg":"request failed\njava.lang.IllegalStateException: boom\n\tat com.example.App.handle(App.java:42)"}
{"level":"INFO","msg":"recovered"}'

# --- in_tail's parameters --------------------------------------------------
d=$T/tail
if example tail; then
	printf '%s\n' one two >"$d/log/web.log"
	{ echo short; head -c 70000 /dev/zero | tr '\0' x; echo; } \
		>"$d/log/db.log"
	echo old | gzip >"$d/log/old.log.gz"
	run tail
fi
tail_tags() {
	sed -n 's/.*"tag":"\([^"]*\)".*/\1/p' <$d/out.txt |
		sed 's/.*\.\([a-z]*\.log\)$/\1/' | sort | tr '\n' ' '
}
check_out "tail: the lines of both logs, the long one skipped, no .gz" \
	"echo \$(rc tail) \$(tail_tags)" "0 db.log web.log web.log"
check "tail: the path in the record, the position file kept" \
	"grep -q '\"message\":\"one\",\"path\":\"$d/log/web.log\"' $d/out.txt &&
	 test \$(wc -l <$d/state/app.pos) = 2"

# --- parsers -------------------------------------------------------------
d=$T/apache
example apache && cp "$IN/access.log" "$d/log/" && run apache
check_out "apache: the fields of apache2, typed" "cat $d/out.txt" \
	'{"host":"192.168.0.1","user":null,"method":"GET","path":"/","code":200,"size":777,"referer":null,"agent":"Opera/12.0"}
{"host":"192.168.0.2","user":"bob","method":"POST","path":"/login","code":503,"size":null,"referer":"http://example.com/","agent":"curl/8.0"}'
d=$T/csv
example csv && cp "$IN/users.csv" "$d/log/" && run csv
check_out "csv: columns named and typed, the time in +09:00" \
	"cat $d/out.txt" \
	'{"name":"alice","age":42,"admin":true,"time":1362020400}
{"name":"bob","age":7,"admin":false,"time":1362020401}'

# --- record_transformer ----------------------------------------------------
d=$T/transform
example transform && cp "$IN/events.json" "$d/log/" && run transform
check_out "transform: five events" "wc -l <$d/out.txt" 5
check_out "transform: retagged, renamed, removed, added, lowered by jq" \
	"head -n 1 $d/out.txt" \
	"{\"level\":\"warn\",\"message\":\"disk full\",\"hostname\":\"$host\",\"source\":\"app.web\",\"tag\":\"backend.web\"}"

# --- grep ----------------------------------------------------------------
d=$T/grep
example grep && cp "$IN/events.json" "$d/log/" && run grep
check_out "grep: warnings and errors, no health check" \
	"cut -d, -f1,2 $d/out.txt" \
	'{"level":"WARN","msg":"disk full"
{"level":"ERROR","msg":"kernel panic"'

# --- the buffer section ----------------------------------------------------
d=$T/buffer
if example buffer; then
	cp "$IN/events.json" "$d/log/"
	lrecv_start agg1
	P1=$p_agg1; example buffer
	run buffer
	srv_stop agg1
	P1=$P_DEAD
fi
check_out "buffer: exit 0, every event acked by the aggregator" \
	"echo \$(rc buffer) \$(events $T/agg1.out)" "0 5"
check "buffer: no chunk left in the buffer directory" \
	"test -d $d/state/buf && ! ls $d/state/buf | grep -q '^chunk-'"

# --- out_forward: weights, a standby, a secondary --------------------------
d=$T/forward
if example forward; then
	cp "$IN/events.json" "$d/log/"
	for s in f1 f2 f3 f4; do lrecv_start $s; done
	P1=$p_f1 P2=$p_f2 P3=$p_f3 P4=$p_f4
	example forward
	run forward
	for s in f1 f2 f3 f4; do srv_stop $s; done
	P1=$P_DEAD P2=$P_DEAD P3=$P_DEAD P4=$P_DEAD
fi
check_out "forward: exit 0, the events at the two weighted servers" \
	"echo \$(rc forward) \$((\$(events $T/f1.out) + \$(events $T/f2.out)))" \
	"0 5"
check_out "forward: none at the standby nor the secondary" \
	"echo \$(rc forward) \$(events $T/f3.out) \$(events $T/f4.out)" "0 0 0"
d=$T/secondary
if example secondary; then
	cp "$IN/events.json" "$d/log/"
	lrecv_start s4
	P4=$p_s4; example secondary
	run secondary
	srv_stop s4
	P4=$P_DEAD
fi
check_out "secondary: exit 0, the secondary has what the dead server did not" \
	"echo \$(rc secondary) \$(events $T/s4.out)" "0 5"
check "secondary: lforward says it could not connect" \
	"grep -q 'unable to connect' $d/err.txt"

# --- in_forward, and monitor_agent's endpoint ------------------------------
d=$T/in_forward
if example in_forward; then
	start in_forward
	wait_for "curl -sf http://127.0.0.1:$P_MON/metrics" 100
	lcat app.web <"$IN/events.json" |
		timeout 60 lforward --ack --shared-key s3cr3t --retry-max-times 3 \
			--retry-wait 100ms 127.0.0.1:$P_FWD 2>"$d/sent.err"
	echo $? >"$d/sent"
	wait_for "cat $d/out/fwd.app.web.*.log | test \$(wc -l) -ge 5" 100
	if example monitor; then
		run monitor
	fi
	stop in_forward
fi
check_out "in_forward: a client with the shared key is acked" \
	"cat $d/sent" 0
check_out "in_forward: a file for the tag, with fwd. and the sender" \
	"cat $d/out/fwd.app.web.*.log | grep -c '	fwd.app.web	{.*\"src\":\"127.0.0.1\"}$'" 5
check_out "in_forward: stops with 0 at SIGTERM" "rc in_forward" 0
d=$T/monitor
check "monitor: monitor_agent's JSON and Prometheus text" \
	"test \"\$(rc monitor)\" = 0 && grep -q '\"plugins\"' $d/out.txt &&
	 grep -q '^# TYPE ' $d/out.txt"

# --- in_http -------------------------------------------------------------
d=$T/in_http
if example in_http; then
	start in_http
	wait_for "curl -sf -d 'json={\"action\":\"login\",\"user\":2}' \
		http://127.0.0.1:$P_HTTP/app.access" 100
	curl -sf -H 'Content-Type: application/json' \
		-d '[{"action":"view"},{"action":"logout"}]' \
		http://127.0.0.1:$P_HTTP/app/access
	echo $? >"$d/sent"
	wait_for "test \$(wc -l <$d/out.txt) -ge 3" 100
	stop in_http
fi
check_out "in_http: three records in two requests" \
	"echo \$(cat $d/sent) \$(wc -l <$d/out.txt)" "0 3"
check_out "in_http: the tag from the path, the client's address added" \
	"head -n 1 $d/out.txt" \
	'{"action":"login","user":2,"REMOTE_ADDR":"127.0.0.1","tag":"app.access"}'
check_out "in_http: stops with 0 at SIGTERM" "rc in_http" 0

# --- metrics files -------------------------------------------------------
d=$T/metrics
example metrics && cp "$IN/test.log" "$d/log/" && run metrics
check "metrics: ltail's and lout's counters, labelled" \
	"grep -qx 'lkit_events_out_total{program=\"ltail\",pipeline=\"app\"} 3' $d/state/ltail.prom &&
	 grep -qx 'lkit_events_in_total{program=\"lout\",pipeline=\"app\"} 3' $d/state/lout.prom"

# --- out_file ------------------------------------------------------------
d=$T/out_file
example out_file && cp "$IN/events.json" "$d/log/" && run out_file
check_out "out_file: a gzip file for the tag and day, every event" \
	"echo \$(rc out_file) \$(ls $d/out/app.web) \$(zcat $d/out/app.web/*.log.gz | wc -l)" \
	"0 $(date -u +%Y%m%d).log.gz 5"
check "out_file: the time and tag in each record" \
	"zcat $d/out/app.web/*.log.gz | grep -c '\"time\":[0-9.]*,\"tag\":\"app.web\"}$' | grep -qx 5"

# --- out_copy: tee and a FIFO --------------------------------------------
d=$T/copy
if example copy; then
	cp "$IN/events.json" "$d/log/"
	lrecv_start c1
	P1=$p_c1; example copy
	run copy
	srv_stop c1
	P1=$P_DEAD
fi
check_out "copy: exit 0, every event in the file and at the aggregator" \
	"echo \$(rc copy) \$(cat $d/out/copy.*.log | wc -l) \$(events $T/c1.out)" \
	"0 5 5"
check "copy: the file's first record" \
	"head -n 1 $d/out/copy.*.log | grep -qx '{\"level\":\"WARN\",\"msg\":\"disk full\",\"password\":\"hunter2\"}'"

# --- routing: two sources merged, split by tag -----------------------------
d=$T/route
if example route; then
	cp "$IN/web.log" "$IN/auth.log" "$d/log/"
	lrecv_start r1
	P1=$p_r1; example route
	run route
	srv_stop r1
	P1=$P_DEAD
fi
check_out "route: exit 0, app.** to the file" \
	"echo \$(rc route); cat $d/out/app.log" \
	'0
{"message":"GET /index.html 200"}
{"message":"GET /missing 404"}
{"message":"POST /login 302"}'
check_out "route: sys.** to the aggregator" \
	"lout -f out_file <$T/r1.out | cut -f2-" \
	'sys.auth	{"message":"sshd[101]: Accepted publickey for alice"}
sys.auth	{"message":"sshd[102]: Failed password for bob"}'

# every example was run: none of them is left unchecked
check "every example was run" \
	"for n in $names; do test -f $T/\$n/rc || { echo not run: \$n; exit 1; }; done"
