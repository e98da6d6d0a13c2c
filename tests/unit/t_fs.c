/* t_fs - unit tests of common/fs.c: whole writes, directories with parents */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "tap.h"

static char top[] = "/tmp/t_fs.XXXXXX";

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
writes(void)
{
	static char big[1 << 20];
	char path[PATH_MAX], back[8];
	int fd, pfd[2];

	memset(big, 'x', sizeof(big));
	snprintf(path, sizeof(path), "%s/w", top);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fs_write_all(fd, big, sizeof(big)) == sizeof(big), "1 MiB written");
	ok(fs_write_all(fd, big, 0) == 0, "nothing to write");
	close(fd);
	ok(fs_write_all(fd, "abc", 3) == 0 && errno == EBADF,
	    "a closed fd: 0 bytes, errno kept");
	if (pipe(pfd) < 0)
		return;
	close(pfd[0]);
	ok(fs_write_all(pfd[1], "abc", 3) == 0 && errno == EPIPE,
	    "a pipe with no reader: EPIPE");
	close(pfd[1]);
	fd = open(path, O_RDONLY);
	ok(read(fd, back, 3) == 3 && memcmp(back, "xxx", 3) == 0,
	    "the bytes are there");
	close(fd);
}

static void
dirs(void)
{
	char path[PATH_MAX], d[PATH_MAX], tiny[8];

	snprintf(path, sizeof(path), "%s/a/b/c", top);
	ok(fs_mkdir_p(path, 1, d, sizeof(d)) == 0 && is_dir(path),
	    "path and its parents");
	ok(fs_mkdir_p(path, 1, d, sizeof(d)) == 0, "again: they exist");
	snprintf(path, sizeof(path), "%s/p/q/file.log", top);
	ok(fs_mkdir_p(path, 0, d, sizeof(d)) == 0 &&
	    is_dir(d) == 0 && access(path, F_OK) < 0,
	    "parents only: the last name is not made");
	snprintf(path, sizeof(path), "%s/p/q", top);
	ok(is_dir(path), "the parents are");
	snprintf(path, sizeof(path), "%s/w/x/y", top);
	ok(fs_mkdir_p(path, 1, d, sizeof(d)) < 0 && errno == ENOTDIR &&
	    strstr(d, "/w/x") != NULL && strstr(d, "/y") == NULL,
	    "a file in the way: ENOTDIR, the failing path named");
	ok(fs_mkdir_p("/a/long/path", 1, tiny, sizeof(tiny)) < 0 &&
	    errno == ENAMETOOLONG, "a path longer than the buffer");
}

int
main(void)
{
	char cmd[64];

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	writes();
	dirs();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		ok(0, "clean up %s", top);
	return done_testing();
}
