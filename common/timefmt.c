/* timefmt - time parsing and formatting, strftime plus Fluentd's extensions */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "timefmt.h"

#define ZONEINFO "/usr/share/zoneinfo/"
#define ISO_FORMAT "%Y-%m-%dT%H:%M:%S.%N%:z"
#define LINE_MAX_CACHED 96
/* Seconds beyond this are refused rather than risk overflow. */
#define SEC_LIMIT ((int64_t)1 << 56)

#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))
#define ISDIGIT(c) ((unsigned char)((c) - '0') <= 9)

enum tfkind { TF_STRF, TF_ISO, TF_UNIX, TF_FLOAT };

/* Numeric fields a parse can set; bit i of pst.have is field i. */
enum field {
	F_YEAR, F_YEAR2, F_CENT, F_MON, F_MDAY, F_HOUR, F_HOUR12, F_MIN,
	F_SEC, F_YDAY, F_IGN, NFIELD
};

#define HAS(f) (1u << (f))
#define H_PM HAS(NFIELD)
#define H_EPOCH HAS(NFIELD + 1)
#define H_ZONE HAS(NFIELD + 2)

static const int field_lo[NFIELD] = { 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0 };
static const int field_hi[NFIELD] = {
	9999, 99, 99, 12, 31, 23, 12, 59, 60, 366, 9999
};

/* Parse operations. */
enum pkind {
	P_LIT, P_WS, P_NUM, P_MONTH, P_WDAY, P_AMPM, P_FRAC, P_ZONE, P_ZNAME,
	P_EPOCH, P_TSEP, P_OPTFRAC, P_OPTZONE, P_EXPAND
};

struct pop {
	unsigned char kind;
	unsigned char field;	/* P_NUM */
	unsigned char min;	/* P_NUM: digits */
	unsigned char max;	/* P_NUM, P_FRAC: digits */
	unsigned char space;	/* P_NUM: may start with one space */
	const char *lit;	/* P_LIT: borrowed from spec or a constant */
	size_t len;
};

/* Format operations; O_STRF text goes through strftime(3). */
enum fkind { O_STRF, O_FRAC, O_ZONE, O_ZNAME, O_EPOCH };

struct fop {
	unsigned char kind;
	unsigned char arg;	/* O_FRAC: digits; O_ZONE: colon */
	char *fmt;		/* O_STRF: owned, ends with one extra space */
};

/* One conversion of a spec, "%-3N" or "%:z". */
struct conv {
	char flags[8];
	int width;
	int colon;
	int letter;
};

/* What the parser knows about each conversion letter. */
struct ptab {
	char letter;
	unsigned char kind;
	unsigned char field;
	unsigned char min;
	unsigned char max;
	unsigned char space;
	const char *expand;
};

