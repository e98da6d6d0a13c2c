/* ltail - follow files like Fluentd's in_tail: one event per line */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "../common/mark.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/parse_rx.h"
#include "../common/rx.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"

#define USAGE "[options] PATH...   (a file, a glob, or - for stdin)"
#define ABOUT "Follow files as Fluentd's in_tail does and write one event " \
	"per line: the tag,\nthe time it was read and {\"message\": line}.  " \
	"Files are followed across\nrotation and truncation; --pos-file " \
	"remembers how far each was read."

#define RBUF (128 * 1024)       /* one read(2) */
#define ROUND (1024 * 1024)     /* read from one file before the next */
#define NHASH 4096              /* hash chains for inodes and watches */
#define POS_MS 100              /* least time between position writes */
#define KEEP (64 * 1024)        /* line buffers larger than this are freed */
#define WARN_MAX 10             /* long lines reported one by one */
#define WATCH_MASK (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | \
    IN_ONLYDIR)
#define UNWATCHED 0xffffffffffffffffULL
#define MARK_MS 200             /* least time between two marks */
#define MARK_OUT 64             /* marks outstanding at most */
#define MARK_WARN_MS (5 * 60 * 1000)    /* least time between warnings */

enum {
	O_PATH_KEY = OPT_LONG, O_ONCE, O_REFRESH, O_ROTATE_WAIT, O_POLL,
	O_POLL_INTERVAL, O_MAX_LINE, O_LONG_LINES, O_ML_FLUSH, O_E2E,
	O_E2E_TIMEOUT, O_STATS
};

