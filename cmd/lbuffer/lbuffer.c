/* lbuffer - a durable chunked buffer: at-least-once delivery to a command */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "input.h"
#include "metrics.h"
#include "opt.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"

#include "lbuffer.h"

#define USAGE "[options] [-- COMMAND [ARG...]]"
#define ABOUT "Gather events into chunks, in memory or as files under --dir, " \
	"and flush each\nchunk by running COMMAND with the chunk's events on " \
	"its stdin: exit status 0\ncommits the chunk, anything else retries " \
	"it with Fluentd's exponential\nbackoff.  Without COMMAND, chunks " \
	"are written to stdout."

#define KILL_GRACE_MS 2000

enum {
	O_CHUNK_SIZE = OPT_LONG, O_CHUNK_RECORDS, O_FLUSH_INTERVAL,
	O_CHUNK_KEYS, O_TOTAL_LIMIT, O_OVERFLOW, O_THREADS, O_RETRY_WAIT,
	O_RETRY_BASE, O_RETRY_MAX_INT, O_RETRY_RANDOMIZE, O_RETRY_TIMEOUT,
	O_RETRY_TIMES, O_RETRY_FOREVER, O_SECONDARY, O_DEAD_DIR, O_FSYNC_POLICY,
	O_FSYNC_INTERVAL, O_SHUTDOWN_TIMEOUT, O_STATUS, O_JSON, O_TIMEKEY,
	O_TIMEKEY_WAIT, O_TIMEKEY_UTC, O_TIMEKEY_ZONE, O_OPEN_LIMIT
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
	{ O_CHUNK_KEYS, "chunk-keys", "KEYS", "one open chunk per tag, time "
	    "bucket and record key values" },
	{ O_TIMEKEY, "timekey", "DURATION", "length of a time bucket (with "
	    "--chunk-keys time)" },
	{ O_TIMEKEY_WAIT, "timekey-wait", "DURATION", "flush a bucket this "
	    "long after its end (default 10m)" },
	{ O_TIMEKEY_UTC, "timekey-use-utc", NULL, "align buckets and format "
	    "times in UTC (default local)" },
	{ O_TIMEKEY_ZONE, "timekey-zone", "ZONE", "align buckets and format "
	    "times in ZONE: +HHMM or a tz name" },
	{ O_OPEN_LIMIT, "chunk-limit-open", "N", "most open chunks; the oldest "
	    "closes first (default 256)" },
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
	{ O_FSYNC_POLICY, "fsync", "POLICY", "always (default), interval or "
	    "never" },
	{ O_FSYNC_INTERVAL, "fsync-interval", "DURATION", "period of --fsync "
	    "interval (default 1s)" },
	{ O_SHUTDOWN_TIMEOUT, "shutdown-timeout", "DURATION", "after SIGTERM, "
	    "time left to flush (default 10s)" },
	{ O_STATUS, "status", NULL, "show the chunks held in --dir and exit" },
	{ O_JSON, "json", NULL, "show --status as JSON" },
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "every event delivered, or stored in the directory at a signal" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data: the events before it were delivered" },
	{ 4, "events not delivered (the messages say how many), or a system "
	    "error" },
	{ 141, "standard output, without a command, was closed" },
	OPT_EXIT_END
};

/* the options end where the output command begins */
static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 1 };

struct lb lb = {
	.o = {
		.chunk_size = 8LL << 20, .flush_ms = 60000, .threads = 1,
		.retry_ms = 1000, .retry_max_ms = -1,
		.retry_timeout_ms = 72LL * 3600 * 1000, .retry_times = -1,
		.fsync_ms = 1000, .shutdown_ms = 10000, .base = 2,
		.randomize = 1, .timekey_wait_ms = 600000, .open_max = 256
	},
	.disp = { .dirty = 1, .next_retry = -1 },
	.status = { .dirty = 1 }
};

static long long next_fsync;    /* --fsync interval */

/* --- timers and the loop ---------------------------------------------- */

