/*
 * dist_sum.c: sums of per-row vectors of doubles over a table, in one
 * fixed order whatever the number of processes: what newton and lm
 * (second.c) sum over the rows, their loss, gradient, Hessian, J^T J and
 * J^T r, split across the ranks of an sg_comm with the bits of one process.
 *
 * The order is batch.c's: the n rows cut into B blocks of SG_BLOCK_ROWS
 * rows in row order, each block summed from zero in row order (by the
 * caller's function), the block sums folded left in block order (the fold
 * starting as the first block).  Across P ranks it is dist.c's: rank r
 * takes blocks [B*r/P, B*(r+1)/P), computes their sums, and the fold goes
 * along the ranks as a chain: the first rank with blocks folds its own and
 * sends the partial sum to the next rank with blocks, which goes on with
 * its own block sums, and so on; the rank of the last block broadcasts the
 * result.  Every entry is folded over the blocks in block order: the same
 * bits for any P, and P = 1 (or no sg_comm) is the plain loop.  The chain
 * is pipelined in segments of SEG numbers, as in dist.c.
 *
 * A row the caller's function refuses (a value that is not finite) rides
 * along the fold in one more slot, the row's index + 1 (0: none), kept
 * from the first block that has one: every rank learns the first refused
 * row in row order, the one a single process stops at, and can say why
 * by computing that row again.  A rank stops computing its blocks at its
 * first refused row (the later ones cannot matter).
 *
 * Only the sg_comm operations (send, recv, bcast, abort) are used; a
 * failure no other rank sees (memory, a message) ends the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

/* Numbers per message of the chain. */
#define SEG 8192

/* One call: the communicator (NULL: this process alone) and the layout. */
typedef struct fold {
	const sg_comm *c;
	int size, rank;
	size_t n, nb, len, w; /* rows, blocks, caller's numbers, w = len + 1 */
} fold;

/* Rank r's run [*lo, *hi) of the blocks. */
static void run_of(const fold *f, int r, size_t *lo, size_t *hi)
{
	*lo = f->nb * (size_t)r / (size_t)f->size;
	*hi = f->nb * (size_t)(r + 1) / (size_t)f->size;
}

/* The nearest rank before (dir -1) or after (+1) r with blocks, or -1. */
static int neighbour(const fold *f, int r, int dir)
{
	size_t lo, hi;

	for (r += dir; r >= 0 && r < f->size; r += dir) {
		run_of(f, r, &lo, &hi);
		if (lo < hi)
			return r;
	}
	return -1;
}

/* The last rank with blocks: it holds the last block. */
static int last_rank(const fold *f)
{
	return neighbour(f, f->size, -1);
}

static void fatal(const fold *f, const char *what)
{
	sg_comm_fatal(f->c, what);
}

/* Block j's sum into s (w numbers, its last the refused row + 1 or 0). */
static void block_sum(const fold *f, size_t j, sg_rows_fn fn, void *ctx, double *s)
{
	size_t r0 = j * SG_BLOCK_ROWS, r1 = r0 + SG_BLOCK_ROWS, bad = 0;

	memset(s, 0, f->w * sizeof *s);
	if (fn(ctx, r0, r1 < f->n ? r1 : f->n, s, &bad) < 0)
		s[f->len] = (double)bad + 1;
}

/* Folds block sum v into acc's entries [lo, hi): acc + v, and in the last
 * slot the first refused row (acc's when it has one, else v's). */
static void fold_into(const fold *f, double *acc, const double *v, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		if (i < f->len)
			acc[i] += v[i];
		else if (acc[i] == 0)
			acc[i] = v[i];
}

/* The first rank with blocks: its blocks folded as it goes into acc. */
static void first_run(const fold *f, size_t hi, sg_rows_fn fn, void *ctx, double *acc,
		      double *tmp)
{
	block_sum(f, 0, fn, ctx, acc);
	for (size_t j = 1; j < hi && acc[f->len] == 0; j++) {
		block_sum(f, j, fn, ctx, tmp);
		fold_into(f, acc, tmp, 0, f->w);
	}
}

