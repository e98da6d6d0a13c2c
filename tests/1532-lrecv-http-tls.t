#!/bin/sh
# lrecv --http tls:[ADDR]:PORT and --metrics tls:[ADDR]:PORT: HTTPS with
# --cert and --key (and --ca-file for client certificates), the handshake
# bounded by --handshake-timeout; tls: without --cert is a usage error
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 20

tls_certs

# code URL [CURL-ARG...]: the HTTP status of a request (a 10 s bound)
code() {
	_u=$1
	shift
	curl -s -m 10 --cacert "$T/ca.pem" -o "$T/body" -w '%{http_code}\n' \
		"$@" "$_u"
}
# n TAG FILE: how many events with TAG lrecv wrote to FILE
n() { $PY "$FWD" decode <"$2" | grep -cF "	$1	"; }

lrecv --http tls:127.0.0.1:0 --metrics tls:127.0.0.1:0 --cert "$T/server.pem" \
	--key "$T/server.key" --handshake-timeout 1s --port-file "$T/port" \
	>"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'"
H=https://127.0.0.1:$(sed -n 's/^http //p' "$T/port")
M=https://127.0.0.1:$(sed -n 's/^metrics //p' "$T/port")
HP=$(sed -n 's/^http //p' "$T/port")

check_out 'https: curl --cacert posts a JSON record, 200' \
	'code $H/tls.one -H Content-Type:application/json -d "{\"a\":1}"' 200
check 'https: the event comes out, its record whole' \
	'wait_for "[ \$(n tls.one $T/out) -eq 1 ]" 50 &&
	$PY "$FWD" decode <"$T/out" | grep -F "	tls.one	" | grep -qF "{\"a\":1}"'
$PY -c 'import sys
for i in range(3000):
    sys.stdout.write("{\"i\":%d,\"pad\":\"%s\"}\n" % (i, "y" * 200))' >"$T/big"
check_out 'https: 3000 ndjson records in one body (many TLS records), 200' \
	'code $H/tls.big -H Content-Type:application/x-ndjson --data-binary @"$T/big"' 200
check 'https: all 3000 come out' \
	'wait_for "[ \$(n tls.big $T/out) -eq 3000 ]" 100'
check 'https: two requests on one kept-alive connection, both come out' \
	'curl -s -m 10 --cacert "$T/ca.pem" -H Content-Type:application/json \
	-d "{\"k\":1}" -o /dev/null -w "%{num_connects}\n" $H/tls.ka \
	-: --cacert "$T/ca.pem" -H Content-Type:application/json \
	-d "{\"k\":2}" -o /dev/null -w "%{num_connects}\n" $H/tls.ka >"$T/nc" &&
	[ "$(tr -d "\n" <"$T/nc")" = 10 ] &&
	wait_for "[ \$(n tls.ka $T/out) -eq 2 ]" 50'
check_out 'https: /api/v1/health on the tls: --metrics is 200' \
	'code $M/api/v1/health' 200
check 'https: /metrics counts the events' \
	'curl -s -m 10 --cacert "$T/ca.pem" $M/metrics >"$T/scrape" &&
	grep -q "^lkit_events_out_total{.*} 3003\$" "$T/scrape"'
check 'plain HTTP to the tls: --http port gets no HTTP answer' \
	'! curl -s -m 10 -o /dev/null -d "{\"a\":1}" http://127.0.0.1:$HP/tls.plain'
check 'plain HTTP to the tls: --metrics port gets no HTTP answer' \
	'! curl -s -m 10 -o /dev/null http${M#https}/metrics'
check_out 'lrecv keeps serving HTTPS after them' \
	'code $H/tls.after -H Content-Type:application/json -d "{\"b\":2}"' 200
check "the failed handshakes are said" \
	'cat "$T/err"; [ $(grep -c "TLS handshake failed" "$T/err") -ge 2 ]'
