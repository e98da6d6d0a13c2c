/* net - socket helpers: split addresses, listen, connect, match CIDR */
#define _GNU_SOURCE             /* getaddrinfo_a */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net.h"

static int
copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* A port is 1 to 5 decimal digits, 0..65535: no sign, no service name. */
static int
port_ok(const char *s, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535;
}

static int
put_port(char *port, size_t pcap, const char *s, size_t n)
{
	if (!port_ok(s, n))
		return -1;
	return copy(port, pcap, s, n);
}

int
net_split(const char *s, const char *defhost, const char *defport, char *host,
    size_t hcap, char *port, size_t pcap)
{
	const char *colon, *h = s;
	size_t hl;

	if (*s == '[') {
		if (!(colon = strchr(s, ']')))
			return -1;
		h = s + 1;
		hl = colon - h;
		colon = colon[1] == ':' ? colon + 1 : NULL;
		if (!colon && s[hl + 2] != '\0')
			return -1;
	} else if ((colon = strrchr(s, ':')) && strchr(s, ':') != colon) {
		colon = NULL;   /* a bare IPv6 address */
		hl = strlen(s);
	} else if (!colon && strspn(s, "0123456789") == strlen(s) && *s) {
		return copy(host, hcap, defhost, strlen(defhost)) |
		    put_port(port, pcap, s, strlen(s));
	} else {
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0) {
		h = defhost;
		hl = strlen(defhost);
	}
	if (copy(host, hcap, h, hl) < 0)
		return -1;
	if (colon)
		return put_port(port, pcap, colon + 1, strlen(colon + 1));
	return put_port(port, pcap, defport, strlen(defport));
}

static void
fd_flags(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	net_nonblock(fd);
}

int
net_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
net_listen(const char *host, const char *port, int type, char *err,
    size_t errcap)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, one = 1, r, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE;
	if ((r = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		snprintf(err, errcap, "%s:%s: %s", host, port, gai_strerror(r));
		errno = EINVAL;
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    (type != SOCK_STREAM || listen(fd, 1024) == 0))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved ? saved : EADDRNOTAVAIL;
		snprintf(err, errcap, "%s:%s: %s", host, port, strerror(errno));
		return -1;
	}
	fd_flags(fd);
	return fd;
}

int
net_listen_unix(const char *path, char *err, size_t errcap)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errcap, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 1024) < 0) {
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fd_flags(fd);
	return fd;
}

int
net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int
net_connect(const char *host, const char *port, int type, int *pending,
    char *err, size_t errcap)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, r, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errcap, "%s:%s: %s", host, port, gai_strerror(r));
		errno = EHOSTUNREACH;
		return -1;
	}
	*pending = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0)
			continue;
		fd_flags(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			*pending = 1;
			break;
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		snprintf(err, errcap, "%s:%s: %s", host, port, strerror(saved));
	}
	return fd;
}

/* --- resolving without blocking ------------------------------------------ */

/*
 * A lookup: glibc's getaddrinfo_a runs it on its own thread, and the
 * caller polls.  A numeric address needs no lookup: its answer is here
 * at once.  A lookup abandoned while it runs cannot be freed (glibc
 * still writes to it): it waits on the list of orphans, freed once done.
 */
struct net_resolve {
	struct gaicb cb;
	struct addrinfo hints;
	struct addrinfo *now;   /* a numeric address, resolved at once */
	int numeric;
	struct net_resolve *next;       /* on the orphans' list */
	char host[256], port[32];
};

static struct net_resolve *orphans;

/* Frees the orphans whose lookups have ended. */
static void
orphans_reap(void)
{
	struct net_resolve **pp = &orphans, *r;

	while ((r = *pp)) {
		if (gai_error(&r->cb) == EAI_INPROGRESS) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (r->cb.ar_result)
			freeaddrinfo(r->cb.ar_result);
		free(r);
	}
}

