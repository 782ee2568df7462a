/*
 * peak.c: one core's floating-point peak, measured: independent chains of
 * vector operations on registers, nothing else, at the machine's widest
 * vectors (64 bytes with AVX-512, 32 with AVX, else 16).
 *
 *   cc -O2 -march=native -ffp-contract=fast peak.c -o peak
 *   peak [TRIALS]  ->  "fma_d muladd_d fma_f muladd_f" in GFLOP/s
 *
 * fma: 12 chains of a = a * m + c, contracted to fused multiply-adds (2
 * flops each); 12 chains cover 2 pipes of latency up to 6.  muladd: 6
 * chains of a = a * m and 6 of b = b + c, the separate multiplies and adds
 * that code built with -ffp-contract=off (as symgrad's is) runs.  Each
 * figure is the best of TRIALS (default 5) runs of 5 * 10^7 steps.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define VB 64
#elif defined(__AVX__)
#define VB 32
#else
#define VB 16
#endif

typedef double vd __attribute__((vector_size(VB)));
typedef float vf __attribute__((vector_size(VB)));

#define STEPS 50000000L

/* different starting values the compiler cannot see, so no two chains
 * can be merged */
volatile double seed = 1.0;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Keeps v in a register, opaque to the optimizer (no code). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define KEEP(v) __asm__ volatile("" : "+x"(v))
#elif defined(__GNUC__)
#define KEEP(v) __asm__ volatile("" : "+w"(v))
#else
#define KEEP(v) (void)0
#endif

#define PEAK(NAME, V, T)                                                         \
	static double NAME##_fma(void)                                           \
	{                                                                        \
		V m = (V){0} + (T)0.9999999, c = (V){0} + (T)1e-9;               \
		V a0 = (V){0} + (T)seed, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3;   \
		V a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7;            \
		V a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11;        \
		double t = now();                                                \
		for (long i = 0; i < STEPS; i++) {                               \
			a0 = a0 * m + c, a1 = a1 * m + c, a2 = a2 * m + c;       \
			a3 = a3 * m + c, a4 = a4 * m + c, a5 = a5 * m + c;       \
			a6 = a6 * m + c, a7 = a7 * m + c, a8 = a8 * m + c;       \
			a9 = a9 * m + c, a10 = a10 * m + c, a11 = a11 * m + c;   \
			KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4);        \
			KEEP(a5); KEEP(a6); KEEP(a7); KEEP(a8); KEEP(a9);        \
			KEEP(a10); KEEP(a11);                                    \
		}                                                                \
		t = now() - t;                                                   \
		V s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11; \
		if (s[0] == 12345)                                               \
			puts("");                                                \
		return 12.0 * 2 * (VB / sizeof(T)) * STEPS / t / 1e9;            \
	}                                                                        \
	static double NAME##_muladd(void)                                        \
	{                                                                        \
		V m = (V){0} + (T)0.9999999, c = (V){0} + (T)1e-9;               \
		V a0 = (V){0} + (T)seed, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3;   \
		V a4 = a0 + 4, a5 = a0 + 5, b0 = a0 + 6, b1 = a0 + 7;            \
		V b2 = a0 + 8, b3 = a0 + 9, b4 = a0 + 10, b5 = a0 + 11;          \
		double t = now();                                                \
		for (long i = 0; i < STEPS; i++) {                               \
			a0 = a0 * m, b0 = b0 + c, a1 = a1 * m, b1 = b1 + c;      \
			a2 = a2 * m, b2 = b2 + c, a3 = a3 * m, b3 = b3 + c;      \
			a4 = a4 * m, b4 = b4 + c, a5 = a5 * m, b5 = b5 + c;      \
			KEEP(a0); KEEP(a1); KEEP(a2); KEEP(a3); KEEP(a4);        \
			KEEP(a5); KEEP(b0); KEEP(b1); KEEP(b2); KEEP(b3);        \
			KEEP(b4); KEEP(b5);                                      \
		}                                                                \
		t = now() - t;                                                   \
		V s = a0 + a1 + a2 + a3 + a4 + a5 + b0 + b1 + b2 + b3 + b4 + b5; \
		if (s[0] == 12345)                                               \
			puts("");                                                \
		return 12.0 * (VB / sizeof(T)) * STEPS / t / 1e9;                \
	}

PEAK(d, vd, double)
PEAK(f, vf, float)

static double best(double (*f)(void), int trials)
{
	double b = 0;

	for (int i = 0; i < trials; i++) {
		double g = f();
		if (g > b)
			b = g;
	}
	return b;
}

int main(int argc, char **argv)
{
	int trials = argc > 1 ? atoi(argv[1]) : 5;

	printf("%.1f %.1f %.1f %.1f\n", best(d_fma, trials), best(d_muladd, trials),
	       best(f_fma, trials), best(f_muladd, trials));
	return 0;
}
