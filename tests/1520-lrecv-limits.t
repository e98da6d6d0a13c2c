#!/bin/sh
# lrecv: bad input, size limits, idle clients, backpressure from stdout
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 14

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
hex2bin "$VECTORS/packed_ack.c2s.hex" >"$T/ack.bin"
ACKHEX=$(tr -d ' \n' <"$VECTORS/packed_ack.s2c.hex")

start bad --idle-timeout 500ms --chunk-size-limit 2k --chunk-size-warn 200
# random bytes after a boolean (0xc3), so the first value
# always fails the same way
{ printf '\303'; head -c 2999 /dev/urandom; } >"$T/random.bin"
$PY "$PEER" send $port "$T/random.bin" >/dev/null
printf '\223\252debug.test' >"$T/trunc.bin"
$PY "$PEER" send $port "$T/trunc.bin" >/dev/null
$PY -c 'import msgpack,sys; sys.stdout.buffer.write(msgpack.packb(["t", True, {"a": 1}]) + msgpack.packb(["t", 1, [1, 2]]))' >"$T/types.bin"
$PY "$PEER" send $port "$T/types.bin" >/dev/null
$PY "$FWD" events 100 big | $PY -c 'import msgpack,sys
ents = b"".join(msgpack.packb([o[1], o[2]]) for o in msgpack.Unpacker(sys.stdin.buffer, raw=False))
sys.stdout.buffer.write(msgpack.packb(["big", ents, {"chunk": "big-1"}], use_bin_type=True))' >"$T/big.bin"
check_same 'a request over --chunk-size-limit is not acked' \
	'$PY "$PEER" send $port "$T/big.bin"' 'echo'
check_same 'after all that, the server still serves' \
	'$PY "$PEER" send $port "$T/ack.bin"' 'echo $ACKHEX'
$PY -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
t = time.time(); b = s.recv(10); print("closed" if b == b"" and time.time() - t < 4 else "open")' $port >"$T/idle.txt" 2>&1
check_same 'a client that sends nothing is closed after --idle-timeout' \
	'cat "$T/idle.txt"' 'echo closed'
stop bad
check 'random bytes: logged, connection closed' \
	'grep -q "byte 0: expected an event .* (connection closed)" "$T/bad.err"'
check 'a truncated request: logged' \
	'grep -q "truncated event" "$T/bad.err"'
check 'wrong types: logged with what was found' \
	'grep -q "event time is a boolean, not a time" "$T/bad.err"'
check 'oversize: logged as dropped, not acked' \
	'grep -q "larger than --chunk-size-limit 2048: dropped, not acked" "$T/bad.err"'
check '--chunk-size-warn logs a request over it' \
	'grep -q "request of 252 bytes is larger than --chunk-size-warn 200" "$T/bad.err"'
check 'the silent client is logged' 'grep -q "sent nothing in" "$T/bad.err"'
check_same 'only the good request was written' \
	'$PY "$FWD" decode <"$T/bad.out" | wc -l | tr -d " "' 'echo 2'

start skip --skip-invalid-event
$PY -c 'import msgpack,sys; w = sys.stdout.buffer.write
w(msgpack.packb(["t", 1, {"a": 1}])); w(msgpack.packb(["t", "bad", {"a": 2}]))
w(msgpack.packb(["t", 3, {"a": 3}]))' >"$T/mixed.bin"
$PY "$PEER" send $port "$T/mixed.bin" >/dev/null
stop skip
check_same '--skip-invalid-event: the good events around a bad one are kept' \
	'$PY "$FWD" decode <"$T/skip.out" | cut -f3' \
	'printf "%s\n" "{\"a\":1}" "{\"a\":3}"'
check 'and the skip is reported at exit' \
	'grep -q "skipped invalid data in 1 places" "$T/skip.err"'

# backpressure: stdout is not read for 2 s while 100 chunks of 2000 events
# arrive with acks; nothing is lost and memory stays bounded
mkfifo "$T/fifo"
lrecv --listen 127.0.0.1:0 --port-file "$T/bp.port" >"$T/fifo" 2>"$T/bp.err" &
bpid=$!
(sleep 2; cat "$T/fifo" >"$T/bp.out") &
cpid=$!
wait_for "test -s '$T/bp.port'"
$PY "$PEER" acks "$(cat "$T/bp.port")" 100 2000 >"$T/bp.acks"
rss=$(awk '/VmHWM/ { print $2 }' /proc/$bpid/status)
kill $bpid; wait $bpid; wait $cpid
check_same 'a slow stdout: every chunk acked, every event written' \
	'cat "$T/bp.acks"; $PY "$FWD" decode <"$T/bp.out" | wc -l | tr -d " "' \
	'echo "acked 100 of 100"; echo 200000'
check "a slow stdout: peak memory bounded (${rss} kB < 80 MB)" \
	'test "$rss" -lt 81920'
