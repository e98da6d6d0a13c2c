#!/bin/sh
# lsyslog's command line: usage errors (exit 2) said before any I/O, with
# what was wrong; no input, no connection
. "${0%/*}/lib.sh"
plan 29

# nothing listens on port 1; a usage error never gets that far
ls2() { timeout -k 2 20 lsyslog --retry-max-times 0 "$@" </dev/null; }

check_err 'no server: exit 2, said' 2 'ls2' 'lsyslog: no server given'
check 'no server: the usage line follows' 'grep -q "^usage: lsyslog" "$T/.err"'
check_err 'two servers: exit 2' 2 'ls2 tcp:127.0.0.1:1 tcp:127.0.0.1:2' \
	'more than one server given'
for a in tcp:127.0.0.1:99999 udp:127.0.0.1:0 127.0.0.1:x tcp: 'tls:[::1' \
	tcp:127.0.0.1:; do
	check_err "server $a: exit 2, the argument named" 2 'ls2 "$a"' \
		"lsyslog: bad server '$a'"
done
check_err '--format other: exit 2' 2 'ls2 --format rfc5425 127.0.0.1:1' \
	"bad value 'rfc5425' for --format: rfc5424 or rfc3164"
check_err '--framing other: exit 2' 2 'ls2 --framing lf tcp:127.0.0.1:1' \
	"bad value 'lf' for --framing: octet or newline"
check_err '--framing over udp: exit 2' 2 'ls2 --framing octet udp:127.0.0.1:1' \
	'--framing is for tcp: and tls: servers'
check_err '--max-size below 480: exit 2' 2 'ls2 --max-size 100 tcp:127.0.0.1:1' \
	'--max-size is 0 (no limit) or 480 and more'
check_err '--max-size over udp above 65507: exit 2' 2 \
	'ls2 --max-size 64k udp:127.0.0.1:1' '--max-size over udp goes from 480 to 65507'
check_err '--msgid-key with rfc3164: exit 2' 2 \
	'ls2 -f rfc3164 --msgid-key id tcp:127.0.0.1:1' 'are for --format rfc5424'
check_err '--sd-key with rfc3164: exit 2' 2 \
	'ls2 -f rfc3164 --sd-key sd tcp:127.0.0.1:1' 'are for --format rfc5424'
check_err 'TLS options with a tcp: server: exit 2' 2 \
	'ls2 --tls-insecure tcp:127.0.0.1:1' 'TLS options need a tls: server'
check_err '--tls-cert without --tls-key: exit 2' 2 \
	'ls2 --tls-cert c.pem tls:127.0.0.1:1' '--tls-cert and --tls-key go together'
check_err '--severity loud: exit 2' 2 'ls2 --severity loud 127.0.0.1:1' \
	"unknown severity (want a name or 0 to 7) 'loud'"
check_err '--severity 8: exit 2' 2 'ls2 --severity 8 127.0.0.1:1' \
	"unknown severity"
check_err '--facility 24: exit 2' 2 'ls2 --facility 24 127.0.0.1:1' \
	"unknown facility (want a name or 0 to 23) '24'"
check_err '--hostname with a space: exit 2' 2 'ls2 --hostname "a b" 127.0.0.1:1' \
	"bad --hostname 'a b'"
check_err '--appname of 49 characters: exit 2' 2 \
	'ls2 --appname 0123456789012345678901234567890123456789012345678 127.0.0.1:1' \
	'bad --appname'
check_err '--appname a:b with rfc3164: exit 2' 2 \
	'ls2 -f rfc3164 --appname a:b 127.0.0.1:1' "bad --appname 'a:b'"
check_err '--sd-key a=b: exit 2' 2 'ls2 --sd-key a=b 127.0.0.1:1' \
	"bad --sd-key 'a=b'"
check_err 'a bad field name: exit 2' 2 \
	"ls2 --message-key '\$[\"x' 127.0.0.1:1" 'for --message-key'
check_err '--retry-wait soon: exit 2' 2 'ls2 --retry-wait soon 127.0.0.1:1' \
	"bad duration 'soon' for --retry-wait"
check_exit '--appname a:b with rfc5424, options after the server: fine' 0 \
	'ls2 tcp:127.0.0.1:1 --appname a:b'
check_err 'no input: exit 0, no connection tried' 0 \
	'ls2 --stats tcp:127.0.0.1:1' 'connections 0, failures 0'
