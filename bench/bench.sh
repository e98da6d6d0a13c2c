#!/bin/sh
# bench.sh - time every lkit stage that is built on one generated td-agent
# log and print one table: rate, wall and CPU time, peak RSS of the largest
# single process, and wall time relative to `cat` and `wc -l` on the same log.
#
# environment: B        build directory (default build)
#              LINES    log lines (default 1000000); the log is cached in
#                       bench/out/ and rebuilt when gen-log.sh changes
#              BENCH_REPEAT     runs per stage, the fastest kept (default 3)
#              BENCH_TIMEOUT    seconds allowed per run (default 300)
#              BENCH_CACHEGRIND=1  also count instructions per line with
#                       valgrind cachegrind over the first 100000 lines
# Exit status 1 if any stage failed (nonzero exit or anything on stderr).
set -u
LC_ALL=C
export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${B:-build}" && pwd) || exit 2
PATH=$B:$PATH
LINES=${LINES:-1000000}
TO=${BENCH_TIMEOUT:-300}
REPS=${BENCH_REPEAT:-3}
CGN=100000
[ "$LINES" -lt "$CGN" ] && CGN=$LINES
out=$here/out
tmp=$out/tmp.$$
mkdir -p "$tmp" || exit 4
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The stages read these through the environment, so the command strings
# below need no quoting tricks and can be pointed at smaller inputs.
RX='^(?<time>\S+ \S+) - \[(?<level>\S+)\] (?<msg>.+)$'
TF='%Y-%m-%d %H:%M:%S,%L'
JQ='.level |= ascii_downcase'
GREP='level ^(WARN|ERROR)$'
export RX TF JQ GREP LOG JSONL EVENTS PARSED

# --- rusage: GNU time, else python3 os.wait4 -------------------------------
# timer FILE CMD... runs CMD and writes "user sys maxrss_kb" as the last line
# of FILE.  maxrss of waited-for children is that of the largest process.
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "bench: installing GNU time" >&2
	DEBIAN_FRONTEND=noninteractive timeout 120 \
		apt-get install -y -qq time >/dev/null 2>&1
fi
if [ -x /usr/bin/time ]; then
	timer() { f=$1; shift; /usr/bin/time -f '%U %S %M' -o "$f" "$@"; }
elif command -v python3 >/dev/null; then
	timer() {
		python3 -c '
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, st, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%.2f %.2f %d\n" % (ru.ru_utime, ru.ru_stime, ru.ru_maxrss))
rc = os.waitstatus_to_exitcode(st)
sys.exit(128 - rc if rc < 0 else rc)' "$@"
	}
else
	echo "bench: need GNU time (/usr/bin/time) or python3" >&2
	exit 4
fi
now() { date +%s.%N; }

# --- inputs, all prepared outside the timed region ----------------------
LOG=$out/log-$LINES.log
JSONL=$out/log-$LINES.jsonl
if [ ! -s "$LOG" ] || [ "$here/gen-log.sh" -nt "$LOG" ]; then
	echo "bench: generating $LINES lines into $LOG" >&2
	if ! sh "$here/gen-log.sh" "$LINES" "$LOG.new"; then
		echo "bench: gen-log.sh failed" >&2; exit 4
	fi
	mv "$LOG.new" "$LOG"
fi
if [ ! -s "$JSONL" ] || [ "$LOG" -nt "$JSONL" ] || [ "$here/jsonl.sh" -nt "$JSONL" ]; then
	if ! sh "$here/jsonl.sh" "$LOG" >"$JSONL.new"; then
		echo "bench: jsonl.sh failed" >&2; exit 4
	fi
	mv "$JSONL.new" "$JSONL"
fi
# prep IN OUT CMD: OUT = CMD <IN, or no OUT if it fails (its stages fail too)
prep() {
	if ! sh -c "$3" <"$1" >"$2" 2>"$tmp/prep.err" || [ -s "$tmp/prep.err" ]; then
		echo "bench: preparing $2 failed:" >&2
		head -n 3 "$tmp/prep.err" >&2
		rm -f "$2"
	fi
}
EVENTS=$tmp/events.mp
PARSED=$tmp/parsed.mp
[ -x "$B/lcat" ] && prep "$JSONL" "$EVENTS" 'lcat bench'
# lreform and lgrep read parsed events when lparse exists
if [ -x "$B/lparse" ]; then
	prep "$EVENTS" "$PARSED" 'lparse --regex "$RX" --time-format "$TF"'
else
	PARSED=$EVENTS
fi