/* Starts the end: every chunk closed, --shutdown-timeout counting. */
void
lb_shutdown(void)
{
	if (lb.stop.shutting)
		return;
	lb.stop.shutting = 1;
	lb.stop.shutdown_at = clock_ms() + lb.o.shutdown_ms;
	chunk_close_all();
	lb.disp.dirty = 1;
}

static void
timers(long long now)
{
	struct chunk *c, *n;

	for (c = lb.ohead; c; c = n) {
		n = c->onext;
		if (c->state == C_OPEN && chunk_close_at(c) <= now)
			chunk_close(c);
	}
	if (lb.o.dir && lb.o.fsync == FS_INTERVAL && now >= next_fsync) {
		for (c = lb.ohead; c; c = c->onext)
			store_sync(c);
		intake_marks_synced(1);
		next_fsync = now + lb.o.fsync_ms;
	}
	if (lb.hold.err && now >= lb.hold.next)
		lb.hold.err = 0;
	if (!lb.in.done && waiter_grace(&lb.in.stop, lb.in.last_read_ms) == 0)
		intake_end(0);
	if (lb.stop.shutting && !lb.stop.deadline_passed &&
	    now >= lb.stop.shutdown_at) {
		lb.stop.deadline_passed = 1;
		lb.stop.kill_at = now + KILL_GRACE_MS;
		job_kill_all(SIGTERM);
	}
	if (lb.stop.deadline_passed && lb.stop.kill_at &&
	    now >= lb.stop.kill_at) {
		job_kill_all(SIGKILL);
		lb.stop.kill_at = 0;
	}
	if (lb.o.dir && lb.status.dirty && now >= lb.status.at)
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

	if (lb.disp.dirty && !lb.stop.deadline_passed && !lb.disp.out_broken &&
	    !intake_marks_waiting())
		return 0;
	for (c = lb.ohead; c; c = c->onext)
		if (c->state == C_OPEN)
			t = soonest(t, chunk_close_at(c));
	if (lb.o.dir && lb.o.fsync == FS_INTERVAL)
		t = soonest(t, next_fsync);
	if (lb.hold.err)
		t = soonest(t, lb.hold.next);
	if (lb.in.stop.stopping && !lb.in.done)
		t = soonest(t, now + waiter_grace(&lb.in.stop,
		    lb.in.last_read_ms));
	if (lb.stop.shutting && !lb.stop.deadline_passed)
		t = soonest(t, lb.stop.shutdown_at);
	if (lb.stop.kill_at)
		t = soonest(t, lb.stop.kill_at);
	if (lb.o.dir && lb.status.dirty)
		t = soonest(t, lb.status.at);
	t = soonest(t, lb.disp.next_retry);
	if (t < 0)
		return -1;
	t -= now;
	return t < 0 ? 0 : t > 60000 ? 60000 : (int)t;
}

static int
finished(void)
{
	struct chunk *c;

	if (lb.disp.out_broken)
		return 1;
	if (intake_marks_waiting() && !lb.stop.deadline_passed)
		return 0;
	if (job_running())
		return 0;
	if (lb.stop.shutting)
		return lb.stop.deadline_passed || (lb.disp.ready_left == 0 &&
		    !lb.hold.err && !lb.disp.dirty);
	if (!lb.in.done)
		return 0;
	/* what could not be quarantined stays for the next start */
	for (c = lb.head; c; c = c->next)
		if (c->state != C_KEPT)
			return 0;
	return 1;
}

/*
 * Builds the poll set: signals, children, stdin, stdout with marks to
 * pass on, outputs waiting to write.
 */
static int
poll_set(struct pollfd *pf, int *in_slot)
{
	int n = 2;

	pf[0].fd = sig_fd();
	pf[0].events = POLLIN;
	pf[1].fd = job_chld_fd();
	pf[1].events = POLLIN;
	*in_slot = -1;
	if (intake_ok() && !(lb.in.stop.stopping && lb.in.done)) {
		*in_slot = n;
		pf[n].fd = 0;
		pf[n++].events = POLLIN;
	}
	if (intake_marks_waiting()) {
		pf[n].fd = 1;
		pf[n++].events = POLLOUT;
	}
	return job_poll(pf, n);
}

