/*
 * sgd.c: the lecture-4 per-sample SGD step as `symgrad train` builds it
 * against the lecture's loop written by hand in C, in one run.
 *
 *   sgd linear_grad.c linear_grad.h [RESULTS.csv]
 *
 * The generated files go through the runtime's JIT (its flags, its target)
 * and train through sg_trainer_epoch with batch 1, plain SGD, lr 0.01, on
 * the lecture's three rows repeated 1,000 times: the inlined step
 * (linear_sgd_epoch) and, for comparison, the call per row
 * (per_row_calls).  The hand loops are sgd_hand.c.  Each contender runs
 * epochs for about 0.5 ms per trial, trials alternating, 201 trials; the
 * figures are the median and the fastest trial's ns per row (on a shared
 * machine short trials are often undisturbed, and the fastest is the one
 * least disturbed).  Every contender must end with the same
 * w (the lecture's w converges to 2; all of them compute the same steps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "symgrad.h"

#define TRIALS 201
#define REPEAT 1000

double hand_sgd_epoch(double *w, const double *rows, size_t n, double lr);
double hand_sgd_epoch_dd(double *w, const double *rows, size_t n, double lr);

static sg_trainer *tr_inline, *tr_call;
static sg_data *data;
static double w_hand = 1, w_dd = 1;
static volatile double sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;
	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(s = malloc((size_t)n + 1)) || fread(s, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "sgd: cannot read %s\n", path);
		exit(1);
	}
	s[n] = '\0';
	fclose(f);
	return s;
}

typedef void Work(long epochs);

static void epochs_of(sg_trainer *t, long epochs)
{
	sg_error err;
	double mean;
	for (long e = 0; e < epochs; e++)
		if (sg_trainer_epoch(t, data, e, &mean, &err) < 0) {
			fprintf(stderr, "sgd: %s\n", err.msg);
			exit(1);
		}
	sink = mean;
}

static void run_inline(long e) { epochs_of(tr_inline, e); }
static void run_call(long e) { epochs_of(tr_call, e); }

static void run_hand(long e)
{
	for (long k = 0; k < e; k++)
		sink = hand_sgd_epoch(&w_hand, data->x, data->n_rows, 0.01);
}

static void run_dd(long e)
{
	for (long k = 0; k < e; k++)
		sink = hand_sgd_epoch_dd(&w_dd, data->x, data->n_rows, 0.01);
}

/* Epochs that take about 0.5 ms. */
static long calibrate(Work *w)
{
	long e = 1;
	for (;;) {
		double t = now();
		w(e);
		if (now() - t > 5e5)
			return e;
		e *= 2;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const double rows[3][2] = {{1, 2}, {2, 4}, {3, 6}};
	Work *work[4] = {run_inline, run_call, run_hand, run_dd};
	const char *names[4] = {"`symgrad train` step (inlined `linear_sgd_epoch`)",
				"`symgrad train --per-row-calls` (a call per row)",
				"the lecture's loop by hand, `2 * x * d`",
				"the same by hand, symgrad's `(d + d) * x`"};
	double t[4][TRIALS], med[4];
	long epochs[4];
	sg_error err;

	if (argc < 3) {
		fprintf(stderr, "usage: sgd linear_grad.c linear_grad.h [RESULTS.csv]\n");
		return 2;
	}
	sg_jit *j = sg_jit_open("linear", slurp(argv[1]), slurp(argv[2]), &err);
	if (!j) {
		fprintf(stderr, "sgd: %s\n", err.msg);
		return 1;
	}
	const sg_model *m = sg_jit_model(j);
	data = sg_data_new(3 * REPEAT, 2, "lecture04");
	for (size_t r = 0; r < data->n_rows; r++)
		memcpy(data->x + 2 * r, rows[r % 3], sizeof rows[0]);
	sg_train_opts o = sg_train_defaults();
	tr_inline = sg_trainer_new(m, &o, &err);
	o.per_row_calls = 1;
	tr_call = sg_trainer_new(m, &o, &err);
	if (!m->sgd_epoch_d || !tr_inline || !tr_call) {
		fprintf(stderr, "sgd: no inlined step, or %s\n", err.msg);
		return 1;
	}
	for (int c = 0; c < 4; c++)
		epochs[c] = calibrate(work[c]);
	for (int k = 0; k < TRIALS; k++)
		for (int c = 0; c < 4; c++) {
			double t0 = now();
			work[c](epochs[c]);
			t[c][k] = (now() - t0) / (double)(epochs[c] * (long)data->n_rows);
		}
	double w[4];
	sg_trainer_get_params(tr_inline, &w[0]);
	sg_trainer_get_params(tr_call, &w[1]);
	w[2] = w_hand, w[3] = w_dd;
	FILE *res = argc > 3 ? fopen(argv[3], "w") : NULL;
	if (res)
		fprintf(res, "contender,median_ns,median_ratio,fastest_ns,fastest_ratio\n");
	printf("| lecture 4, per-sample SGD, float64 (JIT: %s) | ns per step, median of %d | ratio | fastest trial | ratio |\n",
	       sg_jit_march(j)[0] ? sg_jit_march(j) : "default target", TRIALS);
	printf("|---|---|---|---|---|\n");
	for (int c = 0; c < 4; c++) {
		qsort(t[c], TRIALS, sizeof t[c][0], cmp);
		med[c] = t[c][TRIALS / 2];
	}
	for (int c = 0; c < 4; c++) {
		printf("| %s | %.2f | %.3f | %.2f | %.3f |\n", names[c], med[c], med[c] / med[2],
		       t[c][0], t[c][0] / t[2][0]);
		if (res)
			fprintf(res, "\"%s\",%.3f,%.4f,%.3f,%.4f\n", names[c], med[c],
				med[c] / med[2], t[c][0], t[c][0] / t[2][0]);
	}
	if (res)
		fclose(res);
	if (w[0] != w[1] || w[0] != w[2] || w[0] != w[3]) {
		fprintf(stderr, "sgd: the contenders ended with different w: %.17g %.17g %.17g %.17g\n",
			w[0], w[1], w[2], w[3]);
		return 1;
	}
	sg_trainer_free(tr_inline);
	sg_trainer_free(tr_call);
	sg_data_free(data);
	sg_jit_close(j);
	return 0;
}
