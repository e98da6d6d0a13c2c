#!/bin/sh
# ltail --multiline-parser docker and cri: container log lines decoded into
# Fluent Bit's records, the parts the runtime cut joined per stream; lines
# split at every position; the flush interval; position and restart; a
# group cut by rotation; --max-line-size; a Kubernetes directory of
# symlinks followed through rotation with a writer.
. "${0%/*}/lib.sh"
plan 25

cd "$T" || exit 1
js() { lout -f json <"$1" 2>/dev/null; }
# the event times, with nanoseconds, and the records
tj() {
	lout -f out_file --utc --time-format '%Y-%m-%dT%H:%M:%S.%N' <"$1" |
	    cut -f1,3
}
pos_of() { echo $((0x$(cut -f2 "$1"))); }

# Docker's own example of a line cut in three: one, two, three
cat >split.log <<'EOF'
{"log":"one, ","stream":"stdout","time":"2021-02-01T01:40:03.53413Z"}
{"log":"two, ","stream":"stdout","time":"2021-02-01T01:40:03.53414Z"}
{"log":"three\n","stream":"stdout","time":"2021-02-01T01:40:03.53415Z"}
EOF
ltail --once -r --multiline-parser docker split.log >split.mp
check_out "docker: the parts are one message, the first part's members" \
	"tj split.mp" \
	'2021-02-01T01:40:03.534130000	{"log":"one, two, three\n","stream":"stdout","time":"2021-02-01T01:40:03.53413Z"}'
check "the event time is an EventTime with nanoseconds" \
	"/usr/bin/python3 -c '
