/* record - lparse's per-event path: the --key text parsed, the record built */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "input.h"
#include "mp.h"
#include "parse_text.h"
#include "rec.h"
#include "recpath.h"
#include "stats.h"
#include "stream.h"

#include "lparse.h"

/*
 * Everything an event goes through when it parses stays in this file, so
 * that the compiler can inline it: the other files hold the formats and
 * values that are not plain text, setup and failures.
 */

struct run run;

static struct buf stripped;     /* the record without --key (merge) */
static struct buf scrubbed;     /* --replace-invalid-sequence's text */
static struct {                 /* and the text before, which msgpack reads */
	const char *p;
	size_t n;
} unscrubbed;
static char why_nokey[300], why_notext[300];

/*
 * Times.
 */

/* An EventTime (ext 0 of 8 bytes): seconds and nanoseconds, big-endian. */
static int
ext_time(enum time_type type, const char *p, int64_t *sec, uint32_t *nsec)
{
	const unsigned char *u = (const unsigned char *)p;
	uint32_t s = (uint32_t)u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3];
	uint32_t ns = (uint32_t)u[4] << 24 | u[5] << 16 | u[6] << 8 | u[7];

	if (ns > 999999999)
		return -1;
	*sec = s;
	*nsec = type == TT_UNIXTIME ? 0 : ns;
	return 0;
}

/*
 * A number as a time: unixtime drops the fraction, as Ruby's to_i; an
 * EventTime (a msgpack record's) is taken as it is.
 */
static int
number_time(enum time_type type, const struct pfield *f, int64_t *sec,
    uint32_t *nsec)
{
	const char *q = f->v;
	struct mp_obj h;
	double d;

	*nsec = 0;
	if (f->kind == PK_INT) {
		*sec = f->i;
		return 0;
	}
	if (f->kind == PK_FLOAT)
		d = f->f;
	else if (f->kind != PK_RAW || mp_head(&q, f->v + f->vlen, &h) != MP_OK)
		return -1;
	else if (h.type == MP_UINT && h.v.u <= INT64_MAX)
		return *sec = (int64_t)h.v.u, 0;
	else if (h.type == MP_INT)
		return *sec = h.v.i, 0;
	else if (h.type == MP_FLOAT)
		d = h.v.f;
	else if (h.type == MP_EXT && h.ext_type == 0 && h.len == 8)
		return ext_time(type, h.data, sec, nsec);
	else
		return -1;
	if (type == TT_UNIXTIME)
		d = trunc(d);
	return event_time_from_double(d, sec, nsec);
}

/* A time field that is not text: a number, if the time type takes one. */
static int
number_field(const struct tparser *tp, const struct pfield *f, int64_t *sec,
    uint32_t *nsec, const char **why)
{
	enum time_type t = tp->type != TT_STRING ? tp->type : tp->num;

	if (t != TT_STRING && number_time(t, f, sec, nsec) == 0)
		return 0;
	*why = "time is not a string";
	return -1;
}

/* A time as text: the format or the guess, then the fallbacks. */
static inline int
time_text(const struct tparser *tp, const char *s, size_t n, int64_t *sec,
    uint32_t *nsec)
{
	if ((tp->tf ? timefmt_parse(tp->tf, s, n, sec, nsec) :
	    time_guess(s, n, sec, nsec)) == 0) {
		if (tp->type == TT_UNIXTIME)
			*nsec = 0;
		return 0;
	}
	return tp->nfb ? time_fallback(tp, s, n, sec, nsec) : -1;
}

int
record_time_text(const struct tparser *tp, const char *s, size_t n,
    int64_t *sec, uint32_t *nsec)
{
	return time_text(tp, s, n, sec, nsec);
}

/* Reads a time field; 0, or -1 with *why set. */
int
record_parse_time(const struct tparser *tp, const struct pfield *f,
    int64_t *sec, uint32_t *nsec, const char **why)
{
	const char *s;
	size_t n;

	if (!field_text(f, &s, &n))
		return number_field(tp, f, sec, nsec, why);
	if (time_text(tp, s, n, sec, nsec) == 0)
		return 0;
	*why = tp->tf ? "time does not match the time format" :
	    "time in no known format (see --time-format)";
	return -1;
}

/*
 * Records: the parsed fields, merged with the original ones
 * (--reserve-data) as Ruby's Hash#merge does, or under --hash-value-field.
 * They are written straight into the output buffer.
 */

