/* t_lbuffer_store - unit tests of lbuffer's chunk files and their recovery */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "mp.h"
#include "stream.h"
#include "tap.h"

#include "../../cmd/lbuffer/lbuffer.h"

/*
 * The test links lbuffer's own objects but lbuffer.o (options, loop and
 * main): the state they share is defined here, and the one function of
 * lbuffer.o they call, never called here (at a stop signal or with
 * --overflow-action error), is a stub.
 */
struct lb lb;

void
lb_shutdown(void)
{
	printf("# lb_shutdown called\n");
}

#define TAG "app.log"
#define REC "\x81\xa1n\x01"             /* {"n":1} */
#define EV_LEN (1 + 1 + 7 + 10 + 4)     /* fixarray, tag, time ext, record */
#define PER 10                          /* events in a block */
#define BLK (HDR + PER * EV_LEN)        /* bytes of a block on disk */

static char top[64];
static char logbuf[16384];
static int saved_err = -1;
static struct reader *rd;               /* the events taken, fed to it */

/* Forgets the chunks in memory, not their files: a crash. */
static void
crash(void)
{
	while (lb.head)
		chunk_drop(lb.head, 0);
}

/* A fresh state over dir, as lbuffer --dir dir --chunk-keys tag sets it. */
static void
reset(const char *dir)
{
	crash();
	memset(&lb, 0, sizeof(lb));
	lb.o.dir = dir;
	lb.o.keys = 1;
	lb.o.chunk_size = 8LL << 20;
	lb.o.flush_ms = 60000;
	lb.o.threads = 1;
	lb.o.total = 64LL << 30;
	lb.o.retry_ms = 1000;
	lb.o.retry_max_ms = -1;
	lb.o.retry_times = -1;
	lb.o.fsync = FS_ALWAYS;
	lb.o.base = 2;
	snprintf(lb.o.dead_dir, sizeof(lb.o.dead_dir), "%s/dead", dir);
	snprintf(lb.o.quar_dir, sizeof(lb.o.quar_dir), "%s/quarantine", dir);
	lb.disp.next_retry = -1;
	lb.in.rd = rd;
}

/* A new directory under top for one case. */
static const char *
newdir(const char *name)
{
	static char d[8][128];
	static int i;
	char *p = d[i++ % 8];

	snprintf(p, 128, "%s/%s", top, name);
	if (mkdir(p, 0755) < 0)
		printf("# unable to create %s\n", p);
	return p;
}

/*
 * Writes one chunk of tag as lbuffer does, through intake_consume and
 * store_all: nblocks blocks of PER events, sealed (chunk-ID.queued) or
 * left open.  Its id.
 */
static uint64_t
write_chunk(const char *tag, int nblocks, int seal)
{
	struct buf ev = { 0 };
	struct chunk *c;
	uint64_t id;
	int b, i;

	for (i = 0; i < PER; i++) {
		buf_putc(&ev, 0x93);
		mp_put_strhdr(&ev, strlen(tag));
		buf_puts(&ev, tag);
		event_put_time(&ev, 1700000000, 5);
		buf_put(&ev, REC, 4);
	}
	for (b = 0; b < nblocks; b++) {
		reader_feed(rd, ev.p, ev.len);
		intake_consume();
		store_all();
	}
	buf_free(&ev);
	for (c = lb.head; c && !(c->key && strcmp(c->key, tag) == 0);
	    c = c->next)
		;
	if (!c)
		return 0;
	id = c->id;
	if (seal) {
		chunk_close(c);
		store_all();
	}
	return id;
}

static const char *
path(const char *dir, uint64_t id, const char *ext)
{
	static char p[4][PBUF];
	static int i;
	char *s = p[i++ % 4];

	store_path(s, dir, id, ext);
	return s;
}

static long long
fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static void
put_file(const char *p, const char *text, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		printf("# unable to write %s\n", p);
	if (fd >= 0)
		close(fd);
}

