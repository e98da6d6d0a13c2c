/* metrics - the stats counters as a Prometheus text file, replaced atomically */
#ifndef LKIT_METRICS_H
#define LKIT_METRICS_H

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

#endif
