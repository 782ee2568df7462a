/*
 * share.c: a training table split across processes, each holding a
 * contiguous run of the global rows (its share), and the messages that
 * bring a process the rows it needs but does not hold.
 *
 * The global rows are those of one file in file order, or of the files of
 * a pattern (part-%d.csv) in file order: the same sequence for any number
 * of processes, so training over it (blocks of the step's rows, folded in
 * block order) gives the same bits for any number.  A process reads only
 * its share: of one file, the rows whose lines start in its 1/P of the
 * bytes (every process reads the first line too, for the header); of a
 * pattern, its run of the files.  Line numbers in messages are the file's:
 * each process counts the line ends in its bytes and learns how many come
 * before them from the others.
 *
 * Which rows a process needs changes from step to step (its blocks of the
 * step, or every row of a small step, in the epoch's order, shuffled or
 * not), and every process can work out what every other one needs, so no
 * process asks: in round k = 1 .. P - 1, process r sends process r + k
 * (mod P) the rows of its share that r + k needs, in the order r + k needs
 * them, while it receives from r - k the rows it needs from r - k.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "symgrad.h"

/* What one process tells all the others while reading: whether it
 * succeeded, and a count. */
typedef struct note {
	long long ok, n;
} note;

/* Every process's note, in all[0 .. size): one broadcast from each. */
static void tell_all(const sg_comm *c, note mine, note *all)
{
	for (int q = 0; q < c->size; q++) {
		if (q == c->rank)
			all[q] = mine;
		if (c->bcast(c->ctx, &all[q], sizeof all[q], q) < 0)
			sg_comm_fatal(c, "cannot exchange the data's counts");
	}
}

/* 0 when every note is ok; else -1, with *err emptied when this process
 * succeeded (the one that failed has the message). */
static int all_ok(const sg_comm *c, const note *all, sg_error *err)
{
	for (int q = 0; q < c->size; q++)
		if (!all[q].ok) {
			if (all[c->rank].ok && err)
				err->msg[0] = '\0';
			return -1;
		}
	return 0;
}

int sg_data_is_pattern(const char *path)
{
	int n = 0;

	for (const char *p = path; (p = strchr(p, '%')); p += 2) {
		if (p[1] == 'd')
			n++;
		else if (p[1] != '%')
			return 0;
	}
	return n == 1;
}

/* File i of the pattern (a fresh string), NULL when out of memory. */
static char *part_name(const char *pattern, int i)
{
	int n = snprintf(NULL, 0, pattern, i);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (s)
		snprintf(s, (size_t)n + 1, pattern, i);
	return s;
}

/* How many files of the pattern this process sees: part-0 .. up to the
 * first missing one, or up to its own (rank) when it sees that one. */
static long long count_parts(const char *pattern, int rank)
{
	struct stat st;
	long long n = 0;
	char *s;

	for (;; n++) {
		int ok = (s = part_name(pattern, (int)n)) && stat(s, &st) == 0;
		free(s);
		if (!ok)
			break;
	}
	if (n <= rank && (s = part_name(pattern, rank))) {
		if (stat(s, &st) == 0)
			n = rank + 1;
		free(s);
	}
	return n;
}

/* Appends the rows of b to a (file f of the pattern); -1 out of memory. */
static int append(sg_data *a, sg_data *b, int f)
{
	size_t nc = (size_t)a->n_cols, n = a->n_rows + b->n_rows;
	double *x = realloc(a->x, (n * nc + 1) * sizeof *x);
	long *l;
	int *p;

	if (x)
		a->x = x;
	l = realloc(a->line, (n + 1) * sizeof *l);
	if (l)
		a->line = l;
	p = realloc(a->part, (n + 1) * sizeof *p);
	if (p)
		a->part = p;
	if (!x || !l || !p)
		return -1;
	memcpy(a->x + a->n_rows * nc, b->x, b->n_rows * nc * sizeof *x);
	memcpy(a->line + a->n_rows, b->line, b->n_rows * sizeof *l);
	for (size_t i = a->n_rows; i < n; i++)
		a->part[i] = f;
	a->n_rows = n;
	return 0;
}

