/*
 * sgmath.h: symgrad's own elementary functions, in double and float.
 *
 * One source, used twice: gen/ops.c includes it, so the generator's
 * evaluator and constant folding compute with it, and the generator copies
 * the functions a model uses into the generated C (static, before the
 * code), so the generated code computes the very same bits.  Pure IEEE
 * arithmetic, correct under -ffp-contract=off (no FMA is assumed),
 * no table, no branch on data: every case is computed and the result
 * selected with ?:, which GCC if-converts, so a loop that calls these
 * functions vectorizes.  The same bits on every machine, ISA and C
 * library.  Rounding mode: to nearest (the default); no errno, no
 * exception flags.
 *
 * The algorithms are fdlibm's (Sun Microsystems, 1993; the reductions,
 * polynomials and case split of its e_exp.c, e_log.c, s_log1p.c,
 * s_expm1.c, s_tanh.c), rewritten branch-free; exp is a polynomial (no
 * division).  The float functions compute in double and round once, but
 * expf, which computes in float (twice the lanes), and logf, which
 * reduces its argument in float.  Measured
 * maximum errors against MPFR's correctly rounded results are in README
 * "Elementary functions" (tests/math).
 *
 * Layout: each function is a section that starts with a line
 * "/" "*@ NAME DEPENDENCIES *" "/"; the generator copies a section, after
 * its dependencies, when the generated code calls NAME.
 */
/*@ sg_inc_ */
#include <stdint.h>
/* static inline: small enough that compilers inline them at -O2, which
 * vectorizes the loops that call them (tests/loops/vectorized.sh checks) */
#define SG_INLINE static inline
/*@ sg_base sg_inc_ */
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
/*@ sg_nan_ sg_base */
/* Special results as constants, not as divisions: a select computes both
 * of its sides in every lane of a vectorized loop, and a division costs
 * as much as a dozen adds.  sg_nan_ is the NaN that 0/0 gives on x86 (sign
 * set, quiet, no payload), now on every machine; sg_inf_(s) is s times
 * +Inf, s = 1 or -1. */
SG_INLINE double sg_nan_(void) { return sg_dbl_(0xfff8000000000000u); }
/*@ sg_inf_ sg_base */
SG_INLINE double sg_inf_(double s) { return s * sg_dbl_(0x7ff0000000000000u); }
/*@ sg_2sum_ sg_base */
/* Knuth's TwoSum: s + *e = a + b exactly */
SG_INLINE double sg_2sum_(double a, double b, double *e)
{
	double s = a + b;
	double bb = s - a;
	*e = (a - (s - bb)) + (b - bb);
	return s;
}
/*@ sg_2prod_ sg_base */
/* Dekker's product: p + *e = a b exactly (Veltkamp's split; no FMA) */
SG_INLINE double sg_2prod_(double a, double b, double *e)
{
	double c = 134217729.0 * a;
	double a1 = c - (c - a), a2 = a - a1;
	c = 134217729.0 * b;
	double b1 = c - (c - b), b2 = b - b1;
	double p = a * b;
	*e = ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2;
	return p;
}
/*@ sg_scale_ sg_base */
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
/*@ sg_rint_ sg_base */
/* round to the nearest integer, |v| < 2^51 */
SG_INLINE double sg_rint_(double v)
{
	return (v + 0x1.8p52) - 0x1.8p52;
}
/*@ sg_expr_ sg_base */
/*
 * exp(x) = 2^k (h + t), for x in [-746, 710]: k = round(x/ln2) (*ki holds
 * the bits of k + 0x1.8p52, as sg_scale_ takes them), r = hi - lo = x - k
 * ln2 (ln2 in two parts, k ln2hi exact), exp(r) = 1 + (hi - lo) + r^2 q(r),
 * q of degree 9 by Estrin's scheme (Chebyshev interpolation of
 * (exp(r) - 1 - r)/r^2 on |r| <= 0.3467, mpmath's chebyfit: within
 * 2^-55.8 of exp(r)), 1 + hi in two parts (Fast2Sum): h = 1 + hi rounded,
 * *t the rest.  sg_exp rounds h + t; sg_tanh keeps both.
 */
SG_INLINE double sg_expr_(double x, uint64_t *ki, double *t)
{
	double kd = x * 1.44269504088896338700e+00 + 0x1.8p52;
	*ki = sg_bits_(kd);
	kd -= 0x1.8p52;
	double hi = x - kd * 6.93147180369123816490e-01;
	double lo = kd * 1.90821492927058770002e-10;
	double r = hi - lo;
	double r2 = r * r, r4 = r2 * r2;
	double p0 = 0x1.0000000000001p-1 + r * 0x1.5555555555556p-3;
	double p1 = 0x1.5555555553d5ep-5 + r * 0x1.11111111109b2p-7;
	double p2 = 0x1.6c16c1788dc33p-10 + r * 0x1.a01a01a7c54aep-13;
	double p3 = 0x1.a019b905bafb1p-16 + r * 0x1.71de0da9d06acp-19;
	double p4 = 0x1.28918e390a71ep-22 + r * 0x1.af38b4925be09p-26;
	double q = (p0 + r2 * p1) + r4 * ((p2 + r2 * p3) + r4 * p4);
	double h = 1.0 + hi;
	*t = ((1.0 - h) + hi) + (r2 * q - lo);
	return h;
}
/*@ sg_exp sg_scale_ sg_expr_ */
/*
 * exp(x) = 2^k exp(r) (sg_expr_), rounded about once.  No division: it
 * vectorizes to the full width.  x is clamped to [-746, 710] first (a NaN
 * passes the clamp): beyond, the result is 0 or Inf anyway.
 */
SG_INLINE double sg_exp(double x)
{
	double xc = x > 710.0 ? 710.0 : x;
	xc = xc < -746.0 ? -746.0 : xc;
	uint64_t ki;
	double t;
	double h = sg_expr_(xc, &ki, &t);
	return sg_scale_(h + t, ki);
}
/*@ sg_logr_ sg_inc_ */
/* fdlibm's R(s^2) of log(1 + f) = 2s + s R(s^2), s = f/(2 + f), |s| <=
 * 0.1716 (its Lg1..Lg7, within 2^-58.45), in two halves by w = s^4. */
SG_INLINE double sg_logr_(double s)
{
	double z2 = s * s;
	double w = z2 * z2;
	double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01
		+ w * 1.531383769920937332e-01));
	double t2 = z2 * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
		+ w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
	return t2 + t1;
}
/*@ sg_log_ sg_base sg_logr_ */
/*
 * log(u + c) for u > 0 finite, c a correction below u's ulp (log1p's
 * rounding of 1 + x), given cu = c/u (the caller divides, so log, whose c
 * is 0, does not): u = 2^k z, z in [sqrt(2)/2, sqrt(2)), f = z - 1
 * (exact), log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f/(2 + f),
 * plus k ln2 and c/u.  When k is 0, f is fk (log1p's x itself) and c/u is
 * not added.  A subnormal u is scaled by 2^54 first.
 */
SG_INLINE double sg_log_(double u, double cu, double fk)
{
	double us = u < 0x1p-1022 ? u * 0x1p54 : u;
	double kadj = u < 0x1p-1022 ? 54.0 : 0.0;
	uint64_t ix = sg_bits_(us);
	uint64_t t = ix - 0x3fe6a09e667f3bcdu + 0x4000000000000000u; /* top 12 bits: k + 1024 */
	uint64_t kb = t >> 52;
	double z = sg_dbl_(ix - ((kb - 1024u) << 52));
	double kd = sg_dbl_(0x4330000000000000u | kb) - 0x1p52 - 1024.0 - kadj;
	double f = kd == 0.0 ? fk : z - 1.0;
	cu = kd == 0.0 ? 0.0 : cu;
	double s = f / (2.0 + f);
	double R = sg_logr_(s);
	double hfsq = 0.5 * f * f;
	return kd * 6.93147180369123816490e-01
		- ((hfsq - (s * (hfsq + R) + (kd * 1.90821492927058770002e-10 + cu))) - f);
}
/*@ sg_log sg_log_ sg_nan_ sg_inf_ */
/* log(x); -Inf at +-0, NaN below 0, Inf at Inf. */
SG_INLINE double sg_log(double x)
{
	double r = sg_log_(x, 0.0, x - 1.0); /* c = 0: no c/u */
	r = x < 0.0 ? sg_nan_() : r;
	r = x == 0.0 ? sg_inf_(-1.0) : r;
	r = x > 0x1.fffffffffffffp1023 ? x : r;
	return x != x ? x : r;
}
/*@ sg_log1p sg_log_ sg_nan_ sg_inf_ */
/* log(1 + x) = log(u + c), u = 1 + x rounded, c = what the rounding lost
 * (Fast2Sum, the larger operand first); x itself where u is near 1. */
