/* mark - end-to-end delivery marks: encoding, returns, the producer's socket */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "fwd.h"
#include "mark.h"
#include "mp.h"
#include "stream.h"

#define MARK_DIR "lkit-marks.XXXXXX"

struct mark_src {
	int fd;
	char dir[MARK_PATH_MAX + 1];
	char path[MARK_PATH_MAX + 1];
	size_t path_len;
	unsigned char id[MARK_ID_LEN];
	uint64_t last;          /* the last sequence made */
	uint64_t done;          /* the highest returned */
	unsigned max_out;
	long long *made;        /* when each outstanding mark was made */
	int warned;             /* a "no mark came back" warning was due */
	long long warn_ms;      /* when */
};

static int ret_fd = -1;         /* mark_return's socket, made when needed */
static uint64_t ret_sent, ret_unsent;

int
mark_parse(const char *p, size_t len, struct mark *m)
{
	const unsigned char *u = (const unsigned char *)p;
	const char *q = p, *path;
	struct mp_obj o;
	size_t plen;
	int i;

	if (mp_head(&q, p + len, &o) != MP_OK || o.type != MP_EXT ||
	    o.ext_type != MARK_EXT)
		return 0;
	/* exactly ext8, one whole value, this version */
	if (u[0] != 0xc7 || (size_t)(q - p) != len || o.len < MARK_HEAD + 1 ||
	    o.len > MARK_HEAD + MARK_PATH_MAX || u[3] != MARK_VERSION)
		return -1;
	path = o.data + MARK_HEAD;
	plen = o.len - MARK_HEAD;
	if (path[0] != '/' || memchr(path, '\0', plen))
		return -1;
	memcpy(m->id, o.data + 1, MARK_ID_LEN);
	m->seq = 0;
	for (i = 0; i < 8; i++)
		m->seq = m->seq << 8 | u[4 + MARK_ID_LEN + i];
	if (m->seq == 0)
		return -1;
	m->path = path;
	m->path_len = plen;
	return 1;
}

void
mark_put(struct buf *b, const unsigned char id[MARK_ID_LEN], uint64_t seq,
    const char *path)
{
	size_t plen = strlen(path);
	unsigned char *q;
	int i;

	if (plen > MARK_PATH_MAX)
		plen = MARK_PATH_MAX;   /* a caller's bug: never returned */
	buf_reserve(b, 3 + MARK_HEAD + plen);
	q = (unsigned char *)b->p + b->len;
	q[0] = 0xc7;
	q[1] = (unsigned char)(MARK_HEAD + plen);
	q[2] = MARK_EXT;
	q[3] = MARK_VERSION;
	memcpy(q + 4, id, MARK_ID_LEN);
	for (i = 0; i < 8; i++)
		q[4 + MARK_ID_LEN + i] = (unsigned char)(seq >> (56 - 8 * i));
	memcpy(q + 3 + MARK_HEAD, path, plen);
	b->len += 3 + MARK_HEAD + plen;
}

/* Close-on-exec and non-blocking; -1 if either cannot be set. */
static int
fd_flags(int fd)
{
	int fl;

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static int
dgram_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd >= 0 && fd_flags(fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
mark_return(const char *p, size_t len)
{
	struct sockaddr_un sun;
	struct mark m;
	ssize_t n;

	if (mark_parse(p, len, &m) != 1) {
		errno = EINVAL;
		goto unsent;
	}
	if (ret_fd < 0 && (ret_fd = dgram_socket()) < 0)
		goto unsent;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, m.path, m.path_len);
	do
		n = sendto(ret_fd, p, len, MSG_NOSIGNAL,
		    (struct sockaddr *)&sun, sizeof(sun));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len) {
		ret_sent++;
		return 0;
	}
	if (n >= 0)
		errno = EMSGSIZE;
unsent:
	ret_unsent++;
	return -1;
}

void
mark_return_cb(void *arg, const char *p, size_t len)
{
	(void)arg;
	mark_return(p, len);
}

void
mark_return_counts(uint64_t *sent, uint64_t *unsent)
{
	*sent = ret_sent;
	*unsent = ret_unsent;
}

void
mark_return_stats(char *b, size_t cap, uint64_t in)
{
	if (in && cap)
		snprintf(b, cap, ", marks in %llu, returned %llu, not sent "
		    "%llu", (unsigned long long)in,
		    (unsigned long long)ret_sent,
		    (unsigned long long)ret_unsent);
}

/*
 * Makes the private directory in base, and names the socket in it: 0, or
 * -1 with errno.  The path is absolute, as sinks run in other directories.
 */
