#!/bin/sh
# lforward reads stdin as every filter does (common/input): --skip-invalid,
# --max-event-size and one --stats; a stdin it cannot read is a system
# failure (exit 4), not bad data (exit 3)
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 16

# recv NAME: an lrecv on a free loopback port; $port.  done NAME: stop it
recv() {
	rm -f "$T/$1.port"
	lrecv --listen 127.0.0.1:0 --port-file "$T/$1.port" \
		>"$T/$1.out" 2>"$T/$1.err" &
	echo $! >"$T/$1.pid"
	wait_for "test -s '$T/$1.port'" || echo "# lrecv $1 did not start"
	port=$(head -n 1 "$T/$1.port")
}
done_recv() {
	kill "$(cat "$T/$1.pid")" 2>/dev/null
	wait "$(cat "$T/$1.pid")"
}
decode() { $PY "$FWD" decode <"$1"; }
# every run is bounded; nothing listens on port 1
lf() { timeout -k 2 30 lforward --heartbeat none "$@"; }

$PY "$FWD" events 3 lf.in >"$T/a.bin"
$PY "$FWD" events 2 lf.in2 >"$T/b.bin"
printf '\301\301garbage\300' >"$T/junk.bin"
cat "$T/a.bin" "$T/junk.bin" "$T/b.bin" >"$T/dirty.bin"
# one event of about 600 bytes, after the three small ones
pad=$(printf '%0600d' 0)
printf '{"big":"%s"}\n' "$pad" | lcat lf.big >"$T/big.bin"
cat "$T/a.bin" "$T/big.bin" "$T/b.bin" >"$T/long.bin"

# a read error on stdin is a system failure: exit 4, said
check_err 'stdin a directory: unable to read it, exit 4 (not 3)' 4 \
	'lf --retry-max-times 0 127.0.0.1:1 </' 'unable to read stdin'
# stdin a TCP connection: three events, and once the receiver has them,
# a reset, so that the next read fails (ECONNRESET)
cat >"$T/rst.py" <<'PYEOF'
import os, socket, struct, subprocess, sys, time
data, out = open(sys.argv[1], "rb").read(), sys.argv[2]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
c = socket.create_connection(ls.getsockname())
s, _ = ls.accept()
p = subprocess.Popen(sys.argv[3:], stdin=c)
c.close()
s.sendall(data)
end = time.time() + 20
while time.time() < end and os.path.getsize(out) < len(data) - 10:
    time.sleep(0.05)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
sys.exit(p.wait(timeout=30))
PYEOF
recv e
check_err 'events delivered, then a read of stdin fails: exit 4' 4 \
	'$PY "$T/rst.py" "$T/a.bin" "$T/e.out" lforward --heartbeat none --ack 127.0.0.1:$port' \
	'unable to read stdin: Connection reset by peer'
done_recv e
check 'the three events before the failed read were delivered' \
	'test "$(decode "$T/e.out" | wc -l | tr -d " ")" = 3'
recv r

# --skip-invalid: the bad bytes skipped, counted, said; the rest delivered
check_err '--skip-invalid: bad bytes skipped, exit 0' 0 \
	'lf --ack --skip-invalid 127.0.0.1:$port <"$T/dirty.bin"' \
	'stdin: skipped 10 bytes of invalid input in 1 places'
check_err 'without it: the events before delivered, exit 3' 3 \
	'lf --ack 127.0.0.1:$port <"$T/dirty.bin"' 'invalid msgpack byte 0xc1'
check_err '--skip-invalid --stats: one line, the skipped place dropped' 0 \
	'lf --ack --skip-invalid --stats 127.0.0.1:$port <"$T/dirty.bin"' \
	'events in 5, out 5, dropped 1,'
check 'the --stats line has lforward'"'"'s own counters, once' \
	'test $(grep -c "delivered 5, undelivered 0, requests" "$T/.err") = 1'

# --max-event-size: a longer event is bad data after the shorter ones
check_err '--max-event-size 200: the long event is bad data, exit 3' 3 \
	'lf --ack --max-event-size 200 127.0.0.1:$port <"$T/long.bin"' \
	'event larger than 200 bytes (see --max-event-size)'
check_err '--max-event-size 1k: every event delivered, exit 0' 0 \
	'lf --ack --max-event-size 1k --stats 127.0.0.1:$port <"$T/long.bin"' \
	'events in 6, out 6, dropped 0'
check_err '--skip-invalid --max-event-size 200: the long one skipped' 0 \
	'lf --ack --skip-invalid --max-event-size 200 --stats 127.0.0.1:$port <"$T/long.bin"' \
	'events in 5, out 5, dropped 1,'
done_recv r
check_same 'the receiver got what each run said it delivered' \
	'decode "$T/r.out" | cut -f2 | sort | uniq -c | tr -s " "' \
	'printf " 1 lf.big\n 18 lf.in\n 8 lf.in2\n"'

check_err '--max-event-size over 1G: usage error' 2 \
	'lf --max-event-size 2g 127.0.0.1:1 </dev/null' \
	'--max-event-size goes up to 1G'
check_err '--max-event-size 0: usage error' 2 \
	'lf --max-event-size 0 127.0.0.1:1 </dev/null' \
	"bad size '0' for --max-event-size"
check '--help lists --stats once, with the input options' \
	'lforward --help >"$T/help" &&
	 test $(grep -c -- "--stats" "$T/help") = 1 &&
	 grep -q -- "--skip-invalid" "$T/help" &&
	 grep -q -- "--max-event-size SIZE" "$T/help"'
check_err 'undelivered events still make exit 4 with --skip-invalid' 4 \
	'lf --skip-invalid --retry-max-times 0 127.0.0.1:1 <"$T/dirty.bin"' \
	'5 of 5 events not delivered'
check_err '--chunk-limit-size over 1G: usage error (32-bit entries length)' 2 \
	'lf --chunk-limit-size 5g 127.0.0.1:1 </dev/null' \
	"bad size '5g' for --chunk-limit-size (1 to 1G)"
