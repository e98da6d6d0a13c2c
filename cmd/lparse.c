/* lparse - Fluentd's parser plugins as a filter: a text field into fields */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/input.h"
#include "../common/json.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/parse_rx.h"
#include "../common/parse_syslog.h"
#include "../common/parse_text.h"
#include "../common/rec.h"
#include "../common/recpath.h"
#include "../common/rx.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"
#include "../common/timefmt.h"

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
	O_ON_ERROR, O_TYPES_LABEL, O_REPLACE_INVALID
};

static const struct opt opts[] = {
	{ 'k', "key", "KEY", "the field to parse (default message)" },
	{ 'e', "regex", "REGEX", "PCRE2 regex with named groups (?<name>...), "
	    "or /REGEX/im" },
	{ 'f', "format", "FORMAT", "json, ltsv, csv, tsv, logfmt, syslog, "
	    "none, nginx, apache2, ..." },
	{ O_KEYS, "keys", "K1,K2,...", "field names of csv and tsv columns" },
	{ O_DELIM, "delimiter", "STR", "csv ',', tsv and ltsv tab; \\t is a "
	    "tab" },
	{ O_DELIM_PATTERN, "delimiter-pattern", "REGEX", "ltsv: split "
	    "items where REGEX matches" },
	{ O_LABEL_DELIM, "label-delimiter", "STR", "ltsv: between label and "
	    "value (default ':')" },
	{ O_MESSAGE_KEY, "message-key", "KEY", "none: the field for the line "
	    "(default message)" },
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
	{ O_TIME_TYPE, "time-type", "TYPE", "string (default; json: float), "
	    "unixtime or float" },
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
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "all input was read" },
	{ 2, "usage error" },
	{ 3, "bad input data" },
	{ 4, "system or I/O failure" },
	{ 141, "the reader of standard output went away" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

enum format {
	F_REGEXP, F_JSON, F_LTSV, F_CSV, F_TSV, F_LOGFMT, F_APACHE2, F_APACHE,
	F_APACHE_ERROR, F_NGINX, F_SYSLOG, F_NONE
};

static const char *const format_names[] = {
	"regexp", "json", "ltsv", "csv", "tsv", "logfmt", "apache2", "apache",
	"apache_error", "nginx", "syslog", "none", NULL
};

/* Fluentd's built-in expressions and time formats. */
static const char RX_APACHE2[] = "^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) "
	"\\[(?<time>[^\\]]*)\\] \"(?<method>\\S+)(?: +(?<path>(?:[^\\\"]|"
	"\\\\\")*?)(?: +\\S*)?)?\" (?<code>[^ ]*) (?<size>[^ ]*)(?: "
	"\"(?<referer>(?:[^\\\"]|\\\\\")*)\" \"(?<agent>(?:[^\\\"]|"
	"\\\\\")*)\")?$";
static const char RX_APACHE[] = "^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) "
	"\\[(?<time>[^\\]]*)\\] \"(?<method>\\S+)(?: +(?<path>[^ ]*) +\\S*)?\" "
	"(?<code>[^ ]*) (?<size>[^ ]*)(?: \"(?<referer>[^\\\"]*)\" "
	"\"(?<agent>[^\\\"]*)\")?$";
static const char RX_APACHE_ERROR[] = "^\\[[^ ]* (?<time>[^\\]]*)\\] "
	"\\[(?<level>[^\\]]*)\\](?: \\[pid (?<pid>[^\\]]*)\\])?( \\[client "
	"(?<client>[^\\]]*)\\])? (?<message>.*)$";
static const char RX_NGINX[] = "^(?<remote>[^ ]*) (?<host>[^ ]*) "
	"(?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] \"(?<method>\\S+)(?: +"
	"(?<path>[^\\\"]*?)(?: +\\S*)?)?\" (?<code>[^ ]*) (?<size>[^ ]*)(?: "
	"\"(?<referer>[^\\\"]*)\" \"(?<agent>[^\\\"]*)\"(?:\\s+\\\"?"
	"(?<http_x_forwarded_for>[^\\\"]*)\\\"?)?)?$";
static const char RX_3164[] = "(?<host>[^ ]*) (?<ident>[^ :\\[]*)(?:\\["
	"(?<pid>[0-9]+)\\])?(?:[^\\:]*\\:)? *(?<message>.*)$";
static const char RX_5424[] = "/(?<host>[!-~]{1,255}) (?<ident>[!-~]{1,48}) "
	"(?<pid>[!-~]{1,128}) (?<msgid>[!-~]{1,32}) (?<extradata>(?:\\-|"
	"(?:\\[.*?(?<!\\\\)\\])))(?: (?<message>.+))?\\z/m";
#define ISDIGIT(c) ((unsigned char)((c) - '0') <= 9)
#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))

#define TF_APACHE "%d/%b/%Y:%H:%M:%S %z"
#define TF_3164 "%b %d %H:%M:%S"
#define TF_5424 "%Y-%m-%dT%H:%M:%S.%N%z"
#define TF_5424_NOSUB "%Y-%m-%dT%H:%M:%S%z"

/* Formats tried in turn for a time without --time-format. */
static const char *const guess_formats[] = {
	"iso8601", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%N %z",
	"%Y-%m-%d %H:%M:%S,%N",
	"%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M:%S %z", TF_APACHE,
	"%a %b %e %H:%M:%S %Y", "%a %b %e %H:%M:%S.%N %Y",
	"%b %e %H:%M:%S %Y", "%b %e %H:%M:%S.%N %Y",
	"%a, %d %b %Y %H:%M:%S %z", "%b %e %H:%M:%S", "%b %e %H:%M:%S.%N",
	"%Y-%m-%d", NULL
};
#define NGUESS (sizeof(guess_formats) / sizeof(*guess_formats) - 1)

enum time_type { TT_STRING, TT_UNIXTIME, TT_FLOAT };
enum on_error { E_KEEP, E_DROP, E_TAG };
enum syslog_format { S_3164, S_5424, S_AUTO };

/* How to read a time: a format, or NULL to try guess_formats. */
struct tparser {
	enum time_type type;
	struct timefmt *tf;
};

enum conv_type { C_STRING, C_INTEGER, C_FLOAT, C_BOOL, C_TIME, C_ARRAY };

static const char *const conv_names[] = {
	"string", "integer", "float", "bool", "time", "array", NULL
};

/* One entry of --types. */
struct conv {
	char *key;
	size_t klen;
	enum conv_type type;
	char *sep;              /* array */
	size_t seplen;
	struct tparser tp;      /* time */
};

static struct {
	enum format format;
	int format_set;
	const char *regex, *key, *keys, *delim, *delim_pattern, *label_delim;
	const char *message_key, *rfc5424_tf;
	enum syslog_format msgfmt;
	int with_pri, string_engine, colonless;
	const char *time_key, *time_format, *tz;
	int time_type;          /* -1: the format's default */
	int keep_time, estimate, reserve_time;
	const char *types, *null_pattern, *types_label;
	int typed_groups, replace_invalid;
	int null_empty, reserve_data, remove_key;
	const char *prefix, *hash_field;
	enum on_error on_error;
	const char *tag_prefix;
	int skip, stats;
	size_t max;
} o = {
	.key = "message", .label_delim = ":", .message_key = "message",
	.rfc5424_tf = TF_5424, .colonless = 1, .time_type = -1,
	.types_label = ":",
	.max = STREAM_MAX_EVENT
};

static size_t key_len, time_key_len, prefix_len, hash_len;
static int convert_values;      /* null patterns or --types given */
static char *delim;             /* --delimiter with \t decoded */
static size_t delim_len;
/*
 * A regular expression twice: as Ruby reads it, and for text without a
 * newline, where the second gives the same matches faster.
 */
struct rxpair {
	struct rx *nl;
	struct rx *fast;
};

static struct rxpair rx_main, rx_3164, rx_5424, rx_null;
static struct rx *rx_delim;
static size_t *name_len;        /* of rx_main's named groups */
static struct pkeys keys;
static struct recpath keypath;  /* --key as a $.a.b path */
static int use_path;
static struct tparser tp_time;  /* the time key's */
static struct timefmt *tf_apache, *tf_3164, *tf_5424, *tf_5424_nosub;
static struct timefmt *guess[NGUESS];
static size_t guess_last;
static struct conv *convs;
static size_t nconv;
static struct syslog_opts so3164, so5424;

static struct out out;
static struct reader *rd;
static struct pfields pf;
static struct buf jsonbuf, tagbuf, tmp, valbuf, stripped, scrubbed;
static uint64_t nevents, failures, failed_events, dropped, unshown;
static long long last_warn;

/*
 * Compiles a regular expression, dying with EX_USAGE naming what; t: its
 * typed group names, or NULL.
 */
static struct rx *
ruby_rx_typed(const char *what, const char *src, int flags,
    const struct prx_types *t)
{
	struct rx *rx;
	char err[512];

	if (!(rx = parse_rx_typed(src, flags, t, err, sizeof(err))))
		die(EX_USAGE, "bad %s '%s': %s", what, src, err);
	return rx;
}

static struct rx *
ruby_rx(const char *what, const char *src, int flags)
{
	return ruby_rx_typed(what, src, flags, NULL);
}

/* Both forms; t->fn (if any) is called once for each typed name. */
static void
rx_pair_typed(struct rxpair *r, const char *what, const char *src,
    const struct prx_types *t)
{
	struct prx_types quiet;

	r->nl = ruby_rx_typed(what, src, 0, t);
	if (t) {
		quiet = *t;
		quiet.fn = NULL;
		t = &quiet;
	}
	r->fast = ruby_rx_typed(what, src, PRX_NOLINE, t);
}

static void
rx_pair(struct rxpair *r, const char *what, const char *src)
{
	rx_pair_typed(r, what, src, NULL);
}

static void
rx_pair_free(struct rxpair *r)
{
	rx_free(r->nl);
	rx_free(r->fast);
}

/* The expression to match s[0..n) with. */
static struct rx *
pick(const struct rxpair *r, const char *s, size_t n)
{
	return memchr(s, '\n', n) ? r->nl : r->fast;
}

/*
 * Times.
 */

static struct timefmt *
compile_time(const char *spec, const char *tz, const char *what)
{
	struct timefmt *tf;
	const char *err;

	if (!(tf = timefmt_new(spec, tz, &err)))
		die(EX_USAGE, "bad %s '%s': %s", what, spec, err);
	return tf;
}

/* Text without a format: the format that worked last, then the others. */
static int
guess_time(const char *s, size_t n, int64_t *sec, uint32_t *nsec)
{
	size_t i;

	if (timefmt_parse(guess[guess_last], s, n, sec, nsec) == 0)
		return 0;
	for (i = 0; i < NGUESS; i++)
		if (i != guess_last && timefmt_parse(guess[i], s, n, sec,
		    nsec) == 0) {
			guess_last = i;
			return 0;
		}
	return -1;
}

/* The text of a field: str, or a raw str or bin value. */
static int
field_text(const struct pfield *f, const char **p, size_t *n)
{
	const char *q = f->v;
	struct mp_obj h;

	if (f->kind == PK_STR) {
		*p = f->v;
		*n = f->vlen;
		return 1;
	}
	if (f->kind != PK_RAW || mp_head(&q, f->v + f->vlen, &h) != MP_OK ||
	    (h.type != MP_STR && h.type != MP_BIN))
		return 0;
	*p = h.data;
	*n = h.len;
	return 1;
}

/* A number as a time: unixtime drops the fraction, as Ruby's to_i. */
static int
number_time(const struct tparser *tp, const struct pfield *f, int64_t *sec,
    uint32_t *nsec)
{
	const char *q = f->v;
	struct mp_obj h;
	double d;

	*nsec = 0;
	if (f->kind == PK_INT) {
		*sec = f->i;
		return 0;
	}
	if (f->kind == PK_FLOAT)
		d = f->f;
	else if (f->kind != PK_RAW || mp_head(&q, f->v + f->vlen, &h) != MP_OK)
		return -1;
	else if (h.type == MP_UINT && h.v.u <= INT64_MAX)
		return *sec = (int64_t)h.v.u, 0;
	else if (h.type == MP_INT)
		return *sec = h.v.i, 0;
	else if (h.type == MP_FLOAT)
		d = h.v.f;
	else
		return -1;
	if (tp->type == TT_UNIXTIME)
		d = trunc(d);
	return event_time_from_double(d, sec, nsec);
}

/* Reads a time field; 0, or -1 with *why set. */
static int
parse_time(const struct tparser *tp, const struct pfield *f, int64_t *sec,
    uint32_t *nsec, const char **why)
{
	const char *s;
	size_t n;
	int r;

	if (!field_text(f, &s, &n)) {
		if (tp->type != TT_STRING && number_time(tp, f, sec, nsec) == 0)
			return 0;
		*why = "time is not a string";
		return -1;
	}
	r = tp->tf ? timefmt_parse(tp->tf, s, n, sec, nsec) :
	    guess_time(s, n, sec, nsec);
	if (r < 0) {
		*why = tp->tf ? "time does not match the time format" :
		    "time in no known format (see --time-format)";
		return -1;
	}
	if (tp->type == TT_UNIXTIME)
		*nsec = 0;
	return 0;
}

/*
 * Values: --null-value-pattern, --null-empty-string and --types.
 */

static void
put_nil(struct buf *b)
{
	buf_putc(b, (char)0xc0);
}

static void
put_bool(struct buf *b, int v)
{
	buf_putc(b, (char)(v ? 0xc3 : 0xc2));
}

static void
put_int(struct buf *b, int64_t v)
{
	msgpack_packer pk;

	mp_packer_init(&pk, b);
	msgpack_pack_int64(&pk, v);
}

static void
put_float(struct buf *b, double v)
{
	msgpack_packer pk;

	mp_packer_init(&pk, b);
	msgpack_pack_double(&pk, v);
}

/* A str header for n bytes, with room made for them. */
static inline void
put_strhdr(struct buf *b, size_t n)
{
	buf_reserve(b, n + 5);
	if (n < 32)
		b->p[b->len++] = (char)(0xa0 | n);
	else
		mp_put_strhdr(b, n);
}

static void
put_str(struct buf *b, const char *s, size_t n)
{
	put_strhdr(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static int
is_null(const char *s, size_t n)
{
	if (o.null_empty && n == 0)
		return 1;
	return rx_null.nl && rx_match(pick(&rx_null, s, n), s, n) == 1;
}

static const struct conv *
conv_find(const char *k, size_t klen)
{
	size_t i;

	for (i = 0; i < nconv; i++)
		if (convs[i].klen == klen && memcmp(convs[i].key, k, klen) == 0)
			return &convs[i];
	return NULL;
}

/* A field's value as it is, without conversions. */
static void
put_plain(struct buf *b, const struct pfield *f)
{
	switch (f->kind) {
	case PK_STR: put_str(b, f->v, f->vlen); break;
	case PK_RAW: buf_put(b, f->v, f->vlen); break;
	case PK_NIL: put_nil(b); break;
	case PK_TRUE: put_bool(b, 1); break;
	case PK_INT: put_int(b, f->i); break;
	case PK_FLOAT: put_float(b, f->f); break;
	}
}

/* The value as Ruby's to_s gives it (text as it is), in tmp. */
static void
value_text(const struct pfield *f, const char **s, size_t *n)
{
	tmp.len = 0;
	buf_reserve(&tmp, 1);
	if (field_text(f, s, n))
		return;
	valbuf.len = 0;
	put_plain(&valbuf, f);
	recpath_to_s(&tmp, valbuf.p, valbuf.p + valbuf.len);
	*s = tmp.p;
	*n = tmp.len;
}

/* Ruby's v.to_i (a float is truncated, anything else is 0). */
static int64_t
to_int(const struct pfield *f)
{
	const char *p = f->v, *s;
	struct mp_obj h = { 0 };
	double d = 0;
	size_t n;

	if (field_text(f, &s, &n))
		return parse_ruby_int(s, n);
	if (f->kind == PK_INT)
		return f->i;
	if (f->kind == PK_FLOAT)
		d = f->f;
	else if (f->kind == PK_RAW && mp_head(&p, f->v + f->vlen, &h) ==
	    MP_OK) {
		if (h.type == MP_UINT)
			return h.v.u > INT64_MAX ? INT64_MAX : (int64_t)h.v.u;
		if (h.type == MP_INT)
			return h.v.i;
		if (h.type == MP_FLOAT)
			d = h.v.f;
	}
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

/* Ruby's v.to_f. */
static double
to_float(const struct pfield *f)
{
	const char *p = f->v, *s;
	struct mp_obj h;
	size_t n;

	if (field_text(f, &s, &n))
		return parse_ruby_float(s, n);
	if (f->kind == PK_INT)
		return (double)f->i;
	if (f->kind == PK_FLOAT)
		return f->f;
	if (f->kind == PK_RAW && mp_head(&p, f->v + f->vlen, &h) == MP_OK) {
		if (h.type == MP_UINT)
			return (double)h.v.u;
		if (h.type == MP_INT)
			return (double)h.v.i;
		if (h.type == MP_FLOAT)
			return h.v.f;
	}
	return 0.0;
}

/* Fluentd's bool: to_s.downcase is true, yes or 1. */
static int
to_bool(const struct pfield *f)
{
	static const char *const truthy[] = { "true", "yes", "1" };
	const char *s;
	size_t n, i;

	value_text(f, &s, &n);
	for (i = 0; i < 3; i++)
		if (n == strlen(truthy[i]) && strncasecmp(s, truthy[i], n) == 0)
			return 1;
	return 0;
}

static void
array_item(void *arg, const char *p, size_t n)
{
	put_str(arg, p, n);
}

static void
put_array(struct buf *b, const struct conv *c, const struct pfield *f)
{
	msgpack_packer pk;
	const char *s;
	size_t n, count;

	value_text(f, &s, &n);
	count = parse_split(s, n, c->sep, c->seplen, 0, NULL, NULL);
	mp_packer_init(&pk, b);
	msgpack_pack_array(&pk, count);
	parse_split(s, n, c->sep, c->seplen, 0, array_item, b);
}

static void
convert(struct buf *b, const struct conv *c, const struct pfield *f)
{
	const char *s, *why;
	int64_t sec;
	uint32_t nsec;
	size_t n;

	switch (c->type) {
	case C_STRING:
		value_text(f, &s, &n);
		put_str(b, s, n);
		break;
	case C_INTEGER:
		put_int(b, to_int(f));
		break;
	case C_FLOAT:
		put_float(b, to_float(f));
		break;
	case C_BOOL:
		put_bool(b, to_bool(f));
		break;
	case C_TIME:
		if (parse_time(&c->tp, f, &sec, &nsec, &why) == 0)
			event_put_time(b, sec, nsec);
		else
			put_nil(b);
		break;
	case C_ARRAY:
		put_array(b, c, f);
		break;
	}
}

/* A field's value, after the null patterns and --types. */
static void
put_value(struct buf *b, const struct pfield *f)
{
	const struct conv *c;
	const char *s;
	size_t n;

	if (f->kind == PK_STR && !convert_values) {
		put_str(b, f->v, f->vlen);
		return;
	}
	if (f->kind == PK_NIL || (f->kind == PK_RAW &&
	    (unsigned char)*f->v == 0xc0)) {
		put_nil(b);
		return;
	}
	if ((o.null_empty || rx_null.nl) && field_text(f, &s, &n) &&
	    is_null(s, n)) {
		put_nil(b);
		return;
	}
	if (nconv && (c = conv_find(f->k, f->klen)))
		convert(b, c, f);
	else
		put_plain(b, f);
}

/*
 * Records: the parsed fields, merged with the original ones
 * (--reserve-data) as Ruby's Hash#merge does, or under --hash-value-field.
 * They are written straight into the output buffer.
 */

static void
put_key(struct buf *b, const char *k, size_t klen)
{
	put_strhdr(b, prefix_len + klen);
	if (prefix_len) {
		memcpy(b->p + b->len, o.prefix, prefix_len);
		b->len += prefix_len;
	}
	memcpy(b->p + b->len, k, klen);
	b->len += klen;
}

static uint32_t
count_fields(void)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < pf.n; i++)
		n += !pf.f[i].drop && !pf.f[i].used;
	return n;
}

/* The parsed fields not written yet, as pairs. */
static void
put_fields(struct buf *b)
{
	struct pfield *f;
	size_t i;

	for (i = 0; i < pf.n; i++) {
		f = &pf.f[i];
		if (f->drop || f->used)
			continue;
		put_key(b, f->k, f->klen);
		put_value(b, f);
	}
}

/* --hash-value-field: one pair, the fields as a map. */
static void
put_hash(struct buf *b)
{
	put_str(b, o.hash_field, hash_len);
	mp_put_maphdr(b, count_fields());
	put_fields(b);
}

/* The parsed field whose key (with the prefix) is k, or NULL. */
static struct pfield *
parsed(const char *k, size_t klen)
{
	struct pfield *f;
	size_t i;

	if (klen < prefix_len || memcmp(k, o.prefix, prefix_len) != 0)
		return NULL;
	k += prefix_len;
	klen -= prefix_len;
	for (i = 0; i < pf.n; i++) {
		f = &pf.f[i];
		if (!f->drop && !f->used && f->klen == klen &&
		    memcmp(f->k, k, klen) == 0)
			return f;
	}
	return NULL;
}

/* The str or bin key at *p (else NULL); advances *p past the key. */
static const char *
pair_key(const char **p, const char *end, size_t *klen)
{
	const char *k = *p;
	struct mp_obj h;

	if (mp_head(p, end, &h) == MP_OK && (h.type == MP_STR ||
	    h.type == MP_BIN)) {
		*klen = h.len;
		return h.data;
	}
	*p = k;
	mp_skip(p, end, NULL);
	return NULL;
}

/*
 * The original pairs, a parsed value in place of one of the same key;
 * parsed: the text parsed (--remove-key-name-field applies).
 */
static int
merge(struct rec *r, const struct event *ev, int parsed_ok)
{
	int remove = o.remove_key && parsed_ok;
	const char *p = ev->rec, *end = p + ev->rec_len, *pair, *k;
	struct mp_obj m;
	struct pfield *f;
	uint32_t i;
	size_t kl = 0;
	int hashed = 0;

	if (remove && use_path) {
		stripped.len = 0;
		if (recpath_put_without(&keypath, &stripped, p, end)) {
			p = stripped.p;
			end = p + stripped.len;
		}
	}
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		k = pair_key(&p, end, &kl);
		mp_skip(&p, end, NULL);
		if (k && remove && !use_path && kl == key_len &&
		    memcmp(k, o.key, kl) == 0)
			continue;
		if (k && o.hash_field && kl == hash_len &&
		    memcmp(k, o.hash_field, kl) == 0) {
			put_hash(r->b);
			hashed = 1;
		} else if (k && !o.hash_field && (f = parsed(k, kl))) {
			put_key(r->b, f->k, f->klen);
			put_value(r->b, f);
			f->used = 1;
		} else {
			rec_pairs(r, pair, p - pair, 0);
		}
		r->n++;
	}
	return hashed;
}

/* Appends the record to b (parsed_ok: see merge). */
static void
build(struct buf *b, const struct event *ev, int parsed_ok)
{
	struct rec r;
	int hashed;

	if (!o.reserve_data) {
		if (o.hash_field) {
			mp_put_maphdr(b, 1);
			put_hash(b);
		} else {
			mp_put_maphdr(b, count_fields());
			put_fields(b);
		}
		return;
	}
	rec_begin(&r, b);
	hashed = merge(&r, ev, parsed_ok);
	if (!o.hash_field) {
		r.n += count_fields();
		put_fields(b);
	} else if (!hashed) {
		put_hash(b);
		r.n++;
	}
	rec_end(&r);
}

/*
 * Events.
 */

static const char *
action_text(void)
{
	static char t[300];

	switch (o.on_error) {
	case E_KEEP:
		return o.reserve_data ? "passed on with their own fields, "
		    "as --reserve-data keeps them" : "passed on unchanged";
	case E_DROP:
		return "dropped";
	case E_TAG:
		snprintf(t, sizeof(t), "passed on tagged %s.TAG%s", o.tag_prefix,
		    o.reserve_data ? ", and with their own fields, as "
		    "--reserve-data keeps them" : "");
		return t;
	}
	return "";
}

/* The warning for a failure: the first, then at most one a second. */
static void
report(const struct event *ev, const char *why, const char *text,
    size_t len)
{
	long long now = stream_ms();
	char more[64] = "";

	if (failures > 1 && now - last_warn < 1000) {
		unshown++;
		return;
	}
	tmp.len = 0;
	if (text) {
		buf_puts(&tmp, ": ");
		json_put_str(&tmp, text, len > 200 ? 200 : len);
		if (len > 200)
			buf_puts(&tmp, "...");
	}
	buf_putc(&tmp, '\0');
	if (unshown)
		snprintf(more, sizeof(more), " (and %llu more since the last "
		    "report)", (unsigned long long)unshown);
	warn("event %llu, tag %.*s: %s%s%s", (unsigned long long)nevents,
	    (int)ev->tag_len, ev->tag, why, tmp.p, more);
	last_warn = now;
	unshown = 0;
}

/* [tag, time, for an event; the record is to follow. */
static void
put_head(struct buf *b, const char *tag, size_t tag_len, int64_t sec,
    uint32_t nsec)
{
	buf_reserve(b, 16);
	b->p[b->len++] = (char)0x93;
	put_str(b, tag, tag_len);
	event_put_time(b, sec, nsec);
}

/*
 * --reserve-data: an event that did not parse goes on as Fluentd's parser
 * filter writes it, with its own fields and time and nothing parsed (an
 * empty map under --hash-value-field).
 */
static void
write_reserved(const struct event *ev)
{
	pfields_reset(&pf, 0);
	put_head(&out.b, ev->tag, ev->tag_len, ev->sec, ev->nsec);
	build(&out.b, ev, 0);
	out_check(&out);
	stats.out++;
}

/* An event that did not parse: counted, reported, then --on-error. */
static void
fail(const struct event *ev, const char *why, const char *text, size_t len)
{
	failures++;
	failed_events++;
	report(ev, why, text, len);
	switch (o.on_error) {
	case E_KEEP:
		if (o.reserve_data) {
			write_reserved(ev);
			break;
		}
		event_write(&out, ev->tag, ev->tag_len, ev->sec, ev->nsec,
		    ev->rec, ev->rec_len);
		stats.out++;
		break;
	case E_DROP:
		dropped++;
		break;
	case E_TAG:
		tagbuf.len = 0;
		buf_puts(&tagbuf, o.tag_prefix);
		buf_putc(&tagbuf, '.');
		buf_put(&tagbuf, ev->tag, ev->tag_len);
		event_write(&out, tagbuf.p, tagbuf.len, ev->sec, ev->nsec,
		    ev->rec, ev->rec_len);
		stats.out++;
		if (o.reserve_data)
			write_reserved(ev);
		break;
	}
}

/* Takes the time from the time key: 0, or -1 with *why set. */
static int
take_time(int64_t *sec, uint32_t *nsec, int *have, const char **why)
{
	struct pfield *f;
	size_t i;

	for (i = 0; i < pf.n; i++) {
		f = &pf.f[i];
		if (f->klen != time_key_len || memcmp(f->k, o.time_key,
		    time_key_len) != 0)
			continue;
		if (o.reserve_time) {
			/* the time is not used: whatever it holds is fine */
			f->drop = !o.keep_time;
			return 0;
		}
		if (parse_time(&tp_time, f, sec, nsec, why) < 0)
			return -1;
		f->drop = !o.keep_time;
		*have = 1;
		return 0;
	}
	return 0;
}

/* Writes the parsed fields as an event (text is the parsed text). */
static void
emit(const struct event *ev, int have, int64_t sec, uint32_t nsec,
    const char *text, size_t len)
{
	struct buf *b;
	const char *why;

	if (o.time_key && take_time(&sec, &nsec, &have, &why) < 0) {
		fail(ev, why, text, len);
		return;
	}
	if (o.reserve_time || (!have && !o.estimate)) {
		sec = ev->sec;
		nsec = ev->nsec;
	} else if (!have) {
		event_now(&sec, &nsec);
	}
	b = &out.b;
	put_head(b, ev->tag, ev->tag_len, sec, nsec);
	build(b, ev, 1);
	out_check(&out);
	stats.out++;
}

/*
 * Formats.  Each fills pf from the text s[0..n): 0, or -1 with *why.
 */

static int
match(struct rx *rx, const char *s, size_t n, const char **why)
{
	int r = rx_match(rx, s, n);

	if (r == 1)
		return 0;
	*why = r == 0 ? "pattern not matched" : "the regex could not finish "
	    "(a match or stack limit)";
	return -1;
}


/* The named groups that took part, in order (lens: their lengths). */
static int
parse_regex(struct rx *rx, const size_t *lens, const char *s, size_t n,
    const char **why)
{
	size_t i, names = rx_names(rx), len;
	const char *p, *name;

	if (match(rx, s, n, why) < 0)
		return -1;
	for (i = 0; i < names; i++)
		if (rx_group(rx, i, s, &p, &len) == 0) {
			name = rx_name(rx, i);
			pfields_str(&pf, name, lens ? lens[i] : strlen(name), p,
			    len);
		}
	return 0;
}

/* An apache2 group: absent, or "-" where dash is set, is null. */
static void
ap_str(struct rx *rx, const char *s, size_t i, const char *k, int dash)
{
	const char *p;
	size_t len;

	if (rx_group(rx, i, s, &p, &len) < 0 || (dash && len == 1 &&
	    *p == '-'))
		pfields_add(&pf, k, strlen(k));
	else
		pfields_str(&pf, k, strlen(k), p, len);
}

/* An apache2 number: Ruby's to_i, with 0 (code) or "-" (size) null. */
static void
ap_int(struct rx *rx, const char *s, size_t i, const char *k, int zero_nil)
{
	struct pfield *f = pfields_add(&pf, k, strlen(k));
	const char *p;
	size_t len;

	rx_group(rx, i, s, &p, &len);
	f->i = parse_ruby_int(p, len);
	if (zero_nil ? f->i != 0 : !(len == 1 && *p == '-'))
		f->kind = PK_INT;
}

/* Fluentd's apache2 parser: its own record, "-" as null, code and size. */
static int
parse_apache2(const char *s, size_t n, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	struct rx *rx = pick(&rx_main, s, n);
	const char *t;
	size_t tlen;

	if (match(rx, s, n, why) < 0)
		return -1;
	rx_group(rx, 2, s, &t, &tlen);
	if (timefmt_parse(tf_apache, t, tlen, sec, nsec) < 0 &&
	    !o.reserve_time) {
		*why = "time does not match the time format";
		return -1;
	}
	ap_str(rx, s, 0, "host", 1);
	ap_str(rx, s, 1, "user", 1);
	ap_str(rx, s, 3, "method", 0);
	ap_str(rx, s, 4, "path", 0);
	ap_int(rx, s, 5, "code", 1);
	ap_int(rx, s, 6, "size", 0);
	ap_str(rx, s, 7, "referer", 1);
	ap_str(rx, s, 8, "agent", 1);
	if (o.keep_time)
		pfields_str(&pf, "time", 4, t, tlen);
	return 0;
}

/* <PRI> of the regexp engine: ^<[0-9]{1,3}> (5424: then [0-9]{1,3}\s). */
static long
rx_pri(const char *s, size_t n, int is5424, long *pri)
{
	size_t i = 1, v;

	*pri = 0;
	if (n < 3 || s[0] != '<')
		return -1;
	for (; i < n && i < 4 && ISDIGIT(s[i]); i++)
		*pri = *pri * 10 + (s[i] - '0');
	if (i == 1 || i >= n || s[i] != '>')
		return -1;
	if (!is5424)
		return i + 1;
	for (v = ++i; i < n && i - v < 3 && ISDIGIT(s[i]); i++)
		continue;
	if (i == v || i >= n || !ISSPACE(s[i]))
		return -1;
	return i + 1;
}

static void
add_int(const char *k, int64_t v)
{
	struct pfield *f = pfields_add(&pf, k, strlen(k));

	f->kind = PK_INT;
	f->i = v;
}

/* Fluentd's regexp engine: <PRI>, the time, then its expression. */
static int
syslog_rx(int is5424, const char *s, size_t n, const char **t, size_t *tlen,
    const char **why)
{
	const struct syslog_opts *sp = is5424 ? &so5424 : &so3164;
	long c = 0, i, pri;
	size_t j;

	if (o.with_pri) {
		if ((c = rx_pri(s, n, is5424, &pri)) < 0) {
			*why = "no <priority>";
			return -1;
		}
		add_int("pri", pri);
	}
	if ((i = parse_syslog_time(&pf, s, n, c, sp->nspace, t, tlen)) < 0) {
		*why = "pattern not matched";
		return -1;
	}
	if (o.keep_time)
		pfields_str(&pf, "time", 4, *t, *tlen);
	if (parse_regex(pick(is5424 ? &rx_5424 : &rx_3164, s + i + 1,
	    n - i - 1), NULL, s + i + 1, n - i - 1, why) < 0)
		return -1;
	for (j = 0; j < pf.n; j++)
		if (pf.f[j].kind == PK_STR && pf.f[j].klen == 7 &&
		    memcmp(pf.f[j].k, "message", 7) == 0)
			pf.f[j].vlen = parse_chomp(pf.f[j].v, pf.f[j].vlen);
	return 0;
}

/* ^<[0-9]{1,3}>[1-9]: message_format auto takes it for RFC 5424. */
static int
looks_5424(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 4 || s[0] != '<')
		return 0;
	while (i < n && i < 4 && ISDIGIT(s[i]))
		i++;
	return i > 1 && i + 1 < n && s[i] == '>' && s[i + 1] >= '1' &&
	    s[i + 1] <= '9';
}