static const struct ptab ptab[] = {
	{ 'Y', P_NUM, F_YEAR, 1, 4, 0, NULL },
	{ 'C', P_NUM, F_CENT, 1, 2, 0, NULL },
	{ 'y', P_NUM, F_YEAR2, 1, 2, 0, NULL },
	{ 'm', P_NUM, F_MON, 1, 2, 0, NULL },
	{ 'd', P_NUM, F_MDAY, 1, 2, 0, NULL },
	{ 'e', P_NUM, F_MDAY, 1, 2, 1, NULL },
	{ 'H', P_NUM, F_HOUR, 1, 2, 0, NULL },
	{ 'k', P_NUM, F_HOUR, 1, 2, 1, NULL },
	{ 'I', P_NUM, F_HOUR12, 1, 2, 0, NULL },
	{ 'l', P_NUM, F_HOUR12, 1, 2, 1, NULL },
	{ 'M', P_NUM, F_MIN, 1, 2, 0, NULL },
	{ 'S', P_NUM, F_SEC, 1, 2, 0, NULL },
	{ 'j', P_NUM, F_YDAY, 1, 3, 0, NULL },
	{ 'u', P_NUM, F_IGN, 1, 1, 0, NULL },
	{ 'w', P_NUM, F_IGN, 1, 1, 0, NULL },
	{ 'U', P_NUM, F_IGN, 1, 2, 0, NULL },
	{ 'W', P_NUM, F_IGN, 1, 2, 0, NULL },
	{ 'V', P_NUM, F_IGN, 1, 2, 0, NULL },
	{ 'G', P_NUM, F_IGN, 1, 4, 0, NULL },
	{ 'g', P_NUM, F_IGN, 1, 2, 0, NULL },
	{ 'b', P_MONTH, 0, 0, 0, 0, NULL },
	{ 'h', P_MONTH, 0, 0, 0, 0, NULL },
	{ 'B', P_MONTH, 0, 0, 0, 0, NULL },
	{ 'a', P_WDAY, 0, 0, 0, 0, NULL },
	{ 'A', P_WDAY, 0, 0, 0, 0, NULL },
	{ 'p', P_AMPM, 0, 0, 0, 0, NULL },
	{ 'P', P_AMPM, 0, 0, 0, 0, NULL },
	{ 'L', P_FRAC, 0, 1, 3, 0, NULL },
	{ 'N', P_FRAC, 0, 1, 9, 0, NULL },
	{ 'z', P_ZONE, 0, 0, 0, 0, NULL },
	{ 'Z', P_ZNAME, 0, 0, 0, 0, NULL },
	{ 's', P_EPOCH, 0, 0, 0, 0, NULL },
	{ 'n', P_WS, 0, 0, 0, 0, NULL },
	{ 't', P_WS, 0, 0, 0, 0, NULL },
	{ '%', P_LIT, 0, 0, 0, 0, "%" },
	{ 'T', P_EXPAND, 0, 0, 0, 0, "%H:%M:%S" },
	{ 'D', P_EXPAND, 0, 0, 0, 0, "%m/%d/%y" },
	{ 'F', P_EXPAND, 0, 0, 0, 0, "%Y-%m-%d" },
	{ 'R', P_EXPAND, 0, 0, 0, 0, "%H:%M" },
	{ 'r', P_EXPAND, 0, 0, 0, 0, "%I:%M:%S %p" },
	{ 'c', P_EXPAND, 0, 0, 0, 0, "%a %b %e %H:%M:%S %Y" },
	{ 'x', P_EXPAND, 0, 0, 0, 0, "%m/%d/%y" },
	{ 'X', P_EXPAND, 0, 0, 0, 0, "%H:%M:%S" },
};

static const char *const months[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"
};

static const char *const wdays[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday"
};

static const uint32_t pow10[10] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000
};

/* The fields of one parse, valid where the bit in have is set. */
struct pst {
	int v[NFIELD];
	unsigned have;
	int pm;
	int eneg;
	const char *fs;		/* the digits of the fraction, if any */
	const char *fe;
	uint32_t nsec;
	int32_t off;
	int64_t epoch;
};

struct timefmt {
	enum tfkind kind;
	int local;		/* the process's local time (TZ) */
	int32_t off;		/* otherwise, seconds east of UTC */
	char *spec;		/* owned; P_LIT text points into it */
	struct pop *pop;
	size_t npop;
	size_t popcap;
	struct fop *fop;
	size_t nfop;
	size_t fopcap;
	size_t *fpos;		/* offset of each O_FRAC in cache */
	unsigned char *fwid;	/* its digits */
	size_t nfrac;
	/* parse: the last line, whose fraction digits may differ */
	int nfracop;		/* fraction conversions in the format */
	int lvalid;
	size_t llen;
	size_t lfs;
	size_t lfe;
	int64_t lsec;
	char line[LINE_MAX_CACHED];
	/* parse: the day number of the last date */
	int32_t dkey;
	int dvalid;
	int64_t days;
	/* parse: UTC offset of the last local hour; hstate 2 = mixed */
	int64_t hkey;
	int32_t hoff;
	int hstate;
	/* parse: the current date, for formats without a year */
	int64_t nkey;
	int nvalid;
	int now[6];
	/* format: the text of the last second */
	char *cache;
	size_t clen;
	size_t ccap;
	int64_t csec;
	int cvalid;
};

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t
civil_secs(int y, int mon, int d, int h, int mi, int s)
{
	return days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && leap(y) ? 29 : dim[m - 1];
}

/*
 * Compilation.
 */

static struct pop *
pop_add(struct timefmt *tf, int kind)
{
	struct pop *op;

	if (tf->npop == tf->popcap) {
		tf->popcap = tf->popcap ? tf->popcap * 2 : 16;
		tf->pop = xrealloc(tf->pop, tf->popcap * sizeof *tf->pop);
	}
	op = &tf->pop[tf->npop++];
	memset(op, 0, sizeof *op);
	op->kind = (unsigned char)kind;
	return op;
}

