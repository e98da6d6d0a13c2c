/* parse_syslog - Fluentd's string parser engine for syslog lines */
#include <string.h>

#include "parse_syslog.h"

#define MEMCHR(p, e, c) ((const char *)memchr((p), (c), (e) - (p)))

size_t
parse_chomp(const char *s, size_t len)
{
	if (len && s[len - 1] == '\n')
		len--;
	else if (len && s[len - 1] == '\r')
		return len - 1;
	if (len && s[len - 1] == '\r')
		len--;
	return len;
}

/* Copies s[0..n) with runs of spaces made one into scratch. */
static const char *
squeeze(struct pfields *pf, const char *s, size_t n, size_t *outlen)
{
	struct buf *b = &pf->scratch;
	const char *out = b->p + b->len;
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' || i == 0 || s[i - 1] != ' ')
			b->p[b->len++] = s[i];  /* room: pfields_reset */
	*outlen = b->p + b->len - out;
	return out;
}

long
parse_syslog_time(struct pfields *pf, const char *s, size_t len, size_t off,
    int nspace, const char **t, size_t *tlen)
{
	const char *e = s + len, *q = s + off - 1;
	int sq = 0, w;

	for (w = 0; w < nspace; w++) {
		while (q + 1 < e && q[1] == ' ') {
			sq = 1;
			q++;
		}
		if (q + 1 >= e || !(q = MEMCHR(q + 1, e, ' ')))
			return -1;
	}
	if (sq)
		*t = squeeze(pf, s + off, q - (s + off), tlen);
	else {
		*t = s + off;
		*tlen = q - (s + off);
	}
	return q - s;
}

long
parse_syslog_pri(const char *s, size_t len, long *pri)
{
	const char *e = s + len, *q;
	long v = 0;
	size_t i = 1;

	if (len == 0 || *s != '<' || !(q = MEMCHR(s + 1, e, '>')) || q - s < 2)
		return -1;
	while (i < (size_t)(q - s) && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < (size_t)(q - s) && s[i] >= '0' && s[i] <= '9'; i++)
		if (v < 100000000)
			v = v * 10 + (s[i] - '0');
	*pri = v;
	return q - s + 1;
}

static void
add_int(struct pfields *pf, const char *k, long v)
{
	struct pfield *f = pfields_add(pf, k, strlen(k));

	f->kind = PK_INT;
	f->i = v;
}

static void
add_str(struct pfields *pf, const char *k, const char *v, size_t n)
{
	pfields_str(pf, k, strlen(k), v, n);
}

/* The time of a 3164 line at s[c]; returns the offset after it, or -1. */
static long
time3164(struct pfields *pf, const char *s, size_t len, size_t c,
    const struct syslog_opts *so, const char **t, size_t *tlen)
{
	const char *q;
	long i;

	if (!so->fixed) {
		if ((i = parse_syslog_time(pf, s, len, c, so->nspace, t,
		    tlen)) < 0)
			return -1;
		return i + 1;
	}
	if (c + 15 >= len)
		return -1;
	*t = s + c;
	if (s[c + 15] == ' ') {
		*tlen = 15;
		return c + 16;
	}
	if (s[c + 15] != '.' || !(q = MEMCHR(s + c + 15, s + len, ' ')))
		return -1;
	*tlen = q - (s + c);
	return q - s + 1;
}

/* "ident[pid]" + tail: the ident and pid of the word s[c..i). */
static int
ident_pid(struct pfields *pf, const char *s, size_t c, size_t i, size_t tail)
{
	const char *lb;

	if (i - c >= tail + 1 && s[i - tail - 1] == ']') {
		lb = memchr(s + c, '[', i - c);
		if (!lb)
			return -1;
		add_str(pf, "ident", s + c, lb - (s + c));
		add_str(pf, "pid", lb + 1, (s + i - tail - 1) - (lb + 1));
		return 0;
	}
	add_str(pf, "ident", s + c, i - c - tail);
	return 0;
}

