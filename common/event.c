/* event - writing events in Message mode */
#include <string.h>
#include <time.h>

#include "mp.h"
#include "stream.h"

void
event_put_time(struct buf *b, int64_t sec, uint32_t nsec)
{
	unsigned char *q;
	uint64_t v = (uint64_t)sec;
	int i;

	if (sec >= 0 && sec <= 0xffffffffLL) {
		/* mp_put_eventtime's bytes, written here: one call less */
		buf_reserve(b, 10);
		q = (unsigned char *)b->p + b->len;
		q[0] = 0xd7;
		q[1] = 0x00;
		v = v << 32 | nsec;     /* big-endian: one swapped store */
		q[2] = (unsigned char)(v >> 56);
		q[3] = (unsigned char)(v >> 48);
		q[4] = (unsigned char)(v >> 40);
		q[5] = (unsigned char)(v >> 32);
		q[6] = (unsigned char)(v >> 24);
		q[7] = (unsigned char)(v >> 16);
		q[8] = (unsigned char)(v >> 8);
		q[9] = (unsigned char)v;
		b->len += 10;
		return;
	}
	buf_reserve(b, 9);
	q = (unsigned char *)b->p + b->len;
	q[0] = 0xd3;
	for (i = 0; i < 8; i++)
		q[1 + i] = v >> (56 - 8 * i);
	b->len += 9;
}

void
event_write(struct out *o, const char *tag, size_t tag_len, int64_t sec,
    uint32_t nsec, const char *rec, size_t rec_len)
{
	struct buf *b = &o->b;

	buf_reserve(b, 1 + 5 + tag_len + 10 + rec_len);
	b->p[b->len++] = (char)0x93;
	mp_put_strhdr(b, tag_len);
	memcpy(b->p + b->len, tag, tag_len);
	b->len += tag_len;
	event_put_time(b, sec, nsec);
	memcpy(b->p + b->len, rec, rec_len);
	b->len += rec_len;
	out_check(o);
}

void
event_now(int64_t *sec, uint32_t *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = (uint32_t)ts.tv_nsec;
}
