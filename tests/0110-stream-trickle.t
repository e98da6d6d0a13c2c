#!/bin/sh
# The stream reader and values that arrive in many small reads: a 24 MB
# event of 24 million small values through a pipe of 4 kB is examined in
# linear time (its scan resumes where the last read stopped), where a
# rescan from the start on each read would take many minutes.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 6

# msg.bin: ["big", EventTime, {"a": [0 x 24M]}]; fwd.bin: the same as a
# Forward frame, and msg2.bin what lcat -m makes of it
$PY - "$T" <<'EOF' || echo "Bail out! cannot build the events"
import struct, sys
d, n = sys.argv[1], 24000000
t = b"\xd7\x00" + struct.pack(">II", 1, 0)
rec = b"\x81\xa1a\xdd" + struct.pack(">I", n) + b"\x00" * n
open(d + "/msg.bin", "wb").write(b"\x93\xa3big" + t + rec)
open(d + "/fwd.bin", "wb").write(b"\x92\xa3fwd\x92\x92" + t + rec +
    b"\x92\x02\x80")
open(d + "/msg2.bin", "wb").write(b"\x93\xa3fwd" + t + rec + b"\x93\xa3fwd" +
    b"\xd7\x00" + struct.pack(">II", 2, 0) + b"\x80")
EOF

timeout 60 $PY "$DATA/trickle.py" "$T/msg.bin" "$T/msg.out" lcat -m -
check "a 24 MB Message 4 kB at a time: read in time, exit 0" "test $? = 0"
check "a 24 MB Message 4 kB at a time: the same event" \
	"cmp '$T/msg.bin' '$T/msg.out'"
timeout 60 $PY "$DATA/trickle.py" "$T/fwd.bin" "$T/fwd.out" lcat -m -
check "a 24 MB Forward frame 4 kB at a time: read in time, exit 0" \
	"test $? = 0"
check "a 24 MB Forward frame 4 kB at a time: both events" \
	"cmp '$T/msg2.bin' '$T/fwd.out'"
timeout 60 $PY "$DATA/trickle.py" "$T/msg.bin" "$T/lout.out" lout -f msgpack
check "lout too: read in time, exit 0" "test $? = 0"
check_out "lout too: the record" "wc -c <'$T/lout.out'" $((24000000 + 8))
