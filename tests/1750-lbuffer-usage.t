#!/bin/sh
# lbuffer: a usage error says what was wrong before the usage line
. "${0%/*}/lib.sh"
plan 2

check_err '--status with a COMMAND: exit 2, said' 2 \
	'lbuffer --dir "$T/d" --status -- cat </dev/null' \
	'lbuffer: --status takes no COMMAND'
check 'the usage line follows the message' \
	'sed -n 2p "$T/.err" | grep -q "^usage: lbuffer "'
