/* store - the chunk files under --dir: blocks, CRC, meta files, fsync */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "be.h"
#include "err.h"

#include "lbuffer.h"

#define HOLD_RETRY_MS 500

/* --- paths, whole reads and writes ------------------------------------ */

static uint32_t
block_crc(const unsigned char *h, const char *payload, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, h + 4, 8);
	c = crc32(c, (const Bytef *)payload, (uInt)len);
	return (uint32_t)c;
}

/* DIR/chunk-ID.EXT in p, PBUF bytes. */
void
store_path(char *p, const char *dir, uint64_t id, const char *ext)
{
	snprintf(p, PBUF, "%s/chunk-%016llx.%s", dir, (unsigned long long)id,
	    ext);
}

/* The data file of c in p: chunk-ID.open, or .queued once sealed. */
void
store_data_path(char *p, const struct chunk *c)
{
	store_path(p, lb.o.dir, c->id, c->queued_name ? "queued" : "open");
}

/* Reads n bytes at off, fewer at the end of the file; -1 with errno. */
ssize_t
store_pread(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	return (ssize_t)got;
}

/* Writes n bytes at off; -1 with errno. */
int
store_pwrite(int fd, const void *p, size_t n, uint64_t off)
{
	ssize_t r;

	while (n > 0) {
		r = pwrite(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p = (const char *)p + r;
		n -= r;
		off += r;
	}
	return 0;
}

static int
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	/* some file systems cannot fsync a directory */
	return r < 0 && errno != EINVAL && errno != EBADF ? -1 : 0;
}

static int
space_error(int e)
{
	return e == ENOSPC || e == EFBIG || e == EDQUOT;
}

/* --- meta files ------------------------------------------------------- */

static void
key_hex(struct buf *b, const char *k, size_t n)
{
	static const char hx[] = "0123456789abcdef";

	while (n--) {
		buf_putc(b, hx[(unsigned char)*k >> 4]);
		buf_putc(b, hx[(unsigned char)*k++ & 15]);
	}
}

/* Writes DIR/chunk-ID.meta through a temporary file; -1 with errno. */
static int
meta_write(const char *dir, uint64_t id, const struct chunk *c)
{
	char p[PBUF], t[PBUF + 8];
	struct buf b = { 0 };
	int fd, e;

	store_path(p, dir, id, "meta");
	snprintf(t, sizeof(t), "%s.tmp", p);
	buf_puts(&b, "lkit-buffer 1\n");
	buf_reserve(&b, 64);
	b.len += snprintf(b.p + b.len, 64, "created %.6f\n", c->created);
	if (c->key) {
		buf_puts(&b, "key ");
		key_hex(&b, c->key, c->key_len);
		buf_putc(&b, '\n');
	}
	if (c->has_tkey) {
		buf_reserve(&b, 64);
		b.len += snprintf(b.p + b.len, 64, "timekey %lld\n", c->tkey);
	}
	if (c->kv.len) {
		buf_puts(&b, "kv ");
		key_hex(&b, c->kv.p, c->kv.len);
		buf_putc(&b, '\n');
	}
	fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, b.p, b.len) < b.len ||
	    (lb.o.fsync != FS_NEVER && fsync(fd) < 0) || close(fd) < 0 ||
	    rename(t, p) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		unlink(t);
		buf_free(&b);
		errno = e;
		return -1;
	}
	buf_free(&b);
	return 0;
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A meta file holds a tag of up to 1G as hex, and a few short lines. */
#define META_MAX ((2LL << 30) + 4096)

/* The whole of a meta file, NUL-terminated, or NULL; free it. */
static char *
meta_text(uint64_t id)
{
	char p[PBUF], *text = NULL;
	struct stat st;
	int fd;

	store_path(p, lb.o.dir, id, "meta");
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size >= 14 && st.st_size <= META_MAX) {
		text = xmalloc((size_t)st.st_size + 1);
		if (store_pread(fd, text, (size_t)st.st_size, 0) !=
		    st.st_size) {
			free(text);
			text = NULL;
		} else {
			text[st.st_size] = '\0';
		}
	}
	close(fd);
	return text;
}

/* Reads the hex after s into b, up to a newline: -1 if anything else. */
static int
hex_line(const char *s, struct buf *b)
{
	for (; unhex(s[0]) >= 0 && unhex(s[1]) >= 0; s += 2)
		buf_putc(b, unhex(s[0]) << 4 | unhex(s[1]));
	if (*s != '\n') {
		b->len = 0;
		return -1;
	}
	return 0;
}