static void
loop(void)
{
	struct pollfd *pf = xcalloc(job_slots() + 4, sizeof(*pf));
	long long now;
	int n, in_slot;

	for (;;) {
		now = clock_ms();
		timers(now);
		store_all();
		intake_marks_settle();
		job_dispatch(now);
		job_check_all();
		intake_marks_settle();
		if (finished())
			break;
		n = poll_set(pf, &in_slot);
		if (poll(pf, n, metrics_timeout(wake_in(clock_ms()))) < 0 &&
		    errno != EINTR)
			die(EX_SYS, "poll:");
		if (pf[0].revents) {
			sig_drain();
			sig_service();
		}
		if (sig_stop && !lb.in.stop.stopping) {
			waiter_grace(&lb.in.stop, lb.in.last_read_ms);
			if (lb.in.done)
				lb_shutdown();
		}
		if (pf[1].revents)
			job_drain_chld();
		job_reap();
		job_pump_all();
		job_check_all();
		intake_marks_settle();
		if (in_slot >= 0 && pf[in_slot].revents)
			intake_read();
		else if (intake_ok())
			intake_consume();
	}
	free(pf);
}

/* --- start and end ---------------------------------------------------- */

static void
sync_stats(void)
{
	stats.in = reader_stats(lb.in.rd)->events;
	stats.bytes_in = reader_stats(lb.in.rd)->bytes;
	stats.dropped = input_dropped(lb.in.rd) + lb.cnt.dropped +
	    lb.cnt.lost + lb.cnt.dead + lb.cnt.quarantined;
}

static void
extra_stats(char *b, size_t cap)
{
	int n;

	n = snprintf(b, cap, ", stored %llu, failures %llu, by secondary "
	    "%llu, dead-lettered %llu, held %llu",
	    (unsigned long long)lb.cnt.stored,
	    (unsigned long long)lb.cnt.failures,
	    (unsigned long long)lb.cnt.secondary,
	    (unsigned long long)lb.cnt.dead,
	    (unsigned long long)(lb.total_bytes));
	if (n >= 0 && (size_t)n < cap)
		intake_marks_stats(b + n, cap - n);
}

static void
setup_signals(void)
{
	sig_init();
	stats_init(sync_stats, extra_stats);
	metrics_families();
	sig_on_usr1(status_usr1);
	job_init(lb.o.cmd ? (int)lb.o.threads : 1);
	/* a file size limit shows as EFBIG, held like a full disk */
	signal(SIGXFSZ, SIG_IGN);
}

static void
setup(void)
{
	struct stat st;
	char p[PBUF];

	setup_signals();
	if (!lb.o.cmd && fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)))
		fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
	if (lb.o.dir) {
		if (fs_mkdir_p(lb.o.dir, 1, p, sizeof(p)) < 0)
			die(EX_SYS, "unable to create directory %s:", p);
		status_lock();
		recover_dir();
		if (lb.cnt.recovered_chunks)
			warn("resumed %llu chunks, %llu events, from %s",
			    (unsigned long long)lb.cnt.recovered_chunks,
			    (unsigned long long)lb.cnt.recovered, lb.o.dir);
	}
	lb.in.rd = input_reader(0, "stdin", NULL, NULL);
	intake_marks_init();
	lb.in.last_read_ms = clock_ms();
	next_fsync = clock_ms() + lb.o.fsync_ms;
}

