/* lforward.h - what lforward's files share: requests, servers, the state */
#ifndef LFORWARD_H
#define LFORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "clock.h"
#include "fwd.h"
#include "hash.h"
#include "retry.h"
#include "stream.h"
#include "tls.h"

#define MAX_NODES 64
#define INFLIGHT 4              /* requests sent and not yet acked, per node */
#define POOL_BUFS (INFLIGHT + 4)        /* spent requests keeping memory */
#define VNODES 160              /* points per server on the hash ring */
#define SAMPLES 1000            /* heartbeat gaps kept by the detector */
#define REPLY_MAX 4096
#define ENTRY_HEAD 16           /* an entry's bytes beyond its record */
#define OPTION_MAX 80           /* {"size", "compressed", "chunk"} */
#define NSLOTS 256              /* the open requests' hash table */

enum { HB_TRANSPORT, HB_UDP, HB_NONE };
enum { HB_HELO = 1, HB_PONG };    /* a heartbeat's Forward handshake */

/* The options (lforward.c), set once before the loop starts. */
struct options {
	int ack, compress, time_int, hb, keepalive, tls;
	long long ack_ms, flush_ms, hb_ms, hard_ms, recover_ms, connect_ms;
	struct retry retry;
	long long send_ms, shutdown_ms;
	size_t chunk_size, buffer_limit;
	uint64_t chunk_records;
	double phi;
	const char *secondary, *hash_key, *shared_key, *self_host;
	const char *username, *password;
	struct tls_opts tlsopt; /* with --tls */
	int dns_rr;             /* --dns-round-robin */
	const char *lbuffer_chunk;      /* run by lbuffer: its chunk's id */
};
extern struct options o;

/* A request: a PackedForward message for one tag, open then sealed. */
struct chunk {
	struct buf req;         /* head, entries, then the option map */
	char *tag;
	size_t tag_len, head;   /* head: bytes before the entries */
	uint64_t n;             /* events */
	uint64_t seq;           /* order of sealing, from 1 (for marks) */
	char id[FWD_CHUNK_LEN];
	int node;               /* hash balancing: the server it belongs to */
	uint32_t hash;
	int fails, on_secondary;
	long long opened, first_fail;
	long long retry_at;     /* waiting with no server: failed again then */
	struct chunk *next;     /* in a queue, the open table or the pool */
};

struct queue {
	struct chunk *head, *tail;
	size_t n;
};

enum { N_DOWN, N_IDLE, N_CONNECTING, N_TLS, N_HELO, N_PONG, N_READY,
	N_CLOSING, N_RESOLVING };

/* A server, its connection and its heartbeats. */
struct node {
	char host[256], port[32], name[300];
	int weight, standby, secondary;
	int unix_path;          /* host is the path of a unix socket */
	char tls_name[256];     /* ,name=: TLS verify name and label, or "" */
	char *shared_key, *username, *password; /* per server, or NULL */
	/* the name's addresses: a lookup under way, the last answer */
	struct net_resolve *lookup;
	struct addrinfo *addrs;
	int lookup_failed;      /* the last lookup failed: lookup_err says */
	char lookup_err[320];
	unsigned rr;            /* --dns-round-robin: the next address */
	int available;
	int state, fd;
	SSL *ssl;
	long long deadline;     /* of the current step (connect, send, ack) */
	long long retry_at;     /* down without heartbeats: try again then */
	int fails;              /* consecutive failures */
	struct queue q;         /* assigned, not yet sent */
	struct chunk *flight[INFLIGHT]; /* sent or being sent, oldest first */
	int nflight;
	size_t woff;            /* bytes of flight[nflight-1] written */
	int writing;            /* flight[nflight-1] not written whole yet */
	struct buf rb;          /* replies read */
	struct buf hs;          /* handshake bytes to send */
	unsigned char nonce[FWD_NONCE_LEN];
	char salt[FWD_SALT_LEN + 1];
	int cw;                 /* smooth weighted round robin */
	/* heartbeats and the phi accrual failure detector */
	int hb_fd, hb_pending;  /* hb_pending: its connect is under way */
	SSL *hb_ssl;            /* --tls: the heartbeat's handshake */
	int hb_linger;          /* done; awaiting the server's close */
	int hb_hs;              /* shared key: HB_HELO, HB_PONG, or 0 */
	short hb_want;          /* its handshake waits for this */
	struct buf hb_rb, hb_wb;        /* its handshake: read, to send */
	long long hb_next, hb_sent;
	double last_hb;
	uint32_t gaps[SAMPLES];
	int ngaps, gfirst;
	uint64_t sent_events, requests;
};

/* The servers (lforward.c parses them; chunk.c builds the ring). */
struct servers {
	struct node nodes[MAX_NODES + 1];
	int n;                  /* regular and standby; the secondary after */
	struct node *sec;       /* &nodes[MAX_NODES] with --secondary */
	struct { uint32_t h; int node; } *ring;
	int nring;
};
extern struct servers srv;

/* The requests held, open or sealed (chunk.c). */
struct requests {
	struct chunk *open[NSLOTS];     /* taking events, by tag and server */
	struct queue pending;   /* sealed, waiting for a server */
	struct chunk *pool;     /* spent, for reuse */
	int npool;              /* in the pool with a buffer */
	struct buf gzb;         /* gzip output */
	struct buf spare;       /* a gzipped request's first buffer */
	size_t held;            /* bytes in requests, open or sealed */
	uint64_t sealed;        /* requests sealed: the last one's seq */
};
extern struct requests rq;

/* Standard input (intake.c). */
struct intake {
	struct reader *rd;
	int eof;                /* no more is read: its end, an error, a stop */
	int code;               /* how it ended: 0, EX_DATA or EX_SYS */
};
extern struct intake intake;

/* What became of the events: the exit status, --stats (lforward.c). */
struct counts {
	uint64_t in, done, lost;        /* events read, delivered, given up */
	uint64_t requests, retried;     /* requests delivered, failures */
};
extern struct counts cnt;

static inline double
now_s(void)
{
	return clock_ms() / 1000.0;
}

/* metrics.c: the ack latency (node.c calls these) */
void metrics_fwd_sent(const struct chunk *);
void metrics_fwd_acked(const struct chunk *);

/* chunk.c: requests: queues, sealing, choosing a server, retries */
void chunk_push(struct queue *, struct chunk *);
struct chunk *chunk_pop(struct queue *);
struct chunk *chunk_new(const char *, size_t, int, uint32_t);
void chunk_seal(struct chunk *);
void chunk_seal_all(int);
void chunk_ring_build(void);
int chunk_pick_hash(uint32_t, int);
void chunk_assign(void);
void chunk_requeue(struct queue *);
void chunk_failed(struct chunk *);
void chunk_lost(struct chunk *, const char *);
void chunk_delivered(struct node *, struct chunk *);
void chunk_expire(void);
void chunk_free_all(void);

/* node.c: a server: connection, TLS, handshake, sending, heartbeats */
void node_init(void);
void node_end(void);
int node_usable(const struct node *);
short node_poll_events(const struct node *);
void node_io(struct node *, short);
void node_timers(struct node *);
void node_close(struct node *);
void node_watch(struct node *, long long);
void node_hb_io(struct node *, short);
short node_hb_events(const struct node *);
void node_hb_close(struct node *);
void node_free(struct node *);

/* intake.c: standard input into open requests; marks returned */
void intake_init(void);
void intake_read(void);
void intake_end(int);
void intake_delivered(uint64_t);
void intake_lost(uint64_t);
void intake_marks_return(void);

#endif
