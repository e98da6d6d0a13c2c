#!/bin/sh
# What a person reads agrees with what the programs do: each program's
# --help lists the same exit statuses as its man page, usage errors say
# what was wrong, and the README names the packages tests/deps.sh installs.
. "${0%/*}/lib.sh"
top=$(cd "$TESTS_DIR/.." && pwd)
M=$top/man

tools=${LKIT_TOOLS:-}
[ -n "$tools" ] || tools=$(make -s -C "$top" --no-print-directory \
	--eval '_lkit_tools: ; @echo $(TOOLS)' _lkit_tools 2>/dev/null)
n=0
for p in $tools; do n=$((n + 1)); done
plan $((n * 2 + 1))

# help_codes PROG: the codes of the "exit status:" lines of PROG --help
help_codes() {
	"$1" --help | sed -n '/^exit status:$/,$ s/^  \([0-9][0-9]*\) .*/\1/p'
}
# man_codes PROG: the codes of the EXIT STATUS list of PROG(1)
man_codes() {
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh / s/^\.It \([0-9][0-9]*\)$/\1/p' \
		"$M/$1.1"
}
for p in $tools; do
	check_same "$p: --help lists the exit statuses of $p(1)" \
		"help_codes $p" "man_codes $p"
	check "$p: --help lists some exit status" "test -n \"\$(help_codes $p)\""
done

readme_pkgs() {
	sed -n '/^<!-- deps -->$/,/^<!-- \/deps -->$/p' "$top/README.md" |
		grep -v '^<!--' | sed -e 's/^- to [a-z]*://' | tr ', ' '\n\n' |
		grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort
}
check_same "README lists the packages tests/deps.sh installs" \
	"readme_pkgs" "sh '$TESTS_DIR/deps.sh' --list | tr ' ' '\n' | sort"
