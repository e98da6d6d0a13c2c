/* timefmt_parse - reading a time in a compiled format */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "timefmt_int.h"

#define HAS(f) (1u << (f))
#define H_PM HAS(NFIELD)
#define H_EPOCH HAS(NFIELD + 1)
#define H_ZONE HAS(NFIELD + 2)

static const int field_lo[NFIELD] = { 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0 };
static const int field_hi[NFIELD] = {
	9999, 99, 99, 12, 31, 23, 12, 59, 60, 366, 9999
};

static const char *const months[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"
};

static const char *const wdays[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday"
};

/* The fields of one parse, valid where the bit in have is set. */
struct pst {
	int v[NFIELD];
	unsigned have;
	int pm;
	int eneg;
	const char *fs;		/* the digits of the fraction, if any */
	const char *fe;
	const char *ss;		/* the digits of the seconds, if any */
	const char *se;
	int nss;		/* seconds read */
	uint32_t nsec;
	int32_t off;
	int64_t epoch;
};

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && leap(y) ? 29 : dim[m - 1];
}

static const char *
scan_num(const struct pop *op, const char *s, const char *e, struct pst *st)
{
	const char *lim, *s0;
	int v = 0, max = op->max;

	if (op->space && s < e && *s == ' ') {
		s++;
		max--;
	}
	lim = e - s > max ? s + max : e;
	for (s0 = s; s < lim && ISDIGIT(*s); s++)
		v = v * 10 + (*s - '0');
	if (s - s0 < op->min || v < field_lo[op->field] ||
	    v > field_hi[op->field])
		return NULL;
	st->v[op->field] = v;
	st->have |= HAS(op->field);
	if (op->field == F_SEC) {
		st->ss = s0;
		st->se = s;
		st->nss++;
	}
	return s;
}

/* Reads 1 to max digits of a fraction of a second into nsec. */
static const char *
scan_frac(const char *s, const char *e, int max, uint32_t *nsec)
{
	const char *lim = e - s > max ? s + max : e, *s0 = s;
	uint32_t v = 0;

	for (; s < lim && ISDIGIT(*s); s++)
		v = v * 10 + (uint32_t)(*s - '0');
	if (s == s0)
		return NULL;
	*nsec = v * pow10[9 - (s - s0)];
	return s;
}

/* Reads a full or 3-letter name from names, case-insensitively. */
static const char *
scan_name(const char *s, const char *e, const char *const *names, int n,
    int *idx)
{
	size_t len;
	int i;

	if (e - s < 3)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strncasecmp(s, names[i], 3) != 0)
			continue;
		len = strlen(names[i]);
		*idx = i;
		if ((size_t)(e - s) >= len &&
		    strncasecmp(s, names[i], len) == 0)
			return s + len;
		return s + 3;
	}
	return NULL;
}

