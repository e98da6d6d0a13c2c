/* lout - events in, text out: Fluentd's stdout format, json, ltsv, csv, files */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../common/err.h"
#include "../common/input.h"
#include "../common/json.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"
#include "../common/tagpat.h"
#include "../common/timefmt.h"

#define USAGE "[options]"
#define ABOUT "Read events and write them as text: Fluentd's out_stdout " \
	"line by default,\nor json, ltsv, csv, tsv, single_value, msgpack or " \
	"out_file, to stdout or to\nfiles sliced by event time."

enum {
	O_FIELDS = OPT_LONG, O_KEY, O_TIME_KEY, O_TAG_KEY, O_TIME_FORMAT,
	O_TIME_TYPE, O_DELIM, O_LABEL_DELIM, O_UTC, O_TIMEZONE, O_PATH,
	O_COMPRESS, O_TAG
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
	{ 'p', "path", "TEMPLATE", "append to files named by strftime on the "
	    "event time" },
	{ O_COMPRESS, "compress", "gzip", "gzip the --path files (a member "
	    "per write)" },
	{ 't', "tag", "PATTERN", "write only events whose tag matches "
	    "PATTERN" },
	OPT_INPUT,
	OPT_STD,
	OPT_END
};

enum format {
	F_STDOUT, F_JSON, F_LTSV, F_CSV, F_TSV, F_SINGLE, F_MSGPACK, F_OUT_FILE
};

static const char *const format_names[] = {
	"stdout", "json", "ltsv", "csv", "tsv", "single_value", "msgpack",
	"out_file", NULL
};

enum time_type { T_FLOAT, T_UNIXTIME, T_STRING };

static struct {
	enum format format;
	const char *fields, *key, *time_key, *tag_key, *time_format;
	enum time_type time_type;
	const char *delim, *label_delim, *tz, *path, *tag;
	int gzip, time_type_set;
} o = { .key = "message", .label_delim = ":" };

/* An output file of --path, kept open while in use. */
struct file {
	char *name;
	int fd;
	struct buf b;
	long long used;         /* for closing the least recently used */
};

#define MAX_FILES 8

static struct out out;
static struct file files[MAX_FILES];
static long long use_clock;
static struct timefmt *tf_time;         /* time in lines and --time-key */
static struct timefmt *tf_path;
static struct tagpat *tp;
static char **fields;
static size_t *field_lens;
static size_t nfields;
static struct buf line, tmp;
static uint64_t not_selected;
static struct timefmt *tf_inject;

/* Appends a value as text: str and bin raw, anything else as JSON. */
static void
put_text(struct buf *b, const char *v, const char *end)
{
	const char *p = v;
	struct mp_obj h;

	if (mp_head(&p, end, &h) == MP_OK && (h.type == MP_STR ||
	    h.type == MP_BIN)) {
		buf_put(b, h.data, h.len);
		return;
	}
	p = v;
	json_from_mp(b, &p, end);
}

/* As put_text, with the delimiter and newlines turned into spaces. */
static void
put_clean(struct buf *b, const char *v, const char *end, const char *delim)
{
	size_t from = b->len, dl = strlen(delim), i;

	put_text(b, v, end);
	for (i = from; i < b->len; i++) {
		if (b->p[i] == '\n' || b->p[i] == '\r')
			b->p[i] = ' ';
		else if (dl && b->len - i >= dl && memcmp(b->p + i, delim,
		    dl) == 0)
			memset(b->p + i, ' ', dl);
	}
}

static void
put_csv(struct buf *b, const char *v, const char *end)
{
	size_t from, i;

	buf_putc(b, '"');
	from = b->len;
	put_text(b, v, end);
	for (i = from; i < b->len; i++) {
		if (b->p[i] == '"') {
			buf_putc(b, 0);
			memmove(b->p + i + 1, b->p + i, b->len - 1 - i);
			i++;
		}
	}
	buf_putc(b, '"');
}

static void
put_time_value(struct buf *b, int64_t sec, uint32_t nsec)
{
	msgpack_packer pk;
	char t[128];
	size_t n;

	mp_packer_init(&pk, b);
	switch (o.time_type) {
	case T_FLOAT:
		msgpack_pack_double(&pk, (double)sec + nsec / 1e9);
		break;
	case T_UNIXTIME:
		msgpack_pack_int64(&pk, sec);
		break;
	case T_STRING:
		n = timefmt_format(tf_inject, sec, nsec, t, sizeof(t));
		msgpack_pack_str_with_body(&pk, t, n);
		break;
	}
}

