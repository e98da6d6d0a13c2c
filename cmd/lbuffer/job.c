/* job - the outputs: COMMAND on a chunk, outcomes, backoff, dead letters */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "sig.h"
#include "stats.h"
#include "tmpl.h"

#include "lbuffer.h"

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

static struct job *jobs;
static int njobs;
static int chld_pipe[2] = { -1, -1 };   /* SIGCHLD wakes the loop */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64: [0, 1) for retry_randomize */
static double
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng >> 11) * (1.0 / 9007199254740992.0);
}

static void
cloexec(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* What a wait status says, for messages. */
void
job_describe(int st, char *s, size_t n)
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
		v = (double)lb.o.retry_ms * pow(lb.o.base, n);
		if (lb.o.retry_max_ms >= 0 && v > (double)lb.o.retry_max_ms)
			return (double)lb.o.retry_max_ms;
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
retry_fail(struct retry_state *r, long long now)
{
	double iv;

	if (!r->active) {
		memset(r, 0, sizeof(*r));
		r->active = 1;
		r->start = now;
		r->timeout_at = now + lb.o.retry_timeout_ms;
		r->next = now + lb.o.retry_ms;
		return;
	}
	r->steps++;
	iv = interval_ms(r->steps);
	if (lb.o.randomize)
		iv += iv * 0.125 * (2 * rnd() - 1.0);
	r->next = now + (long long)(iv + 0.5);
	if (!lb.o.forever && r->next >= r->timeout_at)
		r->next = r->timeout_at;
	if (r->reached)
		r->timed_out = r->next >= r->timeout_at;
	else
		r->reached = r->next >= r->timeout_at;
}

static int
retry_limit(const struct retry_state *r)
{
	if (lb.o.forever)
		return 0;
	return r->timed_out || (lb.o.retry_times >= 0 &&
	    r->steps >= lb.o.retry_times);
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
	    (unsigned long long)hash_fnv64(c->key, c->key_len));
	return v;
}

/* A byte of a key's name in a variable's name: A-Z 0-9 _. */
static char
env_char(char ch)
{
	if (ch >= 'a' && ch <= 'z')
		return (char)(ch - 'a' + 'A');
	if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return ch;
	return '_';
}

/*
 * LBUFFER_TIMEKEY and LBUFFER_KEY_NAME for c's chunk keys: NAME is the
 * key upper-cased, any byte but A-Z 0-9 _ as '_'; a value stops at a NUL.
 */
static void
keys_env(const struct chunk *c)
{
	char n[RKEY_NAME_MAX + 16], v[RKEY_VAL_MAX + 1];
	const char *name, *val;
	size_t off = 0, nlen, vlen, i;
	int k = 0;

	if (c->has_tkey) {
		snprintf(v, sizeof(v), "%lld", c->tkey);
		setenv("LBUFFER_TIMEKEY", v, 1);
	} else {
		unsetenv("LBUFFER_TIMEKEY");
	}
	while (k++ < RKEYS_MAX && chunk_kv_next(c, &off, &name, &nlen, &val,
	    &vlen)) {
		if (nlen > RKEY_NAME_MAX)
			nlen = RKEY_NAME_MAX;
		if (vlen > RKEY_VAL_MAX)
			vlen = RKEY_VAL_MAX;
		memcpy(n, "LBUFFER_KEY_", 12);
		for (i = 0; i < nlen; i++)
			n[12 + i] = env_char(name[i]);
		n[12 + nlen] = '\0';
		memcpy(v, val, vlen);
		v[vlen] = '\0';
		setenv(n, v, 1);
	}
}

/* The value of c's record key k[0..n), or NULL if it is no chunk key. */
static const char *
kv_get(const struct chunk *c, const char *k, size_t n, size_t *vlen)
{
	const char *name, *val;
	size_t off = 0, nlen;

	while (chunk_kv_next(c, &off, &name, &nlen, &val, vlen))
		if (nlen == n && memcmp(name, k, n) == 0)
			return val;
	return NULL;
}