/* A field's value, after the null patterns and --types (types.c). */
static void
put_value(struct buf *b, const struct pfield *f)
{
	if (f->kind == PK_STR && !o.convert_values)
		put_str(b, f->v, f->vlen);
	else
		types_put_value(b, f);
}

static void
put_key(struct buf *b, const char *k, size_t klen)
{
	put_strhdr(b, o.prefix_len + klen);
	if (o.prefix_len) {
		memcpy(b->p + b->len, o.prefix, o.prefix_len);
		b->len += o.prefix_len;
	}
	memcpy(b->p + b->len, k, klen);
	b->len += klen;
}

static uint32_t
count_fields(void)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < run.pf.n; i++)
		n += !run.pf.f[i].drop && !run.pf.f[i].used;
	return n;
}

/* The parsed fields not written yet, as pairs. */
static void
put_fields(struct buf *b)
{
	struct pfield *f;
	size_t i;

	for (i = 0; i < run.pf.n; i++) {
		f = &run.pf.f[i];
		if (f->drop || f->used)
			continue;
		put_key(b, f->k, f->klen);
		put_value(b, f);
	}
}

/* --hash-value-field: one pair, the fields as a map. */
static void
put_hash(struct buf *b)
{
	put_str(b, o.hash_field, o.hash_len);
	mp_put_maphdr(b, count_fields());
	put_fields(b);
}

/* The parsed field whose key (with the prefix) is k, or NULL. */
static struct pfield *
parsed(const char *k, size_t klen)
{
	struct pfield *f;
	size_t i;

	if (klen < o.prefix_len || memcmp(k, o.prefix, o.prefix_len) != 0)
		return NULL;
	k += o.prefix_len;
	klen -= o.prefix_len;
	for (i = 0; i < run.pf.n; i++) {
		f = &run.pf.f[i];
		if (!f->drop && !f->used && f->klen == klen &&
		    memcmp(f->k, k, klen) == 0)
			return f;
	}
	return NULL;
}

/* The str or bin key at *p (else NULL); advances *p past the key. */
static const char *
pair_key(const char **p, const char *end, size_t *klen)
{
	const char *k = *p;
	struct mp_obj h;

	if (mp_head(p, end, &h) == MP_OK && (h.type == MP_STR ||
	    h.type == MP_BIN)) {
		*klen = h.len;
		return h.data;
	}
	*p = k;
	mp_skip(p, end, NULL);
	return NULL;
}

/*
 * The original pairs, a parsed value in place of one of the same key;
 * parsed: the text parsed (--remove-key-name-field applies).
 */
static int
merge(struct rec *r, const struct event *ev, int parsed_ok)
{
	int remove = o.remove_key && parsed_ok;
	const char *p = ev->rec, *end = p + ev->rec_len, *pair, *k;
	struct mp_obj m;
	struct pfield *f;
	uint32_t i;
	size_t kl = 0;
	int hashed = 0;

	if (remove && o.use_path) {
		stripped.len = 0;
		if (recpath_put_without(&o.keypath, &stripped, p, end)) {
			p = stripped.p;
			end = p + stripped.len;
		}
	}
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		k = pair_key(&p, end, &kl);
		mp_skip(&p, end, NULL);
		if (k && remove && !o.use_path && kl == o.key_len &&
		    memcmp(k, o.key, kl) == 0)
			continue;
		if (k && o.hash_field && kl == o.hash_len &&
		    memcmp(k, o.hash_field, kl) == 0) {
			put_hash(r->b);
			hashed = 1;
		} else if (k && !o.hash_field && (f = parsed(k, kl))) {
			put_key(r->b, f->k, f->klen);
			put_value(r->b, f);
			f->used = 1;
		} else {
			rec_pairs(r, pair, p - pair, 0);
		}
		r->n++;
	}
	return hashed;
}

/* Appends the record to b (parsed_ok: see merge). */
void
record_build(struct buf *b, const struct event *ev, int parsed_ok)
{
	struct rec r;
	int hashed;

	if (!o.reserve_data) {
		if (o.hash_field) {
			mp_put_maphdr(b, 1);
			put_hash(b);
		} else {
			mp_put_maphdr(b, count_fields());
			put_fields(b);
		}
		return;
	}
	rec_begin(&r, b);
	hashed = merge(&r, ev, parsed_ok);
	if (!o.hash_field) {
		r.n += count_fields();
		put_fields(b);
	} else if (!hashed) {
		put_hash(b);
		r.n++;
	}
	rec_end(&r);
}

