#!/bin/sh
# lsyslog into a real rsyslogd (Debian's): every event arrives once, with
# its facility, severity, hostname, app-name, procid, msgid and time as
# mapped; RFC 5424 and RFC 3164, octet-counting and newline framing over
# TCP, and UDP.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 25

# rsyslogd, no system sockets: imtcp on a free port (its port file), imudp
# on a port found free (tried again if taken meanwhile), every message's
# fields to $T/rs.out; sets $tport and $uport
rs_conf() {
	cat <<EOF
global(workDirectory="$T/rs" maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$T/rs.tport")
input(type="imudp" address="127.0.0.1" port="$1" rcvbufSize="4m")
template(name="f" type="string" string="%syslogfacility%|%syslogseverity%|%hostname%|%app-name%|%procid%|%msgid%|%timereported:::date-rfc3339%|%timereported:::date-rfc3164%|%structured-data%|%msg%\n")
action(type="omfile" file="$T/rs.out" template="f")
EOF
}
FREEUDP='import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
UDPSEND='import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(),
    ("127.0.0.1", int(sys.argv[1])))'
rs_start() {
	mkdir -p "$T/rs"
	for try in 1 2 3 4 5; do
		uport=$($PY -c "$FREEUDP")
		rs_conf "$uport" >"$T/rs.conf"
		rm -f "$T/rs.tport"
		rsyslogd -n -f "$T/rs.conf" -i "$T/rs.pid" >"$T/rs.err" 2>&1 &
		rspid=$!
		if wait_for "test -s '$T/rs.tport'" 100; then
			$PY -c "$UDPSEND" "$uport" "<14>1 - - probe - - - probe$try"
			wait_for "grep -q 'probe$try' '$T/rs.out'" 50 && break
		fi
		kill $rspid 2>/dev/null
		wait $rspid 2>/dev/null
	done
	tport=$(cat "$T/rs.tport")
}
rs_start
check 'rsyslogd runs, on TCP and UDP' 'grep -q probe "$T/rs.out"'

# N events: i from 1, severity i%8 (a number), facility local(i%8) (a
# name), hostname h(i%4), app-name app(i%3), procid i, msgid ID(i%5), the
# time 1700000000+i and 123456 us; RUN tells the runs apart
events() {
	awk -v n="$1" -v run="$2" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"time\":%d.123456,\"message\":\"%s-%d\",\"sev\":%d," \
		"\"fac\":\"local%d\",\"h\":\"h%d\",\"app\":\"app%d\"," \
		"\"pid\":%d,\"id\":\"ID%d\"}\n", 1700000000 + i, run, i,
		i % 8, i % 8, i % 4, i % 3, i, i % 5 }' |
		lcat --time-key time --time-format float sys.test
}
MAP="--severity-key sev --facility-key fac --hostname-key h --appname-key app --procid-key pid"
# what rsyslogd writes for them: 5424 with the microseconds and msgid,
# 3164 with its own time form and no msgid ("-")
want() {
	awk -v n="$1" -v run="$2" -v f="$3" 'BEGIN { for (i = 1; i <= n; i++) {
		t = 1700000000 + i; s = t % 60; m = int(t / 60) % 60
		h = int(t / 3600) % 24; d = 14 + int((t - 1699920000) / 86400)
		if (f == 5424)
			printf "%d|%d|h%d|app%d|%d|ID%d|2023-11-%02dT%02d:%02d:%02d.123456Z|-|%s-%d\n",
			    16 + i % 8, i % 8, i % 4, i % 3, i, i % 5, d, h, m, s, run, i
		else
			printf "%d|%d|h%d|app%d|%d|-|Nov %2d %02d:%02d:%02d|-| %s-%d\n",
			    16 + i % 8, i % 8, i % 4, i % 3, i, d, h, m, s, run, i
	} }' | sort
}
# got RUN FORMAT: the lines of run RUN, the time field of the format
got() {
	grep -E -- "[| ]$1-[0-9]+\$" "$T/rs.out" | if [ "$2" = 5424 ]; then
		cut -d'|' -f1-7,9-; else cut -d'|' -f1-6,8-; fi | sort
}
# count RUN N: wait (10 s at most) until rsyslogd wrote N lines of RUN
count() {
	wait_for "test \$(grep -c -E -- '[| ]$1-[0-9]+\$' '$T/rs.out') -ge $2" 100
	grep -c -E -- "[| ]$1-[0-9]+\$" "$T/rs.out"
}

