/* time - lparse's time key: its format and type; guessing a time's format */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "timefmt.h"

#include "lparse.h"

/* Formats tried in turn for a time without --time-format. */
static const char *const guess_formats[] = {
	"iso8601", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%N %z",
	"%Y-%m-%d %H:%M:%S,%N",
	"%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M:%S %z", TF_APACHE,
	"%a %b %e %H:%M:%S %Y", "%a %b %e %H:%M:%S.%N %Y",
	"%b %e %H:%M:%S %Y", "%b %e %H:%M:%S.%N %Y",
	"%a, %d %b %Y %H:%M:%S %z", "%b %e %H:%M:%S", "%b %e %H:%M:%S.%N",
	"%Y-%m-%d", NULL
};
#define NGUESS (sizeof(guess_formats) / sizeof(*guess_formats) - 1)

/* The guessed formats, compiled once one is needed. */
static struct {
	struct timefmt *tf[NGUESS];
	size_t last;            /* the one that worked last */
} guess;

/*
 * Compiles a time format, dying with EX_USAGE naming what; Fluentd's
 * spelling %iso8601 is iso8601.
 */
struct timefmt *
time_compile(const char *spec, const char *tz, const char *what)
{
	struct timefmt *tf;
	const char *err;

	if (strcmp(spec, "%iso8601") == 0)
		spec = "iso8601";
	if (!(tf = timefmt_new(spec, tz, &err)))
		die(EX_USAGE, "bad %s '%s': %s", what, spec, err);
	return tf;
}

/* Text without a format: the format that worked last, then the others. */
int
time_guess(const char *s, size_t n, int64_t *sec, uint32_t *nsec)
{
	size_t i;

	if (timefmt_parse(guess.tf[guess.last], s, n, sec, nsec) == 0)
		return 0;
	for (i = 0; i < NGUESS; i++)
		if (i != guess.last && timefmt_parse(guess.tf[i], s, n, sec,
		    nsec) == 0) {
			guess.last = i;
			return 0;
		}
	return -1;
}

void
time_need_guess(void)
{
	size_t i;

	for (i = 0; i < NGUESS; i++)
		if (!guess.tf[i])
			guess.tf[i] = time_compile(guess_formats[i], o.tz,
			    "format");
}

/* The fallbacks in turn, once the format (or the guess) failed. */
int
time_fallback(const struct tparser *tp, const char *s, size_t n,
    int64_t *sec, uint32_t *nsec)
{
	size_t i;

	for (i = 0; i < tp->nfb; i++)
		if (timefmt_parse(tp->fb[i].tf, s, n, sec, nsec) == 0) {
			if (tp->fb[i].unixtime)
				*nsec = 0;
			return 0;
		}
	return -1;
}

static int
numeric(const char *spec)
{
	return strcmp(spec, "unixtime") == 0 ? TT_UNIXTIME :
	    strcmp(spec, "float") == 0 ? TT_FLOAT : TT_STRING;
}

/*
 * Fluentd's time_type mixed: the time format, then each fallback, the
 * first that reads the time wins; unixtime and float read text and
 * numbers.
 */
static void
setup_mixed(struct tparser *tp, const char *fmt)
{
	const char *const *list = o.fallbacks;
	size_t n = o.nfallbacks, i;
	const char *what = "time format";
	int t;

	if (!fmt) {
		fmt = *list++;
		n--;
		what = "--time-format-fallback";
	}
	tp->type = numeric(fmt);
	tp->tf = time_compile(fmt, o.tz, what);
	tp->fb = xcalloc(n ? n : 1, sizeof(*tp->fb));
	tp->nfb = n;
	for (i = 0; i < n; i++) {
		t = numeric(list[i]);
		tp->fb[i].tf = time_compile(list[i], o.tz,
		    "--time-format-fallback");
		tp->fb[i].unixtime = t == TT_UNIXTIME;
		if (tp->type == TT_STRING && tp->num == TT_STRING)
			tp->num = t;
	}
}

