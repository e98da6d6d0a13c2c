/* path - each event's file: --path with strftime and ${...} placeholders */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "mp.h"
#include "recpath.h"
#include "timefmt.h"
#include "tmpl.h"

#include "lout.h"

#define VALUE_MAX 128           /* bytes of a value put in a name */
#define DAY 86400

/*
 * The template, cut into text (P_TIME if it holds a strftime conversion)
 * and placeholders (tag, tag parts, record fields; ${hostname} is text).
 */
enum { P_LIT, P_TIME, P_PH };

struct pseg {
	int kind;
	char *text;             /* P_LIT: owned */
	size_t len;
	struct timefmt *tf;     /* P_TIME */
	struct buf now;         /* P_TIME: its text in the current slice */
	struct tmpl_seg ph;     /* P_PH */
};

static struct pseg *segs;
static size_t nsegs;
static int has_ph, has_tag, has_rec;    /* what a name depends on */

/*
 * The time text of the template is the same for every second of a slice
 * of time: a local day, hour or minute (the finest unit it writes), or
 * one second; worked out once a slice, not once an event.  Below the
 * second (%L, %N) there are no slices.
 */
static int has_time;                    /* any strftime conversion */
static int64_t unit = DAY;              /* DAY, 3600, 60, 1; 0: below */
static struct timefmt *tf_civil;        /* the local time, to find the
					 * zone's offset */
static int64_t slo, shi;                /* the current slice [slo, shi) */

/* What a value did to a name: counted for --stats, per event. */
#define V_MISSING 1             /* a tag part or field not there */
#define V_REPLACED 2            /* a value changed to be safe */
static uint64_t n_missing, n_replaced;

/*
 * Names already worked out, by slice and tag (when the template has no
 * field): an event like one before it costs a compare, no formatting.
 * Without tag placeholders one entry does, as events come in time order.
 */
#define CACHE 256

struct centry {
	int64_t lo, hi;         /* the slice of time */
	uint32_t nsec;          /* below the second: the event's */
	int flags;
	char *tag;
	size_t tag_len, tag_cap;
	struct file *f;
	uint64_t gen;           /* f's opening it was worked out for */
};

static struct centry cache[CACHE];
static struct file *last;               /* the file of the last name */
static uint64_t last_gen;
static struct buf name, val;

