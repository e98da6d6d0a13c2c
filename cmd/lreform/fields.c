/* fields - lreform's edits: KEY=VALUE, --remove-keys, --keep-keys, --rename */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "recpath.h"

#include "lreform.h"

struct edits ed = { .tag_unit = -1 };

static void
add_name(const char *s, size_t len, int remove, int src, int dst)
{
	struct name *n;

	ed.names = xrealloc(ed.names, (ed.nnames + 1) * sizeof(*ed.names));
	n = &ed.names[ed.nnames++];
	n->s = s;
	n->len = len;
	n->remove = remove;
	n->src = src;
	n->dst = dst;
	ed.nremove_names += remove != 0;
	ed.bloom |= bloom_bit(s, len);
}

/* A KEY=VALUE operand. */
void
fields_add(const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct field *f;
	size_t i;

	if (!eq || eq == arg)
		die(EX_USAGE, "'%s' is not KEY=VALUE", arg);
	ed.fields = xrealloc(ed.fields, (ed.nfields + 1) * sizeof(*ed.fields));
	f = &ed.fields[ed.nfields++];
	memset(f, 0, sizeof(*f));
	f->arg = arg;
	f->key_unit = -1;
	tmpl_parse(&f->key, arg, eq - arg, arg);
	f->key.is_key = 1;
	if (f->key.nseg == 1 && f->key.seg[0].kind == PH_LIT) {
		f->kconst = arg;
		f->kconst_len = eq - arg;
		for (i = 0; i + 1 < ed.nfields; i++)
			if (ed.fields[i].kconst && ed.fields[i].kconst_len ==
			    f->kconst_len && memcmp(ed.fields[i].kconst, arg,
			    f->kconst_len) == 0)
				ed.fields[i].shadowed = 1;
	} else if (f->key.dyn) {
		ed.keys_vary = 1;
	} else {
		f->key_unit = (int)ed.nunits++;
		ed.keys_vary = 1;
	}
	tmpl_value_parse(&f->val, eq + 1, arg);
	if (!f->val.dyn)
		f->val.unit = (int)ed.nunits++;
}

#define ISSPACE(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))

/*
 * Splits a comma-separated list of field names (commas in quotes kept),
 * white space around each name trimmed as Fluentd trims the items of its
 * array parameters, empty names left out.  The names point into s; the
 * list is to free.
 */
static char **
split_names(char *s, size_t *n)
{
	char **v = NULL, q = 0, *start = s, *b, *e;

	*n = 0;
	for (;; s++) {
		if (q) {
			if (*s == q && s[1] == ']')
				q = 0;
			if (*s)
				continue;
		}
		if ((*s == '\'' || *s == '"') && s > start && s[-1] == '[') {
			q = *s;
			continue;
		}
		if (*s && *s != ',')
			continue;
		for (b = start; b < s && ISSPACE(*b); b++)
			continue;
		for (e = s; e > b && ISSPACE(e[-1]); e--)
			continue;
		if (e > b) {
			v = xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = b;
		}
		if (!*s)
			break;
		*s = '\0';
		*e = '\0';
		start = s + 1;
	}
	if (e > b)
		*e = '\0';
	return v;
}

static void
add_keep(const struct recpath *rp)
{
	ed.keeps = xrealloc(ed.keeps, (ed.nkeeps + 1) * sizeof(*ed.keeps));
	ed.keep_lens = xrealloc(ed.keep_lens, (ed.nkeeps + 1) *
	    sizeof(*ed.keep_lens));
	ed.keeps[ed.nkeeps] = rp->step[0].key;
	ed.keep_lens[ed.nkeeps++] = rp->step[0].len;
}

/* --remove-keys (keep 0) or --keep-keys (keep 1). */
void
fields_paths(const char *arg, int keep)
{
	char *s = xstrdup(arg), **list;
	const char *err;
	struct recpath rp;
	size_t n, i;

	list = split_names(s, &n);
	for (i = 0; i < n; i++) {
		if (recpath_parse(&rp, list[i], &err) < 0)
			die(EX_USAGE, "bad field name '%s': %s", list[i], err);
		if (keep && (rp.n != 1 || !rp.step[0].key))
			die(EX_USAGE, "--keep-keys takes top-level keys, not "
			    "'%s'", list[i]);
		ed.removes = xrealloc(ed.removes, (ed.nremoves + 1) *
		    sizeof(*ed.removes));
		ed.removes[ed.nremoves] = rp;
		if (keep) {
			add_keep(&rp);
			ed.removes[ed.nremoves].n = 0;
		} else if (rp.n == 1 && rp.step[0].key) {
			add_name(rp.step[0].key, rp.step[0].len, 1, -1, -1);
		}
		ed.nremoves++;
	}
	free(list);
	free(s);
	if (!n)
		die(EX_USAGE, "'%s' names no field", arg);
}

/* --rename OLD=NEW. */
void
fields_rename(const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct rename *r;

	if (!eq || eq == arg || !eq[1])
		die(EX_USAGE, "--rename '%s' is not OLD=NEW", arg);
	ed.renames = xrealloc(ed.renames, (ed.nrenames + 1) *
	    sizeof(*ed.renames));
	r = &ed.renames[ed.nrenames];
	r->old = arg;
	r->old_len = eq - arg;
	r->new = eq + 1;
	r->new_len = strlen(eq + 1);
	add_name(r->old, r->old_len, 0, (int)ed.nrenames, -1);
	add_name(r->new, r->new_len, 0, -1, (int)ed.nrenames);
	ed.nrenames++;
}

/* After the options: the tag, the time key's removal, nested removes. */
void
fields_setup(void)
{
	struct name *n;
	size_t i;

	if (o.tag) {
		tmpl_parse(&ed.tag, o.tag, strlen(o.tag), o.tag);
		ed.tag_set = 1;
		if (!ed.tag.dyn)
			ed.tag_unit = (int)ed.nunits++;
	}
	for (i = 0; o.renew_time_key && i < ed.nnames; i++) {
		n = &ed.names[i];
		if (n->remove && n->len == strlen(o.renew_time_key) &&
		    memcmp(n->s, o.renew_time_key, n->len) == 0) {
			n->remove = 0;
			ed.nremove_names--;
			ed.strip_time = 1;
		}
	}
	ed.nested = xcalloc(ed.nremoves + 1, sizeof(*ed.nested));
	for (i = 0; i < ed.nremoves; i++)
		if (ed.removes[i].n > 1 || (ed.removes[i].n == 1 &&
		    !ed.removes[i].step[0].key))
			ed.nested[ed.nnested++] = &ed.removes[i];
	ed.plain = !ed.nfields && !ed.nrenames && !ed.nremoves && !o.renew;
}

void
fields_free(void)
{
	size_t i;

	for (i = 0; i < ed.nfields; i++) {
		tmpl_free(&ed.fields[i].key);
		tmpl_value_free(&ed.fields[i].val);
	}
	free(ed.fields);
	for (i = 0; i < ed.nremoves; i++)
		recpath_free(&ed.removes[i]);
	free(ed.removes);
	free(ed.nested);
	free(ed.keeps);
	free(ed.keep_lens);
	free(ed.renames);
	free(ed.names);
	if (ed.tag_set)
		tmpl_free(&ed.tag);
}
