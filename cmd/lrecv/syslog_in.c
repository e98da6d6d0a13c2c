/* syslog_in - lrecv's syslog input (Fluentd in_syslog): TCP and UDP */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "parse_syslog.h"
#include "rec.h"
#include "stats.h"
#include "timefmt.h"

#include "lrecv.h"
#include "syslog_frame.h"

#define TF_3164 "%b %d %H:%M:%S"
#define TF_5424 "%Y-%m-%dT%H:%M:%S.%N%z"
#define TF_5424_NOSUB "%Y-%m-%dT%H:%M:%S%z"
#define MAX_PRI 191             /* facility 23, severity 7 */
#define TLS_READS 8             /* reads in a row from a TLS connection */

static const char *const facilities[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "at",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6",
	"local7"
};
static const char *const severities[8] = {
	"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"
};
static const struct syslog_opts so3164 = { 1, 3, 1, 1 };
static const struct syslog_opts so5424 = { 1, 1, 0, 0 };

static struct {
	struct pfields pf;
	struct timefmt *tf3164, *tf5424, *tf5424s;
	struct buf tag;
	char *dgram;            /* a UDP datagram */
} sl;

/* ^<[0-9]{1,3}>[1-9]: Fluentd's message_format auto takes it for 5424. */
static int
looks_5424(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 4 || s[0] != '<')
		return 0;
	while (i < n && i < 4 && s[i] >= '0' && s[i] <= '9')
		i++;
	return i > 1 && i + 1 < n && s[i] == '>' && s[i + 1] >= '1' &&
	    s[i + 1] <= '9';
}

/* A bad message: counted, said (the first few times per connection). */
static void
bad(struct conn *c, const char *what, size_t n)
{
	counts.syslog_bad++;
	counts.bad++;
	stats.dropped++;
	if (counts.syslog_bad <= 10 || (counts.syslog_bad & 1023) == 0)
		warn("%s: syslog message of %zu bytes dropped: %s (%llu so "
		    "far)", c->name, n, what,
		    (unsigned long long)counts.syslog_bad);
}

/* The time of the message, if its text reads; else the receive time. */
static void
msg_time(int is5424, const char *t, size_t tlen, int64_t *sec,
    uint32_t *nsec)
{
	const char *err;

	*sec = 0;
	*nsec = 0;
	if (!sl.tf3164) {
		sl.tf3164 = timefmt_new(TF_3164, NULL, &err);
		sl.tf5424 = timefmt_new(TF_5424, NULL, &err);
		sl.tf5424s = timefmt_new(TF_5424_NOSUB, NULL, &err);
		if (!sl.tf3164 || !sl.tf5424 || !sl.tf5424s)
			die(EX_SYS, "unable to set up syslog time formats: %s",
			    err);
	}
	if (is5424) {
		if (timefmt_parse(sl.tf5424, t, tlen, sec, nsec) < 0 &&
		    timefmt_parse(sl.tf5424s, t, tlen, sec, nsec) < 0)
			*sec = *nsec = 0;
	} else if (timefmt_parse(sl.tf3164, t, tlen, sec, nsec) < 0) {
		*sec = *nsec = 0;
	}
}

/* The record: the parsed fields, facility, severity, source_address. */
static void
msg_record(struct conn *c, long pri)
{
	struct buf *b = &scratch.rec;
	struct pfield *f;
	struct rec r;
	size_t i;

	b->len = 0;
	rec_begin(&r, b);
	for (i = 0; i < sl.pf.n; i++) {
		f = &sl.pf.f[i];
		if (f->kind == PK_STR) {
			rec_str(&r, f->k, f->klen, f->v, f->vlen);
		} else if (f->kind == PK_INT) {
			rec_key(&r, f->k, f->klen);
			if (f->i < 128) {
				buf_putc(b, (char)f->i);
			} else {
				buf_putc(b, (char)0xcc);
				buf_putc(b, (char)f->i);
			}
		}
	}
	rec_str(&r, "facility", 8, facilities[pri >> 3],
	    strlen(facilities[pri >> 3]));
	rec_str(&r, "severity", 8, severities[pri & 7],
	    strlen(severities[pri & 7]));
	if (!o.src_addr_key)
		rec_str(&r, "source_address", 14, c->addr, strlen(c->addr));
	rec_end(&r);
}

