/* t_mark - end-to-end marks: the encoding, returns, the producer's socket */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mark.h"
#include "tap.h"

static const unsigned char id1[MARK_ID_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};

static void
test_encoding(void)
{
	struct buf b = { 0 };
	struct mark m;
	char want[64], big[MARK_PATH_MAX + 2];
	size_t n = 0;

	mark_put(&b, id1, 0x0102030405060708ULL, "/run/x/r");
	want[n++] = (char)0xc7;
	want[n++] = MARK_HEAD + 8;
	want[n++] = MARK_EXT;
	want[n++] = MARK_VERSION;
	memcpy(want + n, id1, MARK_ID_LEN);
	n += MARK_ID_LEN;
	memcpy(want + n, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	n += 8;
	memcpy(want + n, "/run/x/r", 8);
	n += 8;
	is_int(b.len, n, "a mark is 3 + 25 + path bytes");
	ok(b.len == n && memcmp(b.p, want, n) == 0, "ext8, type 108, version, "
	    "id, sequence big-endian, path");
	is_int(mark_parse(b.p, b.len, &m), 1, "it parses");
	ok(memcmp(m.id, id1, MARK_ID_LEN) == 0, "the id round-trips");
	ok(m.seq == 0x0102030405060708ULL, "the sequence round-trips");
	is_mem(m.path, m.path_len, "/run/x/r", 8, "the path round-trips");
	b.len = 0;
	memset(big, 'p', sizeof(big));
	big[0] = '/';
	big[MARK_PATH_MAX] = '\0';
	mark_put(&b, id1, 1, big);
	is_int(b.len, MARK_MAX, "a path of MARK_PATH_MAX bytes: MARK_MAX");
	is_int(mark_parse(b.p, b.len, &m), 1, "and it parses");
	b.p[1]++;
	buf_putc(&b, 'p');
	is_int(mark_parse(b.p, b.len, &m), -1, "a byte more is malformed");
	buf_free(&b);
}

/* A good mark in b, then one byte changed; mark_parse's answer. */
static int
parse_changed(size_t at, int byte)
{
	struct buf b = { 0 };
	struct mark m;
	int ret;

	mark_put(&b, id1, 7, "/tmp/a/r");
	b.p[at] = (char)byte;
	ret = mark_parse(b.p, b.len, &m);
	buf_free(&b);
	return ret;
}

static void
test_malformed(void)
{
	struct buf b = { 0 };
	struct mark m;
	char fix[18] = { (char)0xd8, MARK_EXT };

	is_int(parse_changed(3, 2), -1, "another version is malformed");
	is_int(parse_changed(3 + MARK_HEAD, 'a'), -1, "a relative path is "
	    "malformed");
	is_int(parse_changed(3 + MARK_HEAD + 2, 0), -1, "a NUL in the path "
	    "is malformed");
	is_int(parse_changed(2, 0), 0, "an ext of type 0 is no mark");
	mark_put(&b, id1, 0, "/tmp/a/r");
	is_int(mark_parse(b.p, b.len, &m), -1, "sequence 0 is malformed");
	is_int(mark_parse(fix, sizeof(fix), &m), -1, "fixext16 of type 108 "
	    "is malformed");
	b.len = 0;
	buf_put(&b, "\xc7\x19\x6c\x01", 4);     /* a payload of 25: no path */
	buf_put(&b, "0123456789abcdef\0\0\0\0\0\0\0\1", 24);
	is_int(mark_parse(b.p, b.len, &m), -1, "no path is malformed");
	b.len = 0;
	mark_put(&b, id1, 3, "/tmp/a/r");
	buf_putc(&b, 0);
	is_int(mark_parse(b.p, b.len, &m), -1, "bytes after it: malformed");
	is_int(mark_parse(b.p, b.len - 2, &m), 0, "a part of one is not one");
	is_int(mark_parse("\x93\xa1t\x01\x80", 5, &m), 0, "an event is none");
	is_int(mark_parse("", 0, &m), 0, "nothing is none");
	buf_free(&b);
}

static int
dir_of(const char *path, char *dir, size_t cap)
{
	const char *sl = strrchr(path, '/');

	if (!sl || (size_t)(sl - path) >= cap)
		return -1;
	memcpy(dir, path, sl - path);
	dir[sl - path] = '\0';
	return 0;
}

/* The path of s's marks, from one it makes. */
static void
src_path(struct mark_src *s, char *path, size_t cap, struct buf *b)
{
	struct mark m;

	b->len = 0;
	mark_src_put(s, b);
	mark_parse(b->p, b->len, &m);
	snprintf(path, cap, "%.*s", (int)m.path_len, m.path);
}

static void
test_place(const char *tmp)
{
	char err[256], path[256], dir[256], rel[256], cwd[256];
	struct buf b = { 0 };
	struct mark_src *s;
	struct stat st;
	size_t n;

	setenv("XDG_RUNTIME_DIR", "", 1);
	setenv("TMPDIR", tmp, 1);
	s = mark_src_new(4, err, sizeof(err));
	ok(s != NULL, "a producer in $TMPDIR");
	src_path(s, path, sizeof(path), &b);
	n = strlen(tmp);
	ok(strncmp(path, tmp, n) == 0 && strncmp(path + n, "/lkit-marks.", 12)
	    == 0, "its socket is in $TMPDIR/lkit-marks.*: %s", path);
	dir_of(path, dir, sizeof(dir));
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "the directory is private (0700)");
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "the socket is there");
	mark_src_free(s);
	ok(stat(path, &st) < 0 && stat(dir, &st) < 0 && errno == ENOENT,
	    "freeing removes the socket and its directory");

	/* an $XDG_RUNTIME_DIR too long for a socket path: $TMPDIR then */
	memset(dir, 'd', 120);
	memcpy(dir, "/tmp/", 5);
	dir[120] = '\0';
	setenv("XDG_RUNTIME_DIR", dir, 1);
	s = mark_src_new(4, err, sizeof(err));
	src_path(s, path, sizeof(path), &b);
	ok(strncmp(path, tmp, n) == 0, "a place too long is passed over");
	mark_src_free(s);

	/* a relative $TMPDIR: the path sinks get is still absolute */
	setenv("XDG_RUNTIME_DIR", "", 1);
	if (!getcwd(cwd, sizeof(cwd)) || chdir(tmp) < 0)
		abort();
	mkdir("sub", 0700);
	snprintf(rel, sizeof(rel), "sub");
	setenv("TMPDIR", rel, 1);
	s = mark_src_new(4, err, sizeof(err));
	src_path(s, path, sizeof(path), &b);
	ok(path[0] == '/' && strstr(path, "/sub/lkit-marks.") != NULL,
	    "a relative $TMPDIR gives an absolute path: %s", path);
	mark_src_free(s);
	rmdir("sub");
	if (chdir(cwd) < 0)
		abort();

	setenv("TMPDIR", "/nonexistent/x", 1);
	unsetenv("XDG_RUNTIME_DIR");
	s = mark_src_new(4, err, sizeof(err));
	src_path(s, path, sizeof(path), &b);
	ok(strncmp(path, "/tmp/lkit-marks.", 16) == 0, "else /tmp: %s", path);
	mark_src_free(s);
	setenv("TMPDIR", tmp, 1);
	buf_free(&b);
}

