/* t_parse - unit tests of common/parse_text.c and common/parse_syslog.c */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "parse_rx.h"
#include "parse_syslog.h"
#include "parse_text.h"

static struct pfields pf;
static char got[2048];

/* The fields as "k=v k2=<nil> k3=#12" (v: text; #: number; T: true). */
static const char *
show(void)
{
	size_t i, n = 0;
	struct pfield *f;

	got[0] = '\0';
	for (i = 0; i < pf.n && n < sizeof(got) - 200; i++) {
		f = &pf.f[i];
		n += snprintf(got + n, sizeof(got) - n, "%s%.*s=", i ? " " : "",
		    (int)f->klen, f->k);
		switch (f->kind) {
		case PK_STR:
			n += snprintf(got + n, sizeof(got) - n, "%.*s",
			    (int)f->vlen, f->v);
			break;
		case PK_NIL:
			n += snprintf(got + n, sizeof(got) - n, "<nil>");
			break;
		case PK_TRUE:
			n += snprintf(got + n, sizeof(got) - n, "T");
			break;
		case PK_INT:
			n += snprintf(got + n, sizeof(got) - n, "#%lld",
			    (long long)f->i);
			break;
		case PK_FLOAT:
			n += snprintf(got + n, sizeof(got) - n, "#%g", f->f);
			break;
		}
	}
	return got;
}

/* s with \n, \r and \t escaped, for test names (two buffers in turn). */
static const char *
esc(const char *s)
{
	static char b[2][256];
	static int w;
	char *o = b[w ^= 1];
	size_t n = 0;

	for (; *s && n < sizeof(b[0]) - 3; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t') {
			o[n++] = '\\';
			o[n++] = *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
		} else {
			o[n++] = *s;
		}
	}
	o[n] = '\0';
	return o;
}

static void
piece(void *arg, const char *p, size_t n)
{
	char *out = arg;

	snprintf(out + strlen(out), 512 - strlen(out), "[%.*s]", (int)n, p);
}

static void
split_is(const char *s, const char *sep, size_t limit, const char *want)
{
	char out[512] = "";
	size_t n;

	n = parse_split(s, strlen(s), sep, strlen(sep), limit, piece, out);
	ok(strcmp(out, want) == 0 && n == parse_split(s, strlen(s), sep,
	    strlen(sep), limit, NULL, NULL), "split(\"%s\", \"%s\", %zu) is %s",
	    esc(s), esc(sep), limit, esc(want));
	if (strcmp(out, want) != 0)
		printf("#   got %s\n", out);
}

static void
test_split(void)
{
	split_is("a,b,c", ",", 0, "[a][b][c]");
	split_is("a,,b,,", ",", 0, "[a][][b]");
	split_is(",a", ",", 0, "[][a]");
	split_is(",,,", ",", 0, "");
	split_is("", ",", 0, "");
	split_is("a,b,c", ",", 2, "[a][b,c]");
	split_is("a,b,", ",", 5, "[a][b][]");
	split_is("a", ",", 1, "[a]");
	split_is("a::b::", "::", 0, "[a][b]");
	split_is("  a  b c ", " ", 0, "[a][b][c]");
	split_is("  a  b  c ", " ", 2, "[a][b  c ]");
	split_is("a b ", " ", 5, "[a][b][]");
	split_is(" a", " ", 1, "[ a]");
	split_is("a\tb\n c", " ", 0, "[a][b][c]");
	split_is("abc", "", 0, "[a][b][c]");
	split_is("h\xc3\xa9!", "", 0, "[h][\xc3\xa9][!]");
	split_is("abc", "", 2, "[a][bc]");
}

