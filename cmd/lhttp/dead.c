/* dead - lhttp's --dead-letter: rejected events, with the server's reason */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "mp.h"
#include "rec.h"
#include "stream.h"

#include "lhttp.h"

/*
 * The events go to DIR/lhttp-YYYYmmddTHHMMSSZ-PID.lkit, opened at the
 * first rejection (and again after SIGHUP), as an lkit event stream:
 * each event keeps its tag, time and record, with one key added,
 * DEAD_KEY: {"status": N, "reason": "...", "error": {...}}.  A batch's
 * rejected events are written in one write(2), or not at all.
 */
static struct {
	int fd;
	char path[4096];
	struct buf b;           /* events of the batch in hand */
	size_t n;
	struct buf rec, why;
} dl = { .fd = -1 };

void
dead_init(void)
{
	char d[PATH_MAX];
	struct stat st;

	if (!o.dead_letter)
		return;
	if (fs_mkdir_p(o.dead_letter, 1, d, sizeof(d)) < 0)
		die(EX_SYS, "unable to create --dead-letter directory %s:", d);
	if (stat(o.dead_letter, &st) < 0 || !S_ISDIR(st.st_mode))
		die(EX_SYS, "--dead-letter %s is not a directory",
		    o.dead_letter);
	if (access(o.dead_letter, W_OK | X_OK) < 0)
		die(EX_SYS, "unable to write in --dead-letter directory %s:",
		    o.dead_letter);
}

void
dead_reopen(void)
{
	if (dl.fd >= 0)
		close(dl.fd);
	dl.fd = -1;
}

void
dead_end(void)
{
	dead_reopen();
	buf_free(&dl.b);
	buf_free(&dl.rec);
	buf_free(&dl.why);
}

static int
dead_open(void)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(dl.path, sizeof(dl.path), "%s/lhttp-%s-%ld.lkit",
	    o.dead_letter, stamp, (long)getpid());
	dl.fd = open(dl.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (dl.fd < 0) {
		warn("unable to open %s:", dl.path);
		return -1;
	}
	return 0;
}

/* The str value of key k in the map m (validated), or NULL. */
static const char *
str_of(const char *m, size_t mlen, const char *k, size_t *len)
{
	const char *v, *p;
	struct mp_obj h;
	size_t vlen;

	if (!m || !mp_map_get(m, m + mlen, k, strlen(k), &v, &vlen))
		return NULL;
	p = v;
	if (mp_head(&p, v + vlen, &h) != MP_OK || h.type != MP_STR)
		return NULL;
	*len = h.len;
	return h.data;
}

/* The reason: "TYPE: REASON" of an Elasticsearch error, or the body. */
static void
put_reason(const char *body, size_t blen, const char *err, size_t elen)
{
	const char *t, *r;
	size_t tl = 0, rl = 0;

	dl.why.len = 0;
	t = str_of(err, elen, "type", &tl);
	r = str_of(err, elen, "reason", &rl);
	if (t || r) {
		if (t)
			buf_put(&dl.why, t, tl);
		if (t && r)
			buf_put(&dl.why, ": ", 2);
		if (r)
			buf_put(&dl.why, r, rl);
		return;
	}
	if (blen > RESP_KEEP)
		blen = RESP_KEEP;
	while (blen && strchr(" \t\r\n", body[blen - 1]))
		blen--;
	buf_put(&dl.why, body, blen);
}

/*
 * Queues a rejected event: status, and the response body (blen bytes) or
 * the item's error (msgpack, elen bytes) for the reason.
 */
void
dead_add(const struct event *ev, int status, const char *body, size_t blen,
    const char *err, size_t elen)
{
	const char *p = ev->rec, *end = ev->rec + ev->rec_len, *pair;
	msgpack_packer pk;
	struct mp_obj m, k;
	struct rec r, e;
	uint32_t i;

	put_reason(body, blen, err, elen);
	dl.rec.len = 0;
	rec_begin(&r, &dl.rec);
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		if (mp_head(&p, end, &k) == MP_OK && k.type == MP_STR &&
		    k.len == strlen(DEAD_KEY) && memcmp(k.data, DEAD_KEY,
		    k.len) == 0) {
			mp_skip(&p, end, NULL);
			continue;
		}
		p = pair;
		mp_skip(&p, end, NULL);
		mp_skip(&p, end, NULL);
		rec_pairs(&r, pair, p - pair, 1);
	}
	rec_key(&r, DEAD_KEY, strlen(DEAD_KEY));
	rec_begin(&e, &dl.rec);
	rec_key(&e, "status", 6);
	mp_packer_init(&pk, &dl.rec);
	msgpack_pack_int(&pk, status);
	rec_str(&e, "reason", 6, dl.why.p ? dl.why.p : "", dl.why.len);
	if (err)
		rec_raw(&e, "error", 5, err, elen);
	rec_end(&e);
	rec_end(&r);
	buf_putc(&dl.b, (char)0x93);
	mp_put_strhdr(&dl.b, ev->tag_len);
	buf_put(&dl.b, ev->tag, ev->tag_len);
	event_put_time(&dl.b, ev->sec, ev->nsec);
	buf_put(&dl.b, dl.rec.p, dl.rec.len);
	dl.n++;
}

/* Forgets the events queued. */
void
dead_discard(void)
{
	dl.b.len = 0;
	dl.n = 0;
}

/*
 * Writes the events queued since the last commit: 0, or -1 (said) with
 * the file cut back to where the write began.
 */
int
dead_commit(void)
{
	struct stat st;
	size_t off;

	if (!dl.n)
		return 0;
	if (dl.fd < 0 && dead_open() < 0) {
		dead_discard();
		return -1;
	}
	if (fstat(dl.fd, &st) < 0)
		st.st_size = -1;
	if ((off = fs_write_all(dl.fd, dl.b.p, dl.b.len)) < dl.b.len) {
		warn("unable to write %s:", dl.path);
		if (off && st.st_size >= 0 && ftruncate(dl.fd, st.st_size) < 0)
			warn("unable to cut %s back:", dl.path);
		dead_discard();
		return -1;
	}
	dead_discard();
	return 0;
}
