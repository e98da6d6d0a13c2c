/* lout - events in, text out: Fluentd's stdout format, json, ltsv, csv, files */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "input.h"
#include "mark.h"
#include "metrics.h"
#include "opt.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"
#include "tagpat.h"
#include "timefmt.h"

#include "lout.h"

#define USAGE "[options]"
#define ABOUT "Read events and write them as text: Fluentd's out_stdout " \
	"line by default,\nor json, ltsv, csv, tsv, single_value, msgpack or " \
	"out_file, to stdout or to\nfiles named by event time, tag and fields."

enum {
	O_FIELDS = OPT_LONG, O_KEY, O_TIME_KEY, O_TAG_KEY, O_TIME_FORMAT,
	O_TIME_TYPE, O_DELIM, O_LABEL_DELIM, O_UTC, O_TIMEZONE, O_PATH,
	O_COMPRESS, O_TAG, O_MAX_OPEN
};

static const struct opt opts[] = {
	{ 'f', "format", "FORMAT", "stdout (default), json, ltsv, csv, tsv, "
	    "single_value, msgpack, out_file" },
	{ O_FIELDS, "fields", "K1,K2,...", "fields to write, in order (csv, "
	    "tsv; required there)" },
	{ O_KEY, "key", "KEY", "the field single_value writes (default "
	    "message)" },
	{ O_TIME_KEY, "time-key", "KEY", "add the event time to the record as "
	    "KEY" },
	{ O_TAG_KEY, "tag-key", "KEY", "add the tag to the record as KEY" },
	{ O_TIME_FORMAT, "time-format", "FMT", "strftime format (with %L, %N) "
	    "of written times" },
	{ O_TIME_TYPE, "time-type", "TYPE", "type of the --time-key value: "
	    "float (default), unixtime, string" },
	{ O_DELIM, "delimiter", "STR", "field delimiter (csv ',', tsv, ltsv, "
	    "out_file tab)" },
	{ O_LABEL_DELIM, "label-delimiter", "STR", "ltsv label delimiter "
	    "(default ':')" },
	{ O_UTC, "utc", NULL, "write times in UTC" },
	{ O_TIMEZONE, "timezone", "TZ", "write times in TZ (+09:00, "
	    "Asia/Tokyo)" },
	{ 'p', "path", "TEMPLATE", "append to files named by strftime, ${tag}, "
	    "${record[\"k\"]}" },
	{ O_COMPRESS, "compress", "gzip", "gzip the --path files (a member "
	    "per write)" },
	{ O_MAX_OPEN, "max-open-files", "N", "keep at most N --path files "
	    "open (default 64)" },
	{ 't', "tag", "PATTERN", "write only events whose tag matches "
	    "PATTERN" },
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "all input was read and written" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data" },
	{ 4, "system or I/O failure: the events not written are counted" },
	OPT_EXIT_PIPE,
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

static const char *const format_names[] = {
	"stdout", "json", "ltsv", "csv", "tsv", "single_value", "msgpack",
	"out_file", NULL
};

struct options o = { .key = "message", .label_delim = ":",
	.max_open = MAX_OPEN_DEFAULT };

static struct reader *rd;
static struct tagpat *tp;
static uint64_t not_selected;

/*
 * Stops after a failure: writes out what every other file holds, says how
 * many events were not written, prints --stats and exits with code.
 */
_Noreturn void
fail_exit(int code)
{
	marks_stop();
	files_close();
	file_flush(&std);
	warn("%llu events not written, %llu written",
	    (unsigned long long)not_written, (unsigned long long)stats.out);
	input_stats();
	exit(code);
}

static void
idle(void *arg)
{
	(void)arg;
	files_flush();
}

/* SIGHUP: close every file, so the next event reopens by name. */
static void
reopen(void)
{
	if (files_close() < 0)
		fail_exit(EX_SYS);
}

static void
handle(const struct event *ev)
{
	if (tp && !tagpat_match(tp, ev->tag, ev->tag_len)) {
		not_selected++;
		return;
	}
	file_put(o.path ? path_file(ev) : &std, ev);
}

static void
sync_stats(void)
{
	const struct reader_stats *rs = reader_stats(rd);

	stats.in = rs->events;
	stats.bytes_in = rs->bytes;
	stats.dropped = input_dropped(rd);
}

static void
extra_stats(char *b, size_t cap)
{
	int n = 0;

	if (tp)
		n = snprintf(b, cap, ", not selected by tag %llu",
		    (unsigned long long)not_selected);
	if (n >= 0 && (size_t)n < cap && o.path) {
		path_stats(b + n, cap - n);
		n += strlen(b + n);
	}
	if (n >= 0 && (size_t)n < cap)
		mark_return_stats(b + n, cap - n, reader_stats(rd)->marks);
}

struct timefmt *
compile_time(const char *spec)
{
	struct timefmt *tf;
	const char *err;

	if (!(tf = timefmt_new(spec, o.tz, &err)))
		die(EX_USAGE, "bad time format '%s': %s", spec, err);
	return tf;
}

static void
setup(void)
{
	const char *err;

	format_setup();
	if (o.path)
		path_setup();
	if (o.gzip && !o.path)
		die(EX_USAGE, "--compress works with --path");
	if (o.tag && !(tp = tagpat_new(o.tag, &err)))
		die(EX_USAGE, "bad tag pattern '%s': %s", o.tag, err);
	files_init();
}

static void
options(int argc, char **argv)
{
	const char *arg;
	long long n;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case 'f':
			o.format = opt_choice_arg(arg, "format", format_names);
			break;
		case O_FIELDS: o.fields = arg; break;
		case O_KEY: o.key = arg; break;
		case O_TIME_KEY: o.inject.time_key = arg; break;
		case O_TAG_KEY: o.inject.tag_key = arg; break;
		case O_TIME_FORMAT: o.time_format = arg; break;
		case O_TIME_TYPE:
			o.inject.type = opt_choice_arg(arg, "time-type",
			    inject_types);
			o.time_type_set = 1;
			break;
		case O_DELIM: o.delim = arg; break;
		case O_LABEL_DELIM: o.label_delim = arg; break;
		case O_UTC: o.tz = "UTC"; break;
		case O_TIMEZONE: o.tz = arg; break;
		case 'p': o.path = arg; break;
		case O_COMPRESS:
			if (strcmp(arg, "gzip") != 0)
				die(EX_USAGE, "unknown compression '%s' (gzip "
				    "is supported)", arg);
			o.gzip = 1;
			break;
		case O_MAX_OPEN:
			n = opt_uint_arg(arg, "max-open-files");
			if (n < 1 || n > MAX_OPEN_LIMIT)
				opt_fail(&prog, "--max-open-files %s: give 1 "
				    "to %d", arg, MAX_OPEN_LIMIT);
			o.max_open = (size_t)n;
			break;
		case 't': o.tag = arg; break;
		default: input_opt(c, arg); break;
		}
	}
	if (optind < argc)
		opt_fail(&prog, "unexpected operand '%s': lout reads standard "
		    "input only", argv[optind]);
}