/* Appends the text t[0..n), strftime'd at c's time bucket if it has one. */
static void
put_text(struct buf *b, const struct chunk *c, const char *t, size_t n)
{
	char *f, *o;
	struct tm tm;
	time_t tk = (time_t)c->tkey;
	size_t cap = n * 16 + 256, r;

	if (!c->has_tkey || !memchr(t, '%', n) ||
	    !(lb.o.utc ? gmtime_r(&tk, &tm) : localtime_r(&tk, &tm))) {
		buf_put(b, t, n);
		return;
	}
	f = xmalloc(n + 1);
	memcpy(f, t, n);
	f[n] = '\0';
	o = xmalloc(cap);
	r = strftime(o, cap, f, &tm);
	buf_put(b, r ? o : f, r ? r : n);
	free(o);
	free(f);
}

/* The value of a placeholder for c, or NULL to leave it as it is. */
static const char *
ph_value(const struct chunk *c, const struct tmpl_seg *sg, size_t *vlen)
{
	const char *v;

	switch (sg->kind) {
	case TMPL_TAG:
		*vlen = c->key_len;
		return c->key;
	case TMPL_PARTS:
	case TMPL_PREFIX:
	case TMPL_SUFFIX:
		if (!c->key)
			return NULL;
		if (tmpl_tag_piece(sg->kind, sg->n, c->key, c->key_len, &v,
		    vlen))
			return v;
		*vlen = 0;
		return "";
	case TMPL_RECORD:
		return kv_get(c, sg->s, sg->len, vlen);
	default:
		return NULL;
	}
}

/*
 * One argument of COMMAND for c: ${tag} (and ${tag_parts[N]} and the
 * like) with --chunk-keys tag, ${KEY} for a record chunk key, strftime
 * of the bucket's start with --chunk-keys time; anything else as it is.
 */
static char *
render_arg(const struct chunk *c, const char *a)
{
	const char *p = a, *end = a + strlen(a), *why, *v, *q = a;
	size_t vlen = 0;
	struct tmpl_seg sg;
	struct buf b = { 0 };
	int r;

	while ((r = tmpl_next(&p, end, TMPL_TAG_INDEX, &sg, &why)) != 0) {
		v = r > 0 ? ph_value(c, &sg, &vlen) : NULL;
		if (r > 0 && sg.kind == TMPL_RECORD)
			recpath_free(&sg.path);
		if (r > 0 && sg.kind == TMPL_LIT)
			put_text(&b, c, sg.s, sg.len);
		else if (v)
			buf_put(&b, v, vlen);
		else
			buf_put(&b, q, (size_t)(p - q));
		q = p;
	}
	buf_putc(&b, '\0');
	return b.p;
}

/* COMMAND for c, its placeholders filled in when there are chunk keys. */
static char **
command(const struct chunk *c)
{
	char **v;
	int n, i;

	if (!c->key && !c->has_tkey && !c->kv.len)
		return lb.o.cmd;
	for (n = 0; lb.o.cmd[n]; n++)
		;
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = render_arg(c, lb.o.cmd[i]);
	return v;
}

static _Noreturn void
child(const struct job *j, int rfd)
{
	char v[32], **argv;
	const struct chunk *c = j->c;

	setpgid(0, 0);
	if (dup2(rfd, 0) < 0)
		_exit(127);
	sig_child_reset();
	signal(SIGXFSZ, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	setenv("LBUFFER_CHUNK_ID", chunk_idstr(c), 1);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)c->records);
	setenv("LBUFFER_CHUNK_RECORDS", v, 1);
	snprintf(v, sizeof(v), "%d", c->failures);
	setenv("LBUFFER_RETRY", v, 1);
	if (c->key)
		setenv("LBUFFER_CHUNK_TAG", tag_env(c), 1);
	else
		unsetenv("LBUFFER_CHUNK_TAG");
	keys_env(c);
	argv = j->kind == J_SECONDARY ? NULL : command(c);
	if (lb.o.zone && lb.o.env_tz)
		setenv("TZ", lb.o.env_tz, 1);
	else if (lb.o.zone)
		unsetenv("TZ");
	if (j->kind == J_SECONDARY)
		execl("/bin/sh", "sh", "-c", lb.o.secondary, (char *)NULL);
	else
		execvp(lb.o.cmd[0], argv);
	fprintf(stderr, "%s: unable to run %s: %s\n", progname,
	    j->kind == J_SECONDARY ? "/bin/sh" : lb.o.cmd[0], strerror(errno));
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
	int r = store_block_read(j->rfd, &j->roff, &j->b);

	if (r > 0) {
		j->p = j->b.p;
		j->left = j->b.len;
	}
	return r;
}

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
				job_stdout_failed(errno);
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
	if (lb.stop.shutting)
		c->final_tried = 1;
	lb.status.dirty = 1;
	if (lb.o.dir) {
		store_data_path(p, c);
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
		warn("chunk %s: delivered%s after %d failure%s", chunk_idstr(c),
		    kind == J_SECONDARY ? " by the secondary" : "",
		    c->failures, c->failures == 1 ? "" : "s");
	c->delivered = 1;
	lb.cnt.delivered += c->records;
	if (kind == J_SECONDARY)
		lb.cnt.secondary += c->records;
	stats.out += c->records;
	stats.bytes_out += c->bytes;
	chunk_free(c);
}

