#!/bin/sh
# lrecv --syslog (issue 11): RFC 5424 and 3164 over TCP (octet counting
# and newline framing) and UDP, from logger(1) and a real rsyslogd; the
# fields, the tag, the time; hostile frames counted and survived
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
HOSTILE="$DATA/syslogin-hostile.py"
TLS="$DATA/syslogin-tls.py"
N=25
plan 31

for f in "$FWD" "$HOSTILE" "$TLS"; do
	[ -r "$f" ] || { echo "Bail out! missing fixture $f"; exit 1; }
done

lrecv --syslog tcp:127.0.0.1:0 --syslog udp:127.0.0.1:0 --syslog-tag sys \
	--request-timeout 1s --stats --port-file "$T/port" >"$T/out" 2>"$T/err" &
pid=$!
wait_for "test -s '$T/port'"
TP=$(sed -n 's/^syslog-tcp //p' "$T/port")
UP=$(sed -n 's/^syslog-udp //p' "$T/port")
check 'the port file names the syslog ports' \
	'[ -n "$TP" ] && [ -n "$UP" ] && kill -0 $pid'

# events: the decoded output so far (SEC.NSEC TAB TAG TAB JSON)
events() { $PY "$FWD" decode <"$T/out"; }
# count PATTERN: how many events match (grep -F)
count() { events | grep -cF -- "$1"; }

seq 1 $N | sed 's/^/octet /' >"$T/m1"
logger --tcp --octet-count --rfc5424 -n 127.0.0.1 -P "$TP" -t app5424 \
	--id=4242 --msgid MID7 --sd-id 'ex@32473' --sd-param 'k="v"' \
	-p local3.warning -f "$T/m1"
wait_for "[ \$(count '\"message\":\"octet ') -ge $N ]" 100
check "TCP octet-counted RFC 5424: $N messages, $N events" \
	"[ \$(count '\"message\":\"octet ') -eq $N ]"
check 'RFC 5424 fields: tag, facility, severity, ident, pid, msgid, SD' \
	'events | grep -F "\"message\":\"octet 7\"" | $PY -c "
