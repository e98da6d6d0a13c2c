/* timefmt_format - writing a time in a compiled format */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "timefmt_int.h"

static size_t
put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static size_t
put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return put_u64(p, (uint64_t)v);
	*p = '-';
	return 1 + put_u64(p + 1, (uint64_t)-(v + 1) + 1);
}

/* Writes the leading width digits of the 9-digit nsec. */
static void
put_frac(char *p, int width, uint32_t nsec)
{
	uint32_t v = nsec / pow10[9 - width];

	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

static size_t
put_zone(char *p, int32_t off, int colon)
{
	int32_t a = off < 0 ? -off : off;
	size_t n = 0;

	p[n++] = off < 0 ? '-' : '+';
	p[n++] = (char)('0' + a / 36000);
	p[n++] = (char)('0' + a / 3600 % 10);
	if (colon)
		p[n++] = ':';
	p[n++] = (char)('0' + a / 60 % 60 / 10);
	p[n++] = (char)('0' + a / 60 % 10);
	return n;
}

static int
zone_tm(const struct timefmt *tf, int64_t sec, struct tm *tm, int32_t *off)
{
	time_t t;

	if (sec > SEC_LIMIT || sec < -SEC_LIMIT)
		return -1;
	if (!tf->local) {
		t = (time_t)(sec + tf->off);
		*off = tf->off;
		return gmtime_r(&t, tm) ? 0 : -1;
	}
	t = (time_t)sec;
	if (!localtime_r(&t, tm))
		return -1;
	*off = (int32_t)(civil_secs(tm->tm_year + 1900, tm->tm_mon + 1,
	    tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec) - sec);
	return 0;
}

/* Renders everything but the sub-second digits of sec into the cache. */
static int
render(struct timefmt *tf, int64_t sec)
{
	char *p = tf->cache, *end = tf->cache + tf->ccap;
	const struct fop *op;
	size_t i, n, nf = 0;
	struct tm tm;
	int32_t off;

	tf->cvalid = 0;
	if (zone_tm(tf, sec, &tm, &off) < 0)
		return -1;
	for (i = 0; i < tf->nfop; i++) {
		op = &tf->fop[i];
		if (end - p < 24 && op->kind != O_STRF)
			return -1;
		switch (op->kind) {
		case O_STRF:
			if ((n = strftime(p, (size_t)(end - p), op->fmt,
			    &tm)) == 0)
				return -1;
			p += n - 1;
			break;
		case O_FRAC:
			tf->fpos[nf++] = (size_t)(p - tf->cache);
			memset(p, '0', op->arg);
			p += op->arg;
			break;
		case O_ZONE:
			p += put_zone(p, off, op->arg);
			break;
		case O_ZNAME:
			if (off)
				p += put_zone(p, off, 1);
			else {
				memcpy(p, "UTC", 3);
				p += 3;
			}
			break;
		case O_EPOCH:
			p += put_i64(p, sec);
			break;
		}
	}
	tf->clen = (size_t)(p - tf->cache);
	tf->csec = sec;
	tf->cvalid = 1;
	return 0;
}

static size_t
format_number(const struct timefmt *tf, int64_t sec, uint32_t nsec,
    char *out, size_t cap)
{
	char tmp[40];
	size_t n = 0;

	if (tf->kind == TF_FLOAT && sec < 0 && nsec) {
		/* -1.5 is stored as sec -2, nsec 500000000. */
		tmp[n++] = '-';
		n += put_u64(tmp + n, (uint64_t)-(sec + 1));
		nsec = 1000000000 - nsec;
	} else
		n = put_i64(tmp, sec);
	if (tf->kind == TF_FLOAT) {
		tmp[n++] = '.';
		put_frac(tmp + n, 9, nsec);
		n += 9;
	}
	if (n > cap)
		return 0;
	memcpy(out, tmp, n);
	return n;
}

size_t
timefmt_format(struct timefmt *tf, int64_t sec, uint32_t nsec, char *out,
    size_t cap)
{
	size_t i;

	if (nsec > 999999999)
		nsec = 999999999;
	if (tf->kind == TF_UNIX || tf->kind == TF_FLOAT)
		return format_number(tf, sec, nsec, out, cap);
	if ((!tf->cvalid || sec != tf->csec) && render(tf, sec) < 0)
		return 0;
	if (tf->clen > cap)
		return 0;
	memcpy(out, tf->cache, tf->clen);
	for (i = 0; i < tf->nfrac; i++)
		put_frac(out + tf->fpos[i], tf->fwid[i], nsec);
	return tf->clen;
}
