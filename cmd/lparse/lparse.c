/* lparse - Fluentd's parser plugins as a filter: a text field into fields */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "input.h"
#include "metrics.h"
#include "opt.h"
#include "recpath.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"
#include "timefmt.h"

#include "lparse.h"

#define USAGE "[options] --regex REGEX | --format FORMAT"
#define ABOUT "Parse the text field --key of each event with a regular " \
	"expression or one of\nFluentd's parser formats; the fields found " \
	"become the record, and\n--time-key sets the event time.  Events " \
	"that do not parse are counted,\nreported and passed on unchanged " \
	"(see --on-error)."

enum {
	O_KEYS = OPT_LONG, O_DELIM, O_DELIM_PATTERN, O_LABEL_DELIM,
	O_MESSAGE_KEY, O_MESSAGE_FORMAT, O_WITH_PRI, O_RFC5424_TF, O_ENGINE,
	O_NO_COLONLESS, O_TIME_KEY, O_TIME_FORMAT, O_TIME_TYPE, O_KEEP_TIME_KEY,
	O_UTC, O_TIMEZONE, O_ESTIMATE, O_RESERVE_TIME, O_TYPES, O_NULL_PATTERN,
	O_NULL_EMPTY, O_RESERVE_DATA, O_REMOVE_KEY, O_PREFIX, O_HASH_FIELD,
	O_ON_ERROR, O_TYPES_LABEL, O_REPLACE_INVALID, O_TRY, O_FALLBACK
};

static const struct opt opts[] = {
	{ 'k', "key", "KEY", "the field to parse (default message)" },
	{ 'e', "regex", "REGEX", "PCRE2 regex with named groups (?<name>...), "
	    "or /REGEX/im" },
	{ 'f', "format", "FORMAT", "json, ltsv, csv, syslog, cri, docker, "
	    "msgpack, multi, ..." },
	{ O_TRY, "try", "FORMAT", "multi: a format or regexp:REGEX, tried in "
	    "turn" },
	{ O_KEYS, "keys", "K1,K2,...", "field names of csv and tsv columns" },
	{ O_DELIM, "delimiter", "STR", "csv ',', tsv and ltsv tab; \\t is a "
	    "tab" },
	{ O_DELIM_PATTERN, "delimiter-pattern", "REGEX", "ltsv: split "
	    "items where REGEX matches" },
	{ O_LABEL_DELIM, "label-delimiter", "STR", "ltsv: between label and "
	    "value (default ':')" },
	{ O_MESSAGE_KEY, "message-key", "KEY", "none: the line's field, cri: "
	    "the message's (default message)" },
	{ O_MESSAGE_FORMAT, "message-format", "FMT", "syslog: rfc3164 "
	    "(default), rfc5424 or auto" },
	{ O_WITH_PRI, "with-priority", NULL, "syslog: lines start with "
	    "<PRI>" },
	{ O_RFC5424_TF, "rfc5424-time-format", "FMT", "syslog: time format "
	    "of RFC 5424 lines" },
	{ O_ENGINE, "parser-engine", "ENGINE", "syslog: regexp (default) or "
	    "string" },
	{ O_NO_COLONLESS, "no-colonless-ident", NULL, "syslog string engine: "
	    "\"host word text\" has no ident" },
	{ O_TIME_KEY, "time-key", "KEY", "field with the event time (default "
	    "time; '' for none)" },
	{ O_TIME_FORMAT, "time-format", "FMT", "strftime format with %L, %N; "
	    "iso8601; unixtime" },
	{ O_FALLBACK, "time-format-fallback", "FMT", "a time format tried when "
	    "the ones before fail" },
	{ O_TIME_TYPE, "time-type", "TYPE", "string (default; json: float), "
	    "unixtime, float or mixed" },
	{ O_KEEP_TIME_KEY, "keep-time-key", NULL, "keep the time field in the "
	    "record" },
	{ O_UTC, "utc", NULL, "times without a zone are UTC" },
	{ O_TIMEZONE, "timezone", "TZ", "zone of times without one (+09:00, "
	    "Asia/Tokyo)" },
	{ O_ESTIMATE, "estimate-current-event", NULL, "no time field: use "
	    "the current time, not the event's" },
	{ O_RESERVE_TIME, "reserve-time", NULL, "keep the event's time even "
	    "if a time was parsed" },
	{ O_TYPES, "types", "K:TYPE,...", "integer, float, bool, string, "
	    "time[:FMT], array[:SEP]" },
	{ O_TYPES_LABEL, "types-label-delimiter", "STR", "name:type separator "
	    "of --types; given, of --regex names too" },
	{ O_NULL_PATTERN, "null-value-pattern", "REGEX", "values matching "
	    "REGEX become null" },
	{ O_NULL_EMPTY, "null-empty-string", NULL, "empty values become "
	    "null" },
	{ O_RESERVE_DATA, "reserve-data", NULL, "keep the original fields too "
	    "(parsed ones win)" },
	{ O_REMOVE_KEY, "remove-key-name-field", NULL, "with --reserve-data: "
	    "drop the parsed field" },
	{ O_PREFIX, "inject-key-prefix", "PREFIX", "put PREFIX before the "
	    "parsed keys" },
	{ O_HASH_FIELD, "hash-value-field", "KEY", "put the parsed fields in "
	    "a map under KEY" },
	{ O_ON_ERROR, "on-error", "ACTION", "unparsed events: keep "
	    "(default), drop, tag:PREFIX" },
	{ O_REPLACE_INVALID, "replace-invalid-sequence", NULL, "make bytes "
	    "that are not UTF-8 '?' before parsing" },
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "all input was read" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data" },
	{ 4, "system or I/O failure" },
	OPT_EXIT_PIPE,
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct options o = {
	.key = "message", .label_delim = ":", .message_key = "message",
	.rfc5424_tf = TF_5424, .colonless = 1, .time_type = -1,
	.types_label = ":"
};

/* Appends arg to the list of a repeatable option. */
static void
add(const char ***list, size_t *n, const char *arg)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = arg;
}