static int
make_dir(struct mark_src *s, const char *base)
{
	char cwd[PATH_MAX];
	int n;

	if (base[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return -1;
	n = snprintf(s->dir, sizeof(s->dir), "%s%s%s/" MARK_DIR,
	    base[0] == '/' ? "" : cwd, base[0] == '/' ? "" : "/", base);
	if (n < 0 || (size_t)n + 2 > MARK_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!mkdtemp(s->dir))
		return -1;
	s->path_len = (size_t)snprintf(s->path, sizeof(s->path), "%s/r",
	    s->dir);
	return 0;
}

/* Binds the socket in s->dir; -1 with errno. */
static int
bind_socket(struct mark_src *s)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->path, s->path_len);
	if ((s->fd = dgram_socket()) < 0)
		return -1;
	if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

struct mark_src *
mark_src_new(unsigned max_out, char *err, size_t errcap)
{
	const char *bases[3] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"),
		"/tmp" };
	const char *tried = "/tmp";
	struct mark_src *s = xcalloc(1, sizeof(*s));
	int i, e = 0;

	s->fd = -1;
	s->max_out = max_out ? max_out : 1;
	s->made = xcalloc(s->max_out, sizeof(*s->made));
	if (fwd_random(s->id, sizeof(s->id)) < 0) {
		snprintf(err, errcap, "unable to make a random producer id");
		goto fail;
	}
	/* the first place that works, so an unusable one is no failure */
	for (i = 0; i < 3; i++) {
		if (!bases[i] || !*bases[i])
			continue;
		tried = bases[i];
		if (make_dir(s, bases[i]) == 0)
			break;
		e = errno;
	}
	if (i == 3) {
		snprintf(err, errcap, "unable to make a directory for the mark "
		    "socket in %s: %s", tried, strerror(e));
		goto fail;
	}
	if (bind_socket(s) < 0) {
		e = errno;
		rmdir(s->dir);
		snprintf(err, errcap, "unable to make the mark socket %s: %s",
		    s->path, strerror(e));
		goto fail;
	}
	return s;
fail:
	free(s->made);
	free(s);
	return NULL;
}

void
mark_src_free(struct mark_src *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
		rmdir(s->dir);
	}
	free(s->made);
	free(s);
}

int
mark_src_fd(const struct mark_src *s)
{
	return s->fd;
}

int
mark_src_can_put(const struct mark_src *s)
{
	return s->last - s->done < s->max_out;
}

uint64_t
mark_src_put(struct mark_src *s, struct buf *b)
{
	s->last++;
	s->made[s->last % s->max_out] = clock_ms();
	mark_put(b, s->id, s->last, s->path);
	return s->last;
}

/* Whether d[0..n) is a return of a mark s made and not yet seen back. */
static int
is_ours(const struct mark_src *s, const char *d, size_t n, uint64_t *seq)
{
	struct mark m;

	if (mark_parse(d, n, &m) != 1 ||
	    memcmp(m.id, s->id, MARK_ID_LEN) != 0 ||
	    m.path_len != s->path_len ||
	    memcmp(m.path, s->path, s->path_len) != 0 ||
	    m.seq > s->last)
		return 0;
	*seq = m.seq;
	return 1;
}

uint64_t
mark_src_recv(struct mark_src *s)
{
	char d[MARK_MAX + 1];
	uint64_t seq;
	ssize_t n;

	for (;;) {
		n = recv(s->fd, d, sizeof(d), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (is_ours(s, d, (size_t)n, &seq) && seq > s->done)
			s->done = seq;
	}
	return s->done;
}

uint64_t
mark_src_done(const struct mark_src *s)
{
	return s->done;
}

uint64_t
mark_src_last(const struct mark_src *s)
{
	return s->last;
}

int
mark_src_warn_due(struct mark_src *s, long long now, long long after_ms)
{
	long long at = mark_src_warn_at(s, now, after_ms);

	if (at < 0 || now < at)
		return 0;
	s->warned = 1;
	s->warn_ms = now;
	return 1;
}

long long
mark_src_warn_at(const struct mark_src *s, long long now, long long after_ms)
{
	long long at;

	if (s->done >= s->last)
		return -1;
	at = now - mark_src_waiting_ms(s) + after_ms;
	if (s->warned && at < s->warn_ms + MARK_WARN_MS)
		at = s->warn_ms + MARK_WARN_MS;
	return at;
}

long long
mark_src_waiting_ms(const struct mark_src *s)
{
	long long d;

	if (s->done >= s->last)
		return 0;
	d = clock_ms() - s->made[(s->done + 1) % s->max_out];
	return d > 0 ? d : 0;
}
