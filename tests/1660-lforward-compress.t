#!/bin/sh
# lforward --compress gzip|zstd: what python's gzip and zlib read back, zstd
# frames as Fluentd 1.19 sends them (option "compressed": "zstd"), and lrecv
# receiving both from lforward, every event counted.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 15

HB="--heartbeat none"
decode() { $PY "$FWD" decode <"$1"; }
# cap NAME: a python server that keeps the bytes of one connection in
# NAME.bin and acks each chunk without reading its entries; $fport
cat >"$T/cap.py" <<'EOF2'
import msgpack, os, socket, sys
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % ls.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
ls.settimeout(20)
c, _ = ls.accept()
c.settimeout(20)
u = msgpack.Unpacker(raw=True)
with open(sys.argv[2], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
        u.feed(b)
        for o in u:
            if isinstance(o, list) and len(o) > 2 and b"chunk" in o[2]:
                c.sendall(msgpack.packb({"ack": o[2][b"chunk"]}))
EOF2
cap() {
	$PY "$T/cap.py" "$T/$1.port" "$T/$1.bin" >"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.pid"
	wait_for "test -s '$T/$1.port'"
	fport=$(cat "$T/$1.port")
}
fake() {
	$PY "$PEER" server "$T/$1.port" "$2" 20 >"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.pid"
	wait_for "test -s '$T/$1.port'"
	fport=$(cat "$T/$1.port")
}
$PY "$FWD" events 5000 lf.compress >"$T/ev.bin"
$PY "$FWD" shapes >"$T/shapes.bin"
cat "$T/ev.bin" "$T/shapes.bin" >"$T/in.bin"
decode "$T/in.bin" | sort >"$T/want.txt"
nwant=$(wc -l <"$T/want.txt" | tr -d ' ')

# gzip to python's Forward server, which inflates with python's gzip module
fake gz ack
check_exit '--ack --compress gzip to a python server: exit 0' 0 \
	'lforward $HB --ack --compress gzip --chunk-limit-records 700 127.0.0.1:$fport <"$T/in.bin"'
kill "$(cat "$T/gz.pid")"
wait "$(cat "$T/gz.pid")" 2>/dev/null
cap gz2
lforward $HB --ack --compress gzip --chunk-limit-records 700 127.0.0.1:$fport <"$T/in.bin"
wait "$(cat "$T/gz2.pid")"
check_same "python's gzip read every event" \
	'grep ^request "$T/gz.log" | cut -d" " -f3 | paste -sd+ | bc' "echo $nwant"
# unpack: the capture's requests, entries inflated with zlib (wbits 31) or
# the zstd command; prints one line per event and the options seen
cat >"$T/unpack.py" <<'EOF2'
import msgpack, subprocess, sys, zlib
u = msgpack.Unpacker(open(sys.argv[1], "rb"), raw=True)
seen = set()
for o in u:
    opt = {k.decode(): v for k, v in o[2].items()}
    c = opt.get("compressed", b"").decode()
    seen.add(c)
    body = o[1]
    if c == "gzip":
        d = zlib.decompressobj(31)
        out = d.decompress(body)
        while d.unused_data:            # another member
            rest = d.unused_data
            d = zlib.decompressobj(31)
            out += d.decompress(rest)
        assert d.eof, "a member cut short"
        body = out
    elif c == "zstd":
        assert body[:4] == b"\x28\xb5\x2f\xfd", "not a zstd frame"
        body = subprocess.run(["zstd", "-dcq"], input=body,
                              stdout=subprocess.PIPE, check=True).stdout
    n = 0
    ents = msgpack.Unpacker(raw=True)
    ents.feed(body)
    for e in ents:
        n += 1
    assert n == opt["size"], (n, opt["size"])
    print("request", n)
print("compressed", " ".join(sorted(seen)))
EOF2
$PY "$T/unpack.py" "$T/gz2.bin" >"$T/gz.unpack" 2>&1
check "python's zlib reads lforward's gzip members, sizes as the option says" \
	'grep -q "^compressed gzip$" "$T/gz.unpack" && test "$(grep ^request "$T/gz.unpack" | cut -d" " -f2 | paste -sd+ | bc)" = $nwant'

# zstd as Fluentd 1.19 sends it, read back by the zstd command
cap zs
check_exit '--ack --compress zstd to a python server: exit 0' 0 \
	'lforward $HB --ack --compress zstd --chunk-limit-records 700 127.0.0.1:$fport <"$T/in.bin"'
wait "$(cat "$T/zs.pid")"
$PY "$T/unpack.py" "$T/zs.bin" >"$T/zs.unpack" 2>&1
check 'zstd: option "compressed": "zstd", frames the zstd command reads' \
	'grep -q "^compressed zstd$" "$T/zs.unpack"'
check_same 'zstd: every event, in requests of --chunk-limit-records' \
	'grep ^request "$T/zs.unpack" | cut -d" " -f2 | paste -sd+ | bc' \
	"echo $nwant"

# lkit to lkit: lrecv inflates both
lrecv_start a
check_exit 'gzip to lrecv: exit 0' 0 \
	'lforward $HB --ack --compress gzip 127.0.0.1:$port <"$T/in.bin"'
check_exit 'zstd to lrecv: exit 0' 0 \
	'lforward $HB --ack --compress zstd --chunk-limit-records 100 127.0.0.1:$port <"$T/in.bin"'
check_exit 'text to lrecv: exit 0' 0 \
	'lforward $HB --ack --compress text 127.0.0.1:$port <"$T/in.bin"'
lrecv_stop a
check_same 'lrecv: every event of the three runs, as sent' \
	'decode "$T/a.out" | sort' \
	'sort "$T/want.txt" "$T/want.txt" "$T/want.txt"'

check_err '--compress lz4: a usage error' 2 \
	'lforward $HB --compress lz4 127.0.0.1:1 </dev/null' \
	"bad value 'lz4' for --compress: text, gzip or zstd"

# Fluentd's gzip requests (captured) still decode
lrecv_start v
hex2bin "$VECTORS/packed_gzip_ack.c2s.hex" >"$T/vec.bin"
$PY "$PEER" send $port "$T/vec.bin" >"$T/vec.reply"
lrecv_stop v
check_same "Fluentd's captured gzip request: its events" \
	'decode "$T/v.out" | wc -l | tr -d " "' 'echo 2'
check "Fluentd's captured gzip request: acked" 'test -s "$T/vec.reply"'
# a big request: over the whole-buffer limit lrecv inflates it a window at
# a time, same events
$PY "$FWD" events 100000 lf.big >"$T/big.bin"
lrecv_start big
check_exit 'gzip requests of 16 MiB to lrecv: exit 0' 0 \
	'lforward $HB --ack --compress gzip --chunk-limit-size 16m 127.0.0.1:$port <"$T/big.bin"'
lrecv_stop big
check_same 'gzip requests of 16 MiB: every event' \
	'decode "$T/big.out" | wc -l | tr -d " "' 'echo 100000'
