/*
 * sgmath.h: symgrad's own elementary functions, in double and float.
 *
 * One source, used twice: gen/ops.c includes it, so the generator's
 * evaluator and constant folding compute with it, and the generator copies
 * the functions a model uses into the generated C (static, before the
 * code), so the generated code computes the very same bits.  Pure IEEE
 * double arithmetic, correct under -ffp-contract=off (no FMA is assumed),
 * no table, no branch on data: every case is computed and the result
 * selected with ?:, which GCC if-converts, so a loop that calls these
 * functions vectorizes.  The same bits on every machine, ISA and C
 * library.  Rounding mode: to nearest (the default); no errno, no
 * exception flags.
 *
 * The algorithms are fdlibm's (Sun Microsystems, 1993; the reductions,
 * polynomials and case split of its e_exp.c, e_log.c, s_log1p.c,
 * s_expm1.c, s_tanh.c), rewritten branch-free.  The float functions
 * compute in double and round once.  Measured maximum errors against
 * MPFR's correctly rounded results are in README "Elementary functions"
 * (tests/math).
 *
 * Layout: each function is a section that starts with a line
 * "/" "*@ NAME DEPENDENCIES *" "/"; the generator copies a section, after
 * its dependencies, when the generated code calls NAME.
 */
/*@ sg_base */
#include <stdint.h>
/* static inline: small enough that compilers inline them at -O2, which
 * vectorizes the loops that call them (tests/loops/vectorized.sh checks) */
#define SG_INLINE static inline
/* A double's bits and back (a union: C99 allows it, compilers fold it). */
SG_INLINE uint64_t sg_bits_(double x)
{
	union { double d; uint64_t u; } v;
	v.d = x;
	return v.u;
}
SG_INLINE double sg_dbl_(uint64_t u)
{
	union { double d; uint64_t u; } v;
	v.u = u;
	return v.d;
}
/* 2^k * y, k = ki - 0x4338000000000000 (the bits of k + 0x1.8p52) in
 * [-1100, 1100]: two exact steps of 2^(k/2), so a result that overflows is
 * Inf and one that is subnormal is rounded once. */
SG_INLINE double sg_scale_(double y, uint64_t ki)
{
	uint64_t u = ki - 0x4338000000000000u + 2048u;  /* k + 2048 */
	uint64_t u1 = u >> 1;                           /* floor(k/2) + 1024 */
	uint64_t u2 = u - u1;                           /* ceil(k/2) + 1024 */
	return y * sg_dbl_((u1 - 1u) << 52) * sg_dbl_((u2 - 1u) << 52);
}
/*@ sg_exp sg_base */
/*
 * exp(x) = 2^k exp(r): k = round(x/ln2), r = hi - lo = x - k ln2 (ln2 in
 * two parts, k ln2hi exact), exp(r) by fdlibm's rational form
 * 1 + 2r/(2 - c), c = r - r^2 P(r^2).  x is clamped to [-746, 710] first
 * (a NaN passes the clamp): beyond, the result is 0 or Inf anyway.
 */
SG_INLINE double sg_exp(double x)
{
	double xc = x > 710.0 ? 710.0 : x;
	xc = xc < -746.0 ? -746.0 : xc;
	double kd = xc * 1.44269504088896338700e+00 + 0x1.8p52;
	uint64_t ki = sg_bits_(kd);
	kd -= 0x1.8p52;
	double hi = xc - kd * 6.93147180369123816490e-01;
	double lo = kd * 1.90821492927058770002e-10;
	double r = hi - lo;
	double t = r * r;
	double c = r - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03
		+ t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06
		+ t * 4.13813679705723846039e-08))));
	double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
	return sg_scale_(y, ki);
}
/*@ sg_log_ sg_base */
/*
 * log(u + c) for u > 0 finite, c a correction below u's ulp (log1p's
 * rounding of 1 + x): u = 2^k z, z in [sqrt(2)/2, sqrt(2)), f = z - 1
 * (exact), log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f/(2 + f),
 * plus k ln2 and c/u.  When k is 0, f is fk (log1p's x itself) and c is
 * not added.  A subnormal u is scaled by 2^54 first.
 */
