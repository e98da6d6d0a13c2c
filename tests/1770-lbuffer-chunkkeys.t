#!/bin/sh
# lbuffer --chunk-keys tag,time,KEY: a chunk holds the events of one tag,
# one --timekey bucket and one value of each record key; the command gets
# them as LBUFFER_CHUNK_TAG, LBUFFER_TIMEKEY, LBUFFER_KEY_NAME and as
# ${tag}, ${KEY} and strftime in its arguments; a time-keyed chunk is
# flushed --timekey-wait after its bucket's end; the keys survive kill -9.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 16
H0=1699999200   # an hour's start (2023-11-14T22:00:00Z)

# gen FILE SPEC...: one event per SPEC tag:second-offset:host ('-' for no
# host key), seconds after $H0 (or 'now')
gen() {
	_f=$1
	shift
	$PY -c '
import msgpack, struct, sys, time
out = sys.stdout.buffer
for i, spec in enumerate(sys.argv[2:]):
    tag, off, host = spec.split(":")
    t = int(time.time()) if off == "now" else int(sys.argv[1]) + int(off)
    rec = {"i": i}
    if host != "-":
        rec["host"] = host
    out.write(b"\x93" + msgpack.packb(tag)
        + msgpack.packb(msgpack.ExtType(0, struct.pack(">II", t, 0)))
        + msgpack.packb(rec))
' "$H0" "$@" >"$_f"
}
# the command: one line per run: tag|timekey|host|args|events|now
cat >"$T/cmd.sh" <<EOF
#!/bin/sh
n=\$($PY -c 'import msgpack, sys
print(sum(1 for _ in msgpack.Unpacker(sys.stdin.buffer)))')
printf '%s|%s|%s|%s|%s|%s\n' "\$LBUFFER_CHUNK_TAG" "\$LBUFFER_TIMEKEY" \
	"\${LBUFFER_KEY_HOST-unset}" "\$*" "\$n" "\$(date +%s)" >>"$T/log"
EOF
chmod +x "$T/cmd.sh"
# runs LOG: the first five fields of each run, sorted
runs() { cut -d'|' -f1-5 "$1" | LC_ALL=C sort; }

# two tags, three hours, two hosts and an event without host
gen "$T/in.bin" a:0:h1 a:10:h1 b:20:h1 a:3600:h1 b:3700:h1 a:7300:h1 \
	b:7200:h1 b:7201:- a:30:h2 b:3601:h1
check 'tag,time,host: lbuffer exits 0' \
	'lbuffer --chunk-keys "tag, time,host" --timekey 1h --timekey-use-utc \
	--retry-max-times 0 -- "$T/cmd.sh" "\${tag}" "%Y-%m-%dT%H" "h=\${host}" \
	<"$T/in.bin" 2>"$T/err" && ! grep . "$T/err"'
check_same '... one run per tag, hour and host, with its keys and events' \
	'runs "$T/log"' 'cat <<EOF
a|1699999200|h1|a 2023-11-14T22 h=h1|2
a|1699999200|h2|a 2023-11-14T22 h=h2|1
a|1700002800|h1|a 2023-11-14T23 h=h1|1
a|1700006400|h1|a 2023-11-15T00 h=h1|1
b|1699999200|h1|b 2023-11-14T22 h=h1|1
b|1700002800|h1|b 2023-11-14T23 h=h1|2
b|1700006400|h1|b 2023-11-15T00 h=h1|1
b|1700006400||b 2023-11-15T00 h=|1
EOF'
check '... a missing record key is an empty value, set, not unset' \
	'grep -q "^b|1700006400||" "$T/log" && ! grep -q unset "$T/log"'

# time alone: one chunk per bucket, whatever the tag; no tag variable
rm -f "$T/log"
check 'time alone with --timekey 2h: one run per two hours' \
	'lbuffer --chunk-keys time --timekey 2h --timekey-use-utc -- \
	"$T/cmd.sh" x <"$T/in.bin" 2>"$T/err"'
check_out '... the events split by bucket' 'runs "$T/log"' \
	'|1699999200|unset|x|7
|1700006400|unset|x|3'

# --chunk-limit-open 1: the oldest open chunk closes when another opens
rm -f "$T/log"
gen "$T/alt.bin" a:0:h1 b:0:h1 a:0:h1 b:0:h1
check '--chunk-limit-open 1 with tags a b a b: four runs of one event' \
	'lbuffer --chunk-keys tag --chunk-limit-open 1 -- "$T/cmd.sh" \
	<"$T/alt.bin" 2>"$T/err" && [ "$(cut -d"|" -f1,5 "$T/log" |
	tr "\n" " ")" = "a|1 b|1 a|1 b|1 " ]'

