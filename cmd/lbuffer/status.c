/* status - what lbuffer holds: --status, DIR/status, SIGUSR1; the lock */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "json.h"
#include "stats.h"

#include "lbuffer.h"

#define LOCK_WAIT_MS 2000

static int lockfd = -1;         /* DIR/lock, held while running */

static const char *const state_names[] = {
	"open", "closing", "queued", "flushing", "retrying", "secondary",
	"kept"
};

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
	for (c = lb.head; c; c = c->next) {
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
	long long ms = clock_ms();
	struct totals t;
	struct chunk *c;
	char why[64], when[16];
	int shown = 0;
	time_t t0;

	totals(&t, now);
	bputf(b, "%s: %s", lb.o.dir ? lb.o.dir : "memory buffer", run ?
	    "running" : "not running");
	if (pid) {
		t0 = (time_t)now;
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t0));
		bputf(b, ", pid %ld, as of %s", pid, when);
	}
	bputf(b, "; %llu chunks, %llu events, %llu bytes, oldest %.1fs\n",
	    (unsigned long long)t.chunks, (unsigned long long)t.records,
	    (unsigned long long)t.bytes, t.oldest);
	for (c = lb.head; c; c = c->next) {
		if (++shown > 50) {
			bputf(b, "  ... and %llu more (see --status --json)\n",
			    (unsigned long long)(t.chunks - 50));
			break;
		}
		bputf(b, "  %s %-9s %8llu events %10llu bytes %8.1fs",
		    chunk_idstr(c), state_names[c->state],
		    (unsigned long long)c->records,
		    (unsigned long long)c->bytes, now - c->created);
		if (c->key)
			bputf(b, "  tag %.*s", (int)c->key_len, c->key);
		if (c->failures) {
			job_describe(c->last_status, why, sizeof(why));
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

	bputf(b, "{\"id\":\"%s\",\"state\":\"%s\",\"tag\":", chunk_idstr(c),
	    state_names[c->state]);
	if (c->key)
		json_put_str(b, c->key, c->key_len);
	else
		buf_puts(b, "null");
	bputf(b, ",\"records\":%llu,\"bytes\":%llu,\"age\":%.3f,"
	    "\"failures\":%d,\"retry_in\":", (unsigned long long)c->records,
	    (unsigned long long)c->bytes, now - c->created, c->failures);
	if (c->state == C_WAIT)
		bputf(b, "%.3f", c->r.next > ms ? (c->r.next - ms) / 1000.0 :
		    0);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"last_error\":");
	if (c->failures) {
		job_describe(c->last_status, why, sizeof(why));
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
	long long ms = clock_ms();
	struct totals t;
	struct chunk *c;

	totals(&t, now);
	buf_puts(b, "{\"dir\":");
	if (lb.o.dir)
		json_put_str(b, lb.o.dir, strlen(lb.o.dir));
	else
		buf_puts(b, "null");
	bputf(b, ",\"running\":%s,\"pid\":%ld,\"time\":%.3f,\"chunks\":%llu,"
	    "\"records\":%llu,\"bytes\":%llu,\"flushing\":%llu,"
	    "\"retrying\":%llu,\"oldest_age\":%.3f,\"queue\":[",
	    run ? "true" : "false", pid, now, (unsigned long long)t.chunks,
	    (unsigned long long)t.records, (unsigned long long)t.bytes,
	    (unsigned long long)t.flushing, (unsigned long long)t.retrying,
	    t.oldest);
	for (c = lb.head; c; c = c->next) {
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

	snprintf(p, sizeof(p), "%s/%s", lb.o.dir, name);
	snprintf(t, sizeof(t), "%s.tmp", p);
	fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (fs_write_all(fd, b->p, b->len) < b->len || close(fd) < 0) {
		unlink(t);
		return;
	}
	rename(t, p);
}

/* DIR/status and DIR/status.json, what --status shows while running. */
void
status_files(void)
{
	struct buf b = { 0 };

	lb.status.dirty = 0;
	lb.status.at = clock_ms() + 1000;
	if (!lb.o.dir)
		return;
	status_text(&b, 1, (long)getpid());
	write_file("status", &b);
	b.len = 0;
	status_json(&b, 1, (long)getpid());
	write_file("status.json", &b);
	buf_free(&b);
}

/* SIGUSR1: the counters and the chunks, on stderr. */
void
status_usr1(void)
{
	struct buf b = { 0 };

	stats_print();
	status_text(&b, 1, (long)getpid());
	fwrite(b.p, 1, b.len, stderr);
	buf_free(&b);
	status_files();
}

/* --- the lock and --status -------------------------------------------- */

/*
 * Takes the lock, waiting up to LOCK_WAIT_MS: an lbuffer killed a moment
 * ago may have left a child between fork and exec, which holds the lock
 * until its exec closes it.  -1 with errno if it cannot be had.
 */
static int
lock_wait(int fd)
{
	long long until = clock_ms() + LOCK_WAIT_MS;

	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || clock_ms() >= until)
			return -1;
		poll(NULL, 0, 20);
	}
	return 0;
}

/* Locks DIR for this process, or exits naming the one that has it. */
void
status_lock(void)
{
	char p[PBUF], pid[32] = "";
	ssize_t n;

	snprintf(p, sizeof(p), "%s/lock", lb.o.dir);
	if ((lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		die(EX_SYS, "unable to open %s:", p);
	if (lock_wait(lockfd) < 0) {
		if (errno != EWOULDBLOCK)
			die(EX_SYS, "unable to lock %s:", p);
		n = pread(lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		die(EX_SYS, "%s is in use by another lbuffer%s%s%s", lb.o.dir,
		    pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(lockfd, 0) < 0 || store_pwrite(lockfd, pid, strlen(pid),
	    0) < 0)
		warn("unable to write %s:", p);
}

static int
print_file(const char *name)
{
	char p[PBUF], b[65536];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", lb.o.dir, name);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((n = read(fd, b, sizeof(b))) > 0)
		fwrite(b, 1, n, stdout);
	close(fd);
	return 0;
}

/* lbuffer --dir DIR --status: what the running lbuffer wrote, or a scan. */
int
status_cmd(void)
{
	char p[PBUF], pid[32] = "";
	struct buf b = { 0 };
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/lock", lb.o.dir);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		if (print_file(lb.o.json ? "status.json" : "status") == 0)
			return fflush(stdout) == 0 ? EX_OK : EX_SYS;
		if (lb.o.json)
			printf("{\"dir\":\"%s\",\"running\":true,"
			    "\"pid\":%ld}\n", lb.o.dir, atol(pid));
		else
			printf("%s: running, pid %ld; no status yet\n",
			    lb.o.dir, atol(pid));
		return fflush(stdout) == 0 ? EX_OK : EX_SYS;
	}
	if (access(lb.o.dir, F_OK) < 0)
		die(EX_SYS, "unable to open %s:", lb.o.dir);
	recover_dir();
	if (lb.o.json)
		status_json(&b, 0, 0);
	else
		status_text(&b, 0, 0);
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
	if (fd >= 0)
		close(fd);
	while (lb.head)
		chunk_drop(lb.head, 0);
	return fflush(stdout) == 0 ? EX_OK : EX_SYS;
}