static void
test_numbers(void)
{
	is_int(parse_ruby_int("12abc", 5), 12, "to_i: 12abc is 12");
	is_int(parse_ruby_int("abc", 3), 0, "to_i: abc is 0");
	is_int(parse_ruby_int("  -5", 4), -5, "to_i: leading space, sign");
	is_int(parse_ruby_int("+7", 2), 7, "to_i: plus sign");
	is_int(parse_ruby_int("1_000", 5), 1000, "to_i: underscores");
	is_int(parse_ruby_int("1__0", 4), 1, "to_i: two underscores end it");
	is_int(parse_ruby_int("_1", 2), 0, "to_i: a leading underscore");
	is_int(parse_ruby_int("0x1A", 4), 0, "to_i: no hex");
	is_int(parse_ruby_int("00012", 5), 12, "to_i: leading zeros");
	is_int(parse_ruby_int("0_1", 3), 1, "to_i: an underscore after 0");
	is_int(parse_ruby_int("0000000000000000000000001", 25), 1,
	    "to_i: many leading zeros");
	is_int(parse_ruby_int("9223372036854775807", 19), INT64_MAX,
	    "to_i: int64 max");
	is_int(parse_ruby_int("-9223372036854775808", 20), INT64_MIN,
	    "to_i: int64 min");
	is_int(parse_ruby_int("99999999999999999999", 20), INT64_MAX,
	    "to_i: saturates");
	ok(parse_ruby_float("1.5e3x", 6) == 1500.0, "to_f: 1.5e3x");
	ok(parse_ruby_float(".5", 2) == 0.5, "to_f: .5");
	ok(parse_ruby_float("-.5", 3) == -0.5, "to_f: -.5");
	ok(parse_ruby_float("5.", 2) == 5.0, "to_f: 5.");
	ok(parse_ruby_float("1.e5", 4) == 1.0, "to_f: 1.e5 is 1");
	ok(parse_ruby_float("1e", 2) == 1.0, "to_f: 1e");
	ok(parse_ruby_float("abc", 3) == 0.0, "to_f: abc");
	ok(parse_ruby_float("Infinity", 8) == 0.0, "to_f: Infinity is 0");
	ok(parse_ruby_float("0x10", 4) == 0.0, "to_f: no hex");
	ok(parse_ruby_float("1_000.5", 7) == 1000.5, "to_f: underscores");
	ok(isinf(parse_ruby_float("1e999", 5)), "to_f: out of range is inf");
}

static struct pkeys keys;

static void
csv_is(const char *s, const char *want)
{
	const char *why = NULL;

	pfields_reset(&pf, strlen(s));
	if (parse_csv(&pf, s, strlen(s), ",", 1, &keys, &why) < 0)
		snprintf(got, sizeof(got), "error: %s", why);
	else
		show();
	is_str(got, want, "csv %s", esc(s));
}

static void
test_csv(void)
{
	pkeys_split(&keys, "a, b ,c");
	is_int(keys.n, 3, "keys: three");
	is_str(keys.k[1], "b", "keys: spaces trimmed");
	csv_is("1,2,3", "a=1 b=2 c=3");
	csv_is("1,,", "a=1 b=<nil> c=<nil>");
	csv_is("\"\",\"x\"\"y\",\"p,q\"", "a= b=x\"y c=p,q");
	csv_is("1", "a=1 b=<nil> c=<nil>");
	csv_is("1,2,3,4", "a=1 b=2 c=3");
	csv_is("1,2\r\n", "a=1 b=2 c=<nil>");
	csv_is("\n", "a=<nil> b=<nil> c=<nil>");
	csv_is("\"a\nb\",c", "a=a\nb b=c c=<nil>");
	csv_is(" x , y", "a= x  b= y c=<nil>");
	csv_is("", "error: empty line");
	csv_is("\"abc", "error: unclosed quoted field");
	csv_is("a\"b", "error: quote in an unquoted field");
	csv_is("\"a\"b", "error: text after a quoted field");
	pkeys_free(&keys);
	ok(pkeys_split(&keys, "a,,b") < 0, "keys: an empty name is refused");
	pkeys_free(&keys);
	pkeys_split(&keys, "\ta,\r\n b\t");
	is_int(keys.n, 2, "keys: two");
	ok(keys.n == 2 && strcmp(keys.k[0], "a") == 0 &&
	    strcmp(keys.k[1], "b") == 0, "keys: white space trimmed");
	pkeys_free(&keys);
}

