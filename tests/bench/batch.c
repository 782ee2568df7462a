/*
 * batch.c: the batched gradient of the lecture 7 network (NAME_backward_batch
 * over the whole diabetes table) built five ways, timed in one process with
 * the contenders alternating, and how far --math libm's results are from
 * the default's (symgrad's own exp and log).
 *
 *   batch DIABETES.csv RESULTS.csv LOOPS_E LOOPS_V LOOPS_EN LOOPS_VN LOOPS_F
 *
 * run.sh generates the model four times under different prefixes:
 *   dbe  exact (symgrad's own functions), gcc -O2
 *   dbv  --math libm (<math.h>'s),        gcc -O2
 *   dben exact,                           gcc -O2 -march=native
 *   dbvn --math libm,                     gcc -O2 -march=native
 *   dbf  exact,          gcc -O2 -ffast-math -march=native (for scale only:
 *        fast math reorders sums, so its results differ)
 * LOOPS_* are GCC's counts of vectorized loops for each (-fopt-info-vec),
 * printed in the table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbe_grad.h"
#include "dben_grad.h"
#include "dbf_grad.h"
#include "dbv_grad.h"
#include "dbvn_grad.h"

#define TRIALS 21
#define ROWS_MAX 1024
#define NP DBE_N_PARAMS

static double rows[ROWS_MAX][9];
static int n_rows;
static volatile double sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: a shared machine */
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef double Batch(int n, const double *params, const double *inputs, double *grad);

static double run(Batch *f, long reps)
{
	double g[NP], s = 0;
	for (long i = 0; i < reps; i++)
		s += f(n_rows, dbe_model.param_init, rows[0], g) + g[0];
	return s;
}

static long calibrate(Batch *f)
{
	long reps = 1;
	for (;;) {
		double t = now();
		sink = run(f, reps);
		if (now() - t > 1e7 || reps > (1L << 30))
			return reps;
		reps *= 2;
	}
}

int main(int argc, char **argv)
{
	if (argc < 8) {
		fprintf(stderr, "usage: batch DIABETES.csv RESULTS.csv LOOPS_E LOOPS_V LOOPS_EN LOOPS_VN LOOPS_F\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	while (n_rows < ROWS_MAX) {
		double *r = rows[n_rows];
		if (fscanf(f, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", r, r + 1, r + 2, r + 3, r + 4,
			   r + 5, r + 6, r + 7, r + 8) != 9)
			break;
		n_rows++;
	}
	fclose(f);

	/* accuracy: the exact batch against the per-sample function summed in
	 * row order, and each other build against the exact batch */
	double ge[NP + 1], gs[NP + 1], gv[NP + 1], gen[NP + 1], gvn[NP + 1], g[NP];
	const double *p = dbe_model.param_init;
	ge[NP] = dbe_backward_batch(n_rows, p, rows[0], ge);
	memset(gs, 0, sizeof gs);
	for (int r = 0; r < n_rows; r++) {
		gs[NP] += dbe_backward(p, rows[r], g);
		for (int k = 0; k < NP; k++)
			gs[k] += g[k];
	}
	gv[NP] = dbv_backward_batch(n_rows, p, rows[0], gv);
	gen[NP] = dben_backward_batch(n_rows, p, rows[0], gen);
	gvn[NP] = dbvn_backward_batch(n_rows, p, rows[0], gvn);
	int same_sum = memcmp(ge, gs, sizeof ge) == 0;
	int same_native = memcmp(ge, gen, sizeof ge) == 0;
	int same_v = 0, same_vn = 0;
	double worst_v = 0, worst_vn = 0;
	for (int k = 0; k <= NP; k++) {
		double dv = fabs(gv[k] - ge[k]) / fabs(ge[k]);
		double dvn = fabs(gvn[k] - ge[k]) / fabs(ge[k]);
		same_v += memcmp(&gv[k], &ge[k], sizeof ge[k]) == 0;
		same_vn += memcmp(&gvn[k], &ge[k], sizeof ge[k]) == 0;
		if (gv[k] != ge[k] && dv > worst_v)
			worst_v = dv;
		if (gvn[k] != ge[k] && dvn > worst_vn)
			worst_vn = dvn;
	}

	enum { NC = 5 };
	Batch *fn[NC] = {dbe_backward_batch, dbv_backward_batch, dben_backward_batch,
			 dbvn_backward_batch, dbf_backward_batch};
	const char *name[NC] = {"exact, `-O2`", "`--math libm`, `-O2`",
				"exact, `-O2 -march=native`", "`--math libm`, `-O2 -march=native`",
				"exact, `-O2 -ffast-math -march=native` (not exact)"};
	long reps[NC];
	double t[NC][TRIALS], med[NC];
	for (int c = 0; c < NC; c++)
		reps[c] = calibrate(fn[c]);
	for (int i = 0; i < TRIALS; i++)
		for (int c = 0; c < NC; c++) {
			double t0 = now();
			sink = run(fn[c], reps[c]);
			t[c][i] = (now() - t0) / (double)(reps[c] * n_rows);
		}
	for (int c = 0; c < NC; c++) {
		qsort(t[c], TRIALS, sizeof t[c][0], cmp);
		med[c] = t[c][TRIALS / 2];
	}
	FILE *out = fopen(argv[2], "w");
	if (out)
		fprintf(out, "build,ns_per_sample,ratio,loops_vectorized\n");
	printf("| lecture 7 batch (%d rows), built as | ns per sample (median of %d) | ratio to exact `-O2` | loops vectorized |\n",
	       n_rows, TRIALS);
	printf("|---|---|---|---|\n");
	for (int c = 0; c < NC; c++) {
		printf("| %s | %.1f | %.3f | %s |\n", name[c], med[c], med[c] / med[0], argv[3 + c]);
		if (out)
			fprintf(out, "\"%s\",%.2f,%.4f,%s\n", name[c], med[c], med[c] / med[0],
				argv[3 + c]);
	}
	printf("\n");
	printf("Accuracy on the %d-row table, %d results (loss and %d gradients):\n\n", n_rows, NP + 1, NP);
	printf("- exact batch against `dbe_backward` summed in row order: %s\n",
	       same_sum ? "bit-identical" : "DIFFERENT");
	printf("- exact batch, `-march=native` against `-O2`: %s\n",
	       same_native ? "bit-identical" : "DIFFERENT");
	printf("- `--math libm`, `-O2`, against exact: %d of %d bit-identical, largest relative difference %.2g\n",
	       same_v, NP + 1, worst_v);
	printf("- `--math libm`, `-O2 -march=native`, against exact: %d of %d bit-identical, largest relative difference %.2g\n",
	       same_vn, NP + 1, worst_vn);
	if (out) {
		fprintf(out, "\nexact_equals_row_sum,%d\nnative_equals_exact,%d\n", same_sum, same_native);
		fprintf(out, "libm_identical,%d,of,%d,max_rel,%.3g\n", same_v, NP + 1, worst_v);
		fprintf(out, "libm_native_identical,%d,of,%d,max_rel,%.3g\n", same_vn, NP + 1, worst_vn);
		fclose(out);
	}
	return 0;
}
