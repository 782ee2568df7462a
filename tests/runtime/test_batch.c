/*
 * test_batch.c: sg_batch_grad's canonical order on the hand-written lecture
 * model: blocks of SG_BLOCK_ROWS rows summed by the model's batch function
 * (or its backward in row order), folded left in block order; the same
 * bits for 1, 2, 3, 7 and 16 threads (more threads than blocks), in order
 * and through a row order, across several waves of blocks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "linear_hand.h"
#include "symgrad.h"

#define MAXN 20000

/* Rows (x, y) whose gradients differ in magnitude by many orders, so that
 * the order of the sums shows in the bits. */
static void make_rows(double *x, size_t n, uint64_t seed)
{
	sg_rng r;
	size_t i;

	sg_rng_seed(&r, seed);
	for (i = 0; i < n; i++) {
		double u = (double)(sg_rng_next(&r) >> 11) / 9007199254740992.0;
		double v = (double)(sg_rng_next(&r) >> 11) / 9007199254740992.0;
		x[2 * i] = ldexp(u + 0.5, (int)(i % 23) - 11);
		x[2 * i + 1] = v - 0.5;
	}
}

/* The canonical sum by hand: block sums from the model's functions, folded
 * left in block order. */
static double expected_d(const sg_model *m, size_t n, const double *p,
			 const double *x, double *g)
{
	double loss = 0, bl, bg;
	size_t first, k;

	for (first = 0; first < n; first += k) {
		k = n - first < SG_BLOCK_ROWS ? n - first : SG_BLOCK_ROWS;
		bl = m->backward_batch_d((int)k, p, x + 2 * first, &bg);
		loss = first ? loss + bl : bl;
		g[0] = first ? g[0] + bg : bg;
	}
	return loss;
}

static float expected_f(const sg_model *m, size_t n, const float *p,
			const float *x, float *g)
{
	float loss = 0, bl, bg, gt;
	size_t first, k, r;

	for (first = 0; first < n; first += k) {
		k = n - first < SG_BLOCK_ROWS ? n - first : SG_BLOCK_ROWS;
		bl = 0, bg = 0;
		for (r = 0; r < k; r++) {
			bl = bl + m->backward_f(p, x + 2 * (first + r), &gt);
			bg = bg + gt;
		}
		loss = first ? loss + bl : bl;
		g[0] = first ? g[0] + bg : bg;
	}
	return loss;
}

static const size_t sizes[] = {1, 2, 63, 64, 65, 128, 129, 1000, 4097, MAXN};
static const int threads[] = {1, 2, 3, 7, 16};

Test(batch, double_canonical_for_any_threads)
{
	static double x[2 * MAXN], xs[2 * MAXN];
	static size_t order[MAXN];
	double p = 0.75, g, want_g, loss, want;
	sg_error err;
	size_t s, i;
	int t;

	make_rows(x, MAXN, 1);
	for (i = 0; i < MAXN; i++) /* a row order, and the rows it picks */
		order[i] = (i * 7919) % MAXN;
	for (i = 0; i < MAXN; i++)
		memcpy(xs + 2 * i, x + 2 * order[i], 2 * sizeof *x);
	for (t = 0; t < 5; t++) {
		sg_batch *b = sg_batch_new(&linear_model, threads[t], &err);
		cr_assert(b != NULL, "%s", err.msg);
		cr_assert(eq(int, sg_batch_threads(b), threads[t]));
		for (s = 0; s < sizeof sizes / sizeof *sizes; s++) {
			size_t n = sizes[s];
			want = expected_d(&linear_model, n, &p, x, &want_g);
			loss = sg_batch_grad(b, n, &p, x, NULL, &g);
			cr_assert(eq(dbl, loss, want), "n %zu, %d threads", n, threads[t]);
			cr_assert(eq(dbl, g, want_g), "n %zu, %d threads", n, threads[t]);
			want = expected_d(&linear_model, n, &p, xs, &want_g);
			loss = sg_batch_grad(b, n, &p, x, order, &g);
			cr_assert(eq(dbl, loss, want), "ordered, n %zu", n);
			cr_assert(eq(dbl, g, want_g), "ordered, n %zu", n);
		}
		sg_batch_free(b);
	}
}

Test(batch, float_without_batch_function)
{
	static float x[2 * MAXN];
	static double xd[2 * MAXN];
	float p = 0.75f, g, want_g = 0, loss, want;
	sg_error err;
	size_t s, i;
	int t;

	make_rows(xd, MAXN, 2);
	for (i = 0; i < 2 * MAXN; i++)
		x[i] = (float)xd[i];
	cr_assert(linear_f_model.backward_batch_f == NULL);
	for (t = 0; t < 5; t++) {
		sg_batch *b = sg_batch_new(&linear_f_model, threads[t], &err);
		cr_assert(b != NULL, "%s", err.msg);
		for (s = 0; s < sizeof sizes / sizeof *sizes; s++) {
			size_t n = sizes[s];
			want = expected_f(&linear_f_model, n, &p, x, &want_g);
			loss = (float)sg_batch_grad(b, n, &p, x, NULL, &g);
			cr_assert(eq(flt, loss, want), "n %zu, %d threads", n, threads[t]);
			cr_assert(eq(flt, g, want_g), "n %zu, %d threads", n, threads[t]);
		}
		sg_batch_free(b);
	}
}

