/* stats - the counters every program keeps, shown with --stats and on SIGUSR1 */
#ifndef LKIT_STATS_H
#define LKIT_STATS_H

#include <stdint.h>

struct stats {
	uint64_t in;            /* events read */
	uint64_t out;           /* events written */
	uint64_t dropped;       /* events dropped (counted, never silent) */
	uint64_t bytes_in;
	uint64_t bytes_out;
};

extern struct stats stats;

/*
 * Registers the SIGUSR1 hook.  sync, if not NULL, is called before each
 * report so the program can copy its counters into stats; extra, if not
 * NULL, appends program-specific counters (", name N") to the line.
 */
void stats_init(void (*sync)(void), void (*extra)(char *buf, size_t cap));

/* Calls the sync hook, if any, so stats holds the program's counts. */
void stats_sync(void);

/* Prints "PROG: events in N, out N, dropped N, bytes in N, out N". */
void stats_print(void);

#endif
