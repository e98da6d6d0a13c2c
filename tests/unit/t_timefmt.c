/* t_timefmt - unit tests of common/timefmt*.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "timefmt.h"

#define NOMATCH (-999999999999LL)

struct pcase {
	const char *spec;
	const char *tz;
	const char *text;
	long long sec;		/* NOMATCH: timefmt_parse must fail */
	unsigned nsec;
};

static const struct pcase pcases[] = {
	/* td-agent's default */
	{ "%Y-%m-%d %H:%M:%S,%L", "UTC", "2017-08-18 19:39:39,000",
	    1503085179, 0 },
	{ "%Y-%m-%d %H:%M:%S,%L", "+09:00", "2017-08-18 19:39:39,000",
	    1503052779, 0 },
	{ "%Y-%m-%d %H:%M:%S,%L", "UTC", "2017-08-18 19:39:39,123",
	    1503085179, 123000000 },
	{ "%Y-%m-%d %H:%M:%S,%L", "-05:30", "2017-08-18 19:39:39,999",
	    1503104979, 999000000 },
	{ "%Y-%m-%d %H:%M:%S,%L", "+0900", "2017-08-18 19:39:39,000",
	    1503052779, 0 },
	{ "%Y-%m-%d %H:%M:%S,%L", "+09", "2017-08-18 19:39:39,000",
	    1503052779, 0 },
	{ "%Y-%m-%d %H:%M:%S,%L", "Asia/Tokyo", "2017-08-18 19:39:39,000",
	    1503052779, 0 },
	/* out_stdout's default */
	{ "%Y-%m-%d %H:%M:%S.%N %z", "UTC",
	    "2017-08-16 19:52:03.309664000 +0900", 1502880723, 309664000 },
	/* explicit zones override the configured one */
	{ "%Y-%m-%d %H:%M:%S %z", "+09:00", "2017-08-18 19:39:39 +0000",
	    1503085179, 0 },
	{ "%Y-%m-%d %H:%M:%S %z", "UTC", "2017-08-18 19:39:39 Z",
	    1503085179, 0 },
	{ "%Y-%m-%d %H:%M:%S %z", "UTC", "2017-08-18 19:39:39 -05",
	    1503103179, 0 },
	{ "%Y-%m-%d %H:%M:%S %:z", "UTC", "2017-08-18 19:39:39 +09:00",
	    1503052779, 0 },
	{ "%Y-%m-%d %H:%M:%S %Z", "+09:00", "2017-08-18 19:39:39 UTC",
	    1503085179, 0 },
	{ "%Y-%m-%d %H:%M:%S %Z", "+09:00", "2017-08-18 19:39:39 gmt",
	    1503085179, 0 },
	{ "%Y-%m-%d %H:%M:%S %Z", "UTC", "2017-08-18 19:39:39 JST",
	    NOMATCH, 0 },
	/* iso8601 */
	{ "iso8601", "UTC", "2017-08-18T19:39:39Z", 1503085179, 0 },
	{ "iso8601", "UTC", "2017-08-18t19:39:39z", 1503085179, 0 },
	{ "iso8601", "UTC", "2017-08-18T19:39:39.5+09:00", 1503052779,
	    500000000 },
	{ "iso8601", "UTC", "2017-08-18T19:39:39,123456789-0530",
	    1503104979, 123456789 },
	{ "iso8601", "UTC", "2017-08-18 19:39:39.000001Z", 1503085179,
	    1000 },
	{ "iso8601", "+09:00", "2017-08-18T19:39:39", 1503052779, 0 },
	{ "iso8601", "UTC", "1969-12-31T23:59:59.999Z", -1, 999000000 },
	{ "iso8601", "UTC", "2017-08-18T19:39Z", NOMATCH, 0 },
	{ "iso8601", "UTC", "2017-8-18T19:39:39Z", NOMATCH, 0 },
	{ "iso8601", "UTC", "2017-08-18T19:39:39Zjunk", NOMATCH, 0 },
	{ "iso8601", "UTC", "2017-08-18T19:39:39+09:", NOMATCH, 0 },
	{ "iso8601", "UTC", "2017-08-18T19:39:39.Z", NOMATCH, 0 },
	{ "iso8601", "UTC", "2017-08-18X19:39:39Z", NOMATCH, 0 },
	/* unixtime, float and %s */
	{ "unixtime", NULL, "1503085179", 1503085179, 0 },
	{ "unixtime", NULL, "1503085179.25", 1503085179, 250000000 },
	{ "float", NULL, "1503085179.123456789123", 1503085179, 123456789 },
	{ "float", NULL, "-1.5", -2, 500000000 },
	{ "unixtime", NULL, "-86400", -86400, 0 },
	{ "unixtime", NULL, "", NOMATCH, 0 },
	{ "unixtime", NULL, "12x", NOMATCH, 0 },
	{ "unixtime", NULL, "1.", NOMATCH, 0 },
	{ "float", NULL, "abc", NOMATCH, 0 },
	{ "%s", "+09:00", "1503085179", 1503085179, 0 },
	{ "%s.%3N", "UTC", "1503085179.123", 1503085179, 123000000 },
	{ "%s.%6N", "UTC", "1.000123", 1, 123000 },
	{ "%s.%9N", "UTC", "1.000000007", 1, 7 },
	{ "%s.%N", "UTC", "1.5", 1, 500000000 },
	{ "%s.%N", "UTC", "-1.25", -1, 250000000 },
	{ "%s.%N", "UTC", "1.1234567890", NOMATCH, 0 },
	{ "%s.%L", "UTC", "1.1234", NOMATCH, 0 },
	/* month and day names, 12-hour clock */
	{ "%d/%b/%Y:%H:%M:%S %z", "UTC", "18/Aug/2017:19:39:39 +0900",
	    1503052779, 0 },
	{ "%d/%b/%Y:%H:%M:%S %z", "UTC", "18/AUG/2017:19:39:39 +0900",
	    1503052779, 0 },
	{ "%B %d %Y %H:%M:%S", "UTC", "august 18 2017 19:39:39", 1503085179,
	    0 },
	{ "%b %d %Y %H:%M:%S", "UTC", "August 18 2017 19:39:39", 1503085179,
	    0 },
	{ "%h %d %Y %H:%M:%S", "UTC", "Foo 18 2017 19:39:39", NOMATCH, 0 },
	{ "%a, %d %b %Y %H:%M:%S %z", "UTC",
	    "Fri, 18 Aug 2017 19:39:39 +0900", 1503052779, 0 },
	{ "%A %Y-%m-%d %T", "UTC", "friday 2017-08-18 19:39:39", 1503085179,
	    0 },
	{ "%F %I:%M %p", "UTC", "2017-08-18 12:05 AM", 1503014700, 0 },
	{ "%F %I:%M %p", "UTC", "2017-08-18 12:05 PM", 1503057900, 0 },
	{ "%F %I:%M:%S %p", "UTC", "2017-08-18 07:39:39 pm", 1503085179, 0 },
	{ "%F %l:%M:%S %P", "UTC", "2017-08-18  7:39:39 PM", 1503085179, 0 },
	{ "%F %r", "UTC", "2017-08-18 07:39:39 PM", 1503085179, 0 },
	{ "%F %I:%M %p", "UTC", "2017-08-18 13:05 PM", NOMATCH, 0 },
	/* composite conversions, %y, %j, %e, %k, %% */
	{ "%D %R", "UTC", "08/18/17 19:39", 1503085140, 0 },
	{ "%x %X", "UTC", "08/18/17 19:39:39", 1503085179, 0 },
	{ "%c", "UTC", "Fri Aug 18 19:39:39 2017", 1503085179, 0 },
	{ "%y%m%d%H%M%S", "UTC", "170818193939", 1503085179, 0 },
	{ "%y-%m-%d", "UTC", "69-12-31", -86400, 0 },
	{ "%C%y-%m-%d", "UTC", "2017-08-18", 1503014400, 0 },
	{ "%Y %j", "UTC", "2024 060", 1709164800, 0 },
	{ "%Y %j", "UTC", "2023 366", NOMATCH, 0 },
	{ "%Y %j", "UTC", "2023 367", NOMATCH, 0 },
	{ "%Y-%m-%e %k:%M", "UTC", "2017-08- 8  9:05", 1502183100, 0 },
	{ "%Y%%%m%%%d", "UTC", "2017%08%18", 1503014400, 0 },
	/* whitespace in the format matches zero or more */
	{ "%Y-%m-%d %H:%M", "UTC", "2017-08-18 \t 19:39", 1503085140, 0 },
	{ "%Y-%m-%d %H:%M", "UTC", "2017-08-1819:39", 1503085140, 0 },
	{ "%Y-%m-%d%n%H:%M%t", "UTC", "2017-08-18\n19:39 ", 1503085140, 0 },
	/* calendar edges */
	{ "%F %T", "UTC", "2024-02-29 00:00:00", 1709164800, 0 },
	{ "%F %T", "UTC", "2023-02-29 00:00:00", NOMATCH, 0 },
	{ "%F %T", "UTC", "2024-02-30 00:00:00", NOMATCH, 0 },
	{ "%F %T", "UTC", "2024-04-31 00:00:00", NOMATCH, 0 },
	{ "%F %T", "UTC", "1969-12-31 23:59:59", -1, 0 },
	{ "%F %T", "UTC", "1900-01-01 00:00:00", -2208988800LL, 0 },
	{ "%F %T", "+09:00", "1970-01-01 00:00:00", -32400, 0 },
	{ "%F %T", "UTC", "2016-12-31 23:59:60", 1483228800, 0 },
	/* no match */
	{ "%F %T", "UTC", "2017-08-18 19:39", NOMATCH, 0 },
	{ "%F %T", "UTC", "2017-08-18 19:39:39x", NOMATCH, 0 },
	{ "%F %T", "UTC", "2017-08-18 19:39:39 ", NOMATCH, 0 },
	{ "%F %T", "UTC", "2017-13-18 19:39:39", NOMATCH, 0 },
	{ "%F %T", "UTC", "2017-00-18 19:39:39", NOMATCH, 0 },
	{ "%F %T", "UTC", "2017-08-18 24:00:00", NOMATCH, 0 },
	{ "%F %T", "UTC", "2017-08-18 19:60:00", NOMATCH, 0 },
	{ "%F %T", "UTC", "2017/08/18 19:39:39", NOMATCH, 0 },
	{ "%F %T", "UTC", "", NOMATCH, 0 },
	{ "%Y-%m-%d %H:%M:%S,%L", "UTC", "2017-08-18 19:39:39,", NOMATCH, 0 },
	{ "%Y-%m-%d %H:%M:%S,%L", "UTC", "2017-08-18 19:39:39.000",
	    NOMATCH, 0 },
};

