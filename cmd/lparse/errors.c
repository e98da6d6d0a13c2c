/* errors - lparse's events that did not parse: reports, --on-error, summary */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "stats.h"
#include "stream.h"

#include "lparse.h"

/* The warnings' pace and the buffers of the failure path. */
static struct {
	uint64_t unshown;       /* failures not reported since the last */
	long long last_warn;
	struct buf msg;         /* the text of a warning */
	struct buf tag;         /* --on-error tag:PREFIX's tag */
} er;

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
		snprintf(t, sizeof(t), "passed on tagged %s.TAG%s",
		    o.tag_prefix, o.reserve_data ? ", and with their own "
		    "fields, as --reserve-data keeps them" : "");
		return t;
	}
	return "";
}

/* The warning for a failure: the first, then at most one a second. */
static void
report(const struct event *ev, const char *why, const char *text,
    size_t len)
{
	long long now = clock_ms();
	char more[64] = "";

	if (run.failures > 1 && now - er.last_warn < 1000) {
		er.unshown++;
		return;
	}
	er.msg.len = 0;
	if (text) {
		buf_puts(&er.msg, ": ");
		json_put_str(&er.msg, text, len > 200 ? 200 : len);
		if (len > 200)
			buf_puts(&er.msg, "...");
	}
	buf_putc(&er.msg, '\0');
	if (er.unshown)
		snprintf(more, sizeof(more), " (and %llu more since the last "
		    "report)", (unsigned long long)er.unshown);
	warn("event %llu, tag %.*s: %s%s%s", (unsigned long long)run.nevents,
	    (int)ev->tag_len, ev->tag, why, er.msg.p, more);
	er.last_warn = now;
	er.unshown = 0;
}

/*
 * --reserve-data: an event that did not parse goes on as Fluentd's parser
 * filter writes it, with its own fields and time and nothing parsed (an
 * empty map under --hash-value-field).
 */
static void
write_reserved(const struct event *ev)
{
	pfields_reset(&run.pf, 0);
	record_head(&run.out.b, ev->tag, ev->tag_len, ev->sec, ev->nsec);
	record_build(&run.out.b, ev, 0);
	out_check(&run.out);
	stats.out++;
}

/* An event that did not parse: counted, reported, then --on-error. */
void
errors_fail(const struct event *ev, const char *why, const char *text,
    size_t len)
{
	run.failures++;
	run.failed_events++;
	report(ev, why, text, len);
	switch (o.on_error) {
	case E_KEEP:
		if (o.reserve_data) {
			write_reserved(ev);
			break;
		}
		event_write(&run.out, ev->tag, ev->tag_len, ev->sec, ev->nsec,
		    ev->rec, ev->rec_len);
		stats.out++;
		break;
	case E_DROP:
		run.dropped++;
		break;
	case E_TAG:
		er.tag.len = 0;
		buf_puts(&er.tag, o.tag_prefix);
		buf_putc(&er.tag, '.');
		buf_put(&er.tag, ev->tag, ev->tag_len);
		event_write(&run.out, er.tag.p, er.tag.len, ev->sec, ev->nsec,
		    ev->rec, ev->rec_len);
		stats.out++;
		if (o.reserve_data)
			write_reserved(ev);
		break;
	}
}

/* --on-error ACTION. */
void
errors_setup(const char *arg)
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

/* Said at exit: nothing that failed goes unreported; the exit status. */
int
errors_summary(void)
{
	if (run.failures > run.failed_events)
		warn("%llu of %llu events did not parse, %llu failures in all "
		    "(%s)", (unsigned long long)run.failed_events,
		    (unsigned long long)run.nevents,
		    (unsigned long long)run.failures, action_text());
	else if (run.failures)
		warn("%llu of %llu events did not parse (%s)",
		    (unsigned long long)run.failures,
		    (unsigned long long)run.nevents, action_text());
	return EX_OK;
}

void
errors_free(void)
{
	buf_free(&er.msg);
	buf_free(&er.tag);
}
