/* format - lparse's formats beyond plain text: apache2, syslog, cri; setup */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "err.h"
#include "mp.h"
#include "parse_rx.h"
#include "parse_syslog.h"
#include "parse_text.h"
#include "rx.h"
#include "stream.h"
#include "timefmt.h"

#include "lparse.h"

struct formats fm;

const char *const format_names[] = {
	"regexp", "ltsv", "csv", "tsv", "logfmt", "apache2", "apache",
	"apache_error", "nginx", "syslog", "none", "cri", "json", "docker",
	"msgpack", "multi", NULL
};

/* Fluentd's built-in expressions. */
static const char RX_APACHE2[] = "^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) "
	"\\[(?<time>[^\\]]*)\\] \"(?<method>\\S+)(?: +(?<path>(?:[^\\\"]|"
	"\\\\\")*?)(?: +\\S*)?)?\" (?<code>[^ ]*) (?<size>[^ ]*)(?: "
	"\"(?<referer>(?:[^\\\"]|\\\\\")*)\" \"(?<agent>(?:[^\\\"]|"
	"\\\\\")*)\")?$";
static const char RX_APACHE[] = "^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) "
	"\\[(?<time>[^\\]]*)\\] \"(?<method>\\S+)(?: +(?<path>[^ ]*) +\\S*)?\" "
	"(?<code>[^ ]*) (?<size>[^ ]*)(?: \"(?<referer>[^\\\"]*)\" "
	"\"(?<agent>[^\\\"]*)\")?$";
static const char RX_APACHE_ERROR[] = "^\\[[^ ]* (?<time>[^\\]]*)\\] "
	"\\[(?<level>[^\\]]*)\\](?: \\[pid (?<pid>[^\\]]*)\\])?( \\[client "
	"(?<client>[^\\]]*)\\])? (?<message>.*)$";
static const char RX_NGINX[] = "^(?<remote>[^ ]*) (?<host>[^ ]*) "
	"(?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] \"(?<method>\\S+)(?: +"
	"(?<path>[^\\\"]*?)(?: +\\S*)?)?\" (?<code>[^ ]*) (?<size>[^ ]*)(?: "
	"\"(?<referer>[^\\\"]*)\" \"(?<agent>[^\\\"]*)\"(?:\\s+\\\"?"
	"(?<http_x_forwarded_for>[^\\\"]*)\\\"?)?)?$";
static const char RX_3164[] = "(?<host>[^ ]*) (?<ident>[^ :\\[]*)(?:\\["
	"(?<pid>[0-9]+)\\])?(?:[^\\:]*\\:)? *(?<message>.*)$";
static const char RX_5424[] = "/(?<host>[!-~]{1,255}) (?<ident>[!-~]{1,48}) "
	"(?<pid>[!-~]{1,128}) (?<msgid>[!-~]{1,32}) (?<extradata>(?:\\-|"
	"(?:\\[.*?(?<!\\\\)\\])))(?: (?<message>.+))?\\z/m";

/*
 * Compiles a regular expression, dying with EX_USAGE naming what; t: its
 * typed group names, or NULL.
 */
static struct rx *
ruby_rx_typed(const char *what, const char *src, int flags,
    const struct prx_types *t)
{
	struct rx *rx;
	char err[512];

	if (!(rx = parse_rx_typed(src, flags, t, err, sizeof(err))))
		die(EX_USAGE, "bad %s '%s': %s", what, src, err);
	return rx;
}

struct rx *
format_rx(const char *what, const char *src, int flags)
{
	return ruby_rx_typed(what, src, flags, NULL);
}

/* Both forms; t->fn (if any) is called once for each typed name. */
static void
rx_pair_typed(struct rxpair *r, const char *what, const char *src,
    const struct prx_types *t)
{
	struct prx_types quiet;

	r->nl = ruby_rx_typed(what, src, 0, t);
	if (t) {
		quiet = *t;
		quiet.fn = NULL;
		t = &quiet;
	}
	r->fast = ruby_rx_typed(what, src, PRX_NOLINE, t);
}

