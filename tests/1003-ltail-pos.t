#!/bin/sh
# ltail --pos-file: Fluentd's format, resuming, a td-agent position file
# taken over, files rotated while ltail was stopped, kill -9.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
ROT="$DATA/ltail-rot.py"
plan 23

hex16() { printf '%016x' "$1"; }
ino() { stat -c %i "$1"; }
lines() { lout -f single_value <"$1" | tr '\n' ' '; echo; }

cd "$T" || exit 1
printf 'one\ntwo\nthree\n' >a.log
ltail --once --read-from-head --pos-file a.pos a.log >a1.mp
check_out "pos: Fluentd's entry: path, offset, inode in %016x" "cat a.pos" \
	"a.log	$(hex16 14)	$(hex16 $(ino a.log))"
check "pos: a crash-safe write leaves no temporary file" "test ! -e a.pos.tmp"
printf 'four\nfive\n' >>a.log
ltail --once --pos-file a.pos a.log >a2.mp
check_out "pos: the next --once reads only what was added" "lines a2.mp" \
	"four five "
ltail --once --pos-file a.pos a.log >a3.mp
check "pos: and then nothing" "test ! -s a3.mp"

# the default start is the end of a file with no position (Fluentd's)
printf 'old\n' >b.log
ltail --once --pos-file b.pos b.log >b.mp
check "no position: --once starts at the end, reads nothing" "test ! -s b.mp"
check_out "no position: the end is recorded" "cut -f2 b.pos" "$(hex16 4)"
ltail --pos-file b2.pos b.log >b2.mp 2>b2.err &
pid=$!
wait_for "test -s b2.pos"
echo new >>b.log
wait_for "test -s b2.mp"
kill -TERM $pid
wait $pid
check_out "no position, following: only lines added after the start" \
	"lines b2.mp" "new "
check_out "SIGTERM: the position of everything written is saved" \
	"cut -f2 b2.pos" "$(hex16 8)"

printf 'old\npar' >c.log
ltail --pos-file c.pos c.log >c.mp &
pid=$!
wait_for "test -s c.pos"
printf 'tial\nnext\n' >>c.log
wait_for "lout -f single_value <c.mp | grep -q next"
kill -TERM $pid
wait $pid
check_out "no position: a line being written at the start is read whole" \
	"lines c.mp" "partial next "

# a td-agent position file: its entry is honoured, an unwatched entry and
# an old 8-digit inode entry read, a bad line warned about
printf 'l1\nl2\nl3\nl4\nl5\n' >td.log
printf 'x1\nx2\n' >old.log
{
	printf '%s\tffffffffffffffff\t%016x\n' "$T/gone.log" 12345
	printf '%s\t%016x\t%016x\n' "$T/td.log" 9 $(ino td.log)
	printf '%s\t%016x\t%08x\n' "$T/old.log" 3 $(ino old.log)
	printf 'garbage\n'
} >td.pos
ltail --once --pos-file td.pos "$T/td.log" "$T/old.log" >td.mp 2>td.err
check_out "td-agent pos file: reading resumes at its offsets" "lines td.mp" \
	"l4 l5 x2 "
check "td-agent pos file: a bad line is reported" \
	"grep -q 'not a position entry, ignored: garbage' td.err"
check_same "td-agent pos file: rewritten in Fluentd's format" "cat td.pos" \
	"printf '%s\t%016x\t%016x\n' '$T/td.log' 15 $(ino td.log) \
		'$T/old.log' 6 $(ino old.log)"

# rotated while ltail was stopped: found again by inode
printf 'r1\nr2\n' >r.log
ltail --once --read-from-head --pos-file r.pos 'r.log*' >/dev/null
printf 'r3\nr4\n' >>r.log
mv r.log r.log.1
printf 'r5\n' >r.log
cp r.pos r2.pos
ltail --once --pos-file r.pos --path-key p 'r.log*' >r.mp
check_out "stopped during rotation: the rotated file's rest, then the new" \
	"lout -f json <r.mp | sort" \
	'{"message":"r3","p":"r.log.1"}
{"message":"r4","p":"r.log.1"}
{"message":"r5","p":"r.log"}'
ltail --once --pos-file r2.pos r.log >r2.mp
check_out "a glob without the rotated name: the new file from its start" \
	"lines r2.mp" "r5 "

# a recorded offset past the end is not trusted (inode reused, truncated)
printf 'i1\ni2\n' >i.log
printf 'i.log\t%016x\t%016x\n' 1000000 $(ino i.log) >i.pos
ltail --once --pos-file i.pos i.log >i.mp 2>i.err
check_out "offset past the end: read from the start" "lines i.mp" "i1 i2 "
check "offset past the end: and said" "grep -q 'past the end' i.err"

# kill -9 in mid-stream, then a restart from the position file: no line
# lost; the only duplicates are lines written after the last position save
d=$T/k9
mkdir "$d"
: >"$d/app.log"
ltail --pos-file "$d/pos" "$d/app.log" >"$d/out1.mp" &
pid=$!
wait_for "test -s '$d/pos'"
$PY "$ROT" write plain "$d/app.log" 20000 1000000 &
wpid=$!
wait_for "test \$(lout -f single_value <'$d/out1.mp' 2>/dev/null | wc -l) \
	-ge 6000" 200
kill -KILL $pid
wait $pid 2>/dev/null
check "kill -9: the position file is whole" \
	"grep -Eqx '$d/app.log	[0-9a-f]{16}	[0-9a-f]{16}' '$d/pos'"
off=$($PY "$ROT" offset "$d/pos" "$d/app.log")
ltail --pos-file "$d/pos" "$d/app.log" >"$d/out2.mp" &
pid=$!
wait $wpid
wait_for "lout -f single_value <'$d/out2.mp' | grep -q '^020000 '" 200
kill -TERM $pid
wait $pid
lout -f single_value <"$d/out1.mp" 2>/dev/null >"$d/out1"
lout -f single_value <"$d/out2.mp" >"$d/out2"
check "kill -9: the saved offset is at a line end" "test $((off % 20)) = 0"
check "kill -9: the restart begins right at the saved offset" \
	"test \"\$(head -n 1 '$d/out2' | cut -c1-6)\" = \
		\$(printf %06d $((off / 20 + 1)))"
cat "$d/out1" "$d/out2" | sort -u >"$d/all"
check "kill -9: no line lost" "$PY '$ROT' check '$d/all' 20000"
dups=$(cat "$d/out1" "$d/out2" | sort | uniq -d | wc -l)
first=$(wc -l <"$d/out1")
check "kill -9: the duplicates are exactly the lines after the saved offset" \
	"test $dups = $((first - off / 20))"
echo "# kill -9 at line $first, saved offset line $((off / 20)): $dups duplicates"

# a closed downstream: exit 141, positions of what was written saved
seq 1 200000 | sed 's/$/ padding padding padding/' >big.log
( ltail --once --read-from-head --pos-file big.pos big.log 2>big.err;
	echo $? >big.rc ) | head -c 100 >/dev/null
check_out "closed downstream: exit 141" "cat big.rc" 141
check "closed downstream: quietly, with the position saved before the end" \
	"test ! -s big.err && test \$((0x\$(cut -f2 big.pos))) -lt \
		\$(wc -c <big.log)"
