/* lrecv - accept the Forward protocol (TCP, UDP heartbeat, unix socket) */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/fwd.h"
#include "../common/mp.h"
#include "../common/net.h"
#include "../common/opt.h"
#include "../common/rec.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"

#define USAGE "[options]"
#define ABOUT "Accept events over the Forward protocol (Fluentd in_forward) " \
	"and write them\nto stdout.  Acks are sent once the events are written."

#define MAX_LISTEN 8
#define MAX_USERS 32
#define MAX_ALLOW 64
#define HIGH_WATER (8u * 1024 * 1024)   /* stdout bytes held before pausing */
#define WB_PAUSE (256u * 1024)          /* unsent reply bytes before pausing */
#define PEEK_MAX 4096                   /* largest PING accepted */
#define CLOSE_WAIT_MS 2000              /* lingering after a refusal */
#define HANDSHAKE_MS 10000

enum {
	O_LISTEN = OPT_LONG, O_UNIX, O_PORT_FILE, O_NO_UDP, O_SHARED_KEY,
	O_USER, O_SELF_HOST, O_ALLOW, O_CHUNK_LIMIT, O_CHUNK_WARN,
	O_SKIP_INVALID, O_SRC_HOST_KEY, O_SRC_ADDR_KEY, O_TAG_PREFIX,
	O_IDLE, O_MAX_CONN, O_DENY_KEEPALIVE, O_STATS
};

static const struct opt opts[] = {
	{ O_LISTEN, "listen", "[ADDR]:PORT", "Forward over TCP, and UDP "
	    "heartbeats, here (default 0.0.0.0:24224; repeatable; port 0 "
	    "picks one)" },
	{ O_UNIX, "unix", "PATH", "Forward over a unix socket at PATH" },
	{ O_PORT_FILE, "port-file", "FILE", "write the TCP port bound by the "
	    "first --listen to FILE" },
	{ O_NO_UDP, "no-udp", NULL, "do not answer UDP heartbeats" },
	{ O_SHARED_KEY, "shared-key", "KEY", "require the HELO/PING/PONG "
	    "handshake with KEY" },
	{ O_USER, "user", "NAME:PASSWORD", "also require this user (repeatable)" },
	{ O_SELF_HOST, "self-hostname", "NAME", "hostname sent in PONG "
	    "(default: the host name)" },
	{ O_DENY_KEEPALIVE, "deny-keepalive", NULL, "tell clients (HELO) not "
	    "to keep connections open" },
	{ O_ALLOW, "allow", "CIDR[,CIDR...]", "accept clients from these "
	    "addresses only (repeatable)" },
	{ O_CHUNK_LIMIT, "chunk-size-limit", "SIZE", "drop larger requests, "
	    "unacked, and close (default 64M)" },
	{ O_CHUNK_WARN, "chunk-size-warn", "SIZE", "log requests larger than "
	    "SIZE" },
	{ O_SKIP_INVALID, "skip-invalid-event", NULL, "skip bad events and go "
	    "on, instead of closing the connection" },
	{ O_SRC_HOST_KEY, "source-hostname-key", "KEY", "add the client's "
	    "host name to each record as KEY" },
	{ O_SRC_ADDR_KEY, "source-address-key", "KEY", "add the client's "
	    "address to each record as KEY" },
	{ O_TAG_PREFIX, "add-tag-prefix", "PREFIX", "prepend PREFIX. to "
	    "every tag" },
	{ O_IDLE, "idle-timeout", "DURATION", "close connections silent this "
	    "long (default 300s, 0 never)" },
	{ O_MAX_CONN, "max-connections", "N", "refuse connections beyond N "
	    "(default 1024)" },
	{ O_STATS, "stats", NULL, "print counters to stderr at exit" },
	OPT_STD,
	OPT_END
};

struct user {
	char *name;
	char *pass;
};

static struct {
	const char *listen[MAX_LISTEN];
	int nlisten;
	const char *unix_path, *port_file, *shared_key, *self_host;
	const char *tag_prefix, *src_host_key, *src_addr_key;
	struct user users[MAX_USERS];
	int nusers;
	struct net_cidr allow[MAX_ALLOW];
	int nallow;
	size_t chunk_limit, chunk_warn;
	int skip_invalid, stats, no_udp, deny_keepalive, max_conn;
	long long idle_ms;
} o = { .chunk_limit = 64u << 20, .idle_ms = 300000, .max_conn = 1024 };

