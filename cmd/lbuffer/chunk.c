/* chunk - the chunks in memory: by id, by age, by tag; closing, splitting */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "mp.h"
#include "recpath.h"

#include "lbuffer.h"

#define NBUCKET 1024

static struct chunk *cur;               /* the open chunk without keys */
static struct chunk *last_open;         /* the one the last event went to */
static struct chunk *bucket[NBUCKET];   /* open chunks by their keys */
static struct buf ev_kv;                /* the record keys of an event */
static struct buf ev_val;               /* one value, as text */

/* A chunk's id as 16 hex digits (four calls may share a format). */
const char *
chunk_idstr(const struct chunk *c)
{
	static char s[4][24];
	static int i;

	i = (i + 1) % 4;
	snprintf(s[i], sizeof(s[i]), "%016llx", (unsigned long long)c->id);
	return s[i];
}

/* --- chunks in memory ------------------------------------------------- */

/* Whether chunks are grouped by chunk keys. */
static int
grouped(void)
{
	return lb.o.keys || lb.o.tkeyed || lb.o.nrkeys;
}

static uint64_t
next_id(void)
{
	struct timespec ts;
	uint64_t t, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000) * ID_STEP;
	n = (lb.last_id / ID_STEP + 1) * ID_STEP;
	lb.last_id = t > n ? t : n;
	return lb.last_id;
}

/* Links c into the list by id (new chunks go at the end). */
static void
list_insert(struct chunk *c)
{
	struct chunk *p = lb.tail;

	while (p && p->id > c->id)
		p = p->prev;
	c->prev = p;
	c->next = p ? p->next : lb.head;
	if (c->next)
		c->next->prev = c;
	else
		lb.tail = c;
	if (p)
		p->next = c;
	else
		lb.head = c;
}

/* Takes c out of the open and closing chunks, if it is there. */
void
chunk_olist_remove(struct chunk *c)
{
	if (c->oprev)
		c->oprev->onext = c->onext;
	else if (lb.ohead == c)
		lb.ohead = c->onext;
	else
		return;
	if (c->onext)
		c->onext->oprev = c->oprev;
	else
		lb.otail = c->oprev;
	c->oprev = c->onext = NULL;
}

static void
olist_append(struct chunk *c)
{
	c->oprev = lb.otail;
	c->onext = NULL;
	if (lb.otail)
		lb.otail->onext = c;
	else
		lb.ohead = c;
	lb.otail = c;
}

/* A new chunk, linked by id; with key, one tag's. */
struct chunk *
chunk_new(uint64_t id, const char *key, size_t key_len)
{
	struct chunk *c = xcalloc(1, sizeof(*c));

	c->id = id;
	c->fd = -1;
	if (key) {
		/* a tag may hold any byte, NUL too */
		c->key = xmalloc(key_len + 1);
		memcpy(c->key, key, key_len);
		c->key[key_len] = '\0';
		c->key_len = key_len;
		c->h = hash_fnv64(key, key_len);
		c->tags[0] = c->h;
		c->ntags = 1;
	}
	c->gh = c->h;
	if (lb.o.dir)
		buf_reserve(&c->blk, HDR);
	c->blk.len = lb.o.dir ? HDR : 0;
	list_insert(c);
	return c;
}

