#!/bin/sh
# contrib/: the systemd templates pass systemd-analyze verify and keep the
# promises their comments make (restart for ever, SIGTERM to every stage,
# mark sockets in the runtime directory); the example pipelines are valid
# bash using options the programs have; and the td-agent example, run the
# way lkit@.service runs it, follows a log, returns its marks, stops
# cleanly on SIGTERM and resumes where it stopped.
. "${0%/*}/lib.sh"
top=$(cd "$TESTS_DIR/.." && pwd)
U=$top/contrib/systemd
X=$top/contrib/examples

tools=$(make -s -C "$top" --no-print-directory \
	--eval '_lkit_tools: ; @echo $(TOOLS)' _lkit_tools 2>/dev/null)
units="lkit@.service lkit-aggregator@.service"
examples="td-agent.pipeline edge.pipeline aggregator.pipeline"
plan 35

# key UNIT NAME: the values of NAME= in UNIT, one a line
key() { sed -n "s/^$2=//p" "$U/$1"; }
# secs VALUE: a systemd time span of s, min or plain seconds, in seconds
secs() {
	case $1 in
	*min) echo $((${1%min} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}

# systemd-analyze verify needs no running systemd, only the unit's
# binaries (/bin/bash); a container that cannot run it at all is found
# with a unit that cannot be wrong
mkdir -p "$T/probe"
printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' >"$T/probe/probe.service"
verify_ok=
if ! command -v systemd-analyze >/dev/null; then
	why="systemd-analyze is missing (the systemd package; make deps)"
elif ! systemd-analyze verify --man=no "$T/probe/probe.service" \
	>"$T/probe.out" 2>&1 || [ -s "$T/probe.out" ]; then
	why="systemd-analyze verify fails here even on a trivial unit: $(head -n 1 "$T/probe.out")"
else
	verify_ok=1
fi
for u in $units; do
	test -f "$U/$u" || echo "# $U/$u is missing"
	if [ -n "$verify_ok" ]; then
		# --man=no: the man pages are checked just below, in man/
		check_out "$u: systemd-analyze verify says nothing" \
			"systemd-analyze verify --man=no '$U/$u' 2>&1; echo \$?" 0
	elif command -v systemd-analyze >/dev/null; then
		skip "$u: systemd-analyze verify" "$why"
	else
		_notok "$u: systemd-analyze verify: $why"
	fi
	# the hardening, as systemd rates it (0 to 10): 2.0 at most
	if [ -n "$verify_ok" ] && systemd-analyze security --help 2>/dev/null |
		grep -q -e --offline; then
		check "$u: systemd-analyze security rates its exposure 2.0 or less" \
			"systemd-analyze security --offline=yes --threshold=20 '$U/$u'"
	else
		skip "$u: systemd-analyze security --offline" \
			"${why:-this systemd-analyze has no --offline}"
	fi
	check "$u: the man pages of Documentation= are in man/" '
		pages=$(key $u Documentation | tr " " "\n" |
			sed -n "s/^man:\(.*\)(\([0-9]\))$/\1.\2/p")
		[ -n "$pages" ] || exit 1
		for p in $pages; do test -f "$top/man/$p" || exit 1; done'
	check "$u: restarts after any exit, every RestartSec, never giving up" '
		test "$(key $u Restart)" = always &&
		test "$(key $u StartLimitIntervalSec)" = 0 &&
		test "$(secs "$(key $u RestartSec)")" -gt 0'
	check "$u: SIGTERM to every process of the pipeline" '
		test "$(key $u KillMode)" = control-group &&
		test "$(key $u KillSignal)" = SIGTERM'
	# ltail --end-to-end waits for its last mark this long after SIGTERM
	check "$u: TimeoutStopSec is longer than ltail's wait for its last mark" '
		wait=$(ltail --help | sed -n "/--end-to-end-timeout/,/)/ s/.*(\([0-9]*\)s).*/\1/p")
		test -n "$wait" &&
		test "$(secs "$(key $u TimeoutStopSec)")" -gt "$wait"'
	check "$u: XDG_RUNTIME_DIR, where marks go, is its RuntimeDirectory" '
		test "$(key $u Environment | sed -n "s/^XDG_RUNTIME_DIR=//p")" = \
			"%t/$(key $u RuntimeDirectory)"'
	check "$u: runs /etc/lkit/%i.pipeline with bash and pipefail" '
		key $u ExecStart | grep -qx "/bin/bash .*-o pipefail /etc/lkit/%i.pipeline"'
	check "$u: unprivileged, read-only system, inet and unix sockets only" '
		test "$(key $u DynamicUser)" = yes &&
		test "$(key $u ProtectSystem)" = strict &&
		test "$(key $u NoNewPrivileges)" = yes &&
		test "$(key $u PrivateTmp)" = yes &&
		test -z "$(key $u CapabilityBoundingSet)" &&
		test "$(key $u RestrictAddressFamilies)" = "AF_UNIX AF_INET AF_INET6"'
done
check "lkit@.service: in the group adm, to read /var/log" \
	'test "$(key lkit@.service SupplementaryGroups)" = adm'

# opts_of PROG: the options PROG --help lists, one a line
opts_of() {
	"$1" --help | sed -n \
		-e 's/^  \(-[A-Za-z0-9]\), \(--[A-Za-z0-9][A-Za-z0-9-]*\).*/\1\
\2/p' \
		-e 's/^      \(--[A-Za-z0-9][A-Za-z0-9-]*\).*/\1/p'
}
# used FILE: "PROG OPTION" for each option the script gives an lkit program
used() {
	sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba' -e '}' "$1" |
		grep -v '^[[:space:]]*#' | awk -v tools=" $tools " '{
		for (i = 1; i <= NF; i++) {
			w = $i
			if (w == "|") { cur = ""; continue }
			if (index(tools, " " w " ")) { cur = w; continue }
			if (cur == "") continue
			if (w == "--") { cur = ""; continue }
			if (w ~ /^--?[A-Za-z]/) { sub(/=.*/, "", w); print cur, w }
		}
	}'
}
# unknown FILE: the options used in FILE that their program does not list
unknown() {
	used "$1" >"$T/used"
	[ -s "$T/used" ] || { echo "no lkit program found in $1"; return 1; }
	_bad=0
	while read -r p o; do
		opts_of "$p" | grep -qx -- "$o" || { echo "$p $o"; _bad=1; }
	done <"$T/used"
	return $_bad
}
for x in $examples; do
	check "$x: bash -n" "bash -n '$X/$x'"
	check "$x: every option it gives is in the program's --help" \
		"unknown '$X/$x'"
