#!/bin/sh
# ltail: --help, --version, usage errors (2) naming the problem, and
# system errors (4).
. "${0%/*}/lib.sh"
plan 24

cd "$T" || exit 1
echo x >x.log
check "--help prints every option and exits 0" \
	"ltail --help >help.txt && for o in tag key path-key pos-file exclude \
	read-from-head once follow refresh-interval rotate-wait poll \
	poll-interval max-line-size long-lines multiline-start \
	multiline-flush-interval stats help version; do
		grep -q -- \"--\$o\" help.txt || { echo no \$o; exit 1; }; done"
check "--version" "ltail --version | grep -q '^ltail (lkit) '"
check_same "an option after a path is an option (GNU order)" \
	"timeout 10 ltail -r x.log --once | lout --format single_value" "echo x"
check_err "-- ends the options: --once after it is a path" 4 \
	"ltail --once -r x.log -- --once" "ltail: --once: no such file"
check_err "no path: usage error" 2 "ltail" "no file given (use - for stdin)"
check_err "an unknown option" 2 "ltail --frobnicate x.log" \
	"unknown option --frobnicate"
check_err "an option without its argument" 2 "ltail --tag" \
	"needs an argument"
check_err "--long-lines takes split or skip" 2 \
	"ltail --long-lines cut x.log" "bad value 'cut' for --long-lines"
check_err "--max-line-size: zero" 2 "ltail --max-line-size 0 x.log" \
	"bad size '0' for --max-line-size"
check_err "--max-line-size: not a size" 2 "ltail --max-line-size big x.log" \
	"bad size 'big' for --max-line-size"
check_err "--max-line-size: over 1G" 2 "ltail --max-line-size 2g x.log" \
	"bad size '2g'"
check_err "--refresh-interval: zero" 2 "ltail --refresh-interval 0 x.log" \
	"bad time '0' for --refresh-interval"
check_err "--poll-interval: not a time" 2 "ltail --poll-interval soon x.log" \
	"bad time 'soon' for --poll-interval"
check_err "--rotate-wait: negative" 2 "ltail --rotate-wait -1 x.log" \
	"bad time '-1' for --rotate-wait"
check_err "--multiline-flush-interval: bad unit" 2 \
	"ltail -m x --multiline-flush-interval 5y x.log" \
	"bad time '5y' for --multiline-flush-interval"
check_err "an empty tag" 2 "ltail -t '' x.log" "the tag is empty"
check_err "--path-key equal to --key" 2 "ltail --path-key message x.log" \
	"--path-key and --key are the same key 'message'"
check_err "- twice" 2 "ltail - - </dev/null" "- (stdin) is given twice"
check_err "--once with --follow" 2 "ltail --once -F x.log" \
	"--once and --follow contradict each other"
check "--rotate-wait 0 and 0 flush interval are fine" \
	"ltail --once --rotate-wait 0 --multiline-flush-interval 0 x.log"
check_err "a position file in a missing directory" 4 \
	"ltail --once --pos-file nodir/p.pos x.log" \
	"unable to use the directory of nodir/p.pos"
mkdir posdir
check_err "a position file that cannot be read" 4 \
	"ltail --once --pos-file posdir x.log" "unable to read posdir"
check_err "--once: a directory operand" 4 "ltail --once -r posdir x.log" \
	"posdir: not a regular file (a directory: use DIR/* for its files)"
check_out "and the files are read anyway" \
	"ltail --once -r posdir x.log 2>/dev/null | lout -f single_value" x
