/* wait - waiting for input under the stop signal's grace period */
#ifndef LKIT_WAIT_H
#define LKIT_WAIT_H

/* State of a wait that honours the stop signal's grace period. */
struct waiter {
	int stopping;
	long long stop_ms;      /* monotonic time the stop was seen */
	int out_fd;             /* watched for its reader leaving; 0: none */
};

/*
 * The stop signal's grace for the input, the one policy of every program:
 * once a stop signal came, the input counts as ended when nothing was read
 * for half a second (since last_ms, the last read, or the stop) or five
 * seconds have passed since the stop.  Notes a new stop in w.  Returns -1
 * while no stop came, 0 once the input has ended, else the milliseconds
 * left to wait for more.
 */
long long waiter_grace(struct waiter *w, long long last_ms);

/*
 * Has stream_wait watch out_fd too (the stream's output, if it is a pipe
 * or socket): when its reader goes away while the program waits for
 * input, the program exits 128 + SIGPIPE at once, as a write would have
 * made it, instead of living on until the next input.
 */
void waiter_watch_out(struct waiter *w, int out_fd);

/*
 * Waits until fd is readable, calling idle(arg) first if it would block
 * and servicing SIGUSR1/SIGHUP.  Returns 1 to read, or 0 once a stop
 * signal was seen and the input has been idle for half a second or five
 * seconds have passed since.
 */
int stream_wait(int fd, struct waiter *w, void (*idle)(void *), void *arg);

#endif
