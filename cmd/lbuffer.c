/* lbuffer - a durable chunked buffer: at-least-once delivery to a command */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../common/err.h"
#include "../common/input.h"
#include "../common/json.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"

#define USAGE "[options] [-- COMMAND [ARG...]]"
#define ABOUT "Gather events into chunks, in memory or as files under --dir, " \
	"and flush each\nchunk by running COMMAND with the chunk's events on " \
	"its stdin: exit status 0\ncommits the chunk, anything else retries " \
	"it with Fluentd's exponential\nbackoff.  Without COMMAND, chunks are " \
	"written to stdout."

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
#define NBUCKET 1024
#define NTAGS 8
#define PBUF 4096
#define HOLD_RETRY_MS 500
#define KILL_GRACE_MS 2000
#define STOP_IDLE_MS 500
#define STOP_MAX_MS 5000

enum { OV_BLOCK, OV_DROP, OV_ERROR };
enum { FS_ALWAYS, FS_INTERVAL, FS_NEVER };

enum {
	O_CHUNK_SIZE = OPT_LONG, O_CHUNK_RECORDS, O_FLUSH_INTERVAL,
	O_CHUNK_KEYS, O_TOTAL_LIMIT, O_OVERFLOW, O_THREADS, O_RETRY_WAIT,
	O_RETRY_BASE, O_RETRY_MAX_INT, O_RETRY_RANDOMIZE, O_RETRY_TIMEOUT,
	O_RETRY_TIMES, O_RETRY_FOREVER, O_SECONDARY, O_DEAD_DIR, O_FSYNC_POLICY,
	O_FSYNC_INTERVAL, O_SHUTDOWN_TIMEOUT, O_STATUS, O_JSON
};

static const struct opt opts[] = {
	{ 'd', "dir", "DIR", "keep chunks as files in DIR (default: in "
	    "memory)" },
	{ O_CHUNK_SIZE, "chunk-limit-size", "SIZE", "close a chunk at this "
	    "size (default 8M)" },
	{ O_CHUNK_RECORDS, "chunk-limit-records", "N", "close a chunk at N "
	    "events" },
	{ O_FLUSH_INTERVAL, "flush-interval", "DURATION", "close a chunk this "
	    "long after it opened (default 60s)" },
	{ O_CHUNK_KEYS, "chunk-keys", "tag", "one open chunk per tag" },
	{ O_TOTAL_LIMIT, "total-limit-size", "SIZE", "most bytes held "
	    "(default 512M, 64G with --dir)" },
	{ O_OVERFLOW, "overflow-action", "ACTION", "when full: block "
	    "(default), drop-oldest-chunk, error" },
	{ O_THREADS, "flush-thread-count", "N", "run up to N outputs at once "
	    "(default 1)" },
	{ O_RETRY_WAIT, "retry-wait", "DURATION", "wait after the first "
	    "failure (default 1s)" },
	{ O_RETRY_BASE, "retry-exponential-backoff-base", "F", "factor from "
	    "one wait to the next (default 2)" },
	{ O_RETRY_MAX_INT, "retry-max-interval", "DURATION", "longest wait "
	    "between retries (default none)" },
	{ O_RETRY_RANDOMIZE, "retry-randomize", "BOOL", "vary waits by "
	    "up to 12.5% (default true)" },
	{ O_RETRY_TIMEOUT, "retry-timeout", "DURATION", "give a chunk up "
	    "after failing this long (default 72h)" },
	{ O_RETRY_TIMES, "retry-max-times", "N", "give a chunk up after N "
	    "retries" },
	{ O_RETRY_FOREVER, "retry-forever", NULL, "never give a chunk up" },
	{ O_SECONDARY, "secondary", "CMD", "run sh -c CMD with a chunk given "
	    "up" },
	{ O_DEAD_DIR, "dead-letter-dir", "DIR", "where chunks given up go "
	    "(default DIR/dead)" },
	{ O_FSYNC_POLICY, "fsync", "POLICY", "always (default), interval or never" },
	{ O_FSYNC_INTERVAL, "fsync-interval", "DURATION", "period of --fsync "
	    "interval (default 1s)" },
	{ O_SHUTDOWN_TIMEOUT, "shutdown-timeout", "DURATION", "after SIGTERM, "
	    "time left to flush (default 10s)" },
	{ O_STATUS, "status", NULL, "show the chunks held in --dir and exit" },
	{ O_JSON, "json", NULL, "show --status as JSON" },
	OPT_INPUT,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "every event delivered, or stored in the directory at a signal" },
	{ 2, "usage error" },
	{ 3, "bad input data: the events before it were delivered" },
	{ 4, "events not delivered (the messages say how many), or a system error" },
	{ 141, "standard output, without a command, was closed" },
	OPT_EXIT_END
};

/* the options end where the output command begins */
static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 1 };

static struct {
	const char *dir, *dead, *secondary;
	char **cmd;
	long long chunk_size, chunk_records, flush_ms, total, threads;
	long long retry_ms, retry_max_ms, retry_timeout_ms, retry_times;
	long long fsync_ms, shutdown_ms;
	double base;
	int keys, overflow, fsync, randomize, forever, status, json;
	int total_set;
} o = {
	.chunk_size = 8LL << 20, .flush_ms = 60000, .threads = 1,
	.retry_ms = 1000, .retry_max_ms = -1,
	.retry_timeout_ms = 72LL * 3600 * 1000, .retry_times = -1,
	.fsync_ms = 1000, .shutdown_ms = 10000, .base = 2, .randomize = 1
};

/* Fluentd's retry state (plugin_helper/retry_state.rb), one per chunk. */
struct retry {
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

static const char *const state_names[] = {
	"open", "closing", "queued", "flushing", "retrying", "secondary",
	"kept"
};

struct chunk {
	uint64_t id;
	int state;
	int on_disk;            /* --dir: its files exist */
	int queued_name;        /* --dir: the data file is chunk-ID.queued */
	int fd;                 /* --dir, open chunk: the data file */
	int final_tried;        /* shutting down: its last attempt was made */
	int corrupt;            /* kept only because it could not be moved */
	char *key;              /* --chunk-keys tag: the tag, else NULL */
	size_t key_len;
	uint64_t h;             /* hash of key */
	uint64_t tags[NTAGS];   /* hashes of the tags it holds ... */
	int ntags;              /* ... how many; -1 for any tag */
	uint64_t records, bytes;        /* all its events, stored or not */
	uint64_t size;          /* --dir: bytes in the data file */
	uint64_t blk_records;   /* --dir: events in the pending block */
	uint64_t unsynced;      /* --dir: events written, not yet fsynced */
	struct buf blk;         /* --dir: HDR + pending payload; else events */
	long long created_ms;   /* monotonic */
	double created;         /* wall clock */
	struct retry r;
	int failures;
	int last_status;        /* wait status of the last failed attempt */
	struct chunk *prev, *next;      /* every chunk, by id */
	struct chunk *oprev, *onext;    /* open and closing chunks, by age */
	struct chunk *hnext;            /* open chunks by tag */
};

enum { J_PRIMARY, J_SECONDARY, J_STDOUT };

struct job {
	struct chunk *c;        /* NULL: the slot is free */
	int kind;
	pid_t pid;
	int fd;                 /* where the events go */
	int sending;            /* events still to write */
	int rfd;                /* --dir: the chunk's data file */
	uint64_t roff;          /* next block there */
	struct buf b;           /* the block being written */
	const char *p;
	size_t left;
	int exited, status, bad;
	int unstarted;          /* the chunk could not be opened */
};

static struct chunk *head, *tail;       /* by id */
static struct chunk *ohead, *otail;     /* open and closing, by age */
static struct chunk *cur;               /* the open chunk without keys */
static struct chunk *last_open;
static struct chunk *bucket[NBUCKET];
static struct job *jobs;
static int njobs;
static struct reader *rd;
static int lockfd = -1;
static int chld_pipe[2] = { -1, -1 };
static uint64_t last_id;
static uint64_t total_bytes;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static char dead_dir[PBUF], quar_dir[PBUF];

static struct {
	uint64_t stored, delivered, secondary, dead, dead_chunks, dropped;
	uint64_t lost, torn_lost, failures, recovered, recovered_chunks;
	uint64_t quarantined, quarantined_chunks;
} cnt;

static struct {
	int done;               /* no more input */
	int code;               /* its exit status: 0, EX_DATA or EX_SYS */
	int stopping;           /* a stop signal arrived */
	long long stop_ms, last_read_ms;
} in;

static int shutting, deadline_passed, out_broken, overflow_error;
static long long shutdown_at, kill_at, next_fsync, status_at;
static long long next_retry_ms = -1;
static int dirty = 1, status_dirty = 1, ready_left;
static int hold_err;                    /* errno of the failed write */
static long long hold_next, hold_since, full_warned;
static int hold_warned;

/* --- small helpers ---------------------------------------------------- */

static long long
now_ms(void)
{
	return stream_ms();
}

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64: [0, 1) for retry_randomize */
static double
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
block_crc(const unsigned char *h, const char *payload, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, h + 4, 8);
	c = crc32(c, (const Bytef *)payload, (uInt)len);
	return (uint32_t)c;
}

static void
cloexec(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void
cpath(char *p, const char *dir, uint64_t id, const char *ext)
{
	snprintf(p, PBUF, "%s/chunk-%016llx.%s", dir, (unsigned long long)id,
	    ext);
}

static void
data_path(char *p, const struct chunk *c)
{
	cpath(p, o.dir, c->id, c->queued_name ? "queued" : "open");
}

static const char *
idstr(const struct chunk *c)
{
	static char s[4][24];
	static int i;

	i = (i + 1) % 4;
	snprintf(s[i], sizeof(s[i]), "%016llx", (unsigned long long)c->id);
	return s[i];
}

static ssize_t
pread_full(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	return (ssize_t)got;
}

static int
pwrite_full(int fd, const void *p, size_t n, uint64_t off)
{
	ssize_t r;

	while (n > 0) {
		r = pwrite(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p = (const char *)p + r;
		n -= r;
		off += r;
	}
	return 0;
}

static int
write_full(int fd, const void *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p = (const char *)p + r;
		n -= r;
	}
	return 0;
}

static int
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	/* some file systems cannot fsync a directory */
	return r < 0 && errno != EINVAL && errno != EBADF ? -1 : 0;
}

