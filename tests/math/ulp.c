/*
 * tests/math/ulp.c: symgrad's own elementary functions (gen/sgmath.h)
 * against MPFR's exact values.
 *
 * usage: ulp [N [SEED]]    ulp --float-all
 * For every function in double and float: N inputs drawn uniformly over the
 * bit patterns of the function's domain, then the special values (C99 Annex
 * F: +-0, +-Inf, NaN, subnormals, the overflow and underflow thresholds) and
 * hard cases.  --float-all: every one of the 2^32 floats, each function
 * (MPFR only where <math.h>'s double result, within 2^-28 float ulp of the
 * exact value, cannot tell the error is below 1 ulp).  An error above 1 ulp, or a special value other than Annex F's,
 * fails (exit 1).  Prints each function's maximum error in ulp, and the
 * input that reached it.  "ulp" is the spacing of the format at the exact
 * value (subnormal spacing below the normal range).
 */
#include <inttypes.h>
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgmath.h"

typedef int (*MpfrFn)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);

typedef struct Fn {
	const char *name;
	double (*d)(double);
	float (*f)(float);
	MpfrFn mp;
	double (*libm)(double);
	double lo, hi;   /* the domain drawn from (beyond it, specials only) */
} Fn;

static double w_exp(double x) { return sg_exp(x); }
static double w_log(double x) { return sg_log(x); }
static double w_log1p(double x) { return sg_log1p(x); }
static double w_expm1(double x) { return sg_expm1(x); }
static double w_tanh(double x) { return sg_tanh(x); }
static float w_expf(float x) { return sg_expf(x); }
static float w_logf(float x) { return sg_logf(x); }
static float w_log1pf(float x) { return sg_log1pf(x); }
static float w_expm1f(float x) { return sg_expm1f(x); }
static float w_tanhf(float x) { return sg_tanhf(x); }