static int
parse_syslog(const char *s, size_t n, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	int is5424 = o.msgfmt == S_5424 || (o.msgfmt == S_AUTO &&
	    looks_5424(s, n));
	const char *t;
	size_t tlen;
	int r;

	if (!o.string_engine)
		r = syslog_rx(is5424, s, n, &t, &tlen, why);
	else if (is5424)
		r = parse_syslog_5424(&pf, s, n, &so5424, &t, &tlen, why);
	else
		r = parse_syslog_3164(&pf, s, n, &so3164, &t, &tlen, why);
	if (r < 0)
		return -1;
	if (is5424)
		r = timefmt_parse(tf_5424, t, tlen, sec, nsec) == 0 ||
		    timefmt_parse(tf_5424_nosub, t, tlen, sec, nsec) == 0;
	else
		r = timefmt_parse(tf_3164, t, tlen, sec, nsec) == 0;
	if (!r && !o.reserve_time) {
		*why = "time does not match the time format";
		return -1;
	}
	if (o.keep_time && o.string_engine)
		pfields_str(&pf, "time", 4, t, tlen);
	return 0;
}

/* --delimiter-pattern: Ruby's split on a regular expression. */
static void
ltsv_pattern(const char *s, size_t n)
{
	const char *e = s + n, *p = s, *d;
	size_t dlen, llen = strlen(o.label_delim);

	while (p < e && rx_match(rx_delim, p, e - p) == 1 &&
	    rx_group(rx_delim, 0, p, &d, &dlen) == 0) {
		if (dlen == 0 && d == p)
			d++;    /* an empty match splits off one byte */
		parse_ltsv_item(&pf, p, d - p, o.label_delim, llen);
		p = d + dlen;
	}
	if (p < e)
		parse_ltsv_item(&pf, p, e - p, o.label_delim, llen);
}