/* --- slices of time --------------------------------------------------- */

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d. */
static int64_t
civil_days(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The zone's offset from UTC at t, in seconds; 0 and -1 if unknown. */
static int
zone_offset(int64_t t, int64_t *off)
{
	char s[64];
	long long y;
	int m, d, hh, mm, ss;
	size_t n;

	n = timefmt_format(tf_civil, t, 0, s, sizeof(s) - 1);
	s[n] = '\0';
	if (!n || sscanf(s, "%lld %d %d %d %d %d", &y, &m, &d, &hh, &mm,
	    &ss) != 6 || y < -1000000 || y > 1000000)
		return -1;
	*off = civil_days(y, m, d) * DAY + hh * 3600 + mm * 60 + ss - t;
	return 0;
}

/*
 * Sets the slice of t: the local unit it falls in, if the zone's offset
 * is the same all through it (no change of summer time); else t alone.
 */
static void
slice(int64_t t)
{
	int64_t off, o2, o3, r;

	if (!has_time) {
		slo = INT64_MIN;        /* the name does not depend on it */
		shi = INT64_MAX;
		return;
	}
	slo = shi = t;          /* empty: worked out for each event */
	if (t < -((int64_t)1 << 60) || t > (int64_t)1 << 60)
		return;
	shi = t + 1;
	if (unit <= 1 || zone_offset(t, &off) < 0)
		return;
	r = (t + off) % unit;
	if (r < 0)
		r += unit;
	if (zone_offset(t - r, &o2) < 0 || zone_offset(t - r + unit - 1,
	    &o3) < 0 || o2 != off || o3 != off)
		return;
	slo = t - r;
	shi = slo + unit;
}

/* The finest time unit that strftime conversion c writes. */
static int64_t
conv_unit(int c)
{
	if (strchr("YCyGgmbBhdejaAuwUWVDFxz%nt", c))
		return DAY;
	if (strchr("HIklpPZ", c))
		return 3600;
	if (strchr("MR", c))
		return 60;
	if (c == 'L' || c == 'N')
		return 0;
	return 1;               /* S, T, s, c, r, X and anything else */
}

/* Narrows unit to the conversions of the strftime format s. */
static void
units(const char *s)
{
	int64_t u;

	for (; *s; s++) {
		if (*s != '%')
			continue;
		for (s++; *s && strchr("-_0^#:123456789EO", *s); s++)
			;
		if (!*s)
			break;
		u = conv_unit(*s);
		if (u < unit)
			unit = u;
	}
}

/* --- names ------------------------------------------------------------ */

/*
 * Appends the value v[0..len) so that it stays one piece of one path
 * component: '/' and control bytes (NUL too) become '_', a value of dots
 * only ("." or "..") has each dot made '_', an empty one is "_", and one
 * longer than VALUE_MAX bytes is cut there (at a UTF-8 character's
 * start).  Returns V_REPLACED if it changed anything.
 */
static int
put_safe(struct buf *b, const char *v, size_t len)
{
	size_t i, from = b->len;
	int flags = 0, dots = 1;
	unsigned char c;

	if (len > VALUE_MAX) {
		for (len = VALUE_MAX; len > 0 && ((unsigned char)v[len] &
		    0xc0) == 0x80; len--)
			;
		flags = V_REPLACED;
	}
	if (!len) {
		buf_putc(b, '_');
		return V_REPLACED;
	}
	buf_put(b, v, len);
	for (i = from; i < b->len; i++) {
		c = (unsigned char)b->p[i];
		dots &= c == '.';
		if (c == '/' || c < 0x20 || c == 0x7f) {
			b->p[i] = '_';
			flags = V_REPLACED;
		}
	}
	if (dots) {
		memset(b->p + from, '_', len);
		flags = V_REPLACED;
	}
	return flags;
}

/* A path of one key: found in one pass. */
static int
one_key(const struct recpath *rp)
{
	return rp->n == 1 && rp->step[0].key;
}

/* Appends the value of placeholder sg for ev; V_* flags. */
static int
put_ph(struct buf *b, const struct tmpl_seg *sg, const struct event *ev)
{
	const char *v;
	size_t len;

	switch (sg->kind) {
	case TMPL_TAG:
		return put_safe(b, ev->tag, ev->tag_len);
	case TMPL_RECORD:
		if (!(one_key(&sg->path) ? mp_map_get(ev->rec, ev->rec +
		    ev->rec_len, sg->path.step[0].key, sg->path.step[0].len, &v,
		    &len) : recpath_get(&sg->path, ev->rec, ev->rec +
		    ev->rec_len, &v, &len)))
			break;
		val.len = 0;
		recpath_to_s(&val, v, v + len);
		return put_safe(b, val.p, val.len);
	default:                /* the parts of the tag */
		if (!tmpl_tag_piece(sg->kind, sg->n, ev->tag, ev->tag_len, &v,
		    &len))
			break;
		return put_safe(b, v, len);
	}
	buf_putc(b, '_');
	return V_MISSING;
}

static _Noreturn void
too_long(void)
{
	warn("--path expands to more than 4 KiB");
	not_written++;          /* the event in hand */
	fail_exit(EX_USAGE);
}

/* Formats the time text of each P_TIME piece for t (the current slice). */
static void
time_texts(int64_t t, uint32_t nsec)
{
	struct pseg *sg;
	size_t n;

	for (sg = segs; sg < segs + nsegs; sg++) {
		if (sg->kind != P_TIME)
			continue;
		buf_reserve(&sg->now, PATH_CAP);
		n = timefmt_format(sg->tf, t, nsec, sg->now.p, PATH_CAP);
		if (!n)
			too_long();
		sg->now.len = n;
	}
}

/*
 * The name of ev's file in name, NUL-terminated (not counted); V_* flags.
 * name has room for PATH_CAP bytes and more (path_setup).
 */
static int
render(const struct event *ev)
{
	const struct pseg *sg, *end = segs + nsegs;
	int flags = 0;

	if (!unit || ev->sec < slo || ev->sec >= shi) {
		slice(ev->sec);
		time_texts(ev->sec, ev->nsec);
	}
	name.len = 0;
	for (sg = segs; sg < end; sg++) {
		if (sg->kind == P_TIME)
			buf_put(&name, sg->now.p, sg->now.len);
		else if (sg->kind == P_LIT)
			buf_put(&name, sg->text, sg->len);
		else
			flags |= put_ph(&name, &sg->ph, ev);
		if (name.len >= PATH_CAP)
			too_long();
	}
	if (o.gzip && (name.len < 3 || memcmp(name.p + name.len - 3, ".gz",
	    3)))
		buf_put(&name, ".gz", 3);
	if (name.len >= PATH_CAP)
		too_long();
	name.p[name.len] = '\0';
	return flags;
}

static size_t
cache_slot(const struct event *ev)
{
	uint32_t h = name_hash(ev->tag, ev->tag_len);

	if (!unit)
		h ^= (uint32_t)ev->sec * 2654435761u ^ ev->nsec * 40503u;
	return (h ^ h >> 16) & (CACHE - 1);
}

static void
count(int flags)
{
	n_missing += (flags & V_MISSING) != 0;
	n_replaced += (flags & V_REPLACED) != 0;
}

/* The file named after ev, its name worked out; c, if given, remembers it. */
static struct file *
by_name(const struct event *ev, struct centry *c)
{
	struct file *f;
	int flags;

	flags = render(ev);
	if (has_ph)
		count(flags);
	if (last && last->gen == last_gen && last->name_len == name.len &&
	    memcmp(last->name, name.p, name.len) == 0) {
		f = last;               /* a new slice, the same file */
		files_touch(f);
	} else {
		f = files_get(name.p, name.len);
		last = f;
		last_gen = f->gen;
	}
	if (!c)
		return f;
	c->lo = slo;
	c->hi = shi;
	c->nsec = ev->nsec;
	c->flags = flags;
	if (has_tag) {
		if (c->tag_cap < ev->tag_len + 1) {
			c->tag_cap = ev->tag_len + 1;
			c->tag = xrealloc(c->tag, c->tag_cap);
		}
		memcpy(c->tag, ev->tag, ev->tag_len);
		c->tag_len = ev->tag_len;
	}
	c->f = f;
	c->gen = f->gen;
	return f;
}

/* The open file an event goes to; exits if it cannot be opened. */
struct file *
path_file(const struct event *ev)
{
	struct centry *c;

	if (has_rec)
		return by_name(ev, NULL);
	c = has_tag ? &cache[cache_slot(ev)] : cache;
	if (ev->sec >= c->lo && ev->sec < c->hi && c->f &&
	    c->f->gen == c->gen && (unit || c->nsec == ev->nsec) &&
	    (!has_tag || (c->tag_len == ev->tag_len && memcmp(c->tag, ev->tag,
	    ev->tag_len) == 0))) {
		if (has_ph)
			count(c->flags);
		files_touch(c->f);
		return c->f;
	}
	return by_name(ev, c);
}

/* --- the template ----------------------------------------------------- */

static struct pseg *
seg_new(int kind)
{
	segs = xrealloc(segs, (nsegs + 1) * sizeof(*segs));
	memset(&segs[nsegs], 0, sizeof(*segs));
	segs[nsegs].kind = kind;
	return &segs[nsegs++];
}

/* Text of the template: literal, or strftime'd on the event time. */
static void
add_text(const char *s, size_t len)
{
	struct pseg *sg;
	char *t = xstrndup(s, len);

	if (!memchr(t, '%', len)) {
		sg = seg_new(P_LIT);
		sg->text = t;
		sg->len = len;
		return;
	}
	sg = seg_new(P_TIME);
	sg->tf = compile_time(t);
	units(t);
	has_time = 1;
	free(t);
}

static void
add_hostname(void)
{
	char host[256];
	struct buf b = { 0 };
	struct pseg *sg;

	if (gethostname(host, sizeof(host) - 1) < 0)
		die(EX_SYS, "unable to get the host name:");
	host[sizeof(host) - 1] = '\0';
	put_safe(&b, host, strlen(host));
	sg = seg_new(P_LIT);
	sg->text = xstrndup(b.p, b.len);
	sg->len = b.len;
	buf_free(&b);
}

void
path_setup(void)
{
	const char *p = o.path, *end = p + strlen(p), *why;
	struct tmpl_seg ts;
	int r;

	while ((r = tmpl_next(&p, end, TMPL_TAG_INDEX, &ts, &why)) != 0) {
		if (r < 0)
			die(EX_USAGE, "unknown placeholder '${%.*s}' in "
			    "--path: %s", (int)ts.len, ts.s, why);
		if (ts.kind == TMPL_LIT) {
			add_text(ts.s, ts.len);
			continue;
		}
		if (ts.kind == TMPL_TIME)
			die(EX_USAGE, "${time} in --path: use strftime "
			    "conversions such as %%Y%%m%%d");
		if (ts.kind == TMPL_HOSTNAME) {
			add_hostname();
			continue;
		}
		seg_new(P_PH)->ph = ts;
		has_ph = 1;
		has_rec |= ts.kind == TMPL_RECORD;
		has_tag |= ts.kind != TMPL_RECORD;
	}
	if (!nsegs)
		die(EX_USAGE, "--path is empty");
	buf_reserve(&name, PATH_CAP + 8);
	if (has_time && unit > 1)
		tf_civil = compile_time("%Y %m %d %H %M %S");
}

void
path_stats(char *b, size_t cap)
{
	if (has_ph)
		snprintf(b, cap, ", path values missing %llu, replaced %llu",
		    (unsigned long long)n_missing,
		    (unsigned long long)n_replaced);
	else if (cap)
		*b = '\0';
}

void
path_free(void)
{
	size_t i;

	for (i = 0; i < nsegs; i++) {
		free(segs[i].text);
		timefmt_free(segs[i].tf);
		buf_free(&segs[i].now);
		if (segs[i].kind == P_PH && segs[i].ph.kind == TMPL_RECORD)
			recpath_free(&segs[i].ph.path);
	}
	free(segs);
	timefmt_free(tf_civil);
	for (i = 0; i < CACHE; i++)
		free(cache[i].tag);
	buf_free(&name);
	buf_free(&val);
}