/* What is left at the end: kept on disk, saved as dead letters, or lost. */
static int
leftovers(void)
{
	uint64_t n = 0, ev = 0, lost = 0;
	struct chunk *c;

	for (c = lb.head; c; c = c->next) {
		n++;
		ev += c->records;
		if (lb.o.dir)
			lost += c->blk_records;
	}
	if (!n)
		return 0;
	if (lb.o.dir) {
		for (c = lb.head; c; c = c->next)
			if (c->fd >= 0 && lb.o.fsync == FS_INTERVAL)
				store_sync(c);
		if (lost)
			warn("%llu events could not be stored and are lost",
			    (unsigned long long)lost);
		lb.cnt.lost += lost;
		/* a closed downstream ends the program quietly */
		if (lb.disp.out_broken != EPIPE)
			warn("%llu events in %llu chunks stay in %s for the "
			    "next start", (unsigned long long)(ev - lost),
			    (unsigned long long)n, lb.o.dir);
		return lost > 0;
	}
	while (lb.head) {
		c = lb.head;
		job_dead_letter(c, "not delivered before the end");
		if (lb.head == c) {
			lb.cnt.lost += c->records;
			chunk_free(c);
		}
	}
	return 1;
}

static int
finish(void)
{
	int code = lb.in.code, bad;
	char p[PBUF];

	if (lb.disp.out_broken && lb.disp.out_broken != EPIPE)
		code = EX_SYS;
	bad = leftovers();
	if (bad || lb.cnt.dead || lb.cnt.dropped || lb.cnt.lost ||
	    lb.cnt.torn_lost || lb.cnt.quarantined_chunks ||
	    lb.in.overflow_error)
		code = EX_SYS;
	if (lb.o.dir) {
		snprintf(p, sizeof(p), "%s/status", lb.o.dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/status.json", lb.o.dir);
		unlink(p);
	}
	input_report(lb.in.rd, "stdin");
	input_stats();
	while (lb.head)
		chunk_drop(lb.head, 0);
	reader_free(lb.in.rd);
	intake_marks_free();
	chunk_keys_free();
	job_free_all();
	if (lb.disp.out_broken == EPIPE && code == 0)
		code = 141;
	return code;
}

/* --- options ---------------------------------------------------------- */

/* A record key's name as Fluentd's chunk keys take it. */
static int
key_name_ok(const char *p, size_t n)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@";
	size_t i;

	if (n == 0 || n > RKEY_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr(ok, p[i]))
			return 0;
	return 1;
}

/* Adds one key of --chunk-keys: tag, time or a record key. */
static void
chunk_key(const char *p, size_t n, const char *arg)
{
	int i;

	if (n == 3 && strncasecmp(p, "tag", 3) == 0) {
		lb.o.keys = 1;
		return;
	}
	if (n == 4 && strncasecmp(p, "time", 4) == 0) {
		lb.o.tkeyed = 1;
		return;
	}
	if (!key_name_ok(p, n))
		die(EX_USAGE, "bad value '%s' for --chunk-keys (a record key "
		    "is 1 to %d of A-Z a-z 0-9 - _ . @)", arg, RKEY_NAME_MAX);
	for (i = 0; i < lb.o.nrkeys; i++)
		if (lb.o.rkey_len[i] == n && memcmp(lb.o.rkey[i], p, n) == 0)
			return;
	if (lb.o.nrkeys == RKEYS_MAX)
		die(EX_USAGE, "bad value '%s' for --chunk-keys (at most %d "
		    "record keys)", arg, RKEYS_MAX);
	lb.o.rkey[lb.o.nrkeys] = p;
	lb.o.rkey_len[lb.o.nrkeys++] = n;
}

/*
 * --chunk-keys: a comma-separated list, white space around each key
 * trimmed as Fluentd trims it: tag, time and record keys.
 */
