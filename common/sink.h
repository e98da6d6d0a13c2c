/* sink - what the delivery programs share: reading input, the stop deadline */
#ifndef LKIT_SINK_H
#define LKIT_SINK_H

struct event;
struct reader;

/*
 * One read of a sink's input rd (called name in messages), once poll
 * found it readable, and add(ev) for each event it completed.  Returns -1 while
 * more may come, else how the input ended: 0 at its end, EX_DATA at bad
 * data, EX_SYS when it could not be read (both said on stderr).
 */
int sink_read(struct reader *rd, const char *name,
    void (*add)(struct event *));

/*
 * A sink (lforward, lhttp, lsyslog) that gets a stop signal reads no more
 * input and has until a deadline (--shutdown-timeout) to deliver what it
 * holds; what is left then is given up.
 */
struct sink_stop {
	int stopping;           /* a stop signal came: deliver what is held */
	long long deadline;     /* until then (monotonic ms) */
};

/*
 * For the top of a sink's loop: whether it goes on.  The first time a
 * stop signal is seen it calls end(0) (the input ends there) and sets the
 * deadline grace_ms on; returns 0 once the deadline has passed, else 1.
 */
int sink_go_on(struct sink_stop *s, long long grace_ms, void (*end)(int));

#endif
