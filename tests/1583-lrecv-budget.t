#!/bin/sh
# lrecv --memory-limit: one budget for what every connection holds, so
# many half-sent big requests cannot take the memory of the host
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
PEER="$DATA/fwdpeer.py"
HOSTILE="$DATA/1580-hostile.py"
plan 7

# rss PID: resident kB
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# freed buffers must leave, even under AddressSanitizer
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1"
export ASAN_OPTIONS
lrecv --listen 127.0.0.1:0 --port-file "$T/port" --metrics 127.0.0.1:0 \
	--memory-limit 10M >"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'" || echo "# lrecv did not start"
port=$(head -n 1 "$T/port")
M=http://127.0.0.1:$(sed -n 's/^metrics //p' "$T/port")
before=$(rss $pid)

# 8 clients each send 3 MB of a 16 MB request and wait: 32 MB of buffers
$PY "$HOSTILE" partial $port 8 3000000 "$T/ready" "$T/go" >"$T/partial.out" 2>&1 &
ppid=$!
wait_for "test -e '$T/ready'" 300
check 'over the budget, a growing request is dropped and logged' \
	'wait_for "grep -q \"memory-limit 10485760 reached\" \"$T/err\""'
sleep 1         # let it read all that was sent
grew=$(($(rss $pid) - before))
check "lrecv holds about the budget, not all that was sent (grew $grew kB)" \
	'test $grew -lt 20000'
check 'its own count of what connections hold is within the budget' \
	'held=$($PY -c "import urllib.request as u, sys; sys.stdout.write(u.urlopen(sys.argv[1]).read().decode())" $M/metrics | sed -n "s/^lrecv_memory_bytes //p"); test "$held" -le 10485760'
hex2bin "$VECTORS/packed_ack.c2s.hex" >"$T/ack.bin"
check_same 'a small request is still served and acked' \
	'$PY "$PEER" send $port "$T/ack.bin"' \
	'tr -d " \n" <"$VECTORS/packed_ack.s2c.hex"; echo'
touch "$T/go"
wait $ppid
check 'most of the big ones were closed' \
	'n=$(sed -n "s/^closed by the server: //p" "$T/partial.out"); test "$n" -ge 5'
kill $pid
wait $pid
rc=$?
check_out 'SIGTERM: exit 0' 'echo $rc' 0
check_out 'only the small request was written' \
	'$PY "$DATA/fwd.py" decode <"$T/out" | cut -f2 | sort | uniq -c | tr -s " "' \
	"$($PY "$DATA/fwd.py" decode <"$T/ack.bin" | cut -f2 | sort | uniq -c | tr -s " ")"
