/*
 * at.c: the one grammar of a point given on the command line (eval --at,
 * train --predict, explain --at, graph --at).
 *
 *     list    = item { "," item }
 *     item    = NAME [ "[" INT { "," INT } "]" ] "=" value
 *     value   = NUMBER [ "*" ] | array
 *     array   = "[" elem { "," elem } "]"        elem = NUMBER | array
 *
 * Spaces may stand around every token.  The names are the model's flat
 * element names, as the descriptor and the generated header spell them:
 * "w", "x[3]", "W[1,2]".  An item sets
 *   - one scalar or one element:  w=3, x[0]=1, M[1,2]=3;
 *   - a whole tensor from a nested list of its shape: x=[1,2,3],
 *     M=[[1,2],[3,4]], a [1, 1, 2, 2] kernel K=[[[[1,2],[3,4]]]];
 *   - every element of a tensor to one value, only when written so: w=3*.
 * A tensor's bare name with one number (w=3) is an error, never its first
 * element; so is anything set twice, a shape that differs, or a name the
 * model does not have.  NUMBER is what strtod reads (nan and inf too: eval
 * may be asked about them).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

#define AT_MAX_RANK 4 /* vectors, matrices, images [c, h, w], kernels [o, c, h, w] */

/* A cursor over the list text. */
typedef struct cursor {
	const char *s;
	sg_error *err;
} cursor;

/* The names an item can set: inputs, then (when allowed) params. */
typedef struct names {
	int n[2];
	const char *const *name[2];
	double *val[2];
	char *set[2];
	const char *what; /* "input" or "input or parameter" */
} names;

static void skip_space(cursor *c)
{
	while (*c->s == ' ' || *c->s == '\t')
		c->s++;
}

static int expect(cursor *c, char ch)
{
	skip_space(c);
	if (*c->s != ch)
		return sg_errorf(c->err, "expected '%c' at '%.20s'", ch,
				 *c->s ? c->s : "the end");
	c->s++;
	return 0;
}

/* Reads a NUMBER into *v. */
static int read_number(cursor *c, double *v)
{
	char *end;

	skip_space(c);
	if (*c->s == '\0' || *c->s == ',' || *c->s == ']' || *c->s == '[')
		return sg_errorf(c->err, "expected a number at '%.20s'",
				 *c->s ? c->s : "the end");
	*v = strtod(c->s, &end);
	if (end == c->s)
		return sg_errorf(c->err, "'%.*s' is not a number",
				 (int)strcspn(c->s, ",]* \t"), c->s);
	c->s = end;
	return 0;
}

/* A growing list of numbers with the shape of the nested list read. */
typedef struct array {
	double *v;
	size_t n, cap;
	int rank;                 /* nesting depth, 1 to AT_MAX_RANK */
	size_t len[AT_MAX_RANK];  /* elements per level, the same everywhere */
} array;

static int push(array *a, double v, sg_error *err)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		double *p = realloc(a->v, cap * sizeof *p);
		if (!p)
			return sg_errorf(err, "out of memory");
		a->v = p;
		a->cap = cap;
	}
	a->v[a->n++] = v;
	return 0;
}

/* Reads an array at depth (0 = outermost) after its '[' is seen. */
static int read_array(cursor *c, array *a, int depth)
{
	size_t count = 0;

	if (expect(c, '[') < 0)
		return -1;
	for (;;) {
		skip_space(c);
		if (*c->s == '[') {
			if (depth + 1 >= AT_MAX_RANK)
				return sg_errorf(c->err, "lists nest at most %d deep",
						 AT_MAX_RANK);
			/* [1,[2,3]] would pass for a 2x2 shape with 3 numbers */
			if (a->rank == depth + 1)
				return sg_errorf(c->err, "a list where a number was expected");
			if (read_array(c, a, depth + 1) < 0)
				return -1;
		} else {
			double v;
			if (a->rank > depth + 1)
				return sg_errorf(c->err, "a number where a list was expected");
			if (read_number(c, &v) < 0 || push(a, v, c->err) < 0)
				return -1;
			a->rank = depth + 1;
		}
		count++;
		skip_space(c);
		if (*c->s == ']')
			break;
		if (expect(c, ',') < 0)
			return -1;
	}
	c->s++;
	if (a->len[depth] && a->len[depth] != count)
		return sg_errorf(c->err, "rows of different lengths (%zu and %zu)",
				 a->len[depth], count);
	a->len[depth] = count;
	return 0;
}

