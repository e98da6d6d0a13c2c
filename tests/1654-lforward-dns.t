#!/bin/sh
# lforward and DNS: --dns-round-robin over the addresses of a name, a new
# lookup for every connection, and a lookup that hangs does not hold the
# loop past --connect-timeout.  The names live in a private /etc/hosts
# and /etc/resolv.conf, bind-mounted in a mount namespace of lforward's
# own (unshare -m, as root): the machine's files are not touched.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
plan 10

# The test needs a mount namespace (root) and an IPv6 loopback: without
# either it cannot run at all, and says why for each of its checks.
why=
unshare -m true 2>/dev/null || why="unshare -m failed: not root?"
$PY -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	2>/dev/null || why="${why:-no IPv6 loopback (::1) here}"
if [ -n "$why" ]; then
	i=0
	while [ "$i" -lt 10 ]; do
		skip "lforward DNS check $((i + 1))" "$why"
		i=$((i + 1))
	done
	exit 0
fi

printf '127.0.0.1 localhost\n127.0.0.1 two.lkit.test\n::1 two.lkit.test\n' >"$T/hosts"
printf '127.0.0.1 localhost\n127.0.0.1 moving.lkit.test\n' >"$T/hosts2"
# a name server that never answers, on a loopback address of its own
ns=127.$(($$ % 200 + 20)).$(($$ / 200 % 250 + 1)).53
printf 'nameserver %s\noptions timeout:5 attempts:1\n' "$ns" >"$T/resolv.conf"

# inns HOSTS CMD...: CMD with HOSTS as /etc/hosts and the silent name server
inns() {
	_h=$1
	shift
	unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
		mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
		sh "$_h" "$T/resolv.conf" "$@"
}
check_same 'the private /etc/hosts: two.lkit.test is 127.0.0.1 and ::1' \
	'inns "$T/hosts" getent ahosts two.lkit.test | awk "/STREAM/ { print \$1 }" | sort' \
	'printf "127.0.0.1\n::1\n"'

$PY "$FWD" events 60 lf.dns >"$T/ev.bin"
# feed A B: the events in 6 batches of 10, each once the last arrived (its
# bytes in A.out or B.out), so each goes on a new connection; after the
# third, with MOVE, the hosts file says moving.lkit.test is ::1
cat >"$T/feed.py" <<'EOF'
import os, sys, time
a, b, move = sys.argv[1], sys.argv[2], sys.argv[3]
d = open(sys.argv[4], "rb").read()
n = len(d) // 6         # the events have the same size
def size():
    return sum(os.path.getsize(f) for f in (a, b) if os.path.exists(f))
for k in range(6):
    last = size()
    if k == 3 and move != "-":
        with open(move, "w") as f:
            f.write("127.0.0.1 localhost\n::1 moving.lkit.test\n")
    sys.stdout.buffer.write(d[k * n:(k + 1) * n] if k < 5 else d[k * n:])
    sys.stdout.flush()
    t = time.time() + 20
    while size() == last and time.time() < t:
        time.sleep(0.02)
EOF
feed() { $PY "$T/feed.py" "$T/a.out" "$T/b.out" "$1" "$T/ev.bin"; }
count() { $PY "$FWD" decode <"$T/$1.out" | wc -l | tr -d " "; }
LF="--heartbeat none --flush-interval 50ms --ack --retry-wait 100ms"

# two lrecv on one port: 127.0.0.1 and ::1
servers() {
	LISTEN=127.0.0.1:0 lrecv_start a
	LISTEN="[::1]:$p_a" lrecv_start b
}
stop2() { lrecv_stop a; lrecv_stop b; }

servers
check_exit '--dns-round-robin: 6 requests to two.lkit.test, exit 0' 0 \
	'feed - | inns "$T/hosts" lforward $LF --dns-round-robin two.lkit.test:$p_a'
stop2
check_same 'each address got half of them' 'echo $(count a) $(count b)' 'echo 30 30'

servers
check_exit 'without it: exit 0' 0 \
	'feed - | inns "$T/hosts" lforward $LF two.lkit.test:$p_a'
stop2
check_same 'every request went to the first address' \
	'echo $(($(count a) + $(count b))) $(($(count a) * $(count b)))' 'echo 60 0'

servers
check_exit 'a name that moves from 127.0.0.1 to ::1 halfway: exit 0' 0 \
	'feed "$T/hosts2" | inns "$T/hosts2" lforward $LF moving.lkit.test:$p_a'
stop2
check_same 'each connection looked the name up again: 30 and 30' \
	'echo $(count a) $(count b)' 'echo 30 30'

check_err '--dns-round-robin with --heartbeat udp: usage error' 2 \
	'lforward --dns-round-robin --heartbeat udp 127.0.0.1:1 </dev/null' \
	'--dns-round-robin needs --heartbeat transport or none'

# a lookup that hangs (the name server never answers, for 5 s): the
# connection fails at --connect-timeout 1s, not when the lookup ends
$PY -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
open(sys.argv[2], "w").write("up\n")
t = time.time() + 60
while time.time() < t:
    s.settimeout(1)
    try:
        s.recvfrom(2048)
    except socket.timeout:
        pass' "$ns" "$T/ns.up" &
nspid=$!
wait_for "test -s '$T/ns.up'" || echo "# the silent name server did not start"
check_err 'a lookup that hangs: "timed out resolving", exit 4' 4 \
	'inns "$T/hosts" lforward --heartbeat none --retry-max-times 0 --connect-timeout 1s slow.lkit.test:24224 <"$T/ev.bin"' \
	'timed out resolving slow.lkit.test (--connect-timeout)'
LISTEN=127.0.0.1:0 lrecv_start c
check_exit 'with a second server, the events go there, exit 0' 0 \
	'inns "$T/hosts" lforward --heartbeat none --ack --connect-timeout 1s --retry-wait 100ms slow.lkit.test:24224 127.0.0.1:$p_c <"$T/ev.bin"'
lrecv_stop c
kill $nspid 2>/dev/null; wait $nspid 2>/dev/null || :
