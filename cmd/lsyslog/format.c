/* format - lsyslog's messages: a record as RFC 5424 or RFC 3164, framed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "mp.h"
#include "recpath.h"
#include "timefmt.h"

#include "lsyslog.h"

/* RFC 5424's longest header fields */
#define HOST_MAX 255
#define APP_MAX 48
#define PROCID_MAX 128
#define MSGID_MAX 32
#define SDNAME_MAX 32
#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define SHOW_MAX 10             /* invalid values and truncations said */

/* Bytes a 3164 TAG or PID may not hold: they end it for parsers. */
#define TAG_BAD ":[]"
#define SDNAME_BAD "= ]\""

struct level {
	const char *name;
	int v;
};

static const struct level severities[] = {
	{ "emerg", 0 }, { "emergency", 0 }, { "panic", 0 }, { "alert", 1 },
	{ "crit", 2 }, { "critical", 2 }, { "fatal", 2 }, { "err", 3 },
	{ "error", 3 }, { "warning", 4 }, { "warn", 4 }, { "notice", 5 },
	{ "info", 6 }, { "informational", 6 }, { "debug", 7 }, { "trace", 7 },
	{ NULL, 0 }
};

static const struct level facilities[] = {
	{ "kern", 0 }, { "user", 1 }, { "mail", 2 }, { "daemon", 3 },
	{ "auth", 4 }, { "security", 4 }, { "syslog", 5 }, { "lpr", 6 },
	{ "news", 7 }, { "uucp", 8 }, { "cron", 9 }, { "authpriv", 10 },
	{ "ftp", 11 }, { "ntp", 12 }, { "audit", 13 }, { "alert", 14 },
	{ "clock", 15 }, { "local0", 16 }, { "local1", 17 }, { "local2", 18 },
	{ "local3", 19 }, { "local4", 20 }, { "local5", 21 }, { "local6", 22 },
	{ "local7", 23 }, { NULL, 0 }
};

enum { K_MSG, K_SEV, K_FAC, K_HOST, K_APP, K_PROCID, K_MSGID, NKEYS };

static const char *const key_names[NKEYS] = {
	"message", "severity", "facility", "hostname", "appname", "procid",
	"msgid"
};

static struct recpath keys[NKEYS];
static int have[NKEYS];
static struct recpath sd[MAX_SD];
static struct timefmt *tf;
static char host[HOST_MAX + 1];
static char app[APP_MAX + 1];           /* the default APP-NAME of last_tag */
static size_t app_len;
static struct buf last_tag, msg, text;
static uint64_t shown;

/* A number (0 to max) or a name of the table, any case; else -1. */
static int
level(const struct level *t, int max, const char *s, size_t n)
{
	size_t i;
	int v = 0;

	if (n == 0)
		return -1;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == n) {
		for (i = 0; i < n && v <= max; i++)
			v = v * 10 + (s[i] - '0');
		return v <= max ? v : -1;
	}
	for (; t->name; t++)
		if (strlen(t->name) == n && strncasecmp(t->name, s, n) == 0)
			return t->v;
	return -1;
}

int
format_severity(const char *s, size_t n)
{
	return level(severities, 7, s, n);
}

int
format_facility(const char *s, size_t n)
{
	return level(facilities, 23, s, n);
}

/* Whether s[0..n) is 1 to max bytes of printable ASCII, none of bad. */
static int
field_ok(const char *s, size_t n, size_t max, const char *bad)
{
	size_t i;
	int c;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 33 || c > 126 || (bad && strchr(bad, c)))
			return 0;
	}
	return 1;
}

/* Says (the first few times) that a value was replaced, and counts it. */
static void
say_invalid(const char *what, const char *s, size_t n)
{
	char show[48];
	size_t i, k;

	cnt.invalid++;
	if (shown >= SHOW_MAX) {
		if (shown++ == SHOW_MAX)
			warn("further invalid values and truncations are "
			    "counted, not shown");
		return;
	}
	shown++;
	for (i = k = 0; i < n && k < 32; i++)
		show[k++] = s[i] >= 32 && s[i] < 127 ? s[i] : '?';
	if (i < n)
		k += (size_t)snprintf(show + k, sizeof(show) - k, "...");
	show[k] = '\0';
	warn("event %llu: invalid %s '%s': the default used",
	    (unsigned long long)cnt.in, what, show);
}

/*
 * The text of field k of the record into text: 1, or 0 if it is absent.
 * *scalar says whether it was a str, bin or integer (others give their
 * JSON, for messages).
 */