/* Overwrites n bytes at off of file p. */
static void
poke(const char *p, long long off, const char *bytes, size_t n)
{
	int fd = open(p, O_WRONLY);

	if (fd < 0 || pwrite(fd, bytes, n, off) != (ssize_t)n)
		printf("# unable to change %s\n", p);
	if (fd >= 0)
		close(fd);
}

/* Flips a byte of the payload of block b (0-based) of file p. */
static void
flip(const char *p, int b)
{
	char c;
	int fd = open(p, O_RDWR);

	if (fd < 0 || pread(fd, &c, 1, (off_t)b * BLK + HDR + 3) != 1)
		printf("# unable to read %s\n", p);
	c ^= 0x40;
	if (fd >= 0 && pwrite(fd, &c, 1, (off_t)b * BLK + HDR + 3) != 1)
		printf("# unable to change %s\n", p);
	if (fd >= 0)
		close(fd);
}

static void
append(const char *p, const char *bytes, size_t n)
{
	int fd = open(p, O_WRONLY | O_APPEND);

	if (fd < 0 || write(fd, bytes, n) != (ssize_t)n)
		printf("# unable to append to %s\n", p);
	if (fd >= 0)
		close(fd);
}

/*
 * The events in a data file, read back block by block with
 * store_block_read and decoded; -1 if a block is bad.
 */
static long long
events_in(const char *p)
{
	struct buf b = { 0 };
	struct reader *r = reader_new(-1, p);
	struct event ev;
	uint64_t off = 0;
	long long n = 0;
	int fd = open(p, O_RDONLY), ret;

	if (fd < 0) {
		reader_free(r);
		return -1;
	}
	while ((ret = store_block_read(fd, &off, &b)) > 0)
		reader_feed(r, b.p, b.len);
	reader_feed_eof(r);
	while (reader_next_buffered(r, &ev) == READ_EVENT) {
		n++;
		if (ev.tag_len != strlen(TAG) || memcmp(ev.tag, TAG,
		    ev.tag_len) != 0 || ev.sec != 1700000000 || ev.nsec != 5)
			n = -1000000;
	}
	close(fd);
	reader_free(r);
	buf_free(&b);
	return ret < 0 ? -1 : n;
}

/* Runs recovery on dir from a fresh state; what it said on stderr. */
static const char *
recover_log(const char *dir, int status)
{
	char p[PBUF];
	ssize_t n = 0;
	int fd;

	reset(dir);
	lb.o.status = status;
	snprintf(p, sizeof(p), "%s/stderr", top);
	fflush(stderr);
	saved_err = dup(2);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	recover_dir();
	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	if (fd >= 0) {
		n = pread(fd, logbuf, sizeof(logbuf) - 1, 0);
		close(fd);
	}
	logbuf[n > 0 ? n : 0] = '\0';
	unlink(p);
	return logbuf;
}

static int
has(const char *log, const char *s)
{
	if (strstr(log, s))
		return 1;
	printf("#   no \"%s\" in:\n#   %s\n", s, log);
	return 0;
}

static void
test_write(void)
{
	const char *d = newdir("write");
	struct buf b = { 0 };
	uint64_t id, off = 0;
	int fd, n = 0, ret;

	reset(d);
	id = write_chunk(TAG, 3, 1);
	is_int(lb.cnt.stored, 3 * PER, "write: 30 events stored");
	is_int(fsize(path(d, id, "queued")), 3 * BLK,
	    "write: chunk-ID.queued holds 3 blocks of %d bytes", BLK);
	is_int(fsize(path(d, id, "open")), -1, "write: no chunk-ID.open left");
	ok(fsize(path(d, id, "meta")) > 14, "write: chunk-ID.meta");
	fd = open(path(d, id, "queued"), O_RDONLY);
	while ((ret = store_block_read(fd, &off, &b)) > 0)
		n += b.len == PER * EV_LEN;
	close(fd);
	is_int(n, 3, "write: store_block_read reads 3 whole blocks");
	is_int(ret, 0, "write: ... then the end");
	is_int(events_in(path(d, id, "queued")), 30,
	    "write: the blocks decode to 30 events");
	buf_free(&b);
}