enum { T_LISTEN, T_UNIX, T_UDP, T_CONN, T_STDOUT, T_SIG };
enum { S_PING, S_DATA, S_CLOSING };

struct item {
	int type;
	int fd;
};

struct conn {
	struct item it;
	int state;
	int eof;                /* the client sent its last byte */
	int got_data;
	uint32_t events;        /* epoll mask set */
	struct reader *r;
	struct buf wb;          /* replies to send */
	size_t woff;
	struct buf acks;        /* pending: u64 out position, u32 len, chunk */
	size_t aoff;
	int in_ackq;
	int in_frame;
	uint64_t frame_off;
	unsigned char nonce[FWD_NONCE_LEN], auth[FWD_NONCE_LEN];
	struct sockaddr_storage sa;
	char addr[NET_ADDR_MAX];        /* ip only */
	char name[NET_ADDR_MAX + 16];   /* "client IP:PORT" for messages */
	char *hostname;                 /* resolved on first use */
	long long last, born;
	struct conn *prev, *next;
	struct conn *aprev, *anext;
};

static int ep = -1;
static struct out out;
static int out_nb;              /* stdout is a non-blocking pipe */
static int out_flags = -1;
static int out_waiting;         /* EPOLLOUT armed on stdout */
static struct item listeners[MAX_LISTEN * 2 + 1];
static int nlisteners;
static struct item stdout_item = { T_STDOUT, 1 }, sig_item = { T_SIG, -1 };
static struct conn *conns, *ackq;
static int nconns;
static char self_host[256];
static struct buf tagb, recb, tmpb;
static uint64_t c_accepted, c_refused, c_acks, c_chunks_dropped, c_bad;
static uint64_t c_heartbeats, c_skipped;

static long long
now_ms(void)
{
	return stream_ms();
}

static void
ep_set(struct conn *c, uint32_t ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->it.fd, &e) == 0)
		c->events = ev;
}

static void
ep_add(struct item *it, uint32_t ev)
{
	struct epoll_event e;

	e.events = ev;
	e.data.ptr = it;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, it->fd, &e) < 0)
		die(EX_SYS, "epoll_ctl:");
}

static void
ackq_remove(struct conn *c)
{
	if (!c->in_ackq)
		return;
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		ackq = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	c->in_ackq = 0;
}

static void
conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ackq_remove(c);
	close(c->it.fd);
	if (c->r) {
		stats.bytes_in += reader_stats(c->r)->bytes;
		c_skipped += reader_stats(c->r)->skipped_places;
		reader_free(c->r);
	}
	buf_free(&c->wb);
	buf_free(&c->acks);
	free(c->hostname);
	free(c);
	nconns--;
}

/* Stops reading and closes once the replies are out (or after a wait). */
static void
conn_closing(struct conn *c)
{
	c->state = S_CLOSING;
	c->last = now_ms();
	shutdown(c->it.fd, SHUT_WR);
}

/* Sends what wb holds; -1 if the connection was freed. */
static int
conn_write(struct conn *c)
{
	ssize_t n;

	while (c->woff < c->wb.len) {
		n = send(c->it.fd, c->wb.p + c->woff, c->wb.len - c->woff,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			if (c->state != S_CLOSING)
				warn("%s: unable to send: %s", c->name,
				    strerror(errno));
			conn_free(c);
			return -1;
		}
		c->woff += n;
		c->last = now_ms();
	}
	if (c->woff == c->wb.len)
		c->woff = c->wb.len = 0;
	return 0;
}

/* Sets the epoll mask from the state: read unless paused, write if due. */
static void
conn_arm(struct conn *c)
{
	uint32_t ev = 0;

	if (c->wb.len > c->woff)
		ev |= EPOLLOUT;
	if (!c->eof && (c->state == S_CLOSING || c->wb.len - c->woff < WB_PAUSE))
		ev |= EPOLLIN;
	ep_set(c, ev);
}

/* After a change: closes when nothing is left to do; else re-arms. */
static void
conn_settle(struct conn *c)
{
	if (conn_write(c) < 0)
		return;
	if (c->eof && c->wb.len == 0 && c->aoff == c->acks.len) {
		conn_free(c);
		return;
	}
	conn_arm(c);
}