/*
 * Events.
 */

/* [tag, time, for an event; the record is to follow. */
void
record_head(struct buf *b, const char *tag, size_t tag_len, int64_t sec,
    uint32_t nsec)
{
	buf_reserve(b, 16);
	b->p[b->len++] = (char)0x93;
	put_str(b, tag, tag_len);
	event_put_time(b, sec, nsec);
}

/* Takes the time from the time key: 0, or -1 with *why set. */
static int
take_time(int64_t *sec, uint32_t *nsec, int *have, const char **why)
{
	struct pfield *f;
	size_t i;

	for (i = 0; i < run.pf.n; i++) {
		f = &run.pf.f[i];
		if (f->klen != o.time_key_len || memcmp(f->k, o.time_key,
		    o.time_key_len) != 0)
			continue;
		if (o.reserve_time) {
			/* the time is not used: whatever it holds is fine */
			f->drop = !o.keep_time;
			return 0;
		}
		if (record_parse_time(&run.tp_time, f, sec, nsec, why) < 0)
			return -1;
		f->drop = !o.keep_time;
		*have = 1;
		return 0;
	}
	return 0;
}

/*
 * Writes the parsed fields as an event into the output buffer, without
 * flushing it: 0, or -1 with *why when the time field does not read
 * (nothing written).
 */
int
record_emit(const struct event *ev, int have, int64_t sec, uint32_t nsec,
    const char **why)
{
	struct buf *b;

	if (o.time_key && take_time(&sec, &nsec, &have, why) < 0)
		return -1;
	if (o.reserve_time || (!have && !o.estimate)) {
		sec = ev->sec;
		nsec = ev->nsec;
	} else if (!have) {
		event_now(&sec, &nsec);
	}
	b = &run.out.b;
	record_head(b, ev->tag, ev->tag_len, sec, nsec);
	record_build(b, ev, 1);
	stats.out++;
	return 0;
}

/*
 * The plain formats: each fills run.pf from the text s[0..n): 0, or -1
 * with *why.
 */

int
record_match(struct rx *rx, const char *s, size_t n, const char **why)
{
	int r = rx_match(rx, s, n);

	if (r == 1)
		return 0;
	*why = r == 0 ? "pattern not matched" : "the regex could not finish "
	    "(a match or stack limit)";
	return -1;
}

/*
 * The named groups that took part, in order (g: their names, made once,
 * or NULL to ask rx).
 */
int
record_regex(struct rx *rx, const struct gname *g, const char *s, size_t n,
    const char **why)
{
	size_t i, names = rx_names(rx), len;
	const char *p, *name;

	if (record_match(rx, s, n, why) < 0)
		return -1;
	for (i = 0; i < names; i++) {
		if (rx_group(rx, i, s, &p, &len) < 0)
			continue;
		if (g) {
			pfields_str(&run.pf, g[i].name, g[i].len, p, len);
		} else {
			name = rx_name(rx, i);
			pfields_str(&run.pf, name, strlen(name), p, len);
		}
	}
	return 0;
}

/*
 * The plain --regex event, written straight from the match: with no
 * option that changes a value, a key or the record's other pairs, the
 * pairs are the named groups that took part, each key written once at
 * setup, and the time group is read in place.  The same bytes as
 * record_regex then record_emit, without the fields in between.
 */
static struct {
	int on;
	size_t tk;              /* the time key's group, or SIZE_MAX */
	char **key;             /* each group's key, str header and name,
				   in at least KEYPAD bytes */
	size_t *klen;
	size_t keys;            /* the keys' bytes */
	size_t n;
} quick;
#define KEYPAD 16

/* A str header for n bytes at q, room made: its length. */
static inline size_t
quick_strhdr(unsigned char *q, size_t n)
{
	if (n < 32) {
		q[0] = (unsigned char)(0xa0 | n);
		return 1;
	}
	if (n < 256) {
		q[0] = 0xd9;
		q[1] = (unsigned char)n;
		return 2;
	}
	if (n < 65536) {
		q[0] = 0xda;
		q[1] = (unsigned char)(n >> 8);
		q[2] = (unsigned char)n;
		return 3;
	}
	q[0] = 0xdb;
	q[1] = (unsigned char)(n >> 24);
	q[2] = (unsigned char)(n >> 16);
	q[3] = (unsigned char)(n >> 8);
	q[4] = (unsigned char)n;
	return 5;
}

