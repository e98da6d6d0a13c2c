#!/bin/sh
# lcat's usage errors say what was wrong before the usage line.
. "${0%/*}/lib.sh"
plan 8

check_err "no tag: says so" 2 "echo '{}' | lcat" \
	"lcat: no tag given: the events need a TAG"
check_err "no tag: then the usage" 2 "echo '{}' | lcat" "usage: lcat"
check_err "two operands: names the extra one" 2 "echo '{}' | lcat t u" \
	"lcat: unexpected operand 'u': lcat takes one TAG"
check_err "two operands: then the usage" 2 "echo '{}' | lcat t u" \
	"usage: lcat"
check_err "-m with no file: says so" 2 "lcat -m </dev/null" \
	"lcat: -m needs the event streams to merge: no FILE given"
check_err "-m with no file: then the usage" 2 "lcat -m </dev/null" \
	"usage: lcat"
check_err "an empty tag" 2 "echo '{}' | lcat ''" "lcat: the tag is empty"
check_err "-m with --msgpack" 2 "lcat -m --msgpack x" \
	"lcat: -m merges event streams: --msgpack and --time-key do not apply"
