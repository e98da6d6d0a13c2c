/* ml - --multiline-parser: container lines, stack traces, their groups */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "err.h"
#include "mp.h"
#include "rx.h"
#include "stream.h"

#include "ltail.h"
#include "ml.h"

/*
 * Lines go through two stages, as in Fluent Bit's tail input with
 * multiline.parser docker or cri followed by the multiline filter:
 *
 * 1. With docker or cri, a line of the runtime's log is decoded and the
 *    parts of a line the runtime cut (Docker's "log" without a newline,
 *    CRI's P tag) are joined, per stream (stdout, stderr) of the file.
 * 2. With stack trace rules (java, python, go, ruby, a rules file), the
 *    messages of stage 1 (or the lines themselves) that form a stack trace
 *    are joined to the one that starts it, per stream, by the state
 *    machine of the rules (ml.h).
 *
 * A group held is passed on when it is complete, when a line shows that
 * it is over, after --multiline-flush-interval without a line in the file,
 * at the end with --once, when the file is closed, at exit, and before it
 * would grow past --max-line-size (then counted as split).  The file's
 * position stays at the start of the oldest group held, so a restart reads
 * a group whole (and may pass on again the lines of other streams read
 * after that start).
 */

enum { K_TEXT, K_DOCKER, K_CRI };
#define NSTREAM 3               /* CONT_STDOUT, CONT_STDERR, CONT_OTHER */

/* A message being joined: lines of stage 1 or messages of stage 2. */
struct grp {
	struct buf text;        /* the message so far */
	struct buf head;        /* docker: its first map; cri: the time text */
	int kind;               /* K_TEXT, K_DOCKER, K_CRI */
	int on;                 /* holds a message */
	int sid;
	int complete;           /* ended by a whole line of the runtime */
	int64_t sec;            /* the event time: of its first part */
	uint32_t nsec;
	off_t start;            /* where its first line starts in the file */
	int rule;               /* stage 2: the rule matched last, or -1 */
};

/* A message passed from stage 1 to stage 2, or on to the output. */
struct piece {
	int kind, sid, complete;
	const char *text, *head;
	size_t len, hlen;
	int64_t sec;
	uint32_t nsec;
	off_t start;
};

struct mlfile {
	struct grp c[NSTREAM];  /* stage 1: container parts */
	struct grp s[NSTREAM];  /* stage 2: stack traces */
	off_t next;             /* where the next line starts */
};

#define KEEP_ML (64 * 1024)     /* message buffers larger are freed */

static struct buf dmp;          /* a docker line's object as msgpack */

static struct mlfile *
mls_get(struct file *f)
{
	int i;

	if (!f->mls) {
		f->mls = xcalloc(1, sizeof(*f->mls));
		f->mls->next = f->emitted;
		for (i = 0; i < NSTREAM; i++)
			f->mls->s[i].rule = -1;
	}
	return f->mls;
}

/*
 * Moves f's position to the start of its oldest group held, or past the
 * last line read if none is; notes whether the file holds a group.
 */
static void
settle(struct file *f)
{
	struct mlfile *m = f->mls;
	off_t hold = m->next;
	int i, n = 0;

	for (i = 0; i < NSTREAM; i++) {
		if (m->c[i].on && ++n && m->c[i].start < hold)
			hold = m->c[i].start;
		if (m->s[i].on && ++n && m->s[i].start < hold)
			hold = m->s[i].start;
	}
	if (n && !f->ml_on)
		files.nml++;
	else if (!n && f->ml_on)
		files.nml--;
	f->ml_on = n > 0;
	if (hold <= f->emitted)
		return;
	f->emitted = hold;
	e2e.unmarked = 1;
	if (!out.b.len && f->committed != hold) {
		f->committed = hold;
		pos.dirty = 1;
	}
}

/* --- events ------------------------------------------------------------ */

static inline void
put_str(struct buf *b, const char *s, size_t n)
{
	mp_put_strhdr(b, n);
	buf_put(b, s, n);
}

/* The pairs of a docker line's map, its first "log" string replaced. */
static void
docker_pairs(struct buf *b, const struct piece *pc)
{
	const char *p = pc->head, *end = pc->head + pc->hlen, *k, *v, *q;
	struct mp_obj mo, ko, vo;
	uint32_t i;
	int done = 0;

	mp_head(&p, end, &mo);          /* checked by cont_docker */
	mp_put_maphdr(b, mo.v.n + (o.path_key != NULL));
	for (i = 0; i < mo.v.n; i++) {
		k = p;
		mp_head(&p, end, &ko);
		v = q = p;
		mp_skip(&p, end, NULL);
		buf_put(b, k, v - k);
		if (!done && ko.len == 3 && memcmp(ko.data, "log", 3) == 0 &&
		    mp_head(&q, end, &vo) == MP_OK && vo.type == MP_STR) {
			put_str(b, pc->text, pc->len);
			done = 1;
		} else {
			buf_put(b, v, p - v);
		}
	}
}