int
parse_syslog_3164(struct pfields *pf, const char *s, size_t len,
    const struct syslog_opts *so, const char **t, size_t *tlen,
    const char **why)
{
	const char *e = s + len, *q;
	long pri = -1, c = 0;
	size_t i, m;

	if (so->with_pri && (c = parse_syslog_pri(s, len, &pri)) < 0) {
		*why = "no <priority>";
		return -1;
	}
	if ((c = time3164(pf, s, len, c, so, t, tlen)) < 0 ||
	    !(q = MEMCHR(s + c, e, ' '))) {
		*why = "not a syslog line";
		return -1;
	}
	add_str(pf, "host", s + c, q - (s + c));
	if (pri >= 0)
		add_int(pf, "pri", pri);
	c = q - s + 1;
	m = c;
	if ((q = MEMCHR(s + c, e, ' '))) {
		i = q - s;
		if (i > (size_t)c && s[i - 1] == ':') {
			if (ident_pid(pf, s, c, i, 1) < 0)
				goto bad;
			m = i + 1;
		} else if (so->colonless) {
			if (ident_pid(pf, s, c, i, 0) < 0)
				goto bad;
			m = i + 1;
		}
	}
	add_str(pf, "message", s + m, parse_chomp(s + m, len - m));
	return 0;
bad:
	*why = "'[' missing before the pid";
	return -1;
}

/* The next space-ended word at s[*c]: adds it as k; -1 if none. */
static int
word(struct pfields *pf, const char *s, size_t len, long *c, const char *k)
{
	const char *q = *c < (long)len ? MEMCHR(s + *c, s + len, ' ') : NULL;

	if (!q)
		return -1;
	add_str(pf, k, s + *c, q - (s + *c));
	*c = q - s + 1;
	return 0;
}

/* Structured data: "-", or up to the first "] ", backslashes removed. */
static long
extradata(struct pfields *pf, const char *s, size_t len, long c)
{
	struct buf *b = &pf->scratch;
	const char *p = s + c, *e = s + len, *v;
	size_t i, n;

	if (p < e && *p == '-') {
		add_str(pf, "extradata", p, 1);
		return c + 1;
	}
	for (i = c; i + 1 < len && !(s[i] == ']' && s[i + 1] == ' '); i++)
		continue;
	n = i + 1 < len ? i + 1 - c : len - c;
	v = b->p + b->len;
	for (i = 0; i < n; i++)
		if (p[i] != '\\')
			b->p[b->len++] = p[i];
	add_str(pf, "extradata", v, b->p + b->len - v);
	return c + n;
}

int
parse_syslog_5424(struct pfields *pf, const char *s, size_t len,
    const struct syslog_opts *so, const char **t, size_t *tlen,
    const char **why)
{
	const char *q;
	long pri = -1, c = 0;

	*why = "not an RFC 5424 line";
	if (so->with_pri) {
		if ((c = parse_syslog_pri(s, len, &pri)) < 0 ||
		    !(q = MEMCHR(s + c - 1, s + len, ' '))) {
			*why = "no <priority>";
			return -1;
		}
		c = q - s + 1;
	}
	if (so->nspace > 1) {
		if ((c = parse_syslog_time(pf, s, len, c, so->nspace, t,
		    tlen)) < 0)
			return -1;
		c++;
	} else {
		if (c >= (long)len || !(q = MEMCHR(s + c, s + len, ' ')))
			return -1;
		*t = s + c;
		*tlen = q - (s + c);
		c = q - s + 1;
	}
	if (word(pf, s, len, &c, "host") < 0 || word(pf, s, len, &c,
	    "ident") < 0 || word(pf, s, len, &c, "pid") < 0 ||
	    word(pf, s, len, &c, "msgid") < 0)
		return -1;
	if (pri >= 0)
		add_int(pf, "pri", pri);
	c = extradata(pf, s, len, c);
	if (c < (long)len)
		add_str(pf, "message", s + c + 1, parse_chomp(s + c + 1,
		    len - c - 1));
	return 0;
}