SG_INLINE double sg_log1p(double x)
{
	double u = 1.0 + x;
	double c = x >= 1.0 ? 1.0 - (u - x) : x - (u - 1.0);
	double r = sg_log_(u, c / u, x);
	r = x < -1.0 ? sg_nan_() : r;
	r = x == -1.0 ? sg_inf_(-1.0) : r;
	r = x > 0x1.fffffffffffffp1023 ? x : r;
	r = x == 0.0 ? x : r;
	return x != x ? x : r;
}
/*@ sg_expm1 sg_scale_ */
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
/*@ sg_tanh sg_expr_ sg_2prod_ */
/*
 * tanh(x), by a = |x|, then the sign of x:
 * - below 0.4: a + a y P(y), y = a^2, P of degree 15 (a Chebyshev fit of
 *   (tanh(sqrt y) - sqrt y)/y^1.5, error below 2^-58 of a).  The term
 *   a y P(y) is at most a twentieth of the result, so its few roundings
 *   weigh little.
 * - from 0.4 to 22: 1 - 2/(e + 1), e = exp(2a) = 2^k exp(r), all in two
 *   parts: sg_exp's reduction and polynomial (sg_expr_), 1 + r kept exact,
 *   e + 1 exact, the quotient corrected by its residual (Dekker's product),
 *   1 - q exact, rounded once at the end, so the cancellation in
 *   1 - 2/(e + 1) costs nothing: what is left is the polynomial's 2^-55.8.
 * - above 22: 1 (tanh 22 is 1 - 1.6e-19).
 * Before, the polynomial ran to 0.9731 and plain double above: both
 * reached 1.11 and 0.99 ulp near 0.97 (the 10^8-double run found them).
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
	double small = a + a * (y * p);
	/* from 0.4: a clamped into [0.4, 22] (a NaN stays NaN, unselected) */
	double am = a < 0.4 ? 0.4 : a;
	am = am > 22.0 ? 22.0 : am;
	uint64_t ki;
	double t;
	double h = sg_expr_(am + am, &ki, &t);      /* exp(2 am) = 2^k (h + t), k in 1..64 */
	double p2k = sg_dbl_((ki - 0x4338000000000000u + 1023u) << 52);
	double eh = (h + t) * p2k;                  /* e = eh + el, exact scaling */
	double el = ((h - (h + t)) + t) * p2k;
	double dh = eh + 1.0;                       /* e + 1 = dh + dl (eh > 2) */
	double dl = ((eh - dh) + 1.0) + el;
	double qh = 2.0 / dh;                       /* 2/(e + 1) = qh + ql */
	double pe;
	double pr = sg_2prod_(qh, dh, &pe);         /* qh dh exactly */
	double ql = (((2.0 - pr) - pe) - qh * dl) * (0.5 * qh);
	double s = 1.0 - qh;                        /* 1 - qh = s + se exactly */
	double se = (1.0 - s) - qh;
	double big = s + (se - ql);
	double res = a < 0.4 ? small : big;
	res = a > 22.0 ? 1.0 : res;
	res = sg_dbl_(sg_bits_(res) | sign);
	return x != x ? x : res;
}
/*@ sg_basef_ sg_inc_ */
/* A float's bits and back. */
SG_INLINE uint32_t sg_bitsf_(float x)
{
	union { float f; uint32_t u; } v;
	v.f = x;
	return v.u;
}
SG_INLINE float sg_flt_(uint32_t u)
{
	union { float f; uint32_t u; } v;
	v.u = u;
	return v.f;
}
/*@ sg_expf sg_basef_ */
/*
 * expf computes in float (16 lanes of AVX-512, 8 of AVX2), within 1 ulp,
 * checked on every float (tests/math/ulp.c --float-all: 0.808 ulp at
 * most).  exp(x) = 2^k exp(r): k = round(x/ln2), r = x - k ln2 (ln2hi of
 * 15 bits, so k ln2hi and x - k ln2hi are exact for |k| <= 150; r is the
 * difference with k ln2lo, rounded once), exp(r) = 1 + r + r^2 q(r), q of
 * degree 4, the minimax polynomial for exp's relative error on |r| <=
 * ln2/2, its coefficients rounded to float (tests/math/fit_expf.py: within
 * 2^-28.0 of e^r), 1 + r in two parts; 2^k in two exact steps, so a
 * subnormal result is rounded once.  x is clamped to [-104, 89] (a NaN
 * passes).
 */
SG_INLINE float sg_expf(float x)
{
	float xc = x > 89.0f ? 89.0f : x;
	xc = xc < -104.0f ? -104.0f : xc;
	float kf = xc * 0x1.715476p+0f + 0x1.8p23f;
	uint32_t ki = sg_bitsf_(kf);
	kf -= 0x1.8p23f;
	float hi = xc - kf * 0x1.62e4p-1f;
	float r = hi - kf * 0x1.7f7d1cp-20f;
	float r2 = r * r;
	float p0 = 0x1.fffffcp-2f + r * 0x1.555492p-3f;
	float p1 = 0x1.5558f2p-5f + r * 0x1.123a2p-7f;
	float q = p0 + r2 * (p1 + r2 * 0x1.6a23cep-10f);
	float h = 1.0f + r;
	float e = (1.0f - h) + r;
	float y = h + (e + r2 * q);
	uint32_t u = ki - (0x4b400000u - 254u); /* k + 254, k in [-150, 128] */
	uint32_t u1 = u >> 1;                    /* floor(k/2) + 127 */
	return y * sg_flt_(u1 << 23) * sg_flt_((u - u1) << 23); /* 2^floor(k/2) 2^ceil(k/2) */
}
/*@ sg_logf sg_basef_ sg_logr_ */
/*
 * logf, correctly rounded on every float (tests/math/ulp.c --float-cr log
 * checks all 2^32): the reduction in float (8 lanes of AVX2), the
 * rest in double.  x = 2^k z, z in [sqrt(2)/2, sqrt(2)) (a subnormal x
 * scaled by 2^23 first), f = z - 1 (exact), s = f/(2 + f), log(1 + f) =
 * 2s + s R(s^2) = s (2 + R), R sg_log_'s polynomial (fdlibm's Lg1..Lg7),
 * plus k ln2 (one constant), rounded to float once.  Three floats whose
 * log lies within about 2^-53 of a midpoint between two floats round the
 * wrong way by that, and are selected from constants.  (log in double
 * rounded to float, as before, takes 1.3 to 1.5 times as long in a
 * vectorized loop and misrounds five floats: two twice rounded, the three
 * here.  fdlibm's e_logf.c, computed in float, measured 0.888 ulp; bce's
 * float results must equal PyTorch's, tests/gradcheck.)
 */
SG_INLINE float sg_logf(float x)
{
	float xs = x < 0x1p-126f ? x * 0x1p23f : x;
	float kadj = x < 0x1p-126f ? 23.0f : 0.0f;
	uint32_t ix = sg_bitsf_(xs);
	uint32_t t = ix - 0x3f3504f3u + 0x40000000u;     /* top 9 bits: k + 128 */
	uint32_t kb = t >> 23;
	float z = sg_flt_(ix - ((kb - 128u) << 23));
	double f = (double)(z - 1.0f);                   /* exact (Sterbenz) */
	double k = (double)((float)(int32_t)kb - 128.0f - kadj);
	double s = f / (2.0 + f);
	float r = (float)(k * 6.93147180559945286227e-01 + s * (2.0 + sg_logr_(s)));
	r = x == 0x1.bacb4ap+25f ? 0x1.1e0696p+4f : r;
	r = x == 0x1.b121a6p+76f ? 0x1.a9a3f2p+5f : r;
	r = x == 0x1.6351d8p+95f ? 0x1.08b512p+6f : r;
	r = x < 0.0f ? sg_flt_(0xffc00000u) : r;         /* the NaN 0/0 gives */
	r = x == 0.0f ? -sg_flt_(0x7f800000u) : r;
	r = x > 0x1.fffffep127f ? x : r;
	return x != x ? x + x : r;                       /* a NaN, quiet */
}
/*@ sg_log1pf sg_log1p */
SG_INLINE float sg_log1pf(float x) { return (float)sg_log1p(x); }
/*@ sg_expm1f sg_expm1 */
SG_INLINE float sg_expm1f(float x) { return (float)sg_expm1(x); }
/*@ sg_tanhf sg_tanh */
SG_INLINE float sg_tanhf(float x) { return (float)sg_tanh(x); }
/*@ sg_trig_ sg_rint_ sg_2sum_ */
/*
 * sin and cos share this: the reduction of |x| to r = y0 + y1 in
 * [-pi/4, pi/4] (a little beyond for huge x) and a quadrant q, |x| =
 * r + (q + 4m) pi/2, then the two kernels.  Both reductions are computed
 * and one selected:
 *  - |x| < 2^19: Cody and Waite's, n = round(|x| 2/pi), |x| - n pi/2 with
 *    pi/2 in three pieces of 33 bits and a fourth of 53 (fdlibm's
 *    e_rem_pio2.c constants; n pi/2_i exact for the first three), each
 *    step's rounding error carried by TwoSum: about 150 bits of pi/2, which
 *    the worst cancellation below 2^19 leaves enough.
 *  - |x| >= 2^19: Payne and Hanek's, exact.  |x| = M 2^(E-52), M in three
 *    24-bit pieces X_a; 2/pi = sum P_j 2^(-24(j+1)), P_j its 24-bit digits
 *    (sg_2opi_, from MPFR).  Each X_a P_j is exact (48 bits), and so is the
 *    sum S_i of the three of weight 2^(E-28-24(k0+i)); the digits above
 *    weight 8 (k < k0) contribute multiples of 8, that is whole turns, and
 *    are skipped; eight digits reach 2^-139 below the point, against a
 *    fraction that is never below 2^-62 for a double (the worst case,
 *    6381956970095103 2^797, is in tests/math/ulp.c).  The digits are made
 *    balanced (|S_i| <= 2^23) with exact carries, the integer part taken
 *    from the top two (exactly), and the rest summed top-down with Knuth's
 *    TwoSum, exact while a cancellation lasts; then times pi/2 in
 *    double-double (Dekker's product).
 * The kernels are fdlibm's k_sin.c and k_cos.c polynomials (error below
 * 2^-58 on [-pi/4, pi/4]), taking the tail y1.
 */
static const double sg_2opi_[52] = {
	0, 0, /* P_-2, P_-1: the index is k - a + 2 */
	0xA2F983, 0x6E4E44, 0x1529FC, 0x2757D1, 0xF534DD, 0xC0DB62, 0x95993C, 0x439041,
	0xFE5163, 0xABDEBB, 0xC561B7, 0x246E3A, 0x424DD2, 0xE00649, 0x2EEA09, 0xD1921C,
	0xFE1DEB, 0x1CB129, 0xA73EE8, 0x8235F5, 0x2EBB44, 0x84E99C, 0x7026B4, 0x5F7E41,
	0x3991D6, 0x398353, 0x39F49C, 0x845F8B, 0xBDF928, 0x3B1FF8, 0x97FFDE, 0x05980F,
	0xEF2F11, 0x8B5A0A, 0x6D1F6D, 0x367ECF, 0x27CB09, 0xB74F46, 0x3F669E, 0x5FEA2D,
	0x7527BA, 0xC7EBE5, 0xF17B3D, 0x0739F7, 0x8A5292, 0xEA6BFB, 0x5FB11F, 0x8D5D08,
};
/* 2^e, e in [-1022, 1023] */
SG_INLINE double sg_pow2_(int e)
{
	return sg_dbl_((uint64_t)(e + 1023) << 52);
}
/* Cody and Waite: a = |x| < 2^19 */
SG_INLINE double sg_redcw_(double a, double *y1, double *n)
{
	double fn = sg_rint_(a * 0x1.45f306dc9c883p-1);
	double r = a - fn * 0x1.921fb544p+0;  /* exact, as fn * pi/2_i below */
	double e1, e2;
	r = sg_2sum_(r, -fn * 0x1.0b4611a6p-34, &e1);
	r = sg_2sum_(r, -fn * 0x1.3198a2ep-69, &e2);
	double w = (e1 + e2) - fn * 0x1.b839a252049c1p-104;
	double y0 = r + w;
	*y1 = w - (y0 - r);
	*n = fn;
	return y0;
}
/* Payne and Hanek: ix the bits of a = |x| >= 2^19 (any other a gives a
 * value not used) */