struct fcase {
	const char *spec;
	const char *tz;
	long long sec;
	unsigned nsec;
	const char *want;
};

static const struct fcase fcases[] = {
	{ "%Y-%m-%d %H:%M:%S.%N %z", "+09:00", 1502880723, 309664000,
	    "2017-08-16 19:52:03.309664000 +0900" },
	{ "%Y-%m-%d %H:%M:%S.%N %z", "UTC", 1502880723, 309664000,
	    "2017-08-16 10:52:03.309664000 +0000" },
	{ "%Y-%m-%d %H:%M:%S,%L", "UTC", 1503085179, 123999999,
	    "2017-08-18 19:39:39,123" },
	{ "%FT%T.%3N|%6N|%9N %:z", "-05:30", 1503104979, 1234567,
	    "2017-08-18T19:39:39.001|001234|001234567 -05:30" },
	{ "iso8601", "UTC", 1503085179, 5,
	    "2017-08-18T19:39:39.000000005+00:00" },
	{ "iso8601", "+09:00", 1503052779, 0,
	    "2017-08-18T19:39:39.000000000+09:00" },
	{ "%Z %z", "UTC", 0, 0, "UTC +0000" },
	{ "%Z", "+09:00", 0, 0, "+09:00" },
	{ "%s %s.%L", "+09:00", -5, 250000000, "-5 -5.250" },
	{ "%a %A %b %B %e %j %p %I %y %%", "UTC", 1503085179, 0,
	    "Fri Friday Aug August 18 230 PM 07 17 %" },
	{ "%F %T", "UTC", -1, 0, "1969-12-31 23:59:59" },
	{ "%F %T", "UTC", -2208988800LL, 0, "1900-01-01 00:00:00" },
	{ "%F", "UTC", 1709164800, 0, "2024-02-29" },
	{ "unixtime", NULL, 1503085179, 999, "1503085179" },
	{ "unixtime", NULL, -5, 0, "-5" },
	{ "float", NULL, 1503085179, 5, "1503085179.000000005" },
	{ "float", NULL, -2, 500000000, "-1.500000000" },
	{ "float", NULL, -2, 0, "-2.000000000" },
	{ "%F %T %z %Z", "America/New_York", 1615705199, 0,
	    "2021-03-14 01:59:59 -0500 EST" },
	{ "%F %T %z %Z", "America/New_York", 1615705200, 0,
	    "2021-03-14 03:00:00 -0400 EDT" },
	{ "%F %T %:z", "America/New_York", 1636263000, 0,
	    "2021-11-07 01:30:00 -04:00" },
	{ "%F %T %:z", "America/New_York", 1636266600, 0,
	    "2021-11-07 01:30:00 -05:00" },
	{ "%F %T %z", "Asia/Tokyo", 1503052779, 0,
	    "2017-08-18 19:39:39 +0900" },
};

