/* pos - the position file: Fluentd's pos_file, read at start, saved */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "fs.h"

#include "ltail.h"

#define UNWATCHED 0xffffffffffffffffULL

/* An entry of the position file read at start. */
struct pent {
	char *path;
	uint64_t off, ino;
	int used;
};

struct pos pos;

static struct pent *pents;
static size_t npents;
static struct buf posb, posold;
static char *pos_tmp;
static const char *pos_base;    /* the last component of o.pos */
static struct stat pos_dir;     /* the directory of o.pos */
static int pos_written, pos_failing;

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

void
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
	off_t v = e2e.msrc ? f->acked : f->committed;
	char line[64];

	if (strpbrk(f->path, "\t\n"))
		return;
	if (f->gz)
		v = gz_pos(f, v);
	buf_puts(b, f->path);
	snprintf(line, sizeof(line), "\t%016llx\t%016llx\n",
	    (unsigned long long)v, (unsigned long long)f->ino);
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
	for (i = 0; i < e2e.nretired; i++)
		pos_entry(b, e2e.retired[i]);
	for (pass = 1; pass >= 0; pass--) {
		for (i = 0; i < files.n; i++) {
			f = files.v[i];
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
	int fd, saved;

	fd = open(pos_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (fs_write_all(fd, p, len) < len || fsync(fd) < 0)
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
int
pos_save(void)
{
	struct buf t;

	if (!o.pos)
		return 0;
	pos.dirty = 0;
	pos.last = clock_ms();
	posb.len = 0;
	pos_entries(&posb);
	if (pos_written && posb.len == posold.len && (!posb.len ||
	    memcmp(posb.p, posold.p, posb.len) == 0))
		return 0;
	if (write_tmp(posb.p, posb.len) < 0 || rename(pos_tmp, o.pos) < 0) {
		if (!pos_failing++ || pos.final)
			warn("unable to write %s:", o.pos);
		unlink(pos_tmp);
		pos.dirty = 1;
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
void
pos_at_exit(void)
{
	if (!pos.final) {
		e2e_recv();
		pos.final = 1;
		pos_save();
	}
}

/* Whether path is the position file or its temporary copy. */
int
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

/* Where a newly found file starts (Fluentd's rules, plus inodes). */
off_t
start_at(struct file *f, const struct stat *st)
{
	struct pent *e = pos_find(f->path, st->st_ino);

	if (f->gz) {            /* read whole, or not at all */
		if (e)
			e->used = 1;
		if (e ? e->off == (uint64_t)st->st_size :
		    !pos_path_known(f->path) && watch.startup && !o.head)
			gz_skip(f, st->st_size);
		return 0;
	}
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
	if (watch.startup && !o.head)
		return line_end(f, st->st_size);
	return 0;
}

void
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

/* Lets go of what pos_setup and pos_save keep. */
void
pos_free(void)
{
	free(pos_tmp);
	buf_free(&posb);
	buf_free(&posold);
}
