/* input - shared input options, reader set-up and the skip report */
#include <fcntl.h>
#include <sys/stat.h>

#include "err.h"
#include "input.h"
#include "metrics.h"
#include "opt.h"
#include "stats.h"

struct input input = { 0, 0, STREAM_MAX_EVENT };

int
input_opt(int id, const char *arg)
{
	long long v;

	switch (id) {
	case OPT_SKIP_INVALID:
		input.skip = 1;
		return 1;
	case OPT_STATS:
		input.stats = 1;
		return 1;
	case OPT_MAX_EVENT_SIZE:
		if ((v = opt_size(arg)) <= 0)
			die(EX_USAGE, "bad size '%s' for --max-event-size", arg);
		input.max = (size_t)v;
		return 1;
	}
	return metrics_opt(id, arg);
}

#if defined(__linux__) && !defined(F_SETPIPE_SZ)
#define F_SETPIPE_SZ 1031       /* fcntl.h gives these only with _GNU_SOURCE */
#define F_GETPIPE_SZ 1032
#endif
/*
 * 256 KiB: four times the default, a quarter of pipe-max-size.  Not more:
 * an unprivileged user's pipes share pipe-user-pages-soft (64 MiB), past
 * which every new pipe of that user gets a single page.
 */
#define PIPE_SIZE (256 * 1024)

/*
 * A pipe in holds PIPE_SIZE bytes (if the system allows): a few of the
 * writes of an lkit stage before it, so that the stages of a pipeline
 * take turns less often.
 */
static void
pipe_grow(int fd)
{
#ifdef F_SETPIPE_SZ
	struct stat sb;

	if (fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode) &&
	    fcntl(fd, F_GETPIPE_SZ) < PIPE_SIZE)
		(void)fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
#else
	(void)fd;
#endif
}

struct reader *
input_reader(int fd, const char *name, void (*idle)(void *), void *arg)
{
	struct reader *r = reader_new(fd, name);

	pipe_grow(fd);
	reader_set_max(r, input.max);
	reader_set_skip_invalid(r, input.skip);
	if (idle)
		reader_set_idle(r, idle, arg);
	return r;
}

/* A filter passes each mark on, after the events written before it. */
static void
pass_mark(void *arg, const char *p, size_t len)
{
	out_put(arg, p, len);
}

struct reader *
input_filter_reader(int fd, const char *name, struct out *o)
{
	struct reader *r = input_reader(fd, name, out_flush_cb, o);

	reader_set_mark(r, pass_mark, o);
	reader_watch_out(r, o->fd);
	return r;
}

uint64_t
input_dropped(const struct reader *r)
{
	const struct reader_stats *rs = reader_stats(r);

	return rs->skipped_places + rs->nil_records;
}

void
input_report(const struct reader *r, const char *name)
{
	const struct reader_stats *rs = reader_stats(r);

	if (rs->skipped_bytes)
		warn("%s: skipped %llu bytes of invalid input in %llu places",
		    name, (unsigned long long)rs->skipped_bytes,
		    (unsigned long long)rs->skipped_places);
	if (rs->nil_records)
		warn("%s: skipped %llu events whose record is nil", name,
		    (unsigned long long)rs->nil_records);
}

void
input_stats(void)
{
	if (input.stats)
		stats_print();
	metrics_write();
}

int
filter_end(struct reader *r, int ret, struct out *o, int (*report)(void))
{
	int status;

	out_flush(o);
	input_report(r, "stdin");
	status = report ? report() : EX_OK;
	if (ret != READ_EOF) {
		warn("%s", reader_errmsg(r));
		status = ret == READ_SYSERR ? EX_SYS : EX_DATA;
	}
	input_stats();
	return status;
}
