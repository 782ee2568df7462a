/*
 * beyond.c: the time of NAME_hvp, NAME_jvp and NAME_vjp against
 * NAME_backward's at the same point, for tests/bench/run.sh section 10.
 * Trials alternate between the four functions; each trial times a batch of
 * calls; the table row gives each function's median per call and its ratio
 * to backward's.
 *
 * Build: cc -O2 -DMODEL=NAME_model -include NAME_grad.h beyond.c NAME_grad.c -lm
 * Run: ./beyond LABEL
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

extern const sg_model MODEL;

#define TRIALS 15

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static volatile double sink;

int main(int argc, char **argv)
{
	const sg_model *m = &MODEL;
	int np = m->n_params, ni = m->n_inputs, no = m->n_outputs;
	double *p = calloc((size_t)np + 1, sizeof *p), *x = calloc((size_t)ni + 1, sizeof *x);
	double *g = calloc((size_t)np + 1, sizeof *g), *v = calloc((size_t)np + 1, sizeof *v);
	double *r = calloc((size_t)np + 1, sizeof *r), *dx = calloc((size_t)ni + 1, sizeof *dx);
	double *gx = calloc((size_t)ni + 1, sizeof *gx), *o = calloc((size_t)no + 1, sizeof *o);
	double *dout = calloc((size_t)no + 1, sizeof *dout), dl;
	for (int i = 0; i < np; i++)
		p[i] = m->param_init[i], v[i] = (double)((7 * i) % 11 - 5) / 4;
	for (int i = 0; i < ni; i++)
		x[i] = (double)((5 * i) % 9 - 4) / 8, dx[i] = (double)(i % 3 - 1) / 2;
	for (int i = 0; m->input_classes && i < ni; i++)
		if (m->input_classes[i]) /* a class index: class 1 */
			x[i] = 1, dx[i] = 0;
	for (int i = 0; i < no; i++)
		dout[i] = (double)(i % 5 - 2) / 2;
	/* calls per trial: about 20 ms of backward */
	long n = 1;
	for (double t = 0; t < 0.02; n *= 2) {
		double t0 = now();
		for (long k = 0; k < n; k++)
			sink = m->backward_d(p, x, g);
		t = now() - t0;
	}
	double times[4][TRIALS];
	for (int trial = 0; trial < TRIALS; trial++)
		for (int f = 0; f < 4; f++) {
			double t0 = now();
			for (long k = 0; k < n; k++)
				switch (f) {
				case 0: sink = m->backward_d(p, x, g); break;
				case 1: sink = m->hvp_d(p, x, v, g, r); break;
				case 2: sink = m->jvp_d(p, x, v, dx, o, dout, &dl); break;
				default: sink = m->vjp_d(p, x, 1.0, dout, r, gx); break;
				}
			times[f][trial] = (now() - t0) / (double)n;
		}
	double med[4];
	for (int f = 0; f < 4; f++) {
		qsort(times[f], TRIALS, sizeof times[f][0], cmp);
		med[f] = times[f][TRIALS / 2];
	}
	printf("| %s | %.3g µs | %.3g µs (%.2f×) | %.3g µs (%.2f×) | %.3g µs (%.2f×) |\n",
	       argc > 1 ? argv[1] : m->name, med[0] * 1e6, med[1] * 1e6, med[1] / med[0],
	       med[2] * 1e6, med[2] / med[0], med[3] * 1e6, med[3] / med[0]);
	free(p), free(x), free(g), free(v), free(r), free(dx), free(gx), free(o), free(dout);
	return 0;
}
