# cases.sh - run the data-driven cases of tests/cases/*.cases (sourced by a
# .t file after lib.sh).  run_cases PROG FILE makes one TAP line per case.
# With CASE_TIMES set, the expected lines carry the event time first, as
# lout -f out_file --utc shows it with nanoseconds (a leading YYYY- is this
# year); without it they carry the tag and the record only.
#
# A case is a block of lines ended by a blank line:
#   # comment              the last comment before a case names it
#   %%FAIL CODE            optional: PROG must exit CODE, and stderr must
#                          contain the line after "--"
#   %%EXIT CODE            optional: the exit status (default 0)
#   ARGS                   one line of shell words: PROG's arguments
#   TAG JSON               input events, one a line (none is fine); each
#                          gets the time 2017-08-16 10:52:03.309664 UTC
#   --
#   TAG JSON               the events PROG writes (the record as lout -f
#                          json shows it), in order; none is fine
# Lines starting with '#' are comments anywhere outside a block.

# split FILE: one directory per case under $T/cases; prints the count
_split_cases() {
	rm -rf "$T/cases"
	mkdir -p "$T/cases"
	awk -v dir="$T/cases" '
	function flush() {
		if (state == "") return
		n++
		d = dir "/" n
		system("mkdir -p \"" d "\"")
		printf "%s\n", name > (d "/name"); close(d "/name")
		printf "%s\n", code > (d "/code"); close(d "/code")
		printf "%s\n", fail > (d "/fail"); close(d "/fail")
		printf "%s\n", args > (d "/args"); close(d "/args")
		printf "%s", inp > (d "/in"); close(d "/in")
		printf "%s", want > (d "/want"); close(d "/want")
		state = ""; name = ""; code = 0; fail = 0; inp = ""; want = ""
	}
	BEGIN { state = ""; code = 0; fail = 0 }
	/^$/ { flush(); next }
	state == "" && /^#/ { sub(/^# ?/, ""); name = $0; next }
	state == "" && /^%%FAIL / { fail = 1; code = $2; next }
	state == "" && /^%%EXIT / { code = $2; next }
	state == "" { args = $0; state = "in"; if (name == "") name = $0; next }
	state == "in" && $0 == "--" { state = "want"; next }
	state == "in" { inp = inp $0 "\n"; next }
	state == "want" { want = want $0 "\n"; next }
	END { flush(); print n + 0 }
	' "$1"
}

# events CASEDIR: the input lines as an event stream on stdout
_case_events() {
	while IFS= read -r _l; do
		_tag=${_l%% *}
		_json=${_l#* }
		case $_json in
		'{}') _json='{"_t":1502880723.309664}' ;;
		'{'*) _json="{\"_t\":1502880723.309664,${_json#\{}" ;;
		esac
		printf '%s\n' "$_json" | lcat --time-key _t "$_tag" || return 1
	done <"$1/in"
}

_run_case() {
	_d=$1 _prog=$2
	_name=$(cat "$_d/name")
	_args=$(cat "$_d/args")
	if ! _case_events "$_d" >"$T/case.in"; then
		_notok "$_name"; echo "#   bad input lines"; return
	fi
	eval "set -- $_args"
	"$_prog" "$@" <"$T/case.in" >"$T/case.out" 2>"$T/case.err"
	_rc=$?
	if [ "$(cat "$_d/fail")" = 1 ]; then
		_want=$(cat "$_d/want")
		if [ "$_rc" = "$(cat "$_d/code")" ] &&
		    grep -qF -- "$_want" "$T/case.err"; then
			_ok "$_name"
		else
			_notok "$_name"
			echo "#   exit $_rc (want $(cat "$_d/code")), stderr:"
			sed 's/^/#   /' "$T/case.err" | head -n 5
		fi
		return
	fi
	if [ -n "${CASE_TIMES:-}" ]; then
		lout -f out_file --utc --time-format '%Y-%m-%dT%H:%M:%S.%N' \
		    <"$T/case.out" | tr '	' ' ' >"$T/case.got"
		sed "s/^YYYY-/$(date -u +%Y)-/" "$_d/want" >"$T/case.want"
	else
		lout -f out_file --utc <"$T/case.out" |
		    sed 's/^[^	]*	//; s/	/ /' >"$T/case.got"
		cp "$_d/want" "$T/case.want"
	fi
	if [ "$_rc" = "$(cat "$_d/code")" ] &&
	    cmp -s "$T/case.got" "$T/case.want"; then
		_ok "$_name"
	else
		_notok "$_name"
		echo "#   $_prog $_args: exit $_rc (want $(cat "$_d/code"))"
		diff "$T/case.want" "$T/case.got" | head -n 20 | sed 's/^/#   /'
		sed 's/^/#   stderr: /' "$T/case.err" | head -n 5
	fi
}

# run_cases PROG FILE [EXTRA]: plan (cases + EXTRA) and run every case;
# _run_cases PROG FILE runs them without a plan
run_cases() {
	plan $(($(_split_cases "$2") + ${3:-0}))
	_run_cases "$1" "$2"
}

_run_cases() {
	_count=$(_split_cases "$2")
	_i=1
	while [ "$_i" -le "$_count" ]; do
		_run_case "$T/cases/$_i" "$1"
		_i=$((_i + 1))
	done
}