static void
chunk_keys(const char *arg)
{
	static const char ws[] = " \t\n\v\f\r";
	const char *p = arg, *e, *c;

	lb.o.keys = lb.o.tkeyed = lb.o.nrkeys = 0;
	for (; *p; p = *c ? c + 1 : c) {
		c = p + strcspn(p, ",");
		p += strspn(p, ws);
		for (e = c; e > p && strchr(ws, e[-1]); e--)
			continue;
		if (e == p)
			continue;
		chunk_key(p, (size_t)(e - p), arg);
	}
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
	case 'd': lb.o.dir = arg; break;
	case O_CHUNK_SIZE:
		lb.o.chunk_size = opt_size_arg(arg, "chunk-limit-size");
		break;
	case O_CHUNK_RECORDS:
		lb.o.chunk_records = opt_uint_arg(arg, "chunk-limit-records");
		break;
	case O_FLUSH_INTERVAL:
		lb.o.flush_ms = opt_duration_arg(arg, "flush-interval");
		break;
	case O_CHUNK_KEYS: chunk_keys(arg); break;
	case O_TIMEKEY:
		lb.o.timekey = opt_duration_arg(arg, "timekey") / 1000;
		if (lb.o.timekey < 1)
			die(EX_USAGE, "--timekey must be at least 1s");
		break;
	case O_TIMEKEY_WAIT:
		lb.o.timekey_wait_ms = opt_duration_arg(arg, "timekey-wait");
		break;
	case O_TIMEKEY_UTC: lb.o.utc = 1; break;
	case O_TIMEKEY_ZONE: lb.o.zone = arg; break;
	case O_OPEN_LIMIT:
		lb.o.open_max = opt_uint_arg(arg, "chunk-limit-open");
		if (lb.o.open_max < 1)
			die(EX_USAGE, "--chunk-limit-open must be at least 1");
		break;
	case O_TOTAL_LIMIT:
		lb.o.total = opt_size_arg(arg, "total-limit-size");
		lb.o.total_set = 1;
		break;
	case O_OVERFLOW:
		lb.o.overflow = opt_choice_arg(arg, "overflow-action", ov);
		break;
	case O_THREADS: lb.o.threads = opt_uint_arg(arg, "flush-thread-count"); break;
	case O_RETRY_WAIT: lb.o.retry_ms = opt_duration_arg(arg, "retry-wait"); break;
	case O_RETRY_BASE:
		lb.o.base = strtod(arg, &end);
		if (*end || end == arg || !(lb.o.base > 0) ||
		    !isfinite(lb.o.base))
			die(EX_USAGE, "bad number '%s' for "
			    "--retry-exponential-backoff-base", arg);
		break;
	case O_RETRY_MAX_INT:
		lb.o.retry_max_ms = opt_duration_arg(arg, "retry-max-interval");
		break;
	case O_RETRY_RANDOMIZE:
		lb.o.randomize = opt_choice_arg(arg, "retry-randomize", bools) % 2;
		break;
	case O_RETRY_TIMEOUT:
		lb.o.retry_timeout_ms = opt_duration_arg(arg, "retry-timeout");
		break;
	case O_RETRY_TIMES:
		lb.o.retry_times = opt_uint_arg(arg, "retry-max-times");
		break;
	case O_RETRY_FOREVER: lb.o.forever = 1; break;
	case O_SECONDARY: lb.o.secondary = arg; break;
	case O_DEAD_DIR: lb.o.dead = arg; break;
	case O_FSYNC_POLICY: lb.o.fsync = opt_choice_arg(arg, "fsync", fs); break;
	case O_FSYNC_INTERVAL:
		lb.o.fsync_ms = opt_duration_arg(arg, "fsync-interval");
		break;
	case O_SHUTDOWN_TIMEOUT:
		lb.o.shutdown_ms = opt_duration_arg(arg, "shutdown-timeout");
		break;
	case O_STATUS: lb.o.status = 1; break;
	case O_JSON: lb.o.json = 1; break;
	default: input_opt(c, arg); break;
	}
}

/* Whether z is +HHMM or +HH:MM (or -): then its hours and minutes. */
static int
offset_zone(const char *z, int *h, int *m)
{
	const char *d = "0123456789";
	size_t n = strlen(z), c = n == 6;

	if ((z[0] != '+' && z[0] != '-') || (n != 5 && n != 6) ||
	    (c && z[3] != ':') || !strchr(d, z[1]) || !strchr(d, z[2]) ||
	    !strchr(d, z[3 + c]) || !strchr(d, z[4 + c]) || !z[1] || !z[2])
		return 0;
	*h = (z[1] - '0') * 10 + z[2] - '0';
	*m = (z[3 + c] - '0') * 10 + z[4 + c] - '0';
	return *h <= 23 && *m <= 59;
}