/*
 * Writes the event of a message: {KEY: text} for lines, Fluent Bit's
 * records for container lines (docker: the members of the first line's
 * object, "log" the message; cri: time, stream, _p and log).
 */
static void
emit_piece(struct file *f, const struct piece *pc)
{
	struct buf *b = &out.b;
	int pk = o.path_key != NULL;

	buf_put(b, f->pre.p, f->pre.len);
	event_put_time(b, pc->sec, pc->nsec);
	if (pc->kind == K_DOCKER) {
		docker_pairs(b, pc);
	} else if (pc->kind == K_CRI) {
		mp_put_maphdr(b, 4 + pk);
		put_str(b, "time", 4);
		put_str(b, pc->head, pc->hlen);
		put_str(b, "stream", 6);
		put_str(b, pc->sid == CONT_STDERR ? "stderr" : "stdout", 6);
		put_str(b, "_p", 2);
		put_str(b, pc->complete ? "F" : "P", 1);
		put_str(b, "log", 3);
		put_str(b, pc->text, pc->len);
	} else {
		mp_put_maphdr(b, 1 + pk);
		put_str(b, o.key, strlen(o.key));
		put_str(b, pc->text, pc->len);
	}
	buf_put(b, f->post.p, f->post.len);
	event_done();
}

/* --- groups ------------------------------------------------------------ */

static void
grp_piece(const struct grp *g, struct piece *pc)
{
	pc->kind = g->kind;
	pc->sid = g->sid;
	pc->complete = g->complete;
	pc->text = g->text.p;
	pc->len = g->text.len;
	pc->head = g->head.p;
	pc->hlen = g->head.len;
	pc->sec = g->sec;
	pc->nsec = g->nsec;
	pc->start = g->start;
}

static void
grp_start(struct grp *g, const struct piece *pc)
{
	g->on = 1;
	g->kind = pc->kind;
	g->sid = pc->sid;
	g->complete = pc->complete;
	g->sec = pc->sec;
	g->nsec = pc->nsec;
	g->start = pc->start;
	g->head.len = g->text.len = 0;
	buf_put(&g->head, pc->head, pc->hlen);
	buf_put(&g->text, pc->text, pc->len);
}

static void
grp_reset(struct grp *g)
{
	g->on = 0;
	g->head.len = g->text.len = 0;
	if (g->text.cap > KEEP_ML)
		buf_free(&g->text);
}

static void
grp_free(struct grp *g)
{
	buf_free(&g->text);
	buf_free(&g->head);
}

/* The group held in v[0..NSTREAM) that starts first, or NULL. */
static struct grp *
oldest(struct grp *v)
{
	struct grp *g = NULL;
	int i;

	for (i = 0; i < NSTREAM; i++)
		if (v[i].on && (!g || v[i].start < g->start))
			g = &v[i];
	return g;
}

/* --- stage 2: stack traces --------------------------------------------- */

static void
s2_flush(struct file *f, struct grp *g)
{
	struct piece pc;

	if (!g->on)
		return;
	grp_piece(g, &pc);
	emit_piece(f, &pc);
	grp_reset(g);
}

/* The rule that continues the trace of g with pc, or -1. */
static int
s2_next(const struct grp *g, const struct piece *pc)
{
	const struct mlrule *r = o.mlp->rules;
	size_t i, n = o.mlp->nrules;
	int to;

	if (g->rule < 0 || (to = r[g->rule].to) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!r[i].start && (r[i].from >> to & 1) &&
		    rx_match(r[i].rx, pc->text, pc->len) == 1)
			return (int)i;
	return -1;
}

/* The rule by which pc starts a trace, or -1. */
static int
s2_first(const struct piece *pc)
{
	const struct mlrule *r = o.mlp->rules;
	size_t i, n = o.mlp->nrules;

	for (i = 0; i < n; i++)
		if (r[i].start && rx_match(r[i].rx, pc->text, pc->len) == 1)
			return (int)i;
	return -1;
}

/* Joins pc to the trace of g, as a line of it. */
static void
s2_join(struct file *f, struct grp *g, const struct piece *pc)
{
	size_t n = g->text.len;
	int sep = g->kind != K_DOCKER || (n && g->text.p[n - 1] != '\n');

	if (!g->on) {
		grp_start(g, pc);
		return;
	}
	if (n + sep + pc->len > o.max) {
		counts.split++;         /* the trace grew too long */
		s2_flush(f, g);
		grp_start(g, pc);
		return;
	}
	if (sep)
		buf_putc(&g->text, '\n');
	buf_put(&g->text, pc->text, pc->len);
	g->complete = pc->complete;
}