/* One message, s[0..n), from c: an event, or counted as bad. */
static void
syslog_msg(struct conn *c, const char *s, size_t n)
{
	struct event ev;
	const char *t = NULL, *why = NULL;
	size_t tlen = 0, i;
	long pri = -1;
	int is5424 = looks_5424(s, n), r;

	pfields_reset(&sl.pf, n);
	r = is5424 ? parse_syslog_5424(&sl.pf, s, n, &so5424, &t, &tlen,
	    &why) : parse_syslog_3164(&sl.pf, s, n, &so3164, &t, &tlen, &why);
	if (r < 0) {
		bad(c, why ? why : "not a syslog message", n);
		return;
	}
	for (i = 0; i < sl.pf.n; i++)
		if (sl.pf.f[i].kind == PK_INT && sl.pf.f[i].klen == 3 &&
		    memcmp(sl.pf.f[i].k, "pri", 3) == 0)
			pri = (long)sl.pf.f[i].i;
	if (pri < 0 || pri > MAX_PRI) {
		bad(c, "priority out of range", n);
		return;
	}
	msg_record(c, pri);
	sl.tag.len = 0;
	buf_puts(&sl.tag, o.syslog_tag);
	buf_putc(&sl.tag, '.');
	buf_puts(&sl.tag, facilities[pri >> 3]);
	buf_putc(&sl.tag, '.');
	buf_puts(&sl.tag, severities[pri & 7]);
	ev.tag = sl.tag.p;
	ev.tag_len = sl.tag.len;
	msg_time(is5424, t, tlen, &ev.sec, &ev.nsec);
	ev.rec = scratch.rec.p;
	ev.rec_len = scratch.rec.len;
	counts.syslog_msgs++;
	conn_emit(c, &ev);
}

/* The whole frames in c->hin: events; what is left waits. */
static void
drain(struct conn *c)
{
	const char *p = c->hin.p, *q;
	size_t n = c->hin.len, off = 0, k;
	struct sframe f;

	while (off < n && c->state != S_CLOSING) {
		if (c->hwant) {
			k = n - off < c->hwant ? n - off : c->hwant;
			off += k;
			c->hwant -= k;
			continue;
		}
		if (c->hchunked) {
			if (!(q = memchr(p + off, '\n', n - off))) {
				off = n;
				break;
			}
			off = (size_t)(q - p) + 1;
			c->hchunked = 0;
			continue;
		}
		switch (syslog_frame(p + off, n - off, o.syslog_max, &f)) {
		case SF_SHORT:
			goto out;
		case SF_MSG:
			if (f.len)
				syslog_msg(c, p + off + f.off, f.len);
			off += f.used;
			c->nreq++;
			break;
		case SF_SKIP:
			bad(c, "larger than --syslog-max-size, skipped",
			    f.skip);
			off += f.used;
			c->hwant = f.skip;
			c->nreq++;
			break;
		case SF_LONG:
			bad(c, "a line longer than --syslog-max-size, skipped",
			    o.syslog_max);
			c->hchunked = 1;
			c->nreq++;
			break;
		default:
			bad(c, "bad octet count: closing", n - off);
			off = n;
			conn_closing(c);
			break;
		}
	}
out:
	memmove(c->hin.p, c->hin.p + off, n - off);
	c->hin.len = n - off;
}