static int
parse_line(const char *s, size_t n, int *have, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	switch (o.format) {
	case F_REGEXP: case F_APACHE: case F_APACHE_ERROR: case F_NGINX:
		return parse_regex(pick(&rx_main, s, n), name_len, s, n, why);
	case F_APACHE2:
		*have = 1;
		return parse_apache2(s, n, sec, nsec, why);
	case F_SYSLOG:
		*have = 1;
		return parse_syslog(s, n, sec, nsec, why);
	case F_LTSV:
		if (rx_delim)
			ltsv_pattern(s, n);
		else
			parse_ltsv(&pf, s, n, delim, delim_len, o.label_delim,
			    strlen(o.label_delim));
		return 0;
	case F_CSV:
		return parse_csv(&pf, s, n, delim, delim_len, &keys, why);
	case F_TSV:
		parse_tsv(&pf, s, n, delim, delim_len, &keys);
		return 0;
	case F_LOGFMT:
		parse_logfmt(&pf, s, n);
		return 0;
	case F_NONE:
		pfields_str(&pf, o.message_key, strlen(o.message_key), s, n);
		return 0;
	case F_JSON:
		break;
	}
	return 0;
}

/* The pairs of a msgpack map as fields. */
static void
map_fields(const char *p, const char *end)
{
	struct mp_obj m, k;
	const char *v;
	struct pfield *f;
	uint32_t i;

	pfields_reset(&pf, 0);
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		mp_head(&p, end, &k);   /* JSON keys are strings */
		v = p;
		mp_skip(&p, end, NULL);
		f = pfields_add(&pf, k.data, k.len);
		f->kind = PK_RAW;
		f->v = v;
		f->vlen = p - v;
	}
}

