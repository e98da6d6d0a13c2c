/* lbuffer.h - the state and the functions the files of lbuffer share */
#ifndef LBUFFER_H
#define LBUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "fs.h"
#include "hash.h"
#include "stream.h"
#include "wait.h"

/*
 * On disk, under --dir, a chunk is two files: chunk-ID.meta (its tag key
 * and creation time, written once) and its data, chunk-ID.open while it
 * takes events and chunk-ID.queued once closed.  The data is a run of
 * blocks, one per write: a 16-byte header (the magic "LKB1", the payload
 * length, the event count and a CRC-32 of those two fields and the
 * payload, all big-endian) and the payload, events in Message mode.
 */
#define HDR 16
#define MAGIC "LKB1"
#define BLOCK_MAX (1024 * 1024)         /* pending bytes that force a write */
#define ID_STEP 1024                    /* room for split chunks between ids */
#define NTAGS 8
#define PBUF 4096
#define RKEYS_MAX 16            /* --chunk-keys: record keys at most */
#define RKEY_NAME_MAX 64        /* ... their names' bytes at most */
#define RKEY_VAL_MAX 1024       /* a value's bytes kept: longer are cut */

enum { OV_BLOCK, OV_DROP, OV_ERROR };
enum { FS_ALWAYS, FS_INTERVAL, FS_NEVER };

/* The options, and the directories they give. */
struct lb_opt {
	const char *dir, *dead, *secondary;
	char **cmd;
	long long chunk_size, chunk_records, flush_ms, total, threads;
	long long retry_ms, retry_max_ms, retry_timeout_ms, retry_times;
	long long fsync_ms, shutdown_ms;
	double base;
	int keys, overflow, fsync, randomize, forever, status, json;
	int total_set;
	int tkeyed, utc;        /* --chunk-keys time; --timekey-use-utc */
	const char *zone;       /* --timekey-zone */
	char *env_tz;           /* TZ before --timekey-zone set it, or NULL */
	long long timekey, timekey_wait_ms, open_max;
	int nrkeys;             /* --chunk-keys: record keys */
	const char *rkey[RKEYS_MAX];
	size_t rkey_len[RKEYS_MAX];
	char dead_dir[PBUF];    /* "" without --dead-letter-dir or --dir */
	char quar_dir[PBUF];    /* --dir: DIR/quarantine */
};

/* Fluentd's retry state (plugin_helper/retry_state.rb), one per chunk. */
struct retry_state {
	int active;
	int steps;
	int reached;            /* next hit the timeout once */
	int timed_out;          /* ... and again: the limit */
	long long start, next, timeout_at;      /* monotonic ms */
};

enum {
	C_OPEN,         /* taking events */
	C_CLOSING,      /* closed; its last block is still to be written */
	C_QUEUED,       /* waiting for an output */
	C_RUNNING,      /* an output has it */
	C_WAIT,         /* failed; waiting for its retry time */
	C_GIVEUP,       /* retries exhausted; waiting for --secondary */
	C_KEPT          /* shutting down: left for the next start */
};

struct chunk {
	uint64_t id;
	int state;
	int on_disk;            /* --dir: its files exist */
	int queued_name;        /* --dir: the data file is chunk-ID.queued */
	int fd;                 /* --dir, open chunk: the data file */
	int final_tried;        /* shutting down: its last attempt was made */
	int corrupt;            /* kept only because it could not be moved */
	int delivered;          /* committed: its output took it */
	char *key;              /* --chunk-keys tag: the tag, else NULL */
	size_t key_len;
	uint64_t h;             /* hash of key */
	int has_tkey;           /* --chunk-keys time: its bucket ... */
	long long tkey;         /* ... starts here (epoch seconds) */
	struct buf kv;          /* record keys: (u16 name len, name, u16
				 * value len, value)... */
	uint64_t gh;            /* hash of tag, bucket and kv */
	uint64_t tags[NTAGS];   /* hashes of the tags it holds ... */
	int ntags;              /* ... how many; -1 for any tag */
	uint64_t records, bytes;        /* all its events, stored or not */
	uint64_t size;          /* --dir: bytes in the data file */
	uint64_t blk_records;   /* --dir: events in the pending block */
	uint64_t unsynced;      /* --dir: events written, not yet fsynced */
	struct buf blk;         /* --dir: HDR + pending payload; else events */
	long long created_ms;   /* monotonic */
	double created;         /* wall clock */
	struct retry_state r;
	int failures;
	int last_status;        /* wait status of the last failed attempt */
	struct chunk *prev, *next;      /* every chunk, by id */
	struct chunk *oprev, *onext;    /* open and closing chunks, by age */
	struct chunk *hnext;            /* open chunks by tag */
};

