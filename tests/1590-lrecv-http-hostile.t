#!/bin/sh
# lrecv --http against hostile requests: sizes that wrap, corrupt gzip,
# ambiguous body lengths (request smuggling); it answers and keeps serving
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 13

lrecv --http 127.0.0.1:0 --port-file "$T/port" --body-size-limit 64k \
	>"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'"
PORT=$(sed -n 's/^http //p' "$T/port")

# raw FILE: sends the bytes of FILE on a new connection and prints the
# status code of the answer ("none" if the connection ends without one)
raw() {
	$PY - "$PORT" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
try:
    s.sendall(open(sys.argv[2], "rb").read())
    got = b""
    while b"\r\n" not in got:
        b = s.recv(4096)
        if not b:
            break
        got += b
except OSError:
    got = b""
line = got.split(b"\r\n", 1)[0].split()
print(line[1].decode() if len(line) > 1 else "none")
EOF
}

# req FILE HEAD-LINES... : a request head (CRLF line ends), then FILE.body
req() {
	_f=$1
	shift
	printf '%s\r\n' "$@" >"$_f"
	printf '\r\n' >>"$_f"
	[ -f "$_f.body" ] && cat "$_f.body" >>"$_f"
	:
}

good() {
	printf '{"ok":%s}' "$2" >"$T/$1.body"
	req "$T/$1" "POST /good.$2 HTTP/1.1" "Content-Type: application/json" \
		"Content-Length: $(wc -c <"$T/$1.body")" "Connection: close"
}

# item 2: a chunk size that wraps the sum of sizes
printf '1\r\n{\r\nffffffffffffffff\r\n"a":1}\r\n0\r\n\r\n' >"$T/wrap.body"
req "$T/wrap" "POST /bad.wrap HTTP/1.1" "Content-Type: application/json" \
	"Transfer-Encoding: chunked"
check 'chunk size ffffffffffffffff: 400 or 413' \
	'r=$(raw "$T/wrap"); echo "$r"; [ "$r" = 400 ] || [ "$r" = 413 ]'
check 'and lrecv lives on' 'kill -0 $pid'
good g1 1
check_out 'it serves a good request afterwards' 'raw "$T/g1"' 200
printf '1\r\n{\r\n10000000000000000\r\n' >"$T/wrap2.body"
req "$T/wrap2" "POST /bad.wrap2 HTTP/1.1" "Transfer-Encoding: chunked"
check 'chunk size of 17 hex digits: 400 or 413' \
	'r=$(raw "$T/wrap2"); echo "$r"; [ "$r" = 400 ] || [ "$r" = 413 ]'

# item 7: corrupt gzip is a bad request, not a too large one
printf '{"gz":1}' | gzip | $PY -c '
import sys
b = bytearray(sys.stdin.buffer.read())
for i in range(10, len(b) - 8):
    b[i] ^= 0x5a
sys.stdout.buffer.write(b)' >"$T/gz.body"
req "$T/gz" "POST /bad.gzip HTTP/1.1" "Content-Type: application/json" \
	"Content-Encoding: gzip" "Content-Length: $(wc -c <"$T/gz.body")"
check_out 'corrupt gzip body: 400' 'raw "$T/gz"' 400

# item 7: ambiguous body lengths
printf '{"cl":1}' >"$T/cl.body"
req "$T/cl" "POST /bad.cl HTTP/1.1" "Content-Type: application/json" \
	"Content-Length: 8" "Content-Length: 3"
check_out 'two different Content-Length: 400' 'raw "$T/cl"' 400
printf '8\r\n{"te":1}\r\n0\r\n\r\n' >"$T/te.body"
req "$T/te" "POST /bad.te HTTP/1.1" "Content-Type: application/json" \
	"Content-Length: 3" "Transfer-Encoding: chunked"
check_out 'Content-Length with chunked: 400' 'raw "$T/te"' 400
printf '{"tg":1}' >"$T/tg.body"
req "$T/tg" "POST /bad.tegzip HTTP/1.1" "Content-Type: application/json" \
	"Transfer-Encoding: gzip" "Content-Length: 8"
check_out 'Transfer-Encoding gzip: 400' 'raw "$T/tg"' 400
printf '{"neg":1}' >"$T/neg.body"
req "$T/neg" "POST /bad.neg HTTP/1.1" "Content-Type: application/json" \
	"Content-Length: -9"
check_out 'negative Content-Length: 400' 'raw "$T/neg"' 400
req "$T/big" "POST /bad.big HTTP/1.1" "Content-Type: application/json" \
	"Content-Length: 99999999999999999999999"
check_out 'Content-Length beyond 64 bits: 400' 'raw "$T/big"' 400

good g2 2
check_out 'and a good request at the end: 200' 'raw "$T/g2"' 200
check 'lrecv is still running' 'kill -0 $pid'
kill $pid
wait $pid
check_same 'only the good requests gave events' \
	'$PY "$FWD" decode <"$T/out" | cut -f2-' \
	'printf "good.1\t{\"ok\":1}\ngood.2\t{\"ok\":2}\n"'