/* Reads NAME, then an optional "[i,j]" into idx; *rank = number given. */
static int read_target(cursor *c, char *name, size_t cap, long *idx, int *rank)
{
	size_t n = 0;

	skip_space(c);
	while (isalnum((unsigned char)c->s[n]) || c->s[n] == '_')
		n++;
	if (n == 0 || isdigit((unsigned char)c->s[0]))
		return sg_errorf(c->err, "expected NAME=VALUE at '%.20s'",
				 *c->s ? c->s : "the end");
	if (n >= cap)
		return sg_errorf(c->err, "name too long: '%.20s...'", c->s);
	memcpy(name, c->s, n);
	name[n] = '\0';
	c->s += n;
	*rank = 0;
	skip_space(c);
	if (*c->s != '[')
		return 0;
	c->s++;
	for (;;) {
		char *end;
		skip_space(c);
		errno = 0;
		long v = strtol(c->s, &end, 10);
		if (end == c->s || v < 0 || errno)
			return sg_errorf(c->err, "'%s[': expected an index at '%.20s'", name,
					 *c->s ? c->s : "the end");
		if (*rank == AT_MAX_RANK)
			return sg_errorf(c->err, "'%s': at most %d indices", name,
					 AT_MAX_RANK);
		idx[(*rank)++] = v;
		c->s = end;
		skip_space(c);
		if (*c->s == ']') {
			c->s++;
			return 0;
		}
		if (expect(c, ',') < 0)
			return -1;
	}
}

/* Finds the name exactly: *k (0 inputs, 1 params) and the index, or -1. */
static int find(const names *ns, const char *name, int *k)
{
	for (*k = 0; *k < 2; (*k)++)
		for (int i = 0; i < ns->n[*k]; i++)
			if (strcmp(ns->name[*k][i], name) == 0)
				return i;
	return -1;
}

/* The elements of tensor base ("W" for "W[0,0]".."W[1,2]"): the first
 * index and the count in list *k (they are consecutive, row-major), and
 * its shape from the last element's indices; count 0 when none. */
static int tensor_of(const names *ns, const char *base, int *k, int *first,
		     int *rank, long *shape)
{
	size_t bl = strlen(base);

	for (*k = 0; *k < 2; (*k)++) {
		int n = 0;
		*first = -1;
		for (int i = 0; i < ns->n[*k]; i++) {
			const char *s = ns->name[*k][i];
			if (strncmp(s, base, bl) || s[bl] != '[')
				continue;
			if (*first < 0)
				*first = i;
			n++;
		}
		if (!n)
			continue;
		const char *last = ns->name[*k][*first + n - 1] + bl + 1;
		for (*rank = 0; *rank < AT_MAX_RANK && *last != ']'; (*rank)++) {
			char *end;
			shape[*rank] = strtol(last, &end, 10) + 1;
			last = *end == ',' ? end + 1 : end;
		}
		return n;
	}
	return 0;
}

/* Levenshtein distance of a (n bytes) and b (m bytes, m < 64). */
static int edit_distance(const char *a, size_t n, const char *b, size_t m)
{
	int row[65];

	for (size_t j = 0; j <= m; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= m; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[m];
}

/* "the model has no WHAT 'name'", and " (did you mean 'x'?)" when a name of
 * the model (a tensor by its bare name) is close: the parser's rule, edit
 * distance at most 2, 1 for names of 2 or 3 characters, none for one. */
static int no_such_name(cursor *c, const names *ns, const char *name)
{
	size_t len = strlen(name), best_len = 0;
	int limit = len <= 1 ? 0 : len <= 3 ? 1 : 2, best_d = limit + 1;
	const char *best = NULL;

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < ns->n[k]; i++) {
			const char *s = ns->name[k][i];
			size_t m = strcspn(s, "[");
			if (m >= 64 || (m > len ? m - len : len - m) > (size_t)limit)
				continue;
			int d = edit_distance(name, len, s, m);
			if (d > 0 && d < best_d)
				best = s, best_len = m, best_d = d;
		}
	if (!best)
		return sg_errorf(c->err, "the model has no %s '%s'", ns->what, name);
	return sg_errorf(c->err, "the model has no %s '%s' (did you mean '%.*s'?)", ns->what,
			 name, (int)best_len, best);
}

