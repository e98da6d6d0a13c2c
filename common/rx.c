/* rx - PCRE2 wrapper: compile once, JIT, one match data reused */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rx.h"

struct rx {
	pcre2_code *code;
	pcre2_match_data *md;
	int jit;                /* JIT-compiled: match with pcre2_jit_match */
	size_t nnames;
	char **names;           /* by position */
	int *groups;            /* their group numbers */
};

static void
load_names(struct rx *rx)
{
	uint32_t count = 0, size = 0, i;
	PCRE2_SPTR table;

	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMETABLE, &table);
	rx->names = xcalloc(count ? count : 1, sizeof(*rx->names));
	rx->groups = xcalloc(count ? count : 1, sizeof(*rx->groups));
	for (i = 0; i < count; i++) {
		const unsigned char *e = table + (size_t)i * size;

		rx->groups[i] = e[0] << 8 | e[1];
		rx->names[i] = xstrdup((const char *)e + 2);
	}
	rx->nnames = count;
	/* the name table is sorted by name: order by group number */
	for (i = 1; i < count; i++) {
		uint32_t j = i;

		while (j > 0 && rx->groups[j - 1] > rx->groups[j]) {
			int g = rx->groups[j];
			char *n = rx->names[j];

			rx->groups[j] = rx->groups[j - 1];
			rx->names[j] = rx->names[j - 1];
			rx->groups[j - 1] = g;
			rx->names[j - 1] = n;
			j--;
		}
	}
}

struct rx *
rx_new(const char *pattern, int flags, char *err, size_t errcap)
{
	struct rx *rx;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;
	uint32_t opts = PCRE2_DUPNAMES;

	if (flags & RX_CASELESS)
		opts |= PCRE2_CASELESS;
	if (flags & RX_UTF)
		opts |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	if (flags & RX_WHOLE)
		opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
	rx = xcalloc(1, sizeof(*rx));
	rx->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    opts, &code, &off, NULL);
	if (!rx->code) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errcap, "%s at offset %zu", (char *)msg,
		    (size_t)off);
		free(rx);
		return NULL;
	}
	/* without JIT (an unsupported CPU), pcre2_match interprets */
	rx->jit = pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE) == 0;
	rx->md = pcre2_match_data_create_from_pattern(rx->code, NULL);
	if (!rx->md)
		die(EX_SYS, "out of memory");
	load_names(rx);
	return rx;
}

void
rx_free(struct rx *rx)
{
	size_t i;

	if (!rx)
		return;
	for (i = 0; i < rx->nnames; i++)
		free(rx->names[i]);
	free(rx->names);
	free(rx->groups);
	pcre2_match_data_free(rx->md);
	pcre2_code_free(rx->code);
	free(rx);
}

int
rx_match(struct rx *rx, const char *s, size_t len)
{
	int r = rx->jit ?
	    pcre2_jit_match(rx->code, (PCRE2_SPTR)s, len, 0, 0, rx->md, NULL) :
	    pcre2_match(rx->code, (PCRE2_SPTR)s, len, 0, 0, rx->md, NULL);

	if (r >= 0)
		return 1;
	return r == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

size_t
rx_names(const struct rx *rx)
{
	return rx->nnames;
}

const char *
rx_name(const struct rx *rx, size_t i)
{
	return rx->names[i];
}

int
rx_group(const struct rx *rx, size_t i, const char *s, const char **p,
    size_t *len)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rx->md);
	int g = rx->groups[i];

	if ((uint32_t)g >= pcre2_get_ovector_count(rx->md) ||
	    ov[2 * g] == PCRE2_UNSET)
		return -1;
	*p = s + ov[2 * g];
	*len = ov[2 * g + 1] - ov[2 * g];
	return 0;
}

const size_t *
rx_ovector(const struct rx *rx, const int **groups)
{
	*groups = rx->groups;
	return pcre2_get_ovector_pointer(rx->md);
}