/* Gives c up: into --dead-letter-dir, or lost without one. */
void
job_dead_letter(struct chunk *c, const char *why)
{
	uint64_t id;

	if (!lb.o.dead_dir[0]) {
		warn("chunk %s: %s; %llu events lost (no --dead-letter-dir)",
		    chunk_idstr(c), why, (unsigned long long)c->records);
		lb.cnt.lost += c->records;
		chunk_free(c);
		return;
	}
	if (!(id = store_save_to(c, lb.o.dead_dir, why))) {
		warn("chunk %s: %s, and unable to move it to %s: %s; keeping "
		    "it and retrying", chunk_idstr(c), why, lb.o.dead_dir,
		    strerror(errno));
		memset(&c->r, 0, sizeof(c->r));
		retry_fail(&c->r, clock_ms());
		c->state = C_WAIT;
		return;
	}
	warn("chunk %s: %s; %llu events moved to %s/chunk-%016llx.queued",
	    chunk_idstr(c), why, (unsigned long long)c->records, lb.o.dead_dir,
	    (unsigned long long)id);
	lb.cnt.dead += c->records;
	lb.cnt.dead_chunks++;
	chunk_free(c);
}

/* Moves a corrupt c to DIR/quarantine, or keeps it, unsent, if it cannot. */
void
job_quarantine(struct chunk *c, const char *why)
{
	uint64_t id;

	if ((id = store_save_to(c, lb.o.quar_dir, why))) {
		warn("chunk %s: %s; %llu events moved to %s/chunk-%016llx."
		    "queued", chunk_idstr(c), why,
		    (unsigned long long)c->records, lb.o.quar_dir,
		    (unsigned long long)id);
		lb.cnt.quarantined += c->records;
		lb.cnt.quarantined_chunks++;
		chunk_free(c);
		return;
	}
	warn("chunk %s: %s, and unable to move it to %s:", chunk_idstr(c), why,
	    lb.o.quar_dir);
	c->state = C_KEPT;
	c->corrupt = 1;
	lb.cnt.quarantined += c->records;
	lb.cnt.quarantined_chunks++;
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
		job_dead_letter(c, reason);
		return;
	}
	snprintf(reason, sizeof(reason), "the output failed %d times, last "
	    "with %s; retries exhausted (%s)", c->failures, why, limit);
	if (lb.o.secondary) {
		warn("chunk %s: %s; trying --secondary", chunk_idstr(c),
		    reason);
		c->state = C_GIVEUP;
		return;
	}
	job_dead_letter(c, reason);
}