/* Fluentd's json parser: an object, or an array of objects. */
static void
parse_json(const struct event *ev, const char *s, size_t n)
{
	const char *p, *end, *e, *v;
	struct json_err err;
	struct mp_obj h, x;
	char why[120];
	unsigned long bad = 0, first = 0;
	size_t used;
	uint32_t i;
	int r;

	jsonbuf.len = 0;
	if ((r = json_parse(s, n, 1, &used, &jsonbuf, &err)) != JSON_OK) {
		fail(ev, r == JSON_BAD ? err.msg : "no JSON value", s, n);
		return;
	}
	for (i = used; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r') {
			fail(ev, "text after the JSON value", s, n);
			return;
		}
	p = jsonbuf.p;
	end = p + jsonbuf.len;
	mp_head(&p, end, &h);
	if (h.type == MP_MAP) {
		map_fields(jsonbuf.p, end);
		emit(ev, 0, 0, 0, s, n);
		return;
	}
	if (h.type != MP_ARRAY) {
		fail(ev, "JSON is not an object or an array", s, n);
		return;
	}
	if (h.v.n == 0) {
		fail(ev, "an empty JSON array", s, n);
		return;
	}
	/*
	 * As Fluentd: an event for each object, a failure for each other
	 * element; but --on-error takes the event once, so that a line of
	 * many such elements is not multiplied.
	 */
	for (i = 0; i < h.v.n; i++) {
		e = v = p;
		mp_skip(&p, end, NULL);
		if (mp_head(&v, end, &x) == MP_OK && x.type == MP_MAP) {
			map_fields(e, p);
			emit(ev, 0, 0, 0, s, n);
		} else if (!bad++) {
			first = i + 1;
		}
	}
	if (!bad)
		return;
	if (bad == 1)
		snprintf(why, sizeof(why), "element %lu of the JSON array is "
		    "not an object", first);
	else
		snprintf(why, sizeof(why), "%lu elements of the JSON array are "
		    "not objects (the first is element %lu)", bad, first);
	failures += bad - 1;
	fail(ev, why, s, n);
}

