#!/bin/sh
# lparse: the data-driven cases of tests/cases/lparse*.cases, whose expected
# lines carry the event time (see the head of tests/cases/lparse.cases).
. "${0%/*}/lib.sh"
. "$TESTS_DIR/cases.sh"
YEAR=$(date -u +%Y)

# _lparse_case DIR: one TAP line for the case in DIR
_lparse_case() {
	_d=$1
	_name=$(cat "$_d/name")
	_args=$(cat "$_d/args")
	if ! _case_events "$_d" >"$T/case.in"; then
		_notok "$_name"; echo "#   bad input lines"; return
	fi
	eval "set -- $_args"
	lparse "$@" <"$T/case.in" >"$T/case.out" 2>"$T/case.err"
	_rc=$?
	if [ "$(cat "$_d/fail")" = 1 ]; then
		if [ "$_rc" = "$(cat "$_d/code")" ] &&
		    grep -qF -- "$(cat "$_d/want")" "$T/case.err"; then
			_ok "$_name"
		else
			_notok "$_name"
			echo "#   exit $_rc (want $(cat "$_d/code")), stderr:"
			sed 's/^/#   /' "$T/case.err" | head -n 5
		fi
		return
	fi
	lout -f out_file --utc --time-format '%Y-%m-%dT%H:%M:%S.%N' \
	    <"$T/case.out" | tr '\t' ' ' >"$T/case.got"
	sed "s/^YYYY-/$YEAR-/" "$_d/want" >"$T/case.want"
	if [ "$_rc" = "$(cat "$_d/code")" ] &&
	    cmp -s "$T/case.got" "$T/case.want"; then
		_ok "$_name"
	else
		_notok "$_name"
		echo "#   lparse $_args: exit $_rc (want $(cat "$_d/code"))"
		diff "$T/case.want" "$T/case.got" | head -n 20 | sed 's/^/#   /'
		sed 's/^/#   stderr: /' "$T/case.err" | head -n 5
	fi
}

total=0
for f in "$TESTS_DIR"/cases/lparse*.cases; do
	total=$((total + $(_split_cases "$f")))
done
plan "$total"
for f in "$TESTS_DIR"/cases/lparse*.cases; do
	count=$(_split_cases "$f")
	i=1
	while [ "$i" -le "$count" ]; do
		_lparse_case "$T/cases/$i"
		i=$((i + 1))
	done
done
