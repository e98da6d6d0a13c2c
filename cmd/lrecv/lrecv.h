/* lrecv.h - what lrecv's files share: the connection, the state, calls */
#ifndef LRECV_H
#define LRECV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "clock.h"
#include "fwd.h"
#include "http.h"
#include "mp.h"
#include "net.h"
#include "stream.h"
#include "tls.h"

#define MAX_LISTEN 8
#define MAX_USERS 32
#define MAX_SYSLOG 8             /* --syslog listeners */
#define NKIND 4
#define MAX_ALLOW 64
#define MAX_CLIENTS 64           /* --client */
#define HIGH_WATER (8u * 1024 * 1024)   /* stdout bytes held before pausing */
#define TRIM_BYTES (512u * 1024)        /* larger idle buffers are freed */

/*
 * Every descriptor epoll watches: a listener of each kind, a connection,
 * standard output, the signal pipe.
 */
enum { T_LISTEN, T_UNIX, T_UDP, T_HTTP, T_METRICS, T_CONN, T_STDOUT, T_SIG,
	T_MARK, T_SYSLOG, T_SYSLOG_TLS, T_SYSLOG_UDP };
enum { K_FWD, K_HTTP, K_METRICS, K_SYSLOG };   /* what it speaks */
#define K_TLS 0x100            /* conn_new: a syslog one starts with TLS */
enum { S_TLS, S_PING, S_DATA, S_CLOSING };
enum { M_UNKNOWN, M_MSGPACK, M_JSON };  /* what the first byte said */
enum {
	R_RAW = 1,      /* a reply queued as it is, not a Forward ack */
	R_E2E = 2       /* --end-to-end: it waits for a mark after its events */
};

/*
 * A reply waiting in conn.acks, before its bytes: it goes once the output
 * reaches pos (written to stdout, or with R_E2E delivered at the end of
 * the pipeline); an R_E2E one is given up at due.
 */
struct ackhead {
	uint64_t pos;
	long long due;
	uint32_t len;
	uint32_t flags;
};

/* Where a JSON value ends, in text that arrives piecewise. */
struct jscan {
	size_t pos;             /* the next byte to look at */
	size_t start;           /* the value's first byte, once started */
	int started, depth, str, esc, scalar;
};

/* What epoll hands back: the first member of each thing it watches. */
struct item {
	int type;
	int fd;
};

/*
 * A connection has one owner, the main loop: code that is done with one
 * marks it (conn_drop, conn_closing) and only the loop's reap() frees
 * it, between events, so no caller is left holding a freed connection.
 */
struct conn {
	struct item it;
	int kind;
	int state;
	int dead;               /* conn_drop: freed by the next reap */
	int on_todo;            /* on the todo list for the reap */
	int shut;               /* closing: our write side is shut */
	int eof;                /* the client sent its last byte */
	int got_data;
	uint32_t events;        /* epoll mask set */
	int mode;               /* M_MSGPACK or M_JSON, once known */
	struct reader *r;       /* msgpack requests (JSON ones converted) */
	SSL *ssl;
	struct buf tin;         /* the PING, read whole */
	struct buf hin;         /* HTTP: request bytes; syslog: messages */
	struct http_dechunker dc;       /* HTTP: the chunked body so far */
	size_t dc_from;         /* HTTP: where in hin that body starts */
	size_t hwant;           /* HTTP: bytes the request needs, if known;
				   syslog: bytes of a message to drop */
	int hchunked;           /* HTTP: waiting for a chunked body's end;
				   syslog: dropping a line to its end */
	int continued;          /* HTTP: 100 Continue sent for this request */
	struct buf jin;         /* JSON mode: text not yet converted */
	struct jscan js;
	struct mp_scan ms;      /* --skip-invalid-event: the request in jin */
	uint64_t jbase;         /* stream offset of jin.p[0] */
	uint64_t jval;          /* stream offset of the value being read */
	struct buf wb;          /* replies to send */
	size_t woff;
	struct buf acks;        /* pending: struct ackhead, then the bytes */
	size_t aoff;
	uint64_t want;          /* pos of the last R_E2E reply pending, or 0 */
	int in_ackq;
	int in_frame;
	uint64_t frame_off;
	unsigned char nonce[FWD_NONCE_LEN], auth[FWD_NONCE_LEN];
	struct sockaddr_storage sa;
	char addr[NET_ADDR_MAX];        /* ip only */
	char name[NET_ADDR_MAX + 16];   /* "client IP:PORT" for messages */
	char *hostname;                 /* resolved on first use */
	long long last, born, born_stall;
	long long req_start, req_stall; /* the request in progress began */
	uint64_t req_off;       /* ... at this offset (or request count) */
	uint64_t nreq;          /* HTTP requests answered */
	size_t mem;             /* bytes counted against --memory-limit */
	struct conn *prev, *next;
	struct conn *aprev, *anext;
	struct conn *tnext;     /* the todo list */
};

