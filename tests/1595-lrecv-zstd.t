#!/bin/sh
# lrecv and zstd-compressed Forward frames (Fluentd 1.19: "compressed":
# "zstd"): good frames acked and written; hostile ones (bombs over
# --chunk-size-limit, cut, garbage, lying sizes, gzip called zstd) logged,
# their connection closed unacked, memory bounded, and lrecv keeps serving.
# The frames are made with python3-msgpack and the zstd command.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 13

$PY - "$T" <<'EOF2' || echo "Bail out! cannot build the frames"
import msgpack, struct, subprocess, sys, zlib
d = sys.argv[1]
t = lambda s: msgpack.ExtType(0, struct.pack(">II", s, 0))
def zstd(data, *args):
    return subprocess.run(["zstd", "-cq"] + list(args), input=data,
                          stdout=subprocess.PIPE, check=True).stdout
def frame(tag, z, chunk, comp="zstd"):
    opt = {"size": 1, "compressed": comp}
    if chunk:
        opt["chunk"] = chunk
    return msgpack.packb([tag, z, opt], use_bin_type=True)
def ents(n, first=0):
    return b"".join(msgpack.packb([t(1700000000 + i), {"i": i}])
                    for i in range(first, first + n))
def put(name, b):
    open(d + "/" + name + ".bin", "wb").write(b)
# good: one frame; two frames and a skippable frame in one request
put("good", frame("z.good", zstd(ents(10)), "Y2h1bmsx"))
skip = b"\x50\x2a\x4d\x18" + struct.pack("<I", 3) + b"abc"
put("multi", frame("z.multi", zstd(ents(7)) + skip + zstd(ents(5, 7), "-19"),
                   "Y2h1bmsy"))
# a bomb: 100 MB of entries in a few kB
big = msgpack.packb([t(1), {"a": "x" * 1000}]) * 100000
put("bomb", frame("z.bomb", zstd(big, "-3"), "Ym9tYg=="))
# cut short, garbage, gzip called zstd
z = zstd(ents(50))
put("cut", frame("z.cut", z[:len(z) // 2], "Y3V0"))
put("garbage", frame("z.garbage", b"\x28\xb5\x2f\xfd" + b"\xa5" * 200,
                     "Z2FyYmFnZQ=="))
co = zlib.compressobj(6, zlib.DEFLATED, 31)
put("gzip", frame("z.gzip", co.compress(ents(3)) + co.flush(), "Z3ppcA=="))
# a frame that says it holds 2^40 bytes and holds 5
f = b"\x28\xb5\x2f\xfd\xc0\x50" + struct.pack("<Q", 1 << 40) + \
    bytes([(5 << 3) | 1, 0, 0]) + b"abcde"
put("liar", frame("z.liar", f, "bGlhcg=="))
# trailing bytes after the last frame
put("trail", frame("z.trail", zstd(ents(4)) + b"\0\0\0", "dHJhaWw="))
EOF2
test "$(wc -c <"$T/bomb.bin")" -lt 200000 || echo "Bail out! the bomb is too big"

lrecv_start z --chunk-size-limit 1m
check_same 'a zstd frame: acked' '$PY "$PEER" send $port "$T/good.bin"' \
	"echo $(printf '\201\243ack\250Y2h1bmsx' | xxd -p)"
for h in bomb cut garbage gzip liar trail; do
	check_same "$h: the connection closed, no ack" \
		'$PY "$PEER" send $port "$T/$h.bin"' 'echo'
done
check_same 'frames and a skippable frame in one request: acked' \
	'$PY "$PEER" send $port "$T/multi.bin"' \
	"echo $(printf '\201\243ack\250Y2h1bmsy' | xxd -p)"
hwm=$(grep VmHWM "/proc/$(cat "$T/z.pid")/status" | tr -dc 0-9)
lrecv_stop z
check 'lrecv served every client, then exited 0' 'test "$(cat $T/z.rc)" = 0'
check_same 'the good frames: all 22 events, none of the hostile ones' \
	'$PY "$FWD" decode <"$T/z.out" | cut -f2 | sort | uniq -c | tr -s " "' \
	'printf " %s\n" "10 z.good" "12 z.multi"'
check 'the bomb: logged as over the limit' \
	'grep -q "request larger than --chunk-size-limit 1048576: dropped, not acked" "$T/z.err"'
check 'the bad frames: logged as bad zstd data' \
	'test "$(grep -c "bad zstd data in compressed entries" "$T/z.err")" = 5'
check "memory stayed bounded by the limit, not the bomb (peak ${hwm} kB)" \
	'test "$hwm" -lt 40000'