static const char *
scan_epoch(const char *s, const char *e, struct pst *st)
{
	const char *s0;
	int64_t v = 0;

	st->eneg = s < e && *s == '-';
	if (s < e && (*s == '-' || *s == '+'))
		s++;
	for (s0 = s; s < e && ISDIGIT(*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	if (s == s0 || v >= SEC_LIMIT)
		return NULL;
	st->epoch = st->eneg ? -v : v;
	st->have |= H_EPOCH;
	return s;
}

static const char *
scan_ampm(const char *s, const char *e, struct pst *st)
{
	int c;

	if (e - s < 2 || (s[1] != 'M' && s[1] != 'm'))
		return NULL;
	c = *s | 0x20;
	if (c != 'a' && c != 'p')
		return NULL;
	st->pm = c == 'p';
	st->have |= H_PM;
	return s + 2;
}

static const char *
scan_zname(const char *s, const char *e, struct pst *st)
{
	if (e - s >= 3 && (strncasecmp(s, "UTC", 3) == 0 ||
	    strncasecmp(s, "GMT", 3) == 0)) {
		st->off = 0;
		return s + 3;
	}
	return tf_scan_zone(s, e, &st->off);
}

static const char *
scan_op(const struct pop *op, const char *s, const char *e, struct pst *st)
{
	int i;

	switch (op->kind) {
	case P_WS:
		while (s < e && ISSPACE(*s))
			s++;
		return s;
	case P_NUM:
		return scan_num(op, s, e, st);
	case P_MONTH:
		if ((s = scan_name(s, e, months, 12, &i)) != NULL) {
			st->v[F_MON] = i + 1;
			st->have |= HAS(F_MON);
		}
		return s;
	case P_WDAY:
		return scan_name(s, e, wdays, 7, &i);
	case P_AMPM:
		return scan_ampm(s, e, st);
	case P_FRAC:
		st->fs = s;
		st->fe = scan_frac(s, e, op->max, &st->nsec);
		return st->fe;
	case P_EPOCH:
		return scan_epoch(s, e, st);
	case P_TSEP:
		return s < e && (*s == 'T' || *s == 't' || *s == ' ') ?
		    s + 1 : NULL;
	case P_OPTFRAC:
		if (s < e && (*s == '.' || *s == ',')) {
			st->fs = s + 1;
			st->fe = scan_frac(s + 1, e, 9, &st->nsec);
			return st->fe;
		}
		return s;
	case P_OPTZONE:
		if (s == e)
			return s;
		/* FALLTHROUGH */
	case P_ZONE:
	case P_ZNAME:
		s = op->kind == P_ZNAME ? scan_zname(s, e, st) :
		    tf_scan_zone(s, e, &st->off);
		st->have |= H_ZONE;
		return s;
	}
	return NULL;
}

static int
run(const struct timefmt *tf, const char *s, const char *e, struct pst *st)
{
	const struct pop *op, *end = tf->pop + tf->npop;
	size_t i;

	for (op = tf->pop; op < end; op++) {
		if (op->kind == P_LIT) {
			if ((size_t)(e - s) < op->len)
				return -1;
			/* Literals are short: a loop beats a memcmp call. */
			for (i = 0; i < op->len; i++)
				if (s[i] != op->lit[i])
					return -1;
			s += op->len;
		} else if ((s = scan_op(op, s, e, st)) == NULL)
			return -1;
	}
	return s == e ? 0 : -1;
}

/* The date and time now in the zone, for fields a format leaves out. */
static void
now_refresh(struct timefmt *tf, const struct pst *st)
{
	const int *v = st->v;
	unsigned h = st->have;
	int64_t key;
	struct tm tm;
	time_t t;

	/* Look again whenever the fields the text gave change. */
	key = (h & HAS(F_MON) ? v[F_MON] : 0) * 40 +
	    (h & HAS(F_MDAY) ? v[F_MDAY] : 0);
	key = key * 400 + (h & HAS(F_YDAY) ? v[F_YDAY] : 0);
	key = key * 30 + (h & HAS(F_HOUR) ? v[F_HOUR] + 1 : 0);
	if (tf->nvalid && key == tf->nkey)
		return;
	t = time(NULL);
	if (tf->local)
		localtime_r(&t, &tm);
	else {
		t += tf->off;
		gmtime_r(&t, &tm);
	}
	tf->now[0] = tm.tm_year + 1900;
	tf->now[1] = tm.tm_mon + 1;
	tf->now[2] = tm.tm_mday;
	tf->now[3] = tm.tm_hour;
	tf->now[4] = tm.tm_min;
	tf->now[5] = tm.tm_sec;
	tf->nkey = key;
	tf->nvalid = 1;
}

static int
yday_to_date(int y, int yday, int *mon, int *mday)
{
	int m;

	if (yday > (leap(y) ? 366 : 365))
		return -1;
	for (m = 1; yday > month_days(y, m); m++)
		yday -= month_days(y, m);
	*mon = m;
	*mday = yday;
	return 0;
}

/*
 * Leading fields the text leaves out come from the current time, the
 * rest default to the start of their range, as Ruby's Time.strptime does.
 */
static void
fill_missing(struct timefmt *tf, struct pst *st, int use_yday)
{
	static const unsigned char order[6] = {
		F_YEAR, F_MON, F_MDAY, F_HOUR, F_MIN, F_SEC
	};
	static const int dflt[6] = { 1970, 1, 1, 0, 0, 0 };
	unsigned h = st->have;
	int i, filling;

	if (use_yday)
		h |= HAS(F_MON) | HAS(F_MDAY);
	filling = !(h & HAS(F_YEAR));
	if (filling)
		now_refresh(tf, st);
	for (i = 0; i < 6; i++) {
		if (h & HAS(order[i])) {
			filling = 0;
			continue;
		}
		st->v[order[i]] = filling ? tf->now[i] : dflt[i];
	}
}

static int
resolve(struct timefmt *tf, struct pst *st)
{
	unsigned h = st->have;
	int *v = st->v, use_yday;

	if (h & HAS(F_YEAR2)) {
		v[F_YEAR] = h & HAS(F_CENT) ? v[F_CENT] * 100 + v[F_YEAR2] :
		    v[F_YEAR2] + (v[F_YEAR2] < 69 ? 2000 : 1900);
		h |= HAS(F_YEAR);
	} else if ((h & HAS(F_CENT)) && !(h & HAS(F_YEAR))) {
		v[F_YEAR] = v[F_CENT] * 100;
		h |= HAS(F_YEAR);
	}
	if (h & HAS(F_HOUR12)) {
		v[F_HOUR] = v[F_HOUR12];
		h |= HAS(F_HOUR);
	}
	if ((h & H_PM) && (h & HAS(F_HOUR)))
		v[F_HOUR] = v[F_HOUR] % 12 + (st->pm ? 12 : 0);
	use_yday = (h & HAS(F_YDAY)) &&
	    (h & (HAS(F_MON) | HAS(F_MDAY))) != (HAS(F_MON) | HAS(F_MDAY));
	st->have = h;
	fill_missing(tf, st, use_yday);
	if (use_yday && yday_to_date(v[F_YEAR], v[F_YDAY], &v[F_MON],
	    &v[F_MDAY]) < 0)
		return -1;
	return v[F_MDAY] <= month_days(v[F_YEAR], v[F_MON]) ? 0 : -1;
}

/* The UTC offset mktime(3) gives a local time; tm_isdst -1 lets it pick. */
static int
mktime_off(const int *v, int min, int sec, int32_t *off)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[F_YEAR] - 1900;
	tm.tm_mon = v[F_MON] - 1;
	tm.tm_mday = v[F_MDAY];
	tm.tm_hour = v[F_HOUR];
	tm.tm_min = min;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	tm.tm_wday = -1;
	t = mktime(&tm);
	if (t == (time_t)-1 && tm.tm_wday == -1)
		return -1;
	*off = (int32_t)(civil_secs(v[F_YEAR], v[F_MON], v[F_MDAY],
	    v[F_HOUR], min, sec) - (int64_t)t);
	return 0;
}

/*
 * The offset of local time is cached per hour of the local date.  An hour
 * whose start and end have different offsets (a change inside the hour)
 * asks mktime(3) for every line.
 */
static int
local_offset(struct timefmt *tf, int64_t days, const int *v, int32_t *off)
{
	int64_t key = days * 24 + v[F_HOUR];
	int32_t o0, o1;

	if (tf->hstate == 0 || key != tf->hkey) {
		if (mktime_off(v, 0, 0, &o0) < 0 ||
		    mktime_off(v, 59, 59, &o1) < 0)
			return -1;
		tf->hkey = key;
		tf->hoff = o0;
		tf->hstate = o0 == o1 ? 1 : 2;
	}
	if (tf->hstate == 1) {
		*off = tf->hoff;
		return 0;
	}
	return mktime_off(v, v[F_MIN], v[F_SEC], off);
}

static int64_t
cached_days(struct timefmt *tf, const int *v)
{
	int32_t key = (v[F_YEAR] * 16 + v[F_MON]) * 32 + v[F_MDAY];

	if (!tf->dvalid || key != tf->dkey) {
		tf->days = timefmt_days(v[F_YEAR], v[F_MON], v[F_MDAY]);
		tf->dkey = key;
		tf->dvalid = 1;
	}
	return tf->days;
}

static int
finish(struct timefmt *tf, struct pst *st, int64_t *sec, uint32_t *nsec)
{
	const int *v = st->v;
	int64_t days, t;
	int32_t off;

	if (st->have & H_EPOCH) {
		/* As in Ruby, %N adds to %s: "-1.25" is -1 + 0.25. */
		t = st->epoch;
	} else {
		if (resolve(tf, st) < 0)
			return -1;
		days = cached_days(tf, v);
		if (st->have & H_ZONE)
			off = st->off;
		else if (!tf->local)
			off = tf->off;
		else if (local_offset(tf, days, v, &off) < 0)
			return -1;
		t = days * 86400 + v[F_HOUR] * 3600 + v[F_MIN] * 60 +
		    v[F_SEC] - off;
	}
	*sec = t;
	*nsec = st->nsec;
	return 0;
}

/* "unixtime" and "float": [-]digits[.digits] */
static int
parse_number(const char *s, const char *e, int64_t *sec, uint32_t *nsec)
{
	struct pst st;
	const char *f;

	st.nsec = 0;
	if ((s = scan_epoch(s, e, &st)) == NULL)
		return -1;
	if (s < e && *s == '.') {
		if ((f = scan_frac(s + 1, e, 9, &st.nsec)) == NULL)
			return -1;
		for (s = f; s < e && ISDIGIT(*s); s++)
			continue;
	}
	if (s != e)
		return -1;
	*sec = st.epoch;
	if (st.eneg && st.nsec) {
		(*sec)--;
		st.nsec = 1000000000 - st.nsec;
	}
	*nsec = st.nsec;
	return 0;
}

/*
 * A line equal to the last one but for the digits of its fraction has the
 * same second: every operation but the fraction sees the same bytes, and
 * none tells one unconsumed digit from another.  When line_save found it
 * safe, the span that may differ starts at the seconds instead (two
 * digits, then text that is no digit, then the fraction): the second is
 * then the last one's moved by the difference of the two.
 */
static int
line_hit(const struct timefmt *tf, const char *s, size_t len, int64_t *sec,
    uint32_t *nsec)
{
	size_t i, f = tf->lf, n;
	uint32_t v = 0, c;
	int d = 0;

	if (!tf->lvalid || len != tf->llen ||
	    memcmp(s, tf->line, tf->lfs) != 0 || (tf->lfe < len &&
	    memcmp(s + tf->lfe, tf->line + tf->lfe, len - tf->lfe) != 0))
		return 0;
	/* line[f..lfe) is all digits (line_save): s's must be too */
	if (tf->lsm) {
		if (!ISDIGIT(s[tf->lfs]) || !ISDIGIT(s[tf->lfs + 1]))
			return 0;
		for (i = tf->lfs + 2; i < f; i++)
			if (s[i] != tf->line[i])
				return 0;
	} else {
		for (i = tf->lfs; i < f; i++)
			if (ISDIGIT(tf->line[i]) ? !ISDIGIT(s[i]) :
			    s[i] != tf->line[i])
				return 0;
	}
	for (i = f; i < tf->lfe; i++) {
		if ((c = (unsigned char)s[i] - (unsigned)'0') > 9)
			return 0;
		v = v * 10 + c;
	}
	if (f > tf->lfs) {      /* the seconds, then the fraction */
		d = (s[tf->lfs] - '0') * 10 + (s[tf->lfs + 1] - '0');
		if (d > 59)
			return 0;
		d -= (tf->line[tf->lfs] - '0') * 10 +
		    (tf->line[tf->lfs + 1] - '0');
	}
	n = tf->lfe - f;
	*nsec = v * pow10[9 - n];
	*sec = tf->lsec + d;
	return 1;
}

/*
 * Whether a line that differs from s only in its seconds (and fraction)
 * is the same second moved: seconds read once as two digits of 0 to 59,
 * right before text without digits and the fraction; no epoch (%s); and
 * an offset from UTC that stays the same all the hour.
 */
static int
seconds_move(const struct timefmt *tf, const struct pst *st)
{
	const char *p;

	if (st->nss != 1 || st->se - st->ss != 2 || !st->fs || !st->fe ||
	    st->se >= st->fs || st->v[F_SEC] > 59 || (st->have & H_EPOCH))
		return 0;
	for (p = st->se; p < st->fs; p++)
		if (ISDIGIT(*p))
			return 0;
	return (st->have & H_ZONE) || !tf->local || tf->hstate == 1;
}

static void
line_save(struct timefmt *tf, const char *s, size_t len,
    const struct pst *st, int64_t sec)
{
	size_t i;

	tf->lvalid = 0;
	if (len > sizeof tf->line || tf->nfracop > 1)
		return;
	memcpy(tf->line, s, len);
	tf->llen = len;
	tf->lfs = tf->lfe = len;
	if (st->fs && st->fe) {
		tf->lfs = (size_t)(st->fs - s);
		tf->lfe = (size_t)(st->fe - s);
		if (seconds_move(tf, st))
			tf->lfs = (size_t)(st->ss - s);
	}
	tf->lf = tf->lfs;
	for (i = tf->lfs; i < tf->lfe; i++)
		if (!ISDIGIT(tf->line[i]))
			tf->lf = i + 1;
	tf->lsm = tf->lf >= tf->lfs + 2 && ISDIGIT(tf->line[tf->lfs]) &&
	    ISDIGIT(tf->line[tf->lfs + 1]);
	for (i = tf->lfs + 2; tf->lsm && i < tf->lf; i++)
		if (ISDIGIT(tf->line[i]))
			tf->lsm = 0;
	tf->lsec = sec;
	tf->lvalid = 1;
}

int
timefmt_parse(struct timefmt *tf, const char *s, size_t len, int64_t *sec,
    uint32_t *nsec)
{
	struct pst st;

	if (tf->kind == TF_UNIX || tf->kind == TF_FLOAT)
		return parse_number(s, s + len, sec, nsec);
	if (line_hit(tf, s, len, sec, nsec))
		return 0;
	st.have = 0;
	st.nsec = 0;
	st.eneg = 0;
	st.fs = st.fe = NULL;
	st.ss = st.se = NULL;
	st.nss = 0;
	if (run(tf, s, s + len, &st) < 0 || finish(tf, &st, sec, nsec) < 0)
		return -1;
	line_save(tf, s, len, &st, *sec);
	return 0;
}