static void
refuse(struct conn *c, const char *reason)
{
	struct fwd_pong po = { 0, { reason, strlen(reason) }, { "", 0 },
		{ "", 0 } };

	warn("%s: handshake refused: %s", c->name, reason);
	c_refused++;
	fwd_pong_put(&c->wb, &po);
	conn_write(c);
	conn_closing(c);
}

static const char *
self_hostname(void)
{
	if (!self_host[0]) {
		if (o.self_host)
			snprintf(self_host, sizeof(self_host), "%s", o.self_host);
		else if (gethostname(self_host, sizeof(self_host) - 1) < 0)
			snprintf(self_host, sizeof(self_host), "localhost");
	}
	return self_host;
}

static void
send_helo(struct conn *c)
{
	struct fwd_helo h;

	if (fwd_random(c->nonce, sizeof(c->nonce)) < 0 ||
	    fwd_random(c->auth, sizeof(c->auth)) < 0)
		die(EX_SYS, "unable to get random bytes");
	h.nonce.p = (char *)c->nonce;
	h.nonce.len = sizeof(c->nonce);
	h.auth.p = (char *)c->auth;
	h.auth.len = sizeof(c->auth);     /* always, as Fluentd does */
	h.keepalive = !o.deny_keepalive;
	fwd_helo_put(&c->wb, &h);
	c->state = S_PING;
}

static int
user_ok(const struct fwd_ping *pg, const struct conn *c)
{
	struct fwd_str auth = { (char *)c->auth, sizeof(c->auth) }, u, pw;
	char hex[FWD_DIGEST_LEN + 1];
	int i;

	for (i = 0; i < o.nusers; i++) {
		u.p = o.users[i].name;
		u.len = strlen(u.p);
		if (u.len != pg->user.len || memcmp(u.p, pg->user.p, u.len))
			continue;
		pw.p = o.users[i].pass;
		pw.len = strlen(pw.p);
		fwd_digest(hex, &auth, &u, &pw, NULL);
		return pg->pass.len == FWD_DIGEST_LEN &&
		    memcmp(hex, pg->pass.p, FWD_DIGEST_LEN) == 0;
	}
	return 0;
}

/* Checks a whole PING and answers it. */
static void
check_ping(struct conn *c, const struct fwd_ping *pg)
{
	struct fwd_str nonce = { (char *)c->nonce, sizeof(c->nonce) };
	struct fwd_str key = { o.shared_key, strlen(o.shared_key) };
	struct fwd_str me = { self_hostname(), strlen(self_hostname()) };
	struct fwd_pong po = { 1, { "", 0 }, me, { NULL, 0 } };
	char hex[FWD_DIGEST_LEN + 1];

	if (pg->host.len == me.len && memcmp(pg->host.p, me.p, me.len) == 0) {
		refuse(c, "same hostname between input and output: invalid "
		    "configuration");
		return;
	}
	fwd_digest(hex, &pg->salt, &pg->host, &nonce, &key);
	if (pg->digest.len != FWD_DIGEST_LEN ||
	    memcmp(hex, pg->digest.p, FWD_DIGEST_LEN) != 0) {
		refuse(c, "shared_key mismatch");
		return;
	}
	if (o.nusers && !user_ok(pg, c)) {
		refuse(c, "username/password mismatch");
		return;
	}
	fwd_digest(hex, &pg->salt, &me, &nonce, &key);
	po.digest.p = hex;
	po.digest.len = FWD_DIGEST_LEN;
	fwd_pong_put(&c->wb, &po);
	c->state = S_DATA;
}

/*
 * The handshake phase: the PING is peeked, so the bytes after it stay in
 * the socket for the event reader.
 */
static void
read_ping(struct conn *c)
{
	char b[PEEK_MAX];
	struct fwd_ping pg;
	ssize_t n;
	size_t used;
	int r;

	n = recv(c->it.fd, b, sizeof(b), MSG_PEEK);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_free(c);
		return;
	}
	if (n == 0) {
		conn_free(c);  /* a transport heartbeat, or a quitter */
		return;
	}
	c->got_data = 1;
	r = fwd_ping_parse(b, n, &used, &pg);
	if (r == FWD_SHORT && n < (ssize_t)sizeof(b))
		return;
	if (r != FWD_OK) {
		refuse(c, "invalid ping message");
		return;
	}
	check_ping(c, &pg);
	if (recv(c->it.fd, b, used, 0) != (ssize_t)used)
		warn("%s: unable to consume the PING", c->name);
}

