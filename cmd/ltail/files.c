/* files - the file table: adding files, rotation, closing, tags */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "mp.h"

#include "ltail.h"

struct files files;

/*
 * A file left out: one that could not be opened (err), said so once, or
 * one too old for --ignore-older (err 0) and its size then.
 */
struct denied {
	dev_t dev;
	ino_t ino;
	int err;
	off_t size;
	struct denied *next;
};

static struct file *by_ino[NHASH];
static struct denied *denied[NHASH];
static const char *tag_suf;
static size_t tag_pre_len, tag_suf_len;
static int tag_star;

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

/*
 * Whether the failure err to open the file dev, ino is new: a file that
 * cannot be read is found again at every scan, and said so only once
 * (again if the reason changes).
 */
static struct denied *
denied_find(dev_t dev, ino_t ino)
{
	struct denied *d;

	for (d = denied[ino_slot(dev, ino)]; d; d = d->next)
		if (d->dev == dev && d->ino == ino)
			return d;
	return NULL;
}

static int
denied_new(dev_t dev, ino_t ino, int err, off_t size)
{
	struct denied **pp = &denied[ino_slot(dev, ino)], *d;

	if ((d = denied_find(dev, ino))) {
		if (d->err == err)
			return 0;
		d->err = err;
		d->size = size;
		return 1;
	}
	d = xmalloc(sizeof(*d));
	d->dev = dev;
	d->ino = ino;
	d->err = err;
	d->size = size;
	d->next = *pp;
	*pp = d;
	return 1;
}

/*
 * Where a file left out as too old starts when it is written again: where
 * it ended then (or its start with -r), as if it had been followed.
 */
static off_t
old_end(const struct stat *st)
{
	struct denied *d = denied_find(st->st_dev, st->st_ino);

	if (!d || d->err || o.head || d->size > st->st_size)
		return 0;
	return d->size;
}

void
denied_free(void)
{
	struct denied *d, *n;
	size_t i;

	for (i = 0; i < NHASH; i++)
		for (d = denied[i]; d; d = n) {
			n = d->next;
			free(d);
		}
}

/* --ignore-older: whether the file was last modified too long ago. */
static int
too_old(const struct stat *st)
{
	struct timespec now;
	long long age;

	if (!o.ignore_ms || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return 0;
	age = (now.tv_sec - (long long)st->st_mtim.tv_sec) * 1000 +
	    (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
	return age > o.ignore_ms;
}

/* Splits --tag at its '*', for put_tag. */
void
tag_setup(void)
{
	const char *star = strchr(o.tag, '*'), *s;

	if (star) {
		tag_star = 1;
		tag_pre_len = star - o.tag;
		tag_suf = star + 1;
		s = strchr(tag_suf, '*');       /* Ruby's split('*')[1] */
		tag_suf_len = s ? (size_t)(s - tag_suf) : strlen(tag_suf);
	}
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

struct file *
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
	if (files.n == files.cap) {
		files.cap = files.cap ? 2 * files.cap : 16;
		files.v = xrealloc(files.v, files.cap * sizeof(*files.v));
	}
	files.v[files.n++] = f;
	return f;
}

/* Closes f and lets go of all but its name and positions. */
void
file_close(struct file *f)
{
	if (f->wd >= 0) {
		inotify_rm_watch(watch.ifd, f->wd);
		unhash_wd(f);
	}
	if (!f->is_stdin) {
		files.npolled--;
		files.nwatched--;
		unhash_ino(f);
		close(f->fd);
	}
	f->fd = -1;
	if (f->rotated)
		files.nrotated--;
	f->rotated = 0;
	if (f->ml_on)
		files.nml--;
	f->ml_on = 0;
	buf_free(&f->pre);
	buf_free(&f->post);
	buf_free(&f->part);
	buf_free(&f->ml);
	mlp_close(f);
	gz_close(f);
}

void
file_free(struct file *f)
{
	if (f->fd >= 0)
		file_close(f);
	free(f->path);
	free(f);
}

/* Closes the files marked dead, keeping the order of the others. */
void
sweep(void)
{
	size_t i, j;

	for (i = j = 0; i < files.n; i++) {
		if (!files.v[i]->dead) {
			files.v[j++] = files.v[i];
			continue;
		}
		if (e2e_keep(files.v[i]))
			retire(files.v[i]);
		else
			file_free(files.v[i]);
		pos.dirty = 1;
	}
	files.n = j;
}

/* Notes that a scan found f under path. */
static void
seen(struct file *f, const char *path)
{
	if (f->gen == files.gen)
		return;         /* a second name in one scan: a hard link */
	f->gen = files.gen;
	if (strcmp(f->path, path) != 0) {
		free(f->path);
		f->path = xstrdup(path);
		pos.dirty = 1;
	}
	if (f->rotated) {
		f->rotated = 0;
		files.nrotated--;
	}
}

void
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
		if (literal && watch.startup) {
			warn("%s: not a regular file%s", path,
			    S_ISDIR(st.st_mode) ? " (a directory: use "
			    "DIR/* for its files)" : "");
			watch.missing = 1;
		}
		return;
	}
	if ((f = find_file(st.st_dev, st.st_ino))) {
		seen(f, path);
		return;
	}
	if (too_old(&st)) {
		denied_new(st.st_dev, st.st_ino, 0, st.st_size);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT && denied_new(st.st_dev, st.st_ino, errno,
		    0))
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
	f->gen = files.gen;
	f->ready = files.kick = 1;
	f->ino_next = by_ino[ino_slot(f->dev, f->ino)];
	by_ino[ino_slot(f->dev, f->ino)] = f;
	files.nwatched++;
	if (st.st_size >= 2 && gz_magic(fd))
		gz_open(f);
	at = start_at(f, &st);
	if (!at && !f->gz && !watch.startup)
		at = old_end(&st);
	if (at && lseek(fd, at, SEEK_SET) < 0)
		at = 0;
	f->sniff = !f->gz && at == 0 && st.st_size < 2;
	f->off = f->emitted = f->committed = f->acked = f->snapped = at;
	pos.dirty = 1;
	watch_file(f);
	slash = strrchr(path, '/');
	watch_dir(path, slash ? (size_t)(slash - path + (slash == path)) : 0);
}

/* Whether f's name still leads to it; if not, it was rotated or deleted. */
void
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
	f->ready = files.kick = 1;
	files.nrotated++;
	counts.rotations++;
	pos.dirty = 1;
	if (r == 0)
		add_path(f->path, 0);   /* the new file under the name */
}
