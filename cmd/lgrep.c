/* lgrep - select events by field regex, by tag pattern or by a jq condition */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/input.h"
#include "../common/jqglue.h"
#include "../common/mark.h"
#include "../common/metrics.h"
#include "../common/mp.h"
#include "../common/opt.h"
#include "../common/parse_rx.h"
#include "../common/recpath.h"
#include "../common/rx.h"
#include "../common/sig.h"
#include "../common/stats.h"
#include "../common/stream.h"
#include "../common/tagpat.h"

#define USAGE "[options]"
#define ABOUT "Write the events that match, like Fluentd's filter_grep: " \
	"every --regexp must\nmatch, any --exclude drops; --or and --and " \
	"start Fluentd's <or> and <and>\nsections.  KEY is a field name, " \
	"$.a.b or $['a'][0]; PATTERN is PCRE2, or\n/PATTERN/i or /PATTERN/m " \
	"as in Fluentd."

enum {
	O_AND = OPT_LONG, O_OR, O_ADD_PREFIX, O_REMOVE_PREFIX, O_ADD_SUFFIX,
	O_REMOVE_SUFFIX
};

static const struct opt opts[] = {
	{ 'r', "regexp", "'KEY PATTERN'", "keep events whose field KEY "
	    "matches PATTERN" },
	{ 'x', "exclude", "'KEY PATTERN'", "drop events whose field KEY "
	    "matches PATTERN" },
	{ O_OR, "or", NULL, "the -r/-x that follow form an <or> "
	    "section" },
	{ O_AND, "and", NULL, "the -r/-x that follow form an <and> "
	    "section" },
	{ 't', "tag", "PATTERN", "keep events whose tag matches PATTERN" },
	{ 'j', "jq", "CONDITION", "keep events whose jq CONDITION is "
	    "true" },
	{ 'i', "ignore-case", NULL, "match every PATTERN ignoring case" },
	{ 'v', "invert-match", NULL, "write the events not selected" },
	{ 'c', "count", NULL, "write only the number of selected "
	    "events" },
	{ O_ADD_PREFIX, "add-tag-prefix", "PREFIX", "prepend PREFIX. to the "
	    "tag of selected events" },
	{ O_REMOVE_PREFIX, "remove-tag-prefix", "PREFIX", "strip PREFIX. "
	    "from the tag of selected events" },
	{ O_ADD_SUFFIX, "add-tag-suffix", "SUFFIX", "append .SUFFIX to the "
	    "tag of selected events" },
	{ O_REMOVE_SUFFIX, "remove-tag-suffix", "SUFFIX", "strip .SUFFIX "
	    "from the tag of selected events" },
	OPT_INPUT,
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "some event was selected" },
	{ 1, "no event was selected" },
	OPT_EXIT_USAGE,
	{ 3, "bad input data, or events dropped on jq errors" },
	{ 4, "system or I/O failure" },
	OPT_EXIT_PIPE,
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

/*
 * Fluentd gathers every condition into four sets: top-level and <and>
 * regexps (all must match), <or> regexps (one must), <and> excludes (all
 * matching drops) and top-level and <or> excludes (one matching drops).
 */
enum { RX_AND, RX_OR, EX_AND, EX_OR, NSETS };

struct cond {
	const char *arg;
	struct recpath path;
	struct rx *rx;
};

static struct {
	const char *tag, *jq, *add_prefix, *rm_prefix, *add_suffix, *rm_suffix;
	int icase, invert, count;
} o;

static const char *pending[2][256];    /* -r and -x, with their set */
static int pending_set[2][256];
static size_t npending[2];
static struct cond *sets[NSETS];
static size_t nset[NSETS];
static struct tagpat *tp;
static struct jqglue *jg;
static struct out out;
static struct reader *rd;
static struct buf text, tagbuf, last_tag;
static uint64_t selected, not_selected, jq_errors, shown;

/*
 * Compiles PATTERN as Fluentd reads a regexp (parse_rx, shared with lparse
 * and ltail): /PATTERN/im, ^ and $ at every line, \h; an error names the
 * offset in the pattern as written.
 */
static struct rx *
compile(const char *pat, const char *arg)
{
	struct rx *rx;
	char err[256];

	if (!(rx = parse_rx(pat, o.icase ? PRX_CASELESS : 0, err,
	    sizeof(err))))
		die(EX_USAGE, "bad regular expression in '%s': %s", arg, err);
	return rx;
}

static void
add_cond(const char *arg, int set)
{
	size_t klen = recpath_span(arg);
	struct cond *c;
	const char *err;
	char *key;

	if (arg[klen] != ' ')
		die(EX_USAGE, "'%s' is not 'KEY PATTERN'", arg);
	sets[set] = xrealloc(sets[set], (nset[set] + 1) * sizeof(*sets[set]));
	c = &sets[set][nset[set]++];
	c->arg = arg;
	key = xstrndup(arg, klen);
	if (recpath_parse(&c->path, key, &err) < 0)
		die(EX_USAGE, "bad field name in '%s': %s", arg, err);
	free(key);
	c->rx = compile(arg + klen + 1, arg);
}