/* Sends raw bytes to the socket at path, as anyone could. */
static void
send_raw(const char *path, const void *p, size_t n)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (sendto(fd, p, n, 0, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		abort();
	close(fd);
}

static void
test_returns(void)
{
	struct buf m1 = { 0 }, m2 = { 0 }, m3 = { 0 }, f = { 0 };
	char err[256], path[256];
	struct mark_src *s = mark_src_new(2, err, sizeof(err));
	struct timespec ts = { 0, 30 * 1000000 };
	uint64_t sent, unsent, sent0, unsent0;
	struct mark m;

	ok(s != NULL && mark_src_fd(s) >= 0, "a producer with a socket");
	is_int(mark_src_waiting_ms(s), 0, "waiting_ms: 0 with none out");
	is_int(mark_src_recv(s), 0, "nothing returned yet");
	ok(mark_src_can_put(s), "a mark may be put");
	is_int(mark_src_put(s, &m1), 1, "the first mark is 1");
	ok(mark_src_can_put(s), "a second may be put (max 2)");
	is_int(mark_src_put(s, &m2), 2, "the second is 2");
	ok(!mark_src_can_put(s), "no third while two are out");
	is_int(mark_src_last(s), 2, "last made: 2");
	nanosleep(&ts, NULL);
	ok(mark_src_waiting_ms(s) >= 25, "waiting_ms counts from the oldest "
	    "out: %lld", mark_src_waiting_ms(s));
	mark_parse(m1.p, m1.len, &m);
	snprintf(path, sizeof(path), "%.*s", (int)m.path_len, m.path);

	/* what a stranger could send: all ignored */
	mark_put(&f, (const unsigned char *)"0123456789abcdef", 1, path);
	send_raw(path, f.p, f.len);
	f.len = 0;
	mark_put(&f, m.id, 5, path);
	send_raw(path, f.p, f.len);
	f.len = 0;
	mark_put(&f, m.id, 1, "/tmp/other/r");
	send_raw(path, f.p, f.len);
	send_raw(path, "garbage", 7);
	send_raw(path, m1.p, m1.len - 1);
	is_int(mark_src_recv(s), 0, "a wrong id, a sequence not made, another "
	    "path, garbage, a part: all ignored");
	ok(!mark_src_can_put(s), "still two out");

	mark_return_counts(&sent0, &unsent0);
	is_int(mark_return(m1.p, m1.len), 0, "mark_return sends mark 1");
	is_int(mark_src_recv(s), 1, "the producer sees 1 back");
	is_int(mark_src_done(s), 1, "done: 1");
	ok(mark_src_can_put(s), "one out: another may be put");
	is_int(mark_src_put(s, &m3), 3, "the third is 3");
	is_int(mark_return(m3.p, m3.len), 0, "mark 3 sent");
	is_int(mark_return(m2.p, m2.len), 0, "then mark 2, late");
	is_int(mark_src_recv(s), 3, "3 implies 2: done stays 3");
	is_int(mark_src_waiting_ms(s), 0, "waiting_ms: 0 when all are back");
	mark_return_counts(&sent, &unsent);
	is_int(sent - sent0, 3, "counted as sent");

	/* a producer gone: not sent, counted, never blocking */
	mark_src_free(s);
	is_int(mark_return(m1.p, m1.len), -1, "a return to a producer gone "
	    "fails");
	ok(errno == ENOENT || errno == ECONNREFUSED, "with ENOENT or "
	    "ECONNREFUSED: %s", strerror(errno));
	is_int(mark_return("garbage", 7), -1, "garbage is not sent");
	mark_return_counts(&sent, &unsent);
	is_int(unsent - unsent0, 2, "counted as not sent");
	buf_free(&m1);
	buf_free(&m2);
	buf_free(&m3);
	buf_free(&f);
}

int
main(void)
{
	char tmp[] = "/tmp/t_mark.XXXXXX";

	if (!mkdtemp(tmp))
		abort();
	test_encoding();
	test_malformed();
	test_place(tmp);
	test_returns();
	rmdir(tmp);
	return done_testing();
}