static char why_nokey[300], why_notext[300];

/* The text of --key in the record: 0, -1 if absent, -2 if not text. */
static int
key_text(const struct event *ev, const char **s, size_t *n)
{
	const char *p = ev->rec, *end = p + ev->rec_len, *k;
	struct mp_obj m, h;
	size_t vlen;
	uint32_t i;

	if (use_path) {
		if (!recpath_get(&keypath, p, end, &k, &vlen))
			return -1;
		if (mp_head(&k, k + vlen, &h) != MP_OK || (h.type != MP_STR &&
		    h.type != MP_BIN))
			return -2;
		*s = h.data;
		*n = h.len;
		return 0;
	}
	mp_head(&p, end, &m);
	for (i = 0; i < m.v.n; i++) {
		k = p;
		mp_head(&p, end, &h);
		if ((h.type == MP_STR || h.type == MP_BIN) &&
		    h.len == key_len && memcmp(h.data, o.key, key_len) == 0) {
			if (mp_head(&p, end, &h) != MP_OK ||
			    (h.type != MP_STR && h.type != MP_BIN))
				return -2;
			*s = h.data;
			*n = h.len;
			return 0;
		}
		if (h.type == MP_ARRAY || h.type == MP_MAP) {
			p = k;
			mp_skip(&p, end, NULL);
		}
		mp_skip(&p, end, NULL);
	}
	return -1;
}

