#!/bin/sh
# lbuffer --chunk-keys tag: LBUFFER_CHUNK_TAG stays small enough for execve
# however long the tag (a prefix and a hash past 4096 bytes), the events
# keep the whole tag, and a restart finds the same value in the meta file
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 9

# gen FILE TAG-EXPR: two events whose tag is the Python bytes TAG-EXPR
gen() {
	$PY -c '
import msgpack, struct, sys
tag = eval(sys.argv[1])
for k in range(2):
    sys.stdout.buffer.write(b"\x93" + msgpack.packb(tag, use_bin_type=False)
        + msgpack.packb(msgpack.ExtType(0, struct.pack(">II", 1502880723, k)))
        + msgpack.packb({"i": k}))
' "$2" >"$1"
}
# want TAG-EXPR: the value the variable must hold, by the rule in lbuffer(1)
want() {
	$PY -c '
import sys
tag = eval(sys.argv[1])
if len(tag) <= 4096 and b"\0" not in tag:
    v = tag
else:
    n = tag.find(b"\0")
    n = len(tag) if n < 0 else n
    if n > 4000:
        n = 4000
        while n > 0 and tag[n] & 0xc0 == 0x80:
            n -= 1
    h = 0xcbf29ce484222325
    for b in tag:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    v = tag[:n] + b"#%016x" % h
sys.stdout.buffer.write(v)
' "$1"
}
# the command: saves the variable and the chunk's events
cat >"$T/cmd.sh" <<EOF
#!/bin/sh
printf '%s' "\$LBUFFER_CHUNK_TAG" >"$T/env"
cat >"$T/data"
EOF
chmod +x "$T/cmd.sh"
# tags DATA: the length of each event's tag and the number of events
tags() {
	$PY -c '
import msgpack, sys
ls = [len(o[0]) for o in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=True)]
print(len(ls), sorted(set(ls)))
' "$1"
}
# run TAG-EXPR: lbuffer in memory on two events of that tag; then compare
run() {
	rm -f "$T/env" "$T/data"
	gen "$T/in.bin" "$1"
	want "$1" >"$T/want"
	lbuffer --chunk-keys tag --retry-max-times 0 -- "$T/cmd.sh" \
		<"$T/in.bin" 2>"$T/err"
}

long='b"t" * 140000'
check 'a 140000-byte tag: the command runs, exit 0, nothing dead-lettered' \
	'run "$long" && ! grep . "$T/err"'
check_out '... and the command gets both events with the whole tag' \
	'tags "$T/data"' '2 [140000]'
check '... and LBUFFER_CHUNK_TAG is 4000 bytes of the tag, # and the hash' \
	'cmp "$T/env" "$T/want" && [ $(wc -c <"$T/env") = 4017 ] &&
	grep -q "^t\{4000\}#[0-9a-f]\{16\}\$" "$T/env"'

check 'a tag of exactly 4096 bytes is passed as it is' \
	'run "b\"x\" * 4096" && cmp "$T/env" "$T/want" &&
	[ $(wc -c <"$T/env") = 4096 ] && ! grep -q "#" "$T/env"'
check 'a 4097-byte tag: the prefix is not cut inside a UTF-8 character' \
	'run "b\"a\" * 3999 + \"\\u00e9\".encode() * 49" && cmp "$T/env" "$T/want" &&
	grep -q "^a\{3999\}#" "$T/env"'
check 'a tag with a NUL byte: the part before it, # and the hash' \
	'run "b\"ab\\0cd\"" && cmp "$T/env" "$T/want" &&
	grep -q "^ab#[0-9a-f]\{16\}\$" "$T/env" && tags "$T/data" | grep -q "^2 \[5\]"'

# a chunk kept over a restart: its meta file holds the whole tag
gen "$T/r.bin" 'b"r" * 9000'
want 'b"r" * 9000' >"$T/want"
lbuffer --dir "$T/d" --chunk-keys tag --retry-wait 1h -- false \
	<"$T/r.bin" 2>/dev/null &
lb=$!
wait_for "ls '$T/d' | grep -q 'queued\$'"
kill $lb
wait $lb
rm -f "$T/env" "$T/data"
check 'after a restart: the chunk is delivered, exit 0, no meta complaint' \
	'lbuffer --dir "$T/d" --chunk-keys tag -- "$T/cmd.sh" </dev/null \
	2>"$T/err" && ! grep -q "meta" "$T/err"'
check '... with the same LBUFFER_CHUNK_TAG as before the restart' \
	'cmp "$T/env" "$T/want"'
check_out '... and the whole tag in the events' 'tags "$T/data"' '2 [9000]'
