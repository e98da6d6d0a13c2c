#!/bin/sh
# lrecv against the real npm clients fluent-logger and @fluent-org/logger:
# every event mode they have, with acks, and the shared-key handshake
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
NODE_DIR="$TESTS_DIR/node"
plan 10

why=
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	why="node or npm not installed"
elif [ ! -d "$NODE_DIR/node_modules/fluent-logger" ] ||
    [ ! -d "$NODE_DIR/node_modules/@fluent-org/logger" ]; then
	timeout 180 npm install --prefix "$NODE_DIR" --no-audit --no-fund \
		>"$T/npm.log" 2>&1 || why="npm install failed (registry unreachable?)"
fi
if [ -n "$why" ]; then
	i=0
	while [ $i -lt 10 ]; do i=$((i + 1)); skip "node client $i" "$why"; done
	exit 0
fi

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
client() { timeout 30 node "$NODE_DIR/clients.js" "$@" 2>/dev/null | tail -n 1; }

start m
for mode in Message PackedForward CompressedPackedForward; do
	check_out "fluent-logger $mode, acked" \
		'client fluent-logger $mode $port 100' 'sent 100'
done
for mode in Message Forward PackedForward CompressedPackedForward; do
	check_out "@fluent-org/logger $mode, acked" \
		'client fluent-org $mode $port 100' 'sent 100'
done
stop m
check_same 'every event written once' \
	'$PY "$TESTS_DIR/data/fwd.py" decode <"$T/m.out" | cut -f2 | sort | uniq -c | tr -s " "' \
	'printf " 100 %s\n" node.logger.CompressedPackedForward node.logger.Message node.logger.PackedForward node.org.CompressedPackedForward node.org.Forward node.org.Message node.org.PackedForward'

start k --shared-key s3cr3t --self-hostname recv.example
check_out 'fluent-logger with a shared key' \
	'client fluent-logger PackedForward $port 20 s3cr3t' 'sent 20'
check_out '@fluent-org/logger with a shared key' \
	'client fluent-org PackedForward $port 20 s3cr3t' 'sent 20'
stop k