/* Whether the condition's field exists and matches. */
static int
cond_match(struct cond *c, const char *rec, size_t len)
{
	const char *v, *p;
	struct mp_obj h;
	size_t vlen;

	if (!recpath_get(&c->path, rec, rec + len, &v, &vlen))
		return 0;
	p = v;
	if (mp_head(&p, v + vlen, &h) == MP_OK && (h.type == MP_STR ||
	    h.type == MP_BIN))
		return rx_match(c->rx, h.data, h.len) == 1;
	text.len = 0;
	recpath_to_s(&text, v, v + vlen);
	/* defined bytes past the end for the JIT's wide loads (valgrind) */
	buf_reserve(&text, 16);
	memset(text.p + text.len, 0, 16);
	return rx_match(c->rx, text.p, text.len) == 1;
}

static int
grep_ok(const char *rec, size_t len)
{
	size_t i, n;

	for (i = 0; i < nset[RX_AND]; i++)
		if (!cond_match(&sets[RX_AND][i], rec, len))
			return 0;
	for (i = 0; i < nset[RX_OR]; i++)
		if (cond_match(&sets[RX_OR][i], rec, len))
			break;
	if (nset[RX_OR] && i == nset[RX_OR])
		return 0;
	for (i = n = 0; i < nset[EX_AND]; i++)
		n += cond_match(&sets[EX_AND][i], rec, len);
	if (nset[EX_AND] && n == nset[EX_AND])
		return 0;
	for (i = 0; i < nset[EX_OR]; i++)
		if (cond_match(&sets[EX_OR][i], rec, len))
			return 0;
	return 1;
}

/* 1 selected, 0 not, -1 a jq error (said, counted). */
static int
jq_ok(const struct event *ev)
{
	int ret;
	jv v;

	jqglue_start(jg, ev->tag, ev->tag_len, ev->sec, ev->nsec, ev->rec,
	    ev->rec_len);
	ret = jqglue_next(jg, &v);
	if (ret == JQGLUE_OUT)
		return jqglue_truthy(v);
	if (ret == JQGLUE_END)
		return 0;
	jq_errors++;
	if (shown++ < 10)
		warn("event %llu (tag %.*s): jq error: %s; dropped",
		    (unsigned long long)stats.in, (int)ev->tag_len, ev->tag,
		    jqglue_errmsg(jg));
	else if (shown == 11)
		warn("further jq errors are counted, not shown");
	return -1;
}

/* s without "P." at its start (fluent-plugin-grep's remove_tag_prefix). */
static size_t
strip_prefix(const char *s, size_t len, const char *p)
{
	size_t pl = strlen(p);

	if (pl && p[pl - 1] == '.')
		pl--;
	return len > pl && memcmp(s, p, pl) == 0 && s[pl] == '.' ? pl + 1 : 0;
}

static size_t
strip_suffix(const char *s, size_t len, const char *x)
{
	size_t xl = strlen(x);

	if (*x == '.')
		x++, xl--;
	return len > xl && memcmp(s + len - xl, x, xl) == 0 &&
	    s[len - xl - 1] == '.' ? xl + 1 : 0;
}

/* The tag of a selected event, rewritten once per distinct tag. */
static void
new_tag(const struct event *ev, const char **tag, size_t *len)
{
	const char *t = ev->tag;
	size_t n = ev->tag_len, cut;

	if (last_tag.len == n && tagbuf.p && memcmp(last_tag.p, t, n) == 0)
		goto done;
	last_tag.len = 0;
	buf_put(&last_tag, t, n);
	tagbuf.len = 0;
	if (o.rm_prefix && (cut = strip_prefix(t, n, o.rm_prefix)))
		t += cut, n -= cut;
	if (o.rm_suffix)
		n -= strip_suffix(t, n, o.rm_suffix);
	if (o.add_prefix) {
		cut = strlen(o.add_prefix);
		buf_put(&tagbuf, o.add_prefix, cut && o.add_prefix[cut - 1] ==
		    '.' ? cut - 1 : cut);
		buf_putc(&tagbuf, '.');
	}
	buf_put(&tagbuf, t, n);
	if (o.add_suffix) {
		buf_putc(&tagbuf, '.');
		buf_puts(&tagbuf, o.add_suffix + (*o.add_suffix == '.'));
	}
done:
	*tag = tagbuf.p;
	*len = tagbuf.len;
}

