#!/bin/sh
# lreform: the data-driven cases of tests/cases/lreform.cases.
. "${0%/*}/lib.sh"
. "$TESTS_DIR/cases.sh"
run_cases lreform "$TESTS_DIR/cases/lreform.cases"
