/* metrics - the stats counters as a Prometheus text file, replaced atomically */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "fs.h"
#include "metrics.h"
#include "opt.h"
#include "stats.h"

static const char *mfile;
static const char *pipeline = "";
static long long interval_ms = 10000;
static long long last_ms = -1;
static int failing;

static const struct {
	const char *name, *help;
} fam[] = {
	{ "lkit_events_in_total", "Events read." },
	{ "lkit_events_out_total", "Events written." },
	{ "lkit_events_dropped_total", "Events dropped (counted, never "
	    "silent)." },
	{ "lkit_bytes_in_total", "Bytes read." },
	{ "lkit_bytes_out_total", "Bytes written." }
};

int
metrics_opt(int id, const char *arg)
{
	switch (id) {
	case OPT_METRICS_FILE:
		if (!*arg)
			die(EX_USAGE, "empty file name for --metrics-file");
		mfile = arg;
		return 1;
	case OPT_METRICS_INTERVAL:
		if ((interval_ms = opt_duration_arg(arg,
		    "metrics-interval")) <= 0)
			die(EX_USAGE, "bad duration '%s' for "
			    "--metrics-interval", arg);
		return 1;
	case OPT_PIPELINE:
		pipeline = arg;
		return 1;
	}
	return 0;
}

int
metrics_on(void)
{
	return mfile != NULL;
}

long long
metrics_due_ms(void)
{
	long long gone;

	if (!mfile)
		return -1;
	if (last_ms < 0)
		return 0;       /* the first file at once, with zeros */
	gone = clock_ms() - last_ms;
	return gone >= interval_ms ? 0 : interval_ms - gone;
}

void
metrics_tick(void)
{
	if (mfile && metrics_due_ms() == 0)
		metrics_write();
}

/* A label value as the format escapes it: \\, \" and \n. */
static void
put_label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

struct metrics_sink {
	struct buf *b;
	const char *name, *label;
	double sum;             /* of the samples put, for "other" */
};

static const struct metric *own[METRICS_MAX];
static size_t nown;
static void (*dropped_fn)(struct metrics_sink *);
static const double bounds[METRICS_NB] = { 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };

void
metrics_add(const struct metric *m, size_t n)
{
	while (n-- > 0 && nown < METRICS_MAX)
		own[nown++] = m++;
}

void
metrics_dropped(void (*fn)(struct metrics_sink *))
{
	dropped_fn = fn;
}

void
metrics_observe(struct metrics_hist *h, double s)
{
	size_t i;

	if (!(s >= 0))
		s = 0;          /* a clock step back, or NaN */
	for (i = 0; i < METRICS_NB && s > bounds[i]; i++)
		;
	h->n[i]++;
	h->count++;
	h->sum += s;
}

static void
put_head(struct buf *b, const char *name, const char *help, const char *type)
{
	buf_puts(b, "# HELP ");
	buf_puts(b, name);
	buf_putc(b, ' ');
	buf_puts(b, help);
	buf_puts(b, "\n# TYPE ");
	buf_puts(b, name);
	buf_putc(b, ' ');
	buf_puts(b, type);
	buf_putc(b, '\n');
}

/* NAME{program="P",pipeline="L"[,label="lv"]} V */
static void
put_sample(struct buf *b, const char *name, const char *label,
    const char *lv, double v)
{
	char n[64];

	buf_puts(b, name);
	buf_puts(b, "{program=\"");
	put_label(b, progname);
	buf_puts(b, "\",pipeline=\"");
	put_label(b, pipeline);
	if (label && lv) {
		buf_puts(b, "\",");
		buf_puts(b, label);
		buf_puts(b, "=\"");
		put_label(b, lv);
	}
	snprintf(n, sizeof(n), "\"} %.15g\n", v);
	buf_puts(b, n);
}

void
metrics_put(struct metrics_sink *k, const char *lv, double v)
{
	put_sample(k->b, k->name, k->label, lv, v);
	k->sum += v;
}

static void
put_hist(struct buf *b, const char *name, const struct metrics_hist *h)
{
	char n[160], le[32];
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= METRICS_NB; i++) {
		cum += h->n[i];
		if (i < METRICS_NB)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(n, sizeof(n), "%s_bucket", name);
		put_sample(b, n, "le", le, (double)cum);
	}
	snprintf(n, sizeof(n), "%s_sum", name);
	put_sample(b, n, NULL, NULL, h->sum);
	snprintf(n, sizeof(n), "%s_count", name);
	put_sample(b, n, NULL, NULL, (double)h->count);
}

static void
put_own(struct buf *b, const struct metric *m)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct metrics_sink k = { b, m->name, m->label, 0 };

	put_head(b, m->name, m->help, types[m->type]);
	if (m->type == METRIC_HISTOGRAM)
		put_hist(b, m->name, m->h);
	else if (m->fn)
		m->fn(&k);
	else
		put_sample(b, m->name, NULL, NULL, m->v ? (double)*m->v : 0);
}

/* lkit_events_dropped_total, by reason if the program gives them */
static void
put_dropped(struct buf *b, const char *name)
{
	struct metrics_sink k = { b, name, "reason", 0 };

	if (!dropped_fn) {
		put_sample(b, name, NULL, NULL, (double)stats.dropped);
		return;
	}
	dropped_fn(&k);
	if ((double)stats.dropped > k.sum)     /* none the program named */
		put_sample(b, name, "reason", "other",
		    (double)stats.dropped - k.sum);
}

static void
put_text(struct buf *b)
{
	const uint64_t v[] = { stats.in, stats.out, stats.dropped,
	    stats.bytes_in, stats.bytes_out };
	size_t i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		put_head(b, fam[i].name, fam[i].help, "counter");
		if (i == 2)
			put_dropped(b, fam[i].name);
		else
			put_sample(b, fam[i].name, NULL, NULL, (double)v[i]);
	}
	for (i = 0; i < nown; i++)
		put_own(b, own[i]);
}

void
metrics_render(struct buf *b)
{
	stats_sync();
	put_text(b);
}

/* Writes b to a temporary file beside mfile, then renames it over. */
static int
replace(const struct buf *b, char *tmp, size_t cap)
{
	int fd, n;

	n = snprintf(tmp, cap, "%s.tmp.%ld", mfile, (long)getpid());
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	if (fs_write_all(fd, b->p, b->len) < b->len)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, mfile) == 0)
		return 0;
	fd = -1;
fail:
	n = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = n;
	return -1;
}

int
metrics_write(void)
{
	struct buf b = { 0 };
	char tmp[4096];
	int r;

	if (!mfile)
		return 0;
	last_ms = clock_ms();
	metrics_render(&b);
	r = replace(&b, tmp, sizeof(tmp));
	buf_free(&b);
	if (r < 0 && !failing)
		warn("unable to write %s: %s", mfile, strerror(errno));
	failing = r < 0;
	return r;
}

int
metrics_timeout(int timeout)
{
	long long due;

	metrics_tick();
	if ((due = metrics_due_ms()) < 0 || (timeout >= 0 && due >= timeout))
		return timeout;
	return due > 86400000 ? 86400000 : (int)due;
}
