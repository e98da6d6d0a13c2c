/* timefmt - time parsing and formatting, strftime plus Fluentd's extensions */
#ifndef LKIT_TIMEFMT_H
#define LKIT_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

struct timefmt;

/*
 * Compiles a time format.  spec is "iso8601", "unixtime", "float", or a
 * strftime(3)-style format with Fluentd's %L (milliseconds), %N (9 digit
 * nanoseconds), %3N, %6N, %9N, and %z / %:z.  tz is NULL for local time
 * (the TZ environment), "UTC", a fixed offset "+09:00" / "-0530", or a
 * zone name such as "Asia/Tokyo" (which sets TZ for the whole process).
 * Returns NULL and a static message in *err on a bad spec or zone.
 */
struct timefmt *timefmt_new(const char *spec, const char *tz, const char **err);
void timefmt_free(struct timefmt *tf);

/*
 * Parses the text s[0..len) in the format; returns 0 and the time, or -1
 * if the text does not match.  Lines that share a second cost no libc
 * call: the zone offset is cached per hour.
 */
int timefmt_parse(struct timefmt *tf, const char *s, size_t len,
    int64_t *sec, uint32_t *nsec);

/* Days from 1970-01-01 to the date y-m-d (proleptic Gregorian). */
int64_t timefmt_days(int64_t y, int m, int d);

/*
 * Formats the time into out (no NUL is written); returns the length, or 0
 * if it does not fit in cap.  The text for a second is cached, so events
 * that share a second cost a copy and the sub-second digits.
 */
size_t timefmt_format(struct timefmt *tf, int64_t sec, uint32_t nsec,
    char *out, size_t cap);

#endif
