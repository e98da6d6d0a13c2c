#!/bin/sh
# lsyslog's exact bytes, as a Python receiver sees them: RFC 5424 and
# RFC 3164 headers, octet counting and newline framing, one datagram per
# message over UDP, messages cut to --max-size, the record as JSON
. "${0%/*}/lib.sh"
. "${0%/*}/lib-syslog.sh"
plan 21

# ev JSON...: events of tag app.x, each at the time of its "time" field
ev() { printf '%s\n' "$@" | lcat --time-key time --time-format float app.x; }
LS="timeout 20 lsyslog --hostname h1"

ev '{"time":1700000000.5,"message":"h\u00e9llo","level":"err","pid":7,"id":"M1"}' \
	'{"time":1701561600,"message":"second","level":"debug"}' >"$T/two.bin"
M1='<11>1 2023-11-14T22:13:20.500000Z h1 app.x 7 M1 - héllo'
M2='<15>1 2023-12-03T00:00:00.000000Z h1 app.x - - - second'
srv a tcp
check_exit '5424 over tcp: exit 0' 0 \
	'$LS --severity-key level --procid-key pid --msgid-key id tcp:127.0.0.1:$sport <"$T/two.bin"'
wait_for 'grep -q "^eof 1" "$T/a.log"'
check_same '5424, octet counting: the bytes' 'cat "$T/a.cap"' \
	'printf "%d %s%d %s" $(printf %s "$M1" | wc -c) "$M1" $(printf %s "$M2" | wc -c) "$M2"'
srv_stop a

srv b tcp --framing newline
check_exit '3164 over tcp: exit 0' 0 \
	'$LS -f rfc3164 --severity-key level --procid-key pid tcp:127.0.0.1:$sport <"$T/two.bin"'
wait_for 'grep -q "^eof 1" "$T/b.log"'
check_same '3164, newline framing: the bytes, the day padded with a space' \
	'cat "$T/b.cap"' \
	'printf "%s\n%s\n" "<11>Nov 14 22:13:20 h1 app.x[7]: héllo" "<15>Dec  3 00:00:00 h1 app.x: second"'
srv_stop b

srv c tcp
check_exit '5424 with newline framing: exit 0' 0 \
	'$LS --framing newline --facility local0 --severity notice --appname web tcp:127.0.0.1:$sport <"$T/two.bin"'
wait_for 'grep -q "^eof 1" "$T/c.log"'
check_same '--facility, --severity and --appname give the defaults' \
	'cat "$T/c.cap"' \
	'printf "%s\n%s\n" "<133>1 2023-11-14T22:13:20.500000Z h1 web - - - héllo" "<133>1 2023-12-03T00:00:00.000000Z h1 web - - - second"'
srv_stop c

# the text: a field, else the record as JSON; other values as JSON; line
# ends taken off; with newline framing a newline inside becomes a space
ev '{"time":1,"message":"a\nb\r\n"}' '{"time":2,"m":{"k":[1,true]}}' \
	'{"time":3,"message":12.5}' '{"time":4,"message":""}' >"$T/text.bin"
srv d tcp --framing newline
$LS --framing newline tcp:127.0.0.1:$sport <"$T/text.bin"
wait_for 'grep -q "^eof 1" "$T/d.log"'
srv_stop d
check_same 'the message text: newline framing, JSON, no text' \
	'cut -d" " -f8- "$T/d.cap"' \
	'printf "%s\n" "a b" "{\"m\":{\"k\":[1,true]}}" "12.5" ""'
check_same 'no text: no space after the structured data' \
	'sed -n 4p "$T/d.cap"' \
	'echo "<14>1 1970-01-01T00:00:04.000000Z h1 app.x - - -"'
srv e tcp
$LS --message-key m tcp:127.0.0.1:$sport <"$T/text.bin"
wait_for 'grep -q "^eof 1" "$T/e.log"'
srv_stop e
check_same '--message-key m; octet counting keeps a newline inside' \
	'cat "$T/e.log"' \
	'printf "%s\n" "conn 1" \
	 "msg <14>1 1970-01-01T00:00:01.000000Z h1 app.x - - - {\"message\":\"a\\\\nb\\\\r\\\\n\"}" \
	 "msg <14>1 1970-01-01T00:00:02.000000Z h1 app.x - - - {\"k\":[1,true]}" \
	 "msg <14>1 1970-01-01T00:00:03.000000Z h1 app.x - - - {\"message\":12.5}" \
	 "msg <14>1 1970-01-01T00:00:04.000000Z h1 app.x - - - {\"message\":\"\"}" "eof 1"'

