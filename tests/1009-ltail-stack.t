#!/bin/sh
# ltail --multiline-parser java, python, go, ruby: stack traces joined to
# the line that starts them, by the rules of Fluent Bit's built-in
# multiline parsers; chained after docker and cri; several at once; the
# flush interval; --max-line-size; a rules file of [MULTILINE_PARSER]s.
. "${0%/*}/lib.sh"
plan 23

cd "$T" || exit 1
js() { lout -f json <"$1" 2>/dev/null; }

cat >java.log <<'EOF'
Exception in thread "main" java.lang.IllegalStateException: ..null property
     at com.example.myproject.Author.getBookIds(xx.java:38)
     at com.example.myproject.Bootstrap.main(Bootstrap.java:14)
Caused by: java.lang.NullPointerException
     at com.example.myproject.Book.getId(Book.java:22)
     at com.example.myproject.Author.getBookIds(Author.java:35)
     ... 1 more
single line
EOF
check_out "java: the exception, its frames, Caused by, ... N more" \
	"ltail --once -r --multiline-parser java java.log | js /dev/stdin" \
	'{"message":"Exception in thread \"main\" java.lang.IllegalStateException: ..null property\n     at com.example.myproject.Author.getBookIds(xx.java:38)\n     at com.example.myproject.Bootstrap.main(Bootstrap.java:14)\nCaused by: java.lang.NullPointerException\n     at com.example.myproject.Book.getId(Book.java:22)\n     at com.example.myproject.Author.getBookIds(Author.java:35)\n     ... 1 more"}
{"message":"single line"}'

cat >cs.log <<'EOF'
2021-01-01 ERROR request failed
System.InvalidOperationException: outer
 ---> System.ArgumentException: inner
   at App.Inner() in /src/App.cs:line 10
   --- End of inner exception stack trace ---
   at App.Outer() in /src/App.cs:line 20
--- End of stack trace from previous location where exception was thrown ---
   at App.Main()

org.springframework.Boom: wrapped; nested exception is: java.io.IOException: disk
	at a.B.c(B.java:1)
	... 12 common frames omitted
2021-01-01 INFO next
EOF
# (as in Fluent Bit, " ---> X: inner" is not a frame: a trace of its own)
check_out "java: C# inner exceptions and async frames, an empty line, ... omitted" \
	"ltail --once -r --multiline-parser java cs.log | js /dev/stdin" \
	'{"message":"2021-01-01 ERROR request failed"}
{"message":"System.InvalidOperationException: outer"}
{"message":" ---> System.ArgumentException: inner\n   at App.Inner() in /src/App.cs:line 10\n   --- End of inner exception stack trace ---\n   at App.Outer() in /src/App.cs:line 20\n--- End of stack trace from previous location where exception was thrown ---\n   at App.Main()"}
{"message":""}
{"message":"org.springframework.Boom: wrapped; nested exception is: java.io.IOException: disk\n\tat a.B.c(B.java:1)\n\t... 12 common frames omitted"}
{"message":"2021-01-01 INFO next"}'

cat >py.log <<'EOF'
Traceback (most recent call last):
  File "/base/data/home/runtimes/python27/python27_lib/versions/third_party/webapp2-2.5.2/webapp2.py", line 1535, in __call__
    rv = self.handle_exception(request, response, e)
  File "/base/data/home/apps/s~nearfieldspy/1.378705245900539993/nearfieldspy.py", line 17, in start
    return get()
  File "/base/data/home/apps/s~nearfieldspy/1.378705245900539993/nearfieldspy.py", line 5, in get
    raise Exception('spam', 'eggs')