/* The block order is not the row order: on these rows the plain left fold
 * over rows gives other bits, so the tests above can tell them apart. */
Test(batch, blocks_differ_from_row_order)
{
	static double x[2 * MAXN];
	double p = 0.75, g, gb, loss, lb;
	sg_error err;
	sg_batch *b = sg_batch_new(&linear_model, 2, &err);

	make_rows(x, MAXN, 1);
	cr_assert(b != NULL, "%s", err.msg);
	loss = linear_model.backward_batch_d(MAXN, &p, x, &g);
	lb = sg_batch_grad(b, MAXN, &p, x, NULL, &gb);
	cr_assert(loss != lb || g != gb);
	/* one block: the model's own sum */
	loss = linear_model.backward_batch_d(SG_BLOCK_ROWS, &p, x, &g);
	lb = sg_batch_grad(b, SG_BLOCK_ROWS, &p, x, NULL, &gb);
	cr_assert(eq(dbl, lb, loss));
	cr_assert(eq(dbl, gb, g));
	sg_batch_free(b);
}

Test(batch, bad_thread_counts)
{
	sg_error err;

	cr_assert(sg_batch_new(&linear_model, 0, &err) == NULL);
	cr_assert(strstr(err.msg, "0 threads") != NULL, "%s", err.msg);
	cr_assert(sg_batch_new(&linear_model, SG_THREADS_MAX + 1, &err) == NULL);
	cr_assert(sg_threads_available() >= 1);
}

/* The canonical order cut in two, as dist.c cuts it between processes: the
 * first c blocks through sg_batch_grad, the rest as block sums
 * (sg_batch_blocks, on 1 or 3 threads) folded onto it (sg_batch_fold, in
 * two slices of the vector, as the chain's segments); and all of them as
 * block sums folded from the first (started = 0).  sg_batch_grad's bits
 * for every cut, in order and through a row order, double and float. */
Test(batch, cut_blocks_fold_to_the_same_bits)
{
	static double x[2 * MAXN], sums[MAXN / SG_BLOCK_ROWS + 1], l[MAXN / SG_BLOCK_ROWS + 1];
	static float xf[2 * MAXN], sf[MAXN / SG_BLOCK_ROWS + 1];
	static size_t order[MAXN];
	static const size_t ns[] = {65, 200, 1000, 4097};
	double p = 0.75, g, want_g, loss, want;
	float pf = 0.75f, gf, want_gf;
	sg_error err;
	size_t s, i, c, nb;
	int t, o;

	make_rows(x, MAXN, 3);
	for (i = 0; i < 2 * MAXN; i++)
		xf[i] = (float)x[i];
	for (i = 0; i < MAXN; i++)
		order[i] = (i * 7919) % MAXN;
	for (t = 1; t <= 3; t += 2) {
		sg_batch *b = sg_batch_new(&linear_model, t, &err);
		sg_batch *bf = sg_batch_new(&linear_f_model, t, &err);
		cr_assert(b && bf, "%s", err.msg);
		for (s = 0; s < sizeof ns / sizeof *ns; s++)
			for (o = 0; o < 2; o++) {
				size_t n = ns[s];
				const size_t *ord = o ? order : NULL;
				nb = (n + SG_BLOCK_ROWS - 1) / SG_BLOCK_ROWS;
				want = sg_batch_grad(b, n, &p, x, ord, &want_g);
				sg_batch_grad(bf, n, &pf, xf, ord, &want_gf);
				for (c = 0; c < nb; c++) {
					size_t k = c * SG_BLOCK_ROWS;
					loss = c ? sg_batch_grad(b, k, &p, x, ord, &g) : 0;
					sg_batch_blocks(b, n, &p, x, ord, c, nb, sums, l);
					sg_batch_fold(b, nb - c, sums, l, c > 0, 0, 0, &g, NULL);
					sg_batch_fold(b, nb - c, sums, l, c > 0, 0, 1, &g, &loss);
					cr_assert(eq(dbl, loss, want), "n %zu cut %zu", n, c);
					cr_assert(eq(dbl, g, want_g), "n %zu cut %zu", n, c);
					if (c)
						sg_batch_grad(bf, k, &pf, xf, ord, &gf);
					sg_batch_blocks(bf, n, &pf, xf, ord, c, nb, sf, l);
					sg_batch_fold(bf, nb - c, sf, l, c > 0, 0, 1, &gf, NULL);
					cr_assert(eq(flt, gf, want_gf), "float n %zu cut %zu", n, c);
				}
			}
		sg_batch_free(b);
		sg_batch_free(bf);
	}
}
