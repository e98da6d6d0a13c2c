#!/bin/sh
# The quick paths of the td-agent pipeline give what the long ones give:
# the reader's usual event and its fallbacks, lparse's time cache across
# seconds, minutes and zone changes, lreform's constant fields written in
# place; and a stage reading a pipe makes it larger.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 10

RX='^(?<time>\S+ \S+) - \[(?<level>\S+)\] (?<msg>.+)$'
TF='%Y-%m-%d %H:%M:%S,%L'

# --- a stage reading a pipe makes it hold 256 KiB, where the system allows
max=$(cat /proc/sys/fs/pipe-max-size)
want=262144
[ "$max" -lt "$want" ] && [ "$(id -u)" != 0 ] && want=65536
# pipesz CMD...: the size of CMD's standard input once it has started
pipesz() {
	$PY - "$@" <<'EOF'
import fcntl, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE,
    stdout=subprocess.DEVNULL)
p.stdin.write(b"\x93\xa1t\x01\x81\xa1a\x01")
p.stdin.flush()
end = time.time() + 10
while fcntl.fcntl(p.stdin, 1032) < 262144 and time.time() < end:
    time.sleep(0.01)
print(fcntl.fcntl(p.stdin, 1032))
p.stdin.close()
p.wait()
EOF
}
check_out "lout's input pipe is made 256 KiB" "pipesz lout" "$want"
check_out "lparse's input pipe is made 256 KiB" \
	"pipesz lparse --format none" "$want"

# --- lparse: one process over all lines = one process per line ----------
# gen START COUNT: lines from START (local time) in steps of 0.2 to 1.9 s
gen() {
	$PY - "$1" "$2" <<'EOF'
import datetime, json, sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S.%f")
for i in range(int(sys.argv[2])):
    line = "%s,%03d - [INFO] n=%d" % (t.strftime("%Y-%m-%d %H:%M:%S"),
        t.microsecond // 1000, i)
    print(json.dumps({"message": line}))
    t += datetime.timedelta(milliseconds=200 + (i * 397) % 1700)
EOF
}
# secs TZ TF: the seconds of the times lparse reads with format TF
secs() {
	TZ=$1 lcat t | TZ=$1 lparse --regex "$RX" --time-format "$2" |
	    lout -f out_file --time-format '%s' | cut -f1
}
# percase NAME TZ FILE: the stream of all lines against line by line
percase() {
	TZ=$2 lcat t <"$3" | TZ=$2 lparse --regex "$RX" --time-format "$TF" \
	    >"$T/all.bin" 2>"$T/all.err"
	: >"$T/each.bin"
	while IFS= read -r l; do
		printf '%s\n' "$l" | TZ=$2 lcat t |
		    TZ=$2 lparse --regex "$RX" --time-format "$TF" \
		    >>"$T/each.bin" 2>>"$T/all.err"
	done <"$3"
	check "$1" "cmp '$T/all.bin' '$T/each.bin' && [ ! -s '$T/all.err' ] &&
	    [ \$(lout -f json <'$T/all.bin' | wc -l) = \$(wc -l <'$3') ]"
}
{ gen "2017-08-18 19:58:41.123" 60; gen "2016-12-31 23:59:50.999" 20
  gen "2017-08-18 23:59:58.000" 8; } >"$T/utc.jsonl"
# a leap second, and a line whose seconds are not a time
printf '%s\n' '{"message":"2016-12-31 23:59:60,500 - [INFO] leap"}' \
	'{"message":"2016-12-31 23:59:59,500 - [INFO] before"}' >>"$T/utc.jsonl"
percase "lparse: times across seconds, minutes, days, a leap second" \
	UTC "$T/utc.jsonl"
{ gen "2017-03-26 01:59:40.010" 40; gen "2017-10-29 01:59:40.500" 40
  gen "2017-10-29 02:59:40.250" 40; } >"$T/dst.jsonl"
# glibc's mktime(3) guesses from its last call in an hour that comes
# twice, so here the lines go through one process, with the fraction (the
# cache) and without (each line read whole)
sed 's/,[0-9][0-9][0-9] - / - /' "$T/dst.jsonl" >"$T/dst-s.jsonl"
secs Europe/Berlin "$TF" <"$T/dst.jsonl" >"$T/dst.ms"
secs Europe/Berlin '%Y-%m-%d %H:%M:%S' <"$T/dst-s.jsonl" >"$T/dst.s"
check "lparse: local times across the two daylight saving changes" \
	"cmp '$T/dst.ms' '$T/dst.s' && [ \$(sort -u '$T/dst.s' | wc -l) -gt 80 ]"
printf '%s\n' '{"message":"2017-08-18 19:59:01,000 - [INFO] a"}' \
	'{"message":"2017-08-18 19:59:7x,000 - [INFO] b"}' \
	'{"message":"2017-08-18 19:59:72,000 - [INFO] c"}' \
	'{"message":"2017-08-18 19:59:03,000 - [INFO] d"}' | lcat t |
	lparse --regex "$RX" --time-format "$TF" 2>"$T/bad.err" |
	lout -f json >"$T/bad.out"
check_out "lparse: seconds that are no time are still errors" \
	"cat '$T/bad.out'; grep -c 'did not parse' '$T/bad.err'" \
	'{"level":"INFO","msg":"a"}
{"message":"2017-08-18 19:59:7x,000 - [INFO] b"}
{"message":"2017-08-18 19:59:72,000 - [INFO] c"}
{"level":"INFO","msg":"d"}
1'

# --- the reader: the usual event and every other shape -----------------
$PY - "$T/shapes.bin" <<'EOF'
import msgpack, struct, sys
def et(s, ns):
    return msgpack.ExtType(0, struct.pack(">II", s, ns))
ev = []
big = {("k%02d" % i): i for i in range(20)}
for tag in ["t", "x" * 31, "y" * 32, "z" * 300]:
    ev.append([tag, et(1500000000, 5), {"a": "b"}])
ev.append(["t", 1500000001, {"int": "time"}])
ev.append(["t", 1500000002.25, {"float": "time"}])
ev.append(["t", et(1500000003, 999999999), big])
ev.append(["t", et(1500000004, 0), {"n": {"m": [1, 2, {"o": None}]}}])
ev.append(["t", et(1500000005, 0), {}])
ev.append(["t", et(1500000006, 0), {"s": "x" * 70000, "b": b"\x00" * 3}])
with open(sys.argv[1], "wb") as f:
    for e in ev:
        f.write(msgpack.packb(e, use_bin_type=True))
    f.write(msgpack.packb(["t", [[1500000007, {"f": 1}], [1500000008, {"f": 2}]]],
        use_bin_type=True))
EOF
lout --format msgpack <"$T/shapes.bin" >"$T/shapes.out" 2>"$T/shapes.err"
check "lout --format msgpack: the records of every shape, as they were" "
	[ ! -s '$T/shapes.err' ] && $PY - '$T/shapes.bin' '$T/shapes.out' <<'EOF'
import msgpack, sys
want = []
for e in msgpack.Unpacker(open(sys.argv[1], 'rb'), raw=True):
    if isinstance(e[1], list):
        want += [x[1] for x in e[1]]
    elif len(e) == 3:
        want.append(e[2])
got = list(msgpack.Unpacker(open(sys.argv[2], 'rb'), raw=True))
sys.exit(0 if got == want and len(got) == 12 else 1)
EOF"
# an EventTime with 10^9 nanoseconds is no time: the long path says so
$PY -c '
import msgpack, struct, sys
sys.stdout.buffer.write(msgpack.packb(["t", msgpack.ExtType(0,
    struct.pack(">II", 1, 1000000000)), {"a": 1}]))' >"$T/badns.bin"
check_err "an EventTime of 10^9 ns is bad data" 3 \
	"lout --format msgpack <'$T/badns.bin'" "not a time"

# --- lreform: constant fields, in place or added ------------------------
$PY - "$T/recs.bin" <<'EOF'
import msgpack, struct, sys
et = msgpack.ExtType(0, struct.pack(">II", 1500000000, 7))
recs = [
    {"a": 1},
    {"hostname": "old", "a": 1},
    {"a": 1, "phase": "beta", "hostname": "old"},
    {("k%02d" % i): i for i in range(14)},
    {("k%02d" % i): i for i in range(15)},
    {"phase": 0, **{("k%02d" % i): i for i in range(14)}},
    {("k%02d" % i): i for i in range(70000)},
    {1: "int key", "n": {"hostname": "inner"}},
]
with open(sys.argv[1], "wb") as f:
    for r in recs:
        f.write(msgpack.packb(["tag.a", et, r], use_bin_type=True))
EOF
# expect RECS: each record with hostname and phase set, as Fluentd does
# (a key the record has keeps its place; new keys go last)
cat >"$T/expect.py" <<'EOF'
import msgpack, sys
def edit(pairs):
    out = []
    for k, v in pairs:
        if k == b"hostname": v = b"h"
        elif k == b"phase": v = b"alpha"
        out.append((k, v))
    keys = [k for k, v in out]
    for k, v in ((b"hostname", b"h"), (b"phase", b"alpha")):
        if k not in keys: out.append((k, v))
    return out
def hdr(n):
    return 1 if n < 16 else 3 if n < 65536 else 5
ins = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=True,
    object_pairs_hook=list, strict_map_key=False))
