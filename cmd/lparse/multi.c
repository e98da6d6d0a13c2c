/* multi - lparse's --format multi: alternatives tried in turn */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "stats.h"
#include "stream.h"

#include "lparse.h"

/*
 * As fluent-plugin-multi-format-parser: each --try is a format with what
 * it reads of its own (struct alt); the shared options apply to all.  The
 * first alternative that parses the text, its time included, gives the
 * event; events an alternative wrote before it failed (a JSON array) are
 * taken back.
 */

static struct {
	struct alt *alts;
	size_t n;
	size_t cur;             /* the alternative in use */
	size_t mark;            /* the output's length before the event */
	uint64_t out;           /* and its count */
	struct buf why;         /* every alternative's reason */
} mu;

/* Makes a the alternative in use (see struct alt). */
void
multi_use(const struct alt *a)
{
	o.format = a->format;
	fm.main = a->main;
	fm.groups = a->groups;
	fm.delim = a->delim;
	fm.delim_len = a->delim_len;
	o.time_key = a->time_key;
	o.time_key_len = a->time_key_len;
	run.tp_time = a->tp;
	run.pf.dedup = a->dedup;
}

/* Moves what setup made for o.format into a. */
static void
save(struct alt *a)
{
	a->format = o.format;
	a->main = fm.main;
	a->groups = fm.groups;
	a->delim = fm.delim;
	a->delim_len = fm.delim_len;
	a->time_key = o.time_key;
	a->time_key_len = o.time_key_len;
	a->tp = run.tp_time;
	a->dedup = run.pf.dedup;
	memset(&fm.main, 0, sizeof(fm.main));
	fm.groups = NULL;
	fm.delim = NULL;
	memset(&run.tp_time, 0, sizeof(run.tp_time));
	run.pf.dedup = 0;
}

/* The format of "--try spec": a name, or regexp:REGEX (regex:REGEX). */
static enum format
try_format(const char *spec)
{
	size_t i;

	o.regex = NULL;
	if (strncmp(spec, "regexp:", 7) == 0 || strncmp(spec, "regex:", 6) ==
	    0) {
		o.regex = strchr(spec, ':') + 1;
		return F_REGEXP;
	}
	for (i = 0; format_names[i]; i++)
		if (strcmp(format_names[i], spec) == 0)
			break;
	if (!format_names[i])
		die(EX_USAGE, "bad --try '%s': no such format (a format name, "
		    "or regexp:REGEX)", spec);
	if (i == F_REGEXP)
		die(EX_USAGE, "bad --try '%s': give the expression, as "
		    "--try 'regexp:REGEX'", spec);
	if (i == F_MULTI)
		die(EX_USAGE, "bad --try '%s': alternatives do not nest", spec);
	return i;
}

/* "json", or "regexp #2" where a format is tried more than once. */
static char *
label(size_t i, enum format f)
{
	const char *name = format_names[f];
	size_t j, same = 0;
	char *s;

	for (j = 0; j < mu.n; j++)
		same += mu.alts[j].format == f;
	if (same < 2)
		return xstrdup(name);
	s = xmalloc(strlen(name) + 24);
	snprintf(s, strlen(name) + 24, "%s #%zu", name, i + 1);
	return s;
}

/* Options that apply to none of the alternatives. */
static void
check_alternatives(unsigned given, unsigned formats)
{
	unsigned no_key = 1u << F_APACHE2 | 1u << F_SYSLOG | 1u << F_NONE |
	    1u << F_CRI;

	format_check(given, formats);
	if (o.time_key && !(formats & ~no_key))
		die(EX_USAGE, "--time-key: not for --format multi with these "
		    "--try alternatives");
}

/* Sets up each --try as its own format would be (given: see options). */
void
multi_setup(unsigned given)
{
	const char *key = o.time_key;
	unsigned formats = 0;
	size_t i;

	if (!o.ntries)
		die(EX_USAGE, "--format multi needs --try (one for each "
		    "alternative)");
	mu.alts = xcalloc(o.ntries, sizeof(*mu.alts));
	for (i = 0; i < o.ntries; i++) {
		o.format = try_format(o.tries[i]);
		o.time_key = key;
		format_setup_one();
		time_setup(1);
		save(&mu.alts[i]);
		mu.n++;
		formats |= 1u << o.format;
	}
	for (i = 0; i < mu.n; i++)
		mu.alts[i].label = label(i, mu.alts[i].format);
	o.format = F_MULTI;
	o.regex = NULL;
	o.time_key = key;
	check_alternatives(given, formats);
	o.multi = 1;
}

/*
 * The event in hand: the first alternative in use, and where its output
 * starts, to take back what an alternative that fails wrote.
 */
void
multi_first(void)
{
	mu.mark = run.out.b.len;
	mu.out = stats.out;
	mu.cur = 0;
	mu.why.len = 0;
	multi_use(&mu.alts[0]);
}

/*
 * The alternative in use did not parse, for the reason *why: takes back
 * what it wrote and returns 1 with the next in use, or, the last one
 * failing, 0 with every one's reason in *why.
 */
int
multi_next(const char **why)
{
	const struct alt *a = &mu.alts[mu.cur];

	run.out.b.len = mu.mark;
	stats.out = mu.out;
	buf_puts(&mu.why, mu.why.len ? "; " : "no --try alternative parsed: ");
	buf_puts(&mu.why, a->label);
	buf_puts(&mu.why, ": ");
	buf_puts(&mu.why, *why);
	if (++mu.cur < mu.n) {
		multi_use(&mu.alts[mu.cur]);
		return 1;
	}
	buf_putc(&mu.why, '\0');
	*why = mu.why.p;
	return 0;
}

/* Frees the alternatives; none is in use after. */
void
multi_free(void)
{
	struct alt *a;
	size_t i;

	for (i = 0; i < mu.n; i++) {
		a = &mu.alts[i];
		format_rx_pair_free(&a->main);
		free(a->groups);
		free(a->delim);
		time_tparser_free(&a->tp);
		free(a->label);
	}
	if (mu.n) {
		memset(&fm.main, 0, sizeof(fm.main));
		fm.groups = NULL;
		fm.delim = NULL;
		memset(&run.tp_time, 0, sizeof(run.tp_time));
	}
	free(mu.alts);
	buf_free(&mu.why);
}
