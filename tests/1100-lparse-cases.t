#!/bin/sh
# lparse: the data-driven cases of tests/cases/lparse*.cases, whose expected
# lines carry the event time (see the head of tests/cases/lparse.cases).
. "${0%/*}/lib.sh"
. "$TESTS_DIR/cases.sh"
CASE_TIMES=1

total=0
for f in "$TESTS_DIR"/cases/lparse*.cases; do
	total=$((total + $(_split_cases "$f")))
done
plan "$total"
for f in "$TESTS_DIR"/cases/lparse*.cases; do
	_run_cases lparse "$f"
done