/* Writes out and closes everything; -1 if a write failed (said). */
static int
finish(void)
{
	int bad = 0;

	bad |= files_close() < 0;
	bad |= file_flush(&std) < 0;
	files_free();
	format_free();
	path_free();
	tagpat_free(tp);
	return bad ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct event ev;
	int ret, bad;

	progname_set(argv[0]);
	options(argc, argv);
	setup();
	sig_init();
	signal(SIGXFSZ, SIG_IGN);       /* a file size limit: EFBIG instead */
	sig_on_hup(reopen);
	rd = input_reader(0, "stdin", idle, NULL);
	reader_set_mark(rd, marks_on, NULL);
	if (!o.path)
		reader_watch_out(rd, 1);        /* `| head`: end with it */
	stats_init(sync_stats, extra_stats);
	while ((ret = reader_next(rd, &ev)) == READ_EVENT)
		handle(&ev);
	bad = finish() < 0;
	if (ret != READ_EOF)
		warn("%s", reader_errmsg(rd));
	input_report(rd, "stdin");
	if (bad)
		fail_exit(EX_SYS);
	/* --stats after bad data too, as every filter_end gives it */
	input_stats();
	reader_free(rd);
	if (ret != READ_EOF)
		return ret == READ_SYSERR ? EX_SYS : EX_DATA;
	return EX_OK;
}