SG_INLINE double sg_redph_(uint64_t ix, double *y1, double *n)
{
	int e = (int)(ix >> 52) - 1023;
	e = e < 19 ? 19 : e > 1023 ? 1023 : e;
	uint64_t m = (ix & 0x000fffffffffffffu) | 0x0010000000000000u;
	double x0 = sg_dbl_(0x4330000000000000u | (m >> 48)) - 0x1p52;
	double x1 = sg_dbl_(0x4330000000000000u | ((m >> 24) & 0xffffffu)) - 0x1p52;
	double x2 = sg_dbl_(0x4330000000000000u | (m & 0xffffffu)) - 0x1p52;
	int k0 = (e - 7) / 24;  /* the first digit of weight below 8 */
	int w0 = e - 28 - 24 * k0;  /* its weight, in [-21, 2] */
	double s[8];
	for (int i = 0; i < 8; i++) {
		const double *p = sg_2opi_ + k0 + i;
		s[i] = x0 * p[2] + x1 * p[1] + x2 * p[0];
	}
	for (int i = 7; i > 0; i--) {  /* balanced digits, exact carries */
		double c = sg_rint_(s[i] * 0x1p-24);
		s[i] -= c * 0x1p24;
		s[i - 1] += c;
	}
	double t0 = s[0] * sg_pow2_(w0);
	t0 -= 8.0 * sg_rint_(t0 * 0.125);          /* in [-4, 4], exact */
	double hi = t0 + s[1] * sg_pow2_(w0 - 24);  /* exact: 48 bits */
	double fn = sg_rint_(hi);
	hi -= fn;
	double lo = 0.0;
	for (int i = 2; i < 8; i++) {  /* TwoSum, top-down */
		double e;
		hi = sg_2sum_(hi, s[i] * sg_pow2_(w0 - 24 * i), &e);
		lo += e;
	}
	double f = hi + lo;
	lo -= f - hi;
	/* (f + lo) (pi/2 = p1 + p2): f p1 exactly by Dekker's product */
	const double p1 = 0x1.921fb54442d18p0, p2 = 0x1.1a62633145c07p-54;
	double c = 134217729.0 * p1;  /* Veltkamp's split: 26 + 26 bits (folded) */
	double p1h = c - (c - p1), p1l = p1 - p1h;
	c = 134217729.0 * f;
	double fh = c - (c - f), fl = f - fh;
	double ph = f * p1;
	double pl = ((fh * p1h - ph) + fh * p1l + fl * p1h) + fl * p1l;
	pl += lo * p1 + f * p2;
	double y0 = ph + pl;
	*y1 = pl - (y0 - ph);
	*n = fn;
	return y0;
}
/* r = y0 + y1 reduced, |x| = r + n pi/2 (mod 2 pi); q = n mod 4 */
SG_INLINE double sg_reduce_(double x, double *y1, int *q)
{
	uint64_t ix = sg_bits_(x) & 0x7fffffffffffffffu;
	double a = sg_dbl_(ix);
	double c1, p1, cn, pn;
	double c0 = sg_redcw_(a < 0x1p19 ? a : 0.0, &c1, &cn);
	double p0 = sg_redph_(ix, &p1, &pn);
	int small = a < 0x1p19;
	*y1 = small ? c1 : p1;
	*q = (int)(small ? cn : pn) & 3;
	return small ? c0 : p0;
}
/*@ sg_ksincos_ sg_trig_ */
SG_INLINE double sg_ksin_(double x, double y)
{
	double z = x * x;
	double v = z * x;
	double r = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04
		+ z * (2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08
		+ z * 1.58969099521155010221e-10)));
	return x - ((z * (0.5 * y - v * r) - y) - v * -1.66666666666666324348e-01);
}
SG_INLINE double sg_kcos_(double x, double y)
{
	double z = x * x;
	double w = z * z;
	double r = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03
		+ z * 2.48015872894767294178e-05)) + w * w * (-2.75573143513906633035e-07
		+ z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11));
	double hz = 0.5 * z;
	w = 1.0 - hz;
	return w + (((1.0 - w) - hz) + (z * r - x * y));
}
/*@ sg_sin sg_ksincos_ */
/* sin(x) = sign(x) sin|x|; sin(+-0) = +-0, NaN at +-Inf and NaN. */
SG_INLINE double sg_sin(double x)
{
	double y1;
	int q;
	double y0 = sg_reduce_(x, &y1, &q);
	double s = sg_ksin_(y0, y1), c = sg_kcos_(y0, y1);
	double r = q & 1 ? c : s;
	r = q & 2 ? -r : r;
	r = sg_dbl_(sg_bits_(r) ^ (sg_bits_(x) & 0x8000000000000000u));
	return x - x == 0.0 ? r : x - x;
}
/*@ sg_cos sg_ksincos_ */
/* cos(x) = cos|x|; cos(+-0) = 1, NaN at +-Inf and NaN. */
SG_INLINE double sg_cos(double x)
{
	double y1;
	int q;
	double y0 = sg_reduce_(x, &y1, &q);
	double s = sg_ksin_(y0, y1), c = sg_kcos_(y0, y1);
	double r = q & 1 ? s : c;
	r = (q + 1) & 2 ? -r : r;
	return x - x == 0.0 ? r : x - x;
}
/*@ sg_sinf sg_sin */
SG_INLINE float sg_sinf(float x) { return (float)sg_sin(x); }
/*@ sg_cosf sg_cos */
SG_INLINE float sg_cosf(float x) { return (float)sg_cos(x); }
/*@ sg_pow sg_rint_ sg_scale_ sg_nan_ */
/*
 * pow(x, y), by fdlibm's method (e_pow.c; rewritten branch-free): log2|x|
 * = t1 + t2 to about 2^-64 relative, t1 with 29 trailing zero bits, from
 * |x| = 2^n m, m near 1 or 1.5 (bp), s = (m - bp)/(m + bp), log m =
 * log bp + 2 s + 2/3 s^3 + s^5 L(s^2), each product of leading parts exact;
 * then y log2|x| = ph + pl with y's leading 21 bits times t1 exact, and
 * 2^(ph + pl) = 2^k exp(r ln2) as in sg_exp.  |y| is clamped to 2^64,
 * beyond which every |x| other than 1 overflows or underflows anyway.
 * Special values as C99 Annex F says (pow(x, +-0) = 1, pow(1, y) = 1, even
 * for a NaN; pow(-1, +-Inf) = 1; a negative finite x to a non-integer y is
 * NaN; the zeros and infinities of x by the sign of y and whether it is an
 * odd integer); pow(x, 1) = x and pow(x, 2) = x x exactly.
 */
SG_INLINE double sg_lo0_(double v)  /* v with its low 32 bits cleared */
{
	return sg_dbl_(sg_bits_(v) & 0xffffffff00000000u);
}
SG_INLINE double sg_pow(double x, double y)
{
	double ax = sg_dbl_(sg_bits_(x) & 0x7fffffffffffffffu);
	double ay = sg_dbl_(sg_bits_(y) & 0x7fffffffffffffffu);
	/* y an integer (every double from 2^52 on is), an odd one */
	double yc = ay < 0x1p52 ? ay : 0.0;
	int yint = ay >= 0x1p52 || (yc + 0x1p52) - 0x1p52 == yc;
	double yh = (ay < 0x1p53 ? ay : 0.0) * 0.5;
	int yodd = yint && (yh + 0x1p52) - 0x1p52 != yh;
	/* |x| = 2^n m, m in [sqrt(3)/2, sqrt(3)), subnormals scaled first */
	int sub = ax < 0x1p-1022;
	uint64_t bx = sg_bits_(sub ? ax * 0x1p53 : ax);
	uint64_t hx = bx >> 32, j = hx & 0xfffffu;
	int k = j > 0x3988eu && j < 0xbb67au;  /* m near 1.5 */
	int up = j >= 0xbb67au;                /* m in [sqrt(3)/2, 1) */
	hx = (j | 0x3ff00000u) - (up ? 0x100000u : 0u);
	double n = (double)((int)(bx >> 52) - 1023 + up - (sub ? 53 : 0));
	double m = sg_dbl_(hx << 32 | (bx & 0xffffffffu));
	double bp = k ? 1.5 : 1.0;
	double dph = k ? 5.84962487220764160156e-01 : 0.0;  /* log2(1.5), 24 bits */
	double dpl = k ? 1.35003920212974897128e-08 : 0.0;  /* and its tail */
	/* s = sh + sl = (m - bp)/(m + bp), sh with 21 bits, th + tl = m + bp */
	double u = m - bp, v = 1.0 / (m + bp);
	double ss = u * v;
	double sh = sg_lo0_(ss);
	double th = sg_dbl_((((hx >> 1) | 0x20000000u) + 0x00080000u + ((uint64_t)k << 18)) << 32);
	double tl = m - (th - bp);
	double sl = v * ((u - sh * th) - sh * tl);
	/* log m - log bp = 2 s (1 + s^2/3 + ...), times 2/(3 ln 2) */
	double s2 = ss * ss;
	double r = s2 * s2 * (5.99999999999994648725e-01 + s2 * (4.28571428578550184252e-01
		+ s2 * (3.33333329818377432918e-01 + s2 * (2.72728123808534006489e-01
		+ s2 * (2.30660745775561754067e-01 + s2 * 2.06975017800338417784e-01)))));
	r += sl * (sh + ss);
	s2 = sh * sh;
	th = sg_lo0_(3.0 + s2 + r);
	tl = r - ((th - 3.0) - s2);
	u = sh * th;
	v = sl * th + tl * ss;
	double ph = sg_lo0_(u + v);
	double pl = v - (ph - u);
	const double cp = 9.61796693925975554329e-01;  /* 2/(3 ln 2) = cph + cpl */
	const double cph = 9.61796700954437255859e-01, cpl = -7.02846165095275826516e-09;
	double zh = cph * ph;
	double zl = cpl * ph + pl * cp + dpl;
	double t1 = sg_lo0_(((zh + zl) + dph) + n);
	double t2 = zl - (((t1 - n) - dph) - zh);
	/* y log2|x| = ph + pl */
	double yy = y > 0x1p64 ? 0x1p64 : y < -0x1p64 ? -0x1p64 : y;
	double y1 = sg_lo0_(yy);
	pl = (yy - y1) * t1 + yy * t2;
	ph = y1 * t1;
	double z = ph + pl;
	/* beyond +-1100 the result is Inf or 0: 2^+-1100 */
	int out = z > 1100.0 || z < -1100.0;
	ph = z > 1100.0 ? 1100.0 : z < -1100.0 ? -1100.0 : ph;
	pl = out ? 0.0 : pl;
	double kd = sg_rint_(ph + pl);
	uint64_t ki = sg_bits_(kd + 0x1.8p52);
	ph -= kd;  /* exact */
	/* 2^(ph + pl) = exp(z + w), z + w = (ph + pl) ln 2 */
	double t = sg_lo0_(pl + ph);
	u = t * 6.93147182464599609375e-01;
	v = (pl - (t - ph)) * 6.93147180559945286227e-01 + t * -1.90465429995776804525e-09;
	z = u + v;
	double w = v - (z - u);
	t = z * z;
	t1 = z - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03
		+ t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06
		+ t * 4.13813679705723846039e-08))));
	r = (z * t1) / (t1 - 2.0) - (w + z * w);
	double res = sg_scale_(1.0 - (r - z), ki);
	/* signs and special values */
	res = x < 0.0 && yodd ? -res : res;
	res = x < 0.0 && !yint ? sg_nan_() : res;
	double zi = y < 0.0 ? 1.0 / ax : ax;  /* x = +-0 or +-Inf */
	zi = sg_bits_(x) >> 63 && yodd ? -zi : zi;
	res = ax == 0.0 || ax > 0x1.fffffffffffffp1023 ? zi : res;
	res = y == 1.0 ? x : res;
	res = y == 2.0 ? x * x : res;
	res = x != x || y != y ? x + y : res;
	return x == 1.0 || y == 0.0 ? 1.0 : res;
}
/*@ sg_powf sg_pow */
SG_INLINE float sg_powf(float x, float y) { return (float)sg_pow(x, y); }
/*@ sg_atan_ sg_base */
/*
 * atan(t + tl) = c + *u for t >= 0 (tl a correction below t's ulp; +Inf
 * gives pi/2), by fdlibm's method (s_atan.c, its coefficients): t reduced
 * to |r| <= 7/16 around 0, 1/2, 1, 3/2 or Inf, c = atan of that point's
 * leading part (0 around 0), *u = r - r^3 P(r^2) plus the tail of atan of
 * the point (error below 2^-58 of r); every case's reduction is chosen by ?:
 * before one division.  tl enters as tl/(1 + t^2), with the small terms.
 * Kept apart, c + *u is rounded once (atan), or pi - c - *u computed with
 * pi - c exact (atan2 for a negative x).
 */
