/* lreform - add, rename, remove and keep fields, retag, or transform with jq */
#include <stdint.h>
#include <unistd.h>

#include "err.h"
#include "input.h"
#include "metrics.h"
#include "opt.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"

#include "lreform.h"

#define USAGE "[options] [KEY=VALUE ...]"
#define ABOUT "Add or overwrite fields, rename, remove or keep fields, " \
	"retag, or transform\neach record with a jq program, like Fluentd's " \
	"record_transformer.  VALUE may\nhold ${tag}, ${tag_parts[N]}, " \
	"${tag_prefix[N]}, ${tag_suffix[N]}, ${hostname},\n${time}, " \
	"${record[\"key\"]} and ${key}; a VALUE that starts with { or [ is " \
	"JSON."

enum {
	O_REMOVE = OPT_LONG, O_RENEW_TIME, O_TIME_FORMAT, O_UTC, O_TIMEZONE
};

static const struct opt opts[] = {
	{ 'j', "jq", "PROGRAM", "transform each record with a jq "
	    "program" },
	{ 't', "tag", "TAG", "retag events (placeholders allowed)" },
	{ 'd', "remove-keys", "K1,K2", "remove fields (KEY, $.a.b, "
	    "$['a'][0])" },
	{ 'k', "keep-keys", "K1,K2", "keep only these input fields (implies "
	    "-n)" },
	{ 'm', "rename", "OLD=NEW", "rename field OLD to NEW, in place" },
	{ 'n', "renew-record", NULL, "start from an empty record" },
	{ 'a', "auto-typecast", NULL, "a VALUE that is one placeholder "
	    "keeps its type" },
	{ O_RENEW_TIME, "renew-time-key", "KEY", "set the event time from "
	    "field KEY (unix time)" },
	{ O_TIME_FORMAT, "time-format", "FMT", "format of ${time} (default "
	    "%Y-%m-%d %H:%M:%S %z)" },
	{ O_UTC, "utc", NULL, "write ${time} in UTC" },
	{ O_TIMEZONE, "timezone", "TZ", "write ${time} in TZ (+09:00, "
	    "Asia/Tokyo)" },
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "all input was read and written" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data, or events dropped on jq errors" },
	{ 4, "system or I/O failure" },
	OPT_EXIT_PIPE,
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct options o;
struct out out;
struct counts cnt;
static struct reader *rd;

static void
option(int c, const char *arg)
{

	switch (c) {
	case 'j': o.jq = arg; break;
	case 't': o.tag = arg; break;
	case 'd': fields_paths(arg, 0); break;
	case 'k': fields_paths(arg, 1); o.renew = 1; break;
	case 'm': fields_rename(arg); break;
	case 'n': o.renew = 1; break;
	case 'a': o.typecast = 1; break;
	case O_RENEW_TIME: o.renew_time_key = arg; break;
	case O_TIME_FORMAT: o.time_format = arg; break;
	case O_UTC: o.tz = "UTC"; break;
	case O_TIMEZONE: o.tz = arg; break;
	default: input_opt(c, arg); break;
	}
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	/* options may follow KEY=VALUE operands (GNU order); "--" ends them */
	while ((c = opt_get(argc, argv, &prog, &arg)) != -1)
		option(c, arg);
	for (; optind < argc; optind++)
		fields_add(argv[optind]);
}

static void
sync_stats(void)
{
	const struct reader_stats *rs = reader_stats(rd);

	stats.bytes_in = rs->bytes;
	stats.bytes_out = out.bytes + out.b.len;
	stats.dropped = cnt.dropped + input_dropped(rd);
}

/* Says what was counted; returns the exit status. */
static int
report(void)
{
	if (cnt.bad_time)
		warn("%llu events kept their time: field %s was not a unix "
		    "time", (unsigned long long)cnt.bad_time,
		    o.renew_time_key);
	if (cnt.jq_errors || cnt.jq_nonobj)
		warn("dropped: %llu jq errors, %llu outputs that were not "
		    "objects", (unsigned long long)cnt.jq_errors,
		    (unsigned long long)cnt.jq_nonobj);
	return cnt.jq_errors || cnt.jq_nonobj ? EX_DATA : EX_OK;
}

int
main(int argc, char **argv)
{
	struct event ev;
	int ret, jq;

	progname_set(argv[0]);
	options(argc, argv);
	tmpl_init();
	jqrun_init();
	fields_setup();
	build_init();
	sig_init();
	out_init(&out, 1, "stdout");
	rd = input_filter_reader(0, "stdin", &out);
	stats_init(sync_stats, jqrun_extra);
	jq = jqrun_on();
	while ((ret = reader_next(rd, &ev)) == READ_EVENT) {
		stats.in++;
		if (jq)
			jqrun_event(&ev);
		else
			build_emit(&ev, ev.rec, ev.rec_len);
	}
	ret = filter_end(rd, ret, &out, report);
	fields_free();
	build_free();
	jqrun_free();
	tmpl_end();
	out_free(&out);
	reader_free(rd);
	return ret;
}
