#!/bin/sh
# gen-log.sh - write N deterministic td-agent style log lines to FILE.
# usage: gen-log.sh [N [FILE]]   (defaults: 1000000, stdout)
# Every run with the same N gives the same bytes: a fixed LCG drives all
# choices (no rand()), and arithmetic stays below 2^53 so any awk agrees.
set -eu
n=${1:-1000000}
out=${2:--}
case $n in ''|*[!0-9]*) echo "gen-log.sh: N must be a number: $n" >&2; exit 2;; esac
[ "$out" = - ] || exec >"$out"
LC_ALL=C exec awk -v n="$n" '
function rnd(m) {	# next LCG state; return 0..m-1 from its high bits
	s = (s * 69069 + 12345) % 4294967296
	return int(s / 65536) % m
}
function mdays(mo, y) {
	if (mo == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
	return (mo == 4 || mo == 6 || mo == 9 || mo == 11) ? 30 : 31
}
function stamp() {	# "YYYY-MM-DD HH:MM:SS", rebuilt only when the second changes
	return sprintf("%04d-%02d-%02d %02d:%02d:%02d", Y, Mo, D, h, mi, sec)
}
BEGIN {
	s = 20170818
	Y = 2017; Mo = 8; D = 18; h = 19; mi = 39; sec = 39; ms = 0
	ts = stamp()
	split("alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil", U, " ")
	split("items orders users carts search payments sessions reports", P, " ")
	rid = 12345
	for (i = 0; i < n; i++) {
		# several lines a second: advance 0..399 ms, carry into the clock
		ms += rnd(400)
		if (ms >= 1000) {
			ms -= 1000
			if (++sec == 60) { sec = 0
				if (++mi == 60) { mi = 0
					if (++h == 24) { h = 0
						if (++D > mdays(Mo, Y)) { D = 1
							if (++Mo == 13) { Mo = 1; Y++ } } } } }
			ts = stamp()
		}
		rid += 1 + rnd(7)
		u = U[1 + rnd(16)]
		p = P[1 + rnd(8)]
		id = rnd(100000)
		l = rnd(100)
		if (l < 60)
			printf "%s,%03d - [INFO] request done request_id=%d user=%s bytes=%d path=/%s/%d\n", ts, ms, rid, u, 200 + rnd(60000), p, id
		else if (l < 80)
			printf "%s,%03d - [WARN] time over request_id=%d user=%s elapsed=%d path=/%s/%d\n", ts, ms, rid, u, 1000 + rnd(9000), p, id
		else if (l < 92)
			printf "%s,%03d - [DEBUG] cache lookup request_id=%d user=%s key=%s:%d hit=%s\n", ts, ms, rid, u, p, id, rnd(2) ? "true" : "false"
		else
			printf "%s,%03d - [ERROR] upstream timeout request_id=%d user=%s host=db-%d.internal retry=%d\n", ts, ms, rid, u, rnd(8), rnd(5)
	}
}'
