/* lout - events in, text out: Fluentd's stdout format, json, ltsv, csv, files */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "../common/fwd.h"
#include "../common/input.h"
#include "../common/json.h"
#include "../common/mark.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/out.h"
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

static const struct opt_exit exits[] = {
	{ 0, "all input was read and written" },
	{ 2, "usage error" },
	{ 3, "bad input data" },
	{ 4, "system or I/O failure: the events not written are counted" },
	{ 141, "the reader of standard output went away" },
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

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

/* Where each buffered event ends: a failed write is cut back to them. */
struct ends {
	size_t *at;
	size_t n, cap;
};

/* An output file of --path, kept open while in use; or stdout. */
struct file {
	char *name;
	int fd;
	struct buf b;
	struct ends e;
	long long used;         /* for closing the least recently used */
};

#define MAX_FILES 8

static char std_name[] = "stdout";
static struct file std = { .name = std_name, .fd = 1 };
static struct file files[MAX_FILES];
static struct buf gz;                   /* a gzip member */
static uint64_t not_written;            /* events a failed write lost */
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

/*
 * End-to-end marks wait here until every event before them is written:
 * each notes, for each file that held unwritten bytes when it came, the
 * count of that file's writes it must see (slot MAX_FILES is stdout).
 */
#define MARK_QUEUE 64
#define MARK_WAIT_MS 1000       /* then everything is written out */
#define NSLOTS (MAX_FILES + 1)

struct pending {
	char m[MARK_MAX];
	size_t len;
	long long ms;           /* when it came */
	uint64_t need[NSLOTS];
};

static struct pending marks[MARK_QUEUE];
static size_t nmarks;
static uint64_t writes[NSLOTS];         /* successful writes per slot */
static int marks_off;                   /* a write failed: none go back */

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

/* Creates the directories above path; -1 with errno, d naming the one. */
static int
make_dirs(const char *path, char *d, size_t cap)
{
	char *s;

	snprintf(d, cap, "%s", path);
	for (s = d + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return 0;
}

static void
ends_add(struct ends *e, size_t at)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 1024;
		e->at = xrealloc(e->at, e->cap * sizeof(*e->at));
	}
	e->at[e->n++] = at;
}

/* How many of the buffered events end within the first done bytes. */
static size_t
ends_within(const struct ends *e, size_t done)
{
	size_t lo = 0, hi = e->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e->at[mid] <= done)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Writes p[0..n); the bytes written, fewer if it failed (errno set). */
static size_t
write_some(struct file *f, const char *p, size_t n)
{
	size_t off = 0;
	ssize_t w;

	while (off < n) {
		w = write(f->fd, p + off, n - off);
		if (w < 0 && errno == EINTR) {
			if (f == &std)  /* SIGUSR1 while a reader is slow */
				sig_service();
			continue;
		}
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			break;
		}
		off += (size_t)w;
	}
	return off;
}

/* Where a write to f begins, if f is a regular file; else -1. */
static off_t
write_start(const struct file *f)
{
	struct stat st;
	int fl;

	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	fl = fcntl(f->fd, F_GETFL);
	if (fl >= 0 && (fl & O_APPEND))
		return st.st_size;
	return lseek(f->fd, 0, SEEK_CUR);
}

/* Whether marks a and b (validated) come from the same producer. */
static int
same_producer(const struct pending *a, const struct pending *b)
{
	struct mark ma, mb;

	mark_parse(a->m, a->len, &ma);
	mark_parse(b->m, b->len, &mb);
	return memcmp(ma.id, mb.id, MARK_ID_LEN) == 0 &&
	    ma.path_len == mb.path_len &&
	    memcmp(ma.path, mb.path, ma.path_len) == 0;
}

static int
mark_ready(const struct pending *pm)
{
	size_t s;

	for (s = 0; s < NSLOTS; s++)
		if (writes[s] < pm->need[s])
			return 0;
	return 1;
}

/*
 * Returns the marks whose events are all written.  They go in order, the
 * first ones first; of several from one producer only the last goes, as
 * it says the same and more.
 */
static void
marks_settle(void)
{
	size_t k, i, j;

	if (marks_off)
		return;
	for (k = 0; k < nmarks && mark_ready(&marks[k]); k++)
		;
	for (i = 0; i < k; i++) {
		for (j = i + 1; j < k && !same_producer(&marks[i], &marks[j]);
		    j++)
			;
		if (j == k)
			mark_return(marks[i].m, marks[i].len);
	}
	memmove(marks, marks + k, (nmarks - k) * sizeof(*marks));
	nmarks -= k;
}

