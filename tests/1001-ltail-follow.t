#!/bin/sh
# ltail following files: latency, partial lines, files that appear later
# (inotify and --refresh-interval), truncation, stdin, signals, idle CPU.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 20

cd "$T" || exit 1
sv() { lout -f single_value <"$1" 2>/dev/null; }
has() { sv "$1" | grep -qx "$2"; }
# start OUT ARGS...: ltail ARGS in the background, events to OUT
start() {
	out=$1
	shift
	ltail "$@" >"$out" 2>"$out.err" &
	pid=$!
}
stop() { kill -TERM $pid; wait $pid; }

: >f.log
: >g.log
start f.mp --pos-file f.pos -t '*' f.log g.log
wait_for "test -s f.pos"
check "a line appended shows at once (well under a second)" "$PY -c '
import os, sys, time
worst = 0
for i in range(20):
    size = os.path.getsize(\"f.mp\")
    t = time.time()
    with open(\"f.log\", \"a\") as f:
        f.write(\"lat %d\\n\" % i)
    while os.path.getsize(\"f.mp\") == size:
        if time.time() - t > 5:
            sys.exit(\"no event after 5 s\")
        time.sleep(0.001)
    worst = max(worst, time.time() - t)
print(\"# worst latency %.1f ms\" % (worst * 1000))
assert worst < 0.5, worst
'"
printf 'half' >>f.log
echo mark1 >>g.log
wait_for "has f.mp mark1"
check "an incomplete line is held (a later line of another file is out)" \
	"! sv f.mp | grep -q half"
echo ' done' >>f.log
check "and passed on whole once completed" "wait_for 'has f.mp \"half done\"'"
check_out "each file has its own tag" \
	"lout -f out_file <f.mp | cut -f2 | sort -u" "f.log
g.log"

# truncation in place: read again from the start
printf 'after truncation\n' >f.log
check "truncated: the new content is read from its start" \
	"wait_for 'has f.mp \"after truncation\"'"
kill -USR1 $pid
check "SIGUSR1: counters on stderr, and ltail goes on" \
	"wait_for 'grep -q \"truncations 1\$\" f.mp.err'"
echo more >>f.log
check "still following after SIGUSR1" "wait_for 'has f.mp more'"
stop
check "SIGTERM: exit 0" "test $? = 0"

# files that appear later: the directory is watched (no refresh needed)
mkdir d
start d.mp --pos-file d.pos --refresh-interval 1h 'd/*.log'
wait_for "test -e d.pos"
printf 'n1\nn2\n' >d/new.log
check "inotify: a new file is found at once, read from its start" \
	"wait_for 'test \$(sv d.mp | wc -l) = 2'"
echo x >d/new.txt
printf 'r1\n' >d/tmp.part
mv d/tmp.part d/moved.log
check "a file moved into the directory is found too" "wait_for 'has d.mp r1'"
check "a file the glob does not match is not read" "! has d.mp x"
stop

# --poll: found by --refresh-interval, then polled
mkdir p
start p.mp --pos-file p.pos --poll --poll-interval 50ms \
	--refresh-interval 200ms -e '*.skip' 'p/*'
wait_for "test -e p.pos"
echo s1 >p/a.skip
echo p1 >p/a.log
check "--poll --refresh-interval: a new file is found" "wait_for 'has p.mp p1'"
echo p2 >>p/a.log
check "--poll: an appended line is seen" "wait_for 'has p.mp p2'"
check "--exclude applies to files found later" "! has p.mp s1"
echo h1 >p/b.log
stop

# new directories: found by the refresh; SIGHUP looks at once
mkdir s
start s.mp --pos-file s.pos --refresh-interval 300ms 's/*/x.log'
wait_for "test -e s.pos"
mkdir s/sub
echo deep >s/sub/x.log
check "a file in a new directory is found by the refresh" \
	"wait_for 'has s.mp deep'"
stop
start h.mp --pos-file h.pos --poll --refresh-interval 1h 'h*.log'
wait_for "test -e h.pos"
echo hup >h1.log
kill -HUP $pid
check "SIGHUP: look for new files now" "wait_for 'has h.mp hup'"

# idle: a followed file that does not change costs no CPU (polling, and
# inotify in the background)
ltail --pos-file i.pos h1.log >/dev/null &
ipid=$!
wait_for "test -e i.pos"
ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
t0=$(ticks $pid)
i0=$(ticks $ipid)
sleep 1
check "idle: no CPU used while nothing changes" \
	"test \$((\$(ticks $pid) - $t0 + \$(ticks $ipid) - $i0)) -le 2"
kill -TERM $ipid
stop

# stdin and a file together; stdin's end does not stop the file
mkfifo in.fifo
: >k.log
exec 3<>in.fifo
# (not through start: an asynchronous list would get /dev/null as stdin)
ltail -F - k.log <in.fifo >k.mp 2>k.mp.err &
pid=$!
echo from-stdin >&3
check "stdin: a line shows before its end" "wait_for 'has k.mp from-stdin'"
exec 3>&-
echo from-file >>k.log
check "-F: after stdin's end the file is still followed" \
	"wait_for 'has k.mp from-file'"
stop
printf 'a\nb' | ltail - >only.mp
check_out "stdin alone: ltail exits at its end" "sv only.mp | tr '\n' ' '; echo" \
	"a b "
