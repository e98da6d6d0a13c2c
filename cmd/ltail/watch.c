/* watch - finding files: globs, inotify watches, scans */
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

#include "ltail.h"

#define WATCH_MASK (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | \
    IN_ONLYDIR)

struct dir {
	char *path;
	int wd;
};

struct watch watch = { .ifd = -1, .startup = 1 };

#define EXP_MAX 4096            /* paths one pattern's {,} may give */

static struct file *by_wd[NHASH];
static struct dir *dirs;
static size_t ndirs, dcap;
static char **exp;              /* the patterns as of the last scan */
static unsigned char *exp_lit;  /* ... naming one file, no glob */
static size_t nexp, expcap;

static struct file *
find_wd(int wd)
{
	struct file *f;

	for (f = by_wd[wd & (NHASH - 1)]; f; f = f->wd_next)
		if (f->wd == wd)
			return f;
	return NULL;
}

void
unhash_wd(struct file *f)
{
	struct file **pp;

	for (pp = &by_wd[f->wd & (NHASH - 1)]; *pp; pp = &(*pp)->wd_next)
		if (*pp == f) {
			*pp = f->wd_next;
			break;
		}
	f->wd = -1;
	files.npolled++;
}

/* Watches f with inotify, through /proc so it is this very file. */
void
watch_file(struct file *f)
{
	char proc[64];
	int wd = -1;

	if (watch.ifd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
		wd = inotify_add_watch(watch.ifd, proc, WATCH_MASK);
		if (wd < 0)
			wd = inotify_add_watch(watch.ifd, f->path, WATCH_MASK);
	}
	f->wd = wd;
	if (wd < 0) {
		files.npolled++;
		return;
	}
	f->wd_next = by_wd[wd & (NHASH - 1)];
	by_wd[wd & (NHASH - 1)] = f;
}

void
watch_dir(const char *path, size_t len)
{
	char *p;
	size_t i;
	int wd;

	if (watch.ifd < 0)
		return;
	p = len ? xstrndup(path, len) : xstrdup(".");
	for (i = 0; i < ndirs; i++)
		if (strcmp(dirs[i].path, p) == 0) {
			free(p);
			return;
		}
	wd = inotify_add_watch(watch.ifd, p, DIR_MASK);
	if (wd < 0) {
		free(p);
		return;
	}
	if (ndirs == dcap) {
		dcap = dcap ? 2 * dcap : 8;
		dirs = xrealloc(dirs, dcap * sizeof(*dirs));
	}
	dirs[ndirs].path = p;
	dirs[ndirs++].wd = wd;
}

static int
has_magic(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return 1;
	return 0;
}

static int
excluded(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	if (o.pos && is_pos(path, base))
		return 1;
	for (i = 0; i < o.nexclude; i++) {
		if (fnmatch(o.exclude[i], path, 0) == 0)
			return 1;
		if (!strchr(o.exclude[i], '/') &&
		    fnmatch(o.exclude[i], base, 0) == 0)
			return 1;
	}
	return 0;
}

static void
exp_add(char *p, int literal)
{
	if (nexp == expcap) {
		expcap = expcap ? 2 * expcap : 16;
		exp = xrealloc(exp, expcap * sizeof(*exp));
		exp_lit = xrealloc(exp_lit, expcap);
	}
	exp_lit[nexp] = literal;
	exp[nexp++] = p;
}

static void
exp_clear(void)
{
	size_t i;

	for (i = 0; i < nexp; i++)
		free(exp[i]);
	nexp = 0;
}

/*
 * The first {a,b} of s at or after from (a brace pair with a comma at its
 * own depth, not after a backslash): its braces at *open and *close.
 */
static int
brace_find(const char *s, size_t from, size_t *open, size_t *close)
{
	size_t i, j;
	int depth, comma;

	for (i = from; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1]) {
			i++;
			continue;
		}
		if (s[i] != '{')
			continue;
		depth = 0;
		comma = 0;
		for (j = i; s[j]; j++) {
			if (s[j] == '\\' && s[j + 1])
				j++;
			else if (s[j] == '{')
				depth++;
			else if (s[j] == ',' && depth == 1)
				comma = 1;
			else if (s[j] == '}' && --depth == 0)
				break;
		}
		if (s[j] == '}' && comma) {
			*open = i;
			*close = j;
			return 1;
		}
	}
	return 0;
}