SG_INLINE double sg_atan_(double t, double tl, double *u)
{
	int i0 = t >= 0.4375, i1 = t >= 0.6875, i2 = t >= 1.1875, i3 = t >= 2.4375;
	double num = i3 ? -1.0 : i2 ? t - 1.5 : i1 ? t - 1.0 : i0 ? 2.0 * t - 1.0 : t;
	double den = i3 ? t : i2 ? 1.0 + 1.5 * t : i1 ? t + 1.0 : i0 ? 2.0 + t : 1.0;
	double hi = i3 ? 1.57079632679489655800e+00 : i2 ? 9.82793723247329054082e-01
		: i1 ? 7.85398163397448278999e-01 : i0 ? 4.63647609000806093515e-01 : 0.0;
	double lo = i3 ? 6.12323399573676603587e-17 : i2 ? 1.39033110312309984516e-17
		: i1 ? 3.06161699786838301793e-17 : i0 ? 2.26987774529616870924e-17 : 0.0;
	double r = num / den;
	double corr = tl / (1.0 + t * t);  /* 0 when t * t is Inf */
	double z = r * r;
	double w = z * z;
	double s1 = z * (3.33333333333329318027e-01 + w * (1.42857142725034663711e-01
		+ w * (9.09088713343650656196e-02 + w * (6.66107313738753120669e-02
		+ w * (4.97687799461593236017e-02 + w * 1.62858201153657823623e-02)))));
	double s2 = w * (-1.99999999998764832476e-01 + w * (-1.11111104054623557880e-01
		+ w * (-7.69187620504482999495e-02 + w * (-5.83357013379057348645e-02
		+ w * -3.65315727442169155270e-02))));
	*u = r - ((r * (s1 + s2) - lo) - corr);
	return hi;
}
/*@ sg_atan sg_atan_ */
/* atan(x) = sign(x) atan|x|; atan(+-0) = +-0, atan(+-Inf) = +-pi/2. */
SG_INLINE double sg_atan(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double u;
	double c = sg_atan_(sg_dbl_(sg_bits_(x) ^ sign), 0.0, &u);
	double r = sg_dbl_(sg_bits_(c + u) | sign);
	return x != x ? x : r;
}
/*@ sg_atan2 sg_atan_ sg_2sum_ */
/*
 * atan2(y, x): atan(|y|/|x|) with the quotient's rounding error carried
 * (t + tl, tl by Dekker's product on y and x scaled together near [1, 2)),
 * pi minus it for a negative x (pi in two parts, pi - c by TwoSum), the
 * sign of y; the zeros and infinities as C99 Annex F says (atan2(+-0, -0)
 * = +-pi, atan2(+-Inf, -Inf) = +-3pi/4, ...).
 */
SG_INLINE double sg_atan2(double y, double x)
{
	double ax = sg_dbl_(sg_bits_(x) & 0x7fffffffffffffffu);
	double ay = sg_dbl_(sg_bits_(y) & 0x7fffffffffffffffu);
	double t = ay / ax;
	uint64_t e = (sg_bits_(ax > ay ? ax : ay) >> 52) & 2047u;
	double sc = sg_dbl_((e < 2046u ? 2046u - e : 1u) << 52);  /* 2^(1023 - e) */
	double xs = ax * sc, ys = ay * sc;
	double c = 134217729.0 * t;
	double th = c - (c - t), tl0 = t - th;
	c = 134217729.0 * xs;
	double xh = c - (c - xs), xl = xs - xh;
	double p = t * xs;
	double pe = ((th * xh - p) + th * xl + tl0 * xh) + tl0 * xl;
	double tl = ((ys - p) - pe) / xs;
	tl = t > 0x1p-900 && t < 0x1p900 ? tl : 0.0;
	double u;
	double a = sg_atan_(t, tl, &u);
	const double pih = 0x1.921fb54442d18p+1, pil = 0x1.1a62633145c07p-53;
	double ea;
	double pa = sg_2sum_(pih, -a, &ea);
	int xneg = sg_bits_(x) >> 63;
	double r = xneg ? pa + ((pil - u) + ea) : a + u;
	r = ay == 0.0 ? (xneg ? pih : 0.0) : r;
	r = ay > 0x1.fffffffffffffp1023 && ax > 0x1.fffffffffffffp1023
		? (xneg ? 0x1.2d97c7f3321d2p+1 : 0x1.921fb54442d18p-1) : r;
	r = sg_bits_(y) >> 63 ? -r : r;
	return x != x || y != y ? x + y : r;
}
/*@ sg_asin_ sg_base */
#include <math.h>
/* asin's and acos's rational approximation (fdlibm's e_asin.c): (asin(s) -
 * s)/s^3 = t P(t)/Q(t), t = s^2, within 2^-58.75 for s in [0, 0.5]. */
SG_INLINE double sg_asinr_(double t)
{
	double p = t * (1.66666666666666657415e-01 + t * (-3.25565818622400915405e-01
		+ t * (2.01212532134862925881e-01 + t * (-4.00555345006794114027e-02
		+ t * (7.91534994289814532176e-04 + t * 3.47933107596021167570e-05)))));
	double q = 1.0 + t * (-2.40339491173441421878e+00 + t * (2.02094576023350569471e+00
		+ t * (-6.88283971605453293030e-01 + t * 7.70381505559019352791e-02)));
	return p / q;
}
/*@ sg_asin sg_asin_ sg_nan_ */
/*
 * asin(x), by fdlibm's method (e_asin.c): x + x R(x^2) below |x| = 0.5;
 * above, pi/2 - 2 asin(s), s = sqrt((1 - |x|)/2) (sqrt is correctly
 * rounded), with s split in two below 0.975 so that the subtraction loses
 * nothing.  asin(+-0) = +-0, asin(+-1) = +-pi/2, NaN beyond.
 */
SG_INLINE double sg_asin(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double a = sg_dbl_(sg_bits_(x) ^ sign);
	double t = a < 0.5 ? a * a : (1.0 - a) * 0.5;
	double w = sg_asinr_(t);
	double small = a + a * w;
	double s = sqrt(t);
	const double pio2h = 1.57079632679489655800e+00, pio2l = 6.12323399573676603587e-17;
	double near1 = pio2h - (2.0 * (s + s * w) - pio2l);
	double f = sg_dbl_(sg_bits_(s) & 0xffffffff00000000u);
	double c = (t - f * f) / (s + f);
	double p = 2.0 * s * w - (pio2l - 2.0 * c);
	double q = 7.85398163397448278999e-01 - 2.0 * f;
	double mid = 7.85398163397448278999e-01 - (p - q);
	double r = a < 0.5 ? small : a > 0.975 ? near1 : mid;
	r = a == 1.0 ? pio2h : r;
	r = sg_dbl_(sg_bits_(r) | sign);
	r = a > 1.0 ? sg_nan_() : r;
	return x != x ? x : r;
}
/*@ sg_acos sg_asin_ sg_nan_ */
/*
 * acos(x), by fdlibm's method (e_acos.c): pi/2 - (x + x R(x^2)) below
 * |x| = 0.5; above, 2 asin(s), s = sqrt((1 - x)/2), s split in two; below
 * -0.5, pi - 2 asin(s), s = sqrt((1 + x)/2).  acos(1) = +0, acos(-1) = pi,
 * NaN beyond.
 */