static void
test_clean(void)
{
	const char *d = newdir("clean");
	const char *log;
	uint64_t q, o;

	reset(d);
	q = write_chunk("queue.a", 3, 1);
	o = write_chunk("open.bb", 2, 0);
	crash();
	log = recover_log(d, 0);
	is_str(log, "", "clean: recovery says nothing");
	is_int(lb.cnt.recovered_chunks, 2, "clean: 2 chunks resumed");
	is_int(lb.cnt.recovered, 50, "clean: 50 events resumed");
	is_int(lb.cnt.torn_lost + lb.cnt.quarantined, 0, "clean: none lost");
	ok(lb.head && lb.head->id == q && lb.head->records == 30 &&
	    lb.head->key && strcmp(lb.head->key, "queue.a") == 0 &&
	    lb.head->state == C_QUEUED, "clean: the first chunk, its key "
	    "from the meta file, 30 events, queued");
	ok(lb.tail && lb.tail->id == o && lb.tail->records == 20 &&
	    lb.tail->key && strcmp(lb.tail->key, "open.bb") == 0 &&
	    lb.tail->state == C_QUEUED, "clean: the open chunk, 20 events, "
	    "queued");
	ok(fsize(path(d, o, "open")) < 0 && fsize(path(d, o, "queued")) ==
	    2 * BLK, "clean: its chunk-ID.open is now chunk-ID.queued");
	is_int(lb.total_bytes, 50 * EV_LEN, "clean: the bytes held");
	ok(lb.last_id >= o, "clean: new ids come after the recovered ones");
}