/*
 * A write of f's buffer stopped after done bytes (errno says why): a
 * regular file is cut back to the end of the last whole event written (to
 * where the write began with gzip, as part of a member is unreadable), so
 * a later append starts on a clean boundary; the events after it are
 * counted as not written.
 */
static void
write_failed(struct file *f, off_t start, size_t done)
{
	size_t k = o.gzip ? 0 : ends_within(&f->e, done);
	size_t keep = k ? f->e.at[k - 1] : 0;

	marks_off = 1;
	if (errno == EPIPE && f == &std)
		exit(128 + SIGPIPE);    /* the reader went away: quietly */
	warn("unable to write %s:", f->name);
	if (done > keep && start >= 0) {
		if (ftruncate(f->fd, start + (off_t)keep) < 0)
			warn("unable to cut %s back to its last whole event:",
			    f->name);
		else
			lseek(f->fd, start + (off_t)keep, SEEK_SET);
	} else if (done > keep) {
		warn("%s: %zu bytes of an event were written before the "
		    "failure", f->name, done - keep);
	}
	stats.out += k;
	stats.bytes_out += keep;
	not_written += f->e.n - k;
	f->b.len = 0;
	f->e.n = 0;
}

/*
 * Writes f's buffer, one gzip member with --compress gzip; -1 if that
 * failed (then said, and the events not written counted).
 */
static int
file_flush(struct file *f)
{
	const char *p = f->b.p;
	size_t n = f->b.len, done;
	off_t start;

	if (!n)
		return 0;
	if (o.gzip && f != &std) {
		gz.len = 0;
		if (fwd_gzip(&gz, f->b.p, f->b.len, 6) < 0) {
			errno = ENOMEM;
			write_failed(f, -1, 0);
			return -1;
		}
		p = gz.p;
		n = gz.len;
	}
	start = write_start(f);
	if ((done = write_some(f, p, n)) < n) {
		write_failed(f, start, done);
		return -1;
	}
	stats.out += f->e.n;
	stats.bytes_out += f->b.len;
	f->b.len = 0;
	f->e.n = 0;
	writes[f == &std ? MAX_FILES : (size_t)(f - files)]++;
	marks_settle();
	return 0;
}

/* Flushes and closes f; -1 if anything failed (said and counted). */
static int
file_close(struct file *f)
{
	int ret;

	if (!f->name)
		return 0;
	ret = file_flush(f);
	if (close(f->fd) < 0) {
		warn("unable to close %s:", f->name);
		ret = -1;
	}
	free(f->name);
	f->name = NULL;
	return ret;
}

static struct reader *rd;

/*
 * Stops after a failure: writes out what every other file holds, says how
 * many events were not written, prints --stats and exits with code.
 */
static _Noreturn void
fail_exit(int code)
{
	size_t i;

	marks_off = 1;
	for (i = 0; i < MAX_FILES; i++)
		file_close(&files[i]);
	file_flush(&std);
	warn("%llu events not written, %llu written",
	    (unsigned long long)not_written, (unsigned long long)stats.out);
	input_stats();
	exit(code);
}

static void
flush_or_fail(struct file *f)
{
	if (file_flush(f) < 0)
		fail_exit(EX_SYS);
}

static void
idle(void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < MAX_FILES; i++)
		if (files[i].name)
			flush_or_fail(&files[i]);
	flush_or_fail(&std);
}

/*
 * A mark from the stream: returned once every event before it is written,
 * at once if none is waiting.  Should the oldest wait long (a file that
 * fills slowly while the input never pauses), or the queue be full,
 * everything is written out first.
 */
static void
on_mark(void *arg, const char *p, size_t len)
{
	struct pending *pm;
	size_t s, held;
	long long now = clock_ms();
	int wait = 0;

	(void)arg;
	if (nmarks && (nmarks == MARK_QUEUE || now - marks[0].ms >=
	    MARK_WAIT_MS))
		idle(NULL);
	if (marks_off || nmarks == MARK_QUEUE)
		return;
	pm = &marks[nmarks];
	for (s = 0; s < NSLOTS; s++) {
		held = s == MAX_FILES ? std.b.len : files[s].b.len;
		pm->need[s] = writes[s] + (held > 0);
		wait |= held > 0;
	}
	if (!wait && nmarks == 0) {
		mark_return(p, len);
		return;
	}
	memcpy(pm->m, p, len);
	pm->len = len;
	pm->ms = now;
	nmarks++;
}

