/* ltail.h - the state and the functions the files of ltail share */
#ifndef LTAIL_H
#define LTAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "stream.h"

struct gz;
struct mark_src;
struct mlfile;
struct mlp;
struct rx;
struct stat;

#define NHASH 4096              /* hash chains for inodes and watches */
#define WARN_MAX 10             /* long lines reported one by one */
#define MARK_MS 200             /* least time between two marks */
#define MARK_OUT 64             /* marks outstanding at most */

/* One followed file, or stdin.  Offsets are in the file. */
struct file {
	char *path;             /* its name now, as the glob gave it */
	struct buf pre;         /* event head: array of 3, the tag */
	struct buf post;        /* the --path-key pair, or nothing */
	dev_t dev;
	ino_t ino;
	int fd;
	int wd;                 /* inotify watch, or -1: polled */
	off_t off;              /* of the next byte read */
	off_t emitted;          /* past the last line passed on or skipped */
	off_t committed;        /* as emitted, of events written out */
	off_t acked;            /* --end-to-end: as emitted, of events
				 * delivered (a mark after them came back) */
	off_t snapped;          /* emitted as of the last mark */
	unsigned refs;          /* entries of marks outstanding naming it */
	struct buf part;        /* the line being read, incomplete */
	int skipping;           /* dropping the rest of a long line */
	int splitting;          /* cutting a long line into parts */
	struct buf ml;          /* the pending multiline message */
	struct mlfile *mls;     /* --multiline-parser: its groups (ml.c) */
	struct gz *gz;          /* gzip data: its inflating (gz.c) */
	int sniff;              /* found nearly empty: may turn out gzip */
	int ml_on;
	off_t ml_end;           /* past its last line */
	long long ml_ms;        /* when its last line came */
	int ready;              /* may have bytes to read */
	int check;              /* see whether its name still leads to it */
	int rotated;            /* its name no longer leads to it */
	long long rotated_ms;
	int is_stdin;
	int dead;               /* to be closed */
	unsigned gen;           /* the scan that last found it */
	struct file *ino_next, *wd_next;
};

/* The options (ltail.c), set before the first file is opened. */
struct options {
	const char *tag, *key, *path_key, *pos;
	char **exclude;
	size_t nexclude;
	int head, once, follow, poll, skip, stats, e2e;
	long long refresh_ms, rotate_ms, poll_ms, ml_ms, e2e_ms;
	long long ignore_ms;    /* --ignore-older, 0: none */
	const char *enc, *from_enc;     /* --encoding, --from-encoding */
	size_t max;
	const char *ml;
	struct rx *mlrx;        /* ml, compiled */
	const char *mlp_names;  /* --multiline-parser */
	const char *mlp_rules;  /* --multiline-rules */
	int ml_ms_set;          /* --multiline-flush-interval was given */
	struct mlp *mlp;        /* the parsers, ready (mlrules.c) */
	int plain;              /* a line is an event, as it is */
};
extern struct options o;
extern struct out out;          /* standard output (ltail.c) */

/* Counters for --stats and the warning at the end (ltail.c). */
struct counts {
	uint64_t skipped, split, rotations, truncations, warned;
	uint64_t unparsed;      /* not lines of the container format */
	uint64_t unconverted;   /* bytes --from-encoding could not convert */
};
extern struct counts counts;

/* The files followed (files.c). */
struct files {
	struct file **v;        /* in the order they were found */
	size_t n, cap;
	size_t nrotated;        /* of them, rotated away or deleted */
	size_t nml;             /* ... holding a multiline message */
	size_t npolled;         /* ... without an inotify watch */
	size_t nwatched;        /* ... open, but stdin */
	unsigned gen;           /* the scan that runs, or ran last */
	int kick;               /* a file was made ready outside reading */
};
extern struct files files;

/* What the paths given are, and how files are found (watch.c). */
struct watch {
	int ifd;                /* inotify, or -1 */
	char **pats;            /* the paths given, but - */
	size_t npats;
	int startup;            /* the first scan: say what is missing */
	int missing;            /* a path given was not found at start */
	int rescan_now;         /* look for new files now */
};
extern struct watch watch;

/* The position file (pos.c). */
struct pos {
	int dirty;              /* positions moved since the last save */
	long long last;         /* when they were saved last */
	int final;              /* the last save: warn of any failure */
};
extern struct pos pos;

/* --end-to-end (e2e.c). */
struct e2e {
	struct mark_src *msrc;  /* NULL without --end-to-end */
	int unmarked;           /* positions moved since the last mark */
	long long mark_ms;      /* when the last mark was put */
	struct file **retired;  /* closed, not yet delivered to the end */
	size_t nretired;
};
extern struct e2e e2e;

/* files.c: the file table, adding files, rotation, closing */
void tag_setup(void);
struct file *file_new(const char *path, int fd);
void file_close(struct file *f);
void file_free(struct file *f);
void sweep(void);
void add_path(const char *path, int literal);
void denied_free(void);
void check_name(struct file *f);

/* watch.c: inotify, globbing, scanning for files */
void unhash_wd(struct file *f);
void watch_file(struct file *f);
void watch_dir(const char *path, size_t len);
void scan(void);
void read_inotify(void);
void watch_free(void);

/* read.c: reading, lines, long lines, multiline messages, events */
extern int64_t batch_sec;       /* when the current batch was read */
extern uint32_t batch_nsec;
extern long long batch_ms;
void read_setup(void);
void read_free(void);
void commit_all(void);
void flush_out(void);
void batch_time(void);
void ml_flush(struct file *f);
void finish(struct file *f);
int read_file(struct file *f, size_t budget);
void feed(struct file *f, const char *p, size_t len);
off_t line_end(struct file *f, off_t size);
void event_done(void);

/* enc.c: --from-encoding */
void enc_setup(void);
void enc_line(struct file *f, const char **p, size_t *len);
void enc_free(void);

/* gz.c: files compressed with gzip */
int gz_magic(int fd);
void gz_open(struct file *f);
void gz_skip(struct file *f, off_t size);
off_t gz_pos(const struct file *f, off_t v);
int gz_sniff(struct file *f);
int gz_read(struct file *f, size_t budget);
void gz_finish(struct file *f);
void gz_close(struct file *f);

/* mlrules.c: the multiline parsers, built in or from a rules file */
void mlp_setup(void);
void mlp_free(void);

/* ml.c: --multiline-parser: container lines, stack traces, groups */
void mlp_line(struct file *f, const char *p, size_t len, off_t end);
void mlp_moved(struct file *f, off_t end);
void mlp_flush(struct file *f);
void mlp_truncated(struct file *f);
void mlp_close(struct file *f);

/* pos.c: the position file */
void pos_setup(void);
void pos_free(void);
void pos_forget(void);
int pos_save(void);
void pos_at_exit(void);
int is_pos(const char *path, const char *base);
off_t start_at(struct file *f, const struct stat *st);

/* e2e.c: --end-to-end marks and the positions they cover */
int e2e_keep(const struct file *f);
void retire(struct file *f);
void mark_maybe(int now_too);
void snap_drop(struct file *f);
void e2e_recv(void);
void e2e_free(void);
void e2e_warn(long long now);
long long e2e_deadline(long long now);
int e2e_finish(void);

#endif