static int
field(int k, const struct event *ev, int *scalar)
{
	const char *v, *p;
	struct mp_obj h;
	size_t vlen;

	if (!have[k] || !recpath_get(&keys[k], ev->rec, ev->rec + ev->rec_len,
	    &v, &vlen))
		return 0;
	text.len = 0;
	p = v;
	*scalar = mp_head(&p, v + vlen, &h) == MP_OK && (h.type == MP_STR ||
	    h.type == MP_BIN || h.type == MP_UINT || h.type == MP_INT);
	recpath_to_s(&text, v, v + vlen);
	return 1;
}

/* The severity or facility of the record, or def (an invalid one said). */
static int
pick_level(const struct event *ev, int k, int def)
{
	int scalar, v;

	if (!field(k, ev, &scalar))
		return def;
	v = k == K_SEV ? format_severity(text.p, text.len) :
	    format_facility(text.p, text.len);
	if (scalar && v >= 0)
		return v;
	say_invalid(key_names[k], text.p, text.len);
	return def;
}

/*
 * Sets *s, *n to header field k of the record if it has a valid one (an
 * invalid one is said); they keep the default otherwise.  The text lives
 * until the next call.
 */
static void
get_field(const struct event *ev, int k, size_t max, const char *bad,
    const char **s, size_t *n)
{
	int scalar;

	if (!field(k, ev, &scalar))
		return;
	if (scalar && field_ok(text.p, text.len, max, bad)) {
		*s = text.p;
		*n = text.len;
		return;
	}
	say_invalid(key_names[k], text.p, text.len);
}

/* The default APP-NAME: --appname, else the tag made fit for one. */
static void
app_default(const struct event *ev, const char **s, size_t *n)
{
	const char *bad = o.format == F_3164 ? TAG_BAD : "";
	size_t i;
	int c;

	if (o.appname) {
		*s = o.appname;
		*n = strlen(o.appname);
		return;
	}
	if (!last_tag.p || last_tag.len != ev->tag_len ||
	    memcmp(last_tag.p, ev->tag, ev->tag_len) != 0) {
		last_tag.len = 0;
		buf_put(&last_tag, ev->tag, ev->tag_len);
		app_len = ev->tag_len < APP_MAX ? ev->tag_len : APP_MAX;
		for (i = 0; i < app_len; i++) {
			c = (unsigned char)ev->tag[i];
			app[i] = c < 33 || c > 126 || strchr(bad, c) ? '_' : c;
		}
		if (!app_len)
			app[app_len++] = '-';
	}
	*s = app;
	*n = app_len;
}

/* The event time: RFC 3339 in UTC with microseconds, or Mmm dd hh:mm:ss. */
static void
put_time(const struct event *ev)
{
	int64_t sec = ev->sec;
	uint32_t nsec = ev->nsec;
	char num[32];
	size_t n = 0;

	buf_reserve(&msg, 64);
	if (sec >= 0 && sec <= TIME_MAX)
		n = timefmt_format(tf, sec, nsec, msg.p + msg.len, 64);
	if (n) {
		msg.len += n;
		return;
	}
	snprintf(num, sizeof(num), "%lld", (long long)sec);
	say_invalid("time", num, strlen(num));
	if (o.format == F_5424) {
		buf_putc(&msg, '-');
		return;
	}
	event_now(&sec, &nsec);
	msg.len += timefmt_format(tf, sec, nsec, msg.p + msg.len, 64);
}

/* A PARAM-VALUE: '"', '\' and ']' escaped with a '\'. */
static void
put_param_value(const char *v, const char *end)
{
	size_t i;

	text.len = 0;
	recpath_to_s(&text, v, end);
	buf_putc(&msg, '"');
	for (i = 0; i < text.len; i++) {
		if (text.p[i] == '"' || text.p[i] == '\\' || text.p[i] == ']')
			buf_putc(&msg, '\\');
		buf_putc(&msg, text.p[i]);
	}
	buf_putc(&msg, '"');
}

/* The SD-ELEMENT of --sd-key i: [KEY name="value"...], if it is a map. */
static void
put_sd_element(const struct event *ev, int i)
{
	const char *v, *p, *end, *kp;
	struct mp_obj m, k;
	size_t vlen;
	uint32_t j;

	if (!recpath_get(&sd[i], ev->rec, ev->rec + ev->rec_len, &v, &vlen))
		return;
	p = v;
	end = v + vlen;
	if (mp_head(&p, end, &m) != MP_OK || m.type != MP_MAP) {
		text.len = 0;
		recpath_to_s(&text, v, end);
		say_invalid("structured data (not a map)", text.p, text.len);
		return;
	}
	buf_putc(&msg, '[');
	buf_puts(&msg, o.sd_keys[i]);
	for (j = 0; j < m.v.n; j++) {
		kp = p;
		mp_skip(&p, end, NULL);
		v = p;
		mp_skip(&p, end, NULL);
		if (mp_head(&kp, end, &k) != MP_OK || (k.type != MP_STR &&
		    k.type != MP_BIN) || !field_ok(k.data, k.len, SDNAME_MAX,
		    SDNAME_BAD)) {
			text.len = 0;
			recpath_to_s(&text, kp, v);
			say_invalid("structured data name", text.p, text.len);
			continue;
		}
		buf_putc(&msg, ' ');
		buf_put(&msg, k.data, k.len);
		buf_putc(&msg, '=');
		put_param_value(v, p);
	}
	buf_putc(&msg, ']');
}