check 'a client silent in the handshake is closed after --handshake-timeout' \
	'$PY -c "import socket,sys
s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])), timeout=20)
assert s.recv(100) == b\"\"" $HP &&
	grep -q "handshake not done" "$T/err"'
kill $pid
wait $pid
check 'lrecv stops cleanly, no event of the plain requests' \
	'[ $? -eq 0 ] && [ $(n tls.plain $T/out) -eq 0 ] &&
	[ $(n tls.after $T/out) -eq 1 ]'

# --ca-file: HTTPS clients need a certificate signed by the CA
lrecv --http tls:127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" \
	--ca-file "$T/ca.pem" --port-file "$T/port2" >"$T/out2" 2>"$T/err2" &
pid=$!
wait_for "test -s '$T/port2'"
H=https://127.0.0.1:$(sed -n 's/^http //p' "$T/port2")
check '--ca-file: a client without a certificate is refused' \
	'! curl -s -m 10 --cacert "$T/ca.pem" -o /dev/null -H Content-Type:application/json \
	-d "{\"c\":1}" $H/tls.ca'
check_out '--ca-file: a client with one signed by the CA posts, 200' \
	'code $H/tls.ca --cert "$T/client.pem" --key "$T/client.key" \
	-H Content-Type:application/json -d "{\"c\":2}"' 200
kill $pid
wait $pid
check '--ca-file: just the one event' '[ $(n tls.ca $T/out2) -eq 1 ]'

# stdout stalled: a tls: --metrics is not served (plain ones answer 503
# at once), its clients wait until stdout drains
STALL='import socket, ssl, sys, os, signal
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
t = ctx.wrap_socket(s, server_hostname="127.0.0.1",
                    do_handshake_on_connect=False)
t.settimeout(1)
try:
    t.do_handshake()
    sys.exit("answered while stdout is stalled")
except socket.timeout:
    pass
os.kill(int(sys.argv[3]), signal.SIGCONT)
t.settimeout(60)
t.do_handshake()
t.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
r = b""
while True:
    d = t.recv(4096)
    if not d:
        break
    r += d
print(r.split(b" ")[0].decode())'
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/out3" &
cp=$!
lrecv --http tls:127.0.0.1:0 --metrics tls:127.0.0.1:0 --cert "$T/server.pem" \
	--key "$T/server.key" --port-file "$T/port3" --metrics-file "$T/m.prom" \
	--metrics-interval 50ms >"$T/fifo" 2>"$T/err3" &
pid=$!
wait_for "test -s '$T/port3'"
H=https://127.0.0.1:$(sed -n 's/^http //p' "$T/port3")
MP=$(sed -n 's/^metrics //p' "$T/port3")
kill -STOP $cp
$PY -c 'import sys
line = "{\"m\":\"" + "x" * 1000 + "\"}\n"
sys.stdout.write(line * 10000)' >"$T/stall"
curl -s -m 60 --cacert "$T/ca.pem" -o /dev/null -H Content-Type:application/x-ndjson \
	--data-binary @"$T/stall" $H/tls.stall &
bp=$!
wait_for "grep -q '^lkit_healthy{.*} 0' '$T/m.prom'" 100
check_out 'stalled: a tls: --metrics client waits, is served once stdout drains' \
	'$PY -c "$STALL" $MP "$T/ca.pem" $cp' 'HTTP/1.1'
kill -CONT $cp
wait $bp
kill $pid
wait $pid
wait $cp
check 'stalled: every event got through' '[ $(n tls.stall $T/out3) -eq 10000 ]'

check_err '--http tls: without --cert is a usage error' 2 \
	'lrecv --http tls:127.0.0.1:0' '--http tls:127.0.0.1:0 needs --cert and --key'
check_err '--metrics tls: without --cert is a usage error' 2 \
	'lrecv --http 127.0.0.1:0 --metrics tls:127.0.0.1:0' \
	'--metrics tls:127.0.0.1:0 needs --cert and --key'
