/* clock - the monotonic clock every program times its waits with */
#include <time.h>

#include "clock.h"

long long
clock_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}
