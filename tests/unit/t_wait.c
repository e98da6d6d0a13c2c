/* t_wait - unit tests of common/wait.c: the stop signal's grace policy */
#include <signal.h>

#include "clock.h"
#include "sig.h"
#include "tap.h"
#include "wait.h"

int
main(void)
{
	struct waiter w = { 0 };
	long long now, g;

	ok(waiter_grace(&w, clock_ms()) == -1 && !w.stopping,
	    "no stop signal: no limit");
	sig_stop = SIGTERM;
	now = clock_ms();
	g = waiter_grace(&w, now);
	ok(w.stopping && w.stop_ms >= now, "a stop signal is noted");
	ok(g > 0 && g <= 500, "just stopped: half a second to wait "
	    "(%lld)", g);
	w.stop_ms = clock_ms() - 4800;
	g = waiter_grace(&w, clock_ms());
	ok(g > 0 && g <= 200, "reading all along: what is left of five "
	    "seconds (%lld)", g);
	w.stop_ms = clock_ms() - 1000;
	g = waiter_grace(&w, clock_ms() - 300);
	ok(g > 0 && g <= 200, "idle for 300 ms: 200 ms more (%lld)", g);
	ok(waiter_grace(&w, clock_ms() - 600) == 0,
	    "idle for 600 ms: the input has ended");
	ok(waiter_grace(&w, w.stop_ms - 5000) == 0,
	    "nothing read since before the stop, a second ago: ended");
	w.stop_ms = clock_ms() - 5000;
	ok(waiter_grace(&w, clock_ms()) == 0,
	    "five seconds after the stop: ended, however busy");
	return done_testing();
}
