#!/bin/sh
# lbuffer: chunks in memory and in files, chunk limits and keys, the lock,
# --status, signals, exit statuses and --overflow-action
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 24

$PY "$FWD" events 1000 lb.test >"$T/ev.bin"
$PY "$FWD" shapes >"$T/shapes.bin"
decode() { $PY "$FWD" decode; }
decode <"$T/ev.bin" >"$T/ev.txt"
awk 'BEGIN { for (i = 0; i < 10; i++) printf "{\"n\":\"%02d\"}\n", i }' |
	lcat t >"$T/ten.bin"    # 10 events of 19 bytes
# runs: an output command that logs what each chunk brought
cat >"$T/runs.sh" <<EOF
#!/bin/sh
n=\$(lout --format single_value --key n | tr '\n' ' ')
echo "\${LBUFFER_CHUNK_TAG:-} \$LBUFFER_CHUNK_RECORDS: \$n" >>"$T/runs"
EOF
chmod +x "$T/runs.sh"

check_same 'memory, no command: the events come out, every shape as Message mode' \
	'lbuffer <"$T/shapes.bin" | decode' 'decode <"$T/shapes.bin"'
check_same '--dir, no command: the same, through chunk files' \
	'lbuffer --dir "$T/d1" <"$T/ev.bin" | decode' 'decode <"$T/ev.bin"'
check_out '... and no chunk is left behind' 'ls "$T/d1" | grep -c chunk-' 0
check_same '--fsync interval and --fsync never: the same events' \
	'for f in interval never; do lbuffer --dir "$T/d1" --fsync $f \
	--chunk-limit-size 10k <"$T/ev.bin"; done | decode' \
	'decode <"$T/ev.bin"; decode <"$T/ev.bin"'
check_same '--dir with a command: the command gets every event' \
	'lbuffer --dir "$T/d2" -- sh -c "cat >>\"$T/d2.out\"" <"$T/ev.bin";
	decode <"$T/d2.out"' 'decode <"$T/ev.bin"'
check_out '--chunk-limit-records 3: chunks of 3, 3, 3 and 1' \
	'lbuffer --chunk-limit-records 3 -- "$T/runs.sh" <"$T/ten.bin"; cat "$T/runs"' \
	' 3: 00 01 02 
 3: 03 04 05 
 3: 06 07 08 
 1: 09 '
rm -f "$T/runs"
check_out '--chunk-limit-size 70 (19-byte events): chunks of 3 and the rest' \
	'lbuffer --dir "$T/d3" --chunk-limit-size 70 -- "$T/runs.sh" <"$T/ten.bin"; cat "$T/runs"' \
	' 3: 00 01 02 
 3: 03 04 05 
 3: 06 07 08 
 1: 09 '
rm -f "$T/runs"
for t in a b a b a; do echo '{"n":"x"}' | lcat $t; done >"$T/ab.bin"
check_out '--chunk-keys tag: one chunk per tag, LBUFFER_CHUNK_TAG set' \
	'lbuffer --chunk-keys tag -- "$T/runs.sh" <"$T/ab.bin"; sort "$T/runs"' \
	'a 3: x x x 
b 2: x x '
rm -f "$T/runs"

# a run that stays up: lbuffer reads the FIFO $T/in, open on fd 3
mkfifo "$T/in"
lbuffer --dir "$T/d4" --flush-interval 200ms --retry-wait 10s -- \
	sh -c 'cat >>"$0"; exit 1' "$T/d4.out" <"$T/in" 2>"$T/d4.err" &
lb=$!
exec 3>"$T/in"
cat "$T/ten.bin" >&3
check 'a chunk is flushed --flush-interval after it opened, input still open' \
	'wait_for "[ -s \"$T/d4.out\" ]" 50'
check_err 'a second lbuffer on the same --dir exits 4' 4 \
	'lbuffer --dir "$T/d4" </dev/null' 'is in use by another lbuffer (pid '
check 'lbuffer --status: running, the chunk retrying after exit status 1' \
	'wait_for "lbuffer --dir \"$T/d4\" --status | grep -q \"retrying .* 10 events\"" 50 &&
	lbuffer --dir "$T/d4" --status | grep -q "running, pid $lb"'
check '--status --json: chunks, records, the retry state' \
	'lbuffer --dir "$T/d4" --status --json | $PY -c "import json, sys