void
format_rx_pair(struct rxpair *r, const char *what, const char *src)
{
	rx_pair_typed(r, what, src, NULL);
}

void
format_rx_pair_free(struct rxpair *r)
{
	rx_free(r->nl);
	rx_free(r->fast);
}

/*
 * Apache2.
 */

/* An apache2 group: absent, or "-" where dash is set, is null. */
static void
ap_str(struct rx *rx, const char *s, size_t i, const char *k, int dash)
{
	const char *p;
	size_t len;

	if (rx_group(rx, i, s, &p, &len) < 0 || (dash && len == 1 &&
	    *p == '-'))
		pfields_add(&run.pf, k, strlen(k));
	else
		pfields_str(&run.pf, k, strlen(k), p, len);
}

/* An apache2 number: Ruby's to_i, with 0 (code) or "-" (size) null. */
static void
ap_int(struct rx *rx, const char *s, size_t i, const char *k, int zero_nil)
{
	struct pfield *f = pfields_add(&run.pf, k, strlen(k));
	const char *p;
	size_t len;

	rx_group(rx, i, s, &p, &len);
	f->i = parse_ruby_int(p, len);
	if (zero_nil ? f->i != 0 : !(len == 1 && *p == '-'))
		f->kind = PK_INT;
}

/* Fluentd's apache2 parser: its own record, "-" as null, code and size. */
static int
format_apache2(const char *s, size_t n, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	struct rx *rx = pick(&fm.main, s, n);
	const char *t;
	size_t tlen;

	if (record_match(rx, s, n, why) < 0)
		return -1;
	rx_group(rx, 2, s, &t, &tlen);
	if (timefmt_parse(fm.tf_apache, t, tlen, sec, nsec) < 0 &&
	    !o.reserve_time) {
		*why = "time does not match the time format";
		return -1;
	}
	ap_str(rx, s, 0, "host", 1);
	ap_str(rx, s, 1, "user", 1);
	ap_str(rx, s, 3, "method", 0);
	ap_str(rx, s, 4, "path", 0);
	ap_int(rx, s, 5, "code", 1);
	ap_int(rx, s, 6, "size", 0);
	ap_str(rx, s, 7, "referer", 1);
	ap_str(rx, s, 8, "agent", 1);
	if (o.keep_time)
		pfields_str(&run.pf, "time", 4, t, tlen);
	return 0;
}

/*
 * Syslog.
 */

/* <PRI> of the regexp engine: ^<[0-9]{1,3}> (5424: then [0-9]{1,3}\s). */
static long
rx_pri(const char *s, size_t n, int is5424, long *pri)
{
	size_t i = 1, v;

	*pri = 0;
	if (n < 3 || s[0] != '<')
		return -1;
	for (; i < n && i < 4 && ISDIGIT(s[i]); i++)
		*pri = *pri * 10 + (s[i] - '0');
	if (i == 1 || i >= n || s[i] != '>')
		return -1;
	if (!is5424)
		return i + 1;
	for (v = ++i; i < n && i - v < 3 && ISDIGIT(s[i]); i++)
		continue;
	if (i == v || i >= n || !ISSPACE(s[i]))
		return -1;
	return i + 1;
}

static void
add_int(const char *k, int64_t v)
{
	struct pfield *f = pfields_add(&run.pf, k, strlen(k));

	f->kind = PK_INT;
	f->i = v;
}