# --- the table ------------------------------------------------------------
cg=0
if [ "${BENCH_CACHEGRIND:-0}" = 1 ]; then
	if command -v valgrind >/dev/null; then
		cg=1
		head -n "$CGN" "$LOG" >"$tmp/cg.log"
		head -n "$CGN" "$JSONL" >"$tmp/cg.jsonl"
		[ -s "$EVENTS" ] && prep "$tmp/cg.jsonl" "$tmp/cg.events" 'lcat bench'
		if [ -x "$B/lparse" ]; then
			[ -s "$tmp/cg.events" ] && prep "$tmp/cg.events" "$tmp/cg.parsed" \
				'lparse --regex "$RX" --time-format "$TF"'
		else
			cp "$tmp/cg.events" "$tmp/cg.parsed" 2>/dev/null
		fi
	else
		echo "bench: BENCH_CACHEGRIND=1 but valgrind is not installed" >&2
	fi
fi

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
echo "lkit bench  $(date -u '+%Y-%m-%d %H:%M:%S UTC')  $(uname -m)  nproc $(nproc)  ${cpu:-unknown CPU}  load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "log: $LOG  $LINES lines, $(wc -c <"$LOG") bytes   build: $B"
echo "best wall of $REPS runs; x cat, x wc = wall / wall of that reference on the same log"
printf '%-40s %10s %8s %8s %8s %8s %8s' stage lines/s wall_s cpu_s rss_MB "x cat" "x wc"
[ $cg = 1 ] && printf ' %10s' Ir/line
echo
failed=0 skipped='' n=0 ref_cat='' ref_wc=''

# stage NAME PROGS INPUT CG CMD
#   PROGS: the lkit programs it needs in $B (skipped if one is missing)
#   INPUT: the prepared file it reads (FAILED if preparing it failed)
#   CG:    1 for one lkit process, counted again under cachegrind
stage() {
	name=$1 progs=$2 input=$3 cgok=$4 cmd=$5
	for p in $progs; do
		[ -x "$B/$p" ] || { skipped="$skipped
  $name"; return 0; }
	done
	n=$((n + 1))
	err=$tmp/err.$n
	if [ -n "$input" ] && [ ! -s "$input" ]; then
		echo "input $input was not prepared" >"$err"
		row "$name" FAILED; return 0
	fi
	best='' i=0
	while [ $i -lt "$REPS" ]; do
		i=$((i + 1))
		t0=$(now)
		timer "$tmp/rusage" timeout -k 5 "$TO" sh -c "$cmd" >/dev/null 2>"$err"
		rc=$?
		t1=$(now)
		if [ $rc -ne 0 ] || [ -s "$err" ]; then
			[ $rc = 124 ] && echo "timed out after ${TO}s" >>"$err"
			echo "exit status $rc" >>"$err"
			row "$name" FAILED; return 0
		fi
		set -- $(tail -n 1 "$tmp/rusage")	# user sys maxrss_kb
		best=$(awk -v t0="$t0" -v t1="$t1" -v u="$1" -v s="$2" -v k="$3" \
			-v b="$best" 'BEGIN { w = t1 - t0; split(b, o, " ")
			if (b != "" && o[1] <= w) print b
			else printf "%.3f %.2f %.1f\n", w, u + s, k / 1024 }')
	done
	case $name in
	"ref: cat") ref_cat=${best%% *} ;;
	"ref: wc -l") ref_wc=${best%% *} ;;
	esac
	ir=
	if [ $cg = 1 ] && [ "$cgok" = 1 ]; then
		ir=$(LOG=$tmp/cg.log JSONL=$tmp/cg.jsonl EVENTS=$tmp/cg.events \
			PARSED=$tmp/cg.parsed timeout -k 5 "$TO" sh -c "valgrind \
			--tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
			$cmd" 2>&1 >/dev/null | awk -v n="$CGN" \
			'/ I +refs:/ { gsub(/,/, "", $NF); printf "%.0f", $NF / n }')
		[ -n "$ir" ] || ir=FAILED
	fi
	row "$name" $best "$ir"
}

