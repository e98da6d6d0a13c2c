/*
 * timefmt_int - a compiled time format, shared by the files of timefmt
 * (timefmt.c: compiling; timefmt_parse.c, timefmt_format.c: running the
 * operations; timefmt_zone.c: the zone of a format, offsets in text).
 * Calls from one file to another have the prefix tf_.  Not for programs:
 * they see struct timefmt only through timefmt.h.
 */
#ifndef LKIT_TIMEFMT_INT_H
#define LKIT_TIMEFMT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "timefmt.h"

#define LINE_MAX_CACHED 96
/* Seconds beyond this are refused rather than risk overflow. */
#define SEC_LIMIT ((int64_t)1 << 56)

#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))
#define ISDIGIT(c) ((unsigned char)((c) - '0') <= 9)

enum tfkind { TF_STRF, TF_ISO, TF_UNIX, TF_FLOAT };

/* Numeric fields a parse can set; bit i of pst.have is field i. */
enum field {
	F_YEAR, F_YEAR2, F_CENT, F_MON, F_MDAY, F_HOUR, F_HOUR12, F_MIN,
	F_SEC, F_YDAY, F_IGN, NFIELD
};

/* Parse operations. */
enum pkind {
	P_LIT, P_WS, P_NUM, P_MONTH, P_WDAY, P_AMPM, P_FRAC, P_ZONE, P_ZNAME,
	P_EPOCH, P_TSEP, P_OPTFRAC, P_OPTZONE, P_EXPAND
};

struct pop {
	unsigned char kind;
	unsigned char field;	/* P_NUM */
	unsigned char min;	/* P_NUM: digits */
	unsigned char max;	/* P_NUM, P_FRAC: digits */
	unsigned char space;	/* P_NUM: may start with one space */
	const char *lit;	/* P_LIT: borrowed from spec or a constant */
	size_t len;
};

/* Format operations; O_STRF text goes through strftime(3). */
enum fkind { O_STRF, O_FRAC, O_ZONE, O_ZNAME, O_EPOCH };

struct fop {
	unsigned char kind;
	unsigned char arg;	/* O_FRAC: digits; O_ZONE: colon */
	char *fmt;		/* O_STRF: owned, ends with one extra space */
};

static const uint32_t pow10[10] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000
};

struct timefmt {
	enum tfkind kind;
	int local;		/* the process's local time (TZ) */
	int32_t off;		/* otherwise, seconds east of UTC */
	char *spec;		/* owned; P_LIT text points into it */
	struct pop *pop;
	size_t npop;
	size_t popcap;
	struct fop *fop;
	size_t nfop;
	size_t fopcap;
	size_t *fpos;		/* offset of each O_FRAC in cache */
	unsigned char *fwid;	/* its digits */
	size_t nfrac;
	/* parse: the last line, whose fraction digits may differ */
	int nfracop;		/* fraction conversions in the format */
	int lvalid;
	size_t llen;
	size_t lfs;
	size_t lfe;
	size_t lf;		/* past line[lfs..lfe)'s last non-digit */
	int lsm;		/* line[lfs..lf): two digits, then none */
	int64_t lsec;
	char line[LINE_MAX_CACHED];
	/* parse: the day number of the last date */
	int32_t dkey;
	int dvalid;
	int64_t days;
	/* parse: UTC offset of the last local hour; hstate 2 = mixed */
	int64_t hkey;
	int32_t hoff;
	int hstate;
	/* parse: the current date, for formats without a year */
	int64_t nkey;
	int nvalid;
	int now[6];
	/* format: the text of the last second */
	char *cache;
	size_t clen;
	size_t ccap;
	int64_t csec;
	int cvalid;
};

static inline int64_t
civil_secs(int y, int mon, int d, int h, int mi, int s)
{
	return timefmt_days(y, mon, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* timefmt_zone.c */
int tf_zone_setup(struct timefmt *tf, const char *tz, const char **err);
const char *tf_scan_zone(const char *s, const char *e, int32_t *off);

#endif
