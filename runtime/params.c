/*
 * params.c: parameter files.
 *
 * The format is line-based text, one item per line, '\n' line ends:
 *
 *     # symgrad parameters            comment lines start with '#'
 *     symgrad-params 1                format name and version
 *     model linear                    the model's name (sg_model.name)
 *     w 1.0                           NAME VALUE, one line per parameter,
 *     b -0.25                         in model order, VALUE in Python repr
 *     checksum 0x95b3c6c3e0eb8f33     FNV-1a 64 of every byte above
 *
 * Values are written with sg_fmt_repr, the shortest text that strtod reads
 * back to the same double, so save/load round-trips exactly (a float
 * model's values are floats widened to double, so they round-trip too).
 * A reader accepts the parameter lines in any order, blank or comment
 * lines anywhere before the checksum, and CRLF line ends (read as LF, for
 * the checksum too); it rejects another version, another model, unknown,
 * duplicate or missing parameters, malformed or non-finite numbers (nan,
 * inf, 1e999) and a checksum that does not match (an edited or truncated
 * file).  Names are found through a hash table: loading is linear in the
 * number of parameters.  A NaN or infinite value is never saved.
 *
 * Saving goes through out.c like every file symgrad writes: atomically for
 * a regular file (on any failure the old file is untouched), in place for a
 * device or FIFO.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symgrad.h"

#define PARAMS_MAGIC "symgrad-params"
#define PARAMS_VERSION 1

/* A growable text buffer. */
typedef struct text {
	char *s;
	size_t len, cap;
} text;

/* Appends n bytes to t, keeping a NUL after them; -1 when out of memory. */
static int text_append(text *t, const char *data, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = 2 * (t->len + n + 1);
		char *s = realloc(t->s, cap);
		if (!s)
			return -1;
		t->s = s;
		t->cap = cap;
	}
	memcpy(t->s + t->len, data, n);
	t->len += n;
	t->s[t->len] = '\0';
	return 0;
}

/* Appends a formatted string (under 512 bytes) to t; -1 when out of
 * memory or too long. */
static int text_add(text *t, const char *fmt, ...) SG_PRINTF(2, 3);
static int text_add(text *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	return text_append(t, buf, (size_t)n);
}

/* Builds the whole file text for p into t; -1 when out of memory. */
static int params_text(text *t, const sg_model *m, const double *p)
{
	char num[SG_REPR_MAX];
	int i, rc = 0;

	rc |= text_add(t, "# symgrad parameters\n%s %d\nmodel %s\n",
		       PARAMS_MAGIC, PARAMS_VERSION, m->name);
	for (i = 0; i < m->n_params; i++) {
		sg_fmt_repr(num, sizeof num, p[i]);
		rc |= text_add(t, "%s %s\n", m->param_names[i], num);
	}
	if (rc == 0 && t->s)
		rc |= text_add(t, "checksum 0x%016llx\n",
			       (unsigned long long)sg_fnv1a(SG_FNV_INIT, t->s,
							    t->len));
	return rc ? -1 : 0;
}

/* Saves the n_params values p for model m to path atomically. */
int sg_params_save(const char *path, const sg_model *m, const double *p,
		   sg_error *err)
{
	text t = {NULL, 0, 0};
	int rc;

	for (int i = 0; i < m->n_params; i++)
		if (!isfinite(p[i]))
			return sg_errorf(err, "cannot save '%s': parameter '%s' is %s", path,
					 m->param_names[i], isnan(p[i]) ? "NaN" : "infinite");
	if (params_text(&t, m, p) < 0)
		rc = sg_errorf(err, "out of memory");
	else
		rc = sg_write_file(path, t.s, t.len, err);
	free(t.s);
	return rc;
}

/* ---- loading ---- */

/* Loading state. */
typedef struct loader {
	const char *path;
	const sg_model *m;
	double *p;
	long *seen;     /* seen[i]: line that set parameter i, 0 if none */
	int *slot;      /* hash table of parameter indices by name, -1 empty */
	size_t n_slot;  /* a power of two, at least twice n_params */
	sg_error *err;
	long lineno;
	uint64_t hash;  /* FNV-1a of the lines before the current one */
	int state;      /* 0: want magic, 1: want model, 2: parameters */
} loader;

/* Reports "path:line: error: ..." for the current line. */
static int lfail(loader *l, const char *fmt, ...) SG_PRINTF(2, 3);
static int lfail(loader *l, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return sg_errorf(l->err, "%s:%ld: error: %s", l->path, l->lineno,
			 what);
}