static const char *
conn_hostname(struct conn *c)
{
	char h[1025];

	if (!c->hostname) {
		if (c->sa.ss_family == AF_UNIX || getnameinfo((struct sockaddr *)
		    &c->sa, sizeof(c->sa), h, sizeof(h), NULL, 0, 0) != 0)
			snprintf(h, sizeof(h), "%s", c->addr);
		c->hostname = xstrdup(h);
	}
	return c->hostname;
}

/* The record with the source keys set (replacing any already there). */
static void
source_keys(struct conn *c, const char **rec, size_t *len)
{
	const char *keys[2] = { o.src_host_key, o.src_addr_key };
	const char *vals[2], *p, *v;
	struct mp_obj m;
	struct rec r;
	size_t vl;
	int i;

	vals[0] = o.src_host_key ? conn_hostname(c) : NULL;
	vals[1] = c->addr;
	recb.len = 0;
	buf_put(&recb, *rec, *len);
	for (i = 0; i < 2; i++) {
		if (!keys[i])
			continue;
		if (mp_map_get(recb.p, recb.p + recb.len, keys[i],
		    strlen(keys[i]), &v, &vl)) {
			tmpb.len = 0;
			mp_map_put_without(&tmpb, recb.p, recb.p + recb.len,
			    keys[i], strlen(keys[i]));
			recb.len = 0;
			buf_put(&recb, tmpb.p, tmpb.len);
		}
		tmpb.len = 0;
		p = recb.p;
		mp_head(&p, recb.p + recb.len, &m);
		rec_begin(&r, &tmpb);
		rec_pairs(&r, p, recb.p + recb.len - p, m.v.n);
		rec_str(&r, keys[i], strlen(keys[i]), vals[i], strlen(vals[i]));
		rec_end(&r);
		recb.len = 0;
		buf_put(&recb, tmpb.p, tmpb.len);
	}
	*rec = recb.p;
	*len = recb.len;
}

/* Appends one event in Message mode to the stdout buffer (no flush). */
static void
emit(struct conn *c, struct event *ev)
{
	const char *tag = ev->tag, *rec = ev->rec;
	size_t tag_len = ev->tag_len, rec_len = ev->rec_len;
	struct buf *b = &out.b;

	if (o.tag_prefix) {
		tagb.len = 0;
		buf_puts(&tagb, o.tag_prefix);
		buf_putc(&tagb, '.');
		buf_put(&tagb, ev->tag, ev->tag_len);
		tag = tagb.p;
		tag_len = tagb.len;
	}
	if (ev->sec == 0 && ev->nsec == 0)
		event_now(&ev->sec, &ev->nsec);
	if (o.src_host_key || o.src_addr_key)
		source_keys(c, &rec, &rec_len);
	buf_reserve(b, 16 + tag_len + rec_len);
	b->p[b->len++] = (char)0x93;
	mp_put_strhdr(b, tag_len);
	buf_put(b, tag, tag_len);
	event_put_time(b, ev->sec, ev->nsec);
	buf_put(b, rec, rec_len);
	stats.in++;
	stats.out++;
}

/* Queues the ack of the frame just finished, if it asked for one. */
static void
frame_end(struct conn *c)
{
	struct fwd_str chunk;
	const char *opt;
	size_t olen, size;
	uint64_t pos;
	uint32_t n;

	size = reader_offset(c->r) - c->frame_off;
	if (o.chunk_warn && size > o.chunk_warn)
		warn("%s: request of %zu bytes is larger than "
		    "--chunk-size-warn %zu", c->name, size, o.chunk_warn);
	opt = reader_frame_option(c->r, &olen);
	if (!opt || !fwd_option_chunk(opt, olen, &chunk))
		return;
	pos = out.bytes + out.b.len;
	n = (uint32_t)chunk.len;
	buf_put(&c->acks, &pos, sizeof(pos));
	buf_put(&c->acks, &n, sizeof(n));
	buf_put(&c->acks, chunk.p, chunk.len);
	if (!c->in_ackq) {
		c->aprev = NULL;
		c->anext = ackq;
		if (ackq)
			ackq->aprev = c;
		ackq = c;
		c->in_ackq = 1;
	}
}

