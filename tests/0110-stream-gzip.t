#!/bin/sh
# The stream reader and gzip bombs: a CompressedPackedForward frame of a
# few hundred kB that inflates to 100 MB is read a window at a time, so a
# reader's memory stays small whatever the inflated size; the frame's
# inflated total still counts against --max-event-size.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 10

# bomb.bin: 100000 entries of 1017 bytes (100 MB) in one gzip member;
# two.bin: two members of 10 entries, the second one's deflate data garbled
$PY - "$T" <<'EOF' || echo "Bail out! cannot build the frames"
import msgpack, struct, sys, zlib
d = sys.argv[1]
t = lambda s: msgpack.ExtType(0, struct.pack(">II", s, 0))
ent = msgpack.packb([t(1), {"a": "x" * 1000}])
assert len(ent) == 1017
co = zlib.compressobj(9, zlib.DEFLATED, 31)
z = b"".join(co.compress(ent * 1000) for _ in range(100)) + co.flush()
def frame(tag, z):
    return msgpack.packb([tag, z, {"compressed": "gzip"}], use_bin_type=True)
open(d + "/bomb.bin", "wb").write(frame("bomb", z))
def member(data):
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    return co.compress(data) + co.flush()
ten = b"".join(msgpack.packb([t(i), {"i": i}]) for i in range(10))
m1, m2 = member(ten), bytearray(member(ten))
m2[12:20] = b"\xff" * 8
open(d + "/two.bin", "wb").write(frame("two", m1 + bytes(m2)))
EOF
cat >"$T/rss.py" <<'EOF'
# rss.py IN OUT CMD...: runs CMD, prints its exit status and its peak RSS in kB
import resource, subprocess, sys
with open(sys.argv[1], "rb") as i, open(sys.argv[2], "wb") as o:
    rc = subprocess.run(sys.argv[3:], stdin=i, stdout=o).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
test "$(wc -c <"$T/bomb.bin")" -lt 400000 || echo "Bail out! the bomb is too big"

check_out "a gzip bomb: all 100000 events of 100 MB come out" \
	"lcat --max-event-size 200M -m - <'$T/bomb.bin' | wc -c" \
	$((100000 * 1022))
# the peak counts python's own pages before the exec: about 10 MB
set -- $($PY "$T/rss.py" "$T/bomb.bin" /dev/null lcat --max-event-size 200M -m -)
check "lcat -m: memory stays bounded (peak ${2:-?} kB, exit ${1:-?})" \
	"test '$1' = 0 && test '$2' -lt 40000"
set -- $($PY "$T/rss.py" "$T/bomb.bin" /dev/null lout -f json --max-event-size 200M)
check "lout: memory stays bounded (peak ${2:-?} kB, exit ${1:-?})" \
	"test '$1' = 0 && test '$2' -lt 40000"
check_out "lout -f json: every event, intact" \
	"lout -f json --max-event-size 200M <'$T/bomb.bin' | sort | uniq -c | awk '{print \$1, length(\$2)}'" \
	"100000 1008"

# beyond --max-event-size (64M by default): the entries within it, then
# the error, as the reader meets it
lcat -m - <"$T/bomb.bin" >"$T/cut.bin" 2>"$T/cut.err"
check "over the limit: a data error" "test $? = 3"
check_out "over the limit: the message" "cat '$T/cut.err'" \
	"lcat: stdin: byte 0: gzip entries inflate to more than 67108864 bytes (--max-event-size)"
check_out "over the limit: the entries within the first 64 MiB came out" \
	"wc -c <'$T/cut.bin'" $((67108864 / 1017 * 1022))

# bad gzip data after a good member: its events, then the error
lcat -m - <"$T/two.bin" >"$T/two.out" 2>"$T/two.err"
check "bad gzip data mid-way: a data error" "test $? = 3"
check_out "bad gzip data mid-way: the first member's 10 events came out" \
	"lout -f json <'$T/two.out' | tr -d '\n'; echo" \
	'{"i":0}{"i":1}{"i":2}{"i":3}{"i":4}{"i":5}{"i":6}{"i":7}{"i":8}{"i":9}'
check "bad gzip data mid-way: says so" \
	"grep -q 'lcat: stdin: byte 0: bad gzip data in compressed entries' '$T/two.err'"
