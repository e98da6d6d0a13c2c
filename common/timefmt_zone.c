/* timefmt_zone - the zone of a format (--timezone) and offsets in text */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "timefmt_int.h"

#define ZONEINFO "/usr/share/zoneinfo/"

/* Reads "Z", "+09", "+0900" or "+09:00". */
const char *
tf_scan_zone(const char *s, const char *e, int32_t *off)
{
	int h, m = 0, neg;

	if (s < e && (*s == 'Z' || *s == 'z')) {
		*off = 0;
		return s + 1;
	}
	if (e - s < 3 || (*s != '+' && *s != '-') || !ISDIGIT(s[1]) ||
	    !ISDIGIT(s[2]))
		return NULL;
	neg = *s == '-';
	h = (s[1] - '0') * 10 + (s[2] - '0');
	s += 3;
	if (s < e && *s == ':') {
		if (e - s < 3 || !ISDIGIT(s[1]) || !ISDIGIT(s[2]))
			return NULL;
		s++;
	}
	if (e - s >= 2 && ISDIGIT(s[0]) && ISDIGIT(s[1])) {
		m = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
	}
	if (h > 23 || m > 59)
		return NULL;
	*off = (h * 3600 + m * 60) * (neg ? -1 : 1);
	return s;
}

static int
zone_name_ok(const char *tz)
{
	char path[256];
	struct stat st;
	const char *p;

	if (*tz == '\0' || *tz == '/' || *tz == '.' ||
	    strlen(tz) > sizeof path - sizeof ZONEINFO)
		return 0;
	for (p = tz; *p; p++)
		if (*p == '.' && p[1] == '.')
			return 0;
	snprintf(path, sizeof path, "%s%s", ZONEINFO, tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
tf_zone_setup(struct timefmt *tf, const char *tz, const char **err)
{
	const char *e;

	if (tz == NULL) {
		tf->local = 1;
		tzset();
		return 0;
	}
	e = tz + strlen(tz);
	if (strcasecmp(tz, "UTC") == 0 || strcasecmp(tz, "GMT") == 0) {
		tf->off = 0;
		return 0;
	}
	if (*tz == '+' || *tz == '-' || strcasecmp(tz, "Z") == 0) {
		if (tf_scan_zone(tz, e, &tf->off) != e) {
			*err = "invalid time zone offset";
			return -1;
		}
		return 0;
	}
	if (!zone_name_ok(tz)) {
		*err = "unknown time zone";
		return -1;
	}
	if (setenv("TZ", tz, 1) < 0) {
		*err = "cannot set TZ";
		return -1;
	}
	tzset();
	tf->local = 1;
	return 0;
}