static void
handle(const struct event *ev)
{
	const char *s, *why = "";
	int64_t sec = 0;
	uint32_t nsec = 0;
	size_t n;
	int have = 0, r;

	nevents++;
	if ((r = key_text(ev, &s, &n)) < 0) {
		fail(ev, r == -1 ? why_nokey : why_notext, NULL, 0);
		return;
	}
	if (o.replace_invalid && parse_scrub(&scrubbed, s, n)) {
		s = scrubbed.p;
		n = scrubbed.len;
	}
	if (o.format == F_JSON) {
		parse_json(ev, s, n);
		return;
	}
	pfields_reset(&pf, n);
	if (parse_line(s, n, &have, &sec, &nsec, &why) < 0)
		fail(ev, why, s, n);
	else
		emit(ev, have, sec, nsec, s, n);
}

/*
 * Setup.
 */

/* Fluentd's zones: [+-]HH[[:]MM], Region/Zone, and UTC. */
static int
zone_like(const char *s, size_t n)
{
	char path[512];

	if (n == 3 && strncasecmp(s, "UTC", 3) == 0)
		return 1;
	if (n >= 3 && (*s == '+' || *s == '-') && ISDIGIT(s[1]) &&
	    ISDIGIT(s[2]))
		return n == 3 || (n == 5 && ISDIGIT(s[3]) && ISDIGIT(s[4])) ||
		    (n == 6 && s[3] == ':' && ISDIGIT(s[4]) && ISDIGIT(s[5]));
	if (!memchr(s, '/', n) || n > 200 || memchr(s, '.', n))
		return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%.*s", (int)n, s);
	return access(path, R_OK) == 0;
}

static void
need_guess(void)
{
	size_t i;

	for (i = 0; i < NGUESS; i++)
		if (!guess[i])
			guess[i] = compile_time(guess_formats[i], o.tz,
			    "format");
}

/* time[:[TZ:]FMT] of --types, FMT also unixtime or float. */
static void
conv_time(struct conv *c, const char *opt)
{
	const char *fmt = opt, *colon;
	char *tz = NULL;

	c->tp.type = TT_STRING;
	if (opt && (colon = strchr(opt + (*opt == '+' || *opt == '-' ? 4 : 0),
	    ':')) && zone_like(opt, colon - opt)) {
		tz = xstrndup(opt, colon - opt);
		fmt = colon + 1;
		if (*tz != '+' && *tz != '-' && strcasecmp(tz, "UTC") != 0 &&
		    (!o.tz || strcmp(o.tz, tz) != 0))
			die(EX_USAGE, "bad --types: zone '%s' for '%s' needs "
			    "--timezone %s (or use an offset such as +09:00)",
			    tz, c->key, tz);
	}
	if (!fmt || strcmp(fmt, "string") == 0 || strcmp(fmt, "mixed") == 0) {
		need_guess();
	} else {
		if (strcmp(fmt, "unixtime") == 0)
			c->tp.type = TT_UNIXTIME;
		else if (strcmp(fmt, "float") == 0)
			c->tp.type = TT_FLOAT;
		c->tp.tf = compile_time(fmt, tz ? tz : o.tz,
		    "time format in --types");
	}
	free(tz);
}

/* One "key:type[:option]" of --types (what: where it was given). */
static void
conv_add(const char *k, size_t klen, const char *def, const char *what)
{
	const char *opt = strchr(def, ':');
	size_t tlen = opt ? (size_t)(opt - def) : strlen(def), i;
	struct conv *c;

	for (i = 0; conv_names[i]; i++)
		if (strlen(conv_names[i]) == tlen && strncmp(conv_names[i], def,
		    tlen) == 0)
			break;
	if (!conv_names[i])
		die(EX_USAGE, "bad %s: unknown type '%.*s' for '%.*s' "
		    "(string, integer, float, bool, time, array)", what,
		    (int)tlen, def, (int)klen, k);
	if ((c = (struct conv *)conv_find(k, klen))) {
		/* a key given again: the last type wins, as in a Ruby Hash */
		free(c->key);
		free(c->sep);
		timefmt_free(c->tp.tf);
	} else {
		convs = xrealloc(convs, (nconv + 1) * sizeof(*convs));
		c = &convs[nconv++];
	}
	memset(c, 0, sizeof(*c));
	c->key = xstrndup(k, klen);
	c->klen = klen;
	c->type = i;
	if (c->type == C_ARRAY) {
		c->sep = xstrdup(opt ? opt + 1 : ",");
		c->seplen = strlen(c->sep);
	} else if (c->type == C_TIME) {
		conv_time(c, opt ? opt + 1 : NULL);
	}
}

/* --types {"k":"type",...}, as Fluentd also takes it. */
static void
types_json(const char *s)
{
	struct buf b = { 0 }, def = { 0 };
	struct json_err err;
	struct mp_obj m, k, v;
	const char *p, *end;
	size_t used;
	uint32_t i;

	if (json_parse(s, strlen(s), 1, &used, &b, &err) != JSON_OK)
		die(EX_USAGE, "bad --types: %s", "invalid JSON");
	p = b.p;
	end = b.p + b.len;
	mp_head(&p, end, &m);
	for (i = 0; m.type == MP_MAP && i < m.v.n; i++) {
		mp_head(&p, end, &k);
		if (mp_head(&p, end, &v) != MP_OK || v.type != MP_STR)
			die(EX_USAGE, "bad --types: the type of '%.*s' is not "
			    "a string", (int)k.len, k.data);
		def.len = 0;
		buf_put(&def, v.data, v.len);
		buf_putc(&def, '\0');
		conv_add(k.data, k.len, def.p, "--types");
	}
	if (m.type != MP_MAP)
		die(EX_USAGE, "bad --types: JSON that is not an object");
	buf_free(&b);
	buf_free(&def);
}

/* The first --types-label-delimiter in s[0..n), or NULL. */
static const char *
find_label(const char *s, size_t n)
{
	size_t dl = strlen(o.types_label), i;

	for (i = 0; i + dl <= n; i++)
		if (memcmp(s + i, o.types_label, dl) == 0)
			return s + i;
	return NULL;
}

