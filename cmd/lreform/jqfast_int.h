/* jqfast_int.h - the plan jqfast_parse.c builds and jqfast.c runs */
#ifndef JQFAST_INT_H
#define JQFAST_INT_H

#include <stddef.h>

#include "buf.h"

#include "jqfast.h"

#define MAXKEYS 128             /* top-level pairs handled natively */
#define MAXNEST 64              /* pairs of a nested map re-encoded */
#define MAXDEPTH 32             /* nesting re-encoded */
#define MAXSEGS 16              /* keys in a path */
#define MAXNODES 64             /* nodes in a select condition */
#define MAXSTAGES 64

/* Kinds in jq's order (jv_cmp orders different kinds by it). */
enum kind { K_NULL, K_FALSE, K_TRUE, K_NUM, K_STR, K_ARR, K_OBJ };

/*
 * A value: raw msgpack bytes of the record, or a scalar.  origin is the
 * index of the top-level pair whose untouched value a raw value is (-1
 * when it is nested): libjq's output keeps such a value's bytes.
 */
struct val {
	int raw;
	enum kind kind;         /* !raw */
	double d;               /* K_NUM */
	const char *p;          /* raw bytes, or a string's bytes */
	size_t len;
	int scratch;            /* the string is at off in jf->scratch */
	size_t off;
	int origin;
};

struct seg {
	const char *k;
	size_t len;
};

struct path {
	struct seg seg[MAXSEGS];
	int nseg;               /* 0: `.` itself */
};

enum op { C_PATH, C_CONST, C_AND, C_OR, C_NOT, C_EQ, C_NE, C_LT, C_LE,
	C_GT, C_GE, C_TEST };

struct node {
	enum op op;
	int a, b;               /* operand nodes */
	struct path path;       /* C_PATH */
	struct val c;           /* C_CONST, C_TEST: the literal pattern */
};

/* An entry of an object construction: KEY: PATH or KEY: CONST. */
struct entry {
	struct seg key;
	int is_path;
	struct path path;
	struct val c;
};

enum stage_kind { S_ID, S_SET_CONST, S_SET_PATH, S_MOD, S_DEL, S_SELECT,
	S_OBJ };
enum fn { F_DOWN, F_UP, F_TOSTRING, F_LENGTH, F_TONUMBER };

struct stage {
	enum stage_kind kind;
	struct seg key;         /* S_SET_*, S_MOD */
	struct val c;           /* S_SET_CONST */
	struct path src;        /* S_SET_PATH */
	enum fn fn;             /* S_MOD */
	struct seg *dels;       /* S_DEL */
	int ndels;
	struct entry *ents;     /* S_OBJ */
	int nents;
	int cond;               /* S_SELECT: root node */
};

struct top {
	const char *pair, *k, *v;
	size_t pair_len, klen, vlen;
};

struct pair {
	const char *k;
	size_t klen;
	int top;                /* the record's pair of this key, or -1 */
	struct val v;
};

struct jqfast {
	char *text;             /* the program, owning constants' bytes */
	struct stage st[MAXSTAGES];
	int nst;
	struct node nodes[MAXNODES];
	int nnodes;
	struct top top[MAXKEYS];
	int ntop;
	struct pair *pairs;
	int npairs, cappairs;
	struct val vals[MAXKEYS];       /* values of a {...} */
	struct buf scratch;
};

/* 1 if the n bytes at p are valid UTF-8 (no overlongs, no surrogates). */
int jqfast_utf8_ok(const char *p, size_t n);

#endif
