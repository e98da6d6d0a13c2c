/* out - buffered output: big writes, EPIPE ends quietly */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "out.h"
#include "sig.h"

void
out_init(struct out *o, int fd, const char *name)
{
	o->fd = fd;
	o->name = name;
	o->b.p = NULL;
	o->b.len = o->b.cap = 0;
	buf_reserve(&o->b, OUT_BLOCK + 4096);
	o->bytes = 0;
}

void
out_free(struct out *o)
{
	buf_free(&o->b);
}

int
out_flush_try(struct out *o)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->b.len) {
		n = write(o->fd, o->b.p + off, o->b.len - off);
		if (n < 0) {
			if (errno == EINTR) {
				sig_service();
				continue;
			}
			/* keep what was not written, for a retry */
			o->b.len -= off;
			memmove(o->b.p, o->b.p + off, o->b.len);
			return -1;
		}
		off += n;
		o->bytes += n;
	}
	o->b.len = 0;
	return 0;
}

void
out_flush(struct out *o)
{
	if (out_flush_try(o) == 0)
		return;
	if (errno == EPIPE)
		exit(128 + SIGPIPE);
	die(EX_SYS, "unable to write %s:", o->name);
}

void
out_flush_cb(void *arg)
{
	struct out *o = arg;

	if (o->b.len)
		out_flush(o);
}
