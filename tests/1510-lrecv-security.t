#!/bin/sh
# lrecv: the HELO/PING/PONG handshake, users, --allow
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
FWD="$DATA/fwd.py"
PEER="$DATA/fwdpeer.py"
plan 13

start() { lrecv_start "$@"; }
stop() { lrecv_stop "$@"; }
ACK="reply {'ack': 'auth-chunk\\n'}"

start key --shared-key s3cr3t --self-hostname recv.example
check_same 'shared key: HELO, PONG with a digest the client checks, ack' \
	'$PY "$DATA/fwdpeer.py" auth $port s3cr3t sender.example' \
	'printf "%s\n" "HELO keepalive=True auth=16" "PONG true host=recv.example digest=ok" "$ACK"'
check_same 'wrong key: PONG false "shared_key mismatch", no ack' \
	'$PY "$PEER" auth $port s3cr3t sender.example --wrong' \
	'printf "%s\n" "HELO keepalive=True auth=16" "PONG false shared_key mismatch"'
check_same 'same hostname as ours: refused' \
	'$PY "$PEER" auth $port s3cr3t recv.example' \
	'printf "%s\n" "HELO keepalive=True auth=16" "PONG false same hostname between input and output: invalid configuration"'
hex2bin "$VECTORS/secure_nonping.c2s.hex" >"$T/nonping.bin"
# the HELO is random; what follows it is Fluentd's reply byte for byte
check_same 'no PING (the captured client): PONG false "invalid ping message"' \
	'$PY "$PEER" send $port "$T/nonping.bin" | cut -c131-' \
	'tr -d " \n" <"$VECTORS/secure_nonping.s2c.hex" | cut -c131-'
check 'the HELO is 65 bytes, as Fluentd sends it' \
	'$PY "$PEER" send $port "$T/nonping.bin" | cut -c1-16 | grep -qx 92a448454c4f83a5'
stop key
check_same 'only the authenticated chunk was written' \
	'$PY "$FWD" decode <"$T/key.out" | cut -f2-' \
	'printf "t.auth\t{\"i\":0}\nt.auth\t{\"i\":1}\n"'
check 'refusals are logged with the reason' \
	'grep -q "handshake refused: shared_key mismatch" "$T/key.err" &&
	 grep -q "handshake refused: invalid ping message" "$T/key.err"'

start users --shared-key s3cr3t --self-hostname recv.example \
	--user alice:pa55w0rd --user bob:b0b
check_same 'user auth: right password, HELO carries the auth salt' \
	'$PY "$PEER" auth $port s3cr3t sender.example alice pa55w0rd' \
	'printf "%s\n" "HELO keepalive=True auth=16" "PONG true host=recv.example digest=ok" "$ACK"'
check_same 'user auth: wrong password refused' \
	'$PY "$PEER" auth $port s3cr3t sender.example alice nope' \
	'printf "%s\n" "HELO keepalive=True auth=16" "PONG false username/password mismatch"'
check_same 'user auth: unknown user refused' \
	'$PY "$PEER" auth $port s3cr3t sender.example carol pa55w0rd' \
	'printf "%s\n" "HELO keepalive=True auth=16" "PONG false username/password mismatch"'
stop users

start deny --allow 10.0.0.0/8,192.168.0.0/16
hex2bin "$VECTORS/packed_ack.c2s.hex" >"$T/ack.bin"
check_same '--allow: a client outside the ranges gets nothing' \
	'$PY "$PEER" send $port "$T/ack.bin"' 'echo'
stop deny
check 'and is logged' 'grep -q "client 127.0.0.1: not in --allow" "$T/deny.err"'
start allow --allow 10.0.0.0/8 --allow 127.0.0.0/8
check_same '--allow: a client inside a range is served' \
	'$PY "$PEER" send $port "$T/ack.bin"' \
	'tr -d " \n" <"$VECTORS/packed_ack.s2c.hex"; echo'
stop allow