SG_INLINE double sg_log_(double u, double c, double fk)
{
	double us = u < 0x1p-1022 ? u * 0x1p54 : u;
	double kadj = u < 0x1p-1022 ? 54.0 : 0.0;
	uint64_t ix = sg_bits_(us);
	uint64_t t = ix - 0x3fe6a09e667f3bcdu + 0x4000000000000000u; /* top 12 bits: k + 1024 */
	uint64_t kb = t >> 52;
	double z = sg_dbl_(ix - ((kb - 1024u) << 52));
	double kd = sg_dbl_(0x4330000000000000u | kb) - 0x1p52 - 1024.0 - kadj;
	double f = kd == 0.0 ? fk : z - 1.0;
	double cu = kd == 0.0 ? 0.0 : c / u;
	double s = f / (2.0 + f);
	double z2 = s * s;
	double w = z2 * z2;
	double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01
		+ w * 1.531383769920937332e-01));
	double t2 = z2 * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
		+ w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
	double R = t2 + t1;
	double hfsq = 0.5 * f * f;
	return kd * 6.93147180369123816490e-01
		- ((hfsq - (s * (hfsq + R) + (kd * 1.90821492927058770002e-10 + cu))) - f);
}
/*@ sg_log sg_log_ */
/* log(x); -Inf at +-0, NaN below 0, Inf at Inf. */
SG_INLINE double sg_log(double x)
{
	double r = sg_log_(x, 0.0, x - 1.0);
	r = x < 0.0 ? (x - x) / (x - x) : r;
	r = x == 0.0 ? -1.0 / (x * x) : r;
	r = x > 0x1.fffffffffffffp1023 ? x : r;
	return x != x ? x : r;
}
/*@ sg_log1p sg_log_ */
/* log(1 + x) = log(u + c), u = 1 + x rounded, c = what the rounding lost
 * (Fast2Sum, the larger operand first); x itself where u is near 1. */
SG_INLINE double sg_log1p(double x)
{
	double u = 1.0 + x;
	double c = x >= 1.0 ? 1.0 - (u - x) : x - (u - 1.0);
	double r = sg_log_(u, c, x);
	r = x < -1.0 ? (x - x) / (x - x) : r;
	r = x == -1.0 ? -1.0 / (u * u) : r;
	r = x > 0x1.fffffffffffffp1023 ? x : r;
	r = x == 0.0 ? x : r;
	return x != x ? x : r;
}
/*@ sg_expm1 sg_base */
/*
 * exp(x) - 1: fdlibm's expm1, every case of k computed and one selected.
 * k = round(x/ln2), r + c = x - k ln2, e from the rational approximation
 * of r/2 coth(r/2); then 2^k (1 + expm1(r)) - 1 arranged per k so that no
 * cancellation loses a bit.  x is clamped to [-45, 710] (below, the result
 * rounds to -1; above, to Inf).
 */