/* Unlinks c from the hash of open chunks. */
static void
detach(struct chunk *c)
{
	struct chunk **p;

	if (cur == c)
		cur = NULL;
	if (last_open == c)
		last_open = NULL;
	if (!grouped())
		return;
	for (p = &bucket[c->gh & (NBUCKET - 1)]; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	c->hnext = NULL;
}

/* Forgets c: its bytes, its memory and, if remove, its files. */
void
chunk_drop(struct chunk *c, int remove)
{
	char p[PBUF];

	intake_marks_gone(c);
	detach(c);
	chunk_olist_remove(c);
	if (c->fd >= 0)
		close(c->fd);
	if (c->on_disk && remove) {
		store_data_path(p, c);
		if (unlink(p) < 0 && errno != ENOENT)
			warn("unable to remove %s:", p);
		store_path(p, lb.o.dir, c->id, "meta");
		unlink(p);
	}
	lb.total_bytes -= c->bytes;
	if (c->prev)
		c->prev->next = c->next;
	else
		lb.head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		lb.tail = c->prev;
	buf_free(&c->blk);
	buf_free(&c->kv);
	free(c->key);
	free(c);
	lb.disp.dirty = 1;
	lb.status.dirty = 1;
}

/* Done with c: delivered, given up, dropped or empty. */
void
chunk_free(struct chunk *c)
{
	chunk_drop(c, 1);
}

static struct chunk *
chunk_open(const char *key, size_t key_len)
{
	struct chunk *c = chunk_new(next_id(), key, key_len);

	c->created_ms = clock_ms();
	c->created = wall();
	olist_append(c);
	lb.status.dirty = 1;
	return c;
}

/* The seconds of tm read as UTC (tm_gmtoff is not POSIX). */
static long long
tm_as_utc(const struct tm *tm)
{
	long long y = tm->tm_year + 1900LL, m = tm->tm_mon + 1, era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + tm->tm_mday - 1;
	return ((era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy -
	    719468) * 86400) + tm->tm_hour * 3600LL + tm->tm_min * 60LL +
	    tm->tm_sec;
}

/*
 * The bucket of an event's time: its start in epoch seconds, aligned in
 * UTC with --timekey-use-utc, else in local time (as Fluentd aligns it).
 */
static long long
bucket_start(int64_t sec)
{
	long long tk = lb.o.timekey, off = 0, x;
	struct tm tm;
	time_t t;

	if (sec > (1LL << 60))
		sec = 1LL << 60;
	if (sec < -(1LL << 60))
		sec = -(1LL << 60);
	t = (time_t)sec;
	if (!lb.o.utc && localtime_r(&t, &tm))
		off = tm_as_utc(&tm) - sec;
	x = sec + off;
	return x - ((x % tk) + tk) % tk - off;
}

static void
put16(struct buf *b, size_t n)
{
	buf_putc(b, (char)(n >> 8));
	buf_putc(b, (char)(n & 255));
}

/* The record keys' values of ev in ev_kv; a missing key has "". */
static void
event_kv(const struct event *ev)
{
	struct buf *v = &ev_val;
	const char *val;
	size_t vlen;
	int i;

	ev_kv.len = 0;
	for (i = 0; i < lb.o.nrkeys; i++) {
		v->len = 0;
		if (mp_map_get(ev->rec, ev->rec + ev->rec_len, lb.o.rkey[i],
		    lb.o.rkey_len[i], &val, &vlen))
			recpath_to_s(v, val, val + vlen);
		if (v->len > RKEY_VAL_MAX)
			v->len = RKEY_VAL_MAX;
		put16(&ev_kv, lb.o.rkey_len[i]);
		buf_put(&ev_kv, lb.o.rkey[i], lb.o.rkey_len[i]);
		put16(&ev_kv, v->len);
		buf_put(&ev_kv, v->p ? v->p : "", v->len);
	}
}

static uint64_t
group_hash(const char *tag, size_t len, int has_tkey, long long tkey,
    const char *kv, size_t kv_len)
{
	uint64_t h = tag ? hash_fnv64(tag, len) : 0;

	if (has_tkey)
		h ^= (uint64_t)tkey * 0x9e3779b97f4a7c15ULL;
	return h ^ (hash_fnv64(kv, kv_len) * 31);
}

/* Sets the chunk keys c holds besides its tag: time bucket, record keys. */
void
chunk_set_group(struct chunk *c, int has_tkey, long long tkey,
    const char *kv, size_t kv_len)
{
	c->has_tkey = has_tkey;
	c->tkey = has_tkey ? tkey : 0;
	c->kv.len = 0;
	if (kv_len)
		buf_put(&c->kv, kv, kv_len);
	c->gh = group_hash(c->key, c->key_len, has_tkey, c->tkey,
	    c->kv.p ? c->kv.p : "", c->kv.len);
}

/* The next record key of c from *off: 1 and its name and value, or 0. */
int
chunk_kv_next(const struct chunk *c, size_t *off, const char **name,
    size_t *nlen, const char **val, size_t *vlen)
{
	const unsigned char *p = (const unsigned char *)c->kv.p;
	size_t o = *off;

	if (o + 2 > c->kv.len)
		return 0;
	*nlen = (size_t)p[o] << 8 | p[o + 1];
	if (*nlen > c->kv.len - o - 2 || c->kv.len - o - 2 - *nlen < 2)
		return 0;
	*name = c->kv.p + o + 2;
	o += 2 + *nlen;
	*vlen = (size_t)p[o] << 8 | p[o + 1];
	if (*vlen > c->kv.len - o - 2)
		return 0;
	*val = c->kv.p + o + 2;
	*off = o + 2 + *vlen;
	return 1;
}

/* When (monotonic ms) the open chunk c is due to close. */
long long
chunk_close_at(const struct chunk *c)
{
	double d;

	if (!c->has_tkey)
		return c->created_ms + lb.o.flush_ms;
	/* --timekey-wait after its bucket's end, on the wall clock */
	d = ((double)c->tkey + (double)lb.o.timekey - c->created) * 1000 +
	    (double)lb.o.timekey_wait_ms;
	if (d < 0)
		d = 0;
	if (d > 1e15)
		d = 1e15;
	return c->created_ms + (long long)d;
}

static int
same_group(const struct chunk *c, const char *tag, size_t len, int has_tkey,
    long long tkey)
{
	if (lb.o.keys && (c->key_len != len || memcmp(c->key, tag, len) != 0))
		return 0;
	if (c->has_tkey != has_tkey || (has_tkey && c->tkey != tkey))
		return 0;
	return c->kv.len == ev_kv.len && (ev_kv.len == 0 ||
	    memcmp(c->kv.p, ev_kv.p, ev_kv.len) == 0);
}

/* At --chunk-limit-open open chunks, closes the oldest. */
static void
open_limit(void)
{
	struct chunk *c, *oldest = NULL;
	long long n = 0;

	for (c = lb.ohead; c; c = c->onext)
		if (c->state == C_OPEN) {
			if (!oldest)
				oldest = c;
			n++;
		}
	if (oldest && n >= lb.o.open_max)
		chunk_close(oldest);
}

/* The open chunk for an event's chunk keys, opened if there is none. */
struct chunk *
chunk_for_event(const struct event *ev)
{
	struct chunk *c, **b;
	const char *tag = lb.o.keys ? ev->tag : NULL;
	size_t len = lb.o.keys ? ev->tag_len : 0;
	long long tkey = lb.o.tkeyed ? bucket_start(ev->sec) : 0;
	uint64_t h;

	if (!grouped()) {
		if (!cur)
			cur = chunk_open(NULL, 0);
		return cur;
	}
	event_kv(ev);
	c = last_open;
	if (c && same_group(c, tag, len, lb.o.tkeyed, tkey))
		return c;
	h = group_hash(tag, len, lb.o.tkeyed, tkey, ev_kv.p ? ev_kv.p : "",
	    ev_kv.len);
	b = &bucket[h & (NBUCKET - 1)];
	for (c = *b; c; c = c->hnext)
		if (same_group(c, tag, len, lb.o.tkeyed, tkey))
			return last_open = c;
	open_limit();
	c = chunk_open(tag, len);
	chunk_set_group(c, lb.o.tkeyed, tkey, ev_kv.p, ev_kv.len);
	c->hnext = *b;
	*b = c;
	return last_open = c;
}

/* Frees what chunk_for_event keeps between events. */
void
chunk_keys_free(void)
{
	buf_free(&ev_kv);
	buf_free(&ev_val);
}

/* Closes c to new events: queued at once in memory, else stored first. */
void
chunk_close(struct chunk *c)
{
	if (c->state != C_OPEN)
		return;
	detach(c);
	lb.status.dirty = 1;
	if (lb.o.dir) {
		c->state = C_CLOSING;
		return;
	}
	chunk_olist_remove(c);
	c->state = C_QUEUED;
	lb.disp.dirty = 1;
}

/* Closes every open chunk: at the end of the input, or shutting down. */
void
chunk_close_all(void)
{
	struct chunk *c, *n;

	for (c = lb.ohead; c; c = n) {
		n = c->onext;
		chunk_close(c);
	}
}

/*
 * Out of space with events stored in c: c is closed with what it stored,
 * so it can be flushed and its space freed, and its pending block moves
 * to a new chunk ordered right after it.
 */
void
chunk_split(struct chunk *c)
{
	struct chunk *s;
	uint64_t bytes = c->blk.len - HDR;

	if ((c->id + 1) % ID_STEP == 0)
		return;
	s = chunk_new(c->id + 1, c->key, c->key_len);
	chunk_set_group(s, c->has_tkey, c->tkey, c->kv.p, c->kv.len);
	memcpy(s->tags, c->tags, sizeof(s->tags));
	s->ntags = c->ntags;
	s->created_ms = c->created_ms;
	s->created = c->created;
	s->state = c->state;
	s->records = c->blk_records;
	s->bytes = bytes;
	s->blk_records = c->blk_records;
	buf_free(&s->blk);
	s->blk = c->blk;
	memset(&c->blk, 0, sizeof(c->blk));
	buf_reserve(&c->blk, HDR);
	c->blk.len = HDR;
	c->records -= c->blk_records;
	c->bytes -= bytes;
	c->blk_records = 0;
	/* s follows c among the open chunks and takes its place by tag */
	s->oprev = c;
	s->onext = c->onext;
	if (c->onext)
		c->onext->oprev = s;
	else
		lb.otail = s;
	c->onext = s;
	if (s->state == C_OPEN) {
		if (cur == c)
			cur = s;
		detach(c);
		if (grouped()) {
			s->hnext = bucket[s->gh & (NBUCKET - 1)];
			bucket[s->gh & (NBUCKET - 1)] = s;
		}
	}
	c->state = C_CLOSING;
}
