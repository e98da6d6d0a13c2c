#!/bin/sh
# lrecv --http: Expect: 100-continue, tags with control bytes, records
# whose keys are not strings
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
HOSTILE="$DATA/1580-hostile.py"
plan 13

lrecv --http 127.0.0.1:0 --port-file "$T/port" --body-size-limit 1k \
	>"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'" || echo "# lrecv did not start"
H=$(sed -n 's/^http //p' "$T/port")
# post PATH TYPE FILE: "CODE BODY"
post() { $PY "$HOSTILE" post $H "$@"; }
mp() { $PY -c 'import msgpack, sys; sys.stdout.buffer.write(msgpack.packb(eval(sys.argv[1]), use_bin_type=True))' "$1"; }

check_out 'Expect: 100-continue: 100 Continue before the body, then 200' \
	'$PY "$HOSTILE" expect $H t.expect "{\"e\":1}"' \
	"$(printf '%s\n' 'HTTP/1.1 100 Continue' 'HTTP/1.1 200 OK')"
check_out 'Expect: a head that already fails gets its final status, no 100' \
	'$PY "$HOSTILE" expect $H "t%0Abad" "{\"e\":2}"' 'HTTP/1.1 400 Bad Request'
check_out 'Expect: a body over --body-size-limit gets 413, no 100' \
	'$PY "$HOSTILE" expect $H t.big "{\"pad\":\"$(head -c 2000 /dev/zero | tr "\0" x)\"}"' \
	'HTTP/1.1 413 Payload Too Large'

printf '{"t":1}' >"$T/t.json"
check_out 'a tag with a new line in it: 400, a log line cannot be forged' \
	'post "/t.a%0A2026-01-01%20forged" application/json "$T/t.json"' \
	'400 400 the tag holds a control byte (0x0a at 3)'
check_out 'a tag with a NUL: 400' \
	'post "/t%00x" application/json "$T/t.json" | cut -c1-3' 400
check_out 'a tag with an escape or DEL byte: 400' \
	'post "/t%1B[31m" application/json "$T/t.json" | cut -c1-3; post "/t%7F" application/json "$T/t.json" | cut -c1-3' \
	"$(printf '400\n400')"
check_out 'an encoded tag without control bytes is fine' \
	'post "/t%2Eenc%20oded" application/json "$T/t.json"' '200 '

mp '{1: "one"}' >"$T/intkey.mp"
check_out 'msgpack: a record with an integer key: 400, saying which' \
	'post /t.keys application/msgpack "$T/intkey.mp"' \
	'400 400 record 1: a key is an integer, not a string'
mp '[{"a": 1}, {b"raw": 2}]' >"$T/binkey.mp"
check_out 'msgpack: the second record has a binary key: 400' \
	'post /t.keys application/msgpack "$T/binkey.mp"' \
	'400 400 record 2: a key is binary data, not a string'
mp '[{"a": 1}, {"b": {1: 2}}]' >"$T/nested.mp"
check_out 'msgpack: str keys (values may hold any map): 200' \
	'post /t.keys application/msgpack "$T/nested.mp"' '200 '
check 'the refusals are logged' \
	'grep -q "record 1: a key is an integer, not a string" "$T/err" &&
	 grep -q "the tag holds a control byte" "$T/err"'
kill $pid
wait $pid
rc=$?
check_out 'SIGTERM: exit 0' 'echo $rc' 0
check_same 'only the good requests wrote events' \
	'$PY "$FWD" decode <"$T/out" | cut -f2 | sort | uniq -c | tr -s " "' \
	'printf " %s\n" "1 t.enc oded" "1 t.expect" "2 t.keys"'
