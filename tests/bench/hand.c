/*
 * hand.c: the same gradients written by hand, as a careful engineer writes
 * scalar C: the physical limit the generated code is measured against.
 * Same signatures as the generated NAME_backward functions.
 */
#include <math.h>

#include "hand.h"

/* lecture 4: loss = (x*w - y)^2, dloss/dw = 2*(x*w - y)*x */
double hand_linear_backward(const double *p, const double *in, double *g)
{
	double x = in[0], y = in[1], r = x * p[0] - y;
	g[0] = 2 * r * x;
	return r * r;
}

/* exercise 4-4: yhat = x^2*w2 + x*w1 + b */
double hand_ex4_4_backward(const double *p, const double *in, double *g)
{
	double x = in[0], y = in[1], xx = x * x;
	double r = xx * p[0] + x * p[1] + p[2] - y, d = 2 * r;
	g[0] = d * xx;
	g[1] = d * x;
	g[2] = d;
	return r * r;
}

#define DEFINE_DIABETES(NAME, T, EXP, LOG)                                              \
	T NAME(const T *p, const T *in, T *g)                                           \
	{                                                                               \
		const T *W1 = p, *b1 = p + 48, *W2 = p + 54, *b2 = p + 78, *W3 = p + 82;  \
		T h1[6], h2[4], d1[6], d2[4];                                           \
		for (int i = 0; i < 6; i++) {                                           \
			T s = 0;                                                        \
			for (int k = 0; k < 8; k++)                                     \
				s += W1[i * 8 + k] * in[k];                             \
			h1[i] = 1 / (1 + EXP(-(s + b1[i])));                            \
		}                                                                       \
		for (int i = 0; i < 4; i++) {                                           \
			T s = 0;                                                        \
			for (int k = 0; k < 6; k++)                                     \
				s += W2[i * 6 + k] * h1[k];                             \
			h2[i] = 1 / (1 + EXP(-(s + b2[i])));                            \
		}                                                                       \
		T s = p[86];                                                            \
		for (int k = 0; k < 4; k++)                                             \
			s += W3[k] * h2[k];                                             \
		T q = 1 / (1 + EXP(-s)), y = in[8];                                     \
		T lp = LOG(q), lq = LOG(1 - q);                                         \
		lp = lp < -100 ? -100 : lp;                                             \
		lq = lq < -100 ? -100 : lq;                                             \
		T loss = (y - 1) * lq - y * lp;                                         \
		T dz = q - y; /* d bce(sigmoid(z), y)/dz */                             \
		g[86] = dz;                                                             \
		for (int k = 0; k < 4; k++) {                                           \
			g[82 + k] = dz * h2[k];                                         \
			d2[k] = dz * W3[k] * h2[k] * (1 - h2[k]);                       \
		}                                                                       \
		for (int k = 0; k < 6; k++)                                             \
			d1[k] = 0;                                                      \
		for (int i = 0; i < 4; i++) {                                           \
			g[78 + i] = d2[i];                                              \
			for (int k = 0; k < 6; k++) {                                   \
				g[54 + i * 6 + k] = d2[i] * h1[k];                      \
				d1[k] += d2[i] * W2[i * 6 + k];                         \
			}                                                               \
		}                                                                       \
		for (int i = 0; i < 6; i++) {                                           \
			T di = d1[i] * h1[i] * (1 - h1[i]);                             \
			g[48 + i] = di;                                                 \
			for (int k = 0; k < 8; k++)                                     \
				g[i * 8 + k] = di * in[k];                              \
		}                                                                       \
		return loss;                                                            \
	}

DEFINE_DIABETES(hand_diabetes_backward, double, exp, log)
DEFINE_DIABETES(hand_diabetes_backward_f, float, expf, logf)

#define DEFINE_BATCH(NAME, ONE, T)                                                      \
	T NAME(int n, const T *p, const T *in, T *g)                                    \
	{                                                                               \
		T row[87], loss = 0;                                                    \
		for (int k = 0; k < 87; k++)                                            \
			g[k] = 0;                                                       \
		for (int i = 0; i < n; i++) {                                           \
			loss += ONE(p, in + (long)i * 9, row);                          \
			for (int k = 0; k < 87; k++)                                    \
				g[k] += row[k];                                         \
		}                                                                       \
		return loss;                                                            \
	}

DEFINE_BATCH(hand_diabetes_backward_batch, hand_diabetes_backward, double)
DEFINE_BATCH(hand_diabetes_backward_batch_f, hand_diabetes_backward_f, float)