struct user {
	char *name;
	char *pass;
};

/* --client: Fluentd's <security><client>. */
struct client {
	struct net_cidr net;
	char *key;              /* shared_key=, or NULL: --shared-key's */
	char *users[MAX_USERS]; /* users=: the --user names allowed */
	int nusers;             /* 0: every --user */
};

/* The options (lrecv.c), set once before the loop starts. */
struct options {
	const char *listen[MAX_LISTEN];
	int nlisten;
	const char *unix_path, *port_file, *shared_key, *self_host;
	const char *tag_prefix, *src_host_key, *src_addr_key;
	const char *http, *metrics, *cors;
	struct tls_opts tls;    /* --cert, --key, --ca-file, ... */
	int http_tls, metrics_tls;     /* --http tls:..., --metrics tls:... */
	int add_headers, add_remote;
	int http_204, trust_xff, cors_cred;     /* --http-204 ... */
	size_t body_limit;
	struct user users[MAX_USERS];
	int nusers;
	struct net_cidr allow[MAX_ALLOW];
	int nallow;
	struct client clients[MAX_CLIENTS];
	int nclients, deny_anon;        /* --allow-anonymous-source no */
	size_t chunk_limit, chunk_warn, mem_limit;
	const char *syslog[MAX_SYSLOG];        /* tcp:HOST:PORT, udp:, tls: */
	int nsyslog;
	const char *syslog_tag;
	size_t syslog_max;
	int skip_invalid, stats, no_udp, deny_keepalive, max_conn, e2e;
	long long idle_ms, handshake_ms, request_ms, e2e_ms;
};
extern struct options o;

/* lrecv's counters beyond the common stats (metrics.c shows them). */
struct counts {
	uint64_t accepted, refused, acks, chunks_dropped, bad;
	uint64_t heartbeats, skipped, http_requests, http_errors;
	uint64_t e2e_expired;   /* replies given up: no mark came back */
	uint64_t syslog_msgs, syslog_bad;      /* syslog messages read, bad */
};
extern struct counts counts;

/* The open connections (conn.c). */
struct conn_set {
	struct conn *all;       /* every one */
	struct conn *ackq;      /* those with replies waiting on stdout */
	struct conn *todo;      /* those for the loop's next reap() */
	int n, nkind[NKIND];    /* how many, in all and of each kind */
	int kind_used[NKIND];   /* a listener of the kind is open */
	size_t mem;             /* what every connection holds */
};
extern struct conn_set conns;

/* The event loop and how standard output is waited on (loop.c). */
struct loop {
	int ep;                 /* the epoll descriptor */
	int out_nb;             /* stdout is a non-blocking pipe */
	int out_flags;          /* its flags before, restored at the end */
	int out_waiting;        /* EPOLLOUT armed on stdout */
	long long stalled_ms;   /* time spent waiting for stdout alone */
	long long last_flush;
	int accept_paused;      /* out of descriptors: listeners rest */
	long long accept_resume;        /* ... until then */
	int tls_more;           /* a TLS connection holds unread bytes */
};
extern struct loop loop;
extern struct out out;          /* standard output */