/*
 * --timekey-zone as Fluentd takes it: [+-]HH[:]MM, or a name of the tz
 * database; set as TZ for lbuffer (the commands get the TZ they had).
 */
static void
timekey_zone(const char *z)
{
	char tz[64], p[PBUF];
	const char *dir = getenv("TZDIR");
	int h, m;

	if (offset_zone(z, &h, &m)) {
		/* POSIX counts west of Greenwich as positive */
		snprintf(tz, sizeof(tz), "<%c%02d%02d>%c%02d:%02d", z[0], h, m,
		    z[0] == '+' ? '-' : '+', h, m);
	} else {
		snprintf(p, sizeof(p), "%s/%s", dir ? dir :
		    "/usr/share/zoneinfo", z);
		if (!*z || z[0] == '/' || strstr(z, "..") || strlen(z) > 60 ||
		    access(p, R_OK) < 0)
			die(EX_USAGE, "bad value '%s' for --timekey-zone "
			    "(+HHMM, -HH:MM or a tz database name)", z);
		snprintf(tz, sizeof(tz), "%s", z);
	}
	if (getenv("TZ"))
		lb.o.env_tz = xstrdup(getenv("TZ"));
	setenv("TZ", tz, 1);
	tzset();
}

static void
check_options(void)
{
	if (lb.o.status && !lb.o.dir)
		die(EX_USAGE, "--status needs --dir");
	if (lb.o.zone && lb.o.utc)
		die(EX_USAGE, "--timekey-zone and --timekey-use-utc exclude "
		    "each other");
	if (lb.o.zone)
		timekey_zone(lb.o.zone);
	if (lb.o.tkeyed && !lb.o.timekey)
		die(EX_USAGE, "--chunk-keys time needs --timekey (as in "
		    "Fluentd)");
	if (lb.o.json && !lb.o.status)
		die(EX_USAGE, "--json goes with --status");
	if (lb.o.threads < 1 || lb.o.threads > 1024)
		die(EX_USAGE, "--flush-thread-count must be 1 to 1024");
	if (lb.o.dir && strlen(lb.o.dir) > PBUF - 64)
		die(EX_USAGE, "--dir is too long");
	if (lb.o.dead && strlen(lb.o.dead) > PBUF - 64)
		die(EX_USAGE, "--dead-letter-dir is too long");
	if (lb.o.secondary && lb.o.forever)
		die(EX_USAGE, "--secondary and --retry-forever exclude each "
		    "other (as in Fluentd)");
	/* a block's length is 32 bits: keep blocks well below that */
	if (lb.o.chunk_size > 1LL << 30 || input.max > 1u << 30)
		die(EX_USAGE, "--chunk-limit-size and --max-event-size go up "
		    "to 1G");
	if (lb.o.secondary && !lb.o.cmd)
		die(EX_USAGE, "--secondary needs an output COMMAND");
	if (!lb.o.total_set)
		lb.o.total = lb.o.dir ? 64LL << 30 : 512LL << 20;
	if (lb.o.dead)
		snprintf(lb.o.dead_dir, sizeof(lb.o.dead_dir), "%s", lb.o.dead);
	else if (lb.o.dir)
		snprintf(lb.o.dead_dir, sizeof(lb.o.dead_dir), "%s/dead",
		    lb.o.dir);
	if (lb.o.dir)
		snprintf(lb.o.quar_dir, sizeof(lb.o.quar_dir), "%s/quarantine",
		    lb.o.dir);
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	if (optind < argc)
		lb.o.cmd = argv + optind;
	if (lb.o.cmd && lb.o.status)
		opt_fail(&prog, "--status takes no COMMAND");
	check_options();
}

int
main(int argc, char **argv)
{
	progname_set(argv[0]);
	options(argc, argv);
	if (lb.o.status)
		return status_cmd();
	setup();
	loop();
	return finish();
}