import sys, json
sec, tag, rec = sys.stdin.read().rstrip(\"\\n\").split(\"\\t\")
r = json.loads(rec)
assert tag == \"sys.local3.warn\", tag
assert r[\"facility\"] == \"local3\" and r[\"severity\"] == \"warn\", r
assert r[\"ident\"] == \"app5424\" and r[\"pid\"] == \"4242\", r
assert r[\"msgid\"] == \"MID7\" and r[\"pri\"] == 156, r
assert \"[ex@32473 k=\\\"v\\\"]\" in r[\"extradata\"], r
assert r[\"source_address\"] == \"127.0.0.1\", r
"'

seq 1 $N | sed 's/^/udp /' >"$T/m2"
logger --udp --rfc3164 -n 127.0.0.1 -P "$UP" -t app3164 --id=77 \
	-p mail.err -f "$T/m2"
wait_for "[ \$(count '\"message\":\"udp ') -ge $N ]" 100
check "UDP RFC 3164: $N datagrams, $N events" \
	"[ \$(count '\"message\":\"udp ') -eq $N ]"
check 'RFC 3164 fields: tag, facility, severity, ident, pid, host' \
	'events | grep -F "\"message\":\"udp 3\"" | $PY -c "
import sys, json
sec, tag, rec = sys.stdin.read().rstrip(\"\\n\").split(\"\\t\")
r = json.loads(rec)
assert tag == \"sys.mail.err\", tag
assert r[\"facility\"] == \"mail\" and r[\"severity\"] == \"err\", r
assert r[\"ident\"] == \"app3164\" and r[\"pid\"] == \"77\", r
assert r[\"host\"] and r[\"pri\"] == 19, r
"'

seq 1 $N | sed 's/^/newline /' >"$T/m3"
logger --tcp --rfc5424 -n 127.0.0.1 -P "$TP" -t nlapp -p user.info \
	-f "$T/m3"
wait_for "[ \$(count '\"message\":\"newline ') -ge $N ]" 100
check "TCP newline-framed RFC 5424: $N messages, $N events" \
	"[ \$(count '\"message\":\"newline ') -eq $N ]"
check 'its tag is sys.user.info' \
	'[ $(events | grep -F "\"message\":\"newline " | cut -f2 | sort -u) = sys.user.info ]'

seq 1 $N | sed 's/^/tcp3164 /' >"$T/m4"
logger --tcp --rfc3164 -n 127.0.0.1 -P "$TP" -t t3164 -p daemon.debug \
	-f "$T/m4"
wait_for "[ \$(count '\"message\":\"tcp3164 ') -ge $N ]" 100
check "TCP RFC 3164 (newline): $N messages, tag sys.daemon.debug" \
	"[ \$(events | grep -F '\"message\":\"tcp3164 ' | grep -c \"	sys.daemon.debug	\") -eq $N ]"

# the event time is the message's own
printf '<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 - stamped\n' |
	$PY -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.close()' "$TP"
printf '<34>Oct 11 22:14:15 mymachine su: old stamp' |
	$PY -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(sys.stdin.buffer.read(),("127.0.0.1",int(sys.argv[1])))' "$UP"
wait_for "[ \$(count stamp) -ge 2 ]" 100
check_out 'RFC 5424 timestamp is the event time (2003-10-11T22:14:15.003Z)' \
	'events | grep -F "\"message\":\"stamped\"" | cut -f1-2' \
	"$(printf '1065910455.003000000\tsys.local4.notice')"
check 'RFC 3164 timestamp is the event time (Oct 11 22:14:15, this year)' \
	'events | grep -F "\"message\":\"old stamp\"" | $PY -c "
import sys, time
sec, tag, rec = sys.stdin.read().split(\"\\t\")
t = time.gmtime(int(float(sec)))
assert (t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec) == (10, 11, 22, 14, 15), t
assert tag == \"sys.auth.crit\", tag
"'

# a real rsyslogd: imfile on a temp file, omfwd octet-counted RFC 5424
RN=200
mkdir "$T/rs"
seq 1 $RN | sed 's/^/rsyslog line /' >"$T/rs/in.log"
cat >"$T/rs/rs.conf" <<EOC
global(workDirectory="$T/rs")
module(load="imfile")
input(type="imfile" File="$T/rs/in.log" Tag="rsapp" Facility="local5"
	Severity="notice")
action(type="omfwd" Target="127.0.0.1" Port="$TP" Protocol="tcp"
	TCP_Framing="octet-counted" Template="RSYSLOG_SyslogProtocol23Format")
EOC
rsyslogd -n -f "$T/rs/rs.conf" -i "$T/rs/pid" >"$T/rs/log" 2>&1 &
rpid=$!
wait_for "[ \$(count '\"message\":\"rsyslog line ') -ge $RN ]" 300
check "rsyslogd omfwd (octet-counted RFC 5424): all $RN lines counted" \
	"[ \$(events | grep -F '\"message\":\"rsyslog line ' | grep -cF '	sys.local5.notice	') -eq $RN ]"
check 'rsyslogd: ident rsapp on every one' \
	"[ \$(count '\"ident\":\"rsapp\"') -eq $RN ]"
kill $rpid 2>/dev/null
wait $rpid 2>/dev/null

# hostile frames: lrecv counts them, lives on, serves a good client after
before=$(events | wc -l)
check_out 'an octet count of 20 digits: connection closed' \
	'$PY "$HOSTILE" "$TP" hugelen' closed
check_out 'a non-digit in the octet count: connection closed' \
	'$PY "$HOSTILE" "$TP" nondigit' closed
check_out 'a partial message then silence: closed by --request-timeout' \
	'$PY "$HOSTILE" "$TP" partial' closed
check_out 'an octet count over --syslog-max-size: skipped, no crash' \
	'$PY "$HOSTILE" "$TP" skiplen' closed
check_out '10k garbage bytes: no crash' '$PY "$HOSTILE" "$TP" garbage' closed
check 'lrecv lives on' 'kill -0 $pid'
logger --tcp --octet-count --rfc5424 -n 127.0.0.1 -P "$TP" -t after \
	-p user.notice 'good after hostile'
wait_for "[ \$(count 'good after hostile') -ge 1 ]" 100
check 'and serves a good client after them' \
	'[ $(count "good after hostile") -eq 1 ]'
check 'the hostile frames gave no event' \
	"[ \$(events | wc -l) -eq \$((before + 1)) ]"
check 'bad messages are said on stderr' \
	'grep -q "syslog message of .* dropped" "$T/err"'

kill $pid
wait $pid
rc=$?
check 'lrecv stops with status 0 on SIGTERM' '[ $rc = 0 ]'
check 'and says how many bad syslog messages it dropped' \
	'grep -q "dropped [0-9]* bad syslog message" "$T/err"'
check '--stats counts the syslog messages and the bad ones' \
	'grep "syslog messages $((4 * N + 2 + RN + 1)) (bad [1-9]" "$T/err"'

check_err 'a --syslog without tcp:, udp: or tls: is a usage error' 2 \
	'lrecv --syslog 127.0.0.1:514' 'tcp:[HOST]:PORT'
check_err '--syslog tls: without --cert is a usage error' 2 \
	'lrecv --syslog tls:127.0.0.1:0' 'needs --cert and --key'

# --end-to-end: syslog has no acks, the marks are only barriers; lout
# at the end returns them and writes every event
lrecv --end-to-end --syslog tcp:127.0.0.1:0 --port-file "$T/eport" \
	--stats 2>"$T/eerr" | lout -f json >"$T/eout" 2>>"$T/eerr" &
wait_for "test -s '$T/eport'"
EP=$(sed -n 's/^syslog-tcp //p' "$T/eport")
logger --tcp --octet-count --rfc5424 -n 127.0.0.1 -P "$EP" -t e2e \
	-p user.info -f "$T/m1"
wait_for "[ \$(grep -c '\"message\":\"octet ' '$T/eout') -ge $N ]" 100
check "--end-to-end: lrecv | lout writes the $N events" \
	"[ \$(grep -c '\"message\":\"octet ' '$T/eout') -eq $N ]"
kill $(pgrep -P $$ -x lrecv) 2>/dev/null
wait_for "! pgrep -P $$ -x lout" 100    # lout ends with lrecv's stream
check '--end-to-end: a mark went and came back' \
	'grep -q "marks made [1-9][0-9]*, returned [1-9]" "$T/eerr"'

# tls: (RFC 5425): octet-counted messages inside TLS, --cert and --key
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/s.key" -subj /CN=localhost \
	-addext 'subjectAltName=IP:127.0.0.1' -days 2 -out "$T/s.pem" 2>/dev/null
lrecv --syslog tls:127.0.0.1:0 --cert "$T/s.pem" --key "$T/s.key" \
	--port-file "$T/tport" >"$T/tout" 2>"$T/terr" &
tpid=$!
wait_for "test -s '$T/tport'"
SP=$(sed -n 's/^syslog-tls //p' "$T/tport")
check 'tls: 50 octet-counted messages over TLS' \
	'$PY "$TLS" "$SP" "$T/s.pem" 50'
wait_for "[ \$($PY "$FWD" decode <"$T/tout" | grep -c '\"message\":\"tls ') -ge 50 ]" 100
check 'tls: 50 events, tag syslog.authpriv.info' \
	'[ $($PY "$FWD" decode <"$T/tout" | grep -F "\"message\":\"tls " | grep -cF "	syslog.authpriv.info	") -eq 50 ]'
check 'tls: a plain-text client is refused, lrecv lives on' \
	'printf "20 <14>1 - h a - - - x" | $PY -c "import socket,sys; s=socket.create_connection((\"127.0.0.1\",int(sys.argv[1])),timeout=20); s.sendall(sys.stdin.buffer.read()); s.recv(100); s.close()" "$SP"; kill -0 $tpid'
kill $tpid
wait $tpid