static void
bad_data(struct conn *c)
{
	const char *msg = reader_errmsg(c->r);

	c_bad++;
	if (strstr(msg, "larger than") || strstr(msg, "inflate to more")) {
		c_chunks_dropped++;
		warn("%s: request larger than --chunk-size-limit %zu: dropped, "
		    "not acked; closing", c->name, o.chunk_limit);
	} else {
		warn("%s (connection closed)", msg);
	}
	conn_closing(c);
}

/* Writes every whole event the connection's reader holds. */
static void
drain(struct conn *c)
{
	struct event ev;
	uint64_t before;
	int ret;

	for (;;) {
		before = reader_offset(c->r);
		ret = reader_next_buffered(c->r, &ev);
		if (ret != READ_EVENT)
			break;
		if (!c->in_frame) {
			c->in_frame = 1;
			c->frame_off = before;
		}
		emit(c, &ev);
		if (reader_frame_done(c->r)) {
			c->in_frame = 0;
			frame_end(c);
		}
	}
	if (ret == READ_ERR)
		bad_data(c);
	else if (ret == READ_EOF)
		c->eof = 1;
}

static void
conn_read(struct conn *c)
{
	char junk[4096];
	ssize_t n;

	if (c->state == S_CLOSING) {
		while ((n = read(c->it.fd, junk, sizeof(junk))) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_free(c);
		return;
	}
	if (c->state == S_PING) {
		read_ping(c);
		return;
	}
	if (!c->r) {
		c->r = reader_new(c->it.fd, c->name);
		reader_set_max(c->r, o.chunk_limit);
		reader_set_skip_invalid(c->r, o.skip_invalid);
	}
	n = reader_fill(c->r);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		warn("%s: unable to read: %s", c->name, strerror(errno));
		conn_free(c);
		return;
	}
	c->last = now_ms();
	if (n > 0)
		c->got_data = 1;
	drain(c);
	if (n == 0 || c->eof)
		c->eof = 1;
	conn_settle(c);
}

static int
allowed(const struct sockaddr *sa)
{
	int i;

	if (!o.nallow || sa->sa_family == AF_UNIX)
		return 1;
	for (i = 0; i < o.nallow; i++)
		if (net_cidr_match(&o.allow[i], sa))
			return 1;
	return 0;
}

static void
conn_new(int fd, const struct sockaddr_storage *sa)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	char port[16] = "";
	struct epoll_event e;

	c->it.type = T_CONN;
	c->it.fd = fd;
	c->sa = *sa;
	net_addr_str((const struct sockaddr *)sa, c->addr, sizeof(c->addr));
	if (sa->ss_family == AF_INET)
		snprintf(port, sizeof(port), ":%d",
		    ntohs(((const struct sockaddr_in *)sa)->sin_port));
	else if (sa->ss_family == AF_INET6)
		snprintf(port, sizeof(port), ":%d",
		    ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	snprintf(c->name, sizeof(c->name), "client %s%s", c->addr, port);
	c->last = c->born = now_ms();
	c->state = S_DATA;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;
	c_accepted++;
	if (o.shared_key)
		send_helo(c);
	e.events = c->events = EPOLLIN;
	e.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
		die(EX_SYS, "epoll_ctl:");
	conn_settle(c);
}

static void
do_accept(struct item *l)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char a[NET_ADDR_MAX];
	int fd, i;

	for (i = 0; i < 64; i++) {
		len = sizeof(sa);
		fd = accept(l->fd, (struct sockaddr *)&sa, &len);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				warn("unable to accept:");
			return;
		}
		if (l->type == T_UNIX)
			sa.ss_family = AF_UNIX;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		net_nonblock(fd);
		if (!allowed((struct sockaddr *)&sa)) {
			net_addr_str((struct sockaddr *)&sa, a, sizeof(a));
			warn("client %s: not in --allow, closed", a);
			c_refused++;
			close(fd);
			continue;
		}
		if (nconns >= o.max_conn) {
			warn("%d connections open (--max-connections): a new "
			    "one is closed", nconns);
			c_refused++;
			close(fd);
			continue;
		}
		conn_new(fd, &sa);
	}
}