/* Creates dir and its parents; -1 with errno and the failing path in d. */
static int
mkdir_p(const char *dir, char *d)
{
	char *s;

	snprintf(d, PBUF, "%s", dir);
	for (s = d + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(d, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int
space_error(int e)
{
	return e == ENOSPC || e == EFBIG || e == EDQUOT;
}

static void
describe(int st, char *s, size_t n)
{
	if (st == -1)
		snprintf(s, n, "could not be started");
	else if (WIFEXITED(st))
		snprintf(s, n, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(s, n, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(s, n, "wait status %d", st);
}

/* --- Fluentd's exponential backoff ------------------------------------ */

/* calc_interval: wait * base^n, at most --retry-max-interval. */
static double
interval_ms(int n)
{
	double v;

	for (;;) {
		v = (double)o.retry_ms * pow(o.base, n);
		if (o.retry_max_ms >= 0 && v > (double)o.retry_max_ms)
			return (double)o.retry_max_ms;
		if (isfinite(v) || n <= 0)
			break;
		n--;
	}
	return v > 1e15 ? 1e15 : v;
}

/*
 * A failed attempt, as Fluentd's output records it: the first failure
 * starts the state and waits --retry-wait, unrandomized; each later one
 * steps it and waits wait * base^steps, randomized by +-12.5% (the
 * retry_randomize_width Fluentd fixes), clipped to the timeout.
 */
static void
retry_fail(struct retry *r, long long now)
{
	double iv;

	if (!r->active) {
		memset(r, 0, sizeof(*r));
		r->active = 1;
		r->start = now;
		r->timeout_at = now + o.retry_timeout_ms;
		r->next = now + o.retry_ms;
		return;
	}
	r->steps++;
	iv = interval_ms(r->steps);
	if (o.randomize)
		iv += iv * 0.125 * (2 * rnd() - 1.0);
	r->next = now + (long long)(iv + 0.5);
	if (!o.forever && r->next >= r->timeout_at)
		r->next = r->timeout_at;
	if (r->reached)
		r->timed_out = r->next >= r->timeout_at;
	else
		r->reached = r->next >= r->timeout_at;
}

static int
retry_limit(const struct retry *r)
{
	if (o.forever)
		return 0;
	return r->timed_out || (o.retry_times >= 0 && r->steps >= o.retry_times);
}

/* --- the set of tags that earlier pending chunks hold ----------------- */

static struct {
	uint64_t *k;
	uint32_t *g;
	size_t cap, n;
	uint32_t gen;
	int all;                /* an earlier chunk may hold any tag */
	uint64_t chunks;
} bl;

static void
bl_clear(void)
{
	if (++bl.gen == 0) {
		if (bl.g)
			memset(bl.g, 0, bl.cap * sizeof(*bl.g));
		bl.gen = 1;
	}
	bl.n = 0;
	bl.all = 0;
	bl.chunks = 0;
}

static size_t
bl_slot(uint64_t h)
{
	size_t i = (size_t)(h ^ h >> 29) & (bl.cap - 1);

	while (bl.g[i] == bl.gen && bl.k[i] != h)
		i = (i + 1) & (bl.cap - 1);
	return i;
}

static void
bl_grow(void)
{
	uint64_t *k = bl.k;
	uint32_t *g = bl.g, gen = bl.gen;
	size_t cap = bl.cap, i;

	bl.cap = cap ? cap * 2 : 64;
	bl.k = xcalloc(bl.cap, sizeof(*bl.k));
	bl.g = xcalloc(bl.cap, sizeof(*bl.g));
	bl.gen = 1;
	for (i = 0; i < cap; i++)
		if (g[i] == gen) {
			size_t s = bl_slot(k[i]);

			bl.k[s] = k[i];
			bl.g[s] = bl.gen;
		}
	free(k);
	free(g);
}

static void
bl_add(uint64_t h)
{
	size_t s;

	if ((bl.n + 1) * 2 > bl.cap)
		bl_grow();
	s = bl_slot(h);
	if (bl.g[s] != bl.gen) {
		bl.k[s] = h;
		bl.g[s] = bl.gen;
		bl.n++;
	}
}

static int
bl_has(uint64_t h)
{
	return bl.cap && bl.g[bl_slot(h)] == bl.gen;
}

static int
conflicts(const struct chunk *c)
{
	int i;

	if (bl.all)
		return 1;
	if (c->ntags < 0)
		return bl.chunks > 0;
	for (i = 0; i < c->ntags; i++)
		if (bl_has(c->tags[i]))
			return 1;
	return 0;
}

static void
blocked_add(const struct chunk *c)
{
	int i;

	bl.chunks++;
	if (c->ntags < 0)
		bl.all = 1;
	for (i = 0; i < c->ntags; i++)
		bl_add(c->tags[i]);
}

/* --- chunks in memory ------------------------------------------------- */

static uint64_t
next_id(void)
{
	struct timespec ts;
	uint64_t t, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000) * ID_STEP;
	n = (last_id / ID_STEP + 1) * ID_STEP;
	last_id = t > n ? t : n;
	return last_id;
}

/* Links c into the list by id (new chunks go at the end). */
static void
list_insert(struct chunk *c)
{
	struct chunk *p = tail;

	while (p && p->id > c->id)
		p = p->prev;
	c->prev = p;
	c->next = p ? p->next : head;
	if (c->next)
		c->next->prev = c;
	else
		tail = c;
	if (p)
		p->next = c;
	else
		head = c;
}

static void
olist_remove(struct chunk *c)
{
	if (c->oprev)
		c->oprev->onext = c->onext;
	else if (ohead == c)
		ohead = c->onext;
	else
		return;
	if (c->onext)
		c->onext->oprev = c->oprev;
	else
		otail = c->oprev;
	c->oprev = c->onext = NULL;
}

static void
olist_append(struct chunk *c)
{
	c->oprev = otail;
	c->onext = NULL;
	if (otail)
		otail->onext = c;
	else
		ohead = c;
	otail = c;
}

static struct chunk *
chunk_new(uint64_t id, const char *key, size_t key_len)
{
	struct chunk *c = xcalloc(1, sizeof(*c));

	c->id = id;
	c->fd = -1;
	if (key) {
		/* a tag may hold any byte, NUL too */
		c->key = xmalloc(key_len + 1);
		memcpy(c->key, key, key_len);
		c->key[key_len] = '\0';
		c->key_len = key_len;
		c->h = fnv(key, key_len);
		c->tags[0] = c->h;
		c->ntags = 1;
	}
	if (o.dir)
		buf_reserve(&c->blk, HDR);
	c->blk.len = o.dir ? HDR : 0;
	list_insert(c);
	return c;
}

/* Unlinks c from the hash of open chunks. */
static void
detach(struct chunk *c)
{
	struct chunk **p;

	if (cur == c)
		cur = NULL;
	if (last_open == c)
		last_open = NULL;
	if (!c->key)
		return;
	for (p = &bucket[c->h & (NBUCKET - 1)]; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	c->hnext = NULL;
}

/* Forgets c: its bytes, its memory and, if remove, its files. */
static void
chunk_drop(struct chunk *c, int remove)
{
	char p[PBUF];

	detach(c);
	olist_remove(c);
	if (c->fd >= 0)
		close(c->fd);
	if (c->on_disk && remove) {
		data_path(p, c);
		if (unlink(p) < 0 && errno != ENOENT)
			warn("unable to remove %s:", p);
		cpath(p, o.dir, c->id, "meta");
		unlink(p);
	}
	total_bytes -= c->bytes;
	if (c->prev)
		c->prev->next = c->next;
	else
		head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		tail = c->prev;
	buf_free(&c->blk);
	free(c->key);
	free(c);
	dirty = 1;
	status_dirty = 1;
}

/* Done with c: delivered, given up, dropped or empty. */
static void
chunk_free(struct chunk *c)
{
	chunk_drop(c, 1);
}

static struct chunk *
chunk_open(const char *key, size_t key_len)
{
	struct chunk *c = chunk_new(next_id(), key, key_len);

	c->created_ms = now_ms();
	c->created = wall();
	olist_append(c);
	status_dirty = 1;
	return c;
}

/* The open chunk for an event's tag, opened if there is none. */
static struct chunk *
open_for(const char *tag, size_t len)
{
	struct chunk *c, **b;

	if (!o.keys) {
		if (!cur)
			cur = chunk_open(NULL, 0);
		return cur;
	}
	c = last_open;
	if (c && c->key_len == len && memcmp(c->key, tag, len) == 0)
		return c;
	b = &bucket[fnv(tag, len) & (NBUCKET - 1)];
	for (c = *b; c; c = c->hnext)
		if (c->key_len == len && memcmp(c->key, tag, len) == 0)
			return last_open = c;
	c = chunk_open(tag, len);
	c->hnext = *b;
	*b = c;
	return last_open = c;
}

static void
tag_add(struct chunk *c, const char *tag, size_t len)
{
	uint64_t h;
	int i;

	if (c->key || c->ntags < 0)
		return;
	h = fnv(tag, len);
	for (i = 0; i < c->ntags; i++)
		if (c->tags[i] == h)
			return;
	if (c->ntags == NTAGS)
		c->ntags = -1;
	else
		c->tags[c->ntags++] = h;
}

/* Closes c to new events: queued at once in memory, else stored first. */
static void
chunk_close(struct chunk *c)
{
	if (c->state != C_OPEN)
		return;
	detach(c);
	status_dirty = 1;
	if (o.dir) {
		c->state = C_CLOSING;
		return;
	}
	olist_remove(c);
	c->state = C_QUEUED;
	dirty = 1;
}

static void
close_all(void)
{
	struct chunk *c, *n;

	for (c = ohead; c; c = n) {
		n = c->onext;
		chunk_close(c);
	}
}

/* --- chunk files ------------------------------------------------------ */

static void
key_hex(struct buf *b, const char *k, size_t n)
{
	static const char hx[] = "0123456789abcdef";

	while (n--) {
		buf_putc(b, hx[(unsigned char)*k >> 4]);
		buf_putc(b, hx[(unsigned char)*k++ & 15]);
	}
}

/* Writes DIR/chunk-ID.meta through a temporary file; -1 with errno. */
static int
meta_write(const char *dir, uint64_t id, const struct chunk *c)
{
	char p[PBUF], t[PBUF + 8];
	struct buf b = { 0 };
	int fd, e;

	cpath(p, dir, id, "meta");
	snprintf(t, sizeof(t), "%s.tmp", p);
	buf_puts(&b, "lkit-buffer 1\n");
	buf_reserve(&b, 64);
	b.len += snprintf(b.p + b.len, 64, "created %.6f\n", c->created);
	if (c->key) {
		buf_puts(&b, "key ");
		key_hex(&b, c->key, c->key_len);
		buf_putc(&b, '\n');
	}
	fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, b.p, b.len) < 0 ||
	    (o.fsync != FS_NEVER && fsync(fd) < 0) || close(fd) < 0 ||
	    rename(t, p) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		unlink(t);
		buf_free(&b);
		errno = e;
		return -1;
	}
	buf_free(&b);
	return 0;
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A meta file holds a tag of up to 1G as hex, and a few short lines. */
#define META_MAX ((2LL << 30) + 4096)

/* The whole of a meta file, NUL-terminated, or NULL; free it. */
static char *
meta_text(uint64_t id)
{
	char p[PBUF], *text = NULL;
	struct stat st;
	int fd;

	cpath(p, o.dir, id, "meta");
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size >= 14 && st.st_size <= META_MAX) {
		text = xmalloc((size_t)st.st_size + 1);
		if (pread_full(fd, text, (size_t)st.st_size, 0) != st.st_size) {
			free(text);
			text = NULL;
		} else {
			text[st.st_size] = '\0';
		}
	}
	close(fd);
	return text;
}

/*
 * Reads key and creation time from a meta file, however long the tag; -1
 * if it is unusable (then *has_key is 0: the key is unknown).
 */
static int
meta_read(uint64_t id, struct buf *key, int *has_key, double *created)
{
	char *text = meta_text(id), *s;
	int ret = -1;

	*has_key = 0;
	if (!text || strncmp(text, "lkit-buffer 1\n", 14) != 0 ||
	    !(s = strstr(text, "\ncreated ")))
		goto out;
	*created = strtod(s + 9, NULL);
	if ((s = strstr(text, "\nkey "))) {
		for (s += 5; unhex(s[0]) >= 0 && unhex(s[1]) >= 0; s += 2)
			buf_putc(key, unhex(s[0]) << 4 | unhex(s[1]));
		if (*s != '\n') {
			key->len = 0;
			goto out;
		}
		*has_key = 1;
	}
	ret = 0;
out:
	free(text);
	return ret;
}

/* Creates c's meta and data files. */
static int
materialize(struct chunk *c)
{
	char p[PBUF];
	int e;

	if (meta_write(o.dir, c->id, c) < 0)
		return -1;
	cpath(p, o.dir, c->id, "open");
	c->fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (c->fd < 0) {
		e = errno;
		cpath(p, o.dir, c->id, "meta");
		unlink(p);
		errno = e;
		return -1;
	}
	c->on_disk = 1;
	c->size = 0;
	if (o.fsync == FS_ALWAYS && dir_sync(o.dir) < 0)
		warn("unable to fsync %s:", o.dir);
	return 0;
}

static void
count_stored(struct chunk *c, uint64_t n)
{
	(void)c;
	cnt.stored += n;
}

/* Writes the pending block at the end of the data file; -1 with errno. */
static int
block_write(struct chunk *c)
{
	unsigned char *h = (unsigned char *)c->blk.p;
	size_t len = c->blk.len - HDR;
	int e;

	memcpy(h, MAGIC, 4);
	put32(h + 4, (uint32_t)len);
	put32(h + 8, (uint32_t)c->blk_records);
	put32(h + 12, block_crc(h, c->blk.p + HDR, len));
	if (pwrite_full(c->fd, c->blk.p, c->blk.len, c->size) < 0 ||
	    (o.fsync == FS_ALWAYS && fdatasync(c->fd) < 0)) {
		e = errno;
		/* cut back a partial write; the next one overwrites it anyway */
		(void)!ftruncate(c->fd, (off_t)c->size);
		errno = e;
		return -1;
	}
	c->size += c->blk.len;
	if (o.fsync == FS_INTERVAL)
		c->unsynced += c->blk_records;
	else
		count_stored(c, c->blk_records);
	c->blk.len = HDR;
	c->blk_records = 0;
	if (c->blk.cap > BLOCK_MAX / 4) {
		/* many open chunks must not each keep a large block */
		buf_free(&c->blk);
		buf_reserve(&c->blk, HDR);
		c->blk.len = HDR;
	}
	return 0;
}

static void
chunk_sync(struct chunk *c)
{
	if (c->fd < 0 || !c->unsynced)
		return;
	if (fdatasync(c->fd) < 0)
		warn("unable to fsync chunk %s:", idstr(c));
	count_stored(c, c->unsynced);
	c->unsynced = 0;
}

/* A closed file chunk whose events are all written: chunk-ID.queued. */
static void
seal(struct chunk *c)
{
	char from[PBUF], to[PBUF];

	olist_remove(c);
	c->state = C_QUEUED;
	dirty = 1;
	status_dirty = 1;
	if (c->records == 0) {
		chunk_free(c);
		return;
	}
	if (o.fsync == FS_INTERVAL)
		chunk_sync(c);
	close(c->fd);
	c->fd = -1;
	data_path(from, c);
	cpath(to, o.dir, c->id, "queued");
	if (rename(from, to) < 0)
		warn("unable to rename %s to %s:", from, to);
	else
		c->queued_name = 1;
}

/*
 * Out of space with events stored in c: c is closed with what it stored,
 * so it can be flushed and its space freed, and its pending block moves
 * to a new chunk ordered right after it.
 */
static void
split(struct chunk *c)
{
	struct chunk *s;
	uint64_t bytes = c->blk.len - HDR;

	if ((c->id + 1) % ID_STEP == 0)
		return;
	s = chunk_new(c->id + 1, c->key, c->key_len);
	memcpy(s->tags, c->tags, sizeof(s->tags));
	s->ntags = c->ntags;
	s->created_ms = c->created_ms;
	s->created = c->created;
	s->state = c->state;
	s->records = c->blk_records;
	s->bytes = bytes;
	s->blk_records = c->blk_records;
	buf_free(&s->blk);
	s->blk = c->blk;
	memset(&c->blk, 0, sizeof(c->blk));
	buf_reserve(&c->blk, HDR);
	c->blk.len = HDR;
	c->records -= c->blk_records;
	c->bytes -= bytes;
	c->blk_records = 0;
	/* s follows c among the open chunks and takes its place by tag */
	s->oprev = c;
	s->onext = c->onext;
	if (c->onext)
		c->onext->oprev = s;
	else
		otail = s;
	c->onext = s;
	if (s->state == C_OPEN) {
		if (cur == c)
			cur = s;
		detach(c);
		if (s->key) {
			s->hnext = bucket[s->h & (NBUCKET - 1)];
			bucket[s->h & (NBUCKET - 1)] = s;
		}
	}
	c->state = C_CLOSING;
}

static void
hold_begin(struct chunk *c, int e)
{
	long long now = now_ms();
	char p[PBUF];

	if (!hold_warned) {
		data_path(p, c);
		warn("unable to store events in %s: %s; input held until they "
		    "can be stored", c->on_disk ? p : o.dir, strerror(e));
		hold_warned = 1;
		hold_since = now;
	}
	hold_err = e;
	hold_next = now + HOLD_RETRY_MS;
	if (c->on_disk && c->size > 0 && space_error(e)) {
		split(c);
		hold_next = now;        /* a new file may take it at once */
	}
	status_dirty = 1;
}

static int
store_one(struct chunk *c)
{
	if (!c->on_disk && materialize(c) < 0)
		return -1;
	return block_write(c);
}

/* Writes every pending block, in order, and seals closed chunks. */
static void
store_all(void)
{
	struct chunk *c, *n;

	if (!o.dir)
		return;
	/* while held, chunks before the one that failed may still close */
	for (c = ohead; c; c = n) {
		if (c->blk.len > HDR && (hold_err || store_one(c) < 0)) {
			if (!hold_err)
				hold_begin(c, errno);
			return;
		}
		n = c->onext;
		if (c->state == C_CLOSING)
			seal(c);
	}
	if (hold_warned && !hold_err) {
		warn("events are stored again, after %.1fs; input resumed",
		    (now_ms() - hold_since) / 1000.0);
		hold_warned = 0;
	}
}

/* --- taking events ---------------------------------------------------- */

static size_t
event_len(const struct event *ev)
{
	size_t t = ev->tag_len;

	t += t < 32 ? 1 : t < 256 ? 2 : t < 65536 ? 3 : 5;
	t += ev->sec >= 0 && ev->sec <= 0xffffffffLL ? 10 : 9;
	return 1 + t + ev->rec_len;
}

static void
put_event(struct buf *b, const struct event *ev)
{
	buf_reserve(b, 1 + 5 + ev->tag_len + 10 + ev->rec_len);
	b->p[b->len++] = (char)0x93;
	mp_put_strhdr(b, ev->tag_len);
	memcpy(b->p + b->len, ev->tag, ev->tag_len);
	b->len += ev->tag_len;
	event_put_time(b, ev->sec, ev->nsec);
	memcpy(b->p + b->len, ev->rec, ev->rec_len);
	b->len += ev->rec_len;
}

static void
take(const struct event *ev)
{
	size_t need = event_len(ev);
	struct chunk *c = open_for(ev->tag, ev->tag_len);

	if (c->records && c->bytes + need > (uint64_t)o.chunk_size) {
		chunk_close(c);
		c = open_for(ev->tag, ev->tag_len);
	}
	tag_add(c, ev->tag, ev->tag_len);
	put_event(&c->blk, ev);
	c->records++;
	c->bytes += need;
	total_bytes += need;
	if (o.dir)
		c->blk_records++;
	else
		cnt.stored++;
	if ((o.chunk_records && c->records >= (uint64_t)o.chunk_records) ||
	    c->bytes >= (uint64_t)o.chunk_size)
		chunk_close(c);
	if (o.dir && c->blk.len >= BLOCK_MAX)
		store_all();
}

/* The oldest closed chunk no output has: dropped for room. */
static int
drop_oldest(void)
{
	struct chunk *c;

	for (c = head; c; c = c->next)
		if (c->state == C_QUEUED || c->state == C_WAIT ||
		    c->state == C_GIVEUP)
			break;
	if (!c)
		return 0;
	warn("buffer full: dropped chunk %s, %llu events (--overflow-action "
	    "drop-oldest-chunk)", idstr(c), (unsigned long long)c->records);
	cnt.dropped += c->records;
	chunk_free(c);
	return 1;
}

static void shutdown_begin(void);

/* Whether there is room for more input, acting on --overflow-action. */
static int
room(void)
{
	long long now;

	while (total_bytes >= (uint64_t)o.total) {
		if (o.overflow == OV_DROP && drop_oldest())
			continue;
		if (o.overflow == OV_ERROR && !overflow_error) {
			warn("buffer full: %llu bytes held (--total-limit-size "
			    "%lld, --overflow-action error)",
			    (unsigned long long)total_bytes, o.total);
			overflow_error = 1;
			in.done = 1;
			shutdown_begin();
			return 0;
		}
		now = now_ms();
		if (!full_warned || now - full_warned > 60000) {
			warn("buffer full: %llu bytes held (--total-limit-size "
			    "%lld); input held until chunks are flushed",
			    (unsigned long long)total_bytes, o.total);
			full_warned = now;
		}
		return 0;
	}
	return 1;
}

static int
intake_ok(void)
{
	return !in.done && !hold_err && !out_broken && room();
}

static void
input_end(int code)
{
	if (in.done)
		return;
	in.done = 1;
	in.code = code;
	close_all();
	status_dirty = 1;
	if (in.stopping)
		shutdown_begin();
}

static void
consume(void)
{
	struct event ev;
	int ret;

	while (intake_ok()) {
		ret = reader_next_buffered(rd, &ev);
		if (ret == READ_EVENT) {
			take(&ev);
			continue;
		}
		if (ret == READ_AGAIN)
			return;
		if (ret == READ_EOF) {
			input_end(0);
			return;
		}
		warn("%s", reader_errmsg(rd));
		input_end(ret == READ_SYSERR ? EX_SYS : EX_DATA);
		return;
	}
}

static int
readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}

/*
 * Reads what stdin has, up to about a block, and takes its events: one
 * write (and fsync) for the lot, and at most that much read but not
 * stored at any time.
 */
static void
read_input(void)
{
	uint64_t start = total_bytes;
	ssize_t n;
	int rounds = 0;

	do {
		n = reader_fill(rd);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				return;
			warn("stdin: unable to read:");
			input_end(EX_SYS);
			return;
		}
		in.last_read_ms = now_ms();
		consume();
	} while (n > 0 && intake_ok() && ++rounds < 16 &&
	    total_bytes - start < BLOCK_MAX && readable(0));
}

/* --- outputs ---------------------------------------------------------- */

/*
 * LBUFFER_CHUNK_TAG holds the tag if it is at most TAG_ENV_MAX bytes and
 * has no NUL byte.  Else (execve refuses a variable over 128 KiB with
 * E2BIG, and a NUL would cut it short) it holds the tag's first bytes, up
 * to TAG_ENV_PREFIX and before any NUL, cut at a UTF-8 character start,
 * then '#' and the 16 hex digits of the FNV-1a hash of the whole tag.
 * The events in the chunk keep the whole tag.
 */
#define TAG_ENV_MAX 4096
#define TAG_ENV_PREFIX 4000

static const char *
tag_env(const struct chunk *c)
{
	static char v[TAG_ENV_PREFIX + 18];
	const char *nul = memchr(c->key, '\0', c->key_len);
	size_t n;

	if (c->key_len <= TAG_ENV_MAX && !nul)
		return c->key;
	n = nul ? (size_t)(nul - c->key) : c->key_len;
	if (n > TAG_ENV_PREFIX) {
		n = TAG_ENV_PREFIX;
		while (n > 0 && ((unsigned char)c->key[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(v, sizeof(v), "%.*s#%016llx", (int)n, c->key,
	    (unsigned long long)fnv(c->key, c->key_len));
	return v;
}

static _Noreturn void
child(const struct job *j, int rfd)
{
	char v[32];
	const struct chunk *c = j->c;

	setpgid(0, 0);
	if (dup2(rfd, 0) < 0)
		_exit(127);
	sig_child_reset();
	signal(SIGXFSZ, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	setenv("LBUFFER_CHUNK_ID", idstr(c), 1);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)c->records);
	setenv("LBUFFER_CHUNK_RECORDS", v, 1);
	snprintf(v, sizeof(v), "%d", c->failures);
	setenv("LBUFFER_RETRY", v, 1);
	if (c->key)
		setenv("LBUFFER_CHUNK_TAG", tag_env(c), 1);
	else
		unsetenv("LBUFFER_CHUNK_TAG");
	if (j->kind == J_SECONDARY)
		execl("/bin/sh", "sh", "-c", o.secondary, (char *)NULL);
	else
		execvp(o.cmd[0], o.cmd);
	fprintf(stderr, "%s: unable to run %s: %s\n", progname,
	    j->kind == J_SECONDARY ? "/bin/sh" : o.cmd[0], strerror(errno));
	_exit(127);
}

static pid_t
spawn(struct job *j)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	cloexec(p[0]);
	cloexec(p[1]);
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0)
		child(j, p[0]);
	setpgid(pid, pid);
	close(p[0]);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	j->fd = p[1];
	return pid;
}

static void
job_stop_sending(struct job *j)
{
	if (!j->sending)
		return;
	j->sending = 0;
	if (j->kind != J_STDOUT && j->fd >= 0)
		close(j->fd);
	if (j->kind != J_STDOUT)
		j->fd = -1;
}

/* Loads the next block of a file chunk: 1, 0 at the end, -1 if bad. */
static int
job_load(struct job *j)
{
	unsigned char h[HDR];
	ssize_t n;
	uint32_t len;

	n = pread_full(j->rfd, h, HDR, j->roff);
	if (n == 0)
		return 0;
	if (n != HDR || memcmp(h, MAGIC, 4) != 0)
		return -1;
	len = get32(h + 4);
	j->b.len = 0;
	buf_reserve(&j->b, len ? len : 1);
	if (pread_full(j->rfd, j->b.p, len, j->roff + HDR) != (ssize_t)len ||
	    block_crc(h, j->b.p, len) != get32(h + 12))
		return -1;
	j->b.len = len;
	j->roff += HDR + len;
	j->p = j->b.p;
	j->left = len;
	return 1;
}

static void stdout_failed(int e);

/* Writes what the output takes now. */
static void
job_pump(struct job *j)
{
	ssize_t n;
	int r;

	while (j->sending) {
		if (j->left == 0) {
			r = j->rfd >= 0 ? job_load(j) : 0;
			if (r < 0) {
				j->bad = 1;
				if (j->pid > 0)
					kill(-j->pid, SIGTERM);
			}
			if (r <= 0) {
				job_stop_sending(j);
				break;
			}
		}
		n = write(j->fd, j->p, j->left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* EPIPE: the command stopped reading; its status decides */
			if (j->kind == J_STDOUT)
				stdout_failed(errno);
			job_stop_sending(j);
			break;
		}
		j->p += n;
		j->left -= n;
	}
}

static void
job_start(struct job *j, struct chunk *c, int kind)
{
	char p[PBUF];

	j->c = c;
	j->kind = kind;
	j->pid = 0;
	j->rfd = -1;
	j->roff = 0;
	j->left = 0;
	j->exited = j->bad = j->unstarted = 0;
	j->status = 0;
	c->state = C_RUNNING;
	if (shutting)
		c->final_tried = 1;
	status_dirty = 1;
	if (o.dir) {
		data_path(p, c);
		if ((j->rfd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
			warn("unable to open %s:", p);
			j->exited = j->unstarted = 1;
			j->status = -1;
			return;
		}
	} else {
		j->p = c->blk.p;
		j->left = c->blk.len;
	}
	j->sending = 1;
	if (kind == J_STDOUT) {
		j->fd = 1;
	} else if ((j->pid = spawn(j)) < 0) {
		warn("unable to start the output:");
		j->sending = 0;
		j->exited = 1;
		j->status = -1;
		return;
	}
	job_pump(j);
}

/* --- outcomes --------------------------------------------------------- */

static void
commit(struct chunk *c, int kind)
{
	if (c->failures)
		warn("chunk %s: delivered%s after %d failure%s", idstr(c),
		    kind == J_SECONDARY ? " by the secondary" : "",
		    c->failures, c->failures == 1 ? "" : "s");
	cnt.delivered += c->records;
	if (kind == J_SECONDARY)
		cnt.secondary += c->records;
	stats.out += c->records;
	stats.bytes_out += c->bytes;
	chunk_free(c);
}

static int
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* Copies file from to a new file to (fsynced); -1 with errno. */
static int
copy_file(const char *from, const char *to)
{
	char b[65536];
	int in_fd, out_fd, e = 0;
	ssize_t n;

	if ((in_fd = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	out_fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		e = errno;
		close(in_fd);
		errno = e;
		return -1;
	}
	while ((n = read(in_fd, b, sizeof(b))) > 0)
		if (write_full(out_fd, b, n) < 0)
			break;
	if (n != 0 || (o.fsync != FS_NEVER && fsync(out_fd) < 0))
		e = errno ? errno : EIO;
	close(in_fd);
	if (close(out_fd) < 0 && !e)
		e = errno;
	if (e) {
		unlink(to);
		errno = e;
		return -1;
	}
	return 0;
}

/* Puts c's data into dir as chunk-ID.queued (moved, copied or written). */
static int
save_data(struct chunk *c, const char *dir, uint64_t id)
{
	char from[PBUF], to[PBUF];
	unsigned char h[HDR];
	int fd, e;

	cpath(to, dir, id, "queued");
	if (c->on_disk) {
		data_path(from, c);
		if (link(from, to) == 0)
			return 0;
		if (errno == EEXIST)
			return -1;
		return copy_file(from, to);
	}
	memcpy(h, MAGIC, 4);
	put32(h + 4, (uint32_t)c->blk.len);
	put32(h + 8, (uint32_t)c->records);
	put32(h + 12, block_crc(h, c->blk.p, c->blk.len));
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_full(fd, h, HDR) < 0 || write_full(fd, c->blk.p,
	    c->blk.len) < 0 || (o.fsync != FS_NEVER && fsync(fd) < 0)) {
		e = errno;
		close(fd);
		unlink(to);
		errno = e;
		return -1;
	}
	return close(fd);
}

static int
save_reason(const char *dir, uint64_t id, const struct chunk *c,
    const char *why)
{
	char p[PBUF], text[2048], when[64];
	time_t t = time(NULL);
	int fd, n, r;

	cpath(p, dir, id, "reason");
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	n = snprintf(text, sizeof(text), "chunk %s of %s: %llu events, %llu "
	    "bytes%s%.*s\n%s: %s\n", idstr(c), o.dir ? o.dir : "memory",
	    (unsigned long long)c->records, (unsigned long long)c->bytes,
	    c->key ? ", tag " : "", c->key ? (int)c->key_len : 0,
	    c->key ? c->key : "", when, why);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	r = write_full(fd, text, n);
	if (close(fd) < 0)
		r = -1;
	return r;
}

/* Moves c into dir with a reason file; the new id, or 0 on failure. */
static uint64_t
save_to(struct chunk *c, const char *dir, const char *why)
{
	char p[PBUF];
	uint64_t id = c->id;
	int tries;

	if (mkdir_p(dir, p) < 0)
		return 0;
	for (tries = 0; tries < 1000; tries++, id++) {
		cpath(p, dir, id, "queued");
		if (!exists(p) && meta_write(dir, id, c) == 0)
			break;
		if (!exists(p))
			return 0;
	}
	if (tries == 1000 || save_data(c, dir, id) < 0 ||
	    save_reason(dir, id, c, why) < 0 ||
	    (o.fsync != FS_NEVER && dir_sync(dir) < 0)) {
		cpath(p, dir, id, "meta");
		unlink(p);
		return 0;
	}
	return id;
}

static void
dead_letter(struct chunk *c, const char *why)
{
	uint64_t id;

	if (!dead_dir[0]) {
		warn("chunk %s: %s; %llu events lost (no --dead-letter-dir)",
		    idstr(c), why, (unsigned long long)c->records);
		cnt.lost += c->records;
		chunk_free(c);
		return;
	}
	if (!(id = save_to(c, dead_dir, why))) {
		warn("chunk %s: %s, and unable to move it to %s: %s; keeping "
		    "it and retrying", idstr(c), why, dead_dir, strerror(errno));
		memset(&c->r, 0, sizeof(c->r));
		retry_fail(&c->r, now_ms());
		c->state = C_WAIT;
		return;
	}
	warn("chunk %s: %s; %llu events moved to %s/chunk-%016llx.queued",
	    idstr(c), why, (unsigned long long)c->records, dead_dir,
	    (unsigned long long)id);
	cnt.dead += c->records;
	cnt.dead_chunks++;
	chunk_free(c);
}

static void
quarantine(struct chunk *c, const char *why)
{
	uint64_t id;

	if ((id = save_to(c, quar_dir, why))) {
		warn("chunk %s: %s; %llu events moved to %s/chunk-%016llx."
		    "queued", idstr(c), why, (unsigned long long)c->records,
		    quar_dir, (unsigned long long)id);
		cnt.quarantined += c->records;
		cnt.quarantined_chunks++;
		chunk_free(c);
		return;
	}
	warn("chunk %s: %s, and unable to move it to %s:", idstr(c), why,
	    quar_dir);
	c->state = C_KEPT;
	c->corrupt = 1;
	cnt.quarantined += c->records;
	cnt.quarantined_chunks++;
}

static void
give_up(struct chunk *c, const char *why)
{
	char reason[512];
	const char *limit = c->r.timed_out ? "--retry-timeout" :
	    "--retry-max-times";

	if (c->state == C_GIVEUP) {
		snprintf(reason, sizeof(reason), "the output failed %d times, "
		    "then the secondary: %s", c->failures, why);
		dead_letter(c, reason);
		return;
	}
	snprintf(reason, sizeof(reason), "the output failed %d times, last "
	    "with %s; retries exhausted (%s)", c->failures, why, limit);
	if (o.secondary) {
		warn("chunk %s: %s; trying --secondary", idstr(c), reason);
		c->state = C_GIVEUP;
		return;
	}
	dead_letter(c, reason);
}

static void
failed(struct chunk *c, int kind, int st)
{
	long long now = now_ms();
	char why[64];

	describe(st, why, sizeof(why));
	c->last_status = st;
	status_dirty = 1;
	if (kind == J_SECONDARY) {
		c->state = C_GIVEUP;
		give_up(c, why);
		return;
	}
	c->failures++;
	cnt.failures++;
	if (shutting) {
		c->state = C_KEPT;
		warn("chunk %s: the output failed (%s) while shutting down",
		    idstr(c), why);
		return;
	}
	retry_fail(&c->r, now);
	if (retry_limit(&c->r)) {
		give_up(c, why);
		return;
	}
	c->state = C_WAIT;
	warn("chunk %s (%llu events): the output failed (%s); retry %d in "
	    "%.3fs", idstr(c), (unsigned long long)c->records, why,
	    c->r.steps + 1, (c->r.next - now) / 1000.0);
}

static void
job_done(struct job *j)
{
	struct chunk *c = j->c;
	int ok;

	ok = !j->bad && !j->unstarted && (j->kind == J_STDOUT ||
	    (WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0));
	job_stop_sending(j);
	if (j->rfd >= 0)
		close(j->rfd);
	j->rfd = -1;
	j->c = NULL;
	dirty = 1;
	if (j->bad) {
		c->state = C_QUEUED;
		quarantine(c, "a block's checksum did not match while it was "
		    "flushed");
	} else if (ok) {
		commit(c, j->kind);
	} else {
		failed(c, j->kind, j->status);
	}
}

static void
stdout_failed(int e)
{
	if (e != EPIPE)
		warn("unable to write stdout: %s", strerror(e));
	out_broken = e;
}

static void
reap(void)
{
	pid_t pid;
	int st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < njobs; i++)
			if (jobs[i].c && jobs[i].pid == pid) {
				jobs[i].exited = 1;
				jobs[i].status = st;
				job_stop_sending(&jobs[i]);
			}
}

static int
running(void)
{
	int i, n = 0;

	for (i = 0; i < njobs; i++)
		n += jobs[i].c != NULL;
	return n;
}

/* Finishes the jobs whose output is done. */
static void
jobs_check(void)
{
	struct job *j;
	int i;

	for (i = 0; i < njobs; i++) {
		j = &jobs[i];
		if (!j->c)
			continue;
		if (j->unstarted || (j->kind == J_STDOUT ? !j->sending &&
		    !out_broken : j->exited))
			job_done(j);
	}
}

/* --- dispatch --------------------------------------------------------- */

static int
startable(const struct chunk *c, long long now)
{
	switch (c->state) {
	case C_QUEUED:
	case C_GIVEUP:
		return 1;
	case C_WAIT:
		return now >= c->r.next || (shutting && !c->final_tried);
	default:
		return 0;
	}
}

static struct job *
free_slot(void)
{
	int i;

	for (i = 0; i < njobs; i++)
		if (!jobs[i].c)
			return &jobs[i];
	return NULL;
}

/*
 * Starts outputs for the chunks that may go now: in id order, none
 * before an earlier chunk holding one of its tags is done.
 */
static void
dispatch(long long now)
{
	struct chunk *c, *n;
	struct job *j;
	int kind;

	if (deadline_passed || out_broken)
		return;
	if (!dirty && (next_retry_ms < 0 || now < next_retry_ms))
		return;
	dirty = 0;
	next_retry_ms = -1;
	ready_left = 0;
	bl_clear();
	for (c = head; c; c = n) {
		n = c->next;
		if (c->state == C_OPEN)
			continue;
		if (!conflicts(c) && startable(c, now)) {
			ready_left++;
			if ((j = free_slot())) {
				kind = !o.cmd ? J_STDOUT : c->state == C_GIVEUP ?
				    J_SECONDARY : J_PRIMARY;
				job_start(j, c, kind);
			}
		} else if (c->state == C_WAIT && !conflicts(c) &&
		    (next_retry_ms < 0 || c->r.next < next_retry_ms)) {
			next_retry_ms = c->r.next;
		}
		if (!c->corrupt)        /* its events cannot be sent anyway */
			blocked_add(c);
	}
}

/* --- status ----------------------------------------------------------- */

static void bputf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bputf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

struct totals {
	uint64_t chunks, records, bytes, flushing, retrying;
	double oldest;
};

static void
totals(struct totals *t, double now)
{
	struct chunk *c;

	memset(t, 0, sizeof(*t));
	for (c = head; c; c = c->next) {
		t->chunks++;
		t->records += c->records;
		t->bytes += c->bytes;
		t->flushing += c->state == C_RUNNING;
		t->retrying += c->failures > 0;
		if (now - c->created > t->oldest)
			t->oldest = now - c->created;
	}
}

static void
status_text(struct buf *b, int run, long pid)
{
	double now = wall(), next;
	long long ms = now_ms();
	struct totals t;
	struct chunk *c;
	char why[64], when[16];
	int shown = 0;
	time_t t0;

	totals(&t, now);
	bputf(b, "%s: %s", o.dir ? o.dir : "memory buffer", run ?
	    "running" : "not running");
	if (pid) {
		t0 = (time_t)now;
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t0));
		bputf(b, ", pid %ld, as of %s", pid, when);
	}
	bputf(b, "; %llu chunks, %llu events, %llu bytes, oldest %.1fs\n",
	    (unsigned long long)t.chunks, (unsigned long long)t.records,
	    (unsigned long long)t.bytes, t.oldest);
	for (c = head; c; c = c->next) {
		if (++shown > 50) {
			bputf(b, "  ... and %llu more (see --status --json)\n",
			    (unsigned long long)(t.chunks - 50));
			break;
		}
		bputf(b, "  %s %-9s %8llu events %10llu bytes %8.1fs",
		    idstr(c), state_names[c->state],
		    (unsigned long long)c->records,
		    (unsigned long long)c->bytes, now - c->created);
		if (c->key)
			bputf(b, "  tag %.*s", (int)c->key_len, c->key);
		if (c->failures) {
			describe(c->last_status, why, sizeof(why));
			bputf(b, "  %d failure%s (%s)", c->failures,
			    c->failures == 1 ? "" : "s", why);
		}
		if (c->state == C_WAIT) {
			next = (c->r.next - ms) / 1000.0;
			bputf(b, ", retry in %.3fs", next > 0 ? next : 0);
		}
		buf_putc(b, '\n');
	}
}

