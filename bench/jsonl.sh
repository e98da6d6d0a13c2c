#!/bin/sh
# jsonl.sh - turn text lines into JSON lines {"message": LINE}, as ltail
# would emit them.  usage: jsonl.sh [FILE...]   (default stdin)
# Escapes \ and " and writes every other control character as \u00XX;
# other bytes pass through unchanged.
LC_ALL=C exec awk '
BEGIN { for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = sprintf("\\u%04x", i) }
{
	gsub(/[\\"]/, "\\\\&")
	if ($0 ~ /[\001-\037]/) {
		s = ""
		for (i = 1; i <= length($0); i++) {
			c = substr($0, i, 1)
			s = s ((c in ctl) ? ctl[c] : c)
		}
		$0 = s
	}
	printf "{\"message\":\"%s\"}\n", $0
}' "$@"
