/* t_marksink - a sink's mark queue: held until delivered, then returned */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "input.h"
#include "mark.h"
#include "marksink.h"
#include "sig.h"
#include "sink.h"
#include "stream.h"
#include "tap.h"

static struct marksink sk;
static struct mark_src *pa, *pb;

/* Puts the next mark of producer p into the sink with barrier bar. */
static void
put(struct mark_src *p, uint64_t bar)
{
	struct buf b = { 0 };

	mark_src_put(p, &b);
	marksink_put(&sk, b.p, b.len, bar);
	buf_free(&b);
}

static uint64_t
sent(void)
{
	uint64_t s, u;

	mark_return_counts(&s, &u);
	return s;
}

static void
reset(void)
{
	memset(&sk, 0, sizeof(sk));
}

/* A low-water mark of units (lhttp, lsyslog, lout). */
static void
test_low(void)
{
	uint64_t s0;

	reset();
	is_int(marksink_oldest_ms(&sk), -1, "oldest_ms: -1 when empty");
	put(pa, 2);
	put(pa, 5);
	is_int(marksink_count(&sk), 2, "two marks wait");
	ok(marksink_oldest_ms(&sk) >= 0, "oldest_ms once one waits");
	is_int(marksink_settle(&sk, 1), 0, "low 1: unit 1 not done");
	is_int(marksink_settle(&sk, 2), 0, "low 2: unit 2 not done");
	is_int(marksink_settle(&sk, 3), 1, "low 3: units 1-2 done: mark 1");
	is_int(mark_src_recv(pa), 1, "the producer got mark 1 back");
	is_int(marksink_settle(&sk, 6), 1, "low 6: mark 2 goes");
	is_int(mark_src_recv(pa), 2, "the producer got mark 2 back");
	put(pa, 5);
	is_int(marksink_settle(&sk, 0), 1, "no unit since the last mark: "
	    "ready at once");
	is_int(mark_src_recv(pa), 3, "mark 3 back");

	/* of a producer's marks ready together only the newest goes */
	s0 = sent();
	put(pa, 6);
	put(pb, 6);
	put(pa, 7);
	is_int(marksink_settle(&sk, 8), 3, "three ready together");
	is_int(sent() - s0, 2, "two returns: the other producer's and the "
	    "newest of the first");
	is_int(mark_src_recv(pa), 5, "producer A got its newest");
	is_int(mark_src_recv(pb), 1, "producer B got its mark");
	is_int(marksink_count(&sk), 0, "none waits");
}

/* Units reported one by one, in any order (lforward). */
static void
test_done(void)
{
	reset();
	put(pa, 3);                     /* mark 6: units 1-3 */
	marksink_done(&sk, 2);
	marksink_done(&sk, 1);
	is_int(marksink_settle(&sk, 0), 0, "unit 3 not done: it waits");
	marksink_done(&sk, 5);          /* after the newest barrier */
	put(pa, 5);                     /* mark 7: units 4-5, 5 done */
	marksink_done(&sk, 3);
	is_int(marksink_settle(&sk, 0), 1, "units 1-3 done: mark 6 goes");
	is_int(mark_src_recv(pa), 6, "mark 6 back");
	is_int(marksink_settle(&sk, 0), 0, "unit 4 not done: mark 7 waits");
	marksink_done(&sk, 4);
	is_int(marksink_settle(&sk, 0), 1, "then it goes");
	is_int(mark_src_recv(pa), 7, "mark 7 back");
}

/* A unit given up stops its mark and every later one, not earlier ones. */
static void
test_lost(void)
{
	reset();
	put(pa, 1);                     /* mark 8 */
	put(pa, 3);                     /* mark 9 */
	marksink_lost(&sk, 2);
	ok(marksink_off(&sk), "off once a unit is lost");
	is_int(marksink_count(&sk), 1, "the mark after the lost unit dropped");
	put(pa, 4);                     /* mark 10, never */
	is_int(marksink_count(&sk), 1, "no mark taken after a loss");
	marksink_done(&sk, 1);
	is_int(marksink_settle(&sk, 0), 1, "the mark before it still goes");
	is_int(mark_src_recv(pa), 8, "mark 8 back, not 9 or 10");

	reset();
	put(pa, 1);                     /* mark 11 */
	marksink_lost(&sk, 0);
	is_int(marksink_count(&sk), 1, "lost unit 0 (not yet made) keeps "
	    "every mark queued");
	is_int(marksink_settle(&sk, 2), 1, "which still goes");
	is_int(mark_src_recv(pa), 11, "mark 11 back");

	reset();
	put(pa, 1);                     /* mark 12 */
	marksink_stop(&sk);
	ok(marksink_off(&sk) && marksink_count(&sk) == 0, "stop: none waits");
	is_int(marksink_settle(&sk, 5), 0, "and none goes");
	put(pa, 1);                     /* mark 13 */
	is_int(marksink_count(&sk), 0, "nor is taken");
}