/* Fluentd's regexp engine: <PRI>, the time, then its expression. */
static int
syslog_rx(int is5424, const char *s, size_t n, const char **t, size_t *tlen,
    const char **why)
{
	const struct syslog_opts *sp = is5424 ? &fm.so5424 : &fm.so3164;
	struct pfields *pf = &run.pf;
	long c = 0, i, pri;
	size_t j;

	if (o.with_pri) {
		if ((c = rx_pri(s, n, is5424, &pri)) < 0) {
			*why = "no <priority>";
			return -1;
		}
		add_int("pri", pri);
	}
	if ((i = parse_syslog_time(pf, s, n, c, sp->nspace, t, tlen)) < 0) {
		*why = "pattern not matched";
		return -1;
	}
	if (o.keep_time)
		pfields_str(pf, "time", 4, *t, *tlen);
	if (record_regex(pick(is5424 ? &fm.s5424 : &fm.s3164, s + i + 1,
	    n - i - 1), NULL, s + i + 1, n - i - 1, why) < 0)
		return -1;
	for (j = 0; j < pf->n; j++)
		if (pf->f[j].kind == PK_STR && pf->f[j].klen == 7 &&
		    memcmp(pf->f[j].k, "message", 7) == 0)
			pf->f[j].vlen = parse_chomp(pf->f[j].v, pf->f[j].vlen);
	return 0;
}

/* ^<[0-9]{1,3}>[1-9]: message_format auto takes it for RFC 5424. */
static int
looks_5424(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 4 || s[0] != '<')
		return 0;
	while (i < n && i < 4 && ISDIGIT(s[i]))
		i++;
	return i > 1 && i + 1 < n && s[i] == '>' && s[i + 1] >= '1' &&
	    s[i + 1] <= '9';
}

static int
format_syslog(const char *s, size_t n, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	int is5424 = o.msgfmt == S_5424 || (o.msgfmt == S_AUTO &&
	    looks_5424(s, n));
	const char *t;
	size_t tlen;
	int r;

	if (!o.string_engine)
		r = syslog_rx(is5424, s, n, &t, &tlen, why);
	else if (is5424)
		r = parse_syslog_5424(&run.pf, s, n, &fm.so5424, &t, &tlen,
		    why);
	else
		r = parse_syslog_3164(&run.pf, s, n, &fm.so3164, &t, &tlen,
		    why);
	if (r < 0)
		return -1;
	if (is5424)
		r = timefmt_parse(fm.tf_5424, t, tlen, sec, nsec) == 0 ||
		    timefmt_parse(fm.tf_5424_nosub, t, tlen, sec, nsec) == 0;
	else
		r = timefmt_parse(fm.tf_3164, t, tlen, sec, nsec) == 0;
	if (!r && !o.reserve_time) {
		*why = "time does not match the time format";
		return -1;
	}
	if (o.keep_time && o.string_engine)
		pfields_str(&run.pf, "time", 4, t, tlen);
	return 0;
}

/*
 * CRI: a container log line of containerd and CRI-O, "TIME STREAM TAG
 * MESSAGE", split by common/container.c as ltail's cri parser splits it;
 * the fields as Fluent Bit's cri parser names them: stream, logtag and
 * message (--message-key), the time the event time.
 */
static int
format_cri(const char *s, size_t n, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	struct cont_line l;

	if (cont_cri(s, n, &l, why) < 0)
		return -1;
	if (record_time_text(&run.tp_time, l.time, l.tlen, sec, nsec) < 0 &&
	    !o.reserve_time) {
		*why = "time does not match the time format";
		return -1;
	}
	if (o.keep_time)
		pfields_str(&run.pf, "time", 4, l.time, l.tlen);
	pfields_str(&run.pf, "stream", 6, l.stream, l.slen);
	pfields_str(&run.pf, "logtag", 6, l.tag, l.taglen);
	pfields_str(&run.pf, o.message_key, strlen(o.message_key), l.msg,
	    l.mlen);
	return 0;
}

/* The formats that read the time themselves: apache2, syslog, cri. */
int
format_timed(const char *s, size_t n, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	if (o.format == F_APACHE2)
		return format_apache2(s, n, sec, nsec, why);
	if (o.format == F_SYSLOG)
		return format_syslog(s, n, sec, nsec, why);
	return format_cri(s, n, sec, nsec, why);
}