/* UDP heartbeat: any datagram gets a single 0 byte back. */
static void
do_udp(struct item *l)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char b[1024];
	int i;

	for (i = 0; i < 64; i++) {
		len = sizeof(sa);
		if (recvfrom(l->fd, b, sizeof(b), 0, (struct sockaddr *)&sa,
		    &len) < 0)
			return;
		if (!allowed((struct sockaddr *)&sa))
			continue;
		c_heartbeats++;
		sendto(l->fd, "", 1, 0, (struct sockaddr *)&sa, len);
	}
}

/* Sends the acks whose events are now written. */
static void
release_acks(void)
{
	struct conn *c, *next;
	uint64_t pos;
	uint32_t n;

	for (c = ackq; c; c = next) {
		next = c->anext;
		while (c->aoff < c->acks.len) {
			memcpy(&pos, c->acks.p + c->aoff, sizeof(pos));
			if (pos > out.bytes)
				break;
			memcpy(&n, c->acks.p + c->aoff + 8, sizeof(n));
			fwd_ack_put(&c->wb, c->acks.p + c->aoff + 12, n);
			c->aoff += 12 + n;
			c_acks++;
		}
		if (c->aoff == c->acks.len) {
			c->aoff = c->acks.len = 0;
			ackq_remove(c);
		}
		conn_settle(c);
	}
}

/* Writes what stdout can take; arms EPOLLOUT when a pipe is full. */
static void
flush_out(void)
{
	struct epoll_event e;

	if (!out.b.len)
		return;
	if (out_flush_try(&out) < 0) {
		if (errno == EPIPE)
			exit(128 + 13);
		if (errno != EAGAIN)
			die(EX_SYS, "unable to write stdout:");
	}
	release_acks();
	if (out_nb && !!out.b.len != out_waiting) {
		out_waiting = !!out.b.len;
		e.events = out_waiting ? EPOLLOUT : 0;
		e.data.ptr = &stdout_item;
		epoll_ctl(ep, EPOLL_CTL_MOD, 1, &e);
	}
}

/* Closes connections idle too long, and ends lingering ones. */
static void
sweep(void)
{
	struct conn *c, *next;
	long long now = now_ms(), idle;

	for (c = conns; c; c = next) {
		next = c->next;
		idle = now - c->last;
		if (c->state == S_CLOSING) {
			if (idle > CLOSE_WAIT_MS)
				conn_free(c);
		} else if (c->state == S_PING && idle > HANDSHAKE_MS) {
			warn("%s: no PING within %d s, closing", c->name,
			    HANDSHAKE_MS / 1000);
			conn_free(c);
		} else if (o.idle_ms && idle > o.idle_ms) {
			if (!c->got_data)
				warn("%s: sent nothing in %lld ms, closing",
				    c->name, idle);
			else if (c->wb.len > c->woff)
				warn("%s: does not read its acks, closing",
				    c->name);
			conn_free(c);
		}
	}
}

static void
dispatch(struct item *it, uint32_t ev)
{
	struct conn *c;

	switch (it->type) {
	case T_LISTEN:
	case T_UNIX:
		do_accept(it);
		break;
	case T_UDP:
		do_udp(it);
		break;
	case T_SIG:
		sig_drain();
		sig_service();
		break;
	case T_STDOUT:
		flush_out();
		break;
	case T_CONN:
		c = (struct conn *)it;
		if (ev & EPOLLOUT) {
			if (conn_write(c) < 0)
				return;
			if (c->state == S_CLOSING && c->wb.len == 0 && c->eof) {
				conn_free(c);
				return;
			}
		}
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c);
		else
			conn_settle(c);
		break;
	}
}

/* While stdout is full: wait for it (and signals) only. */
static void
wait_stdout(void)
{
	struct pollfd p[2];

	p[0].fd = sig_fd();
	p[0].events = POLLIN;
	p[1].fd = 1;
	p[1].events = POLLOUT;
	if (poll(p, 2, 1000) > 0 && p[0].revents) {
		sig_drain();
		sig_service();
	}
	flush_out();
}

