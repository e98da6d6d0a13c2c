/* gz - files compressed with gzip (rotated ones): read once, whole, as text */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "sig.h"
#include "stats.h"

#include "ltail.h"

#define GZ_IN (64 * 1024)       /* compressed bytes read at once */
#define GZ_OUT (128 * 1024)     /* text inflated at once */

/*
 * A compressed file is complete when found (logrotate's compress writes
 * it whole, then it is never appended to): it is read to its end once.
 * Its position entry is 0 until every line of it was passed on, then its
 * size; a restart reads it again whole, or not at all.
 */
struct gz {
	z_stream z;
	unsigned char *in;
	char *out;
	off_t csize;            /* compressed bytes read */
	int member_end;         /* the last gzip member read is complete */
	int done;               /* read whole, or found so */
	int bad;                /* bad data: the rest is not read */
};

/* Whether the file holds gzip data: its magic bytes 1f 8b. */
int
gz_magic(int fd)
{
	unsigned char m[2];

	return pread(fd, m, 2, 0) == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

void
gz_open(struct file *f)
{
	struct gz *g = xcalloc(1, sizeof(*g));

	if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK)
		die(EX_SYS, "zlib: unable to start inflating");
	g->in = xmalloc(GZ_IN);
	g->out = xmalloc(GZ_OUT);
	f->gz = g;
}

/* f needs no reading: it was read whole before (size bytes). */
void
gz_skip(struct file *f, off_t size)
{
	f->gz->done = 1;
	f->gz->csize = size;
}

/* The offset of f's position entry, for v bytes of its text passed on. */
off_t
gz_pos(const struct file *f, off_t v)
{
	const struct gz *g = f->gz;

	return g->done && (!g->bad || g->member_end) && v == f->off ?
	    g->csize : 0;
}

/*
 * Sniffs a file found empty or nearly: whether it turns out to be gzip
 * data.  1 while there are too few bytes to tell (wait for more).
 */
int
gz_sniff(struct file *f)
{
	unsigned char m[2];
	ssize_t n = pread(f->fd, m, 2, 0);

	if (n < 2 && !o.once && !f->rotated)
		return 1;
	f->sniff = 0;
	if (n == 2 && m[0] == 0x1f && m[1] == 0x8b)
		gz_open(f);
	return 0;
}

/* Reads compressed bytes: 1 read, 0 at the end for now, -1 failed. */
static int
gz_fill(struct file *f)
{
	struct gz *g = f->gz;
	ssize_t got = read(f->fd, g->in, GZ_IN);

	if (got < 0 && errno == EINTR)
		return 1;
	if (got < 0) {
		warn("unable to read %s:", f->path);
		f->dead = 1;
		return -1;
	}
	if (got == 0) {
		if (g->member_end)
			g->done = 1;
		return 0;
	}
	stats.bytes_in += got;
	g->csize += got;
	g->z.next_in = g->in;
	g->z.avail_in = (uInt)got;
	if (g->member_end) {    /* another member follows */
		inflateReset(&g->z);
		g->member_end = 0;
	}
	return 1;
}

/* Bad data: what came before it was read, the rest is given up. */
static void
gz_bad(struct file *f, int r)
{
	struct gz *g = f->gz;

	warn("%s: bad gzip data at byte %lld (%s): the rest of the file is "
	    "not read", f->path, (long long)(g->csize - g->z.avail_in),
	    g->z.msg ? g->z.msg : zError(r));
	g->bad = g->done = 1;
}

/* Reads up to about budget bytes of text of f: 1 if there may be more. */
int
gz_read(struct file *f, size_t budget)
{
	struct gz *g = f->gz;
	size_t n;
	int r;

	while (!g->done && !f->dead) {
		if (g->z.avail_in == 0 && (r = gz_fill(f)) <= 0) {
			if (g->done) {  /* whole: its last line too */
				batch_time();
				finish(f);
			}
			return 0;
		}
		g->z.next_out = (Bytef *)g->out;
		g->z.avail_out = GZ_OUT;
		r = inflate(&g->z, Z_NO_FLUSH);
		n = GZ_OUT - g->z.avail_out;
		if (n) {
			batch_time();
			f->off += n;
			feed(f, g->out, n);
		}
		if (r == Z_STREAM_END) {
			g->member_end = 1;
			if (g->z.avail_in) {
				inflateReset(&g->z);
				g->member_end = 0;
			}
		} else if (r != Z_OK && r != Z_BUF_ERROR) {
			gz_bad(f, r);
			return 0;
		}
		if (n >= budget || sig_stop)
			return 1;
		budget -= n;
	}
	return 0;
}

/*
 * f is read for the last time: say if its gzip data ended early (its
 * position stays 0, so a later run reads it again, whole by then).
 */
void
gz_finish(struct file *f)
{
	struct gz *g = f->gz;

	if (g->done || f->dead)
		return;
	warn("%s: the gzip data ends early (after %lld bytes): its lines so "
	    "far were read", f->path, (long long)g->csize);
	g->done = 1;
	g->bad = 1;
}

void
gz_close(struct file *f)
{
	struct gz *g = f->gz;

	if (!g)
		return;
	inflateEnd(&g->z);
	free(g->in);
	free(g->out);
	free(g);
	f->gz = NULL;
}
