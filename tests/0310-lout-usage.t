#!/bin/sh
# lout: a usage error says what was wrong before the usage line
. "${0%/*}/lib.sh"
plan 3

check_err 'an operand: exit 2, named' 2 'lout -f json extra </dev/null' \
	"lout: unexpected operand 'extra': lout reads standard input only"
check 'the usage line follows the message' \
	'sed -n 2p "$T/.err" | grep -q "^usage: lout "'
check_err 'an operand after --: named too' 2 'lout -- -x </dev/null' \
	"lout: unexpected operand '-x'"
