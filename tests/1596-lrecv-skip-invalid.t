#!/bin/sh
# lrecv --skip-invalid-event: a bad entry of a Forward, PackedForward or
# CompressedPackedForward frame (gzip or zstd) is dropped alone and counted, the frame is
# acked; a bad Message-mode event is dropped and acked (in_forward's
# skip_invalid_event); without the option a bad entry closes the connection
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 17

cat >"$T/client.py" <<'PYEOF'
import gzip, json, socket, struct, sys, time
import msgpack
port, mode, piece = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
T = 1502880723
def et(s): return msgpack.ExtType(0, struct.pack(">II", s, 0))
def good(i): return [et(T), {"i": i}]
def pk(x): return msgpack.packb(x, use_bin_type=True)
reqs = [
    ["f.fwd", [good(1), ["bad-time", {"i": 2}], [T, "not-a-map"], good(3),
               7, [T, None], [[T, {"m": 1}], {"i": 4}]], {"chunk": "c-fwd"}],
    ["f.packed", b"".join(pk(x) for x in [good(5), [1.5, {"i": 6}], good(7)]),
     {"chunk": "c-packed", "size": 3}],
    ["f.gzip", gzip.compress(pk(good(8)) + pk([T, [1, 2]]), mtime=0) +
     gzip.compress(pk(good(9)), mtime=0),
     {"chunk": "c-gzip", "compressed": "gzip"}],
    ["f.msg", 1.5, {"i": 10}, {"chunk": "c-msg-badtime"}],
    ["f.msg", T, "not-a-map", {"chunk": "c-msg-badrec"}],
    ["f.msg", T, {"i": 11}, {"chunk": "c-msg"}],
    ["f.allbad", [[T, 1]], {"chunk": "c-allbad"}],
    42,
    [1, [good(12)], {"chunk": "c-badtag"}],
    ["f.last", [good(13)], {"chunk": "c-last"}],
]
if mode == "json":
    reqs = [["j.fwd", [[T, {"i": 20}], [1.5, {"i": 21}], [T, [1]],
                      [T, {"i": 22}]], {"chunk": "j-fwd"}],
            ["j.msg", T, "x", {"chunk": "j-msg-bad"}],
            ["j.last", T, {"i": 23}, {"chunk": "j-last"}]]
    data = "".join(json.dumps(r) for r in reqs).encode()
    want = 3
else:
    data = b"".join(pk(r) for r in reqs)
    want = 9
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(0, len(data), piece):
    s.sendall(data[i:i + piece])
u = msgpack.Unpacker(raw=False)
s.settimeout(10)
got = []
while len(got) < want:
    b = s.recv(65536)
    if not b:
        break
    if mode == "json":
        got.extend(json.loads("[" + b.decode().replace("}{", "},{") + "]"))
    else:
        u.feed(b)
        got.extend(u)
print(" ".join(o["ack"] for o in got))
PYEOF

ACKS="c-fwd c-packed c-gzip c-msg-badtime c-msg-badrec c-msg c-allbad c-badtag c-last"
lrecv_start a --skip-invalid-event
check_same 'every frame is acked, the bad entries dropped (requests whole)' \
	'$PY "$T/client.py" $port msgpack 100000' 'echo "$ACKS"'
check_same 'the same, the requests in pieces of 7 bytes' \
	'$PY "$T/client.py" $port msgpack 7' 'echo "$ACKS"'
check_same 'JSON mode: bad entries dropped, frames acked' \
	'$PY "$T/client.py" $port json 100000' 'echo "j-fwd j-msg-bad j-last"'
lrecv_stop a
cat >"$T/want" <<'EOF2'
f.fwd	{"i":1}
f.fwd	{"i":3}
f.fwd	{"i":4}
f.packed	{"i":5}
f.packed	{"i":7}
f.gzip	{"i":8}
f.gzip	{"i":9}
f.msg	{"i":11}
f.last	{"i":13}
EOF2
$PY "$FWD" decode <"$T/a.out" | cut -f2- >"$T/got"
check_same 'only the good events are written, twice (whole, in pieces)' \
	'head -n 9 "$T/got"; sed -n 10,18p "$T/got"' 'cat "$T/want" "$T/want"'
check_same 'JSON mode: the good events' 'sed -n "19,\$p" "$T/got"' \
	'printf "j.fwd\t{\"i\":20}\nj.fwd\t{\"i\":22}\nj.last\t{\"i\":23}\n"'
check 'each frame with bad entries is logged with its count' \
	'grep -q "tag .f.fwd.: 4 of 7 events invalid" "$T/a.err" &&
	 grep -q "tag .f.gzip.: 1 of 3 events invalid" "$T/a.err"'
