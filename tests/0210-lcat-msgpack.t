#!/bin/sh
# lcat --msgpack and --max-event-size: a whole msgpack value over the limit
# is bad input, and --skip-invalid skips it whole.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 4

$PY -c 'import msgpack, sys; sys.stdout.buffer.write(msgpack.packb({"a": 1}) +
    msgpack.packb({"big": "x" * 3000}) + msgpack.packb({"b": 2}))' \
	>"$T/big.mp" || echo "Bail out! cannot build the input"
check_err "a value over --max-event-size: a data error" 3 \
	"lcat --msgpack --max-event-size 1k t <'$T/big.mp' >'$T/out'" \
	"lcat: stdin: byte 4: event larger than 1024 bytes (see --max-event-size)"
check_out "a value over --max-event-size: the ones before it come out" \
	"lout -f json <'$T/out'" '{"a":1}'
check_out "--skip-invalid: skips it whole, keeps the next" \
	"lcat --msgpack --max-event-size 1k --skip-invalid t <'$T/big.mp' 2>/dev/null | lout -f json | tr -d '\n'; echo" \
	'{"a":1}{"b":2}'
check_err "--skip-invalid: says so" 0 \
	"lcat --msgpack --max-event-size 1k --skip-invalid t <'$T/big.mp' >/dev/null" \
	"lcat: stdin: skipped 3008 bytes of invalid input in 1 places"
