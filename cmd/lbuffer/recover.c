/* recover - resume the chunks an earlier run left in --dir */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

#include "lbuffer.h"

/* Makes a recovered chunk from a data file and its meta. */
static struct chunk *
recovered(uint64_t id, int queued, const struct scan *s, double mtime)
{
	struct meta m = { .created = mtime };
	struct chunk *c;
	double created;

	if (store_meta_read(id, &m) < 0 && !lb.o.status)
		warn("chunk %016llx: no usable meta file; its chunk keys and "
		    "age are unknown", (unsigned long long)id);
	created = m.created;
	c = chunk_new(id, m.has_key ? m.key.p ? m.key.p : "" : NULL,
	    m.key.len);
	chunk_set_group(c, m.has_tkey, m.tkey, m.kv.p, m.kv.len);
	buf_free(&m.key);
	buf_free(&m.kv);
	if (!m.has_key)
		c->ntags = -1;
	c->state = queued ? C_QUEUED : C_OPEN;
	c->on_disk = 1;
	c->queued_name = queued;
	c->records = s->records;
	c->bytes = s->bytes;
	c->size = s->good_end;
	c->created = created;
	c->created_ms = clock_ms();
	lb.total_bytes += c->bytes;
	return c;
}

/* A torn chunk is cut back (V_OK), a corrupt one quarantined (V_CORRUPT). */
static int
recover_bad(uint64_t id, int queued, int fd, struct scan *s, int v)
{
	struct chunk *c;
	char p[PBUF], why[256];

	if (v == V_TORN) {
		store_path(p, lb.o.dir, id, queued ? "queued" : "open");
		warn("%s: torn last block cut at byte %llu (%s): %llu events "
		    "lost", p, (unsigned long long)s->good_end, s->why,
		    (unsigned long long)s->lost);
		lb.cnt.torn_lost += s->lost;
		if (ftruncate(fd, (off_t)s->good_end) == 0 &&
		    (lb.o.fsync == FS_NEVER || fsync(fd) == 0))
			return V_OK;
		snprintf(s->why, sizeof(s->why), "cannot be cut: %s",
		    strerror(errno));
	}
	c = recovered(id, queued, s, wall());
	snprintf(why, sizeof(why), "corrupt (%s; %llu events before it)",
	    s->why, (unsigned long long)s->records);
	job_quarantine(c, why);
	return V_CORRUPT;
}

/*
 * Resumes one chunk left by an earlier run (or, read-only, shows it).
 * Whatever it finds, it says so and goes on: never a reason not to start.
 */
static void
recover_one(uint64_t id, int queued)
{
	char p[PBUF], q[PBUF];
	struct stat st;
	struct scan s;
	struct chunk *c;
	int fd, v;

	store_path(p, lb.o.dir, id, queued ? "queued" : "open");
	if ((fd = open(p, (lb.o.status ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		warn("unable to open %s:%s", p, lb.o.status ? "" :
		    " left where it is");
		lb.cnt.quarantined_chunks += !lb.o.status;
		if (fd >= 0)
			close(fd);
		return;
	}
	v = store_scan(fd, (uint64_t)st.st_size, !lb.o.status, &s);
	if (v != V_OK && !lb.o.status)
		v = recover_bad(id, queued, fd, &s, v);
	close(fd);
	if (v == V_CORRUPT && !lb.o.status)
		return;
	if (s.records == 0 && !lb.o.status) {
		unlink(p);
		store_path(p, lb.o.dir, id, "meta");
		unlink(p);
		return;
	}
	c = recovered(id, queued, &s, (double)st.st_mtime);
	if (!queued && !lb.o.status) {
		store_path(q, lb.o.dir, id, "queued");
		if (rename(p, q) < 0)
			warn("unable to rename %s:", p);
		else
			c->queued_name = 1;
		c->state = C_QUEUED;
	}
	lb.cnt.recovered_chunks++;
	lb.cnt.recovered += c->records;
}

static int
cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The id and kind of a file name: 1 open, 2 queued, 3 meta, 4 temporary. */
static int
name_kind(const char *n, uint64_t *id)
{
	static const char *const ext[] = { ".open", ".queued", ".meta" };
	char *end;
	size_t i, l = strlen(n);

	if (l > 4 && strcmp(n + l - 4, ".tmp") == 0 &&
	    strncmp(n, "chunk-", 6) == 0)
		return 4;
	if (strncmp(n, "chunk-", 6) != 0 || l < 22)
		return 0;
	*id = strtoull(n + 6, &end, 16);
	if (end != n + 22)
		return 0;
	for (i = 0; i < 3; i++)
		if (strcmp(end, ext[i]) == 0)
			return (int)i + 1;
	return 0;
}

struct ids {
	uint64_t *v;
	size_t n, cap;
};

static void
ids_add(struct ids *a, uint64_t v)
{
	if (a->n == a->cap)
		a->v = xrealloc(a->v, (a->cap = a->cap ? a->cap * 2 : 64) *
		    sizeof(*a->v));
	a->v[a->n++] = v;
}

/* Lists DIR: data files (id << 1 | queued) and meta files, sorted. */
static void
list_dir(struct ids *data, struct ids *meta)
{
	struct dirent *e;
	char p[PBUF];
	uint64_t id;
	DIR *d;
	int k;

	if (!(d = opendir(lb.o.dir)))
		die(EX_SYS, "unable to open %s:", lb.o.dir);
	while ((e = readdir(d))) {
		k = name_kind(e->d_name, &id);
		snprintf(p, sizeof(p), "%s/%s", lb.o.dir, e->d_name);
		if (k == 4 && !lb.o.status)
			unlink(p);
		else if (k == 1 || k == 2)
			ids_add(data, id << 1 | (k == 2));
		else if (k == 3)
			ids_add(meta, id);
	}
	closedir(d);
	if (data->n)
		qsort(data->v, data->n, sizeof(*data->v), cmp_id);
	if (meta->n)
		qsort(meta->v, meta->n, sizeof(*meta->v), cmp_id);
}

/*
 * Resumes every chunk an earlier run left in DIR, oldest first, and
 * removes meta files whose data file is gone (a crash while committing).
 */
void
recover_dir(void)
{
	struct ids data = { 0 }, meta = { 0 };
	size_t i, j = 0;
	char p[PBUF];

	list_dir(&data, &meta);
	for (i = 0; i < data.n; i++) {
		if (data.v[i] >> 1 > lb.last_id)
			lb.last_id = data.v[i] >> 1;
		recover_one(data.v[i] >> 1, (int)(data.v[i] & 1));
	}
	for (i = 0; i < meta.n && !lb.o.status; i++) {
		while (j < data.n && data.v[j] >> 1 < meta.v[i])
			j++;
		if (j < data.n && data.v[j] >> 1 == meta.v[i])
			continue;
		store_path(p, lb.o.dir, meta.v[i], "meta");
		unlink(p);
	}
	free(data.v);
	free(meta.v);
}
