/* loop - lrecv's event loop: listeners, accepting, stdout, acks, the sweep */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "metrics.h"
#include "net.h"
#include "sig.h"
#include "stream.h"

#include "lrecv.h"

#define FLUSH_MS 5                      /* busy: stdout flushed this often */
#define ACCEPT_PAUSE_MS 1000            /* out of descriptors: stop accepting */
#define LOG_EVERY_MS 10000              /* repeated troubles: one line per */
#define E2E_TICK_MS 50                  /* --end-to-end: timers checked */

/* Every scratch buffer, for the sweep and the end. */
#define SCRATCH_BUFS &scratch.tag, &scratch.rec, &scratch.tmp, \
	&scratch.json_mp, &scratch.http_tag, &scratch.records, \
	&scratch.param, &scratch.inflated, &scratch.dechunked, &scratch.fields

/* A trouble that may repeat fast: said once, then counted. */
struct ratelog {
	long long at;           /* when it was last said */
	uint64_t n;             /* times since */
};

struct loop loop = { .ep = -1, .out_flags = -1 };
struct out out;
struct scratch scratch;

/* The listeners: TCP and UDP for each --listen, --unix, --http, --metrics. */
static struct {
	struct item it[MAX_LISTEN * 2 + 3 + MAX_SYSLOG];
	int n;
} listeners;
static struct item stdout_item = { T_STDOUT, 1 }, sig_item = { T_SIG, -1 };
static struct item mark_item = { T_MARK, -1 };
static struct ratelog rl_accept, rl_full;

/* Watches it for ev. */
static void
ep_add(struct item *it, uint32_t ev)
{
	struct epoll_event e;

	e.events = ev;
	e.data.ptr = it;
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, it->fd, &e) < 0)
		die(EX_SYS, "epoll_ctl:");
}

/*
 * Between events: frees dropped connections, and closing ones' input (the
 * todo list that conn_drop and conn_closing fill).
 */
static void
reap(void)
{
	struct conn *c;
	int freed = 0;

	while ((c = conns.todo)) {
		conns.todo = c->tnext;
		c->on_todo = 0;
		if (c->dead) {
			conn_free(c);
			freed = 1;
		} else if (c->state == S_CLOSING) {
			conn_release(c);
		}
	}
	if (freed && loop.accept_paused)
		loop.accept_resume = 0; /* descriptors came free: try now */
}

/*
 * 1 if a trouble that may repeat fast is to be said now: the first time,
 * then once per LOG_EVERY_MS, with *times the count since it was said.
 */
static int
ratelog_due(struct ratelog *rl, unsigned long long *times)
{
	long long now = clock_ms();

	rl->n++;
	if (rl->at && now - rl->at < LOG_EVERY_MS)
		return 0;
	*times = rl->n;
	rl->n = 0;
	rl->at = now;
	return 1;
}

/* Polls the listeners for new connections (on 1) or stops (on 0). */
static void
listeners_arm(int on)
{
	struct epoll_event e;
	int i;

	loop.accept_paused = !on;
	for (i = 0; i < listeners.n; i++) {
		if (listeners.it[i].type == T_UDP ||
		    listeners.it[i].type == T_SYSLOG_UDP)
			continue;
		e.events = on ? EPOLLIN : 0;
		e.data.ptr = &listeners.it[i];
		epoll_ctl(loop.ep, EPOLL_CTL_MOD, listeners.it[i].fd, &e);
	}
}

/*
 * Out of descriptors (or memory): accept(2) would fail at once again, so
 * the listeners rest until a connection closes or ACCEPT_PAUSE_MS pass.
 */
static void
accept_failed(int e)
{
	unsigned long long n;

	if (ratelog_due(&rl_accept, &n))
		warn("unable to accept a connection: %s (%llu time%s since the "
		    "last such message): not accepting for up to %d ms",
		    strerror(e), n, n == 1 ? "" : "s", ACCEPT_PAUSE_MS);
	listeners_arm(0);
	loop.accept_resume = clock_ms() + ACCEPT_PAUSE_MS;
}

/*
 * May one more connection of kind k open?  Each listener kind in use
 * keeps a tenth of --max-connections that the others cannot take.
 */
static int
room_for(int k)
{
	int j, need = 0, reserve = o.max_conn / 10;

	if (conns.n >= o.max_conn)
		return 0;
	for (j = 0; j < NKIND; j++)
		if (j != k && conns.kind_used[j] && conns.nkind[j] < reserve)
			need += reserve - conns.nkind[j];
	return conns.nkind[k] < reserve || o.max_conn - conns.n - 1 >= need;
}

