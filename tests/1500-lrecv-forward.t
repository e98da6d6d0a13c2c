#!/bin/sh
# lrecv: every carrier shape, Fluentd's captured requests and replies, acks
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 22

# start NAME ARGS...: lrecv in the background; $T/NAME.{out,err,port}
start() { lrecv_start "$@"; }
# stop NAME: SIGTERM, wait, keep the exit status in $T/NAME.rc
stop() { lrecv_stop "$@"; }
vec() { tr -d ' \n' <"$VECTORS/$1"; echo; }
decode() { $PY "$FWD" decode <"$1"; }
MSGMODE='import msgpack, sys
for o in msgpack.Unpacker(sys.stdin.buffer, raw=True):
    assert len(o) == 3 and isinstance(o[0], bytes) and isinstance(o[2], dict)
    assert o[1].code == 0 and len(o[1].data) == 8' 

start main
$PY "$FWD" shapes >"$T/shapes.bin"
check_same 'every carrier shape: acks for the chunk options, in order' \
	'$PY "$PEER" send $port "$T/shapes.bin"' \
	'echo 81a361636ba2633181a361636ba26332'
for v in packed_ack packed_gzip_ack probe_message_int_ack probe_forward_ack \
	probe_packed_bin_ack probe_packed_str32_ack probe_compressed_gzip_ack; do
	hex2bin "$VECTORS/$v.c2s.hex" >"$T/$v.bin"
	check_same "$v: Fluentd's ack reply, byte for byte" \
		'$PY "$PEER" send $port "$T/$v.bin"' 'vec $v.s2c.hex'
done
for v in packed_plain fluentcat_forward probe_message_eventtime; do
	hex2bin "$VECTORS/$v.c2s.hex" >"$T/$v.bin"
	check_same "$v: no reply" '$PY "$PEER" send $port "$T/$v.bin"' 'echo'
done
check_same 'UDP heartbeat answered with one 0 byte' \
	'$PY "$PEER" udp $port' 'echo 00'
stop main
check 'SIGTERM: exit 0' 'test "$(cat $T/main.rc)" = 0'
cat "$T/shapes.bin" "$T/packed_ack.bin" "$T/packed_gzip_ack.bin" \
	"$T/probe_message_int_ack.bin" "$T/probe_forward_ack.bin" \
	"$T/probe_packed_bin_ack.bin" "$T/probe_packed_str32_ack.bin" \
	"$T/probe_compressed_gzip_ack.bin" "$T/packed_plain.bin" \
	"$T/fluentcat_forward.bin" "$T/probe_message_eventtime.bin" >"$T/all.bin"
check_same 'every event written, in order, as python decodes the requests' \
	'decode "$T/main.out"' 'decode "$T/all.bin"'
check 'stdout is Message mode only: [str, EventTime, map]' \
	'$PY -c "$MSGMODE" <"$T/main.out"'

# time 0 means now; tag prefix and source address
start keys --add-tag-prefix pre --source-address-key src
$PY -c 'import msgpack,sys; sys.stdout.buffer.write(msgpack.packb(["t0", 0, {"a": 1, "src": "x"}]))' >"$T/t0.bin"
$PY "$PEER" send $port "$T/t0.bin" >/dev/null
stop keys
check 'time 0 becomes now' \
	'decode "$T/keys.out" | awk -F. -v now=$(date +%s) "{ exit !(\$1 >= now - 60 && \$1 <= now + 1) }"'
check_same '--add-tag-prefix and --source-address-key (replacing the field)' \
	'decode "$T/keys.out" | cut -f2-' \
	'printf "pre.t0\t{\"a\":1,\"src\":\"127.0.0.1\"}\n"'

# many chunks with acks on one connection, and many connections at once
start many
check_same '200 chunks of 50 events: every chunk acked, in order' \
	'$PY "$PEER" acks $port 200 50' 'echo "acked 200 of 200"'
i=0
while [ $i -lt 20 ]; do
	$PY "$PEER" acks $port 20 100 >"$T/par.$i" &
	i=$((i + 1))
done
wait_for 'test $(cat "$T"/par.* | grep -c "acked 20 of 20") = 20' 300
check '20 clients at once: every chunk acked' \
	'test $(cat "$T"/par.* | grep -c "acked 20 of 20") = 20'
stop many
check_same 'none lost, none doubled: 10000 + 40000 events' \
	'decode "$T/many.out" | wc -l | tr -d " "' 'echo 50000'

# unix socket
lrecv --unix "$T/sock" >"$T/unix.out" 2>"$T/unix.err" &
upid=$!
wait_for "test -S '$T/sock'"
$PY -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], "rb").read()); s.shutdown(1); s.recv(100)' \
	"$T/sock" "$T/packed_plain.bin"
kill $upid; wait $upid
check_same '--unix: events arrive' 'decode "$T/unix.out"' \
	'decode "$T/packed_plain.bin"'
check '--unix: the socket file is removed at exit' 'test ! -e "$T/sock"'
