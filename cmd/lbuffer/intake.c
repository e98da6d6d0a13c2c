/* intake - stdin into chunks: each event into its open chunk, as room allows */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "input.h"
#include "mp.h"
#include "stream.h"

#include "lbuffer.h"

static long long full_warned;   /* when "buffer full" was said last */

/* --- taking events ---------------------------------------------------- */

/* Adds a tag to those c holds, for the order of outputs. */
static void
tag_add(struct chunk *c, const char *tag, size_t len)
{
	uint64_t h;
	int i;

	if (c->key || c->ntags < 0)
		return;
	h = fnv(tag, len);
	for (i = 0; i < c->ntags; i++)
		if (c->tags[i] == h)
			return;
	if (c->ntags == NTAGS)
		c->ntags = -1;
	else
		c->tags[c->ntags++] = h;
}

static size_t
event_len(const struct event *ev)
{
	size_t t = ev->tag_len;

	t += t < 32 ? 1 : t < 256 ? 2 : t < 65536 ? 3 : 5;
	t += ev->sec >= 0 && ev->sec <= 0xffffffffLL ? 10 : 9;
	return 1 + t + ev->rec_len;
}

static void
put_event(struct buf *b, const struct event *ev)
{
	buf_reserve(b, 1 + 5 + ev->tag_len + 10 + ev->rec_len);
	b->p[b->len++] = (char)0x93;
	mp_put_strhdr(b, ev->tag_len);
	memcpy(b->p + b->len, ev->tag, ev->tag_len);
	b->len += ev->tag_len;
	event_put_time(b, ev->sec, ev->nsec);
	memcpy(b->p + b->len, ev->rec, ev->rec_len);
	b->len += ev->rec_len;
}

/* Puts an event in its open chunk; closes the chunk when it is full. */
static void
take(const struct event *ev)
{
	size_t need = event_len(ev);
	struct chunk *c = chunk_for_tag(ev->tag, ev->tag_len);

	if (c->records && c->bytes + need > (uint64_t)lb.o.chunk_size) {
		chunk_close(c);
		c = chunk_for_tag(ev->tag, ev->tag_len);
	}
	tag_add(c, ev->tag, ev->tag_len);
	put_event(&c->blk, ev);
	c->records++;
	c->bytes += need;
	lb.total_bytes += need;
	if (lb.o.dir)
		c->blk_records++;
	else
		lb.cnt.stored++;
	if ((lb.o.chunk_records &&
	    c->records >= (uint64_t)lb.o.chunk_records) ||
	    c->bytes >= (uint64_t)lb.o.chunk_size)
		chunk_close(c);
	if (lb.o.dir && c->blk.len >= BLOCK_MAX)
		store_all();
}

/* --- room and reading ------------------------------------------------- */

/* The oldest closed chunk no output has: dropped for room. */
static int
drop_oldest(void)
{
	struct chunk *c;

	for (c = lb.head; c; c = c->next)
		if (c->state == C_QUEUED || c->state == C_WAIT ||
		    c->state == C_GIVEUP)
			break;
	if (!c)
		return 0;
	warn("buffer full: dropped chunk %s, %llu events (--overflow-action "
	    "drop-oldest-chunk)", chunk_idstr(c),
	    (unsigned long long)c->records);
	lb.cnt.dropped += c->records;
	chunk_free(c);
	return 1;
}

/* Whether there is room for more input, acting on --overflow-action. */
static int
room(void)
{
	long long now;

	while (lb.total_bytes >= (uint64_t)lb.o.total) {
		if (lb.o.overflow == OV_DROP && drop_oldest())
			continue;
		if (lb.o.overflow == OV_ERROR && !lb.in.overflow_error) {
			warn("buffer full: %llu bytes held (--total-limit-size "
			    "%lld, --overflow-action error)",
			    (unsigned long long)lb.total_bytes, lb.o.total);
			lb.in.overflow_error = 1;
			lb.in.done = 1;
			lb_shutdown();
			return 0;
		}
		now = clock_ms();
		if (!full_warned || now - full_warned > 60000) {
			warn("buffer full: %llu bytes held (--total-limit-size "
			    "%lld); input held until chunks are flushed",
			    (unsigned long long)lb.total_bytes, lb.o.total);
			full_warned = now;
		}
		return 0;
	}
	return 1;
}

/* Whether to read stdin now. */
int
intake_ok(void)
{
	return !lb.in.done && !lb.hold.err && !lb.disp.out_broken && room();
}

/* The end of the input: at its end, an error or a stop signal. */
void
intake_end(int code)
{
	if (lb.in.done)
		return;
	lb.in.done = 1;
	lb.in.code = code;
	chunk_close_all();
	lb.status.dirty = 1;
	if (lb.in.stopping)
		lb_shutdown();
}

/* Takes the events already read, while there is room. */
void
intake_consume(void)
{
	struct event ev;
	int ret;

	while (intake_ok()) {
		ret = reader_next_buffered(lb.in.rd, &ev);
		if (ret == READ_EVENT) {
			take(&ev);
			continue;
		}
		if (ret == READ_AGAIN)
			return;
		if (ret == READ_EOF) {
			intake_end(0);
			return;
		}
		warn("%s", reader_errmsg(lb.in.rd));
		intake_end(ret == READ_SYSERR ? EX_SYS : EX_DATA);
		return;
	}
}

static int
readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}

/*
 * Reads what stdin has, up to about a block, and takes its events: one
 * write (and fsync) for the lot, and at most that much read but not
 * stored at any time.
 */
void
intake_read(void)
{
	uint64_t start = lb.total_bytes;
	ssize_t n;
	int rounds = 0;

	do {
		n = reader_fill(lb.in.rd);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				return;
			warn("stdin: unable to read:");
			intake_end(EX_SYS);
			return;
		}
		lb.in.last_read_ms = clock_ms();
		intake_consume();
	} while (n > 0 && intake_ok() && ++rounds < 16 &&
	    lb.total_bytes - start < BLOCK_MAX && readable(0));
}
