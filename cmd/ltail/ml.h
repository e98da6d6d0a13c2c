/* ml.h - the multiline parsers, as ml.c and mlrules.c share them */
#ifndef LTAIL_ML_H
#define LTAIL_ML_H

#include <stddef.h>
#include <stdint.h>

#define ML_STATES 64            /* states of all the parsers at most */

/*
 * A rule of a regex parser, as Fluent Bit's: in one of the states of from
 * (bit 0: start_state), a line that matches rx joins the group (or, in
 * start_state, begins one) and the state becomes to.
 */
struct mlrule {
	uint64_t from;
	int start;              /* from has start_state: begins a group */
	int to;                 /* the next state, -1 for none */
	int ends;               /* to may begin a group: the group ends here */
	struct rx *rx;
};

struct mlp {
	int docker, cri;        /* container lines: undo the runtime's cuts */
	int cri_first;          /* cri was named before docker */
	struct mlrule *rules;   /* the stack trace rules of every parser */
	size_t nrules;
};

#endif
