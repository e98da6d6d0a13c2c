/* lparse.h - what lparse's files share: the options, the state, calls */
#ifndef LPARSE_H
#define LPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "mp.h"
#include "parse_syslog.h"
#include "parse_text.h"
#include "recpath.h"
#include "rx.h"
#include "stream.h"
#include "timefmt.h"

#define ISDIGIT(c) ((unsigned char)((c) - '0') <= 9)
#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))

/* Fluentd's built-in time formats. */
#define TF_APACHE "%d/%b/%Y:%H:%M:%S %z"
#define TF_3164 "%b %d %H:%M:%S"
#define TF_5424 "%Y-%m-%dT%H:%M:%S.%N%z"
#define TF_5424_NOSUB "%Y-%m-%dT%H:%M:%S%z"

/* The text formats of parse_line (record.c), then the others. */
enum format {
	F_REGEXP, F_LTSV, F_CSV, F_TSV, F_LOGFMT, F_APACHE2, F_APACHE,
	F_APACHE_ERROR, F_NGINX, F_SYSLOG, F_NONE, F_CRI,
	F_JSON, F_DOCKER, F_MSGPACK, F_MULTI, F_NFORMATS
};

/* Formats whose text holds maps (maps.c), and multi: not parse_line's. */
#define OWN_PATH(f) ((f) >= F_JSON)

enum time_type { TT_STRING, TT_UNIXTIME, TT_FLOAT, TT_MIXED };
enum on_error { E_KEEP, E_DROP, E_TAG };
enum syslog_format { S_3164, S_5424, S_AUTO };

/* A --time-format-fallback: its format; unixtime drops the fraction. */
struct tfallback {
	struct timefmt *tf;
	int unixtime;
};

/*
 * How to read a time: a format, or NULL to try the guessed formats; then
 * the fallbacks in turn.  num: how a number that is not text is read when
 * type does not say (a fallback unixtime or float), TT_STRING for not.
 */
struct tparser {
	enum time_type type;
	struct timefmt *tf;
	enum time_type num;
	struct tfallback *fb;
	size_t nfb;
};

/*
 * A regular expression twice: as Ruby reads it, and for text without a
 * newline, where the second gives the same matches faster.
 */
struct rxpair {
	struct rx *nl;
	struct rx *fast;
};

/* A named group of a regular expression: its name and length. */
struct gname {
	const char *name;
	size_t len;
};

/* The options (lparse.c); the last part is worked out by setup(). */
struct options {
	enum format format;
	int format_set;
	const char *regex, *key, *keys, *delim, *delim_pattern, *label_delim;
	const char *message_key, *rfc5424_tf;
	enum syslog_format msgfmt;
	int with_pri, string_engine, colonless;
	const char *time_key, *time_format, *tz;
	const char **fallbacks; /* --time-format-fallback, in order */
	size_t nfallbacks;
	const char **tries;     /* --try, in order */
	size_t ntries;
	int multi;              /* --format multi: o.format is the --try in
				   use (multi.c) */
	int time_type;          /* -1: the format's default */
	int keep_time, estimate, reserve_time;
	const char *types, *null_pattern, *types_label;
	int typed_groups, replace_invalid;
	int null_empty, reserve_data, remove_key;
	const char *prefix, *hash_field;
	enum on_error on_error;
	const char *tag_prefix;

	size_t key_len, time_key_len, prefix_len, hash_len;
	struct recpath keypath; /* --key as a $.a.b path */
	int use_path;
	int convert_values;     /* null patterns or --types given */
};
extern struct options o;

/* What the formats read, set up from the options (format.c). */
struct formats {
	struct rxpair main;     /* --regex or the format's expression */
	struct gname *groups;   /* main's named groups, in order */
	struct rx *delim_rx;    /* --delimiter-pattern */
	char *delim;            /* --delimiter with \t decoded */
	size_t delim_len;
	struct pkeys keys;
	struct rxpair s3164, s5424;
	struct syslog_opts so3164, so5424;
	struct timefmt *tf_apache, *tf_3164, *tf_5424, *tf_5424_nosub;
	int syslog_ready;
};
extern struct formats fm;

