/* lhttp.h - what lhttp's files share: options, batches, counts */
#ifndef LHTTP_H
#define LHTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "inject.h"
#include "retry.h"
#include "stream.h"
#include "tls.h"

#define MAX_WORKERS 64
#define RESP_KEEP 1024                  /* response bytes kept for messages */
#define BULK_RESP_MAX (64u << 20)       /* a bulk response read whole */
#define DEAD_KEY "lhttp_error"          /* the reason in a dead letter */

enum format { F_NDJSON, F_JSON, F_MSGPACK, F_ES };

/* The options (lhttp.c), set once before the loop starts. */
struct options {
	const char *url;
	char *shown;            /* the URL for messages: no password */
	enum format format;
	size_t batch_size;
	uint64_t batch_records;         /* 0: no limit */
	long long flush_ms, timeout_ms, connect_ms, shutdown_ms;
	struct retry retry;
	int gzip, workers, put;
	int time_type_set;
	const char *user, *bearer, *bearer_file;
	struct tls_opts tls;    /* for curl: min_version 0 or 1.3 */
	char tls_pass[1024];    /* --tls-key-passphrase-file's line */
	struct inject inject;   /* --time-key, --tag-key, --time-type */
	const char *time_format, *tz;
	const char *index, *id_key, *pipeline, *dead_letter;
	const char **headers;           /* --header, in order */
	size_t nheaders;
};
extern struct options o;

/* One event of a batch: its tag, then its record, at off in the batch's ev. */
struct item {
	size_t off, tag_len, rec_len;
	int64_t sec;
	uint32_t nsec;
};

/* A request: its events, kept until the server took them, and its body. */
struct batch {
	struct buf ev;          /* the events' tags and records */
	struct item *it;
	size_t n, cap;
	struct buf body;        /* what is sent (gzip'd with --compress) */
	size_t raw_len;         /* the body's length before gzip */
	uint64_t seq;           /* order of sealing, from 1 (for marks) */
	int fails;
	long long opened, first_fail;
	struct batch *next;
};

struct queue {
	struct batch *head, *tail;
	size_t n;
};

/* What became of the events: the exit status, --stats. */
struct counts {
	uint64_t in;            /* events read */
	uint64_t done;          /* accepted by the server */
	uint64_t dead;          /* rejected, written to --dead-letter */
	uint64_t rejected;      /* rejected, with no --dead-letter: lost */
	uint64_t lost;          /* given up: retries exhausted, or at exit */
	uint64_t requests, retried, bytes;      /* requests answered 2xx */
};
extern struct counts cnt;

/* The batches held (batch.c). */
struct batches {
	struct batch *open;     /* taking events */
	struct queue ready;     /* sealed, waiting for a worker */
	uint64_t sealed;        /* batches sealed: the last one's seq */
	long long pause_until;  /* after a failure: no request before then */
	int fails;              /* consecutive failures, for the wait */
};
extern struct batches bt;

/* The event of item i of b, its pointers into b's bytes. */
static inline void
batch_event(const struct batch *b, size_t i, struct event *ev)
{
	const struct item *it = &b->it[i];

	ev->tag = b->ev.p + it->off;
	ev->tag_len = it->tag_len;
	ev->rec = ev->tag + it->tag_len;
	ev->rec_len = it->rec_len;
	ev->sec = it->sec;
	ev->nsec = it->nsec;
}

/* metrics.c: xfer.c calls it with the easy handle answered */
void metrics_http_answered(void *);

/* batch.c: batches: filling, sealing, queues, what became of them */
void batch_add(const struct event *);
void batch_seal_open(void);
void batch_seal_old(long long);
struct batch *batch_next_ready(long long);
size_t batch_held(void);
uint64_t batch_low(void);
void batch_accepted(struct batch *);
void batch_failed(struct batch *, const char *);
void batch_lost(struct batch *, const char *);
void batch_rejected(struct batch *, int, const char *, size_t);
void batch_bulk(struct batch *, const char *, size_t);
void batch_lose_all(const char *);
void batch_free_all(void);
void batch_msg_text(char *, size_t, const char *, size_t);

/* format.c: request bodies, the records' added keys, the --index names */
void format_init(void);
void format_end(void);
void format_begin(struct buf *);
void format_event(struct buf *, size_t, const struct event *);
void format_finish(struct buf *, size_t);
size_t format_tail(void);
const char *format_content_type(void);

/* xfer.c: the requests, through libcurl's multi interface */
void xfer_init(void);
void xfer_end(void);
int xfer_idle_slots(void);
int xfer_busy(void);
void xfer_start(struct batch *);
int xfer_wait(int, int);
void xfer_run(void);
void xfer_reload(void);
void xfer_lose_all(void);
uint64_t xfer_low(void);

/* dead.c: --dead-letter: rejected events, with the server's reason */
void dead_init(void);
void dead_end(void);
void dead_reopen(void);
void dead_add(const struct event *, int, const char *, size_t, const char *,
    size_t);
int dead_commit(void);
void dead_discard(void);

/* intake.c: standard input into batches; marks returned */
struct intake {
	struct reader *rd;
	int eof;                /* no more is read: its end, an error, a stop */
	int code;               /* how it ended: 0, EX_DATA or EX_SYS */
};
extern struct intake intake;

void intake_init(void);
void intake_read(void);
void intake_end(int);
void intake_lost(uint64_t);
void intake_marks(void);

#endif
