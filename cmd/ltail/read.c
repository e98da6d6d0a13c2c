/* read - reading files: lines, long lines, multiline messages, events */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "mp.h"
#include "rx.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"

#include "ltail.h"

#define RBUF (128 * 1024)       /* one read(2) */
#define KEEP (64 * 1024)        /* line buffers larger than this are freed */

static char *rbuf;
static struct buf tb;           /* the event time of the current batch,
				 * then keyb: what follows every tag */
static struct buf keyb;         /* map header and the line's key */
int64_t batch_sec;              /* when the current batch was read */
uint32_t batch_nsec;
long long batch_ms;

/* Marks everything passed on so far as written: out was just flushed. */
void
commit_all(void)
{
	size_t i;

	for (i = 0; i < files.n; i++)
		if (files.v[i]->committed != files.v[i]->emitted) {
			files.v[i]->committed = files.v[i]->emitted;
			pos.dirty = 1;
		}
}

void
flush_out(void)
{
	mark_maybe(0);
	if (out.b.len)
		out_flush(&out);
	commit_all();
}

/* Takes the time of the batch of lines about to be read. */
void
batch_time(void)
{
	event_now(&batch_sec, &batch_nsec);
	tb.len = 0;
	event_put_time(&tb, batch_sec, batch_nsec);
	buf_put(&tb, keyb.p, keyb.len);
	batch_ms = clock_ms();
}