SG_INLINE double sg_expm1(double x)
{
	double xc = x > 710.0 ? 710.0 : x;
	xc = xc < -45.0 ? -45.0 : xc;
	double kd = xc * 1.44269504088896338700e+00 + 0x1.8p52;
	uint64_t ki = sg_bits_(kd);
	kd -= 0x1.8p52;
	double hi = xc - kd * 6.93147180369123816490e-01;
	double lo = kd * 1.90821492927058770002e-10;
	double r = hi - lo;
	double c = (hi - r) - lo;
	double hfx = 0.5 * r;
	double hxs = r * hfx;
	double r1 = 1.0 + hxs * (-3.33333333333331316428e-02 + hxs * (1.58730158725481460165e-03
		+ hxs * (-7.93650757867487942473e-05 + hxs * (4.00821782732936239552e-06
		+ hxs * -2.01099218183624371326e-07))));
	double t = 3.0 - r1 * hfx;
	double e = hxs * ((r1 - t) / (6.0 - r * t));
	double k0 = r - (r * e - hxs);
	e = (r * (e - c) - c) - hxs;
	double km1 = 0.5 * (r - e) - 0.5;
	double k1 = r < -0.25 ? -2.0 * (e - (r + 0.5)) : 1.0 + 2.0 * (r - e);
	/* 2^-k, for k in [2, 56] (other k select another case) */
	uint64_t kb = ki - 0x4338000000000000u + 1023u;
	double p2mk = sg_dbl_((2046u - kb) << 52);
	double kbig = sg_scale_(1.0 - (e - r), ki) - 1.0;
	double kmid = sg_scale_((1.0 - p2mk) - (e - r), ki);
	double khigh = sg_scale_((r - (e + p2mk)) + 1.0, ki);
	double y = kd < 20.0 ? kmid : khigh;
	y = kd <= -2.0 || kd > 56.0 ? kbig : y;
	y = kd == 1.0 ? k1 : y;
	y = kd == -1.0 ? km1 : y;
	y = kd == 0.0 ? k0 : y;
	y = x == 0.0 ? x : y;
	return x != x ? x : y;
}
/*@ sg_tanh sg_exp */
/*
 * tanh(x): below |x| = 0.9731 (tanh 0.75), x + x y P(y), y = x^2, P of
 * degree 15 (a Chebyshev fit of (tanh(sqrt y) - sqrt y)/y^1.5, error below
 * 2^-58 of x); above, 1 - 2/(exp(2|x|) + 1), whose rounding errors weigh at
 * most a quarter ulp of a result above 0.75; the sign of x.
 * (fdlibm's tanh, over expm1 throughout, is off by up to 2 ulp.)
 */
SG_INLINE double sg_tanh(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double a = sg_dbl_(sg_bits_(x) ^ sign);
	double y = x * x;
	double p = 2.8751728169437037e-08;
	p = -2.887475675755366e-07 + y * p;
	p = 1.4600948834328474e-06 + y * p;
	p = -5.1406149434873904e-06 + y * p;
	p = 1.4796959596671828e-05 + y * p;
	p = -3.855534791062222e-05 + y * p;
	p = 9.656545195534761e-05 + y * p;
	p = -0.0002390028131749822 + y * p;
	p = 0.0005899939099587149 + y * p;
	p = -0.001455827984144558 + y * p;
	p = 0.0035921271868695447 + y * p;
	p = -0.008863235455545092 + y * p;
	p = 0.02186948853220544 + y * p;
	p = -0.05396825396814342 + y * p;
	p = 0.1333333333333321 + y * p;
	p = -0.3333333333333333 + y * p;
	double small = sg_dbl_(sg_bits_(a + a * (y * p)) | sign);
	double e = sg_exp(2.0 * a); /* Inf beyond 355: 1 - 0 */
	double big = sg_dbl_(sg_bits_(1.0 - 2.0 / (e + 1.0)) | sign);
	return a < 0.9731 ? small : big;
}
/*@ sg_expf sg_exp */
/* The float functions: the double function, rounded once to float (its
 * error, below 1 ulp of double, moves the float result only where the
 * exact value lies within 2^-29 ulp of a rounding boundary). */
SG_INLINE float sg_expf(float x) { return (float)sg_exp(x); }
/*@ sg_logf sg_log */
SG_INLINE float sg_logf(float x) { return (float)sg_log(x); }
/*@ sg_log1pf sg_log1p */
SG_INLINE float sg_log1pf(float x) { return (float)sg_log1p(x); }
/*@ sg_expm1f sg_expm1 */
SG_INLINE float sg_expm1f(float x) { return (float)sg_expm1(x); }
/*@ sg_tanhf sg_tanh */
SG_INLINE float sg_tanhf(float x) { return (float)sg_tanh(x); }
