/* intake - stdin into chunks, as room allows; the marks between the events */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "input.h"
#include "mark.h"
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
	h = hash_fnv64(tag, len);
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
	struct chunk *c = chunk_for_event(ev);

	if (c->records && c->bytes + need > (uint64_t)lb.o.chunk_size) {
		chunk_close(c);
		c = chunk_for_event(ev);
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

/* --- end-to-end marks ------------------------------------------------- */

/*
 * The marks read (lkit(7)) wait here, in stream order, until the events
 * before them are safe; they never go into a chunk.  With --dir and a
 * COMMAND (MK_STORE) a mark goes back once those events are stored:
 * written and synced as --fsync says, so that a restart finds them.  need
 * is then the store pass it waits for: one begun after the mark came.  In
 * memory with a COMMAND (MK_DELIVER) it goes back once the chunks that
 * may hold them are delivered; without a COMMAND (MK_PASS) it is passed
 * on, on standard output, after those chunks: need is then the highest
 * id such a chunk may have (a split chunk's id stays below the next
 * ID_STEP).  Of a producer's marks with the same need only the newest is
 * kept, as it says the same and more.
 */
#define MARK_QUEUE 256

enum { MK_STORE, MK_DELIVER, MK_PASS };

struct qmark {
	char b[MARK_MAX];
	size_t len;
	uint64_t need;
};

static struct {
	struct qmark q[MARK_QUEUE];     /* a ring, oldest first */
	unsigned first, n;
	int mode;
	int off;                /* events were lost: no mark goes on */
	uint64_t passes;        /* store passes that wrote every block */
	uint64_t synced;        /* of those, the last one synced too */
	uint64_t old_id;        /* chunks of earlier runs have ids up to it */
	uint64_t passed;        /* MK_PASS: marks written to stdout */
	struct buf out;         /* MK_PASS: marks to write to stdout */
} mk;

static struct qmark *
mk_at(unsigned k)
{
	return &mk.q[(mk.first + k) % MARK_QUEUE];
}

/* Whether two marks (validated by the reader) come from one producer. */
static int
same_producer(const struct qmark *a, const char *p, size_t len)
{
	struct mark x, y;

	if (mark_parse(a->b, a->len, &x) != 1 || mark_parse(p, len, &y) != 1)
		return 0;
	return memcmp(x.id, y.id, MARK_ID_LEN) == 0 &&
	    x.path_len == y.path_len &&
	    memcmp(x.path, y.path, x.path_len) == 0;
}

/* The reader met a mark: every event before it is taken already. */
static void
on_mark(void *arg, const char *p, size_t len)
{
	struct qmark *m;
	uint64_t need;
	unsigned k;

	(void)arg;
	if (mk.off || len > MARK_MAX)
		return;
	need = mk.mode == MK_STORE ? mk.passes + 1 :
	    lb.last_id | (ID_STEP - 1);
	for (k = mk.n; k > 0 && (m = mk_at(k - 1))->need == need; k--)
		if (same_producer(m, p, len)) {
			memcpy(m->b, p, len);
			m->len = len;
			return;
		}
	/* full (intake_ok stops reading): the producer's next mark says it */
	if (mk.n == MARK_QUEUE)
		return;
	m = mk_at(mk.n++);
	memcpy(m->b, p, len);
	m->len = len;
	m->need = need;
}

/* Marks lbuffer returns or passes on, and the reader's handler for them. */
void
intake_marks_init(void)
{
	mk.mode = !lb.o.cmd ? MK_PASS : lb.o.dir ? MK_STORE : MK_DELIVER;
	mk.old_id = lb.last_id | (ID_STEP - 1);
	reader_set_mark(lb.in.rd, on_mark, NULL);
}

/* A store pass wrote every pending block (and synced it, but interval). */
void
intake_marks_written(void)
{
	const struct chunk *c;

	mk.passes++;
	if (lb.o.fsync == FS_INTERVAL)
		for (c = lb.ohead; c; c = c->onext)
			if (c->unsynced)
				return;
	mk.synced = mk.passes;
}

/* --fsync interval: every chunk written was synced, or one failed to be. */
void
intake_marks_synced(int ok)
{
	if (!ok && mk.mode == MK_STORE)
		mk.off = 1;
	mk.synced = mk.passes;
}

/*
 * A chunk leaves memory.  Without --dir, or passing marks on, a chunk of
 * this run that was not delivered lost events a later mark would cover:
 * no mark goes on after that.
 */
void
intake_marks_gone(const struct chunk *c)
{
	if (mk.mode != MK_STORE && !c->delivered && c->records &&
	    c->id > mk.old_id)
		mk.off = 1;
}

static int
mark_ready(const struct qmark *m)
{
	const struct chunk *c;

	if (mk.mode == MK_STORE)
		return mk.synced >= m->need;
	/* a corrupt chunk of an earlier run stays, and holds nothing of this */
	for (c = lb.head; c && c->id <= m->need; c = c->next)
		if (!c->corrupt || c->id > mk.old_id)
			return 0;
	return 1;
}

/* Whether marks wait to be written to stdout (MK_PASS). */
int
intake_marks_waiting(void)
{
	return mk.out.len > 0 && !lb.disp.out_broken;
}

/* Writes to stdout the marks passed on, as much as it takes now. */
void
intake_marks_write(void)
{
	ssize_t n;

	while (intake_marks_waiting()) {
		n = write(1, mk.out.p, mk.out.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			job_stdout_failed(errno);
			mk.out.len = 0;
			return;
		}
		memmove(mk.out.p, mk.out.p + n, mk.out.len - (size_t)n);
		mk.out.len -= (size_t)n;
	}
}

/*
 * Returns (or passes on) the marks whose events are safe, in order; of a
 * producer's marks ready together only the last, which says it all.
 */
void
intake_marks_settle(void)
{
	struct qmark *m;
	unsigned k, i, j;

	if (mk.off)
		mk.n = 0;
	for (k = 0; k < mk.n && mark_ready(mk_at(k)); k++)
		;
	for (i = 0; i < k; i++) {
		m = mk_at(i);
		for (j = i + 1; j < k && !same_producer(mk_at(j), m->b, m->len);
		    j++)
			;
		if (j < k)
			continue;
		if (mk.mode != MK_PASS) {
			mark_return(m->b, m->len);
			continue;
		}
		buf_put(&mk.out, m->b, m->len);
		mk.passed++;
	}
	mk.first = (mk.first + k) % MARK_QUEUE;
	mk.n -= k;
	intake_marks_write();
}

/* The marks' part of --stats. */
void
intake_marks_stats(char *b, size_t cap)
{
	uint64_t in;

	b[0] = '\0';
	if (!lb.in.rd || !(in = reader_stats(lb.in.rd)->marks))
		return;
	if (mk.mode == MK_PASS)
		snprintf(b, cap, ", marks in %llu, passed on %llu",
		    (unsigned long long)in, (unsigned long long)mk.passed);
	else
		mark_return_stats(b, cap, in);
}

void
intake_marks_free(void)
{
	buf_free(&mk.out);
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

/* Whether to read stdin now: not while the marks' queue is full. */
int
intake_ok(void)
{
	return !lb.in.done && !lb.hold.err && !lb.disp.out_broken &&
	    mk.n < MARK_QUEUE && room();
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
	if (lb.in.stop.stopping)
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