/* Options of the time key that the format does not take. */
static void
check_time_options(int multi)
{
	int fixed = o.format == F_APACHE2 || o.format == F_SYSLOG;

	if (multi)
		return;
	if (o.time_key && (fixed || o.format == F_NONE ||
	    o.format == F_CRI))
		die(EX_USAGE, "--time-key does not apply to --format %s",
		    format_names[o.format]);
	if (o.nfallbacks && fixed)
		die(EX_USAGE, "--time-format-fallback does not apply to "
		    "--format %s", format_names[o.format]);
}

/* The time key: o.time_key in, the option; out, the key or NULL. */
static void
setup_key(void)
{
	static const char *const dflt[F_NFORMATS] = {
		[F_REGEXP] = "time", [F_JSON] = "time", [F_LTSV] = "time",
		[F_LOGFMT] = "time", [F_APACHE] = "time",
		[F_APACHE_ERROR] = "time", [F_NGINX] = "time",
		[F_DOCKER] = "time", [F_MSGPACK] = "time"
	};

	if (o.format == F_APACHE2 || o.format == F_SYSLOG ||
	    o.format == F_NONE || o.format == F_CRI)
		o.time_key = NULL;
	else if (!o.time_key)
		o.time_key = dflt[o.format];
	if (o.time_key && !*o.time_key)
		o.time_key = NULL;
	o.time_key_len = o.time_key ? strlen(o.time_key) : 0;
}

/* How tp reads a time of type tt: fmt (NULL: the format's default). */
static void
setup_parser(struct tparser *tp, const char *fmt, int tt)
{
	if (!fmt && (o.format == F_APACHE || o.format == F_NGINX))
		fmt = TF_APACHE;
	if (!fmt && (o.format == F_CRI || o.format == F_DOCKER))
		fmt = "iso8601";
	tp->type = tt;
	if (tt == TT_UNIXTIME || tt == TT_FLOAT) {
		tp->tf = time_compile(tt == TT_FLOAT ? "float" : "unixtime",
		    NULL, "time type");
	} else if (fmt || o.nfallbacks) {
		if (tt == TT_MIXED || o.nfallbacks)
			setup_mixed(tp, fmt);
		else
			tp->tf = time_compile(fmt, o.tz, "time format");
	} else {
		tp->type = TT_STRING;
		time_need_guess();
	}
}

/*
 * The time key, its type and format, by the format's defaults.  multi:
 * for an alternative of --format multi, where an option the format does
 * not take is no error.
 */
void
time_setup(int multi)
{
	int tt = o.time_type;

	memset(&run.tp_time, 0, sizeof(run.tp_time));
	check_time_options(multi);
	setup_key();
	if (tt < 0)
		tt = (o.format == F_JSON || o.format == F_MSGPACK) &&
		    !o.time_format && !o.nfallbacks ? TT_FLOAT : TT_STRING;
	if (o.nfallbacks && (tt == TT_UNIXTIME || tt == TT_FLOAT))
		die(EX_USAGE, "--time-format-fallback needs --time-type string "
		    "or mixed");
	if (o.format == F_APACHE2) {
		if (!fm.tf_apache)
			fm.tf_apache = time_compile(TF_APACHE, o.tz,
			    "time format");
	} else if (o.format == F_SYSLOG) {
		if (!fm.syslog_ready)
			format_setup_syslog();
	} else if (o.time_key || o.format == F_CRI) {
		setup_parser(&run.tp_time, o.time_format, tt);
	} else if (!multi && (o.time_format || o.time_type >= 0 ||
	    o.nfallbacks)) {
		warn("warning: no time key, so the time format and type are "
		    "not used (see --time-key)");
	}
}

void
time_tparser_free(struct tparser *tp)
{
	size_t i;

	timefmt_free(tp->tf);
	for (i = 0; i < tp->nfb; i++)
		timefmt_free(tp->fb[i].tf);
	free(tp->fb);
	memset(tp, 0, sizeof(*tp));
}

void
time_free(void)
{
	size_t i;

	for (i = 0; i < NGUESS; i++)
		timefmt_free(guess.tf[i]);
	time_tparser_free(&run.tp_time);
}