/* Returns a bit set of the format-specific options given. */
static unsigned
options(int argc, char **argv)
{
	static const char *const msgfmts[] = { "rfc3164", "rfc5424", "auto",
		NULL };
	static const char *const engines[] = { "regexp", "string", NULL };
	static const char *const ttypes[] = { "string", "unixtime", "float",
		"mixed", NULL };
	const char *arg;
	unsigned given = 0;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case 'k': o.key = arg; break;
		case 'e': o.regex = arg; break;
		case 'f':
			o.format = opt_choice_arg(arg, "format", format_names);
			o.format_set = 1;
			break;
		case O_KEYS: o.keys = arg; given |= 1; break;
		case O_DELIM: o.delim = arg; given |= 2; break;
		case O_DELIM_PATTERN: o.delim_pattern = arg; given |= 4; break;
		case O_LABEL_DELIM: o.label_delim = arg; given |= 8; break;
		case O_MESSAGE_KEY: o.message_key = arg; given |= 16; break;
		case O_MESSAGE_FORMAT:
			o.msgfmt = opt_choice_arg(arg, "message-format",
			    msgfmts);
			given |= 32;
			break;
		case O_WITH_PRI: o.with_pri = 1; given |= 32; break;
		case O_RFC5424_TF: o.rfc5424_tf = arg; given |= 32; break;
		case O_ENGINE:
			o.string_engine = opt_choice_arg(arg, "parser-engine",
			    engines);
			given |= 32;
			break;
		case O_NO_COLONLESS: o.colonless = 0; given |= 32; break;
		case O_TIME_KEY: o.time_key = arg; break;
		case O_TIME_FORMAT: o.time_format = arg; break;
		case O_TIME_TYPE:
			o.time_type = opt_choice_arg(arg, "time-type", ttypes);
			break;
		case O_KEEP_TIME_KEY: o.keep_time = 1; break;
		case O_UTC: o.tz = "UTC"; break;
		case O_TIMEZONE: o.tz = arg; break;
		case O_ESTIMATE: o.estimate = 1; break;
		case O_RESERVE_TIME: o.reserve_time = 1; break;
		case O_TYPES: o.types = arg; break;
		case O_NULL_PATTERN: o.null_pattern = arg; break;
		case O_NULL_EMPTY: o.null_empty = 1; break;
		case O_RESERVE_DATA: o.reserve_data = 1; break;
		case O_REMOVE_KEY: o.remove_key = 1; break;
		case O_PREFIX: o.prefix = arg; break;
		case O_HASH_FIELD: o.hash_field = arg; break;
		case O_ON_ERROR: errors_setup(arg); break;
		case O_TYPES_LABEL:
			o.types_label = arg;
			o.typed_groups = 1;
			break;
		case O_REPLACE_INVALID: o.replace_invalid = 1; break;
		case O_TRY: add(&o.tries, &o.ntries, arg); break;
		case O_FALLBACK: add(&o.fallbacks, &o.nfallbacks, arg); break;
		default: input_opt(c, arg); break;
		}
	}
	if (o.ntries && !o.format_set)
		o.format = F_MULTI;
	if (o.ntries && o.format != F_MULTI)
		opt_fail(&prog, "--try is for --format multi");
	if (o.ntries && o.regex)
		opt_fail(&prog, "--regex and --try exclude each other (give "
		    "--try 'regexp:REGEX')");
	if (optind < argc)
		opt_fail(&prog, "unexpected operand '%s': lparse reads "
		    "standard input only", argv[optind]);
	return given;
}


