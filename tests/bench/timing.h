/*
 * timing.h: the clocks and the median the benchmark programs share (each a
 * standalone program built by run.sh; static inline: each includes its own,
 * unused ones cost nothing).
 * Needs _POSIX_C_SOURCE 200809L before the first system header.
 */
#ifndef SG_BENCH_TIMING_H
#define SG_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

/* Nanoseconds on clock c: CLOCK_MONOTONIC (wall, for threads) or
 * CLOCK_PROCESS_CPUTIME_ID (this process's CPU time). */
static inline double clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static inline double median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

#endif