/* A message of stage 1 (or a line): joined to a trace, or passed on. */
static void
s2_take(struct file *f, const struct piece *pc)
{
	struct grp *g = &f->mls->s[pc->sid];
	int r;

	if (!o.mlp->nrules) {
		emit_piece(f, pc);
		return;
	}
	if (g->on && g->kind != pc->kind) {
		s2_flush(f, g);
		g->rule = -1;
	}
	if ((r = s2_next(g, pc)) >= 0) {
		s2_join(f, g, pc);
	} else if ((r = s2_first(pc)) >= 0) {
		s2_flush(f, g);
		grp_start(g, pc);
	} else {
		s2_flush(f, g);         /* the trace is over */
		g->rule = -1;
		emit_piece(f, pc);
		return;
	}
	g->rule = r;
	if (o.mlp->rules[r].ends)
		s2_flush(f, g);
}

/* --- stage 1: the parts of container lines ----------------------------- */

static void
s1_flush(struct file *f, struct grp *g)
{
	struct piece pc;

	if (!g->on)
		return;
	grp_piece(g, &pc);
	s2_take(f, &pc);
	grp_reset(g);
}

static void
s1_flush_all(struct file *f)
{
	struct grp *g;

	while ((g = oldest(f->mls->c)))
		s1_flush(f, g);
}

/* A line of the runtime's log, of kind k, starting at offset start. */
static void
s1_take(struct file *f, const struct cont_line *l, int k, off_t start)
{
	struct grp *g = &f->mls->c[l->sid];
	struct piece pc;

	if (g->on && (g->kind != k || g->text.len + l->mlen > o.max)) {
		if (g->kind == k)
			counts.split++;         /* the message grew too long */
		s1_flush(f, g);
	}
	if (!g->on) {
		pc.kind = k;
		pc.sid = l->sid;
		pc.complete = 0;
		pc.text = l->msg;
		pc.len = l->mlen;
		pc.head = k == K_DOCKER ? l->map : l->time;
		pc.hlen = k == K_DOCKER ? l->maplen : l->tlen;
		pc.sec = l->timed ? l->sec : batch_sec;
		pc.nsec = l->timed ? l->nsec : batch_nsec;
		pc.start = start;
		grp_start(g, &pc);
	} else {
		buf_put(&g->text, l->msg, l->mlen);
	}
	if (!l->partial) {
		g->complete = 1;
		s1_flush(f, g);
	}
}

/* Decodes a container line: its kind, or -1 if it is none. */
static int
decode(const char *p, size_t len, struct cont_line *l)
{
	const struct mlp *m = o.mlp;
	const char *why;

	if (m->cri && m->cri_first && cont_cri(p, len, l, &why) == 0)
		return K_CRI;
	if (m->docker && cont_docker(p, len, &dmp, l, &why) == 0)
		return K_DOCKER;
	if (m->cri && !m->cri_first && cont_cri(p, len, l, &why) == 0)
		return K_CRI;
	return -1;
}

/* --- the interface ----------------------------------------------------- */

/* A whole line (no newline) of f, ending at offset end. */
void
mlp_line(struct file *f, const char *p, size_t len, off_t end)
{
	struct mlfile *m = mls_get(f);
	struct cont_line l;
	struct piece pc;
	int k = -1;

	if (o.mlp->docker || o.mlp->cri) {
		if ((k = decode(p, len, &l)) >= 0) {
			s1_take(f, &l, k, m->next);
		} else {
			counts.unparsed++;
			s1_flush_all(f);
		}
	}
	if (k < 0) {
		memset(&pc, 0, sizeof(pc));
		pc.kind = K_TEXT;
		pc.sid = CONT_OTHER;
		pc.text = p;
		pc.len = len;
		pc.sec = batch_sec;
		pc.nsec = batch_nsec;
		pc.start = m->next;
		s2_take(f, &pc);
	}
	m->next = end;
	f->ml_ms = batch_ms;
	settle(f);
}

/* A line of f that makes no event (skipped) ends at offset end. */
void
mlp_moved(struct file *f, off_t end)
{
	mls_get(f)->next = end;
	settle(f);
}

/* Passes on every group f holds. */
void
mlp_flush(struct file *f)
{
	struct grp *g;

	if (!f->mls)
		return;
	s1_flush_all(f);
	while ((g = oldest(f->mls->s)))
		s2_flush(f, g);
	settle(f);
}

/* f was truncated (and flushed): its lines start again at 0. */
void
mlp_truncated(struct file *f)
{
	if (f->mls)
		f->mls->next = 0;
}

void
mlp_close(struct file *f)
{
	int i;

	if (!f->mls)
		return;
	for (i = 0; i < NSTREAM; i++) {
		grp_free(&f->mls->c[i]);
		grp_free(&f->mls->s[i]);
	}
	free(f->mls);
	f->mls = NULL;
	buf_free(&dmp);
}
