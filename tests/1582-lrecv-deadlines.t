#!/bin/sh
# lrecv: the handshake and each request have a deadline from their first
# byte, so trickled bytes cannot hold a connection; each listener keeps a
# share of --max-connections
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
HOSTILE="$DATA/1580-hostile.py"
plan 12

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
# first: a trickle's report without the byte count, which depends on timing
first() { sed 's/ after [0-9]* of / after K of /'; }

$PY -c 'import msgpack, sys
sys.stdout.buffer.write(msgpack.packb(["PING", "sender.example", "s" * 32, "0" * 128, "", ""]))' >"$T/ping.bin"
start hs --shared-key s3cr3t --handshake-timeout 1s
# 187 bytes, one every 50 ms: 9 s; the handshake must end after 1 s
check_out 'a PING trickled byte by byte is cut off at --handshake-timeout' \
	'$PY "$HOSTILE" trickle $port "$T/ping.bin" 0.05 | head -n 1 | first' \
	'closed after K of 187 bytes'
stop hs
check 'and logged' 'grep -q "handshake not done 1000 ms after connecting" "$T/hs.err"'

$PY -c 'import msgpack, sys
sys.stdout.buffer.write(msgpack.packb(["t.slow", [[1502880723, {"pad": "x" * 150}]], {"chunk": "slow"}]))' >"$T/slow.bin"
start req --request-timeout 1s
check_out 'a request trickled byte by byte is dropped at --request-timeout, unacked' \
	'$PY "$HOSTILE" trickle $port "$T/slow.bin" 0.05 | first | tr "\n" "|"; echo' \
	"closed after K of $(wc -c <"$T/slow.bin") bytes||"
check_out 'requests each whole within it are acked, however long the connection' \
	'$PY "$HOSTILE" pieces $port 6 0.1' 'acked 6 of 6'
stop req
check 'the late request is logged as dropped' \
	'grep -q "request not whole 1000 ms after its first byte (--request-timeout): dropped, not acked" "$T/req.err"'
check_out 'and nothing of it was written' \
	'$PY "$DATA/fwd.py" decode <"$T/req.out" | cut -f2 | sort -u' 't.pieces'

printf 'POST /t.slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"a":1}\r\n' >"$T/http.bin"
lrecv --http 127.0.0.1:0 --port-file "$T/http.port" --request-timeout 1s \
	>"$T/http.out" 2>"$T/http.err" &
hpid=$!
wait_for "test -s '$T/http.port'"
hport=$(sed -n 's/^http //p' "$T/http.port")
$PY "$HOSTILE" trickle $hport "$T/http.bin" 0.1 >"$T/http.trickle"
check_out 'HTTP: a trickled request gets 408 at --request-timeout' \
	'head -n 1 "$T/http.trickle" | first; sed -n 2p "$T/http.trickle" | xxd -r -p | head -n 1 | tr -d "\r"' \
	"$(printf '%s\n' 'closed after K of 94 bytes' 'HTTP/1.1 408 Request Timeout')"
kill $hpid
wait $hpid

# --max-connections 10 with Forward and HTTP: Forward may hold 9
lrecv --listen 127.0.0.1:0 --http 127.0.0.1:0 --port-file "$T/res.port" \
	--max-connections 10 >"$T/res.out" 2>"$T/res.err" &
rpid=$!
wait_for "test -s '$T/res.port'"
fport=$(head -n 1 "$T/res.port")
hport=$(sed -n 's/^http //p' "$T/res.port")
$PY "$HOSTILE" hold $fport 12 "$T/ready" "$T/go" >"$T/hold.out" 2>&1 &
holder=$!
wait_for "test -e '$T/ready'"
check '12 Forward clients that stay: the tenth and later are refused' \
	'wait_for "grep -q \"10 connections open\\|9 connections open, 9 of them Forward\" \"$T/res.err\""'
printf '{"r":1}' >"$T/r.json"
check_out 'an HTTP client still gets in and is served' \
	'$PY "$HOSTILE" expect $hport t.reserve "{\"r\":1}" | tail -n 1' \
	'HTTP/1.1 200 OK'
touch "$T/go"
wait $holder
check_out 'the refused ones saw the connection closed' 'cat "$T/hold.out"' \
	'closed by the server: 3'
kill $rpid
wait $rpid
check 'the refusals are logged once, with the reserve' \
	'test $(grep -c "a tenth kept for each other listener" "$T/res.err") = 1'
check_out 'the HTTP event was written' \
	'$PY "$DATA/fwd.py" decode <"$T/res.out" | cut -f2-' \
	"$(printf 't.reserve\t{"r":1}')"
