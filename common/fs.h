/* fs - writing whole buffers and making directories, as every program does */
#ifndef LKIT_FS_H
#define LKIT_FS_H

#include <stddef.h>

/*
 * Writes p[0..n) to fd, again after EINTR and short writes.  Returns the
 * bytes written: n, or fewer with errno set (EIO for a write of 0).  fd is
 * blocking: EAGAIN is an error here.
 */
size_t fs_write_all(int fd, const void *p, size_t n);

/*
 * Creates the directories above path, and path itself if self is set, each
 * with mode 0755; an existing one is fine.  0, or -1 with errno and the
 * path that failed in d (cap bytes; ENAMETOOLONG if path does not fit).
 */
int fs_mkdir_p(const char *path, int self, char *d, size_t cap);

#endif