/* Is the client at sa in --allow? */
int
loop_allowed(const struct sockaddr *sa)
{
	int i;

	if (!o.nallow || sa->sa_family == AF_UNIX)
		return 1;
	for (i = 0; i < o.nallow; i++)
		if (net_cidr_match(&o.allow[i], sa))
			return 1;
	return 0;
}

/* 1 if a new connection may stay; else it is closed and counted. */
static int
admit(int fd, const struct sockaddr_storage *sa, int kind)
{
	static const char *const names[] = { "Forward", "HTTP", "metrics",
		"syslog" };
	unsigned long long n;
	char a[NET_ADDR_MAX];

	if (!loop_allowed((const struct sockaddr *)sa)) {
		net_addr_str((const struct sockaddr *)sa, a, sizeof(a));
		warn("client %s: not in --allow, closed", a);
	} else if (!room_for(kind)) {
		if (ratelog_due(&rl_full, &n))
			warn("%d connections open, %d of them %s "
			    "(--max-connections %d, a tenth kept for each other "
			    "listener): new ones are closed (%llu since the last "
			    "such message)", conns.n, conns.nkind[kind],
			    names[kind], o.max_conn, n);
	} else {
		return 1;
	}
	counts.refused++;
	close(fd);
	return 0;
}

/* Accepts what connections are waiting on the listener l. */
static void
do_accept(struct item *l)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, i, kind = l->type == T_HTTP ? K_HTTP : l->type == T_METRICS ?
	    K_METRICS : l->type == T_SYSLOG || l->type == T_SYSLOG_TLS ?
	    K_SYSLOG : K_FWD;
	int tls = l->type == T_SYSLOG_TLS || (kind == K_HTTP && o.http_tls) ||
	    (kind == K_METRICS && o.metrics_tls);

	for (i = 0; i < 64 && !loop.accept_paused; i++) {
		len = sizeof(sa);
		fd = accept(l->fd, (struct sockaddr *)&sa, &len);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				accept_failed(errno);
			return;
		}
		if (l->type == T_UNIX)
			sa.ss_family = AF_UNIX;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		net_nonblock(fd);
		if (admit(fd, &sa, kind))
			conn_new(fd, &sa, kind | (tls ? K_TLS : 0));
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
		if (!loop_allowed((struct sockaddr *)&sa))
			continue;
		counts.heartbeats++;
		sendto(l->fd, "", 1, 0, (struct sockaddr *)&sa, len);
	}
}

/* Writes what stdout takes now, without waiting on a full pipe. */
void
loop_out_write(void)
{
	if (out.b.len && out_flush_try(&out) < 0) {
		if (errno == EPIPE)
			exit(128 + 13);
		if (errno != EAGAIN)
			die(EX_SYS, "unable to write stdout:");
	}
}

/* May the reply h go: are its events written (or delivered, R_E2E)? */
static int
ack_ready(const struct ackhead *h)
{
	if (h->flags & R_E2E)
		return e2e_ready(h);
	return h->pos <= out.bytes;
}

/* Sends the acks whose events are now written. */
static void
release_acks(void)
{
	struct conn *c, *next;
	struct ackhead h;
	const char *p;

	for (c = conns.ackq; c; c = next) {
		next = c->anext;
		while (c->aoff < c->acks.len) {
			memcpy(&h, c->acks.p + c->aoff, sizeof(h));
			if (!ack_ready(&h))
				break;
			p = c->acks.p + c->aoff + sizeof(h);
			if (h.flags & R_RAW) {
				buf_put(&c->wb, p, h.len);
			} else {
				fwd_in_ack(c, p, h.len);
				counts.acks++;
			}
			c->aoff += sizeof(h) + h.len;
		}
		if (c->aoff == c->acks.len) {
			c->aoff = c->acks.len = 0;
			conn_ackq_remove(c);
		}
		conn_settle(c);
	}
}

/* Writes what stdout can take; arms EPOLLOUT when a pipe is full. */
static void
flush_out(void)
{
	struct epoll_event e;

	loop.last_flush = clock_ms();
	e2e_mark();
	loop_out_write();
	release_acks();
	if (loop.out_nb && !!out.b.len != loop.out_waiting) {
		loop.out_waiting = !!out.b.len;
		e.events = loop.out_waiting ? EPOLLOUT : 0;
		e.data.ptr = &stdout_item;
		epoll_ctl(loop.ep, EPOLL_CTL_MOD, 1, &e);
	}
}