# row NAME FAILED | row NAME WALL CPU RSS [IR]
row() {
	if [ "$2" = FAILED ]; then
		failed=1
		printf '%-40s %10s\n' "$1" FAILED
		sed 's/^/    /' "$err" | head -n 4
		return
	fi
	[ "${5:-}" = FAILED ] && failed=1
	awk -v name="$1" -v w="$2" -v c="$3" -v r="$4" -v ir="${5:-}" -v cg=$cg \
		-v lines="$LINES" -v rc="$ref_cat" -v rw="$ref_wc" 'BEGIN {
		rate = w > 0 ? lines / w : 0
		rate = rate >= 1e6 ? sprintf("%.2fM", rate / 1e6) : sprintf("%.0fk", rate / 1e3)
		xc = rc > 0 ? sprintf("%.1f", w / rc) : "-"
		xw = rw > 0 ? sprintf("%.1f", w / rw) : "-"
		printf "%-40s %10s %8.3f %8.2f %8.1f %8s %8s", name, rate, w, c, r, xc, xw
		if (cg) printf " %10s", ir == "" ? "-" : ir
		printf "\n"
	}'
}

stage "ref: cat"   "" "$LOG" 0 'cat "$LOG" >/dev/null'
stage "ref: wc -l" "" "$LOG" 0 'wc -l "$LOG" >/dev/null'
stage "lcat"       lcat "$JSONL" 1 'lcat bench <"$JSONL" >/dev/null'
stage "lout --format msgpack" lout "$EVENTS" 1 \
	'lout --format msgpack <"$EVENTS" >/dev/null'
stage "lout (stdout format)" lout "$EVENTS" 1 'lout <"$EVENTS" >/dev/null'
stage "lout --format json" lout "$EVENTS" 1 \
	'lout --format json <"$EVENTS" >/dev/null'
stage "lcat | lout --format msgpack" "lcat lout" "$JSONL" 0 \
	'lcat bench <"$JSONL" | lout --format msgpack >/dev/null'
stage "ltail --once --read-from-head" ltail "$LOG" 1 \
	'ltail --once --read-from-head "$LOG" >/dev/null'
# container and stack trace logs made from the same log (outside the
# timed region; their lines/s counts the lines of $LOG)
CRILOG=$tmp/cri.log
JAVALOG=$tmp/java.log
export CRILOG JAVALOG
[ -x "$B/ltail" ] && { sh "$here/gen-cri.sh" "$LOG" "$CRILOG" &&
	sh "$here/gen-java.sh" "$LOG" "$JAVALOG"; } 2>"$tmp/gen.err" ||
	rm -f "$CRILOG" "$JAVALOG"
stage "ltail --multiline-parser cri" ltail "$CRILOG" 0 \
	'ltail --once --read-from-head --multiline-parser cri "$CRILOG" >/dev/null'
stage "ltail --multiline-parser java" ltail "$JAVALOG" 0 \
	'ltail --once --read-from-head --multiline-parser java "$JAVALOG" >/dev/null'
stage "lparse --regex --time-format" lparse "$EVENTS" 1 \
	'lparse --regex "$RX" --time-format "$TF" <"$EVENTS" >/dev/null'
stage "lreform hostname= phase=" lreform "$PARSED" 1 \
	'lreform hostname=bench phase=alpha <"$PARSED" >/dev/null'
stage "lreform --jq" lreform "$PARSED" 1 \
	'lreform --jq "$JQ" <"$PARSED" >/dev/null'
stage "lgrep level WARN|ERROR" "lparse lgrep" "$PARSED" 1 \
	'lgrep --regexp "$GREP" <"$PARSED" >/dev/null'