static void
json_chunk(struct buf *b, const struct chunk *c, double now, long long ms)
{
	char why[64];

	bputf(b, "{\"id\":\"%s\",\"state\":\"%s\",\"tag\":", idstr(c),
	    state_names[c->state]);
	if (c->key)
		json_put_str(b, c->key, c->key_len);
	else
		buf_puts(b, "null");
	bputf(b, ",\"records\":%llu,\"bytes\":%llu,\"age\":%.3f,"
	    "\"failures\":%d,\"retry_in\":", (unsigned long long)c->records,
	    (unsigned long long)c->bytes, now - c->created, c->failures);
	if (c->state == C_WAIT)
		bputf(b, "%.3f", c->r.next > ms ? (c->r.next - ms) / 1000.0 : 0);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"last_error\":");
	if (c->failures) {
		describe(c->last_status, why, sizeof(why));
		json_put_str(b, why, strlen(why));
	} else {
		buf_puts(b, "null");
	}
	buf_putc(b, '}');
}

static void
status_json(struct buf *b, int run, long pid)
{
	double now = wall();
	long long ms = now_ms();
	struct totals t;
	struct chunk *c;

	totals(&t, now);
	buf_puts(b, "{\"dir\":");
	if (o.dir)
		json_put_str(b, o.dir, strlen(o.dir));
	else
		buf_puts(b, "null");
	bputf(b, ",\"running\":%s,\"pid\":%ld,\"time\":%.3f,\"chunks\":%llu,"
	    "\"records\":%llu,\"bytes\":%llu,\"flushing\":%llu,"
	    "\"retrying\":%llu,\"oldest_age\":%.3f,\"queue\":[",
	    run ? "true" : "false", pid, now, (unsigned long long)t.chunks,
	    (unsigned long long)t.records, (unsigned long long)t.bytes,
	    (unsigned long long)t.flushing, (unsigned long long)t.retrying,
	    t.oldest);
	for (c = head; c; c = c->next) {
		json_chunk(b, c, now, ms);
		if (c->next)
			buf_putc(b, ',');
	}
	buf_puts(b, "]}\n");
}