/* SIGHUP: close every file, so the next event reopens by name. */
static void
reopen(void)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < MAX_FILES; i++)
		bad |= file_close(&files[i]) < 0;
	if (bad)
		fail_exit(EX_SYS);
}

/* Opens (appending) a file of --path; -1 said. */
static int
file_open(struct file *f, const char *name)
{
	char d[4096];

	if (make_dirs(name, d, sizeof(d)) < 0) {
		warn("unable to create directory %s:", d);
		return -1;
	}
	f->fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		warn("unable to open %s:", name);
		return -1;
	}
	f->name = xstrdup(name);
	f->used = ++use_clock;
	return 0;
}

/* The open file for an event's time, opened if needed; else exits. */
static struct file *
file_for(int64_t sec, uint32_t nsec)
{
	char name[4096];
	size_t n, i, lru = 0;
	struct file *f;

	n = timefmt_format(tf_path, sec, nsec, name, sizeof(name) - 4);
	if (n == 0) {
		warn("--path expands to more than 4 KiB");
		not_written++;
		fail_exit(EX_USAGE);
	}
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
	if (file_close(f) < 0 || file_open(f, name) < 0) {
		not_written++;          /* the event in hand */
		fail_exit(EX_SYS);
	}
	return f;
}

static void
handle(const struct event *ev)
{
	const char *rec = ev->rec;
	size_t len = ev->rec_len;
	struct file *f = &std;

	if (tp && !tagpat_match(tp, ev->tag, ev->tag_len)) {
		not_selected++;
		return;
	}
	if (o.time_key || o.tag_key)
		inject(ev, &rec, &len);
	if (o.path)
		f = file_for(ev->sec, ev->nsec);
	format(&f->b, ev, rec, len);
	ends_add(&f->e, f->b.len);
	if (f->b.len >= OUT_BLOCK)
		flush_or_fail(f);
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
	uint64_t sent, unsent;
	int n = 0;

	if (tp)
		n = snprintf(b, cap, ", not selected by tag %llu",
		    (unsigned long long)not_selected);
	if (n < 0 || (size_t)n >= cap || !reader_stats(rd)->marks)
		return;
	mark_return_counts(&sent, &unsent);
	snprintf(b + n, cap - n, ", marks in %llu, returned %llu, not sent "
	    "%llu", (unsigned long long)reader_stats(rd)->marks,
	    (unsigned long long)sent, (unsigned long long)unsent);
}

static void
split_fields(void)
{
	char *s, *tok, *save = NULL, *e;

	if (o.format != F_CSV && o.format != F_TSV)
		return;
	if (!o.fields)
		die(EX_USAGE, "--format %s needs --fields", format_names[o.format]);
	s = xstrdup(o.fields);
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",",
	    &save)) {
		/* white space around a name is trimmed, as Fluentd does */
		tok += strspn(tok, " \t\n\v\f\r");
		for (e = tok + strlen(tok); e > tok && strchr(" \t\n\v\f\r",
		    e[-1]); )
			*--e = '\0';
		if (!*tok)
			continue;
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

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
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
		opt_fail(&prog, "unexpected operand '%s': lout reads standard "
		    "input only", argv[optind]);
}

/* Writes out and closes everything; -1 if a write failed (said). */
static int
finish(void)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < MAX_FILES; i++) {
		bad |= file_close(&files[i]) < 0;
		buf_free(&files[i].b);
		free(files[i].e.at);
	}
	bad |= file_flush(&std) < 0;
	for (i = 0; i < nfields; i++)
		free(fields[i]);
	free(fields);
	free(field_lens);
	buf_free(&line);
	buf_free(&tmp);
	buf_free(&gz);
	buf_free(&std.b);
	free(std.e.at);
	tagpat_free(tp);
	timefmt_free(tf_time);
	timefmt_free(tf_inject);
	timefmt_free(tf_path);
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
	buf_reserve(&std.b, OUT_BLOCK + 4096);
	rd = input_reader(0, "stdin", idle, NULL);
	reader_set_mark(rd, on_mark, NULL);
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