/*
 * Scratch buffers: they hold nothing from one event to the next, so every
 * connection shares them, and the sweep frees big ones once a second.
 */
struct scratch {
	struct buf tag;         /* conn_emit: the tag with --add-tag-prefix */
	struct buf rec;         /* a record rebuilt: source keys, no "time" */
	struct buf tmp;         /* a step towards rec; an HTTP response */
	struct buf json_mp;     /* Forward JSON mode: one value as msgpack */
	struct buf http_tag;    /* HTTP: the tag, from the path */
	struct buf records;     /* HTTP: the request's records, as msgpack */
	struct buf param;       /* HTTP: a json=, msgpack= or time= decoded */
	struct buf inflated;    /* HTTP: a gzip or deflate body inflated */
	struct buf dechunked;   /* HTTP: a chunked body, once whole */
	struct buf fields;      /* HTTP: a record with HTTP_* and REMOTE_ADDR */
};
extern struct scratch scratch;

/* conn.c: a connection's life, its I/O, TLS, the memory budget */
void conn_tls_init(void);
void conn_tls_end(void);
void conn_new(int, const struct sockaddr_storage *, int);
int conn_tls_accept(struct conn *);
ssize_t conn_io(struct conn *, char *, size_t, int);
void conn_read(struct conn *);
int conn_write(struct conn *);
void conn_settle(struct conn *);
void conn_emit(struct conn *, struct event *);
void conn_reply_after_flush(struct conn *, const char *, size_t, uint32_t);
void conn_ackq_remove(struct conn *);
void conn_acks_clear(struct conn *);
void conn_closing(struct conn *);
void conn_drop(struct conn *);
void conn_release(struct conn *);
void conn_free(struct conn *);
void conn_timers(struct conn *, long long);

/* forward.c: Forward input, the handshake, JSON mode, acks */
void fwd_in_helo(struct conn *);
void fwd_in_read(struct conn *);
void fwd_in_source_keys(struct conn *, const char **, size_t *);
void fwd_in_ack(struct conn *, const char *, size_t);

/* skip.c: --skip-invalid-event, bad entries dropped, their frame acked */
void skip_value(struct conn *, const char *, size_t);
int skip_in(struct conn *, int);

/* client.c: --client, --allow-anonymous-source */
void client_add(const char *);
void client_check(void);
const struct client *client_find(const struct sockaddr *);
int client_user_ok(const struct client *, const char *, size_t);
void client_free(void);

/* http_in.c: HTTP input */
void http_in_read(struct conn *);
void http_in_reply(struct conn *, int, const char *, int, const char *,
    size_t);

/* e2e.c: --end-to-end, marks after the events, replies held for them */
void e2e_init(void);
void e2e_free(void);
int e2e_fd(void);
void e2e_recv(void);
void e2e_mark(void);
int e2e_tick(void);
int e2e_busy(void);
int e2e_blocked(void);
int e2e_holding(void);
int e2e_ready(const struct ackhead *);
void e2e_stats(char *, size_t);

/* syslog_in.c: syslog input (Fluentd in_syslog) over TCP and UDP */
void syslog_in_read(struct conn *);
void syslog_in_udp(int);
void syslog_in_late(struct conn *);
void syslog_in_end(void);

/* metrics.c: the metrics endpoint and the counters */
void metrics_init(void);
void metrics_serve(struct conn *, const struct http_req *);
int metrics_healthy(void);
void metrics_stalled(int);

/* loop.c: listeners, accepting, the epoll loop, stdout, the sweep */
void loop_init(void);
void loop_stdout(void);
void loop_listen(void);
void loop_run(void);
void loop_end(void);
void loop_free(void);
void loop_out_write(void);
int loop_allowed(const struct sockaddr *);

#endif