SG_INLINE double sg_acos(double x)
{
	double a = sg_dbl_(sg_bits_(x) & 0x7fffffffffffffffu);
	double t = a < 0.5 ? x * x : (1.0 - a) * 0.5;
	double w = sg_asinr_(t);
	const double pio2h = 1.57079632679489655800e+00, pio2l = 6.12323399573676603587e-17;
	double small = pio2h - (x - (pio2l - x * w));
	double s = sqrt(t);
	double neg = 3.14159265358979311600e+00 - 2.0 * (s + (w * s - pio2l));
	double f = sg_dbl_(sg_bits_(s) & 0xffffffff00000000u);
	double c = (t - f * f) / (s + f);
	double pos = 2.0 * (f + (w * s + c));
	double r = a < 0.5 ? small : x < 0.0 ? neg : pos;
	r = x == 1.0 ? 0.0 : r;
	r = x == -1.0 ? 3.14159265358979311600e+00 : r;
	r = a > 1.0 ? sg_nan_() : r;
	return x != x ? x : r;
}
/*@ sg_atanf sg_atan */
SG_INLINE float sg_atanf(float x) { return (float)sg_atan(x); }
/*@ sg_atan2f sg_atan2 */
SG_INLINE float sg_atan2f(float y, float x) { return (float)sg_atan2(y, x); }
/*@ sg_asinf sg_asin */
SG_INLINE float sg_asinf(float x) { return (float)sg_asin(x); }
/*@ sg_acosf sg_acos */
SG_INLINE float sg_acosf(float x) { return (float)sg_acos(x); }
/*@ sg_log2 sg_base sg_nan_ sg_inf_ sg_logr_ */
/*
 * log2(x): the reduction of sg_log_ (x = 2^k z, f = z - 1, s = f/(2 + f),
 * log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2))), then f - f^2/2 split as
 * hi (its low 32 bits cleared) + lo and times 1/ln2 in two parts
 * (FreeBSD's e_log2.c method), k added exactly.
 */
SG_INLINE double sg_log2(double x)
{
	double us = x < 0x1p-1022 ? x * 0x1p54 : x;
	double kadj = x < 0x1p-1022 ? 54.0 : 0.0;
	uint64_t ix = sg_bits_(us);
	uint64_t t = ix - 0x3fe6a09e667f3bcdu + 0x4000000000000000u;
	uint64_t kb = t >> 52;
	double z = sg_dbl_(ix - ((kb - 1024u) << 52));
	double kd = sg_dbl_(0x4330000000000000u | kb) - 0x1p52 - 1024.0 - kadj;
	double f = z - 1.0;
	double s = f / (2.0 + f);
	double R = sg_logr_(s);
	double hfsq = 0.5 * f * f;
	double hi = sg_dbl_(sg_bits_(f - hfsq) & 0xffffffff00000000u);
	double lo = (f - hi) - hfsq + s * (hfsq + R);
	const double ih = 0x1.71547652p+0, il = 0x1.705fc2eefa2p-33;  /* 1/ln2 */
	double vh = hi * ih;
	double vl = (lo + hi) * il + lo * ih;
	double sum = kd + vh;
	vl += (kd - sum) + vh;
	double r = vl + sum;
	r = x < 0.0 ? sg_nan_() : r;
	r = x == 0.0 ? sg_inf_(-1.0) : r;
	r = x > 0x1.fffffffffffffp1023 ? x : r;
	return x != x ? x : r;
}
/*@ sg_exp2 sg_scale_ */
/*
 * 2^x = 2^k 2^r, k = round(x), r = x - k exact, r ln2 in double-double
 * (Dekker's product, ln2 in two parts), then exp of it as in sg_exp.  x is
 * clamped to [-1080, 1030] first: beyond, the result is 0 or Inf anyway.
 */
SG_INLINE double sg_exp2(double x)
{
	double xc = x > 1030.0 ? 1030.0 : x;
	xc = xc < -1080.0 ? -1080.0 : xc;
	double kd = xc + 0x1.8p52;
	uint64_t ki = sg_bits_(kd);
	kd -= 0x1.8p52;
	double r = xc - kd;
	const double l = 0x1.62e42fefa39efp-1, lt = 0x1.abc9e3b39803fp-56;
	double c = 134217729.0 * l;
	double lh = c - (c - l), ll = l - lh;
	c = 134217729.0 * r;
	double rh = c - (c - r), rl = r - rh;
	double hi = r * l;
	double lo = -((((rh * lh - hi) + rh * ll + rl * lh) + rl * ll) + r * lt);
	double rr = hi - lo;
	double t = rr * rr;
	c = rr - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03
		+ t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06
		+ t * 4.13813679705723846039e-08))));
	double y = 1.0 - ((lo - (rr * c) / (2.0 - c)) - hi);
	y = sg_scale_(y, ki);
	return x != x ? x : y;
}
/*@ sg_cbrt sg_base */
/*
 * cbrt(x): an estimate from the bits (the exponent divided by 3), four
 * Newton steps, then one last step whose residual |x| - t^3 is exact
 * (Dekker's products), so the result is rounded about once.  |x| beyond
 * 2^+-900 is scaled by 2^-+960 first (the result by 2^+-320).  cbrt(+-0) = +-0,
 * cbrt(+-Inf) = +-Inf.
 */
SG_INLINE double sg_cbrt(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double a0 = sg_dbl_(sg_bits_(x) ^ sign);
	int tiny = a0 < 0x1p-900, huge = a0 > 0x1p900;
	double a = tiny ? a0 * 0x1p960 : huge ? a0 * 0x1p-960 : a0;
	a = a > 0x1.fffffffffffffp1023 ? 1.0 : a;  /* Inf: any finite, selected away */
	double t = sg_dbl_(sg_bits_(a) / 3u + 0x2a9f7893782da1ceu);
	for (int i = 0; i < 4; i++)
		t = t - (t * t * t - a) / (3.0 * t * t);
	double c = 134217729.0 * t;
	double th = c - (c - t), tl = t - th;
	double s = t * t;
	double se = ((th * th - s) + 2.0 * th * tl) + tl * tl;
	c = 134217729.0 * s;
	double sh = c - (c - s), sl = s - sh;
	double p = t * s;
	double pe = ((th * sh - p) + th * sl + tl * sh) + tl * sl;
	double res = ((a - p) - pe) - t * se;
	double r = t + res / (3.0 * s);
	r = tiny ? r * 0x1p-320 : huge ? r * 0x1p320 : r;
	r = a0 == 0.0 || a0 > 0x1.fffffffffffffp1023 ? a0 : r;
	r = sg_dbl_(sg_bits_(r) | sign);
	return x != x ? x : r;
}
/*@ sg_hypot sg_2sum_ */
#include <math.h>
/*
 * hypot(x, y) = sqrt(a^2 + b^2), a = max(|x|, |y|), b = the other, both
 * scaled by the power of 2 that brings a near [1, 2); a^2 + b^2 in
 * double-double (Dekker's products, TwoSum), its square root (correctly
 * rounded) corrected by the exact residual over 2 sqrt, then unscaled.
 * hypot(+-Inf, y) = +Inf even for a NaN y; otherwise a NaN gives NaN.
 */
SG_INLINE double sg_hypot(double x, double y)
{
	double ax = sg_dbl_(sg_bits_(x) & 0x7fffffffffffffffu);
	double ay = sg_dbl_(sg_bits_(y) & 0x7fffffffffffffffu);
	double a = ax > ay ? ax : ay, b = ax > ay ? ay : ax;
	uint64_t e = (sg_bits_(a) >> 52) & 2047u;
	uint64_t f = e < 2046u ? 2046u - e : 1u;
	double sc = sg_dbl_(f << 52);          /* 2^(1023 - e) */
	double us = sg_dbl_((2046u - f) << 52); /* 1/sc: 2^(e - 1023), e >= 1 */
	us = f == 2046u ? 0x1p-1023 : us;       /* e = 0: subnormal a */
	double as = a * sc, bs = b * sc;
	double c = 134217729.0 * as;
	double ah = c - (c - as), al = as - ah;
	double a2 = as * as, a2e = ((ah * ah - a2) + 2.0 * ah * al) + al * al;
	c = 134217729.0 * bs;
	double bh = c - (c - bs), bl = bs - bh;
	double b2 = bs * bs, b2e = ((bh * bh - b2) + 2.0 * bh * bl) + bl * bl;
	double se;
	double s = sg_2sum_(a2, b2, &se);
	double lo = (a2e + b2e) + se;
	double r = sqrt(s);
	c = 134217729.0 * r;
	double rh = c - (c - r), rl = r - rh;
	double r2 = r * r, r2e = ((rh * rh - r2) + 2.0 * rh * rl) + rl * rl;
	double res = ((s - r2) - r2e + lo) / (2.0 * r);
	double h = (r + res) * us;
	h = a == 0.0 ? 0.0 : h;
	h = x != x || y != y ? x + y : h;
	h = ay > 0x1.fffffffffffffp1023 ? ay : h;
	return ax > 0x1.fffffffffffffp1023 ? ax : h;
}
/*@ sg_log2f sg_log2 */
SG_INLINE float sg_log2f(float x) { return (float)sg_log2(x); }
/*@ sg_exp2f sg_exp2 */
SG_INLINE float sg_exp2f(float x) { return (float)sg_exp2(x); }
/*@ sg_cbrtf sg_cbrt */
SG_INLINE float sg_cbrtf(float x) { return (float)sg_cbrt(x); }
/*@ sg_hypotf sg_hypot */
SG_INLINE float sg_hypotf(float x, float y) { return (float)sg_hypot(x, y); }
/*@ sg_expdd_ sg_2sum_ sg_scale_ */
/*
 * exp(x + xl) = 2^k (hi + *lo), for xl a correction far below x, in
 * double-double: sg_exp's reduction and rational form, but the last two
 * additions kept exact (TwoSum), so hi + *lo is within about 2^-57 of the
 * exact value; *ki holds k (round((x + xl)/ln2)) as sg_scale_ takes it.
 * For sinh and cosh, whose results would otherwise carry
 * exp's rounding and their own.  x is clamped to [-746, 720] (sinh and
 * cosh overflow only at 710.48).
 */
