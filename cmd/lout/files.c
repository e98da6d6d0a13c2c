/* files - stdout and the open files of --path: blocks, failed writes, LRU */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "fwd.h"
#include "out.h"
#include "sig.h"
#include "stats.h"

#include "lout.h"

static char std_name[] = "stdout";
struct file std = { .name = std_name, .fd = 1, .block = OUT_BLOCK };
uint64_t not_written;

/*
 * The files of --path: o.max_open slots, each free or holding an open
 * file; the open ones in a hash table by name and in a list by use, the
 * least recently used closed first when a slot is needed.
 */
static struct file *slots;
static struct file *free_slots;
static struct file **buckets;
static size_t nbuckets;                 /* a power of 2 */
static struct file *mru, *lru;          /* most and least recently used */
static size_t nopen, limit;             /* open, and kept open at most */
static uint64_t gen_clock;
static struct buf gz;                   /* a gzip member */

/* The list of open files by use. */
static void
lru_unlink(struct file *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		mru = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		lru = f->prev;
	f->prev = f->next = NULL;
}

static void
lru_push(struct file *f)
{
	f->prev = NULL;
	f->next = mru;
	if (mru)
		mru->prev = f;
	else
		lru = f;
	mru = f;
}

/* Makes f, open, the most recently used. */
void
files_touch(struct file *f)
{
	if (f != mru) {
		lru_unlink(f);
		lru_push(f);
	}
}

/* How many of the buffered events end within the first done bytes. */
static size_t
ends_within(const struct ends *e, size_t done)
{
	size_t lo = 0, hi = e->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e->at[mid] <= done)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Writes p[0..n); the bytes written, fewer if it failed (errno set). */
static size_t
write_some(struct file *f, const char *p, size_t n)
{
	size_t off = 0;
	ssize_t w;

	while (off < n) {
		w = write(f->fd, p + off, n - off);
		if (w < 0 && errno == EINTR) {
			if (f == &std)  /* SIGUSR1 while a reader is slow */
				sig_service();
			continue;
		}
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			break;
		}
		off += (size_t)w;
	}
	return off;
}

/* Where a write to f begins, if f is a regular file; else -1. */
static off_t
write_start(const struct file *f)
{
	struct stat st;
	int fl;

	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	fl = fcntl(f->fd, F_GETFL);
	if (fl >= 0 && (fl & O_APPEND))
		return st.st_size;
	return lseek(f->fd, 0, SEEK_CUR);
}

/*
 * A write of f's buffer stopped after done bytes (errno says why): a
 * regular file is cut back to the end of the last whole event written (to
 * where the write began with gzip, as part of a member is unreadable), so
 * a later append starts on a clean boundary; the events after it are
 * counted as not written.
 */
static void
write_failed(struct file *f, off_t start, size_t done)
{
	size_t k = o.gzip ? 0 : ends_within(&f->e, done);
	size_t keep = k ? f->e.at[k - 1] : 0;

	marks_stop();
	if (errno == EPIPE && f == &std)
		exit(128 + SIGPIPE);    /* the reader went away: quietly */
	warn("unable to write %s:", f->name);
	if (done > keep && start >= 0) {
		if (ftruncate(f->fd, start + (off_t)keep) < 0)
			warn("unable to cut %s back to its last whole event:",
			    f->name);
		else
			lseek(f->fd, start + (off_t)keep, SEEK_SET);
	} else if (done > keep) {
		warn("%s: %zu bytes of an event were written before the "
		    "failure", f->name, done - keep);
	}
	stats.out += k;
	stats.bytes_out += keep;
	not_written += f->e.n - k;
	f->b.len = 0;
	f->e.n = 0;
}

/*
 * Writes f's buffer, one gzip member with --compress gzip; -1 if that
 * failed (then said, and the events not written counted).
 */
int
file_flush(struct file *f)
{
	const char *p = f->b.p;
	size_t n = f->b.len, done;
	off_t start;

	if (!n)
		return 0;
	if (o.gzip && f != &std) {
		gz.len = 0;
		if (fwd_gzip(&gz, f->b.p, f->b.len, 6) < 0) {
			errno = ENOMEM;
			write_failed(f, -1, 0);
			return -1;
		}
		p = gz.p;
		n = gz.len;
	}
	start = write_start(f);
	if ((done = write_some(f, p, n)) < n) {
		write_failed(f, start, done);
		return -1;
	}
	stats.out += f->e.n;
	stats.bytes_out += f->b.len;
	f->b.len = 0;
	f->e.n = 0;
	if (f->b.cap > 4 * f->block) {
		/* after an event much bigger than a block */
		buf_free(&f->b);
		free(f->e.at);
		memset(&f->e, 0, sizeof(f->e));
	}
	marks_settle();
	return 0;
}