Exception: ('spam', 'eggs')
hello world, not multiline
EOF
check_out "python: the traceback up to the exception line" \
	"ltail --once -r --multiline-parser python py.log | js /dev/stdin" \
	'{"message":"Traceback (most recent call last):\n  File \"/base/data/home/runtimes/python27/python27_lib/versions/third_party/webapp2-2.5.2/webapp2.py\", line 1535, in __call__\n    rv = self.handle_exception(request, response, e)\n  File \"/base/data/home/apps/s~nearfieldspy/1.378705245900539993/nearfieldspy.py\", line 17, in start\n    return get()\n  File \"/base/data/home/apps/s~nearfieldspy/1.378705245900539993/nearfieldspy.py\", line 5, in get\n    raise Exception('"'"'spam'"'"', '"'"'eggs'"'"')\nException: ('"'"'spam'"'"', '"'"'eggs'"'"')"}
{"message":"hello world, not multiline"}'
printf 'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\nValueError: x\nTraceback (most recent call last):\n  File "b.py", line 2, in f\nKeyError: y\n' >py2.log
check_out "python: the exception line ends the trace, the next starts at once" \
	"ltail --once -r --multiline-parser python py2.log | js /dev/stdin" \
	'{"message":"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: x"}
{"message":"Traceback (most recent call last):\n  File \"b.py\", line 2, in f\nKeyError: y"}'

cat >go.log <<'EOF'
panic: my panic

goroutine 4 [running]:
panic(0x45cb40, 0x47ad70)
	/usr/local/go/src/runtime/panic.go:542 +0x46c fp=0xc42003f7b8 sp=0xc42003f710 pc=0x422f7c
main.main.func1(0xc420024120)
	foo.go:6 +0x39 fp=0xc42003f7d8 sp=0xc42003f7b8 pc=0x451339
runtime.goexit()
	/usr/local/go/src/runtime/asm_amd64.s:2337 +0x1 fp=0xc42003f7e0 sp=0xc42003f7d8 pc=0x44b4d1
created by main.main
	foo.go:5 +0x58

goroutine 1 [chan receive]:
runtime.gopark(0x4739b8, 0xc420024178, 0x46fcd7, 0xc, 0xc420028e17, 0x3)
	/usr/local/go/src/runtime/proc.go:280 +0x12c fp=0xc420053e30 sp=0xc420053e00 pc=0x42503c
main.main()
	foo.go:9 +0x6f fp=0xc420053f80 sp=0xc420053f50 pc=0x4512ef
one more line, no multiline
EOF
check_out "go: the panic, its goroutines and frames" \
	"ltail --once -r --multiline-parser go go.log | lout -f single_value |
		awk '/^one more/ { print NR; next } END { print NR }'" "18
18"
check_out "go: two events, the trace whole" \
	"ltail --once -r --multiline-parser go go.log | js /dev/stdin | wc -l" 2
printf '2021/01/01 12:00:00 http: panic serving 10.0.0.1:1234: boom\ngoroutine 7 [running]:\nnet/http.(*conn).serve.func1(0xc0000a4000)\n\t/usr/lib/go/src/net/http/server.go:1801 +0x147\nnext\n' >http.log
check_out "go: http: panic serving" \
	"ltail --once -r --multiline-parser go http.log | js /dev/stdin" \
	'{"message":"2021/01/01 12:00:00 http: panic serving 10.0.0.1:1234: boom\ngoroutine 7 [running]:\nnet/http.(*conn).serve.func1(0xc0000a4000)\n\t/usr/lib/go/src/net/http/server.go:1801 +0x147"}
{"message":"next"}'

cat >rb.log <<'EOF'
/app/config/routes.rb:6:in `/': divided by 0 (ZeroDivisionError)
	from /app/config/routes.rb:6:in `block in <main>'
	from /var/lib/gems/3.0.0/gems/actionpack-7.0.4/lib/action_dispatch/routing/route_set.rb:428:in `instance_exec'
	from /app/config/routes.rb:1:in `<main>'
hello world, not multiline
EOF
check_out "ruby: the error and its from lines" \
	"ltail --once -r --multiline-parser ruby rb.log | js /dev/stdin" \
	'{"message":"/app/config/routes.rb:6:in `/'"'"': divided by 0 (ZeroDivisionError)\n\tfrom /app/config/routes.rb:6:in `block in <main>'"'"'\n\tfrom /var/lib/gems/3.0.0/gems/actionpack-7.0.4/lib/action_dispatch/routing/route_set.rb:428:in `instance_exec'"'"'\n\tfrom /app/config/routes.rb:1:in `<main>'"'"'"}
{"message":"hello world, not multiline"}'

