/* backoff - the wait before the next try after failures in a row */
#ifndef LKIT_BACKOFF_H
#define LKIT_BACKOFF_H

/*
 * The wait after the fails-th consecutive failure (1 for the first):
 * first, doubled each time, at most max.  lforward, lhttp and lsyslog
 * take first and max from --retry-wait and --retry-max-interval.
 */
static inline long long
backoff_ms(long long first, long long max, int fails)
{
	long long w = first;

	while (--fails > 0 && w < max)
		w *= 2;
	return w < max ? w : max;
}

#endif
