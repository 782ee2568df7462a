/*
 * mathbench.c: nanoseconds per call of symgrad's own exp, log and tanh
 * (gen/sgmath.h) and of <math.h>'s, each in a loop over an array (which the
 * compiler vectorizes where it can: symgrad's functions are branch-free and
 * inlined; glibc's are calls).  tests/bench/run.sh builds it twice, for
 * baseline x86-64 and with -march=native, and prints one table row per
 * function and build.
 *
 *   mathbench LABEL
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "sgmath.h"

#define N 4096
#define TRIALS 15

static double xd[N], yd[N];
static float xf[N], yf[N];
static volatile double sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: a shared machine */
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define LOOP(name, T, x, y, expr)                                     \
	static void name(void)                                        \
	{                                                             \
		for (int i = 0; i < N; i++) {                         \
			T v = x[i];                                   \
			y[i] = expr;                                  \
		}                                                     \
	}
LOOP(own_exp, double, xd, yd, sg_exp(v))
LOOP(lib_exp, double, xd, yd, exp(v))
LOOP(own_log, double, xd, yd, sg_log(v + 2.0))
LOOP(lib_log, double, xd, yd, log(v + 2.0))
LOOP(own_tanh, double, xd, yd, sg_tanh(v))
LOOP(lib_tanh, double, xd, yd, tanh(v))
LOOP(own_expf, float, xf, yf, sg_expf(v))
LOOP(lib_expf, float, xf, yf, expf(v))
LOOP(own_logf, float, xf, yf, sg_logf(v + 2.0f))
LOOP(lib_logf, float, xf, yf, logf(v + 2.0f))

/* the median over TRIALS of ns per call */
static double time_of(void (*f)(void), int isf)
{
	double t[TRIALS];
	for (int k = 0; k < TRIALS; k++) {
		double t0 = now();
		for (int r = 0; r < 20; r++)
			f();
		t[k] = (now() - t0) / (20.0 * N);
		sink += isf ? yf[k] : yd[k];
	}
	for (int i = 1; i < TRIALS; i++) /* insertion sort */
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double s = t[j];
			t[j] = t[j - 1];
			t[j - 1] = s;
		}
	return t[TRIALS / 2];
}

int main(int argc, char **argv)
{
	const char *label = argc > 1 ? argv[1] : "";
	for (int i = 0; i < N; i++) {
		xd[i] = -10.0 + 20.0 * i / N;
		xf[i] = (float)xd[i];
	}
	struct { const char *name; void (*own)(void), (*lib)(void); int isf; } fs[] = {
		{"exp", own_exp, lib_exp, 0}, {"log", own_log, lib_log, 0},
		{"tanh", own_tanh, lib_tanh, 0}, {"expf", own_expf, lib_expf, 1},
		{"logf", own_logf, lib_logf, 1},
	};
	for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
		double o = time_of(fs[i].own, fs[i].isf), l = time_of(fs[i].lib, fs[i].isf);
		printf("| %s | %s | %.2f | %.2f | %.2f |\n", fs[i].name, label, o, l, l / o);
	}
	return 0;
}