static void
write_file(const char *name, const struct buf *b)
{
	char p[PBUF], t[PBUF + 8];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", o.dir, name);
	snprintf(t, sizeof(t), "%s.tmp", p);
	fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write_full(fd, b->p, b->len) < 0 || close(fd) < 0) {
		unlink(t);
		return;
	}
	rename(t, p);
}

/* DIR/status and DIR/status.json, what --status shows while running. */
static void
status_files(void)
{
	struct buf b = { 0 };

	status_dirty = 0;
	status_at = now_ms() + 1000;
	if (!o.dir)
		return;
	status_text(&b, 1, (long)getpid());
	write_file("status", &b);
	b.len = 0;
	status_json(&b, 1, (long)getpid());
	write_file("status.json", &b);
	buf_free(&b);
}

static void
on_usr1(void)
{
	struct buf b = { 0 };

	stats_print();
	status_text(&b, 1, (long)getpid());
	fwrite(b.p, 1, b.len, stderr);
	buf_free(&b);
	status_files();
}

/* --- recovery --------------------------------------------------------- */

enum { V_OK, V_TORN, V_CORRUPT };

struct scan {
	uint64_t records, bytes, good_end, lost;
	char why[128];
};

/* 1 if fd holds only zero bytes from off to size. */
static int
zeros(int fd, uint64_t off, uint64_t size)
{
	char b[65536];
	ssize_t n, i;

	while (off < size) {
		n = pread_full(fd, b, size - off < sizeof(b) ? size - off :
		    sizeof(b), off);
		if (n <= 0)
			return 0;
		for (i = 0; i < n; i++)
			if (b[i])
				return 0;
		off += n;
	}
	return 1;
}