/* At the client's end: a last line without its newline is a message. */
static void
at_eof(struct conn *c)
{
	size_t n = c->hin.len;

	c->eof = 1;
	if (!n || c->hwant || c->hchunked)
		return;
	if (c->hin.p[0] >= '1' && c->hin.p[0] <= '9')
		bad(c, "connection closed inside the message", n);
	else
		syslog_msg(c, c->hin.p, parse_chomp(c->hin.p, n));
	c->hin.len = 0;
}

/* One read: 1 if bytes came, 0 if none now or the end, -1 dropped. */
static int
read_once(struct conn *c)
{
	ssize_t n;

	buf_reserve(&c->hin, 64 * 1024);
	n = conn_io(c, c->hin.p + c->hin.len, c->hin.cap - c->hin.len, 0);
	if (n == -1)
		return 0;
	if (n == -2) {
		conn_drop(c);
		return -1;
	}
	if (n == 0) {
		at_eof(c);
		return 0;
	}
	c->hin.len += n;
	c->got_data = 1;
	c->last = clock_ms();
	stats.bytes_in += n;
	drain(c);
	return 1;
}

/* A syslog connection can be read: TLS handshake (tls:), then messages. */
void
syslog_in_read(struct conn *c)
{
	int i, r;

	if (c->state == S_TLS && (r = conn_tls_accept(c)) != 0) {
		if (r < 0)
			conn_drop(c);
		return;
	}
	/* TLS may hold decrypted bytes epoll knows nothing of: read on */
	for (i = 0; i < (c->ssl ? TLS_READS : 1); i++) {
		if ((r = read_once(c)) < 0)
			return;
		if (r == 0 || c->state != S_DATA || c->eof ||
		    out.b.len >= HIGH_WATER)
			break;
	}
	if (c->ssl && c->state == S_DATA && !c->eof && (r > 0 ||
	    SSL_pending(c->ssl)))
		loop.tls_more = 1;      /* stopped with bytes in hand */
}

/* --request-timeout: a partial message waited too long. */
void
syslog_in_late(struct conn *c)
{
	bad(c, "not whole within --request-timeout: closing", c->hin.len);
	c->hin.len = 0;
	conn_closing(c);
}

/* The datagrams waiting on the UDP socket fd: one message each. */
void
syslog_in_udp(int fd)
{
	struct conn c;
	socklen_t len;
	ssize_t n;
	int i;

	if (!sl.dgram)
		sl.dgram = xmalloc(o.syslog_max + 1);
	memset(&c, 0, sizeof(c));
	c.kind = K_SYSLOG;
	for (i = 0; i < 64; i++) {
		len = sizeof(c.sa);
		n = recvfrom(fd, sl.dgram, o.syslog_max + 1, MSG_TRUNC,
		    (struct sockaddr *)&c.sa, &len);
		if (n < 0)
			break;
		if (!loop_allowed((struct sockaddr *)&c.sa))
			continue;
		stats.bytes_in += n;
		net_addr_str((struct sockaddr *)&c.sa, c.addr, sizeof(c.addr));
		snprintf(c.name, sizeof(c.name), "UDP client %s", c.addr);
		if ((size_t)n > o.syslog_max)
			bad(&c, "larger than --syslog-max-size", n);
		else if (n > 0)
			syslog_msg(&c, sl.dgram, parse_chomp(sl.dgram, n));
		free(c.hostname);
		c.hostname = NULL;
	}
}

/* At exit: what was kept, and the count of bad messages said. */
void
syslog_in_end(void)
{
	if (counts.syslog_bad)
		warn("dropped %llu bad syslog message%s",
		    (unsigned long long)counts.syslog_bad,
		    counts.syslog_bad == 1 ? "" : "s");
	pfields_free(&sl.pf);
	if (sl.tf3164)
		timefmt_free(sl.tf3164);
	if (sl.tf5424)
		timefmt_free(sl.tf5424);
	if (sl.tf5424s)
		timefmt_free(sl.tf5424s);
	buf_free(&sl.tag);
	free(sl.dgram);
}