/* What a walk over a data file found (store_scan). */
enum { V_OK, V_TORN, V_CORRUPT };

struct scan {
	uint64_t records, bytes, good_end, lost;
	char why[128];
};

/* The state the files share: one of it, lb. */
struct lb {
	struct lb_opt o;
	struct chunk *head, *tail;      /* every chunk, by id */
	struct chunk *ohead, *otail;    /* open and closing, by age */
	uint64_t last_id;               /* the newest chunk id given */
	uint64_t total_bytes;           /* in every chunk */
	struct {
		uint64_t stored, delivered, secondary, dead, dead_chunks;
		uint64_t dropped, lost, torn_lost, failures, recovered;
		uint64_t recovered_chunks, quarantined, quarantined_chunks;
	} cnt;
	struct {
		struct reader *rd;
		int done;               /* no more input */
		int code;               /* exit status: 0, EX_DATA or EX_SYS */
		struct waiter stop;     /* a stop signal's grace */
		int overflow_error;     /* ended by --overflow-action error */
		long long last_read_ms;
	} in;
	struct {                        /* a write to --dir failed */
		int err;                /* its errno; 0 when not held */
		int warned;
		long long next, since;
	} hold;
	struct {                        /* starting outputs */
		int dirty;              /* the chunks changed: look again */
		int ready_left;         /* chunks ready, at the last look */
		long long next_retry;   /* the soonest retry, -1 for none */
		int out_broken;         /* errno of a failed stdout */
	} disp;
	struct {                        /* after a stop signal or the end */
		int shutting, deadline_passed;
		long long shutdown_at, kill_at;
	} stop;
	struct {                        /* DIR/status */
		int dirty;
		long long at;
	} status;
};

extern struct lb lb;

/* small helpers */
static inline double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct pollfd;

/* lbuffer.c */
void lb_shutdown(void);

/* chunk.c: the chunks in memory */
const char *chunk_idstr(const struct chunk *c);
struct chunk *chunk_new(uint64_t id, const char *key, size_t key_len);
void chunk_set_group(struct chunk *c, int has_tkey, long long tkey,
    const char *kv, size_t kv_len);
int chunk_kv_next(const struct chunk *c, size_t *off, const char **name,
    size_t *nlen, const char **val, size_t *vlen);
long long chunk_close_at(const struct chunk *c);
void chunk_olist_remove(struct chunk *c);
void chunk_drop(struct chunk *c, int remove);
void chunk_free(struct chunk *c);
void chunk_close(struct chunk *c);
void chunk_close_all(void);
void chunk_split(struct chunk *c);
struct chunk *chunk_for_event(const struct event *ev);
void chunk_keys_free(void);

/* store.c: the files under --dir */
void store_path(char *p, const char *dir, uint64_t id, const char *ext);
void store_data_path(char *p, const struct chunk *c);
ssize_t store_pread(int fd, void *p, size_t n, uint64_t off);
int store_pwrite(int fd, const void *p, size_t n, uint64_t off);
struct meta {
	struct buf key, kv;
	int has_key, has_tkey;
	long long tkey;
	double created;
};
int store_meta_read(uint64_t id, struct meta *m);
void store_sync(struct chunk *c);
void store_all(void);
int store_block_read(int fd, uint64_t *off, struct buf *b);
int store_scan(int fd, uint64_t size, int verify, struct scan *s);
uint64_t store_save_to(struct chunk *c, const char *dir, const char *why);

/* intake.c: stdin into chunks; the marks between the events */
int intake_ok(void);
void intake_end(int code);
void intake_consume(void);
void intake_read(void);
void intake_marks_init(void);
void intake_marks_written(void);
void intake_marks_synced(int ok);
void intake_marks_gone(const struct chunk *c);
void intake_marks_settle(void);
int intake_marks_waiting(void);
void intake_marks_write(void);
void intake_marks_stats(char *b, size_t cap);
void intake_marks_free(void);

/* job.c: the outputs */
void job_init(int n);
int job_slots(void);
void job_free_all(void);
void job_describe(int st, char *s, size_t n);
void job_dead_letter(struct chunk *c, const char *why);
void job_quarantine(struct chunk *c, const char *why);
void job_dispatch(long long now);
void job_stdout_failed(int e);
int job_chld_fd(void);
void job_drain_chld(void);
int job_poll(struct pollfd *pf, int n);
void job_reap(void);
void job_pump_all(void);
void job_check_all(void);
int job_running(void);
void job_kill_all(int sig);

/* recover.c: what an earlier run left */
void recover_dir(void);

/* status.c: --status and DIR/status */
void status_lock(void);
void status_files(void);
void status_usr1(void);
int status_cmd(void);

#endif
