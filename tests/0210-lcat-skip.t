#!/bin/sh
# lcat --skip-invalid in JSON text: a value cut short by the start of the
# next line loses only itself; a bad value mid-line, the rest of its line.
. "${0%/*}/lib.sh"
plan 5

printf '{"a":[1,2\n{"b":2}\n{"c" 3}\n{"d":4}\n' >"$T/cut.json"
check_out "a cut line: the next line's value is kept" \
	"lcat --skip-invalid t <'$T/cut.json' 2>/dev/null | lout -f json | tr -d '\n'; echo" \
	'{"b":2}{"d":4}'
check_err "a cut line: counted once, said where" 0 \
	"lcat --skip-invalid t <'$T/cut.json' >/dev/null" \
	"lcat: skipped 2 invalid values (first: stdin: line 2, column 1: expected ',' or ']')"
printf '{"a":1} x {"b":2}\n   {"c":3}\n' >"$T/mid.json"
check_out "a bad value mid-line: the rest of its line goes" \
	"lcat --skip-invalid t <'$T/mid.json' 2>/dev/null | lout -f json | tr -d '\n'; echo" \
	'{"a":1}{"c":3}'
check_err "without --skip-invalid: the error names the next line" 3 \
	"lcat t <'$T/cut.json' >/dev/null" \
	"lcat: stdin: line 2, column 1: expected ',' or ']'"
printf '{"a":1\n\n  {"b":2}\n' >"$T/key.json"
check_out "a bad byte that starts a later line: that line is kept" \
	"lcat --skip-invalid t <'$T/key.json' 2>/dev/null | lout -f json" \
	'{"b":2}'
