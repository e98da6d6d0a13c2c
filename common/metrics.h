/* metrics - the stats counters as a Prometheus text file, replaced atomically */
#ifndef LKIT_METRICS_H
#define LKIT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Option ids, clear of each program's own and of OPT_INPUT's. */
enum { OPT_METRICS_FILE = 0x1100, OPT_METRICS_INTERVAL, OPT_PIPELINE };

#define OPT_METRICS_FILES \
	{ OPT_METRICS_FILE, "metrics-file", "FILE", "write counters to FILE " \
	    "in the Prometheus text format" }, \
	{ OPT_METRICS_INTERVAL, "metrics-interval", "DURATION", "rewrite " \
	    "the metrics file this often (default 10s)" }
#define OPT_METRICS \
	OPT_METRICS_FILES, \
	{ OPT_PIPELINE, "pipeline", "NAME", "the pipeline label of the " \
	    "metrics (default empty)" }
/* for a program whose --pipeline means something else (lhttp) */
#define OPT_METRICS_ALT \
	OPT_METRICS_FILES, \
	{ OPT_PIPELINE, "metrics-pipeline", "NAME", "the pipeline label of " \
	    "the metrics (default empty)" }

/* Takes one of the OPT_METRICS options; returns 0 if id is not one. */
int metrics_opt(int id, const char *arg);

/* Whether --metrics-file was given. */
int metrics_on(void);

/*
 * Milliseconds until the next write is due (0: now), or -1 without
 * --metrics-file: a bound for a wait's timeout.
 */
long long metrics_due_ms(void);

/* Writes the file if none was yet, or the interval has passed since. */
void metrics_tick(void);

/*
 * For a program's own poll loop: writes the file if due, then returns
 * timeout (ms, -1 for none) shortened to when the next write is due.
 */
int metrics_timeout(int timeout);

/*
 * Writes the file now (stats synced first); 0, or -1 after saying once
 * why it could not be written.
 */
int metrics_write(void);

/*
 * A program's own families, written after the common five.  A family is
 * a counter or a gauge with one value (v), or with one sample per value
 * of one extra, bounded label (fn gives them with metrics_put); or a
 * histogram of seconds (h) over METRICS_NB fixed buckets.
 */
enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRICS_NB 12           /* 1ms .. 5s, then +Inf */

struct metrics_hist {
	uint64_t n[METRICS_NB + 1];     /* per bucket, not cumulative */
	uint64_t count;
	double sum;
};

struct metrics_sink;            /* the file being written */

struct metric {
	const char *name, *help;
	int type;
	const char *label;      /* the extra label's name, or NULL */
	const uint64_t *v;      /* without fn and h: the one value */
	void (*fn)(struct metrics_sink *);
	const struct metrics_hist *h;   /* METRIC_HISTOGRAM */
};

/* Adds the n families of m (kept, not copied); at most METRICS_MAX. */
#define METRICS_MAX 32
void metrics_add(const struct metric *m, size_t n);

/* From a family's fn: one sample, lv the extra label's value (or NULL). */
void metrics_put(struct metrics_sink *, const char *lv, double v);

/*
 * Gives lkit_events_dropped_total a reason= label: fn puts one sample a
 * reason; what stats.dropped holds beyond their sum, if anything, is
 * reason="other".
 */
void metrics_dropped(void (*fn)(struct metrics_sink *));

/* Counts one observation of seconds into h. */
void metrics_observe(struct metrics_hist *h, double seconds);

/* Appends the whole exposition text to b (stats synced first). */
void metrics_render(struct buf *b);

/* cmd/PROG/metrics.c: registers the program's own families. */
void metrics_families(void);

#endif