static void
pop_num(struct timefmt *tf, int field, int min, int max, int space)
{
	struct pop *op = pop_add(tf, P_NUM);

	op->field = (unsigned char)field;
	op->min = (unsigned char)min;
	op->max = (unsigned char)max;
	op->space = (unsigned char)space;
}

/* Appends literal text, joining it to a literal just before it. */
static void
pop_lit(struct timefmt *tf, const char *s, size_t n)
{
	struct pop *op = tf->npop ? &tf->pop[tf->npop - 1] : NULL;

	if (op && op->kind == P_LIT && op->lit + op->len == s) {
		op->len += n;
		return;
	}
	op = pop_add(tf, P_LIT);
	op->lit = s;
	op->len = n;
}

static struct fop *
fop_add(struct timefmt *tf, int kind, int arg)
{
	struct fop *op;

	if (tf->nfop == tf->fopcap) {
		tf->fopcap = tf->fopcap ? tf->fopcap * 2 : 8;
		tf->fop = xrealloc(tf->fop, tf->fopcap * sizeof *tf->fop);
	}
	op = &tf->fop[tf->nfop++];
	op->kind = (unsigned char)kind;
	op->arg = (unsigned char)arg;
	op->fmt = NULL;
	return op;
}

/* Ends the pending strftime text in fb as one O_STRF operation. */
static void
fop_flush(struct timefmt *tf, struct buf *fb)
{
	struct fop *op;

	if (fb->len == 0)
		return;
	/* The space keeps strftime's result non-empty: 0 means overflow. */
	buf_putc(fb, ' ');
	op = fop_add(tf, O_STRF, 0);
	op->fmt = xstrndup(fb->p, fb->len);
	fb->len = 0;
}

static const struct ptab *
ptab_find(int letter)
{
	size_t i;

	for (i = 0; i < sizeof ptab / sizeof ptab[0]; i++)
		if (ptab[i].letter == letter)
			return &ptab[i];
	return NULL;
}

/* Reads the conversion after a '%' at *pp; advances *pp past it. */
static int
conv_scan(const char **pp, struct conv *c, const char **err)
{
	const char *p = *pp;
	size_t nf = 0;

	memset(c, 0, sizeof *c);
	while (*p && strchr("-_0^#", *p) && nf < sizeof c->flags - 2)
		c->flags[nf++] = *p++;
	while (ISDIGIT(*p) && c->width < 100)
		c->width = c->width * 10 + (*p++ - '0');
	if (*p == ':') {
		c->colon = 1;
		p++;
	}
	if (*p == 'E' || *p == 'O')
		c->flags[nf++] = *p++;
	c->letter = (unsigned char)*p;
	if (*p == '\0') {
		*err = "time format ends with a lone %";
		return -1;
	}
	*pp = p + 1;
	if (ptab_find(c->letter) == NULL ||
	    (c->width && (c->letter != 'N' || c->width > 9)) ||
	    (c->colon && c->letter != 'z')) {
		*err = "unknown conversion in time format";
		return -1;
	}
	return 0;
}

static int walk(struct timefmt *, const char *, struct buf *,
    const char **);

static int
pconv_add(struct timefmt *tf, const struct conv *c, const char **err)
{
	const struct ptab *t = ptab_find(c->letter);
	struct pop *op;

	switch (t->kind) {
	case P_NUM:
		pop_num(tf, t->field, t->min, t->max, t->space);
		break;
	case P_LIT:
		pop_lit(tf, t->expand, strlen(t->expand));
		break;
	case P_EXPAND:
		return walk(tf, t->expand, NULL, err);
	case P_FRAC:
		op = pop_add(tf, P_FRAC);
		op->max = (unsigned char)(c->width ? c->width : t->max);
		break;
	default:
		pop_add(tf, t->kind);
		break;
	}
	return 0;
}

static void
fconv_add(struct timefmt *tf, const struct conv *c, struct buf *fb)
{
	int k = c->letter;

	if (k == 'L' || k == 'N' || k == 'z' || k == 's' ||
	    (k == 'Z' && !tf->local)) {
		fop_flush(tf, fb);
		if (k == 'L')
			fop_add(tf, O_FRAC, 3);
		else if (k == 'N')
			fop_add(tf, O_FRAC, c->width ? c->width : 9);
		else if (k == 'z')
			fop_add(tf, O_ZONE, c->colon);
		else if (k == 's')
			fop_add(tf, O_EPOCH, 0);
		else
			fop_add(tf, O_ZNAME, 0);
		return;
	}
	buf_putc(fb, '%');
	buf_puts(fb, c->flags);
	buf_putc(fb, k);
}

