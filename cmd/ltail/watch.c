/* watch - finding files: globs, inotify watches, scans */
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
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

static struct file *by_wd[NHASH];
static struct dir *dirs;
static size_t ndirs, dcap;

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

void
scan(void)
{
	const char *pat, *slash;
	glob_t g;
	size_t i, j;
	int r;

	files.gen++;
	for (i = 0; i < watch.npats; i++) {
		pat = watch.pats[i];
		r = glob(pat, 0, NULL, &g);
		for (j = 0; r == 0 && j < g.gl_pathc; j++)
			if (!excluded(g.gl_pathv[j]))
				add_path(g.gl_pathv[j],
				    !has_magic(pat, strlen(pat)));
		if (r == GLOB_NOMATCH && watch.startup &&
		    !has_magic(pat, strlen(pat))) {
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
	size_t i;

	for (i = 0; i < watch.npats; i++)
		if (fnmatch(watch.pat_base[i], name, FNM_PERIOD) == 0)
			return 1;
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
}
