#!/bin/sh
# lbuffer: what a start finds in --dir: chunks left open by kill -9, torn
# last blocks, corrupt chunks, missing or orphan meta files
. "${0%/*}/lib.sh"
plan 13

awk 'BEGIN { for (i = 0; i < 10; i++) printf "{\"n\":\"%02d\"}\n", i }' |
	lcat t >"$T/ten.bin"
ns() { lout --format single_value --key n <"$1" | tr '\n' ' '; echo; }
# stored DIR: the ten events left in DIR as chunks of 4, 4 and 2 (the
# output fails; SIGTERM leaves the chunks for the next start)
stored() {
	lbuffer --dir "$1" --chunk-limit-records 4 --retry-wait 1h -- false \
		<"$T/ten.bin" 2>/dev/null &
	_p=$!
	wait_for "[ \$(ls '$1' | grep -c 'queued\$') = 3 ]"
	kill $_p
	wait $_p
}
# deliver DIR: a start on DIR with no input; prints the exit status and
# what it delivered; stderr in DIR.err
deliver() {
	lbuffer --dir "$1" -- sh -c "cat >>'$1.out'" </dev/null 2>"$1.err"
	echo $?
	ns "$1.out"
}
chunks() { ls "$1"/chunk-*.queued; }

# kill -9 while a chunk is open: its blocks are on disk, fsynced
mkfifo "$T/in"
lbuffer --dir "$T/k" --flush-interval 1h -- false <"$T/in" 2>/dev/null &
lb=$!
exec 3>"$T/in"
cat "$T/ten.bin" >&3
wait_for "[ -s \"\$(ls $T/k/chunk-*.open 2>/dev/null)\" ]"
kill -9 $lb
wait $lb 2>/dev/null
exec 3>&-
check_out 'kill -9 with a chunk open: the next start delivers it, exit 0' \
	'deliver "$T/k"; grep -o "resumed .*" "$T/k.err"' \
	"0
00 01 02 03 04 05 06 07 08 09 
resumed 1 chunks, 10 events, from $T/k"

stored "$T/t"
last=$(chunks "$T/t" | tail -n 1)
sz=$(wc -c <"$last")
head -c 20 "$(chunks "$T/t" | head -n 1)" >>"$last"
check_out 'a partial block at the end: cut, the rest delivered, the loss said' \
	'deliver "$T/t"; grep -c "torn last block cut at byte $sz (a partial last block): 4 events lost" "$T/t.err"' \
	'4
00 01 02 03 04 05 06 07 08 09 
1'

stored "$T/z"
last=$(chunks "$T/z" | tail -n 1)
sz=$(wc -c <"$last")
head -c 4096 /dev/zero >>"$last"
check_out 'zeroes at the end (a file extended, never written): cut, exit 0' \
	'deliver "$T/z"; grep -c "torn last block cut at byte $sz (a partial block): 0 events lost" "$T/z.err"' \
	'0
00 01 02 03 04 05 06 07 08 09 
1'

stored "$T/c"
last=$(chunks "$T/c" | tail -n 1)
printf 'X' | dd of="$last" bs=1 seek=41 conv=notrunc 2>/dev/null
check_out 'a bad checksum in the last block: cut, 2 events lost, exit 4' \
	'deliver "$T/c"; grep -c "torn last block cut at byte 0 .*: 2 events lost" "$T/c.err"' \
	'4
00 01 02 03 04 05 06 07 
1'

stored "$T/q"
first=$(chunks "$T/q" | head -n 1)
cp "$first" "$T/block"
printf 'X' | dd of="$first" bs=1 seek=30 conv=notrunc 2>/dev/null
cat "$T/block" >>"$first"
check_out 'a bad block with more after it: the chunk quarantined, exit 4' \
	'deliver "$T/q"; ls "$T/q/quarantine" | sed "s/chunk-[0-9a-f]*//"' \
	'4
04 05 06 07 08 09 
.meta
.queued
.reason'
check 'the message and the reason say why' \
	'grep -q "corrupt (a bad checksum at byte 0; 0 events before it); 0 events moved to $T/q/quarantine/" "$T/q.err" &&
	grep -q "corrupt (a bad checksum at byte 0" "$T"/q/quarantine/*.reason'

stored "$T/r"
first=$(chunks "$T/r" | head -n 1)
printf 'X' | dd of="$first" bs=1 seek=30 conv=notrunc 2>/dev/null
cat "$T/block" >>"$first"
echo >"$T/r/quarantine"
check_out '... and when it cannot be moved: kept, the rest delivered, exit 4' \
	'deliver "$T/r"; grep -c "unable to move it to $T/r/quarantine" "$T/r.err"' \
	'4
04 05 06 07 08 09 
1'

stored "$T/m"
rm "$(ls "$T"/m/chunk-*.meta | head -n 1)"
check_out 'a chunk without its meta file: delivered all the same, said' \
	'deliver "$T/m"; grep -c "no usable meta file" "$T/m.err"' \
	'0
00 01 02 03 04 05 06 07 08 09 
1'

stored "$T/o"
touch "$T/o/chunk-0000000000000400.meta" "$T/o/chunk-0000000000000800.open.tmp"
chunks "$T/o" | head -n 1 | sed 's/queued$/open/' >"$T/name"
mv "$(chunks "$T/o" | head -n 1)" "$(cat "$T/name")"
check_out 'open and queued chunks, in order; an orphan meta and a .tmp removed' \
	'deliver "$T/o"; ls "$T/o"' \
	'0
00 01 02 03 04 05 06 07 08 09 
lock'

stored "$T/s"
check_out '--status on a stopped buffer: what the next start would resume' \
	'lbuffer --dir "$T/s" --status | sed -n "1s/, oldest.*//p"' \
	"$T/s: not running; 3 chunks, 10 events, 190 bytes"
check_out '--status --json lists the chunks in order' \
	'lbuffer --dir "$T/s" --status --json | /usr/bin/python3 -c "import json, sys
s = json.load(sys.stdin)
print(s[\"running\"], [c[\"records\"] for c in s[\"queue\"]])"' \
	'False [4, 4, 2]'
check_out '--status leaves the directory as it was' \
	'ls "$T/s" | grep -c chunk-' 6
check_err 'a directory that cannot be made: exit 4' 4 \
	'lbuffer --dir /dev/null/x </dev/null' 'unable to create directory /dev/null/x'
