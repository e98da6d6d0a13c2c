/* lcat - JSON (or msgpack) records in, events out; merge event streams */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "../common/input.h"
#include "../common/jscan.h"
#include "../common/json.h"
#include "../common/metrics.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"
#include "../common/timefmt.h"
#include "../common/wait.h"

#define USAGE "[options] TAG  |  lcat -m FILE..."
#define ABOUT "Read JSON values (one per line, back to back, or arrays of " \
	"objects) and write\nthem as events with TAG and the current time, " \
	"like fluent-cat.  With -m,\nmerge event streams at event boundaries."

enum {
	O_TIME_KEY = OPT_LONG, O_TIME_FORMAT, O_KEEP_TIME_KEY, O_UTC,
	O_TIMEZONE, O_MSGPACK
};

static const struct opt opts[] = {
	{ 'm', "merge", NULL, "merge the event streams in FILE... (files or "
	    "FIFOs)" },
	{ O_MSGPACK, "msgpack", NULL, "read msgpack maps instead of JSON" },
	{ O_TIME_KEY, "time-key", "KEY", "take the event time from field KEY" },
	{ O_TIME_FORMAT, "time-format", "FMT", "time format of KEY (default: "
	    "numbers are unixtime, strings iso8601)" },
	{ O_KEEP_TIME_KEY, "keep-time-key", NULL, "keep KEY in the record" },
	{ O_UTC, "utc", NULL, "times without a zone are UTC" },
	{ O_TIMEZONE, "timezone", "TZ", "zone of times without one (+09:00, "
	    "Asia/Tokyo)" },
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "all input was read and written" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data" },
	{ 4, "system or I/O failure" },
	OPT_EXIT_PIPE,
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

static struct {
	int merge, msgpack, keep;
	const char *time_key, *time_format, *tz;
} o;

static const char *tag;
static size_t tag_len;
static struct out out;
static struct timefmt *tf_str;
static struct buf rec;          /* record without the time key */
static uint64_t skipped;        /* values skipped by --skip-invalid */
static const char *skip_first;  /* the first thing skipped, for the report */
static char skip_msg[512];

static void
sync_stats(void)
{
	stats.bytes_out = out.bytes + out.b.len;
}

/* Notes a bad value: dies, or with --skip-invalid counts it. */
static void
bad_value(const char *fmt, const char *where, const char *what)
{
	if (!input.skip) {
		out_flush(&out);
		die(EX_DATA, fmt, where, what);
	}
	if (!skipped++) {
		snprintf(skip_msg, sizeof(skip_msg), fmt, where, what);
		skip_first = skip_msg;
	}
	stats.dropped++;
}

/* Reads the time field; 0, or -1 with *why set. */
static int
field_time(const char *v, size_t vlen, int64_t *sec, uint32_t *nsec,
    const char **why)
{
	const char *p = v;
	struct mp_obj t;

	if (mp_head(&p, v + vlen, &t) != MP_OK)
		return -1;
	switch (t.type) {
	case MP_STR: case MP_BIN:
		if (timefmt_parse(tf_str, t.data, t.len, sec, nsec) == 0)
			return 0;
		*why = "time does not match the time format";
		return -1;
	case MP_UINT: case MP_INT: case MP_FLOAT:
		if (o.time_format && strcmp(o.time_format, "unixtime") != 0 &&
		    strcmp(o.time_format, "float") != 0) {
			*why = "time is a number, the time format wants text";
			return -1;
		}
		*nsec = 0;
		if (t.type == MP_FLOAT) {
			if (event_time_from_double(t.v.f, sec, nsec) == 0)
				return 0;
			*why = "time is out of range";
			return -1;
		}
		if (t.type == MP_UINT && t.v.u > INT64_MAX) {
			*why = "time is out of range";
			return -1;
		}
		*sec = t.type == MP_UINT ? (int64_t)t.v.u : t.v.i;
		return 0;
	default:
		*why = "time is neither a string nor a number";
		return -1;
	}
}

/* Writes one record (a validated msgpack map) as an event. */
static void
emit(const char *m, size_t len, const char *where)
{
	int64_t sec;
	uint32_t nsec;
	const char *v, *why = "";
	size_t vlen;

	if (!o.time_key || !mp_map_get(m, m + len, o.time_key,
	    strlen(o.time_key), &v, &vlen)) {
		event_now(&sec, &nsec);
	} else if (field_time(v, vlen, &sec, &nsec, &why) < 0) {
		bad_value("%s: %s", where, why);
		return;
	} else if (!o.keep) {
		rec.len = 0;
		mp_map_put_without(&rec, m, m + len, o.time_key,
		    strlen(o.time_key));
		m = rec.p;
		len = rec.len;
	}
	event_write(&out, tag, tag_len, sec, nsec, m, len);
	stats.out++;
}

/* A top-level value: a map is an event, an array of maps is several. */
static void
value(const char *p, size_t len, const char *where)
{
	static const char *const names[] = { "null", "boolean", "number",
		"number", "number", "string", "binary", "array", "object",
		"extension" };
	const char *q = p, *end = p + len, *e;
	struct mp_obj h;
	uint32_t i;

	stats.in++;
	mp_head(&q, end, &h);
	if (h.type == MP_MAP) {
		emit(p, len, where);
		return;
	}
	if (h.type != MP_ARRAY) {
		bad_value("%s: expected an object, found %s", where,
		    names[h.type]);
		return;
	}
	for (i = 0; i < h.v.n; i++) {
		e = q;
		mp_skip(&q, end, NULL);
		if ((unsigned char)*e >= 0x80 && (unsigned char)*e <= 0x8f)
			emit(e, q - e, where);
		else if ((unsigned char)*e == 0xde || (unsigned char)*e == 0xdf)
			emit(e, q - e, where);
		else
			bad_value("%s: %s", where, "array element is not "
			    "an object");
	}
}

/* Line and column of in[off], counting from in[from] at line *line. */
static void
where_at(const char *in, size_t from, size_t off, uint64_t line,
    size_t col0, char *w, size_t cap)
{
	size_t i, col = col0;

	for (i = from; i < off; i++) {
		if (in[i] == '\n') {
			line++;
			col = 0;
		} else {
			col++;
		}
	}
	snprintf(w, cap, "stdin: line %llu, column %zu", (unsigned long long)line,
	    col + 1);
}

/* Advances the line count over in[from..to). */
static void
count_lines(const char *in, size_t from, size_t to, uint64_t *line,
    size_t *col)
{
	const char *p = in + from, *end = in + to, *nl;

	while ((nl = memchr(p, '\n', end - p))) {
		(*line)++;
		*col = 0;
		p = nl + 1;
	}
	*col += end - p;
}

/*
 * --skip-invalid after an oversized value: drops text up to the next
 * newline.  Returns 1 when one was found, 0 when all was dropped.
 */
static int
discard_line(struct buf *in, size_t *start, uint64_t *line, size_t *col,
    int *discarding)
{
	char *nl = memchr(in->p + *start, '\n', in->len - *start);
	size_t to = nl ? (size_t)(nl - in->p) + 1 : in->len;

	count_lines(in->p, *start, to, line, col);
	*start = to;
	*discarding = !nl;
	return nl != NULL;
}

/*
 * The start of the line of in[at] if only white space comes before it on
 * that line and the line begins after in[from]; else from.
 */
static size_t
line_start(const char *in, size_t from, size_t at)
{
	size_t i = at;

	while (i > from && (in[i - 1] == ' ' || in[i - 1] == '\t' ||
	    in[i - 1] == '\r'))
		i--;
	return i > from && in[i - 1] == '\n' ? i : from;
}

static void
read_json(void)
{
	struct buf in = { 0 }, val = { 0 };
	struct waiter wt = { 0 };
	struct json_err err;
	struct jscan js;
	size_t start = 0, used, col = 0;
	uint64_t line = 1;
	char where[128];
	int eof = 0, ret, discarding = 0;
	ssize_t n;

	jscan_reset(&js);
	waiter_watch_out(&wt, out.fd);
	for (;;) {
		if (discarding) {
			jscan_reset(&js);
			if (!discard_line(&in, &start, &line, &col,
			    &discarding) && !eof)
				goto more;
		}
		if (!eof && !jscan_ready(&js, in.p + start, in.len - start))
			goto big;
		val.len = 0;
		ret = json_parse(in.p + start, in.len - start, eof, &used, &val,
		    &err);
		if (ret == JSON_OK) {
			size_t v = start;

			while (v < start + used && (in.p[v] == ' ' ||
			    in.p[v] == '\t' || in.p[v] == '\n' || in.p[v] == '\r'))
				v++;
			where_at(in.p, start, v, line, col, where, sizeof(where));
			if (val.len > input.max) {
				stats.in++;
				bad_value("%s: %s", where, "JSON value larger than "
				    "--max-event-size");
			} else {
				value(val.p, val.len, where);
			}
			count_lines(in.p, start, start + used, &line, &col);
			start += used;
			jscan_reset(&js);
			continue;
		}
		if (ret == JSON_BAD) {
			size_t at = start + err.offset, nl;
			char *p;

			where_at(in.p, start, at, line, col, where, sizeof(where));
			stats.in++;
			bad_value("%s: %s", where, err.msg);
			/* resynchronise at the next line (at its own, if it
			 * starts a line after the bad value's first one) */
			nl = line_start(in.p, start, at);
			if (nl == start) {
				p = memchr(in.p + at, '\n', in.len - at);
				nl = p ? (size_t)(p - in.p) + 1 : in.len;
				discarding = !p;
			}
			count_lines(in.p, start, nl, &line, &col);
			start = nl;
			jscan_reset(&js);
			continue;
		}
		if (ret == JSON_EMPTY && in.len > start) {      /* white space */
			count_lines(in.p, start, in.len, &line, &col);
			start = in.len;
			jscan_reset(&js);
		}
		if (eof)
			break;
		js.tried = in.len - start;
		if (js.state == J_END)  /* it did not end there after all */
			js.state = J_WAIT;
big:
		if (in.len - start > input.max) {
			where_at(in.p, start, start, line, col, where,
			    sizeof(where));
			stats.in++;
			bad_value("%s: %s", where, "JSON value larger than "
			    "--max-event-size");
			discarding = 1;
			continue;
		}
more:
		if (start > 0) {
			memmove(in.p, in.p + start, in.len - start);
			in.len -= start;
			start = 0;
		}
		if (!stream_wait(0, &wt, out_flush_cb, &out))
			break;
		buf_reserve(&in, 128 * 1024);
		n = read(0, in.p + in.len, in.cap - in.len);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			die(EX_SYS, "unable to read stdin:");
		if (n == 0)
			eof = 1;
		if (n > 0) {
			in.len += n;
			stats.bytes_in += n;
		}
	}
	buf_free(&in);
	buf_free(&val);
}

/* Says what a reader skipped (--skip-invalid, nil records), and counts it. */
static void
report_skipped(const struct reader *r, const char *name)
{
	stats.dropped += input_dropped(r);
	input_report(r, name);
}

static void
read_msgpack(void)
{
	struct reader *r = input_filter_reader(0, "stdin", &out);
	const char *p;
	size_t len;
	char where[64];
	int ret;

	while ((ret = reader_next_value(r, &p, &len)) == READ_EVENT) {
		snprintf(where, sizeof(where), "stdin: byte %llu",
		    (unsigned long long)(reader_offset(r) - len));
		value(p, len, where);
	}
	stats.bytes_in = reader_stats(r)->bytes;
	report_skipped(r, "stdin");
	if (ret != READ_EOF) {
		out_flush(&out);
		die(ret == READ_SYSERR ? EX_SYS : EX_DATA, "%s", reader_errmsg(r));
	}
	reader_free(r);
}

/* Writes every whole event r holds; returns the last reader_next_buffered. */
static int
drain(struct reader *r)
{
	struct event ev;
	int ret;

	while ((ret = reader_next_buffered(r, &ev)) == READ_EVENT) {
		stats.in++;
		event_write(&out, ev.tag, ev.tag_len, ev.sec, ev.nsec, ev.rec,
		    ev.rec_len);
		stats.out++;
	}
	if (ret == READ_ERR) {
		out_flush(&out);
		die(EX_DATA, "%s", reader_errmsg(r));
	}
	return ret;
}

/* Polls the inputs; returns 0 when a stop signal's grace is over. */
static int
merge_wait(struct pollfd *pf, size_t n, struct waiter *wt)
{
	int timeout, ret, asked;
	long long grace;

	for (;;) {
		if ((grace = waiter_grace(wt, clock_ms())) == 0)
			return 0;
		timeout = (int)grace;
		if (out.b.len && poll(pf, n, 0) == 0)
			out_flush(&out);
		asked = timeout;
		timeout = metrics_timeout(timeout);
		ret = poll(pf, n, timeout);
		if (ret < 0 && errno != EINTR)
			die(EX_SYS, "poll:");
		if (ret == 0 && timeout != asked)
			continue;       /* only the metrics file was due */
		if (ret == 0)
			return 0;
		if (ret > 0 && pf[0].revents) {
			sig_drain();
			sig_service();
			continue;
		}
		if (ret > 0)
			return 1;
	}
}

static void
merge(int n, char **paths)
{
	struct reader **r = xcalloc(n, sizeof(*r));
	struct pollfd *pf = xcalloc(n + 1, sizeof(*pf));
	const char **names = xcalloc(n, sizeof(*names));
	struct waiter wt = { 0 };
	int i, fd, live = n;
	ssize_t got;

	for (i = 0; i < n; i++) {
		names[i] = strcmp(paths[i], "-") == 0 ? "stdin" : paths[i];
		fd = names[i] == paths[i] ? open(paths[i], O_RDONLY) : 0;
		if (fd < 0)
			die(EX_SYS, "unable to open %s:", paths[i]);
		/* each stream's marks pass at its own event boundaries */
		r[i] = input_filter_reader(fd, names[i], &out);
		pf[i + 1].fd = fd;
		pf[i + 1].events = POLLIN;
	}
	pf[0].fd = sig_fd();
	pf[0].events = POLLIN;
	while (live > 0 && merge_wait(pf, n + 1, &wt)) {
		for (i = 0; i < n; i++) {
			if (pf[i + 1].fd < 0 || !pf[i + 1].revents)
				continue;
			got = reader_fill(r[i]);
			if (got < 0 && errno != EINTR && errno != EAGAIN)
				die(EX_SYS, "unable to read %s:", names[i]);
			if (drain(r[i]) == READ_EOF) {
				stats.bytes_in += reader_stats(r[i])->bytes;
				close(pf[i + 1].fd);
				pf[i + 1].fd = -1;
				live--;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (pf[i + 1].fd >= 0) {
			stats.bytes_in += reader_stats(r[i])->bytes;
			close(pf[i + 1].fd);
		}
		report_skipped(r[i], names[i]);
		reader_free(r[i]);
	}
	free(r);
	free(pf);
	free(names);
}

static void
setup_time(void)
{
	const char *err;

	if (!o.time_key)
		return;
	tf_str = timefmt_new(o.time_format ? o.time_format : "iso8601", o.tz,
	    &err);
	if (!tf_str)
		die(EX_USAGE, "bad time format '%s': %s", o.time_format ?
		    o.time_format : "iso8601", err);
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case 'm': o.merge = 1; break;
		case O_MSGPACK: o.msgpack = 1; break;
		case O_TIME_KEY: o.time_key = arg; break;
		case O_TIME_FORMAT: o.time_format = arg; break;
		case O_KEEP_TIME_KEY: o.keep = 1; break;
		case O_UTC: o.tz = "UTC"; break;
		case O_TIMEZONE: o.tz = arg; break;
		default: input_opt(c, arg); break;
		}
	}
}

/* A usage error if the operands are wrong, saying what is wrong. */
static void
operands_wrong(int argc, char **argv)
{
	if (o.merge && argc < 1)
		opt_fail(&prog, "-m needs the event streams to merge: no FILE "
		    "given");
	if (!o.merge && argc < 1)
		opt_fail(&prog, "no tag given: the events need a TAG");
	if (!o.merge && argc > 1)
		opt_fail(&prog, "unexpected operand '%s': lcat takes one TAG",
		    argv[1]);
}

int
main(int argc, char **argv)
{
	progname_set(argv[0]);
	options(argc, argv);
	argc -= optind;
	argv += optind;
	operands_wrong(argc, argv);
	if (o.merge && (o.msgpack || o.time_key))
		die(EX_USAGE, "-m merges event streams: --msgpack and "
		    "--time-key do not apply");
	sig_init();
	stats_init(sync_stats, NULL);
	setup_time();
	out_init(&out, 1, "stdout");
	if (o.merge) {
		merge(argc, argv);
	} else {
		tag = argv[0];
		tag_len = strlen(tag);
		if (!tag_len)
			die(EX_USAGE, "the tag is empty");
		if (o.msgpack)
			read_msgpack();
		else
			read_json();
	}
	out_flush(&out);
	input_stats();
	if (skipped)
		warn("skipped %llu invalid values (first: %s)",
		    (unsigned long long)skipped, skip_first);
	out_free(&out);
	buf_free(&rec);
	timefmt_free(tf_str);
	return EX_OK;
}