/* [tag, time, at q, room made: past them. */
static inline unsigned char *
quick_head(unsigned char *q, const struct event *ev, int64_t sec,
    uint32_t nsec)
{
	uint64_t w = (uint64_t)sec << 32 | nsec; /* EventTime, big-endian */

	*q++ = 0x93;
	q += quick_strhdr(q, ev->tag_len);
	memcpy(q, ev->tag, ev->tag_len);
	q += ev->tag_len;
	q[0] = 0xd7;
	q[1] = 0x00;
	q[2] = (unsigned char)(w >> 56);
	q[3] = (unsigned char)(w >> 48);
	q[4] = (unsigned char)(w >> 40);
	q[5] = (unsigned char)(w >> 32);
	q[6] = (unsigned char)(w >> 24);
	q[7] = (unsigned char)(w >> 16);
	q[8] = (unsigned char)(w >> 8);
	q[9] = (unsigned char)w;
	return q + 10;
}

/*
 * The pairs of the groups that took part but skip, at q, room made (and
 * KEYPAD more): past them, *pairs their number.  A short key is copied
 * KEYPAD bytes at once, its padding overwritten next.
 */
static inline unsigned char *
quick_pairs(unsigned char *q, const char *s, const size_t *ov, const int *g,
    size_t skip, uint32_t *pairs)
{
	size_t i, at, len;
	uint32_t np = 0;

	for (i = 0; i < quick.n; i++) {
		if (i == skip || (at = ov[2 * g[i]]) == RX_UNSET)
			continue;
		len = ov[2 * g[i] + 1] - at;
		if (quick.klen[i] <= KEYPAD)
			memcpy(q, quick.key[i], KEYPAD);
		else
			memcpy(q, quick.key[i], quick.klen[i]);
		q += quick.klen[i];
		q += quick_strhdr(q, len);
		memcpy(q, s + at, len);
		q += len;
		np++;
	}
	*pairs = np;
	return q;
}

static int
quick_regex(const struct event *ev, const char *s, size_t n,
    const char **why)
{
	struct rx *rx = pick(&fm.main, s, n);
	struct buf *b = &run.out.b;
	const size_t *ov;
	const int *g;
	unsigned char *q, *mh;
	int64_t sec;
	uint32_t nsec, pairs = 0;
	size_t i, need, at, skip = SIZE_MAX;

	if (record_match(rx, s, n, why) < 0)
		return -1;
	ov = rx_ovector(rx, &g);
	if (quick.tk != SIZE_MAX && ov[2 * g[quick.tk]] != RX_UNSET) {
		at = ov[2 * g[quick.tk]];
		if (time_text(&run.tp_time, s + at, ov[2 * g[quick.tk] + 1] -
		    at, &sec, &nsec) < 0) {
			*why = run.tp_time.tf ? "time does not match the time "
			    "format" : "time in no known format (see "
			    "--time-format)";
			return -1;
		}
		if (!o.keep_time)
			skip = quick.tk;
	} else if (!o.estimate) {
		sec = ev->sec;
		nsec = ev->nsec;
	} else {
		event_now(&sec, &nsec);
	}
	if (quick.n <= 15 && n <= 4096 && sec >= 0 && sec <= 0xffffffffLL) {
		/* one pass: each value is at most the line */
		buf_reserve(b, 1 + 5 + ev->tag_len + 10 + 1 + quick.keys +
		    quick.n * (5 + n) + KEYPAD);
		q = quick_head((unsigned char *)b->p + b->len, ev, sec, nsec);
		mh = q++;
		q = quick_pairs(q, s, ov, g, skip, &pairs);
		*mh = (unsigned char)(0x80 | pairs);
	} else {
		need = 1 + 5 + ev->tag_len + 10 + 5 + KEYPAD;
		for (i = 0; i < quick.n; i++)
			if (i != skip && ov[2 * g[i]] != RX_UNSET) {
				need += quick.klen[i] + 5 +
				    ov[2 * g[i] + 1] - ov[2 * g[i]];
				pairs++;
			}
		if (sec < 0 || sec > 0xffffffffLL) {
			record_head(b, ev->tag, ev->tag_len, sec, nsec);
		} else {
			buf_reserve(b, 1 + 5 + ev->tag_len + 10);
			q = quick_head((unsigned char *)b->p + b->len, ev,
			    sec, nsec);
			b->len = (char *)q - b->p;
		}
		mp_put_maphdr(b, pairs);
		buf_reserve(b, need);
		q = quick_pairs((unsigned char *)b->p + b->len, s, ov, g,
		    skip, &pairs);
	}
	b->len = (char *)q - b->p;
	stats.out++;
	return 0;
}