raw = open(sys.argv[2], "rb").read()
outs = list(msgpack.Unpacker(open(sys.argv[2], "rb"), raw=True,
    object_pairs_hook=list, strict_map_key=False))
ok = len(ins) == len(outs)
for i, o in zip(ins, outs):
    ok = ok and o[0] == i[0] and o[1] == i[1] and o[2] == edit(i[2])
# every map header in its smallest form: the packer's bytes exactly
again = b"".join(msgpack.packb(o, use_bin_type=True) for o in
    msgpack.Unpacker(open(sys.argv[2], "rb"), raw=False, strict_map_key=False))
ok = ok and again == raw
sys.exit(0 if ok else 1)
EOF
lreform hostname=h phase=alpha <"$T/recs.bin" >"$T/recs.out" 2>"$T/recs.err"
check "lreform k=v: values replaced in place, new keys last, least headers" \
	"[ ! -s '$T/recs.err' ] && $PY '$T/expect.py' '$T/recs.bin' '$T/recs.out'"
# a record with a key twice: the first takes the value, the second goes
$PY -c '
import sys
sys.stdout.buffer.write(bytes([0x93, 0xa1, 0x74, 0x01, 0x83,
    0xa1, 0x61, 0x01, 0xa1, 0x61, 0x02, 0xa1, 0x62, 0x03]))' >"$T/dup.bin"
lreform a=x <"$T/dup.bin" | lout -f json >"$T/dup.json"
check_out "lreform k=v: a key the record has twice is set once" \
	"cat '$T/dup.json'" '{"a":"x","b":3}'
# more pairs than the record had: -k twenty times keeps a twenty times
ks=$(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	printf ' -k a'; done)
printf '\223\241t\001\202\241a\001\241b\002' | lreform $ks | od -An -tx1 |
	tr -d ' \n' >"$T/keeps.hex"
echo >>"$T/keeps.hex"
check_out "lreform -k: a map that outgrows its room moves its pairs" \
	"cat '$T/keeps.hex'" \
	"93a174d7000000000100000000de0014$(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	printf 'a16101'; done)"
