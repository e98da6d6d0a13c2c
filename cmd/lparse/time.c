/* time - lparse's time key: its format and type; guessing a time's format */
#include <stdint.h>
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

/* Compiles a time format, dying with EX_USAGE naming what. */
struct timefmt *
time_compile(const char *spec, const char *tz, const char *what)
{
	struct timefmt *tf;
	const char *err;

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

/* The time key, its type and format, by the format's defaults. */
void
time_setup(void)
{
	static const char *const dflt[F_NONE + 1] = {
		[F_REGEXP] = "time", [F_JSON] = "time", [F_LTSV] = "time",
		[F_LOGFMT] = "time", [F_APACHE] = "time",
		[F_APACHE_ERROR] = "time", [F_NGINX] = "time"
	};
	struct tparser *tp = &run.tp_time;
	const char *fmt = o.time_format;
	int tt = o.time_type;

	if (o.time_key && (o.format == F_APACHE2 || o.format == F_SYSLOG ||
	    o.format == F_NONE))
		die(EX_USAGE, "--time-key does not apply to --format %s",
		    format_names[o.format]);
	if (!o.time_key)
		o.time_key = dflt[o.format];
	if (o.time_key && !*o.time_key)
		o.time_key = NULL;
	o.time_key_len = o.time_key ? strlen(o.time_key) : 0;
	if (!fmt && (o.format == F_APACHE || o.format == F_NGINX))
		fmt = TF_APACHE;
	if (tt < 0)
		tt = o.format == F_JSON && !o.time_format ? TT_FLOAT :
		    TT_STRING;
	tp->type = tt;
	if (o.format == F_APACHE2)
		fm.tf_apache = time_compile(TF_APACHE, o.tz, "time format");
	else if (o.format == F_SYSLOG)
		format_setup_syslog();
	else if (!o.time_key) {
		if (o.time_format || o.time_type >= 0)
			warn("warning: no time key, so the time format and "
			    "type are not used (see --time-key)");
		return;
	}
	else if (tt != TT_STRING)
		tp->tf = time_compile(tt == TT_FLOAT ? "float" : "unixtime",
		    NULL, "time type");
	else if (fmt)
		tp->tf = time_compile(fmt, o.tz, "time format");
	else
		time_need_guess();
}

void
time_free(void)
{
	size_t i;

	for (i = 0; i < NGUESS; i++)
		timefmt_free(guess.tf[i]);
	timefmt_free(run.tp_time.tf);
}
