/* chunk - the chunks in memory: by id, by age, by tag; closing, splitting */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

#include "lbuffer.h"

#define NBUCKET 1024

static struct chunk *cur;               /* the open chunk without keys */
static struct chunk *last_open;         /* the one the last event went to */
static struct chunk *bucket[NBUCKET];   /* open chunks by tag */

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
		c->h = fnv(key, key_len);
		c->tags[0] = c->h;
		c->ntags = 1;
	}
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
	if (!c->key)
		return;
	for (p = &bucket[c->h & (NBUCKET - 1)]; *p; p = &(*p)->hnext)
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

/* The open chunk for an event's tag, opened if there is none. */
struct chunk *
chunk_for_tag(const char *tag, size_t len)
{
	struct chunk *c, **b;

	if (!lb.o.keys) {
		if (!cur)
			cur = chunk_open(NULL, 0);
		return cur;
	}
	c = last_open;
	if (c && c->key_len == len && memcmp(c->key, tag, len) == 0)
		return c;
	b = &bucket[fnv(tag, len) & (NBUCKET - 1)];
	for (c = *b; c; c = c->hnext)
		if (c->key_len == len && memcmp(c->key, tag, len) == 0)
			return last_open = c;
	c = chunk_open(tag, len);
	c->hnext = *b;
	*b = c;
	return last_open = c;
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
		if (s->key) {
			s->hnext = bucket[s->h & (NBUCKET - 1)];
			bucket[s->h & (NBUCKET - 1)] = s;
		}
	}
	c->state = C_CLOSING;
}