static void
failed(struct chunk *c, int kind, int st)
{
	long long now = clock_ms();
	char why[64];

	job_describe(st, why, sizeof(why));
	c->last_status = st;
	lb.status.dirty = 1;
	if (kind == J_SECONDARY) {
		c->state = C_GIVEUP;
		give_up(c, why);
		return;
	}
	c->failures++;
	lb.cnt.failures++;
	if (lb.stop.shutting) {
		c->state = C_KEPT;
		warn("chunk %s: the output failed (%s) while shutting down",
		    chunk_idstr(c), why);
		return;
	}
	retry_fail(&c->r, now);
	if (retry_limit(&c->r)) {
		give_up(c, why);
		return;
	}
	c->state = C_WAIT;
	warn("chunk %s (%llu events): the output failed (%s); retry %d in "
	    "%.3fs", chunk_idstr(c), (unsigned long long)c->records, why,
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
	lb.disp.dirty = 1;
	if (j->bad) {
		c->state = C_QUEUED;
		job_quarantine(c, "a block's checksum did not match while it "
		    "was flushed");
	} else if (ok) {
		commit(c, j->kind);
	} else {
		failed(c, j->kind, j->status);
	}
}

/* Standard output (no COMMAND) failed with e: nothing more goes there. */
void
job_stdout_failed(int e)
{
	if (e != EPIPE)
		warn("unable to write stdout: %s", strerror(e));
	lb.disp.out_broken = e;
}

/* Collects the outputs that exited. */
void
job_reap(void)
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

/* How many outputs have a chunk. */
int
job_running(void)
{
	int i, n = 0;

	for (i = 0; i < njobs; i++)
		n += jobs[i].c != NULL;
	return n;
}

/* Finishes the jobs whose output is done. */
void
job_check_all(void)
{
	struct job *j;
	int i;

	for (i = 0; i < njobs; i++) {
		j = &jobs[i];
		if (!j->c)
			continue;
		if (j->unstarted || (j->kind == J_STDOUT ? !j->sending &&
		    !lb.disp.out_broken : j->exited))
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
		return now >= c->r.next ||
		    (lb.stop.shutting && !c->final_tried);
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
void
job_dispatch(long long now)
{
	struct chunk *c, *n;
	struct job *j;
	int kind;

	if (lb.stop.deadline_passed || lb.disp.out_broken)
		return;
	/* marks passed on go out between chunks, after theirs */
	if (!lb.o.cmd && intake_marks_waiting())
		return;
	if (!lb.disp.dirty && (lb.disp.next_retry < 0 ||
	    now < lb.disp.next_retry))
		return;
	lb.disp.dirty = 0;
	lb.disp.next_retry = -1;
	lb.disp.ready_left = 0;
	bl_clear();
	for (c = lb.head; c; c = n) {
		n = c->next;
		if (c->state == C_OPEN)
			continue;
		if (!conflicts(c) && startable(c, now)) {
			lb.disp.ready_left++;
			if ((j = free_slot())) {
				kind = !lb.o.cmd ? J_STDOUT :
				    c->state == C_GIVEUP ? J_SECONDARY :
				    J_PRIMARY;
				job_start(j, c, kind);
			}
		} else if (c->state == C_WAIT && !conflicts(c) &&
		    (lb.disp.next_retry < 0 ||
		    c->r.next < lb.disp.next_retry)) {
			lb.disp.next_retry = c->r.next;
		}
		if (!c->corrupt)        /* its events cannot be sent anyway */
			blocked_add(c);
	}
}

/* --- the slots and SIGCHLD -------------------------------------------- */

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

/* Makes n output slots; SIGCHLD wakes the loop through a pipe. */
void
job_init(int n)
{
	struct sigaction sa;

	rng ^= (uint64_t)wall() * 1000003 ^ (uint64_t)getpid() << 32;
	njobs = n;
	jobs = xcalloc(njobs, sizeof(*jobs));
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
}

/* How many outputs may run at once. */
int
job_slots(void)
{
	return njobs;
}

void
job_free_all(void)
{
	for (int i = 0; i < njobs; i++)
		buf_free(&jobs[i].b);
	free(jobs);
	free(bl.k);
	free(bl.g);
}

/* The fd that is readable after a SIGCHLD. */
int
job_chld_fd(void)
{
	return chld_pipe[0];
}

/* Adds to pf, from pf[n], the outputs waiting to write; the new count. */
int
job_poll(struct pollfd *pf, int n)
{
	int i;

	for (i = 0; i < njobs; i++) {
		if (!jobs[i].c || !jobs[i].sending)
			continue;
		pf[n].fd = jobs[i].fd;
		pf[n++].events = POLLOUT;
	}
	return n;
}

/* Writes to every output what it takes now. */
void
job_pump_all(void)
{
	int i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].c && jobs[i].sending)
			job_pump(&jobs[i]);
}

/* Sends sig to every output still running, and to its group. */
void
job_kill_all(int sig)
{
	int i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].c && jobs[i].pid > 0 && !jobs[i].exited) {
			kill(-jobs[i].pid, sig);
			kill(jobs[i].pid, sig);
		}
}

/* Empties the pipe SIGCHLD writes to. */
void
job_drain_chld(void)
{
	char b[64];

	while (read(chld_pipe[0], b, sizeof(b)) > 0)
		;
}