/*
 * Busy with other clients: is it time to write out what is held?  So one
 * connection that keeps epoll busy does not hold up the others' acks.
 */
static int
flush_due(void)
{
	return (out.b.len || conns.ackq) && !loop.out_waiting &&
	    clock_ms() - loop.last_flush >= FLUSH_MS;
}

/* Scratch buffers hold nothing between events: big ones go back. */
static void
scratch_trim(void)
{
	struct buf *b[] = { SCRATCH_BUFS };
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (b[i]->cap > TRIM_BYTES)
			buf_free(b[i]);
}

/* Deadlines, idle connections and lingering ones, once a second. */
static void
sweep(void)
{
	struct conn *c;
	long long now = clock_ms();

	for (c = conns.all; c; c = c->next)
		if (!c->dead)
			conn_timers(c, now);
	scratch_trim();
}

/* One event of epoll. */
static void
dispatch(struct item *it, uint32_t ev)
{
	struct conn *c;

	switch (it->type) {
	case T_LISTEN:
	case T_UNIX:
	case T_HTTP:
	case T_METRICS:
	case T_SYSLOG:
	case T_SYSLOG_TLS:
		do_accept(it);
		break;
	case T_SYSLOG_UDP:
		syslog_in_udp(it->fd);
		break;
	case T_UDP:
		do_udp(it);
		break;
	case T_SIG:
		sig_drain();
		sig_service();
		break;
	case T_STDOUT:
		/* the reader went away: as EPIPE does, but without a write */
		if ((ev & (EPOLLERR | EPOLLHUP)) && !out.b.len)
			exit(128 + 13);
		flush_out();
		break;
	case T_MARK:
		e2e_recv();
		flush_out();
		break;
	case T_CONN:
		c = (struct conn *)it;
		if (c->dead)
			return;
		if ((ev & (EPOLLHUP | EPOLLERR)) && c->eof) {
			conn_drop(c);   /* gone both ways: nothing to send to */
			return;
		}
		if ((ev & EPOLLOUT) && conn_write(c) < 0)
			return;
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c);
		else
			conn_settle(c);
		break;
	}
}

/*
 * The --metrics listener, or -1.  A tls: one is not served while stdout
 * is stalled: its clients wait in the backlog until stdout drains.
 */
static int
metrics_fd(void)
{
	int i;

	if (o.metrics_tls)
		return -1;
	for (i = 0; i < listeners.n; i++)
		if (listeners.it[i].type == T_METRICS)
			return listeners.it[i].fd;
	return -1;
}

/* While stdout is full: wait for it (and signals, and health checks) only. */
static void
wait_stdout(void)
{
	struct pollfd p[3];
	long long t = clock_ms();

	p[0].fd = sig_fd();
	p[0].events = POLLIN;
	p[1].fd = 1;
	p[1].events = POLLOUT;
	p[2].fd = metrics_fd();
	p[2].events = POLLIN;
	p[2].revents = 0;
	if (poll(p, 3, metrics_timeout(1000)) > 0 && p[0].revents) {
		sig_drain();
		sig_service();
	}
	if (p[2].revents)
		metrics_stalled(p[2].fd);       /* answered 503 at once */
	loop.stalled_ms += clock_ms() - t;     /* no client's fault */
	flush_out();
}

/*
 * --end-to-end, replies wait for a mark that cannot be made (as many are
 * out as may be): wait for marks to come back (and signals, stdout), and
 * read nothing from clients meanwhile.
 */
static void
wait_marks(void)
{
	struct pollfd p[3];
	long long t = clock_ms();
	int np = 2;

	p[0].fd = sig_fd();
	p[1].fd = e2e_fd();
	p[2].fd = 1;
	p[0].events = p[1].events = POLLIN;
	p[2].events = POLLOUT;
	p[0].revents = p[1].revents = p[2].revents = 0;
	if (loop.out_nb && out.b.len)
		np = 3;
	if (poll(p, np, E2E_TICK_MS) > 0 && p[0].revents) {
		sig_drain();
		sig_service();
	}
	if (p[1].revents)
		e2e_recv();
	loop.stalled_ms += clock_ms() - t;     /* no client's fault */
	e2e_tick();
	flush_out();
}