static void
test_torn(void)
{
	const char *d = newdir("torn");
	const char *log;
	uint64_t id;
	char p[PBUF];

	reset(d);
	id = write_chunk(TAG, 3, 1);
	crash();
	snprintf(p, sizeof(p), "%s", path(d, id, "queued"));
	if (truncate(p, 3 * BLK - 5) < 0)
		printf("# unable to truncate %s\n", p);
	log = recover_log(d, 0);
	ok(has(log, "torn last block cut at byte 492 (a partial last block): "
	    "10 events lost"), "torn payload: reported");
	is_int(lb.cnt.torn_lost, 10, "torn payload: 10 events lost");
	is_int(lb.cnt.recovered, 20, "torn payload: 20 events kept");
	ok(lb.head && lb.head->records == 20 && lb.head->size == 2 * BLK,
	    "torn payload: the chunk holds 20 events in 2 blocks");
	is_int(fsize(p), 2 * BLK, "torn payload: the file is cut back");
	is_int(events_in(p), 20, "torn payload: 20 events read back");

	/* a few bytes of a next header */
	append(p, MAGIC "\0\0", 6);
	log = recover_log(d, 0);
	ok(has(log, "torn last block cut at byte 492 (a partial block): 0 "
	    "events lost"), "torn header: reported");
	is_int(lb.cnt.torn_lost, 0, "torn header: no event lost");
	is_int(lb.cnt.recovered, 20, "torn header: 20 events kept");
	is_int(fsize(p), 2 * BLK, "torn header: cut back");

	/* a tail of zeros, as a crash may leave after the size grew */
	append(p, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\0\0\0\0\0\0\0\0\0\0\0", 40);
	log = recover_log(d, 0);
	ok(has(log, "(a partial block): 0 events lost"), "zero tail: reported");
	is_int(lb.cnt.recovered, 20, "zero tail: 20 events kept");
	is_int(fsize(p), 2 * BLK, "zero tail: cut back");
}

static void
test_bad_crc(void)
{
	const char *d = newdir("crc");
	const char *log;
	uint64_t id;
	char p[PBUF], q[PBUF];

	/* in the last block: a write cut short, so torn */
	reset(d);
	id = write_chunk(TAG, 3, 1);
	crash();
	snprintf(p, sizeof(p), "%s", path(d, id, "queued"));
	flip(p, 2);
	log = recover_log(d, 0);
	ok(has(log, "torn last block cut at byte 492"), "bad last CRC: torn");
	is_int(lb.cnt.torn_lost, 10, "bad last CRC: its 10 events lost");
	is_int(lb.cnt.recovered, 20, "bad last CRC: 20 events kept");
	is_int(events_in(p), 20, "bad last CRC: 20 events read back");
	crash();

	/* before the last block: corrupt, so quarantined whole */
	flip(p, 0);
	log = recover_log(d, 0);
	ok(has(log, "corrupt (a bad checksum at byte 0; 0 events before it)"),
	    "bad CRC: reported");
	is_int(lb.cnt.quarantined_chunks, 1, "bad CRC: 1 chunk quarantined");
	is_int(lb.cnt.recovered_chunks, 0, "bad CRC: nothing resumed");
	ok(lb.head == NULL, "bad CRC: no chunk kept to send");
	ok(fsize(p) < 0 && fsize(path(d, id, "meta")) < 0,
	    "bad CRC: its files are gone from DIR");
	snprintf(q, sizeof(q), "%s/quarantine", d);
	is_int(fsize(path(q, id, "queued")), 2 * BLK,
	    "bad CRC: DIR/quarantine has the whole data file");
	ok(fsize(path(q, id, "meta")) > 14 && fsize(path(q, id, "reason")) > 0,
	    "bad CRC: ... its meta file and a reason file");
	is_int(events_in(path(q, id, "queued")), -1,
	    "bad CRC: ... whose first block stays bad");
}

static void
test_bad_header(void)
{
	const char *d = newdir("header");
	const char *log;
	uint64_t id;
	char p[PBUF];

	reset(d);
	id = write_chunk(TAG, 3, 1);
	crash();
	snprintf(p, sizeof(p), "%s", path(d, id, "queued"));
	poke(p, BLK, "XXXX", 4);
	log = recover_log(d, 0);
	ok(has(log, "corrupt (no block header at byte 246; 10 events before "
	    "it)"), "no header: reported");
	is_int(lb.cnt.quarantined_chunks, 1, "no header: quarantined");
	is_int(lb.cnt.quarantined, 10, "no header: counts the 10 events "
	    "before it");
	ok(lb.head == NULL && fsize(p) < 0, "no header: nothing kept in DIR");

	/* a length past the end of the file: a write cut short */
	reset(d);
	id = write_chunk(TAG, 3, 1);
	crash();
	snprintf(p, sizeof(p), "%s", path(d, id, "queued"));
	poke(p, 2 * BLK + 4, "\0\1\0\0", 4);
	log = recover_log(d, 0);
	ok(has(log, "torn last block cut at byte 492"), "long length: torn");
	is_int(lb.cnt.torn_lost, 10, "long length: 10 events lost");
	is_int(lb.cnt.recovered, 20, "long length: 20 kept");
}

static void
test_meta(void)
{
	const char *d = newdir("meta");
	const char *log;
	uint64_t a, b, c, e;
	char p[PBUF];

	reset(d);
	a = write_chunk("a", 1, 1);
	b = write_chunk("b", 1, 1);
	c = write_chunk("c", 1, 1);
	e = write_chunk("e", 1, 1);
	crash();
	unlink(path(d, a, "meta"));
	put_file(path(d, b, "meta"), "lkit-buffer 2\ncreated 1.0\nkey 62\n",
	    33);
	put_file(path(d, c, "meta"), "lkit-buffer 1\ncreated 1.0\nkey 6z\n",
	    33);
	/* a meta file with no data file, and a temporary file */
	snprintf(p, sizeof(p), "%s", path(d, e, "meta"));
	unlink(path(d, e, "queued"));
	put_file(path(d, e + 7, "meta.tmp"), "x", 1);
	log = recover_log(d, 0);
	ok(has(log, "no usable meta file"), "meta: reported");
	is_int(lb.cnt.recovered_chunks, 3, "meta: 3 chunks resumed");
	is_int(lb.cnt.recovered, 30, "meta: all 30 events kept");
	ok(lb.head && lb.head->id == a && !lb.head->key &&
	    lb.head->ntags == -1, "meta missing: kept, its tag unknown");
	ok(lb.head && lb.head->next && lb.head->next->id == b &&
	    !lb.head->next->key, "meta of another version: kept, tag "
	    "unknown");
	ok(lb.tail && lb.tail->id == c && !lb.tail->key,
	    "meta with a bad key: kept, tag unknown");
	is_int(fsize(p), -1, "meta without data: removed");
	is_int(fsize(path(d, e + 7, "meta.tmp")), -1,
	    "temporary file: removed");
}

/* --chunk-keys tag,time,n: the bucket and the record key over a crash */
static void
test_meta_keys(void)
{
	const char *d = newdir("metakeys");
	const char *name, *val;
	size_t off = 0, nlen, vlen;
	uint64_t id, bad;
	const char *log;

	reset(d);
	lb.o.tkeyed = 1;
	lb.o.timekey = 3600;
	lb.o.utc = 1;
	lb.o.nrkeys = 1;
	lb.o.rkey[0] = "n";
	lb.o.rkey_len[0] = 1;
	id = write_chunk("k", 1, 1);
	bad = write_chunk("m", 1, 1);
	crash();
	put_file(path(d, bad, "meta"), "lkit-buffer 1\ncreated 1.0\nkey 6d\n"
	    "timekey 12x\n", 45);
	memset(&lb.o.rkey, 0, sizeof(lb.o.rkey));
	lb.o.nrkeys = lb.o.tkeyed = 0;
	log = recover_log(d, 0);
	ok(lb.head && lb.head->id == id && lb.head->has_tkey &&
	    lb.head->tkey == 1699999200, "meta keys: the time bucket kept");
	ok(lb.head && chunk_kv_next(lb.head, &off, &name, &nlen, &val,
	    &vlen) && nlen == 1 && *name == 'n' && vlen == 1 && *val == '1' &&
	    !chunk_kv_next(lb.head, &off, &name, &nlen, &val, &vlen),
	    "meta keys: the record key n=1 kept");
	ok(lb.head && lb.head->key && strcmp(lb.head->key, "k") == 0,
	    "meta keys: the tag kept");
	ok(has(log, "no usable meta file") && lb.tail && lb.tail->id == bad &&
	    !lb.tail->key && !lb.tail->has_tkey,
	    "meta keys: a bad timekey line: kept, keys unknown");
}

static void
test_empty_and_status(void)
{
	const char *d = newdir("status");
	const char *log;
	uint64_t id, z;
	char p[PBUF];

	reset(d);
	id = write_chunk(TAG, 3, 1);
	z = write_chunk("z", 1, 1);
	crash();
	/* a data file created but never written: no events */
	if (truncate(path(d, z, "queued"), 0) < 0)
		printf("# unable to truncate\n");
	snprintf(p, sizeof(p), "%s", path(d, id, "queued"));
	if (truncate(p, 3 * BLK - 5) < 0)
		printf("# unable to truncate %s\n", p);
	/* --status only looks */
	log = recover_log(d, 1);
	is_str(log, "", "status: says nothing");
	is_int(fsize(p), 3 * BLK - 5, "status: the torn file is left as it is");
	is_int(lb.cnt.torn_lost, 0, "status: counts nothing lost");
	ok(lb.head && lb.head->records == 20, "status: shows the 20 events "
	    "before the torn block");
	ok(fsize(path(d, z, "queued")) == 0, "status: the empty file stays");
	log = recover_log(d, 0);
	is_int(fsize(path(d, z, "queued")), -1, "empty: its data file removed");
	is_int(fsize(path(d, z, "meta")), -1, "empty: ... and its meta file");
	is_int(lb.cnt.recovered_chunks, 1, "empty: not counted as resumed");
}

int
main(void)
{
	char cmd[128];

	progname_set("lbuffer");
	rd = reader_new(-1, "events");
	snprintf(top, sizeof(top), "/tmp/t_lbuffer_store.XXXXXX");
	if (!mkdtemp(top))
		abort();
	test_write();
	test_clean();
	test_torn();
	test_bad_crc();
	test_bad_header();
	test_meta();
	test_meta_keys();
	test_empty_and_status();
	crash();
	reader_free(rd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		printf("# unable to remove %s\n", top);
	return done_testing();
}
