/* stats - counters line on stderr */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "sig.h"
#include "stats.h"

struct stats stats;
static void (*sync_fn)(void);
static void (*extra_fn)(char *, size_t);

void
stats_init(void (*sync)(void), void (*extra)(char *, size_t))
{
	sync_fn = sync;
	extra_fn = extra;
	sig_on_usr1(stats_print);
}

void
stats_sync(void)
{
	if (sync_fn)
		sync_fn();
}

void
stats_print(void)
{
	char more[512] = "";

	stats_sync();
	if (extra_fn)
		extra_fn(more, sizeof(more));
	warn("events in %llu, out %llu, dropped %llu, bytes in %llu, "
	    "out %llu%s", (unsigned long long)stats.in,
	    (unsigned long long)stats.out, (unsigned long long)stats.dropped,
	    (unsigned long long)stats.bytes_in,
	    (unsigned long long)stats.bytes_out, more);
}