static void
setup(unsigned given)
{
	struct timefmt *tf = NULL;
	const char *err;

	if (o.tz && !(tf = timefmt_new("%Y", o.tz, &err)))
		die(EX_USAGE, "bad --timezone '%s': %s", o.tz, err);
	timefmt_free(tf);
	if (!*o.types_label)
		die(EX_USAGE, "--types-label-delimiter: empty");
	format_setup();
	if (o.format == F_MULTI) {
		multi_setup(given);
	} else {
		format_check(given, 1u << o.format);
		time_setup(0);
	}
	types_setup();
	if (!o.prefix)
		o.prefix = "";
	o.key_len = strlen(o.key);
	if (o.key[0] == '$' && (o.key[1] == '.' || o.key[1] == '[')) {
		if (recpath_parse(&o.keypath, o.key, &err) < 0)
			die(EX_USAGE, "bad --key '%s': %s", o.key, err);
		o.use_path = 1;
	}
	o.prefix_len = strlen(o.prefix);
	o.hash_len = o.hash_field ? strlen(o.hash_field) : 0;
	if (o.remove_key && !o.reserve_data)
		die(EX_USAGE, "--remove-key-name-field works with "
		    "--reserve-data");
	record_setup();
}

static void
sync_stats(void)
{
	const struct reader_stats *rs = reader_stats(run.rd);

	stats.in = rs->events;
	stats.bytes_in = rs->bytes;
	stats.dropped = run.dropped + input_dropped(run.rd);
	stats.bytes_out = run.out.bytes + run.out.b.len;
}

static void
extra_stats(char *b, size_t cap)
{
	snprintf(b, cap, ", parse failures %llu",
	    (unsigned long long)run.failures);
}

static void
cleanup(void)
{
	multi_free();
	maps_free();
	types_free();
	time_free();
	format_free();
	errors_free();
	record_free();
	recpath_free(&o.keypath);
	free(o.tries);
	free(o.fallbacks);
	reader_free(run.rd);
	out_free(&run.out);
}

int
main(int argc, char **argv)
{
	unsigned given;
	int ret;

	progname_set(argv[0]);
	given = options(argc, argv);
	setup(given);
	sig_init();
	out_init(&run.out, 1, "stdout");
	run.rd = input_filter_reader(0, "stdin", &run.out);
	stats_init(sync_stats, extra_stats);
	metrics_families();
	ret = record_run();
	ret = filter_end(run.rd, ret, &run.out, errors_summary);
	cleanup();
	return ret;
}
