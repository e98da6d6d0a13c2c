/* e2e - --end-to-end: marks after the events, positions as they return */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "err.h"
#include "mark.h"
#include "opt.h"

#include "ltail.h"

#define NOT_BACK "is the end of the pipeline an lkit sink (lout, lforward, " \
	"lbuffer)? positions are not saved past the last mark that came back"

/*
 * With --end-to-end, a mark follows the events of every flush (at most one
 * each MARK_MS, at most MARK_OUT outstanding), and each mark outstanding
 * keeps the offsets of the files whose events moved before it.  When a
 * mark comes back, those offsets become the files' acked ones: the only
 * ones the position file records.  A closed file (rotated away, read to
 * its end) stays in e2e.retired, with its entry in the position file,
 * until a mark after its last line came back.
 */

/* --end-to-end: where a file was as of a mark (its events before it). */
struct snap_ent {
	struct file *f;         /* NULL: dropped (the file was truncated) */
	off_t off;
};

/* A mark outstanding and the positions it covers (those that moved). */
struct snap {
	uint64_t seq;
	struct snap_ent *v;
	size_t n;
};

struct e2e e2e;

static struct snap snaps[MARK_OUT];     /* outstanding, oldest first */
static size_t snap_head, nsnaps;
static size_t rcap;             /* room in e2e.retired */

/* Whether a closed file must be kept until a mark covers its lines. */
int
e2e_keep(const struct file *f)
{
	return e2e.msrc && !f->is_stdin && (f->refs || f->acked != f->emitted);
}

void
retire(struct file *f)
{
	file_close(f);
	if (e2e.nretired == rcap) {
		rcap = rcap ? 2 * rcap : 8;
		e2e.retired = xrealloc(e2e.retired, rcap *
		    sizeof(*e2e.retired));
	}
	e2e.retired[e2e.nretired++] = f;
}

/* Frees the retired files every line of which was delivered. */
static void
retired_sweep(void)
{
	size_t i, j;

	for (i = j = 0; i < e2e.nretired; i++) {
		if (e2e_keep(e2e.retired[i])) {
			e2e.retired[j++] = e2e.retired[i];
		} else {
			file_free(e2e.retired[i]);
			pos.dirty = 1;
		}
	}
	e2e.nretired = j;
}

static int
moved(const struct file *f)
{
	return !f->is_stdin && f->emitted != f->snapped;
}

/* Records in s the offset of f, if it moved since the last mark. */
static void
snap_file(struct snap *s, struct file *f)
{
	if (!moved(f))
		return;
	s->v[s->n].f = f;
	s->v[s->n++].off = f->emitted;
	f->snapped = f->emitted;
	f->refs++;
}

/* Puts a mark after the events in out.b, if one is due and allowed. */
void
mark_maybe(int now_too)
{
	struct snap *s;
	long long now;
	size_t i, k;

	if (!e2e.msrc || !e2e.unmarked || nsnaps == MARK_OUT ||
	    !mark_src_can_put(e2e.msrc))
		return;
	now = clock_ms();
	if (!now_too && now - e2e.mark_ms < MARK_MS)
		return;
	s = &snaps[(snap_head + nsnaps++) % MARK_OUT];
	s->seq = mark_src_put(e2e.msrc, &out.b);
	for (i = k = 0; i < files.n; i++)
		k += moved(files.v[i]);
	for (i = 0; i < e2e.nretired; i++)
		k += moved(e2e.retired[i]);
	s->v = k ? xmalloc(k * sizeof(*s->v)) : NULL;
	s->n = 0;
	for (i = 0; i < files.n; i++)
		snap_file(s, files.v[i]);
	for (i = 0; i < e2e.nretired; i++)
		snap_file(s, e2e.retired[i]);
	e2e.mark_ms = now;
	e2e.unmarked = 0;
}