static const struct opt opts[] = {
	{ 't', "tag", "TAG", "event tag (default tail); '*': the path, / as "
	    "." },
	{ 'k', "key", "KEY", "record key of the line (default message)" },
	{ O_PATH_KEY, "path-key", "KEY", "also put the file's path in the "
	    "record as KEY" },
	{ 'p', "pos-file", "FILE", "keep read positions in FILE (Fluentd "
	    "pos_file)" },
	{ 'e', "exclude", "GLOB", "leave out paths matching GLOB "
	    "(repeatable)" },
	{ 'r', "read-from-head", NULL, "start files with no position at "
	    "their start" },
	{ O_ONCE, "once", NULL, "read every file to its end, then exit" },
	{ 'F', "follow", NULL, "follow files by name across rotation "
	    "(default)" },
	{ O_REFRESH, "refresh-interval", "TIME", "look for new files every "
	    "TIME (default 60s)" },
	{ O_ROTATE_WAIT, "rotate-wait", "TIME", "read a rotated or deleted "
	    "file TIME more (5s)" },
	{ O_POLL, "poll", NULL, "poll the files instead of using inotify" },
	{ O_POLL_INTERVAL, "poll-interval", "TIME", "how often to poll "
	    "(default 1s)" },
	{ O_MAX_LINE, "max-line-size", "SIZE", "longest line passed on whole "
	    "(default 1M)" },
	{ O_LONG_LINES, "long-lines", "split|skip", "split longer lines "
	    "(default) or skip them" },
	{ 'm', "multiline-start", "REGEX", "a line matching REGEX starts a "
	    "message" },
	{ O_ML_FLUSH, "multiline-flush-interval", "TIME", "pass a message on "
	    "after TIME quiet (5s; 0: never)" },
	{ O_E2E, "end-to-end", NULL, "save positions of lines delivered end "
	    "to end" },
	{ O_E2E_TIMEOUT, "end-to-end-timeout", "TIME", "wait TIME for the "
	    "last mark to come back (30s)" },
	{ O_STATS, "stats", NULL, "print counters to stderr at exit" },
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "done: every file read (with --once), or stopped by a signal" },
	{ 2, "usage error" },
	{ 4, "system failure: a position file, a missing path, no mark back" },
	{ 141, "the reader of standard output went away" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

static struct {
	const char *tag, *key, *path_key, *pos;
	char **exclude;
	size_t nexclude;
	int head, once, follow, poll, skip, stats, e2e;
	long long refresh_ms, rotate_ms, poll_ms, ml_ms, e2e_ms;
	size_t max;
	const char *ml;
} o = {
	.tag = "tail", .key = "message", .refresh_ms = 60000,
	.rotate_ms = 5000, .poll_ms = 1000, .ml_ms = 5000, .e2e_ms = 30000,
	.max = 1024 * 1024
};

/* One followed file, or stdin.  Offsets are in the file. */
struct file {
	char *path;             /* its name now, as the glob gave it */
	struct buf pre;         /* event head: array of 3, the tag */
	struct buf post;        /* the --path-key pair, or nothing */
	dev_t dev;
	ino_t ino;
	int fd;
	int wd;                 /* inotify watch, or -1: polled */
	off_t off;              /* of the next byte read */
	off_t emitted;          /* past the last line passed on or skipped */
	off_t committed;        /* as emitted, of events written out */
	off_t acked;            /* --end-to-end: as emitted, of events
				 * delivered (a mark after them came back) */
	off_t snapped;          /* emitted as of the last mark */
	unsigned refs;          /* entries of marks outstanding naming it */
	struct buf part;        /* the line being read, incomplete */
	int skipping;           /* dropping the rest of a long line */
	int splitting;          /* cutting a long line into parts */
	struct buf ml;          /* the pending multiline message */
	int ml_on;
	off_t ml_end;           /* past its last line */
	long long ml_ms;        /* when its last line came */
	int ready;              /* may have bytes to read */
	int check;              /* see whether its name still leads to it */
	int rotated;            /* its name no longer leads to it */
	long long rotated_ms;
	int is_stdin;
	int dead;               /* to be closed */
	unsigned gen;           /* the scan that last found it */
	struct file *ino_next, *wd_next;
};

struct dir {
	char *path;
	int wd;
};

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

/* An entry of the position file read at start. */
struct pent {
	char *path;
	uint64_t off, ino;
	int used;
};

static struct out out;
static struct file **fv;
static size_t nf, fcap;
static struct file *by_ino[NHASH], *by_wd[NHASH];
static struct dir *dirs;
static size_t ndirs, dcap;
static struct pent *pents;
static size_t npents;
static char **pats, **pat_base;
static size_t npats;
static struct rx *mlrx;
static char *rbuf;
static struct buf tb;           /* the event time of the current batch */
static struct buf keyb;         /* map header and the line's key */
static struct buf posb, posold;
static char *pos_tmp;
static const char *pos_base;    /* the last component of o.pos */
static struct stat pos_dir;     /* the directory of o.pos */
static int pos_written, pos_failing, pos_final;
static int pos_dirty;
static long long pos_last, next_refresh, next_tick, tick_ms;
static int ifd = -1;
static unsigned gen;
static int startup = 1, rescan_now, only_stdin, missing;
static int kick;                /* a file was made ready outside reading */
static struct file *in_file;    /* stdin, while it is read */
static size_t nrotated, nml, npolled, nwatched;
static const char *tag_suf;
static size_t tag_pre_len, tag_suf_len;
static int tag_star;
static struct {
	uint64_t skipped, split, rotations, truncations, warned;
} n;
static struct mark_src *msrc;   /* --end-to-end */
static struct snap snaps[MARK_OUT];     /* outstanding, oldest first */
static size_t snap_head, nsnaps;
static struct file **retired;   /* closed, not yet delivered to the end */
static size_t nretired, rcap;
static int unmarked;            /* positions moved since the last mark */
static int mark_warned;
static long long mark_ms, mark_warn_ms;

static void
sync_stats(void)
{
	stats.bytes_out = out.bytes + out.b.len;
}

static void
extra_stats(char *b, size_t cap)
{
	int k;

	k = snprintf(b, cap, ", lines skipped %llu, split %llu, files watched "
	    "%zu, rotations %llu, truncations %llu",
	    (unsigned long long)n.skipped, (unsigned long long)n.split,
	    nwatched, (unsigned long long)n.rotations,
	    (unsigned long long)n.truncations);
	if (msrc && k >= 0 && (size_t)k < cap)
		snprintf(b + k, cap - k, ", marks made %llu, returned %llu",
		    (unsigned long long)mark_src_last(msrc),
		    (unsigned long long)mark_src_done(msrc));
}

/* --- the file table ------------------------------------------------- */

static size_t
ino_slot(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;

	return (size_t)(h >> 40) & (NHASH - 1);
}

static struct file *
find_file(dev_t dev, ino_t ino)
{
	struct file *f;

	for (f = by_ino[ino_slot(dev, ino)]; f; f = f->ino_next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

static struct file *
find_wd(int wd)
{
	struct file *f;

	for (f = by_wd[wd & (NHASH - 1)]; f; f = f->wd_next)
		if (f->wd == wd)
			return f;
	return NULL;
}

static void
unhash_wd(struct file *f)
{
	struct file **pp;

	for (pp = &by_wd[f->wd & (NHASH - 1)]; *pp; pp = &(*pp)->wd_next)
		if (*pp == f) {
			*pp = f->wd_next;
			break;
		}
	f->wd = -1;
	npolled++;
}

static void
unhash_ino(struct file *f)
{
	struct file **pp;

	for (pp = &by_ino[ino_slot(f->dev, f->ino)]; *pp;
	    pp = &(*pp)->ino_next)
		if (*pp == f) {
			*pp = f->ino_next;
			break;
		}
}

/* Watches f with inotify, through /proc so it is this very file. */
static void
watch_file(struct file *f)
{
	char proc[64];
	int wd = -1;

	if (ifd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
		wd = inotify_add_watch(ifd, proc, WATCH_MASK);
		if (wd < 0)
			wd = inotify_add_watch(ifd, f->path, WATCH_MASK);
	}
	f->wd = wd;
	if (wd < 0) {
		npolled++;
		return;
	}
	f->wd_next = by_wd[wd & (NHASH - 1)];
	by_wd[wd & (NHASH - 1)] = f;
}

static void
watch_dir(const char *path, size_t len)
{
	char *p;
	size_t i;
	int wd;

	if (ifd < 0)
		return;
	p = len ? xstrndup(path, len) : xstrdup(".");
	for (i = 0; i < ndirs; i++)
		if (strcmp(dirs[i].path, p) == 0) {
			free(p);
			return;
		}
	wd = inotify_add_watch(ifd, p, DIR_MASK);
	if (wd < 0) {
		free(p);
		return;
	}
	if (ndirs == dcap) {
		dcap = dcap ? 2 * dcap : 8;
		dirs = xrealloc(dirs, dcap * sizeof(*dirs));
	}
	dirs[ndirs].path = p;
	dirs[ndirs++].wd = wd;
}

/* Appends the tag for path: Fluentd's prefix, path, suffix rule. */
static void
put_tag(struct buf *b, const char *path)
{
	size_t from;
	char c;

	if (!tag_star) {
		buf_puts(b, o.tag);
		return;
	}
	buf_put(b, o.tag, tag_pre_len);
	from = b->len;
	/* path.tr('/', '.').squeeze('.') without a leading '.' */
	for (; *path; path++) {
		c = *path == '/' ? '.' : *path;
		if (c == '.' && (b->len == from || b->p[b->len - 1] == '.'))
			continue;
		buf_putc(b, c);
	}
	buf_put(b, tag_suf, tag_suf_len);
}

static struct file *
file_new(const char *path, int fd)
{
	struct file *f = xcalloc(1, sizeof(*f));
	struct buf tag = { 0 };

	f->path = xstrdup(path);
	f->fd = fd;
	f->wd = -1;
	put_tag(&tag, fd == 0 && strcmp(path, "-") == 0 ? "stdin" : path);
	buf_putc(&f->pre, (char)0x93);
	mp_put_strhdr(&f->pre, tag.len);
	buf_put(&f->pre, tag.p, tag.len);
	buf_free(&tag);
	if (o.path_key) {
		mp_put_strhdr(&f->post, strlen(o.path_key));
		buf_puts(&f->post, o.path_key);
		mp_put_strhdr(&f->post, strlen(path));
		buf_puts(&f->post, path);
	}
	if (nf == fcap) {
		fcap = fcap ? 2 * fcap : 16;
		fv = xrealloc(fv, fcap * sizeof(*fv));
	}
	fv[nf++] = f;
	return f;
}

/* Closes f and lets go of all but its name and positions. */
static void
file_close(struct file *f)
{
	if (f->wd >= 0) {
		inotify_rm_watch(ifd, f->wd);
		unhash_wd(f);
	}
	if (!f->is_stdin) {
		npolled--;
		nwatched--;
		unhash_ino(f);
		close(f->fd);
	}
	f->fd = -1;
	if (f->rotated)
		nrotated--;
	f->rotated = 0;
	if (f->ml_on)
		nml--;
	f->ml_on = 0;
	buf_free(&f->pre);
	buf_free(&f->post);
	buf_free(&f->part);
	buf_free(&f->ml);
}

static void
file_free(struct file *f)
{
	if (f->fd >= 0)
		file_close(f);
	free(f->path);
	free(f);
}

/* --- end-to-end delivery ------------------------------------------------ */

/*
 * With --end-to-end, a mark follows the events of every flush (at most one
 * each MARK_MS, at most MARK_OUT outstanding), and each mark outstanding
 * keeps the offsets of the files whose events moved before it.  When a
 * mark comes back, those offsets become the files' acked ones: the only
 * ones the position file records.  A closed file (rotated away, read to
 * its end) stays in retired, with its entry in the position file, until a
 * mark after its last line came back.
 */

/* Whether a closed file must be kept until a mark covers its lines. */
static int
e2e_keep(const struct file *f)
{
	return msrc && !f->is_stdin && (f->refs || f->acked != f->emitted);
}

static void
retire(struct file *f)
{
	file_close(f);
	if (nretired == rcap) {
		rcap = rcap ? 2 * rcap : 8;
		retired = xrealloc(retired, rcap * sizeof(*retired));
	}
	retired[nretired++] = f;
}

/* Frees the retired files every line of which was delivered. */
static void
retired_sweep(void)
{
	size_t i, j;

	for (i = j = 0; i < nretired; i++) {
		if (e2e_keep(retired[i])) {
			retired[j++] = retired[i];
		} else {
			file_free(retired[i]);
			pos_dirty = 1;
		}
	}
	nretired = j;
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
static void
mark_maybe(int now_too)
{
	struct snap *s;
	long long now;
	size_t i, k;

	if (!msrc || !unmarked || nsnaps == MARK_OUT ||
	    !mark_src_can_put(msrc))
		return;
	now = clock_ms();
	if (!now_too && now - mark_ms < MARK_MS)
		return;
	s = &snaps[(snap_head + nsnaps++) % MARK_OUT];
	s->seq = mark_src_put(msrc, &out.b);
	for (i = k = 0; i < nf; i++)
		k += moved(fv[i]);
	for (i = 0; i < nretired; i++)
		k += moved(retired[i]);
	s->v = k ? xmalloc(k * sizeof(*s->v)) : NULL;
	s->n = 0;
	for (i = 0; i < nf; i++)
		snap_file(s, fv[i]);
	for (i = 0; i < nretired; i++)
		snap_file(s, retired[i]);
	mark_ms = now;
	unmarked = 0;
}

/* f was truncated: its offsets in marks outstanding mean nothing now. */
static void
snap_drop(struct file *f)
{
	size_t i, k;
	struct snap *s;

	for (i = 0; msrc && f->refs && i < nsnaps; i++) {
		s = &snaps[(snap_head + i) % MARK_OUT];
		for (k = 0; k < s->n; k++)
			if (s->v[k].f == f) {
				s->v[k].f = NULL;
				f->refs--;
			}
	}
	if (f->acked) {
		f->acked = 0;
		pos_dirty = 1;
	}
	f->snapped = -1;
	unmarked = 1;
}

/* Takes the marks that came back: their offsets are delivered. */
static void
e2e_recv(void)
{
	struct snap *s;
	uint64_t done;
	size_t k;

	if (!msrc)
		return;
	done = mark_src_recv(msrc);
	while (nsnaps && snaps[snap_head].seq <= done) {
		s = &snaps[snap_head];
		for (k = 0; k < s->n; k++) {
			if (!s->v[k].f)
				continue;
			s->v[k].f->acked = s->v[k].off;
			s->v[k].f->refs--;
			pos_dirty = 1;
		}
		free(s->v);
		s->v = NULL;
		snap_head = (snap_head + 1) % MARK_OUT;
		nsnaps--;
	}
	if (nretired)
		retired_sweep();
}

static void
e2e_free(void)
{
	size_t i;

	for (i = 0; i < nsnaps; i++)
		free(snaps[(snap_head + i) % MARK_OUT].v);
	nsnaps = 0;
	for (i = 0; i < nretired; i++)
		file_free(retired[i]);
	free(retired);
	retired = NULL;
	nretired = 0;
	if (msrc)
		mark_src_free(msrc);
	msrc = NULL;
}

/* "30 s" or "500 ms" */
static const char *
ms_str(long long ms, char *b, size_t cap)
{
	if (ms % 1000)
		snprintf(b, cap, "%lld ms", ms);
	else
		snprintf(b, cap, "%lld s", ms / 1000);
	return b;
}

#define NOT_BACK "is the end of the pipeline an lkit sink (lout, lforward, " \
	"lbuffer)? positions are not saved past the last mark that came back"

/* Says so when marks stopped coming back: once, then every few minutes. */
static void
e2e_warn(long long now)
{
	char t[32];

	if (!msrc || mark_src_waiting_ms(msrc) < o.e2e_ms ||
	    (mark_warned && now - mark_warn_ms < MARK_WARN_MS))
		return;
	warn("no mark came back for %s: " NOT_BACK, ms_str(o.e2e_ms, t,
	    sizeof(t)));
	mark_warned = 1;
	mark_warn_ms = now;
}

/* When the next mark or warning is due, for next_timeout (-1: none). */
static long long
e2e_deadline(long long now)
{
	long long t = -1, w;

	if (!msrc)
		return -1;
	if (unmarked && nsnaps < MARK_OUT && mark_src_can_put(msrc))
		t = mark_ms + MARK_MS;
	if (mark_src_last(msrc) > mark_src_done(msrc)) {
		w = now - mark_src_waiting_ms(msrc) + o.e2e_ms;
		if (mark_warned && w < mark_warn_ms + MARK_WARN_MS)
			w = mark_warn_ms + MARK_WARN_MS;
		if (t < 0 || w < t)
			t = w;
	}
	return t;
}

/* Closes the files marked dead, keeping the order of the others. */
static void
sweep(void)
{
	size_t i, j;

	for (i = j = 0; i < nf; i++) {
		if (!fv[i]->dead) {
			fv[j++] = fv[i];
			continue;
		}
		if (e2e_keep(fv[i]))
			retire(fv[i]);
		else
			file_free(fv[i]);
		pos_dirty = 1;
	}
	nf = j;
}

/* --- events ------------------------------------------------------------ */

/* Marks everything passed on so far as written: out was just flushed. */
static void
commit_all(void)
{
	size_t i;

	for (i = 0; i < nf; i++)
		if (fv[i]->committed != fv[i]->emitted) {
			fv[i]->committed = fv[i]->emitted;
			pos_dirty = 1;
		}
}

static void
flush_out(void)
{
	mark_maybe(0);
	if (out.b.len)
		out_flush(&out);
	commit_all();
}

/* Takes the time of the batch of lines about to be read. */
static void
batch_time(void)
{
	int64_t sec;
	uint32_t nsec;

	event_now(&sec, &nsec);
	tb.len = 0;
	event_put_time(&tb, sec, nsec);
	tick_ms = clock_ms();
}

static inline void
cat(struct buf *b, const void *p, size_t len)
{
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* Writes the event for the line a + b, which ends at file offset end. */
static void
emit(struct file *f, const char *a, size_t an, const char *b, size_t bn,
    off_t end)
{
	struct buf *ob = &out.b;

	buf_reserve(ob, f->pre.len + tb.len + keyb.len + 5 + an + bn +
	    f->post.len);
	cat(ob, f->pre.p, f->pre.len);
	cat(ob, tb.p, tb.len);
	cat(ob, keyb.p, keyb.len);
	mp_put_strhdr(ob, an + bn);
	cat(ob, a, an);
	cat(ob, b, bn);
	cat(ob, f->post.p, f->post.len);
	stats.out++;
	f->emitted = end;
	unmarked = 1;
	out_check(&out);
	if (!ob->len)
		commit_all();
}

/* A line that produced no event is done with: move past it. */
static void
advance(struct file *f, off_t end)
{
	if (f->ml_on)
		return;
	f->emitted = end;
	unmarked = 1;
	if (!out.b.len && f->committed != end) {
		f->committed = end;
		pos_dirty = 1;
	}
}

static void
ml_flush(struct file *f)
{
	if (!f->ml_on)
		return;
	f->ml_on = 0;
	nml--;
	emit(f, f->ml.p, f->ml.len, NULL, 0, f->ml_end);
	f->ml.len = 0;
	if (f->ml.cap > KEEP)
		buf_free(&f->ml);
}

/* A whole line (no newline) ending at end: an event or part of one. */
static void
line(struct file *f, const char *p, size_t len, off_t end)
{
	int start;

	if (!mlrx) {
		emit(f, p, len, NULL, 0, end);
		return;
	}
	start = rx_match(mlrx, p, len) == 1;
	if (f->ml_on && !start && f->ml.len + 1 + len <= o.max) {
		buf_putc(&f->ml, '\n');
		buf_put(&f->ml, p, len);
	} else {
		if (f->ml_on && !start)
			n.split++;      /* the message grew too long */
		ml_flush(f);
		buf_put(&f->ml, p, len);
		f->ml_on = 1;
		nml++;
	}
	f->ml_end = end;
	f->ml_ms = tick_ms;
}

/* A line longer than --max-line-size begins at offset at. */
static void
long_line(struct file *f, off_t at)
{
	if (o.skip) {
		f->skipping = 1;
		n.skipped++;
		stats.dropped++;
	} else {
		f->splitting = 1;
		n.split++;
	}
	if (n.warned++ < WARN_MAX)
		warn("%s: line at byte %lld is longer than %zu bytes: %s%s",
		    f->path, (long long)at, o.max, o.skip ? "skipped" :
		    "split", n.warned == WARN_MAX ? " (no more of these "
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
static void
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

/* At the end of f for good: pass on the incomplete line and message. */
static void
finish(struct file *f)
{
	if (f->part.len || f->skipping || f->splitting) {
		stats.in++;
		line_done(f, f->off, f->off);
	}
	ml_flush(f);
}

/* --- reading ----------------------------------------------------------- */

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
	if (msrc)
		snap_drop(f);
	n.truncations++;
}

/*
 * Reads up to budget bytes of f (stdin: one read).  Returns 1 if there
 * may be more, 0 at the end of the file for now.
 */
static int
read_file(struct file *f, size_t budget)
{
	struct stat st;
	ssize_t got;

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

/* --- the position file ------------------------------------------------ */

static int
pos_parse_line(char *s, struct pent *e)
{
	char *t1, *t2, *end;

	t1 = strchr(s, '\t');
	if (!t1 || t1 == s || !isxdigit((unsigned char)t1[1]))
		return -1;
	t2 = strchr(t1 + 1, '\t');
	if (!t2 || !isxdigit((unsigned char)t2[1]))
		return -1;
	errno = 0;
	e->off = strtoull(t1 + 1, &end, 16);
	if (end != t2 || end == t1 + 1 || errno)
		return -1;
	e->ino = strtoull(t2 + 1, &end, 16);
	if (end == t2 + 1 || errno)
		return -1;
	e->path = xstrndup(s, t1 - s);
	e->used = 0;
	return 0;
}

static void
pos_load(void)
{
	struct buf b = { 0 };
	struct pent e;
	char *s, *nl, *end;
	ssize_t got;
	int fd;

	fd = open(o.pos, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die(EX_SYS, "unable to open %s:", o.pos);
	do {
		buf_reserve(&b, 65536);
		got = read(fd, b.p + b.len, b.cap - b.len);
		if (got < 0 && errno != EINTR) {
			fd = errno;     /* free may change it */
			buf_free(&b);
			errno = fd;
			die(EX_SYS, "unable to read %s:", o.pos);
		}
		if (got > 0)
			b.len += got;
	} while (got != 0);
	close(fd);
	buf_putc(&b, '\0');
	end = b.p + b.len - 1;
	for (s = b.p; s < end; s = nl + 1) {
		if (!(nl = memchr(s, '\n', end - s)))
			nl = end;
		*nl = '\0';
		if (pos_parse_line(s, &e) < 0) {
			if (*s)
				warn("%s: not a position entry, ignored: %s",
				    o.pos, s);
			continue;
		}
		if (e.off == UNWATCHED || e.ino == 0) {
			free(e.path);
			continue;
		}
		pents = xrealloc(pents, (npents + 1) * sizeof(*pents));
		pents[npents++] = e;
	}
	buf_free(&b);
}

/* The entry for this inode, preferring one with the same path. */
static struct pent *
pos_find(const char *path, uint64_t ino)
{
	struct pent *any = NULL;
	size_t i;

	for (i = npents; i-- > 0;) {
		if (pents[i].used || pents[i].ino != ino)
			continue;
		if (strcmp(pents[i].path, path) == 0)
			return &pents[i];
		if (!any)
			any = &pents[i];
	}
	return any;
}

static int
pos_path_known(const char *path)
{
	size_t i;

	for (i = 0; i < npents; i++)
		if (strcmp(pents[i].path, path) == 0)
			return 1;
	return 0;
}

static void
pos_forget(void)
{
	size_t i;

	for (i = 0; i < npents; i++)
		free(pents[i].path);
	free(pents);
	pents = NULL;
	npents = 0;
}

static void
pos_entry(struct buf *b, const struct file *f)
{
	char line[64];

	if (strpbrk(f->path, "\t\n"))
		return;
	buf_puts(b, f->path);
	snprintf(line, sizeof(line), "\t%016llx\t%016llx\n",
	    (unsigned long long)(msrc ? f->acked : f->committed),
	    (unsigned long long)f->ino);
	buf_puts(b, line);
}

static void
pos_entries(struct buf *b)
{
	struct file *f;
	size_t i;
	int pass;

	/*
	 * Closed and rotated files first: Fluentd keeps the last entry of a
	 * path.  With --end-to-end a closed file keeps its entry until its
	 * lines are delivered.
	 */
	for (i = 0; i < nretired; i++)
		pos_entry(b, retired[i]);
	for (pass = 1; pass >= 0; pass--) {
		for (i = 0; i < nf; i++) {
			f = fv[i];
			if (f->is_stdin || (f->dead && !e2e_keep(f)) ||
			    (f->rotated || f->dead) != pass)
				continue;
			pos_entry(b, f);
		}
	}
}

/* Writes p[0..len) to the temporary position file and syncs it. */
static int
write_tmp(const char *p, size_t len)
{
	ssize_t w;
	int fd, saved;

	fd = open(pos_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (len) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		p += w;
		len -= w;
	}
	if (fsync(fd) < 0)
		goto fail;
	return close(fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Writes the positions of what has been written out: to a temporary
 * file, synced, then renamed over the old one, so a crash leaves either
 * the old or the new file whole.  Call only right after flush_out.
 */
static int
pos_save(void)
{
	struct buf t;

	if (!o.pos)
		return 0;
	pos_dirty = 0;
	pos_last = clock_ms();
	posb.len = 0;
	pos_entries(&posb);
	if (pos_written && posb.len == posold.len && (!posb.len ||
	    memcmp(posb.p, posold.p, posb.len) == 0))
		return 0;
	if (write_tmp(posb.p, posb.len) < 0 || rename(pos_tmp, o.pos) < 0) {
		if (!pos_failing++ || pos_final)
			warn("unable to write %s:", o.pos);
		unlink(pos_tmp);
		pos_dirty = 1;
		return -1;
	}
	pos_failing = 0;
	pos_written = 1;
	t = posold;
	posold = posb;
	posb = t;
	return 0;
}

/* atexit: a closed downstream or a fatal error still saves positions. */
static void
pos_at_exit(void)
{
	if (!pos_final) {
		e2e_recv();
		pos_final = 1;
		pos_save();
	}
}

/* --- finding files ----------------------------------------------------- */

static int
has_magic(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return 1;
	return 0;
}

/* Whether path is the position file or its temporary copy. */
static int
is_pos(const char *path, const char *base)
{
	struct stat st;
	size_t n = strlen(pos_base);
	char *dir;
	int r;

	if (strncmp(base, pos_base, n) != 0 || (base[n] && strcmp(base + n,
	    ".tmp") != 0))
		return 0;
	dir = base == path ? xstrdup(".") : xstrndup(path, base - path);
	r = stat(dir, &st) == 0 && st.st_dev == pos_dir.st_dev &&
	    st.st_ino == pos_dir.st_ino;
	free(dir);
	return r;
}

static int
excluded(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	if (o.pos && is_pos(path, base))
		return 1;
	for (i = 0; i < o.nexclude; i++) {
		if (fnmatch(o.exclude[i], path, 0) == 0)
			return 1;
		if (!strchr(o.exclude[i], '/') &&
		    fnmatch(o.exclude[i], base, 0) == 0)
			return 1;
	}
	return 0;
}

/*
 * The end of f for a start there: after its last newline, so a line being
 * written at this moment is read whole, not from its middle (looking back
 * at most one read buffer).
 */
static off_t
line_end(struct file *f, off_t size)
{
	size_t len = size < RBUF ? (size_t)size : RBUF;
	ssize_t got;

	got = pread(f->fd, rbuf, len, size - (off_t)len);
	while (got > 0 && rbuf[got - 1] != '\n')
		got--;
	return got > 0 || len == (size_t)size ? size - (off_t)len + got : size;
}

/* Where a newly found file starts (Fluentd's rules, plus inodes). */
static off_t
start_at(struct file *f, const struct stat *st)
{
	struct pent *e = pos_find(f->path, st->st_ino);

	if (e) {
		e->used = 1;
		if (e->off <= (uint64_t)st->st_size)
			return (off_t)e->off;
		warn("%s: recorded position %llu is past the end (%lld "
		    "bytes): reading from the start", f->path,
		    (unsigned long long)e->off, (long long)st->st_size);
		return 0;
	}
	if (pos_path_known(f->path))
		return 0;       /* a new file under a known name */
	if (startup && !o.head)
		return line_end(f, st->st_size);
	return 0;
}

/* Notes that a scan found f under path. */
static void
seen(struct file *f, const char *path)
{
	if (f->gen == gen)
		return;         /* a second name in one scan: a hard link */
	f->gen = gen;
	if (strcmp(f->path, path) != 0) {
		free(f->path);
		f->path = xstrdup(path);
		pos_dirty = 1;
	}
	if (f->rotated) {
		f->rotated = 0;
		nrotated--;
	}
}

static void
add_path(const char *path, int literal)
{
	struct stat st;
	struct file *f;
	const char *slash;
	off_t at;
	int fd;

	if (stat(path, &st) < 0 || st.st_nlink == 0)
		return;         /* gone, or going (see check_name) */
	if (!S_ISREG(st.st_mode)) {
		if (literal && startup) {
			warn("%s: not a regular file%s", path,
			    S_ISDIR(st.st_mode) ? " (a directory: use "
			    "DIR/* for its files)" : "");
			missing = 1;
		}
		return;
	}
	if ((f = find_file(st.st_dev, st.st_ino))) {
		seen(f, path);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			warn("unable to open %s:", path);
		return;
	}
	if (fstat(fd, &st) < 0 || (f = find_file(st.st_dev, st.st_ino))) {
		close(fd);
		if (f)
			seen(f, path);
		return;
	}
	f = file_new(path, fd);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->gen = gen;
	f->ready = kick = 1;
	f->ino_next = by_ino[ino_slot(f->dev, f->ino)];
	by_ino[ino_slot(f->dev, f->ino)] = f;
	nwatched++;
	at = start_at(f, &st);
	if (at && lseek(fd, at, SEEK_SET) < 0)
		at = 0;
	f->off = f->emitted = f->committed = f->acked = f->snapped = at;
	pos_dirty = 1;
	watch_file(f);
	slash = strrchr(path, '/');
	watch_dir(path, slash ? (size_t)(slash - path + (slash == path)) : 0);
}

/* Whether f's name still leads to it; if not, it was rotated or deleted. */
static void
check_name(struct file *f)
{
	struct stat st;
	int r;

	if (f->is_stdin || f->rotated || f->dead)
		return;
	/*
	 * IN_ATTRIB of an unlink comes before the name is gone from the
	 * dentry cache, so stat() may still find the file by its name then:
	 * a link count of 0 says it was deleted all the same.
	 */
	r = stat(f->path, &st);
	if (r == 0 && st.st_dev == f->dev && st.st_ino == f->ino &&
	    st.st_nlink > 0)
		return;
	f->rotated = 1;
	f->rotated_ms = clock_ms();
	f->ready = kick = 1;
	nrotated++;
	n.rotations++;
	pos_dirty = 1;
	if (r == 0)
		add_path(f->path, 0);   /* the new file under the name */
}

static void
scan(void)
{
	const char *slash;
	glob_t g;
	size_t i, j;
	int r;

	gen++;
	for (i = 0; i < npats; i++) {
		r = glob(pats[i], 0, NULL, &g);
		for (j = 0; r == 0 && j < g.gl_pathc; j++)
			if (!excluded(g.gl_pathv[j]))
				add_path(g.gl_pathv[j],
				    !has_magic(pats[i], strlen(pats[i])));
		if (r == GLOB_NOMATCH && startup &&
		    !has_magic(pats[i], strlen(pats[i]))) {
			warn("%s: no such file%s", pats[i], o.once ? "" :
			    " (yet): watching for it");
			missing = 1;
		}
		globfree(&g);
		slash = strrchr(pats[i], '/');
		j = slash ? (size_t)(slash - pats[i] + (slash == pats[i])) : 0;
		if (!has_magic(pats[i], j))
			watch_dir(pats[i], j);
	}
	for (i = 0; i < nf; i++)
		if (fv[i]->gen != gen)
			check_name(fv[i]);
}

/* --- waiting ----------------------------------------------------------- */

static int
name_wanted(const char *name)
{
	size_t i;

	for (i = 0; i < npats; i++)
		if (fnmatch(pat_base[i], name, FNM_PERIOD) == 0)
			return 1;
	return 0;
}

static void
dir_event(size_t i, const struct inotify_event *ev)
{
	if (ev->mask & IN_IGNORED) {
		free(dirs[i].path);
		dirs[i] = dirs[--ndirs];
		return;
	}
	if (ev->len && name_wanted(ev->name))
		rescan_now = 1;
}

static void
inotify_event(const struct inotify_event *ev)
{
	struct file *f;
	size_t i;

	if (ev->wd < 0) {
		for (i = 0; i < nf; i++)
			fv[i]->ready = fv[i]->check = 1;
		rescan_now = 1;
		return;
	}
	if ((f = find_wd(ev->wd))) {
		f->ready = 1;
		if (ev->mask & (IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF |
		    IN_IGNORED))
			f->check = 1;
		if (ev->mask & IN_IGNORED)
			unhash_wd(f);
		return;
	}
	for (i = 0; i < ndirs; i++)
		if (dirs[i].wd == ev->wd) {
			dir_event(i, ev);
			return;
		}
}

static void
read_inotify(void)
{
	union {
		struct inotify_event ev;
		char b[16384];
	} u;
	const struct inotify_event *ev;
	ssize_t got;
	char *p;

	while ((got = read(ifd, u.b, sizeof(u.b))) > 0) {
		for (p = u.b; p < u.b + got; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			inotify_event(ev);
		}
	}
}

static long long
deadline_min(long long t, long long d)
{
	return t < 0 || d < t ? d : t;
}

/* Milliseconds until the next timed chore, -1 for none. */
static long long
next_timeout(long long now)
{
	long long t = -1, d;
	size_t i;

	if (!only_stdin)
		t = deadline_min(t, next_refresh);
	if (npolled || nrotated)
		t = deadline_min(t, next_tick);
	if (o.pos && pos_dirty)
		t = deadline_min(t, pos_last + POS_MS);
	if (msrc && (d = e2e_deadline(now)) >= 0)
		t = deadline_min(t, d);
	for (i = 0; (nml && o.ml_ms) || nrotated ? i < nf : 0; i++) {
		if (fv[i]->ml_on && o.ml_ms)
			t = deadline_min(t, fv[i]->ml_ms + o.ml_ms);
		if (fv[i]->rotated)
			t = deadline_min(t, fv[i]->rotated_ms + o.rotate_ms);
	}
	if (t < 0)
		return -1;
	return t > now ? t - now : 0;
}

/* Adds fd to the poll set; returns its index. */
static int
poll_add(struct pollfd *p, int *np, int fd)
{
	p[*np].fd = fd;
	p[*np].events = POLLIN;
	p[*np].revents = 0;
	return (*np)++;
}

static void
wait_events(long long timeout)
{
	struct pollfd p[4];
	int np = 0, pi = -1, pm = -1, ps = -1, r;

	poll_add(p, &np, sig_fd());
	if (ifd >= 0)
		pi = poll_add(p, &np, ifd);
	if (msrc)
		pm = poll_add(p, &np, mark_src_fd(msrc));
	if (in_file && !in_file->ready)
		ps = poll_add(p, &np, 0);
	r = poll(p, np, timeout > 86400000 ? 86400000 : (int)timeout);
	if (r < 0 && errno != EINTR)
		die(EX_SYS, "poll:");
	if (r <= 0)
		return;
	if (p[0].revents) {
		sig_drain();
		sig_service();
	}
	if (pi >= 0 && p[pi].revents)
		read_inotify();
	if (pm >= 0 && p[pm].revents)
		e2e_recv();
	if (ps >= 0 && p[ps].revents)
		in_file->ready = 1;
}

/* --- the main loops ---------------------------------------------------- */

/* Reads every file that may have bytes; 1 if some may have more. */
static int
read_round(void)
{
	struct file *f;
	size_t i;
	int more = 0;

	kick = 0;
	for (i = 0; i < nf && !sig_stop; i++) {
		f = fv[i];
		if (f->ready) {
			f->ready = read_file(f, ROUND);
			more |= f->ready;
		}
		if (f->check) {
			f->check = 0;
			check_name(f);
		}
	}
	if (in_file && in_file->dead)
		in_file = NULL;
	sweep();
	return more;
}

/* Timed work: new files, polling, stale messages, rotated files. */
static void
chores(long long now)
{
	struct file *f;
	size_t i;

	if (rescan_now || (!only_stdin && now >= next_refresh)) {
		rescan_now = 0;
		scan();
		next_refresh = now + o.refresh_ms;
	}
	if ((npolled || nrotated) && now >= next_tick) {
		for (i = 0; i < nf; i++)
			if (fv[i]->wd < 0 && !fv[i]->is_stdin)
				fv[i]->ready = fv[i]->check = kick = 1;
		if (nrotated)
			rescan_now = 1; /* the new file may be there now */
		next_tick = now + o.poll_ms;
	}
	for (i = 0; (nml || nrotated) && i < nf; i++) {
		f = fv[i];
		if (f->ml_on && o.ml_ms && now - f->ml_ms >= o.ml_ms) {
			batch_time();
			ml_flush(f);
		}
		if (f->rotated && !f->ready &&
		    now - f->rotated_ms >= o.rotate_ms) {
			batch_time();
			finish(f);
			f->dead = 1;
		}
	}
	sweep();
}

static void
follow(void)
{
	long long now;
	size_t i;
	int busy;

	next_refresh = clock_ms() + o.refresh_ms;
	while (!sig_stop) {
		busy = read_round();
		if (only_stdin && !in_file)
			break;
		now = clock_ms();
		chores(now);
		if (!busy || (pos_dirty && o.pos && now - pos_last >= POS_MS))
			flush_out();
		e2e_warn(now);
		if (pos_dirty && o.pos && now - pos_last >= POS_MS)
			pos_save();
		wait_events(busy || kick ? 0 : next_timeout(clock_ms()));
	}
	batch_time();
	for (i = 0; i < nf; i++)
		ml_flush(fv[i]);
}

/* --once --end-to-end: a mark now and then, positions as marks return. */
static void
once_tick(void)
{
	long long now;

	if (!msrc)
		return;
	e2e_recv();
	now = clock_ms();
	if (now - mark_ms >= MARK_MS)
		flush_out();
	if (pos_dirty && now - pos_last >= POS_MS)
		pos_save();
}

static void
once(void)
{
	struct file *f;
	size_t i;

	for (i = 0; i < nf && !sig_stop; i++) {
		f = fv[i];
		while (read_file(f, ROUND) && !sig_stop)
			once_tick();
		if (!sig_stop && !f->dead) {
			batch_time();
			finish(f);
		}
		once_tick();
	}
	sweep();
}

/*
 * The end with --end-to-end: a last mark after every event, then a wait
 * of up to --end-to-end-timeout for the marks outstanding, saving the
 * positions as they come back.  0 if every mark came back.
 */
static int
e2e_finish(void)
{
	long long end = clock_ms() + o.e2e_ms, now;
	struct pollfd p;
	char t[32];

	for (;;) {
		e2e_recv();
		if (unmarked) {
			mark_maybe(1);
			if (out.b.len)
				out_flush(&out);
			commit_all();
		}
		if (pos_dirty)
			pos_save();
		if (!unmarked && mark_src_done(msrc) >= mark_src_last(msrc))
			return 0;
		now = clock_ms();
		if (now >= end)
			break;
		p.fd = mark_src_fd(msrc);
		p.events = POLLIN;
		if (poll(&p, 1, end - now > 86400000 ? 86400000 :
		    (int)(end - now)) < 0 && errno != EINTR)
			die(EX_SYS, "poll:");
	}
	warn("the last mark did not come back within %s: " NOT_BACK,
	    ms_str(o.e2e_ms, t, sizeof(t)));
	return -1;
}

/* SIGHUP: look for new files now. */
static void
hup(void)
{
	rescan_now = 1;
}

/* --- setup ------------------------------------------------------------- */

static long long
duration(const char *arg, const char *name, long long min)
{
	long long v = opt_duration_ms(arg);

	if (v < min)
		die(EX_USAGE, "bad time '%s' for --%s", arg, name);
	return v;
}

static void
options(int argc, char **argv)
{
	const char *arg;
	long long v;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case 't': o.tag = arg; break;
		case 'k': o.key = arg; break;
		case O_PATH_KEY: o.path_key = arg; break;
		case 'p': o.pos = arg; break;
		case 'e':
			o.exclude = xrealloc(o.exclude, (o.nexclude + 1) *
			    sizeof(*o.exclude));
			o.exclude[o.nexclude++] = (char *)arg;
			break;
		case 'r': o.head = 1; break;
		case O_ONCE: o.once = 1; break;
		case 'F': o.follow = 1; break;
		case O_REFRESH:
			o.refresh_ms = duration(arg, "refresh-interval", 1);
			break;
		case O_ROTATE_WAIT:
			o.rotate_ms = duration(arg, "rotate-wait", 0);
			break;
		case O_POLL: o.poll = 1; break;
		case O_POLL_INTERVAL:
			o.poll_ms = duration(arg, "poll-interval", 1);
			break;
		case O_MAX_LINE:
			if ((v = opt_size(arg)) < 1 || v > (1LL << 30))
				die(EX_USAGE, "bad size '%s' for "
				    "--max-line-size (1 to 1G)", arg);
			o.max = (size_t)v;
			break;
		case O_LONG_LINES:
			if (strcmp(arg, "skip") != 0 &&
			    strcmp(arg, "split") != 0)
				die(EX_USAGE, "bad value '%s' for --long-lines "
				    "(split or skip)", arg);
			o.skip = strcmp(arg, "skip") == 0;
			break;
		case 'm': o.ml = arg; break;
		case O_ML_FLUSH:
			o.ml_ms = duration(arg, "multiline-flush-interval", 0);
			break;
		case O_E2E: o.e2e = 1; break;
		case O_E2E_TIMEOUT:
			o.e2e_ms = duration(arg, "end-to-end-timeout", 1);
			break;
		case O_STATS: o.stats = 1; break;
		}
	}
}

static void
check_options(int argc, char **argv)
{
	char err[256];
	int i, dash = 0;

	if (argc < 1)
		opt_fail(&prog, "no file given (use - for stdin)");
	for (i = 0; i < argc; i++) {
		if (!*argv[i])
			die(EX_USAGE, "an empty path");
		if (strcmp(argv[i], "-") == 0 && dash++)
			die(EX_USAGE, "- (stdin) is given twice");
	}
	if (o.once && o.follow)
		die(EX_USAGE, "--once and --follow contradict each other");
	if (!*o.tag)
		die(EX_USAGE, "the tag is empty");
	if (!*o.key || (o.path_key && !*o.path_key))
		die(EX_USAGE, "a record key is empty");
	if (o.path_key && strcmp(o.path_key, o.key) == 0)
		die(EX_USAGE, "--path-key and --key are the same key '%s'",
		    o.key);
	if (o.pos && !*o.pos)
		die(EX_USAGE, "the position file name is empty");
	if (o.e2e && !o.pos)
		opt_fail(&prog, "--end-to-end needs --pos-file");
	if (o.ml && !(mlrx = parse_rx(o.ml, PRX_NOLINE, err, sizeof(err))))
		die(EX_USAGE, "bad --multiline-start regex '%s': %s", o.ml,
		    err);
}

static void
pos_setup(void)
{
	const char *s = strrchr(o.pos, '/');
	char *dir;
	int e;

	pos_tmp = xmalloc(strlen(o.pos) + 5);
	sprintf(pos_tmp, "%s.tmp", o.pos);
	pos_base = s ? s + 1 : o.pos;
	dir = s ? xstrndup(o.pos, s - o.pos + (s == o.pos)) : xstrdup(".");
	e = stat(dir, &pos_dir) < 0 ? errno : 0;
	free(dir);
	if ((errno = e))
		die(EX_SYS, "unable to use the directory of %s:", o.pos);
	pos_load();
}

static void
setup(int argc, char **argv)
{
	const char *star = strchr(o.tag, '*'), *s;
	char err[256];
	int i;

	if (star) {
		tag_star = 1;
		tag_pre_len = star - o.tag;
		tag_suf = star + 1;
		s = strchr(tag_suf, '*');       /* Ruby's split('*')[1] */
		tag_suf_len = s ? (size_t)(s - tag_suf) : strlen(tag_suf);
	}
	mp_put_maphdr(&keyb, o.path_key ? 2 : 1);
	mp_put_strhdr(&keyb, strlen(o.key));
	buf_puts(&keyb, o.key);
	pats = xcalloc(argc + 1, sizeof(*pats));
	pat_base = xcalloc(argc + 1, sizeof(*pat_base));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			in_file = file_new("-", 0);
			in_file->is_stdin = 1;
			continue;
		}
		pats[npats] = argv[i];
		s = strrchr(argv[i], '/');
		pat_base[npats++] = s ? (char *)s + 1 : argv[i];
	}
	only_stdin = npats == 0;
	rbuf = xmalloc(RBUF);
	batch_time();
	if (o.pos)
		pos_setup();
	if (o.e2e) {
		if (!(msrc = mark_src_new(MARK_OUT, err, sizeof(err))))
			die(EX_SYS, "--end-to-end: %s", err);
		atexit(e2e_free);
		mark_ms = clock_ms() - MARK_MS;
	}
	if (!o.once && !only_stdin && !o.poll) {
		ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ifd < 0)
			warn("inotify is unavailable (%s): polling every %lld "
			    "ms", strerror(errno), o.poll_ms);
	}
}

static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < nf; i++)
		fv[i]->dead = 1;
	sweep();
	for (i = 0; i < ndirs; i++)
		free(dirs[i].path);
	free(dirs);
	free(fv);
	free(pats);
	free(pat_base);
	free(o.exclude);
	free(rbuf);
	free(pos_tmp);
	buf_free(&tb);
	buf_free(&keyb);
	buf_free(&posb);
	buf_free(&posold);
	rx_free(mlrx);
	e2e_free();
	out_free(&out);
	if (ifd >= 0)
		close(ifd);
}

int
main(int argc, char **argv)
{
	int status = EX_OK;

	progname_set(argv[0]);
	options(argc, argv);
	argc -= optind;
	argv += optind;
	check_options(argc, argv);
	sig_init();
	sig_on_hup(hup);
	stats_init(sync_stats, extra_stats);
	out_init(&out, 1, "stdout");
	setup(argc, argv);
	scan();
	startup = 0;
	pos_forget();
	if (o.pos) {
		if (pos_save() < 0)
			die(EX_SYS, "the position file cannot be written");
		atexit(pos_at_exit);
	}
	if (o.once)
		once();
	else
		follow();
	flush_out();
	if (msrc && e2e_finish() < 0 && o.once && !sig_stop)
		status = EX_SYS;
	pos_final = 1;
	if (pos_save() < 0)
		status = EX_SYS;
	if (o.stats)
		stats_print();
	if (n.warned > WARN_MAX || (n.warned && o.stats))
		warn("%llu lines longer than %zu bytes were %s", (unsigned long
		    long)(o.skip ? n.skipped : n.split), o.max, o.skip ?
		    "skipped" : "split");
	if (o.once && missing)
		status = EX_SYS;
	cleanup();
	return status;
}
