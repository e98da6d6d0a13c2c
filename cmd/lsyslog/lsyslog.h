/* lsyslog.h - what lsyslog's files share: options, the queue, the counts */
#ifndef LSYSLOG_H
#define LSYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "retry.h"
#include "stream.h"
#include "tls.h"

enum proto { P_UDP, P_TCP, P_TLS };
enum format { F_5424, F_3164 };
enum framing { FR_DEFAULT, FR_OCTET, FR_NEWLINE };

#define MAX_SD 16               /* --sd-key options */
#define UDP_MAX 65507           /* the largest IPv4 UDP payload */
#define READ_AHEAD (1u << 20)   /* held while a server takes them */
#define LINGER_MS 2000          /* a closing connection waits for the EOF */

/* The options (lsyslog.c), set once before the loop starts. */
struct options {
	enum proto proto;
	enum format format;
	enum framing framing;
	size_t max_size;        /* 0: no limit */
	char host[256], port[32], name[300];
	const char *message_key, *severity_key, *facility_key;
	const char *hostname_key, *appname_key, *procid_key, *msgid_key;
	const char *sd_keys[MAX_SD];
	int nsd;
	int severity, facility;
	const char *hostname, *appname;
	struct retry retry;
	long long connect_ms, send_ms, shutdown_ms;
	size_t buffer_limit;
	struct tls_opts tlsopt; /* a tls: server's */
};
extern struct options o;

/* What became of the events: the exit status and --stats. */
struct counts {
	uint64_t in, done, lost;        /* events read, written, given up */
	uint64_t truncated, invalid;    /* messages cut, values replaced */
	uint64_t connects, failures;
	uint64_t bytes;                 /* written to the server */
};
extern struct counts cnt;

/*
 * The messages not yet written, framed, back to back in b from head on;
 * end[first..n) are their ends in b.  wpos bytes from head were written
 * on the connection in use: a message cut short by a failure is sent
 * again whole on the next one.
 */
struct queue {
	struct buf b;
	size_t head, wpos;
	size_t *end;
	size_t first, n, cap;
	uint64_t added;         /* messages ever queued */
};
extern struct queue q;

/* format.c: a record into a syslog message */
int format_severity(const char *s, size_t n);
int format_facility(const char *s, size_t n);
void format_init(void);
void format_event(const struct event *ev, struct buf *out);
void format_free(void);

/* conn.c: the connection, the queue, retries */
void queue_push(void);
size_t queue_held(void);
size_t queue_count(void);
void conn_init(void);
void conn_end(void);
int conn_up(void);
int conn_idle(void);
short conn_poll(int *fd);
void conn_io(short revents);
void conn_timers(int eof);
int conn_wait_ms(void);
void conn_abandon(const char *why);

/* lsyslog.c: marks */
void marks_cancel(void);

#endif