/* --delimiter-pattern: Ruby's split on a regular expression. */
void
format_ltsv_pattern(const char *s, size_t n)
{
	const char *e = s + n, *p = s, *d;
	size_t dlen, llen = strlen(o.label_delim);

	while (p < e && rx_match(fm.delim_rx, p, e - p) == 1 &&
	    rx_group(fm.delim_rx, 0, p, &d, &dlen) == 0) {
		if (dlen == 0 && d == p)
			d++;    /* an empty match splits off one byte */
		parse_ltsv_item(&run.pf, p, d - p, o.label_delim, llen);
		p = d + dlen;
	}
	if (p < e)
		parse_ltsv_item(&run.pf, p, e - p, o.label_delim, llen);
}

/*
 * Setup.
 */

/* --delimiter with \t, \n, \r and \\ decoded. */
static void
set_delim(const char *d)
{
	const char *p;
	char *q;

	fm.delim = xmalloc(strlen(d) + 1);
	for (p = d, q = fm.delim; *p; p++) {
		if (*p == '\\' && p[1] && strchr("tnr\\", p[1])) {
			p++;
			*q++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ?
			    '\r' : '\\';
		} else {
			*q++ = *p;
		}
	}
	*q = '\0';
	fm.delim_len = q - fm.delim;
}

/* The words of a time format: its spaces (runs squeezed) + 1. */
static int
time_words(const char *fmt)
{
	int n = 1;

	for (; *fmt; fmt++)
		if (*fmt == ' ' && fmt[1] != ' ')
			n++;
	return n;
}

void
format_setup_syslog(void)
{
	const char *f3164 = o.time_format ? o.time_format : TF_3164;
	const char *f5424 = o.msgfmt == S_5424 && o.time_format ?
	    o.time_format : o.rfc5424_tf;

	fm.so3164.with_pri = fm.so5424.with_pri = o.with_pri;
	fm.so3164.colonless = o.colonless;
	fm.so3164.nspace = time_words(f3164);
	fm.so3164.fixed = strcmp(f3164, TF_3164) == 0 ||
	    strcmp(f3164, "%b %d %H:%M:%S.%N") == 0;
	fm.so5424.nspace = time_words(f5424);
	fm.tf_3164 = time_compile(f3164, o.tz, "time format");
	fm.tf_5424 = time_compile(f5424, o.tz, "time format");
	fm.tf_5424_nosub = time_compile(TF_5424_NOSUB, o.tz, "time format");
	fm.syslog_ready = 1;
	if (!o.string_engine) {
		format_rx_pair(&fm.s3164, "expression", RX_3164);
		format_rx_pair(&fm.s5424, "expression", RX_5424);
	}
}

/* Names given twice (a later one wins): pf must keep the last. */
static void
check_dups(const char *(*name)(size_t), size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(name(i), name(j)))
				run.pf.dedup = 1;
}

static const char *
group_name(size_t i)
{
	return rx_name(fm.main.nl, i);
}

static const char *
key_name(size_t i)
{
	return fm.keys.k[i];
}

/* --regex or the format's expression. */
static void
setup_rx(void)
{
	static const char *const builtin[] = {
		[F_APACHE2] = RX_APACHE2, [F_APACHE] = RX_APACHE,
		[F_APACHE_ERROR] = RX_APACHE_ERROR, [F_NGINX] = RX_NGINX
	};
	struct prx_types groups = { o.types_label, types_group, NULL };
	const char *what = o.ntries ? "--try regexp" : "--regex";
	size_t i;

	if (o.regex) {
		rx_pair_typed(&fm.main, what, o.regex, o.typed_groups ?
		    &groups : NULL);
		if (!rx_names(fm.main.nl))
			die(EX_USAGE, "bad %s '%s': no named group "
			    "(?<name>...)", what, o.regex);
		check_dups(group_name, rx_names(fm.main.nl));
	} else if (o.format < sizeof(builtin) / sizeof(*builtin) &&
	    builtin[o.format]) {
		format_rx_pair(&fm.main, "expression", builtin[o.format]);
	}
	if (fm.main.nl) {
		fm.groups = xcalloc(rx_names(fm.main.nl) + 1,
		    sizeof(*fm.groups));
		for (i = 0; i < rx_names(fm.main.nl); i++)
			fm.groups[i].len = strlen(fm.groups[i].name =
			    rx_name(fm.main.nl, i));
	}
}

