/* clock - the monotonic clock every program times its waits with */
#ifndef LKIT_CLOCK_H
#define LKIT_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: for intervals and deadlines only. */
long long clock_ms(void);

#endif