/* The CRC-32 of a block whose payload is at off in fd. */
static int
crc_ok(int fd, const unsigned char *h, uint64_t off, uint32_t len)
{
	char b[65536];
	uLong c = crc32(0L, Z_NULL, 0);
	ssize_t n;

	c = crc32(c, h + 4, 8);
	while (len > 0) {
		n = pread_full(fd, b, len < sizeof(b) ? len : sizeof(b), off);
		if (n <= 0)
			return 0;
		c = crc32(c, (const Bytef *)b, (uInt)n);
		off += n;
		len -= n;
	}
	return (uint32_t)c == get32(h + 12);
}

/* Walks the blocks of a data file; with verify, checks their CRC too. */
static int
scan_chunk(int fd, uint64_t size, int verify, struct scan *s)
{
	unsigned char h[HDR];
	uint64_t off = 0;
	uint32_t len;

	memset(s, 0, sizeof(*s));
	for (; off < size; off += HDR + len) {
		s->good_end = off;
		if (size - off < HDR || (pread_full(fd, h, HDR, off) == HDR &&
		    memcmp(h, MAGIC, 4) != 0 && zeros(fd, off, size))) {
			snprintf(s->why, sizeof(s->why), "a partial block");
			return V_TORN;
		}
		if (memcmp(h, MAGIC, 4) != 0) {
			snprintf(s->why, sizeof(s->why), "no block header at "
			    "byte %llu", (unsigned long long)off);
			return V_CORRUPT;
		}
		len = get32(h + 4);
		if (len > size - off - HDR || (verify && !crc_ok(fd, h,
		    off + HDR, len) && off + HDR + len == size)) {
			s->lost = get32(h + 8);
			snprintf(s->why, sizeof(s->why), "a partial last block");
			return V_TORN;
		}
		if (verify && !crc_ok(fd, h, off + HDR, len)) {
			snprintf(s->why, sizeof(s->why), "a bad checksum at "
			    "byte %llu", (unsigned long long)off);
			return V_CORRUPT;
		}
		s->records += get32(h + 8);
		s->bytes += len;
	}
	s->good_end = off;
	return V_OK;
}