/* f was truncated: its offsets in marks outstanding mean nothing now. */
void
snap_drop(struct file *f)
{
	size_t i, k;
	struct snap *s;

	for (i = 0; e2e.msrc && f->refs && i < nsnaps; i++) {
		s = &snaps[(snap_head + i) % MARK_OUT];
		for (k = 0; k < s->n; k++)
			if (s->v[k].f == f) {
				s->v[k].f = NULL;
				f->refs--;
			}
	}
	if (f->acked) {
		f->acked = 0;
		pos.dirty = 1;
	}
	f->snapped = -1;
	e2e.unmarked = 1;
}

/* Takes the marks that came back: their offsets are delivered. */
void
e2e_recv(void)
{
	struct snap *s;
	uint64_t done;
	size_t k;

	if (!e2e.msrc)
		return;
	done = mark_src_recv(e2e.msrc);
	while (nsnaps && snaps[snap_head].seq <= done) {
		s = &snaps[snap_head];
		for (k = 0; k < s->n; k++) {
			if (!s->v[k].f)
				continue;
			s->v[k].f->acked = s->v[k].off;
			s->v[k].f->refs--;
			pos.dirty = 1;
		}
		free(s->v);
		s->v = NULL;
		snap_head = (snap_head + 1) % MARK_OUT;
		nsnaps--;
	}
	if (e2e.nretired)
		retired_sweep();
}

void
e2e_free(void)
{
	size_t i;

	for (i = 0; i < nsnaps; i++)
		free(snaps[(snap_head + i) % MARK_OUT].v);
	nsnaps = 0;
	for (i = 0; i < e2e.nretired; i++)
		file_free(e2e.retired[i]);
	free(e2e.retired);
	e2e.retired = NULL;
	e2e.nretired = 0;
	if (e2e.msrc)
		mark_src_free(e2e.msrc);
	e2e.msrc = NULL;
}

/* Says so when marks stopped coming back: once, then every few minutes. */
void
e2e_warn(long long now)
{
	char t[32];

	if (e2e.msrc && mark_src_warn_due(e2e.msrc, now, o.e2e_ms))
		warn("no mark came back for %s: " NOT_BACK,
		    opt_duration_str(o.e2e_ms, t, sizeof(t)));
}

/* When the next mark or warning is due, for next_timeout (-1: none). */
long long
e2e_deadline(long long now)
{
	long long t = -1, w;

	if (!e2e.msrc)
		return -1;
	if (e2e.unmarked && nsnaps < MARK_OUT && mark_src_can_put(e2e.msrc))
		t = e2e.mark_ms + MARK_MS;
	w = mark_src_warn_at(e2e.msrc, now, o.e2e_ms);
	if (w >= 0 && (t < 0 || w < t))
		t = w;
	return t;
}

/*
 * The end with --end-to-end: a last mark after every event, then a wait
 * of up to --end-to-end-timeout for the marks outstanding, saving the
 * positions as they come back.  0 if every mark came back.
 */
int
e2e_finish(void)
{
	long long end = clock_ms() + o.e2e_ms, now;
	struct pollfd p;
	char t[32];

	for (;;) {
		e2e_recv();
		if (e2e.unmarked) {
			mark_maybe(1);
			if (out.b.len)
				out_flush(&out);
			commit_all();
		}
		if (pos.dirty)
			pos_save();
		if (!e2e.unmarked &&
		    mark_src_done(e2e.msrc) >= mark_src_last(e2e.msrc))
			return 0;
		now = clock_ms();
		if (now >= end)
			break;
		p.fd = mark_src_fd(e2e.msrc);
		p.events = POLLIN;
		if (poll(&p, 1, end - now > 86400000 ? 86400000 :
		    (int)(end - now)) < 0 && errno != EINTR)
			die(EX_SYS, "poll:");
	}
	warn("the last mark did not come back within %s: " NOT_BACK,
	    opt_duration_str(o.e2e_ms, t, sizeof(t)));
	return -1;
}