/* Reads files [f0, f1) of the pattern's nf into one table naming all nf
 * files; NULL with *err. */
static sg_data *read_parts(const char *pattern, const sg_model *m, int nf, int f0,
			   int f1, sg_error *err)
{
	sg_data *d = sg_data_new(0, m->n_inputs, pattern), *b;

	if (!d || !(d->parts = calloc((size_t)nf + 1, sizeof *d->parts)) ||
	    !(d->part = malloc(sizeof *d->part)))
		goto oom;
	for (; d->n_parts < nf; d->n_parts++)
		if (!(d->parts[d->n_parts] = part_name(pattern, d->n_parts)))
			goto oom;
	for (int f = f0; f < f1; f++) {
		if (!(b = sg_data_read_csv(d->parts[f], m, err)))
			return sg_data_free(d), NULL;
		int rc = append(d, b, f);
		sg_data_free(b);
		if (rc < 0)
			goto oom;
	}
	return d;
oom:
	sg_data_free(d);
	sg_errorf(err, "out of memory");
	return NULL;
}

/* One process's share of one file: the rows whose lines start in its 1/P
 * of the bytes; NULL with *err (emptied when another process failed). */
static sg_data *read_bytes(const char *path, const sg_model *m, const sg_comm *c,
			   sg_error *err)
{
	note all[c->size], mine = {1, 0};
	struct stat st;
	long long size = 0, from, to, q = c->rank, p = c->size;
	long before = 0;

	if (stat(path, &st) != 0)
		mine.ok = 0, sg_errorf(err, "%s: error: cannot open: %s", path, strerror(errno));
	else
		size = (long long)st.st_size;
	from = size / p * q + size % p * q / p;
	to = size / p * (q + 1) + size % p * (q + 1) / p;
	if (mine.ok && (mine.n = sg_data_count_lines(path, from, to, err)) < 0)
		mine.ok = 0;
	tell_all(c, mine, all);
	if (all_ok(c, all, err) < 0)
		return NULL;
	for (int r = 0; r < c->rank; r++)
		before += (long)all[r].n;
	return sg_data_read_range(path, m, from, to, before, err);
}

sg_data *sg_data_read_share(const char *path, const sg_model *m, const sg_comm *c,
			    sg_error *err)
{
	int pattern = sg_data_is_pattern(path), split = c && c->size > 1 && c->sendrecv;
	note all[split ? c->size : 1], mine = {1, 0};
	sg_data *d = NULL;
	long long nf = 0;

	if (!split && !pattern)
		return sg_data_read_csv(path, m, err);
	if (!split) {
		if ((nf = count_parts(path, 0)) == 0) {
			char *s = part_name(path, 0);
			sg_errorf(err, "%s: error: cannot open: %s (the first file of "
				  "--data %s)", s ? s : path, strerror(ENOENT), path);
			free(s);
			return NULL;
		}
		return read_parts(path, m, (int)nf, 0, (int)nf, err);
	}
	if (pattern) { /* the files every process agrees on */
		mine.n = count_parts(path, c->rank);
		tell_all(c, mine, all);
		for (int q = 0; q < c->size; q++)
			nf = all[q].n > nf ? all[q].n : nf;
		if (nf == 0) {
			if (c->rank != 0)
				err->msg[0] = '\0';
			else {
				char *s = part_name(path, 0);
				sg_errorf(err, "%s: error: cannot open: %s (the first file of "
					  "--data %s, on any rank)", s ? s : path,
					  strerror(ENOENT), path);
				free(s);
			}
			return NULL;
		}
		d = read_parts(path, m, (int)nf, (int)(nf * c->rank / c->size),
			       (int)(nf * (c->rank + 1) / c->size), err);
	} else
		d = read_bytes(path, m, c, err);
	/* the global rows: every process's count */
	mine.ok = d != NULL;
	mine.n = d ? (long long)d->n_rows : 0;
	if (d && !(d->offs = malloc(((size_t)c->size + 1) * sizeof *d->offs)))
		mine.ok = 0, sg_errorf(err, "out of memory");
	tell_all(c, mine, all);
	if (all_ok(c, all, err) < 0)
		return sg_data_free(d), NULL;
	d->shared = 1;
	d->n_ranks = c->size;
	d->offs[0] = 0;
	for (int q = 0; q < c->size; q++)
		d->offs[q + 1] = d->offs[q] + (size_t)all[q].n;
	d->offset = d->offs[c->rank];
	d->total = d->offs[c->size];
	if (d->total == 0) {
		if (c->rank != 0)
			err->msg[0] = '\0';
		else
			sg_errorf(err, "%s: error: no data rows", path);
		return sg_data_free(d), NULL;
	}
	return d;
}

