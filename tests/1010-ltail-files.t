#!/bin/sh
# ltail and the files it finds: --ignore-older; a file it may not read,
# said once; gzip-compressed (rotated) files read as text, once, with
# their positions; strftime and {a,b} in path patterns, options after the
# paths; --from-encoding / --encoding (iconv).
. "${0%/*}/lib.sh"
plan 33

cd "$T" || exit 1
sv() { lout -f single_value <"$1" 2>/dev/null; }
pos_of() { echo $((0x$(grep "^$2	" "$1" | cut -f2))); }

# --- --ignore-older -------------------------------------------------------
mkdir old
echo fresh >old/new.log
echo stale >old/old.log
touch -d '3 days ago' old/old.log
check_out "--ignore-older: a file not modified for that long is not read" \
	"ltail --once -r --ignore-older 1d --stats 'old/*.log' 2>old.err |
		lout -f single_value" fresh
check "nor watched" "grep -q 'files watched 1,' old.err"
check_out "without it, both" \
	"ltail --once -r 'old/*.log' | lout -f single_value | sort" "fresh
stale"
check_err "--ignore-older takes a time" 2 \
	"ltail --ignore-older soon x.log" "bad time 'soon' for --ignore-older"
ltail --ignore-older 1h --refresh-interval 200ms --pos-file old.pos \
	'old/*.log' >old.mp &
pid=$!
wait_for "test -s old.pos"
echo again >>old/old.log
check "written again, it is found at a refresh: the lines added" \
	"wait_for 'sv old.mp | grep -q again'"
check_out "and only those (as if it had been followed)" "sv old.mp" again
kill -TERM $pid
wait $pid

# --- a file ltail may not read: said once, not at every scan -------------
mkdir perm
echo ok >perm/ok.log
echo secret >perm/no.log
chmod 000 perm/no.log
if command -v setpriv >/dev/null &&
    setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
	chmod 755 "$T" perm
	chmod 644 perm/ok.log
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    ltail -r --refresh-interval 1h 'perm/*.log' >perm.mp 2>perm.err &
	pid=$!
	wait_for "sv perm.mp | grep -q ok"
	for i in 1 2 3; do
		echo "n$i" >"perm/n$i.log"
		chmod 644 "perm/n$i.log"
		kill -HUP $pid          # a scan now
		wait_for "sv perm.mp | grep -q n$i"
	done
	kill -TERM $pid
	wait $pid
	check_out "a file that cannot be read is said once over four scans" \
		"grep -c 'unable to open perm/no.log: Permission denied' perm.err" 1
	check_out "and the others are read" "sv perm.mp | tr '\n' ' '; echo" \
		"ok n1 n2 n3 "
else
	skip "a file that cannot be read is said once" \
		"setpriv cannot run as nobody here (tests run as root)"
	skip "and the others are read" "setpriv cannot run as nobody here"
fi

# --- gzip-compressed files ------------------------------------------------
mkdir gz
printf 'cur1\ncur2\n' >gz/app.log
printf 'one\ntwo\nlast' | gzip >gz/app.log.2.gz
printf 'm1\n' | gzip >gz/multi.gz
printf 'm2\n' | gzip >>gz/multi.gz
check_out "--once: a gzip file is read as text, by its magic bytes" \
	"ltail --once -r -p gz.pos 'gz/app.log*' | lout -f single_value" "cur1
cur2
one
two
last"
check_out "its position entry is its size once read whole" \
	"pos_of gz.pos gz/app.log.2.gz" "$(wc -c <gz/app.log.2.gz)"
check_out "a restart reads it no more" \
	"echo cur3 >>gz/app.log; ltail --once -p gz.pos 'gz/app.log*' |
		lout -f single_value" cur3
check_out "several gzip members are one text" \
	"ltail --once -r gz/multi.gz | lout -f single_value" "m1
m2"
cp gz/app.log.2.gz gz/renamed
check_out "found by its bytes, whatever its name" \
	"ltail --once -r gz/renamed | lout -f single_value | tail -n 1" last
head -c 20 gz/app.log.2.gz >gz/cut.gz
check_err "data that ends early: said, its lines passed on" 0 \
	"ltail --once -r -p cut.pos gz/cut.gz" "the gzip data ends early"
check_out "and its position stays 0: a later run reads it whole" \
	"pos_of cut.pos gz/cut.gz" 0