done

# The td-agent example, run as lkit@td-agent.service would run it: the
# command of ExecStart=, the directories systemd makes, the environment
# it sets (with %t and %i put in), and a SIGTERM to every stage.
u=lkit@.service
i=td-agent
expand() { sed -e "s|%t|$T/run|g" -e "s|%i|$i|g" -e "s|%S|$T/lib|g"; }
run=$T/run/$(key $u RuntimeDirectory | expand)
state=$T/lib/$(key $u StateDirectory | expand)
logs=$T/log/$(key $u LogsDirectory | expand)
xdg=$(key $u Environment | sed -n 's/^XDG_RUNTIME_DIR=//p' | expand)
mkdir -p -m 700 "$run" "$state" "$logs"
cmd=$(key $u ExecStart | sed "s|/etc/lkit/%i.pipeline|$X/$i.pipeline|")
log=$T/app.log
printf '2017-08-18 19:39:39,000 - [WARN] time over\n' >"$log"
host=$(uname -n)
line() {
	echo "2017-08-18 19:39:$1.000000000 +0000 public.test-service1: {\"level\":\"$2\",\"msg\":\"$3\",\"hostname\":\"$host\",\"phase\":\"alpha\"}"
}
# start N: the example in the background, its output in $T/N.out
start() {
	# shellcheck disable=SC2086
	STATE_DIRECTORY=$state LOGS_DIRECTORY=$logs RUNTIME_DIRECTORY=$run \
		XDG_RUNTIME_DIR=$xdg TMPDIR=$T/no-such-dir APP_LOG=$log \
		$cmd >"$T/$1.out" 2>"$T/$1.err" &
	pid=$!
}
# stop (not in a subshell): SIGTERM to every stage at once, as systemd does (bash too there:
# it dies of it, and systemd waits for the stages); the script's status
# is, with pipefail, that of the first stage that failed
stop() {
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	[ -n "$kids" ] && kill -TERM $kids
	wait_for "! kill -0 $pid" 300 || { kill -KILL $kids $pid; echo timeout; }
	wait "$pid"
	echo "exit $?"
}
pos() { cut -f2 "$state/td-agent.pos" 2>/dev/null; }
size() { printf '%016x' "$(wc -c <"$log")"; }

start one
check "td-agent: the line already in the log is read and printed" \
	"wait_for 'test -s $T/one.out' 100 && test \"\$(cat $T/one.out)\" = '$(line 39 WARN 'time over')'"
check "td-agent: its mark socket is in XDG_RUNTIME_DIR, the runtime directory" \
	"test '$xdg' = '$run' && ls -d '$run'/lkit-marks.* && ! test -e $T/no-such-dir"
printf '2017-08-18 19:39:40,000 - [INFO] two\n' >>"$log"
check "td-agent: a line appended is printed at once" \
	"wait_for 'test \$(wc -l <$T/one.out) = 2' 100"
check "td-agent: the position file reaches the end once lout returned the mark" \
	"wait_for 'test \"\$(pos)\" = \$(size)' 100"
stop >"$T/one.stop"
check_out "td-agent: SIGTERM to every stage: each exits 0" "cat $T/one.stop" \
	"exit 0"
check_same "td-agent: every line once, and nothing on stderr" \
	"cat $T/one.out $T/one.err" "line 39 WARN 'time over'; line 40 INFO two"
check "td-agent: the mark socket is gone" "! ls -d '$run'/lkit-marks.*"

printf '2017-08-18 19:39:41,000 - [ERROR] three\n' >>"$log"
start two
check "td-agent: restarted, it goes on where it stopped" \
	"wait_for 'test -s $T/two.out' 100 && wait_for 'test \"\$(pos)\" = \$(size)' 100"
stop >"$T/two.stop"
check_out "td-agent: restarted, SIGTERM again: exit 0" "cat $T/two.stop" \
	"exit 0"
check_same "td-agent: restarted, only the line written since" \
	"cat $T/two.out $T/two.err" "line 41 ERROR three"
