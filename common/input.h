/* input - the options and the stdin reader every stream filter shares */
#ifndef LKIT_INPUT_H
#define LKIT_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "stream.h"

/* Option ids, clear of each program's own (OPT_LONG and up). */
enum { OPT_SKIP_INVALID = 0x1000, OPT_MAX_EVENT_SIZE, OPT_STATS };

#define OPT_INPUT \
	{ OPT_SKIP_INVALID, "skip-invalid", NULL, "skip bad input, count it " \
	    "and report at exit" }, \
	{ OPT_MAX_EVENT_SIZE, "max-event-size", "SIZE", "largest event " \
	    "accepted (default 64M)" }, \
	{ OPT_STATS, "stats", NULL, "print counters to stderr at exit" }

struct input {
	int skip;               /* --skip-invalid */
	int stats;              /* --stats */
	size_t max;             /* --max-event-size */
};

extern struct input input;

/*
 * Takes one of the OPT_INPUT options, or of OPT_METRICS (metrics.h);
 * returns 0 if id is not one.
 */
int input_opt(int id, const char *arg);

/*
 * A reader on fd with the input options; idle(arg), if given, runs before
 * it waits for input (flush output there).  Freed with reader_free.
 */
struct reader *input_reader(int fd, const char *name, void (*idle)(void *),
    void *arg);

/*
 * The reader of a filter, whose events go to o: as input_reader, o flushed
 * before it waits, and every mark passed on to o in stream order (after
 * the events written before it), so the filter needs no code for marks.
 * o is borrowed: it must outlive the reader.
 */
struct reader *input_filter_reader(int fd, const char *name, struct out *o);

/* Events the reader dropped: places skipped by --skip-invalid, nil records. */
uint64_t input_dropped(const struct reader *r);

/*
 * At exit: says on stderr what the reader skipped (bad bytes with
 * --skip-invalid, events whose record is nil).
 */
void input_report(const struct reader *r, const char *name);

/* At exit: the --stats line, if asked for. */
void input_stats(void);

/*
 * The end of a filter's run, once reader_next gave ret (READ_EOF, or the
 * error that stopped it): flushes o, says what the reader skipped, calls
 * report (the program's own warnings and exit status; NULL: EX_OK), says
 * what the read error was, and prints --stats, so a run that stopped on
 * bad data reports as much as one that ended.  Returns the exit status:
 * EX_SYS or EX_DATA for a read error, else report's.
 */
int filter_end(struct reader *r, int ret, struct out *o, int (*report)(void));

#endif
