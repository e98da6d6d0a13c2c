#!/bin/sh
# The td-agent example as a pipeline, end to end, through real files.
. "${0%/*}/lib.sh"
plan 4

printf '2017-08-18 19:39:39,000 - [WARN] time over\n' >>"$T/test.log"
td_agent() {
	ltail --once --read-from-head --pos-file "$T/test.log.pos" \
		--tag public.test-service1 "$T/test.log" |
	lparse --regex '^(?<time>\S+ \S+) - \[(?<level>\S+)\] (?<msg>.+)' \
		--time-format '%Y-%m-%d %H:%M:%S,%L' |
	lreform hostname='${hostname}' phase=alpha |
	lout
}
host=$(uname -n)
check_out "the issue's example, with TZ at +0900" \
	"TZ=Asia/Tokyo td_agent" \
	"2017-08-18 19:39:39.000000000 +0900 public.test-service1: {\"level\":\"WARN\",\"msg\":\"time over\",\"hostname\":\"$host\",\"phase\":\"alpha\"}"
check_out "the position file records the line as read" \
	"cut -f1,2 '$T/test.log.pos'" "$T/test.log	000000000000002b"
check_out "a second run reads nothing new" "TZ=Asia/Tokyo td_agent | wc -l" 0
printf '2017-08-18 19:39:40,123 - [INFO] request done\n' >>"$T/test.log"
check_out "a line appended later is read on the next run, and only it" \
	"TZ=UTC td_agent" \
	"2017-08-18 19:39:40.123000000 +0000 public.test-service1: {\"level\":\"INFO\",\"msg\":\"request done\",\"hostname\":\"$host\",\"phase\":\"alpha\"}"
