#!/bin/sh
# lbuffer on a full disk: a 1 MiB tmpfs (when this user may mount one),
# and a file size limit (ulimit -f, which lbuffer meets as EFBIG): a clear
# message, input held (backpressure), no corrupt chunk, and everything
# delivered once space returns
. "${0%/*}/lib.sh"
plan 8
N=200000        # 26-byte events: 5.2 MB

awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
	printf "{\"seq\":\"%07d\"}\n", i }' | lcat t >"$T/ev.bin"
lout --format single_value --key seq <"$T/ev.bin" >"$T/want"
# taken: how many events lbuffer PID has read (SIGUSR1 prints its counters)
taken() {
	kill -USR1 "$1"
	wait_for "grep -q 'events in' '$2'" 50
	sed -n 's/.*events in \([0-9]*\),.*/\1/p' "$2" | tail -n 1
}

mkdir "$T/mnt"
if mount -t tmpfs -o size=1m tmpfs "$T/mnt" 2>/dev/null; then
	trap 'umount "$T/mnt" 2>/dev/null; _cleanup' EXIT
	# the output fails until $T/go exists
	lbuffer --dir "$T/mnt/buf" --chunk-limit-size 128k --retry-wait 50ms \
		--retry-max-interval 100ms --retry-forever -- sh -c \
		"[ -e '$T/go' ] || exit 1; cat >>'$T/a.out'" <"$T/ev.bin" \
		2>"$T/a.err" &
	lb=$!
	check 'tmpfs full: "No space left on device", input held' \
		'wait_for "grep -q \"No space left on device; input held\" \"$T/a.err\"" 100'
	n=$(taken $lb "$T/a.err")
	check "backpressure: $n of $N events read while held" \
		'[ "$n" -gt 0 ] && [ "$n" -lt $N ]'
	touch "$T/go"
	wait $lb
	rc=$?
	check_out 'space returns as chunks are delivered: all delivered, exit 0' \
		'echo $rc; lout --format single_value --key seq <"$T/a.out" | cmp - "$T/want" && echo "in order, once"; grep -q "stored again" "$T/a.err" && echo resumed' \
		'0
in order, once
resumed'
	check 'no chunk was corrupt or quarantined' \
		'! grep -q "quarantine\|torn\|corrupt" "$T/a.err"'
	sed 's/^/# /' "$T/a.err" | grep -v "output failed" | head -n 8
	umount "$T/mnt"
else
	for i in 1 2 3 4; do
		skip "full tmpfs, check $i" "cannot mount a tmpfs here"
	done
fi

# ulimit -f: chunk files stop at 64 KiB; the first block is larger, so no
# new chunk can take it either, until prlimit lifts the limit
if command -v prlimit >/dev/null; then
	(ulimit -S -f 128; exec lbuffer --dir "$T/b" --retry-wait 50ms \
		-- sh -c "ulimit -f unlimited; cat >>'$T/b.out'" \
		<"$T/ev.bin" 2>"$T/b.err") &
	lb=$!
	check 'file size limit: "File too large", input held' \
		'wait_for "grep -q \"File too large; input held\" \"$T/b.err\"" 100'
	n=$(taken $lb "$T/b.err")
	check "backpressure: $n of $N events read while held" \
		'[ "$n" -gt 0 ] && [ "$n" -lt $N ]'
	prlimit --pid $lb --fsize=unlimited
	wait $lb
	rc=$?
	check_out 'the limit lifted: all delivered in order, exit 0' \
		'echo $rc; lout --format single_value --key seq <"$T/b.out" | cmp - "$T/want" && echo "in order, once"' \
		'0
in order, once'
	check 'no chunk left, none quarantined' \
		'[ -z "$(ls "$T/b" | grep chunk-)" ] && [ ! -d "$T/b/quarantine" ]'
else
	for i in 1 2 3 4; do
		skip "file size limit, check $i" "no prlimit"
	done
fi