/* Reads again from TLS connections that stopped with bytes in hand. */
static void
tls_resume(void)
{
	struct conn *c;

	loop.tls_more = 0;
	for (c = conns.all; c; c = c->next)
		if (c->ssl && c->state == S_DATA && !c->eof)
			conn_read(c);
}

/*
 * How long epoll may sleep.  Replies held for marks (--end-to-end) do not
 * wake it: the marks' socket does, when they come back.
 */
static int
wait_ms(void)
{
	long long t;
	int most = e2e_busy() ? E2E_TICK_MS : 1000;

	if (((out.b.len || (conns.ackq && !o.e2e)) && !loop.out_waiting) ||
	    loop.tls_more)
		return 0;
	if (!loop.accept_paused)
		return most;
	t = loop.accept_resume - clock_ms();
	return t < 0 ? 0 : t > most ? most : (int)t;
}

/* The loop: events until a signal stops it. */
void
loop_run(void)
{
	struct epoll_event evs[256];
	long long last_sweep = clock_ms();
	int n, i;

	while (!sig_stop) {
		reap();
		if (loop.accept_paused && clock_ms() >= loop.accept_resume)
			listeners_arm(1);
		if (out.b.len >= OUT_BLOCK)
			flush_out();
		else if (conns.ackq)
			release_acks();         /* drain may have written */
		if (loop.out_nb && out.b.len >= HIGH_WATER) {
			wait_stdout();
			continue;
		}
		if (e2e_blocked()) {
			wait_marks();
			continue;
		}
		if (loop.tls_more)
			tls_resume();
		n = epoll_wait(loop.ep, evs, 256, metrics_timeout(wait_ms()));
		if (n < 0 && errno != EINTR)
			die(EX_SYS, "epoll_wait:");
		if (n <= 0 && (out.b.len || conns.ackq))
			flush_out();
		for (i = 0; i < n; i++) {
			dispatch(evs[i].data.ptr, evs[i].events);
			if (flush_due())
				flush_out();
		}
		if (clock_ms() - last_sweep >= 1000) {
			sweep();
			last_sweep = clock_ms();
		}
		if (e2e_tick())
			flush_out();
	}
	reap();
}

/*
 * The ports bound: the first --listen's, then "http N", "metrics N", and
 * "syslog-tcp N" or "syslog-udp N" for each --syslog in order.
 */
static void
write_port_file(int fwd, int http, int metrics, const int *sys)
{
	int i;
	FILE *f;
	char tmp[4096];
	int bad;

	snprintf(tmp, sizeof(tmp), "%s.tmp", o.port_file);
	if (!(f = fopen(tmp, "w")))
		die(EX_SYS, "unable to write %s:", tmp);
	bad = fwd >= 0 && fprintf(f, "%d\n", fwd) < 0;
	bad |= http >= 0 && fprintf(f, "http %d\n", http) < 0;
	bad |= metrics >= 0 && fprintf(f, "metrics %d\n", metrics) < 0;
	for (i = 0; i < o.nsyslog; i++)
		bad |= fprintf(f, "syslog-%.3s %d\n", o.syslog[i], sys[i]) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, o.port_file) < 0)
		die(EX_SYS, "unable to write %s:", o.port_file);
}

/* Watches the listener fd of the given type. */
static void
add_listener(int type, int fd)
{
	listeners.it[listeners.n].type = type;
	listeners.it[listeners.n].fd = fd;
	ep_add(&listeners.it[listeners.n], EPOLLIN);
	listeners.n++;
}

/* A TCP listener for HTTP; its port, or -1 without an address. */
static int
listen_http(const char *addr, const char *defport, int type)
{
	char host[256], port[32], err[512];
	int fd;

	if (!addr)
		return -1;
	if (net_split(addr, "0.0.0.0", defport, host, sizeof(host), port,
	    sizeof(port)) < 0)
		die(EX_USAGE, "bad address '%s'", addr);
	if ((fd = net_listen(host, port, SOCK_STREAM, err, sizeof(err))) < 0)
		die(EX_SYS, "unable to listen on %s", err);
	add_listener(type, fd);
	return net_local_port(fd);
}

