/* retry - when a sink tries again after failures, and when it gives up */
#ifndef LKIT_RETRY_H
#define LKIT_RETRY_H

/*
 * lforward, lhttp and lsyslog retry a unit of theirs (a request, a batch,
 * the connection) after a failure, waiting --retry-wait, doubled after
 * each failure in a row up to --retry-max-interval, and give it up after
 * --retry-max-times retries or once it has failed for --retry-timeout,
 * unless --retry-forever.
 */
struct retry {
	long long wait_ms;      /* --retry-wait */
	long long max_ms;       /* --retry-max-interval */
	long long timeout_ms;   /* --retry-timeout */
	long long times;        /* --retry-max-times, -1 for no bound */
	int forever;            /* --retry-forever */
};

#define RETRY_DEFAULTS { 1000, 60000, 72LL * 3600 * 1000, -1, 0 }

/* Option ids, clear of each program's own and of the other groups'. */
enum {
	OPT_RETRY_WAIT = 0x1300, OPT_RETRY_MAX_INT, OPT_RETRY_TIMEOUT,
	OPT_RETRY_TIMES, OPT_RETRY_FOREVER
};

/* The rows; what is the unit given up, with a space ("a batch "), or "". */
#define OPT_RETRY(what) \
	{ OPT_RETRY_WAIT, "retry-wait", "DURATION", "first wait after a " \
	    "failure, doubled each time (default 1s)" }, \
	{ OPT_RETRY_MAX_INT, "retry-max-interval", "DURATION", "longest " \
	    "wait between retries (default 60s)" }, \
	{ OPT_RETRY_TIMEOUT, "retry-timeout", "DURATION", "give " what "up " \
	    "after failing this long (default 72h)" }, \
	{ OPT_RETRY_TIMES, "retry-max-times", "N", "give " what "up after " \
	    "N retries" }, \
	{ OPT_RETRY_FOREVER, "retry-forever", NULL, "never give " what "up" }

/* Takes one of the OPT_RETRY options into r; returns 0 if id is not one. */
int retry_opt(struct retry *r, int id, const char *arg);

/*
 * The wait after the fails-th failure in a row (1 for the first):
 * wait_ms, doubled each time, at most max_ms.
 */
long long retry_wait(const struct retry *r, int fails);

/*
 * Whether a unit that has failed fails times in a row, the first time at
 * first_fail (monotonic ms, 0 if it has not failed), is given up at now:
 * NULL to try again, else the option that says so ("--retry-max-times",
 * "--retry-timeout").
 */
const char *retry_over(const struct retry *r, long long fails,
    long long first_fail, long long now);

#endif
