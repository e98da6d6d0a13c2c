/* lout.h - what lout's files share: the options, the files, the marks */
#ifndef LOUT_H
#define LOUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "inject.h"
#include "stream.h"

enum format {
	F_STDOUT, F_JSON, F_LTSV, F_CSV, F_TSV, F_SINGLE, F_MSGPACK, F_OUT_FILE
};

#define MAX_OPEN_DEFAULT 64     /* --max-open-files */
#define MAX_OPEN_LIMIT 65536
#define HELD_MAX (16 << 20)     /* bytes the --path files hold in all */
#define PATH_CAP 4096           /* the longest file name */

/* The options (lout.c), set once before the first event. */
struct options {
	enum format format;
	const char *fields, *key, *time_format;
	struct inject inject;   /* --time-key, --tag-key, --time-type */
	const char *delim, *label_delim, *tz, *path, *tag;
	int gzip, time_type_set;
	size_t max_open;
};
extern struct options o;

/* Where each buffered event ends: a failed write is cut back to them. */
struct ends {
	size_t *at;
	size_t n, cap;
};

/* A file of --path while it is open, a free slot, or stdout. */
struct file {
	char *name;             /* NULL: a free slot */
	size_t name_len;
	uint32_t hash;
	int fd;
	struct buf b;
	struct ends e;
	size_t block;           /* bytes it gathers before a write */
	uint64_t since;         /* marks taken in when b last filled from 0 */
	uint64_t gen;           /* which opening (0: closed), for caches */
	struct file *hnext;     /* the next in its hash bucket */
	struct file *prev, *next;       /* open: the next less recently used;
					 * free: the next free slot */
};

extern struct file std;

/* lout.c: after a failure, writes out the rest, reports and exits */
_Noreturn void fail_exit(int code);
struct timefmt *compile_time(const char *spec);

/* format.c: each event's line (or msgpack), put in a file's buffer */
void format_setup(void);
void file_put(struct file *f, const struct event *ev);
void format_free(void);

/* files.c: stdout and the open files of --path, written in blocks */
extern uint64_t not_written;    /* events a failed write lost */
void files_init(void);
uint32_t name_hash(const char *s, size_t len);
struct file *files_get(const char *name, size_t len);
void files_touch(struct file *f);
int file_flush(struct file *f);
void files_flush(void);
int files_close(void);
uint64_t files_oldest(void);
void files_free(void);

/* marks.c: end-to-end marks, returned once their events are written */
void marks_on(void *arg, const char *p, size_t len);
void marks_settle(void);
void marks_stop(void);
uint64_t marks_seen(void);

/* path.c: the file of each event, from strftime and placeholders */
void path_setup(void);
struct file *path_file(const struct event *ev);
void path_stats(char *b, size_t cap);
void path_free(void);

#endif
