#!/bin/sh
# ltail: lines into records (key, tag, path key, time), \r\n, partial,
# long and invalid lines, stdin, globs and --exclude, --once.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 31

cd "$T" || exit 1
j() { lout -f json; }
printf 'a\nb\n' >ab.log

check_out "stdin: tag tail, {\"message\": line}, read time" \
	"printf 'hello\n' | ltail - | lout -f out_file | cut -f2-" \
	'tail	{"message":"hello"}'
check "the time is an EventTime of now" "printf 'x\n' | ltail - | $PY -c '
import msgpack, struct, sys, time
e = list(msgpack.Unpacker(sys.stdin.buffer))
assert len(e) == 1 and e[0][1].code == 0, e
s, ns = struct.unpack(\">II\", e[0][1].data)
assert abs(s + ns / 1e9 - time.time()) < 30 and ns < 10**9
'"
check_out "--key renames the field" \
	"ltail --once -r --key log ab.log | j | head -n 1" '{"log":"a"}'
check_out "--path-key adds the path, as given" \
	"ltail --once -r --path-key path ./ab.log | j | head -n 1" \
	'{"message":"a","path":"./ab.log"}'
check_out "--tag without '*' is used as it is" \
	"ltail --once -r -t my.tag ab.log | lout -f out_file | cut -f2 | uniq" \
	my.tag

# Fluentd: prefix + path.tr('/', '.').squeeze('.') without a leading '.'
want=$(printf '%s' "app.$T/ab.log" | tr / . | tr -s .)
check_out "--tag 'app.*' expands to the path, '/' as '.'" \
	"ltail --once -r -t 'app.*' '$T/ab.log' | lout -f out_file | cut -f2 | uniq" \
	"$want"
mkdir -p d
printf 'z\n' >d/x..y.log
check_out "'*' alone, a relative path, runs of dots squeezed" \
	"ltail --once -r -t '*' './d//x..y.log' | lout -f out_file | cut -f2" \
	d.x.y.log
check_out "text after '*' is a suffix" \
	"ltail --once -r -t 'pre.*.suf' d/x..y.log | lout -f out_file | cut -f2" \
	pre.d.x.y.log.suf
check_out "stdin: '*' is stdin, the path key is -" \
	"echo s | ltail -t 'in.*' --path-key p - | lout -f out_file | cut -f2-" \
	'in.stdin	{"message":"s","p":"-"}'

# line ends
check_out "CR LF and LF end lines; a lone CR stays; empty lines stay" \
	"printf 'a\r\nb\n\nc\rd\r\n' | ltail - | j" \
	'{"message":"a"}
{"message":"b"}
{"message":""}
{"message":"c\rd"}'
check_out "stdin: the incomplete last line is passed on at EOF" \
	"printf 'x\ny' | ltail - | j" '{"message":"x"}
{"message":"y"}'
printf 'p\nq' >part.log
check_out "--once: the incomplete last line is passed on at the end" \
	"ltail --once -r part.log | j | tail -n 1" '{"message":"q"}'
printf 'ok\n\377\376bad\300\n' >bad8.log
check_out "invalid UTF-8 is kept byte for byte" \
	"ltail --once -r bad8.log | j | tail -n 1" '{"message":"\udcff\udcfebad\udcc0"}'
check "and the value is a msgpack str (not bin)" \
	"ltail --once -r bad8.log | $PY -c '
import msgpack, sys
raw = sys.stdin.buffer.read()
i = raw.index(b\"\\xff\\xfebad\")
assert raw[i - 1] == 0xa0 | 6, hex(raw[i - 1])
'"

# long lines
printf 'short\nabcdefghijKLMNOPQRSTuvw\nabcdefghij\r\nend\n' >long.log
check_out "--max-line-size: a longer line is split (the default)" \
	"ltail --once -r --max-line-size 10 long.log 2>long.err | j" \
	'{"message":"short"}
{"message":"abcdefghij"}
{"message":"KLMNOPQRST"}
{"message":"uvw"}
{"message":"abcdefghij"}
{"message":"end"}'
check "split: a warning names the file and offset" \
	"grep -q 'long.log: line at byte 6 is longer than 10 bytes: split' long.err"
check_out "--long-lines skip drops it, and counts it" \
	"ltail --once -r --max-line-size 10 --long-lines skip --stats long.log \
		2>skip.err | j" \
	'{"message":"short"}
{"message":"abcdefghij"}
{"message":"end"}'
check "skip: counted in --stats" \
	"grep -q 'out 3, dropped 1, .*lines skipped 1, split 0' skip.err"
$PY -c '
import sys
sys.stdout.write("before\n" + "x" * 300000 + "\nafter\n" + "y" * 300001)
' >huge.log
check_out "a line larger than the read buffer, split at 100k" \
	"ltail --once -r --max-line-size 100k huge.log 2>/dev/null |
		lout -f single_value | awk '{ print length(\$0) }' | tr '\n' ' '; echo" \
	"6 102400 102400 95200 5 102400 102400 95201 "
check_out "and skipped, also at the end of the file" \
	"ltail --once -r --max-line-size 100k --long-lines skip huge.log \
		2>/dev/null | lout -f single_value" "before
after"
$PY -c 'import sys; sys.stdout.write("z" * (3 << 19) + "\n")' >mega.log
check_out "the default --max-line-size is 1M" \
	"ltail --once -r mega.log 2>/dev/null | lout -f single_value |
		awk '{ print length(\$0) }' | tr '\n' ' '; echo" "1048576 524288 "

# globs and --exclude
mkdir g
for f in a.log b.log c.txt x.log .hidden.log; do echo "$f" >"g/$f"; done
check_out "a glob picks its files, in order" \
	"ltail --once -r 'g/*.log' | lout -f single_value" "a.log
b.log
x.log"
check_out "--exclude takes a glob on the path; repeatable; a bare name" \
	"ltail --once -r -e '*/x.log' --exclude b.log 'g/*' | lout -f single_value" \
	"a.log
c.txt"
check_out "one file under two names is read once" \
	"ltail --once -r g/a.log 'g/[a]*' '$T/g/a.log' | lout -f single_value" \
	a.log
check_out "files are read one after the other with --once" \
	"ltail --once -r ab.log part.log | lout -f single_value | tr '\n' ' '; echo" \
	"a b p q "
check_err "--once: a missing file is an error (4), the others read" 4 \
	"ltail --once -r nosuch.log ab.log >once.mp" \
	"ltail: nosuch.log: no such file"
check_out "and the others were read" "lout -f single_value <once.mp | wc -l" 2
check "--once: a glob that matches nothing is fine" \
	"ltail --once 'nothing*.log' </dev/null >/dev/null"
check_out "--stats: counters at exit" \
	"ltail --once -r --stats ab.log 2>&1 >/dev/null" \
	"ltail: events in 2, out 2, dropped 0, bytes in 4, out 54, lines skipped 0, split 0, files watched 1, rotations 0, truncations 0"
check_out "a directory matched by a glob is not a file" \
	"ltail --once -r '*' 2>&1 >/dev/null | grep -c directory" 0
check_out "-r is --read-from-head" \
	"ltail --once --read-from-head ab.log | lout -f single_value | wc -l" 2