static inline void
cat(struct buf *b, const void *p, size_t len)
{
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* An event was just written to out.b: count it, maybe write out. */
void
event_done(void)
{
	stats.out++;
	e2e.unmarked = 1;
	out_check(&out);
	if (!out.b.len)
		commit_all();
}

/* Writes the event for the line a + b, which ends at file offset end. */
static void
emit(struct file *f, const char *a, size_t an, const char *b, size_t bn,
    off_t end)
{
	struct buf *ob = &out.b;

	buf_reserve(ob, f->pre.len + tb.len + 5 + an + bn + f->post.len);
	cat(ob, f->pre.p, f->pre.len);
	cat(ob, tb.p, tb.len);
	mp_put_strhdr(ob, an + bn);
	cat(ob, a, an);
	cat(ob, b, bn);
	cat(ob, f->post.p, f->post.len);
	f->emitted = end;
	event_done();
}

/* A line that produced no event is done with: move past it. */
static void
advance(struct file *f, off_t end)
{
	if (o.mlp) {
		mlp_moved(f, end);
		return;
	}
	if (f->ml_on)
		return;
	f->emitted = end;
	e2e.unmarked = 1;
	if (!out.b.len && f->committed != end) {
		f->committed = end;
		pos.dirty = 1;
	}
}

void
ml_flush(struct file *f)
{
	if (o.mlp) {
		mlp_flush(f);
		return;
	}
	if (!f->ml_on)
		return;
	f->ml_on = 0;
	files.nml--;
	emit(f, f->ml.p, f->ml.len, NULL, 0, f->ml_end);
	f->ml.len = 0;
	if (f->ml.cap > KEEP)
		buf_free(&f->ml);
}

/* A line for --multiline-start or --multiline-parser. */
static void
line_ml(struct file *f, const char *p, size_t len, off_t end)
{
	int start;

	if (o.mlp) {
		mlp_line(f, p, len, end);
		return;
	}
	start = rx_match(o.mlrx, p, len) == 1;
	if (f->ml_on && !start && f->ml.len + 1 + len <= o.max) {
		buf_putc(&f->ml, '\n');
		buf_put(&f->ml, p, len);
	} else {
		if (f->ml_on && !start)
			counts.split++;      /* the message grew too long */
		ml_flush(f);
		buf_put(&f->ml, p, len);
		f->ml_on = 1;
		files.nml++;
	}
	f->ml_end = end;
	f->ml_ms = batch_ms;
}

/* --from-encoding: the line converted first. */
static void
line_conv(struct file *f, const char *p, size_t len, off_t end)
{
	enc_line(f, &p, &len);
	if (o.mlrx || o.mlp)
		line_ml(f, p, len, end);
	else
		emit(f, p, len, NULL, 0, end);
}

/* A whole line (no newline) ending at end: an event or part of one. */
static inline void
line(struct file *f, const char *p, size_t len, off_t end)
{
	if (o.plain)
		emit(f, p, len, NULL, 0, end);
	else if (o.from_enc)
		line_conv(f, p, len, end);
	else
		line_ml(f, p, len, end);
}

/* A line longer than --max-line-size begins at offset at. */
static void
long_line(struct file *f, off_t at)
{
	if (o.skip) {
		f->skipping = 1;
		counts.skipped++;
		stats.dropped++;
	} else {
		f->splitting = 1;
		counts.split++;
	}
	if (counts.warned++ < WARN_MAX)
		warn("%s: line at byte %lld is longer than %zu bytes: %s%s",
		    f->path, (long long)at, o.max, o.skip ? "skipped" :
		    "split", counts.warned == WARN_MAX ? " (no more of these "
		    "warnings)" : "");
}

static void
part_reset(struct file *f)
{
	f->part.len = 0;
	f->skipping = f->splitting = 0;
	if (f->part.cap > KEEP)
		buf_free(&f->part);
}

/* Passes on the first --max-line-size bytes of the gathered line. */
static void
cut(struct file *f, off_t end)
{
	line(f, f->part.p, o.max, end);
	f->part.len -= o.max;
	memmove(f->part.p, f->part.p + o.max, f->part.len);
}

/*
 * The gathered line is complete: its bytes stop at offset stop (before
 * the newline), and the next line starts at end.
 */
static void
line_done(struct file *f, off_t stop, off_t end)
{
	size_t len = f->part.len;

	if (f->skipping) {
		part_reset(f);
		advance(f, end);
		return;
	}
	if (len && f->part.p[len - 1] == '\r')
		len--;
	if (len > o.max) {
		if (!f->splitting)
			long_line(f, stop - (off_t)f->part.len);
		if (f->skipping) {
			part_reset(f);
			advance(f, end);
			return;
		}
		cut(f, stop - (off_t)(f->part.len - o.max));
		len -= o.max;
	}
	if (len || !f->splitting)
		line(f, f->part.p, len, end);
	else
		advance(f, end);
	part_reset(f);
}

/*
 * Adds p[0..len) to the line being gathered.  The bytes stop at file
 * offset stop; end >= 0 says the line is complete and the next one starts
 * there.  The line held never exceeds --max-line-size (plus a byte that
 * may be the '\r' of "\r\n").
 */
static void
piece(struct file *f, const char *p, size_t len, off_t stop, off_t end)
{
	size_t k;

	if (f->skipping) {
		if (end >= 0)
			line_done(f, stop, end);
		return;
	}
	while (f->part.len + len > o.max + 1) {
		if (!f->splitting)
			long_line(f, stop - (off_t)(f->part.len + len));
		if (f->skipping) {
			f->part.len = 0;
			if (end >= 0)
				line_done(f, stop, end);
			return;
		}
		k = f->part.len < o.max ? o.max - f->part.len : 0;
		buf_put(&f->part, p, k);
		p += k;
		len -= k;
		cut(f, stop - (off_t)(f->part.len - o.max + len));
	}
	buf_put(&f->part, p, len);
	if (end >= 0)
		line_done(f, stop, end);
}

/* The bytes p[0..len) were read from f and end at f->off. */
static inline __attribute__((always_inline)) void
take(struct file *f, const char *p, size_t len)
{
	const char *s = p, *e = p + len, *nl;
	off_t base = f->off - (off_t)len;
	size_t k;

	while ((nl = memchr(s, '\n', e - s))) {
		stats.in++;
		k = nl - s;
		if (f->part.len || f->skipping || f->splitting) {
			piece(f, s, k, base + (nl - p), base + (nl - p) + 1);
		} else {
			if (k && s[k - 1] == '\r')
				k--;
			if (k <= o.max)
				line(f, s, k, base + (nl - p) + 1);
			else
				piece(f, s, nl - s, base + (nl - p),
				    base + (nl - p) + 1);
		}
		s = nl + 1;
	}
	if (s < e)
		piece(f, s, e - s, f->off, -1);
}

/* take() for gz.c: text inflated from f, ending at f->off. */
void
feed(struct file *f, const char *p, size_t len)
{
	take(f, p, len);
}

/* At the end of f for good: pass on the incomplete line and message. */
void
finish(struct file *f)
{
	if (f->gz)
		gz_finish(f);
	if (f->part.len || f->skipping || f->splitting) {
		stats.in++;
		line_done(f, f->off, f->off);
	}
	ml_flush(f);
}

static void
truncated(struct file *f)
{
	batch_time();
	finish(f);
	if (lseek(f->fd, 0, SEEK_SET) < 0) {
		warn("unable to seek %s:", f->path);
		f->dead = 1;
		return;
	}
	f->off = 0;
	f->emitted = 0;
	mlp_truncated(f);
	if (e2e.msrc)
		snap_drop(f);
	counts.truncations++;
}

/*
 * Reads up to budget bytes of f (stdin: one read).  Returns 1 if there
 * may be more, 0 at the end of the file for now.
 */
int
read_file(struct file *f, size_t budget)
{
	struct stat st;
	ssize_t got;

	if (f->sniff && gz_sniff(f))
		return 0;
	if (f->gz)
		return gz_read(f, budget);
	if (!f->is_stdin && fstat(f->fd, &st) == 0 && st.st_size < f->off)
		truncated(f);
	while (!f->dead) {
		got = read(f->fd, rbuf, RBUF);
		if (got < 0 && errno == EINTR)
			return 1;
		if (got < 0) {
			warn("unable to read %s:", f->is_stdin ? "stdin" :
			    f->path);
			f->dead = 1;
			return 0;
		}
		if (got == 0) {
			if (f->is_stdin) {
				finish(f);
				f->dead = 1;
			}
			return 0;
		}
		batch_time();
		f->off += got;
		stats.bytes_in += got;
		take(f, rbuf, got);
		if (f->is_stdin)        /* a pipe may block: wait for poll */
			return o.once;
		if (got < RBUF)
			return 0;
		if (budget <= (size_t)got || sig_stop)
			return 1;
		budget -= got;
	}
	return 0;
}

/*
 * The end of f for a start there: after its last newline, so a line being
 * written at this moment is read whole, not from its middle (looking back
 * at most one read buffer).
 */
off_t
line_end(struct file *f, off_t size)
{
	size_t len = size < RBUF ? (size_t)size : RBUF;
	ssize_t got;

	got = pread(f->fd, rbuf, len, size - (off_t)len);
	while (got > 0 && rbuf[got - 1] != '\n')
		got--;
	return got > 0 || len == (size_t)size ? size - (off_t)len + got : size;
}

/* The head of every record, the read buffer, the first batch's time. */
void
read_setup(void)
{
	mp_put_maphdr(&keyb, o.path_key ? 2 : 1);
	mp_put_strhdr(&keyb, strlen(o.key));
	buf_puts(&keyb, o.key);
	rbuf = xmalloc(RBUF);
	batch_time();
}

void
read_free(void)
{
	free(rbuf);
	buf_free(&tb);
	buf_free(&keyb);
}