/* The record with --time-key and --tag-key added (Fluentd's inject). */
static void
inject(const struct event *ev, const char **rec, size_t *len)
{
	const char *p = ev->rec, *end = ev->rec + ev->rec_len, *pair;
	const char *keys[2] = { o.time_key, o.tag_key };
	struct mp_obj m, k;
	uint32_t i, kept = 0;
	size_t body, j, hdr;
	int drop;

	mp_head(&p, end, &m);
	tmp.len = 0;
	mp_put_maphdr(&tmp, 0xffffffffu);       /* 5 bytes, fixed below */
	hdr = tmp.len;
	for (i = 0; i < m.v.n; i++) {
		pair = p;
		drop = 0;
		if (mp_head(&p, end, &k) == MP_OK && (k.type == MP_STR ||
		    k.type == MP_BIN))
			for (j = 0; j < 2; j++)
				if (keys[j] && strlen(keys[j]) == k.len &&
				    memcmp(keys[j], k.data, k.len) == 0)
					drop = 1;
		p = pair;
		mp_skip(&p, end, NULL);
		mp_skip(&p, end, NULL);
		if (!drop) {
			buf_put(&tmp, pair, p - pair);
			kept++;
		}
	}
	if (o.time_key) {
		mp_put_strhdr(&tmp, strlen(o.time_key));
		buf_puts(&tmp, o.time_key);
		put_time_value(&tmp, ev->sec, ev->nsec);
		kept++;
	}
	if (o.tag_key) {
		mp_put_strhdr(&tmp, strlen(o.tag_key));
		buf_puts(&tmp, o.tag_key);
		mp_put_strhdr(&tmp, ev->tag_len);
		buf_put(&tmp, ev->tag, ev->tag_len);
		kept++;
	}
	/* rewrite the header in its smallest form */
	body = tmp.len - hdr;
	tmp.len = 0;
	mp_put_maphdr(&tmp, kept);
	memmove(tmp.p + tmp.len, tmp.p + hdr, body);
	tmp.len += body;
	*rec = tmp.p;
	*len = tmp.len;
}

static void
put_time_text(struct buf *b, int64_t sec, uint32_t nsec)
{
	size_t n;

	buf_reserve(b, 128);
	n = timefmt_format(tf_time, sec, nsec, b->p + b->len, 128);
	b->len += n;
}

/* Appends the line (or msgpack) for one event to b. */
static void
format(struct buf *b, const struct event *ev, const char *rec, size_t len)
{
	const char *p = rec, *end = rec + len, *v;
	const char *delim = o.delim;
	struct mp_obj m, k;
	size_t vlen, i;
	uint32_t n;

	switch (o.format) {
	case F_STDOUT:
		put_time_text(b, ev->sec, ev->nsec);
		buf_putc(b, ' ');
		buf_put(b, ev->tag, ev->tag_len);
		buf_put(b, ": ", 2);
		json_from_mp(b, &p, end);
		break;
	case F_OUT_FILE:
		put_time_text(b, ev->sec, ev->nsec);
		buf_puts(b, delim ? delim : "\t");
		buf_put(b, ev->tag, ev->tag_len);
		buf_puts(b, delim ? delim : "\t");
		json_from_mp(b, &p, end);
		break;
	case F_JSON:
		json_from_mp(b, &p, end);
		break;
	case F_MSGPACK:
		buf_put(b, rec, len);
		return;
	case F_SINGLE:
		if (mp_map_get(rec, end, o.key, strlen(o.key), &v, &vlen))
			put_text(b, v, v + vlen);
		break;
	case F_LTSV:
		delim = delim ? delim : "\t";
		mp_head(&p, end, &m);
		for (n = 0; n < m.v.n; n++) {
			if (n)
				buf_puts(b, delim);
			v = p;
			if (mp_head(&p, end, &k) == MP_OK && (k.type == MP_STR ||
			    k.type == MP_BIN)) {
				buf_put(b, k.data, k.len);
			} else {
				p = v;
				mp_skip(&p, end, NULL);
				put_text(b, v, p);
			}
			buf_puts(b, o.label_delim);
			v = p;
			mp_skip(&p, end, NULL);
			put_clean(b, v, p, delim);
		}
		break;
	case F_CSV:
	case F_TSV:
		if (!delim)
			delim = o.format == F_CSV ? "," : "\t";
		for (i = 0; i < nfields; i++) {
			if (i)
				buf_puts(b, delim);
			if (!mp_map_get(rec, end, fields[i], field_lens[i], &v,
			    &vlen))
				continue;
			if (o.format == F_CSV)
				put_csv(b, v, v + vlen);
			else
				put_clean(b, v, v + vlen, delim);
		}
		break;
	}
	buf_putc(b, '\n');
}

