#!/bin/sh
# lreform: the data-driven cases of tests/cases/lreform-time.cases, whose
# expected lines carry the event time, as those of lparse do (see the head
# of that file).
. "${0%/*}/lib.sh"
. "$TESTS_DIR/cases.sh"

# _time_case DIR: one TAP line for the case in DIR
_time_case() {
	_d=$1
	_name=$(cat "$_d/name")
	_args=$(cat "$_d/args")
	if ! _case_events "$_d" >"$T/case.in"; then
		_notok "$_name"; echo "#   bad input lines"; return
	fi
	eval "set -- $_args"
	lreform "$@" <"$T/case.in" >"$T/case.out" 2>"$T/case.err"
	_rc=$?
	lout -f out_file --utc --time-format '%Y-%m-%dT%H:%M:%S.%N' \
	    <"$T/case.out" | tr '\t' ' ' >"$T/case.got"
	if [ "$_rc" = "$(cat "$_d/code")" ] &&
	    cmp -s "$T/case.got" "$_d/want"; then
		_ok "$_name"
	else
		_notok "$_name"
		echo "#   lreform $_args: exit $_rc (want $(cat "$_d/code"))"
		diff "$_d/want" "$T/case.got" | head -n 20 | sed 's/^/#   /'
		sed 's/^/#   stderr: /' "$T/case.err" | head -n 5
	fi
}

count=$(_split_cases "$TESTS_DIR/cases/lreform-time.cases")
plan "$count"
i=1
while [ "$i" -le "$count" ]; do
	_time_case "$T/cases/$i"
	i=$((i + 1))
done