/*
 * Compiles spec into parse operations and, when fb is not NULL, format
 * operations; P_EXPAND conversions recurse with fb NULL.
 */
static int
walk(struct timefmt *tf, const char *spec, struct buf *fb, const char **err)
{
	const char *p = spec;
	struct conv c;

	while (*p) {
		if (*p != '%') {
			if (ISSPACE(*p)) {
				if (!tf->npop || tf->pop[tf->npop - 1].kind !=
				    P_WS)
					pop_add(tf, P_WS);
			} else
				pop_lit(tf, p, 1);
			if (fb)
				buf_putc(fb, *p);
			p++;
			continue;
		}
		p++;
		if (conv_scan(&p, &c, err) < 0)
			return -1;
		if (pconv_add(tf, &c, err) < 0)
			return -1;
		if (fb)
			fconv_add(tf, &c, fb);
	}
	if (fb)
		fop_flush(tf, fb);
	return 0;
}

static void
iso_pops(struct timefmt *tf)
{
	pop_num(tf, F_YEAR, 4, 4, 0);
	pop_lit(tf, "-", 1);
	pop_num(tf, F_MON, 2, 2, 0);
	pop_lit(tf, "-", 1);
	pop_num(tf, F_MDAY, 2, 2, 0);
	pop_add(tf, P_TSEP);
	pop_num(tf, F_HOUR, 2, 2, 0);
	pop_lit(tf, ":", 1);
	pop_num(tf, F_MIN, 2, 2, 0);
	pop_lit(tf, ":", 1);
	pop_num(tf, F_SEC, 2, 2, 0);
	pop_add(tf, P_OPTFRAC);
	pop_add(tf, P_OPTZONE);
}

/* Records where the sub-second digits go, in format order. */
static void
frac_setup(struct timefmt *tf)
{
	size_t i;

	for (i = 0; i < tf->nfop; i++)
		if (tf->fop[i].kind == O_FRAC)
			tf->nfrac++;
	tf->fpos = xcalloc(tf->nfrac + 1, sizeof *tf->fpos);
	tf->fwid = xcalloc(tf->nfrac + 1, 1);
	tf->nfrac = 0;
	for (i = 0; i < tf->nfop; i++)
		if (tf->fop[i].kind == O_FRAC)
			tf->fwid[tf->nfrac++] = tf->fop[i].arg;
}

static int
compile(struct timefmt *tf, const char *spec, const char **err)
{
	struct buf fb = { NULL, 0, 0 };
	size_t i;
	int r = 0;

	if (strcmp(spec, "unixtime") == 0)
		tf->kind = TF_UNIX;
	else if (strcmp(spec, "float") == 0)
		tf->kind = TF_FLOAT;
	else if (strcmp(spec, "iso8601") == 0) {
		tf->kind = TF_ISO;
		r = walk(tf, ISO_FORMAT, &fb, err);
		tf->npop = 0;
		iso_pops(tf);
	} else if (*spec == '\0') {
		*err = "empty time format";
		r = -1;
	} else {
		tf->kind = TF_STRF;
		tf->spec = xstrdup(spec);
		r = walk(tf, tf->spec, &fb, err);
	}
	buf_free(&fb);
	if (r < 0)
		return -1;
	frac_setup(tf);
	for (i = 0; i < tf->npop; i++)
		if (tf->pop[i].kind == P_FRAC || tf->pop[i].kind == P_OPTFRAC)
			tf->nfracop++;
	/* Enough for every conversion's longest C-locale text. */
	tf->ccap = 64 + 32 * strlen(spec);
	tf->cache = xmalloc(tf->ccap);
	return 0;
}

/*
 * Time zones.
 */

