#!/bin/sh
# lbuffer: retries with Fluentd's exponential backoff, limits, the
# secondary, dead letters, and order per tag with several outputs at once.
#
# Fluentd (plugin_helper/retry_state.rb): the first retry comes
# --retry-wait after the first failure, unrandomized; the k-th after that
# comes wait * base^k later, times 1 +- 12.5% with --retry-randomize,
# capped at --retry-max-interval and clipped to --retry-timeout.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 17

awk 'BEGIN { for (i = 0; i < 10; i++) printf "{\"n\":\"%02d\"}\n", i }' |
	lcat t >"$T/ten.bin"
# fails.sh NAME N: fails the first N attempts, then keeps the chunk; logs
# each attempt's start time to NAME.starts
cat >"$T/fails.sh" <<'EOF'
#!/bin/sh
date +%s.%N >>"$1.starts"
k=$(cat "$1.count" 2>/dev/null || echo 0)
echo $((k + 1)) >"$1.count"
if [ "$k" -lt "$2" ]; then cat >/dev/null; exit 1; fi
cat >>"$1.out"
EOF
chmod +x "$T/fails.sh"
# waits FILE: the waits lbuffer announced ("retry N in Xs"), in seconds
waits() {
	sed -n 's/.*; retry [0-9]* in \([0-9.]*\)s$/\1/p' "$1" | tr '\n' ' '
	echo
}
# gaps FILE "I1 I2..." LO HI: each gap between the start times in FILE is
# at least LO * I ms and at most HI * I ms plus 250 ms of process start-up
gaps() {
	awk -v want="$2" -v lo="$3" -v hi="$4" '
	BEGIN { n = split(want, w, " ") }
	NR > 1 { g = ($1 - p) * 1000; i = NR - 1
		if (g < lo * w[i] - 2 || g > hi * w[i] + 250) {
			printf "gap %d: %.1f ms, want %.1f to %.1f\n", i, g,
			    lo * w[i], hi * w[i] + 250; bad = 1 } }
	{ p = $1 }
	END { if (NR - 1 != n) { print "gaps: " NR - 1; bad = 1 }; exit bad }' "$1"
}
ns() { lout --format single_value --key n <"$1" | tr '\n' ' '; echo; }

check_out 'fails 5 times, then succeeds: every event delivered, exit 0' \
	'lbuffer --dir "$T/a" --retry-wait 50ms --retry-randomize false -- \
	"$T/fails.sh" "$T/a" 5 <"$T/ten.bin" 2>"$T/a.err"; echo $?; ns "$T/a.out"' \
	'0
00 01 02 03 04 05 06 07 08 09 '
check_out '--retry-randomize false: waits of 50ms * 2^k, as Fluentd' \
	'waits "$T/a.err"' '0.050 0.100 0.200 0.400 0.800 '
check 'the output ran at those intervals (start times)' \
	'gaps "$T/a.starts" "50 100 200 400 800" 1 1'

lbuffer --retry-wait 50ms -- "$T/fails.sh" "$T/b" 5 <"$T/ten.bin" 2>"$T/b.err"
check 'randomized (the default): the first wait exact, the others within 12.5%' \
	'waits "$T/b.err" | awk "{ if (\$1 != 0.050) exit 1
	for (k = 2; k <= 5; k++) { d = \$k * 1000; w = 50 * 2 ^ (k - 1)
		if (d < 0.875 * w - 1 || d > 1.125 * w + 1) exit 1
		if (d != w) r = 1 }
	exit !r }"'
check '... and the output ran at those intervals' \
	'gaps "$T/b.starts" "50 100 200 400 800" 0.875 1.125'
check_out '--retry-exponential-backoff-base 3 --retry-max-interval 200ms' \
	'lbuffer --retry-wait 50ms --retry-randomize false --retry-exponential-backoff-base 3 --retry-max-interval 200ms -- "$T/fails.sh" "$T/c" 4 <"$T/ten.bin" 2>"$T/c.err"; waits "$T/c.err"' \
	'0.050 0.150 0.200 0.200 '
check 'the output ran at those intervals' \
	'gaps "$T/c.starts" "50 150 200 200" 1 1'