static void
logfmt_is(const char *s, const char *want)
{
	pfields_reset(&pf, strlen(s));
	parse_logfmt(&pf, s, strlen(s));
	is_str(show(), want, "logfmt %s", esc(s));
}

static void
test_text(void)
{
	static const char ltsv[] = "a:1\tb\t\tc:x:y\ta:2\t:e";

	pf.dedup = 1;
	pfields_reset(&pf, 64);
	parse_ltsv(&pf, ltsv, strlen(ltsv), "\t", 1, ":", 1);
	is_str(show(), "a=2 c=x:y =e", "ltsv: items, repeats, no label");
	logfmt_is("a=1 b=\"x y\" c", "a=#1 b=x y c=T");
	logfmt_is("f=-0.5 e=1e3 ip=1.2.3.4 n=007",
	    "f=#-0.5 e=#1000 ip=1.2.3.4 n=#7");
	logfmt_is("q=\"a \\\" b\\n\"", "q=a \" b\\n");
	logfmt_is("k= x", "k=T x=T");
	logfmt_is("k=", "k=T");
	logfmt_is("k=\"open", "k=T");
	logfmt_is("  =x \"y\" z=1", "x=T y=T z=#1");
	logfmt_is("a=1 a=2", "a=#2");
	logfmt_is("u=a=b=c", "u=a=b=c");
	logfmt_is("big=99999999999999999999", "big=#1e+20");
	pf.dedup = 0;
	pkeys_split(&keys, "a,b");
	pfields_reset(&pf, 16);
	parse_tsv(&pf, "1\t2\t3", 5, "\t", 1, &keys);
	is_str(show(), "a=1 b=2\t3", "tsv: the last key takes the rest");
	pkeys_free(&keys);
}

static struct syslog_opts so = { 0, 3, 1, 1 };

static void
s3164_is(const char *s, const char *want, const char *wtime)
{
	const char *t = NULL, *why = NULL;
	size_t tlen = 0;

	pfields_reset(&pf, strlen(s));
	if (parse_syslog_3164(&pf, s, strlen(s), &so, &t, &tlen, &why) < 0) {
		is_str(why, want, "3164 %s fails", esc(s));
		return;
	}
	is_str(show(), want, "3164 %s", esc(s));
	is_mem(t, tlen, wtime, strlen(wtime), "3164 %s: time", esc(s));
}

static void
s5424_is(const char *s, const char *want, const char *wtime)
{
	const char *t = NULL, *why = NULL;
	size_t tlen = 0;

	pfields_reset(&pf, strlen(s));
	if (parse_syslog_5424(&pf, s, strlen(s), &so, &t, &tlen, &why) < 0) {
		is_str(why, want, "5424 %s fails", esc(s));
		return;
	}
	is_str(show(), want, "5424 %s", esc(s));
	is_mem(t, tlen, wtime, strlen(wtime), "5424 %s: time", esc(s));
}