/* A later rank: its blocks' sums kept in sums until the partial arrives;
 * returns how many were computed (it stops after a refused row). */
static size_t later_run(const fold *f, size_t lo, size_t hi, sg_rows_fn fn, void *ctx,
			double *sums)
{
	size_t j;

	for (j = lo; j < hi; j++) {
		block_sum(f, j, fn, ctx, sums + (j - lo) * f->w);
		if (sums[(j - lo) * f->w + f->len] != 0)
			return j - lo + 1;
	}
	return hi - lo;
}

/* The chain: receives the fold of the blocks before (when a rank before
 * has blocks), folds this rank's k block sums onto it segment by segment,
 * and passes each segment on. */
static void chain(const fold *f, int prev, int next, const double *sums, size_t k,
		  double *acc)
{
	for (size_t s = 0, e; s < f->w; s = e) {
		e = f->w - s < SEG ? f->w : s + SEG;
		if (prev >= 0) {
			if (f->c->recv(f->c->ctx, acc + s, (e - s) * sizeof *acc, prev) < 0)
				fatal(f, "cannot receive from the previous rank");
			for (size_t j = 0; j < k; j++)
				fold_into(f, acc, sums + j * f->w, s, e);
		}
		if (next >= 0 && f->c->send(f->c->ctx, acc + s, (e - s) * sizeof *acc, next) < 0)
			fatal(f, "cannot send to the next rank");
	}
}

/* This rank's share: its blocks, then its link of the chain, into acc. */
static void share(const fold *f, sg_rows_fn fn, void *ctx, double *acc)
{
	size_t lo, hi, k = 0;
	int prev, next;
	double *sums;

	run_of(f, f->rank, &lo, &hi);
	if (lo >= hi)
		return;
	prev = neighbour(f, f->rank, -1);
	next = neighbour(f, f->rank, +1);
	/* the first rank folds as it goes (one block's scratch); a later one
	 * keeps its block sums until the partial sum arrives */
	sums = malloc((lo == 0 ? 1 : hi - lo) * f->w * sizeof *sums);
	if (!sums)
		fatal(f, "out of memory for the block sums");
	if (lo == 0)
		first_run(f, hi, fn, ctx, acc, sums);
	else
		k = later_run(f, lo, hi, fn, ctx, sums);
	chain(f, prev, next, sums, k, acc);
	free(sums);
}

int sg_dist_sum(const sg_comm *c, size_t n, size_t len, sg_rows_fn fn, void *ctx, double *sum,
		size_t *bad, sg_error *err)
{
	fold f = {c, c ? c->size : 1, c ? c->rank : 0, n, (n + SG_BLOCK_ROWS - 1) / SG_BLOCK_ROWS,
		  len, len + 1};
	double *acc;

	if (f.size < 1 || f.rank < 0 || f.rank >= f.size)
		return sg_errorf(err, "bad communicator: rank %d of %d", f.rank, f.size);
	if (!(acc = calloc(f.w, sizeof *acc)))
		return c && f.size > 1 ? (fatal(&f, "out of memory"), -1)
				       : sg_errorf(err, "out of memory");
	if (f.nb > 0) {
		if (f.size == 1) {
			double *tmp = malloc(f.w * sizeof *tmp);
			if (!tmp) {
				free(acc);
				return sg_errorf(err, "out of memory");
			}
			first_run(&f, f.nb, fn, ctx, acc, tmp);
			free(tmp);
		} else {
			share(&f, fn, ctx, acc);
			if (c->bcast(c->ctx, acc, f.w * sizeof *acc, last_rank(&f)) < 0)
				fatal(&f, "cannot broadcast the sums");
		}
	}
	memcpy(sum, acc, len * sizeof *sum);
	*bad = acc[len] != 0 ? (size_t)acc[len] - 1 : 0;
	int refused = acc[len] != 0;
	free(acc);
	return refused;
}