/* Reads all of path into a NUL-terminated buffer; NULL with *err. */
static char *slurp(const char *path, size_t *len, sg_error *err)
{
	FILE *f = fopen(path, "rb");
	text t = {NULL, 0, 0};
	char chunk[4096];
	size_t n;

	if (!f) {
		sg_errorf(err, "%s: error: cannot open: %s", path,
			  strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (text_append(&t, chunk, n) < 0)
			break;
	if (ferror(f) || !feof(f)) {
		sg_errorf(err, "%s: error: read failed", path);
		fclose(f);
		free(t.s);
		return NULL;
	}
	fclose(f);
	if (!t.s && text_append(&t, "", 0) < 0) {
		sg_errorf(err, "out of memory");
		return NULL;
	}
	*len = t.len;
	return t.s;
}

/* Splits "KEY VALUE" (one space or more) in place; returns VALUE or NULL
 * when there is no value or more than two words. */
static char *split_kv(char *s)
{
	char *v = strpbrk(s, " \t");

	if (!v)
		return NULL;
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '\0' || strpbrk(v, " \t"))
		return NULL;
	return v;
}

/* Handles the header lines: format/version, then the model name. */
static int load_header(loader *l, char *key, char *val)
{
	if (l->state == 0) {
		if (!val || strcmp(key, PARAMS_MAGIC) != 0)
			return lfail(l, "not a symgrad parameter file");
		if (strcmp(val, "1") != 0)
			return lfail(l, "unsupported version '%s' (expected %d)",
				     val, PARAMS_VERSION);
		l->state = 1;
		return 0;
	}
	if (!val || strcmp(key, "model") != 0)
		return lfail(l, "expected 'model NAME'");
	if (strcmp(val, l->m->name) != 0)
		return lfail(l, "parameters are for model '%s', not '%s'", val,
			     l->m->name);
	l->state = 2;
	return 0;
}

/* Builds the name table, so loading is linear in the file; -1 when out of
 * memory.  (A model's names are distinct: the generator guarantees it.) */
static int index_names(loader *l)
{
	size_t n = 16;

	while (n < 2 * (size_t)l->m->n_params)
		n *= 2;
	if (!(l->slot = malloc(n * sizeof *l->slot)))
		return -1;
	l->n_slot = n;
	memset(l->slot, 0xff, n * sizeof *l->slot);
	for (int i = 0; i < l->m->n_params; i++) {
		const char *name = l->m->param_names[i];
		size_t h = (size_t)sg_fnv1a(SG_FNV_INIT, name, strlen(name));
		while (l->slot[h & (n - 1)] >= 0)
			h++;
		l->slot[h & (n - 1)] = i;
	}
	return 0;
}

/* The index of parameter name, or -1. */
static int find_param(const loader *l, const char *name)
{
	size_t h = (size_t)sg_fnv1a(SG_FNV_INIT, name, strlen(name));
	int i;

	for (; (i = l->slot[h & (l->n_slot - 1)]) >= 0; h++)
		if (strcmp(l->m->param_names[i], name) == 0)
			return i;
	return -1;
}

/* Handles a "NAME VALUE" parameter line. */
static int load_param(loader *l, char *key, char *val)
{
	char *end;
	int i;

	if (!val)
		return lfail(l, "expected 'NAME VALUE'");
	if ((i = find_param(l, key)) < 0)
		return lfail(l, "unknown parameter '%s' for model '%s'", key,
			     l->m->name);
	if (l->seen[i])
		return lfail(l, "duplicate parameter '%s' (first on line %ld)",
			     key, l->seen[i]);
	l->p[i] = strtod(val, &end);
	if (*end != '\0')
		return lfail(l, "bad number '%s' for parameter '%s'", val, key);
	if (!isfinite(l->p[i]))
		return lfail(l, "parameter '%s' is not a finite number: '%s'", key, val);
	l->seen[i] = l->lineno;
	return 0;
}

/* Handles the checksum line: the hash of the lines above must match, and
 * every parameter must have been set. */
static int load_checksum(loader *l, const char *val)
{
	unsigned long long want = (unsigned long long)l->hash;
	char *end;
	unsigned long long got;
	int i;

	if (!val || strncmp(val, "0x", 2) != 0)
		return lfail(l, "expected 'checksum 0xHEX'");
	got = strtoull(val + 2, &end, 16);
	if (*end != '\0' || end == val + 2)
		return lfail(l, "expected 'checksum 0xHEX'");
	if (got != want)
		return lfail(l, "checksum mismatch (file edited or truncated)");
	if (l->state != 2)
		return lfail(l, "checksum before the header");
	for (i = 0; i < l->m->n_params; i++)
		if (!l->seen[i])
			return lfail(l, "missing parameter '%s'",
				     l->m->param_names[i]);
	return 0;
}

/* Walks the lines of buf; -1 with *err on the first defect. */
static int load_lines(loader *l, char *buf, size_t len)
{
	char *s = buf, *end = buf + len, *nl, *val;

	l->hash = SG_FNV_INIT;
	for (l->lineno = 1; s < end; l->lineno++, s = nl + 1) {
		if (!(nl = memchr(s, '\n', (size_t)(end - s))))
			break;
		*nl = '\0';
		/* CRLF line ends (an editor's conversion) read as LF, checksum
		 * included: the values are what matters */
		if (nl > s && nl[-1] == '\r')
			nl[-1] = '\0';
		if (strncmp(s, "checksum ", 9) == 0) {
			if (load_checksum(l, split_kv(s)) < 0)
				return -1;
			if (nl + 1 == end)
				return 0;
			l->lineno++;
			return lfail(l, "text after the checksum line");
		}
		l->hash = sg_fnv1a(l->hash, s, strlen(s));
		l->hash = sg_fnv1a(l->hash, "\n", 1);
		if (*s == '#' || *s == '\0')
			continue;
		val = split_kv(s);
		if ((l->state < 2 ? load_header(l, s, val)
				  : load_param(l, s, val)) < 0)
			return -1;
	}
	return lfail(l, "missing checksum line (file truncated?)");
}

/* Loads a parameter file into p (n_params values). */
int sg_params_load(const char *path, const sg_model *m, double *p,
		   sg_error *err)
{
	loader l;
	size_t len;
	char *buf = slurp(path, &len, err);
	int rc;

	if (!buf)
		return -1;
	memset(&l, 0, sizeof l);
	l.path = path;
	l.m = m;
	l.err = err;
	l.p = p;
	l.seen = calloc((size_t)m->n_params + 1, sizeof *l.seen);
	if (!l.seen || index_names(&l) < 0)
		rc = sg_errorf(err, "out of memory");
	else if (memchr(buf, '\0', len))
		rc = sg_errorf(err, "%s: error: not a text file", path);
	else
		rc = load_lines(&l, buf, len);
	free(l.seen);
	free(l.slot);
	free(buf);
	return rc;
}
