/* sink - what the delivery programs share: reading input, the stop deadline */
#include <errno.h>
#include <sys/types.h>

#include "clock.h"
#include "err.h"
#include "sig.h"
#include "sink.h"
#include "stream.h"

int
sink_read(struct reader *rd, const char *name, void (*add)(struct event *))
{
	struct event ev;
	ssize_t n;
	int r;

	n = reader_fill(rd);
	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		warn("unable to read %s:", name);
		return EX_SYS;
	}
	while ((r = reader_next_buffered(rd, &ev)) == READ_EVENT)
		add(&ev);
	if (r == READ_EOF)
		return 0;
	if (r == READ_AGAIN)
		return -1;
	warn("%s", reader_errmsg(rd));
	return r == READ_SYSERR ? EX_SYS : EX_DATA;
}

int
sink_go_on(struct sink_stop *s, long long grace_ms, void (*end)(int))
{
	if (sig_stop && !s->stopping) {
		s->stopping = 1;
		end(0);
		s->deadline = clock_ms() + grace_ms;
	}
	return !s->stopping || clock_ms() < s->deadline;
}
