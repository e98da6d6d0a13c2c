#!/bin/sh
# lrecv: in_forward's JSON mode (a connection whose first byte is [ or {)
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 17

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
decode() { $PY "$FWD" decode <"$1"; }

# Message and Forward requests with chunks; strings holding brackets,
# quotes and escapes; a null heartbeat; a float time; white space between
cat >"$T/acks.json" <<'EOF'
["j.msg", 1502880723, {"a": 1}, {"chunk": "c-1\n"}]
  ["j.fwd", [[1502880724, {"b": "x]}"}], [1502880725.25, {"c": null}]],
   {"chunk": "fwd-2", "size": 2}]
null
["j.esc\"[", 1502880726, {"s": "q\"{[\\"}, {"chunk": "x\"]}y"}]
["j.none", [], {"chunk": "empty-3"}]["j.noack", 7, {"n": 7}]
EOF
ACKS='{"ack":"c-1\n"}{"ack":"fwd-2"}{"ack":"x\"]}y"}{"ack":"empty-3"}'

start main
hex2bin "$VECTORS/probe_json_message.c2s.hex" >"$T/probe.json"
check_out "Fluentd's captured JSON request: accepted, no reply" \
	'$PY "$PEER" text $port "$T/probe.json"' ''
check_out 'JSON acks, byte for byte, in order' \
	'$PY "$PEER" text $port "$T/acks.json"' "$ACKS"
check_out 'the same sent in pieces of 3 bytes' \
	'$PY "$PEER" text $port "$T/acks.json" 3' "$ACKS"
printf '["j.t", 1, {"a": 1}] ["j.t", 2, {"a": tru}] ' >"$T/bad.json"
check_out 'bad JSON: the connection is closed' \
	'$PY "$PEER" text $port "$T/bad.json"' ''
printf '["j.trunc", 1, {"a": 1' >"$T/trunc.json"
$PY "$PEER" text $port "$T/trunc.json" >/dev/null
printf '["j.t", true, {"a": 1}]' >"$T/types.json"
$PY "$PEER" text $port "$T/types.json" >/dev/null
printf '{"not": "an event"}' >"$T/map.json"
$PY "$PEER" text $port "$T/map.json" >/dev/null
check_out 'after all that, the server still serves' \
	'$PY "$PEER" text $port "$T/acks.json"' "$ACKS"
stop main
cat >"$T/want" <<'EOF'
1502880723.000000000	probe.json	{"json":"message"}
1502880723.000000000	j.msg	{"a":1}
1502880724.000000000	j.fwd	{"b":"x]}"}
1502880725.250000000	j.fwd	{"c":null}
1502880726.000000000	j.esc"[	{"s":"q\"{[\\"}
7.000000000	j.noack	{"n":7}
EOF
check_same 'every event written, as JSON had them' \
	'decode "$T/main.out" | head -n 6' 'cat "$T/want"'
check_same 'the three good connections gave the same events' \
	'decode "$T/main.out" | tail -n +2 | grep -v "j\.t	" | sort | uniq -c | tr -s " "' \
	'tail -n +2 "$T/want" | sort | sed "s/^/ 3 /"'
check 'bad JSON: logged with the byte and the problem' \
	'grep -q "byte 41: bad JSON: unexpected character .}. (connection closed)" "$T/main.err"'
check 'truncated JSON: logged' \
	'grep -q "byte 22: bad JSON: unexpected end of input" "$T/main.err"'
check 'a bad event in JSON: logged as for msgpack' \
	'grep -q "byte 0: event time is a boolean, not a time (connection closed)" "$T/main.err"'
check 'a JSON value that is not an event: logged' \
	'grep -q "byte 0: expected an event .*found a map" "$T/main.err"'
check_same 'the good event before the bad JSON is written' \
	'decode "$T/main.out" | grep -c "j\.t	"' 'echo 1'

# limits and the handshake
start limit --chunk-size-limit 1k
$PY -c 'import json; print(json.dumps(["j.big", 1, {"pad": "x" * 3000}, {"chunk": "big"}]))' \
	>"$T/big.json"
check_out 'a JSON request over --chunk-size-limit: not acked' \
	'$PY "$PEER" text $port "$T/big.json"' ''
stop limit
check 'and logged as dropped' \
	'grep -q "larger than --chunk-size-limit 1024: dropped" "$T/limit.err"'
start key --shared-key s3cr3t
check_out 'with --shared-key, a JSON client gets the HELO only, and is closed' \
	'$PY "$PEER" text $port "$T/acks.json" | wc -c | tr -d " "' 66
stop key
check 'JSON with --shared-key: logged, nothing written' \
	'grep -q "JSON requests cannot do the --shared-key handshake" "$T/key.err" &&
	 test ! -s "$T/key.out"'

# a unix socket speaks JSON too
UNIXJSON='import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"[\"j.unix\", 1, {\"u\": 1}, {\"chunk\": \"u1\"}]")
s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode())'
lrecv --unix "$T/sock" >"$T/unix.out" 2>"$T/unix.err" &
upid=$!
wait_for "test -S '$T/sock'"
check_out 'JSON over --unix: the JSON ack' '$PY -c "$UNIXJSON" "$T/sock"' \
	'{"ack":"u1"}'
kill $upid; wait $upid
