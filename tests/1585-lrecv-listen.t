#!/bin/sh
# lrecv: every address is checked before any listener opens; a port out
# of range or a host that does not resolve is a usage error
. "${0%/*}/lib.sh"
plan 9
# on a build that takes a bad address, lrecv would run: timeout bounds it

check_err '--listen 127.0.0.1:99999: exit 2, naming the address' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:99999 --port-file "$T/p1"' \
	"bad address '127.0.0.1:99999' for --listen"
check 'and nothing was bound' 'test ! -e "$T/p1"'
check_err '--listen nonsense.invalid (does not resolve): exit 2' 2 \
	'timeout 10 lrecv --listen nonsense.invalid' \
	"bad address 'nonsense.invalid' for --listen"
check_err '--listen with a port that is not a number: exit 2' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:http' "bad address '127.0.0.1:http'"
check_err '--listen HOST: with no port: exit 2' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:' "bad address '127.0.0.1:'"
check_err '--http 127.0.0.1:65536: exit 2' 2 \
	'timeout 10 lrecv --http 127.0.0.1:65536' "bad address '127.0.0.1:65536' for --http"
check_err '--metrics -1: exit 2' 2 \
	'timeout 10 lrecv --listen 127.0.0.1:0 --metrics 127.0.0.1:-1' \
	"bad address '127.0.0.1:-1' for --metrics"
check_err 'a bad --http after good listeners: exit 2 before any is opened' 2 \
	'timeout 10 lrecv --unix "$T/sock" --listen 127.0.0.1:0 --http nonsense.invalid:9880' \
	"bad address 'nonsense.invalid:9880' for --http"
check 'so the unix socket was never made' 'test ! -e "$T/sock"'