/* Creates the directories above path. */
static void
make_dirs(const char *path)
{
	char *d = xstrdup(path), *s;

	for (s = d + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			die(EX_SYS, "unable to create directory %s:", d);
		*s = '/';
	}
	free(d);
}

/* Writes all of p, dying on failure (EPIPE cannot happen on a file). */
static void
write_all(int fd, const char *name, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die(EX_SYS, "unable to write %s:", name);
		p += w;
		n -= w;
	}
}

/* Writes f's buffer: one gzip member per flush with --compress gzip. */
static void
file_flush(struct file *f)
{
	z_stream zs;
	unsigned char chunk[65536];
	int ret;

	if (!f->b.len)
		return;
	stats.bytes_out += f->b.len;
	if (!o.gzip) {
		write_all(f->fd, f->name, f->b.p, f->b.len);
		f->b.len = 0;
		return;
	}
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		die(EX_SYS, "unable to start gzip compression");
	zs.next_in = (unsigned char *)f->b.p;
	zs.avail_in = f->b.len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		ret = deflate(&zs, Z_FINISH);
		write_all(f->fd, f->name, (char *)chunk,
		    sizeof(chunk) - zs.avail_out);
	} while (ret == Z_OK);
	deflateEnd(&zs);
	f->b.len = 0;
}

static void
file_close(struct file *f)
{
	if (!f->name)
		return;
	file_flush(f);
	if (close(f->fd) < 0)
		die(EX_SYS, "unable to close %s:", f->name);
	free(f->name);
	f->name = NULL;
}

static void
files_flush(void)
{
	size_t i;

	for (i = 0; i < MAX_FILES; i++)
		if (files[i].name)
			file_flush(&files[i]);
}

static void
idle(void *arg)
{
	(void)arg;
	if (o.path)
		files_flush();
	else if (out.b.len)
		out_flush(&out);
}

/* SIGHUP: close every file, so the next event reopens by name. */
static void
reopen(void)
{
	size_t i;

	for (i = 0; i < MAX_FILES; i++)
		file_close(&files[i]);
}

/* The open file for an event's time, opened (appending) if needed. */
static struct file *
file_for(int64_t sec, uint32_t nsec)
{
	char name[4096];
	size_t n, i, lru = 0;
	struct file *f;

	n = timefmt_format(tf_path, sec, nsec, name, sizeof(name) - 4);
	if (n == 0)
		die(EX_USAGE, "--path expands to more than 4 KiB");
	if (o.gzip && (n < 3 || memcmp(name + n - 3, ".gz", 3) != 0)) {
		memcpy(name + n, ".gz", 3);
		n += 3;
	}
	name[n] = '\0';
	for (i = 0; i < MAX_FILES; i++) {
		if (files[i].name && strcmp(files[i].name, name) == 0) {
			files[i].used = ++use_clock;
			return &files[i];
		}
		if (!files[i].name || files[i].used < files[lru].used)
			lru = i;
		if (!files[i].name)
			break;
	}
	if (i == MAX_FILES)
		i = lru;
	f = &files[i];
	file_close(f);
	make_dirs(name);
	f->fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (f->fd < 0)
		die(EX_SYS, "unable to open %s:", name);
	f->name = xstrdup(name);
	f->used = ++use_clock;
	return f;
}

static void
handle(const struct event *ev)
{
	const char *rec = ev->rec;
	size_t len = ev->rec_len;
	struct file *f;

	if (tp && !tagpat_match(tp, ev->tag, ev->tag_len)) {
		not_selected++;
		return;
	}
	if (o.time_key || o.tag_key)
		inject(ev, &rec, &len);
	if (o.path) {
		f = file_for(ev->sec, ev->nsec);
		format(&f->b, ev, rec, len);
		if (f->b.len >= OUT_BLOCK)
			file_flush(f);
	} else {
		format(&out.b, ev, rec, len);
		out_check(&out);
	}
	stats.out++;
}

