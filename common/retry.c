/* retry - when a sink tries again after failures, and when it gives up */
#include <limits.h>

#include "opt.h"
#include "retry.h"

int
retry_opt(struct retry *r, int id, const char *arg)
{
	switch (id) {
	case OPT_RETRY_WAIT:
		r->wait_ms = opt_duration_arg(arg, "retry-wait");
		break;
	case OPT_RETRY_MAX_INT:
		r->max_ms = opt_duration_arg(arg, "retry-max-interval");
		break;
	case OPT_RETRY_TIMEOUT:
		r->timeout_ms = opt_duration_arg(arg, "retry-timeout");
		break;
	case OPT_RETRY_TIMES:
		r->times = opt_uint_arg(arg, "retry-max-times");
		break;
	case OPT_RETRY_FOREVER:
		r->forever = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

long long
retry_wait(const struct retry *r, int fails)
{
	long long w = r->wait_ms;

	while (--fails > 0 && w < r->max_ms && w <= LLONG_MAX / 2)
		w *= 2;
	return w < r->max_ms ? w : r->max_ms;
}

const char *
retry_over(const struct retry *r, long long fails, long long first_fail,
    long long now)
{
	if (r->forever)
		return NULL;
	if (r->times >= 0 && fails > r->times)
		return "--retry-max-times";
	if (first_fail && now - first_fail > r->timeout_ms)
		return "--retry-timeout";
	return NULL;
}