/*
 * An alternative of --format multi: what the formats read that is its
 * own.  multi_use() makes it the one in use: o.format, fm.main,
 * fm.groups, fm.delim, o.time_key and run.tp_time are always those of
 * the alternative in use (with one format, the only one).
 */
struct alt {
	enum format format;
	char *label;            /* "json", "regexp #2": for messages */
	struct rxpair main;
	struct gname *groups;
	char *delim;
	size_t delim_len;
	const char *time_key;
	size_t time_key_len;
	struct tparser tp;
	int dedup;
};

/* The run (record.c): output, the event's fields, the counters. */
struct run {
	struct out out;
	struct reader *rd;
	struct pfields pf;      /* the fields parsed from the event in hand */
	uint64_t nevents;
	uint64_t failures;      /* a JSON array may fail more than once */
	uint64_t failed_events, dropped;
	struct tparser tp_time; /* the time key's (time.c sets it) */
};
extern struct run run;

/* The expression to match s[0..n) with. */
static inline struct rx *
pick(const struct rxpair *r, const char *s, size_t n)
{
	return memchr(s, '\n', n) ? r->nl : r->fast;
}

/* The text of a field: str, or a raw str or bin value. */
static inline int
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

static inline void
put_str(struct buf *b, const char *s, size_t n)
{
	put_strhdr(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* record.c: the per-event path, the --key text to the event written */
int record_run(void);
int record_match(struct rx *, const char *, size_t, const char **);
int record_regex(struct rx *, const struct gname *, const char *, size_t,
    const char **);
int record_parse_time(const struct tparser *, const struct pfield *,
    int64_t *, uint32_t *, const char **);
int record_time_text(const struct tparser *, const char *, size_t,
    int64_t *, uint32_t *);
int record_emit(const struct event *, int, int64_t, uint32_t,
    const char **);
void record_head(struct buf *, const char *, size_t, int64_t, uint32_t);
void record_build(struct buf *, const struct event *, int);
void record_setup(void);
void record_free(void);

/* format.c: the formats other than the plain ones, and their setup */
extern const char *const format_names[];
struct rx *format_rx(const char *, const char *, int);
void format_rx_pair(struct rxpair *, const char *, const char *);
void format_rx_pair_free(struct rxpair *);
int format_timed(const char *, size_t, int64_t *, uint32_t *, const char **);
void format_ltsv_pattern(const char *, size_t);
void format_setup(void);
void format_setup_one(void);
void format_setup_syslog(void);
void format_check(unsigned, unsigned);
void format_free(void);

/* maps.c: json, docker and msgpack, whose text holds maps */
int maps_parse(const struct event *, const char *, size_t, int,
    const char **);
void maps_raw(const struct event *, const char *, size_t);
void maps_free(void);

/* multi.c: --format multi, its alternatives tried in turn */
void multi_first(void);
int multi_next(const char **);
void multi_use(const struct alt *);
void multi_setup(unsigned);
void multi_free(void);

/* time.c: the time key's setup, guessing a time's format */
struct timefmt *time_compile(const char *, const char *, const char *);
int time_guess(const char *, size_t, int64_t *, uint32_t *);
int time_fallback(const struct tparser *, const char *, size_t, int64_t *,
    uint32_t *);
void time_need_guess(void);
void time_setup(int);
void time_tparser_free(struct tparser *);
void time_free(void);

/* types.c: --null-value-pattern, --null-empty-string and --types */
void types_put_value(struct buf *, const struct pfield *);
void types_group(void *, const char *, size_t, const char *, size_t);
void types_setup(void);
void types_free(void);

/* errors.c: events that did not parse, --on-error, the summary */
void errors_fail(const struct event *, const char *, const char *, size_t);
void errors_setup(const char *);
int errors_summary(void);
void errors_free(void);

#endif
