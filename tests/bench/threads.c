/*
 * threads.c: sg_batch_grad (the runtime's batch gradient, the one `symgrad
 * train` calls) on 1 and 2 threads, alternating trials in one process,
 * wall-clock medians; the two results must agree bit for bit.  One thread
 * is timed three ways in each trial: where the system puts it, and held on
 * each of the first two cores the process may use (a virtual machine's
 * cores need not run at one speed, and a fixed partition of the rows waits
 * for the slower: the speed-up is measured against the best core).
 *
 *   cc ... -DMODEL_H='"m_grad.h"' -DP=m -DREAL=double threads.c m_grad.o libsymgrad.a
 *   threads ROWS TRIALS REPS [DATA.csv]
 *     ->  "t1_ns t2_ns identical t1_core_a_ns t1_core_b_ns"
 *
 * Times are ns per batch of ROWS rows, each trial REPS batches.  Without
 * DATA the inputs are uniform in [0, 1) from a fixed seed and the last input
 * (a label) is ROW mod 10; with DATA, the rows of a numeric CSV (a header
 * line is skipped; as many columns as the model has inputs), repeated to
 * ROWS.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"
#include "timing.h"
#include MODEL_H

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(s) CAT(P, s)

static double now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The first two cores in the affinity mask all (-1 when there is no
 * second). */
static void two_cores(const cpu_set_t *all, int core[2])
{
	int n = 0;

	core[0] = core[1] = -1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, all))
			core[n++] = c;
}

/* Holds the calling thread on core c, or lets it run on all (c < 0). */
static void hold(const cpu_set_t *all, int c)
{
	cpu_set_t one;

	if (c < 0) {
		sched_setaffinity(0, sizeof *all, all);
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(c, &one);
	sched_setaffinity(0, sizeof one, &one);
}

/* Reads up to cap rows of ni numbers after a header line; the row count. */
static size_t read_csv(const char *path, REAL *x, size_t cap, int ni)
{
	FILE *f = fopen(path, "r");
	size_t r = 0;
	int c;

	if (!f) {
		perror(path);
		exit(1);
	}
	/* a header: a first line that does not start with a number */
	c = getc(f);
	if (c != EOF && !strchr("0123456789+-.", c))
		while ((c = getc(f)) != EOF && c != '\n')
			;
	else if (c != EOF)
		ungetc(c, f);
	for (; r < cap; r++) {
		for (int i = 0; i < ni; i++) {
			double v;
			if (fscanf(f, " %lf ,", &v) != 1)
				goto done;
			x[r * (size_t)ni + (size_t)i] = (REAL)v;
		}
	}
done:
	fclose(f);
	return r;
}

int main(int argc, char **argv)
{
	const sg_model *m = &FN(_model);
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	int trials = argc > 2 ? atoi(argv[2]) : 11, reps = argc > 3 ? atoi(argv[3]) : 10;
	int np = m->n_params, ni = m->n_inputs;
	REAL *p = malloc((size_t)np * sizeof *p), *x = malloc(n * (size_t)ni * sizeof *x);
	REAL *g1 = malloc((size_t)np * sizeof *g1), *g2 = malloc((size_t)np * sizeof *g2);
	double *t1 = malloc((size_t)trials * sizeof *t1), *t2 = malloc((size_t)trials * sizeof *t2);
	double *tc[2] = {malloc((size_t)trials * sizeof *t1), malloc((size_t)trials * sizeof *t1)};
	double l1 = 0, l2 = 0;
	cpu_set_t all;
	int core[2] = {-1, -1};
	sg_error err;
	sg_batch *b1 = sg_batch_new(m, 1, &err), *b2 = sg_batch_new(m, 2, &err);
	unsigned s = 12345;

	if (sched_getaffinity(0, sizeof all, &all) == 0)
		two_cores(&all, core);
	if (!p || !x || !g1 || !g2 || !t1 || !t2 || !tc[0] || !tc[1] || !b1 || !b2) {
		fprintf(stderr, "threads: cannot start\n");
		return 1;
	}
	for (int k = 0; k < np; k++) {
		s = s * 1103515245u + 12345u;
		p[k] = (REAL)((double)(s >> 8) / 16777216.0 - 0.5) * (REAL)0.1;
	}
	if (argc > 4) {
		size_t got = read_csv(argv[4], x, n, ni);
		if (got == 0) {
			fprintf(stderr, "threads: no rows in %s\n", argv[4]);
			return 1;
		}
		for (size_t r = got; r < n; r++)
			memcpy(x + r * (size_t)ni, x + (r % got) * (size_t)ni, (size_t)ni * sizeof *x);
	} else {
		for (size_t r = 0; r < n; r++) {
			for (int i = 0; i < ni; i++) {
				s = s * 1103515245u + 12345u;
				x[r * (size_t)ni + (size_t)i] = (REAL)((double)(s >> 8) / 16777216.0);
			}
			x[r * (size_t)ni + (size_t)ni - 1] = (REAL)(r % 10);
		}
	}
	for (int t = 0; t < trials; t++) {
		double a = now();
		for (int k = 0; k < reps; k++)
			l1 = sg_batch_grad(b1, n, p, x, NULL, g1);
		double c = now();
		for (int k = 0; k < reps; k++)
			l2 = sg_batch_grad(b2, n, p, x, NULL, g2);
		double d = now();
		t1[t] = (c - a) / reps;
		t2[t] = (d - c) / reps;
		for (int h = 0; h < 2; h++) {
			tc[h][t] = 0;
			if (core[1] < 0)
				continue;
			hold(&all, core[h]);
			a = now();
			for (int k = 0; k < reps; k++)
				l1 = sg_batch_grad(b1, n, p, x, NULL, g1);
			tc[h][t] = (now() - a) / reps;
			hold(&all, -1);
		}
	}
	printf("%.1f %.1f %s %.1f %.1f\n", median_of(t1, trials), median_of(t2, trials),
	       l1 == l2 && memcmp(g1, g2, (size_t)np * sizeof *g1) == 0 ? "identical" : "DIFFERENT",
	       median_of(tc[0], trials), median_of(tc[1], trials));
	sg_batch_free(b1);
	sg_batch_free(b2);
	return 0;
}
