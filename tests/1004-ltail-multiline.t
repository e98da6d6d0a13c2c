#!/bin/sh
# ltail --multiline-start: stack traces joined into one message; flushed
# by the next start line, by --multiline-flush-interval, at the end, on
# SIGTERM; never cut by a restart from the position file.
. "${0%/*}/lib.sh"
plan 15

cd "$T" || exit 1
sv() { lout -f single_value <"$1" 2>/dev/null; }
js() { lout -f json <"$1" 2>/dev/null; }
START='^\d{4}-\d\d-\d\d '
cat >trace.log <<'LOG'
2017-08-18 19:39:39 INFO starting
2017-08-18 19:39:40 ERROR request failed
java.lang.IllegalStateException: boom
	at com.example.App.handle(App.java:42)
	at com.example.App.main(App.java:7)
2017-08-18 19:39:41 INFO recovered
LOG
ltail --once -r -m "$START" trace.log >t.mp
check_out "a stack trace is one message, lines joined with \\n" "js t.mp" \
	'{"message":"2017-08-18 19:39:39 INFO starting"}
{"message":"2017-08-18 19:39:40 ERROR request failed\njava.lang.IllegalStateException: boom\n\tat com.example.App.handle(App.java:42)\n\tat com.example.App.main(App.java:7)"}
{"message":"2017-08-18 19:39:41 INFO recovered"}'
printf 'orphan 1\norphan 2\r\n2017-01-01 x\r\n  y\r\n' >orphan.log
check_out "lines before the first start line are a message too; CR LF" \
	"ltail --once -r -m '$START' orphan.log | lout -f json" \
	'{"message":"orphan 1\norphan 2"}
{"message":"2017-01-01 x\n  y"}'
printf '2017-01-01 a\nbbbbbbbbbb\ncccccccccc\n' >big.log
check_out "a message growing past --max-line-size is passed on in parts" \
	"ltail --once -r -m '$START' --max-line-size 24 big.log | lout -f json" \
	'{"message":"2017-01-01 a\nbbbbbbbbbb"}
{"message":"cccccccccc"}'
check_err "a bad regex is a usage error naming it" 2 \
	"ltail -m '(' x.log" "bad --multiline-start regex '('"
check_out "Fluentd's /regexp/ form and Ruby's \\h, as lparse reads them" \
	"printf 'ab12 x\\n  y\\nzz99 z\\ncd34 w\\n' | ltail -m '/^\\h{4} /' - | lout -f json" \
	'{"message":"ab12 x\n  y\nzz99 z"}
{"message":"cd34 w"}'
check_out "/regexp/i ignores case" \
	"printf 'AB12 x\\n  y\\nab34 w\\n' | ltail -m '/^ab\\d\\d /i' - | lout -f json" \
	'{"message":"AB12 x\n  y"}
{"message":"ab34 w"}'
check_out "stdin: the pending message is passed on at EOF" \
	"printf '2017-01-01 a\n b\n' | ltail -m '$START' - | lout -f json" \
	'{"message":"2017-01-01 a\n b"}'

# following: a message waits for the next start line ...
: >f.log
: >o.log
ltail --pos-file f.pos -m "$START" --multiline-flush-interval 0 f.log o.log \
	>f.mp &
pid=$!
wait_for "test -s f.pos"
printf '2017-01-01 first\n  more\n' >>f.log
echo other >>o.log
wait_for "sv f.mp | grep -q other"
check "interval 0: the pending message waits (another file's line is out)" \
	"! sv f.mp | grep -q first"
printf '2017-01-01 second\n' >>f.log
check "the next start line passes it on" \
	"wait_for 'js f.mp | grep -qF \"first\\\\n  more\"'"
kill -TERM $pid
wait $pid
check "SIGTERM passes on the pending message" \
	"sv f.mp | grep -q second"

# ... or --multiline-flush-interval without new lines
: >t.log
ltail --pos-file t.pos -m "$START" --multiline-flush-interval 200ms t.log \
	>ti.mp &
pid=$!
wait_for "test -s t.pos"
printf '2017-01-01 alone\n  tail\n' >>t.log
check "--multiline-flush-interval passes on a quiet message" \
	"wait_for 'js ti.mp | grep -qF \"alone\\\\n  tail\"'"
kill -TERM $pid
wait $pid

# a restart from the position file re-reads a pending message whole
: >r.log
ltail --pos-file r.pos -m "$START" --multiline-flush-interval 0 r.log >r1.mp &
pid=$!
wait_for "test -s r.pos"
printf '2017-01-01 m1\n2017-01-01 m2\n  m2 cont\n' >>r.log
wait_for "sv r1.mp | grep -q m1"
wait_for "test \$((0x\$(cut -f2 r.pos))) = 14"
kill -KILL $pid
wait $pid 2>/dev/null
check_out "the position stops before the pending message" \
	"echo \$((0x\$(cut -f2 r.pos)))" 14
printf '  m2 more\n2017-01-01 m3\n' >>r.log
ltail --once -m "$START" --pos-file r.pos r.log >r2.mp
check_out "after kill -9 the message comes out whole, once" "js r2.mp" \
	'{"message":"2017-01-01 m2\n  m2 cont\n  m2 more"}
{"message":"2017-01-01 m3"}'
check_out "and before it only the message passed on before" "js r1.mp" \
	'{"message":"2017-01-01 m1"}'
check_out "--once: the last message is passed on at the end of the file" \
	"cut -f2 r.pos" "$(printf '%016x' $(wc -c <r.log))"