static struct timefmt *
mk(const char *spec, const char *tz)
{
	const char *err = "";
	struct timefmt *tf;

	tf = timefmt_new(spec, tz, &err);
	if (tf == NULL)
		printf("# timefmt_new(\"%s\", \"%s\"): %s\n", spec,
		    tz ? tz : "(local)", err);
	return tf;
}

static void
check_parse(const struct pcase *c)
{
	struct timefmt *tf = mk(c->spec, c->tz);
	int64_t sec = 0;
	uint32_t nsec = 0;
	int r = -2, pass;
	char name[64], *p;

	if (tf)
		r = timefmt_parse(tf, c->text, strlen(c->text), &sec, &nsec);
	if (c->sec == NOMATCH)
		pass = r == -1;
	else
		pass = r == 0 && sec == c->sec && nsec == c->nsec;
	snprintf(name, sizeof name, "%s", c->text);
	for (p = name; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = '?';
	ok(pass, "parse \"%s\" with \"%s\" in %s", name, c->spec,
	    c->tz ? c->tz : "local");
	if (!pass)
		printf("#   got %d %lld.%09u\n", r, (long long)sec,
		    (unsigned)nsec);
	timefmt_free(tf);
}

static void
check_format(const struct fcase *c)
{
	struct timefmt *tf = mk(c->spec, c->tz);
	char out[256];
	size_t n = 0;

	if (tf)
		n = timefmt_format(tf, c->sec, c->nsec, out, sizeof out);
	is_mem(out, n, c->want, strlen(c->want), "format %lld.%09u with "
	    "\"%s\" in %s", c->sec, c->nsec, c->spec, c->tz ? c->tz : "local");
	timefmt_free(tf);
}

/* Format, then parse back; digits is the precision the format keeps. */
static void
round_trip(const char *spec, const char *tz, int digits)
{
	static const long long secs[] = {
		0, 1503085179, 1709164800, -1, -2208988800LL, 951782399,
		4102444799LL, 1615705199, 1615705200, 1636259400
	};
	static const uint32_t nsecs[] = { 0, 999999999, 123456789 };
	struct timefmt *tf = mk(spec, tz);
	char out[256];
	size_t i, j, n, bad = 0;
	int64_t sec;
	uint32_t nsec, want, unit = 1;

	for (i = (size_t)digits; i < 9; i++)
		unit *= 10;
	for (i = 0; tf && i < sizeof secs / sizeof secs[0]; i++)
		for (j = 0; j < sizeof nsecs / sizeof nsecs[0]; j++) {
			want = nsecs[j] / unit * unit;
			n = timefmt_format(tf, secs[i], nsecs[j], out,
			    sizeof out);
			if (n == 0 || timefmt_parse(tf, out, n, &sec,
			    &nsec) < 0 || sec != secs[i] || nsec != want) {
				printf("#   %lld.%09u -> [%.*s]\n", secs[i],
				    (unsigned)nsecs[j], (int)n, out);
				bad++;
			}
		}
	ok(tf && bad == 0, "round trip \"%s\" in %s", spec, tz);
	timefmt_free(tf);
}

/* The offset mktime(3) picks for a local time, the reference for DST. */
static long long
mktime_ref(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	return (long long)mktime(&tm);
}

static void
test_dst(void)
{
	static const struct pcase ny[] = {
		{ 0, 0, "2021-03-13 12:00:00", 1615654800, 0 },
		{ 0, 0, "2021-03-14 01:59:59", 1615705199, 0 },
		{ 0, 0, "2021-03-14 03:00:00", 1615705200, 0 },
		{ 0, 0, "2021-03-14 12:00:00", 1615737600, 0 },
		{ 0, 0, "2021-11-07 00:30:00", 1636259400, 0 },
		{ 0, 0, "2021-11-07 02:30:00", 1636270200, 0 },
		{ 0, 0, "2021-11-07 00:30:00", 1636259400, 0 },
		{ 0, 0, "2021-03-14 01:00:00", 1615701600, 0 },
	};
	struct timefmt *tf = mk("%F %T", "America/New_York");
	int64_t sec = 0;
	uint32_t nsec;
	size_t i;
	int r;

	for (i = 0; tf && i < sizeof ny / sizeof ny[0]; i++) {
		r = timefmt_parse(tf, ny[i].text, strlen(ny[i].text), &sec,
		    &nsec);
		ok(r == 0 && sec == ny[i].sec, "New York %s", ny[i].text);
	}
	/* Nonexistent and ambiguous local times: what mktime picks. */
	r = timefmt_parse(tf, "2021-03-14 02:30:00", 19, &sec, &nsec);
	is_int(sec, mktime_ref(2021, 3, 14, 2, 30, 0), "New York 02:30 "
	    "in the spring gap");
	r = timefmt_parse(tf, "2021-11-07 01:30:00", 19, &sec, &nsec);
	ok(r == 0 && (sec == 1636263000 || sec == 1636266600),
	    "New York 01:30 in the autumn overlap");
	is_int(sec, mktime_ref(2021, 11, 7, 1, 30, 0), "... as mktime picks");
	timefmt_free(tf);
	/* tz NULL is the process's TZ */
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	tf = mk("%F %T", NULL);
	r = tf ? timefmt_parse(tf, "2017-08-18 19:39:39", 19, &sec, &nsec) :
	    -1;
	ok(r == 0 && sec == 1503052779, "local time from TZ=Asia/Tokyo");
	timefmt_free(tf);
}

static void
test_cache(void)
{
	struct timefmt *tf = mk("%Y-%m-%d %H:%M:%S.%N %z|%L", "+09:00");
	char out[64];
	size_t n;

	n = timefmt_format(tf, 1502880723, 309664000, out, sizeof out);
	is_mem(out, n, "2017-08-16 19:52:03.309664000 +0900|309", 39,
	    "format a new second");
	n = timefmt_format(tf, 1502880723, 1, out, sizeof out);
	is_mem(out, n, "2017-08-16 19:52:03.000000001 +0900|000", 39,
	    "same second, other nsec");
	n = timefmt_format(tf, 1502880723, 999999999, out, sizeof out);
	is_mem(out, n, "2017-08-16 19:52:03.999999999 +0900|999", 39,
	    "same second again");
	n = timefmt_format(tf, 1502880724, 5000000, out, sizeof out);
	is_mem(out, n, "2017-08-16 19:52:04.005000000 +0900|005", 39,
	    "the next second");
	is_int(timefmt_format(tf, 1502880724, 0, out, 38), 0,
	    "cap too small gives 0");
	is_int(timefmt_format(tf, 1502880724, 0, out, 39), 39,
	    "cap just large enough");
	is_int(timefmt_format(tf, 1502880725, 0, out, 10), 0,
	    "cap too small on a new second");
	n = timefmt_format(tf, 1502880725, 0, out, sizeof out);
	is_mem(out, n, "2017-08-16 19:52:05.000000000 +0900|000", 39,
	    "then formats it");
	timefmt_free(tf);
	tf = mk("float", NULL);
	is_int(timefmt_format(tf, 1, 0, out, 5), 0, "float cap too small");
	timefmt_free(tf);
}

static void
bad_spec(const char *spec, const char *tz, const char *want)
{
	const char *err = NULL;
	struct timefmt *tf = timefmt_new(spec, tz, &err);

	ok(tf == NULL && err && strcmp(err, want) == 0,
	    "\"%s\" in %s: %s", spec, tz ? tz : "local", want);
	if (tf || !err || strcmp(err, want))
		printf("#   got %s\n", err ? err : "(no message)");
	timefmt_free(tf);
}

static void
test_bad(void)
{
	bad_spec("%Q", "UTC", "unknown conversion in time format");
	bad_spec("%Y-%m-%d %5H", "UTC", "unknown conversion in time format");
	bad_spec("%:S", "UTC", "unknown conversion in time format");
	bad_spec("%12N", "UTC", "unknown conversion in time format");
	bad_spec("%Y%", "UTC", "time format ends with a lone %");
	bad_spec("", "UTC", "empty time format");
	bad_spec("%F", "Mars/Olympus", "unknown time zone");
	bad_spec("%F", "../../etc/passwd", "unknown time zone");
	bad_spec("%F", "Asia", "unknown time zone");
	bad_spec("%F", "+25:00", "invalid time zone offset");
	bad_spec("%F", "+09:0", "invalid time zone offset");
	bad_spec("%F", "+09:00x", "invalid time zone offset");
}

/* A format without a year takes the current one, as Ruby does. */
static void
test_no_year(void)
{
	struct timefmt *a = mk("%b %e %H:%M:%S", "UTC");
	struct timefmt *b = mk("%Y %b %e %H:%M:%S", "UTC");
	char text[64];
	time_t now = time(NULL);
	struct tm tm;
	int64_t s1 = 0, s2 = 1;
	uint32_t ns;

	gmtime_r(&now, &tm);
	snprintf(text, sizeof text, "%d Aug  8 19:39:39", tm.tm_year + 1900);
	timefmt_parse(a, text + 5, strlen(text + 5), &s1, &ns);
	timefmt_parse(b, text, strlen(text), &s2, &ns);
	ok(s1 == s2, "syslog time takes this year");
	timefmt_free(a);
	timefmt_free(b);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof pcases / sizeof pcases[0]; i++)
		check_parse(&pcases[i]);
	for (i = 0; i < sizeof fcases / sizeof fcases[0]; i++)
		check_format(&fcases[i]);
	round_trip("%Y-%m-%d %H:%M:%S.%N %z", "+09:00", 9);
	round_trip("%Y-%m-%d %H:%M:%S,%L", "UTC", 3);
	round_trip("%d/%b/%Y:%H:%M:%S %z", "-05:30", 0);
	round_trip("%FT%T.%6N%:z", "America/New_York", 6);
	round_trip("%a %B %e %Y %I:%M:%S %p %Z", "UTC", 0);
	round_trip("%Y%j %T.%3N", "Asia/Tokyo", 3);
	round_trip("%s.%N", "Asia/Tokyo", 9);
	round_trip("%c", "UTC", 0);
	round_trip("iso8601", "UTC", 9);
	round_trip("iso8601", "America/New_York", 9);
	round_trip("unixtime", NULL, 0);
	round_trip("float", NULL, 9);
	test_dst();
	test_cache();
	test_bad();
	test_no_year();
	return done_testing();
}