/* The text: field --message-key, or the record as JSON without one. */
static void
put_message(const struct event *ev)
{
	const char *v, *p;
	struct mp_obj h;
	size_t vlen, from = msg.len, i;

	if (recpath_get(&keys[K_MSG], ev->rec, ev->rec + ev->rec_len, &v,
	    &vlen)) {
		p = v;
		if (mp_head(&p, v + vlen, &h) == MP_OK && (h.type == MP_STR ||
		    h.type == MP_BIN)) {
			buf_put(&msg, h.data, h.len);
		} else {
			p = v;
			json_from_mp(&msg, &p, v + vlen);
		}
	} else {
		p = ev->rec;
		json_from_mp(&msg, &p, ev->rec + ev->rec_len);
	}
	/* a line's end is not part of the message */
	while (msg.len > from && (msg.p[msg.len - 1] == '\n' ||
	    msg.p[msg.len - 1] == '\r'))
		msg.len--;
	if (o.framing == FR_NEWLINE)
		for (i = from; i < msg.len; i++)
			if (msg.p[i] == '\n')
				msg.p[i] = ' ';
}

static void
put_5424(const struct event *ev)
{
	const char *s;
	size_t n, before;
	int i;

	buf_put(&msg, "1 ", 2);
	put_time(ev);
	s = host;
	n = strlen(host);
	get_field(ev, K_HOST, HOST_MAX, NULL, &s, &n);
	buf_putc(&msg, ' ');
	buf_put(&msg, s, n);
	app_default(ev, &s, &n);
	get_field(ev, K_APP, APP_MAX, NULL, &s, &n);
	buf_putc(&msg, ' ');
	buf_put(&msg, s, n);
	s = "-";
	n = 1;
	get_field(ev, K_PROCID, PROCID_MAX, NULL, &s, &n);
	buf_putc(&msg, ' ');
	buf_put(&msg, s, n);
	s = "-";
	n = 1;
	get_field(ev, K_MSGID, MSGID_MAX, NULL, &s, &n);
	buf_putc(&msg, ' ');
	buf_put(&msg, s, n);
	buf_putc(&msg, ' ');
	before = msg.len;
	for (i = 0; i < o.nsd; i++)
		put_sd_element(ev, i);
	if (msg.len == before)
		buf_putc(&msg, '-');
	buf_putc(&msg, ' ');
	before = msg.len;
	put_message(ev);
	if (msg.len == before)
		msg.len--;      /* no MSG: no space before it */
}

static void
put_3164(const struct event *ev)
{
	const char *s = NULL;
	size_t n;

	put_time(ev);
	s = host;
	n = strlen(host);
	get_field(ev, K_HOST, HOST_MAX, NULL, &s, &n);
	buf_putc(&msg, ' ');
	buf_put(&msg, s, n);
	app_default(ev, &s, &n);
	get_field(ev, K_APP, APP_MAX, TAG_BAD, &s, &n);
	buf_putc(&msg, ' ');
	buf_put(&msg, s, n);
	n = 0;
	get_field(ev, K_PROCID, PROCID_MAX, TAG_BAD, &s, &n);
	if (n) {
		buf_putc(&msg, '[');
		buf_put(&msg, s, n);
		buf_putc(&msg, ']');
	}
	buf_put(&msg, ": ", 2);
	put_message(ev);
}

/*
 * Cuts the message to --max-size, not inside a UTF-8 sequence (when the
 * bytes there are UTF-8); said the first few times and counted.
 */