# lforward -> lrecv over loopback: lrecv on a port of its choosing, told
# through a port file; the stage ends when lforward has delivered all
FWDTMP=$tmp
export FWDTMP
FWD='lrecv --listen 127.0.0.1:0 --port-file "$FWDTMP/port" >/dev/null & p=$!
	i=0; while [ ! -s "$FWDTMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	lforward --heartbeat none $FWDOPTS 127.0.0.1:$(cat "$FWDTMP/port") <"$EVENTS"
	r=$?; kill $p; wait $p; rm -f "$FWDTMP/port"; exit $r'
stage "lforward -> lrecv (PackedForward)" "lforward lrecv" "$EVENTS" 0 \
	"FWDOPTS= ; $FWD"
stage "lforward --ack -> lrecv" "lforward lrecv" "$EVENTS" 0 \
	"FWDOPTS=--ack ; $FWD"
stage "lforward --ack --compress gzip -> lrecv" "lforward lrecv" "$EVENTS" 0 \
	"FWDOPTS='--ack --compress gzip' ; $FWD"
stage "lforward --ack --compress zstd -> lrecv" "lforward lrecv" "$EVENTS" 0 \
	"FWDOPTS='--ack --compress zstd' ; $FWD"
# lhttp and lsyslog into bench/sink.py, a local server that drops what it
# gets (python: the rates are those of the pair)
SINK="$here/sink.py"
export SINK
SINKRUN='python3 "$SINK" $KIND "$FWDTMP/sport" & p=$!
	i=0; while [ ! -s "$FWDTMP/sport" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	sp=$(cat "$FWDTMP/sport"); rm -f "$FWDTMP/sport"'
stage "lhttp (ndjson) -> local HTTP sink" lhttp "$EVENTS" 0 \
	"KIND=http; $SINKRUN"'
	lhttp http://127.0.0.1:$sp/ <"$EVENTS"; r=$?; kill $p; wait $p 2>/dev/null; exit $r'
stage "lhttp --format elasticsearch -> sink" lhttp "$EVENTS" 0 \
	"KIND=http; $SINKRUN"'
	lhttp -f elasticsearch --index bench http://127.0.0.1:$sp/_bulk <"$EVENTS"
	r=$?; kill $p; wait $p 2>/dev/null; exit $r'
stage "lsyslog tcp: (rfc5424, octet) -> sink" lsyslog "$EVENTS" 0 \
	"KIND=tcp; $SINKRUN"'
	lsyslog tcp:127.0.0.1:$sp <"$EVENTS"; r=$?; kill $p; wait $p 2>/dev/null; exit $r'
# lbuffer: events through file chunks (written, fsynced per --fsync, read
# back, written to stdout and deleted: each run leaves the directory empty),
# and through memory
LBDIR=$tmp/lbuffer
export LBDIR
for p in always interval never; do
	stage "lbuffer --dir --fsync $p" lbuffer "$EVENTS" 1 \
		"lbuffer --dir \"\$LBDIR\" --fsync $p <\"\$EVENTS\" >/dev/null"
done
stage "lbuffer (memory)" lbuffer "$EVENTS" 1 'lbuffer <"$EVENTS" >/dev/null'
stage "lbuffer --dir -- lforward --ack -> lrecv" "lbuffer lforward lrecv" \
	"$EVENTS" 0 'lrecv --listen 127.0.0.1:0 --port-file "$FWDTMP/port" >/dev/null & p=$!
	i=0; while [ ! -s "$FWDTMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	lbuffer --dir "$LBDIR" -- lforward --heartbeat none --ack --retry-max-times 0 \
		127.0.0.1:$(cat "$FWDTMP/port") <"$EVENTS"
	r=$?; kill $p; wait $p; rm -f "$FWDTMP/port"; exit $r'
stage "td-agent: ltail|lparse|lreform|lout" "ltail lparse lreform lout" "$LOG" 0 \
	'ltail --once --read-from-head "$LOG" |
	 lparse --regex "$RX" --time-format "$TF" |
	 lreform hostname=bench phase=alpha | lout --format msgpack >/dev/null'
# the same with --end-to-end marks (a position file, removed before each
# run so that every run reads the whole log), into lout and through
# lforward --ack to lrecv, beside the run without marks
stage "td-agent --end-to-end (marks)" "ltail lparse lreform lout" "$LOG" 0 \
	'rm -f "$FWDTMP/e2e.pos"
	 ltail --once --read-from-head --end-to-end --pos-file "$FWDTMP/e2e.pos" "$LOG" |
	 lparse --regex "$RX" --time-format "$TF" |
	 lreform hostname=bench phase=alpha | lout --format msgpack >/dev/null'
TDFWD='lrecv --listen 127.0.0.1:0 --port-file "$FWDTMP/port" >/dev/null & p=$!
	i=0; while [ ! -s "$FWDTMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	rm -f "$FWDTMP/e2e.pos"
	ltail --once --read-from-head $E2E --pos-file "$FWDTMP/e2e.pos" "$LOG" |
	lparse --regex "$RX" --time-format "$TF" |
	lreform hostname=bench phase=alpha |
	lforward --heartbeat none --ack 127.0.0.1:$(cat "$FWDTMP/port")
	r=$?; kill $p; wait $p; rm -f "$FWDTMP/port"; exit $r'
stage "td-agent | lforward --ack -> lrecv" "ltail lparse lreform lforward lrecv" \
	"$LOG" 0 "E2E= ; $TDFWD"
stage "the same with --end-to-end" "ltail lparse lreform lforward lrecv" \
	"$LOG" 0 "E2E=--end-to-end ; $TDFWD"

[ -n "$skipped" ] && echo "not built, skipped:$skipped"
[ $failed = 0 ] || echo "bench: some stages FAILED" >&2
exit $failed