/* The queue is bounded; the oldest dropped, its units counted in the next. */
static void
test_full(void)
{
	char big[MARK_MAX + 1];
	uint64_t u;

	reset();
	for (u = 1; u <= MARKSINK_QUEUE + 1; u++)
		put(pa, u);             /* marks 14 .. 14 + QUEUE */
	is_int(marksink_count(&sk), MARKSINK_QUEUE, "full: the oldest dropped");
	marksink_done(&sk, 1);
	is_int(marksink_settle(&sk, 0), 0, "the next mark waits for the "
	    "dropped one's unit and its own");
	marksink_done(&sk, 2);
	is_int(marksink_settle(&sk, 0), 1, "then it goes");
	is_int(mark_src_recv(pa), 15, "mark 15 back (14 was dropped)");
	memset(big, 0, sizeof(big));
	marksink_put(&sk, big, sizeof(big), 999);
	is_int(marksink_count(&sk), MARKSINK_QUEUE - 1, "a value longer than "
	    "a mark is not taken");
}

static int ends, end_code = -1;

static void
on_end(int code)
{
	ends++;
	end_code = code;
}

/* A sink's loop under the stop signal: the input ends, then a deadline. */
static void
test_stop(void)
{
	struct sink_stop st = { 0 };

	ok(sink_go_on(&st, 0, on_end) && !st.stopping && ends == 0,
	    "no stop signal: go on, input not ended");
	sig_stop = 1;
	ok(sink_go_on(&st, 60000, on_end), "a stop: go on until the deadline");
	ok(st.stopping && ends == 1 && end_code == 0, "the input ended once, "
	    "as at its end");
	ok(sink_go_on(&st, 60000, on_end) && ends == 1, "not ended again");
	st.deadline = 0;
	ok(!sink_go_on(&st, 60000, on_end), "the deadline passed: stop");
	sig_stop = 0;
}

static int nadd;

static void
on_add(struct event *ev)
{
	(void)ev;
	nadd++;
}

/* One read of bytes p[0..len) then the pipe's end: what sink_read says. */
static int
read_once(const char *p, size_t len, int *events)
{
	struct reader *rd;
	int fd[2], r;

	if (pipe(fd) < 0)
		return -2;
	if (write(fd[1], p, len) != (ssize_t)len)
		return -2;
	close(fd[1]);
	rd = input_reader(fd[0], "test", NULL, NULL);
	nadd = 0;
	while ((r = sink_read(rd, "test", on_add)) < 0)
		;
	*events = nadd;
	reader_free(rd);
	close(fd[0]);
	return r;
}

/* A sink's input: its events, and how it ended. */
static void
test_read(void)
{
	int n;

	is_int(read_once("", 0, &n), 0, "an empty input: its end (0)");
	is_int(read_once("\x93\xa1t\x01\x80\x93\xa1t\x02\x80", 10, &n), 0,
	    "two events then the end: 0");
	is_int(n, 2, "both events added");
	is_int(read_once("\x93\xa1t\x01\x80\xc1", 6, &n), EX_DATA,
	    "bad data after an event: EX_DATA");
	is_int(n, 1, "the event before it added");
}

int
main(void)
{
	char err[256];

	pa = mark_src_new(1000, err, sizeof(err));
	pb = mark_src_new(1000, err, sizeof(err));
	ok(pa && pb, "two producers (%s)", pa && pb ? "ok" : err);
	if (!pa || !pb)
		return done_testing();
	test_low();
	test_done();
	test_lost();
	test_full();
	test_stop();
	test_read();
	mark_src_free(pa);
	mark_src_free(pb);
	return done_testing();
}
