#!/bin/sh
# lforward: delivery to lrecv, the bytes out_forward writes, the exit status
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 19

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
# fake NAME MODE [CAPTURE]: the python server; $fport
fake() {
	$PY "$PEER" server "$T/$1.port" "$2" 20 ${3:-} >"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.pid"
	wait_for "test -s '$T/$1.port'"
	fport=$(cat "$T/$1.port")
}
decode() { $PY "$FWD" decode <"$1"; }
$PY "$FWD" events 3000 lf.test >"$T/ev.bin"
$PY "$FWD" shapes >"$T/shapes.bin"
cat "$T/ev.bin" "$T/shapes.bin" >"$T/in.bin"
HB="--heartbeat none"

start a
check_exit 'plain: exit 0' 0 'lforward $HB 127.0.0.1:$port <"$T/in.bin"'
check_exit '--ack: exit 0' 0 'lforward $HB --ack 127.0.0.1:$port <"$T/in.bin"'
check_exit '--ack --compress gzip --chunk-limit-records 7: exit 0' 0 \
	'lforward $HB --ack --compress gzip --chunk-limit-records 7 127.0.0.1:$port <"$T/in.bin"'
stop a
check_same 'every event arrived three times, as sent' \
	'decode "$T/a.out" | sort' \
	'(decode "$T/in.bin"; decode "$T/in.bin"; decode "$T/in.bin") | sort'
start t
lforward $HB --time-as-integer 127.0.0.1:$port <"$T/ev.bin"
stop t
check_same '--time-as-integer: whole seconds' \
	'decode "$T/t.out" | cut -d. -f2 | cut -f1 | sort -u' 'echo 000000000'

# byte for byte what Fluentd's out_forward sent in the capture
start v
hex2bin "$VECTORS/packed_plain.c2s.hex" | $PY "$PEER" send $port /dev/stdin >/dev/null
stop v
fake cap silent "$T/cap.bin"
lforward $HB 127.0.0.1:$fport <"$T/v.out"
wait_for 'grep -q "^request" "$T/cap.log"'
check_same 'PackedForward request identical to out_forward'"'"'s capture' \
	'xxd -p "$T/cap.bin" | tr -d "\n"' \
	'tr -d " \n" <"$VECTORS/packed_plain.c2s.hex"'
kill "$(cat "$T/cap.pid")"
CHECKOPT='import base64, msgpack, sys
o = msgpack.unpackb(open(sys.argv[1], "rb").read(), raw=True)
keys = list(o[2].keys())
assert keys == [b"size", b"compressed", b"chunk"], keys
c = o[2][b"chunk"]
assert len(c) == 25 and c.endswith(b"\n") and len(base64.b64decode(c)) == 16'
fake cap2 ack "$T/cap2.bin"
check_exit '--ack against a server that acks as Fluentd does: exit 0' 0 \
	'lforward $HB --ack 127.0.0.1:$fport <"$T/v.out"'
kill "$(cat "$T/cap2.pid")"
check 'with --ack: option {size, compressed, chunk}, chunk id as Fluentd makes it' \
	'$PY -c "$CHECKOPT" "$T/cap2.bin"'

# failures
check_err 'no server: exit 4, the count said' 4 \
	'lforward $HB --retry-max-times 1 --retry-wait 50ms 127.0.0.1:1 <"$T/ev.bin"' \
	'3000 of 3000 events not delivered'
fake silent silent
check_err 'no ack: resent after --ack-timeout, then given up, exit 4' 4 \
	'lforward $HB --ack --ack-timeout 300ms --retry-max-times 1 --retry-wait 50ms 127.0.0.1:$fport <"$T/ev.bin"' \
	'no ack within --ack-timeout'
wait_for "test \$(grep -c ^request \"$T/silent.log\") -ge 2" 50
kill "$(cat "$T/silent.pid")"
wait "$(cat "$T/silent.pid")" 2>/dev/null
check 'the resend carries the same chunk id' \
	'test $(grep -c ^request "$T/silent.log") = 2 &&
	 test $(grep ^request "$T/silent.log" | cut -d" " -f4 | sort -u | wc -l) = 1'
printf '\223\242ok\001\201\241a\001\301garbage' >"$T/bad.bin"
start b
check_err 'bad input: good events delivered, then exit 3' 3 \
	'lforward $HB 127.0.0.1:$port <"$T/bad.bin"' 'invalid msgpack byte 0xc1'
stop b
check_same 'the event before the bad bytes arrived' 'decode "$T/b.out" | cut -f2-' \
	'printf "ok\t{\"a\":1}\n"'

# SIGTERM with nowhere to deliver: exits within --shutdown-timeout, exit 4
mkfifo "$T/fifo"
lforward $HB --retry-forever --retry-wait 50ms --shutdown-timeout 500ms \
	127.0.0.1:1 <"$T/fifo" 2>"$T/term.err" &
lpid=$!
exec 7>"$T/fifo"
cat "$T/ev.bin" >&7
sleep 0.3
kill -TERM $lpid
wait $lpid
rc=$?
exec 7>&-
check 'SIGTERM: exit 4 after --shutdown-timeout' 'test $rc = 4'
check 'SIGTERM: says how many were not delivered' \
	'grep -q "3000 of 3000 events not delivered" "$T/term.err"'

# shared key and users, against lrecv
start k --shared-key s3cr3t --self-hostname recv.example --user alice:pa55w0rd
check_exit 'shared key + user: delivered, exit 0' 0 \
	'lforward $HB --ack --shared-key s3cr3t --self-hostname send.example --username alice --password pa55w0rd 127.0.0.1:$port <"$T/ev.bin"'
check_err 'wrong shared key: exit 4, the reason logged' 4 \
	'lforward $HB --ack --shared-key nope --username alice --password pa55w0rd --retry-max-times 0 127.0.0.1:$port <"$T/ev.bin"' \
	'authentication failed: shared_key mismatch'
check_err 'wrong password: exit 4' 4 \
	'lforward $HB --shared-key s3cr3t --username alice --password x --retry-max-times 0 127.0.0.1:$port <"$T/ev.bin"' \
	'username/password mismatch'
stop k
check_same 'only the authenticated run was written' \
	'decode "$T/k.out" | wc -l | tr -d " "' 'echo 3000'