/* A --syslog listener, "tcp:[HOST]:PORT", "udp:..." or "tls:..."; its port. */
static int
listen_syslog(const char *arg)
{
	char host[256], port[32], err[512];
	int fd, udp = strncmp(arg, "udp:", 4) == 0;
	int tls = strncmp(arg, "tls:", 4) == 0;

	if (net_split(arg + 4, "0.0.0.0", tls ? "6514" : "514", host,
	    sizeof(host), port, sizeof(port)) < 0)
		die(EX_USAGE, "bad address '%s' for --syslog", arg);
	if ((fd = net_listen(host, port, udp ? SOCK_DGRAM : SOCK_STREAM, err,
	    sizeof(err))) < 0)
		die(EX_SYS, "unable to listen on %s%s", udp ? "UDP " : "", err);
	add_listener(udp ? T_SYSLOG_UDP : tls ? T_SYSLOG_TLS : T_SYSLOG, fd);
	return net_local_port(fd);
}

/* Opens every listener the options ask for; writes --port-file. */
void
loop_listen(void)
{
	char host[256], port[32], err[512];
	int i, fd, p, fwd_port = -1, http_port, metrics_port;
	int sys[MAX_SYSLOG];

	for (i = 0; i < o.nlisten; i++) {
		if (net_split(o.listen[i], "0.0.0.0", "24224", host,
		    sizeof(host), port, sizeof(port)) < 0)
			die(EX_USAGE, "bad address '%s' for --listen", o.listen[i]);
		if ((fd = net_listen(host, port, SOCK_STREAM, err,
		    sizeof(err))) < 0)
			die(EX_SYS, "unable to listen on %s", err);
		add_listener(T_LISTEN, fd);
		p = net_local_port(fd);
		if (i == 0)
			fwd_port = p;
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
	http_port = listen_http(o.http, "9880", T_HTTP);
	metrics_port = listen_http(o.metrics, "24231", T_METRICS);
	for (i = 0; i < o.nsyslog; i++)
		sys[i] = listen_syslog(o.syslog[i]);
	if (o.port_file)
		write_port_file(fwd_port, http_port, metrics_port, sys);
}

/* Standard output; a pipe or socket is written without blocking. */
void
loop_stdout(void)
{
	struct stat st;
	struct epoll_event e;

	out_init(&out, 1, "stdout");
	if (fstat(1, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	loop.out_flags = fcntl(1, F_GETFL);
	if (loop.out_flags < 0 ||
	    fcntl(1, F_SETFL, loop.out_flags | O_NONBLOCK) < 0)
		return;
	loop.out_nb = 1;
	e.events = 0;
	e.data.ptr = &stdout_item;
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, 1, &e) < 0)
		die(EX_SYS, "epoll_ctl stdout:");
}

/*
 * Stopped with --end-to-end: the replies held wait for their marks to
 * come back, or their --end-to-end-timeout (a second signal kills).
 * stdout blocks by now.
 */
static void
e2e_drain(void)
{
	struct pollfd p[2];

	for (;;) {
		e2e_mark();
		if (out.b.len)
			out_flush(&out);
		release_acks();
		if (!e2e_holding())
			break;
		p[0].fd = sig_fd();
		p[1].fd = e2e_fd();
		p[0].events = p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, E2E_TICK_MS) > 0 && p[0].revents) {
			sig_drain();
			sig_service();
		}
		if (p[1].revents)
			e2e_recv();
		e2e_tick();
	}
}

/* Stopped: stdout written out, the last acks sent, every connection closed. */
void
loop_end(void)
{
	struct conn *c;
	int i;

	for (i = 0; i < listeners.n; i++)
		close(listeners.it[i].fd);
	out_flush_try(&out);
	if (loop.out_nb && (out.b.len || o.e2e)) {
		fcntl(1, F_SETFL, loop.out_flags);
		out_flush(&out);
	}
	if (o.e2e)
		e2e_drain();
	release_acks();
	reap();
	for (c = conns.all; c; c = c->next)
		if (c->wb.len > c->woff)
			conn_write(c);
	while (conns.all)
		conn_free(conns.all);
	conns.todo = NULL;
	if (loop.out_nb)
		fcntl(1, F_SETFL, loop.out_flags);
	if (o.unix_path)
		unlink(o.unix_path);
}

/* Before anything is watched: epoll, and the signals. */
void
loop_init(void)
{
	if ((loop.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die(EX_SYS, "epoll_create1:");
	sig_item.fd = sig_fd();
	ep_add(&sig_item, EPOLLIN);
	if ((mark_item.fd = e2e_fd()) >= 0)
		ep_add(&mark_item, EPOLLIN);
}

/* At the very end: what the loop kept. */
void
loop_free(void)
{
	struct buf *b[] = { SCRATCH_BUFS };
	size_t i;

	out_free(&out);
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		buf_free(b[i]);
	close(loop.ep);
}
