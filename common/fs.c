/* fs - writing whole buffers and making directories, as every program does */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

size_t
fs_write_all(int fd, const void *p, size_t n)
{
	size_t off = 0;
	ssize_t w;

	while (off < n) {
		w = write(fd, (const char *)p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			break;
		}
		off += (size_t)w;
	}
	return off;
}

int
fs_mkdir_p(const char *path, int self, char *d, size_t cap)
{
	size_t len = strlen(path);
	char *s;

	if (len >= cap) {
		errno = ENAMETOOLONG;
		if (cap)
			*d = '\0';
		return -1;
	}
	memcpy(d, path, len + 1);
	for (s = d + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (self && mkdir(d, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}
