/* net - sockets for the network programs: addresses, listen, connect, CIDR */
#ifndef LKIT_NET_H
#define LKIT_NET_H

#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDR_MAX 64         /* "[ipv6]:port" text and a NUL */

/*
 * Splits "HOST:PORT", "[V6]:PORT", ":PORT", "PORT" or "HOST" into host and
 * port, filling in defhost / defport for a missing part.  0, or -1 if a
 * part does not fit, the brackets are unbalanced or the port is not a
 * decimal number from 0 to 65535 ("HOST:" with no port is refused too).
 */
int net_split(const char *s, const char *defhost, const char *defport,
    char *host, size_t hcap, char *port, size_t pcap);

/*
 * A non-blocking, close-on-exec socket of type (SOCK_STREAM, SOCK_DGRAM)
 * bound to host:port (and listening, for a stream).  -1 with errno and a
 * message in err on failure.
 */
int net_listen(const char *host, const char *port, int type, char *err,
    size_t errcap);

/* A listening unix stream socket at path (an old socket file is replaced). */
int net_listen_unix(const char *path, char *err, size_t errcap);

/* The local port a socket is bound to, or -1. */
int net_local_port(int fd);

/*
 * Starts a non-blocking connect of type to host:port (resolved with
 * getaddrinfo; the first address that takes).  Returns the fd, with
 * *pending 1 while the connect is in progress; -1 with err filled.
 */
int net_connect(const char *host, const char *port, int type, int *pending,
    char *err, size_t errcap);

/*
 * Resolving a name without blocking (getaddrinfo_a): start a lookup of
 * host:port for sockets of type, then poll it: 1 done with the addresses
 * in *res (free them with freeaddrinfo), 0 still running, -1 failed with
 * err filled.  A numeric address is done at once.  net_resolve_free ends
 * a lookup, done or not (glibc's thread may go on; its memory is freed
 * once it ends).  NULL from net_resolve_start: err says why.
 */
struct net_resolve;
struct addrinfo;
struct net_resolve *net_resolve_start(const char *host, const char *port,
    int type, char *err, size_t errcap);
int net_resolve_poll(struct net_resolve *r, struct addrinfo **res,
    char *err, size_t errcap);
void net_resolve_free(struct net_resolve *r);
int net_addr_count(const struct addrinfo *res);

/*
 * net_connect on addresses resolved already: a socket of type to the
 * first address of res that takes, starting with the one at index first
 * (modulo their count) and going round.  addr gets the address tried
 * last, as text.
 */
int net_connect_ai(const struct addrinfo *res, int first, int type,
    int *pending, char *addr, size_t addrcap, char *err, size_t errcap);

/* After a pending connect is writable: 0, or -1 with errno. */
int net_connect_done(int fd);

/* The IP address of sa as text ("127.0.0.1", "::1"), or "unix". */
void net_addr_str(const struct sockaddr *sa, char *buf, size_t cap);

int net_nonblock(int fd);

/* An address range: "10.0.0.0/8", "::1", "192.168.1.5". */
struct net_cidr {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

int net_cidr_parse(const char *s, struct net_cidr *c);
/* 1 if sa (IPv4, IPv6 or v4-mapped IPv6) lies in c. */
int net_cidr_match(const struct net_cidr *c, const struct sockaddr *sa);

#endif
