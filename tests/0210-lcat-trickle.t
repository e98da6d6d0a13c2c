#!/bin/sh
# lcat and values that arrive in many small reads: a 24 MB JSON value (or
# msgpack map) through a pipe of 4 kB is read in linear time, where a
# reparse from its start on each read would take many minutes; bad JSON in
# a live stream is still reported at once, not at the end of the input.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 13

cat >"$T/live.py" <<'EOF'
# live.py TEXT WANT CMD...: writes the pieces of TEXT (split at '|', 0.2 s
# apart) to CMD, keeping its input open; prints "seen" once CMD wrote the
# bytes WANT (hex, if not empty), else CMD's exit status, or "open" if it
# still waited for input after 60 s
import os, subprocess, sys, threading, time
pieces, want = sys.argv[1].split("|"), bytes.fromhex(sys.argv[2])
p = subprocess.Popen(sys.argv[3:], stdin=subprocess.PIPE,
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
timer = threading.Timer(60, p.kill)
timer.start()
for i, t in enumerate(pieces):
    if i:
        time.sleep(0.2)
    try:
        p.stdin.write(t.encode())
        p.stdin.flush()
    except BrokenPipeError:
        break
got, res = b"", None
while True:
    b = os.read(p.stdout.fileno(), 65536)
    if not b:
        break
    got += b
    if want and want in got:
        res = "seen"
        break
if res is None:
    rc = p.wait()
    res = "open" if rc == -9 else str(rc)
timer.cancel()
p.kill()
p.wait()
print(res)
EOF
$PY - "$T" <<'EOF' || echo "Bail out! cannot build the input"
import json, struct, sys
d, n = sys.argv[1], 12000000
open(d + "/big.json", "w").write('{"a":[' + ",".join(["0"] * n) + "]}\n")
# pretty-printed, a value a line, with strings that hold brackets
open(d + "/pretty.json", "w").write(json.dumps(
    {"a": [{"s": "]}\\\"[{", "n": i} for i in range(150000)]}, indent=1) +
    "\n" + json.dumps({"b": 1}) + "\n")
open(d + "/big.mp", "wb").write(b"\x81\xa1a\xdd" + struct.pack(">I", 2 * n) +
    b"\x00" * (2 * n))
EOF

timeout 60 $PY "$DATA/trickle.py" "$T/big.json" "$T/big.out" lcat t
check "a 24 MB JSON line 4 kB at a time: read in time, exit 0" "test $? = 0"
check "a 24 MB JSON line 4 kB at a time: the same record" \
	"lout -f json <'$T/big.out' | cmp - '$T/big.json'"
timeout 60 $PY "$DATA/trickle.py" "$T/pretty.json" "$T/pretty.out" lcat t
check "a pretty-printed 10 MB value 4 kB at a time: read in time" \
	"test $? = 0"
check_same "a pretty-printed value 4 kB at a time: as read from a file" \
	"lout -f json <'$T/pretty.out' | cksum" \
	"lcat t <'$T/pretty.json' | lout -f json | cksum"
timeout 60 $PY "$DATA/trickle.py" "$T/big.mp" "$T/mp.out" lcat --msgpack t
check "--msgpack: a 24 MB map 4 kB at a time: read in time, exit 0" \
	"test $? = 0"
check "--msgpack: the same record" \
	"lout -f msgpack <'$T/mp.out' | cmp - '$T/big.mp'"

# bad text is reported while the input stays open
check_out "bad JSON in an open stream: reported at once" \
	"$PY '$T/live.py' '{\"a\":1}
{\"b\" x
' '' lcat t" 3
check_out "bad JSON after a long partial value: reported at once" \
	"$PY '$T/live.py' \"{\\\"a\\\":[\$(seq -s, 1 15000)|,x\" '' lcat t" 3
check_out "a cut line, then good ones: reported at once" \
	"$PY '$T/live.py' '{\"a\":[1,2
|{\"b\":2}
' '' lcat t" 3
check_out "--skip-invalid: the good line after a cut one comes out at once" \
	"$PY '$T/live.py' '{\"a\":[1,2
|{\"b\":2}
' 81a16202 lcat --skip-invalid t" seen
check_out "a value split across reads, then its end: one event" \
	"{ printf '{\"a\":'; sleep 0.2; printf '[1,\"x\\\\\"]\"]}\n'; } | lcat t | lout -f json" \
	'{"a":[1,"x\"]"]}'
check_out "numbers and literals at the end of a read" \
	"{ printf '[{\"a\":-1'; sleep 0.2; printf '2.5e+3,\"t\":tr'; sleep 0.2; printf 'ue}]'; } | lcat t | lout -f json" \
	'{"a":-12500.0,"t":true}'
check_out "blank lines between values do not count as a value's size" \
	"{ head -c 100000 /dev/zero | tr '\\0' '\\n'; echo '{\"a\":1}'; } | lcat --max-event-size 1k t | lout -f json" \
	'{"a":1}'