s = json.load(sys.stdin)
q = s[\"queue\"][0]
assert s[\"running\"] and s[\"chunks\"] == 1 and s[\"records\"] == 10, s
assert q[\"failures\"] == 1 and q[\"last_error\"] == \"exit status 1\", q
assert q[\"state\"] == \"retrying\" and 0 < q[\"retry_in\"] <= 10, q"'
kill -USR1 $lb
check 'SIGUSR1: counters and the chunks on stderr' \
	'wait_for "grep -q \"retrying .* 10 events\" \"$T/d4.err\"" 50 &&
	grep -q "events in 10," "$T/d4.err"'
kill -TERM $lb
wait $lb
rc=$?
exec 3>&-
check_out 'SIGTERM, file buffer: a last try, exit 0, the chunk kept on disk' \
	'echo $rc; grep -c "stay in" "$T/d4.err"; ls "$T/d4" | grep -c "queued$"' \
	'0
1
1'
check_out '... and the next start delivers it' \
	'lbuffer --dir "$T/d4" -- sh -c "cat >\"$T/d4.again\"" </dev/null;
	lout --format single_value --key n <"$T/d4.again" | tr "\n" " "; echo' \
	'00 01 02 03 04 05 06 07 08 09 '
check_out '--status when nothing runs: read from the directory' \
	'lbuffer --dir "$T/d4" --status' \
	"$T/d4: not running; 0 chunks, 0 events, 0 bytes, oldest 0.0s"

# the memory buffer loses what it holds at SIGTERM: said, exit 4
mkfifo "$T/in5"
lbuffer --flush-interval 0 --retry-wait 10s --shutdown-timeout 100ms -- false \
	<"$T/in5" 2>"$T/m.err" &
lb=$!
exec 3>"$T/in5"
cat "$T/ten.bin" >&3
wait_for 'grep -q "failed" "$T/m.err"' 50
kill -TERM $lb
wait $lb
rc=$?
exec 3>&-
check_out 'SIGTERM, memory buffer, output failing: exit 4, the loss said' \
	'echo $rc; grep -o "10 events lost.*" "$T/m.err"' \
	'4
10 events lost (no --dead-letter-dir)'

check_exit 'bad --fsync: exit 2' 2 'lbuffer --fsync sometimes </dev/null'
check_exit 'bad --chunk-keys: exit 2' 2 'lbuffer --chunk-keys time </dev/null'
check_exit '--status without --dir: exit 2' 2 'lbuffer --status'
(cat "$T/ten.bin"; printf '\x93\xa1t\xc1') >"$T/bad.bin"
check_out 'bad input: the good events are delivered, then exit 3' \
	'lbuffer --dir "$T/d6" -- sh -c "cat >\"$T/d6.out\"" <"$T/bad.bin" 2>"$T/d6.err";
	echo $?; lout --format single_value --key n <"$T/d6.out" | wc -l' \
	'3
10'

# --overflow-action: the output fails, the buffer holds 100 bytes
check_err 'drop-oldest-chunk: chunks dropped to make room, counted, exit 4' 4 \
	'lbuffer --total-limit-size 100 --chunk-limit-records 2 --overflow-action drop-oldest-chunk --retry-max-times 0 -- sh -c "sleep 0.3; exit 1" <"$T/ten.bin"' \
	'buffer full: dropped chunk'
check_err 'error: a clear message, exit 4' 4 \
	'lbuffer --total-limit-size 100 --overflow-action error --retry-wait 10s --shutdown-timeout 100ms -- false <"$T/ten.bin"' \
	'bytes held (--total-limit-size 100, --overflow-action error)'
# block: the output fails twice, then takes everything; input waits
cat >"$T/late.sh" <<EOF
#!/bin/sh
n=\$(cat "$T/late.n" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$T/late.n"
[ \$n -lt 2 ] && exit 1
cat >>"$T/late.out"
EOF
chmod +x "$T/late.sh"
check_out 'block (the default): input held, then all delivered in order' \
	'lbuffer --dir "$T/d7" --total-limit-size 20k --chunk-limit-size 8k --retry-wait 20ms -- "$T/late.sh" <"$T/ev.bin" 2>"$T/d7.err";
	echo $?; decode <"$T/late.out" | cmp - "$T/ev.txt" && echo same;
	grep -c "input held until chunks are flushed" "$T/d7.err"' \
	'0
same
1'