/* Whether quick_regex writes the events: set up once, at the end. */
static void
quick_setup(void)
{
	struct buf k = { 0 };
	size_t i;

	if ((o.format != F_REGEXP && o.format != F_APACHE &&
	    o.format != F_APACHE_ERROR && o.format != F_NGINX) || o.multi ||
	    !fm.main.nl || !fm.groups || o.reserve_data || o.hash_field ||
	    o.prefix_len || o.convert_values || o.typed_groups ||
	    o.reserve_time || run.pf.dedup)
		return;
	quick.n = rx_names(fm.main.nl);
	if (quick.n != rx_names(fm.main.fast))
		return;
	quick.tk = SIZE_MAX;
	quick.key = xcalloc(quick.n ? quick.n : 1, sizeof(*quick.key));
	quick.klen = xcalloc(quick.n ? quick.n : 1, sizeof(*quick.klen));
	for (i = 0; i < quick.n; i++) {
		k.len = 0;
		mp_put_strhdr(&k, fm.groups[i].len);
		buf_put(&k, fm.groups[i].name, fm.groups[i].len);
		quick.key[i] = xcalloc(1, k.len < KEYPAD ? KEYPAD : k.len);
		memcpy(quick.key[i], k.p, k.len);
		quick.klen[i] = k.len;
		quick.keys += k.len;
		if (quick.tk == SIZE_MAX && o.time_key &&
		    fm.groups[i].len == o.time_key_len &&
		    memcmp(fm.groups[i].name, o.time_key, o.time_key_len) == 0)
			quick.tk = i;
	}
	buf_free(&k);
	quick.on = 1;
}

static int
parse_line(const char *s, size_t n, int *have, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	switch (o.format) {
	case F_REGEXP: case F_APACHE: case F_APACHE_ERROR: case F_NGINX:
		return record_regex(pick(&fm.main, s, n), fm.groups, s, n,
		    why);
	case F_APACHE2: case F_SYSLOG: case F_CRI:
		*have = 1;
		return format_timed(s, n, sec, nsec, why);
	case F_LTSV:
		if (fm.delim_rx)
			format_ltsv_pattern(s, n);
		else
			parse_ltsv(&run.pf, s, n, fm.delim, fm.delim_len,
			    o.label_delim, strlen(o.label_delim));
		return 0;
	case F_CSV:
		return parse_csv(&run.pf, s, n, fm.delim, fm.delim_len,
		    &fm.keys, why);
	case F_TSV:
		parse_tsv(&run.pf, s, n, fm.delim, fm.delim_len, &fm.keys);
		return 0;
	case F_LOGFMT:
		parse_logfmt(&run.pf, s, n);
		return 0;
	case F_NONE:
		pfields_str(&run.pf, o.message_key, strlen(o.message_key), s,
		    n);
		return 0;
	default:        /* the formats of maps.c and multi.c */
		break;
	}
	return 0;
}

/* Parses s[0..n) and writes the event: 0, or -1 with *why (none). */
static inline int
text_event(const struct event *ev, const char *s, size_t n, const char **why)
{
	int64_t sec = 0;
	uint32_t nsec = 0;
	int have = 0;

	if (quick.on)
		return quick_regex(ev, s, n, why);
	pfields_reset(&run.pf, n);
	if (parse_line(s, n, &have, &sec, &nsec, why) < 0)
		return -1;
	return record_emit(ev, have, sec, nsec, why);
}

/*
 * The text of --key in the record: 0, -1 if absent, -2 if not text (then
 * *s is where its value starts, *n the bytes from there to the record's
 * end).
 */
