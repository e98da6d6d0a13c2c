#!/bin/sh
# Every filter ends the same way (common filter_end): a run stopped by bad
# data still says what it counted (--stats) after the error, and exits 3.
. "${0%/*}/lib.sh"
plan 8

# one good event, then a byte that is never msgpack
printf '\223\241t\001\201\241a\001\301' >"$T/bad.bin"
for p in "lgrep -r 'a 1'" "lreform b=2" "lparse --format json --key a" \
    "lout --format json"; do
	name=${p%% *}
	check_err "$name: bad data is exit 3, with the byte" 3 \
		"$p --stats <'$T/bad.bin' >'$T/$name.out'" \
		"stdin: byte 8: invalid msgpack byte 0xc1"
	check "$name: and --stats still prints its counters" \
		"grep -q '^$name: events in 1, out 1' '$T/.err'"
done
