/*
 * bench.c: generated gradients against hand-written C, same compiler, same
 * flags, same data, in one process, so the ratios are measured in one run.
 *
 *   bench DIABETES.csv [RESULTS.csv]
 *
 * Each comparison alternates its contenders over many trials (warm-up
 * first) and reports the median time per operation; the machines are
 * shared and noisy, so read the ratios, not the absolute times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diabetes_f_grad.h"
#include "diabetes_grad.h"
#include "ex4_4_grad.h"
#include "hand.h"
#include "linear_grad.h"
#include "timing.h"

#define TRIALS 21
#define ROWS_MAX 1024

static double now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* What a contender does once: ops operations, returning a value to keep. */
typedef double Work(long iters);

/* ---- the data ---- */

static double rows[ROWS_MAX][9];
static float rows_f[ROWS_MAX][9];
static int n_rows;
static volatile double sink;

static void load(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	while (n_rows < ROWS_MAX) {
		double *r = rows[n_rows];
		if (fscanf(f, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", r, r + 1, r + 2, r + 3, r + 4,
			   r + 5, r + 6, r + 7, r + 8) != 9)
			break;
		for (int k = 0; k < 9; k++)
			rows_f[n_rows][k] = (float)r[k];
		n_rows++;
	}
	fclose(f);
}

/* ---- contenders ---- */

static const double lecture_x[3][2] = {{1, 2}, {2, 4}, {3, 6}};

/* One SGD step of the lecture: gradient, then w -= 0.01 * g. */
static double step_generated(long iters)
{
	double w[1] = {1.0}, g[1];
	for (long i = 0; i < iters; i++) {
		linear_backward(w, lecture_x[i % 3], g);
		w[0] -= 0.01 * g[0];
	}
	return w[0];
}

static double step_hand(long iters)
{
	double w[1] = {1.0}, g[1];
	for (long i = 0; i < iters; i++) {
		hand_linear_backward(w, lecture_x[i % 3], g);
		w[0] -= 0.01 * g[0];
	}
	return w[0];
}

static double ex44_generated(long iters)
{
	double p[3] = {1, 1, 0}, g[3], s = 0;
	for (long i = 0; i < iters; i++)
		s += ex4_4_backward(p, lecture_x[i % 3], g) + g[0];
	return s;
}

static double ex44_hand(long iters)
{
	double p[3] = {1, 1, 0}, g[3], s = 0;
	for (long i = 0; i < iters; i++)
		s += hand_ex4_4_backward(p, lecture_x[i % 3], g) + g[0];
	return s;
}

static double net_generated(long iters)
{
	double g[87], s = 0;
	for (long i = 0; i < iters; i++)
		s += diabetes_backward(diabetes_model.param_init, rows[i % n_rows], g) + g[0];
	return s;
}

static double net_hand(long iters)
{
	double g[87], s = 0;
	for (long i = 0; i < iters; i++)
		s += hand_diabetes_backward(diabetes_model.param_init, rows[i % n_rows], g) + g[0];
	return s;
}

static float params_f[87];

static double net_generated_f(long iters)
{
	float g[87], s = 0;
	for (long i = 0; i < iters; i++)
		s += diabetes_f_backward(params_f, rows_f[i % n_rows], g) + g[0];
	return s;
}

static double net_hand_f(long iters)
{
	float g[87], s = 0;
	for (long i = 0; i < iters; i++)
		s += hand_diabetes_backward_f(params_f, rows_f[i % n_rows], g) + g[0];
	return s;
}

/* The batched gradient over all rows: iters counts sample-gradients. */
static double batch_generated(long iters)
{
	double g[87], s = 0;
	for (long i = 0; i < iters; i += n_rows)
		s += diabetes_backward_batch(n_rows, diabetes_model.param_init, rows[0], g);
	return s;
}

static double batch_hand(long iters)
{
	double g[87], s = 0;
	for (long i = 0; i < iters; i += n_rows)
		s += hand_diabetes_backward_batch(n_rows, diabetes_model.param_init, rows[0], g);
	return s;
}

static double batch_generated_f(long iters)
{
	float g[87], s = 0;
	for (long i = 0; i < iters; i += n_rows)
		s += diabetes_f_backward_batch(n_rows, params_f, rows_f[0], g);
	return s;
}

static double batch_hand_f(long iters)
{
	float g[87], s = 0;
	for (long i = 0; i < iters; i += n_rows)
		s += hand_diabetes_backward_batch_f(n_rows, params_f, rows_f[0], g);
	return s;
}

/* ---- measuring ---- */

/* Iterations that take about 10 ms. */
static long calibrate(Work *w)
{
	long iters = 1000;
	for (;;) {
		double t = now();
		sink = w(iters);
		if (now() - t > 1e7 || iters > (1L << 40))
			return iters;
		iters *= 2;
	}
}

/* Median ns per operation of a and b, trials alternating. */
static void compare(const char *name, Work *a, Work *b, FILE *results)
{
	double ta[TRIALS], tb[TRIALS];
	long ia = calibrate(a), ib = calibrate(b);
	for (int t = 0; t < TRIALS; t++) {
		double t0 = now();
		sink = a(ia);
		double t1 = now();
		sink = b(ib);
		double t2 = now();
		ta[t] = (t1 - t0) / (double)ia;
		tb[t] = (t2 - t1) / (double)ib;
	}
	qsort(ta, TRIALS, sizeof *ta, cmp_double);
	qsort(tb, TRIALS, sizeof *tb, cmp_double);
	double ma = ta[TRIALS / 2], mb = tb[TRIALS / 2];
	printf("| %-44s | %10.2f | %10.2f | %6.3f |\n", name, ma, mb, ma / mb);
	if (results)
		fprintf(results, "\"%s\",%.3f,%.3f,%.4f\n", name, ma, mb, ma / mb);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench DIABETES.csv [RESULTS.csv]\n");
		return 2;
	}
	load(argv[1]);
	if (n_rows == 0) {
		fprintf(stderr, "bench: no rows in %s\n", argv[1]);
		return 1;
	}
	for (int k = 0; k < 87; k++)
		params_f[k] = (float)diabetes_model.param_init[k];
	FILE *results = argc > 2 ? fopen(argv[2], "w") : NULL;
	if (results)
		fprintf(results, "benchmark,generated_ns,hand_ns,ratio\n");
	printf("| %-44s | %10s | %10s | %6s |\n", "ns per operation (median)", "generated",
	       "hand C", "ratio");
	printf("|%.46s|%.12s|%.12s|%.8s|\n", "----------------------------------------------",
	       "------------", "------------", "--------");
	compare("lecture 4: SGD step (gradient + update)", step_generated, step_hand, results);
	compare("exercise 4-4: gradient", ex44_generated, ex44_hand, results);
	compare("lecture 7 network: one sample, double", net_generated, net_hand, results);
	compare("lecture 7 network: one sample, float", net_generated_f, net_hand_f, results);
	compare("lecture 7 network: batch of 759, per sample, double", batch_generated, batch_hand,
		results);
	compare("lecture 7 network: batch of 759, per sample, float", batch_generated_f,
		batch_hand_f, results);
	if (results)
		fclose(results);
	return 0;
}