/* Makes a recovered chunk from a data file and its meta. */
static struct chunk *
recovered(uint64_t id, int queued, const struct scan *s, double mtime)
{
	struct buf key = { 0 };
	struct chunk *c;
	double created = mtime;
	int has_key = 0;

	if (meta_read(id, &key, &has_key, &created) < 0 && !o.status)
		warn("chunk %016llx: no usable meta file; its tag key and age "
		    "are unknown", (unsigned long long)id);
	c = chunk_new(id, has_key ? key.p ? key.p : "" : NULL, key.len);
	buf_free(&key);
	if (!has_key)
		c->ntags = -1;
	c->state = queued ? C_QUEUED : C_OPEN;
	c->on_disk = 1;
	c->queued_name = queued;
	c->records = s->records;
	c->bytes = s->bytes;
	c->size = s->good_end;
	c->created = created;
	c->created_ms = now_ms();
	total_bytes += c->bytes;
	return c;
}

/* A torn chunk is cut back (V_OK), a corrupt one quarantined (V_CORRUPT). */
static int
recover_bad(uint64_t id, int queued, int fd, struct scan *s, int v)
{
	struct chunk *c;
	char p[PBUF], why[256];

	if (v == V_TORN) {
		cpath(p, o.dir, id, queued ? "queued" : "open");
		warn("%s: torn last block cut at byte %llu (%s): %llu events "
		    "lost", p, (unsigned long long)s->good_end, s->why,
		    (unsigned long long)s->lost);
		cnt.torn_lost += s->lost;
		if (ftruncate(fd, (off_t)s->good_end) == 0 &&
		    (o.fsync == FS_NEVER || fsync(fd) == 0))
			return V_OK;
		snprintf(s->why, sizeof(s->why), "cannot be cut: %s",
		    strerror(errno));
	}
	c = recovered(id, queued, s, wall());
	snprintf(why, sizeof(why), "corrupt (%s; %llu events before it)",
	    s->why, (unsigned long long)s->records);
	quarantine(c, why);
	return V_CORRUPT;
}

/*
 * Resumes one chunk left by an earlier run (or, read-only, shows it).
 * Whatever it finds, it says so and goes on: never a reason not to start.
 */