static void
test_syslog(void)
{
	so.with_pri = 1;
	s3164_is("<6>Feb 28 12:00:00 host app[1]: hi there",
	    "host=host pri=#6 ident=app pid=1 message=hi there",
	    "Feb 28 12:00:00");
	s3164_is("Feb 28 12:00:00 host app: x", "no <priority>", "");
	so.with_pri = 0;
	s3164_is("Feb  5 12:00:00 host app: x\n",
	    "host=host ident=app message=x", "Feb  5 12:00:00");
	s3164_is("Feb 28 12:00:00.123 h a: m", "host=h ident=a message=m",
	    "Feb 28 12:00:00.123");
	s3164_is("Feb 28 12:00:00 host onlyword", "host=host message=onlyword",
	    "Feb 28 12:00:00");
	s3164_is("Feb 28 12:00:00 host app] x", "'[' missing before the pid",
	    "");
	s3164_is("Feb 28 12:00:00", "not a syslog line", "");
	so.colonless = 0;
	s3164_is("Feb 28 12:00:00 h Use the BFG", "host=h message=Use the BFG",
	    "Feb 28 12:00:00");
	so.colonless = 1;
	so.fixed = 0;
	so.nspace = 2;
	s3164_is("2013-02-28  12:00:00 h a: m", "host=h ident=a message=m",
	    "2013-02-28 12:00:00");
	so.nspace = 1;
	so.with_pri = 1;
	s5424_is("<16>1 2013-02-28T12:00:00Z h a 11 ID [x a=\"\\]\"] msg\r\n",
	    "host=h ident=a pid=11 msgid=ID pri=#16 extradata=[x a=\"]\"] "
	    "message=msg", "2013-02-28T12:00:00Z");
	s5424_is("<16>1 2013-02-28T12:00:00Z h a 11 ID -",
	    "host=h ident=a pid=11 msgid=ID pri=#16 extradata=-",
	    "2013-02-28T12:00:00Z");
	s5424_is("<16>1 2013-02-28T12:00:00Z h a 11", "not an RFC 5424 line",
	    "");
	s5424_is("16>1 x", "no <priority>", "");
	is_int(parse_chomp("a\r\n", 3), 1, "chomp \\r\\n");
	is_int(parse_chomp("a\n\n", 3), 2, "chomp one \\n");
	is_int(parse_chomp("a\r", 2), 1, "chomp \\r");
}

/* The first named group of src matched on text, or "-" if none. */
static const char *
rx_is(const char *src, int flags, const char *text)
{
	char err[256];
	struct rx *rx = parse_rx(src, flags, err, sizeof(err));
	const char *p;
	size_t n;

	if (!rx) {
		snprintf(got, sizeof(got), "error: %s", err);
		return got;
	}
	if (rx_match(rx, text, strlen(text)) != 1 ||
	    rx_group(rx, 0, text, &p, &n) < 0)
		snprintf(got, sizeof(got), "-");
	else
		snprintf(got, sizeof(got), "%.*s", (int)n, p);
	rx_free(rx);
	return got;
}