# RFC 5424, octet counting (the default over tcp)
events 2000 a >"$T/a.bin"
check_exit '5424 octet: 2000 events, exit 0' 0 \
	'lsyslog $MAP --msgid-key id tcp:127.0.0.1:$tport <"$T/a.bin"'
check_out '5424 octet: 2000 lines in rsyslogd'"'"'s file' 'count a 2000' 2000
check_same '5424 octet: facility, severity, hostname, app-name, procid, msgid, time as mapped' \
	'got a 5424' 'want 2000 a 5424'

# RFC 5424, newline framing
events 2000 b >"$T/b.bin"
check_exit '5424 newline: exit 0' 0 \
	'lsyslog --framing newline $MAP --msgid-key id tcp:127.0.0.1:$tport <"$T/b.bin"'
check_out '5424 newline: 2000 lines' 'count b 2000' 2000
check_same '5424 newline: every field as mapped' 'got b 5424' 'want 2000 b 5424'

# RFC 3164, newline framing (its default) and octet counting
events 2000 c >"$T/c.bin"
check_exit '3164 newline: exit 0' 0 \
	'lsyslog -f rfc3164 $MAP tcp:127.0.0.1:$tport <"$T/c.bin"'
check_out '3164 newline: 2000 lines' 'count c 2000' 2000
check_same '3164 newline: every field as mapped' 'got c 3164' 'want 2000 c 3164'
events 2000 d >"$T/d.bin"
check_exit '3164 octet: exit 0' 0 \
	'lsyslog -f rfc3164 --framing octet $MAP tcp:127.0.0.1:$tport <"$T/d.bin"'
check_out '3164 octet: 2000 lines' 'count d 2000' 2000
check_same '3164 octet: every field as mapped' 'got d 3164' 'want 2000 d 3164'

# UDP, a datagram a message: udp: and no scheme at all
events 150 e >"$T/e.bin"
check_exit '5424 udp: exit 0' 0 \
	'lsyslog $MAP --msgid-key id udp:127.0.0.1:$uport <"$T/e.bin"'
check_out '5424 udp: 150 lines' 'count e 150' 150
check_same '5424 udp: every field as mapped' 'got e 5424' 'want 150 e 5424'
events 150 f >"$T/f.bin"
check_exit '3164 udp (no scheme): exit 0' 0 \
	'lsyslog -f rfc3164 $MAP 127.0.0.1:$uport <"$T/f.bin"'
check_out '3164 udp: 150 lines' 'count f 150' 150
check_same '3164 udp: every field as mapped' 'got f 3164' 'want 150 f 3164'

# the defaults: info, user, the host's name, the tag; structured data;
# names of any case; values that are not valid replaced and counted
printf '%s\n' '{"message":"g-1","sd":{"k":"v\"]","n":3},"sev":"WARNING","fac":"Local7"}' \
	'{"message":"g-2","sev":"loud","fac":99,"pid":"a b"}' \
	'{"message":"g-3\n"}' | lcat sys.dflt >"$T/g.bin"
check_err 'invalid values: exit 0, counted in --stats' 0 \
	'lsyslog --stats --sd-key sd --severity-key sev --facility-key fac --procid-key pid tcp:127.0.0.1:$tport <"$T/g.bin"' \
	'invalid values 3,'
check 'each invalid value said, with the event' \
	'grep -q "event 2: invalid severity .loud.: the default used" "$T/.err" &&
	 grep -q "event 2: invalid facility .99.: the default used" "$T/.err" &&
	 grep -q "event 2: invalid procid .a b.: the default used" "$T/.err"'
count g 3 >/dev/null
check_out 'names of any case, structured data escaped' \
	"grep -F '|g-1' '$T/rs.out' | cut -d'|' -f1-6,9-" \
	"23|4|$(uname -n)|sys.dflt|-|-|[sd k=\"v\\\"\\]\" n=\"3\"]|g-1"
check_out 'invalid values: the defaults (user, info)' \
	"grep -F '|g-2' '$T/rs.out' | cut -d'|' -f1-6,9-" \
	"1|6|$(uname -n)|sys.dflt|-|-|-|g-2"
check_out 'a line end is not part of the message' \
	"grep -F '|g-3' '$T/rs.out' | cut -d'|' -f10- | od -c | head -n 1" \
	"$(printf 'g-3\n' | od -c | head -n 1)"

kill $rspid
wait $rspid
check 'rsyslogd logged no error about our messages' \
	'! grep -i "error\|invalid\|framing" "$T/rs.err"'