static void
recover_one(uint64_t id, int queued)
{
	char p[PBUF], q[PBUF];
	struct stat st;
	struct scan s;
	struct chunk *c;
	int fd, v;

	cpath(p, o.dir, id, queued ? "queued" : "open");
	if ((fd = open(p, (o.status ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		warn("unable to open %s:%s", p, o.status ? "" :
		    " left where it is");
		cnt.quarantined_chunks += !o.status;
		if (fd >= 0)
			close(fd);
		return;
	}
	v = scan_chunk(fd, (uint64_t)st.st_size, !o.status, &s);
	if (v != V_OK && !o.status)
		v = recover_bad(id, queued, fd, &s, v);
	close(fd);
	if (v == V_CORRUPT && !o.status)
		return;
	if (s.records == 0 && !o.status) {
		unlink(p);
		cpath(p, o.dir, id, "meta");
		unlink(p);
		return;
	}
	c = recovered(id, queued, &s, (double)st.st_mtime);
	if (!queued && !o.status) {
		cpath(q, o.dir, id, "queued");
		if (rename(p, q) < 0)
			warn("unable to rename %s:", p);
		else
			c->queued_name = 1;
		c->state = C_QUEUED;
	}
	cnt.recovered_chunks++;
	cnt.recovered += c->records;
}

static int
cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The id and kind of a file name: 1 open, 2 queued, 3 meta, 4 temporary. */
static int
name_kind(const char *n, uint64_t *id)
{
	static const char *const ext[] = { ".open", ".queued", ".meta" };
	char *end;
	size_t i, l = strlen(n);

	if (l > 4 && strcmp(n + l - 4, ".tmp") == 0 &&
	    strncmp(n, "chunk-", 6) == 0)
		return 4;
	if (strncmp(n, "chunk-", 6) != 0 || l < 22)
		return 0;
	*id = strtoull(n + 6, &end, 16);
	if (end != n + 22)
		return 0;
	for (i = 0; i < 3; i++)
		if (strcmp(end, ext[i]) == 0)
			return (int)i + 1;
	return 0;
}

struct ids {
	uint64_t *v;
	size_t n, cap;
};

static void
ids_add(struct ids *a, uint64_t v)
{
	if (a->n == a->cap)
		a->v = xrealloc(a->v, (a->cap = a->cap ? a->cap * 2 : 64) *
		    sizeof(*a->v));
	a->v[a->n++] = v;
}

/* Lists DIR: data files (id << 1 | queued) and meta files, sorted. */
static void
list_dir(struct ids *data, struct ids *meta)
{
	struct dirent *e;
	char p[PBUF];
	uint64_t id;
	DIR *d;
	int k;

	if (!(d = opendir(o.dir)))
		die(EX_SYS, "unable to open %s:", o.dir);
	while ((e = readdir(d))) {
		k = name_kind(e->d_name, &id);
		snprintf(p, sizeof(p), "%s/%s", o.dir, e->d_name);
		if (k == 4 && !o.status)
			unlink(p);
		else if (k == 1 || k == 2)
			ids_add(data, id << 1 | (k == 2));
		else if (k == 3)
			ids_add(meta, id);
	}
	closedir(d);
	if (data->n)
		qsort(data->v, data->n, sizeof(*data->v), cmp_id);
	if (meta->n)
		qsort(meta->v, meta->n, sizeof(*meta->v), cmp_id);
}

/*
 * Resumes every chunk an earlier run left in DIR, oldest first, and
 * removes meta files whose data file is gone (a crash while committing).
 */
static void
recover(void)
{
	struct ids data = { 0 }, meta = { 0 };
	size_t i, j = 0;
	char p[PBUF];

	list_dir(&data, &meta);
	for (i = 0; i < data.n; i++) {
		if (data.v[i] >> 1 > last_id)
			last_id = data.v[i] >> 1;
		recover_one(data.v[i] >> 1, (int)(data.v[i] & 1));
	}
	for (i = 0; i < meta.n && !o.status; i++) {
		while (j < data.n && data.v[j] >> 1 < meta.v[i])
			j++;
		if (j < data.n && data.v[j] >> 1 == meta.v[i])
			continue;
		cpath(p, o.dir, meta.v[i], "meta");
		unlink(p);
	}
	free(data.v);
	free(meta.v);
}

/* --- the lock and --status -------------------------------------------- */

static void
lock_dir(void)
{
	char p[PBUF], pid[32] = "";
	ssize_t n;

	snprintf(p, sizeof(p), "%s/lock", o.dir);
	if ((lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		die(EX_SYS, "unable to open %s:", p);
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			die(EX_SYS, "unable to lock %s:", p);
		n = pread(lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		die(EX_SYS, "%s is in use by another lbuffer%s%s%s", o.dir,
		    pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(lockfd, 0) < 0 || pwrite_full(lockfd, pid, strlen(pid),
	    0) < 0)
		warn("unable to write %s:", p);
}

static int
print_file(const char *name)
{
	char p[PBUF], b[65536];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", o.dir, name);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((n = read(fd, b, sizeof(b))) > 0)
		fwrite(b, 1, n, stdout);
	close(fd);
	return 0;
}

/* lbuffer --dir DIR --status: what the running lbuffer wrote, or a scan. */
static int
status_cmd(void)
{
	char p[PBUF], pid[32] = "";
	struct buf b = { 0 };
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/lock", o.dir);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		if (print_file(o.json ? "status.json" : "status") == 0)
			return fflush(stdout) == 0 ? EX_OK : EX_SYS;
		if (o.json)
			printf("{\"dir\":\"%s\",\"running\":true,\"pid\":%ld}\n",
			    o.dir, atol(pid));
		else
			printf("%s: running, pid %ld; no status yet\n", o.dir,
			    atol(pid));
		return fflush(stdout) == 0 ? EX_OK : EX_SYS;
	}
	if (access(o.dir, F_OK) < 0)
		die(EX_SYS, "unable to open %s:", o.dir);
	recover();
	if (o.json)
		status_json(&b, 0, 0);
	else
		status_text(&b, 0, 0);
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
	if (fd >= 0)
		close(fd);
	while (head)
		chunk_drop(head, 0);
	return fflush(stdout) == 0 ? EX_OK : EX_SYS;
}

/* --- timers and the loop ---------------------------------------------- */

static void
shutdown_begin(void)
{
	if (shutting)
		return;
	shutting = 1;
	shutdown_at = now_ms() + o.shutdown_ms;
	close_all();
	dirty = 1;
}

static void
kill_jobs(int sig)
{
	int i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].c && jobs[i].pid > 0 && !jobs[i].exited) {
			kill(-jobs[i].pid, sig);
			kill(jobs[i].pid, sig);
		}
}

static void
timers(long long now)
{
	struct chunk *c, *n;

	for (c = ohead; c; c = n) {
		n = c->onext;
		if (c->created_ms + o.flush_ms > now)
			break;
		chunk_close(c);
	}
	if (o.dir && o.fsync == FS_INTERVAL && now >= next_fsync) {
		for (c = ohead; c; c = c->onext)
			chunk_sync(c);
		next_fsync = now + o.fsync_ms;
	}
	if (hold_err && now >= hold_next)
		hold_err = 0;
	if (in.stopping && !in.done && (now - in.stop_ms >= STOP_MAX_MS ||
	    now - (in.last_read_ms > in.stop_ms ? in.last_read_ms :
	    in.stop_ms) >= STOP_IDLE_MS))
		input_end(0);
	if (shutting && !deadline_passed && now >= shutdown_at) {
		deadline_passed = 1;
		kill_at = now + KILL_GRACE_MS;
		kill_jobs(SIGTERM);
	}
	if (deadline_passed && kill_at && now >= kill_at) {
		kill_jobs(SIGKILL);
		kill_at = 0;
	}
	if (o.dir && status_dirty && now >= status_at)
		status_files();
}

static long long
soonest(long long a, long long b)
{
	return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* Milliseconds poll may sleep: until the next timer, -1 for none. */
static int
wake_in(long long now)
{
	long long t = -1;
	struct chunk *c;

	if (dirty && !deadline_passed && !out_broken)
		return 0;
	for (c = ohead; c && c->state != C_OPEN; c = c->onext)
		;
	if (c)
		t = c->created_ms + o.flush_ms;
	if (o.dir && o.fsync == FS_INTERVAL)
		t = soonest(t, next_fsync);
	if (hold_err)
		t = soonest(t, hold_next);
	if (in.stopping && !in.done)
		t = soonest(t, now + 50);
	if (shutting && !deadline_passed)
		t = soonest(t, shutdown_at);
	if (kill_at)
		t = soonest(t, kill_at);
	if (o.dir && status_dirty)
		t = soonest(t, status_at);
	t = soonest(t, next_retry_ms);
	if (t < 0)
		return -1;
	t -= now;
	return t < 0 ? 0 : t > 60000 ? 60000 : (int)t;
}

static int
finished(void)
{
	struct chunk *c;

	if (out_broken)
		return 1;
	if (running())
		return 0;
	if (shutting)
		return deadline_passed || (ready_left == 0 && !hold_err &&
		    !dirty);
	if (!in.done)
		return 0;
	/* what could not be quarantined stays for the next start */
	for (c = head; c; c = c->next)
		if (c->state != C_KEPT)
			return 0;
	return 1;
}

static void
on_chld(int s)
{
	int e = errno;
	ssize_t r;

	(void)s;
	r = write(chld_pipe[1], "", 1);
	(void)r;
	errno = e;
}

/* Builds the poll set: signals, children, stdin, outputs waiting to write. */
static int
poll_set(struct pollfd *pf, int *in_slot)
{
	int n = 2, i;

	pf[0].fd = sig_fd();
	pf[0].events = POLLIN;
	pf[1].fd = chld_pipe[0];
	pf[1].events = POLLIN;
	*in_slot = -1;
	if (intake_ok() && !(in.stopping && in.done)) {
		*in_slot = n;
		pf[n].fd = 0;
		pf[n++].events = POLLIN;
	}
	for (i = 0; i < njobs; i++) {
		if (!jobs[i].c || !jobs[i].sending)
			continue;
		pf[n].fd = jobs[i].fd;
		pf[n++].events = POLLOUT;
	}
	return n;
}

static void
drain_chld(void)
{
	char b[64];

	while (read(chld_pipe[0], b, sizeof(b)) > 0)
		;
}

static void
loop(void)
{
	struct pollfd *pf = xcalloc(njobs + 3, sizeof(*pf));
	long long now;
	int n, in_slot, i;

	for (;;) {
		now = now_ms();
		timers(now);
		store_all();
		dispatch(now);
		jobs_check();
		if (finished())
			break;
		n = poll_set(pf, &in_slot);
		if (poll(pf, n, wake_in(now_ms())) < 0 && errno != EINTR)
			die(EX_SYS, "poll:");
		if (pf[0].revents) {
			sig_drain();
			sig_service();
		}
		if (sig_stop && !in.stopping) {
			in.stopping = 1;
			in.stop_ms = now_ms();
			if (in.done)
				shutdown_begin();
		}
		if (pf[1].revents)
			drain_chld();
		reap();
		for (i = 0; i < njobs; i++)
			if (jobs[i].c && jobs[i].sending)
				job_pump(&jobs[i]);
		jobs_check();
		if (in_slot >= 0 && pf[in_slot].revents)
			read_input();
		else if (intake_ok())
			consume();
	}
	free(pf);
}

/* --- start and end ---------------------------------------------------- */

static void
sync_stats(void)
{
	stats.in = reader_stats(rd)->events;
	stats.bytes_in = reader_stats(rd)->bytes;
	stats.dropped = input_dropped(rd) + cnt.dropped + cnt.lost + cnt.dead +
	    cnt.quarantined;
}

static void
extra_stats(char *b, size_t cap)
{
	snprintf(b, cap, ", stored %llu, failures %llu, by secondary %llu, "
	    "dead-lettered %llu, held %llu", (unsigned long long)cnt.stored,
	    (unsigned long long)cnt.failures,
	    (unsigned long long)cnt.secondary, (unsigned long long)cnt.dead,
	    (unsigned long long)(total_bytes));
}

static void
setup_signals(void)
{
	struct sigaction sa;

	sig_init();
	stats_init(sync_stats, extra_stats);
	sig_on_usr1(on_usr1);
	if (pipe(chld_pipe) < 0)
		die(EX_SYS, "unable to create a pipe:");
	for (int i = 0; i < 2; i++) {
		cloexec(chld_pipe[i]);
		fcntl(chld_pipe[i], F_SETFL, O_NONBLOCK);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	/* a file size limit shows as EFBIG, held like a full disk */
	signal(SIGXFSZ, SIG_IGN);
}

static void
setup(void)
{
	struct stat st;
	char p[PBUF];

	rng ^= (uint64_t)wall() * 1000003 ^ (uint64_t)getpid() << 32;
	njobs = o.cmd ? (int)o.threads : 1;
	jobs = xcalloc(njobs, sizeof(*jobs));
	setup_signals();
	if (!o.cmd && fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)))
		fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
	if (o.dir) {
		if (mkdir_p(o.dir, p) < 0)
			die(EX_SYS, "unable to create directory %s:", p);
		lock_dir();
		recover();
		if (cnt.recovered_chunks)
			warn("resumed %llu chunks, %llu events, from %s",
			    (unsigned long long)cnt.recovered_chunks,
			    (unsigned long long)cnt.recovered, o.dir);
	}
	rd = input_reader(0, "stdin", NULL, NULL);
	in.last_read_ms = now_ms();
	next_fsync = now_ms() + o.fsync_ms;
}

/* What is left at the end: kept on disk, saved as dead letters, or lost. */
static int
leftovers(void)
{
	uint64_t n = 0, ev = 0, lost = 0;
	struct chunk *c;

	for (c = head; c; c = c->next) {
		n++;
		ev += c->records;
		if (o.dir)
			lost += c->blk_records;
	}
	if (!n)
		return 0;
	if (o.dir) {
		for (c = head; c; c = c->next)
			if (c->fd >= 0 && o.fsync == FS_INTERVAL)
				chunk_sync(c);
		if (lost)
			warn("%llu events could not be stored and are lost",
			    (unsigned long long)lost);
		cnt.lost += lost;
		/* a closed downstream ends the program quietly */
		if (out_broken != EPIPE)
			warn("%llu events in %llu chunks stay in %s for the "
			    "next start", (unsigned long long)(ev - lost),
			    (unsigned long long)n, o.dir);
		return lost > 0;
	}
	while (head) {
		c = head;
		dead_letter(c, "not delivered before the end");
		if (head == c) {
			cnt.lost += c->records;
			chunk_free(c);
		}
	}
	return 1;
}

static int
finish(void)
{
	int code = in.code, bad;
	char p[PBUF];

	if (out_broken && out_broken != EPIPE)
		code = EX_SYS;
	bad = leftovers();
	if (bad || cnt.dead || cnt.dropped || cnt.lost || cnt.torn_lost ||
	    cnt.quarantined_chunks || overflow_error)
		code = EX_SYS;
	if (o.dir) {
		snprintf(p, sizeof(p), "%s/status", o.dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/status.json", o.dir);
		unlink(p);
	}
	input_report(rd, "stdin");
	input_stats();
	while (head)
		chunk_drop(head, 0);
	reader_free(rd);
	for (int i = 0; i < njobs; i++)
		buf_free(&jobs[i].b);
	free(jobs);
	free(bl.k);
	free(bl.g);
	if (out_broken == EPIPE && code == 0)
		code = 141;
	return code;
}

/* --- options ---------------------------------------------------------- */

static long long
dur(const char *arg, const char *name)
{
	long long v = opt_duration_ms(arg);

	if (v < 0)
		die(EX_USAGE, "bad duration '%s' for --%s", arg, name);
	return v;
}

static long long
size(const char *arg, const char *name)
{
	long long v = opt_size(arg);

	if (v <= 0)
		die(EX_USAGE, "bad size '%s' for --%s", arg, name);
	return v;
}

static long long
num(const char *arg, const char *name)
{
	long long v = opt_uint(arg);

	if (v < 0)
		die(EX_USAGE, "bad number '%s' for --%s", arg, name);
	return v;
}

static int
choose(const char *arg, const char *name, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcasecmp(arg, names[i]) == 0)
			return i;
	die(EX_USAGE, "bad value '%s' for --%s", arg, name);
}

/*
 * --chunk-keys: a comma-separated list, white space around each key
 * trimmed as Fluentd trims it; tag is the one key there is.  1 for tag.
 */
static int
chunk_keys(const char *arg)
{
	static const char ws[] = " \t\n\v\f\r";
	const char *p = arg, *e, *c;
	int tag = 0;

	for (; *p; p = *c ? c + 1 : c) {
		c = p + strcspn(p, ",");
		p += strspn(p, ws);
		for (e = c; e > p && strchr(ws, e[-1]); e--)
			continue;
		if (e == p)
			continue;
		if (e - p != 3 || strncasecmp(p, "tag", 3) != 0)
			die(EX_USAGE, "bad value '%s' for --chunk-keys (tag is "
			    "the only chunk key)", arg);
		tag = 1;
	}
	return tag;
}

static void
option(int c, const char *arg)
{
	static const char *const ov[] = { "block", "drop-oldest-chunk",
		"error", NULL };
	static const char *const fs[] = { "always", "interval", "never", NULL };
	static const char *const bools[] = { "false", "true", "no", "yes",
		"off", "on", "0", "1", NULL };
	char *end;

	switch (c) {
	case 'd': o.dir = arg; break;
	case O_CHUNK_SIZE: o.chunk_size = size(arg, "chunk-limit-size"); break;
	case O_CHUNK_RECORDS:
		o.chunk_records = num(arg, "chunk-limit-records");
		break;
	case O_FLUSH_INTERVAL: o.flush_ms = dur(arg, "flush-interval"); break;
	case O_CHUNK_KEYS: o.keys = chunk_keys(arg); break;
	case O_TOTAL_LIMIT:
		o.total = size(arg, "total-limit-size");
		o.total_set = 1;
		break;
	case O_OVERFLOW: o.overflow = choose(arg, "overflow-action", ov); break;
	case O_THREADS: o.threads = num(arg, "flush-thread-count"); break;
	case O_RETRY_WAIT: o.retry_ms = dur(arg, "retry-wait"); break;
	case O_RETRY_BASE:
		o.base = strtod(arg, &end);
		if (*end || end == arg || !(o.base > 0) || !isfinite(o.base))
			die(EX_USAGE, "bad number '%s' for "
			    "--retry-exponential-backoff-base", arg);
		break;
	case O_RETRY_MAX_INT:
		o.retry_max_ms = dur(arg, "retry-max-interval");
		break;
	case O_RETRY_RANDOMIZE:
		o.randomize = choose(arg, "retry-randomize", bools) % 2;
		break;
	case O_RETRY_TIMEOUT:
		o.retry_timeout_ms = dur(arg, "retry-timeout");
		break;
	case O_RETRY_TIMES: o.retry_times = num(arg, "retry-max-times"); break;
	case O_RETRY_FOREVER: o.forever = 1; break;
	case O_SECONDARY: o.secondary = arg; break;
	case O_DEAD_DIR: o.dead = arg; break;
	case O_FSYNC_POLICY: o.fsync = choose(arg, "fsync", fs); break;
	case O_FSYNC_INTERVAL: o.fsync_ms = dur(arg, "fsync-interval"); break;
	case O_SHUTDOWN_TIMEOUT:
		o.shutdown_ms = dur(arg, "shutdown-timeout");
		break;
	case O_STATUS: o.status = 1; break;
	case O_JSON: o.json = 1; break;
	default: input_opt(c, arg); break;
	}
}

static void
check_options(void)
{
	if (o.status && !o.dir)
		die(EX_USAGE, "--status needs --dir");
	if (o.json && !o.status)
		die(EX_USAGE, "--json goes with --status");
	if (o.threads < 1 || o.threads > 1024)
		die(EX_USAGE, "--flush-thread-count must be 1 to 1024");
	if (o.dir && strlen(o.dir) > PBUF - 64)
		die(EX_USAGE, "--dir is too long");
	if (o.dead && strlen(o.dead) > PBUF - 64)
		die(EX_USAGE, "--dead-letter-dir is too long");
	if (o.secondary && o.forever)
		die(EX_USAGE, "--secondary and --retry-forever exclude each "
		    "other (as in Fluentd)");
	/* a block's length is 32 bits: keep blocks well below that */
	if (o.chunk_size > 1LL << 30 || input.max > 1u << 30)
		die(EX_USAGE, "--chunk-limit-size and --max-event-size go up "
		    "to 1G");
	if (o.secondary && !o.cmd)
		die(EX_USAGE, "--secondary needs an output COMMAND");
	if (!o.total_set)
		o.total = o.dir ? 64LL << 30 : 512LL << 20;
	if (o.dead)
		snprintf(dead_dir, sizeof(dead_dir), "%s", o.dead);
	else if (o.dir)
		snprintf(dead_dir, sizeof(dead_dir), "%s/dead", o.dir);
	if (o.dir)
		snprintf(quar_dir, sizeof(quar_dir), "%s/quarantine", o.dir);
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	if (optind < argc)
		o.cmd = argv + optind;
	if (o.cmd && o.status)
		opt_fail(&prog, "--status takes no COMMAND");
	check_options();
}

int
main(int argc, char **argv)
{
	progname_set(argv[0]);
	options(argc, argv);
	if (o.status)
		return status_cmd();
	setup();
	loop();
	return finish();
}