/* What o.format reads that is its own: expression, delimiter, keys. */
void
format_setup_one(void)
{
	setup_rx();
	if (o.format == F_CSV || o.format == F_TSV) {
		if (!o.keys)
			die(EX_USAGE, "--format %s needs --keys",
			    format_names[o.format]);
		if (!fm.keys.n && pkeys_split(&fm.keys, o.keys) < 0)
			die(EX_USAGE, "bad --keys '%s': an empty name", o.keys);
		check_dups(key_name, fm.keys.n);
	}
	if (o.format == F_LTSV || o.format == F_LOGFMT)
		run.pf.dedup = 1;
	set_delim(o.delim ? o.delim : o.format == F_CSV ? "," : "\t");
	if (o.format == F_CSV && !fm.delim_len)
		die(EX_USAGE, "--delimiter: empty for --format csv");
}

void
format_setup(void)
{
	if (o.regex && o.format_set && o.format != F_REGEXP)
		die(EX_USAGE, "--regex and --format %s exclude each other%s",
		    format_names[o.format], o.format == F_MULTI ? " (give "
		    "--try 'regexp:REGEX')" : "");
	if (!o.regex && o.format == F_REGEXP)
		die(EX_USAGE, o.format_set ? "--format regexp needs --regex" :
		    "give --regex REGEX or --format FORMAT");
	if (o.format != F_MULTI)
		format_setup_one();
	if (o.delim_pattern)
		fm.delim_rx = format_rx("--delimiter-pattern", o.delim_pattern,
		    PRX_WRAP);
}

/*
 * Options that only a few formats read: refused unless one of the formats
 * (a bit set: o.format's, or those of --format multi's alternatives)
 * takes them.
 */
void
format_check(unsigned given, unsigned formats)
{
	static const struct {
		unsigned bit;
		const char *name;
		unsigned formats;
	} t[] = {
		{ 1, "--keys", 1u << F_CSV | 1u << F_TSV },
		{ 2, "--delimiter", 1u << F_CSV | 1u << F_TSV | 1u << F_LTSV },
		{ 4, "--delimiter-pattern", 1u << F_LTSV },
		{ 8, "--label-delimiter", 1u << F_LTSV },
		{ 16, "--message-key", 1u << F_NONE | 1u << F_CRI },
		{ 32, "--message-format, --with-priority, "
		    "--rfc5424-time-format, --parser-engine and "
		    "--no-colonless-ident", 1u << F_SYSLOG }
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++)
		if ((given & t[i].bit) && !(t[i].formats & formats))
			die(EX_USAGE, "%s: not for --format %s%s", t[i].name,
			    format_names[o.format], o.format == F_MULTI ?
			    " with these --try alternatives" : "");
}

void
format_free(void)
{
	format_rx_pair_free(&fm.main);
	free(fm.groups);
	format_rx_pair_free(&fm.s3164);
	format_rx_pair_free(&fm.s5424);
	rx_free(fm.delim_rx);
	timefmt_free(fm.tf_apache);
	timefmt_free(fm.tf_3164);
	timefmt_free(fm.tf_5424);
	timefmt_free(fm.tf_5424_nosub);
	pkeys_free(&fm.keys);
	free(fm.delim);
}