static void
serve(void)
{
	struct epoll_event evs[256];
	long long last_sweep = now_ms();
	int n, i, timeout;

	while (!sig_stop) {
		if (out.b.len >= OUT_BLOCK)
			flush_out();
		if (out_nb && out.b.len >= HIGH_WATER) {
			wait_stdout();
			continue;
		}
		timeout = out.b.len && !out_waiting ? 0 : 1000;
		n = epoll_wait(ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			die(EX_SYS, "epoll_wait:");
		if (n <= 0 && out.b.len)
			flush_out();
		for (i = 0; i < n; i++)
			dispatch(evs[i].data.ptr, evs[i].events);
		if (now_ms() - last_sweep >= 1000) {
			sweep();
			last_sweep = now_ms();
		}
	}
}

static void
write_port_file(int port)
{
	FILE *f;
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s.tmp", o.port_file);
	if (!(f = fopen(tmp, "w")) || fprintf(f, "%d\n", port) < 0 ||
	    fclose(f) != 0 || rename(tmp, o.port_file) < 0)
		die(EX_SYS, "unable to write %s:", o.port_file);
}

static void
add_listener(int type, int fd)
{
	listeners[nlisteners].type = type;
	listeners[nlisteners].fd = fd;
	ep_add(&listeners[nlisteners], EPOLLIN);
	nlisteners++;
}

static void
open_listeners(void)
{
	char host[256], port[32], err[512];
	int i, fd, p;

	if (!o.nlisten && !o.unix_path)
		o.listen[o.nlisten++] = "0.0.0.0:24224";
	for (i = 0; i < o.nlisten; i++) {
		if (net_split(o.listen[i], "0.0.0.0", "24224", host,
		    sizeof(host), port, sizeof(port)) < 0)
			die(EX_USAGE, "bad address '%s' for --listen", o.listen[i]);
		if ((fd = net_listen(host, port, SOCK_STREAM, err,
		    sizeof(err))) < 0)
			die(EX_SYS, "unable to listen on %s", err);
		add_listener(T_LISTEN, fd);
		p = net_local_port(fd);
		if (i == 0 && o.port_file)
			write_port_file(p);
		if (o.no_udp)
			continue;
		snprintf(port, sizeof(port), "%d", p);
		if ((fd = net_listen(host, port, SOCK_DGRAM, err,
		    sizeof(err))) < 0)
			die(EX_SYS, "unable to listen on UDP %s", err);
		add_listener(T_UDP, fd);
	}
	if (o.unix_path) {
		if ((fd = net_listen_unix(o.unix_path, err, sizeof(err))) < 0)
			die(EX_SYS, "unable to listen on %s", err);
		add_listener(T_UNIX, fd);
	}
}

static void
setup_stdout(void)
{
	struct stat st;
	struct epoll_event e;

	out_init(&out, 1, "stdout");
	if (fstat(1, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	out_flags = fcntl(1, F_GETFL);
	if (out_flags < 0 || fcntl(1, F_SETFL, out_flags | O_NONBLOCK) < 0)
		return;
	out_nb = 1;
	e.events = 0;
	e.data.ptr = &stdout_item;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 1, &e) < 0)
		die(EX_SYS, "epoll_ctl stdout:");
}

static void
sync_stats(void)
{
	stats.bytes_out = out.bytes + out.b.len;
}

static void
extra_stats(char *b, size_t cap)
{
	snprintf(b, cap, ", connections %llu (open %d, refused %llu), acks %llu, "
	    "bad requests %llu, chunks dropped %llu, heartbeats %llu",
	    (unsigned long long)c_accepted, nconns,
	    (unsigned long long)c_refused, (unsigned long long)c_acks,
	    (unsigned long long)c_bad, (unsigned long long)c_chunks_dropped,
	    (unsigned long long)c_heartbeats);
}

static void
add_allow(const char *arg)
{
	char *s = xstrdup(arg), *tok, *save = NULL;

	for (tok = strtok_r(s, ", ", &save); tok; tok = strtok_r(NULL, ", ",
	    &save)) {
		if (o.nallow == MAX_ALLOW)
			die(EX_USAGE, "more than %d --allow ranges", MAX_ALLOW);
		if (net_cidr_parse(tok, &o.allow[o.nallow++]) < 0)
			die(EX_USAGE, "bad address range '%s' for --allow", tok);
	}
	free(s);
}

static void
add_user(const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg)
		die(EX_USAGE, "--user wants NAME:PASSWORD, not '%s'", arg);
	if (o.nusers == MAX_USERS)
		die(EX_USAGE, "more than %d --user options", MAX_USERS);
	o.users[o.nusers].name = xstrndup(arg, colon - arg);
	o.users[o.nusers].pass = xstrdup(colon + 1);
	o.nusers++;
}