/* Flushes and closes f, a file of --path; -1 if anything failed (said). */
static int
file_close(struct file *f)
{
	struct file **pp = &buckets[f->hash & (nbuckets - 1)];
	int ret;

	ret = file_flush(f);
	if (close(f->fd) < 0) {
		warn("unable to close %s:", f->name);
		ret = -1;
	}
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	lru_unlink(f);
	nopen--;
	free(f->name);
	f->name = NULL;
	f->fd = -1;
	f->gen = 0;
	f->next = free_slots;
	free_slots = f;
	return ret;
}

/*
 * Opens (appending) a file of --path into the free slot f, creating the
 * directories above it if they are missing, and closing the least
 * recently used file while there are too many open for the system; -1
 * said.
 */
static int
file_open(struct file *f, const char *name)
{
	char d[PATH_CAP];
	int made = 0;

	for (;;) {
		f->fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0644);
		if (f->fd >= 0)
			return 0;
		if (errno == ENOENT && !made) {
			if (fs_mkdir_p(name, 0, d, sizeof(d)) < 0) {
				warn("unable to create directory %s:", d);
				return -1;
			}
			made = 1;
		} else if ((errno == EMFILE || errno == ENFILE) && lru) {
			/* fewer from now on, a few descriptors spare */
			limit = nopen > 4 ? nopen - 4 : 1;
			while (lru && nopen >= limit)
				if (file_close(lru) < 0)
					return -1;
		} else {
			warn("unable to open %s:", name);
			return -1;
		}
	}
}

/* A hash of s[0..len), eight bytes at a time. */
uint32_t
name_hash(const char *s, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15u;
	uint64_t h = len * k, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * k;
	return (uint32_t)(h ^ h >> 32);
}

/*
 * The open file named name[0..len) (NUL-terminated), opened if it is not
 * and made the most recently used; exits if it cannot be opened.
 */
struct file *
files_get(const char *name, size_t len)
{
	uint32_t h = name_hash(name, len);
	struct file *f, **bucket = &buckets[h & (nbuckets - 1)];

	for (f = *bucket; f; f = f->hnext)
		if (f->hash == h && f->name_len == len && memcmp(f->name, name,
		    len) == 0) {
			files_touch(f);
			return f;
		}
	if (nopen >= limit && file_close(lru) < 0)
		goto fail;
	f = free_slots;
	free_slots = f->next;
	if (file_open(f, name) < 0) {
		f->next = free_slots;
		free_slots = f;
		goto fail;
	}
	f->name = xstrndup(name, len);
	f->name_len = len;
	f->hash = h;
	f->gen = ++gen_clock;
	f->hnext = *bucket;
	*bucket = f;
	lru_push(f);
	nopen++;
	return f;
fail:
	not_written++;          /* the event in hand */
	fail_exit(EX_SYS);
}

/* Writes out every file and stdout; exits if that fails. */
void
files_flush(void)
{
	struct file *f;

	for (f = mru; f; f = f->next)
		if (file_flush(f) < 0)
			fail_exit(EX_SYS);
	if (file_flush(&std) < 0)
		fail_exit(EX_SYS);
}

/* Closes every file of --path; -1 if anything failed (said and counted). */
int
files_close(void)
{
	int bad = 0;

	while (mru)
		bad |= file_close(mru) < 0;
	return bad ? -1 : 0;
}

/*
 * The marks taken in when the file that has held its bytes the longest
 * began to hold them (files and stdout); UINT64_MAX if none holds any.
 */
uint64_t
files_oldest(void)
{
	uint64_t m = std.b.len ? std.since : UINT64_MAX;
	struct file *f;

	for (f = mru; f; f = f->next)
		if (f->b.len && f->since < m)
			m = f->since;
	return m;
}

void
files_init(void)
{
	size_t i, block;

	buf_reserve(&std.b, OUT_BLOCK + 4096);
	if (!o.path)
		return;
	/* every file may hold a block: HELD_MAX in all, 4 KiB at least */
	block = HELD_MAX / o.max_open;
	block = block > OUT_BLOCK ? OUT_BLOCK : block < 4096 ? 4096 : block;
	limit = o.max_open;
	slots = xcalloc(o.max_open, sizeof(*slots));
	for (i = o.max_open; i-- > 0; ) {
		slots[i].fd = -1;
		slots[i].block = block;
		slots[i].next = free_slots;
		free_slots = &slots[i];
	}
	for (nbuckets = 16; nbuckets < 2 * o.max_open; nbuckets *= 2)
		;
	buckets = xcalloc(nbuckets, sizeof(*buckets));
}

/* After files_close: the memory. */
void
files_free(void)
{
	size_t i;

	for (i = 0; slots && i < o.max_open; i++) {
		buf_free(&slots[i].b);
		free(slots[i].e.at);
	}
	free(slots);
	free(buckets);
	buf_free(&gz);
	buf_free(&std.b);
	free(std.e.at);
}