check_err '--retry-max-times 2: three tries, then a dead letter, exit 4' 4 \
	'lbuffer --dir "$T/d" --retry-wait 20ms --retry-max-times 2 -- "$T/fails.sh" "$T/d" 99 <"$T/ten.bin"' \
	'retries exhausted (--retry-max-times); 10 events moved to '"$T/d/dead/chunk-"
check_out '... the dead letter: the chunk, its meta and the reason' \
	'cat "$T/d.count"; ls "$T/d/dead" | sed "s/chunk-[0-9a-f]*//"; tail -n 1 "$T"/d/dead/*.reason | sed "s/^[^ ]*: //"' \
	'3
.meta
.queued
.reason
the output failed 3 times, last with exit status 1; retries exhausted (--retry-max-times)'
check_out '... which lbuffer --dir DEAD delivers as any buffer' \
	'lbuffer --dir "$T/d/dead" </dev/null 2>/dev/null >"$T/d.again"; ns "$T/d.again"' \
	'00 01 02 03 04 05 06 07 08 09 '
# --retry-timeout 300ms, wait 50ms: tries at 0, 50, 150, then one at the
# timeout itself (the wait clipped to it), then the limit
check_out '--retry-timeout: the last wait clipped to the timeout, 4 tries' \
	'lbuffer --retry-wait 50ms --retry-timeout 300ms --retry-randomize false \
	--dead-letter-dir "$T/e.dead" -- "$T/fails.sh" "$T/e" 99 <"$T/ten.bin" 2>"$T/e.err";
	echo $?; cat "$T/e.count"; grep -c "retries exhausted (--retry-timeout)" "$T/e.err"' \
	'4
4
1'
check_out '--secondary: run with sh -c once retries are exhausted, exit 0' \
	'lbuffer --retry-wait 10ms --retry-max-times 1 --secondary "lout --format single_value --key n >\"$T/sec.out\"" -- false <"$T/ten.bin" 2>"$T/sec.err";
	echo $?; tr "\n" " " <"$T/sec.out"; echo; grep -c "delivered by the secondary" "$T/sec.err"' \
	'0
00 01 02 03 04 05 06 07 08 09 
1'
check_err '... and when it fails too: a dead letter, exit 4' 4 \
	'lbuffer --dir "$T/f" --retry-wait 10ms --retry-max-times 0 --secondary "exit 3" -- false <"$T/ten.bin"' \
	'then the secondary: exit status 3; 10 events moved to'
check_err 'memory buffer, --dead-letter-dir: the chunk is written there' 4 \
	'lbuffer --retry-max-times 0 --dead-letter-dir "$T/g" -- false <"$T/ten.bin" &&
	false; ls "$T/g" | grep -q queued; exit 4' 'events moved to '"$T/g/chunk-"

# four tags, four outputs at once; every chunk's first try fails: each
# tag's events still arrive in order, and the tags went in parallel
$PY "$FWD" events 400 a >"$T/p.bin"
for t in b c d; do $PY "$FWD" events 400 $t; done >>"$T/p.bin"
cat >"$T/par.sh" <<EOF
#!/bin/sh
[ "\$LBUFFER_RETRY" = 0 ] && exit 1
echo "\$LBUFFER_CHUNK_TAG \$(date +%s.%N)" >>"$T/par.starts"
sleep 0.2
lout --format single_value --key i >>"$T/par.\$LBUFFER_CHUNK_TAG"
EOF
chmod +x "$T/par.sh"
check_out '--flush-thread-count 4 --chunk-keys tag: all delivered, exit 0' \
	'lbuffer --dir "$T/p" --chunk-keys tag --chunk-limit-records 50 --flush-thread-count 4 --retry-wait 10ms -- "$T/par.sh" <"$T/p.bin" 2>/dev/null; echo $?; cat "$T"/par.? | wc -l' \
	'0
1600'
check 'each tag in order' \
	'for t in a b c d; do seq 0 399 | cmp - "$T/par.$t" || exit 1; done'
# one after the other, each taking 0.2s, the fourth would start 0.6s in
check 'the four tags ran at once (their first 0.2s runs start within 0.3s)' \
	'head -n 4 "$T/par.starts" | sort -u -k1,1 | sort -k2 | awk "NR == 1 { f = \$2 } { l = \$2 }
	END { exit !(NR == 4 && l - f < 0.3) }"'
