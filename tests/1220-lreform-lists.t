#!/bin/sh
# Comma lists of the programs the data-driven cases do not run (issue 15):
# white space around each item is trimmed, as Fluentd trims the items of
# its array parameters ("keep_keys foo, bar").  lreform -k/-d and lparse
# --keys/--types are in tests/cases/lreform.cases and lparse-fidelity.cases.
. "${0%/*}/lib.sh"
plan 6

printf '%s\n' '{"a":1,"b":"x","c":2}' '{"a":3,"b":"y","c":4}' |
	lcat app.web >"$T/ev.bin"

check_out "lout --fields: names trimmed" \
	"lout -f csv --fields ' c , a,	b ' <'$T/ev.bin'" '"2","1","x"
"4","3","y"'
check_out "lout --fields: empty names left out" \
	"lout -f tsv --fields 'c,, a,' <'$T/ev.bin'" '2	1
4	3'

# lbuffer --chunk-keys: a list whose one key is tag
cat >"$T/runs.sh" <<EOF
#!/bin/sh
cat >/dev/null
echo "\${LBUFFER_CHUNK_TAG:-none}" >>"$T/runs"
EOF
check_out "lbuffer --chunk-keys ' tag ': one chunk per tag" \
	"{ printf '{}\n' | lcat a; printf '{}\n' | lcat b; } | lbuffer --chunk-keys ' tag ' -- sh '$T/runs.sh' && sort '$T/runs'" \
	'a
b'
check_out "lbuffer --chunk-keys 'tag,': the same" \
	"rm -f '$T/runs'; printf '{}\n' | lcat c | lbuffer --chunk-keys 'tag, ' -- sh '$T/runs.sh' && cat '$T/runs'" \
	'c'
check_err "lbuffer --chunk-keys: spaces around a key are trimmed, not inside" 2 \
	"lbuffer --chunk-keys 'tag, a b' </dev/null" \
	"bad value 'tag, a b' for --chunk-keys (a record key is 1 to 64 of A-Z a-z 0-9 - _ . @)"
check_out "lbuffer --chunk-keys '': no key, one chunk" \
	"rm -f '$T/runs'; lbuffer --chunk-keys '' -- sh '$T/runs.sh' <'$T/ev.bin' && cat '$T/runs'" \
	'none'