/* Sets element i of list k to v, refusing a second value. */
static int set_one(const names *ns, int k, int i, double v, sg_error *err)
{
	if (ns->set[k][i])
		return sg_errorf(err, "'%s' given twice", ns->name[k][i]);
	ns->val[k][i] = v;
	ns->set[k][i] = 1;
	return 0;
}

/* Sets a whole tensor (or every element) of base from the value at c. */
static int set_tensor(cursor *c, const names *ns, const char *base)
{
	int k, first, rank = 0;
	long shape[AT_MAX_RANK] = {0};
	int n = tensor_of(ns, base, &k, &first, &rank, shape);
	array a = {0};
	double v;
	int rc = 0;

	if (!n)
		return no_such_name(c, ns, base);
	skip_space(c);
	if (*c->s != '[') {
		if (read_number(c, &v) < 0)
			return -1;
		skip_space(c);
		if (*c->s != '*')
			return sg_errorf(c->err, "'%s' is a tensor of %d elements: give "
					 "%s=[...], one element (%s=...), or %s=%.17g* "
					 "for every element", base, n, base,
					 ns->name[k][first], base, v);
		c->s++;
		for (int i = 0; i < n && rc == 0; i++)
			rc = set_one(ns, k, first + i, v, c->err);
		return rc;
	}
	if (read_array(c, &a, 0) < 0) {
		free(a.v);
		return -1;
	}
	int same = a.rank == rank;
	for (int d = 0; same && d < rank; d++)
		same = (long)a.len[d] == shape[d];
	if (!same) {
		char want[96] = "[", got[96] = "[";
		for (int d = 0; d < rank; d++)
			snprintf(want + strlen(want), sizeof want - strlen(want), d ? ", %ld" : "%ld",
				 shape[d]);
		for (int d = 0; d < a.rank; d++)
			snprintf(got + strlen(got), sizeof got - strlen(got), d ? ", %zu" : "%zu",
				 a.len[d]);
		strcat(want, "]");
		strcat(got, "]");
		rc = sg_errorf(c->err, "'%s' has shape %s, the list given has shape %s",
			       base, want, got);
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = set_one(ns, k, first + i, a.v[i], c->err);
	free(a.v);
	return rc;
}

/* Reads and applies one item. */
static int read_item(cursor *c, const names *ns)
{
	char name[128], full[192] = "";
	long idx[AT_MAX_RANK];
	int rank = 0, k = 0, i = 0;
	double v;

	if (read_target(c, name, sizeof name, idx, &rank) < 0 || expect(c, '=') < 0)
		return -1;
	if (rank == 0 && (i = find(ns, name, &k)) < 0)
		return set_tensor(c, ns, name);
	if (rank > 0) { /* "x[3]", "W[1,2]", "K[7,0,2,2]" */
		snprintf(full, sizeof full, "%s[%ld", name, idx[0]);
		for (int d = 1; d < rank; d++)
			snprintf(full + strlen(full), sizeof full - strlen(full), ",%ld", idx[d]);
		snprintf(full + strlen(full), sizeof full - strlen(full), "]");
	}
	if (rank > 0 && (i = find(ns, full, &k)) < 0)
		return sg_errorf(c->err, "the model has no %s '%s'", ns->what, full);
	skip_space(c);
	if (*c->s == '[')
		return sg_errorf(c->err, "'%s' is a scalar: give %s=NUMBER",
				 ns->name[k][i], ns->name[k][i]);
	if (read_number(c, &v) < 0)
		return -1;
	skip_space(c);
	if (*c->s == '*')
		c->s++; /* "every element" of one element is that element */
	return set_one(ns, k, i, v, c->err);
}

int sg_at_parse(const char *list, int n_in, const char *const *in_names, double *in,
		char *in_set, int n_par, const char *const *par_names, double *par,
		char *par_set, sg_error *err)
{
	names ns = {{n_in, par ? n_par : 0}, {in_names, par_names}, {in, par},
		    {in_set, par_set}, par ? "input or parameter" : "input"};
	cursor c = {list, err};

	for (;;) {
		if (read_item(&c, &ns) < 0)
			return -1;
		skip_space(&c);
		if (*c.s == '\0')
			return 0;
		if (expect(&c, ',') < 0)
			return -1;
	}
}