printf '\037\213garbage, not deflate data\n' >gz/bad.gz
check_err "bad data is said, and the file left" 0 \
	"ltail --once -r gz/bad.gz" "bad.gz: bad gzip data at byte"
mkdir arc
printf 'old\n' | gzip >arc/a.gz
ltail -p arc.pos --multiline-flush-interval 0 'arc/*.gz' >arc.mp &
pid=$!
wait_for "test -s arc.pos"
check_out "following: a gzip file found at start is done, like a read end" \
	"pos_of arc.pos arc/a.gz" "$(wc -c <arc/a.gz)"
printf 'new 1\nnew 2' | gzip >arc/b.tmp
mv arc/b.tmp arc/b.gz
check "a gzip file that appears is read whole, its last line at once" \
	"wait_for 'sv arc.mp | grep -q \"new 2\"'"
check "and its position entry is its size" \
	"wait_for 'test \$(pos_of arc.pos arc/b.gz) = $(wc -c <arc/b.gz)'"
kill -TERM $pid
wait $pid
check_out "nothing else read" "sv arc.mp" "new 1
new 2"

# --- path patterns --------------------------------------------------------
mkdir -p br/x br/y br/z "br/$(date +%Y)/$(date +%m)/$(date +%d)"
echo a >br/x/a.log
echo b >br/y/b.log
echo c >br/z/c.log
echo today >"br/$(date +%Y)/$(date +%m)/$(date +%d)/t.log"
check_out "{a,b} lists in a pattern, nested" \
	"ltail --once -r 'br/{x,{y,w}}/*.log' | lout -f single_value" "a
b"
check_out "strftime conversions: today's directory" \
	"ltail --once -r 'br/%Y/%m/%d/*.log' | lout -f single_value" today
check_err "a missing file named with strftime: the name as expanded" 4 \
	"ltail --once -r 'br/%Y/none.log'" "br/$(date +%Y)/none.log: no such file"
check_out "a brace list that names files is a pattern (no warning)" \
	"ltail --once -r 'br/x/{a,none}.log' 2>&1 | lout -f single_value" a
check_out "options after the paths" \
	"ltail br/x/a.log --once -r | lout -f single_value" a
# re-expanded at every refresh: a pattern with the seconds of the clock
mkdir sec
now=$(date +%s)
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
	echo "s$((now + i))" >"sec/$((now + i)).log"
done
ltail -r --refresh-interval 200ms 'sec/%s.log' >sec.mp &
pid=$!
check "the pattern is expanded again at each refresh" \
	"wait_for 'test \$(sv sec.mp | sort -u | wc -l) -ge 3' 150"
kill -TERM $pid
wait $pid

# --- --from-encoding / --encoding -----------------------------------------
printf '\223\372\226\173\214\352\n\207\100 NEC\n' >sjis.log   # CP932
check_out "CP932 to UTF-8, with the NEC special characters" \
	"ltail --once -r --from-encoding CP932 --encoding UTF-8 sjis.log |
		lout -f single_value" "日本語
① NEC"
printf '\306\374\313\334\270\354\n' >euc.log
check_out "EUC-JP to UTF-8" \
	"ltail --once -r --from-encoding EUC-JP --encoding UTF-8 euc.log |
		lout -f single_value" 日本語
printf 'ok\nbad \202\n' >badsj.log
check_out "a byte that is not CP932: replaced by U+FFFD" \
	"ltail --once -r --from-encoding CP932 --encoding UTF-8 --stats badsj.log \
		2>badsj.err | lout -f single_value" "ok
bad �"
check "said and counted" \
	"grep -q 'badsj.log: a byte that is not CP932' badsj.err &&
		grep -q 'bytes not converted 1' badsj.err"
check_out "--multiline-start matches the converted text" \
	"printf '\223\372 1\n  x\n\223\372 2\n' | ltail --from-encoding CP932 \
		--encoding UTF-8 -m '^日 ' - | lout -f json" '{"message":"日 1\n  x"}
{"message":"日 2"}'
check_err "--from-encoding needs --encoding" 2 \
	"ltail --from-encoding CP932 x.log" "needs --encoding"
check_err "an encoding that does not keep ASCII is refused" 2 \
	"ltail --from-encoding UTF-16 --encoding UTF-8 x.log" "must write ASCII"
