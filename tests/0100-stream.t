#!/bin/sh
# The event stream: every Forward shape, the captured Fluentd vectors, bad
# input, checked against an independent decoder (python3-msgpack).
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$PY $DATA/fwd.py"
plan 21

# Fluentd's own captures, decoded by lout and by the reference decoder
for v in packed_plain packed_ack packed_gzip_ack fluentcat_forward \
    ack_timeout_resend_1st probe_message_int_ack probe_message_eventtime \
    probe_forward_ack probe_packed_bin_ack probe_packed_str32_ack \
    probe_compressed_gzip_ack; do
	hex2bin "$VECTORS/$v.c2s.hex" >"$T/$v.bin"
	check_same "vector $v decodes like python3-msgpack" \
		"lout -f out_file --time-format %s.%N <'$T/$v.bin'" \
		"$FWD decode <'$T/$v.bin'"
done

$FWD shapes >"$T/shapes.bin"
check_same "every carrier shape, as python3-msgpack reads it" \
	"lout -f out_file --time-format %s.%N <'$T/shapes.bin'" \
	"$FWD decode <'$T/shapes.bin'"
check_out "the gzip vector holds the two td-agent lines" \
	"lout -f json <'$T/packed_gzip_ack.bin' | cut -c1-40" \
	'{"level":"WARN","msg":"time over request'"
"'{"level":"INFO","msg":"request done requ'

# writers emit Message mode only: re-read, every shape becomes [tag,t,rec]
check "lcat -m rewrites every shape as Message mode" \
	"lcat -m '$T/shapes.bin' >'$T/msg.bin' &&
	 $PY -c 'import msgpack,sys
for o in msgpack.Unpacker(sys.stdin.buffer):
    assert len(o) == 3 and isinstance(o[2], dict), o
    assert isinstance(o[1], msgpack.ExtType) and o[1].code == 0
' <'$T/msg.bin'"

# bad input: good events first, then PROG: stdin: byte OFFSET: what
n=$(wc -c <"$T/probe_forward_ack.bin")
head -c $((n - 3)) "$T/probe_forward_ack.bin" >"$T/trunc.bin"
cat "$T/packed_plain.bin" "$T/trunc.bin" >"$T/plain_trunc.bin"
p=$(wc -c <"$T/packed_plain.bin")
check_err "truncated input: byte offset and exit 3" 3 \
	"lout <'$T/plain_trunc.bin'" \
	"lout: stdin: byte $p: truncated event: the input ends"
check_out "truncated input: the events before it are written" \
	"lout -f json <'$T/plain_trunc.bin' 2>/dev/null | wc -l" 2
printf 'garbage\n' >"$T/garbage.bin"
cat "$T/packed_plain.bin" "$T/garbage.bin" "$T/packed_plain.bin" >"$T/mid.bin"
check_err "garbage: says what was found" 3 "lout <'$T/mid.bin'" \
	"lout: stdin: byte $p: expected an event [tag, time, record], found an integer"
check_out "--skip-invalid: every good event on both sides" \
	"lout -f json --skip-invalid <'$T/mid.bin' 2>/dev/null | wc -l" 4
check_err "--skip-invalid: reports what it skipped" 0 \
	"lout --skip-invalid <'$T/mid.bin'" \
	"lout: stdin: skipped 8 bytes of invalid input in 1 places"
check_err "--max-event-size: a clear error" 3 \
	"lout --max-event-size 100 <'$T/packed_plain.bin'" \
	"event larger than 100 bytes"

# fuzzer finding: maps nested as map keys once grew exponentially in JSON
check_out "nested container keys render in linear size (fuzz regression)" \
	"timeout 10 lout -f json <'$DATA/fuzz-stream-nested-keys.bin' 2>/dev/null | wc -c" 270