# a place per request with invalid events: 8 a pass, 2 in JSON mode
check 'the requests with invalid events are counted at exit' \
	'grep -q "skipped invalid data in 18 places (--skip-invalid-event)" "$T/a.err"'
check_exit 'lrecv exits 0' 0 'exit $(cat "$T/a.rc")'

lrecv_start b
check_same 'without the option: nothing after the bad entry is acked' \
	'$PY "$T/client.py" $port msgpack 100000' 'echo'
lrecv_stop b
check 'and the connection is closed with the reason' \
	'grep -q "entry 2: time is a string, not a time (connection closed)" "$T/b.err"'

# a request that never ends is still closed by --request-timeout
printf '\223\241t' >"$T/partial.bin"
lrecv_start c --skip-invalid-event --request-timeout 300ms
check_out '--request-timeout: a request never whole gets the connection closed' \
	'$PY -c "import socket, sys, time
s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))
s.sendall(open(sys.argv[2], \"rb\").read())
s.settimeout(20)
print(len(s.recv(100)))" $port "$T/partial.bin"' 0
lrecv_stop c
check 'and it is logged' 'grep -q "(--request-timeout): dropped, not acked" "$T/c.err"'

lrecv_start k --skip-invalid-event --shared-key s3cr3t --self-hostname recv.example
check_same 'with --shared-key: the request after the PING is read and acked' \
	'$PY "$DATA/fwdpeer.py" auth $port s3cr3t sender.example | tail -n 1' \
	'printf "%s\n" "reply {'"'ack'"': '"'auth-chunk\\\\n'"'}"'
lrecv_stop k

lrecv_start g --skip-invalid-event
$PY -c 'import msgpack, sys
sys.stdout.buffer.write(msgpack.packb(["t\nforged: " + "x" * 100, [[1, 2]], {"chunk": "g"}]))' >"$T/tag.bin"
$PY "$DATA/fwdpeer.py" send $port "$T/tag.bin" >/dev/null
lrecv_stop g
check 'a tag in the log: no control byte, cut at 64 bytes' \
	'grep -q "tag .t?forged: x*\.\.\..: 1 of 1 events invalid" "$T/g.err" &&
	 ! grep -q "^forged" "$T/g.err"'

# zstd entries are looked into as gzip ones are; a zlib stream labelled
# gzip is not gzip, for the filter as for the reader: dropped, unacked
$PY -c 'import msgpack, struct, sys
T = 1502880723
et = lambda: msgpack.ExtType(0, struct.pack(">II", T, 0))
pk = lambda x: msgpack.packb(x, use_bin_type=True)
sys.stdout.buffer.write(pk([et(), {"i": 30}]) + pk([1.5, {"i": 0}]) +
    pk([et(), {"i": 31}]))' >"$T/z.ents"
zstd -q -c "$T/z.ents" >"$T/z.zst"
$PY -c 'import msgpack, struct, sys, zlib
T = 1502880723
pk = lambda x: msgpack.packb(x, use_bin_type=True)
ents, zst = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(
    pk(["z.zstd", zst, {"chunk": "c-zstd", "compressed": "zstd"}]) +
    pk(["z.zlib", zlib.compress(ents), {"chunk": "c-zlib", "compressed": "gzip"}]) +
    pk(["z.last", [[msgpack.ExtType(0, struct.pack(">II", T, 0)), {"i": 32}]],
        {"chunk": "c-zlast"}]))' "$T/z.ents" "$T/z.zst" >"$T/z.bin"
lrecv_start z --skip-invalid-event
check_out 'zstd frame with a bad entry acked; zlib labelled gzip not acked' \
	'$PY "$DATA/fwdpeer.py" send $port "$T/z.bin" | $PY -c "import msgpack, sys
u = msgpack.Unpacker(raw=False)
u.feed(bytes.fromhex(sys.stdin.read().strip()))
print(\" \".join(o[\"ack\"] for o in u))"' \
	'c-zstd c-zlast'
lrecv_stop z
check_same 'the good entries of the zstd frame are written' \
	'$PY "$FWD" decode <"$T/z.out" | cut -f2-' \
	'printf "z.zstd\t{\"i\":30}\nz.zstd\t{\"i\":31}\nz.last\t{\"i\":32}\n"'
check 'both are logged' \
	'grep -q "tag .z.zstd.: 1 of 3 events invalid" "$T/z.err" &&
	 grep -q "gzip entries that do not inflate" "$T/z.err"'