static long long
size_arg(const char *arg, const char *name)
{
	long long v = opt_size(arg);

	if (v <= 0)
		die(EX_USAGE, "bad size '%s' for --%s", arg, name);
	return v;
}

static void
options(int argc, char **argv)
{
	const char *arg;
	long long v;
	int c;

	while ((c = opt_next(argc, argv, opts, USAGE, ABOUT, &arg)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (o.nlisten == MAX_LISTEN)
				die(EX_USAGE, "more than %d --listen", MAX_LISTEN);
			o.listen[o.nlisten++] = arg;
			break;
		case O_UNIX: o.unix_path = arg; break;
		case O_PORT_FILE: o.port_file = arg; break;
		case O_NO_UDP: o.no_udp = 1; break;
		case O_SHARED_KEY: o.shared_key = arg; break;
		case O_USER: add_user(arg); break;
		case O_SELF_HOST: o.self_host = arg; break;
		case O_DENY_KEEPALIVE: o.deny_keepalive = 1; break;
		case O_ALLOW: add_allow(arg); break;
		case O_CHUNK_LIMIT:
			o.chunk_limit = size_arg(arg, "chunk-size-limit");
			break;
		case O_CHUNK_WARN:
			o.chunk_warn = size_arg(arg, "chunk-size-warn");
			break;
		case O_SKIP_INVALID: o.skip_invalid = 1; break;
		case O_SRC_HOST_KEY: o.src_host_key = arg; break;
		case O_SRC_ADDR_KEY: o.src_addr_key = arg; break;
		case O_TAG_PREFIX: o.tag_prefix = arg; break;
		case O_IDLE:
			if ((o.idle_ms = opt_duration_ms(arg)) < 0)
				die(EX_USAGE, "bad duration '%s' for "
				    "--idle-timeout", arg);
			break;
		case O_MAX_CONN:
			if ((v = opt_uint(arg)) <= 0 || v > 1000000)
				die(EX_USAGE, "bad number '%s' for "
				    "--max-connections", arg);
			o.max_conn = (int)v;
			break;
		case O_STATS: o.stats = 1; break;
		}
	}
	if (optind != argc)
		opt_usage(USAGE);
	if (o.nusers && !o.shared_key)
		die(EX_USAGE, "--user needs --shared-key (the handshake)");
	if (o.self_host && !o.shared_key)
		warn("--self-hostname is used only with --shared-key");
}

static void
shutdown_all(void)
{
	int i;

	for (i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	out_flush_try(&out);
	if (out_nb && out.b.len) {
		fcntl(1, F_SETFL, out_flags);
		out_flush(&out);
	}
	release_acks();
	while (conns) {
		if (conns->wb.len > conns->woff && conn_write(conns) < 0)
			continue;
		conn_free(conns);
	}
	if (out_nb)
		fcntl(1, F_SETFL, out_flags);
	if (o.unix_path)
		unlink(o.unix_path);
}

int
main(int argc, char **argv)
{
	int i;

	progname_set(argv[0]);
	options(argc, argv);
	sig_init();
	stats_init(sync_stats, extra_stats);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die(EX_SYS, "epoll_create1:");
	sig_item.fd = sig_fd();
	ep_add(&sig_item, EPOLLIN);
	setup_stdout();
	open_listeners();
	serve();
	shutdown_all();
	if (o.stats)
		stats_print();
	if (c_skipped)
		warn("skipped invalid data in %llu places (--skip-invalid-event)",
		    (unsigned long long)c_skipped);
	out_free(&out);
	buf_free(&tagb);
	buf_free(&recb);
	buf_free(&tmpb);
	for (i = 0; i < o.nusers; i++) {
		free(o.users[i].name);
		free(o.users[i].pass);
	}
	close(ep);
	return EX_OK;
}