struct net_resolve *
net_resolve_start(const char *host, const char *port, int type, char *err,
    size_t errcap)
{
	struct gaicb *list[1];
	struct net_resolve *r;
	int e;

	orphans_reap();
	if (strlen(host) >= sizeof(r->host) ||
	    strlen(port) >= sizeof(r->port) || !(r = calloc(1, sizeof(*r)))) {
		snprintf(err, errcap, "%s:%s: unable to resolve: %s", host,
		    port, strerror(ENOMEM));
		return NULL;
	}
	memcpy(r->host, host, strlen(host) + 1);
	memcpy(r->port, port, strlen(port) + 1);
	r->hints.ai_family = AF_UNSPEC;
	r->hints.ai_socktype = type;
	r->hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(host, port, &r->hints, &r->now) == 0) {
		r->numeric = 1;
		return r;
	}
	r->now = NULL;
	r->hints.ai_flags = 0;
	r->cb.ar_name = r->host;
	r->cb.ar_service = r->port;
	r->cb.ar_request = &r->hints;
	list[0] = &r->cb;
	if ((e = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		snprintf(err, errcap, "%s:%s: %s", host, port, gai_strerror(e));
		free(r);
		return NULL;
	}
	return r;
}

int
net_resolve_poll(struct net_resolve *r, struct addrinfo **res, char *err,
    size_t errcap)
{
	int e;

	if (r->numeric) {
		*res = r->now;
		r->now = NULL;
		r->numeric = 0;
		return *res ? 1 : -1;
	}
	if ((e = gai_error(&r->cb)) == EAI_INPROGRESS)
		return 0;
	if (e == 0 && r->cb.ar_result) {
		*res = r->cb.ar_result;
		r->cb.ar_result = NULL;
		return 1;
	}
	snprintf(err, errcap, "%s:%s: %s", r->host, r->port, e ?
	    gai_strerror(e) : "no address");
	return -1;
}

void
net_resolve_free(struct net_resolve *r)
{
	if (!r)
		return;
	if (r->now)
		freeaddrinfo(r->now);
	if (!r->numeric && r->cb.ar_name && gai_cancel(&r->cb) ==
	    EAI_NOTCANCELED) {
		r->next = orphans;      /* glibc still has it */
		orphans = r;
		return;
	}
	if (r->cb.ar_result)
		freeaddrinfo(r->cb.ar_result);
	free(r);
}

int
net_addr_count(const struct addrinfo *res)
{
	int n = 0;

	for (; res; res = res->ai_next)
		n++;
	return n;
}

int
net_connect_ai(const struct addrinfo *res, int first, int type, int *pending,
    char *addr, size_t addrcap, char *err, size_t errcap)
{
	const struct addrinfo *ai;
	int n = net_addr_count(res), i, k, fd, saved = EHOSTUNREACH;

	*pending = 0;
	if (addrcap)
		addr[0] = '\0';
	for (k = 0; k < n; k++) {
		for (ai = res, i = (first + k) % n; i > 0; i--)
			ai = ai->ai_next;
		net_addr_str(ai->ai_addr, addr, addrcap);
		if ((fd = socket(ai->ai_family, type, 0)) < 0) {
			saved = errno;
			continue;
		}
		fd_flags(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			return fd;
		if (errno == EINPROGRESS) {
			*pending = 1;
			return fd;
		}
		saved = errno;
		close(fd);
	}
	errno = saved;
	snprintf(err, errcap, "%s: %s", addr, strerror(saved));
	return -1;
}

int
net_connect_done(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return -1;
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

void
net_addr_str(const struct sockaddr *sa, char *buf, size_t cap)
{
	const void *a;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else {
		snprintf(buf, cap, "unix");
		return;
	}
	if (!inet_ntop(sa->sa_family, a, buf, cap))
		snprintf(buf, cap, "?");
}

int
net_cidr_parse(const char *s, struct net_cidr *c)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	long bits;

	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, ip, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, c->addr) == 1)
		c->family = AF_INET6;
	else
		return -1;
	c->bits = c->family == AF_INET ? 32 : 128;
	if (slash) {
		bits = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || bits < 0 || bits > c->bits)
			return -1;
		c->bits = (int)bits;
	}
	return 0;
}

static int
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (!rest)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int
net_cidr_match(const struct net_cidr *c, const struct sockaddr *sa)
{
	const unsigned char *a;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0xff, 0xff };

	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		return c->family == AF_INET && prefix_eq(a, c->addr, c->bits);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (c->family == AF_INET6)
		return prefix_eq(a, c->addr, c->bits);
	return memcmp(a, mapped, 12) == 0 && prefix_eq(a + 12, c->addr, c->bits);
}