import msgpack, struct, sys
e = list(msgpack.Unpacker(open(\"split.mp\", \"rb\"), raw=False))
assert len(e) == 1 and e[0][1].code == 0, e
assert struct.unpack(\">II\", e[0][1].data) == (1612143603, 534130000), e
'"

# stdout and stderr interleaved, a line that is not Docker's
cat >mix.log <<'EOF'
{"log":"aa\n","stream":"stdout","time":"2021-02-01T16:45:03.01231z"}
{"log":"aa\n","stream":"stderr","time":"2021-02-01T16:45:03.01231z"}
{"log":"bb","stream":"stdout","time":"2021-02-01T16:45:03.01232z"}
{"log":"cc\n","stream":"stdout","time":"2021-02-01T16:45:03.01233z"}
{"log":"dd","stream":"stderr","time":"2021-02-01T16:45:03.01233z"}
single line to force pending flush of the previous line
{"log":"ee\n","stream":"stderr","time":"2021-02-01T16:45:03.01234z","attrs":{"tag":"x"}}
EOF
ltail --once -r --multiline-parser docker --stats mix.log >mix.mp 2>mix.err
check_out "docker: streams joined apart; another line ends the parts held" \
	"js mix.mp" \
	'{"log":"aa\n","stream":"stdout","time":"2021-02-01T16:45:03.01231z"}
{"log":"aa\n","stream":"stderr","time":"2021-02-01T16:45:03.01231z"}
{"log":"bbcc\n","stream":"stdout","time":"2021-02-01T16:45:03.01232z"}
{"log":"dd","stream":"stderr","time":"2021-02-01T16:45:03.01233z"}
{"message":"single line to force pending flush of the previous line"}
{"log":"ee\n","stream":"stderr","time":"2021-02-01T16:45:03.01234z","attrs":{"tag":"x"}}'
check "--stats counts the line that is not of the container format" \
	"grep -q 'events in 7, out 6,.*lines not of the container format 1' mix.err"

# CRI: Fluent Bit's example, P parts per stream up to the F line
cat >cri.log <<'EOF'
2019-05-07T18:57:50.904275087+00:00 stdout P 1a. some 
2019-05-07T18:57:51.904275088+00:00 stdout P multiline 
2019-05-07T18:57:50.904275087+00:00 stderr P 1b. some 
2019-05-07T18:57:52.904275089+00:00 stdout F log
2019-05-07T18:57:51.904275088+00:00 stderr P multiline 
2019-05-07T18:57:52.904275089+00:00 stderr F log
2019-05-07T18:57:56.904275093+00:00 stdout F 3a. non multiline 1
2019-05-07T20:57:57.904275094+02:00 stderr F 4b. non multiline 2
2019-05-07T18:57:58.1Z stdout F
EOF
ltail --once -r --multiline-parser cri cri.log >cri.mp
check_out "cri: records time, stream, _p, log; the CRI time, nanoseconds" \
	"tj cri.mp" \
	'2019-05-07T18:57:50.904275087	{"time":"2019-05-07T18:57:50.904275087+00:00","stream":"stdout","_p":"F","log":"1a. some multiline log"}
2019-05-07T18:57:50.904275087	{"time":"2019-05-07T18:57:50.904275087+00:00","stream":"stderr","_p":"F","log":"1b. some multiline log"}
2019-05-07T18:57:56.904275093	{"time":"2019-05-07T18:57:56.904275093+00:00","stream":"stdout","_p":"F","log":"3a. non multiline 1"}
2019-05-07T18:57:57.904275094	{"time":"2019-05-07T20:57:57.904275094+02:00","stream":"stderr","_p":"F","log":"4b. non multiline 2"}
2019-05-07T18:57:58.100000000	{"time":"2019-05-07T18:57:58.1Z","stream":"stdout","_p":"F","log":""}'
check_out "--path-key and the tag, as for other lines" \
	"ltail --once -r --multiline-parser cri -t 'k.*' --path-key path cri.log |
		lout -f out_file | head -n 1 | cut -f2-" \
	'k.cri.log	{"time":"2019-05-07T18:57:50.904275087+00:00","stream":"stdout","_p":"F","log":"1a. some multiline log","path":"cri.log"}'
printf '{"log":"d\\n","stream":"stdout"}\n2019-05-07T18:57:50Z stderr F c\n' \
	>both.log
check_out "docker,cri: each line as its format; no time: the read time" \
	"ltail --once -r --multiline-parser docker,cri both.log | js /dev/stdin" \
	'{"log":"d\n","stream":"stdout"}
{"time":"2019-05-07T18:57:50Z","stream":"stderr","_p":"F","log":"c"}'

# a message cut at every position, in both formats, streams interleaved
MSG='hello "world"	with a tab, and more text'
/usr/bin/python3 - "$MSG" >every.docker 2>every.cri <<'EOF'
import json, sys
m = sys.argv[1]
for k in range(1, len(m)):
    for s in ("stdout", "stderr"):
        print(json.dumps({"log": m[:k], "stream": s, "time": "2021-01-01T00:00:00Z"}))
    for s in ("stdout", "stderr"):
        print(json.dumps({"log": m[k:] + "\n", "stream": s, "time": "2021-01-01T00:00:00Z"}))
    print("2021-01-01T00:00:00Z stdout P " + m[:k], file=sys.stderr)
    print("2021-01-01T00:00:00Z stderr P " + m[:k], file=sys.stderr)
    print("2021-01-01T00:00:00Z stderr F " + m[k:], file=sys.stderr)
    print("2021-01-01T00:00:00Z stdout F " + m[k:], file=sys.stderr)
EOF
n=$(( ${#MSG} - 1 ))
check_out "docker: a message cut at each of its $n positions comes out whole" \
	"ltail --once -r --multiline-parser docker every.docker |
		lout -f single_value --key log | grep -v '^\$' | sort | uniq -c |
		sed 's/^ *//'" "$((2 * n)) $MSG"
check_out "cri: the same" \
	"ltail --once -r --multiline-parser cri every.cri |
		lout -f single_value --key log | sort | uniq -c |
		sed 's/^ *//'" "$((2 * n)) $MSG"

# --max-line-size: a message growing past it is passed on in parts, counted
/usr/bin/python3 -c '
import json
for i in range(10):
    print(json.dumps({"log": "%d" % i * 30, "stream": "stdout"}))
print(json.dumps({"log": "end\n", "stream": "stdout"}))
' >big.log
ltail --once -r --multiline-parser docker --max-line-size 100 --stats big.log \
	>big.mp 2>big.err
check_out "a message past --max-line-size: parts of at most that size" \
	"lout -f single_value --key log <big.mp | grep -v '^\$' |
		awk '{ print length(\$0) }' |
		tr '\n' ' '; echo" "90 90 90 33 "
check "every byte kept, in order" \
	"test \"\$(lout -f single_value --key log <big.mp | tr -d '\n')\" = \
		\"\$(/usr/bin/python3 -c 'print(\"\".join(\"%d\" % i * 30 for i in range(10)) + \"end\")')\""
check "and the cuts counted as split" "grep -q 'split 3,' big.err"
check_err "an unknown parser is a usage error" 2 \
	"ltail --multiline-parser docker,nosuch x.log" \
	"unknown multiline parser 'nosuch'"
check_err "--multiline-start and --multiline-parser exclude each other" 2 \
	"ltail -m x --multiline-parser cri x.log" "exclude each other"

# following: a group held while the file is idle goes after the interval;
# the position stays at its start until then
: >f.log
ltail --pos-file f.pos --multiline-parser cri \
	--multiline-flush-interval 400ms f.log >f.mp &
pid=$!
wait_for "test -s f.pos"
printf '2021-01-01T00:00:00Z stdout P held \n' >>f.log
printf '2021-01-01T00:00:01Z stderr F other\n' >>f.log
wait_for "js f.mp | grep -q other"
check_out "the position stays at the start of the part held" "pos_of f.pos" 0
check "after the flush interval the part held is passed on, as P" \
	"wait_for 'js f.mp | grep -qF \"\\\"_p\\\":\\\"P\\\",\\\"log\\\":\\\"held \\\"\"'"
check "then the position moves past it" \
	"wait_for 'test \$(pos_of f.pos) = $(wc -c <f.log)'"
kill -TERM $pid
wait $pid

# kill -9 while a part is held: the restart reads the message whole, once
: >k.log
ltail --pos-file k.pos --multiline-parser cri \
	--multiline-flush-interval 0 k.log >k1.mp &
pid=$!
wait_for "test -s k.pos"
printf '2021-01-01T00:00:00Z stdout F m1\n' >>k.log
printf '2021-01-01T00:00:01Z stdout P m2a \n' >>k.log
printf '2021-01-01T00:00:02Z stderr F e1\n' >>k.log
wait_for "js k1.mp | grep -q e1"
wait_for "test \$(pos_of k.pos) = 33"
kill -KILL $pid
wait $pid 2>/dev/null
printf '2021-01-01T00:00:03Z stdout F m2b\n' >>k.log
ltail --once --pos-file k.pos --multiline-parser cri k.log >k2.mp
check_out "after kill -9: the held message whole (and the line after it again)" \
	"lout -f single_value --key log <k2.mp" "e1
m2a m2b"
check_out "before it, the lines passed on" \
	"lout -f single_value --key log <k1.mp" "m1
e1"

# a group cut by rotation: both parts are passed on, none lost
: >r.log
ltail --multiline-parser docker --rotate-wait 200ms --poll-interval 100ms \
	--pos-file r.pos r.log >r.mp &
pid=$!
wait_for "test -s r.pos"
printf '{"log":"first half ","stream":"stdout"}\n' >>r.log
mv r.log r.log.1
printf '{"log":"second half\\n","stream":"stdout"}\n' >r.log
check "a message cut by rotation: both parts passed on" \
	"wait_for 'test \$(js r.mp | wc -l) = 2'"
check_out "the part of the rotated file (as it was), the new file's" \
	"lout -f json <r.mp | sort" '{"log":"first half ","stream":"stdout"}
{"log":"second half\n","stream":"stdout"}'
kill -TERM $pid
wait $pid

# a Kubernetes node: /var/log/containers/POD_NS_CONTAINER-ID.log are
# symlinks to the CRI files of /var/log/pods, which kubelet rotates
K=$T/var/log
mkdir -p "$K/containers" "$K/pods/ns_web-0_uid/app"
P=$K/pods/ns_web-0_uid/app
: >"$P/0.log"
ID=0123456789abcdef
ln -s "$P/0.log" "$K/containers/web-0_ns_app-$ID.log"
ltail -t 'kube.*' --multiline-parser cri --rotate-wait 300ms \
	--poll-interval 100ms --refresh-interval 1s \
	--pos-file "$T/k8s.pos" "$K/containers/*.log" >k8s.mp 2>k8s.err &
pid=$!
wait_for "test -s '$T/k8s.pos'"
N=600
i=1
while [ $i -le $N ]; do
	if [ $((i % 3)) = 0 ]; then
		printf '2021-01-01T00:00:00.%09dZ stdout P msg-%d \n2021-01-01T00:00:00Z stdout F tail\n' \
		    $i $i >>"$P/0.log"
	else
		printf '2021-01-01T00:00:00.%09dZ stderr F msg-%d tail\n' \
		    $i $i >>"$P/0.log"
	fi
	if [ $((i % 150)) = 0 ]; then
		# kubelet rotates at 10M: give ltail the time to open the file
		wait_for "test \$(lout -f json <k8s.mp | wc -l) -ge $((i - 10))" 300
		mv "$P/0.log" "$P/0.log.$i"
		: >"$P/0.log"
	fi
	i=$((i + 1))
done
wait_for "test \$(lout -f json <k8s.mp | wc -l) -ge $N" 300
kill -TERM $pid
wait $pid
check_out "kubernetes: every message of $N through 4 rotations, once" \
	"lout -f single_value --key log <k8s.mp | sort -u | wc -l;
		lout -f json <k8s.mp | wc -l" "$N
$N"
check "each whole: msg-N tail" \
	"! lout -f single_value --key log <k8s.mp | grep -v '^msg-[0-9]* tail\$'"
want=$(printf '%s' "kube.$K/containers/web-0_ns_app-$ID.log" | tr / . | tr -s .)
check_out "the tag from the file name, as Fluent Bit's Tag kube.*" \
	"lout -f out_file <k8s.mp | cut -f2 | sort -u" "$want"
check_out "the stream of each message kept" \
	"lout -f json <k8s.mp | grep -c '\"stream\":\"stdout\"'" $((N / 3))