/*
 * Reads a meta file: the tag key however long, the creation time and
 * (written since --chunk-keys took them; older files have none) the time
 * bucket and the record keys.  -1 if it is unusable (then m->has_key is 0:
 * the key is unknown).  Free m->key and m->kv.
 */
int
store_meta_read(uint64_t id, struct meta *m)
{
	char *text = meta_text(id), *s, *end;
	int ret = -1;

	m->has_key = m->has_tkey = 0;
	m->tkey = 0;
	if (!text || strncmp(text, "lkit-buffer 1\n", 14) != 0 ||
	    !(s = strstr(text, "\ncreated ")))
		goto out;
	m->created = strtod(s + 9, NULL);
	if ((s = strstr(text, "\nkey "))) {
		if (hex_line(s + 5, &m->key) < 0)
			goto out;
		m->has_key = 1;
	}
	if ((s = strstr(text, "\ntimekey "))) {
		errno = 0;
		m->tkey = strtoll(s + 9, &end, 10);
		if (errno || end == s + 9 || *end != '\n') {
			m->has_key = 0;
			m->key.len = 0;
			goto out;
		}
		m->has_tkey = 1;
	}
	if ((s = strstr(text, "\nkv ")) && hex_line(s + 4, &m->kv) < 0) {
		m->has_key = m->has_tkey = 0;
		m->key.len = 0;
		goto out;
	}
	ret = 0;
out:
	free(text);
	return ret;
}

/* --- writing blocks --------------------------------------------------- */

/* Creates c's meta and data files. */
static int
materialize(struct chunk *c)
{
	char p[PBUF];
	int e;

	if (meta_write(lb.o.dir, c->id, c) < 0)
		return -1;
	store_path(p, lb.o.dir, c->id, "open");
	c->fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (c->fd < 0) {
		e = errno;
		store_path(p, lb.o.dir, c->id, "meta");
		unlink(p);
		errno = e;
		return -1;
	}
	c->on_disk = 1;
	c->size = 0;
	if (lb.o.fsync == FS_ALWAYS && dir_sync(lb.o.dir) < 0)
		warn("unable to fsync %s:", lb.o.dir);
	return 0;
}

static void
count_stored(struct chunk *c, uint64_t n)
{
	(void)c;
	lb.cnt.stored += n;
}

/* Writes the pending block at the end of the data file; -1 with errno. */
static int
block_write(struct chunk *c)
{
	unsigned char *h = (unsigned char *)c->blk.p;
	size_t len = c->blk.len - HDR;
	int e;

	memcpy(h, MAGIC, 4);
	be32_put(h + 4, (uint32_t)len);
	be32_put(h + 8, (uint32_t)c->blk_records);
	be32_put(h + 12, block_crc(h, c->blk.p + HDR, len));
	if (store_pwrite(c->fd, c->blk.p, c->blk.len, c->size) < 0 ||
	    (lb.o.fsync == FS_ALWAYS && fdatasync(c->fd) < 0)) {
		e = errno;
		/* cut back a partial write; the next one overwrites it */
		(void)!ftruncate(c->fd, (off_t)c->size);
		errno = e;
		return -1;
	}
	c->size += c->blk.len;
	if (lb.o.fsync == FS_INTERVAL)
		c->unsynced += c->blk_records;
	else
		count_stored(c, c->blk_records);
	c->blk.len = HDR;
	c->blk_records = 0;
	if (c->blk.cap > BLOCK_MAX / 4) {
		/* many open chunks must not each keep a large block */
		buf_free(&c->blk);
		buf_reserve(&c->blk, HDR);
		c->blk.len = HDR;
	}
	return 0;
}

/* --fsync interval: makes c's written events durable, and counts them. */
void
store_sync(struct chunk *c)
{
	if (c->fd < 0 || !c->unsynced)
		return;
	if (fdatasync(c->fd) < 0) {
		warn("unable to fsync chunk %s:", chunk_idstr(c));
		intake_marks_synced(0);
	}
	count_stored(c, c->unsynced);
	c->unsynced = 0;
}

/* A closed file chunk whose events are all written: chunk-ID.queued. */
static void
seal(struct chunk *c)
{
	char from[PBUF], to[PBUF];

	chunk_olist_remove(c);
	c->state = C_QUEUED;
	lb.disp.dirty = 1;
	lb.status.dirty = 1;
	if (c->records == 0) {
		chunk_free(c);
		return;
	}
	if (lb.o.fsync == FS_INTERVAL)
		store_sync(c);
	close(c->fd);
	c->fd = -1;
	store_data_path(from, c);
	store_path(to, lb.o.dir, c->id, "queued");
	if (rename(from, to) < 0)
		warn("unable to rename %s to %s:", from, to);
	else
		c->queued_name = 1;
}