static int
key_text(const struct event *ev, const char **s, size_t *n)
{
	const char *p = ev->rec, *end = p + ev->rec_len, *k, *v;
	struct mp_obj m, h;
	size_t vlen;
	uint32_t i;

	if (o.use_path) {
		if (!recpath_get(&o.keypath, p, end, &k, &vlen))
			return -1;
		v = k;
		if (mp_head(&k, k + vlen, &h) != MP_OK || (h.type != MP_STR &&
		    h.type != MP_BIN)) {
			*s = v;
			*n = vlen;
			return -2;
		}
		*s = h.data;
		*n = h.len;
		return 0;
	}
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		k = p;
		mp_head(&p, end, &h);
		if ((h.type == MP_STR || h.type == MP_BIN) &&
		    h.len == o.key_len &&
		    memcmp(h.data, o.key, o.key_len) == 0) {
			v = p;
			if (end - p >= 2 && (unsigned char)p[0] == 0xd9 &&
			    (size_t)(end - p) - 2 >= (unsigned char)p[1]) {
				/* str8, the usual long line: inline */
				*s = p + 2;
				*n = (unsigned char)p[1];
				return 0;
			}
			if (mp_head(&p, end, &h) != MP_OK ||
			    (h.type != MP_STR && h.type != MP_BIN)) {
				*s = v;
				*n = end - v;
				return -2;
			}
			*s = h.data;
			*n = h.len;
			return 0;
		}
		if (h.type == MP_ARRAY || h.type == MP_MAP) {
			p = k;
			mp_skip(&p, end, NULL);
		}
		mp_skip(&p, end, NULL);
	}
	return -1;
}

/* A field that is not text: --format msgpack takes a map as it is. */
static void
not_text(const struct event *ev, const char *s, size_t n)
{
	if (o.format == F_MSGPACK && !o.multi)
		maps_raw(ev, s, n);
	else
		errors_fail(ev, why_notext, NULL, 0);
}

/*
 * Parses the text in the format in use and writes its events: 0, or -1
 * with *why.  msgpack reads the bytes as they are, before
 * --replace-invalid-sequence.
 */
static inline int
parse_event(const struct event *ev, const char *s, size_t n,
    const char **why)
{
	if (!OWN_PATH(o.format))
		return text_event(ev, s, n, why);
	if (o.format == F_MSGPACK && s == scrubbed.p)
		return maps_parse(ev, unscrubbed.p, unscrubbed.n, o.multi,
		    why);
	return maps_parse(ev, s, n, o.multi, why);
}

/*
 * One event.  With --format multi each alternative in turn parses the
 * text until one does (multi.c); the one place parse_event is called
 * from keeps the path of one format as short as it was.
 */
static void
handle(const struct event *ev)
{
	const char *s, *why = "";
	size_t n;
	int r;

	run.nevents++;
	if ((r = key_text(ev, &s, &n)) < 0) {
		if (r == -2)
			not_text(ev, s, n);
		else
			errors_fail(ev, why_nokey, NULL, 0);
		out_check(&run.out);
		return;
	}
	if (o.replace_invalid && parse_scrub(&scrubbed, s, n)) {
		unscrubbed.p = s;
		unscrubbed.n = n;
		s = scrubbed.p;
		n = scrubbed.len;
	}
	if (o.multi)
		multi_first();
	while ((r = parse_event(ev, s, n, &why)) < 0 && o.multi &&
	    multi_next(&why))
		continue;
	if (r < 0)
		errors_fail(ev, why, s, n);
	out_check(&run.out);
}

/* Reads standard input to its end: the last reader_next status. */
int
record_run(void)
{
	struct event ev;
	int ret;

	while ((ret = reader_next(run.rd, &ev)) == READ_EVENT)
		handle(&ev);
	return ret;
}

/* The messages that name --key, made once. */
void
record_setup(void)
{
	snprintf(why_nokey, sizeof(why_nokey), "no field '%s'", o.key);
	snprintf(why_notext, sizeof(why_notext), "field '%s' is not a string",
	    o.key);
	quick_setup();
}

void
record_free(void)
{
	size_t i;

	for (i = 0; quick.key && i < quick.n; i++)
		free(quick.key[i]);
	free(quick.key);
	free(quick.klen);
	pfields_free(&run.pf);
	buf_free(&stripped);
	buf_free(&scrubbed);
}