/*
 * A type "type[DELIM option]" as conv_add reads it, "type[:option]", as
 * Fluentd turns it (NUL-ended, to free).
 */
static char *
type_def(const char *t, size_t n)
{
	const char *d = find_label(t, n);
	size_t dl = strlen(o.types_label);
	char *def;

	if (!d)
		return xstrndup(t, n);
	def = xmalloc(n + 2);
	snprintf(def, n + 2, "%.*s:%.*s", (int)(d - t), t,
	    (int)(n - (d - t) - dl), d + dl);
	return def;
}

/* A --regex group (?<NAME:TYPE>...) of --types-label-delimiter. */
static void
group_type(void *arg, const char *name, size_t nlen, const char *type,
    size_t tlen)
{
	char *def = type_def(type, tlen);

	(void)arg;
	conv_add(name, nlen, def, "type of a --regex group");
	free(def);
}

/*
 * --types k:type,k2:type2:option, ':' being --types-label-delimiter; white
 * space around ',' is ignored, as Fluentd ignores it.
 */
static void
types_parse(const char *spec)
{
	char *s = xstrdup(spec), *item, *next, *e, *def;
	const char *label;
	size_t dl = strlen(o.types_label);

	for (item = s; item; item = next) {
		if ((next = strchr(item, ',')))
			*next++ = '\0';
		while (ISSPACE(*item))
			item++;
		for (e = item + strlen(item); e > item && ISSPACE(e[-1]);)
			*--e = '\0';
		if (!(label = find_label(item, e - item)) || label == item)
			die(EX_USAGE, "bad --types: '%s' is not KEY%sTYPE",
			    item, o.types_label);
		def = type_def(label + dl, e - label - dl);
		conv_add(item, label - item, def, "--types");
		free(def);
	}
	free(s);
}

/* --delimiter with \t, \n, \r and \\ decoded. */
static void
set_delim(const char *d)
{
	const char *p;
	char *q;

	delim = xmalloc(strlen(d) + 1);
	for (p = d, q = delim; *p; p++) {
		if (*p == '\\' && p[1] && strchr("tnr\\", p[1])) {
			p++;
			*q++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ?
			    '\r' : '\\';
		} else {
			*q++ = *p;
		}
	}
	*q = '\0';
	delim_len = q - delim;
}

/* The words of a time format: its spaces (runs squeezed) + 1. */
static int
time_words(const char *fmt)
{
	int n = 1;

	for (; *fmt; fmt++)
		if (*fmt == ' ' && fmt[1] != ' ')
			n++;
	return n;
}

static void
setup_syslog(void)
{
	const char *f3164 = o.time_format ? o.time_format : TF_3164;
	const char *f5424 = o.msgfmt == S_5424 && o.time_format ?
	    o.time_format : o.rfc5424_tf;

	so3164.with_pri = so5424.with_pri = o.with_pri;
	so3164.colonless = o.colonless;
	so3164.nspace = time_words(f3164);
	so3164.fixed = strcmp(f3164, TF_3164) == 0 ||
	    strcmp(f3164, "%b %d %H:%M:%S.%N") == 0;
	so5424.nspace = time_words(f5424);
	tf_3164 = compile_time(f3164, o.tz, "time format");
	tf_5424 = compile_time(f5424, o.tz, "time format");
	tf_5424_nosub = compile_time(TF_5424_NOSUB, o.tz, "time format");
	if (!o.string_engine) {
		rx_pair(&rx_3164, "expression", RX_3164);
		rx_pair(&rx_5424, "expression", RX_5424);
	}
}

/* The time key, its type and format, by the format's defaults. */
static void
setup_time(void)
{
	static const char *const dflt[F_NONE + 1] = {
		[F_REGEXP] = "time", [F_JSON] = "time", [F_LTSV] = "time",
		[F_LOGFMT] = "time", [F_APACHE] = "time",
		[F_APACHE_ERROR] = "time", [F_NGINX] = "time"
	};
	const char *fmt = o.time_format;
	int tt = o.time_type;

	if (o.time_key && (o.format == F_APACHE2 || o.format == F_SYSLOG ||
	    o.format == F_NONE))
		die(EX_USAGE, "--time-key does not apply to --format %s",
		    format_names[o.format]);
	if (!o.time_key)
		o.time_key = dflt[o.format];
	if (o.time_key && !*o.time_key)
		o.time_key = NULL;
	time_key_len = o.time_key ? strlen(o.time_key) : 0;
	if (!fmt && (o.format == F_APACHE || o.format == F_NGINX))
		fmt = TF_APACHE;
	if (tt < 0)
		tt = o.format == F_JSON && !o.time_format ? TT_FLOAT :
		    TT_STRING;
	tp_time.type = tt;
	if (o.format == F_APACHE2)
		tf_apache = compile_time(TF_APACHE, o.tz, "time format");
	else if (o.format == F_SYSLOG)
		setup_syslog();
	else if (!o.time_key) {
		if (o.time_format || o.time_type >= 0)
			warn("warning: no time key, so the time format and "
			    "type are not used (see --time-key)");
		return;
	}
	else if (tt != TT_STRING)
		tp_time.tf = compile_time(tt == TT_FLOAT ? "float" : "unixtime",
		    NULL, "time type");
	else if (fmt)
		tp_time.tf = compile_time(fmt, o.tz, "time format");
	else
		need_guess();
}

static void
setup_format(void)
{
	static const char *const builtin[] = {
		[F_APACHE2] = RX_APACHE2, [F_APACHE] = RX_APACHE,
		[F_APACHE_ERROR] = RX_APACHE_ERROR, [F_NGINX] = RX_NGINX
	};
	struct prx_types groups = { o.types_label, group_type, NULL };
	size_t i, j;

	if (o.regex && o.format_set && o.format != F_REGEXP)
		die(EX_USAGE, "--regex and --format %s exclude each other",
		    format_names[o.format]);
	if (!o.regex && o.format == F_REGEXP)
		die(EX_USAGE, o.format_set ? "--format regexp needs --regex" :
		    "give --regex REGEX or --format FORMAT");
	if (o.regex) {
		rx_pair_typed(&rx_main, "--regex", o.regex, o.typed_groups ?
		    &groups : NULL);
		if (!rx_names(rx_main.nl))
			die(EX_USAGE, "bad --regex '%s': no named group "
			    "(?<name>...)", o.regex);
		for (i = 0; i < rx_names(rx_main.nl); i++)
			for (j = 0; j < i; j++)
				if (!strcmp(rx_name(rx_main.nl, i),
				    rx_name(rx_main.nl, j)))
					pf.dedup = 1;
	} else if (o.format < sizeof(builtin) / sizeof(*builtin) &&
	    builtin[o.format]) {
		rx_pair(&rx_main, "expression", builtin[o.format]);
	}
	if (rx_main.nl) {
		name_len = xcalloc(rx_names(rx_main.nl) + 1,
		    sizeof(*name_len));
		for (i = 0; i < rx_names(rx_main.nl); i++)
			name_len[i] = strlen(rx_name(rx_main.nl, i));
	}
	if (o.format == F_CSV || o.format == F_TSV) {
		if (!o.keys)
			die(EX_USAGE, "--format %s needs --keys",
			    format_names[o.format]);
		if (pkeys_split(&keys, o.keys) < 0)
			die(EX_USAGE, "bad --keys '%s': an empty name", o.keys);
		for (i = 0; i < keys.n; i++)
			for (j = 0; j < i; j++)
				if (!strcmp(keys.k[i], keys.k[j]))
					pf.dedup = 1;
	}
	if (o.format == F_LTSV || o.format == F_LOGFMT)
		pf.dedup = 1;
	set_delim(o.delim ? o.delim : o.format == F_CSV ? "," : "\t");
	if (o.format == F_CSV && !delim_len)
		die(EX_USAGE, "--delimiter: empty for --format csv");
	if (o.delim_pattern)
		rx_delim = ruby_rx("--delimiter-pattern", o.delim_pattern,
		    PRX_WRAP);
}

