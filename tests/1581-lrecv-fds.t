#!/bin/sh
# lrecv out of file descriptors: it stops accepting for a while instead
# of spinning and logging each failed accept(2), and recovers
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
PEER="$DATA/fwdpeer.py"
HOSTILE="$DATA/1580-hostile.py"
plan 6

# cpu PID: user and system clock ticks used so far
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

(ulimit -n 32 && exec lrecv --listen 127.0.0.1:0 --port-file "$T/port" \
	>"$T/out" 2>"$T/err") &
pid=$!
wait_for "test -s '$T/port'" || echo "# lrecv did not start"
port=$(cat "$T/port")

$PY "$HOSTILE" hold $port 80 "$T/ready" "$T/go" >"$T/hold.out" 2>&1 &
hpid=$!
wait_for "test -e '$T/ready'"
check 'with 80 clients and 32 descriptors, accept(2) fails and it says so' \
	'wait_for "grep -q \"unable to accept a connection: Too many open files\" \"$T/err\""'
t0=$(cpu $pid)
sleep 1
t1=$(cpu $pid)
check "it does not spin while out of descriptors ($((t1 - t0)) ticks in 1 s)" \
	'test $((t1 - t0)) -lt 30'
check "and logs once, not once per try ($(wc -c <"$T/err") bytes)" \
	'test $(wc -c <"$T/err") -lt 1000'
touch "$T/go"
wait $hpid
hex2bin "$VECTORS/packed_ack.c2s.hex" >"$T/ack.bin"
check_same 'once they leave, a new client is served' \
	'$PY "$PEER" send $port "$T/ack.bin"' \
	'tr -d " \n" <"$VECTORS/packed_ack.s2c.hex"; echo'
check 'lrecv is still up' 'kill -0 $pid'
kill $pid
wait $pid
rc=$?
check_out 'SIGTERM: exit 0' 'echo $rc' 0