SG_INLINE double sg_expdd_(double x, double xl, double *lo, uint64_t *ki)
{
	double xc = x > 720.0 ? 720.0 : x;
	xc = xc < -746.0 ? -746.0 : xc;
	double kd = (xc + xl) * 1.44269504088896338700e+00 + 0x1.8p52;
	*ki = sg_bits_(kd);
	kd -= 0x1.8p52;
	double hi = xc - kd * 6.93147180369123816490e-01;
	double l = kd * 1.90821492927058770002e-10 - xl;
	double r = hi - l;
	double t = r * r;
	double c = r - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03
		+ t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06
		+ t * 4.13813679705723846039e-08))));
	double e1, e2;
	double v = sg_2sum_(hi, -(l - (r * c) / (2.0 - c)), &e1);
	double y = sg_2sum_(1.0, v, &e2);
	*lo = e1 + e2;
	return y;
}
/* 1/(h + l) = hi + *lo, for h + l in double-double */
SG_INLINE double sg_recipdd_(double h, double l, double *lo)
{
	double q = 1.0 / h;
	double c = 134217729.0 * h;
	double hh = c - (c - h), hl = h - hh;
	c = 134217729.0 * q;
	double qh = c - (c - q), ql = q - qh;
	double p = h * q, pe = ((hh * qh - p) + hh * ql + hl * qh) + hl * ql;
	*lo = (((1.0 - p) - pe) - l * q) * q;
	return q;
}
/*@ sg_sinh sg_expdd_ */
/*
 * sinh(x): below |x| = 1, its Taylor series to x^21 (truncation below
 * 2^-75 of the result); above, (E - 1/E)/2, E = exp|x| in double-double;
 * from |x| = 40 on, E/2, scaled by 2^(k-1) so that sinh is finite up to
 * 710.47 where exp overflows already.  sinh(+-0) = +-0, +-Inf at +-Inf.
 */
SG_INLINE double sg_sinh(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double a = sg_dbl_(sg_bits_(x) ^ sign);
	double z = a * a;
	double p = 1.0 / 51090942171709440000.0;  /* 1/21! */
	p = 1.0 / 121645100408832000.0 + z * p;
	p = 1.0 / 355687428096000.0 + z * p;
	p = 1.0 / 1307674368000.0 + z * p;
	p = 1.0 / 6227020800.0 + z * p;
	p = 1.0 / 39916800.0 + z * p;
	p = 1.0 / 362880.0 + z * p;
	p = 1.0 / 5040.0 + z * p;
	p = 1.0 / 120.0 + z * p;
	p = 1.0 / 6.0 + z * p;
	double small = a + a * (z * p);
	double el;
	uint64_t ki;
	double eh = sg_expdd_(a, 0.0, &el, &ki);
	double ihl, ihh = sg_recipdd_(eh, el, &ihl);
	/* E = 2^k (eh + el), 1/E = 2^-k (ihh + ihl), k <= 58 here */
	double sk = sg_scale_(1.0, ki), sm = 1.0 / sk;
	double e;
	double d = sg_2sum_(eh * sk, -ihh * sm, &e);
	double mid = 0.5 * (d + ((el * sk - ihl * sm) + e));
	double big = sg_scale_(eh + el, ki - 1u);
	double r = a < 1.0 ? small : a < 40.0 ? mid : big;
	r = sg_dbl_(sg_bits_(r) | sign);
	return x != x ? x : r;
}
/*@ sg_cosh sg_expdd_ */
/*
 * cosh(x) = (E + 1/E)/2, E = exp|x| in double-double (no cancellation: both
 * terms positive); from |x| = 40 on, E/2 scaled by 2^(k-1).  cosh(+-0) = 1,
 * +Inf at +-Inf.
 */
SG_INLINE double sg_cosh(double x)
{
	double a = sg_dbl_(sg_bits_(x) & 0x7fffffffffffffffu);
	double el;
	uint64_t ki;
	double eh = sg_expdd_(a, 0.0, &el, &ki);
	double ihl, ihh = sg_recipdd_(eh, el, &ihl);
	double sk = sg_scale_(1.0, ki), sm = 1.0 / sk;
	double e;
	double d = sg_2sum_(eh * sk, ihh * sm, &e);
	double mid = 0.5 * (d + ((el * sk + ihl * sm) + e));
	double big = sg_scale_(eh + el, ki - 1u);
	double r = a < 40.0 ? mid : big;
	return x != x ? x : r;
}
/*@ sg_sinhf sg_sinh */
SG_INLINE float sg_sinhf(float x) { return (float)sg_sinh(x); }
/*@ sg_coshf sg_cosh */
SG_INLINE float sg_coshf(float x) { return (float)sg_cosh(x); }
/*@ sg_erf_ sg_base */
/*
 * erf's rational approximations, fdlibm's (s_erf.c, each within 2^-57 of
 * its target): near 1, erf(1 + s) - erf(1)_24 = P(s)/Q(s) for |x| in
 * [0.84375, 1.25); beyond, log(x erfc(x)) + x^2 + 0.5625 = R(1/x^2)/S(1/x^2),
 * one R/S below 1/0.35 and another above.  (The one near 0, (erf(x) -
 * x)/x = P(x^2)/Q(x^2) below 0.84375, is in sg_erf itself, in two parts.)
 */
SG_INLINE double sg_erf1_(double s)  /* s = |x| - 1 */
{
	double p = -2.36211856075265944077e-03 + s * (4.14856118683748331666e-01
		+ s * (-3.72207876035701323847e-01 + s * (3.18346619901161753674e-01
		+ s * (-1.10894694282396677476e-01 + s * (3.54783043256182359371e-02
		+ s * -2.16637559486879084300e-03)))));
	double q = 1.0 + s * (1.06420880400844228286e-01 + s * (5.40397917702171048937e-01
		+ s * (7.18286544141962662868e-02 + s * (1.26171219808761642112e-01
		+ s * (1.36370839120290507362e-02 + s * 1.19844998467991074170e-02)))));
	return p / q;
}
SG_INLINE double sg_erf2_(double a)  /* a = |x| >= 1.25 */
{
	double s = 1.0 / (a * a);
	double ra = -9.86494403484714822705e-03 + s * (-6.93858572707181764372e-01
		+ s * (-1.05586262253232909814e+01 + s * (-6.23753324503260060396e+01
		+ s * (-1.62396669462573470355e+02 + s * (-1.84605092906711035994e+02
		+ s * (-8.12874355063065934246e+01 + s * -9.81432934416914548592e+00))))));
	double sa = 1.0 + s * (1.96512716674392571292e+01 + s * (1.37657754143519042600e+02
		+ s * (4.34565877475229228821e+02 + s * (6.45387271733267880336e+02
		+ s * (4.29008140027567833386e+02 + s * (1.08635005541779435134e+02
		+ s * (6.57024977031928170135e+00 + s * -6.04244152148580987438e-02)))))));
	double rb = -9.86494292470009928597e-03 + s * (-7.99283237680523006574e-01
		+ s * (-1.77579549177547519889e+01 + s * (-1.60636384855821916062e+02
		+ s * (-6.37566443368389627722e+02 + s * (-1.02509513161107724954e+03
		+ s * -4.83519191608651397019e+02)))));
	double sb = 1.0 + s * (3.03380607434824582924e+01 + s * (3.25792512996573918826e+02
		+ s * (1.53672958608443695994e+03 + s * (3.19985821950859553908e+03
		+ s * (2.55305040643316442583e+03 + s * (4.74528541206955367215e+02
		+ s * -2.24409524465858183362e+01))))));
	return a < 0x1.6db6db6db6db7p1 ? ra / sa : rb / sb;  /* 1/0.35 */
}
/*@ sg_erf sg_exp sg_erf_ sg_2sum_ sg_2prod_ */
/*
 * erf(x), by fdlibm's method, every range computed and one selected: for
 * |x| < 0.84375, x + x P/Q (below 2^-28 scaled by 2^64 so that a subnormal
 * result is rounded once); to 1.25, erf(1) rounded to 24 bits plus P/Q; to
 * 6, 1 - exp(-z^2 - 0.5625) exp((z - x)(z + x) + R/S)/x, z = x to 21 bits
 * (so z^2 is exact); beyond, +-1.  The sign of x.
 */
SG_INLINE double sg_erf(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double a = sg_dbl_(sg_bits_(x) ^ sign);
	/* a + a P/Q with P/Q and the product in two parts, rounded once: a P/Q
	 * is an eighth of the result, and its roundings in plain double
	 * reached 0.978 ulp */
	double z2 = a * a;
	double pr = z2 * (-3.25042107247001499370e-01 + z2 * (-2.84817495755985104766e-02
		+ z2 * (-5.77027029648944159157e-03 + z2 * -2.37630166566501626084e-05)));
	double qs = z2 * (3.97917223959155352819e-01 + z2 * (6.50222499887672944485e-02
		+ z2 * (5.08130628187576562776e-03 + z2 * (1.32494738004321644526e-04
		+ z2 * -3.96022827877536812320e-06))));
	double rl, sl;
	double rh = sg_2sum_(1.28379167095512558561e-01, pr, &rl); /* P = rh + rl */
	double sh = sg_2sum_(1.0, qs, &sl);                         /* Q = sh + sl */
	double yh = rh / sh;
	double pe, pl;
	double ps = sg_2prod_(yh, sh, &pe);         /* yh sh exactly */
	double yl = ((((rh - ps) - pe) + rl) - yh * sl) / sh;   /* P/Q = yh + yl */
	double ph = sg_2prod_(a, yh, &pl);          /* a yh exactly */
	double el;
	double sm = sg_2sum_(a, ph, &el);
	double small = sm + (el + (pl + a * yl));
	double as = a * 0x1p64;
	double tiny = (as + 1.28379167095512586316e-01 * as) * 0x1p-64;
	small = a < 0x1p-28 ? tiny : small;
	double mid = 8.45062911510467529297e-01 + sg_erf1_(a - 1.0);
	double ac = a < 1.25 ? 1.25 : a > 6.0 ? 6.0 : a;
	double z = sg_dbl_(sg_bits_(ac) & 0xffffffff00000000u);
	double r = sg_exp(-z * z - 0.5625) * sg_exp((z - ac) * (z + ac) + sg_erf2_(ac));
	double big = 1.0 - r / ac;
	double y = a < 0.84375 ? small : a < 1.25 ? mid : a < 6.0 ? big : 1.0;
	y = sg_dbl_(sg_bits_(y) | sign);
	return x != x ? x : y;
}
/*@ sg_erff sg_erf */
SG_INLINE float sg_erff(float x) { return (float)sg_erf(x); }
/*@ sg_tan sg_trig_ */
/*
 * tan(x) = sign(x) tan|x|: |x| reduced as for sin and cos (r = y0 + y1, q),
 * then fdlibm's kernel (k_tan.c, its 2004 version: an odd polynomial of
 * degree 27 within 2^-59.2 on [0, 0.6744]; above, tan(pi/4 - y) from
 * tan y; for an odd q, -1/tan(r) with the quotient's rounding error
 * carried), both of its cases and both parities computed and one selected.
 * tan(+-0) = +-0, NaN at +-Inf and NaN.
 */