static struct reader *rd;

static void
sync_stats(void)
{
	const struct reader_stats *rs = reader_stats(rd);

	stats.in = rs->events;
	stats.bytes_in = rs->bytes;
	stats.dropped = input_dropped(rd);
	if (!o.path)
		stats.bytes_out = out.bytes + out.b.len;
}

static void
extra_stats(char *b, size_t cap)
{
	if (tp)
		snprintf(b, cap, ", not selected by tag %llu",
		    (unsigned long long)not_selected);
}

static void
split_fields(void)
{
	char *s, *tok, *save = NULL;

	if (o.format != F_CSV && o.format != F_TSV)
		return;
	if (!o.fields)
		die(EX_USAGE, "--format %s needs --fields", format_names[o.format]);
	s = xstrdup(o.fields);
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",",
	    &save)) {
		fields = xrealloc(fields, (nfields + 1) * sizeof(*fields));
		field_lens = xrealloc(field_lens, (nfields + 1) *
		    sizeof(*field_lens));
		fields[nfields] = xstrdup(tok);
		field_lens[nfields++] = strlen(tok);
	}
	free(s);
	if (!nfields)
		die(EX_USAGE, "--fields names no field");
}

static struct timefmt *
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

	split_fields();
	if (o.format == F_STDOUT)
		tf_time = compile_time(o.time_format ? o.time_format :
		    "%Y-%m-%d %H:%M:%S.%N %z");
	else if (o.format == F_OUT_FILE)
		tf_time = compile_time(o.time_format ? o.time_format :
		    "%Y-%m-%dT%H:%M:%S%z");
	if (o.time_key && o.time_format && !o.time_type_set)
		o.time_type = T_STRING;
	if (o.time_type == T_STRING)
		tf_inject = compile_time(o.time_format ? o.time_format :
		    "iso8601");
	if (o.path)
		tf_path = compile_time(o.path);
	if (o.gzip && !o.path)
		die(EX_USAGE, "--compress works with --path");
	if (o.tag && !(tp = tagpat_new(o.tag, &err)))
		die(EX_USAGE, "bad tag pattern '%s': %s", o.tag, err);
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

static void
options(int argc, char **argv)
{
	static const char *const types[] = { "float", "unixtime", "string",
		NULL };
	const char *arg;
	int c;

	while ((c = opt_next(argc, argv, opts, USAGE, ABOUT, &arg)) != -1) {
		switch (c) {
		case 'f': o.format = lookup(format_names, arg, "format"); break;
		case O_FIELDS: o.fields = arg; break;
		case O_KEY: o.key = arg; break;
		case O_TIME_KEY: o.time_key = arg; break;
		case O_TAG_KEY: o.tag_key = arg; break;
		case O_TIME_FORMAT: o.time_format = arg; break;
		case O_TIME_TYPE:
			o.time_type = lookup(types, arg, "time type");
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
		case 't': o.tag = arg; break;
		default: input_opt(c, arg); break;
		}
	}
	if (optind < argc)
		opt_usage(USAGE);
}

static void
finish(void)
{
	size_t i;

	for (i = 0; i < MAX_FILES; i++)
		file_close(&files[i]);
	out_flush(&out);
	for (i = 0; i < nfields; i++)
		free(fields[i]);
	free(fields);
	free(field_lens);
	buf_free(&line);
	buf_free(&tmp);
	tagpat_free(tp);
	timefmt_free(tf_time);
	timefmt_free(tf_inject);
	timefmt_free(tf_path);
	out_free(&out);
}

int
main(int argc, char **argv)
{
	struct event ev;
	int ret;

	progname_set(argv[0]);
	options(argc, argv);
	setup();
	sig_init();
	sig_on_hup(reopen);
	out_init(&out, 1, "stdout");
	rd = input_reader(0, "stdin", idle, NULL);
	stats_init(sync_stats, extra_stats);
	while ((ret = reader_next(rd, &ev)) == READ_EVENT)
		handle(&ev);
	if (ret != READ_EOF) {
		finish();
		die(ret == READ_SYSERR ? EX_SYS : EX_DATA, "%s",
		    reader_errmsg(rd));
	}
	finish();
	input_report(rd, "stdin");
	input_stats();
	reader_free(rd);
	return EX_OK;
}
