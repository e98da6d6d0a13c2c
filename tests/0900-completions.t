#!/bin/sh
# Every program has a man page and bash, zsh and fish completions, and
# each of them knows every option that the program's --help prints.
. "${0%/*}/lib.sh"
top=$(cd "$TESTS_DIR/.." && pwd)
C=$top/completions
M=$top/man

# the Makefile's TOOLS, or LKIT_TOOLS="lcat lout" to look at some only
tools=${LKIT_TOOLS:-}
[ -n "$tools" ] || tools=$(make -s -C "$top" --no-print-directory \
	--eval '_lkit_tools: ; @echo $(TOOLS)' _lkit_tools 2>/dev/null) ||
	tools=$(cd "$top/cmd" && ls *.c | sed 's/\.c$//')
n=0
for p in $tools; do n=$((n + 1)); done
plan $((n * 10 + 7))

# opts_of PROG: the options of PROG --help, one a line ("-f", "--format")
opts_of() {
	"$1" --help | sed -n \
		-e 's/^  \(-[A-Za-z0-9]\), \(--[A-Za-z0-9][A-Za-z0-9-]*\).*/\1\
\2/p' \
		-e 's/^      \(--[A-Za-z0-9][A-Za-z0-9-]*\).*/\1/p'
}

# knows OPTS TEXT: every option in the file OPTS is a word of the file TEXT;
# prints the ones that are not
knows() {
	[ -s "$2" ] || { echo "nothing to search"; return 1; }
	_ok=0
	while read -r _o; do
		grep -Eq -- "(^|[^A-Za-z0-9_-])$_o([^A-Za-z0-9_-]|\$)" "$2" ||
			{ echo "no $_o"; _ok=1; }
	done <"$1"
	[ -s "$1" ] && [ "$_ok" = 0 ]
}

# block FILE PROG: the lines from "PROG)" to the next ";;" (a case entry)
block() {
	sed -n "/^[[:space:]]*$2)\$/,/^[[:space:]]*;;\$/p" "$1"
}

# lint PAGE: mandoc -Tlint -W warning says nothing and exits 0
lint() {
	mandoc -Tlint -W warning "$1" >"$T/lint" 2>&1
	_s=$?
	cat "$T/lint"
	[ "$_s" = 0 ] && [ ! -s "$T/lint" ]
}

have_mandoc=$(command -v mandoc)

for p in $tools; do
	opts_of "$p" >"$T/$p.opts" 2>"$T/$p.err"
	check "$p --help lists its options" \
		'[ -s "$T/$p.opts" ] || { cat "$T/$p.err"; false; }'

	check "$p: man/$p.1 exists" '[ -f "$M/$p.1" ]'
	# option list entries, with "Fl -name" read as "--name"
	grep '^\.It' "$M/$p.1" 2>/dev/null |
		sed 's/Fl \([^ ]*\)/-\1/g' >"$T/$p.man"
	check "$p: man/$p.1 documents every option" \
		'knows "$T/$p.opts" "$T/$p.man"'
	if [ -n "$have_mandoc" ]; then
		check "$p: man/$p.1 passes mandoc -Tlint" 'lint "$M/$p.1"'
	else
		skip "$p: man/$p.1 passes mandoc -Tlint" "no mandoc"
	fi

	block "$C/lkit.bash" "$p" >"$T/$p.bash"
	check "$p: an entry in completions/lkit.bash" \
		'[ -s "$T/$p.bash" ] &&
		grep -Eq "^complete -F _lkit( [a-z]+)* $p( |\$)" "$C/lkit.bash"'
	check "$p: completions/lkit.bash knows every option" \
		'knows "$T/$p.opts" "$T/$p.bash"'

	block "$C/_lkit" "$p" >"$T/$p.zsh"
	check "$p: an entry in completions/_lkit" \
		'[ -s "$T/$p.zsh" ] &&
		head -n 1 "$C/_lkit" | grep -Eq "^#compdef( .*)? $p( |\$)"'
	check "$p: completions/_lkit knows every option" \
		'knows "$T/$p.opts" "$T/$p.zsh"'

	check "$p: completions/fish/$p.fish exists" '[ -f "$C/fish/$p.fish" ]'
	check "$p: completions/fish/$p.fish knows every option" \
		'knows "$T/$p.opts" "$C/fish/$p.fish"'
done

for page in lkit.7 lkit-stream.5; do
	if [ -n "$have_mandoc" ]; then
		check "man/$page passes mandoc -Tlint" 'lint "$M/$page"'
	else
		skip "man/$page passes mandoc -Tlint" "no mandoc"
	fi
done

check "bash parses completions/lkit.bash" 'bash -n "$C/lkit.bash"'
if command -v zsh >/dev/null; then
	check "zsh parses completions/_lkit" 'zsh -n "$C/_lkit"'
else
	skip "zsh parses completions/_lkit" "no zsh"
fi
if command -v fish >/dev/null; then
	check "fish parses completions/fish/*.fish" \
		'for f in "$C"/fish/*.fish; do fish -n "$f" || exit 1; done'
else
	skip "fish parses completions/fish/*.fish" "no fish"
fi

# complete WORD...: what the bash completion offers for the last word
complete_bash() {
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_lkit "$1"; echo "${COMPREPLY[*]}"' "$C/lkit.bash" "$@"
}
check_out "bash completes the values of lout --format" \
	'complete_bash lout --format j' 'json'
touch "$T/events.bin"
check_out "bash completes file names after lcat -m" \
	'complete_bash lcat -m "$T/events.b"' "$T/events.bin"
