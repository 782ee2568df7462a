/*
 * kernels.c: a loop-form model's NAME_backward_batch (blocks of rows, tiled
 * products) against the same model's NAME_backward called row by row and
 * summed in row order (what backward_batch was before it had blocks), on
 * one batch of random rows; the two must agree bit for bit, and the table
 * gives ns per sample, median of TRIALS alternating trials, CPU time.
 *
 *   cc ... -DMODEL_H='"m_grad.h"' -DP=m -DREAL=double kernels.c m_grad.o
 *   kernels ROWS TRIALS  ->  "batch_ns rowwise_ns identical"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include MODEL_H
#include "timing.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(s) CAT(P, s)

static double now(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* backward row by row, summed in row order from zero */
static REAL rowwise(int n, const REAL *p, const REAL *in, REAL *grad, REAL *g, int np, int ni)
{
	REAL loss = 0;
	for (int k = 0; k < np; k++)
		grad[k] = 0;
	for (int r = 0; r < n; r++) {
		loss += FN(_backward)(p, in + (long)r * ni, g);
		for (int k = 0; k < np; k++)
			grad[k] += g[k];
	}
	return loss;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 256, trials = argc > 2 ? atoi(argv[2]) : 11;
	const sg_model *m = &FN(_model);
	int np = m->n_params, ni = m->n_inputs;
	REAL *p = malloc(sizeof *p * (size_t)np), *in = malloc(sizeof *in * (size_t)ni * (size_t)n);
	REAL *g1 = malloc(sizeof *g1 * (size_t)np), *g2 = malloc(sizeof *g2 * (size_t)np);
	REAL *g = malloc(sizeof *g * (size_t)np);
	double *t1 = malloc(sizeof *t1 * (size_t)trials), *t2 = malloc(sizeof *t2 * (size_t)trials);
	srand(1);
	for (int i = 0; i < np; i++)
		p[i] = (REAL)m->param_init[i];
	for (int r = 0; r < n; r++) {
		for (int i = 0; i < ni - 1; i++)
			in[(long)r * ni + i] = (REAL)(rand() / (double)RAND_MAX);
		in[(long)r * ni + ni - 1] = (REAL)(rand() % 10); /* the class, last */
	}
	REAL l1 = 0, l2 = 0;
	for (int t = 0; t < trials; t++) {
		double a = now();
		l1 = FN(_backward_batch)(n, p, in, g1);
		double b = now();
		l2 = rowwise(n, p, in, g2, g, np, ni);
		double c = now();
		t1[t] = (b - a) / n, t2[t] = (c - b) / n;
	}
	int same = !memcmp(&l1, &l2, sizeof l1) && !memcmp(g1, g2, sizeof *g1 * (size_t)np);
	qsort(t1, (size_t)trials, sizeof *t1, cmp_double);
	qsort(t2, (size_t)trials, sizeof *t2, cmp_double);
	printf("%.1f %.1f %s\n", t1[trials / 2], t2[trials / 2], same ? "identical" : "DIFFERENT");
	return !same;
}
