#!/bin/sh
# lparse --format cri and --format docker: the cases of
# tests/data/lpfmt-container.cases (expected lines carry the event time with
# nanoseconds), the examples of the man page, and what lparse says about a
# line that is not a container log line.
. "${0%/*}/lib.sh"
. "$TESTS_DIR/cases.sh"
CASES=$DATA/lpfmt-container.cases
[ -r "$CASES" ] || { echo "Bail out! missing $CASES"; exit 1; }

CASE_TIMES=1
run_cases lparse "$CASES" 14

# the examples of man/lparse.1, as they are written there
cat >"$T/pod.json" <<'EOF'
{"message":"2024-01-02T03:04:05.123456789Z stdout F hello"}
{"message":"2024-01-02T03:04:05.5Z stderr P a long li"}
EOF
check_out "man page: the cri example" \
	"lcat k8s <'$T/pod.json' | lparse -f cri | lout -f out_file --utc --time-format '%H:%M:%S.%N'" \
	"$(printf '03:04:05.123456789\tk8s\t{"stream":"stdout","logtag":"F","message":"hello"}\n03:04:05.500000000\tk8s\t{"stream":"stderr","logtag":"P","message":"a long li"}')"
cat >"$T/docker.json" <<'EOF'
{"message":"{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05.123456789Z\"}"}
EOF
check_out "man page: the docker example" \
	"lcat web <'$T/docker.json' | lparse -f docker | lout -f out_file --utc --time-format '%H:%M:%S.%N'" \
	"$(printf '03:04:05.123456789\tweb\t{"log":"hello\\n","stream":"stdout"}')"
check "man page: both examples are in the man page" \
	"grep -qF 'lparse -f cri |' '$TESTS_DIR/../man/lparse.1' &&
	grep -qF 'lparse -f docker |' '$TESTS_DIR/../man/lparse.1'"

# the event time as a float: the nanoseconds are the event's own
check_out "cri: the nanoseconds are in the event time itself" \
	"echo '{\"message\":\"2024-01-02T03:04:05.000000001Z stdout F x\"}' | lcat t | lparse -f cri | lout -f json --time-key t --time-format '%N'" \
	'{"stream":"stdout","logtag":"F","message":"x","t":"000000001"}'

# a bad line: the report names the event (its line) and what is wrong
good='{"message":"2024-01-02T03:04:05Z stdout F ok"}'
gooddocker='{"message":"{\"log\":\"ok\\n\"}"}'
# first_err ARGS LINE: the first stderr line of lparse ARGS on a good
# event of the format then LINE
first_err() {
	case $1 in *docker*) _g=$gooddocker ;; *) _g=$good ;; esac
	printf '%s\n%s\n' "$_g" "$2" | lcat k8s | lparse $1 2>&1 >/dev/null |
		head -n 1
}
check_out "cri: one word is not a CRI line" \
	"first_err '-f cri' '{\"message\":\"hello\"}'" \
	'lparse: event 2, tag k8s: not a CRI line: one word, no stream after it: "hello"'
check_out "cri: a stream other than stdout and stderr" \
	"first_err '-f cri' '{\"message\":\"2024-01-02T03:04:05Z stdlog F x\"}'" \
	'lparse: event 2, tag k8s: not a CRI line: the stream (second word) is not stdout or stderr: "2024-01-02T03:04:05Z stdlog F x"'
check_out "cri: no tag after the stream" \
	"first_err '-f cri' '{\"message\":\"2024-01-02T03:04:05Z stdout\"}'" \
	'lparse: event 2, tag k8s: not a CRI line: no tag (F or P) after the stream: "2024-01-02T03:04:05Z stdout"'
check_out "cri: a time that does not read" \
	"first_err '-f cri' '{\"message\":\"yesterday stdout F x\"}'" \
	'lparse: event 2, tag k8s: time does not match the time format: "yesterday stdout F x"'
check_out "cri: an empty line" \
	"first_err '-f cri' '{\"message\":\"\"}'" \
	'lparse: event 2, tag k8s: not a CRI line: empty: ""'
check_out "docker: JSON without log" \
	"first_err '-f docker' '{\"message\":\"{\\\"stream\\\":\\\"stdout\\\"}\"}'" \
	'lparse: event 2, tag k8s: not a docker json-file line: no "log" string: "{\"stream\":\"stdout\"}"'
check_out "docker: text that is not JSON" \
	"first_err '-f docker' '{\"message\":\"2024-01-02T03:04:05Z stdout F ok\"}'" \
	'lparse: event 2, tag k8s: not a docker json-file line: text after the JSON value: "2024-01-02T03:04:05Z stdout F ok"'
check_out "docker: an array is not a docker line" \
	"first_err '-f docker' '{\"message\":\"[1]\"}'" \
	'lparse: event 2, tag k8s: not a docker json-file line: not a JSON object: "[1]"'

# every bad line is counted, the run still ends 0
printf '%s\n' "$good" '{"message":"a"}' '{"message":"b c d"}' "$good" |
	lcat k8s >"$T/mixed.bin"
check_err "cri: bad lines are counted, exit 0" 0 \
	"lparse -f cri --on-error drop <'$T/mixed.bin' >/dev/null" \
	"lparse: 2 of 4 events did not parse (dropped)"
check_out "cri: --stats counts them as dropped" \
	"lparse --stats -f cri --on-error drop <'$T/mixed.bin' 2>&1 >/dev/null | tail -n 1 | sed 's/, bytes[^,]*, out [0-9]*//'" \
	"lparse: events in 4, out 2, dropped 2, parse failures 2"