cat py.log java.log rb.log >all.log
check_out "several parsers at once: each trace by its rules, in order" \
	"ltail --once -r --multiline-parser java,python,go,ruby all.log |
		js /dev/stdin | cut -c1-30" \
	'{"message":"Traceback (most re
{"message":"hello world, not m
{"message":"Exception in threa
{"message":"single line"}
{"message":"/app/config/routes
{"message":"hello world, not m'

# chaining: the runtime's cuts undone first, then the trace joined
/usr/bin/python3 - >dj.log <<'EOF'
import json
lines = ["2017-08-18 19:39:40 ERROR request failed\n",
         "java.lang.IllegalStateException: boom\n",
         "\tat com.example.App.handle(App.java:42)\n",
         "\tat com.example.App.main(App.java:7)\n",
         "2017-08-18 19:39:41 INFO recovered\n"]
for i, l in enumerate(lines):
    parts = [l[:12], l[12:]] if len(l) > 30 else [l]
    for j, p in enumerate(parts):
        print(json.dumps({"log": p, "stream": "stderr",
                          "time": "2021-02-01T16:45:03.%09dZ" % (10 * i + j)}))
        print(json.dumps({"log": "out %d\n" % i, "stream": "stdout",
                          "time": "2021-02-01T16:45:04Z"}))
EOF
check_out "docker,java: parts joined, then the trace, per stream" \
	"ltail --once -r --multiline-parser docker,java dj.log |
		lout -f out_file --utc --time-format %S.%N | cut -f1,3 |
		grep -v '\"out '" \
	'03.000000000	{"log":"2017-08-18 19:39:40 ERROR request failed\n","stream":"stderr","time":"2021-02-01T16:45:03.000000000Z"}
03.000000010	{"log":"java.lang.IllegalStateException: boom\n\tat com.example.App.handle(App.java:42)\n\tat com.example.App.main(App.java:7)\n","stream":"stderr","time":"2021-02-01T16:45:03.000000010Z"}
03.000000040	{"log":"2017-08-18 19:39:41 INFO recovered\n","stream":"stderr","time":"2021-02-01T16:45:03.000000040Z"}'
check_out "and the other stream's lines all passed on" \
	"ltail --once -r --multiline-parser docker,java dj.log | js /dev/stdin |
		grep -c '\"out '" 10
check_out "the order of the list does not matter: java,docker" \
	"ltail --once -r --multiline-parser java,docker dj.log | js /dev/stdin |
		grep -c 'boom.*App.main'" 1
cat >cp.log <<'EOF'
2021-01-01T00:00:00.1Z stderr F Traceback (most recent call last):
2021-01-01T00:00:00.2Z stderr P   File "a.py", line 1, 
2021-01-01T00:00:00.3Z stdout F unrelated
2021-01-01T00:00:00.4Z stderr F in <module>
2021-01-01T00:00:00.5Z stderr F ValueError: x
EOF
check_out "cri,python: a part joined, then the traceback, the first time" \
	"ltail --once -r --multiline-parser cri,python cp.log |
		lout -f out_file --utc --time-format %S.%N | cut -f1,3" \
	'00.300000000	{"time":"2021-01-01T00:00:00.3Z","stream":"stdout","_p":"F","log":"unrelated"}
00.100000000	{"time":"2021-01-01T00:00:00.1Z","stream":"stderr","_p":"F","log":"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: x"}'

# a trace larger than --max-line-size: parts, counted, nothing lost
{ echo 'java.lang.RuntimeException: big'
  i=0; while [ $i -lt 40 ]; do echo "	at a.b.C.m$i(C.java:$i)"; i=$((i + 1)); done
  echo after; } >long.log
ltail --once -r --multiline-parser java --max-line-size 300 --stats long.log \
	>long.mp 2>long.err
check "a long trace: parts of at most --max-line-size" \
	"lout -f single_value <long.mp | awk 'length(\$0) > 300 { exit 1 }' &&
		test \$(lout -f json <long.mp | wc -l) -gt 3"
check_same "every line kept, in order" \
	"lout -f single_value <long.mp" "cat long.log"
check "the cuts counted as split" "grep -q 'split [1-9]' long.err"

# following: a trace at the end of the file goes after the interval
: >f.log
ltail --pos-file f.pos --multiline-parser java \
	--multiline-flush-interval 300ms f.log >f.mp &
pid=$!
wait_for "test -s f.pos"
printf 'java.lang.Error: late\n\tat x.Y.z(Y.java:1)\n' >>f.log
check "a trace is passed on after the flush interval" \
	"wait_for 'js f.mp | grep -qF \"late\\\\n\\\\tat x.Y.z\"'"
kill -TERM $pid
wait $pid

# a rules file: Fluent Bit's [MULTILINE_PARSER] sections
cat >rules.conf <<'EOF'
[PARSER]
    name   other
    format regex
    regex  ^(?<x>.*)$

[MULTILINE_PARSER]
    name          multiline-regex-test
    type          regex
    flush_timeout 1000
    #
    # rules   |   state name   | regex pattern                   | next state
    # --------|----------------|-----------------------------------------------
    rule         "start_state"   "/(Dec \d+ \d+\:\d+\:\d+)(.*)/"  "cont"
    rule         "cont"          "/^\s+at.*/"                     "cont"
EOF
cat >custom.log <<'EOF'
single line...
Dec 14 06:41:08 Exception in thread "main" java.lang.RuntimeException: Something has gone wrong, aborting!
    at com.myproject.module.MyProject.badMethod(MyProject.java:22)
    at com.myproject.module.MyProject.oneMoreMethod(MyProject.java:18)
    at com.myproject.module.MyProject.main(MyProject.java:6)
another line...
EOF
check_out "--multiline-rules: Fluent Bit's example parser" \
	"ltail --once -r --multiline-rules rules.conf custom.log | js /dev/stdin" \
	'{"message":"single line..."}
{"message":"Dec 14 06:41:08 Exception in thread \"main\" java.lang.RuntimeException: Something has gone wrong, aborting!\n    at com.myproject.module.MyProject.badMethod(MyProject.java:22)\n    at com.myproject.module.MyProject.oneMoreMethod(MyProject.java:18)\n    at com.myproject.module.MyProject.main(MyProject.java:6)"}
{"message":"another line..."}'
check_out "named in --multiline-parser, chained after cri" \
	"sed 's/^/2021-01-01T00:00:00Z stdout F /' custom.log |
		ltail --multiline-rules rules.conf \
		--multiline-parser cri,multiline-regex-test - |
		lout -f single_value --key log | grep -c ." 6
printf '[MULTILINE_PARSER]\n name x\n type regex\n rule "start_state" "/a/" "nowhere"\n' >bad1.conf
check_err "a rule to a state no rule has is an error" 2 \
	"ltail --multiline-rules bad1.conf x.log" "no rule has the state 'nowhere'"
printf '[MULTILINE_PARSER]\n name x\n type endswith\n' >bad2.conf
check_err "only type regex" 2 \
	"ltail --multiline-rules bad2.conf x.log" "bad2.conf:3: only type regex"
printf '[MULTILINE_PARSER]\n name java\n rule "start_state" "/a/" "start_state"\n' >bad3.conf
check_err "a built-in name cannot be taken" 2 \
	"ltail --multiline-rules bad3.conf x.log" "built-in parser has this name"
printf '[MULTILINE_PARSER]\n name y\n rule "start_state" "/(/" "start_state"\n' >bad4.conf
check_err "a bad regex names the parser" 2 \
	"ltail --multiline-rules bad4.conf x.log" "multiline parser y: bad regex '/(/'"
