/* wait - waiting for input under the stop signal's grace period */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "clock.h"
#include "metrics.h"
#include "sig.h"
#include "wait.h"

#define STOP_IDLE_MS 500
#define STOP_MAX_MS 5000

void
waiter_watch_out(struct waiter *w, int out_fd)
{
	struct stat st;

	if (fstat(out_fd, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)))
		w->out_fd = out_fd;
}

long long
waiter_grace(struct waiter *w, long long last_ms)
{
	long long now, since, left;

	if (sig_stop && !w->stopping) {
		w->stopping = 1;
		w->stop_ms = clock_ms();
	}
	if (!w->stopping)
		return -1;
	now = clock_ms();
	since = last_ms > w->stop_ms ? last_ms : w->stop_ms;
	left = STOP_MAX_MS - (now - w->stop_ms);
	if (STOP_IDLE_MS - (now - since) < left)
		left = STOP_IDLE_MS - (now - since);
	return left > 0 ? left : 0;
}

int
stream_wait(int fd, struct waiter *wt, void (*idle)(void *), void *arg)
{
	int timeout, w, mt, out = wt->out_fd > 0 ? wt->out_fd : -1;
	long long grace, due;

	for (;;) {
		metrics_tick();         /* at its interval, busy or idle */
		if ((grace = waiter_grace(wt, clock_ms())) == 0)
			return 0;
		timeout = (int)grace;
		if (idle) {
			w = sig_wait_out(fd, POLLIN, out, 0);
			if (w == 1)
				return 1;
			if (w == 0)
				idle(arg);
		}
		mt = 0;
		if ((due = metrics_due_ms()) >= 0 && (timeout < 0 ||
		    due < timeout)) {
			timeout = due > 86400000 ? 86400000 : (int)due;
			mt = 1;
		}
		w = sig_wait_out(fd, POLLIN, out, timeout);
		if (w == 2)
			exit(128 + SIGPIPE);    /* the reader went away: quietly */
		if (w == 1)
			return 1;
		if (w == 0 && mt)
			continue;
		if (w == 0)
			return 0;
		sig_service();
	}
}