static void
truncate_msg(void)
{
	size_t cut = o.max_size, was = msg.len;
	const unsigned char *p = (const unsigned char *)msg.p;
	int k;

	if (!cut || msg.len <= cut)
		return;
	for (k = 0; k < 3 && cut > 0 && (p[cut] & 0xc0) == 0x80; k++)
		cut--;
	if (k && p[cut] < 0xc0)
		cut = o.max_size;       /* not UTF-8: cut anywhere */
	msg.len = cut;
	cnt.truncated++;
	if (shown < SHOW_MAX)
		warn("event %llu: a message of %zu bytes cut to %zu "
		    "(--max-size)", (unsigned long long)cnt.in, was, cut);
	else if (shown == SHOW_MAX)
		warn("further invalid values and truncations are counted, "
		    "not shown");
	shown++;
}

/* Appends the event's message to out, framed for the transport. */
void
format_event(const struct event *ev, struct buf *out)
{
	int pri = pick_level(ev, K_FAC, o.facility) * 8 +
	    pick_level(ev, K_SEV, o.severity);
	char head[32];

	msg.len = 0;
	buf_putc(&msg, '<');
	buf_put(&msg, head, (size_t)snprintf(head, sizeof(head), "%d", pri));
	buf_putc(&msg, '>');
	if (o.format == F_5424)
		put_5424(ev);
	else
		put_3164(ev);
	truncate_msg();
	if (o.framing == FR_OCTET)
		buf_put(out, head, (size_t)snprintf(head, sizeof(head), "%zu ",
		    msg.len));
	buf_put(out, msg.p, msg.len);
	if (o.framing == FR_NEWLINE)
		buf_putc(out, '\n');
}

static void
compile_key(struct recpath *rp, const char *key, const char *opt)
{
	const char *err;

	if (recpath_parse(rp, key, &err) < 0)
		die(EX_USAGE, "bad field name '%s' for --%s: %s", key, opt, err);
}

/* The values given on the command line, checked as fields of a header. */
static void
check_options(void)
{
	int i;

	if (o.hostname && !field_ok(o.hostname, strlen(o.hostname), HOST_MAX,
	    NULL))
		die(EX_USAGE, "bad --hostname '%s': want 1 to %d printable "
		    "ASCII characters, no space", o.hostname, HOST_MAX);
	if (o.appname && !field_ok(o.appname, strlen(o.appname), APP_MAX,
	    o.format == F_3164 ? TAG_BAD : NULL))
		die(EX_USAGE, "bad --appname '%s': want 1 to %d printable "
		    "ASCII characters, no space%s", o.appname, APP_MAX,
		    o.format == F_3164 ? ", ':', '[' or ']'" : "");
	for (i = 0; i < o.nsd; i++)
		if (!field_ok(o.sd_keys[i], strlen(o.sd_keys[i]), SDNAME_MAX,
		    SDNAME_BAD))
			die(EX_USAGE, "bad --sd-key '%s': an SD-ID is 1 to %d "
			    "printable ASCII characters, no space, '=', ']' "
			    "or '\"'", o.sd_keys[i], SDNAME_MAX);
}

void
format_init(void)
{
	const char *names[NKEYS] = { o.message_key, o.severity_key,
		o.facility_key, o.hostname_key, o.appname_key, o.procid_key,
		o.msgid_key };
	const char *err;
	int k;

	check_options();
	for (k = 0; k < NKEYS; k++) {
		if (!names[k])
			continue;
		compile_key(&keys[k], names[k], k == K_MSG ? "message-key" :
		    k == K_SEV ? "severity-key" : k == K_FAC ? "facility-key" :
		    k == K_HOST ? "hostname-key" : k == K_APP ? "appname-key" :
		    k == K_PROCID ? "procid-key" : "msgid-key");
		have[k] = 1;
	}
	for (k = 0; k < o.nsd; k++)
		compile_key(&sd[k], o.sd_keys[k], "sd-key");
	if (o.format == F_5424)
		tf = timefmt_new("%Y-%m-%dT%H:%M:%S.%6NZ", "UTC", &err);
	else
		tf = timefmt_new("%b %e %H:%M:%S", NULL, &err);
	if (!tf)
		die(EX_SYS, "unable to set up the time format: %s", err);
	if (o.hostname)
		snprintf(host, sizeof(host), "%s", o.hostname);
	else if (gethostname(host, sizeof(host) - 1) < 0 ||
	    !field_ok(host, strnlen(host, sizeof(host) - 1), HOST_MAX, NULL))
		snprintf(host, sizeof(host), "%s", o.format == F_5424 ? "-" :
		    "localhost");
	host[HOST_MAX] = '\0';
}

void
format_free(void)
{
	int k;

	for (k = 0; k < NKEYS; k++)
		if (have[k])
			recpath_free(&keys[k]);
	for (k = 0; k < o.nsd; k++)
		recpath_free(&sd[k]);
	timefmt_free(tf);
	buf_free(&last_tag);
	buf_free(&msg);
	buf_free(&text);
}