sg_data *sg_data_part(const sg_data *d, size_t first, size_t n)
{
	size_t lo, hi;
	sg_data *s;

	if (!d->shared)
		return sg_data_slice(d, first, n);
	/* the local rows among the global ones wanted */
	lo = first > d->offset ? first - d->offset : 0;
	hi = first + n > d->offset ? first + n - d->offset : 0;
	lo = lo < d->n_rows ? lo : d->n_rows;
	hi = hi < d->n_rows ? hi : d->n_rows;
	hi = hi > lo ? hi : lo;
	if (!(s = sg_data_slice(d, lo, hi - lo)) ||
	    !(s->offs = malloc(((size_t)d->n_ranks + 1) * sizeof *s->offs)))
		return sg_data_free(s), NULL;
	s->shared = 1;
	s->n_ranks = d->n_ranks;
	for (int q = 0; q <= d->n_ranks; q++) {
		size_t o = d->offs[q];
		s->offs[q] = o < first ? 0 : o - first > n ? n : o - first;
	}
	s->offset = d->offset < first ? 0 : d->offset - first > n ? n : d->offset - first;
	s->total = n;
	return s;
}

/* The process holding global row i. */
static int holder(const sg_data *d, size_t i)
{
	int lo = 0, hi = d->n_ranks - 1;

	while (lo < hi) { /* the last q with offs[q] <= i */
		int mid = (lo + hi + 1) / 2;
		if (d->offs[mid] <= i)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void sg_share_gather(const sg_comm *c, const sg_data *d, const void *local,
		     size_t row_bytes, const size_t *const *ids, const size_t *counts,
		     void *out)
{
	const char *x = local;
	char *o = out, *sbuf = NULL, *rbuf = NULL;
	const size_t *mine = ids[c->rank];
	size_t n = counts[c->rank], i, cap = 0;
	int me = c->rank;

	for (i = 0; i < n; i++) /* the rows held here */
		if (holder(d, mine[i]) == me)
			memcpy(o + i * row_bytes, x + (mine[i] - d->offset) * row_bytes,
			       row_bytes);
	for (int k = 1; k < c->size; k++) {
		int to = (me + k) % c->size, from = (me - k + c->size) % c->size;
		size_t ns = 0, nr = 0, need;
		for (i = 0; i < counts[to]; i++)
			ns += holder(d, ids[to][i]) == me;
		for (i = 0; i < n; i++)
			nr += holder(d, mine[i]) == from;
		need = (ns > nr ? ns : nr) * row_bytes + 1;
		if (need > cap) {
			free(sbuf);
			free(rbuf);
			sbuf = malloc(need);
			rbuf = malloc(need);
			if (!sbuf || !rbuf)
				sg_comm_fatal(c, "out of memory for the rows of other ranks");
			cap = need;
		}
		for (i = 0, ns = 0; i < counts[to]; i++)
			if (holder(d, ids[to][i]) == me)
				memcpy(sbuf + ns++ * row_bytes,
				       x + (ids[to][i] - d->offset) * row_bytes, row_bytes);
		if (c->sendrecv(c->ctx, sbuf, ns * row_bytes, to, rbuf, nr * row_bytes,
				from) < 0)
			sg_comm_fatal(c, "cannot exchange rows with the other ranks");
		for (i = 0, nr = 0; i < n; i++)
			if (holder(d, mine[i]) == from)
				memcpy(o + i * row_bytes, rbuf + nr++ * row_bytes, row_bytes);
	}
	free(sbuf);
	free(rbuf);
}
