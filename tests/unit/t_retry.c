/* t_retry - common/retry.c: the wait between tries and when to give up */
#include <limits.h>
#include <string.h>

#include "retry.h"
#include "tap.h"

static void
t_wait(void)
{
	struct retry r = RETRY_DEFAULTS;

	is_int(retry_wait(&r, 1), 1000, "the first wait is --retry-wait");
	is_int(retry_wait(&r, 2), 2000, "doubled after the second failure");
	is_int(retry_wait(&r, 6), 32000, "and so on");
	is_int(retry_wait(&r, 7), 60000, "up to --retry-max-interval");
	is_int(retry_wait(&r, 1000), 60000, "and no more");
	r.wait_ms = 90000;
	is_int(retry_wait(&r, 1), 60000, "a first wait above the most is cut");
	r.wait_ms = LLONG_MAX / 2 + 1;
	r.max_ms = LLONG_MAX;
	ok(retry_wait(&r, 3) == LLONG_MAX / 2 + 1,
	    "a huge wait is not doubled past LLONG_MAX");
	r.wait_ms = 0;
	is_int(retry_wait(&r, 5), 0, "--retry-wait 0 waits not at all");
}

static void
t_over(void)
{
	struct retry r = RETRY_DEFAULTS;
	const char *w;

	ok(!retry_over(&r, 1000, 1, 2), "no bound on times by default");
	w = retry_over(&r, 1, 1, 1 + 72LL * 3600 * 1000 + 1);
	ok(w && strcmp(w, "--retry-timeout") == 0,
	    "over after --retry-timeout: %s", w ? w : "(null)");
	ok(!retry_over(&r, 1, 1, 1 + 72LL * 3600 * 1000),
	    "not at --retry-timeout itself");
	ok(!retry_over(&r, 0, 0, LLONG_MAX), "never failed: never over");
	r.times = 2;
	ok(!retry_over(&r, 2, 1, 2), "2 retries of 2: not over");
	w = retry_over(&r, 3, 1, 2);
	ok(w && strcmp(w, "--retry-max-times") == 0,
	    "a third retry of 2: over: %s", w ? w : "(null)");
	r.times = 0;
	ok(retry_over(&r, 1, 1, 1) != NULL, "--retry-max-times 0: the first "
	    "failure is the last");
	r.forever = 1;
	ok(!retry_over(&r, 1000, 1, LLONG_MAX), "--retry-forever: never over");
}

static void
t_opt(void)
{
	struct retry r = RETRY_DEFAULTS;

	is_int(retry_opt(&r, OPT_RETRY_WAIT, "250ms"), 1, "--retry-wait");
	is_int(r.wait_ms, 250, "... is 250 ms");
	is_int(retry_opt(&r, OPT_RETRY_MAX_INT, "2m"), 1,
	    "--retry-max-interval");
	is_int(r.max_ms, 120000, "... is 2 minutes");
	is_int(retry_opt(&r, OPT_RETRY_TIMEOUT, "1h"), 1, "--retry-timeout");
	is_int(r.timeout_ms, 3600000, "... is an hour");
	is_int(retry_opt(&r, OPT_RETRY_TIMES, "7"), 1, "--retry-max-times");
	is_int(r.times, 7, "... is 7");
	is_int(retry_opt(&r, OPT_RETRY_FOREVER, NULL), 1, "--retry-forever");
	is_int(r.forever, 1, "... is set");
	is_int(retry_opt(&r, OPT_RETRY_WAIT - 1, "x"), 0,
	    "another id is not a retry option");
}

int
main(void)
{
	t_wait();
	t_over();
	t_opt();
	return done_testing();
}