/* Reads "Z", "+09", "+0900" or "+09:00". */
static const char *
scan_zone(const char *s, const char *e, int32_t *off)
{
	int h, m = 0, neg;

	if (s < e && (*s == 'Z' || *s == 'z')) {
		*off = 0;
		return s + 1;
	}
	if (e - s < 3 || (*s != '+' && *s != '-') || !ISDIGIT(s[1]) ||
	    !ISDIGIT(s[2]))
		return NULL;
	neg = *s == '-';
	h = (s[1] - '0') * 10 + (s[2] - '0');
	s += 3;
	if (s < e && *s == ':') {
		if (e - s < 3 || !ISDIGIT(s[1]) || !ISDIGIT(s[2]))
			return NULL;
		s++;
	}
	if (e - s >= 2 && ISDIGIT(s[0]) && ISDIGIT(s[1])) {
		m = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
	}
	if (h > 23 || m > 59)
		return NULL;
	*off = (h * 3600 + m * 60) * (neg ? -1 : 1);
	return s;
}

static int
zone_name_ok(const char *tz)
{
	char path[256];
	struct stat st;
	const char *p;

	if (*tz == '\0' || *tz == '/' || *tz == '.' ||
	    strlen(tz) > sizeof path - sizeof ZONEINFO)
		return 0;
	for (p = tz; *p; p++)
		if (*p == '.' && p[1] == '.')
			return 0;
	snprintf(path, sizeof path, "%s%s", ZONEINFO, tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int
zone_setup(struct timefmt *tf, const char *tz, const char **err)
{
	const char *e;

	if (tz == NULL) {
		tf->local = 1;
		tzset();
		return 0;
	}
	e = tz + strlen(tz);
	if (strcasecmp(tz, "UTC") == 0 || strcasecmp(tz, "GMT") == 0) {
		tf->off = 0;
		return 0;
	}
	if (*tz == '+' || *tz == '-' || strcasecmp(tz, "Z") == 0) {
		if (scan_zone(tz, e, &tf->off) != e) {
			*err = "invalid time zone offset";
			return -1;
		}
		return 0;
	}
	if (!zone_name_ok(tz)) {
		*err = "unknown time zone";
		return -1;
	}
	if (setenv("TZ", tz, 1) < 0) {
		*err = "cannot set TZ";
		return -1;
	}
	tzset();
	tf->local = 1;
	return 0;
}

struct timefmt *
timefmt_new(const char *spec, const char *tz, const char **err)
{
	struct timefmt *tf;
	const char *dummy;

	if (err == NULL)
		err = &dummy;
	tf = xcalloc(1, sizeof *tf);
	if (zone_setup(tf, tz, err) < 0 || compile(tf, spec, err) < 0) {
		timefmt_free(tf);
		return NULL;
	}
	return tf;
}

void
timefmt_free(struct timefmt *tf)
{
	size_t i;

	if (tf == NULL)
		return;
	for (i = 0; i < tf->nfop; i++)
		free(tf->fop[i].fmt);
	free(tf->fop);
	free(tf->pop);
	free(tf->spec);
	free(tf->fpos);
	free(tf->fwid);
	free(tf->cache);
	free(tf);
}

/*
 * Parsing.
 */

static const char *
scan_num(const struct pop *op, const char *s, const char *e, struct pst *st)
{
	const char *lim, *s0;
	int v = 0, max = op->max;

	if (op->space && s < e && *s == ' ') {
		s++;
		max--;
	}
	lim = e - s > max ? s + max : e;
	for (s0 = s; s < lim && ISDIGIT(*s); s++)
		v = v * 10 + (*s - '0');
	if (s - s0 < op->min || v < field_lo[op->field] ||
	    v > field_hi[op->field])
		return NULL;
	st->v[op->field] = v;
	st->have |= HAS(op->field);
	return s;
}

/* Reads 1 to max digits of a fraction of a second into nsec. */
static const char *
scan_frac(const char *s, const char *e, int max, uint32_t *nsec)
{
	const char *lim = e - s > max ? s + max : e, *s0 = s;
	uint32_t v = 0;

	for (; s < lim && ISDIGIT(*s); s++)
		v = v * 10 + (uint32_t)(*s - '0');
	if (s == s0)
		return NULL;
	*nsec = v * pow10[9 - (s - s0)];
	return s;
}

/* Reads a full or 3-letter name from names, case-insensitively. */
static const char *
scan_name(const char *s, const char *e, const char *const *names, int n,
    int *idx)
{
	size_t len;
	int i;

	if (e - s < 3)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strncasecmp(s, names[i], 3) != 0)
			continue;
		len = strlen(names[i]);
		*idx = i;
		if ((size_t)(e - s) >= len &&
		    strncasecmp(s, names[i], len) == 0)
			return s + len;
		return s + 3;
	}
	return NULL;
}