static const Fn fns[] = {
	{"exp", w_exp, w_expf, mpfr_exp, exp, -750, 712},
	{"log", w_log, w_logf, mpfr_log, log, 0, INFINITY},
	{"log1p", w_log1p, w_log1pf, mpfr_log1p, log1p, -1, INFINITY},
	{"expm1", w_expm1, w_expm1f, mpfr_expm1, expm1, -50, 712},
	{"tanh", w_tanh, w_tanhf, mpfr_tanh, tanh, -INFINITY, INFINITY},
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* The error of got against the exact f(x), in ulp of the format of
 * precision prec and minimum exponent emin (MPFR's convention); -1 when
 * got is not the special value the exact result calls for. */
static double ulp_err(MpfrFn mp, double x, double got, int prec, int emin, int emax)
{
	mpfr_t mx, ex, d;
	mpfr_inits2(200, mx, ex, d, (mpfr_ptr)0);
	mpfr_set_d(mx, x, MPFR_RNDN);
	mp(ex, mx, MPFR_RNDN);
	double err;
	if (mpfr_nan_p(ex))
		err = isnan(got) ? 0 : -1;
	else if (mpfr_inf_p(ex))
		err = isinf(got) && (got > 0) == (mpfr_sgn(ex) > 0) ? 0 : -1;
	else if (mpfr_zero_p(ex))
		err = got == 0 && !signbit(got) == !mpfr_signbit(ex) ? 0 : -1;
	else if (isnan(got))
		err = -1;
	else {
		long e = mpfr_get_exp(ex); /* |ex| in [2^(e-1), 2^e) */
		if (e > emax) /* beyond the largest finite: overflow is Inf */
			e = emax;
		if (e < emin)
			e = emin;
		if (isinf(got)) {
			/* Inf is right iff the exact value rounds past the largest */
			mpfr_t r;
			mpfr_init2(r, prec);
			mpfr_set(r, ex, MPFR_RNDN);
			err = mpfr_get_exp(r) > emax ? 0 : 1e9;
			mpfr_clear(r);
		} else {
			mpfr_set_d(d, got, MPFR_RNDN);
			mpfr_sub(d, d, ex, MPFR_RNDN);
			mpfr_mul_2si(d, d, prec - e, MPFR_RNDN);
			err = fabs(mpfr_get_d(d, MPFR_RNDN));
		}
	}
	mpfr_clears(mx, ex, d, (mpfr_ptr)0);
	return err;
}

typedef struct Worst { double err, x; long bad; } Worst;

static void check(const Fn *f, int isf, double x, Worst *w)
{
	double got = isf ? f->f((float)x) : f->d(x);
	double err = isf ? ulp_err(f->mp, x, got, 24, -125, 128) : ulp_err(f->mp, x, got, 53, -1021, 1024);
	if (err < 0 || err > 1) {
		if (w->bad++ < 5)
			printf("  FAIL %s%s(%a) = %a: %s\n", f->name, isf ? "f" : "", x, got,
			       err < 0 ? "wrong special value" : "error above 1 ulp");
		if (err < 0)
			err = 1e9;
	}
	if (err > w->err) {
		w->err = err;
		w->x = x;
	}
}

/* A random double or float of [lo, hi], uniform over bit patterns. */
static double draw(const Fn *f, int isf)
{
	for (;;) {
		double x;
		if (isf) {
			uint32_t u = (uint32_t)rng();
			float v;
			memcpy(&v, &u, 4);
			x = v;
		} else {
			uint64_t u = rng();
			memcpy(&x, &u, 8);
		}
		if (x >= f->lo && x <= f->hi)
			return x;
	}
}

static const double specials[] = {
	0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -1.0, 0x1p-1074, -0x1p-1074, 0x1p-1022, -0x1p-1022,
	0x1p-149, 0x1p-126, 0x1.fffffffffffffp1023, -0x1.fffffffffffffp1023, 0x1.fffffep127,
	/* exp's overflow and underflow thresholds, double and float */
	0x1.62e42fefa39efp9, 0x1.62e42fefa39f0p9, -0x1.74385446d71c3p9, -0x1.74910d52d3051p9,
	-0x1.74910d52d3052p9, -0x1.6232bdd7abcd2p9, 0x1.62e42ep6, 0x1.62e430p6, -0x1.9fe368p6,
	-0x1.9d1d9ep6, -0x1.5d589ep6,
	/* near the case boundaries: ln2/2, ln2, 1.5 ln2, 20 ln2, 56 ln2, tanh's 1 and 22 */
	0x1.62e42fefa39efp-2, 0x1.62e42fefa39efp-1, 0x1.0a2b23f3bab73p0, 0x1.bb9d3beb8c86bp3,
	0x1.368b2fc6f9609p5, 1.0 - 0x1p-53, 22.0, -22.0, 0x1p-55, -0x1p-55, 0x1p-28, -0.25, 0.25,
	/* log near 1, sqrt(2)/2 and sqrt(2) */
	1.0 + 0x1p-52, 1.0 - 0x1p-53, 0x1.6a09e667f3bccp-1, 0x1.6a09e667f3bcdp-1, 0x1.6a09e667f3bcdp0,
	-1.0 + 0x1p-53, -0x1.fffffffffffffp-1, 0x1p-1023, 1e-300, 1e300,
	/* hard cases of exp and log (Lefèvre and Muller's worst cases) */
	0x1.9e9cbbfd6080bp-31, 0x1.ffffffffffffep-53, -0x1.a2b0fd1bf1d2bp-18, 0x1.6a09e667f3bc9p-2,
	0x1.2d6d8a3c0a4bp-1, 0x1.e0d9b5f6d2c9dp-7,
};

static int run(const Fn *f, int isf, long n)
{
	Worst w = {0, 0, 0};
	for (long i = 0; i < n; i++)
		check(f, isf, draw(f, isf), &w);
	for (size_t i = 0; i < sizeof specials / sizeof *specials; i++)
		for (int s = 0; s < 2; s++) {
			double x = s ? -specials[i] : specials[i];
			check(f, isf, isf ? (double)(float)x : x, &w);
		}
	printf("%-6s %-6s max %.3f ulp at %a%s\n", f->name, isf ? "float" : "double", w.err, w.x,
	       w.bad ? "  FAILED" : "");
	return w.bad != 0;
}

/* Whether libm's double result ref (within 2^-28 float ulp of the exact
 * value) shows got to be within 0.999 ulp, or the special value due; the
 * estimated error in *est.  Near a rounding boundary of overflow or
 * underflow, it cannot tell: 0. */
static int screen(double ref, float got, double *est)
{
	*est = 0;
	if (isnan(ref) || isnan(got))
		return isnan(ref) && isnan(got);
	if (isinf(ref))
		return got == ref;
	if (isinf(got)) /* exact beyond the midpoint of FLT_MAX and 2^128 */
		return fabs(ref) > 0x1.ffffffp127 * (1 + 0x1p-30) && (got > 0) == (ref > 0);
	if (got == 0 || ref == 0) /* exact below half the least subnormal */
		return fabs(ref) < 0x1p-150 * (1 - 0x1p-30) && !signbit(got) == !signbit(ref);
	int e;
	frexp(ref, &e);
	*est = fabs((double)got - ref) / ldexp(1.0, (e < -125 ? -125 : e) - 24);
	return *est < 0.999;
}

/* Every float through f: a quick screen against libm's double function,
 * MPFR where the screen cannot decide. */
static int run_all_floats(const Fn *f)
{
	Worst w = {0, 0, 0};
	long exact = 0;
	uint32_t u = 0;
	do {
		float x;
		memcpy(&x, &u, 4);
		float got = f->f(x);
		double est;
		if (screen(f->libm(x), got, &est)) {
			if (est > w.err)
				w.err = est, w.x = x;
		} else {
			exact++;
			check(f, 1, x, &w);
		}
	} while (++u != 0);
	printf("%-6s float  all 2^32: max %.3f ulp at %a (%ld through MPFR)%s\n", f->name, w.err, w.x,
	       exact, w.bad ? "  FAILED" : "");
	return w.bad != 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* a line per function, as it ends */
	if (argc > 1 && !strcmp(argv[1], "--float-all")) {
		int bad = 0;
		for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
			bad |= run_all_floats(&fns[i]);
		return bad;
	}
	long n = argc > 1 ? atol(argv[1]) : 100000;
	if (argc > 2)
		rng_state = strtoull(argv[2], NULL, 0);
	int bad = 0;
	for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
		for (int isf = 0; isf < 2; isf++)
			bad |= run(&fns[i], isf, n);
	return bad;
}
