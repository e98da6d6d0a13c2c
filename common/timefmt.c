/* timefmt - time formats, strftime plus Fluentd's extensions: compiling */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "timefmt_int.h"

#define ISO_FORMAT "%Y-%m-%dT%H:%M:%S.%N%:z"

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

/* Days from 1970-01-01 to the date y-m-d (proleptic Gregorian). */
int64_t
timefmt_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

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

struct timefmt *
timefmt_new(const char *spec, const char *tz, const char **err)
{
	struct timefmt *tf;
	const char *dummy;

	if (err == NULL)
		err = &dummy;
	tf = xcalloc(1, sizeof *tf);
	if (tf_zone_setup(tf, tz, err) < 0 || compile(tf, spec, err) < 0) {
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