static const char *
scan_epoch(const char *s, const char *e, struct pst *st)
{
	const char *s0;
	int64_t v = 0;

	st->eneg = s < e && *s == '-';
	if (s < e && (*s == '-' || *s == '+'))
		s++;
	for (s0 = s; s < e && ISDIGIT(*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	if (s == s0 || v >= SEC_LIMIT)
		return NULL;
	st->epoch = st->eneg ? -v : v;
	st->have |= H_EPOCH;
	return s;
}

static const char *
scan_ampm(const char *s, const char *e, struct pst *st)
{
	int c;

	if (e - s < 2 || (s[1] != 'M' && s[1] != 'm'))
		return NULL;
	c = *s | 0x20;
	if (c != 'a' && c != 'p')
		return NULL;
	st->pm = c == 'p';
	st->have |= H_PM;
	return s + 2;
}

static const char *
scan_zname(const char *s, const char *e, struct pst *st)
{
	if (e - s >= 3 && (strncasecmp(s, "UTC", 3) == 0 ||
	    strncasecmp(s, "GMT", 3) == 0)) {
		st->off = 0;
		return s + 3;
	}
	return scan_zone(s, e, &st->off);
}

static const char *
scan_op(const struct pop *op, const char *s, const char *e, struct pst *st)
{
	int i;

	switch (op->kind) {
	case P_WS:
		while (s < e && ISSPACE(*s))
			s++;
		return s;
	case P_NUM:
		return scan_num(op, s, e, st);
	case P_MONTH:
		if ((s = scan_name(s, e, months, 12, &i)) != NULL) {
			st->v[F_MON] = i + 1;
			st->have |= HAS(F_MON);
		}
		return s;
	case P_WDAY:
		return scan_name(s, e, wdays, 7, &i);
	case P_AMPM:
		return scan_ampm(s, e, st);
	case P_FRAC:
		st->fs = s;
		st->fe = scan_frac(s, e, op->max, &st->nsec);
		return st->fe;
	case P_EPOCH:
		return scan_epoch(s, e, st);
	case P_TSEP:
		return s < e && (*s == 'T' || *s == 't' || *s == ' ') ?
		    s + 1 : NULL;
	case P_OPTFRAC:
		if (s < e && (*s == '.' || *s == ',')) {
			st->fs = s + 1;
			st->fe = scan_frac(s + 1, e, 9, &st->nsec);
			return st->fe;
		}
		return s;
	case P_OPTZONE:
		if (s == e)
			return s;
		/* FALLTHROUGH */
	case P_ZONE:
	case P_ZNAME:
		s = op->kind == P_ZNAME ? scan_zname(s, e, st) :
		    scan_zone(s, e, &st->off);
		st->have |= H_ZONE;
		return s;
	}
	return NULL;
}

static int
run(const struct timefmt *tf, const char *s, const char *e, struct pst *st)
{
	const struct pop *op, *end = tf->pop + tf->npop;
	size_t i;

	for (op = tf->pop; op < end; op++) {
		if (op->kind == P_LIT) {
			if ((size_t)(e - s) < op->len)
				return -1;
			/* Literals are short: a loop beats a memcmp call. */
			for (i = 0; i < op->len; i++)
				if (s[i] != op->lit[i])
					return -1;
			s += op->len;
		} else if ((s = scan_op(op, s, e, st)) == NULL)
			return -1;
	}
	return s == e ? 0 : -1;
}

/* The date and time now in the zone, for fields a format leaves out. */
static void
now_refresh(struct timefmt *tf, const struct pst *st)
{
	const int *v = st->v;
	unsigned h = st->have;
	int64_t key;
	struct tm tm;
	time_t t;

	/* Look again whenever the fields the text gave change. */
	key = (h & HAS(F_MON) ? v[F_MON] : 0) * 40 +
	    (h & HAS(F_MDAY) ? v[F_MDAY] : 0);
	key = key * 400 + (h & HAS(F_YDAY) ? v[F_YDAY] : 0);
	key = key * 30 + (h & HAS(F_HOUR) ? v[F_HOUR] + 1 : 0);
	if (tf->nvalid && key == tf->nkey)
		return;
	t = time(NULL);
	if (tf->local)
		localtime_r(&t, &tm);
	else {
		t += tf->off;
		gmtime_r(&t, &tm);
	}
	tf->now[0] = tm.tm_year + 1900;
	tf->now[1] = tm.tm_mon + 1;
	tf->now[2] = tm.tm_mday;
	tf->now[3] = tm.tm_hour;
	tf->now[4] = tm.tm_min;
	tf->now[5] = tm.tm_sec;
	tf->nkey = key;
	tf->nvalid = 1;
}

static int
yday_to_date(int y, int yday, int *mon, int *mday)
{
	int m;

	if (yday > (leap(y) ? 366 : 365))
		return -1;
	for (m = 1; yday > month_days(y, m); m++)
		yday -= month_days(y, m);
	*mon = m;
	*mday = yday;
	return 0;
}

/*
 * Leading fields the text leaves out come from the current time, the
 * rest default to the start of their range, as Ruby's Time.strptime does.
 */
static void
fill_missing(struct timefmt *tf, struct pst *st, int use_yday)
{
	static const unsigned char order[6] = {
		F_YEAR, F_MON, F_MDAY, F_HOUR, F_MIN, F_SEC
	};
	static const int dflt[6] = { 1970, 1, 1, 0, 0, 0 };
	unsigned h = st->have;
	int i, filling;

	if (use_yday)
		h |= HAS(F_MON) | HAS(F_MDAY);
	filling = !(h & HAS(F_YEAR));
	if (filling)
		now_refresh(tf, st);
	for (i = 0; i < 6; i++) {
		if (h & HAS(order[i])) {
			filling = 0;
			continue;
		}
		st->v[order[i]] = filling ? tf->now[i] : dflt[i];
	}
}

static int
resolve(struct timefmt *tf, struct pst *st)
{
	unsigned h = st->have;
	int *v = st->v, use_yday;

	if (h & HAS(F_YEAR2)) {
		v[F_YEAR] = h & HAS(F_CENT) ? v[F_CENT] * 100 + v[F_YEAR2] :
		    v[F_YEAR2] + (v[F_YEAR2] < 69 ? 2000 : 1900);
		h |= HAS(F_YEAR);
	} else if ((h & HAS(F_CENT)) && !(h & HAS(F_YEAR))) {
		v[F_YEAR] = v[F_CENT] * 100;
		h |= HAS(F_YEAR);
	}
	if (h & HAS(F_HOUR12)) {
		v[F_HOUR] = v[F_HOUR12];
		h |= HAS(F_HOUR);
	}
	if ((h & H_PM) && (h & HAS(F_HOUR)))
		v[F_HOUR] = v[F_HOUR] % 12 + (st->pm ? 12 : 0);
	use_yday = (h & HAS(F_YDAY)) &&
	    (h & (HAS(F_MON) | HAS(F_MDAY))) != (HAS(F_MON) | HAS(F_MDAY));
	st->have = h;
	fill_missing(tf, st, use_yday);
	if (use_yday && yday_to_date(v[F_YEAR], v[F_YDAY], &v[F_MON],
	    &v[F_MDAY]) < 0)
		return -1;
	return v[F_MDAY] <= month_days(v[F_YEAR], v[F_MON]) ? 0 : -1;
}

/* The UTC offset mktime(3) gives a local time; tm_isdst -1 lets it pick. */
static int
mktime_off(const int *v, int min, int sec, int32_t *off)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[F_YEAR] - 1900;
	tm.tm_mon = v[F_MON] - 1;
	tm.tm_mday = v[F_MDAY];
	tm.tm_hour = v[F_HOUR];
	tm.tm_min = min;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	tm.tm_wday = -1;
	t = mktime(&tm);
	if (t == (time_t)-1 && tm.tm_wday == -1)
		return -1;
	*off = (int32_t)(civil_secs(v[F_YEAR], v[F_MON], v[F_MDAY],
	    v[F_HOUR], min, sec) - (int64_t)t);
	return 0;
}

/*
 * The offset of local time is cached per hour of the local date.  An hour
 * whose start and end have different offsets (a change inside the hour)
 * asks mktime(3) for every line.
 */
static int
local_offset(struct timefmt *tf, int64_t days, const int *v, int32_t *off)
{
	int64_t key = days * 24 + v[F_HOUR];
	int32_t o0, o1;

	if (tf->hstate == 0 || key != tf->hkey) {
		if (mktime_off(v, 0, 0, &o0) < 0 ||
		    mktime_off(v, 59, 59, &o1) < 0)
			return -1;
		tf->hkey = key;
		tf->hoff = o0;
		tf->hstate = o0 == o1 ? 1 : 2;
	}
	if (tf->hstate == 1) {
		*off = tf->hoff;
		return 0;
	}
	return mktime_off(v, v[F_MIN], v[F_SEC], off);
}

static int64_t
cached_days(struct timefmt *tf, const int *v)
{
	int32_t key = (v[F_YEAR] * 16 + v[F_MON]) * 32 + v[F_MDAY];

	if (!tf->dvalid || key != tf->dkey) {
		tf->days = days_from_civil(v[F_YEAR], v[F_MON], v[F_MDAY]);
		tf->dkey = key;
		tf->dvalid = 1;
	}
	return tf->days;
}

static int
finish(struct timefmt *tf, struct pst *st, int64_t *sec, uint32_t *nsec)
{
	const int *v = st->v;
	int64_t days, t;
	int32_t off;

	if (st->have & H_EPOCH) {
		/* As in Ruby, %N adds to %s: "-1.25" is -1 + 0.25. */
		t = st->epoch;
	} else {
		if (resolve(tf, st) < 0)
			return -1;
		days = cached_days(tf, v);
		if (st->have & H_ZONE)
			off = st->off;
		else if (!tf->local)
			off = tf->off;
		else if (local_offset(tf, days, v, &off) < 0)
			return -1;
		t = days * 86400 + v[F_HOUR] * 3600 + v[F_MIN] * 60 +
		    v[F_SEC] - off;
	}
	*sec = t;
	*nsec = st->nsec;
	return 0;
}

/* "unixtime" and "float": [-]digits[.digits] */
static int
parse_number(const char *s, const char *e, int64_t *sec, uint32_t *nsec)
{
	struct pst st;
	const char *f;

	st.nsec = 0;
	if ((s = scan_epoch(s, e, &st)) == NULL)
		return -1;
	if (s < e && *s == '.') {
		if ((f = scan_frac(s + 1, e, 9, &st.nsec)) == NULL)
			return -1;
		for (s = f; s < e && ISDIGIT(*s); s++)
			continue;
	}
	if (s != e)
		return -1;
	*sec = st.epoch;
	if (st.eneg && st.nsec) {
		(*sec)--;
		st.nsec = 1000000000 - st.nsec;
	}
	*nsec = st.nsec;
	return 0;
}

/*
 * A line equal to the last one but for the digits of its fraction has the
 * same second: every operation but the fraction sees the same bytes, and
 * none tells one unconsumed digit from another.
 */
static int
line_hit(const struct timefmt *tf, const char *s, size_t len, uint32_t *nsec)
{
	size_t i, n = tf->lfe - tf->lfs;
	uint32_t v = 0;

	if (!tf->lvalid || len != tf->llen ||
	    memcmp(s, tf->line, tf->lfs) != 0 ||
	    memcmp(s + tf->lfe, tf->line + tf->lfe, len - tf->lfe) != 0)
		return 0;
	for (i = tf->lfs; i < tf->lfe; i++) {
		if (!ISDIGIT(s[i]))
			return 0;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*nsec = v * pow10[9 - n];
	return 1;
}

static void
line_save(struct timefmt *tf, const char *s, size_t len,
    const struct pst *st, int64_t sec)
{
	tf->lvalid = 0;
	if (len > sizeof tf->line || tf->nfracop > 1)
		return;
	memcpy(tf->line, s, len);
	tf->llen = len;
	tf->lfs = tf->lfe = len;
	if (st->fs && st->fe) {
		tf->lfs = (size_t)(st->fs - s);
		tf->lfe = (size_t)(st->fe - s);
	}
	tf->lsec = sec;
	tf->lvalid = 1;
}

int
timefmt_parse(struct timefmt *tf, const char *s, size_t len, int64_t *sec,
    uint32_t *nsec)
{
	struct pst st;

	if (tf->kind == TF_UNIX || tf->kind == TF_FLOAT)
		return parse_number(s, s + len, sec, nsec);
	if (line_hit(tf, s, len, nsec)) {
		*sec = tf->lsec;
		return 0;
	}
	st.have = 0;
	st.nsec = 0;
	st.eneg = 0;
	st.fs = st.fe = NULL;
	if (run(tf, s, s + len, &st) < 0 || finish(tf, &st, sec, nsec) < 0)
		return -1;
	line_save(tf, s, len, &st, *sec);
	return 0;
}

/*
 * Formatting.
 */

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
