#!/bin/sh
# lrecv: heartbeats of Fluentd senders.  heartbeat_type udp: each datagram
# on the Forward port gets one 0 byte back from that port, a flood stays
# bounded; heartbeat_type transport: a connection that opens and closes
# (Fluentd resets it, SO_LINGER 0), plain or TLS, is not an error
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
PEER="$DATA/fwdpeer.py"
FWD="$DATA/fwd.py"
plan 9

cat >"$T/hb.py" <<'PYEOF'
import socket, ssl, struct, sys
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "udp":
    # n heartbeats as out_forward sends them; print each reply and its port
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    for i in range(int(sys.argv[3])):
        s.sendto(b"\0", ("127.0.0.1", port))
        data, addr = s.recvfrom(64)
        print(data.hex(), "same-port" if addr[1] == port else addr[1])
elif mode == "flood":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(int(sys.argv[3])):
        s.sendto(b"\0" * 1500, ("127.0.0.1", port))
    print("sent")
else:
    # transport heartbeats: connect (and TLS handshake), close with a reset
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for i in range(int(sys.argv[3])):
        r = socket.create_connection(("127.0.0.1", port))
        r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s = ctx.wrap_socket(r) if mode == "tls" else r
        s.close()
    print("done")
PYEOF

lrecv_start u
check_same 'UDP: every heartbeat gets one 0 byte, from the Forward port' \
	'$PY "$T/hb.py" udp $port 5' \
	'for i in 1 2 3 4 5; do echo "00 same-port"; done'
$PY "$T/hb.py" flood $port 3000 >/dev/null
$PY "$FWD" events 10 t.after >"$T/ev.bin"
check_exit 'after a flood of 3000 datagrams, Forward requests are acked' 0 \
	'lforward --heartbeat none --retry-max-times 0 --ack 127.0.0.1:$port <"$T/ev.bin"'
check_same 'and heartbeats still answered' '$PY "$T/hb.py" udp $port 1' \
	'echo "00 same-port"'
check_out 'transport heartbeats closed with a reset, as Fluentd closes them' \
	'$PY "$T/hb.py" tcp $port 20' done
lrecv_stop u
check 'no error logged for any of them' 'test ! -s "$T/u.err"'

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
	-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -days 2 \
	-out "$T/cert.pem" 2>/dev/null
lrecv_start t --cert "$T/cert.pem" --key "$T/key.pem"
check_out 'TLS transport heartbeats: handshake, then a reset' \
	'$PY "$T/hb.py" tls $port 20' done
i=0
while [ $i -lt 5 ]; do
	openssl s_client -connect 127.0.0.1:$port </dev/null >/dev/null 2>&1
	i=$((i + 1))
done
(sleep 1; cat "$T/ev.bin") | lforward --tls --insecure --heartbeat transport \
	--heartbeat-interval 100ms --retry-max-times 0 --ack 127.0.0.1:$port \
	>"$T/lf.out" 2>"$T/lf.err"
lf_rc=$?
check 'lforward --tls --heartbeat transport: its events acked' \
	'test $lf_rc = 0 && test ! -s "$T/lf.err"'
lrecv_stop t
check 'no error logged by the TLS lrecv (python, openssl s_client, lforward)' \
	'test ! -s "$T/t.err"'
check_same 'the 20 events arrived (10 plain, 10 TLS)' \
	'cat "$T/u.out" "$T/t.out" | $PY "$FWD" decode | wc -l | tr -d " "' 'echo 20'