SG_INLINE double sg_ktan_(double x, double y, int odd)
{
	uint64_t sx = sg_bits_(x) & 0x8000000000000000u;
	double ax = sg_dbl_(sg_bits_(x) ^ sx), ay = sx ? -y : y;
	int big = ax >= 0x1.59428p-1;  /* 0.6744 */
	double xb = (7.85398163397448278999e-01 - ax) + (3.06161699786838301793e-17 - ay);
	x = big ? xb : x;
	y = big ? 0.0 : y;
	double z = x * x;
	double w = z * z;
	double r = 1.33333333333201242699e-01 + w * (2.18694882948595424599e-02
		+ w * (3.59207910759131235356e-03 + w * (5.88041240820264096874e-04
		+ w * (7.81794442939557092300e-05 + w * -1.85586374855275456654e-05))));
	double v = z * (5.39682539762260521377e-02 + w * (8.86323982359930005737e-03
		+ w * (1.45620945432529025516e-03 + w * (2.46463134818469906812e-04
		+ w * (7.14072491382608190305e-05 + w * 2.59073051863633712884e-05)))));
	double s = z * x;
	r = y + z * (s * (r + v) + y);
	r += 3.33333333333334091986e-01 * s;
	w = x + r;
	double iv = odd ? -1.0 : 1.0;
	double rb = iv - 2.0 * (x - (w * w / (w + iv) - r));
	rb = sx ? -rb : rb;
	/* -1/(x + r), its rounding error carried: w0 + v0 = x + r, a0 = -1/w
	 * to 21 bits */
	double w0 = sg_dbl_(sg_bits_(w) & 0xffffffff00000000u);
	double v0 = r - (w0 - x);
	double a = -1.0 / w;
	double a0 = sg_dbl_(sg_bits_(a) & 0xffffffff00000000u);
	double ro = a0 + a * ((1.0 + a0 * w0) + a0 * v0);
	return big ? rb : odd ? ro : w;
}
SG_INLINE double sg_tan(double x)
{
	double y1;
	int q;
	double y0 = sg_reduce_(x, &y1, &q);
	double r = sg_ktan_(y0, y1, q & 1);
	r = sg_dbl_(sg_bits_(r) ^ (sg_bits_(x) & 0x8000000000000000u));
	return x - x == 0.0 ? r : x - x;
}
/*@ sg_tanf sg_tan */
SG_INLINE float sg_tanf(float x) { return (float)sg_tan(x); }
/*@ sg_logdd_ sg_2sum_ sg_logr_ */
/*
 * log(h + l) = hi + *lo within about 2^-60 of the result, for h + l > 0 in
 * double-double, h normal and |l| below h's ulp: sg_log_'s reduction and
 * approximation (h = 2^k z, f = z - 1 exact, log(1 + f) = f - f^2/2 +
 * s (f^2/2 + R(s^2))), f^2/2 and the sums with k ln2 and with f kept exact
 * (Dekker's product, TwoSum), plus l/h.  Only the small correction
 * s (f^2/2 + R), below 0.06 f, carries double rounding errors.
 */
SG_INLINE double sg_logdd_(double h, double l, double *lo)
{
	uint64_t ix = sg_bits_(h);
	uint64_t t = ix - 0x3fe6a09e667f3bcdu + 0x4000000000000000u; /* top bits: k + 1024 */
	uint64_t kb = t >> 52;
	double z = sg_dbl_(ix - ((kb - 1024u) << 52));
	double kd = sg_dbl_(0x4330000000000000u | kb) - 0x1p52 - 1024.0;
	double f = z - 1.0;
	double s = f / (2.0 + f);
	double R = sg_logr_(s);
	double c = 134217729.0 * f;
	double fh = c - (c - f), fl = f - fh;
	double p = f * f, pe = ((fh * fh - p) + 2.0 * fh * fl) + fl * fl;
	double hh = 0.5 * p, hl = 0.5 * pe;  /* f^2/2 = hh + hl */
	double de, d = sg_2sum_(f, -hh, &de);
	double corr = s * (hh + R);
	double low = ((de - hl) + corr) + (l / h + kd * 1.90821492927058770002e-10);
	double se, S = sg_2sum_(kd * 6.93147180369123816490e-01, d, &se);
	low += se;
	double r = S + low;
	*lo = low - (r - S);
	return r;
}
/*@ sg_sqrtdd_ sg_base */
#include <math.h>
/* sqrt(h + l) = r + *lo, h > 0: the correctly rounded sqrt(h) corrected
 * by the exact residual over 2r */
SG_INLINE double sg_sqrtdd_(double h, double l, double *lo)
{
	double r = sqrt(h);
	double c = 134217729.0 * r;
	double rh = c - (c - r), rl = r - rh;
	double r2 = r * r, r2e = ((rh * rh - r2) + 2.0 * rh * rl) + rl * rl;
	*lo = (((h - r2) - r2e) + l) / (2.0 * r);
	return r;
}
/*@ sg_asinh sg_logdd_ sg_sqrtdd_ */
/*
 * asinh(x) = sign(x) log(a + sqrt(a^2 + 1)), a = |x|, the argument in
 * double-double (a^2 by Dekker's product, the square root corrected by its
 * residual) and its log by sg_logdd_, so the result is rounded about once;
 * above 2^28, log(a) + ln2 (the neglected 1/(4a^2) is below 2^-58); below
 * 2^-28, x (the neglected x^3/6 is below 2^-57 of it).  asinh(+-0) = +-0,
 * +-Inf at +-Inf.
 */
SG_INLINE double sg_asinh(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double a = sg_dbl_(sg_bits_(x) ^ sign);
	int huge = a > 0x1p28;
	double ac = huge || a < 0x1p-28 ? 1.0 : a;  /* others: any, selected away */
	double c = 134217729.0 * ac;
	double ah = c - (c - ac), al = ac - ah;
	double p = ac * ac, pe = ((ah * ah - p) + 2.0 * ah * al) + al * al;
	double te, t = sg_2sum_(1.0, p, &te);
	double rl, r = sg_sqrtdd_(t, te + pe, &rl);
	double we, w = sg_2sum_(ac, r, &we);
	double l, mid = sg_logdd_(w, we + rl, &l);
	double e, big = sg_logdd_(huge ? a : 1.0, 0.0, &l);
	big = sg_2sum_(big, 6.93147180559945286227e-01, &e);
	big += e + (l + 2.31904681384629955842e-17);
	double y = huge ? big : mid;
	y = a < 0x1p-28 || a > 0x1.fffffffffffffp1023 ? a : y;
	y = sg_dbl_(sg_bits_(y) | sign);
	return x != x ? x : y;
}
/*@ sg_acosh sg_logdd_ sg_sqrtdd_ sg_nan_ */
/*
 * acosh(x) = log(x + sqrt(x^2 - 1)) for x >= 1, the argument in
 * double-double (x^2 by Dekker's product, x^2 - 1 by TwoSum, the square
 * root corrected by its residual) and its log by sg_logdd_; above 2^28,
 * log(x) + ln2.  acosh(1) = +0, NaN below 1, +Inf at +Inf.
 */
SG_INLINE double sg_acosh(double x)
{
	int huge = x > 0x1p28;
	double xc = huge || !(x > 1.0) ? 2.0 : x;  /* others: any, selected away */
	double c = 134217729.0 * xc;
	double xh = c - (c - xc), xl = xc - xh;
	double p = xc * xc, pe = ((xh * xh - p) + 2.0 * xh * xl) + xl * xl;
	double te, t = sg_2sum_(p, -1.0, &te);
	double rl, r = sg_sqrtdd_(t, te + pe, &rl);
	double we, w = sg_2sum_(xc, r, &we);
	double l, mid = sg_logdd_(w, we + rl, &l);
	double e, big = sg_logdd_(huge ? x : 1.0, 0.0, &l);
	big = sg_2sum_(big, 6.93147180559945286227e-01, &e);
	big += e + (l + 2.31904681384629955842e-17);
	double y = huge ? big : mid;
	y = x == 1.0 ? 0.0 : y;
	y = x > 0x1.fffffffffffffp1023 ? x : y;
	y = x < 1.0 ? sg_nan_() : y;
	return x != x ? x : y;
}
/*@ sg_atanh sg_logdd_ sg_nan_ sg_inf_ */
/*
 * atanh(x) = sign(x) log((1 + a)/(1 - a))/2, a = |x|: the quotient in
 * double-double (both sums by TwoSum, the quotient corrected by its exact
 * residual), its log by sg_logdd_; below 2^-28, x (the neglected x^3/3 is
 * below 2^-57 of it).  atanh(+-0) = +-0, atanh(+-1) = +-Inf, NaN beyond.
 */
SG_INLINE double sg_atanh(double x)
{
	uint64_t sign = sg_bits_(x) & 0x8000000000000000u;
	double a = sg_dbl_(sg_bits_(x) ^ sign);
	double ac = a < 0x1p-28 || !(a < 1.0) ? 0.5 : a;  /* others: selected away */
	double nl, n = sg_2sum_(1.0, ac, &nl);
	double dl, d = sg_2sum_(1.0, -ac, &dl);
	double q = n / d;
	double c = 134217729.0 * q;
	double qh = c - (c - q), ql = q - qh;
	c = 134217729.0 * d;
	double dh = c - (c - d), dd = d - dh;
	double m = q * d, me = ((qh * dh - m) + qh * dd + ql * dh) + ql * dd;
	double rem = (((n - m) - me) + nl - q * dl) / d;
	double l, y = 0.5 * sg_logdd_(q, rem, &l);
	y = a < 0x1p-28 ? a : y;
	y = a == 1.0 ? sg_inf_(1.0) : y;
	y = a > 1.0 ? sg_nan_() : y;
	y = sg_dbl_(sg_bits_(y) | sign);
	return x != x ? x : y;
}
/*@ sg_asinhf sg_asinh */
SG_INLINE float sg_asinhf(float x) { return (float)sg_asinh(x); }
/*@ sg_acoshf sg_acosh */
SG_INLINE float sg_acoshf(float x) { return (float)sg_acosh(x); }
/*@ sg_atanhf sg_atanh */
SG_INLINE float sg_atanhf(float x) { return (float)sg_atanh(x); }
/*@ sg_erfc sg_expdd_ */
/*
 * One Horner step in double-double: (h + *l)(s + sl) + c = result + *l,
 * the product by Dekker's, the sum by TwoSum.
 */
