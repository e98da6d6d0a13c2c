#!/bin/sh
# run.sh - run the C unit tests and the shell tests, count TAP results and
# print one closing line "N passed, N failed[, N skipped]".
# Usage: B=build sh tests/run.sh [tests/NNNN-name.t ...]
set -u
B=${B:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export LKIT_BIN="$top/$B"
export PATH="$top/$B:$PATH"
export LC_ALL=C TZ=UTC
pass=0 fail=0 skip=0
failed_files=""
log=$(mktemp)
sanlog=$(mktemp -d)
trap 'rm -rf "$log" "$sanlog"' EXIT INT TERM
# sanitizer reports go to files, so a report in a pipeline is not missed
export ASAN_OPTIONS="log_path=$sanlog/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$sanlog/ubsan:print_stacktrace=1"

run_one() {
	name=$1
	shift
	timeout -k 5 300 "$@" >"$log" 2>&1 </dev/null
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	s=$(grep -c '^ok .*# *[Ss][Kk][Ii][Pp]' "$log")
	p=$((p - s))
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	ran=$((p + f + s))
	extra=""
	whole_skip=$(sed -n 's/^1\.\.0 *# *[Ss][Kk][Ii][Pp]\(.*\)/\1/p' "$log")
	if grep -q '^Bail out!' "$log"; then
		extra=" ($(grep '^Bail out!' "$log" | head -n 1))"
		f=$((f + 1))
	elif [ "$planned" = 0 ] && [ -n "$whole_skip" ] && [ "$rc" = 0 ]; then
		# a file that skips itself whole counts as one skip, with its reason
		s=$((s + 1))
		echo "ok 1 # SKIP$whole_skip" >>"$log"
	elif [ -z "$planned" ]; then
		extra=" (no plan: the file did not finish)"
		f=$((f + 1))
	elif [ "$planned" = 0 ] && [ "$ran" = 0 ]; then
		extra=" (no test ran)"
		f=$((f + 1))
	elif [ -n "$planned" ] && [ "$planned" != "$ran" ]; then
		extra=" (planned $planned, ran $ran)"
		f=$((f + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		extra=" (exit status $rc)"
		f=$((f + 1))
	fi
	if [ -n "$(ls "$sanlog")" ]; then
		extra="$extra (sanitizer reports)"
		f=$((f + 1))
		# a process may still be writing its report: let it finish,
		# and name each file (asan.PID), even an empty one
		sleep 2
		for r in "$sanlog"/*; do
			echo "== ${r##*/}, $(wc -c <"$r") bytes"
			cat "$r"
		done >>"$log"
		rm -f "$sanlog"/*
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$f" != 0 ]; then
		printf '%-40s FAIL %d passed, %d failed%s\n' "$name" "$p" "$f" "$extra"
		grep -v '^ok ' "$log" | sed 's/^/    /' | head -n 200
		failed_files="$failed_files $name"
	else
		printf '%-40s ok %d%s\n' "$name" "$p" \
			"$([ "$s" != 0 ] && echo ", $s skipped")"
		grep -i '^ok .*# *skip' "$log" | sed 's/^/    /'
	fi
}

if [ $# = 0 ]; then
	for t in "$top/$B"/unit/t_*; do
		[ -x "$t" ] && run_one "unit/${t##*/}" "$t"
	done
	set -- "$top"/tests/*.t
fi
for t in "$@"; do
	run_one "tests/${t##*/}" sh "$t"
done
[ -n "$failed_files" ] && echo "failed:$failed_files"
if [ "$skip" != 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ]