/* Adds the paths of s with its {a,b} lists expanded, as the shell does. */
static void
brace_expand(const char *s, int literal, size_t limit)
{
	size_t open, close, a, i, len = strlen(s);
	int depth = 0;
	char *p;

	if (nexp >= limit)
		return;
	if (!brace_find(s, 0, &open, &close)) {
		exp_add(xstrdup(s), literal);
		return;
	}
	for (a = i = open + 1; i <= close; i++) {
		if (s[i] == '\\' && i < close) {
			i++;
			continue;
		}
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && i < close)
			depth--;
		if ((s[i] != ',' || depth) && i != close)
			continue;
		p = xmalloc(len + 1);
		memcpy(p, s, open);
		memcpy(p + open, s + a, i - a);
		strcpy(p + open + (i - a), s + close + 1);
		brace_expand(p, 0, limit);
		free(p);
		a = i + 1;
	}
}

/* pat with strftime's conversions of now (local time), or a copy. */
static char *
time_expand(const char *pat)
{
	struct tm tm;
	time_t now;
	size_t cap, n;
	char *b;

	if (!strchr(pat, '%'))
		return xstrdup(pat);
	now = time(NULL);
	localtime_r(&now, &tm);
	for (cap = strlen(pat) + 64;; cap *= 2) {
		b = xmalloc(cap);
		if ((n = strftime(b, cap, pat, &tm)) > 0 || cap > 65536)
			break;
		free(b);
	}
	b[n] = '\0';
	return b;
}

/* The paths given, expanded for this scan: strftime, then {a,b}. */
static void
expand(void)
{
	size_t i;
	char *t;

	exp_clear();
	for (i = 0; i < watch.npats; i++) {
		t = time_expand(watch.pats[i]);
		brace_expand(t, !has_magic(t, strlen(t)), nexp + EXP_MAX);
		free(t);
	}
}

void
scan(void)
{
	const char *pat, *slash;
	glob_t g;
	size_t i, j;
	int r;

	files.gen++;
	expand();
	for (i = 0; i < nexp; i++) {
		pat = exp[i];
		r = glob(pat, 0, NULL, &g);
		for (j = 0; r == 0 && j < g.gl_pathc; j++)
			if (!excluded(g.gl_pathv[j]))
				add_path(g.gl_pathv[j], exp_lit[i]);
		if (r == GLOB_NOMATCH && watch.startup && exp_lit[i]) {
			warn("%s: no such file%s", pat, o.once ? "" :
			    " (yet): watching for it");
			watch.missing = 1;
		}
		globfree(&g);
		slash = strrchr(pat, '/');
		j = slash ? (size_t)(slash - pat + (slash == pat)) : 0;
		if (!has_magic(pat, j))
			watch_dir(pat, j);
	}
	for (i = 0; i < files.n; i++)
		if (files.v[i]->gen != files.gen)
			check_name(files.v[i]);
}

static int
name_wanted(const char *name)
{
	const char *base;
	size_t i;

	for (i = 0; i < nexp; i++) {
		base = strrchr(exp[i], '/');
		if (fnmatch(base ? base + 1 : exp[i], name, FNM_PERIOD) == 0)
			return 1;
	}
	return 0;
}

static void
dir_event(size_t i, const struct inotify_event *ev)
{
	if (ev->mask & IN_IGNORED) {
		free(dirs[i].path);
		dirs[i] = dirs[--ndirs];
		return;
	}
	if (ev->len && name_wanted(ev->name))
		watch.rescan_now = 1;
}

static void
inotify_event(const struct inotify_event *ev)
{
	struct file *f;
	size_t i;

	if (ev->wd < 0) {
		for (i = 0; i < files.n; i++)
			files.v[i]->ready = files.v[i]->check = 1;
		watch.rescan_now = 1;
		return;
	}
	if ((f = find_wd(ev->wd))) {
		f->ready = 1;
		if (ev->mask & (IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF |
		    IN_IGNORED))
			f->check = 1;
		if (ev->mask & IN_IGNORED)
			unhash_wd(f);
		return;
	}
	for (i = 0; i < ndirs; i++)
		if (dirs[i].wd == ev->wd) {
			dir_event(i, ev);
			return;
		}
}

void
read_inotify(void)
{
	union {
		struct inotify_event ev;
		char b[16384];
	} u;
	const struct inotify_event *ev;
	ssize_t got;
	char *p;

	while ((got = read(watch.ifd, u.b, sizeof(u.b))) > 0) {
		for (p = u.b; p < u.b + got; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			inotify_event(ev);
		}
	}
}

/* Lets go of the directory watches (inotify goes with its descriptor). */
void
watch_free(void)
{
	size_t i;

	for (i = 0; i < ndirs; i++)
		free(dirs[i].path);
	free(dirs);
	exp_clear();
	free(exp);
	free(exp_lit);
}