SG_INLINE double sg_hdd_(double h, double *l, double s, double sl, double c)
{
	double p = h * s;
	double k = 134217729.0 * h;
	double hh = k - (k - h), hl = h - hh;
	k = 134217729.0 * s;
	double sh = k - (k - s), ss = s - sh;
	double pe = ((hh * sh - p) + hh * ss + hl * sh) + hl * ss;
	double e, r = sg_2sum_(c, p, &e);
	*l = e + (pe + (*l * s + h * sl));
	return r;
}
/* (ph + pl)/(qh + ql) = result + *lo, corrected by the exact residual */
SG_INLINE double sg_divdd_(double ph, double pl, double qh, double ql, double *lo)
{
	double q = ph / qh;
	double k = 134217729.0 * q;
	double ah = k - (k - q), al = q - ah;
	k = 134217729.0 * qh;
	double bh = k - (k - qh), bl = qh - bh;
	double m = q * qh, me = ((ah * bh - m) + ah * bl + al * bh) + al * bl;
	*lo = (((ph - m) - me) + pl - q * ql) / qh;
	return q;
}
/*
 * erfc(x), by fdlibm's method (s_erf.c) and its rational approximations,
 * every one evaluated in double-double (the Horner steps by sg_hdd_, the
 * quotient by sg_divdd_), since 1 - erf cancels and a double evaluation's
 * few ulp of P/Q reach the result (1.27 ulp near 1.11):
 *  - |x| < 0.84375: 1 - x - x P/Q(x^2), x^2 in double-double;
 *  - to 1.25: 1 - erx - P/Q(|x| - 1) (erx = erf(1) to 24 bits), or
 *    1 + erx + P/Q for x < 0;
 *  - to 27.3: exp(-z^2 - 0.5625) exp((z - a)(z + a) + R/S(1/a^2))/a, z = a
 *    to 21 bits (so -z^2 - 0.5625 is exact), 1/a^2 in double-double, each
 *    exp by sg_expdd_, the product and quotient in double-double, scaled
 *    once (a subnormal result rounded twice, within 2^-52 of once); 2 minus
 *    it for x < 0; beyond 6 (x < 0) 2, beyond 27.3 +0.
 * The approximations are within 2^-56.5 of their targets, about 0.2 ulp
 * of the result.  erfc(+Inf) = +0, erfc(-Inf) = 2.
 */
SG_INLINE double sg_erfc(double x)
{
	double a = sg_dbl_(sg_bits_(x) & 0x7fffffffffffffffu);
	/* |x| < 0.84375 */
	double xs = a < 0.84375 ? x : 0.5;
	double k = 134217729.0 * xs;
	double xh = k - (k - xs), xl = xs - xh;
	double z = xs * xs, zl = ((xh * xh - z) + 2.0 * xh * xl) + xl * xl;
	double pl = 0.0, p = -2.37630166566501626084e-05;
	p = sg_hdd_(p, &pl, z, zl, -5.77027029648944159157e-03);
	p = sg_hdd_(p, &pl, z, zl, -2.84817495755985104766e-02);
	p = sg_hdd_(p, &pl, z, zl, -3.25042107247001499370e-01);
	p = sg_hdd_(p, &pl, z, zl, 1.28379167095512558561e-01);
	double ql = 0.0, q = -3.96022827877536812320e-06;
	q = sg_hdd_(q, &ql, z, zl, 1.32494738004321644526e-04);
	q = sg_hdd_(q, &ql, z, zl, 5.08130628187576562776e-03);
	q = sg_hdd_(q, &ql, z, zl, 6.50222499887672944485e-02);
	q = sg_hdd_(q, &ql, z, zl, 3.97917223959155352819e-01);
	q = sg_hdd_(q, &ql, z, zl, 1.0);
	double yl, y = sg_divdd_(p, pl, q, ql, &yl);
	k = 134217729.0 * y;
	double yh = k - (k - y), yy = y - yh;
	double m = xs * y, me = ((xh * yh - m) + xh * yy + xl * yh) + xl * yy;
	double ue, u = sg_2sum_(1.0, -xs, &ue);
	double ve, v = sg_2sum_(u, -m, &ve);
	double small = v + (((ve + ue) - me) - xs * yl);
	/* |x| in [0.84375, 1.25) */
	double s = a - 1.0;
	pl = 0.0, p = -2.16637559486879084300e-03;
	p = sg_hdd_(p, &pl, s, 0.0, 3.54783043256182359371e-02);
	p = sg_hdd_(p, &pl, s, 0.0, -1.10894694282396677476e-01);
	p = sg_hdd_(p, &pl, s, 0.0, 3.18346619901161753674e-01);
	p = sg_hdd_(p, &pl, s, 0.0, -3.72207876035701323847e-01);
	p = sg_hdd_(p, &pl, s, 0.0, 4.14856118683748331666e-01);
	p = sg_hdd_(p, &pl, s, 0.0, -2.36211856075265944077e-03);
	ql = 0.0, q = 1.19844998467991074170e-02;
	q = sg_hdd_(q, &ql, s, 0.0, 1.36370839120290507362e-02);
	q = sg_hdd_(q, &ql, s, 0.0, 1.26171219808761642112e-01);
	q = sg_hdd_(q, &ql, s, 0.0, 7.18286544141962662868e-02);
	q = sg_hdd_(q, &ql, s, 0.0, 5.40397917702171048937e-01);
	q = sg_hdd_(q, &ql, s, 0.0, 1.06420880400844228286e-01);
	q = sg_hdd_(q, &ql, s, 0.0, 1.0);
	y = sg_divdd_(p, pl, q, ql, &yl);
	double midp = sg_2sum_(1.54937088489532470703e-01, -y, &ve);  /* 1 - erx */
	midp += ve - yl;
	double midn = sg_2sum_(1.84506291151046752930e+00, y, &ve);   /* 1 + erx */
	midn += ve + yl;
	/* |x| in [1.25, 27.3) */
	double ab = a < 1.25 ? 1.25 : a > 27.3 ? 27.3 : a;
	int near = ab < 0x1.6db6db6db6db7p1;  /* 1/0.35: R/S's first pair */
	k = 134217729.0 * ab;
	double ah = k - (k - ab), al = ab - ah;
	double a2 = ab * ab, a2e = ((ah * ah - a2) + 2.0 * ah * al) + al * al;
	double sl, sh = sg_recipdd_(a2, a2e, &sl);
	pl = 0.0, p = near ? -9.81432934416914548592e+00 : 0.0;
	p = sg_hdd_(p, &pl, sh, sl, near ? -8.12874355063065934246e+01 : -4.83519191608651397019e+02);
	p = sg_hdd_(p, &pl, sh, sl, near ? -1.84605092906711035994e+02 : -1.02509513161107724954e+03);
	p = sg_hdd_(p, &pl, sh, sl, near ? -1.62396669462573470355e+02 : -6.37566443368389627722e+02);
	p = sg_hdd_(p, &pl, sh, sl, near ? -6.23753324503260060396e+01 : -1.60636384855821916062e+02);
	p = sg_hdd_(p, &pl, sh, sl, near ? -1.05586262253232909814e+01 : -1.77579549177547519889e+01);
	p = sg_hdd_(p, &pl, sh, sl, near ? -6.93858572707181764372e-01 : -7.99283237680523006574e-01);
	p = sg_hdd_(p, &pl, sh, sl, near ? -9.86494403484714822705e-03 : -9.86494292470009928597e-03);
	ql = 0.0, q = near ? -6.04244152148580987438e-02 : 0.0;
	q = sg_hdd_(q, &ql, sh, sl, near ? 6.57024977031928170135e+00 : -2.24409524465858183362e+01);
	q = sg_hdd_(q, &ql, sh, sl, near ? 1.08635005541779435134e+02 : 4.74528541206955367215e+02);
	q = sg_hdd_(q, &ql, sh, sl, near ? 4.29008140027567833386e+02 : 2.55305040643316442583e+03);
	q = sg_hdd_(q, &ql, sh, sl, near ? 6.45387271733267880336e+02 : 3.19985821950859553908e+03);
	q = sg_hdd_(q, &ql, sh, sl, near ? 4.34565877475229228821e+02 : 1.53672958608443695994e+03);
	q = sg_hdd_(q, &ql, sh, sl, near ? 1.37657754143519042600e+02 : 3.25792512996573918826e+02);
	q = sg_hdd_(q, &ql, sh, sl, near ? 1.96512716674392571292e+01 : 3.03380607434824582924e+01);
	q = sg_hdd_(q, &ql, sh, sl, 1.0);
	y = sg_divdd_(p, pl, q, ql, &yl);
	double zz = sg_dbl_(sg_bits_(ab) & 0xffffffff00000000u);
	double ge, g = sg_2sum_((zz - ab) * (zz + ab), y, &ge);
	double e1l, e2l;
	uint64_t k1, k2;
	double e1 = sg_expdd_(-zz * zz - 0.5625, 0.0, &e1l, &k1);
	double e2 = sg_expdd_(g, ge + yl, &e2l, &k2);
	k = 134217729.0 * e1;
	double eh = k - (k - e1), el = e1 - eh;
	k = 134217729.0 * e2;
	double fh = k - (k - e2), fl = e2 - fh;
	m = e1 * e2;
	me = ((eh * fh - m) + eh * fl + el * fh) + el * fl;
	me += e1 * e2l + e1l * e2;
	double rl, r = sg_divdd_(m, me, ab, 0.0, &rl);
	uint64_t kk = k1 + k2 - 0x4338000000000000u;
	double bigp = sg_scale_(r + rl, kk);
	double bign = sg_2sum_(2.0, -sg_scale_(r, kk), &ve);
	bign += ve - sg_scale_(rl, kk);
	double yp = a < 0.84375 ? small : a < 1.25 ? midp : a < 27.3 ? bigp : 0.0;
	double yn = a < 0.84375 ? small : a < 1.25 ? midn : a < 6.0 ? bign : 2.0;
	return x != x ? x : x < 0.0 ? yn : yp;
}
/*@ sg_erfcf sg_erfc */
SG_INLINE float sg_erfcf(float x) { return (float)sg_erfc(x); }
