/* container - the lines of container log files: CRI and Docker json-file */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "container.h"
#include "json.h"
#include "mp.h"
#include "timefmt.h"

/* n decimal digits at s, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

static int
mdays(int y, int m)
{
	static const unsigned char dm[] = { 31, 28, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* The zone at s[0..n): its offset east of UTC in seconds, or -1 bad. */
static int
zone(const char *s, size_t n, long *off)
{
	int h, m;

	*off = 0;
	if (n == 0 || (n == 1 && (*s == 'Z' || *s == 'z')))
		return 0;
	if (*s != '+' && *s != '-')
		return -1;
	if (n == 6 && s[3] == ':') {
		h = digits(s + 1, 2);
		m = digits(s + 4, 2);
	} else if (n == 5) {
		h = digits(s + 1, 2);
		m = digits(s + 3, 2);
	} else {
		return -1;
	}
	if (h < 0 || m < 0 || h > 23 || m > 59)
		return -1;
	*off = (h * 60L + m) * 60 * (*s == '-' ? -1 : 1);
	return 0;
}

int
cont_time(const char *s, size_t n, int64_t *sec, uint32_t *nsec)
{
	int y, mo, d, h, mi, se;
	uint32_t ns = 0, scale = 100000000;
	size_t i = 19;
	long off;

	if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' &&
	    s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	if (i < n && s[i] == '.') {
		if (++i == n || s[i] < '0' || s[i] > '9')
			return -1;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			ns += (uint32_t)(s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (zone(s + i, n - i, &off) < 0)
		return -1;
	*sec = timefmt_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	    off;
	*nsec = ns;
	return 0;
}

static const char *
word_end(const char *p, const char *e)
{
	while (p < e && *p != ' ')
		p++;
	return p;
}

static int
stream_id(const char *p, size_t n)
{
	if (n == 6 && memcmp(p, "stdout", 6) == 0)
		return CONT_STDOUT;
	if (n == 6 && memcmp(p, "stderr", 6) == 0)
		return CONT_STDERR;
	return CONT_OTHER;
}

int
cont_cri(const char *s, size_t n, struct cont_line *l, const char **why)
{
	const char *e = s + n, *te = word_end(s, e), *st, *se, *tag, *ge;

	memset(l, 0, sizeof(*l));
	if (te == s || te == e) {
		*why = n == 0 ? "not a CRI line: empty" : te == s ? "not a CRI "
		    "line: it starts with a space, not a time" : "not a CRI "
		    "line: one word, no stream after it";
		return -1;
	}
	st = te + 1;
	se = word_end(st, e);
	if (stream_id(st, se - st) == CONT_OTHER) {
		*why = "not a CRI line: the stream (second word) is not stdout "
		    "or stderr";
		return -1;
	}
	tag = se < e ? se + 1 : e;
	ge = word_end(tag, e);
	if (ge == tag || (*tag != 'P' && *tag != 'F') || (ge - tag > 1 &&
	    tag[1] != ':')) {
		*why = "not a CRI line: no tag (F or P) after the stream";
		return -1;
	}
	l->time = s;
	l->tlen = te - s;
	l->timed = cont_time(s, te - s, &l->sec, &l->nsec) == 0;
	l->stream = st;
	l->slen = se - st;
	l->sid = stream_id(st, se - st);
	l->tag = tag;
	l->taglen = ge - tag;
	l->partial = *tag == 'P';
	l->msg = ge < e ? ge + 1 : e;
	l->mlen = e - l->msg;
	return 0;
}

/* The str value at *p (advanced past it), or NULL if not a str. */
static const char *
str_at(const char **p, const char *end, size_t *len)
{
	struct mp_obj o;

	if (mp_head(p, end, &o) != MP_OK || o.type != MP_STR)
		return NULL;
	*len = o.len;
	return o.data;
}

/* Takes the members log, stream and time of the map at p. */
static int
members(const char *p, const char *end, struct cont_line *l)
{
	const char *k, *v, *q;
	struct mp_obj o;
	size_t klen, vlen;
	uint32_t i, n;

	if (mp_head(&p, end, &o) != MP_OK || o.type != MP_MAP)
		return -1;
	n = o.v.n;
	for (i = 0; i < n; i++) {
		if (!(k = str_at(&p, end, &klen)))
			return -1;      /* JSON keys are strings */
		q = p;
		v = str_at(&q, end, &vlen);
		if (mp_skip(&p, end, NULL) != MP_OK)
			return -1;
		if (!v)
			continue;
		if (klen == 3 && memcmp(k, "log", 3) == 0 && !l->msg) {
			l->msg = v;
			l->mlen = vlen;
		} else if (klen == 6 && memcmp(k, "stream", 6) == 0 &&
		    !l->stream) {
			l->stream = v;
			l->slen = vlen;
		} else if (klen == 4 && memcmp(k, "time", 4) == 0 && !l->time) {
			l->time = v;
			l->tlen = vlen;
		}
	}
	return 0;
}

int
cont_docker(const char *s, size_t n, struct buf *mp, struct cont_line *l,
    const char **why)
{
	struct json_err err;
	size_t used, i;

	memset(l, 0, sizeof(*l));
	mp->len = 0;
	i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] != '{') {
		*why = "not a docker json-file line: not a JSON object";
		return -1;
	}
	if (json_parse(s + i, n - i, 1, &used, mp, &err) != JSON_OK) {
		*why = "not a docker json-file line: bad JSON";
		return -1;
	}
	for (i += used; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
			*why = "not a docker json-file line: text after the "
			    "object";
			return -1;
		}
	if (members(mp->p, mp->p + mp->len, l) < 0 || !l->msg) {
		*why = "not a docker json-file line: no \"log\" string";
		memset(l, 0, sizeof(*l));
		return -1;
	}
	l->map = mp->p;
	l->maplen = mp->len;
	l->sid = l->stream ? stream_id(l->stream, l->slen) : CONT_OTHER;
	l->partial = l->mlen == 0 || l->msg[l->mlen - 1] != '\n';
	if (l->time)
		l->timed = cont_time(l->time, l->tlen, &l->sec, &l->nsec) == 0;
	return 0;
}