# --timekey-wait: a bucket of now (2 s) waits 3 s past its end
rm -f "$T/log"
gen "$T/now.bin" n:now:h1
{ cat "$T/now.bin"; wait_for "test -s '$T/log'" 150; } |
	lbuffer --chunk-keys time --timekey 2s --timekey-wait 3s \
	--flush-interval 0s -- "$T/cmd.sh" 2>"$T/err"
check '--timekey-wait 3s: flushed while the input was open, at bucket end + 3 s' \
	'IFS="|" read -r tg tk h a n at <"$T/log" &&
	[ "$n" = 1 ] && [ "$at" -ge $((tk + 5)) ] && [ "$at" -le $((tk + 9)) ]'

# kill -9 with chunks held: the restart finds their keys
rm -f "$T/log"
lbuffer --dir "$T/d" --chunk-keys tag,time,host --timekey 1h \
	--timekey-use-utc --retry-wait 1h -- false <"$T/in.bin" 2>/dev/null &
lb=$!
wait_for "[ \$(ls '$T/d' | grep -c 'queued\$') -ge 8 ]"
kill -9 $lb
wait $lb 2>/dev/null
check 'after kill -9: the meta files hold the time bucket and the keys' \
	'[ $(grep -l "^timekey 1699999200\$" "$T"/d/*.meta | wc -l) = 3 ] &&
	[ $(grep -l "^kv " "$T"/d/*.meta | wc -l) = 8 ]'
check 'the restart delivers every chunk, exit 0' \
	'lbuffer --dir "$T/d" -- "$T/cmd.sh" "\${tag}" "%H" "\${host}" \
	</dev/null 2>"$T/err"'
check_same '... each with the keys it had before' 'runs "$T/log"' 'cat <<EOF
a|1699999200|h1|a 22 h1|2
a|1699999200|h2|a 22 h2|1
a|1700002800|h1|a 23 h1|1
a|1700006400|h1|a 00 h1|1
b|1699999200|h1|b 22 h1|1
b|1700002800|h1|b 23 h1|2
b|1700006400|h1|b 00 h1|1
b|1700006400||b 00 |1
EOF'

# an old meta file, without the new lines, still recovers
mkdir -p "$T/o"
lbuffer --dir "$T/o" --retry-wait 1h -- false <"$T/alt.bin" 2>/dev/null &
lb=$!
wait_for "ls '$T/o' | grep -q 'queued\$'"
kill -9 $lb
wait $lb 2>/dev/null
f=$(ls "$T/o" | grep 'queued$' | head -n 1)
mv "$T/o/$f" "$T/o/chunk-0000000000000400.queued"
rm -f "$T"/o/*.meta "$T"/o/*.meta.tmp "$T/log"
printf 'lkit-buffer 1\ncreated 1.5\nkey 6f6c64\n' \
	>"$T/o/chunk-0000000000000400.meta"
check 'an old meta (tag key only) recovers: tag set, no time or host' \
	'lbuffer --dir "$T/o" -- "$T/cmd.sh" </dev/null 2>"$T/err" &&
	[ "$(cut -d"|" -f1-3,5 "$T/log")" = "old||unset|4" ]'

check_err '--chunk-keys time without --timekey is a usage error' 2 \
	'lbuffer --chunk-keys time </dev/null' '--timekey'
check_err 'a bad record key name is a usage error' 2 \
	'lbuffer --chunk-keys "tag,a b" </dev/null' 'bad value'

# a long value: the variable and the grouping keep its first 1024 bytes
rm -f "$T/log"
long=$(printf '%05000d' 0)
gen "$T/long.bin" "l:0:${long}" "l:1:${long}1"
check 'a 5000-byte key value: cut to 1024 bytes, both events in one chunk' \
	'lbuffer --chunk-keys host -- "$T/cmd.sh" <"$T/long.bin" 2>"$T/err" &&
	[ "$(cut -d"|" -f3 "$T/log" | tr -d "\n" | wc -c)" = 1024 ] &&
	[ "$(cut -d"|" -f5 "$T/log")" = 2 ]'

# --timekey-zone +0900: a day starts at midnight there; TZ stays the caller's
rm -f "$T/log"
gen "$T/z.bin" z:0:h1
check '--timekey-zone +0900 --timekey 1d: the bucket starts at 00:00+0900' \
	'env -u TZ lbuffer --chunk-keys time --timekey 1d --timekey-zone +0900 \
	-- sh -c "echo \"\$0 \$LBUFFER_TIMEKEY \${TZ-unset}\" >\"$T/zlog\";
	cat >/dev/null" "%Y-%m-%dT%H:%M%z" <"$T/z.bin" 2>"$T/err" &&
	[ "$(cat "$T/zlog")" = "2023-11-15T00:00+0900 1699974000 unset" ]'
check_err 'a bad --timekey-zone is a usage error' 2 \
	'lbuffer --timekey-zone Nowhere/Land </dev/null' 'timekey-zone'