# UDP: a datagram a message, no framing
srv u udp
check_exit 'udp: exit 0' 0 \
	'$LS --severity-key level --procid-key pid --msgid-key id udp:127.0.0.1:$sport <"$T/two.bin"'
wait_for 'test $(grep -c ^msg "$T/u.log") -ge 2'
check_same 'udp: one datagram each, no octet count' 'cat "$T/u.cap"' \
	'printf "%s\n%s\n" "$M1" "$M2"'
srv_stop u

# --max-size: a longer message is cut, not inside a UTF-8 character
long=$(awk 'BEGIN { for (i = 0; i < 600; i++) printf "\303\251" }')
ev "{\"time\":1,\"message\":\"$long\"}" "{\"time\":2,\"message\":\"x$long\"}" \
	'{"time":3,"message":"short"}' >"$T/long.bin"
srv v udp
check_err 'udp: messages over 2048 (default) fit; --max-size 480 cuts, said' 0 \
	'$LS --stats --max-size 480 udp:127.0.0.1:$sport <"$T/long.bin"' \
	'truncated 2,'
check 'the cut is said for each, with the sizes' \
	'grep -q "event 1: a message of 1249 bytes cut to 479 (--max-size)" "$T/.err" &&
	 grep -q "event 2: a message of 1250 bytes cut to 480 (--max-size)" "$T/.err"'
wait_for 'test $(grep -c ^msg "$T/v.log") -ge 3'
srv_stop v
CHECKUTF='import sys
d = open(sys.argv[1], "rb").read().split(b"\n")[:3]
assert [len(x) for x in d] == [479, 480, 54], [len(x) for x in d]
for x in d:
    x.decode("utf-8")'
check 'the datagrams: 479 and 480 bytes, valid UTF-8, the short one whole' \
	'$PY -c "$CHECKUTF" "$T/v.cap"'
srv w tcp
check_exit 'tcp: no limit by default' 0 \
	'$LS tcp:127.0.0.1:$sport <"$T/long.bin"'
wait_for 'grep -q "^eof 1" "$T/w.log"'
srv_stop w
check_out 'tcp: the messages whole' \
	'tr -c "0-9 <" "." <"$T/w.cap" | grep -o "[0-9]* <" | tr "\n" " "; echo' \
	'1249 < 1250 < 54 < '
srv y tcp
check_err 'tcp: --max-size 1k cuts, counted' 0 \
	'$LS --stats --max-size 1k tcp:127.0.0.1:$sport <"$T/long.bin"' \
	'truncated 2,'
wait_for 'grep -q "^eof 1" "$T/y.log"'
srv_stop y
check_out 'tcp: the octet counts of the cut messages' \
	'tr -c "0-9 <" "." <"$T/y.cap" | grep -o "[0-9]* <" | tr "\n" " "; echo' \
	'1023 < 1024 < 54 < '

# bad input: what came before it is sent, then exit 3
printf '\223\242ok\001\201\247message\242m1\301garbage' >"$T/bad.bin"
srv x tcp
check_err 'bad input: exit 3, the error said' 3 \
	'$LS tcp:127.0.0.1:$sport <"$T/bad.bin"' 'invalid msgpack byte 0xc1'
wait_for 'grep -q "^eof 1" "$T/x.log"'
srv_stop x
check_out 'bad input: the event before it was sent' \
	'grep -c "^msg .* ok - - - m1\$" "$T/x.log"' 1

# field paths; the tag as APP-NAME made fit for the format
printf '%s\n' '{"time":5,"log":{"level":"error","id":[7]},"message":"p"}' |
	lcat --time-key time 'web:a b' >"$T/path.bin"
srv z tcp --framing newline
$LS --framing newline --severity-key '$.log.level' --procid-key '$.log.id[0]' \
	tcp:127.0.0.1:$sport <"$T/path.bin"
$LS -f rfc3164 tcp:127.0.0.1:$sport <"$T/path.bin"
wait_for 'grep -q "^eof 2" "$T/z.log"'
srv_stop z
check_same 'paths into the record; the tag with a space (and : for 3164) as _' \
	'cat "$T/z.cap"' \
	'printf "%s\n" "<11>1 1970-01-01T00:00:05.000000Z h1 web:a_b 7 - - p" \
	 "<14>Jan  1 00:00:05 h1 web_a_b: p"'
