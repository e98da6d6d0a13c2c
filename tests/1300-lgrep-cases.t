#!/bin/sh
# lgrep: the data-driven cases of tests/cases/lgrep.cases.
. "${0%/*}/lib.sh"
. "$TESTS_DIR/cases.sh"
run_cases lgrep "$TESTS_DIR/cases/lgrep.cases"
