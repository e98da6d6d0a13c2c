#!/bin/sh
# lhttp into a real ClickHouse server (Debian's clickhouse-server), through
# its HTTP interface: INSERT ... FORMAT JSONEachRow takes lhttp's ndjson.
# The server runs from a copy of /etc/clickhouse-server with its paths in
# a temporary directory and its ports free ones; it is stopped at the end.
. "${0%/*}/lib.sh"
. "$DATA/lhttp-lib.sh"
plan 9

CH=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
check "clickhouse-server is installed (tests/deps.sh)" \
	"test -x '$CH' && test -r /etc/clickhouse-server/config.xml"

# free ports for its HTTP, native and interserver listeners
set -- $($PY -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
HP=$1 TP=$2 IP=$3
D=$T/ch
mkdir -p "$D/data" "$D/log"
cp /etc/clickhouse-server/users.xml "$D/" 2>/dev/null
sed -e "s#/var/lib/clickhouse/#$D/data/#g" \
	-e "s#/var/log/clickhouse-server/#$D/log/#g" \
	-e "s#<http_port>[0-9]*</http_port>#<http_port>$HP</http_port>#" \
	-e "s#<tcp_port>[0-9]*</tcp_port>#<tcp_port>$TP</tcp_port>#" \
	-e "s#<interserver_http_port>[0-9]*</#<interserver_http_port>$IP</#" \
	-e "/<https_port>/d" -e "/<tcp_port_secure>/d" \
	-e "/<listen_host>::1<\/listen_host>/d" \
	/etc/clickhouse-server/config.xml >"$D/config.xml" 2>/dev/null
"$CH" --config-file="$D/config.xml" >"$D/out" 2>&1 &
chpid=$!
CU=http://127.0.0.1:$HP
q() { curl -sS --max-time 20 --data-binary "$1" "$CU/"; }
check "it starts and answers (60 s at most)" \
	"wait_for \"curl -sf --max-time 2 '$CU/?query=SELECT%201'\" 600"
q 'CREATE TABLE t (i UInt32, message String, tag String, ts DateTime)
	ENGINE = MergeTree ORDER BY i' >"$T/create.out" 2>&1
check "a table" "test ! -s '$T/create.out'"

INS="$CU/?query=INSERT%20INTO%20t%20FORMAT%20JSONEachRow"
check_exit "1000 events, in batches of 300: exit 0" 0 \
	"ev e1000 | $LH --batch-records 300 --tag-key tag --time-key ts \
	 --time-format '%Y-%m-%d %H:%M:%S' --utc --stats '$INS' 2>'$T/a.err'"
check "in 4 requests" "grep -q 'accepted 1000, .*requests 4,' '$T/a.err'"
check_out "1000 rows" "q 'SELECT count(), sum(i) FROM t'" "1000	500500"
check_out "the tag and the time as columns" \
	"q 'SELECT tag, ts FROM t WHERE i = 1'" "t	2023-11-14 22:13:21"
check_exit "gzip'd (enable_http_compression=1): exit 0" 0 \
	"ev --first 1001 e500 | $LH --compress gzip --tag-key tag \
	 --time-key ts --time-type unixtime '$INS&enable_http_compression=1'"
check_out "1500 rows" "q 'SELECT count(), max(i) FROM t'" "1500	1500"

kill $chpid 2>/dev/null
wait_for "! kill -0 $chpid" 300 || kill -9 $chpid 2>/dev/null
wait $chpid 2>/dev/null
true
