/*
 * limit.c: the lecture 7 network's generated NAME_backward_batch (exact,
 * the JIT's flags) against the hand-written fast-math structure-of-arrays
 * limit (soa.c), over the whole diabetes table, alternating trials in one
 * process, CPU time, medians.  The hand code's loss and gradient must agree
 * with the generated code's to 1e-4 relative (fast math is not exact, but
 * a wrong limit would be no limit).
 *
 *   cc ... -DMODEL_H='"m_grad.h"' -DP=m -DREAL=double -DSOA=soa_d limit.c m_grad.o soa_d.o
 *   limit DIABETES.csv TRIALS  ->  "exact_ns soa_ns ok"   (ns per row)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include MODEL_H
#include "timing.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(s) CAT(P, s)

REAL SOA(int n, const REAL *restrict p, const REAL *restrict in, REAL *restrict g);

static double now(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

#define MAXROWS 1000
#define NP 87

int main(int argc, char **argv)
{
	static REAL x[MAXROWS * 9], p[NP], g1[NP], g2[NP];
	int trials = argc > 2 ? atoi(argv[2]) : 21, reps = 100, n = 0, ok = 1;
	double *ta = malloc((size_t)trials * sizeof *ta), *tb = malloc((size_t)trials * sizeof *tb);
	REAL la = 0, lb = 0;
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;

	if (!f || !ta || !tb) {
		fprintf(stderr, "usage: limit DIABETES.csv [TRIALS]\n");
		return 1;
	}
	for (double v; n < MAXROWS * 9 && fscanf(f, " %lf ,", &v) == 1; n++)
		x[n] = (REAL)v;
	fclose(f);
	n /= 9;
	for (int k = 0; k < NP; k++)
		p[k] = (REAL)(0.1 * ((k * 37) % 11 - 5));
	for (int t = 0; t < trials; t++) {
		double a = now();
		for (int r = 0; r < reps; r++)
			la = FN(_backward_batch)(n, p, x, g1);
		double b = now();
		for (int r = 0; r < reps; r++)
			lb = SOA(n, p, x, g2);
		double c = now();
		ta[t] = (b - a) / reps / n;
		tb[t] = (c - b) / reps / n;
	}
	ok = fabs((double)la - (double)lb) <= 1e-4 * fabs((double)la);
	for (int k = 0; k < NP; k++)
		ok = ok && fabs((double)g1[k] - (double)g2[k]) <= 1e-4 * (fabs((double)g1[k]) + 1e-3);
	printf("%.2f %.2f %s\n", median_of(ta, trials), median_of(tb, trials), ok ? "ok" : "WRONG");
	return 0;
}