static void
test_rx(void)
{
	static const struct {
		const char *src;
		int flags;
		const char *text, *want;
	} t[] = {
		{ "^(?<a>\\h+)$", 0, "0aF9", "0aF9" },
		{ "^(?<a>\\h+)$", 0, "0ag", "-" },
		{ "^(?<a>\\H+)", 0, "xyz1", "xyz" },
		{ "^(?<a>[\\h-]+)$", 0, "ab-12", "ab-12" },
		{ "^(?<a>[^\\h]+)", 0, "xyzab", "xyz" },
		{ "^(?<a>[[:alpha:]\\h]+)", 0, "zz09-", "zz09" },
		{ "^(?<a>[]x]+)", 0, "]x]y", "]x]" },
		{ "^(?<a>.*)$", 0, "one\ntwo", "one" },
		{ "(?<a>^t\\w+$)", 0, "one\ntwo", "two" },
		{ "/^(?<a>.*)$/m", 0, "one\ntwo", "one\ntwo" },
		{ "/^(?<a>ab)/i", 0, "AbC", "Ab" },
		{ "/^(?<a>ab)/x", 0, "/^(?<a>ab)/x", "-" },
		{ "/var/(?<a>\\w+)", 0, "/var/log", "log" },
		{ "^(?<a>(?m:.+))$", 0, "a\nb", "a\nb" },
		{ "^(?<a>(?i)x)", 0, "X", "X" },
		{ "^(?<a>.+)$", PRX_NOLINE, "one two", "one two" },
		{ "a|b", PRX_WRAP, "xxb", "b" },
		{ "(*UTF)^(?<a>.)", 0, "\xc3\xa9!", "\xc3\xa9" },
		{ "^(?<a>x", 0, "", "error: missing closing parenthesis at "
		    "offset 7" },
		{ "/(?<a>x/i", 0, "", "error: missing closing parenthesis at "
		    "offset 7" },
		{ "(?<a>\\h[)", 0, "", "error: missing terminating ] for "
		    "character class at offset 9" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++)
		is_str(rx_is(t[i].src, t[i].flags, t[i].text), t[i].want,
		    "parse_rx %s on \"%s\"", esc(t[i].src), esc(t[i].text));
}

/* The typed groups parse_rx_typed reports, "name=type;" each, in got. */
static void
typed(void *arg, const char *name, size_t nlen, const char *type,
    size_t tlen)
{
	size_t n = strlen(got);

	(void)arg;
	snprintf(got + n, sizeof(got) - n, "%.*s=%.*s;", (int)nlen, name,
	    (int)tlen, type);
}

static void
typed_is(const char *src, const char *delim, const char *text,
    const char *want)
{
	struct prx_types t = { delim, typed, NULL };
	char err[256];
	struct rx *rx;
	const char *p;
	size_t i, n, at;

	got[0] = '\0';
	if (!(rx = parse_rx_typed(src, 0, &t, err, sizeof(err)))) {
		snprintf(got, sizeof(got), "error: %s", err);
	} else if (rx_match(rx, text, strlen(text)) == 1) {
		for (i = 0; i < rx_names(rx); i++)
			if (rx_group(rx, i, text, &p, &n) == 0) {
				at = strlen(got);
				snprintf(got + at, sizeof(got) - at, " %s:%.*s",
				    rx_name(rx, i), (int)n, p);
			}
	}
	rx_free(rx);
	is_str(got, want, "parse_rx_typed %s (%s)", esc(src), delim);
}

static void
test_typed(void)
{
	typed_is("^(?<a:integer>\\d+) (?<b>\\w)", ":", "12 x",
	    "a=integer; a:12 b:x");
	typed_is("(?'a:time:%Y'\\d+)(?P<b:bool>y)", ":", "2013y",
	    "a=time:%Y;b=bool; a:2013 b:y");
	typed_is("(?<=x)(?<!y)(?<a__float>.)", "__", "x1",
	    "a=float; a:1");
	typed_is("\\(?<a:x>\\)[(?<b:y>]", ":", "(<a:x>)(", "");
	typed_is("(?<a:integer>x", ":", "",
	    "error: missing closing parenthesis at offset 14");
	typed_is("(?<:integer>x)", ":", "",
	    "error: subpattern name expected at offset 3");
	typed_is("/(?<a:integer>x)/i", ":", "X", "a=integer; a:X");
}

/* parse_scrub of s[0..n): the text, or "=" when it is valid. */
static void
scrub_is(const char *s, size_t n, const char *want)
{
	struct buf b = { 0 };

	if (parse_scrub(&b, s, n))
		snprintf(got, sizeof(got), "%.*s", (int)b.len, b.p);
	else
		snprintf(got, sizeof(got), "=");
	is_str(got, want, "parse_scrub %s", esc(s));
	buf_free(&b);
}

static void
test_scrub(void)
{
	scrub_is("abc", 3, "=");
	scrub_is("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, "=");
	scrub_is("", 0, "=");
	scrub_is("a\xff", 2, "a?");
	scrub_is("\xe3\x81", 2, "?");
	scrub_is("\xe3\x81z", 3, "?z");
	scrub_is("\xf0\x9f\x98!", 4, "?!");
	scrub_is("\xed\xa0\x80", 3, "???");
	scrub_is("\xe0\x80\x80", 3, "???");
	scrub_is("\xf4\x90\x80\x80", 4, "????");
	scrub_is("\xc0\xaf", 2, "??");
	scrub_is("\x80\xbf", 2, "??");
	scrub_is("a\0\xfe", 3, "a\0?");
}

int
main(void)
{
	test_rx();
	test_typed();
	test_scrub();
	test_split();
	test_numbers();
	test_csv();
	test_text();
	test_syslog();
	pfields_free(&pf);
	return done_testing();
}
