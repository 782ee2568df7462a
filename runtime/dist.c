/*
 * dist.c: a batch's gradient summed across processes with the bits of one
 * process (sg_batch_grad's canonical order), whatever the number of
 * processes and of threads in each.
 *
 * The B blocks of an n-row batch (SG_BLOCK_ROWS rows each, in row order)
 * are cut into P contiguous runs, rank r taking blocks [B*r/P, B*(r+1)/P)
 * (none when B < P and the run is empty).  Every rank has the rows of its
 * blocks (the whole table, or the rows share.c brought it) and the same
 * parameters; each computes the block sums of its run on its threads.  The left fold over blocks is then done
 * as a chain: the first rank with blocks folds them (sg_batch_grad over its
 * rows, which is that fold) and sends the partial sum to the next rank with
 * blocks, which continues the fold with its own block sums, and so on; the
 * rank holding the last block broadcasts the result.  Every gradient entry
 * is folded over the blocks in block order, as in one process: the same
 * bits for any P (and P = 1 is sg_batch_grad itself).  The chain is
 * pipelined: the vector travels in segments of SEG reals, each folded and
 * passed on as soon as it arrives (the fold of one entry needs only that
 * entry), so it costs about one vector's transfer plus P - 1 segment
 * latencies, not P - 1 whole vectors.
 *
 * Memory: a rank after the first keeps its blocks' sums until the partial
 * sum arrives, (its blocks) x n_params reals; the first rank folds as it
 * goes.  A batch of SG_BLOCK_ROWS rows or fewer is one block: it cannot be
 * cut, so every rank computes it alone (no message; the caller does that).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

/* Reals per message of the chain. */
#define SEG 8192

struct sg_dist {
	const sg_comm *c;
	size_t np, rs;
	char *sums;       /* this rank's block sums */
	double *losses;
	size_t cap;       /* blocks the two hold */
};

sg_dist *sg_dist_new(const sg_comm *c, const sg_model *m, sg_error *err)
{
	sg_dist *d;

	if (c->size < 1 || c->rank < 0 || c->rank >= c->size) {
		sg_errorf(err, "bad communicator: rank %d of %d", c->rank, c->size);
		return NULL;
	}
	if (!(d = calloc(1, sizeof *d))) {
		sg_errorf(err, "out of memory");
		return NULL;
	}
	d->c = c;
	d->np = (size_t)m->n_params;
	d->rs = (size_t)m->real_size;
	return d;
}

void sg_dist_free(sg_dist *d)
{
	if (!d)
		return;
	free(d->sums);
	free(d->losses);
	free(d);
}

/* Rank r's run [*lo, *hi) of nb blocks. */
static void run_of(const sg_dist *d, size_t nb, int r, size_t *lo, size_t *hi)
{
	*lo = nb * (size_t)r / (size_t)d->c->size;
	*hi = nb * (size_t)(r + 1) / (size_t)d->c->size;
}

/* The rank whose run holds block j of nb. */
static int owner_of(const sg_dist *d, size_t nb, size_t j)
{
	size_t lo, hi;
	int r;

	for (r = 0; r < d->c->size; r++) {
		run_of(d, nb, r, &lo, &hi);
		if (j >= lo && j < hi)
			return r;
	}
	return d->c->size - 1;
}

int sg_dist_owner(const sg_dist *d, size_t n, size_t i)
{
	size_t nb = (n + SG_BLOCK_ROWS - 1) / SG_BLOCK_ROWS;

	if (n <= SG_BLOCK_ROWS)
		return -1;
	return owner_of(d, nb, i / SG_BLOCK_ROWS);
}

void sg_comm_fatal(const sg_comm *c, const char *what)
{
	fprintf(stderr, "symgrad: error: rank %d: %s\n", c->rank, what);
	fflush(stderr);
	c->abort(c->ctx, 1);
	abort(); /* abort() above does not return */
}

static void fatal(const sg_dist *d, const char *what)
{
	sg_comm_fatal(d->c, what);
}

/* Makes room for nb block sums. */
static void reserve(sg_dist *d, size_t nb)
{
	char *s;
	double *l;

	if (nb <= d->cap)
		return;
	s = realloc(d->sums, nb * d->np * d->rs + 1);
	if (s)
		d->sums = s;
	l = realloc(d->losses, nb * sizeof *l);
	if (l)
		d->losses = l;
	if (!s || !l)
		fatal(d, "out of memory for the block sums");
	d->cap = nb;
}

static void chain_send(const sg_dist *d, const void *buf, size_t n, int to)
{
	if (d->c->send(d->c->ctx, buf, n, to) < 0)
		fatal(d, "cannot send to the next rank");
}

static void chain_recv(const sg_dist *d, void *buf, size_t n, int from)
{
	if (d->c->recv(d->c->ctx, buf, n, from) < 0)
		fatal(d, "cannot receive from the previous rank");
}

/* The nearest rank before (dir -1) or after (+1) r with blocks, or -1. */
static int neighbour(const sg_dist *d, size_t nb, int r, int dir)
{
	size_t lo, hi;

	for (r += dir; r >= 0 && r < d->c->size; r += dir) {
		run_of(d, nb, r, &lo, &hi);
		if (lo < hi)
			return r;
	}
	return -1;
}

double sg_dist_grad(sg_dist *d, sg_batch *b, size_t n, const void *params,
		    const void *inputs, const size_t *order, void *grad)
{
	size_t nb = (n + SG_BLOCK_ROWS - 1) / SG_BLOCK_ROWS, lo, hi, s, e;
	int me = d->c->rank, prev, next, root;
	double loss = 0;
	char *g = grad;

	run_of(d, nb, me, &lo, &hi);
	root = owner_of(d, nb, nb - 1);
	if (lo < hi) {
		prev = neighbour(d, nb, me, -1);
		next = neighbour(d, nb, me, +1);
		if (lo == 0) {
			size_t k = hi * SG_BLOCK_ROWS < n ? hi * SG_BLOCK_ROWS : n;
			loss = sg_batch_grad(b, k, params, inputs, order, grad);
		} else {
			reserve(d, hi - lo);
			sg_batch_blocks(b, n, params, inputs, order, lo, hi, d->sums,
					d->losses);
		}
		for (s = 0; s < d->np; s = e) {
			e = d->np - s < SEG ? d->np : s + SEG;
			if (prev >= 0) {
				chain_recv(d, g + s * d->rs, (e - s) * d->rs, prev);
				sg_batch_fold(b, hi - lo, d->sums, d->losses, 1, s, e,
					      grad, NULL);
			}
			if (next >= 0)
				chain_send(d, g + s * d->rs, (e - s) * d->rs, next);
		}
		if (prev >= 0) { /* the loss, folded like a gradient entry */
			chain_recv(d, &loss, sizeof loss, prev);
			sg_batch_fold(b, hi - lo, d->sums, d->losses, 1, 0, 0, grad,
				      &loss);
		}
		if (next >= 0)
			chain_send(d, &loss, sizeof loss, next);
	}
	if (d->c->size > 1 && (d->c->bcast(d->c->ctx, grad, d->np * d->rs, root) < 0 ||
			       d->c->bcast(d->c->ctx, &loss, sizeof loss, root) < 0))
		fatal(d, "cannot broadcast the gradient");
	return loss;
}
