/* metrics - the stats counters as a Prometheus text file, replaced atomically */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
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

static void
put_text(struct buf *b)
{
	const uint64_t v[] = { stats.in, stats.out, stats.dropped,
	    stats.bytes_in, stats.bytes_out };
	char n[32];
	size_t i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		buf_puts(b, "# HELP ");
		buf_puts(b, fam[i].name);
		buf_putc(b, ' ');
		buf_puts(b, fam[i].help);
		buf_puts(b, "\n# TYPE ");
		buf_puts(b, fam[i].name);
		buf_puts(b, " counter\n");
		buf_puts(b, fam[i].name);
		buf_puts(b, "{program=\"");
		put_label(b, progname);
		buf_puts(b, "\",pipeline=\"");
		put_label(b, pipeline);
		snprintf(n, sizeof(n), "\"} %llu\n", (unsigned long long)v[i]);
		buf_puts(b, n);
	}
}

/* Writes b to a temporary file beside mfile, then renames it over. */
static int
replace(const struct buf *b, char *tmp, size_t cap)
{
	size_t off = 0;
	ssize_t w;
	int fd, n;

	n = snprintf(tmp, cap, "%s.tmp.%ld", mfile, (long)getpid());
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	while (off < b->len) {
		if ((w = write(fd, b->p + off, b->len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += w;
	}
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
	stats_sync();
	put_text(&b);
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