static void
handle(const struct event *ev)
{
	const char *tag = ev->tag;
	size_t tag_len = ev->tag_len;
	int sel = 1;

	if (tp && !tagpat_match(tp, ev->tag, ev->tag_len))
		sel = 0;
	if (sel && !grep_ok(ev->rec, ev->rec_len))
		sel = 0;
	if (sel && jg && (sel = jq_ok(ev)) < 0)
		return;
	if (o.invert)
		sel = !sel;
	if (!sel) {
		not_selected++;
		return;
	}
	selected++;
	if (o.count)
		return;
	if (o.add_prefix || o.rm_prefix || o.add_suffix || o.rm_suffix)
		new_tag(ev, &tag, &tag_len);
	event_write(&out, tag, tag_len, ev->sec, ev->nsec, ev->rec,
	    ev->rec_len);
	out_check(&out);
	stats.out++;
}

static void
sync_stats(void)
{
	const struct reader_stats *rs = reader_stats(rd);

	stats.bytes_in = rs->bytes;
	stats.bytes_out = out.bytes + out.b.len;
	stats.dropped = input_dropped(rd) + jq_errors;
}

static void
extra_stats(char *b, size_t cap)
{
	int n = snprintf(b, cap, ", selected %llu, not selected %llu",
	    (unsigned long long)selected, (unsigned long long)not_selected);

	if (jg && n > 0 && (size_t)n < cap)
		snprintf(b + n, cap - n, ", jq errors %llu",
		    (unsigned long long)jq_errors);
}

static void
setup(void)
{
	const char *err;
	char msg[4096];
	size_t i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < npending[k]; i++)
			add_cond(pending[k][i], pending_set[k][i]);
	if (o.tag && !(tp = tagpat_new(o.tag, &err)))
		die(EX_USAGE, "bad tag pattern '%s': %s", o.tag, err);
	if (o.jq && !(jg = jqglue_new(o.jq, msg, sizeof(msg))))
		die(EX_USAGE, "bad jq program: %s", msg);
}

/* Notes a -r (k 0) or -x (k 1) in the section in force. */
static void
pend(int k, const char *arg, int section)
{
	static const int set[2][3] = {
		{ RX_AND, RX_AND, RX_OR },      /* -r: top, <and>, <or> */
		{ EX_OR, EX_AND, EX_OR }        /* -x */
	};

	if (npending[k] == 256)
		die(EX_USAGE, "too many %s options", k ? "--exclude" :
		    "--regexp");
	pending[k][npending[k]] = arg;
	pending_set[k][npending[k]++] = set[k][section];
}

static void
options(int argc, char **argv)
{
	const char *arg;
	int c, section = 0;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case 'r': pend(0, arg, section); break;
		case 'x': pend(1, arg, section); break;
		case O_AND: section = 1; break;
		case O_OR: section = 2; break;
		case 't': o.tag = arg; break;
		case 'j': o.jq = arg; break;
		case 'i': o.icase = 1; break;
		case 'v': o.invert = 1; break;
		case 'c': o.count = 1; break;
		case O_ADD_PREFIX: o.add_prefix = arg; break;
		case O_REMOVE_PREFIX: o.rm_prefix = arg; break;
		case O_ADD_SUFFIX: o.add_suffix = arg; break;
		case O_REMOVE_SUFFIX: o.rm_suffix = arg; break;
		default: input_opt(c, arg); break;
		}
	}
	if (optind < argc)
		opt_fail(&prog, "unexpected operand '%s': lgrep reads standard "
		    "input only", argv[optind]);
}

static void
finish(void)
{
	size_t s, i;

	for (s = 0; s < NSETS; s++) {
		for (i = 0; i < nset[s]; i++) {
			recpath_free(&sets[s][i].path);
			rx_free(sets[s][i].rx);
		}
		free(sets[s]);
	}
	tagpat_free(tp);
	jqglue_free(jg);
	buf_free(&text);
	buf_free(&tagbuf);
	buf_free(&last_tag);
	out_free(&out);
	reader_free(rd);
}

/* Says what was counted; returns the exit status. */
static int
report(void)
{
	char n[32];

	if (o.count) {
		snprintf(n, sizeof(n), "%llu\n", (unsigned long long)selected);
		out_put(&out, n, strlen(n));
		out_flush(&out);
	}
	if (jq_errors)
		warn("dropped %llu events on jq errors",
		    (unsigned long long)jq_errors);
	if (jq_errors)
		return EX_DATA;
	return selected ? EX_OK : EX_NOMATCH;
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
	out_init(&out, 1, "stdout");
	if (o.count) {
		/* a sink: nothing goes on, so each mark goes back at once */
		rd = input_reader(0, "stdin", out_flush_cb, &out);
		reader_set_mark(rd, mark_return_cb, NULL);
	} else {
		rd = input_filter_reader(0, "stdin", &out);
	}
	stats_init(sync_stats, extra_stats);
	while ((ret = reader_next(rd, &ev)) == READ_EVENT) {
		stats.in++;
		handle(&ev);
	}
	ret = filter_end(rd, ret, &out, report);
	finish();
	return ret;
}