/* A write failed with e: input is held; out of space, c is split. */
static void
hold_begin(struct chunk *c, int e)
{
	long long now = clock_ms();
	char p[PBUF];

	if (!lb.hold.warned) {
		store_data_path(p, c);
		warn("unable to store events in %s: %s; input held until they "
		    "can be stored", c->on_disk ? p : lb.o.dir, strerror(e));
		lb.hold.warned = 1;
		lb.hold.since = now;
	}
	lb.hold.err = e;
	lb.hold.next = now + HOLD_RETRY_MS;
	if (c->on_disk && c->size > 0 && space_error(e)) {
		chunk_split(c);
		lb.hold.next = now;        /* a new file may take it at once */
	}
	lb.status.dirty = 1;
}

static int
store_one(struct chunk *c)
{
	if (!c->on_disk && materialize(c) < 0)
		return -1;
	return block_write(c);
}

/* Writes every pending block, in order, and seals closed chunks. */
void
store_all(void)
{
	struct chunk *c, *n;

	if (!lb.o.dir)
		return;
	/* while held, chunks before the one that failed may still close */
	for (c = lb.ohead; c; c = n) {
		if (c->blk.len > HDR && (lb.hold.err || store_one(c) < 0)) {
			if (!lb.hold.err)
				hold_begin(c, errno);
			return;
		}
		n = c->onext;
		if (c->state == C_CLOSING)
			seal(c);
	}
	intake_marks_written();
	if (lb.hold.warned && !lb.hold.err) {
		warn("events are stored again, after %.1fs; input resumed",
		    (clock_ms() - lb.hold.since) / 1000.0);
		lb.hold.warned = 0;
	}
}

/* --- moving a chunk elsewhere (dead letters, quarantine) -------------- */