/* Options that only a few formats read: refused elsewhere. */
static void
check_applies(unsigned given)
{
	static const struct {
		unsigned bit;
		const char *name;
		unsigned formats;
	} t[] = {
		{ 1, "--keys", 1u << F_CSV | 1u << F_TSV },
		{ 2, "--delimiter", 1u << F_CSV | 1u << F_TSV | 1u << F_LTSV },
		{ 4, "--delimiter-pattern", 1u << F_LTSV },
		{ 8, "--label-delimiter", 1u << F_LTSV },
		{ 16, "--message-key", 1u << F_NONE },
		{ 32, "--message-format, --with-priority, "
		    "--rfc5424-time-format, --parser-engine and "
		    "--no-colonless-ident", 1u << F_SYSLOG }
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++)
		if ((given & t[i].bit) && !(t[i].formats & 1u << o.format))
			die(EX_USAGE, "%s: not for --format %s", t[i].name,
			    format_names[o.format]);
}

static void
setup_errors(const char *arg)
{
	if (strcmp(arg, "keep") == 0)
		o.on_error = E_KEEP;
	else if (strcmp(arg, "drop") == 0)
		o.on_error = E_DROP;
	else if (strncmp(arg, "tag:", 4) == 0 && arg[4])
		o.on_error = E_TAG, o.tag_prefix = arg + 4;
	else
		die(EX_USAGE, "bad --on-error '%s' (keep, drop or tag:PREFIX)",
		    arg);
}

static void
setup(unsigned given)
{
	const char *err;

	if (o.tz && !(tp_time.tf = timefmt_new("%Y", o.tz, &err)))
		die(EX_USAGE, "bad --timezone '%s': %s", o.tz, err);
	timefmt_free(tp_time.tf);
	tp_time.tf = NULL;
	if (!*o.types_label)
		die(EX_USAGE, "--types-label-delimiter: empty");
	setup_format();
	check_applies(given);
	setup_time();
	if (o.types)
		(o.types[0] == '{' ? types_json : types_parse)(o.types);
	if (o.null_pattern)
		rx_pair(&rx_null, "--null-value-pattern", o.null_pattern);
	if (!o.prefix)
		o.prefix = "";
	convert_values = o.null_empty || rx_null.nl || nconv;
	key_len = strlen(o.key);
	if (o.key[0] == '$' && (o.key[1] == '.' || o.key[1] == '[')) {
		if (recpath_parse(&keypath, o.key, &err) < 0)
			die(EX_USAGE, "bad --key '%s': %s", o.key, err);
		use_path = 1;
	}
	prefix_len = strlen(o.prefix);
	hash_len = o.hash_field ? strlen(o.hash_field) : 0;
	if (o.remove_key && !o.reserve_data)
		die(EX_USAGE, "--remove-key-name-field works with "
		    "--reserve-data");
	snprintf(why_nokey, sizeof(why_nokey), "no field '%s'", o.key);
	snprintf(why_notext, sizeof(why_notext), "field '%s' is not a string",
	    o.key);
}

static int
lookup(const char *const *names, const char *s, const char *what)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	die(EX_USAGE, "unknown %s '%s'", what, s);
}

/* Returns a bit set of the format-specific options given. */
static unsigned
options(int argc, char **argv)
{
	static const char *const msgfmts[] = { "rfc3164", "rfc5424", "auto",
		NULL };
	static const char *const engines[] = { "regexp", "string", NULL };
	static const char *const ttypes[] = { "string", "unixtime", "float",
		NULL };
	const char *arg;
	unsigned given = 0;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case 'k': o.key = arg; break;
		case 'e': o.regex = arg; break;
		case 'f':
			o.format = lookup(format_names, arg, "format");
			o.format_set = 1;
			break;
		case O_KEYS: o.keys = arg; given |= 1; break;
		case O_DELIM: o.delim = arg; given |= 2; break;
		case O_DELIM_PATTERN: o.delim_pattern = arg; given |= 4; break;
		case O_LABEL_DELIM: o.label_delim = arg; given |= 8; break;
		case O_MESSAGE_KEY: o.message_key = arg; given |= 16; break;
		case O_MESSAGE_FORMAT:
			o.msgfmt = lookup(msgfmts, arg, "message format");
			given |= 32;
			break;
		case O_WITH_PRI: o.with_pri = 1; given |= 32; break;
		case O_RFC5424_TF: o.rfc5424_tf = arg; given |= 32; break;
		case O_ENGINE:
			o.string_engine = lookup(engines, arg, "parser engine");
			given |= 32;
			break;
		case O_NO_COLONLESS: o.colonless = 0; given |= 32; break;
		case O_TIME_KEY: o.time_key = arg; break;
		case O_TIME_FORMAT: o.time_format = arg; break;
		case O_TIME_TYPE:
			o.time_type = lookup(ttypes, arg, "time type");
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
		case O_ON_ERROR: setup_errors(arg); break;
		case O_TYPES_LABEL:
			o.types_label = arg;
			o.typed_groups = 1;
			break;
		case O_REPLACE_INVALID: o.replace_invalid = 1; break;
		default: input_opt(c, arg); break;
		}
	}
	if (optind < argc)
		opt_fail(&prog, "unexpected operand '%s': lparse reads standard "
		    "input only", argv[optind]);
	return given;
}

static void
sync_stats(void)
{
	const struct reader_stats *rs = reader_stats(rd);

	stats.in = rs->events;
	stats.bytes_in = rs->bytes;
	stats.dropped = dropped + input_dropped(rd);
	stats.bytes_out = out.bytes + out.b.len;
}

static void
extra_stats(char *b, size_t cap)
{
	snprintf(b, cap, ", parse failures %llu",
	    (unsigned long long)failures);
}

/* Said at exit: nothing that failed goes unreported; the exit status. */
static int
summary(void)
{
	if (failures > failed_events)
		warn("%llu of %llu events did not parse, %llu failures in all "
		    "(%s)", (unsigned long long)failed_events,
		    (unsigned long long)nevents, (unsigned long long)failures,
		    action_text());
	else if (failures)
		warn("%llu of %llu events did not parse (%s)",
		    (unsigned long long)failures, (unsigned long long)nevents,
		    action_text());
	return EX_OK;
}

static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < nconv; i++) {
		free(convs[i].key);
		free(convs[i].sep);
		timefmt_free(convs[i].tp.tf);
	}
	free(convs);
	for (i = 0; i < NGUESS; i++)
		timefmt_free(guess[i]);
	rx_pair_free(&rx_main);
	free(name_len);
	rx_pair_free(&rx_3164);
	rx_pair_free(&rx_5424);
	rx_free(rx_delim);
	rx_pair_free(&rx_null);
	timefmt_free(tp_time.tf);
	timefmt_free(tf_apache);
	timefmt_free(tf_3164);
	timefmt_free(tf_5424);
	timefmt_free(tf_5424_nosub);
	pkeys_free(&keys);
	pfields_free(&pf);
	free(delim);
	buf_free(&jsonbuf);
	buf_free(&tagbuf);
	buf_free(&tmp);
	buf_free(&valbuf);
	buf_free(&stripped);
	buf_free(&scrubbed);
	recpath_free(&keypath);
	reader_free(rd);
	out_free(&out);
}

int
main(int argc, char **argv)
{
	struct event ev;
	unsigned given;
	int ret;

	progname_set(argv[0]);
	given = options(argc, argv);
	setup(given);
	sig_init();
	out_init(&out, 1, "stdout");
	rd = input_filter_reader(0, "stdin", &out);
	stats_init(sync_stats, extra_stats);
	while ((ret = reader_next(rd, &ev)) == READ_EVENT)
		handle(&ev);
	ret = filter_end(rd, ret, &out, summary);
	cleanup();
	return ret;
}