static int
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* Copies file from to a new file to (fsynced); -1 with errno. */
static int
copy_file(const char *from, const char *to)
{
	char b[65536];
	int in_fd, out_fd, e = 0;
	ssize_t n;

	if ((in_fd = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	out_fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		e = errno;
		close(in_fd);
		errno = e;
		return -1;
	}
	while ((n = read(in_fd, b, sizeof(b))) > 0)
		if (fs_write_all(out_fd, b, n) < (size_t)n)
			break;
	if (n != 0 || (lb.o.fsync != FS_NEVER && fsync(out_fd) < 0))
		e = errno ? errno : EIO;
	close(in_fd);
	if (close(out_fd) < 0 && !e)
		e = errno;
	if (e) {
		unlink(to);
		errno = e;
		return -1;
	}
	return 0;
}

/* Puts c's data into dir as chunk-ID.queued (moved, copied or written). */
static int
save_data(struct chunk *c, const char *dir, uint64_t id)
{
	char from[PBUF], to[PBUF];
	unsigned char h[HDR];
	int fd, e;

	store_path(to, dir, id, "queued");
	if (c->on_disk) {
		store_data_path(from, c);
		if (link(from, to) == 0)
			return 0;
		if (errno == EEXIST)
			return -1;
		return copy_file(from, to);
	}
	memcpy(h, MAGIC, 4);
	be32_put(h + 4, (uint32_t)c->blk.len);
	be32_put(h + 8, (uint32_t)c->records);
	be32_put(h + 12, block_crc(h, c->blk.p, c->blk.len));
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (fs_write_all(fd, h, HDR) < HDR || fs_write_all(fd, c->blk.p,
	    c->blk.len) < c->blk.len || (lb.o.fsync != FS_NEVER && fsync(fd) < 0)) {
		e = errno;
		close(fd);
		unlink(to);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* DIR/chunk-ID.reason: what the chunk held and why it is there. */
static int
save_reason(const char *dir, uint64_t id, const struct chunk *c,
    const char *why)
{
	char p[PBUF], text[2048], when[64];
	time_t t = time(NULL);
	int fd, n, r;

	store_path(p, dir, id, "reason");
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	n = snprintf(text, sizeof(text), "chunk %s of %s: %llu events, %llu "
	    "bytes%s%.*s\n%s: %s\n", chunk_idstr(c),
	    lb.o.dir ? lb.o.dir : "memory",
	    (unsigned long long)c->records, (unsigned long long)c->bytes,
	    c->key ? ", tag " : "", c->key ? (int)c->key_len : 0,
	    c->key ? c->key : "", when, why);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	r = fs_write_all(fd, text, n) < (size_t)n ? -1 : 0;
	if (close(fd) < 0)
		r = -1;
	return r;
}

/* Moves c into dir with a reason file; the new id, or 0 on failure. */
uint64_t
store_save_to(struct chunk *c, const char *dir, const char *why)
{
	char p[PBUF];
	uint64_t id = c->id;
	int tries;

	if (fs_mkdir_p(dir, 1, p, sizeof(p)) < 0)
		return 0;
	for (tries = 0; tries < 1000; tries++, id++) {
		store_path(p, dir, id, "queued");
		if (!exists(p) && meta_write(dir, id, c) == 0)
			break;
		if (!exists(p))
			return 0;
	}
	if (tries == 1000 || save_data(c, dir, id) < 0 ||
	    save_reason(dir, id, c, why) < 0 ||
	    (lb.o.fsync != FS_NEVER && dir_sync(dir) < 0)) {
		store_path(p, dir, id, "meta");
		unlink(p);
		return 0;
	}
	return id;
}

/* --- reading blocks back ---------------------------------------------- */

/* Reads the block at *off of a data file into b: 1, 0 at the end, -1 if bad. */
int
store_block_read(int fd, uint64_t *off, struct buf *b)
{
	unsigned char h[HDR];
	ssize_t n;
	uint32_t len;

	n = store_pread(fd, h, HDR, *off);
	if (n == 0)
		return 0;
	if (n != HDR || memcmp(h, MAGIC, 4) != 0)
		return -1;
	len = be32_get(h + 4);
	b->len = 0;
	buf_reserve(b, len ? len : 1);
	if (store_pread(fd, b->p, len, *off + HDR) != (ssize_t)len ||
	    block_crc(h, b->p, len) != be32_get(h + 12))
		return -1;
	b->len = len;
	*off += HDR + len;
	return 1;
}

/* 1 if fd holds only zero bytes from off to size. */
static int
zeros(int fd, uint64_t off, uint64_t size)
{
	char b[65536];
	ssize_t n, i;

	while (off < size) {
		n = store_pread(fd, b, size - off < sizeof(b) ? size - off :
		    sizeof(b), off);
		if (n <= 0)
			return 0;
		for (i = 0; i < n; i++)
			if (b[i])
				return 0;
		off += n;
	}
	return 1;
}

/* The CRC-32 of a block whose payload is at off in fd. */
static int
crc_ok(int fd, const unsigned char *h, uint64_t off, uint32_t len)
{
	char b[65536];
	uLong c = crc32(0L, Z_NULL, 0);
	ssize_t n;

	c = crc32(c, h + 4, 8);
	while (len > 0) {
		n = store_pread(fd, b, len < sizeof(b) ? len : sizeof(b), off);
		if (n <= 0)
			return 0;
		c = crc32(c, (const Bytef *)b, (uInt)n);
		off += n;
		len -= n;
	}
	return (uint32_t)c == be32_get(h + 12);
}

/* Walks the blocks of a data file; with verify, checks their CRC too. */
int
store_scan(int fd, uint64_t size, int verify, struct scan *s)
{
	unsigned char h[HDR];
	uint64_t off = 0;
	uint32_t len;

	memset(s, 0, sizeof(*s));
	for (; off < size; off += HDR + len) {
		s->good_end = off;
		if (size - off < HDR || (store_pread(fd, h, HDR, off) == HDR &&
		    memcmp(h, MAGIC, 4) != 0 && zeros(fd, off, size))) {
			snprintf(s->why, sizeof(s->why), "a partial block");
			return V_TORN;
		}
		if (store_pread(fd, h, HDR, off) != HDR) {
			/* the file shrank under us, or a read error */
			snprintf(s->why, sizeof(s->why), "a header that cannot "
			    "be read at byte %llu", (unsigned long long)off);
			return V_CORRUPT;
		}
		if (memcmp(h, MAGIC, 4) != 0) {
			snprintf(s->why, sizeof(s->why), "no block header at "
			    "byte %llu", (unsigned long long)off);
			return V_CORRUPT;
		}
		len = be32_get(h + 4);
		if (len > size - off - HDR || (verify && !crc_ok(fd, h,
		    off + HDR, len) && off + HDR + len == size)) {
			s->lost = be32_get(h + 8);
			snprintf(s->why, sizeof(s->why), "a partial last "
			    "block");
			return V_TORN;
		}
		if (verify && !crc_ok(fd, h, off + HDR, len)) {
			snprintf(s->why, sizeof(s->why), "a bad checksum at "
			    "byte %llu", (unsigned long long)off);
			return V_CORRUPT;
		}
		s->records += be32_get(h + 8);
		s->bytes += len;
	}
	s->good_end = off;
	return V_OK;
}
